"""Seed 000's main example: binary cross-entropy through a sigmoid output, ∂L/∂z = σ(z) − y.

Prints the `bce` derivation step by step (each step checked by SymPy when it was built), then
numbers: the loss and its gradient at a few logits, the closed form against a central finite
difference of the loss. The numbers use the overflow-free forms the kernels evaluate (the
loss as bce_logits' softplus form, σ without exp overflow): the textbook log(1 − σ(z)) is
log(0) once σ(z) rounds to 1, from z ≈ 37 on.

    python examples/seed_bce_sigmoid.py [--z 0.8] [--y 1]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sympy as sp

from derive import get
from derive.functions import to_stable
from derive.symbols import pos_weight, y, z

sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py
from example_args import finite  # noqa: E402


def print_steps(d, wrt):
    print(f"{d.name}: {d.title}")
    for n, s in enumerate(d.steps_for(wrt), 1):
        lhs = s.lhs if s.lhs is not None else d.quantity
        mark = {"proved": "proved by SymPy", "numeric": s.note, "definition": "definition"}[s.check]
        print(f"{n:2d}. {s.rule}   [{mark}]")
        print("    " + sp.pretty(sp.Eq(lhs, s.expr, evaluate=False), use_unicode=True).replace("\n", "\n    "))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--z", type=finite, nargs="+", default=[-2.0, 0.0, 0.8, 3.0])
    ap.add_argument("--y", type=float, default=1.0, help="target in [0, 1]")
    args = ap.parse_args(argv)
    if not 0.0 <= args.y <= 1.0:
        ap.error(f"--y={args.y} is not in [0, 1]")
    d = get("bce")
    print_steps(d, "z")
    # L(σ(z), y) is bce_logits' loss with pos_weight 1: y·softplus(−z) + (1 − y)·softplus(z)
    through = get("bce_logits").stable["loss"].subs(pos_weight, 1)
    loss = sp.lambdify((z, y), through, "math")
    grad = sp.lambdify((z, y), to_stable(d.gradient("z")), "math")
    h = 1e-6
    print(f"\nnumbers for y = {args.y}:")
    for zv in args.z:
        fd = (loss(zv + h, args.y) - loss(zv - h, args.y)) / (2 * h)
        print(f"  z = {zv:+.2f}: L = {loss(zv, args.y):.6f}, dL/dz = sigma(z) - y = "
              f"{grad(zv, args.y):+.6f} (central difference {fd:+.6f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
