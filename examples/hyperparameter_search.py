"""Hyper-parameter search, coarse then fine (seed 001): learning rate and width of an MLP.

Random search samples the learning rate on a log scale (1e-4 … 1) and the hidden width; the
fine stage samples again in a window around the best coarse configuration. Each trial trains
a 2-W-W-2 ReLU network (two hidden layers of width W) with SGD (momentum 0.9) on two spirals
for 40 epochs and is scored by its accuracy on a held-out set. Then a grid search over the learning rate alone, refined
between the best value's neighbours. Prints both results tables and the best configurations.

    python examples/hyperparameter_search.py
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.nn import MLP  # noqa: E402
from runtime.optim import SGD  # noqa: E402
from runtime.search import IntUniform, LogUniform, grid_search, random_search  # noqa: E402
from runtime.train import fit  # noqa: E402


def two_spirals(n_per_class=150, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi) * 3
    X = np.concatenate([arm, -arm]) + rng.normal(scale=noise, size=(2 * n_per_class, 2))
    return X, np.repeat([0, 1], n_per_class)


X, y = two_spirals(seed=0)
X_val, y_val = two_spirals(seed=1)


def train(lr, width=32):
    model = MLP([2, width, width, 2], "relu", seed=0)
    hist = fit(model, X, y, SGD(model.parameters(), lr=lr, momentum=0.9), epochs=40,
               batch_size=32, seed=0, progress=False)
    return {"val_accuracy": model.accuracy(X_val, y_val), "train_loss": hist.loss[-1]}


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # --help
    result = random_search(train, {"lr": LogUniform(1e-4, 1.0), "width": IntUniform(4, 64)},
                           n_trials=8, fine_trials=6, zoom=0.25, seed=0,
                           metric="val_accuracy", mode="max")
    print("random search, coarse then fine:")
    print(result.table())
    print(f"best: lr {result.best_config['lr']:.4g}, width {result.best_config['width']}, "
          f"validation accuracy {result.best_score:.4f}")
    print()
    grid = grid_search(train, {"lr": [1e-3, 1e-2, 1e-1, 1.0]}, metric="val_accuracy",
                       mode="max", refine_points=5)
    print("grid search over lr, then a finer grid around the best:")
    print(grid.table())
    print(f"best: lr {grid.best_config['lr']:.4g}, validation accuracy {grid.best_score:.4f}")


if __name__ == "__main__":
    main()
