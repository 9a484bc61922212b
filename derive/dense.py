"""Dense layers z = W a_prev + b, a = f(z): output deltas, the backward recursion, weight gradients.

Two layers in index form (seed 000/002 notation): x → z¹ = W¹x + b¹, a¹ = f(z¹) → z² = W²a¹ + b²,
a² = g(z²) → L. With δˡ = ∂L/∂zˡ:

    δ² = (a² − y) ⊙ g'(z²)        (L = ½‖a² − y‖², seed 000)
    δ² = σ(z²) − y                 (BCE with a sigmoid output)
    δ² = softmax(z²) − y           (CE with a softmax output, Σ y = 1)
    δ¹ = (W²)ᵀ δ² ⊙ f'(z¹),  ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ,  ∂L/∂bˡ = δˡ    (a batch: the mean of these)

f and g stay abstract in the printed steps; the checks substitute f = tanh and g = σ and the
sizes are drawn small, so every step is checked on a real network. :func:`expanded_network`
writes a concrete network out entry by entry, and :func:`check_network` compares every entry of
these formulas with ``sympy.diff`` of it (the tests run it for 3-4-2 and a batch).
"""
from __future__ import annotations

import random

import sympy as sp

from .core import NUMERIC, Derivation, Domain, Step, StepBuilder, StepCheckError
from .functions import sigmoid
from .losses import logsumexp, softmax

# Index-form quantities of the two layers.
X = sp.IndexedBase("x")  # input a⁰
W1, W2 = sp.IndexedBase("W¹"), sp.IndexedBase("W²")
B1, B2 = sp.IndexedBase("b¹"), sp.IndexedBase("b²")
Z1, Z2 = sp.IndexedBase("z¹"), sp.IndexedBase("z²")
A1, A2 = sp.IndexedBase("a¹"), sp.IndexedBase("a²")
D1, D2 = sp.IndexedBase("δ¹"), sp.IndexedBase("δ²")
Y = sp.IndexedBase("y")
_U = sp.IndexedBase("u", positive=True)  # unnormalised targets for Σ y = 1 checks
n0, n1, n2 = sp.symbols("n0 n1 n2", integer=True, positive=True)  # layer sizes
i, j, k, m, t = sp.symbols("i j k m t", integer=True, nonnegative=True)
_t1, _t2, _t3 = sp.symbols("r s u", integer=True, nonnegative=True)  # distinct bound indices
_n = sp.Wild("n")
L = sp.Symbol("L")

f, fp = sp.Function("f"), sp.Function("f'")  # hidden activation and its derivative
g, gp = sp.Function("g"), sp.Function("g'")  # output activation and its derivative
_s = sp.Symbol("s", real=True)
CONCRETE = [(f, sp.tanh), (fp, sp.Lambda(_s, 1 - sp.tanh(_s) ** 2)),
            (g, sigmoid), (gp, sp.Lambda(_s, sigmoid(_s) * (1 - sigmoid(_s))))]

DOMAIN = Domain(intervals={}, integers={n0: (2, 3), n1: (2, 3), n2: (2, 2),
                                        i: (0, 1), j: (0, 1), k: (0, 1), m: (0, 1)})
# Through the whole network the checks write out every entry: keep those sizes smallest.
SMALL = Domain(intervals={}, integers={n0: (2, 2), n1: (2, 2), n2: (2, 2),
                                       i: (0, 1), j: (0, 1), k: (0, 1), m: (0, 1)})
# The chain rule through z = W a_prev + b holds for any L of z: the weight-gradient steps are
# checked with this one, which couples every entry of z (δ_i = c_i z_i + 2 Σ_r z_r).
_C = sp.IndexedBase("c")


def _test_loss(Z, D, n_out):
    r = _t1
    return [(L, _sum(_C[r] * Z[r] ** 2, r, n_out) / 2 + _sum(Z[r], r, n_out) ** 2),
            (D[_n], _C[_n] * Z[_n] + 2 * _sum(Z[r], r, n_out))]


def _sum(expr, idx, n):
    return sp.Sum(expr, (idx, 0, n - 1))


def _d(expr, v):
    return sp.Derivative(expr, v, evaluate=False)


# The network, as substitutions applied in order (names first, then what they stand for).
MSE_LOSS = _sum((A2[t] - Y[t]) ** 2, t, n2) / 2
NETWORK = [
    (L, MSE_LOSS),
    (D1[_n], _sum(D2[_t3] * W2[_t3, _n], _t3, n2) * fp(Z1[_n])),
    (D2[_n], (A2[_n] - Y[_n]) * gp(Z2[_n])),
    (A2[_n], g(Z2[_n])),
    (Z2[_n], _sum(W2[_n, _t2] * A1[_t2], _t2, n1) + B2[_n]),
    (A1[_n], f(Z1[_n])),
    (Z1[_n], _sum(W1[_n, _t1] * X[_t1], _t1, n0) + B1[_n]),
    *CONCRETE,
]


def _output_mse():
    """δ²_m = ∂/∂z²_m of ½Σ_k (g(z²_k) − y_k)² = (a²_m − y_m) g'(z²_m)."""
    b = StepBuilder(L, MSE_LOSS, DOMAIN, equal_under=NETWORK[3:4] + CONCRETE,
                    rule="output layer, L = ½ Σ_t (a²_t − y_t)² (seed 000), a² = g(z²)")
    b.restate(f"δ²_m = ∂L/∂z²_m: differentiate with respect to {Z2[m]}",
              _d(MSE_LOSS.subs(A2[t], g(Z2[t])), Z2[m]), _d(L, Z2[m]))
    b.then("power rule, chain rule; ∂g(z²_t)/∂z²_m = g'(z²_t) δ_tm",
           _sum((A2[t] - Y[t]) * gp(Z2[t]) * sp.KroneckerDelta(t, m), t, n2))
    b.then("the Kronecker delta picks t = m: δ² = (a² − y) ⊙ g'(z²)", (A2[m] - Y[m]) * gp(Z2[m]))
    sig = StepBuilder(_d(L, Z2[m]), b.current, DOMAIN, equal_under=NETWORK[3:4] + CONCRETE,
                      rule="with a sigmoid output g = σ (seed 000)")
    sig.then("σ' = σ(1 − σ) = a(1 − a)", (A2[m] - Y[m]) * A2[m] * (1 - A2[m]))
    return b.build() + sig.build(), b.current


def _output_bce():
    """BCE summed over sigmoid outputs: δ²_m = σ(z²_m) − y_m."""
    s = sigmoid(Z2[t])
    loss = -_sum(Y[t] * sp.log(s) + (1 - Y[t]) * sp.log(1 - s), t, n2)
    b = StepBuilder(L, loss, DOMAIN, rule="output layer, BCE with a sigmoid: "
                    "L = −Σ_t [y_t log σ(z²_t) + (1 − y_t) log(1 − σ(z²_t))]")
    b.restate(f"δ²_m: differentiate with respect to {Z2[m]}", _d(loss, Z2[m]), _d(L, Z2[m]))
    b.then("derivative of log, σ' = σ(1 − σ); ∂z²_t/∂z²_m = δ_tm",
           _sum((-Y[t] * (1 - s) + (1 - Y[t]) * s) * sp.KroneckerDelta(t, m), t, n2))
    b.then("the Kronecker delta picks t = m; the y·σ terms cancel", sigmoid(Z2[m]) - Y[m])
    return b.build(), b.current


def _output_ce():
    """CE with a softmax output and Σ_k y_k = 1: δ²_m = softmax(z²)_m − y_m."""
    loss = -_sum(Y[t] * sp.log(softmax(Z2, t, n2)), t, n2)
    norm = {Y[_n]: _U[_n] / _sum(_U[k], k, n2)}
    b = StepBuilder(L, loss, DOMAIN, equal_under=norm,
                    rule="output layer, CE with a softmax: L = −Σ_t y_t log softmax(z²)_t")
    b.then("log of a quotient; split the sum; Σ_t y_t = 1",
           -_sum(Y[t] * Z2[t], t, n2) + logsumexp(Z2, n2))
    b.restate(f"δ²_m: differentiate with respect to {Z2[m]}", _d(b.current, Z2[m]), _d(L, Z2[m]))
    b.then("∂logsumexp(z²)/∂z²_m = softmax(z²)_m; ∂z²_t/∂z²_m = δ_tm", softmax(Z2, m, n2) - Y[m])
    return b.build(), b.current


def _hidden_delta():
    """δ¹_j = Σ_m δ²_m W²_mj f'(z¹_j), i.e. δ¹ = (W²)ᵀ δ² ⊙ f'(z¹)."""
    # z¹ is the variable here, so it is not replaced by W¹x + b¹.
    upto_z1 = [(old, new) for old, new in NETWORK if old != Z1[_n]]
    b = StepBuilder(_d(L, Z1[j]), _d(L, Z1[j]), SMALL, equal_under=upto_z1,
                    rule="hidden layer: δ¹_j = ∂L/∂z¹_j")
    b.then("chain rule through z² = W² a¹ + b²: Σ_m ∂L/∂z²_m ∂z²_m/∂z¹_j",
           _sum(D2[m] * _d(Z2[m], Z1[j]), m, n2))
    b.then("∂z²_m/∂z¹_j = W²_mj f'(z¹_j): δ¹ = (W²)ᵀ δ² ⊙ f'(z¹)",
           _sum(D2[m] * W2[m, j], m, n2) * fp(Z1[j]))
    return b.build(), b.current


def _weight_grads(W, Bv, Z, D, a_prev, n_out):
    """∂L/∂W_jk = δ_j a_prev_k and ∂L/∂b_j = δ_j, by the chain rule through z = W a_prev + b."""
    z_def = _sum(W[_n, _t2] * a_prev[_t2], _t2, n0 if W is W1 else n1) + Bv[_n]
    under = _test_loss(Z, D, n_out) + [(Z[_n], z_def)]
    dw = StepBuilder(_d(L, W[j, k]), _d(L, W[j, k]), DOMAIN, equal_under=under,
                     rule=f"∂L/∂{W.label}_jk")
    dw.then(f"chain rule through {Z.label}: Σ_i ∂L/∂{Z.label}_i ∂{Z.label}_i/∂{W.label}_jk",
            _sum(D[i] * _d(Z[i], W[j, k]), i, n_out))
    dw.then(f"∂{Z.label}_i/∂{W.label}_jk = δ_ij {a_prev.label}_k",
            _sum(D[i] * sp.KroneckerDelta(i, j) * a_prev[k], i, n_out))
    dw.then(f"the Kronecker delta picks i = j: ∂L/∂{W.label} = {D.label} ({a_prev.label})ᵀ",
            D[j] * a_prev[k])
    db = StepBuilder(_d(L, Bv[j]), _d(L, Bv[j]), DOMAIN, equal_under=under,
                     rule=f"∂L/∂{Bv.label}_j")
    db.then(f"chain rule: Σ_i ∂L/∂{Z.label}_i ∂{Z.label}_i/∂{Bv.label}_j = Σ_i δ_i δ_ij",
            _sum(D[i] * sp.KroneckerDelta(i, j), i, n_out))
    db.then(f"∂L/∂{Bv.label} = {D.label}", D[j])
    return dw, db


def dense() -> Derivation:
    """The backprop rules of a two-layer dense network, every step checked on a concrete one."""
    mse_steps, delta2 = _output_mse()
    bce_steps, _ = _output_bce()
    ce_steps, _ = _output_ce()
    hidden_steps, delta1 = _hidden_delta()
    # Layer 1 stands for any layer l (a_prev = x); layer 2's W², b² follow the same steps with
    # a_prev = a¹, and check_network verifies both layers entry by entry.
    dw1, db1 = _weight_grads(W1, B1, Z1, D1, X, n1)
    batch = check_network((2, 2, 1), batch=2, seed=0, points=2)  # the batch mean, on a tiny net
    wrt = (Z2[m], Z1[j], W1[j, k], B1[j])
    grads = {Z2[m]: delta2, Z1[j]: delta1, W1[j, k]: dw1.current, B1[j]: db1.current}
    # The batch mean: the derivative is linear, checked on the expanded network.
    B, nb = sp.Symbol("B", integer=True, positive=True), sp.Symbol("n", integer=True, nonnegative=True)
    mean_w = Step("mean over a batch of B samples, L = (1/B) Σ_n L_n (δ and x per sample n)",
                  sp.Sum(D1[nb, j] * X[nb, k], (nb, 0, B - 1)) / B, _d(L, W1[j, k]), NUMERIC, batch)
    mean_b = Step("mean over a batch of B samples", sp.Sum(D1[nb, j], (nb, 0, B - 1)) / B,
                  _d(L, B1[j]), NUMERIC, batch)
    steps = {Z2[m]: mse_steps + bce_steps + ce_steps, Z1[j]: hidden_steps,
             W1[j, k]: dw1.build() + (mean_w,), B1[j]: db1.build() + (mean_b,)}
    return Derivation(
        "dense", "layer", "Dense layers z = W a_prev + b, a = f(z): deltas and weight gradients",
        MSE_LOSS, wrt, grads, steps, quantity=L, options={"reduction": "mean over the batch"},
        stable={"delta_mse": (sp.Symbol("a") - sp.Symbol("y")) * sp.Symbol("fprime_z"),
                "delta_bce_sigmoid": sigmoid(sp.Symbol("z")) - sp.Symbol("y"),
                "delta_hidden": sp.Symbol("Wt_delta") * sp.Symbol("fprime_z")},
        symbols={"x": "input a⁰", "W¹, b¹": "first layer", "z¹, a¹": "hidden pre-activation, "
                 "activation a¹ = f(z¹)", "W², b²": "second layer", "z², a²": "output "
                 "pre-activation, activation a² = g(z²)", "δ¹, δ²": "δˡ = ∂L/∂zˡ",
                 "y": "target"})


# --------------------------------------------------------------------------- the expanded network


def expanded_network(sizes=(3, 4, 2), batch: int = 1, loss: str = "mse"):
    """A concrete network written out entry by entry: parameters, per-sample tensors and L.

    ``loss``: "mse" (½‖σ(z²) − y‖², tanh hidden), "bce" (sigmoid output), "ce" (softmax output).
    L is the mean over the ``batch`` samples.
    """
    if loss not in ("mse", "bce", "ce"):
        raise ValueError(f"loss={loss!r}: expected 'mse', 'bce' or 'ce'")
    s0, s1, s2 = sizes
    W1m, W2m = sp.Matrix(s1, s0, sp.symbols(f"W1_0:{s1}_0:{s0}", real=True)), \
        sp.Matrix(s2, s1, sp.symbols(f"W2_0:{s2}_0:{s1}", real=True))
    b1m, b2m = sp.Matrix(sp.symbols(f"b1_0:{s1}", real=True)), sp.Matrix(sp.symbols(f"b2_0:{s2}", real=True))
    samples, total = [], 0
    for n in range(batch):
        x = sp.Matrix(sp.symbols(f"x{n}_0:{s0}", real=True))
        y = sp.Matrix(sp.symbols(f"y{n}_0:{s2}", positive=True))
        z1 = W1m * x + b1m
        a1 = z1.applyfunc(sp.tanh)
        z2 = W2m * a1 + b2m
        if loss == "mse":
            a2 = z2.applyfunc(sigmoid)
            Ln = sum((a2[r] - y[r]) ** 2 for r in range(s2)) / 2
        elif loss == "bce":
            a2 = z2.applyfunc(sigmoid)
            Ln = -sum(y[r] * sp.log(a2[r]) + (1 - y[r]) * sp.log(1 - a2[r]) for r in range(s2))
        else:
            norm = sum(sp.exp(z2[r]) for r in range(s2))
            a2 = z2.applyfunc(lambda e: sp.exp(e) / norm)
            Ln = -sum(y[r] * sp.log(a2[r]) for r in range(s2))
        samples.append(dict(x=x, y=y, z1=z1, a1=a1, z2=z2, a2=a2))
        total += Ln
    return dict(W1=W1m, b1=b1m, W2=W2m, b2=b2m, samples=samples, L=total / batch, loss=loss)


def backprop_formulas(net) -> dict:
    """The derived rules applied to ``net``: ∂L/∂W¹, ∂L/∂b¹, ∂L/∂W², ∂L/∂b² as matrices."""
    grads = {name: sp.zeros(*net[name].shape) for name in ("W1", "b1", "W2", "b2")}
    for s in net["samples"]:
        if net["loss"] == "mse":
            d2 = (s["a2"] - s["y"]).multiply_elementwise(s["a2"].applyfunc(lambda a: a * (1 - a)))
        else:  # bce with σ, ce with softmax (a target summing to one)
            d2 = s["a2"] - s["y"]
        d1 = (net["W2"].T * d2).multiply_elementwise(s["a1"].applyfunc(lambda a: 1 - a**2))
        grads["W2"] += d2 * s["a1"].T
        grads["b2"] += d2
        grads["W1"] += d1 * s["x"].T
        grads["b1"] += d1
    batch = len(net["samples"])
    return {name: mat / batch for name, mat in grads.items()}


def check_network(sizes=(3, 4, 2), batch: int = 1, loss: str = "mse", seed: int = 0,
                  points: int = 3) -> str:
    """Compare every entry of :func:`backprop_formulas` with ``sympy.diff`` of the expanded L.

    Targets of "ce" are normalised so they sum to one (the softmax delta needs it). Raises
    StepCheckError naming the first entry that differs; returns a one-line summary.
    """
    net = expanded_network(sizes, batch, loss)
    formulas = backprop_formulas(net)
    Lexpr = net["L"]
    under = {}
    if loss == "ce":  # y = u / Σu per sample
        for s in net["samples"]:
            total = sum(s["y"])
            under.update({v: v / total for v in s["y"]})
    rng = random.Random(seed)
    values = [{v: rng.uniform(0.1, 0.9) if v.is_positive else rng.uniform(-1.5, 1.5)
               for v in Lexpr.free_symbols} for _ in range(points)]
    count = 0
    for name, mat in formulas.items():
        for idx, param in enumerate(net[name]):
            direct = sp.diff(Lexpr, param)
            formula = mat[idx]
            for at in values:
                vd = direct.xreplace(under).xreplace(at).evalf(20)
                vf = formula.xreplace(under).xreplace(at).evalf(20)
                if abs(complex(vd) - complex(vf)) > 1e-12 * max(1.0, abs(complex(vd))):
                    raise StepCheckError(f"∂L/∂{param}: sympy.diff gives {vd}, the rule gives {vf}")
            count += 1
    return (f"{count} entries of a {'-'.join(map(str, sizes))} network, {loss}, batch {batch}, "
            f"agree with sympy.diff at {points} points")
