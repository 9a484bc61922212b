"""Safe parsing of a user's math expression (``derivecli show-grad --expr``).

The text is parsed by Python's :mod:`ast` and the tree is walked here: only numbers, names
(which become real SymPy symbols), ``+ - * / **``, unary ``-``/``+`` and calls of the known
math functions below are accepted; the SymPy expression is built node by node. Nothing of the
string is ever evaluated (no ``eval``, no ``sympify``), so ``__import__('os')``, attribute access,
lambdas and the like are rejected before anything runs.
"""
from __future__ import annotations

import ast
import re

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .functions import leaky_relu, relu, sigmoid, softplus, to_elementary

MAX_LENGTH = 500  # characters; longer input is rejected before parsing
MAX_NODES = 200  # AST nodes; keeps simplification of the steps fast
MAX_DEPTH = 40  # nesting depth of the tree
MAX_EXPONENT = 100  # |n| for a numeric exponent; 2**2**2**2**2 would never finish
MAX_NUMBER_DIGITS = 60  # digits of a number literal or a constant folded from numbers

# PyTorch's default negative slope for leaky_relu(x).
LEAKY_RELU_DEFAULT_SLOPE = sp.Rational(1, 100)


def _leaky_relu(x, slope=LEAKY_RELU_DEFAULT_SLOPE):
    return leaky_relu(x, slope)


def _log(x, base=None):
    if base is None:
        return sp.log(x)
    if base.is_number and not (base.is_positive and base != 1):
        raise ValueError(f"log base {base} not allowed: a base must be positive and not 1")
    return sp.log(x, base)


# name -> (builder, smallest and largest number of arguments; None = any number >= smallest)
FUNCTIONS: dict[str, tuple[object, int, int | None]] = {
    "exp": (sp.exp, 1, 1),
    "log": (_log, 1, 2),
    "ln": (sp.log, 1, 1),
    "log1p": (log1p, 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "sin": (sp.sin, 1, 1),
    "cos": (sp.cos, 1, 1),
    "tan": (sp.tan, 1, 1),
    "asin": (sp.asin, 1, 1),
    "acos": (sp.acos, 1, 1),
    "atan": (sp.atan, 1, 1),
    "sinh": (sp.sinh, 1, 1),
    "cosh": (sp.cosh, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "erf": (sp.erf, 1, 1),
    "abs": (sp.Abs, 1, 1),
    "Abs": (sp.Abs, 1, 1),
    "sign": (sp.sign, 1, 1),
    "max": (sp.Max, 2, None),
    "Max": (sp.Max, 2, None),
    "min": (sp.Min, 2, None),
    "Min": (sp.Min, 2, None),
    "sigmoid": (sigmoid, 1, 1),
    "softplus": (softplus, 1, 1),
    "relu": (relu, 1, 1),
    "leaky_relu": (_leaky_relu, 1, 2),
}
CONSTANTS = {"pi": sp.pi, "E": sp.E}

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

# What a rejected node is called in the error message.
_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda expressions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def parse_expression(text: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Parse ``text`` into a SymPy expression and its symbols (in order of first appearance).

    Raises ValueError naming what was rejected. Names become ``Symbol(name, real=True)``;
    ``pi`` and ``E`` are the constants; known functions are listed in :data:`FUNCTIONS`.
    """
    if not isinstance(text, str):
        raise ValueError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expression is too long: {len(text)} characters (at most {MAX_LENGTH})")
    if not text.strip():
        raise ValueError("expression is empty")
    if "\x00" in text:
        raise ValueError("expression contains a NUL character")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot parse expression {text!r}: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"expression {text!r} is nested too deeply") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ValueError(f"expression is too large: {nodes} syntax nodes (at most {MAX_NODES})")
    builder = _Builder(text.strip())
    expr = builder.build(tree.body, 0)
    return expr, tuple(builder.symbols.values())


class _Builder:
    def __init__(self, text: str = ""):
        self.symbols: dict[str, sp.Symbol] = {}
        self.text = text  # what was parsed: messages quote it as typed (1e400, not 1e309)

    def _src(self, node: ast.AST) -> str:
        return _source(node, self.text)

    def _bounded(self, e: sp.Expr, node: ast.AST) -> sp.Expr:
        """Reject undefined results (1/0) and numbers past MAX_NUMBER_DIGITS (e.g. 99**99)."""
        if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or _undefined_at_constants(e):
            raise ValueError(f"expression is undefined (division by zero?): {self._src(node)!r}")
        for n in e.atoms(sp.Rational):
            if max(len(str(abs(n.p))), len(str(n.q))) > MAX_NUMBER_DIGITS:
                size = "small" if abs(n) < 1 else "large"  # 1e-70 is 1/10**70
                raise ValueError(f"number too {size} (more than {MAX_NUMBER_DIGITS} digits) in "
                                 f"{self._src(node)!r}")
        return e

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ValueError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            what = _DESCRIPTIONS.get(type(node), f"{type(node).__name__} syntax")
            raise ValueError(f"{what} not allowed in an expression: {self._src(node)!r}")
        return method(node, depth + 1)

    def _Constant(self, node: ast.Constant, depth):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            kind = "strings" if isinstance(v, (str, bytes)) else f"{type(v).__name__} constants"
            raise ValueError(f"{kind} not allowed in an expression: {self._src(node)!r}")
        if isinstance(v, int):
            if len(str(abs(v))) > MAX_NUMBER_DIGITS:
                raise ValueError(f"number too large: more than {MAX_NUMBER_DIGITS} digits")
            return sp.Integer(v)
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"number {self._src(node)!r} is not finite")
        return self._bounded(sp.Rational(repr(v)), node)  # exact: 0.1 is 1/10, steps print fractions

    def _Name(self, node: ast.Name, depth):
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise ValueError(f"function {name!r} used without arguments; write {name}(...)")
        if not _NAME.match(name):
            # Leading underscores (``__import__``, ``__class__``) and non-ASCII names.
            raise ValueError(f"name {name!r} not allowed: variables are letters, digits and _, "
                             "starting with a letter")
        return self.symbols.setdefault(name, sp.Symbol(name, real=True))

    def _UnaryOp(self, node: ast.UnaryOp, depth):
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand, depth)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand, depth)
        raise ValueError(f"operator {type(node.op).__name__} not allowed: {self._src(node)!r}")

    def _BinOp(self, node: ast.BinOp, depth):
        if isinstance(node.op, ast.Pow):
            return self._power(node, depth)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ValueError(f"operator {_OPERATORS.get(type(node.op), type(node.op).__name__)} "
                             f"not allowed (only + - * / **): {self._src(node)!r}")
        return self._bounded(op(self.build(node.left, depth), self.build(node.right, depth)), node)

    def _power(self, node: ast.BinOp, depth):
        base = self.build(node.left, depth)
        exponent = self.build(node.right, depth)
        if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
            raise ValueError(f"exponent {_short(exponent)} too large (at most {MAX_EXPONENT} in "
                             f"absolute value): {self._src(node)!r}")
        if exponent.is_Number and base.is_Number and base.is_zero and exponent.is_negative:
            raise ValueError(f"division by zero: {self._src(node)!r}")
        if base.is_zero and not exponent.is_Number:  # 0**x: 1/0 for x < 0, d/dx has log(0)
            raise ValueError(f"0 to a variable power is undefined where the power is negative: "
                             f"{self._src(node)!r}")
        return self._bounded(base**exponent, node)

    def _Call(self, node: ast.Call, depth):
        if not isinstance(node.func, ast.Name):
            what = _DESCRIPTIONS.get(type(node.func), "this kind of call")
            raise ValueError(f"{what} not allowed in an expression: {self._src(node)!r}")
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ValueError(f"unknown function {name!r} in {self._src(node)!r}; known: {known}")
        if node.keywords:
            raise ValueError(f"keyword arguments not allowed: {self._src(node)!r}")
        function, lo, hi = FUNCTIONS[name]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            expected = str(lo) if lo == hi else f"{lo} to {hi}" if hi else f"at least {lo}"
            raise ValueError(f"{name}() takes {expected} argument(s), got {n}: {self._src(node)!r}")
        args = [self.build(a, depth) for a in node.args]  # Starred is rejected by build()
        return self._bounded(function(*args), node)  # log(0), log(x, 1): undefined


def _undefined_at_constants(e: sp.Expr) -> bool:
    """Whether ``e`` divides by relu(-3) and the like: calls of the network functions on
    numbers are left unevaluated (so relu(0) prints as typed), but may be 0."""
    calls = {f: to_elementary(f) for f in e.atoms(relu, leaky_relu, sigmoid, softplus)
             if not f.free_symbols}
    if not calls:
        return False
    try:
        return e.xreplace(calls).has(sp.zoo, sp.nan, sp.oo, -sp.oo)
    except (TypeError, ValueError):  # SymPy failing on what 1/0 left (tanh(zoo*x))
        return True


_OPERATORS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&",
              ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


def _short(n: sp.Expr) -> str:
    s = str(n)
    return s if len(s) <= 20 else s[:8] + "…" + s[-8:]


def _source(node: ast.AST, text: str = "") -> str:
    try:
        s = ast.get_source_segment(text, node) if text else None
        s = s if s else ast.unparse(node)
    except Exception:  # unparse of odd trees: the message still names the node type
        s = type(node).__name__
    return s if len(s) <= 60 else s[:57] + "..."
