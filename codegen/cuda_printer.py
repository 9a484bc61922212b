"""CUDA C printer: SymPy's C99 printer with float/double kernels, ternaries and strict errors.

Only what differs from C99 is overridden:

- ``dtype="float"`` kernels print ``f``-suffixed literals and the float functions (``expf``,
  ``log1pf``, ``fabsf``, ...) so nothing is promoted to double; ``dtype="double"`` the double ones.
- ``Piecewise`` becomes nested ternaries on one line; integer powers become products.
- ``Max``/``Min``/``sign``/``Heaviside(x, 0)`` call small helpers (:data:`HELPERS`) with NumPy's
  NaN semantics (``np.maximum``, ``np.sign``, ``np.heaviside``): NaN in gives NaN out, which
  ``fmaxf`` and ``(x > 0) - (x < 0)`` would silently drop.
- Strict: a node without a CUDA translation raises :class:`CudaPrintError` naming the node.

:func:`device_function` prints a set of named expressions as one ``__host__ __device__ inline``
function with common subexpressions hoisted (``sympy.cse``), so the same text compiles for the
GPU (NVRTC) and for the host (any C++ compiler, for the CPU checks of the math).
"""
from __future__ import annotations

import struct
from typing import Mapping, Sequence

import sympy as sp
from sympy.codegen.ast import float32, float64, real
from sympy.printing.c import C99CodePrinter
from sympy.printing.codeprinter import PrintMethodNotImplementedError

BACKEND = "cuda"
CTYPE = {"float": "float", "double": "double"}
SUFFIX = {"float": "f", "double": ""}  # function-name suffix of each dtype (expf / exp)


class CudaPrintError(NotImplementedError):
    """An expression node the CUDA backend cannot print (never falls back to ``str``)."""

    def __init__(self, node: sp.Basic, why: str = "no CUDA translation"):
        self.node = node
        super().__init__(f"{BACKEND} backend cannot print {type(node).__name__} node "
                         f"{sp.sstr(node)!s}: {why}")


# NaN-propagating helpers the printer calls, one per dtype (suffix f for float, as in C math).
HELPERS = r"""
// NaN-propagating max/min/sign/heaviside (NumPy semantics; fmax/fmin would drop a NaN).
__host__ __device__ inline float dc_maxf(float a, float b) { return (a > b || a != a) ? a : b; }
__host__ __device__ inline double dc_max(double a, double b) { return (a > b || a != a) ? a : b; }
__host__ __device__ inline float dc_minf(float a, float b) { return (a < b || a != a) ? a : b; }
__host__ __device__ inline double dc_min(double a, double b) { return (a < b || a != a) ? a : b; }
__host__ __device__ inline float dc_signf(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x * 0.0f); }
__host__ __device__ inline double dc_sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x * 0.0); }
// Heaviside(x, 0): 1 for x > 0, 0 for x <= 0 (relu'(0) = 0, as PyTorch), NaN for NaN.
__host__ __device__ inline float dc_heavisidef(float x) { return x > 0.0f ? 1.0f : (x <= 0.0f ? 0.0f : x); }
__host__ __device__ inline double dc_heaviside(double x) { return x > 0.0 ? 1.0 : (x <= 0.0 ? 0.0 : x); }
"""


class CudaCodePrinter(C99CodePrinter):
    """C99 printer for CUDA device code; ``dtype`` is ``"float"`` or ``"double"``."""

    printmethod = "_cudacode"
    language = "CUDA"
    _default_settings = {**C99CodePrinter._default_settings, "dtype": "float"}

    def __init__(self, settings=None):
        settings = dict(settings or {})
        dtype = settings.setdefault("dtype", "float")
        if dtype not in CTYPE:
            raise ValueError(f"dtype must be 'float' or 'double', got {dtype!r}")
        settings.setdefault("type_aliases", {real: float32 if dtype == "float" else float64})
        settings.setdefault("math_macros", {})  # M_PI and friends are double: print literals
        settings["strict"] = True
        super().__init__(settings)
        self.dtype = dtype
        self.ctype = CTYPE[dtype]
        self.fsuffix = SUFFIX[dtype]

    # ------------------------------------------------------------------ strictness
    #: SymPy's text-form (StrPrinter) rules that are also C: any other one (Sum, I, ...) would
    #: write SymPy's text into the kernel.
    _STR_RULES_THAT_ARE_C = frozenset({"Add", "Integer", "Zero", "One", "NegativeOne"})

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Basic):
            for cls in type(expr).__mro__:
                method = getattr(self, "_print_" + cls.__name__, None)
                if method is not None:
                    owner = getattr(method, "__func__", method).__qualname__.split(".")[0]
                    if owner == "StrPrinter" and cls.__name__ not in self._STR_RULES_THAT_ARE_C:
                        raise CudaPrintError(expr)
                    break
        try:
            return super()._print(expr, **kwargs)
        except PrintMethodNotImplementedError:  # SymPy's own refusal (Integral, Derivative)
            raise CudaPrintError(expr) from None
    def _print_not_supported(self, expr):
        raise CudaPrintError(expr)

    def emptyPrinter(self, expr):
        raise CudaPrintError(expr, "no _print method")

    def _print_Function(self, expr):
        if type(expr).__name__ not in self.known_functions:
            raise CudaPrintError(expr, "unknown function (rewrite it to its stable form first)")
        return super()._print_Function(expr)

    # ------------------------------------------------------------------ literals
    def literal(self, value: float) -> str:
        """A floating literal of this dtype: shortest text that rounds to the same value."""
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            raise CudaPrintError(sp.Float(v), "non-finite literal")
        if self.dtype == "float":
            v32 = struct.unpack("f", struct.pack("f", v))[0]
            if v32 in (float("inf"), float("-inf")):
                raise CudaPrintError(sp.Float(v), "literal overflows float")
            text = next(t for t in (f"{v32:.{d}g}" for d in range(1, 10))
                        if struct.unpack("f", struct.pack("f", float(t)))[0] == v32)
        else:
            text = repr(v)
        if "e" not in text and "." not in text and "inf" not in text:
            text += ".0"
        return text + ("f" if self.dtype == "float" else "")

    def _print_Float(self, expr):
        return self.literal(float(expr))

    def _print_Rational(self, expr):
        return self.literal(float(expr))

    def _print_Half(self, expr):
        return self.literal(0.5)

    def _print_NumberSymbol(self, expr):  # pi, E, ... as literals of this dtype
        return self.literal(float(expr.evalf(20)))

    _print_Exp1 = _print_Pi = _print_NumberSymbol

    def _print_Infinity(self, expr):
        raise CudaPrintError(expr, "non-finite literal")

    _print_NegativeInfinity = _print_ComplexInfinity = _print_NaN = _print_Infinity

    # ------------------------------------------------------------------ operators
    def _print_Pow(self, expr):
        base, e = expr.args
        if e.is_Integer and 1 <= abs(int(e)) <= 4:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"] + 1)
            prod = "*".join([b] * abs(int(e)))
            if e > 0:
                return prod
            return f"{self.literal(1.0)}/{prod if abs(int(e)) == 1 else '(' + prod + ')'}"
        return super()._print_Pow(expr)

    def _print_Mul(self, expr):
        # A lone denominator is written by its precedence (Pow's) without parentheses, but an
        # integer power prints as the product b*b above: x/b*b would mean (x/b)*b.
        dens = [f for f in expr.args if f.is_Pow and f.exp.is_Rational and f.exp.is_negative]
        if len(dens) == 1 and dens[0].exp.is_Integer and -4 <= dens[0].exp <= -2:
            num = sp.Mul(*[f for f in expr.args if f is not dens[0]])
            top = self._print(num) if num.is_Mul else self.parenthesize(
                num, sp.printing.precedence.PRECEDENCE["Mul"])
            return f"{top}/({self._print(1 / dens[0])})"
        return super()._print_Mul(expr)

    def _print_Piecewise(self, expr):
        if expr.args[-1].cond != True:  # noqa: E712  (SymPy's true)
            raise CudaPrintError(expr, "Piecewise without a default (True) branch")
        text = f"({self._print(expr.args[-1].expr)})"
        for e, c in reversed(expr.args[:-1]):
            text = f"(({self._print(c)}) ? ({self._print(e)}) : {text})"
        return text

    def _helper(self, name, args):
        return f"dc_{name}{self.fsuffix}({', '.join(self._print(a) for a in args)})"

    def _fold(self, name, args):
        args = list(args)
        text = self._print(args[-1])
        for a in reversed(args[:-1]):
            text = f"dc_{name}{self.fsuffix}({self._print(a)}, {text})"
        return text

    def _print_Max(self, expr):
        return self._fold("max", expr.args)

    def _print_Min(self, expr):
        return self._fold("min", expr.args)

    def _print_sign(self, expr):
        return self._helper("sign", expr.args)

    def _print_Heaviside(self, expr):
        x, h0 = (expr.args + (None,))[:2]
        if h0 is None or h0 != 0:
            raise CudaPrintError(expr, "only Heaviside(x, 0) is supported (relu'(0) = 0)")
        return self._helper("heaviside", [x])

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"


def printer(dtype: str) -> CudaCodePrinter:
    return CudaCodePrinter({"dtype": dtype})


def cuda_code(expr: sp.Expr, dtype: str = "float") -> str:
    """One expression as a CUDA C expression of ``dtype``."""
    return printer(dtype).doprint(sp.sympify(expr))


def device_function(name: str, params: Sequence[sp.Symbol], outputs: Mapping[str, sp.Expr],
                    dtype: str, doc: str = "") -> str:
    """A ``__host__ __device__ inline void`` function writing ``outputs`` through pointers.

    ``params`` are the scalar inputs in order; each output ``k`` becomes a parameter ``T* k``.
    Common subexpressions of all outputs are computed once (``sympy.cse``).
    """
    p = printer(dtype)
    T = p.ctype
    exprs = [sp.sympify(e) for e in outputs.values()]
    free = set().union(*(e.free_symbols for e in exprs)) - set(params)
    if free:
        raise CudaPrintError(exprs[0], f"free symbols {sorted(map(str, free))} are not parameters")
    temps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("t_", real=True), order="none")
    args = [f"{T} {p._print(s)}" for s in params] + [f"{T}* __restrict__ {k}_out" for k in outputs]
    lines = [f"__host__ __device__ inline void {name}({', '.join(args)}) {{"]
    if doc:
        lines[:0] = [f"// {line}" for line in doc.splitlines()]
    lines += [f"    const {'bool' if isinstance(e, sp.logic.boolalg.Boolean) else T} "
              f"{p._print(s)} = {p.doprint(e)};" for s, e in temps]
    lines += [f"    *{k}_out = {p.doprint(e)};" for k, e in zip(outputs, reduced)]
    lines.append("}")
    return "\n".join(lines) + "\n"
