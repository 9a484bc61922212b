"""The `derivecli` command line: every registered name in every format, bad input, --expr.

In-process through click's CliRunner, and as real subprocesses of the installed console script.
Oracles: the registry's own list (list), pdflatex (LaTeX compiles, when installed), JSON that
parses back into the derivation's expressions, and sympy.diff of a hand-written elementary
formula for --expr results.
"""
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from derive import registry
from derive.render import FORMATS as RENDER_FORMATS
from derivecli.cli import FORMATS, main
from test_render import compile_latex, latex_problems

NAMES = registry.names()  # grows as derivations are added; every one is covered


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_formats_match_render():
    assert FORMATS == RENDER_FORMATS


# --------------------------------------------------------------------------- list


def test_list_every_name_once_under_its_group_without_building(monkeypatch):
    def refuse(name):
        raise AssertionError(f"`derivecli list` built {name}")

    monkeypatch.setattr(registry, "_build", refuse)
    result = invoke("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    groups = [line for line in lines if not line.startswith(" ")]
    assert sorted(groups) == sorted({e.group for e in registry.ENTRIES})
    current = {}
    for line in lines:
        if not line.startswith(" "):
            group = line
            continue
        name = line.split()[0]
        assert name not in current, f"{name} listed twice"
        current[name] = group
    assert current == {e.name: e.group for e in registry.ENTRIES}
    for e in registry.ENTRIES:
        assert e.summary in result.output


def test_list_one_group_and_a_bad_group():
    result = invoke("list", "--group", "loss")
    assert result.exit_code == 0
    assert {line.split()[0] for line in result.output.splitlines()[1:]} == set(registry.names("loss"))
    bad = invoke("list", "--group", "nope")
    assert bad.exit_code == 2 and "no derivations in group 'nope'" in bad.output


# --------------------------------------------------------------------------- every name, every format


def _parse(text: str, d) -> sp.Expr:
    """A result printed by sstr, read back with the derivation's own symbols and functions."""
    from derive import functions

    names = {str(s): s for e in [d.expr, *d.gradients.values(), *d.gradients.keys()]
             for s in e.free_symbols | e.atoms(sp.Indexed, sp.IndexedBase)}
    names.update({k: v for k, v in vars(functions).items()
                  if isinstance(v, type) and v.__module__ == functions.__name__})
    return sp.sympify(text, locals=names)


def _identifiers_only(d) -> bool:
    """Whether every symbol name is a Python identifier (x̂ is not: it cannot be parsed back)."""
    exprs = [d.expr, *d.gradients.values()]
    return all(str(getattr(s, "label", s)).isidentifier()
               for e in exprs for s in e.free_symbols | e.atoms(sp.IndexedBase))


@pytest.mark.slow  # builds (and checks) every registered derivation once
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_every_name_in_every_format(name, fmt):
    result = invoke("show-grad", name, "--format", fmt)
    assert result.exit_code == 0, result.output
    out, d = result.output, registry.get(name)
    if fmt == "json":
        data = json.loads(out)
        assert data["name"] == name and data["variables"] == [str(v) for v in d.wrt]
        assert [g["wrt"] for g in data["gradients"]] == [str(v) for v in d.wrt]
        assert data["wrt"] == str(d.wrt[0]) and data["result"] == data["gradients"][0]["result"]
        for g in data["gradients"]:
            assert g["steps"] and all(s["rule"] and s["expr"] for s in g["steps"])
            # The steps lead to the closed form: it is one of them.
            assert g["result"]["str"] in [s["expr"] for s in g["steps"]]
            v = d.variable(g["wrt"])
            assert g["result"]["str"] == sp.sstr(d.gradients[v])
            if _identifiers_only(d):  # a tool can read the result back into SymPy
                try:
                    back = _parse(g["result"]["str"], d)
                except (SyntaxError, TypeError, ValueError, AttributeError) as e:
                    pytest.fail(f"result of {name} wrt {g['wrt']} does not parse back: {e}")
                # sympify distributes numbers (2*(a - b) -> 2*a - 2*b): compare values.
                assert sp.expand(back - d.gradients[v]) == 0
    elif fmt == "latex":
        assert out.isascii() and latex_problems(out) == []
    elif fmt == "markdown":
        assert out.count("$$") % 2 == 0 and out.count("#### $") == len(d.wrt)
    else:
        assert out.count("Result:") == len(d.wrt)
        assert len(out.splitlines()) > 2 * sum(len(s) for s in d.steps.values())


@pytest.mark.slow  # one pdflatex run per derivation
@pytest.mark.parametrize("name", NAMES)
def test_latex_of_every_name_compiles(name, tmp_path):
    result = invoke("show-grad", name, "--format", "latex")
    assert result.exit_code == 0, result.output
    compile_latex(result.output, tmp_path)


def test_aliases_and_hyphens_give_the_same_output():
    assert invoke("show-grad", "BCE-Logits", "--no-steps").output == \
        invoke("show-grad", "bce_logits", "--no-steps").output
    assert invoke("show-grad", "binary_cross_entropy", "--no-steps").output == \
        invoke("show-grad", "bce", "--no-steps").output


def test_wrt_selects_one_variable_and_no_steps_drops_them():
    both = invoke("show-grad", "bce", "--format", "json")
    one = invoke("show-grad", "bce", "--wrt", "z", "--no-steps", "--format", "json")
    assert [g["wrt"] for g in json.loads(both.output)["gradients"]] == ["yhat", "z"]
    data = json.loads(one.output)
    assert [g["wrt"] for g in data["gradients"]] == ["z"] and data["steps"] == []
    assert data["result"]["str"] == "-y + sigmoid(z)"


def test_ascii_flag():
    out = invoke("show-grad", "bce", "--ascii").output
    assert out.isascii() and "sigmoid(z)" in out and "dL/dz" in out
    assert invoke("list", "--ascii").output.isascii()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("typo, suggestion", [("bcee", "bce"), ("smoth_l1", "smooth_l1"),
                                               ("hubber", "huber")])
def test_unknown_name_exits_2_with_the_closest_names(typo, suggestion):
    result = invoke("show-grad", typo)
    assert result.exit_code == 2
    assert f"unknown derivation {typo!r}" in result.output
    assert "did you mean" in result.output and suggestion in result.output


def test_bad_wrt_exits_2_naming_the_valid_variables():
    result = invoke("show-grad", "bce", "--wrt", "q")
    assert result.exit_code == 2
    assert "'q' is not a variable of 'bce'; valid: yhat, z" in result.output


def test_name_and_expr_exclusive():
    assert invoke("show-grad").exit_code == 2
    both = invoke("show-grad", "bce", "--expr", "x")
    assert both.exit_code == 2 and "either a NAME or --expr" in both.output


UNSAFE = ["__import__('os').system('echo hacked')", "().__class__", "lambda x: x", "x.real",
          "open('f')", "[x for x in y]", "x[0]", "exec('1')", "x" * 10_000, "2**2**2**2**2**2"]


@pytest.mark.parametrize("text", UNSAFE, ids=lambda t: t[:25])
def test_unsafe_expr_exits_2_with_the_parser_message(text):
    from derive.parse import parse_expression

    with pytest.raises(ValueError) as info:
        parse_expression(text)
    result = invoke("show-grad", "--expr", text, "--wrt", "x")
    assert result.exit_code == 2
    assert str(info.value)[:60] in " ".join(result.output.split())


def test_expr_payload_runs_nothing(tmp_path):
    marker = tmp_path / "hacked"
    for text in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                 f"exec(\"open('{marker}', 'w')\")"):
        assert invoke("show-grad", "--expr", text).exit_code == 2
    assert not marker.exists()


def test_expr_wrt_rules():
    several = invoke("show-grad", "--expr", "sigmoid(w*x + b)")
    assert several.exit_code == 2 and "several variables (w, x, b)" in several.output
    missing = invoke("show-grad", "--expr", "x**2", "--wrt", "y")
    assert missing.exit_code == 2 and "valid: x" in missing.output
    constant = invoke("show-grad", "--expr", "2 + pi")
    assert constant.exit_code == 2 and "no variables" in constant.output


# --------------------------------------------------------------------------- --expr against sympy.diff


def _sigmoid(a):
    return 1 / (1 + sp.exp(-a))


@pytest.mark.parametrize("text, wrt, elementary", [
    ("x**2*sin(x)", None, lambda s: s["x"] ** 2 * sp.sin(s["x"])),
    ("sigmoid(w*x+b)", "w", lambda s: _sigmoid(s["w"] * s["x"] + s["b"])),
    ("log(1 + exp(-y*z))/2 + softplus(z)", "z",
     lambda s: sp.log(1 + sp.exp(-s["y"] * s["z"])) / 2 + sp.log(1 + sp.exp(s["z"]))),
    ("tanh(a*x)**2 - x/(1 + x**2)", "x", lambda s: sp.tanh(s["a"] * s["x"]) ** 2 - s["x"] / (1 + s["x"] ** 2)),
])
def test_expr_gradient_equals_sympy_diff(text, wrt, elementary):
    args = ["show-grad", "--expr", text, "--format", "json"] + (["--wrt", wrt] if wrt else [])
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    wrt = wrt or "x"
    assert data["wrt"] == wrt and data["steps"][0]["check"] == "definition"
    names = {n: sp.Symbol(n, real=True) for n in "abwxyz"}
    # The printed result, with sigmoid/softplus read as their textbook formulas ...
    got = sp.sympify(data["result"]["str"], locals={
        **names, "sigmoid": _sigmoid, "softplus": lambda a: sp.log(1 + sp.exp(a))})
    # ... against SymPy's own derivative of the hand-written elementary formula.
    want = sp.diff(elementary(names), names[wrt])
    rng = random.Random(0)
    for _ in range(20):
        point = {s: rng.uniform(-2, 2) for s in names.values()}
        assert complex(got.subs(point).evalf()) == pytest.approx(complex(want.subs(point).evalf()),
                                                                 rel=1e-12, abs=1e-12)
    text_out = invoke(*[a for a in args if a != "json" and a != "--format"])
    assert text_out.exit_code == 0 and "Result:" in text_out.output


# --------------------------------------------------------------------------- processes


def _script() -> list[str]:
    script = Path(sys.executable).with_name("derivecli")
    if script.exists():
        return [str(script)]
    found = shutil.which("derivecli")
    return [found] if found else [sys.executable, "-m", "derivecli"]


def _run(cmd, **env):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **env})


def test_console_script_as_a_real_process():
    ok = _run(_script() + ["show-grad", "bce", "--wrt", "z", "--format", "json"])
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["name"] == "bce" and data["result"]["str"] == "-y + sigmoid(z)"
    bad = _run(_script() + ["show-grad", "bcee"])
    assert bad.returncode == 2 and "did you mean bce" in bad.stderr and bad.stdout == ""
    listed = _run([sys.executable, "-m", "derivecli", "list"])
    assert listed.returncode == 0 and "bce_logits" in listed.stdout


def test_ascii_terminal_gets_ascii_text():
    run = _run(_script() + ["show-grad", "bce"], PYTHONIOENCODING="ascii")
    assert run.returncode == 0, run.stderr
    assert run.stdout.isascii() and "dL/dyhat" in run.stdout


HEAVY = ("numpy", "numba", "llvmlite", "cupy", "torch", "scipy", "codegen", "runtime")
# SymPy's pretty printer imports this (~0.5 s) unless derive.render avoids it; sp.simplify
# (used for --expr, outside the 1.5 s budget) imports it regardless.
UNITS = "sympy.physics.units"
PROBE = """
import sys
from derivecli.cli import main
try:
    main({args!r}, prog_name="derivecli")
except SystemExit as e:
    assert not e.code, e.code
print("LOADED", sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("args, heavy", [
    (["show-grad", "bce"], HEAVY + (UNITS,)),
    (["show-grad", "bce", "--format", "latex"], HEAVY + (UNITS,)),
    (["list"], HEAVY + (UNITS,)),
    (["--help"], HEAVY + (UNITS,)),
    (["show-grad", "--expr", "x**2*sin(x)"], HEAVY),
], ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_cli_imports_no_numba_or_numpy(args, heavy):
    run = _run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy)])
    assert run.returncode == 0, run.stderr
    assert "LOADED []" in run.stderr, run.stderr.splitlines()[-1]


def test_help_does_not_import_sympy():
    probe = ("import sys\nfrom derivecli.cli import main\ntry:\n    main(['--help'])\n"
             "except SystemExit:\n    pass\nprint('SYMPY', 'sympy' in sys.modules, file=sys.stderr)")
    run = _run([sys.executable, "-c", probe])
    assert "SYMPY False" in run.stderr and "show-grad" in run.stdout


@pytest.mark.parametrize("backend, name, also", [("numba", "momentum", "sgd_momentum_f32"),
                                                 ("numba", "batchnorm", "dropout_f32"),
                                                 ("cupy", "momentum", "sgd_momentum")])
def test_gen_says_which_kernels_the_module_holds(tmp_path, backend, name, also):
    """`gen momentum` writes sgd's module and `gen batchnorm` brings dropout's kernels: the
    message says so. Oracle: the kernels the written file defines."""
    out = tmp_path / "k.py"
    result = CliRunner().invoke(main, ["gen", "--backend", backend, name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert also in out.read_text()
    held = "sgd" if name == "momentum" else "batchnorm, dropout"
    assert result.output.strip() == f"wrote {out} ({backend}: {name}; the module holds the kernels of {held})"


def test_check_with_a_huge_eps_fails_cleanly():
    """x ± 1e300 overflows in the model: the check fails and names the non-finite numeric
    entry, without NumPy's overflow warnings on the way."""
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["check", "mse", "--eps", "1e300"])
    assert result.exit_code == 1
    assert result.output.count("FAIL  mse") == 2 and "numeric nan" in result.output
    assert [w for w in seen if issubclass(w.category, RuntimeWarning)] == []
