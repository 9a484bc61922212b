"""Audit of derivecli's command line at its edges: bad input, help text, every listed name with
every command that takes one, the README's CLI examples, and generated modules run in a fresh
process against NumPy references written from the textbook formulas.
"""
from __future__ import annotations

import ast
import json
import math
import os
import re
import shlex
import stat
import subprocess
import sys
import textwrap
from importlib.metadata import version

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from derivecli.cli import main

PY = sys.executable


def invoke(*args, **kw):
    return CliRunner().invoke(main, list(args), **kw)


def _no_traceback(res):
    """A click result ended by click (SystemExit), not by an uncaught Python exception."""
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output


def _error_line(res) -> str:
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, res.output
    return lines[0]


def _listed_names() -> list[str]:
    """The names `derivecli list --ascii` prints (two-space indented lines), in order."""
    res = invoke("list", "--ascii")
    assert res.exit_code == 0, res.output
    names = [ln.split()[0] for ln in res.output.splitlines() if ln.startswith("  ")]
    assert len(names) == len(set(names)) and len(names) > 20
    return names


NAMES = _listed_names()


# --------------------------------------------------------------------------- every name, every command

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """gen of every listed name with each backend, once: {(backend, name): (result, path)}."""
    root = tmp_path_factory.mktemp("gen_each")
    out = {}
    for backend in ("numba", "cupy"):
        for name in NAMES:
            path = root / f"{backend}_{name}.py"
            out[backend, name] = (invoke("gen", "--backend", backend, name, "-o", str(path)), path)
    return out


@pytest.mark.parametrize("backend", ["numba", "cupy"])
def test_gen_every_listed_name_writes_a_valid_module_or_refuses_in_one_line(generated, backend):
    written = 0
    for name in NAMES:
        res, path = generated[backend, name]
        _no_traceback(res)
        if res.exit_code == 0:
            written += 1
            source = path.read_text(encoding="utf-8")
            ast.parse(source)  # valid Python
            assert f"wrote {path}" in res.output
        else:
            assert res.exit_code == 2, (name, res.output)
            line = _error_line(res)
            assert repr(name) in line or name in line, (name, line)  # names the value
            assert not path.exists()
    assert written >= 15  # losses, activations, optimizers, layers


def test_gen_all_cupy_module_holds_every_derivation_that_gen_accepts_one_by_one(generated, tmp_path):
    """`--backend cupy` without NAMES is documented as 'every derivation with a CUDA template'."""
    res = invoke("gen", "--backend", "cupy", "-o", str(tmp_path / "all_cuda.py"))
    assert res.exit_code == 0, res.output
    all_tree = ast.parse((tmp_path / "all_cuda.py").read_text(encoding="utf-8"))

    def derivations(tree):
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DERIVATIONS":
                return set(ast.literal_eval(node.value))
        raise AssertionError("no DERIVATIONS")

    one_by_one = set()
    for name in NAMES:
        r, path = generated["cupy", name]
        if r.exit_code == 0:
            one_by_one |= derivations(ast.parse(path.read_text(encoding="utf-8")))
    assert derivations(all_tree) == one_by_one


def test_check_every_listed_name_passes_or_refuses_in_one_line():
    checked = 0
    for name in NAMES:
        res = invoke("check", name)
        _no_traceback(res)
        if res.exit_code == 0:
            checked += 1
            ok = [ln for ln in res.output.splitlines() if ln.startswith(f"ok    {name}:")]
            assert len(ok) == 2, res.output  # the kernel and the MLP that uses it
            assert "FAIL" not in res.output
        else:
            assert res.exit_code == 2, (name, res.output)
            assert repr(name) in _error_line(res)
    # every loss / activation / layer that runtime runs
    assert checked >= 14


def test_show_grad_every_listed_name_in_every_format_without_steps():
    for name in NAMES:
        for fmt in ("text", "json"):
            res = invoke("show-grad", name, "--format", fmt, "--no-steps")
            _no_traceback(res)
            assert res.exit_code == 0, (name, fmt, res.output)
            if fmt == "json":
                d = json.loads(res.output)
                assert d["name"] == name
                # --wrt's default: all of a derivation's variables
                assert [g["wrt"] for g in d["gradients"]] == d["variables"]


# --------------------------------------------------------------------------- bad numbers and options

@pytest.mark.parametrize("option, value", [
    ("--eps", "0"), ("--eps", "-1e-6"), ("--eps", "nan"), ("--eps", "inf"), ("--eps", "abc"),
    ("--atol", "-1"), ("--atol", "nan"), ("--rtol", "-0.5"), ("--rtol", "nan"),
    ("--seed", "-1"), ("--seed", "1.5"),
])
def test_check_bad_numbers_exit_2_naming_option_and_value(option, value):
    res = invoke("check", "mse", option, value)
    _no_traceback(res)
    assert res.exit_code == 2
    line = _error_line(res)
    assert option in line
    shown = {"0": "0", "-1e-6": "-1e-06", "-1": "-1", "-0.5": "-0.5"}.get(value, value)
    assert shown in line, line
    assert "ok " not in res.output  # nothing was checked


def test_check_failing_tolerance_exits_1_with_fail_lines():
    """`check --help`: the exit status is 1 when a check fails (zero tolerance always fails)."""
    res = invoke("check", "mse", "--atol", "0", "--rtol", "0")
    _no_traceback(res)
    assert res.exit_code == 1
    assert res.output.count("FAIL  mse:") == 2


def test_check_without_names_covers_every_loss_activation_layer():
    """Default NAMES: every loss, activation and layer (see `check --help`)."""
    res = invoke("check")
    assert res.exit_code == 0, res.output
    group = None
    expected = []
    for ln in invoke("list", "--ascii").output.splitlines():
        if not ln.startswith(" "):
            group = ln.strip()
        elif group in ("loss", "activation", "layer"):
            expected.append(ln.split()[0])
    seen = [m.group(1) for m in re.finditer(r"^(?:ok|skip)\s+(\w+):", res.output, re.M)]
    assert list(dict.fromkeys(seen)) == expected


@pytest.mark.parametrize("args, hint", [
    (["show-grad", "bce", "--format", "pdf"], "'pdf'"),
    (["show-grad", "crossentropee"], "'crossentropee'"),
    (["list", "--group", "losses"], "'losses'"),
    (["gen", "--backend", "cuda", "mse", "-o", "x.py"], "'cuda'"),
    (["gen", "nosuchloss", "-o", "x.py"], "'nosuchloss'"),
    (["check", "nosuchloss"], "'nosuchloss'"),
    (["show-grad", "bce", "--wrt", "q"], "'q'"),
])
def test_unknown_values_exit_2_naming_the_value(args, hint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke(*args)
    assert not (tmp_path / "x.py").exists()
    _no_traceback(res)
    assert res.exit_code == 2
    assert hint in _error_line(res)


@pytest.mark.parametrize("args", [
    ["show-grad", "bce", "--expr", "x**2"],                     # NAME and --expr
    ["show-grad"],                                             # neither
    ["gen", "adam", "mse", "-o", "OUT"],                       # optimizer with a loss
    ["gen", "mse", "batchnorm", "-o", "OUT"],                  # layer with a loss
    ["gen", "mse"],                                            # -o is required
])
def test_conflicting_or_missing_options_exit_2(args, tmp_path):
    out = tmp_path / "k.py"
    res = invoke(*[str(out) if a == "OUT" else a for a in args])
    _no_traceback(res)
    assert res.exit_code == 2
    _error_line(res)
    assert not out.exists()


@pytest.mark.parametrize("text", [
    "", "x**", "2x", "x^2", "__import__('os')", "x.real", "x[0]", "1/0", "x**10**10",
    "sigmoid(x, 2)", "log(x, 1)", "foo(x)", "(x", "lambda: x", "7",
])
def test_bad_expr_exits_2_naming_expr(text):
    res = invoke("show-grad", "--expr", text)
    _no_traceback(res)
    assert res.exit_code == 2
    assert "'--expr'" in _error_line(res)


# --------------------------------------------------------------------------- output paths

def test_gen_output_is_a_directory(tmp_path):
    res = invoke("gen", "mse", "-o", str(tmp_path))
    _no_traceback(res)
    assert res.exit_code == 2
    assert str(tmp_path) in _error_line(res)


def test_gen_output_under_a_regular_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "k.py"
    res = invoke("gen", "mse", "-o", str(target))
    _no_traceback(res)
    assert res.exit_code != 0
    assert str(target) in _error_line(res)
    assert (tmp_path / "afile").read_text() == "x"


def test_gen_empty_output_path():
    res = invoke("gen", "mse", "-o", "")
    _no_traceback(res)
    assert res.exit_code != 0
    _error_line(res)


def test_gen_output_in_an_unwritable_place():
    res = invoke("gen", "mse", "-o", "/proc/derivecli_audit_kernels.py")
    _no_traceback(res)
    assert res.exit_code != 0
    assert "/proc/derivecli_audit_kernels.py" in _error_line(res)


def test_gen_output_with_a_trailing_slash_is_refused(tmp_path):
    target = str(tmp_path / "kernels_dir") + os.sep
    res = invoke("gen", "mse", "-o", target)
    _no_traceback(res)
    assert not (tmp_path / "kernels_dir").is_file()
    assert res.exit_code != 0


def test_gen_output_to_a_device_keeps_the_device(tmp_path):
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null twin
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot create a device node here")
    res = invoke("gen", "mse", "-o", str(dev))
    _no_traceback(res)
    assert stat.S_ISCHR(os.lstat(dev).st_mode), "the device node was replaced by a regular file"
    assert res.exit_code == 0, res.output  # written through, as to /dev/stdout


def test_cupy_module_with_a_windows_style_path_compiles(tmp_path):
    out = tmp_path / "C:\\Users\\me" / "cuda_kernels.py"
    res = invoke("gen", "--backend", "cupy", "mse", "-o", str(out))
    assert res.exit_code == 0, res.output
    compile(out.read_text(encoding="utf-8"), str(out), "exec")


def test_an_output_path_with_a_newline_is_refused(tmp_path):
    # it would end up in the module's header comment and break it
    out = tmp_path / "a\nb" / "kernels.py"
    res = invoke("gen", "mse", "-o", str(out))
    _no_traceback(res)
    assert res.exit_code == 2
    assert "contains a control character" in _error_line(res)
    assert not (tmp_path / "a\nb").exists()


def test_regenerate_command_in_header_round_trips_a_path_with_a_space(tmp_path):
    out = tmp_path / "my kernels" / "k.py"
    res = invoke("gen", "mse", "-o", str(out))
    assert res.exit_code == 0, res.output
    first = out.read_text(encoding="utf-8").splitlines()[0]
    command = re.search(r"`(.*)`", first).group(1)
    argv = shlex.split(command)
    assert argv[argv.index("-o") + 1] == str(out)


# --------------------------------------------------------------------------- small message bugs

def test_non_finite_number_error_quotes_the_number_typed():
    res = invoke("show-grad", "--expr", "1e400*x")
    _no_traceback(res)
    assert res.exit_code == 2
    assert "1e400" in _error_line(res)


def test_check_rejects_an_unknown_name_before_running_anything():
    res = invoke("check", "mse", "nosuchloss")
    assert res.exit_code == 2
    assert "ok " not in res.output


# --------------------------------------------------------------------------- help text

def _help(*cmd) -> str:
    res = invoke(*cmd, "--help", terminal_width=200)
    assert res.exit_code == 0
    return res.output


def test_show_grad_help_functions_and_constants_are_all_accepted():
    """Every function and constant the help lists for EXPR parses and differentiates."""
    text = " ".join(_help("show-grad").split())
    listed = re.search(r"the functions (.*?), and the constants (.*?)\. It is", text)
    assert listed, text
    functions = [f.strip() for f in listed.group(1).split(",")]
    constants = [c.strip() for c in listed.group(2).split(" and ")]
    assert len(functions) >= 20 and constants == ["pi", "E"]
    two = {"max", "min"}
    for f in functions:
        expr = f"{f}(x, 2)" if f in two else f"{f}(x/3 + 1/4)"
        res = invoke("show-grad", "--expr", expr, "--no-steps")
        _no_traceback(res)
        assert res.exit_code == 0, (expr, res.output)
    for c in constants:
        res = invoke("show-grad", "--expr", f"{c}*x", "--no-steps", "--format", "json")
        assert res.exit_code == 0, res.output
        value = float(sp.sympify(json.loads(res.output)["result"]["str"]))
        assert value == pytest.approx({"pi": math.pi, "E": math.e}[c])


def test_list_help_groups_are_the_groups():
    text = " ".join(_help("list").split())
    documented = re.search(r"Only this group \((.*?)\)", text).group(1).split(", ")
    for g in documented:
        assert invoke("list", "--group", g).exit_code == 0, g
    printed = [ln for ln in invoke("list", "--ascii").output.splitlines() if not ln.startswith(" ")]
    assert sorted(printed) == sorted(documented)


def test_check_help_defaults_are_the_defaults():
    """--seed 0, --eps 1e-6 etc. are what runs: the same output as passing them explicitly."""
    text = _help("check")
    assert "[default: 0; x>=0]" in text and "[default: 1e-06]" in text
    a = invoke("check", "relu")
    b = invoke("check", "relu", "--seed", "0", "--eps", "1e-6", "--atol", "1e-5", "--rtol", "1e-3")
    assert a.exit_code == b.exit_code == 0 and a.output == b.output


def test_version_is_the_installed_version():
    res = invoke("--version", prog_name="derivecli")
    assert res.exit_code == 0
    assert res.output.strip() == f"derivecli, version {version('derivecli')}"


def test_unknown_subcommand_suggests_the_right_one():
    res = invoke("shw-grad", "bce")
    assert res.exit_code == 2
    assert "show-grad" in _error_line(res)


# --------------------------------------------------------------------------- README's CLI section

def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _value(text: str, **values) -> float:
    expr = sp.sympify(text, locals={"sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
                                    **{k: sp.Symbol(k) for k in values}})
    return float(expr.subs({sp.Symbol(k): v for k, v in values.items()}))


def test_readme_show_grad_bce_gives_both_gradients():
    """README: `derivecli show-grad bce  # ∂L/∂ŷ, then ∂L/∂z = σ(z) − y`."""
    res = invoke("show-grad", "bce", "--format", "json")
    assert res.exit_code == 0
    grads = {g["wrt"]: g["result"]["str"] for g in json.loads(res.output)["gradients"]}
    assert list(grads) == ["yhat", "z"]
    for yhat, y, z in [(0.3, 0.8, -1.2), (0.9, 0.1, 2.0)]:
        assert _value(grads["yhat"], yhat=yhat, y=y) == pytest.approx((yhat - y) / (yhat * (1 - yhat)))
        assert _value(grads["z"], z=z, y=y) == pytest.approx(_sigmoid(z) - y)
    text = invoke("show-grad", "bce").output
    assert "∂L/∂ŷ" in text and "∂L/∂z" in text and "proved" in text


def test_readme_no_steps_is_just_the_closed_form():
    full = invoke("show-grad", "bce", "--wrt", "z", "--ascii").output
    short = invoke("show-grad", "bce", "--wrt", "z", "--no-steps", "--ascii").output
    assert "dL/dz = -y + sigmoid(z)" in short
    assert "proved" in full and "proved" not in short and len(short) < len(full)
    assert "dL/dyhat" not in short


def test_readme_markdown_uses_display_math():
    res = invoke("show-grad", "smooth-l1", "--format", "markdown")
    assert res.exit_code == 0
    assert res.output.count("$$") >= 4 and res.output.count("$$") % 2 == 0


def test_readme_json_for_tools_has_the_documented_keys():
    """README: `--format json  # for tools: name, wrt, result, steps[{rule, expr, latex, check}]`."""
    d = json.loads(invoke("show-grad", "ce", "--format", "json").output)
    assert d["name"] == "softmax_ce" and isinstance(d["wrt"], str)
    assert {"str", "latex"} <= set(d["result"])
    assert d["steps"] and all({"rule", "expr", "latex", "check"} <= set(s) for s in d["steps"])


def test_readme_expr_example_gives_the_textbook_gradient():
    """README: `show-grad --expr "sigmoid(w*x + b)" --wrt w`: x·σ(wx + b)(1 − σ(wx + b))."""
    res = invoke("show-grad", "--expr", "sigmoid(w*x + b)", "--wrt", "w", "--format", "json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.output)["result"]["str"]
    for w, x, b in [(0.5, -1.5, 0.2), (-2.0, 0.7, 1.1)]:
        s = _sigmoid(w * x + b)
        assert _value(result, w=w, x=x, b=b) == pytest.approx(x * s * (1 - s))


_BLOCK_PROJECT = """
import sys
class _Block:  # the generated module must be standalone: no derive/codegen/runtime/derivecli
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("derive", "codegen", "runtime", "derivecli"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, _Block())
sys.path.insert(0, ".")
"""

_NUMERIC_SCRIPT = _BLOCK_PROJECT + r"""
import json, math
import numpy as np
import my_kernels as K, more_kernels as M, optim_kernels as O
res = {}
rng = np.random.default_rng(1)
n = 29
p, t = rng.normal(size=n) * 2, rng.normal(size=n) * 2
g = np.empty(n)
loss = K.mse_mean_f64(p, t, g)
res["mse loss"] = loss - np.mean((p - t) ** 2)
res["mse grad"] = np.max(np.abs(g - 2 * (p - t) / n))
N, C = 5, 4
Z = rng.normal(size=(N, C)) * 3
lab = rng.integers(0, C, size=N).astype(np.int64)
G = np.empty((N, C))
loss = K.softmax_ce_index_mean_f64(Z, lab, np.ones(C), -100, 0.0, G)
P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
res["softmax_ce loss"] = loss - np.mean(-np.log(P[np.arange(N), lab]))
res["softmax_ce grad"] = np.max(np.abs(G - (P - np.eye(C)[lab]) / N))
z, y, pw = rng.normal(size=n) * 4, rng.uniform(0, 1, size=n), 2.5
loss = M.bce_logits_mean_f64(z, y, g, pw)
s = 1 / (1 + np.exp(-z))
res["bce_logits loss"] = loss - np.mean(-(pw * y * np.log(s) + (1 - y) * np.log(1 - s)))
res["bce_logits grad"] = np.max(np.abs(g - ((1 + (pw - 1) * y) * s - pw * y) / n))
up, out = rng.normal(size=n), np.empty(n)
M.leaky_relu_backward_f64(z, up, out, 0.2)
res["leaky_relu grad"] = np.max(np.abs(out - up * np.where(z > 0, 1.0, 0.2)))
theta = rng.normal(size=n); m = np.zeros(n); v = np.zeros(n)
th_r, m_r, v_r = theta.copy(), m.copy(), v.copy()
lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
for step in (1, 2, 3):
    gr = rng.normal(size=n)
    O.adam_f64(theta, gr, m, v, *O.adam_scalars(step, lr, b1, b2, eps, 0.0))
    m_r = b1 * m_r + (1 - b1) * gr
    v_r = b2 * v_r + (1 - b2) * gr ** 2
    th_r = th_r - lr * (m_r / (1 - b1 ** step)) / (np.sqrt(v_r / (1 - b2 ** step)) + eps)
res["adam param"] = np.max(np.abs(theta - th_r))
res["adam exp_avg_sq"] = np.max(np.abs(v - v_r))
print(json.dumps({k: float(abs(x)) for k, x in res.items()}))
"""


def test_readme_gen_numba_modules_run_standalone_in_a_fresh_process(tmp_path):
    """README: `gen --backend numba mse softmax_ce -o my_kernels.py  # a standalone module to
    vendor`; plus an activation/loss module and an optimizer module, checked against NumPy."""
    runs = [("gen", "--backend", "numba", "mse", "softmax_ce", "-o", "my_kernels.py"),
            ("gen", "bce-logits", "leaky_relu", "-o", "more_kernels.py"),
            ("gen", "adam", "-o", "optim_kernels.py")]
    for args in runs:
        proc = subprocess.run([PY, "-m", "derivecli", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""  # importable names: no warning
    imports = set()
    for node in ast.walk(ast.parse((tmp_path / "my_kernels.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imports |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imports.add((node.module or "").split(".")[0])
    assert imports <= {"numpy", "numba", "math"}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([PY, "-c", _NUMERIC_SCRIPT], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(errors) == 9
    bad = {k: e for k, e in errors.items() if not e <= 1e-12}
    assert not bad, bad


def test_readme_gen_cupy_module_imports_standalone_in_a_fresh_process(tmp_path):
    """README: `gen --backend cupy -o my_cuda_kernels.py  # CUDA C sources loaded by CuPy`."""
    proc = subprocess.run([PY, "-m", "derivecli", "gen", "--backend", "cupy", "-o",
                           "my_cuda_kernels.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    script = _BLOCK_PROJECT + textwrap.dedent("""
        import json, my_cuda_kernels as m
        print(json.dumps([list(m.DERIVATIONS), list(m.KERNELS), m.SOURCE]))
    """)
    proc = subprocess.run([PY, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    derivations, kernels, source = json.loads(proc.stdout)
    for name in ("softmax_ce", "bce", "mse", "relu", "adam", "batchnorm"):
        assert name in derivations
    # every listed kernel is defined as a __global__ function in the CUDA source
    for k in kernels:
        assert re.search(r"__global__[^(]*\b" + re.escape(k) + r"\s*\(", source), k
