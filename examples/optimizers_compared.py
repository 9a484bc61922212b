"""Seven optimizers on one problem: the same MLP, the same initial weights, the same batches.

SGD, SGD with momentum (seed 001: v = μv + g), Nesterov momentum, Adagrad (r += g²), RMSprop
(r = ρr + (1 − ρ)g²), Adam (bias-corrected moments) and AdamW (decoupled weight decay), each
with a learning rate usual for it, train a 2-32-32-2 tanh network on two spirals for 150 epochs
of mini-batches of 32. Prints the final loss and accuracy of each and plots the loss curves.

    python examples/optimizers_compared.py [--plot optimizers.png | --no-plot]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py

from runtime import optim  # noqa: E402
from runtime.nn import MLP  # noqa: E402
from runtime.train import fit, pyplot, save_figure  # noqa: E402
from example_args import png_path, positive  # noqa: E402

OPTIMIZERS = [
    ("SGD", lambda p: optim.SGD(p, lr=0.1)),
    ("SGD momentum 0.9", lambda p: optim.SGD(p, lr=0.02, momentum=0.9)),
    ("Nesterov 0.9", lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True)),
    ("Adagrad", lambda p: optim.Adagrad(p, lr=0.05)),
    ("RMSprop", lambda p: optim.RMSprop(p, lr=0.003)),
    ("Adam", lambda p: optim.Adam(p, lr=0.005)),
    ("AdamW", lambda p: optim.AdamW(p, lr=0.005, weight_decay=0.01)),
]


def two_spirals(n_per_class=200, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi) * 3
    X = np.concatenate([arm, -arm]) + rng.normal(scale=noise, size=(2 * n_per_class, 2))
    return X, np.repeat([0, 1], n_per_class)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=positive, default=150)
    ap.add_argument("--plot", type=png_path, default="optimizers.png")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    X, y = two_spirals()
    start = MLP([2, 32, 32, 2], "tanh", seed=0).state_dict()
    print(f"{'optimizer':<18} {'final loss':>10} {'accuracy':>8} {'seconds':>7}")
    histories = {}
    for name, make in OPTIMIZERS:
        model = MLP([2, 32, 32, 2], "tanh", seed=0)
        model.load_state_dict(start)  # the same initial weights for every optimizer
        hist = fit(model, X, y, make(model.parameters()), epochs=args.epochs, batch_size=32,
                   seed=0, progress=False)
        histories[name] = hist
        print(f"{name:<18} {hist.loss[-1]:>10.4f} {model.accuracy(X, y):>8.4f} {hist.seconds:>7.1f}")

    if not args.no_plot:
        plt = pyplot()
        if plt is None:
            print("note: matplotlib is not installed (pip install derivecli[plot]); no plot saved")
            return
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for name, hist in histories.items():
            ax.semilogy(hist.epoch, hist.loss, label=name)
        ax.set(xlabel="epoch", ylabel="training loss (epoch mean)",
               title="two spirals, 2-32-32-2 tanh MLP, batch 32")
        ax.legend()
        print(f"plot: {save_figure(fig, args.plot)}")


if __name__ == "__main__":
    main()
