"""Batch normalisation and (inverted) dropout: forward rules, backward rules derived step by step.

Batch normalisation (seed 001: after the dense layer, before the activation) normalises each
feature over the N samples of a mini-batch:

    μ = (1/N) Σ x_i,   σ² = (1/N) Σ (x_i − μ)²,   x̂_i = (x_i − μ)/√(σ² + ε),   y_i = γ x̂_i + β

With g_i = ∂L/∂y_i (the upstream gradient) the derivation follows the computation graph:
x_k reaches L directly through x̂_k and through μ and σ², which every x̂_i depends on.
The closed form, ∂L/∂x_k = γ/(N√(σ²+ε)) (N g_k − Σ g_i − x̂_k Σ g_i x̂_i), is then checked
against SymPy's own derivative of the fully written-out loss for concrete batch sizes.

Inverted dropout keeps each input with probability 1 − p and scales it by 1/(1 − p), so the
expected output equals the input and evaluation needs no rescaling.
"""
from __future__ import annotations

import sympy as sp

from .core import (NUMERIC, PROVED, Derivation, Domain, Step, StepBuilder, StepCheckError,
                   _proved_equal)

# --------------------------------------------------------------------------- symbols

N = sp.Symbol("N", integer=True, positive=True)  # batch size
i, k = sp.symbols("i k", integer=True)  # a sample summed over; the sample differentiated for
x = sp.IndexedBase("x")  # the feature's pre-activations in the batch
g = sp.IndexedBase("g")  # g_i = ∂L/∂y_i, the upstream gradient
xhat = sp.IndexedBase("xhat")  # normalised inputs (prints as x̂ in LaTeX)
gamma = sp.Symbol("gamma", real=True)  # scale
shift = sp.Symbol("beta", real=True)  # shift (PyTorch's bias of BatchNorm)
eps = sp.Symbol("epsilon", positive=True)
mu = sp.Symbol("mu", real=True)  # batch mean
var = sp.Symbol("sigma^2", positive=True)  # batch variance (biased, 1/N)
L = sp.Symbol("L")

# Elementwise kernel symbols: one sample's values and the batch reductions a kernel is given.
g_s, xhat_s, x_s = sp.Symbol("g", real=True), sp.Symbol("xhat", real=True), sp.Symbol("x", real=True)
inv_std = sp.Symbol("inv_std", positive=True)  # 1/√(σ² + ε)
mean_g = sp.Symbol("mean_g", real=True)  # (1/N) Σ g_i
mean_gxhat = sp.Symbol("mean_gxhat", real=True)  # (1/N) Σ g_i x̂_i

momentum = sp.Symbol("momentum", positive=True)  # running statistics' update weight
running = sp.Symbol("running", real=True)  # a running statistic before the update

# Dropout.
p = sp.Symbol("p", positive=True)  # drop probability
m = sp.Symbol("m", nonnegative=True)  # the keep mask, 0 or 1
x_d, y_d, g_d = sp.symbols("x y g", real=True)


def _sum(e):
    return sp.Sum(e, (i, 0, N - 1))


def _d(f, v):
    return sp.Derivative(f, v, evaluate=False)


MEAN = _sum(x[i]) / N
STD = sp.sqrt(var + eps)


def xhat_of(n, mean=mu, variance=var):
    return (x[n] - mean) / sp.sqrt(variance + eps)


def _written_out(n):
    """x̂_n with μ and σ² expanded into sums of x: the quantity SymPy differentiates directly."""
    variance = _sum((x[i] - MEAN) ** 2) / N
    return xhat_of(n, MEAN, variance)


def _name_xhat(e):
    """Replace x̂_n by its definition, also inside sums where n is the summation index."""
    return e.replace(lambda t: isinstance(t, sp.Indexed) and t.base == xhat,
                     lambda t: xhat_of(t.indices[0]))


def _with_mean(e):
    return e.subs(var, _sum((x[i] - mu) ** 2) / N).subs(mu, MEAN)


DOMAIN = Domain(intervals={eps: (0.01, 1.0), var: (0.1, 3.0)}, integers={N: (2, 4), k: (0, 1)})


def _agree_numerically(a, b, points=4, seed=0):
    """Compare ``a`` and ``b`` in floating point for N = 2, 3 (first and last k) at random points.

    Written-out batch sums are deep trees: SymPy's 30-digit evalf takes seconds per point,
    a lambdified float function microseconds.
    """
    import random

    rng = random.Random(seed)
    for n in (2, 3):
        for kk in (0, n - 1):
            ca, cb = (sp.sympify(e).subs({N: n, k: kk}).doit() for e in (a, b))
            atoms = sorted((ca.free_symbols | cb.free_symbols | ca.atoms(sp.Indexed)
                            | cb.atoms(sp.Indexed)) - {k, N}, key=sp.default_sort_key)
            atoms = [t for t in atoms if not isinstance(t, sp.IndexedBase)
                     and not (isinstance(t, sp.Symbol) and t in (i,))]
            fa, fb = (sp.lambdify(atoms, e, "math") for e in (ca, cb))
            for _ in range(points):
                values = [rng.uniform(*DOMAIN.interval(t if isinstance(t, sp.Symbol) else t.base.label))
                          for t in atoms]
                va, vb = fa(*values), fb(*values)
                if abs(va - vb) > 1e-9 * max(1.0, abs(va), abs(vb)):
                    raise StepCheckError(f"{sp.sstr(a)} != {sp.sstr(b)} for N={n}, k={kk}: "
                                         f"{va} vs {vb}")


def _then_resolved(b: StepBuilder, rule: str, expr, resolve, prove: bool = True):
    """Like ``b.then`` but comparing both sides after ``resolve`` (for bound indices)."""
    lhs_value, rhs_value = resolve(b.current), resolve(expr)
    _agree_numerically(lhs_value, rhs_value, seed=len(b.steps))
    if prove and _proved_equal(lhs_value, rhs_value):
        check, note = PROVED, ""
    else:
        check, note = NUMERIC, "agrees in floating point at random points for N = 2, 3"
    b.steps.append(Step(rule, expr, b.steps[-1].lhs, check, note))


def _check_closed_form(grad_x, sizes=(2, 3), points=4, seed=0):
    """The closed form against SymPy's derivative of the written-out loss Σ g_i y_i.

    Compared numerically (the written-out derivative is too deep for exact arithmetic) at
    random points, for every sample k of a few concrete batch sizes.
    """
    import random

    rng = random.Random(seed)
    for n in sizes:
        xs, gs = [x[j] for j in range(n)], [g[j] for j in range(n)]
        loss = sp.Add(*[g[j] * (gamma * _written_out(j).subs(N, n).doit() + shift) for j in range(n)])
        closed = _name_xhat(grad_x).subs(var, _sum((x[i] - mu) ** 2) / N).subs(mu, MEAN).subs(N, n)
        args = [*xs, *gs, gamma, shift, eps]
        for kk in range(n):
            direct = sp.lambdify(args, sp.diff(loss, x[kk]), "math")
            formula = sp.lambdify(args, closed.subs(k, kk).doit(), "math")
            for _ in range(points):
                values = [rng.uniform(-2, 2) for _ in range(2 * n + 2)] + [rng.uniform(0.01, 1)]
                a, b = direct(*values), formula(*values)
                if abs(a - b) > 1e-9 * max(1.0, abs(a)):
                    raise StepCheckError(f"batch norm closed form != direct derivative for N={n}, "
                                         f"k={kk}: {b} vs {a} at {values}")


def batchnorm() -> Derivation:
    dL_dxhat_i, dL_dvar, dL_dmu = _d(L, xhat[i]), _d(L, var), _d(L, mu)
    steps = {}

    # ∂L/∂β and ∂L/∂γ: every y_i depends on them, so their gradients sum over the batch.
    y_i = gamma * xhat[i] + shift
    b = StepBuilder(_d(L, shift), _sum(g[i] * _d(y_i, shift)), DOMAIN,
                    rule="chain rule over the batch: ∂L/∂β = Σ ∂L/∂y_i ∂y_i/∂β")
    b.then("∂y_i/∂β = 1", _sum(g[i]))
    steps[shift], grad_beta = b.build(), b.current
    b = StepBuilder(_d(L, gamma), _sum(g[i] * _d(y_i, gamma)), DOMAIN,
                    rule="chain rule over the batch: ∂L/∂γ = Σ ∂L/∂y_i ∂y_i/∂γ")
    b.then("∂y_i/∂γ = x̂_i", _sum(g[i] * xhat[i]))
    steps[gamma], grad_gamma = b.build(), b.current

    # ∂L/∂x_k through the graph x → (μ, σ²) → x̂ → y → L.
    b = StepBuilder(dL_dxhat_i, g[i] * _d(y_i, xhat[i]), DOMAIN,
                    rule="chain rule through y_i = γ x̂_i + β")
    b.then("∂y_i/∂x̂_i = γ", gamma * g[i])
    xh = xhat_of(i)
    b.restate("x̂_i depends on σ² through √(σ² + ε)", _d(xh, var), _d(xhat[i], var))
    for rule, e in _rules(xh, var):
        b.then(rule, e)
    b.simplify(target=-(x[i] - mu) / (2 * STD**3))
    b.restate("σ² reaches L through every x̂_i", _sum(gamma * g[i] * -(x[i] - mu) / (2 * STD**3)),
              dL_dvar)
    b.then("take the constant factor out of the sum", -gamma / (2 * STD**3) * _sum(g[i] * (x[i] - mu)))
    dvar = b.current
    b.restate("μ reaches L through every x̂_i directly and through σ² = (1/N) Σ (x_i − μ)²",
              _sum(gamma * g[i] * _d(xh, mu)) + dL_dvar * _d(_sum((x[i] - mu) ** 2) / N, mu), dL_dmu)
    b.then("∂x̂_i/∂μ = −1/√(σ²+ε); ∂σ²/∂μ = −(2/N) Σ (x_i − μ)",
           _sum(-gamma * g[i] / STD) + dL_dvar * (-2 * _sum(x[i] - mu) / N))
    b.then("take constants out of the sums", -gamma / STD * _sum(g[i])
           + dL_dvar * (-2 * _sum(x[i] - mu) / N))
    # Σ (x_i − μ) = 0 holds only where μ is the batch mean: checked with μ written out.
    _then_resolved(b, "Σ (x_i − μ) = 0 because μ is the batch mean", -gamma / STD * _sum(g[i]),
                   lambda e: _with_mean(e.subs(dL_dvar, dvar)), prove=False)
    dmu = b.current
    total = g[k] * gamma / STD + dL_dvar * 2 * (x[k] - mu) / N + dL_dmu / N
    b.restate("total derivative: x_k reaches L through x̂_k (slope 1/√(σ²+ε)), σ² (slope "
              "2(x_k − μ)/N) and μ (slope 1/N)", total, _d(L, x[k]))
    resolve = lambda e: e.subs({dL_dvar: dvar, dL_dmu: dmu})
    expanded = (gamma * g[k] / STD - gamma * (x[k] - mu) / (N * STD**3) * _sum(g[i] * (x[i] - mu))
                - gamma / (N * STD) * _sum(g[i]))
    _then_resolved(b, "substitute ∂L/∂σ² and ∂L/∂μ", expanded, resolve)
    closed = gamma / (N * STD) * (N * g[k] - _sum(g[i]) - xhat[k] * _sum(g[i] * xhat[i]))
    _then_resolved(b, "factor out γ/(N√(σ²+ε)) and write x_i − μ = √(σ²+ε) x̂_i", closed,
                   lambda e: _name_xhat(resolve(e)))
    steps[x[k]] = b.build()
    _check_closed_form(closed)

    # The elementwise forms a kernel evaluates, given the batch reductions; proved equal.
    kernel = {
        "inv_std": 1 / STD,
        "running_mean": (1 - momentum) * running + momentum * mu,  # torch's update
        "running_var": (1 - momentum) * running + momentum * var * N / (N - 1),  # unbiased
        "xhat": (x_s - mu) * inv_std,
        "y": gamma * xhat_s + shift,
        "grad_x": gamma * inv_std * (g_s - mean_g - xhat_s * mean_gxhat),
        "grad_x_eval": gamma * inv_std * g_s,  # evaluation mode: μ, σ² are constants
        "grad_gamma": g_s * xhat_s,  # summed over the batch
        "grad_beta": g_s,  # summed over the batch
    }
    # xhat with inv_std = 1/√(σ² + ε) is the definition; the two forms are the same function.
    _agree_numerically(kernel["xhat"].subs(inv_std, kernel["inv_std"]).subs(x_s, x[k]), xhat_of(k))
    as_closed = kernel["grad_x"].subs({g_s: g[k], xhat_s: xhat[k], inv_std: 1 / STD,
                                       mean_g: _sum(g[i]) / N, mean_gxhat: _sum(g[i] * xhat[i]) / N})
    _agree_numerically(_name_xhat(as_closed), _name_xhat(closed))
    if not _proved_equal(_name_xhat(as_closed), _name_xhat(closed)):
        raise StepCheckError("the grad_x kernel form is not proved equal to the closed form")

    return Derivation(
        "batchnorm", "layer", "Batch normalisation (training mode): backward through μ and σ²",
        gamma * xhat[i] + shift, (x[k], gamma, shift),
        {x[k]: closed, gamma: grad_gamma, shift: grad_beta}, steps,
        quantity=sp.IndexedBase("y")[i], stable=kernel,
        result_lhs={v: _d(L, v) for v in (x[k], gamma, shift)},
        options={"eps": 1e-5, "momentum": 0.1},
        symbols={"x": "the feature's pre-activations x_i in a batch of N", "N": "batch size",
                 "g": "g_i = ∂L/∂y_i, the upstream gradient", "xhat": "normalised x̂_i",
                 "mu": "batch mean μ", "sigma^2": "batch variance σ² (1/N)",
                 "gamma": "scale γ", "beta": "shift β", "epsilon": "ε added to σ²"})


def _rules(expr, v):
    from .core import derivative_rules

    return derivative_rules(expr, v)


def dropout() -> Derivation:
    keep = 1 - p
    m_one, m_zero = sp.Integer(1), sp.Integer(0)
    y_expr = m * x_d / keep
    with sp.evaluate(False):  # keep the expectation's two cases visible
        expectation = keep * (m_one * x_d / keep) + p * (m_zero * x_d / keep)
    b = StepBuilder(sp.Symbol("E[y]"), expectation, Domain(intervals={p: (0.05, 0.9)}),
                    rule="expectation over the mask: m = 1 with probability 1 − p, else 0")
    b.then("inverted scaling 1/(1 − p) cancels the keep probability", x_d)
    b.restate("chain rule through y = m x/(1 − p)", g_d * _d(y_expr, x_d), _d(L, x_d))
    b.then("constant factor rule", g_d * m / keep * _d(x_d, x_d))
    b.then("d/dx x = 1", g_d * m / keep)
    return Derivation(
        "dropout", "layer", "Inverted dropout: keep with probability 1 − p, scale by 1/(1 − p)",
        y_expr, (x_d,), {x_d: b.current}, {x_d: b.build()}, quantity=y_d,
        result_lhs={x_d: _d(L, x_d)}, stable={"y": y_expr, "grad_x": g_d * m / keep},
        options={"p": 0.5},
        symbols={"x": "input", "m": "keep mask (0 or 1)", "p": "drop probability",
                 "g": "upstream gradient ∂L/∂y"})


__all__ = ["batchnorm", "dropout", "StepCheckError"]
