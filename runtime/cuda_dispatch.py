"""The runtime's CuPy path: the generated CUDA kernels on CuPy arrays, results left on the device.

``runtime.loss_and_grad`` (and ``activation``/``activation_grad``) hand CuPy arrays here. The
semantics are the NumPy path's (see ``runtime.losses``), with two differences that keep
everything on the device: a ``mean``/``sum`` loss is a 0-d CuPy array of the prediction's dtype
(``float(loss)`` copies it to the host), and class labels are checked by a kernel that returns
only the first bad position (one scalar read back; the message is built only on that path).
An ``out=`` is checked by the NumPy path's rules (``out`` may be an input itself, must not
otherwise overlap one, nor overlap ``weight``/``pos_weight``) from the arrays' pointers and
strides, on the host, nothing read back; it must be a device array. The options' checks
(ranges, a ``beta`` whose reciprocal overflows, ``p`` = inf) are the NumPy path's own. ``bce``
reads back one flag per call (a target outside [0, 1], or a NaN loss: only then are the
predictions searched for a value outside [0, 1], as on the NumPy path); its errors come after
the kernel has run (an ``out=`` is written), where the NumPy path checks targets first.
``softmax_ce`` takes (C,), (N, C) and (N, C, d1, ...) logits; the last are copied with the
class axis last, as on the NumPy path.

Entry points: ``loss_and_grad``, ``activation``, ``activation_grad`` (called by the runtime
functions of the same names for CuPy arrays); ``activation_bias_forward`` (f(z + bias) in one
kernel, for runtime.nn's dense layers followed by an activation); ``optimizer_step(rule,
param, grad, state, scalars)`` (one fused in-place update by a derive.optim rule's kernel; the numbers of state
buffers and scalars are checked against the rule's kernel, and overlapping buffers are refused
as the Numba update kernels refuse them), ``clip_grad_value_``,
``get_total_norm`` and ``clip_grad_norm_`` (as ``runtime.clip``; the norm's reduced value is
read back once to finish it on the host).
``batchnorm_forward``, ``batchnorm_backward`` and ``dropout`` run the layer kernels of
runtime/generated/cupy_layers.py for ``runtime.nn`` models on the device (into the caller's
buffers, their sizes checked as the Numba layer kernels check them; nothing read back).

Kernels come from ``runtime/generated/cupy_<family>.py`` (CUDA source compiled by
``cupy.RawModule`` on first use). Launches go through :class:`Launcher`, so the tests can run
this module's logic on the host with the same kernel semantics.
"""
from __future__ import annotations

import functools
import importlib
import math
import warnings

import numpy as np

from . import validate

BLOCK = 256  # threads per block of the elementwise kernels (a multiple of 32)
WARP_MAX_C = 1024  # softmax_ce: up to this many classes one warp per row, else a block per row
SMEM_DEFAULT = 48 * 1024  # shared memory (static + dynamic) a block gets without opting in
SMEM_STATIC = 2048  # kept for the kernels' own __shared__ arrays (ptxas: at most 1280 bytes)
TAG = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
SCALAR = {np.dtype(np.float32): np.float32, np.dtype(np.float64): np.float64}


class Launcher:
    """Launches generated kernels with CuPy (a test substitutes a host emulation)."""

    def __init__(self):
        import cupy

        self.xp = cupy
        self._sms = None

    def launch(self, family: str, name: str, grid: int, block: int, args: tuple,
               shared_mem: int = 0) -> None:
        module = importlib.import_module(f"runtime.generated.cupy_{family}")
        # An absent optional array is None here: CuPy would hand the driver a null address
        # *of* the argument (the kernel reads garbage, not NULL); a 64-bit zero is NULL.
        args = tuple(np.uint64(0) if a is None else a for a in args)
        module.kernel(name)((int(grid),), (int(block),), args, shared_mem=int(shared_mem))

    def multiprocessors(self) -> int:
        if self._sms is None:
            dev = self.xp.cuda.Device()
            self._sms = int(dev.attributes["MultiProcessorCount"])
        return self._sms

    def opt_in_shared(self, family: str, name: str, nbytes: int) -> bool:
        """Allow ``nbytes`` of dynamic shared memory for a kernel, if the device has it."""
        dev = self.xp.cuda.Device()
        limit = int(dev.attributes.get("MaxSharedMemoryPerBlockOptin", SMEM_DEFAULT))
        if nbytes > limit - SMEM_STATIC:  # leave room for the kernel's static shared memory
            return False
        module = importlib.import_module(f"runtime.generated.cupy_{family}")
        try:
            with warnings.catch_warnings():  # newer CuPy moved the attribute to .function
                warnings.simplefilter("ignore", DeprecationWarning)
                module.kernel(name).max_dynamic_shared_size_bytes = int(nbytes)
        except Exception:  # noqa: BLE001  (refused by the driver: run without the cache)
            return False
        return True


_launcher: Launcher | None = None


def launcher() -> Launcher:
    global _launcher
    if _launcher is None:
        _launcher = Launcher()
    return _launcher


def set_launcher(new: Launcher | None) -> Launcher | None:
    """Replace the launcher (tests); returns the previous one."""
    global _launcher
    old, _launcher = _launcher, new
    return old


def _grid(n: int, per_block: int = BLOCK) -> int:
    """Blocks for a grid-stride loop: enough to fill the device, never more than the work."""
    return max(1, min(-(-n // per_block), launcher().multiprocessors() * 8))


def _finalize(acc, divisor_ptr, divisor: float, dtype):
    L = launcher()
    loss = L.xp.empty((), dtype=dtype)
    L.launch("losses", f"dc_finalize_{TAG[np.dtype(dtype)]}", 1, 32,
             (acc, divisor_ptr, np.float64(divisor), loss))
    return loss


# --------------------------------------------------------------------------- losses

ELEMENTWISE = {"bce": (), "bce_logits": ("pos_weight",), "mse": (), "mae": (),
               "smooth_l1": ("beta",), "huber": ("delta",), "lp": ("p",)}


def loss_and_grad(name, pred, target, *, reduction="mean", out=None, **options):
    """(loss, ∂loss/∂pred) on the device; see ``runtime.losses.loss_and_grad``."""
    from .losses import _options, canonical

    name = canonical(name)
    reduction = validate.reduction(reduction)
    opts = _options(name, options)
    xp = launcher().xp
    if name == "softmax_ce":
        return _softmax_ce(xp, pred, target, reduction, out, **opts)
    return _elementwise(xp, name, pred, target, reduction, out, opts)


def _gradient_out(out, p, inputs=(), apart=()):
    """A new gradient buffer, or ``out`` checked by the NumPy path's rules: it may be one of
    ``inputs`` exactly but overlap none otherwise, nor ``apart`` at all."""
    xp = launcher().xp
    if out is None:
        return xp.empty_like(p)
    if not isinstance(out, xp.ndarray):  # the kernel writes it on the device
        raise TypeError(f"out is a {type(out).__module__.split('.')[0]}.{type(out).__name__}; "
                        f"the result is computed on the device: pass a {xp.__name__} array "
                        f"(cupy.empty_like(pred)) or out=None")
    return validate.gradient_buffer(out, p.shape, p.dtype, inputs=inputs, apart=apart, xp=xp)


def _elementwise(xp, name, pred, target, reduction, out, opts, apart=()):
    p = validate.float_input(pred, "pred", xp)
    t = validate.like_input(target, "target", p, xp)
    validate.same_shape(p, t, "pred", "target")
    T = SCALAR[p.dtype]
    from .losses import element_weight, scalar_option, weighted_reduction

    w = element_weight(xp, opts.get("weight"), p)
    if w is not None:  # the per-element kernel, then PyTorch's weighting and the reduction
        loss, grad = _elementwise(xp, name, p, t, "none", out, {**opts, "weight": None},
                                  apart=(("weight", w),))
        return weighted_reduction(xp, w, loss, grad, reduction), grad
    kname, scalars, pw_array = name, [], None
    option = scalar_option(name, opts, p.dtype)  # the host path's checks (runtime.losses)
    if option is not None:
        scalars.append(T(option))
    elif name == "bce_logits":
        pw = opts["pos_weight"]
        if pw is None or np.ndim(pw) == 0:
            scalars.append(T(1.0 if pw is None else validate.option_range("pos_weight", pw)))
        else:
            pw = pw_array = validate.like_input(pw, "pos_weight", p, xp)
            try:
                shape = np.broadcast_shapes(tuple(pw.shape), tuple(p.shape))
            except ValueError:
                shape = None
            if shape != tuple(p.shape):
                raise ValueError(f"pos_weight has shape {tuple(pw.shape)}, not broadcastable "
                                 f"to pred's shape {tuple(p.shape)}")
            scalars.append(xp.ascontiguousarray(xp.broadcast_to(pw, p.shape)).reshape(-1))
            kname = "bce_logits_pwarray"
    grad = _gradient_out(out, p, (("pred", p), ("target", t)),
                         apart + (("pos_weight", pw_array),))
    n = int(p.size)
    if reduction == "none":
        loss_none, acc = xp.empty_like(p), None
        grad_scale = T(1)
    else:
        loss_none, acc = None, xp.zeros(1, dtype=np.float64)
        grad_scale = T(1.0 / n) if (reduction == "mean" and n) else T(1)
    if n:
        launcher().launch("losses", f"{kname}_loss_grad_{TAG[p.dtype]}", _grid(n), BLOCK,
                          (p.reshape(-1), t.reshape(-1), np.int64(n), *scalars, grad_scale,
                           grad.reshape(-1), None if loss_none is None else loss_none.reshape(-1),
                           acc))
    if reduction == "none":
        loss = loss_none
    else:
        loss = _finalize(acc, None, (n if reduction == "mean" else 1), p.dtype)
    if name == "bce":
        _check_probabilities(xp, p, t, loss)
    return loss, grad


def _check_probabilities(xp, p, t, loss) -> None:
    # The NumPy path's two bce checks for one scalar read back: targets outside [0, 1] (the
    # host checks them before its kernel) and, when the loss came out NaN, predictions
    # outside it. The messages (and the search for the first bad element) are the host's.
    from .losses import _check_probabilities as check_pred, check_bce_target

    bad_target = ((t < 0) | (t > 1)).any()  # NaN compares false: NaN in, NaN out
    if not bool(bad_target | xp.isnan(loss).any()):
        return
    check_bce_target(t)
    check_pred(p)


def _softmax_ce(xp, pred, target, reduction, out, *, weight=None, ignore_index=-100,
                label_smoothing=0.0):
    """The NumPy path's checks and shapes (runtime.losses._softmax_ce): logits (C,), (N, C) or
    (N, C, d1, ...) (the class axis moved last, a copy, as there); rows of C for the kernel."""
    z = validate.float_input(pred, "pred", xp)
    if z.ndim == 0:
        raise ValueError("pred must have a class dimension: shape (C,), (N, C) or (N, C, d1, ...)")
    shape = tuple(int(s) for s in z.shape)
    cdim = 0 if z.ndim == 1 else 1
    C = shape[cdim]
    if C == 0:
        raise ValueError(f"pred has shape {shape}: no classes (C = 0)")
    ignore_index = validate.integer_option("ignore_index", ignore_index)
    eps = validate.option_range("label_smoothing", label_smoothing, ge=0.0, le=1.0)
    T, tn = SCALAR[z.dtype], TAG[z.dtype]
    w = None
    if weight is not None:
        w = validate.like_input(weight, "weight", z, xp)
        if tuple(w.shape) != (C,):
            raise ValueError(f"weight has shape {tuple(w.shape)}; expected ({C},), one per class "
                             f"(pred has shape {shape})")
    t = xp.asarray(target)
    probs = t.dtype.kind == "f" and tuple(t.shape) == shape
    if tuple(t.shape) == shape and t.dtype.kind in "biu":
        raise TypeError(f"target has pred's shape {shape} but dtype {t.dtype}: probabilities "
                        f"must be floating point (class labels need shape "
                        f"{shape[:cdim] + shape[cdim + 1:]})")
    moved = z.ndim > 2
    rows = (lambda a: xp.ascontiguousarray(xp.moveaxis(a, 1, -1)).reshape(-1, C)) if moved \
        else (lambda a: a.reshape(-1, C))
    z2 = rows(z)
    N = int(z2.shape[0])
    L = launcher()
    divisor_dev, divisor = None, 1.0
    if probs:
        if ignore_index >= 0:
            raise ValueError(f"ignore_index={ignore_index} is not supported with probability "
                             f"targets (PyTorch); use a negative value")
        t = validate.like_input(t, "target", z, xp)
        q, labels = rows(t), None
        if reduction == "mean":
            divisor = float(N)
    else:
        expected = shape[:cdim] + shape[cdim + 1:]
        if tuple(t.shape) != expected:
            raise ValueError(f"target has shape {tuple(t.shape)} but pred has shape {shape}: "
                             f"class labels need shape {expected} (probabilities need {shape})")
        if t.dtype.kind not in "iu" or t.dtype == np.uint64:
            # not integers: validate's TypeError; uint64: labels >= 2**63 would wrap in int64
            # (to ignore_index, even), so they are checked in their own dtype (a read back)
            validate.labels(t, C, ignore_index, "target", xp)
        labels = xp.ascontiguousarray(t, dtype=np.int64).reshape(N)
        q = None
        first_bad = xp.full(1, N, dtype=np.uint64)
        kept = xp.zeros(1, dtype=np.float64)
        if N:
            L.launch("losses", f"softmax_ce_check_labels_{tn}", _grid(N), BLOCK,
                     (labels, np.int64(N), np.int64(C), np.int64(ignore_index), w, first_bad,
                      kept))
        if int(first_bad[0]) != N:  # the one scalar read back; the message comes from validate
            validate.labels(t, C, ignore_index, "target", xp)
            raise AssertionError("label check kernel and validate.labels disagree")
        if reduction == "mean":
            divisor_dev = kept
    inputs = (("pred", z),) + ((("target", t),) if probs else ())
    grad = _gradient_out(out, z, inputs, (("weight", w),))
    g2 = xp.empty_like(z2) if moved else grad.reshape(N, C)
    loss_none = xp.empty(N, dtype=z.dtype) if reduction == "none" else None
    acc = None if reduction == "none" else xp.zeros(1, dtype=np.float64)
    # an empty batch's mean is 0/0 = nan, from the finalize kernel as PyTorch's
    grad_scale = T(1.0 / divisor) if divisor_dev is None and divisor else T(1)
    if N:
        kind, grid, block, smem, cache = _softmax_plan(N, C, z.dtype.itemsize, tn)
        L.launch("losses", f"softmax_ce_{kind}_{tn}", grid, block,
                 (z2, np.int64(N), np.int64(C), labels, q, w, np.int64(ignore_index), T(eps),
                  divisor_dev, grad_scale, np.int32(cache), g2, loss_none, acc),
                 shared_mem=smem)
    if moved:  # the class axis back in place
        grad[...] = xp.moveaxis(g2.reshape(shape[:1] + shape[2:] + (C,)), -1, 1)
    if reduction == "none":
        loss = loss_none.reshape(shape[:cdim] + shape[cdim + 1:])
    else:
        loss = _finalize(acc, divisor_dev, divisor, z.dtype)
    return loss, grad


def _softmax_plan(N: int, C: int, itemsize: int, tn: str):
    """(kernel kind, grid, block, dynamic shared bytes, cache flag) for N rows of C classes."""
    L = launcher()
    if C <= WARP_MAX_C:
        rows = max(1, min(8, (SMEM_DEFAULT - SMEM_STATIC) // (C * itemsize)))
        grid = max(1, min(-(-N // rows), L.multiprocessors() * 16))
        return "warp", grid, 32 * rows, rows * C * itemsize, 1
    block = 512 if C >= 8192 else 256
    grid = max(1, min(N, L.multiprocessors() * 8))
    nbytes = C * itemsize
    if (nbytes <= SMEM_DEFAULT - SMEM_STATIC
            or L.opt_in_shared("losses", f"softmax_ce_block_{tn}", nbytes)):
        return "block", grid, block, nbytes, 1
    return "block", grid, block, 0, 0  # the second pass reads the row again (from L2)


# --------------------------------------------------------------------------- activations

ACTIVATION_KINDS = {  # which kernels each activation has (runtime must not import derive)
    "sigmoid": ("forward", "bias_forward", "backward", "backward_output"),
    "tanh": ("forward", "bias_forward", "backward", "backward_output"),
    "relu": ("forward", "bias_forward", "backward", "backward_output"),
    "leaky_relu": ("forward", "bias_forward", "backward", "backward_output"),
}


def _buffer(out, ref, inputs):
    """``out`` checked (it may be one of ``inputs`` exactly, no other overlap), or a new array."""
    return _gradient_out(out, ref, inputs)


def activation(name, z, *, out=None, **options):
    """a = f(z) on the device; see ``runtime.activations.activation``."""
    from .activations import _options, canonical

    name = canonical(name)
    args = _options(name, options)
    xp = launcher().xp
    x = validate.float_input(z, "z", xp)
    res = _buffer(out, x, (("z", x),))
    _activation_launch(name, "forward", x, None, res, args)
    return res


def activation_bias_forward(name, z, bias, *, out=None, **options):
    """a = f(z + bias) on the device in one kernel, ``z`` of shape (N, F) and ``bias`` of
    shape (F,) (a dense layer's pre-activation without its bias, as runtime.nn passes it);
    ``out`` may be ``z`` itself (in place) and must not overlap ``bias``."""
    from .activations import _options, canonical

    name = canonical(name)
    args = _options(name, options)
    xp = launcher().xp
    for label, a in (("z", z), ("bias", bias)):  # a host array would be copied silently
        if not isinstance(a, xp.ndarray):
            raise TypeError(f"{label} is a {type(a).__module__.split('.')[0]}.{type(a).__name__}"
                            f"; activation_bias_forward runs on the device: pass {xp.__name__} "
                            f"arrays")
    x = validate.float_input(z, "z", xp)
    if x.ndim != 2:
        raise ValueError(f"z must be 2-D (batch, features), got shape {tuple(x.shape)}")
    b = validate.like_input(bias, "bias", x, xp)
    if tuple(b.shape) != (x.shape[1],):
        raise ValueError(f"bias has shape {tuple(b.shape)}; z has shape {tuple(x.shape)}, so "
                         f"bias must have shape ({x.shape[1]},)")
    res = _gradient_out(out, x, (("z", x),), apart=(("bias", b),))
    n = int(x.size)
    if n:
        T = SCALAR[x.dtype]
        launcher().launch("activations", f"{name}_bias_forward_{TAG[x.dtype]}", _grid(n), BLOCK,
                          (x.reshape(-1), b, res.reshape(-1), np.int64(n), np.int64(x.shape[1]),
                           *(T(a) for a in args)))
    return res


def activation_grad(name, z, upstream, *, output=None, out=None, **options):
    """upstream ⊙ f'(z) on the device, through the saved ``output`` where derive allows; see
    ``runtime.activations.activation_grad``."""
    from .activations import _options, canonical

    name = canonical(name)
    args = _options(name, options)
    xp = launcher().xp
    use_output = (output is not None and "backward_output" in ACTIVATION_KINDS[name]
                  and not (name == "leaky_relu" and args[0] <= 0))
    if use_output:
        x = validate.float_input(output, "output", xp)
        if z is not None:
            validate.same_shape(x, xp.asarray(z), "output", "z")
        kind, label = "backward_output", "output"
    else:
        if z is None:
            raise ValueError(f"{name}: z is needed (output=None, or leaky_relu with "
                             f"negative_slope <= 0, where a's sign does not give z's)")
        x = validate.float_input(z, "z", xp)
        if output is not None:
            validate.same_shape(x, xp.asarray(output), "z", "output")
        kind, label = "backward", "z"
    u = validate.like_input(upstream, "upstream", x, xp)
    validate.same_shape(x, u, label, "upstream")
    res = _buffer(out, x, ((label, x), ("upstream", u)))
    _activation_launch(name, kind, x, u, res, args)
    return res


def _activation_launch(name, kind, x, upstream, res, args) -> None:
    n = int(x.size)
    if not n:
        return
    T = SCALAR[x.dtype]
    arrays = (x.reshape(-1),) + (() if upstream is None else (upstream.reshape(-1),))
    launcher().launch("activations", f"{name}_{kind}_{TAG[x.dtype]}", _grid(n), BLOCK,
                      (*arrays, res.reshape(-1), np.int64(n), *(T(a) for a in args)))


# --------------------------------------------------------------------------- optimizers

def _flat_device(x, name: str, dtype=None):
    xp = launcher().xp
    if not isinstance(x, xp.ndarray):
        kind = type(x).__name__
        if kind == "ndarray":  # NumPy's and CuPy's arrays have the same class name
            kind = f"{type(x).__module__.split('.')[0]}.{kind}"
        raise TypeError(f"{name} is a {kind}; expected a device array ({xp.__name__})")
    if x.dtype not in TAG:
        raise TypeError(f"{name} has dtype {x.dtype}; expected float32 or float64")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the parameter has dtype {dtype}")
    if not x.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: it is updated in place")
    return x.reshape(-1)


def optimizer_step(rule: str, param, grad, state=(), scalars=()) -> None:
    """One fused in-place update by the kernel of ``rule`` (a derive.optim rule name, e.g.
    ``"adam_amsgrad_wd"``): ``param`` and each ``state`` buffer (the rule's order) are updated
    in place, ``grad`` is read. ``scalars`` are the rule's per-step scalars in kernel order
    (``runtime.generated.numba_optim.RULES[rule]["scalars"](t, **hyper)`` computes them)."""
    names, n_scalars = _rule_arguments(rule)
    state, scalars = tuple(state), tuple(scalars)
    if len(state) != len(names):  # the kernel would take another argument for a pointer
        raise ValueError(f"{rule} takes {len(names)} state buffer(s) ({', '.join(names)}), "
                         f"got {len(state)}")
    if len(scalars) != n_scalars:
        raise ValueError(f"{rule} takes {n_scalars} scalars, got {len(scalars)}")
    p = _flat_device(param, "param")
    arrays = [p, _flat_device(grad, "grad", p.dtype)]
    arrays += [_flat_device(b, f"state[{k}]", p.dtype) for k, b in enumerate(state)]
    labels = ["param", "grad"] + [f"state[{k}] ({n})" for k, n in enumerate(names)]
    for name, a in zip(labels[1:], arrays[1:]):
        if a.size != p.size:
            raise ValueError(f"{name} has {a.size} elements but param has {p.size}")
    _check_update_overlaps(labels, arrays)
    _update(rule, arrays, p.dtype, scalars)


def _check_update_overlaps(labels, arrays) -> None:
    """The Numba update kernels' rules (codegen/numba_optim.py), from pointers on the host:
    grad may be the param or a state buffer itself (each element is read before it is
    written) but may not overlap one otherwise; param and the state buffers are all written,
    so none may overlap another. A CUDA kernel would return wrong numbers silently."""
    share = launcher().xp.may_share_memory  # CuPy's compares bounds: no kernel, no read back
    (p_label, grad_label), (p, g) = labels[:2], arrays[:2]
    for label, a in [(p_label, p)] + list(zip(labels[2:], arrays[2:])):
        same = validate._address(a) == validate._address(g) and a.size == g.size
        if not same and share(g, a):
            raise ValueError(f"{grad_label} overlaps {label} without being the same array (in "
                             f"place: pass {label} itself; a shifted view would be read after "
                             f"it is written)")
    written = [(p_label, p)] + list(zip(labels[2:], arrays[2:]))
    for k, (label, a) in enumerate(written):
        for other, b in written[:k]:
            if share(a, b):
                raise ValueError(f"{label} overlaps {other}: the kernel writes both, so they "
                                 f"need memory of their own")


@functools.lru_cache(maxsize=None)
def _rule_arguments(rule: str):
    """(state names, scalar count) of an optimizer rule's kernel: the CUDA kernel takes the
    arguments of the generated Numba kernel of the same rule (param, grad, state..., scalars)."""
    import inspect

    from .generated import numba_optim

    spec = numba_optim.RULES.get(rule)
    params = [] if spec is None else list(
        inspect.signature(next(iter(spec["kernels"].values())).py_func).parameters)
    if params[:2] != ["param", "grad"]:
        rules = [r for r, s in numba_optim.RULES.items()
                 if list(inspect.signature(next(iter(s["kernels"].values())).py_func)
                         .parameters)[:2] == ["param", "grad"]]
        raise ValueError(f"rule={rule!r} is not an optimizer update rule (rules: "
                         f"{', '.join(rules)}; clipping: clip_grad_value_, clip_grad_norm_)")
    # the Numba kernels' last argument, flush, is a host-only switch (runtime.optim)
    return spec["state"], len([q for q in params if q != "flush"]) - 2 - len(spec["state"])


def _update(rule: str, arrays, dtype, scalars) -> None:
    n = int(arrays[0].size)
    if n:
        T = SCALAR[np.dtype(dtype)]
        launcher().launch("optim", f"{rule}_{TAG[np.dtype(dtype)]}", _grid(n), BLOCK,
                          (*arrays, np.int64(n), *(T(x) for x in scalars)))


def _grads(grads):
    xp = launcher().xp
    arrays = [grads] if isinstance(grads, xp.ndarray) else list(grads)
    return [_flat_device(g, f"grads[{k}]") for k, g in enumerate(arrays)]


def clip_grad_value_(grads, clip_value) -> None:
    """``torch.nn.utils.clip_grad_value_`` on CuPy gradients, in place (NaN stays NaN)."""
    c = validate.option_range("clip_value", clip_value, ge=0.0)
    for g in _grads(grads):
        _update("clip_grad_value", [g], g.dtype, (c,))


NORMS = {1.0: "norm_sum_abs", 2.0: "norm_sum_sq", math.inf: "norm_max_abs"}


def get_total_norm(grads, norm_type=2.0):
    """The norm of all gradients as one vector, reduced on the device in double; returned as a
    0-d CuPy array of the gradients' dtype (float64 if mixed). The reduced value R is read
    back once to finish the norm on the host with the generated ``finish`` function."""
    from .generated import numba_optim  # the host-side finish functions (plain Python)

    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type={norm_type!r} is invalid: it must be > 0 (or inf)")
    name = NORMS.get(norm_type, "norm_sum_pow")
    extra = (np.float64(norm_type),) if name == "norm_sum_pow" else ()
    arrays = _grads(grads)
    xp = launcher().xp
    acc = xp.zeros(1, dtype=np.float64)  # one accumulator for every array: a global norm
    for g in arrays:
        if g.size:
            launcher().launch("optim", f"{name}_{TAG[g.dtype]}", _grid(int(g.size)), BLOCK,
                              (g, np.int64(g.size), *extra, acc))
    total = numba_optim.NORMS[name]["finish"](float(acc[0]), *(float(x) for x in extra))
    dtypes = {g.dtype for g in arrays}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)
    return xp.asarray(total, dtype=dtype)


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """``torch.nn.utils.clip_grad_norm_`` on CuPy gradients, in place; returns the total norm
    (a 0-d CuPy array). The coefficient min(1, max_norm/(norm + 1e-6)) is the derived rule's
    scalar, computed on the host in the gradients' dtype as torch does."""
    from .generated import numba_optim

    max_norm = validate.option_range("max_norm", max_norm, ge=0.0)
    arrays = _grads(grads)
    total = get_total_norm(arrays, norm_type)
    if not arrays:
        return total
    t = float(total)
    if error_if_nonfinite and not math.isfinite(t):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite, "
                           f"so it cannot be clipped. To disable this error and scale the "
                           f"gradients by the non-finite norm anyway, set error_if_nonfinite=False")
    (kappa,) = numba_optim.RULES["clip_grad_scale"]["scalars"](1, max_norm, total.dtype.type(t))
    kappa = total.dtype.type(kappa)
    if kappa != 1:  # ×1 is exact: skip the pass
        for g in arrays:
            _update("clip_grad_scale", [g], g.dtype, (kappa,))
    return total


# --------------------------------------------------------------------------- layers

def _layer_arrays(names_arrays, dtype):
    for name, a in names_arrays:
        _flat_device(a, name, dtype)


def _size(name: str, a, expected: int, what: str) -> None:
    """The Numba layer kernels' size check (the CUDA kernels read and write by the sizes)."""
    if int(a.size) != expected:
        raise ValueError(f"{name} has {a.size} elements, not {expected} ({what})")


def _batch_sizes(ref: str, shape, matrices, vectors) -> None:
    """Each of ``matrices`` has the shape of ``ref`` (N, F), each of ``vectors`` F elements."""
    for name, a in matrices:
        for k in (0, 1):
            got = a.shape[k] if a.ndim == 2 else a.size
            if got != shape[k]:
                raise ValueError(f"{name} has {got} elements, not {shape[k]} ({ref}.shape[{k}]: "
                                 f"{name} has {ref}'s shape)")
    for name, a in vectors:
        _size(name, a, shape[1], f"{ref}.shape[1]: one per feature")


def batchnorm_forward(x, gamma, beta, eps, momentum, running_mean, running_var, inv_std, xhat,
                      y, training: bool) -> None:
    """Batch norm of ``x`` (N, F) by the kernels of runtime/generated/cupy_layers.py, into the
    caller's device buffers ``inv_std`` (F,), ``xhat`` and ``y`` (N, F); training mode also
    updates ``running_mean``/``running_var`` in place (as the Numba kernels; see runtime.nn)."""
    N, F = (int(s) for s in x.shape)
    T = SCALAR[x.dtype]
    _layer_arrays((("x", x), ("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                   ("running_var", running_var), ("inv_std", inv_std), ("xhat", xhat), ("y", y)),
                  x.dtype)
    _batch_sizes("x", (N, F), (("xhat", xhat), ("y", y)),
                 (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                  ("running_var", running_var), ("inv_std", inv_std)))
    if not F:
        return
    tail = (T(eps), T(momentum)) if training else (T(eps),)
    launcher().launch("layers", f"batchnorm_{'train' if training else 'eval'}_{TAG[x.dtype]}",
                      _grid(F), BLOCK, (x, gamma, beta, np.int64(N), np.int64(F), *tail,
                                        running_mean, running_var, inv_std, xhat, y))


def batchnorm_backward(g, xhat, gamma, inv_std, dx, dgamma, dbeta, training: bool) -> None:
    """∂L/∂x into ``dx``, ∂L/∂γ and ∂L/∂β into ``dgamma``/``dbeta`` (derive.batchnorm's rule;
    ``training`` False: the evaluation-mode affine rule)."""
    N, F = (int(s) for s in g.shape)
    _layer_arrays((("g", g), ("xhat", xhat), ("gamma", gamma), ("inv_std", inv_std), ("dx", dx),
                   ("dgamma", dgamma), ("dbeta", dbeta)), g.dtype)
    _batch_sizes("g", (N, F), (("xhat", xhat), ("dx", dx)),
                 (("gamma", gamma), ("inv_std", inv_std), ("dgamma", dgamma), ("dbeta", dbeta)))
    if not F:
        return
    name = "batchnorm_backward" if training else "batchnorm_backward_eval"
    launcher().launch("layers", f"{name}_{TAG[g.dtype]}", _grid(F), BLOCK,
                      (g, xhat, gamma, inv_std, np.int64(N), np.int64(F), dx, dgamma, dbeta))


def dropout(x, mask, p, y, backward: bool = False) -> None:
    """Inverted dropout y = m x/(1 − p) (``backward``: dx = m g/(1 − p)) into ``y``; ``mask``
    holds 0/1 in ``x``'s dtype."""
    _layer_arrays((("x", x), ("mask", mask), ("y", y)), x.dtype)
    n = int(x.size)
    for name, a in (("mask", mask), ("y", y)):
        _size(name, a, n, "x.size: the arrays are 1-D, of one size")
    if n:
        name = "dropout_backward" if backward else "dropout"
        launcher().launch("layers", f"{name}_{TAG[x.dtype]}", _grid(n), BLOCK,
                          (x.reshape(-1), mask.reshape(-1), SCALAR[x.dtype](p), y.reshape(-1),
                           np.int64(n)))
