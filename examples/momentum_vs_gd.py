"""Momentum against plain gradient descent on f(x, y) = x² + 2y² (seed 001's worked example).

lr 0.1, momentum 0.9, start (1, 1), v = μ v + ∇f, (x, y) −= lr · v: exactly
``runtime.optim.SGD(lr=0.1, momentum=0.9)``. Prints the first iterates and how many steps each
method needs to bring f below 1e−6, and plots the two trajectories over the contours of f.

On this well-conditioned bowl heavy-ball momentum with μ = 0.9 overshoots and spirals in: its
contraction per step is √μ ≈ 0.95 against plain descent's 1 − 2·lr = 0.8 along x, so here it is
the slower of the two. Momentum pays off in long narrow valleys (``--valley`` runs
f = x² + 50y² with lr 0.015, where plain descent crawls along x).

    python examples/momentum_vs_gd.py [--valley] [--plot momentum_vs_gd.png | --no-plot]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py

from runtime.optim import SGD  # noqa: E402
from runtime.train import pyplot, save_figure  # noqa: E402
from example_args import png_path, positive  # noqa: E402


def run(curvature, lr, momentum, steps, tol=1e-6):
    """Iterates of SGD on f = x² + c·y² from (1, 1); the first step with f < tol (or None)."""
    c = np.array([1.0, curvature])
    w = np.array([1.0, 1.0])
    opt = SGD([w], lr=lr, momentum=momentum)
    path, reached = [w.copy()], None
    for k in range(1, steps + 1):
        opt.step([2 * c * w])  # ∇f = (2x, 2c·y)
        path.append(w.copy())
        if reached is None and np.sum(c * w**2) < tol:
            reached = k
    return np.array(path), reached


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--valley", action="store_true", help="f = x² + 50y², lr 0.015")
    ap.add_argument("--steps", type=positive, default=600)
    ap.add_argument("--plot", type=png_path, default="momentum_vs_gd.png")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    curvature, lr = (50.0, 0.015) if args.valley else (2.0, 0.1)
    print(f"f(x, y) = x² + {curvature:g}y², start (1, 1), lr {lr}")
    gd, gd_at = run(curvature, lr, 0.0, args.steps)
    mom, mom_at = run(curvature, lr, 0.9, args.steps)
    print("step  gradient descent (x, y)     momentum 0.9 (x, y)")
    for k in range(min(4, args.steps + 1)):  # the first iterates, as many as were run
        print(f"{k:>4}  ({gd[k, 0]:+.4f}, {gd[k, 1]:+.4f})        ({mom[k, 0]:+.4f}, {mom[k, 1]:+.4f})")
    for name, at in (("gradient descent", gd_at), ("momentum 0.9", mom_at)):
        print(f"{name}: f < 1e-6 after {at if at else f'more than {args.steps}'} steps")

    if not args.no_plot:
        plt = pyplot()
        if plt is None:
            print("note: matplotlib is not installed (pip install derivecli[plot]); no plot saved")
            return
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        g = np.linspace(-1.2, 1.2, 200)
        X, Y = np.meshgrid(g, g)
        left.contour(X, Y, X**2 + curvature * Y**2, levels=15, cmap="Greys", linewidths=0.6)
        for name, path in (("gradient descent", gd), ("momentum 0.9", mom)):
            left.plot(path[:60, 0], path[:60, 1], marker=".", ms=3, lw=1, label=name)
        left.set(xlabel="x", ylabel="y", title="first 60 steps", aspect="equal")
        left.legend()
        c = np.array([1.0, curvature])
        for name, path in (("gradient descent", gd), ("momentum 0.9", mom)):
            right.semilogy(np.sum(c * path**2, axis=1) + 1e-300, label=name)
        right.set(xlabel="step", ylabel="f(x, y)", title="objective", ylim=(1e-12, 10))
        right.legend()
        print(f"plot: {save_figure(fig, args.plot)}")


if __name__ == "__main__":
    main()
