"""Linear regression by full-batch, single-sample and mini-batch gradient descent (seed 003).

Data as in the seed: np.random.seed(0); x = 2·rand(100, 1); y = 3 + 2x + 0.5·randn(100, 1).
The model is one dense layer h = w x + b with the MSE loss, trained for 50 epochs in each of
the three modes. With 100 samples the update counts are those the seed gives: 50 for the full
batch, 5000 for single samples, 100/20 × 50 = 250 for mini-batches of 20. (The seed's own
PyTorch loop computes the loss on the full x, y inside the batch loop, so it is really
full-batch descent repeated 5 times per epoch.) Each mode gets a step size it is stable with:
fewer, less noisy updates allow a larger one.

    python examples/linear_regression.py [--plot linear_regression.png | --no-plot]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py

from runtime.nn import MLP  # noqa: E402
from runtime.optim import SGD  # noqa: E402
from runtime.train import fit, pyplot, save_figure  # noqa: E402
from example_args import png_path  # noqa: E402

MODES = [("full-batch", None, 0.4), ("single-sample", 1, 0.01), ("mini-batch", 20, 0.1)]
EPOCHS = 50


def seed_data():
    rng = np.random.RandomState(0)  # the seed's np.random.seed(0) stream
    x = 2 * rng.rand(100, 1)
    y = 3 + 2 * x + rng.randn(100, 1) * 0.5
    return x, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", type=png_path, default="linear_regression.png", help="PNG path for the curves")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)

    x, y = seed_data()
    X1 = np.hstack([x, np.ones_like(x)])
    w_ls, b_ls = np.linalg.lstsq(X1, y[:, 0], rcond=None)[0]
    print("data: y = 3 + 2x + 0.5·noise, 100 samples (seed 003)")
    print(f"least squares (best fit to this noisy sample): w = {w_ls:.4f}, b = {b_ls:.4f}")
    print(f"{'mode':<14} {'batch':>5} {'lr':>5} {'epochs':>6} {'updates':>7} {'w':>7} {'b':>7} {'MSE':>7}")
    runs = {}
    for name, batch, lr in MODES:
        model = MLP([1, 1], loss="mse", dtype=np.float64, seed=1)
        opt = SGD(model.parameters(), lr=lr)
        hist = fit(model, x, y, opt, epochs=EPOCHS, batch_size=batch, shuffle=True, seed=0,
                   progress=False)
        (w,), b = model.parameters()[0][0], model.parameters()[1][0]
        mse = model.loss(x, y)
        runs[name] = hist
        print(f"{name:<14} {batch or len(x):>5} {lr:>5} {EPOCHS:>6} {hist.updates:>7} "
              f"{w:>7.4f} {b:>7.4f} {mse:>7.4f}")

    if not args.no_plot:
        plt = pyplot()
        if plt is None:
            print("note: matplotlib is not installed (pip install derivecli[plot]); no plot saved")
        else:
            fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
            for name, hist in runs.items():
                left.plot(hist.epoch, hist.loss, marker=".", lw=1,
                          label=f"{name} ({hist.updates} updates)")
            left.set(yscale="log", xlabel="epoch", ylabel="training MSE (epoch mean)",
                     title="three modes of gradient descent")
            left.legend()
            right.scatter(x, y, s=8, color="gray", label="data")
            grid = np.linspace(0, 2, 2)
            right.plot(grid, 3 + 2 * grid, "k--", label="y = 3 + 2x")
            right.plot(grid, b_ls + w_ls * grid, label="least squares")
            right.set(xlabel="x", ylabel="y", title="fit")
            right.legend()
            print(f"plot: {save_figure(fig, args.plot)}")


if __name__ == "__main__":
    main()
