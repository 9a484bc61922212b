"""Seed 001's entropy, KL and cross-entropy examples, from derive/info.py's expressions.

The entropies of its two examples, H([0, 0, 1]) = 0 ("no information") and H([0.3, 0.3, 0.4])
(the larger, "more uncertain"); then
KL([0, 0, 1] ‖ [0.3, 0.3, 0.4]) and KL([0, 0, 1] ‖ [0, 0.1, 0.9]): the seed says "log base e"
but its numbers 0.39 and 0.04 are base 10 (truncated to two decimals); both bases are printed.
Then H(p, q) = H(p) + KL(p‖q), and a one-hot target's cross-entropy −log 0.21.

    python examples/seed_kl.py
"""
from __future__ import annotations

import argparse

import sympy as sp

from derive import info

P_TRUE = [0, 0, 1]
EXAMPLES = [[0.3, 0.3, 0.4], [0, 0.1, 0.9]]
ENTROPY_EXAMPLES = [[0, 0, 1], [0.3, 0.3, 0.4]]  # seed 001: no uncertainty, then a lot
CE_Q = [0.21, 0.01, 0.78]  # seed 001: the true class has q = 0.21


def evaluate(expr, p, q):
    """Sum the terms of ``expr`` (a Σ over x) at p, q; a term with p_x = 0 is its limit, 0."""
    term, (x, _, _) = expr.args[0], expr.args[1] if isinstance(expr, sp.Sum) else (None, (None,) * 3)
    total = 0.0
    for k, (pv, qv) in enumerate(zip(p, q)):
        t = term.subs(x, k)
        if pv == 0:  # 0·log(0) and 0·log(q/0): the limit p → 0⁺ is 0
            limit = sp.limit(t.subs(info.Q[k], sp.Rational(qv) if qv else sp.Rational(1, 2)),
                             info.P[k], 0, "+")
            assert limit == 0, limit
            continue
        total += float(t.subs({info.P[k]: sp.Float(pv), info.Q[k]: sp.Float(qv)}))
    return total


def summed(expr):
    """``expr`` = sign · Σ term (as info writes it): return (sign, Sum)."""
    if isinstance(expr, sp.Mul):
        sign, rest = expr.as_coeff_Mul()
        return float(sign), rest
    return 1.0, expr


def value(expr, p, q):
    sign, s = summed(expr)
    return sign * evaluate(s, p, q) + 0.0  # no "-0.0"


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # --help
    for p in ENTROPY_EXAMPLES:
        h, h10 = value(info.entropy_expr(), p, p), value(info.entropy_expr(base=10), p, p)
        print(f"H({p}) = {h:.4f} (base e), {h10:.4f} (base 10)")
    for q in EXAMPLES:
        e = value(info.kl_expr(), P_TRUE, q)
        b10 = value(info.kl_expr(base=10), P_TRUE, q)
        print(f"KL({P_TRUE} || {q}) = {e:.4f} (base e), {b10:.4f} (base 10; the seed's {int(b10 * 100) / 100:.2f})")
    p, q = [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]
    h, kl, ce = (value(info.entropy_expr(), p, q), value(info.kl_expr(), p, q),
                 value(info.cross_entropy_expr(), p, q))
    print(f"p = {p}, q = {q}: H(p) = {h:.4f}, KL(p||q) = {kl:.4f}, H(p,q) = {ce:.4f} = H(p) + KL(p||q) = {h + kl:.4f}")
    one_hot = [1, 0, 0]
    ce = value(info.cross_entropy_expr(), one_hot, CE_Q)
    print(f"one-hot p = {one_hot}, q = {CE_Q}: H(p,q) = -log(0.21) = {ce:.4f}; H(p) = "
          f"{value(info.entropy_expr(), one_hot, CE_Q):.1f}, so H(p,q) = KL(p||q) = "
          f"{value(info.kl_expr(), one_hot, CE_Q):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
