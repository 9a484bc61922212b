"""Weight initialisation: Xavier/Glorot and He/Kaiming, uniform and normal, seeded.

The formulas and defaults are torch.nn.init's, for a weight of shape (fan_out, fan_in) as in
``torch.nn.Linear`` (``z = a @ W.T + b``):

- ``xavier_uniform_``: U(−a, a), a = gain·√(6 / (fan_in + fan_out))
- ``xavier_normal_``: N(0, std²), std = gain·√(2 / (fan_in + fan_out))
- ``kaiming_uniform_``: U(−b, b), b = gain·√(3 / fan)
- ``kaiming_normal_``: N(0, std²), std = gain / √fan

With gain 1 and fan_in = fan_out = N, Xavier normal is seed 001's N(0, 1/N) for tanh/sigmoid;
Kaiming normal with ReLU's gain √2 is its N(0, 2/N). Functions ending in ``_`` fill the array in
place and return it, like torch's.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["calculate_gain", "fans", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "zeros_", "initialize_", "INITIALIZERS", "as_rng"]

_UNIT_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d")


def as_rng(seed) -> np.random.Generator:
    """A NumPy Generator from an int seed, None (fresh entropy) or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:  # NumPy's own message does not say which argument
            raise ValueError(f"seed={seed!r} must be >= 0")
        return np.random.default_rng(seed)
    raise TypeError(f"seed={seed!r} must be an int, None or numpy.random.Generator")


def _nonlinearity(name) -> str:
    """A nonlinearity's name in torch's spelling: any case, "leakyrelu" for "leaky_relu"."""
    name = str(name).lower()
    return "leaky_relu" if name == "leakyrelu" else name


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch.nn.init.calculate_gain: the gain that keeps activations' variance steady."""
    name = _nonlinearity(nonlinearity)
    if name in _UNIT_GAIN:
        return 1.0
    if name == "tanh":
        return 5.0 / 3.0
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"param={param!r} is not a valid negative slope (a number)")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if name == "selu":
        return 3.0 / 4.0
    raise ValueError(f"nonlinearity={nonlinearity!r} is not supported; valid: "
                     f"{', '.join(_UNIT_GAIN + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (fan_out, fan_in, *receptive field), as torch."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {shape}")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _float_array(w, name="w"):
    if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point numpy array, got "
                        f"{type(w).__name__}{'' if not hasattr(w, 'dtype') else ' ' + str(w.dtype)}")
    if not w.flags.writeable:
        raise ValueError(f"{name} is read-only; it is filled in place")
    return w


def _gain(gain) -> float:
    if isinstance(gain, (bool, np.bool_)) or not isinstance(gain, (int, float, np.integer,
                                                                   np.floating)):
        raise TypeError(f"gain={gain!r} must be a real number")
    if not (math.isfinite(gain) and gain >= 0):
        raise ValueError(f"gain={gain!r} must be finite and >= 0")
    return float(gain)


def _fill_uniform(w, bound, seed):
    if not w.size:  # torch: a no-op (its fans may be 0)
        return w
    w[...] = as_rng(seed).uniform(-bound, bound, size=w.shape)
    return w


def _fill_normal(w, std, seed):
    if not w.size:
        return w
    w[...] = as_rng(seed).normal(0.0, std, size=w.shape)
    return w


def xavier_uniform_(w: np.ndarray, gain: float = 1.0, *, seed=None) -> np.ndarray:
    fan_in, fan_out = fans(_float_array(w).shape)
    gain = _gain(gain)
    if not w.size:
        return w
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill_uniform(w, math.sqrt(3.0) * std, seed)


def xavier_normal_(w: np.ndarray, gain: float = 1.0, *, seed=None) -> np.ndarray:
    fan_in, fan_out = fans(_float_array(w).shape)
    gain = _gain(gain)
    if not w.size:
        return w
    return _fill_normal(w, gain * math.sqrt(2.0 / (fan_in + fan_out)), seed)


def _kaiming_std(shape, a, mode, nonlinearity):
    key = str(mode).lower()  # any case, as torch
    if key not in ("fan_in", "fan_out"):
        raise ValueError(f"mode={mode!r} is not valid; use 'fan_in' or 'fan_out'")
    fan_in, fan_out = fans(shape)
    fan = fan_in if key == "fan_in" else fan_out
    gain = calculate_gain(nonlinearity, a)
    if not math.isfinite(gain):  # a = nan or ±inf: NumPy would fill NaN or zeros
        raise ValueError(f"a={a!r} gives the non-finite gain {gain!r}; the negative slope "
                         f"must be finite")
    return gain / math.sqrt(fan) if fan else 0.0  # fan 0: an empty weight, nothing to fill


def kaiming_uniform_(w: np.ndarray, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", *, seed=None) -> np.ndarray:
    std = _kaiming_std(_float_array(w).shape, a, mode, nonlinearity)
    return _fill_uniform(w, math.sqrt(3.0) * std, seed)


def kaiming_normal_(w: np.ndarray, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", *, seed=None) -> np.ndarray:
    return _fill_normal(w, _kaiming_std(_float_array(w).shape, a, mode, nonlinearity), seed)


def zeros_(w: np.ndarray) -> np.ndarray:
    _float_array(w)[...] = 0
    return w


#: Names accepted by layers' ``init=`` (and their aliases).
INITIALIZERS = {
    "xavier_uniform": xavier_uniform_, "glorot_uniform": xavier_uniform_,
    "xavier_normal": xavier_normal_, "glorot_normal": xavier_normal_,
    "kaiming_uniform": kaiming_uniform_, "he_uniform": kaiming_uniform_,
    "kaiming_normal": kaiming_normal_, "he_normal": kaiming_normal_,
}


def initialize_(w: np.ndarray, name: str, activation: str = "linear", *, seed=None,
                negative_slope: float = 0.01) -> np.ndarray:
    """Fill ``w`` by the initializer ``name``, with the gain of the layer's ``activation``.

    Xavier gets ``calculate_gain(activation)``; Kaiming gets the gain of ReLU, or of leaky ReLU
    with its slope (for sigmoid/tanh/linear layers Kaiming uses ReLU's √2, the He rule as stated).
    """
    key = str(name).lower().replace("-", "_")
    if key not in INITIALIZERS:
        raise ValueError(f"init={name!r} is not known; valid: {', '.join(INITIALIZERS)}")
    fn = INITIALIZERS[key]
    leaky = _nonlinearity(activation) == "leaky_relu"  # its aliases too, as calculate_gain
    gain = calculate_gain(activation, negative_slope if leaky else None)  # checks activation
    if fn in (xavier_uniform_, xavier_normal_):
        return fn(w, gain, seed=seed)
    if leaky:
        return fn(w, a=negative_slope, nonlinearity="leaky_relu", seed=seed)
    return fn(w, nonlinearity="relu", seed=seed)
