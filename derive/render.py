"""Derivations printed for people and tools: text, LaTeX, Markdown and JSON.

One function per format, all fed by the same :class:`~derive.core.Derivation`; the mathematics
is printed by SymPy's own printers (``sympy.pretty``, ``sympy.latex``, ``sympy.sstr``), only
the layout is written here. Prose (titles, rule names, meanings) is escaped per format: LaTeX
output is pure ASCII and compiles with pdflatex; text output falls back to ASCII when the
output stream cannot encode unicode.
"""
from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from contextlib import contextmanager

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm, stringPict

from .core import DEFINITION, NUMERIC, PROVED, Derivation, Step

FORMATS = ("text", "latex", "markdown", "json")
JSON_FORMAT_VERSION = 1


def render(derivation: Derivation, fmt: str = "text", wrt=None, steps: bool = True,
           unicode: bool | None = None) -> str:
    """``derivation`` as ``fmt`` ("text", "latex", "markdown" or "json").

    ``wrt`` selects one variable (all of them when None); ``steps=False`` prints only the
    results; ``unicode`` (text, Markdown, JSON) allows non-ASCII output, and when None it
    is allowed if ``sys.stdout`` can encode it. LaTeX is always ASCII.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r} is not a format; valid: {', '.join(FORMATS)}")
    variables = [derivation.variable(wrt)] if wrt is not None else list(derivation.wrt)
    if unicode is None:
        unicode = stream_supports_unicode(sys.stdout)
    return _RENDERERS[fmt](derivation, variables, steps, bool(unicode))


def render_latex_fragment(derivation: Derivation, wrt=None, steps: bool = True) -> str:
    """Display math for Jupyter's ``_repr_latex_``: one ``aligned`` block, rules on the right."""
    variables = [derivation.variable(wrt)] if wrt is not None else list(derivation.wrt)
    rows = [r"\text{%s}\\" % _mathjax_text(f"{derivation.name}: {derivation.title}")]
    for v in variables:
        if steps:
            for s in _steps(derivation, v):
                rule = _mathjax_text(s.rule + (" (≈ numeric check)" if s.check == NUMERIC else ""))
                rows.append(r"%s &= %s &&\text{%s}\\" % (_latex(s.lhs), _latex(s.expr), rule))
        rows.append(r"%s &= \boxed{%s} &&\text{%s}\\" % (
            _latex(_grad_lhs(derivation, v)), _latex(derivation.gradients[v]),
            "result"))
    return "$$\\begin{aligned}\n%s\n\\end{aligned}$$" % "\n".join(rows)


# --------------------------------------------------------------------------- shared helpers


def _mathjax_text(s: str) -> str:
    """Prose for MathJax's \\text{}: it shows unicode as is but no text-mode escapes."""
    return s.translate({ord("{"): "(", ord("}"): ")", ord("\\"): "/", ord("$"): ""})



def stream_supports_unicode(stream) -> bool:
    """Whether ``stream`` can encode the characters derivations print (∂, σ, ŷ, ✓, ≈)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "∂σŷ✓≈⋅─│⎛⎝".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _steps(d: Derivation, v: sp.Symbol) -> list[Step]:
    """The steps for ``v`` with every left-hand side filled in."""
    out, lhs = [], _quantity(d)
    for s in d.steps[v]:
        lhs = s.lhs if s.lhs is not None else lhs
        out.append(Step(s.rule, s.expr, lhs, s.check, s.note))
    return out


def _quantity(d: Derivation) -> sp.Expr:
    return d.quantity if d.quantity is not None else sp.Symbol("L")


def _grad_lhs(d: Derivation, v: sp.Symbol) -> sp.Expr:
    if v in d.result_lhs:  # an update rule: the result is the new value, not a derivative
        return d.result_lhs[v]
    return sp.Derivative(_quantity(d), v, evaluate=False)


def _is_partial(lhs) -> bool:
    """∂L/∂x with a plain symbol on top: printed compactly, not as d/dx(L)."""
    return (isinstance(lhs, sp.Derivative) and isinstance(lhs.expr, sp.Symbol)
            and len(lhs.variable_count) == 1 and lhs.variable_count[0][1] == 1)


def _check_label(s: Step, unicode: bool) -> str:
    if s.check == PROVED:
        return "✓ proved" if unicode else "[proved]"
    if s.check == NUMERIC:
        detail = f" ({s.note})" if s.note else ""
        return ("≈ checked numerically" if unicode else "[~ checked numerically") + detail + (
            "" if unicode else "]")
    return ""


# --------------------------------------------------------------------------- text

# Prose fallbacks for ASCII output (the mathematics is printed ASCII by SymPy itself).
_ASCII = {
    "∂": "d", "σ": "sigma", "ŷ": "yhat", "−": "-", "·": "*", "⋅": "*", "×": "x", "⊙": "(*)",
    "δ": "delta", "β": "beta", "ε": "eps", "α": "alpha", "μ": "mu", "λ": "lambda", "η": "eta",
    "γ": "gamma", "θ": "theta", "ρ": "rho", "τ": "tau", "ω": "omega", "π": "pi", "Σ": "sum",
    "Π": "prod", "Δ": "Delta", "∇": "grad", "√": "sqrt", "∈": " in ", "≤": "<=", "≥": ">=",
    "≠": "!=", "≈": "~", "→": "->", "←": "<-", "⇒": "=>", "∞": "inf", "‖": "||", "²": "^2",
    "³": "^3", "ᵀ": "^T", "⁻¹": "^-1", "₁": "1", "₂": "2", "ₗ": "l", "—": "-", "–": "-",
    "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"', "✓": "ok", "ℝ": "R", "′": "'",
    "∓": "-+", "±": "+-", "ℒ": "Lag", "ℓ": "l", "∊": " in ", "⇔": "<=>", "⊙": "(*)",
}
# Combining accents (x̂, ḡ) become a word after their letter: xhat, gbar.
_ASCII_ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0305": "bar", "\u0303": "tilde",
                  "\u0307": "dot", "\u0308": "ddot", "\u20d7": "vec"}


def _ascii_char(ch: str) -> str:
    if ch in _ASCII:
        return _ASCII[ch]
    if ch in _ASCII_ACCENTS:
        return _ASCII_ACCENTS[ch]
    parts = unicodedata.normalize("NFD", ch)  # ḡ -> g + macron
    if len(parts) > 1 and parts[0].isascii() and all(c in _ASCII_ACCENTS for c in parts[1:]):
        return parts[0] + "".join(_ASCII_ACCENTS[c] for c in parts[1:])
    name = unicodedata.name(ch, "")
    if _is_superscript(ch):
        return "^" + _superscript_base(ch)  # β₁ᵗ -> beta1^t, δˡ -> delta^l
    for prefix, upper in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        letter = name[len(prefix):].lower() if name.startswith(prefix) else ""
        if letter.isalpha():  # κ -> kappa
            return letter.capitalize() if upper else letter
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 128)
    # letters with accents lose them; anything else is named
    return base or f"<{unicodedata.name(ch, 'U+%04X' % ord(ch)).lower()}>"


def ascii_text(s: str) -> str:
    """``s`` with unicode prose replaced by ASCII words (σ → sigma, ŷ → yhat, ∂ → d, ...)."""
    for k in sorted((k for k in _ASCII if len(k) > 1), key=len, reverse=True):
        s = s.replace(k, _ASCII[k])
    s = _superscript_runs(s)
    out, after_word = "", False  # after a word, or after its subscripts (β₁ -> beta1)
    for i, ch in enumerate(s):
        if ord(ch) < 128:
            if after_word and ch.isalpha():
                out += " "  # √v -> sqrt v, β₁m -> beta1 m
            out += ch
            after_word = False
            continue
        word = _is_word(ch)
        if word and (after_word or (i and s[i - 1].isascii() and s[i - 1].isalnum())):
            out += " "  # λθ -> lambda theta, N√ -> N sqrt
        rep = _ascii_char(ch)
        after_word = word or (after_word and rep.isdigit())
        out += rep
    return out


def variable_spellings(v: sp.Expr) -> set[str]:
    """The names a user may type for ``v``: as stored, as printed (ŷ, θ, z²[m]) and in ASCII
    (yhat, z2[m]); for an indexed variable also its base alone (z for z[i])."""
    forms = set()
    for t in [v] + ([v.base.label] if isinstance(v, sp.Indexed) else []):
        forms |= {str(t), ascii_name(str(t))}
        for flag in (True, False):
            with _pretty_unicode(flag):
                forms.add(_Pretty({"use_unicode": flag, "wrap_line": False})._print(t)
                          .render(wrap_line=False))
    return {unicodedata.normalize("NFC", f) for f in forms}


def _is_superscript(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return ("SUPERSCRIPT" in name or name.startswith("MODIFIER LETTER SMALL")
            or name.startswith("MODIFIER LETTER CAPITAL"))


def _superscript_base(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", ch).replace("−", "-")
                   if ord(c) < 128)


def _superscript_runs(s: str) -> str:
    """10⁻⁶ -> 10^-6, β₁ᵗ -> β₁^t: a run of superscripts is one exponent."""
    out, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and not s[j].isascii() and _is_superscript(s[j]) and _superscript_base(s[j]):
            j += 1
        if j > i:
            out.append("^" + "".join(_superscript_base(c) for c in s[i:j]))
            if j < len(s) and s[j].isalpha():
                out.append(" ")  # δᵀa -> delta^T a
            i = j
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _is_word(ch: str) -> bool:
    """Whether ``ch`` becomes a word of several letters in ASCII (σ -> sigma)."""
    if ch.isascii() or ch in _ASCII_ACCENTS:
        return False
    rep = _ascii_char(ch)
    return len(rep) > 1 and rep.isalpha()


def ascii_name(name: str) -> str:
    """A symbol's name in ASCII: z² -> z2, δ¹ -> delta1, KL(p‖q) -> KL(p||q)."""
    if name.isascii():
        return name
    digits = {c: unicodedata.normalize("NFKD", c) for c in name
              if unicodedata.normalize("NFKD", c).isdigit() and not c.isascii()}
    return ascii_text("".join(digits.get(c, c) for c in name))


class _Pretty(PrettyPrinter):
    """SymPy's pretty printer, with max/min printed as functions (SymPy falls back to str)."""

    def _print_Max(self, e):
        return self._print_Function(e, func_name="max")

    def _print_Min(self, e):
        return self._print_Function(e, func_name="min")

    def _print_Mul(self, product):
        # SymPy's _print_Mul imports sympy.physics.units (~0.5 s, a third of the CLI's budget)
        # only to put unit Quantities last; none can exist unless that module is loaded.
        if "sympy.physics.units" in sys.modules:
            return super()._print_Mul(product)
        args = product.args
        if args[0] is sp.S.One or any(isinstance(a, sp.Number) for a in args[1:]):
            # An unevaluated Mul: print every factor as given (as SymPy does).
            forms = [self._print(a) for a in args]
            negone = forms[0] == "-1"
            if negone:
                forms[0] = prettyForm("1", 0, 0)
            obj = prettyForm.__mul__(*forms)
            return prettyForm("-" + obj.s, obj.baseline, obj.binding) if negone else obj
        num, den = [], []
        factors = product.as_ordered_factors() if self.order not in ("old", "none") else args
        for f in factors:
            if f.is_commutative and f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                den.append(sp.Pow(f.base, -f.exp, evaluate=f.exp == -1))
            elif f.is_Rational and f is not sp.S.Infinity:
                num += [sp.Rational(f.p)] if f.p != 1 else []
                den += [sp.Rational(f.q)] if f.q != 1 else []
            else:
                num.append(f)
        num = [self._print(f) for f in num] or [self._print(sp.S.One)]
        if not den:
            return prettyForm.__mul__(*num)
        return prettyForm.__mul__(*num) / prettyForm.__mul__(*[self._print(f) for f in den])

    # ASCII output: names written in unicode (z², δ¹, ℓ, KL(p‖q)) are spelled in ASCII, and
    # the Kronecker delta is delta(i, j) (SymPy's "d" would read as a differential).
    def _print_Symbol(self, e, bold_name=False):
        if not self._use_unicode and not e.name.isascii():
            e = sp.Symbol(ascii_name(e.name))
        if not self._use_unicode and e.name.startswith("lamda"):  # SymPy's name for λ
            e = sp.Symbol("lambda" + e.name[5:])
        return super()._print_Symbol(e, bold_name)

    def _print_Function(self, e, sort=False, func_name=None, left="(", right=")"):
        if not self._use_unicode and func_name is not None and not func_name.isascii():
            func_name = ascii_name(func_name)
        return super()._print_Function(e, sort=sort, func_name=func_name, left=left, right=right)

    def _print_Indexed(self, e):
        # SymPy prints z[i] by str(): yhat[k] next to the ŷ of the symbol table, and z²[m]
        # in ASCII output. The base is printed as its symbol is (ŷ, x̂; z2 in ASCII).
        base = self._print(e.base.label).render(wrap_line=False)
        if "\n" in base:
            return self.emptyPrinter(e)
        return prettyForm(base + "[" + ", ".join(
            self._print(i).render(wrap_line=False) for i in e.indices) + "]")

    def _print_KroneckerDelta(self, e):
        if self._use_unicode:
            return super()._print_KroneckerDelta(e)
        return self._print_Function(e, func_name="delta")

    def _print_Derivative(self, e):
        if _is_partial(e):  # ∂L/∂ŷ on one line, not d/dŷ(L) on three
            d = "∂" if self._use_unicode else "d"
            name = lambda s: self._print(s).render(wrap_line=False)  # noqa: E731
            return prettyForm(f"{d}{name(e.expr)}/{d}{name(e.variables[0])}")
        return super()._print_Derivative(e)


class _Latex(LatexPrinter):
    """SymPy's LaTeX printer, with ∂L/∂x as a fraction of partials."""

    def _print_Derivative(self, e):
        if _is_partial(e):
            return r"\frac{\partial %s}{\partial %s}" % (self._print(e.expr),
                                                       self._print(e.variables[0]))
        return super()._print_Derivative(e)


def _latex(e) -> str:
    """LaTeX of ``e``, pure ASCII: SymPy passes unicode in symbol names (ℓ_j) through as is."""
    tex = _Latex().doprint(e)
    if tex.isascii():
        return tex
    return "".join(c if c.isascii() else "{%s}" % (_tex_char_math(c) or _ascii_math(c))
                   for c in tex)


def _ascii_math(c: str) -> str:
    return r"\text{%s}" % ascii_text(c).replace("\\", "").replace("{", "").replace("}", "")


@contextmanager
def _pretty_unicode(flag: bool):
    """Symbols and atoms consult SymPy's global unicode flag, not the printer's settings."""
    old = pretty_use_unicode(flag)
    try:
        yield
    finally:
        pretty_use_unicode(old)


def _width(s: str) -> int:
    return sum(1 for c in s if not unicodedata.combining(c))


class _Text:
    def __init__(self, unicode: bool, width: int):
        self.unicode, self.width = unicode, width
        self.printer = _Pretty({"use_unicode": unicode, "wrap_line": False})

    def prose(self, s: str) -> str:
        return s if self.unicode else ascii_text(s)

    def name(self, v: sp.Symbol) -> str:
        return self.printer._print(v).render(wrap_line=False)

    def lhs(self, lhs: sp.Expr) -> prettyForm:
        return self.printer._print(lhs)

    def equation(self, lhs, rhs: sp.Expr, indent: int) -> str:
        """``lhs = rhs``; a str ``lhs`` is printed as written (a kernel form's name)."""
        left = prettyForm(self.prose(lhs) if self.unicode else ascii_name(lhs)) \
            if isinstance(lhs, str) else self.lhs(lhs)
        form = prettyForm(*stringPict.next(left, " = ", self.printer._print(rhs)))
        text = form.render(wrap_line=True, num_columns=max(40, self.width - indent),
                           use_unicode=self.unicode)
        return "\n".join(" " * indent + line.rstrip() for line in text.split("\n"))


def _render_text(d: Derivation, variables, steps: bool, unicode: bool) -> str:
    with _pretty_unicode(unicode):
        return _text(d, variables, steps, unicode)


def _text(d: Derivation, variables, steps: bool, unicode: bool) -> str:
    t = _Text(unicode, shutil.get_terminal_size((100, 24)).columns)
    dash = "—" if unicode else "-"
    out = [t.prose(f"{d.name} {dash} {d.title}")]
    info = [f"group: {d.group}", "variables: " + ", ".join(t.name(v) for v in d.wrt)]
    if d.options:
        info.append("options: " + ", ".join(f"{k} = {v}" for k, v in d.options.items()))
    out.append(t.prose(" · ".join(info)) if unicode else ascii_text("; ".join(info)))
    if not steps:
        out += ["", t.equation(_quantity(d), d.expr, 4)]
    if d.symbols:
        out += ["", "Symbols"]
        names = {k: t.name(sp.Symbol(k)) for k in d.symbols}
        w = max(_width(n) for n in names.values())
        out += [f"  {names[k]}{' ' * (w - _width(names[k]))}  {t.prose(meaning)}"
                for k, meaning in d.symbols.items()]
    for v in variables:
        gl = _grad_lhs(d, v)
        if steps:
            out += ["", t.lhs(gl).render(wrap_line=False)]
            for i, s in enumerate(_steps(d, v), 1):
                label = _check_label(s, unicode)
                out.append(f"  {i}. {t.prose(s.rule)}" + (f"   {label}" if label else ""))
                out.append(t.equation(s.lhs, s.expr, 7))
            out.append("  Result:")
        else:
            out.append("")
        out.append(t.equation(gl, d.gradients[v], 4))
    if d.stable and steps:
        out += ["", "Stable forms (what generated kernels evaluate)"]
        # Named as the kernels name them: grad_output, not grad with the subscript "output".
        out += [t.equation(k, e, 4) for k, e in d.stable.items()]
    text = "\n".join(out) + "\n"
    # Anything SymPy still printed in unicode (a custom printing method): spelled in ASCII.
    return text if unicode or text.isascii() else ascii_text(text)


# --------------------------------------------------------------------------- LaTeX

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
                "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
# Unicode characters as math-mode LaTeX (placed between $...$ in prose).
_TEX_MATH = {
    "∂": r"\partial", "−": "-", "·": r"\cdot", "⋅": r"\cdot", "×": r"\times", "⊙": r"\odot",
    "∈": r"\in", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "→": r"\to",
    "←": r"\leftarrow", "⇒": r"\Rightarrow", "∞": r"\infty", "‖": r"\|", "√": r"\surd",
    "∇": r"\nabla", "²": "^{2}", "³": "^{3}", "ᵀ": "^{T}", "⁻": "^{-}", "¹": "^{1}",
    "₀": "_{0}", "₁": "_{1}", "₂": "_{2}", "ₗ": "_{l}", "✓": r"\checkmark", "ℝ": r"\mathbb{R}",
    "′": "'", "ℓ": r"\ell", "Σ": r"\Sigma", "ε": r"\varepsilon", "ϵ": r"\epsilon", "ς": r"\varsigma",
}
_TEX_PROSE = {"—": "---", "–": "--", "…": r"\ldots{}", "’": "'", "‘": "`", "“": "``", "”": "''",
              "\u00a0": "~"}
_TEX_ACCENTS = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0307": r"\dot",
                "\u0308": r"\ddot", "\u20d7": r"\vec"}
_GREEK_MACROS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                 "Psi", "Omega"}


def _tex_char_math(ch: str) -> str | None:
    """``ch`` as math-mode LaTeX, or None if it has no math form."""
    if ch in _TEX_MATH:
        return _TEX_MATH[ch]
    name = unicodedata.name(ch, "")
    for prefix, upper in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        if name.startswith(prefix) and " " not in name[len(prefix):]:
            letter = name[len(prefix):].lower()
            if letter == "omicron":
                return "O" if upper else "o"
            if upper:
                cap = letter.capitalize()
                return "\\" + cap if cap in _GREEK_MACROS else unicodedata.normalize("NFKD", ch)
            return "\\" + {"lamda": "lambda"}.get(letter, letter)
    parts = unicodedata.normalize("NFD", ch)
    if len(parts) == 2 and parts[1] in _TEX_ACCENTS and parts[0].isascii():
        return "%s{%s}" % (_TEX_ACCENTS[parts[1]], parts[0])
    return None


def _continues_math(s: str, i: int) -> bool:
    rest = s[i:].lstrip(" ")
    return bool(rest) and not rest[0].isascii() and _tex_char_math(rest[0]) is not None


def _tex_text(s: str) -> str:
    """Prose for LaTeX text mode: specials escaped, unicode math as $...$, pure ASCII."""
    out, math = [], []

    def flush():
        if math:
            out.append("$" + " ".join(math) + "$")
            math.clear()

    for i, ch in enumerate(s):
        m = None if ch.isascii() else _tex_char_math(ch)
        if m is not None:
            math.append(m)
            continue
        if ch == " " and math and _continues_math(s, i):
            continue  # "ŷ ∈ ℝ" is one formula, $\hat{y} \in \mathbb{R}$
        flush()
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch.isascii():
            out.append(ch)
        elif ch in _TEX_PROSE:
            out.append(_TEX_PROSE[ch])
        else:
            out.append(_tex_text(ascii_text(ch)))
    flush()
    return "".join(out)




def _check_tex(s: Step) -> str:
    if s.check == PROVED:
        return r"\quad($\checkmark$ proved)"
    if s.check == NUMERIC:
        return r"\quad($\approx$ checked numerically%s)" % (
            ": " + _tex_text(s.note) if s.note else "")
    return ""


def _render_latex(d: Derivation, variables, steps: bool, unicode: bool) -> str:
    out = [r"\documentclass[11pt]{article}", r"\usepackage[T1]{fontenc}",
           r"\usepackage{amsmath,amssymb}", r"\allowdisplaybreaks", r"\begin{document}",
           r"\section*{%s}" % _tex_text(f"{d.name}: {d.title}")]
    info = [r"Group: %s." % _tex_text(d.group),
            "Variables: " + ", ".join("$%s$" % _latex(v) for v in d.wrt) + "."]
    if d.options:
        info.append("Options: " + ", ".join(r"\texttt{%s} = %s" % (_tex_text(k), _tex_text(str(v)))
                                            for k, v in d.options.items()) + ".")
    out.append(r"\noindent " + " ".join(info))
    out += [r"\begin{align*}", r"%s &= %s" % (_latex(_quantity(d)), _latex(d.expr)),
            r"\end{align*}"]
    if d.symbols:
        out += [r"\subsection*{Symbols}", r"\begin{tabular}{ll}"]
        out += [r"$%s$ & %s \\" % (_latex(sp.Symbol(k)), _tex_text(m)) for k, m in d.symbols.items()]
        out.append(r"\end{tabular}")
    for v in variables:
        gl = _grad_lhs(d, v)
        if steps:
            out += [r"\subsection*{$%s$}" % _latex(gl), r"\begin{align*}"]
            rows = []
            for i, s in enumerate(_steps(d, v), 1):
                rows.append(r"&\text{%d. %s%s}" % (i, _tex_text(s.rule), _check_tex(s)))
                rows.append(r"%s &= %s" % (_latex(s.lhs), _latex(s.expr)))
            out.append(" \\\\\n".join(rows))
            out.append(r"\end{align*}")
    out += [r"\subsection*{Result}", r"\begin{align*}"]
    out.append(" \\\\\n".join(r"%s &= %s" % (_latex(_grad_lhs(d, v)), _latex(d.gradients[v]))
                              for v in variables))
    out.append(r"\end{align*}")
    if d.stable and steps:
        out += [r"\subsection*{Stable forms (what generated kernels evaluate)}", r"\begin{align*}"]
        out.append(" \\\\\n".join(r"\text{%s} &= %s" % (_tex_text(k), _latex(e))
                                  for k, e in d.stable.items()))
        out.append(r"\end{align*}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = set("\\`*_[]<>|$#")


def _md_text(s: str, unicode: bool) -> str:
    s = s if unicode else ascii_text(s)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in s)


def _render_markdown(d: Derivation, variables, steps: bool, unicode: bool) -> str:
    sep = " · " if unicode else "; "
    out = [f"### {_md_text(d.name, unicode)}: {_md_text(d.title, unicode)}", ""]
    info = [f"*group:* {_md_text(d.group, unicode)}",
            "*variables:* " + ", ".join(f"${_latex(v)}$" for v in d.wrt)]
    if d.options:
        info.append("*options:* " + ", ".join(f"`{k} = {v}`" for k, v in d.options.items()))
    out += [sep.join(info), "", f"$${_latex(_quantity(d))} = {_latex(d.expr)}$$", ""]
    if d.symbols:
        out += ["| symbol | meaning |", "|---|---|"]
        out += [f"| ${_latex(sp.Symbol(k))}$ | {_md_text(m, unicode)} |" for k, m in d.symbols.items()]
        out.append("")
    for v in variables:
        gl = _grad_lhs(d, v)
        out += [f"#### ${_latex(gl)}$", ""]
        if steps:
            for i, s in enumerate(_steps(d, v), 1):
                label = _check_label(s, unicode)
                out += [f"**{i}.** {_md_text(s.rule, unicode)}"
                        + (f"{sep}{_md_text(label, unicode)}" if label else ""), "",
                        f"$${_latex(s.lhs)} = {_latex(s.expr)}$$", ""]
            out += ["**Result**", ""]
        out += [f"$${_latex(gl)} = {_latex(d.gradients[v])}$$", ""]
    if d.stable and steps:
        out += ["#### Stable forms (what generated kernels evaluate)", ""]
        out += [f"$$\\text{{{_mathjax_text(k)}}} = {_latex(e)}$$" + "\n" for k, e in d.stable.items()]
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- JSON


def _both(e: sp.Expr) -> dict:
    return {"str": sp.sstr(e), "latex": _latex(e)}


def _json_steps(d: Derivation, v: sp.Symbol) -> list[dict]:
    return [{"rule": s.rule, "expr": sp.sstr(s.expr), "latex": _latex(s.expr),
             "lhs": sp.sstr(s.lhs), "lhs_latex": _latex(s.lhs), "check": s.check,
             "note": s.note} for s in _steps(d, v)]


def _render_json(d: Derivation, variables, steps: bool, unicode: bool) -> str:
    gradients = [{"wrt": str(v), "result": {**_both(d.gradients[v]),
                                            "lhs": sp.sstr(_grad_lhs(d, v)),
                                            "lhs_latex": _latex(_grad_lhs(d, v))},
                  "steps": _json_steps(d, v) if steps else []} for v in variables]
    data = {
        "format_version": JSON_FORMAT_VERSION,
        "name": d.name,
        "title": d.title,
        "group": d.group,
        "quantity": _both(_quantity(d)),
        "expr": _both(d.expr),
        "variables": [str(v) for v in d.wrt],
        # The first (or the selected) variable; `gradients` holds every rendered one alike.
        "wrt": gradients[0]["wrt"],
        "result": gradients[0]["result"],
        "steps": gradients[0]["steps"],
        "gradients": gradients,
        "options": dict(d.options),
        "symbols": dict(d.symbols),
        "stable": {k: _both(e) for k, e in d.stable.items()},
    }
    return json.dumps(data, indent=2, ensure_ascii=not unicode, default=str) + "\n"


_RENDERERS = {"text": _render_text, "latex": _render_latex, "markdown": _render_markdown,
              "json": _render_json}
