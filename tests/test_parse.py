"""derive.parse: user expressions are parsed into SymPy without executing anything.

The oracle for accepted expressions is the same formula built by hand with SymPy (and its value
computed with Python's math module); rejected strings must raise ValueError naming the problem
and must not run: payloads that would create a file leave no file behind.
"""
import math
import time

import pytest
import sympy as sp

from derive.functions import leaky_relu, relu, sigmoid, softplus
from derive.parse import MAX_LENGTH, parse_expression

x, y, w, b = (sp.Symbol(n, real=True) for n in "xywb")


@pytest.mark.parametrize("text, expected", [
    ("x**2*sin(x)", x**2 * sp.sin(x)),
    ("sigmoid(w*x + b)", sigmoid(w * x + b)),
    ("-x + 3/4*y", -x + sp.Rational(3, 4) * y),
    ("+x - -y", x + y),
    ("0.1*x", x / 10),  # floats become exact rationals, so steps print as fractions
    ("exp(x) + log(y) + sqrt(x) + tanh(x)", sp.exp(x) + sp.log(y) + sp.sqrt(x) + sp.tanh(x)),
    ("log(x, 2)", sp.log(x) / sp.log(2)),
    ("abs(x) + Abs(y) + sign(x)", sp.Abs(x) + sp.Abs(y) + sp.sign(x)),
    ("max(x, 0) + min(x, y, 1)", sp.Max(x, 0) + sp.Min(x, y, 1)),
    ("softplus(x) + relu(x)", softplus(x) + relu(x)),
    ("leaky_relu(x)", leaky_relu(x, sp.Rational(1, 100))),  # PyTorch's default slope
    ("leaky_relu(x, 0.2)", leaky_relu(x, sp.Rational(1, 5))),
    ("pi*x + E", sp.pi * x + sp.E),
    ("x**-2 + x**(1/2)", x**-2 + sp.sqrt(x)),
])
def test_accepted_expressions_build_the_same_sympy_expression(text, expected):
    expr, symbols = parse_expression(text)
    assert expr == expected
    assert set(symbols) == expected.free_symbols
    assert all(s.is_real for s in symbols)


def test_symbols_in_order_of_first_appearance():
    assert parse_expression("sigmoid(w*x + b)")[1] == (w, x, b)


def test_values_against_python_math():
    expr, _ = parse_expression("x**2*sin(x) + exp(-x)/(1 + log1p(x)) - atan(x)*cosh(x)")
    for v in (0.3, 1.7, 2.9):
        want = v**2 * math.sin(v) + math.exp(-v) / (1 + math.log1p(v)) - math.atan(v) * math.cosh(v)
        assert float(expr.subs(x, v)) == pytest.approx(want, rel=1e-12)


UNSAFE = {
    "__import__('os').system('echo hacked')": "attribute access",
    "__import__('os')": "unknown function '__import__'",
    "().__class__": "attribute access",
    "().__class__.__bases__[0].__subclasses__()": "not allowed",
    "lambda x: x": "lambda",
    "x.real": "attribute access",
    "open('f')": "unknown function 'open'",
    "[x for x in y]": "comprehension",
    "x[0]": "subscript",
    "exec('1')": "unknown function 'exec'",
    "eval('1')": "unknown function 'eval'",
    "x" * 10_000: "too long",
    "2**2**2**2**2**2": "exponent",
    "10**100": "number too large",
    "x**1000": "exponent",
    "1e400": "not finite",
    "exp(x=1)": "keyword",
    "exp(*x)": "starred",
    "'abc'": "strings",
    "True": "bool",
    "1j": "complex",
    "x if y else w": "conditional",
    "x < y": "comparison",
    "x and y": "boolean",
    "(x := 1)": "assignment",
    "x % 2": "operator %",
    "x @ y": "operator @",
    "foo(x)": "unknown function 'foo'",
    "sin": "used without arguments",
    "sin(x, y)": "takes 1 argument",
    "_x + 1": "name '_x' not allowed",
    "__builtins__": "name '__builtins__' not allowed",
    "1/0": "undefined",
    "x +": "cannot parse",
    "": "empty",
    "{'a': 1}": "dicts",
    "f'{x}'": "strings",
}


@pytest.mark.parametrize("text", list(UNSAFE), ids=lambda t: t[:30])
def test_unsafe_or_invalid_input_is_rejected_with_a_clear_message(text):
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as info:
        parse_expression(text)
    assert UNSAFE[text] in str(info.value)
    assert time.perf_counter() - t0 < 5, "rejection must not evaluate a huge number first"


def test_too_long_input_names_the_limit():
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH}"):
        parse_expression("x+" * MAX_LENGTH + "x")


def test_payloads_are_never_executed(tmp_path):
    marker = tmp_path / "hacked"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"exec(\"open('{marker}', 'w')\")",
        f"(lambda: __import__('pathlib').Path('{marker}').touch())()",
        f"[__import__('pathlib').Path('{marker}').touch() for _ in [1]]",
    ]
    for p in payloads:
        with pytest.raises(ValueError):
            parse_expression(p)
    assert not marker.exists()


def test_non_string_is_rejected():
    with pytest.raises(ValueError, match="must be a string"):
        parse_expression(3)


@pytest.mark.parametrize("text, quoted", [
    ("1e400*x", "'1e400'"),  # ast.unparse would print 1e309
    ("x + 1/0", "'1/0'"),  # ... and 1 / 0
    ("x*99**99", "'99**99'"),
])
def test_messages_quote_the_expression_as_typed(text, quoted):
    with pytest.raises(ValueError) as err:
        parse_expression(text)
    assert quoted in str(err.value)
