"""Gradient clipping in place, as ``torch.nn.utils.clip_grad_value_`` and ``clip_grad_norm_``.

The functions take the gradients themselves (a float32/float64 array or a list of them, of any
strides as torch takes; writeable for the clipping ones) rather than parameters with ``.grad``.
A gradient whose elements fill one block of memory (C or F order, transposed, axes permuted) is
worked on in place with no copy; a strided view (a slice with a step, reversed) is worked on as a
contiguous copy, and the clipped values are written back through the view. The rules are in
derive/optim.py (``clip_value_rule``, ``clip_scale_rule``, ``norm_rules``); the kernels in
runtime/generated/numba_optim.py.

CuPy gradients are clipped on the device by the CUDA kernels (``runtime.cuda_dispatch``), after
the same argument checks: the norms are then 0-d CuPy arrays, and the reduced norm is read back
once (one scalar) to compute the clipping coefficient. CuPy gradients must be C-contiguous.
NumPy and CuPy arrays are not mixed.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .generated import numba_optim as _gen
from .optim import FLOAT_DTYPES, _is_array, _is_device, _parallel

__all__ = ["clip_grad_value_", "clip_grad_norm_", "get_total_norm"]


def _grads(grads, name: str = "grads", write: bool = True) -> list[np.ndarray]:
    arrays = [grads] if isinstance(grads, np.ndarray) else list(grads)
    for k, g in enumerate(arrays):
        where = f"{name}[{k}]" if not isinstance(grads, np.ndarray) else name
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{where} is a {type(g).__name__}; expected a NumPy array")
        if g.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{where} has dtype {g.dtype}; expected float32 or float64")
        if write and not g.flags.writeable:
            raise ValueError(f"{where} is read-only: it is clipped in place")
    return arrays


def _flat(g: np.ndarray):
    """A 1-D C-contiguous view of all of g's elements when they fill one block of memory in
    some axis order (the kernels are elementwise or reductions, so the order does not matter),
    else None (a strided view). Never a copy."""
    if not g.flags.c_contiguous:
        g = g.transpose(np.argsort(g.strides, kind="stable")[::-1])  # largest stride first
        if not g.flags.c_contiguous:
            return None
    return g.reshape(-1)


def _read(g: np.ndarray) -> np.ndarray:
    """g's elements as a 1-D C-contiguous array: a view when possible, else a copy."""
    flat = _flat(g)
    return np.ascontiguousarray(g).reshape(-1) if flat is None else flat


def _apply(kernels, g: np.ndarray, scalar) -> None:
    """Run an elementwise in-place kernel over g; a strided g through a copy written back."""
    flat = _flat(g)
    work = np.ascontiguousarray(g).reshape(-1) if flat is None else flat
    kernels[(g.dtype.name, _parallel(work.size))](work, g.dtype.type(scalar))
    if flat is None:
        g[...] = work.reshape(g.shape)


def _once(grads):
    """An array as is, any other iterable as a list: a generator (as torch takes) is read once."""
    return grads if _is_array(grads) else list(grads)


def _on_device(grads) -> bool:
    """True for CuPy gradients (all of them), False for NumPy ones; TypeError when mixed."""
    arrays = [grads] if _is_array(grads) else list(grads)
    kinds = {_is_device(g) for g in arrays}
    if len(kinds) > 1:
        raise TypeError("grads mixes CuPy and NumPy arrays; clip the host and the device "
                        "gradients separately (nothing is copied between them)")
    return kinds == {True}


def _cuda():
    from . import cuda_dispatch

    return cuda_dispatch


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    return float(value)


def clip_grad_value_(grads, clip_value, foreach=None) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place (NaN stays NaN).

    ``foreach`` is accepted for torch's signature and ignored (one kernel per array)."""
    c = _number("clip_value", clip_value)
    if not c >= 0:
        raise ValueError(f"clip_value={clip_value!r} is invalid: it must be >= 0")
    grads = _once(grads)
    if _on_device(grads):
        return _cuda().clip_grad_value_(grads, c)
    rule = _gen.RULES["clip_grad_value"]
    (scalar,) = rule["scalars"](1, c)
    for g in _grads(grads):
        _apply(rule["kernels"], g, scalar)


def _norm_type(norm_type) -> float:
    """norm_type as a float: a real number, or a string float() reads ("inf"), as torch."""
    if isinstance(norm_type, str):
        try:
            return float(norm_type)
        except ValueError:
            raise ValueError(f"norm_type={norm_type!r} is not a number (use e.g. 2.0, 1.0 or "
                             f"'inf')") from None
    return _number("norm_type", norm_type)


def _norm_kernel(norm_type: float):
    if norm_type == math.inf:
        return _gen.NORMS["norm_max_abs"], ()
    if norm_type == 2.0:
        return _gen.NORMS["norm_sum_sq"], ()
    if norm_type == 1.0:
        return _gen.NORMS["norm_sum_abs"], ()
    if norm_type > 0 and math.isfinite(norm_type):
        return _gen.NORMS["norm_sum_pow"], (norm_type,)
    raise NotImplementedError(f"norm_type={norm_type!r}: only finite norm types > 0 and inf "
                              f"are implemented")


def get_total_norm(grads, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all gradients as one vector (torch.nn.utils.get_total_norm).

    Accumulated in float64; returned as a scalar of the gradients' dtype (float64 if mixed),
    a 0-d CuPy array for CuPy gradients. ``error_if_nonfinite``: RuntimeError for a NaN or
    infinite norm, as torch; ``foreach`` is accepted and ignored.
    """
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):  # one scalar read on a device
        _nonfinite(norm_type)
    return total


def _nonfinite(norm_type):
    raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite, "
                       f"so it cannot be clipped. To disable this error and scale the "
                       f"gradients by the non-finite norm anyway, set error_if_nonfinite=False")


def _total_norm(grads, norm_type):
    norm_type = _norm_type(norm_type)
    grads = _once(grads)
    if _on_device(grads):
        _norm_kernel(norm_type)  # the same check of norm_type
        return _cuda().get_total_norm(grads, norm_type)
    arrays = _grads(grads, write=False)
    if not arrays:
        return np.float64(0.0)
    spec, extra = _norm_kernel(norm_type)
    parts = [spec["kernels"][_parallel(g.size)](_read(g), *extra) for g in arrays]
    if spec["p"] == "inf":
        reduced = max(parts, key=lambda x: (math.isnan(x), x))  # a NaN anywhere wins
    else:
        reduced = math.fsum(parts) if all(map(math.isfinite, parts)) else sum(parts)
    total = spec["finish"](reduced, *extra)
    dtypes = {g.dtype for g in arrays}
    with np.errstate(over="ignore"):  # a norm beyond float32's range is inf, as torch's
        return (dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)).type(total)


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients by min(1, max_norm/(total_norm + 1e-6)), in place.

    Returns the total norm before clipping (as torch.nn.utils.clip_grad_norm_ does), a scalar
    of the gradients' dtype; the coefficient is computed in that dtype, as torch does.
    """
    max_norm = _number("max_norm", max_norm)
    if not max_norm >= 0:
        raise ValueError(f"max_norm={max_norm!r} is invalid: it must be >= 0")
    grads = _once(grads)
    if _on_device(grads):
        norm_type = _norm_type(norm_type)
        _norm_kernel(norm_type)
        return _cuda().clip_grad_norm_(grads, max_norm, norm_type, error_if_nonfinite)
    arrays = _grads(grads)
    total = get_total_norm(arrays, norm_type)
    if not arrays:
        return total
    if error_if_nonfinite and not math.isfinite(total):
        _nonfinite(norm_type)
    rule = _gen.RULES["clip_grad_scale"]
    (kappa,) = rule["scalars"](1, max_norm, total)
    kappa = total.dtype.type(kappa)
    if kappa == 1:  # ×1 is exact: skip the pass (torch multiplies anyway)
        return total
    for g in arrays:
        _apply(rule["kernels"], g, kappa)
    return total
