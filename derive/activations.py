"""Activations a = f(z): value, derivative in z, and the derivative written through the output a.

Backprop keeps a = f(z) from the forward pass, so where f'(z) is a function of a alone
(σ: a(1 − a), tanh: 1 − a², relu: 1 for a > 0) the kernels use that form: ``stable["grad_output"]``.
Kink conventions follow PyTorch: relu'(0) = 0, leaky_relu'(0) = negative_slope.
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from .core import Derivation, Domain, StepBuilder
from .functions import leaky_relu as leaky_relu_fn
from .functions import relu as relu_fn
from .functions import sigmoid as sigmoid_fn
from .symbols import a, negative_slope, z

DOMAIN = Domain(intervals={z: (-4.0, 4.0), negative_slope: (0.001, 0.5)})
SYMBOLS = {"z": "pre-activation", "a": "activation output a = f(z)"}


def _derivation(name, title, fz, elementary, elementary_grad, grad, grad_output, stable,
                options=None, extra_symbols=None, kink=None):
    """a = f(z): the definition, d/dz rule by rule, the closed form, then the form through a.

    ``elementary`` is f written out (exp or pieces); the rule engine differentiates it, the
    result is tidied to ``elementary_grad`` and named ``grad`` (e.g. σ(z)(1 − σ(z))).
    """
    da = sp.Derivative(a, z, evaluate=False)
    b = StepBuilder(a, fz, DOMAIN, equal_under={a: fz})
    b.then(f"definition of {name}", elementary)
    b.differentiate(elementary, z, lhs=da)
    b.simplify(target=elementary_grad)
    rule = f"derivative of {name}" + (f" ({kink})" if kink else "")
    if grad != b.current:
        b.then(rule, grad)
    else:  # already the closed form: name the rule (and the kink convention) on that step
        b.steps[-1] = dataclasses.replace(b.steps[-1], rule=f"{b.steps[-1].rule}: {rule}")
    if grad_output is not None:
        shown = {"sigmoid": "σ(z)", "leaky_relu": "leaky_relu(z, α)"}.get(name, f"{name}(z)")
        b.then(f"write through the output a = {shown}", grad_output)
    return Derivation(name, "activation", title, fz, (z,), {z: grad}, {z: b.build()},
                      quantity=a, options=options or {}, stable=stable,
                      symbols={**SYMBOLS, **(extra_symbols or {})})


def sigmoid() -> Derivation:
    """σ(z) = 1/(1 + e^(−z)); σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)."""
    s = sigmoid_fn(z)
    e = sp.exp(-z)
    stable_s = s.rewrite("stable")
    e_abs = sp.exp(-sp.Abs(z))
    StepBuilder(a, s * (1 - s), DOMAIN).then("σ(z)σ(−z) = e/(1 + e)², e = e^(−|z|)",
                                             e_abs / (1 + e_abs) ** 2)  # checks the two equal
    return _derivation(
        "sigmoid", "Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a)",
        s, 1 / (1 + e), e / (1 + e) ** 2, s * (1 - s), a * (1 - a),
        # σ' = σ(z)σ(−z) = e/(1 + e)², e = e^(−|z|): for z > 0, 1 − σ(z) would cancel (float32
        # z > 17: σ = 1, σ' = 0 instead of e^(−z)); this form keeps every digit.
        {"forward": stable_s, "grad": e_abs / (1 + e_abs) ** 2, "grad_output": a * (1 - a)})


def tanh() -> Derivation:
    """tanh(z) = (e^z − e^(−z))/(e^z + e^(−z)); tanh' = 1 − tanh² = 1 − a²."""
    t = sp.tanh(z)
    ch, sh = sp.cosh(z), sp.sinh(z)
    e2 = sp.exp(-2 * sp.Abs(z))
    StepBuilder(a, 1 - t**2, DOMAIN).then("sech² z = 4e/(1 + e)², e = e^(−2|z|)",
                                          4 * e2 / (1 + e2) ** 2)  # checks the two equal
    return _derivation(
        "tanh", "Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²",
        t, sh / ch, 1 - sh**2 / ch**2, 1 - t**2, 1 - a**2,
        # tanh itself is evaluated by the math library's tanh, which does not overflow. Its
        # derivative as sech² = 4e/(1 + e)², e = e^(−2|z|): 1 − tanh² cancels for |z| ≳ 3
        # (float32 |z| > 9: tanh = ±1, grad 0 instead of 4e^(−2|z|)).
        {"forward": t, "grad": 4 * e2 / (1 + e2) ** 2, "grad_output": 1 - a**2})


def relu() -> Derivation:
    """relu(z) = max(z, 0); relu'(z) = 1 for z > 0, else 0 (relu'(0) = 0, as PyTorch)."""
    pieces = relu_fn(z).rewrite(sp.Piecewise)
    step_z = sp.Piecewise((1, z > 0), (0, True))
    step_a = sp.Piecewise((1, a > 0), (0, True))
    return _derivation(
        "relu", "ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0",
        relu_fn(z), pieces, step_z, step_z, step_a,
        {"forward": pieces, "grad": step_z, "grad_output": step_a},
        kink="the strict z > 0 gives relu'(0) = 0, PyTorch's convention")


def leaky_relu(negative_slope_value: float = 0.01) -> Derivation:
    """leaky_relu(z) = z for z > 0, α z otherwise; derivative 1 or α (α at 0, as PyTorch)."""
    if not negative_slope_value > 0:
        raise ValueError(f"negative_slope={negative_slope_value!r}: this derivation needs "
                         "negative_slope > 0 (then a > 0 ⇔ z > 0)")
    al = negative_slope
    fz = leaky_relu_fn(z, al)
    pieces = fz.rewrite(sp.Piecewise)
    grad_z = sp.Piecewise((1, z > 0), (al, True))
    grad_a = sp.Piecewise((1, a > 0), (al, True))  # α > 0: a has the sign of z
    return _derivation(
        "leaky_relu", "Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0)",
        fz, pieces, grad_z, grad_z, grad_a,
        {"forward": pieces, "grad": grad_z, "grad_output": grad_a},
        options={"negative_slope": negative_slope_value},
        extra_symbols={"alpha": "negative_slope α (default 0.01)"},
        kink="at z = 0 the slope is α, PyTorch's convention")
