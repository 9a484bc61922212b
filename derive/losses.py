"""Per-sample losses: the one home of each loss formula, its derivation, and its kernel form.

Every loss is written once here, as a SymPy expression of the prediction and the target. The
derivations differentiate these expressions step by step; the kernel specs
(:mod:`derive.kernels`) are the same expressions rewritten into stable forms that the steps prove
equal. Option names and conventions follow ``torch.nn.functional``.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .core import Derivation, Domain, StepBuilder, tidy
from .functions import sigmoid, softplus
from .symbols import L, beta, delta, pos_weight, r, y, yhat, z

# PyTorch clamps BCE's logs at −100 and its gradient's denominator at 1e−12, so that
# probabilities of exactly 0 and 1 give finite losses and gradients.
BCE_LOG_FLOOR = -100
BCE_GRAD_EPS = sp.Float(1e-12)

RESIDUAL = yhat - y


# --------------------------------------------------------------------------- formulas


def mse_loss() -> sp.Expr:
    return (yhat - y) ** 2


def mae_loss() -> sp.Expr:
    return sp.Abs(yhat - y)


def smooth_l1_loss(b: sp.Expr = beta) -> sp.Expr:
    """0.5 r²/β for |r| < β, |r| − β/2 otherwise (β = 1 is seed 004's SmoothL1)."""
    return sp.Piecewise((r**2 / (2 * b), sp.Abs(r) < b), (sp.Abs(r) - b / 2, True)).subs(r, RESIDUAL)


def huber_loss(d: sp.Expr = delta) -> sp.Expr:
    """0.5 r² for |r| < δ, δ(|r| − δ/2) otherwise: δ·SmoothL1 with β = δ."""
    return sp.Piecewise((r**2 / 2, sp.Abs(r) < d), (d * (sp.Abs(r) - d / 2), True)).subs(r, RESIDUAL)


def lp_loss(p: sp.Expr) -> sp.Expr:
    """|y − ŷ|^p, seed 000's Lp loss per element (MAE and MSE are its means for p = 1, 2)."""
    return sp.Abs(y - yhat) ** p


def bce_loss(prob: sp.Expr = yhat) -> sp.Expr:
    """−[y log ŷ + (1 − y) log(1 − ŷ)] for a probability ŷ."""
    return -(y * sp.log(prob) + (1 - y) * sp.log(1 - prob))


def bce_logits_loss(w: sp.Expr = pos_weight) -> sp.Expr:
    """BCE of σ(z), with positive targets weighted by ``pos_weight`` as in PyTorch."""
    return -(w * y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z)))


# --------------------------------------------------------------------------- domains

PROB = Domain(intervals={yhat: (0.02, 0.98), y: (0.0, 1.0)})
REAL = Domain(intervals={y: (0.0, 1.0)})


# --------------------------------------------------------------------------- derivations


def _dL(v):
    return sp.Derivative(L, v, evaluate=False)


def _plain(name: str, title: str, expr: sp.Expr, domain: Domain, options=None,
           wrt=(yhat,), stable=None) -> Derivation:
    steps, grads = {}, {}
    for v in wrt:
        b = StepBuilder(L, expr, domain)
        b.differentiate(expr, v).simplify()
        steps[v], grads[v] = b.build(), b.current
    return Derivation(name, "loss", title, expr, tuple(wrt), grads, steps, quantity=L,
                      options=options or {}, stable=stable or {},
                      symbols={"yhat": "prediction ŷ", "y": "target"})


def mse() -> Derivation:
    return _plain("mse", "Mean squared error (per element; mean over all elements)",
                  mse_loss(), REAL)


def mae() -> Derivation:
    return _plain("mae", "Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch)", mae_loss(), REAL)


def smooth_l1() -> Derivation:
    return _plain("smooth_l1", "SmoothL1: quadratic inside |ŷ − y| < β, linear outside",
                  smooth_l1_loss(), REAL, options={"beta": 1.0})


def huber() -> Derivation:
    return _plain("huber", "Huber: quadratic inside |ŷ − y| < δ, δ-linear outside",
                  huber_loss(), REAL, options={"delta": 1.0})


def bce() -> Derivation:
    """BCE on a probability, then through a sigmoid output: ∂L/∂z = σ(z) − y (seed 000)."""
    expr = bce_loss()
    b = StepBuilder(L, expr, PROB)
    b.differentiate(expr, yhat).simplify(target=(yhat - y) / (yhat * (1 - yhat)))
    grad_yhat = b.current
    prob_steps = b.build()

    # Through ŷ = σ(z): the chain rule, then σ' = σ(1 − σ) cancels the denominator.
    c = StepBuilder(L, expr, REAL, equal_under={L: expr, yhat: sigmoid(z)})
    c.restate("chain rule through ŷ = σ(z)",
              _dL(yhat) * sp.Derivative(yhat, z, evaluate=False), _dL(z))
    c.then("substitute ∂L/∂ŷ", grad_yhat * sp.Derivative(sigmoid(z), z, evaluate=False))
    c.then("derivative of σ: σ'(z) = σ(z)(1 − σ(z))", grad_yhat * sigmoid(z) * (1 - sigmoid(z)))
    slope = sigmoid(z) * (1 - sigmoid(z))
    c.then("substitute ŷ = σ(z)", sp.Mul(sigmoid(z) - y, 1 / slope, slope, evaluate=False))
    c.then("cancel σ(z)(1 − σ(z))", sigmoid(z) - y)
    logit_steps = c.build()[1:]  # the definition is the same as above

    # The chain-rule restatement compares with nothing before it: check the end by value.
    StepBuilder(L, sp.diff(expr.subs(yhat, sigmoid(z)), z), REAL).then("closed form", sigmoid(z) - y)

    stable = {
        "loss": -(y * sp.Max(sp.log(yhat), BCE_LOG_FLOOR)
                  + (1 - y) * sp.Max(log1p(-yhat), BCE_LOG_FLOOR)),
        "grad": (yhat - y) / sp.Max(yhat * (1 - yhat), BCE_GRAD_EPS),
    }
    return Derivation(
        "bce", "loss", "Binary cross-entropy on a probability ŷ, and through ŷ = σ(z)",
        expr, (yhat, z), {yhat: grad_yhat, z: sigmoid(z) - y},
        {yhat: prob_steps, z: prob_steps[:1] + logit_steps}, quantity=L, stable=stable,
        symbols={"yhat": "probability ŷ = σ(z)", "y": "target in [0, 1]", "z": "logit"})


def bce_logits() -> Derivation:
    """BCE on logits: σ(z)(p_w y + 1 − y) − p_w y, and the softplus form kernels evaluate."""
    expr = bce_logits_loss()
    b = StepBuilder(L, expr, REAL)
    b.differentiate(expr, z).simplify(target=sigmoid(z) * (pos_weight * y + 1 - y) - pos_weight * y)
    grad = b.current

    # The stable rewrite: log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z), and
    # softplus(x) = max(x, 0) + log1p(e^−|x|), so no exp ever overflows.
    s = StepBuilder(L, expr, REAL)
    s.then("log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z)",
           pos_weight * y * softplus(-z) + (1 - y) * softplus(z))
    stable_loss = pos_weight * y * softplus(-z).rewrite("stable") + (1 - y) * softplus(z).rewrite("stable")
    s.then("stable rewrite: softplus(x) = max(x, 0) + log1p(e^(−|x|))", stable_loss)
    rewrite_steps = s.build()[1:]
    stable = {"loss": stable_loss, "grad": grad.subs(sigmoid(z), sigmoid(z).rewrite("stable"))}
    return Derivation(
        "bce_logits", "loss", "Binary cross-entropy with logits (stable, with pos_weight)",
        expr, (z,), {z: grad}, {z: b.build() + rewrite_steps}, quantity=L,
        options={"pos_weight": 1.0}, stable=stable,
        symbols={"z": "logit", "y": "target in [0, 1]", "p_w": "pos_weight"})
