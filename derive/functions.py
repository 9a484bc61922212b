"""SymPy functions of neural networks that carry their own derivative and rewrite rules.

Each class knows its derivative (``fdiff``), how to rewrite itself in elementary terms
(``rewrite(exp)``), its stable form for kernels (``rewrite("stable")``) and how it prints,
so a derivation reads ``σ(z) − y`` instead of a tangle of exponentials.
Kink conventions follow PyTorch: relu'(0) = 0, leaky_relu'(0) = negative_slope.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p


class _NamedFunction(sp.Function):
    """A one-argument function that prints under a short mathematical name."""

    pretty_name: str = ""
    latex_name: str = ""

    def _pretty(self, printer):
        name = self.pretty_name if printer._use_unicode else ""  # ASCII output stays ASCII
        name = name or type(self).__name__
        if "_" not in name:
            return printer._print_Function(self, func_name=name)
        # As written: SymPy would print leaky_relu as "leaky" with the subscript "relu".
        from sympy.printing.pretty.stringpict import prettyForm

        head, args = prettyForm(name), printer._print_seq(self.args, "(", ")")
        form = prettyForm(*args.left(head), binding=prettyForm.FUNC)
        form.prettyFunc, form.prettyArgs = head, args  # what SymPy's powers of functions use
        return form

    def _eval_evalf(self, prec):
        elementary = to_elementary(self)
        if elementary != self:
            return elementary.evalf(prec)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        head = self.latex_name or r"\operatorname{%s}" % type(self).__name__
        tex = r"%s\left(%s\right)" % (head, args)
        return r"%s^{%s}" % (tex, exp) if exp is not None else tex


class sigmoid(_NamedFunction):
    """σ(x) = 1 / (1 + e^(−x)); σ' = σ(1 − σ)."""

    pretty_name = "σ"
    latex_name = r"\sigma"

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Rational(1, 2)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_rewrite_as_stable(self, x, **kwargs):
        # Only exp(−|x|) ≤ 1 is ever evaluated, so nothing overflows.
        e = sp.exp(-sp.Abs(x))
        return sp.Piecewise((1 / (1 + e), x >= 0), (e / (1 + e), True))

    def _eval_is_real(self):
        return self.args[0].is_real


class softplus(_NamedFunction):
    """softplus(x) = log(1 + e^x); softplus' = σ."""

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    _eval_rewrite_as_exp = _eval_rewrite_as_log

    def _eval_rewrite_as_stable(self, x, **kwargs):
        # log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)): no overflow, no cancellation.
        return sp.Max(x, 0) + log1p(sp.exp(-sp.Abs(x)))

    def _eval_is_real(self):
        return self.args[0].is_real


class relu(_NamedFunction):
    """relu(x) = max(x, 0); relu'(x) = 1 for x > 0, else 0 (PyTorch's relu'(0) = 0)."""

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((x, x > 0), (0, True))

    _eval_rewrite_as_stable = _eval_rewrite_as_Piecewise

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(x, 0)

    def _eval_is_real(self):
        return self.args[0].is_real


class leaky_relu(_NamedFunction):
    """leaky_relu(x, a) = x for x > 0, a·x otherwise; derivative 1 or a (a at 0, as PyTorch)."""

    nargs = 2
    latex_name = r"\operatorname{leaky\_relu}"  # a bare _ would subscript in LaTeX

    def fdiff(self, argindex=1):
        x, a = self.args
        if argindex == 1:
            return sp.Piecewise((1, x > 0), (a, True))
        return sp.Piecewise((0, x > 0), (x, True))

    def _eval_rewrite_as_Piecewise(self, x, a, **kwargs):
        return sp.Piecewise((x, x > 0), (a * x, True))

    _eval_rewrite_as_stable = _eval_rewrite_as_Piecewise

    def _eval_is_real(self):
        return self.args[0].is_real


def to_elementary(expr: sp.Expr, deep: bool = True) -> sp.Expr:
    """Rewrite every custom function above in exp/log/Piecewise terms (for proofs).

    ``deep=False`` leaves the functions' arguments as they are: ``rewrite(exp)`` would also
    turn tan(w) inside σ(tan(w)) into complex exponentials, whose tiny imaginary parts leave
    a Piecewise condition (leaky_relu's) undecided when the expression is evaluated."""
    return expr.replace(
        lambda e: isinstance(e, (sigmoid, softplus)), lambda e: e.rewrite(sp.exp, deep=deep)
    ).replace(
        lambda e: isinstance(e, (relu, leaky_relu)), lambda e: e.rewrite(sp.Piecewise, deep=deep)
    )


def to_stable(expr: sp.Expr) -> sp.Expr:
    """Rewrite the custom functions into the overflow-free forms kernels evaluate."""
    return expr.replace(
        lambda e: isinstance(e, (sigmoid, softplus, relu, leaky_relu)),
        lambda e: e.rewrite("stable"),
    )


#: Names a user may call in ``--expr`` strings, besides SymPy's elementary functions.
CUSTOM_FUNCTIONS = {
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "log1p": log1p,
}
