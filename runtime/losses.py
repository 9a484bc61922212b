"""``loss_and_grad``: every loss of derive/, run by its generated fused Numba kernel.

``loss_and_grad(name, pred, target, *, reduction="mean", out=None, **options) -> (loss, grad)``

- ``loss``: a Python float for ``"mean"``/``"sum"``, an array of per-element (per-sample for
  ``softmax_ce``) losses for ``"none"``; ``grad`` = ∂loss/∂pred for mean/sum and the gradient
  of the sum for none, with ``pred``'s shape and dtype (written into ``out`` when given: a
  C-contiguous array of that shape and dtype, reused across calls to avoid page faults; it may
  be ``pred`` itself, for the gradient in place of the prediction, but no other overlap).
  Gradients of 4 MiB and more from mse, mae, smooth_l1, huber and softmax_ce are written
  with streaming stores (no read of ``out``'s old contents from memory).
- Options (PyTorch's names and semantics): ``smooth_l1``: ``beta`` (≥ 0; 0 gives L1);
  ``huber``: ``delta`` (> 0); ``lp``: ``p`` (≥ 1, |pred − target|^p); ``bce_logits``:
  ``pos_weight`` (a scalar or an array broadcastable to ``pred``); ``bce`` and
  ``bce_logits``: ``weight`` (an array broadcastable to ``pred`` that rescales each element's
  loss, as PyTorch's; the per-element kernel runs, then the weighting and the reduction, one
  extra pass); ``softmax_ce``: ``weight`` (shape (C,)), ``ignore_index`` (int, default −100),
  ``label_smoothing`` (0 ≤ ε ≤ 1).
- Dtypes: see :mod:`runtime.validate` (float32/float64 kept, float16 computed in float32,
  integer predictions rejected, targets converted to the prediction's dtype).
- ``bce`` takes probabilities in [0, 1] (checked, only when the loss comes out NaN, so the fast
  path pays nothing) and targets in [0, 1] (checked first, by a min and a max, as PyTorch
  rejects them); its logs are clamped at −100 as PyTorch does.
- ``out=`` may be ``pred`` (or ``target``) itself but must not overlap ``weight`` or
  ``pos_weight``, which are read after the gradient is written.
- NaN inputs give NaN losses and gradients (also for ``mae``, where PyTorch's sign(NaN) = 0
  gives 0). An empty batch gives PyTorch's result: mean → nan, sum → 0.

CuPy arrays are handed to ``runtime.cuda_dispatch`` (imported only then). ``pred`` decides the
side: a NumPy array (target, weight, pos_weight) with a CuPy ``pred``, or a CuPy array with a
NumPy one, is a TypeError naming the argument, as in runtime.nn and PyTorch; nothing is copied
implicitly. Python scalars (and 0-d ``pos_weight``) are options, fine on either side.
"""
from __future__ import annotations

import numpy as np

from . import validate
from .generated import PARALLEL_MIN, kernels, threads_for

#: Loss names and their options' defaults. runtime must not import derive; a test checks
#: that these names and aliases agree with derive.registry.
LOSSES: dict[str, dict[str, object]] = {
    "softmax_ce": {"weight": None, "ignore_index": -100, "label_smoothing": 0.0},
    "bce": {"weight": None},
    "bce_logits": {"pos_weight": None, "weight": None},
    "mse": {},
    "mae": {},
    "smooth_l1": {"beta": 1.0},
    "huber": {"delta": 1.0},
    "lp": {"p": 2.0},
}
ALIASES = {
    "ce": "softmax_ce",
    "cross_entropy": "softmax_ce",
    "crossentropy": "softmax_ce",
    "softmax_cross_entropy": "softmax_ce",
    "binary_cross_entropy": "bce",
    "bce_with_logits": "bce_logits",
    "binary_cross_entropy_with_logits": "bce_logits",
    "l2": "mse",
    "l1": "mae",
    "smoothl1": "smooth_l1",
}
SUFFIX = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}


def canonical(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in LOSSES:
        import difflib

        close = difflib.get_close_matches(key, list(LOSSES) + list(ALIASES), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(dict.fromkeys(ALIASES.get(c, c) for c in close))}?" \
            if close else ""
        raise ValueError(f"unknown loss {name!r}{hint} (losses: {', '.join(LOSSES)})")
    return key


def _options(name: str, options: dict) -> dict:
    unknown = sorted(set(options) - set(LOSSES[name]))
    if unknown:
        valid = ", ".join(LOSSES[name]) or "none"
        raise TypeError(f"{name} got unexpected option(s) {', '.join(unknown)}; valid: {valid}")
    return {**LOSSES[name], **options}


def loss_and_grad(name, pred, target, *, reduction="mean", out=None, **options):
    """(loss, ∂loss/∂pred) by the fused generated kernel; see the module docstring."""
    pw = options.get("pos_weight")  # a 0-d pos_weight is an option, fine on either side
    validate.same_side("pred", pred, target=target, out=out, weight=options.get("weight"),
                       pos_weight=None if isinstance(pw, np.ndarray) and pw.ndim == 0 else pw)
    if validate.any_cupy(pred, target, out):
        from . import cuda_dispatch

        return cuda_dispatch.loss_and_grad(name, pred, target, reduction=reduction, out=out,
                                           **options)
    name = canonical(name)
    reduction = validate.reduction(reduction)
    opts = _options(name, options)
    if name == "softmax_ce":
        return _softmax_ce(pred, target, reduction, out, **opts)
    return _elementwise(name, pred, target, reduction, out, opts)


def _elementwise(name, pred, target, reduction, out, opts):
    p = validate.float_input(pred, "pred")
    t = validate.like_input(target, "target", p)
    validate.same_shape(p, t, "pred", "target")
    dtype = SUFFIX[p.dtype]
    w = element_weight(np, opts.get("weight"), p)
    kernel_reduction = reduction if w is None else "none"
    args, variant = [], "default"
    option = scalar_option(name, opts, p.dtype)
    if option is not None:
        args.append(option)
    elif name == "bce_logits":
        pw = opts["pos_weight"]
        if pw is None or np.ndim(pw) == 0:
            args.append(1.0 if pw is None else validate.option_range("pos_weight", pw))
        else:
            pw = validate.like_input(pw, "pos_weight", p)
            try:
                shape = np.broadcast_shapes(pw.shape, p.shape)
            except ValueError:
                shape = None
            if shape != p.shape:
                raise ValueError(f"pos_weight has shape {pw.shape}, not broadcastable to pred's "
                                 f"shape {p.shape}")
            variant = "pos_weight_array"
    if name == "bce":
        check_bce_target(t)
    grad = np.empty_like(p) if out is None else validate.gradient_buffer(
        out, p.shape, p.dtype, inputs=(("pred", p), ("target", t)),
        apart=(("weight", w), ("pos_weight", pw if variant == "pos_weight_array" else None)))
    flat = [p.reshape(-1), t.reshape(-1)]
    if variant == "pos_weight_array":
        flat.append(np.ascontiguousarray(np.broadcast_to(pw, p.shape)).reshape(-1))
    kernel = kernels("numba_losses")[(name, variant, kernel_reduction, dtype)]
    with threads_for(p.size):
        if kernel_reduction == "none":
            loss = np.empty_like(p)
            kernel(*flat, loss.reshape(-1), grad.reshape(-1), *args)
        else:
            loss = float(kernel(*flat, grad.reshape(-1), *args))
    if w is not None:
        loss = weighted_reduction(np, w, loss, grad, reduction)
    if name == "bce" and np.isnan(loss).any():
        _check_probabilities(p)
    return loss, grad


def scalar_option(name: str, opts: dict, dtype) -> float | None:
    """The checked scalar option of an elementwise loss, as the host and device kernels take
    it: smooth_l1's beta, huber's delta, lp's p; None for the other losses."""
    if name == "smooth_l1":
        beta = validate.option_range("beta", opts["beta"], ge=0.0)
        b = np.dtype(dtype).type(beta)
        if b > 0 and b < 1 / np.finfo(dtype).max:  # the kernel's 1/beta would be inf
            raise ValueError(f"beta={opts['beta']!r} is too small for {np.dtype(dtype)} (1/beta "
                             f"overflows); use beta=0 for the L1 loss")
        return beta
    if name == "huber":
        return validate.option_range("delta", opts["delta"], gt=0.0)
    if name == "lp":
        lp_p = validate.option_range("p", opts["p"], ge=1.0)
        if not np.isfinite(lp_p):  # |x|^inf is 0 or inf: no gradient
            raise ValueError(f"p={opts['p']!r} must be finite")
        return lp_p
    return None


def element_weight(xp, weight, p):
    """``weight=`` of bce / bce_logits, checked against ``pred``; None when not given."""
    if weight is None:
        return None
    w = validate.like_input(weight, "weight", p, xp)
    try:
        shape = np.broadcast_shapes(tuple(w.shape), tuple(p.shape))
    except ValueError:
        shape = None
    if shape != tuple(p.shape):
        raise ValueError(f"weight has shape {tuple(w.shape)}, not broadcastable to pred's "
                         f"shape {tuple(p.shape)}")
    return w


def weighted_reduction(xp, w, loss, grad, reduction):
    """PyTorch's weighted BCE: w ⊙ ℓ, then the reduction (mean divides by the element count,
    not by Σw). ``loss``/``grad`` are the per-element losses and the gradient of their sum,
    both rescaled in place; returns the reduced loss (a float, a 0-d device array on CuPy)."""
    loss *= w
    grad *= w
    if reduction == "none":
        return loss
    total = loss.sum(dtype=np.float64)
    if reduction == "mean":
        n = loss.size
        total = total / n if n else total * np.nan  # PyTorch: the mean of nothing is nan
        if n:
            grad *= grad.dtype.type(1.0 / n)
    return float(total) if xp is np else total.astype(grad.dtype)


def check_bce_target(t) -> None:
    """PyTorch rejects bce targets outside [0, 1] (two reductions, no copy); also used by the
    device path (runtime.cuda_dispatch), after its own cheaper test, for the message."""
    _check_unit_interval(t, "target", "bce takes target probabilities in [0, 1]")


def _check_probabilities(p: np.ndarray) -> None:
    _check_unit_interval(p, "pred", "bce takes probabilities in [0, 1] (use bce_logits for "
                                    "logits)", fast=False)


def _check_unit_interval(a: np.ndarray, name: str, why: str, fast: bool = True) -> None:
    """ValueError naming the first element of ``a`` outside [0, 1]; NaN is allowed (NaN out)."""
    if not a.size:
        return
    if fast:  # min and max read the array without a temporary; NaN makes them inconclusive
        lo, hi = a.min(), a.max()
        if lo >= 0 and hi <= 1:
            return
    bad = (a < 0) | (a > 1)  # NaN compares false
    if bad.any():
        flat = int(np.argmax(bad.ravel()))
        pos = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        raise ValueError(f"{name} has {float(a.ravel()[flat])!r} at position {pos}; {why}")


def _softmax_ce(pred, target, reduction, out, weight, ignore_index, label_smoothing):
    """PyTorch's F.cross_entropy semantics: logits (C,), (N, C) or (N, C, d1, ...); class-index
    targets (integer, the logits' shape without C) or probabilities (float, the logits' shape)."""
    z = validate.float_input(pred, "pred")
    if z.ndim == 0:
        raise ValueError("pred must have a class dimension: shape (C,), (N, C) or (N, C, d1, ...)")
    cdim = 0 if z.ndim == 1 else 1
    C = z.shape[cdim]
    if C == 0:
        raise ValueError(f"pred has shape {z.shape}: no classes (C = 0)")
    ignore_index = validate.integer_option("ignore_index", ignore_index)
    eps = validate.option_range("label_smoothing", label_smoothing, ge=0.0, le=1.0)
    if weight is None:
        w = np.ones(C, z.dtype)
    else:
        w = validate.like_input(weight, "weight", z)
        if w.shape != (C,):
            raise ValueError(f"weight has shape {w.shape}; expected ({C},), one per class "
                             f"(pred has shape {z.shape})")
    t = np.asarray(target)
    prob = t.dtype.kind == "f" and t.shape == z.shape  # PyTorch: same shape means probabilities
    if t.shape == z.shape and t.dtype.kind in "biu":
        raise TypeError(f"target has pred's shape {z.shape} but dtype {t.dtype}: probabilities "
                        f"must be floating point (class labels need shape "
                        f"{z.shape[:cdim] + z.shape[cdim + 1:]})")
    if prob:
        t = validate.like_input(t, "target", z)
        validate.same_shape(z, t, "pred", "target")
        if ignore_index >= 0:
            raise ValueError(f"ignore_index={ignore_index} is not supported with probability "
                             f"targets (PyTorch); use a negative value")
    else:
        expected = z.shape[:cdim] + z.shape[cdim + 1:]
        if t.shape != expected:
            raise ValueError(f"target has shape {t.shape} but pred has shape {z.shape}: class "
                             f"labels need shape {expected} (probabilities need {z.shape})")
        t = validate.labels(t, C, ignore_index, "target")
    # Rows of C logits: move the class axis last (a copy for (N, C, d1, ...) inputs).
    if z.ndim <= 2:
        z2 = z.reshape(-1, C)
        moved = False
    else:
        z2 = np.ascontiguousarray(np.moveaxis(z, 1, -1)).reshape(-1, C)
        moved = True
    if prob:
        t2 = (np.ascontiguousarray(np.moveaxis(t, 1, -1)) if moved else t).reshape(-1, C)
    else:
        t2 = t.reshape(-1)
    if out is not None:
        validate.gradient_buffer(out, z.shape, z.dtype,
                                 inputs=(("pred", z),) + ((("target", t),) if prob else ()),
                                 apart=(("weight", w),))
    g2 = out.reshape(-1, C) if out is not None and not moved else np.empty_like(z2)
    dtype = SUFFIX[z.dtype]
    # Small inputs run the serial twin: no thread pool to wake or to limit.
    variant = ("prob" if prob else "index") + ("_serial" if z2.size < PARALLEL_MIN else "")
    kernel = kernels("numba_losses")[("softmax_ce", variant, reduction, dtype)]
    head = (z2, t2, w) + (() if prob else (ignore_index,)) + (eps,)
    if reduction == "none":
        rows = np.empty(z2.shape[0], z.dtype)
        kernel(*head, rows, g2)
        loss = rows.reshape(z.shape[:cdim] + z.shape[cdim + 1:]) if not moved else \
            rows.reshape((z.shape[0],) + z.shape[2:])
    else:
        loss = float(kernel(*head, g2))
    if moved:
        g = np.moveaxis(g2.reshape((z.shape[0],) + z.shape[2:] + (C,)), -1, 1)
        if out is not None:
            out[...] = g
            g = out
        else:
            g = np.ascontiguousarray(g)
    else:
        g = out if out is not None else g2.reshape(z.shape)
    return loss, g
