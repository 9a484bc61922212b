"""NumPy references for the optimizer tests, written from torch.optim's documented algorithms.

Each function is the pseudo-code of the torch.optim docs (textbook order, float64 NumPy),
independent of derive/optim.py's kernel forms. ``state`` maps torch's state keys to arrays and
is updated in place; ``t`` is the step count (1 on the first step).
"""
from __future__ import annotations

import numpy as np

#: torch.optim's defaults, by optimizer (what runtime.optim must also use).
DEFAULTS = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
}

#: Non-default settings that exercise every term (switched-off options are zeroed per variant).
BUSY = {
    "sgd": dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.05),
    "adagrad": dict(lr=0.1, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.1, eps=1e-10),
    "rmsprop": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.05, momentum=0.5),
    "adam": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-8, weight_decay=0.05),
    "adamw": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-8, weight_decay=0.05),
}


def hyper_for(optimizer: str, options: dict) -> dict:
    """torch keyword arguments that select the variant ``options`` (off switches zeroed)."""
    h = dict(BUSY[optimizer])
    if not options.get("weight_decay", True):
        h["weight_decay"] = 0.0
    if not options.get("momentum", True):
        h["momentum"] = 0.0
    if optimizer == "sgd":
        h["nesterov"] = bool(options.get("nesterov"))
        if h["nesterov"]:
            h["dampening"] = 0.0
    if optimizer == "rmsprop":
        h["centered"] = bool(options.get("centered"))
    if optimizer in ("adam", "adamw"):
        h["amsgrad"] = bool(options.get("amsgrad"))
    return h


def init_state(optimizer: str, h: dict, shape) -> dict:
    z = lambda: np.zeros(shape)  # noqa: E731
    if optimizer == "sgd":
        return {"momentum_buffer": None} if h.get("momentum", 0) != 0 else {}
    if optimizer == "adagrad":
        return {"sum": np.full(shape, float(h.get("initial_accumulator_value", 0.0)))}
    if optimizer == "rmsprop":
        s = {"square_avg": z()}
        if h.get("momentum", 0) > 0:
            s["momentum_buffer"] = z()
        if h.get("centered"):
            s["grad_avg"] = z()
        return s
    s = {"exp_avg": z(), "exp_avg_sq": z()}
    if h.get("amsgrad"):
        s["max_exp_avg_sq"] = z()
    return s


def step(optimizer: str, p, g, state: dict, h: dict, t: int):
    """One documented update; returns the new parameter (state updated in place)."""
    h = {**DEFAULTS[optimizer], **h}
    p, g = np.asarray(p, np.float64), np.asarray(g, np.float64)
    lr, wd = h["lr"], h["weight_decay"]
    if optimizer == "sgd":
        if wd != 0:
            g = g + wd * p
        mu = h["momentum"]
        if mu != 0:
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = g.copy()
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - h["dampening"]) * g
            b = state["momentum_buffer"]
            g = g + mu * b if h["nesterov"] else b
        return p - lr * g
    if optimizer == "adagrad":
        clr = lr / (1 + (t - 1) * h["lr_decay"])
        if wd != 0:
            g = g + wd * p
        state["sum"] = state["sum"] + g * g
        return p - clr * g / (np.sqrt(state["sum"]) + h["eps"])
    if optimizer == "rmsprop":
        a = h["alpha"]
        if wd != 0:
            g = g + wd * p
        state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
        vt = state["square_avg"]
        if h["centered"]:
            state["grad_avg"] = a * state["grad_avg"] + (1 - a) * g
            vt = vt - state["grad_avg"] ** 2
        if h["momentum"] > 0:
            state["momentum_buffer"] = h["momentum"] * state["momentum_buffer"] + g / (np.sqrt(vt) + h["eps"])
            return p - lr * state["momentum_buffer"]
        return p - lr * g / (np.sqrt(vt) + h["eps"])
    b1, b2 = h["betas"]
    if optimizer == "adamw":
        p = p - lr * wd * p
    elif wd != 0:
        g = g + wd * p
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    m_hat = state["exp_avg"] / (1 - b1**t)
    if h["amsgrad"]:
        state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], state["exp_avg_sq"])
        v_hat = state["max_exp_avg_sq"] / (1 - b2**t)
    else:
        v_hat = state["exp_avg_sq"] / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + h["eps"])


def rel_err(a, b) -> float:
    """max |a − b| relative to max |b| (the array's scale; entries near 0 do not blow it up)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)
