"""``activation`` and ``activation_grad``: the generated activation kernels.

- ``activation(name, z, **options) -> a = f(z)``, with z's shape and dtype.
- ``activation_grad(name, z, upstream, *, output=None, out=None, **options)
  -> upstream ⊙ f'(z)``. With ``output`` (the saved a = f(z) of the forward pass) the kernel
  reads a instead of z where derive writes f' through the output (sigmoid a(1 − a),
  tanh 1 − a², relu and leaky_relu by the sign of a); ``z`` may then be None.
- Options: ``leaky_relu``: ``negative_slope`` (default 0.01, any finite number as PyTorch; the
  output form needs it > 0, else z is used).
- Dtypes as :mod:`runtime.validate`; ``upstream``/``output`` must have z's shape.
- ``out=``: a C-contiguous array of the result's shape and dtype; it may be one of the inputs
  itself (in place) but must not otherwise overlap them.
- NaN in → NaN out, forward and backward (PyTorch's relu backward passes the upstream
  gradient through at z = NaN; these kernels give NaN there).

CuPy arrays are handed to ``runtime.cuda_dispatch`` (imported only then). ``z`` (or ``output``
when z is not given) decides the side: an array on the other side is a TypeError naming it, as
in runtime.losses and PyTorch; nothing is copied implicitly.
"""
from __future__ import annotations

import math

import numpy as np

from . import validate
from .generated import kernels, threads_for

#: Activation names and their options' defaults (checked against derive.registry by a test).
ACTIVATIONS: dict[str, dict[str, object]] = {
    "sigmoid": {},
    "tanh": {},
    "relu": {},
    "leaky_relu": {"negative_slope": 0.01},
}
ALIASES = {"leakyrelu": "leaky_relu"}
SUFFIX = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}


def canonical(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r} (activations: {', '.join(ACTIVATIONS)})")
    return key


def _options(name: str, options: dict) -> list[float]:
    unknown = sorted(set(options) - set(ACTIVATIONS[name]))
    if unknown:
        valid = ", ".join(ACTIVATIONS[name]) or "none"
        raise TypeError(f"{name} got unexpected option(s) {', '.join(unknown)}; valid: {valid}")
    opts = {**ACTIVATIONS[name], **options}
    args = []
    if name == "leaky_relu":
        v = validate.option_range("negative_slope", opts["negative_slope"])
        if not math.isfinite(v):
            raise ValueError(f"negative_slope={opts['negative_slope']!r} must be finite")
        args.append(v)
    return args


def _buffer(out, ref, inputs):
    """``out`` checked (it may be one of ``inputs`` exactly, no other overlap), or a new array."""
    if out is None:
        return np.empty_like(ref)
    return validate.gradient_buffer(out, ref.shape, ref.dtype, inputs=inputs)


def activation(name, z, *, out=None, **options):
    """a = f(z) by the generated forward kernel."""
    validate.same_side("z", z, out=out)
    if validate.any_cupy(z, out):
        from . import cuda_dispatch

        return cuda_dispatch.activation(name, z, out=out, **options)
    name = canonical(name)
    args = _options(name, options)
    x = validate.float_input(z, "z")
    res = _buffer(out, x, (("z", x),))
    kernel = kernels("numba_activations")[(name, "default", "forward", SUFFIX[x.dtype])]
    with threads_for(x.size):
        kernel(x.reshape(-1), res.reshape(-1), *args)
    return res


def activation_grad(name, z, upstream, *, output=None, out=None, **options):
    """upstream ⊙ f'(z), through the saved ``output`` a = f(z) where derive allows."""
    lead = ("z", z) if z is not None else ("output", output)
    validate.same_side(*lead, upstream=upstream, output=None if z is None else output, out=out)
    if validate.any_cupy(z, upstream, output, out):
        from . import cuda_dispatch

        return cuda_dispatch.activation_grad(name, z, upstream, output=output, out=out,
                                             **options)
    name = canonical(name)
    args = _options(name, options)
    table = kernels("numba_activations")
    use_output = output is not None and not (name == "leaky_relu" and args[0] <= 0)
    if use_output:
        x = validate.float_input(output, "output")
        if z is not None:
            zz = np.asarray(z)
            validate.same_shape(x, zz, "output", "z")
        kind = "backward_output"
    else:
        if z is None:
            raise ValueError(f"{name}: z is needed (output=None, or leaky_relu with "
                             f"negative_slope <= 0, where a's sign does not give z's)")
        x = validate.float_input(z, "z")
        if output is not None:
            validate.same_shape(x, np.asarray(output), "z", "output")
        kind = "backward"
    key = (name, "default", kind, SUFFIX[x.dtype])
    if key not in table:  # no output form for this activation: use z
        if z is None:
            raise ValueError(f"{name} has no derivative through its output; pass z")
        x = validate.float_input(z, "z")
        key = (name, "default", "backward", SUFFIX[x.dtype])
    u = validate.like_input(upstream, "upstream", x)
    validate.same_shape(x, u, "z" if key[2] == "backward" else "output", "upstream")
    res = _buffer(out, x, (("z" if key[2] == "backward" else "output", x), ("upstream", u)))
    with threads_for(x.size):
        table[key](x.reshape(-1), u.reshape(-1), res.reshape(-1), *args)
    return res
