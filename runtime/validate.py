"""Input checks shared by every backend, run before any kernel (kernels do no bounds checks).

Each check raises with a message naming the argument and the offending value or shapes. The
functions take NumPy arrays, and CuPy arrays where noted (``xp`` is the array's module), so the
CUDA dispatch reuses them.

Dtype policy (documented in ``runtime.loss_and_grad``):

- Predictions / logits / activation inputs: float32 and float64 are kept; float16 is computed in
  float32 (the result is float32); integer, bool and complex arrays are rejected (as PyTorch's
  losses reject them), with the conversion to use in the message.
- Targets, upstream gradients and weights: any real numeric dtype is converted to the
  prediction's dtype (an integer 0/1 target for ``bce`` is fine).
- Class labels: integer arrays only (float labels are rejected: a class index is not a number
  to round).
"""
from __future__ import annotations

import math

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
REDUCTIONS = ("mean", "sum", "none")


def array_module_name(x) -> str:
    """"cupy" for a CuPy array, "numpy" otherwise (decided from the type, cupy is not imported)."""
    return "cupy" if type(x).__module__.split(".")[0] == "cupy" else "numpy"


def any_cupy(*arrays) -> bool:
    return any(a is not None and array_module_name(a) == "cupy" for a in arrays)


def _kind(a) -> str:
    return f"{type(a).__module__.split('.')[0]}.{type(a).__name__}"


def same_side(lead_name: str, lead, **others) -> None:
    """TypeError for an array of ``others`` on the other side of ``lead`` (host vs device),
    as PyTorch's "Expected all tensors to be on the same device": nothing is copied
    implicitly. A host ``out`` with a device ``lead`` is left to cuda_dispatch, which names
    it itself."""
    if lead is None:  # the caller reports the missing argument
        return
    dev = array_module_name(lead) == "cupy"
    for name, a in others.items():
        if a is None or any_cupy(a) == dev or (name == "out" and dev):
            continue
        if dev and isinstance(a, np.ndarray):
            raise TypeError(f"{name} is a {_kind(a)} but {lead_name} is a {_kind(lead)} (on "
                            f"the device); move {name} with cupy.asarray({name}) (nothing is "
                            f"copied implicitly)")
        if not dev:
            raise TypeError(f"{name} is a {_kind(a)} but {lead_name} is a {_kind(lead)} (on "
                            f"the host); move {name} with cupy.asnumpy({name}), or "
                            f"{lead_name} with cupy.asarray({lead_name})")


def _xp(x):
    if array_module_name(x) == "cupy":
        import cupy

        return cupy
    return np


def float_input(x, name: str, xp=None):
    """``x`` as a C-contiguous float32/float64 array (float16 → float32); TypeError otherwise."""
    xp = xp or _xp(x)
    a = xp.asarray(x)
    dt = a.dtype
    # asarray(order="C"), not ascontiguousarray, which turns a 0-d array into 1-d.
    if dt in FLOAT_DTYPES:
        return xp.asarray(a, order="C")
    if dt == np.float16:
        return xp.asarray(a, dtype=np.float32, order="C")
    kind = {"i": "an integer", "u": "an unsigned integer", "b": "a bool", "c": "a complex"}.get(
        dt.kind, "a non-numeric")
    raise TypeError(f"{name} has {kind} dtype {dt}; expected float32 or float64 "
                    f"(convert with {name}.astype(np.float32) or np.float64)")


def like_input(x, name: str, ref, xp=None):
    """``x`` converted to ``ref``'s float dtype, C-contiguous; TypeError for non-real dtypes."""
    xp = xp or _xp(ref)
    a = xp.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {a.dtype}; expected a real numeric array")
    return xp.asarray(a, dtype=ref.dtype, order="C")


def same_shape(a, b, name_a: str, name_b: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{name_b} has shape {tuple(b.shape)} but {name_a} has shape "
                         f"{tuple(a.shape)}; they must be equal")


def reduction(value) -> str:
    if value not in REDUCTIONS:
        raise ValueError(f"reduction={value!r}; expected one of {', '.join(map(repr, REDUCTIONS))}")
    return value


def _real(name: str, value) -> float:
    if isinstance(value, (str, bytes)):  # float("0.1") would accept it; torch does not
        raise TypeError(f"{name}={value!r} is not a real number")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r} is not a real number") from None
    if math.isnan(v):
        raise ValueError(f"{name}={value!r} is NaN")
    return v


def option_range(name: str, value, *, ge=None, gt=None, le=None) -> float:
    """``value`` as a float, checked against the bounds; ValueError names the option and value."""
    v = _real(name, value)
    if ge is not None and not v >= ge:
        raise ValueError(f"{name}={value!r} must be >= {ge}")
    if gt is not None and not v > gt:
        raise ValueError(f"{name}={value!r} must be > {gt}")
    if le is not None and not v <= le:
        raise ValueError(f"{name}={value!r} must be <= {le}")
    return v


def integer_option(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer")
    if not -2**63 <= int(value) < 2**63:  # the kernels compare it with int64 labels
        raise ValueError(f"{name}={value!r} is outside the int64 range")
    return int(value)


def labels(target, n_classes: int, ignore_index: int, name: str = "target", xp=None):
    """Integer class labels, each in [0, n_classes) or == ignore_index; C-contiguous int64.

    The message names the first bad label and its position. Bounds are checked with array
    operations (on the device for CuPy); only the error path copies the position to the host.
    """
    xp = xp or _xp(target)
    t = xp.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name} has dtype {t.dtype}; class labels must be an integer array "
                        f"(or pass probabilities with the logits' shape)")
    if t.size:
        # Checked in the labels' own dtype: uint64 labels >= 2**63 would wrap in int64 (to
        # ignore_index, even).
        if t.dtype.kind == "u":
            bad = t >= n_classes
            if ignore_index >= 0:
                bad &= t != ignore_index
        else:
            bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
        if bool(bad.any()):
            flat = int(xp.argmax(bad.ravel()))
            pos = tuple(int(i) for i in np.unravel_index(flat, t.shape))
            value = int(t.ravel()[flat])
            raise ValueError(f"{name} has label {value} at position {pos}, outside "
                             f"[0, {n_classes}) (number of classes) and not "
                             f"ignore_index={ignore_index}")
    return xp.asarray(t, dtype=np.int64, order="C")


def _address(a) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def gradient_buffer(out, shape, dtype, name: str = "out", *, inputs=(), apart=(), xp=None):
    """Check a caller's gradient buffer: exact shape and dtype, C-contiguous, writeable,
    not overlapping ``inputs`` other than being one of them exactly (elementwise kernels read
    each element before writing it), and not overlapping ``apart`` at all (read after the
    gradient is written, or at other positions). Both are (label, array or None) pairs.
    ``xp``: the arrays' module (CuPy's may_share_memory compares bounds: no kernel, no read
    back)."""
    if not hasattr(out, "shape") or not hasattr(out, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(out.shape)}; the gradient has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise ValueError(f"{name} has dtype {out.dtype}; the gradient has dtype {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if array_module_name(out) == "numpy" and not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    share = (xp or np).may_share_memory
    for label, arr in inputs:
        if arr is None:
            continue
        same = (_address(arr) == _address(out) and arr.shape == out.shape
                and arr.strides == out.strides)
        if not same and share(out, arr):
            raise ValueError(f"{name} overlaps {label} without being the same array")
    for label, arr in apart:
        if arr is not None and share(out, arr):
            raise ValueError(f"{name} overlaps {label}, which is read after the gradient "
                             f"is written; pass a separate buffer")
    return out
