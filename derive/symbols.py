"""The symbols every derivation shares, with their meaning, so names agree across the project."""
import sympy as sp

# Predictions, targets, logits, activations.
yhat = sp.Symbol("yhat", real=True)  # a prediction (probability for bce)
y = sp.Symbol("y", real=True)  # a target
z = sp.Symbol("z", real=True)  # a pre-activation / logit
a = sp.Symbol("a", real=True)  # an activation's output a = f(z)
r = sp.Symbol("r", real=True)  # the residual ŷ − y
L = sp.Symbol("L")  # the loss

# Loss options (PyTorch's names).
beta = sp.Symbol("beta", positive=True)  # smooth_l1
delta = sp.Symbol("delta", positive=True)  # huber
pos_weight = sp.Symbol("p_w", positive=True)  # bce_logits weight of positive targets
negative_slope = sp.Symbol("alpha", positive=True)  # leaky_relu

MEANING = {
    "yhat": "prediction ŷ",
    "y": "target",
    "z": "logit / pre-activation",
    "a": "activation output a = f(z)",
    "r": "residual ŷ − y",
    "beta": "SmoothL1 threshold β",
    "delta": "Huber threshold δ",
    "p_w": "weight of positive targets (pos_weight)",
    "alpha": "negative slope of leaky ReLU",
}
