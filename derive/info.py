"""Information theory of seeds 000 and 001: entropy, KL divergence, cross-entropy.

Distributions p, q over K outcomes in index form. The identity H(p, q) = H(p) + KL(p‖q) is
proved step by step, and with it why minimising the cross-entropy over q minimises the KL
divergence: H(p) does not depend on q, so both have the same gradient in q, the same
stationary point on the simplex (q = p) and the same minimiser. Logs are natural; a base b
divides every quantity by log b (the seed's KL examples 0.39 and 0.04 are base 10).
"""
from __future__ import annotations

import sympy as sp

from .core import Derivation, Domain, StepBuilder

P = sp.IndexedBase("p", positive=True)  # the true distribution
Q = sp.IndexedBase("q", positive=True)  # the model's distribution
K = sp.Symbol("K", integer=True, positive=True)  # number of outcomes
i, x = sp.symbols("i x", integer=True, nonnegative=True)
lam = sp.Symbol("lambda", real=True)  # Lagrange multiplier of Σ_x q_x = 1

DOMAIN = Domain(intervals={lam: (-2.0, 2.0)}, integers={K: (2, 4), i: (0, 1)})
SYMBOLS = {"p": "true distribution p_x", "q": "model distribution q_x", "K": "number of outcomes"}


def _sum(expr):
    return sp.Sum(expr, (x, 0, K - 1))


def _log(v, base=None):
    return sp.log(v) if base is None else sp.log(v) / sp.log(base)


def entropy_expr(base=None) -> sp.Expr:
    """H(p) = −Σ_x p_x log p_x."""
    return -_sum(P[x] * _log(P[x], base))


def kl_expr(base=None) -> sp.Expr:
    """KL(p‖q) = −Σ_x p_x log(q_x/p_x) (the seed's form; = Σ_x p_x log(p_x/q_x))."""
    return -_sum(P[x] * _log(Q[x] / P[x], base))


def cross_entropy_expr(base=None) -> sp.Expr:
    """H(p, q) = −Σ_x p_x log q_x; for a one-hot p it is −log q_true (seed 001)."""
    return -_sum(P[x] * _log(Q[x], base))


def _d(expr, v):
    return sp.Derivative(expr, v, evaluate=False)


def entropy() -> Derivation:
    """∂H/∂p_i = −(log p_i + 1)."""
    H = sp.Symbol("H")
    expr = entropy_expr()
    b = StepBuilder(H, expr, DOMAIN)
    b.restate(f"differentiate with respect to {P[i]}", _d(expr, P[i]), _d(H, P[i]))
    b.then("product rule, derivative of log; ∂p_x/∂p_i = δ_xi",
           -_sum((sp.log(P[x]) + 1) * sp.KroneckerDelta(x, i)))
    b.then("the Kronecker delta picks x = i", -sp.log(P[i]) - 1)
    return Derivation("entropy", "information", "Entropy H(p) = −Σ p log p", expr, (P[i],),
                      {P[i]: b.current}, {P[i]: b.build()}, quantity=H, symbols=SYMBOLS,
                      stable={"term": -P[x] * sp.log(P[x])})


def kl() -> Derivation:
    """KL(p‖q): ∂/∂q_i = −p_i/q_i, ∂/∂p_i = log(p_i/q_i) + 1; KL(p‖p) = 0."""
    D = sp.Symbol("KL(p‖q)")
    expr = kl_expr()
    steps, grads = {}, {}
    bq = StepBuilder(D, expr, DOMAIN)
    bq.then("log of a quotient", _sum(P[x] * (sp.log(P[x]) - sp.log(Q[x]))))
    bq.restate(f"differentiate with respect to {Q[i]}", _d(bq.current, Q[i]), _d(D, Q[i]))
    bq.then("derivative of log; ∂q_x/∂q_i = δ_xi", -_sum(P[x] / Q[x] * sp.KroneckerDelta(x, i)))
    bq.then("the Kronecker delta picks x = i", -P[i] / Q[i])
    steps[Q[i]], grads[Q[i]] = bq.build(), bq.current
    bp = StepBuilder(D, expr, DOMAIN)
    bp.then("log of a quotient", _sum(P[x] * (sp.log(P[x]) - sp.log(Q[x]))))
    bp.restate(f"differentiate with respect to {P[i]}", _d(bp.current, P[i]), _d(D, P[i]))
    bp.then("product rule, derivative of log; ∂p_x/∂p_i = δ_xi",
            _sum((sp.log(P[x]) + 1 - sp.log(Q[x])) * sp.KroneckerDelta(x, i)))
    bp.then("the Kronecker delta picks x = i", sp.log(P[i] / Q[i]) + 1)
    # At q = p every log(q_x/p_x) vanishes: KL(p‖p) = 0, its minimum (Gibbs' inequality).
    same = StepBuilder(D, expr, DOMAIN, equal_under={Q: P}, rule="at q = p")
    same.then("log(p_x/p_x) = 0", sp.Integer(0))
    steps[P[i]], grads[P[i]] = bp.build() + same.build(), bp.current
    return Derivation("kl", "information", "KL divergence KL(p‖q) = −Σ p log(q/p)", expr,
                      (Q[i], P[i]), grads, steps, quantity=D, symbols=SYMBOLS,
                      stable={"term": P[x] * (sp.log(P[x]) - sp.log(Q[x]))})


def cross_entropy_kl() -> Derivation:
    """H(p, q) = H(p) + KL(p‖q), so ∂H(p,q)/∂q = ∂KL/∂q and both are minimised at q = p."""
    Hpq = sp.Symbol("H(p,q)")
    expr = cross_entropy_expr()
    dq = _d(Hpq, Q[i])
    Hp, KL = sp.Symbol("H(p)"), sp.Symbol("KL(p‖q)")
    b = StepBuilder(Hpq, expr, DOMAIN, equal_under={Hp: entropy_expr(), KL: kl_expr()})
    plogp = _sum(P[x] * sp.log(P[x]))
    b.then("add and subtract Σ_x p_x log p_x",
           sp.Add(-plogp, plogp, -_sum(P[x] * sp.log(Q[x])), evaluate=False))
    b.then("log of a quotient: log p_x − log q_x = −log(q_x/p_x)",
           sp.Add(-plogp, -_sum(P[x] * sp.log(Q[x] / P[x])), evaluate=False))
    b.then("the entropy H(p) plus the KL divergence KL(p‖q)", Hp + KL)
    # The gradient in q: H(p) is constant in q, so only KL(p‖q) contributes.
    b.restate(f"differentiate with respect to {Q[i]}", _d(Hp, Q[i]) + _d(KL, Q[i]), dq)
    b.then("H(p) does not depend on q: ∂H(p)/∂q_i = 0", _d(KL, Q[i]))
    b.then("∂KL(p‖q)/∂q_i (see `kl`)", -P[i] / Q[i])
    # Same check from the definition: the cross-entropy's own gradient is the same.
    StepBuilder(dq, _d(expr, Q[i]), DOMAIN).then("closed form", -P[i] / Q[i])
    # On the simplex (Σ_x q_x = 1) the Lagrangian's gradient −p_i/q_i + λ vanishes at q = p, λ = 1,
    # where KL(p‖p) = 0 is KL's minimum: minimising H(p, q) over q minimises KL(p‖q).
    dlag = sp.Derivative(sp.Symbol("ℒ"), Q[i], evaluate=False)
    lag = StepBuilder(dlag, _d(expr + lam * (_sum(Q[x]) - 1), Q[i]), DOMAIN,
                      rule="Lagrangian ℒ = H(p,q) + λ(Σ_x q_x − 1), differentiated")
    lag.then("as above; ∂/∂q_i of λ Σ_x q_x is λ", -P[i] / Q[i] + lam)
    at = StepBuilder(dlag, lag.current, DOMAIN, equal_under={Q: P, lam: 1},
                     rule="at q = p, λ = 1 (Σ_x p_x = 1)")
    at.then("stationary: the same point as KL's minimum KL(p‖p) = 0", sp.Integer(0))
    return Derivation(
        "cross_entropy_kl", "information",
        "Cross-entropy H(p,q) = H(p) + KL(p‖q): minimising it over q minimises KL",
        expr, (Q[i],), {Q[i]: b.current}, {Q[i]: b.build() + lag.build() + at.build()},
        quantity=Hpq, symbols={**SYMBOLS, "lambda": "Lagrange multiplier of Σ q = 1"},
        stable={"term": -P[x] * sp.log(Q[x])})
