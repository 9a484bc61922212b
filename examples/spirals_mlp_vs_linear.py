"""An MLP against a linear classifier on two interleaved spirals (seed 001).

No line separates the two spirals, so a linear classifier (softmax regression, f = W x + b)
stays near chance; seed 001's two-layer network f = W2 max(0, W1 x + b1) + b2 (here with two
hidden ReLU layers of 64) bends its decision boundary around them. Both are trained with Adam
on the softmax cross-entropy; the decision regions are plotted side by side.

    python examples/spirals_mlp_vs_linear.py [--plot spirals.png | --no-plot]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py

from runtime.nn import MLP  # noqa: E402
from runtime.optim import Adam  # noqa: E402
from runtime.train import fit, pyplot, save_figure  # noqa: E402
from example_args import png_path  # noqa: E402


def two_spirals(n_per_class=200, noise=0.15, turns=1.75, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * turns * 2 * np.pi
    r = t / (turns * 2 * np.pi) * 3
    arm = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    X = np.concatenate([arm, -arm]) + rng.normal(scale=noise, size=(2 * n_per_class, 2))
    y = np.repeat([0, 1], n_per_class)
    return X, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", type=png_path, default="spirals.png")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)

    X, y = two_spirals(seed=0)
    X_test, y_test = two_spirals(seed=1)
    models = {
        "linear": MLP([2, 2], seed=0),
        "MLP 2-64-64-2 (ReLU)": MLP([2, 64, 64, 2], "relu", seed=0),
    }
    for name, model in models.items():
        hist = fit(model, X, y, Adam(model.parameters(), lr=0.01), epochs=400, batch_size=64,
                   seed=0, progress=False)
        print(f"{name}: train loss {hist.loss[-1]:.4f}, train accuracy "
              f"{model.accuracy(X, y):.4f}, test accuracy {model.accuracy(X_test, y_test):.4f} "
              f"({hist.updates} updates, {hist.seconds:.1f} s)")

    if not args.no_plot:
        plt = pyplot()
        if plt is None:
            print("note: matplotlib is not installed (pip install derivecli[plot]); no plot saved")
            return
        g = np.linspace(-4, 4, 300)
        gx, gy = np.meshgrid(g, g)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
        for ax, (name, model) in zip(axes, models.items()):
            p = model.predict_proba(grid)[:, 1].reshape(gx.shape)
            ax.contourf(gx, gy, p, levels=20, cmap="RdBu", alpha=0.6)
            ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1)
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", s=8, edgecolors="k", linewidths=0.2)
            ax.set(title=f"{name}: accuracy {model.accuracy(X_test, y_test):.2f}", aspect="equal")
        print(f"plot: {save_figure(fig, args.plot)}")


if __name__ == "__main__":
    main()
