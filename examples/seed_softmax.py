"""Seed 001's softmax example: scores [0.5, 1.2, −0.3] → probabilities [0.244, 0.665, 0.091].

The probabilities come from derive's softmax (the definition softmax(z)_i = e^(z_i)/Σ_k e^(z_k)
that the softmax_ce derivation starts from) and from the stable kernel form exp(z_j − m)/s
that generated code evaluates; then the cross-entropy gradient softmax(z) − onehot(c).

    python examples/seed_softmax.py [--scores 0.5 1.2 -0.3] [--label 1]
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import sympy as sp

from derive import get, losses

sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py
from example_args import finite  # noqa: E402


def softmax_by_definition(scores):
    C = len(scores)
    values = {losses.Z[k]: sp.Float(v) for k, v in enumerate(scores)}
    return [float(losses.softmax(losses.Z, i, C).doit().subs(values)) for i in range(C)]


def softmax_by_kernel_form(scores):
    st = get("softmax_ce").stable
    prob = sp.lambdify((losses.zj, losses.m, losses.s), st["prob"], "math")
    shifted = sp.lambdify((losses.zj, losses.m), st["shifted_exp"], "math")
    m = max(scores)
    s = sum(shifted(v, m) for v in scores)
    return [prob(v, m, s) for v in scores]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scores", type=finite, nargs="+", default=[0.5, 1.2, -0.3])
    ap.add_argument("--label", type=int, default=1, help="true class for the loss and gradient")
    args = ap.parse_args(argv)
    if not 0 <= args.label < len(args.scores):
        ap.error(f"--label={args.label} is not a class index for {len(args.scores)} scores")
    d = get("softmax_ce")
    print("scores z =", args.scores)
    # exp(z) itself overflows a float above z ≈ 709.78 (the definition above is evaluated by
    # SymPy, which does not overflow, and the kernel form subtracts the max first)
    print("exp(z)   = [" + ", ".join(f"{sp.exp(sp.Float(v)):.5g}" if v > 709 else
                                     repr(round(math.exp(v), 4)) for v in args.scores) + "]")
    p = softmax_by_definition(args.scores)
    seed_scores = args.scores == [0.5, 1.2, -0.3]
    print("softmax(z) =", [round(v, 3) for v in p],
          *[" (seed 001: [0.244, 0.665, 0.091])"] * seed_scores)
    if seed_scores:
        # The seed's probabilities do not follow from its scores: their log-ratios are the
        # score differences, 0.7 and 1.5 here, but about 1.00 and 1.99 in the seed's numbers,
        # which are (to rounding) softmax([0, 1, -1]).
        seed = [0.244, 0.665, 0.091]
        print("  note: the seed's values are not softmax of these scores; log-ratios of the seed's",
              f"values: {math.log(seed[1] / seed[0]):.2f}, {math.log(seed[1] / seed[2]):.2f}",
              f"(score differences 0.70, 1.50); softmax([0, 1, -1]) =",
              [round(v, 3) for v in softmax_by_definition([0.0, 1.0, -1.0])])
    pk = softmax_by_kernel_form(args.scores)
    print("stable form exp(z_j - m)/s =", [round(v, 3) for v in pk],
          f" max difference {max(abs(a - b) for a, b in zip(p, pk)):.1e}")
    C, c = len(args.scores), args.label
    loss = float(d.expr.subs({losses.C: C, losses.c: c}).doit()
                 .subs({losses.Z[k]: v for k, v in enumerate(args.scores)}))
    print(f"cross-entropy for class {c}: -log softmax(z)_{c} = {loss:.4f}")
    grad = [float(d.gradient().subs({losses.C: C, losses.i: i}).doit()
                  .subs(losses.Y[i], int(i == c)).subs({losses.Z[k]: v for k, v in enumerate(args.scores)}))
            for i in range(C)]
    print(f"dL/dz = softmax(z) - onehot({c}) =", [round(v, 3) for v in grad])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
