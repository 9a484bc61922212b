"""derive.render: every format shows every step, marks numeric-only checks, and escapes prose.

A hand-made derivation (with a numeric-only step and a title full of TeX and Markdown specials)
and the registry's bce are rendered; the oracles are the derivation's own SymPy objects
(JSON results parse back to the same expressions), pdflatex (the document compiles, when it is
installed) and SymPy's own pretty printer (for the one printer method replaced here).
"""
import io
import json
import re
import shutil
import subprocess
import sys

import pytest
import sympy as sp

import derive
from derive.core import DEFINITION, NUMERIC, PROVED, Derivation, Step
from derive.functions import sigmoid
from derive.render import (FORMATS, _Pretty, _pretty_unicode, _tex_text, ascii_text, render,
                           render_latex_fragment, stream_supports_unicode)

x = sp.Symbol("x", real=True)
beta = sp.Symbol("beta", positive=True)
f = sp.Symbol("f")
TITLE = "Toy σ(x) & 100% {braces} $cost #1 a_b ^ ~ \\ — ŷ ∈ ℝ"


def toy() -> Derivation:
    expr = beta * x**2 * sp.sin(x)
    grad = beta * (2 * x * sp.sin(x) + x**2 * sp.cos(x))
    df = sp.Derivative(f, x, evaluate=False)
    steps = (
        Step("definition", expr, f, DEFINITION),
        Step("differentiate with respect to x", sp.Derivative(expr, x, evaluate=False), df,
             DEFINITION),
        Step("product rule", beta * (2 * x * sp.sin(x) + x**2 * sp.cos(x)), df, PROVED),
        Step("a step only checked at points", grad, df, NUMERIC,
             "no symbolic proof found; agrees at 40 random points"),
    )
    return Derivation("toy", "loss", TITLE, expr, (x,), {x: grad}, {x: steps}, quantity=f,
                      symbols={"x": "input x ∈ ℝ", "beta": "scale β_1 & co"},
                      options={"beta": 1.0}, stable={"grad": grad.subs(beta, 1)})


# --------------------------------------------------------------------------- LaTeX checks


def latex_problems(tex: str) -> list[str]:
    """Structural problems of a LaTeX source: unbalanced environments, braces or $."""
    problems, stack = [], []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            problems.append(f"\\end{{{env}}} does not close the open environment")
    problems += [f"\\begin{{{env}}} never closed" for env in stack]
    plain = re.sub(r"\\[{}$\\]", "", tex)  # escaped braces, dollars and \\ line breaks
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            problems.append("a } closes nothing")
            break
    if depth > 0:
        problems.append(f"{depth} unclosed {{")
    if plain.count("$") % 2:
        problems.append("odd number of $")
    return problems


def compile_latex(tex: str, tmp_path) -> None:
    """Compile with pdflatex (skip when it is not installed); fail with the log's errors."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base "
                    "texlive-latex-recommended); structure is still checked")
    (tmp_path / "doc.tex").write_text(tex, encoding="ascii")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                          "-no-shell-escape", "doc.tex"], cwd=tmp_path, capture_output=True,
                         text=True, errors="replace", timeout=120)
    errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and (tmp_path / "doc.pdf").exists(), errors or run.stdout[-2000:]


# --------------------------------------------------------------------------- text


def test_text_shows_title_symbols_every_rule_checks_and_result():
    d = toy()
    out = render(d, unicode=True)
    assert out.splitlines()[0] == f"toy — {TITLE}"
    for s in d.steps[x]:
        assert s.rule in out
    assert "✓ proved" in out
    assert "≈ checked numerically (no symbolic proof found; agrees at 40 random points)" in out
    assert "input x ∈ ℝ" in out and "beta = 1.0" in out
    assert "Result:" in out and "∂f/∂x = " in out
    # The result's pretty form, as SymPy prints it, is in the output.
    assert sp.pretty(x**2 * sp.cos(x), use_unicode=True).splitlines()[-1].strip() in out


def test_text_without_steps_has_results_but_no_rules():
    out = render(toy(), steps=False, unicode=True)
    assert "product rule" not in out and "∂f/∂x = " in out


def test_ascii_text_is_ascii_and_marks_checks():
    out = render(toy(), unicode=False)
    assert out.isascii()
    assert "[proved]" in out and "[~ checked numerically" in out
    assert "df/dx = " in out
    bce = render(derive.get("bce"), unicode=False)
    assert bce.isascii() and "sigmoid(z)" in bce and "dL/dyhat" in bce


def test_unicode_follows_the_output_stream(monkeypatch):
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert not stream_supports_unicode(ascii_stream)
    assert stream_supports_unicode(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", ascii_stream)
    assert render(toy()).isascii()
    assert render(toy(), fmt="json").isascii()


def test_ascii_text_transliterates_prose():
    assert ascii_text("σ(z) − ŷ ≤ ∂L/∂β") == "sigma(z) - yhat <= dL/dbeta"
    assert ascii_text("ŵ").isascii()  # unknown accented letters keep their base letter


def test_pretty_mul_matches_sympy(monkeypatch):
    """render replaces SymPy's _print_Mul (to skip importing sympy.physics.units): same output."""
    a, c = sp.symbols("a c")
    exprs = [2 * x, -x, x / 2, -x / (3 * c**2), a * c**-1, sp.Rational(1, 2) / x,
             2 * x**sp.Rational(-1, 2), sp.Mul(2, x, evaluate=False), sp.Mul(-1, x, evaluate=False),
             sp.Mul(1, x, 3, evaluate=False), (1 - sigmoid(x)) * sigmoid(x) / (a * (1 - a)),
             sp.exp(-x) * sp.sin(x) ** 2 / (1 + sp.exp(-x)) ** 2]
    for unicode in (True, False):
        for e in exprs:
            with monkeypatch.context() as m:
                m.delitem(sys.modules, "sympy.physics.units", raising=False)
                with _pretty_unicode(unicode):
                    ours = _Pretty({"use_unicode": unicode})._print(e).render(wrap_line=False)
            assert ours == sp.pretty(e, use_unicode=unicode, wrap_line=False), e


def test_bad_format_and_wrt_are_named():
    with pytest.raises(ValueError, match="fmt='html'.*text, latex, markdown, json"):
        render(toy(), fmt="html")
    with pytest.raises(ValueError, match="wrt='q'.*valid: yhat, z"):
        render(derive.get("bce"), wrt="q")


# --------------------------------------------------------------------------- LaTeX


def test_latex_document_is_ascii_balanced_and_escaped():
    tex = render(toy(), fmt="latex")
    assert tex.isascii()
    assert latex_problems(tex) == []
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert r"\usepackage{amsmath,amssymb}" in tex and r"\begin{align*}" in tex
    assert r"100\% \{braces\} \$cost \#1 a\_b" in tex and r"$\sigma$(x) \&" in tex
    assert r"$\hat{y} \in \mathbb{R}$" in tex
    assert r"\text{3. product rule\quad($\checkmark$ proved)}" in tex
    assert r"$\approx$ checked numerically" in tex
    assert r"\frac{\partial f}{\partial x} &= " + sp.latex(toy().gradients[x]) in tex


def test_tex_text_escapes():
    assert _tex_text("σ & 50% ŷ_1") == r"$\sigma$ \& 50\% $\hat{y}$\_1"
    assert _tex_text("a\\b~c^d").isascii() and "\\textbackslash{}" in _tex_text("a\\b")


@pytest.mark.parametrize("make", [toy, lambda: derive.get("bce")], ids=["toy", "bce"])
def test_latex_compiles(make, tmp_path):
    tex = render(make(), fmt="latex")
    assert latex_problems(tex) == []
    compile_latex(tex, tmp_path)


def test_latex_fragment_for_jupyter():
    d = toy()
    frag = render_latex_fragment(d)
    assert frag.startswith("$$\\begin{aligned}") and frag.endswith("\\end{aligned}$$")
    assert latex_problems(frag.strip("$")) == []
    assert frag.count("$") == 4  # only the delimiters: MathJax does not nest $ in \text
    assert r"\boxed{" + sp.latex(d.gradients[x]) + "}" in frag
    for s in d.steps[x]:
        assert sp.latex(s.expr) in frag
    assert d._repr_latex_() == frag
    assert d._repr_markdown_() == render(d, fmt="markdown")
    assert str(d) == render(d, fmt="text")


# --------------------------------------------------------------------------- Markdown


def test_markdown_has_display_math_for_every_step_and_escapes_prose():
    d = toy()
    md = render(d, fmt="markdown", unicode=True)
    assert md.count("$$") % 2 == 0
    for s in d.steps[x]:
        assert f"= {sp.latex(s.expr)}$$" in md
    assert r"100% {braces} \$cost \#1 a\_b" in md
    assert "✓ proved" in md and "≈ checked numerically" in md
    assert "| $x$ | input x ∈ ℝ |" in md
    assert render(d, fmt="markdown", unicode=False).isascii()


# --------------------------------------------------------------------------- JSON


def _parse(s: str) -> sp.Expr:
    return sp.sympify(s, locals={"x": x, "beta": beta, "sigmoid": sigmoid,
                                 "yhat": derive.symbols.yhat, "y": derive.symbols.y,
                                 "z": derive.symbols.z})


def test_json_fields_and_round_trip():
    d = toy()
    data = json.loads(render(d, fmt="json"))
    for key in ("name", "title", "group", "wrt", "result", "steps", "options", "symbols",
                "variables", "gradients", "quantity", "expr", "stable"):
        assert key in data
    assert (data["name"], data["title"], data["group"], data["wrt"]) == ("toy", TITLE, "loss", "x")
    assert _parse(data["result"]["str"]) == d.gradients[x]
    assert data["result"]["latex"] == sp.latex(d.gradients[x])
    assert [s["rule"] for s in data["steps"]] == [s.rule for s in d.steps[x]]
    assert [s["check"] for s in data["steps"]] == ["definition", "definition", "proved", "numeric"]
    assert data["steps"][-1]["note"].startswith("no symbolic proof")
    for got, step in zip(data["steps"], d.steps[x]):
        assert set(got) >= {"rule", "expr", "latex", "lhs", "check", "note"}
        assert _parse(got["expr"]) == step.expr
    assert data["options"] == {"beta": 1.0} and data["symbols"]["x"] == "input x ∈ ℝ"


def test_json_every_variable_unless_one_is_chosen():
    d = derive.get("bce")
    every = json.loads(render(d, fmt="json"))
    assert every["variables"] == ["yhat", "z"]
    assert [g["wrt"] for g in every["gradients"]] == ["yhat", "z"]
    for g in every["gradients"]:
        assert _parse(g["result"]["str"]) == d.gradient(g["wrt"])
    one = json.loads(render(d, fmt="json", wrt="z", steps=False))
    assert one["wrt"] == "z" and [g["wrt"] for g in one["gradients"]] == ["z"]
    assert _parse(one["result"]["str"]) == sigmoid(derive.symbols.z) - derive.symbols.y
    assert one["steps"] == []


def test_formats_constant():
    assert FORMATS == ("text", "latex", "markdown", "json")
