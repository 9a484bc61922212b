"""The committed generated modules match what the generator prints now (a diff otherwise:
refresh with `python -m codegen.generate --update`), they are standalone and traceable, and
the Numba printer is strict."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from codegen import generate
from codegen.numba_printer import NumbaPrinter, PrintError, print_cse_block

ROOT = Path(__file__).resolve().parent.parent
MINE = ["runtime/generated/numba_losses.py", "runtime/generated/numba_activations.py"]


@pytest.fixture(scope="module")
def regenerated():
    return generate.regenerate_all(ROOT, write=False)


def test_committed_modules_have_not_drifted(regenerated):
    diffs = {}
    for rel, text in regenerated.items():
        old = (ROOT / rel).read_text(encoding="utf-8")
        if old != text:
            import difflib

            diffs[rel] = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                      f"{rel} (committed)", f"{rel} (regenerated)"))
    assert not diffs, ("generated modules drifted; run `python -m codegen.generate --update`:\n"
                       + "\n".join(d[:4000] for d in diffs.values()))


@pytest.mark.parametrize("rel", MINE)
def test_module_is_standalone_and_has_a_traceable_header(rel, regenerated):
    text = regenerated[rel]
    head = text.splitlines()[:6]
    assert head[0].startswith("# generated, do not edit")
    assert any(line.startswith(f"# Generator: codegen numba backend, version {generate.GENERATOR_VERSION}")
               for line in head)
    assert any(line.startswith("# Derivations: ") for line in head)
    assert any(line.startswith("# Source hash: sha256:") for line in head)
    tree = ast.parse(text)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"math", "numpy", "numba"}, imported
    # Every kernel uses the module's FASTMATH set, which keeps NaN/Inf semantics and order;
    # the one reorderable operation is add_reassoc's addition (codegen.numba_reduce).
    assert set(re.findall(r"fastmath=([^,)]+)", text)) == {"FASTMATH"}
    flags = re.search(r"^FASTMATH = \{(.*)\}", text, re.M).group(1)
    assert not {"nnan", "ninf", "reassoc", "fast"} & set(re.findall(r"[a-z]+", flags)), flags
    assert len(re.findall(r"flags=\(.*reassoc", text)) <= 1


def test_each_kernel_docstring_states_the_derivation_result(regenerated):
    import derive

    text = regenerated["runtime/generated/numba_losses.py"]
    tree = ast.parse(text)
    docs = {f.name: ast.get_docstring(f) or "" for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name in ["mse", "mae", "smooth_l1", "huber", "bce", "bce_logits", "lp"]:
        d = derive.get(name)
        grad = sp.sstr(d.gradient(d.wrt[0] if name != "bce_logits" else "z"))
        for red in ("mean", "sum", "none"):
            doc = docs[f"{name}_{red}_f32"]
            assert f"derivecli show-grad {name}" in doc and grad in doc, (name, red)
    ce = derive.get("softmax_ce")
    assert sp.sstr(ce.gradient()) in docs["softmax_ce_index_mean_f32"]
    # The stable-rewrite lines are marked.
    assert "# stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))" in text
    assert "PyTorch clamp: log >= -100" in text and "PyTorch clamp: denominator >= 1e-12" in text


def test_source_hash_changes_with_the_expressions():
    a = generate.source_hash([("mse", "loss", sp.Symbol("x") ** 2)])
    b = generate.source_hash([("mse", "loss", sp.Symbol("x") ** 3)])
    assert a != b and len(a) == 16


def test_generation_does_not_depend_on_the_hash_seed(regenerated):
    code = ("from codegen import generate; import sys; "
            "sys.stdout.write(generate.generate_module('numba', ['bce_logits', 'softmax_ce']))")
    outs = []
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.append(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                                   capture_output=True, text=True, check=True).stdout)
    assert outs[0] == outs[1]


def test_generated_modules_import_lazily_without_compiling():
    code = ("import time; t = time.perf_counter(); import runtime.generated.numba_losses as L; "
            "import runtime.generated.numba_activations as A; "
            "assert all(not k.signatures for k in (*L.KERNELS.values(), *A.KERNELS.values())); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 30  # import only; no kernel compiled (a sanity bound, not a timing)


def test_unknown_or_untemplated_names_are_errors():
    with pytest.raises(NotImplementedError, match="no kernel template for 'mse_vs_mae'"):
        generate.generate_module("numba", ["mse_vs_mae"])
    with pytest.raises(ValueError, match="backend='cuda_c'"):
        generate.generate_module("cuda_c", ["mse"])


def test_write_module_is_atomic_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "k.py"
    generate.write_module(target, "x = 1\n")
    generate.write_module(target, "x = 2\n")
    assert target.read_text() == "x = 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["k.py"]
    assert target.stat().st_mode & 0o044  # readable by others like any file, not mkstemp's 0600


def test_a_user_generated_file_imports_and_runs(tmp_path):
    np = pytest.importorskip("numpy")
    path = tmp_path / "my_kernels.py"
    generate.write_module(path, generate.generate_module("numba", ["mse"]))
    import importlib.util

    spec = importlib.util.spec_from_file_location("my_kernels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p, t = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    g = np.empty(3)
    assert mod.mse_sum_f64(p, t, g) == 10.0  # 1 + 0 + 9
    np.testing.assert_array_equal(g, [2.0, 0.0, 6.0])


# --------------------------------------------------------------------------- the printer

x, y = sp.symbols("x y", real=True)


@pytest.mark.parametrize("expr", [sp.Function("sigmoid")(x), sp.gamma(x), sp.Sum(x, (y, 0, 3)),
                                  sp.Derivative(sp.Function("f")(x), x), sp.Matrix([x])])
def test_printer_is_strict_and_names_backend_and_node(expr):
    with pytest.raises(PrintError, match=r"numba backend \(float32\)"):
        NumbaPrinter("float32").doprint(expr)


def test_float32_printing_has_no_bare_literals_and_hoists_constants():
    p = NumbaPrinter("float32", mathlib=False)
    code = p.doprint(2 * x + sp.Rational(1, 3) * y + sp.Float(0.25) / (x + 1) + x**2 + sp.exp(-x))
    assert "math.exp" in code and "x*x" in code
    import io
    import tokenize

    assert not [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.NUMBER]
    assert p.constants["_F32_2P0"] == "np.float32(2.0)" and "_F32_0P25" in p.constants


def test_printer_uses_mathlib_table_when_given_and_math_otherwise():
    expr = sp.log(x) + sp.exp(y)
    assert NumbaPrinter("float64", mathlib={("log", "float64"): "my_log"}).doprint(expr) == "math.exp(y) + my_log(x)"
    assert NumbaPrinter("float64", mathlib=False).doprint(expr) == "math.exp(y) + math.log(x)"


def test_printer_conventions_evaluate_like_pytorch():
    import math

    p = NumbaPrinter("float64", mathlib=False)
    env = {"math": math}
    sign = eval(f"lambda x: {p.doprint(sp.sign(x))}", env)
    heav = eval(f"lambda x: {p.doprint(sp.Heaviside(x, 0))}", env)
    mx = eval(f"lambda x: {p.doprint(sp.Max(x, -100))}", env)
    pw = eval(f"lambda x: {p.doprint(sp.Piecewise((x, x > 1), (2 * x, x > 0), (0, True)))}", env)
    assert [sign(-2.0), sign(0.0), sign(3.0)] == [-1.0, 0.0, 1.0] and math.isnan(sign(math.nan))
    assert [heav(-1.0), heav(0.0), heav(2.0)] == [0.0, 0.0, 1.0] and math.isnan(heav(math.nan))
    assert mx(-1e9) == -100 and mx(3.0) == 3.0 and math.isnan(mx(math.nan))
    assert [pw(2.0), pw(0.5), pw(-1.0)] == [2.0, 1.0, 0.0]


def test_print_cse_block_shares_subexpressions():
    e = sp.exp(-sp.Abs(x))
    lines, names = print_cse_block({"a": sp.log(1 + e), "b": e / (1 + e)}, "float64", "  ",
                                   printer=NumbaPrinter("float64", mathlib=False))
    assert names[-2:] == ["a", "b"] and all(ln.startswith("  ") for ln in lines)
    assert sum(ln.count("math.exp") for ln in lines) == 1


# --------------------------------------------------------------------------- derivecli gen


def test_cli_gen_writes_a_module_and_rejects_bad_names(tmp_path):
    from click.testing import CliRunner

    from derivecli.cli import main

    out = tmp_path / "k.py"
    res = CliRunner().invoke(main, ["gen", "--backend", "numba", "ce", "relu", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith(f"# generated, do not edit: regenerate with `derivecli gen --backend numba "
                           f"softmax_ce relu -o {out}`")
    assert "# Derivations: softmax_ce, relu" in text and "def relu_forward_f32(" in text
    compile(text, str(out), "exec")
    bad = CliRunner().invoke(main, ["gen", "msee", "-o", str(out)])
    assert bad.exit_code == 2 and "unknown derivation 'msee'" in bad.output
    none = CliRunner().invoke(main, ["gen", "mse_vs_mae", "-o", str(out)])
    assert none.exit_code == 2 and "no kernel template for 'mse_vs_mae'" in none.output
    assert out.read_text() == text  # a failed run leaves the file alone
