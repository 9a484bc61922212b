"""Vanishing gradients: per-layer gradient norms of deep sigmoid and ReLU nets, Xavier vs He init.

Seed 000/001: back-propagation multiplies δ by W_lᵀ and by f'(z) once per layer. σ'(z) ≤ 1/4,
so in a deep sigmoid net ‖∂L/∂W_l‖ shrinks geometrically towards the input. ReLU's slope is 1
where it is active: its gradients do not vanish. Initialisation sets the scale of the signal:
with He (variance 2/fan_in, seed 001's N(0, 2/N) for ReLU) a ReLU net's activations keep their
spread through the layers; with Xavier (1/N-like, meant for tanh/sigmoid) ReLU halves their
variance at every layer, so the signal, and with it every gradient, comes out much smaller.
The networks have 10 hidden layers of 64 units; everything is measured at initialisation on
one batch of 256 two-spiral points.

    python examples/vanishing_gradients.py [--plot vanishing_gradients.png | --no-plot]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # example_args.py

from runtime import init  # noqa: E402
from runtime.nn import MLP, Activation, Dense  # noqa: E402
from runtime.train import pyplot, save_figure  # noqa: E402
from example_args import png_path  # noqa: E402

DEPTH, WIDTH = 10, 64
CONFIGS = [("sigmoid", "xavier"), ("sigmoid", "he"), ("relu", "xavier"), ("relu", "he")]
# Seed 001's two rules as stated, whatever the activation: Xavier N(0, 2/(fan_in + fan_out))
# (1/N for square layers), He N(0, 2/fan_in).
RULES = {"xavier": lambda w, seed: init.xavier_normal_(w, gain=1.0, seed=seed),
         "he": lambda w, seed: init.kaiming_normal_(w, nonlinearity="relu", seed=seed)}


def measure(activation, rule, X, y, seed=0):
    """(‖∂L/∂W_l‖ per dense layer, std of each hidden layer's activations) at initialisation."""
    model = MLP([X.shape[1]] + [WIDTH] * DEPTH + [2], activation, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, Dense):
            RULES[rule](layer.params["weight"], rng)
    model.loss_and_backward(X, y)
    grads = np.array([np.linalg.norm(layer.grads["weight"]) for layer in model.layers
                      if isinstance(layer, Dense)])
    spread = np.array([layer._a.std() for layer in model.layers if isinstance(layer, Activation)])
    return grads, spread


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", type=png_path, default="vanishing_gradients.png")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    t = np.sqrt(rng.random(128)) * 3.5 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.5 * np.pi) * 3
    X = np.concatenate([arm, -arm])
    y = np.repeat([0, 1], 128)

    norms, spreads = {}, {}
    for act, rule in CONFIGS:
        norms[(act, rule)], spreads[(act, rule)] = measure(act, rule, X, y)
    print(f"‖∂L/∂W_l‖ at initialisation, {DEPTH} hidden layers of {WIDTH} (layer 1 = input side)")
    print("activation init     " + " ".join(f"{k:>8}" for k in range(1, DEPTH + 2))
          + "  first/last")
    for (act, rule), n in norms.items():
        print(f"{act:<10} {rule:<8} " + " ".join(f"{v:8.1e}" for v in n)
              + f"  {n[0] / n[-1]:9.2e}")
    print("standard deviation of each hidden layer's activations")
    print("activation init     " + " ".join(f"{k:>8}" for k in range(1, DEPTH + 1)))
    for (act, rule), s in spreads.items():
        print(f"{act:<10} {rule:<8} " + " ".join(f"{v:8.1e}" for v in s))

    if not args.no_plot:
        plt = pyplot()
        if plt is None:
            print("note: matplotlib is not installed (pip install derivecli[plot]); no plot saved")
            return
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
        for (act, rule), n in norms.items():
            style = dict(marker="o", ls="-" if act == "relu" else "--", label=f"{act}, {rule}")
            ax.semilogy(np.arange(1, len(n) + 1), n, **style)
            bx.semilogy(np.arange(1, DEPTH + 1), spreads[(act, rule)], **style)
        ax.set(xlabel="layer (1 = input side)", ylabel="‖∂L/∂W‖",
               title="gradient norm per layer at initialisation")
        bx.set(xlabel="hidden layer", ylabel="std of activations", title="forward signal")
        ax.legend()
        print(f"plot: {save_figure(fig, args.plot)}")


if __name__ == "__main__":
    main()
