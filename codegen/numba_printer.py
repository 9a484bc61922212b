"""Print SymPy expressions as Numba (``@numba.njit``) Python source, float32- or float64-exact.

API (other generators import this):

- ``NumbaPrinter(dtype="float32" | "float64", *, mathlib=None, symbol_names=None)``
  ``.doprint(expr)`` -> one Python expression (a string) for use inside an njit kernel.
  ``.constants`` -> {name: literal} of the float32 constants the printed code uses; emit them at
  module level with ``.constant_lines()`` (they are module globals, which Numba freezes as typed
  constants, so nothing in a float32 loop is promoted to float64).
  ``.mathlib_used`` -> True once a mathlib function (exp_f32, ...) was printed; the module must
  then embed ``codegen.numba_mathlib.MATHLIB_SOURCE``.
- ``print_cse_block(exprs, dtype, indent="    ", *, printer=None, temp_prefix="t",
  annotate=None) -> (lines, names)``: runs ``sympy.cse`` over ``exprs`` (a dict output name ->
  expression) and prints one assignment per line (temporaries first, then each output);
  ``names`` lists every variable assigned, in order. Pass your own ``printer`` to collect its
  constants; ``annotate(expr, resolve) -> str | None`` adds a trailing comment to a line
  (``resolve(e)`` expands the CSE temporaries in ``e`` back to the source expression).
- ``constant_lines(*printers)`` merges the constant definitions of several printers.
- ``PrintError``: raised for any node without a print rule, naming the backend and the node.

Rules: a printer only prints the node classes it has a ``_print_<Class>`` method for (looked up
along the node's MRO, but only among the methods this module defines: nothing falls back to
SymPy's generic string printing). Functions go through a table (``FUNCTIONS``); exp/log/log1p/tanh map
to the vectorizable mathlib versions (``MATHLIB_FUNCTIONS``) when ``mathlib`` is on (default:
on when ``codegen.numba_mathlib`` is importable), else to ``math.*``. Numerical conventions:
``Piecewise`` prints as nested conditional expressions (LLVM turns them into selects, so loops
still vectorize); ``Max``/``Min`` propagate a NaN argument; ``sign(0) = 0``, ``sign(NaN) = NaN``;
``Heaviside(x, h0)`` is ``h0`` at 0 and NaN at NaN.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Callable, Mapping

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pycode import PythonCodePrinter

BACKEND = "numba"
DTYPES = ("float32", "float64")

#: Function name -> Numba source name (math.* works for float32 and float64 arguments).
FUNCTIONS: dict[str, str] = {
    "exp": "math.exp",
    "log": "math.log",
    "log1p": "math.log1p",
    "expm1": "math.expm1",
    "sqrt": "math.sqrt",
    "tanh": "math.tanh",
    "sinh": "math.sinh",
    "cosh": "math.cosh",
    "sin": "math.sin",
    "cos": "math.cos",
    "erf": "math.erf",
}


class PrintError(NotImplementedError):
    """An expression node the Numba printer has no rule for."""


def _default_mathlib() -> dict:
    try:
        from codegen.numba_mathlib import MATHLIB_FUNCTIONS
    except ImportError:  # the mathlib is optional: math.* is correct, only slower
        return {}
    return dict(MATHLIB_FUNCTIONS)


def _slug(value: float) -> str:
    text = repr(float(value)).upper()
    for old, new in (("E-", "EM"), ("E+", "E"), ("-", "M"), (".", "P")):
        text = text.replace(old, new)
    return text


class NumbaPrinter(PythonCodePrinter):
    """SymPy → Numba source for one dtype; strict (see the module docstring)."""

    printmethod = "_numbacode"
    language = "Numba"

    def __init__(self, dtype: str = "float64", settings: dict | None = None, *,
                 mathlib: bool | Mapping | None = None,
                 symbol_names: Mapping | None = None):
        if dtype not in DTYPES:
            raise ValueError(f"dtype={dtype!r}: the Numba printer supports {', '.join(DTYPES)}")
        super().__init__(dict(settings or {}))
        self.dtype = dtype
        if mathlib is None or mathlib is True:
            table = _default_mathlib()
            if mathlib is True and not table:
                raise ImportError("mathlib=True but codegen.numba_mathlib is not available")
        elif mathlib is False:
            table = {}
        else:
            table = dict(mathlib)
        self.mathlib = {f: n for (f, dt), n in table.items() if dt == dtype}
        self.mathlib_used = False
        self.symbol_names = {str(k): v for k, v in (symbol_names or {}).items()}
        self.constants: dict[str, str] = {}
        self._rules = {name for klass in type(self).__mro__
                       if issubclass(klass, NumbaPrinter) for name in vars(klass)
                       if name.startswith("_print_")}

    # ------------------------------------------------------------------ entry points

    def doprint(self, expr, assign_to=None) -> str:
        code = self._print(sp.sympify(expr))
        if self.dtype == "float32":
            self._check_no_literals(code, expr)
        return f"{assign_to} = {code}" if assign_to is not None else code

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, str):
            return expr
        for klass in type(expr).__mro__:
            method = "_print_" + klass.__name__
            if method in self._rules:
                return getattr(self, method)(expr, **kwargs)
        self._print_not_supported(expr)

    def _print_not_supported(self, expr):
        raise PrintError(f"{BACKEND} backend ({self.dtype}): no print rule for "
                         f"{type(expr).__name__} node {sp.sstr(expr)!r}")

    emptyPrinter = _print_not_supported

    def _check_no_literals(self, code: str, expr) -> None:
        # A bare number in a float32 kernel is an int64/float64 that promotes the arithmetic.
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        bare = [t.string for t in tokens if t.type == tokenize.NUMBER]
        if bare:
            raise PrintError(f"{BACKEND} backend (float32): literal(s) {bare} would promote "
                             f"to float64 in {sp.sstr(expr)!r}")

    # ------------------------------------------------------------------ constants

    def constant(self, value) -> str:
        """The source for a numeric constant in this dtype (a typed global for float32)."""
        value = float(value)
        if self.dtype == "float64":
            if value != value:
                return "math.nan"
            if value in (float("inf"), float("-inf")):
                return "math.inf" if value > 0 else "(-math.inf)"
            text = repr(value)
            return f"({text})" if value < 0 else text
        name = "_F32_" + _slug(value)
        literal = repr(value) if value == value and abs(value) != float("inf") else \
            {"nan": "np.nan", "inf": "np.inf", "-inf": "-np.inf"}[repr(value)]
        self.constants[name] = f"np.float32({literal})"
        return name

    def constant_lines(self) -> list[str]:
        return [f"{name} = {value}" for name, value in sorted(self.constants.items())]

    # ------------------------------------------------------------------ atoms

    def _print_Symbol(self, expr, **kw):
        name = str(expr)
        return self.symbol_names.get(name, name)

    def _print_Integer(self, expr, **kw):
        return self.constant(int(expr))

    def _print_Rational(self, expr, **kw):
        if expr.q == 1:
            return self.constant(expr.p)
        if expr.q & (expr.q - 1) == 0:  # a power of two: the float is exact
            return self.constant(float(expr))
        return f"({self.constant(expr.p)}/{self.constant(expr.q)})"

    def _print_Float(self, expr, **kw):
        return self.constant(float(expr))

    def _print_NaN(self, expr, **kw):
        return self.constant(float("nan"))

    def _print_Infinity(self, expr, **kw):
        return self.constant(float("inf"))

    def _print_NegativeInfinity(self, expr, **kw):
        return self.constant(float("-inf"))

    def _print_BooleanTrue(self, expr, **kw):
        return "True"

    def _print_BooleanFalse(self, expr, **kw):
        return "False"

    # ------------------------------------------------------------------ arithmetic

    def _paren(self, expr, level) -> str:
        code = self._print(expr)
        return f"({code})" if precedence(expr) < level else code

    def _print_Add(self, expr, **kw):
        terms = self._as_ordered_terms(expr, order=None)
        out = []
        for k, term in enumerate(terms):
            if term.could_extract_minus_sign():
                code, sign = self._paren(-term, PRECEDENCE["Add"] + 1), " - "
            else:
                code, sign = self._paren(term, PRECEDENCE["Add"]), " + "
            out.append(("-" + code if sign == " - " else code) if k == 0 else sign + code)
        return "".join(out)

    def _print_Mul(self, expr, **kw):
        if expr.could_extract_minus_sign():
            return "-" + self._paren(-expr, PRECEDENCE["Mul"] + 1)
        coeff, rest = expr.as_coeff_Mul()
        num, den = [], []
        if coeff != 1:
            if isinstance(coeff, sp.Rational) and coeff.q != 1 and coeff.q & (coeff.q - 1):
                den.append(sp.Integer(coeff.q))
                if coeff.p != 1:
                    num.append(sp.Integer(coeff.p))
            else:
                num.append(coeff)
        for factor in sp.Mul.make_args(rest):
            if (isinstance(factor, sp.Pow) and factor.exp.is_Rational and factor.exp < 0):
                den.append(sp.Pow(factor.base, -factor.exp))
            else:
                num.append(factor)
        level = PRECEDENCE["Mul"]
        num_code = "*".join(self._paren(f, level) for f in num) if num else self.constant(1)
        if not den:
            return num_code
        if len(den) == 1:
            den_code = self._paren(den[0], level + 1)
        else:
            den_code = "(" + "*".join(self._paren(f, level) for f in den) + ")"
        return f"{num_code}/{den_code}"

    def _print_Pow(self, expr, **kw):
        base, e = expr.args
        level = PRECEDENCE["Mul"]
        if e.is_Integer and 1 <= abs(int(e)) <= 4:
            b = self._paren(base, level + 1)
            prod = "*".join([b] * abs(int(e)))
            if e > 0:
                return f"({prod})" if int(e) > 1 else prod
            return f"({self.constant(1)}/{prod if int(e) == -1 else '(' + prod + ')'})"
        if e == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        if e == sp.Rational(-1, 2):
            return f"({self.constant(1)}/math.sqrt({self._print(base)}))"
        return f"({self._paren(base, PRECEDENCE['Pow'] + 1)} ** {self._paren(e, PRECEDENCE['Pow'] + 1)})"

    # ------------------------------------------------------------------ functions

    def _function(self, name: str, args) -> str:
        if name in self.mathlib:
            self.mathlib_used = True
            head = self.mathlib[name]
        elif name in FUNCTIONS:
            head = FUNCTIONS[name]
        else:
            raise PrintError(f"{BACKEND} backend ({self.dtype}): no function table entry "
                             f"for {name!r}")
        return f"{head}({', '.join(self._print(a) for a in args)})"

    def _print_Function(self, expr, **kw):
        name = type(expr).__name__
        if name not in FUNCTIONS and name not in self.mathlib:
            self._print_not_supported(expr)
        return self._function(name, expr.args)

    def _print_exp(self, expr, **kw):
        return self._function("exp", expr.args)

    def _print_log(self, expr, **kw):
        if len(expr.args) != 1:
            self._print_not_supported(expr)
        return self._function("log", expr.args)

    def _print_log1p(self, expr, **kw):
        return self._function("log1p", expr.args)

    def _print_Abs(self, expr, **kw):
        return f"abs({self._print(expr.args[0])})"

    def _print_sign(self, expr, **kw):
        x = self._print(expr.args[0])
        zero, one, m1 = self.constant(0), self.constant(1), self.constant(-1)
        # 0 at 0 (PyTorch's convention), NaN at NaN.
        return f"({one} if {x} > {zero} else ({m1} if {x} < {zero} else {x}))"

    def _print_Heaviside(self, expr, **kw):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        zero, one = self.constant(0), self.constant(1)
        if h0 == 0:
            return f"({one} if {x} > {zero} else ({zero} if {x} <= {zero} else {x}))"
        at0 = self._print(h0)
        return (f"({one} if {x} > {zero} else ({at0} if {x} == {zero} else "
                f"({zero} if {x} < {zero} else {x})))")

    def _minmax(self, expr, op: str) -> str:
        # Constants go last, so ``(c if c op x else x)`` keeps a NaN x; two variables use a
        # NaN check on the first one (a self-comparison: kept, since fastmath never has nnan).
        args = sorted(expr.args, key=lambda a: a.is_number)
        code = self._print(args[0])
        for arg in args[1:]:
            other = self._print(arg)
            if arg.is_number:
                code = f"({other} if {other} {op} {code} else {code})"
            else:
                code = f"({code} if ({code} {op} {other}) | ({code} != {code}) else {other})"
        return code

    def _print_Max(self, expr, **kw):
        return self._minmax(expr, ">")

    def _print_Min(self, expr, **kw):
        return self._minmax(expr, "<")

    # ------------------------------------------------------------------ logic

    def _print_Piecewise(self, expr, **kw):
        pieces = list(expr.args)
        if pieces[-1].cond == sp.true:
            code = self._print(pieces.pop().expr)
        else:
            code = self.constant(float("nan"))  # no piece applies: undefined
        for e, c in reversed(pieces):
            code = f"({self._print(e)} if {self._print(c)} else {code})"
        return code

    def _print_Relational(self, expr, **kw):
        ops = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        if expr.rel_op not in ops:
            self._print_not_supported(expr)
        return f"({self._print(expr.lhs)} {ops[expr.rel_op]} {self._print(expr.rhs)})"

    def _print_And(self, expr, **kw):
        return "(" + " & ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr, **kw):
        return "(" + " | ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr, **kw):
        return f"(not {self._print(expr.args[0])})"


def constant_lines(*printers: NumbaPrinter) -> list[str]:
    """Module-level definitions of every constant the printers used (merged, sorted)."""
    merged: dict[str, str] = {}
    for p in printers:
        merged.update(p.constants)
    return [f"{name} = {value}" for name, value in sorted(merged.items())]


def print_cse_block(exprs: Mapping[str, sp.Expr], dtype: str = "float64", indent: str = "    ",
                    *, printer: NumbaPrinter | None = None, temp_prefix: str = "t",
                    annotate: Callable[[sp.Expr, Callable], str | None] | None = None
                    ) -> tuple[list[str], list[str]]:
    """Assignments computing every output of ``exprs`` with common subexpressions shared.

    Returns ``(lines, names)``: the source lines (each starting with ``indent``) and every
    variable they assign, temporaries first. Outputs are assigned under their dict keys.
    """
    printer = printer or NumbaPrinter(dtype)
    if printer.dtype != dtype:
        raise ValueError(f"printer dtype {printer.dtype} != dtype {dtype}")
    keys = list(exprs)
    clash = [k for k in keys if re.fullmatch(re.escape(temp_prefix) + r"\d+", k)]
    if clash:
        raise ValueError(f"output names {clash} clash with temp_prefix {temp_prefix!r}")
    temps, reduced = sp.cse([sp.sympify(exprs[k]) for k in keys],
                            symbols=sp.numbered_symbols(temp_prefix, real=True), order="none")
    lines, names = [], []
    definitions = {}

    def resolve(e):
        return e.xreplace(definitions)

    def emit(name, expr):
        code = printer.doprint(expr)
        note = annotate(expr, resolve) if annotate else None
        lines.append(f"{indent}{name} = {code}" + (f"  # {note}" if note else ""))
        names.append(name)

    for sym, expr in temps:
        emit(str(sym), expr)
        definitions[sym] = resolve(expr)
    for key, expr in zip(keys, reduced):
        emit(key, expr)
    return lines, names
