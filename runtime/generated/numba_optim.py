# generated, do not edit: regenerate with `python -m codegen.generate --update`
# Generator: codegen.numba_optim, version 5
# Derivations: sgd, adagrad, rmsprop, adam, adamw, clip_grad_value, clip_grad_norm
# Source hash: sha256:60dcc3448809fd3d (of the SymPy expressions printed below)
"""Fused optimizer updates and gradient clipping, generated from derive/optim.py.

Standalone: imports numpy, numba and math only. Kernels compile on first call (no
signatures at import) and are cached on disk when the module is imported under its
file's name (CACHE, below: not when loaded by path under another). Every array is 1-D and
C-contiguous; a kernel updates its arrays in place. RULES and NORMS index the kernels.

An update kernel's last argument, flush=True (runtime.optim.set_flush_denormal) stores a
parameter or state value below the smallest normal number as 0, as
torch.set_flush_denormal(True) does on the CPU: the momentum of a unit whose gradient stays
0 decays into subnormals and sticks there (0.9 times the smallest subnormal rounds back to
it), and x86 then takes a slow assist on every such element of every later step.
"""
import math  # noqa: F401  (the printed expressions use math.sqrt)

import numba
import numpy as np

FASTMATH = {'nsz', 'arcp', 'contract', 'afn'}  # keeps NaN/Inf semantics
BLOCK = 16384
LANES = 16


# Numba caches kernels in __pycache__ beside this file, keyed by the file, not the
# module's name, and an entry only loads under the name that wrote it. So kernels are
# cached on disk only when this file is imported under its package name (its file name
# after the names of the enclosing directories that hold an __init__.py), in sys.modules:
# one name per file. Imported under another name (its directory put on sys.path inside a
# package), loaded by path (importlib.util.spec_from_file_location), exec'd or run as a
# script, they compile in memory and touch no cache.
def _package_name(path):
    """The file's stem after the names of the enclosing directories holding an __init__.py."""
    parts = path.replace("\\", "/").split("/")
    names = [parts[-1].rpartition(".")[0]]
    for k in range(len(parts) - 1, 0, -1):
        try:  # open, not os.path: the module imports numpy, numba and math only
            open("/".join(parts[:k]) + "/__init__.py", "rb").close()
        except OSError:
            break
        names.insert(0, parts[k - 1])
    return ".".join(names)


def _cache_on_disk():
    """Whether this module is imported under its file's package name (codegen/numba_cache.py)."""
    g = globals()
    name, path = g.get("__name__"), g.get("__file__")
    if not name or not path or name != _package_name(path):
        return False
    try:  # the module name Numba records in a cache entry ('<dynamic>' if not in sys.modules)
        from numba.core.bytecode import FunctionIdentity

        return FunctionIdentity.from_function(_cache_on_disk).modname == name
    except Exception:  # noqa: BLE001  (another Numba: its own cache logic, as cache=True)
        return True


CACHE = _cache_on_disk()  # every kernel: @numba.njit(..., cache=CACHE)


def _fmin(a, b):
    """min(a, b), NaN if either is NaN (as torch.clamp)."""
    return a if (a != a or a < b) else b


def _fmax(a, b):
    """max(a, b), NaN if either is NaN."""
    return a if (a != a or a > b) else b


@numba.njit(inline="always")
def overlaps(a, b):
    """Whether the memory of arrays a and b (C-contiguous) overlaps."""
    a0, b0 = a.ctypes.data, b.ctypes.data
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


@numba.njit(cache=CACHE)
def shared_state_error(a, b):
    raise ValueError(a + " overlaps " + b + ": the kernel writes both, so they need memory "
                     "of their own")


@numba.njit(error_model="numpy", cache=CACHE)
def _nanmax(x):
    """The maximum of x, NaN if any element is NaN (x is never empty)."""
    out = x[0]
    for k in range(1, x.shape[0]):
        if x[k] > out or x[k] != x[k]:
            out = x[k]
    return out


# Argument checks (from codegen/numba_checks.py): Numba does no bounds checks, so a
# kernel compares its arrays' sizes (and class labels) before it reads with them, and
# refuses an output that partly overlaps an input.
@numba.njit(cache=CACHE)
def size_error(name, size, expected, what):
    raise ValueError(name + " has " + str(size) + " elements, not " + str(expected)
                     + " (" + what + ")")


@numba.njit(cache=CACHE)
def overlap_error(out, arg):
    raise ValueError(out + " overlaps " + arg + " without being the same array (in place: pass "
                     + arg + " itself; a shifted view would be read after it is written)")


@numba.njit(cache=CACHE)
def disjoint_error(out, arg):
    raise ValueError(out + " overlaps " + arg + ": it must be an array of its own")


@numba.njit(cache=CACHE)
def rows_error(name, size, vec, features):
    raise ValueError(name + " has " + str(size) + " elements, not a positive multiple of " + vec
                     + ".size = " + str(features) + " (a raveled (N, F) or, for the _rows "
                     "kernels, (F, N) array, F = " + vec + ".size)")


@numba.njit(cache=CACHE)
def label_error(i, label, n_classes, ignore_index):
    raise ValueError("labels[" + str(i) + "] = " + str(label) + " is not a class index in [0, "
                     + str(n_classes) + ") nor ignore_index (" + str(ignore_index) + ")")


# ---------------------------------------------------------------------------
# The sum of a reduction's per-block partial sums (from codegen/numba_reduce.py).
# ---------------------------------------------------------------------------
@numba.njit(error_model="numpy", cache=CACHE)
def pairwise_sum(partial):
    """Σ partial (1-D float64), added in pairs level by level, overwriting partial.

    Its rounding error grows with log2(n), where an in-order loop's (np.sum in Numba) grows
    with n: a mean over 16M float64 elements (8192 blocks) was 4–15 ULP off summed in order
    (bench/accuracy.py), as NumPy's pairwise sum is well under 1."""
    m = partial.size
    while m > 1:
        h = m // 2
        for k in range(h):  # reads 2k, 2k + 1 >= k: nothing is read after it is overwritten
            partial[k] = partial[2 * k] + partial[2 * k + 1]
        if m % 2:
            partial[h] = partial[m - 1]
            h += 1
        m = h
    return partial[0] if m == 1 else 0.0


# ---------------------------------------------------------------------------
# sgd: SGD (momentum=False, nesterov=False, weight_decay=False)
# Rule 'sgd' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     theta = -eta*g + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr


def sgd_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd at step t (1 on the first step), in kernel order."""
    eta = lr
    return (eta, )


def sgd_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd (none)."""
    return ()


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_f32(param, grad, eta, flush=False):
    """SGD, rule sgd (see the comment above sgd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            theta = -g*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_f32_par(param, grad, eta, flush=False):
    """SGD, rule sgd (see the comment above sgd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_f32(param[lo:hi], grad[lo:hi], eta, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_f64(param, grad, eta, flush=False):
    """SGD, rule sgd (see the comment above sgd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            theta = -g*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_f64_par(param, grad, eta, flush=False):
    """SGD, rule sgd (see the comment above sgd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_f64(param[lo:hi], grad[lo:hi], eta, flush)


# ---------------------------------------------------------------------------
# sgd_wd: SGD (momentum=False, nesterov=False, weight_decay=True)
# Rule 'sgd_wd' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     theta = -d*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr
#     lamda = weight_decay


def sgd_wd_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd_wd at step t (1 on the first step), in kernel order."""
    eta = lr
    lamda = weight_decay
    return (eta, lamda, )


def sgd_wd_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd_wd (none)."""
    return ()


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_wd_f32(param, grad, eta, lamda, flush=False):
    """SGD, rule sgd_wd (see the comment above sgd_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            d = g + theta*lamda
            theta = -d*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_wd_f32_par(param, grad, eta, lamda, flush=False):
    """SGD, rule sgd_wd (see the comment above sgd_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_wd_f32(param[lo:hi], grad[lo:hi], eta, lamda, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_wd_f64(param, grad, eta, lamda, flush=False):
    """SGD, rule sgd_wd (see the comment above sgd_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            d = g + theta*lamda
            theta = -d*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_wd_f64_par(param, grad, eta, lamda, flush=False):
    """SGD, rule sgd_wd (see the comment above sgd_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_wd_f64(param[lo:hi], grad[lo:hi], eta, lamda, flush)


# ---------------------------------------------------------------------------
# sgd_momentum: SGD (momentum=True, nesterov=False, weight_decay=False)
# Rule 'sgd_momentum' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     b = b*mu + c*g
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr
#     mu = momentum
#     c = Piecewise((1, Eq(t, 1)), (1 - dampening, True))
# State written back: momentum_buffer (b)


def sgd_momentum_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd_momentum at step t (1 on the first step), in kernel order."""
    eta = lr
    mu = momentum
    c = ((1) if (t == 1) else (1 - dampening))
    return (eta, mu, c, )


def sgd_momentum_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd_momentum (momentum_buffer)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_f32(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum (see the comment above sgd_momentum_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    mu = np.float32(mu)
    c = np.float32(c)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            b = b*mu + g*c
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_f32_par(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum (see the comment above sgd_momentum_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_f32(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, mu, c, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_f64(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum (see the comment above sgd_momentum_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    mu = np.float64(mu)
    c = np.float64(c)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            b = b*mu + g*c
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_f64_par(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum (see the comment above sgd_momentum_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_f64(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, mu, c, flush)


# ---------------------------------------------------------------------------
# sgd_momentum_wd: SGD (momentum=True, nesterov=False, weight_decay=True)
# Rule 'sgd_momentum_wd' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     b = b*mu + c*d
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr
#     lamda = weight_decay
#     mu = momentum
#     c = Piecewise((1, Eq(t, 1)), (1 - dampening, True))
# State written back: momentum_buffer (b)


def sgd_momentum_wd_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd_momentum_wd at step t (1 on the first step), in kernel order."""
    eta = lr
    lamda = weight_decay
    mu = momentum
    c = ((1) if (t == 1) else (1 - dampening))
    return (eta, lamda, mu, c, )


def sgd_momentum_wd_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd_momentum_wd (momentum_buffer)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_wd_f32(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_wd (see the comment above sgd_momentum_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    mu = np.float32(mu)
    c = np.float32(c)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            b = b*mu + d*c
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_wd_f32_par(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_wd (see the comment above sgd_momentum_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_wd_f32(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, lamda, mu, c, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_wd_f64(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_wd (see the comment above sgd_momentum_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    mu = np.float64(mu)
    c = np.float64(c)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            b = b*mu + d*c
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_wd_f64_par(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_wd (see the comment above sgd_momentum_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_wd_f64(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, lamda, mu, c, flush)


# ---------------------------------------------------------------------------
# sgd_momentum_nesterov: SGD (momentum=True, nesterov=True, weight_decay=False)
# Rule 'sgd_momentum_nesterov' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     b = b*mu + c*g
#     u = b*mu + g
#     theta = -eta*u + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr
#     mu = momentum
#     c = Piecewise((1, Eq(t, 1)), (1 - dampening, True))
# State written back: momentum_buffer (b)


def sgd_momentum_nesterov_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd_momentum_nesterov at step t (1 on the first step), in kernel order."""
    eta = lr
    mu = momentum
    c = ((1) if (t == 1) else (1 - dampening))
    return (eta, mu, c, )


def sgd_momentum_nesterov_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd_momentum_nesterov (momentum_buffer)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_f32(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov (see the comment above sgd_momentum_nesterov_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    mu = np.float32(mu)
    c = np.float32(c)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            b = b*mu + g*c
            u = b*mu + g
            theta = -u*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_f32_par(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov (see the comment above sgd_momentum_nesterov_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_nesterov_f32(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, mu, c, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_f64(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov (see the comment above sgd_momentum_nesterov_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    mu = np.float64(mu)
    c = np.float64(c)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            b = b*mu + g*c
            u = b*mu + g
            theta = -u*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_f64_par(param, grad, momentum_buffer, eta, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov (see the comment above sgd_momentum_nesterov_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_nesterov_f64(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, mu, c, flush)


# ---------------------------------------------------------------------------
# sgd_momentum_nesterov_wd: SGD (momentum=True, nesterov=True, weight_decay=True)
# Rule 'sgd_momentum_nesterov_wd' of derive.optim (derivecli show-grad sgd). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     b = b*mu + c*d
#     u = b*mu + d
#     theta = -eta*u + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta = lr
#     lamda = weight_decay
#     mu = momentum
#     c = Piecewise((1, Eq(t, 1)), (1 - dampening, True))
# State written back: momentum_buffer (b)


def sgd_momentum_nesterov_wd_scalars(t, lr, momentum, dampening, weight_decay):
    """Kernel scalars of sgd_momentum_nesterov_wd at step t (1 on the first step), in kernel order."""
    eta = lr
    lamda = weight_decay
    mu = momentum
    c = ((1) if (t == 1) else (1 - dampening))
    return (eta, lamda, mu, c, )


def sgd_momentum_nesterov_wd_init(lr, momentum, dampening, weight_decay):
    """Initial value of each state buffer of sgd_momentum_nesterov_wd (momentum_buffer)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_wd_f32(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov_wd (see the comment above sgd_momentum_nesterov_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    mu = np.float32(mu)
    c = np.float32(c)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            b = b*mu + d*c
            u = b*mu + d
            theta = -u*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_wd_f32_par(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov_wd (see the comment above sgd_momentum_nesterov_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_nesterov_wd_f32(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, lamda, mu, c, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_wd_f64(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov_wd (see the comment above sgd_momentum_nesterov_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    mu = np.float64(mu)
    c = np.float64(c)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            b = b*mu + d*c
            u = b*mu + d
            theta = -u*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sgd_momentum_nesterov_wd_f64_par(param, grad, momentum_buffer, eta, lamda, mu, c, flush=False):
    """SGD, rule sgd_momentum_nesterov_wd (see the comment above sgd_momentum_nesterov_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        sgd_momentum_nesterov_wd_f64(param[lo:hi], grad[lo:hi], momentum_buffer[lo:hi], eta, lamda, mu, c, flush)


# ---------------------------------------------------------------------------
# adagrad: Adagrad (weight_decay=False)
# Rule 'adagrad' of derive.optim (derivecli show-grad adagrad). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     s = g**2 + s
#     sigma = epsilon + sqrt(s)
#     q = g/sigma
#     theta = -eta_t*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta_t = lr/(lr_decay*(t - 1) + 1)
#     epsilon = eps
# State written back: sum (s)


def adagrad_scalars(t, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    """Kernel scalars of adagrad at step t (1 on the first step), in kernel order."""
    eta_t = lr/(lr_decay*(t - 1) + 1)
    epsilon = eps
    return (eta_t, epsilon, )


def adagrad_init(lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    """Initial value of each state buffer of adagrad (sum)."""
    return (initial_accumulator_value, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_f32(param, grad, sum, eta_t, epsilon, flush=False):
    """Adagrad, rule adagrad (see the comment above adagrad_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta_t = np.float32(eta_t)
    epsilon = np.float32(epsilon)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        sum_b = sum[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            s = sum_b[i]
            s = (g*g) + s
            sigma = epsilon + math.sqrt(s)
            q = g/sigma
            theta = -q*eta_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            sum_b[i] = s * zero if abs(s) < tiny else s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_f32_par(param, grad, sum, eta_t, epsilon, flush=False):
    """Adagrad, rule adagrad (see the comment above adagrad_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adagrad_f32(param[lo:hi], grad[lo:hi], sum[lo:hi], eta_t, epsilon, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_f64(param, grad, sum, eta_t, epsilon, flush=False):
    """Adagrad, rule adagrad (see the comment above adagrad_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta_t = np.float64(eta_t)
    epsilon = np.float64(epsilon)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        sum_b = sum[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            s = sum_b[i]
            s = (g*g) + s
            sigma = epsilon + math.sqrt(s)
            q = g/sigma
            theta = -q*eta_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            sum_b[i] = s * zero if abs(s) < tiny else s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_f64_par(param, grad, sum, eta_t, epsilon, flush=False):
    """Adagrad, rule adagrad (see the comment above adagrad_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adagrad_f64(param[lo:hi], grad[lo:hi], sum[lo:hi], eta_t, epsilon, flush)


# ---------------------------------------------------------------------------
# adagrad_wd: Adagrad (weight_decay=True)
# Rule 'adagrad_wd' of derive.optim (derivecli show-grad adagrad). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     s = d**2 + s
#     sigma = epsilon + sqrt(s)
#     q = d/sigma
#     theta = -eta_t*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     eta_t = lr/(lr_decay*(t - 1) + 1)
#     epsilon = eps
#     lamda = weight_decay
# State written back: sum (s)


def adagrad_wd_scalars(t, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    """Kernel scalars of adagrad_wd at step t (1 on the first step), in kernel order."""
    eta_t = lr/(lr_decay*(t - 1) + 1)
    epsilon = eps
    lamda = weight_decay
    return (eta_t, epsilon, lamda, )


def adagrad_wd_init(lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    """Initial value of each state buffer of adagrad_wd (sum)."""
    return (initial_accumulator_value, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_wd_f32(param, grad, sum, eta_t, epsilon, lamda, flush=False):
    """Adagrad, rule adagrad_wd (see the comment above adagrad_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta_t = np.float32(eta_t)
    epsilon = np.float32(epsilon)
    lamda = np.float32(lamda)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        sum_b = sum[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            s = sum_b[i]
            d = g + theta*lamda
            s = (d*d) + s
            sigma = epsilon + math.sqrt(s)
            q = d/sigma
            theta = -q*eta_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            sum_b[i] = s * zero if abs(s) < tiny else s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_wd_f32_par(param, grad, sum, eta_t, epsilon, lamda, flush=False):
    """Adagrad, rule adagrad_wd (see the comment above adagrad_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adagrad_wd_f32(param[lo:hi], grad[lo:hi], sum[lo:hi], eta_t, epsilon, lamda, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_wd_f64(param, grad, sum, eta_t, epsilon, lamda, flush=False):
    """Adagrad, rule adagrad_wd (see the comment above adagrad_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    eta_t = np.float64(eta_t)
    epsilon = np.float64(epsilon)
    lamda = np.float64(lamda)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        sum_b = sum[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            s = sum_b[i]
            d = g + theta*lamda
            s = (d*d) + s
            sigma = epsilon + math.sqrt(s)
            q = d/sigma
            theta = -q*eta_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            sum_b[i] = s * zero if abs(s) < tiny else s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adagrad_wd_f64_par(param, grad, sum, eta_t, epsilon, lamda, flush=False):
    """Adagrad, rule adagrad_wd (see the comment above adagrad_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if sum.shape[0] != n:
        size_error('sum', sum.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, sum) and (grad.ctypes.data != sum.ctypes.data or grad.strides != sum.strides):
        overlap_error('grad', 'sum')
    if overlaps(sum, param):
        shared_state_error('sum', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adagrad_wd_f64(param[lo:hi], grad[lo:hi], sum[lo:hi], eta_t, epsilon, lamda, flush)


# ---------------------------------------------------------------------------
# rmsprop: RMSprop (centered=False, momentum=False, weight_decay=False)
# Rule 'rmsprop' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     v = g**2*w + rho*v
#     sigma = epsilon + sqrt(v)
#     q = g/sigma
#     theta = -eta*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
# State written back: square_avg (v)


def rmsprop_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    return (rho, w, epsilon, eta, )


def rmsprop_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop (square_avg)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_f32(param, grad, square_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop (see the comment above rmsprop_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            v = w*(g*g) + v*rho
            sigma = epsilon + math.sqrt(v)
            q = g/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_f32_par(param, grad, square_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop (see the comment above rmsprop_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], rho, w, epsilon, eta, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_f64(param, grad, square_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop (see the comment above rmsprop_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            v = w*(g*g) + v*rho
            sigma = epsilon + math.sqrt(v)
            q = g/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_f64_par(param, grad, square_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop (see the comment above rmsprop_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], rho, w, epsilon, eta, flush)


# ---------------------------------------------------------------------------
# rmsprop_wd: RMSprop (centered=False, momentum=False, weight_decay=True)
# Rule 'rmsprop_wd' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     v = d**2*w + rho*v
#     sigma = epsilon + sqrt(v)
#     q = d/sigma
#     theta = -eta*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     lamda = weight_decay
# State written back: square_avg (v)


def rmsprop_wd_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_wd at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    lamda = weight_decay
    return (rho, w, epsilon, eta, lamda, )


def rmsprop_wd_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_wd (square_avg)."""
    return (0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_wd_f32(param, grad, square_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_wd (see the comment above rmsprop_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            sigma = epsilon + math.sqrt(v)
            q = d/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_wd_f32_par(param, grad, square_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_wd (see the comment above rmsprop_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_wd_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], rho, w, epsilon, eta, lamda, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_wd_f64(param, grad, square_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_wd (see the comment above rmsprop_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            sigma = epsilon + math.sqrt(v)
            q = d/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_wd_f64_par(param, grad, square_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_wd (see the comment above rmsprop_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_wd_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], rho, w, epsilon, eta, lamda, flush)


# ---------------------------------------------------------------------------
# rmsprop_momentum: RMSprop (centered=False, momentum=True, weight_decay=False)
# Rule 'rmsprop_momentum' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     v = g**2*w + rho*v
#     sigma = epsilon + sqrt(v)
#     b = b*mu + g/sigma
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     mu = momentum
# State written back: square_avg (v), momentum_buffer (b)


def rmsprop_momentum_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_momentum at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    mu = momentum
    return (rho, w, epsilon, eta, mu, )


def rmsprop_momentum_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_momentum (square_avg, momentum_buffer)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_f32(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_momentum (see the comment above rmsprop_momentum_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    mu = np.float32(mu)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            b = momentum_buffer_b[i]
            v = w*(g*g) + v*rho
            sigma = epsilon + math.sqrt(v)
            b = b*mu + g/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_f32_par(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_momentum (see the comment above rmsprop_momentum_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_momentum_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, mu, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_f64(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_momentum (see the comment above rmsprop_momentum_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    mu = np.float64(mu)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            b = momentum_buffer_b[i]
            v = w*(g*g) + v*rho
            sigma = epsilon + math.sqrt(v)
            b = b*mu + g/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_f64_par(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_momentum (see the comment above rmsprop_momentum_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_momentum_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, mu, flush)


# ---------------------------------------------------------------------------
# rmsprop_momentum_wd: RMSprop (centered=False, momentum=True, weight_decay=True)
# Rule 'rmsprop_momentum_wd' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     v = d**2*w + rho*v
#     sigma = epsilon + sqrt(v)
#     b = b*mu + d/sigma
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     lamda = weight_decay
#     mu = momentum
# State written back: square_avg (v), momentum_buffer (b)


def rmsprop_momentum_wd_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_momentum_wd at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    lamda = weight_decay
    mu = momentum
    return (rho, w, epsilon, eta, lamda, mu, )


def rmsprop_momentum_wd_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_momentum_wd (square_avg, momentum_buffer)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_wd_f32(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_momentum_wd (see the comment above rmsprop_momentum_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    mu = np.float32(mu)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            sigma = epsilon + math.sqrt(v)
            b = b*mu + d/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_wd_f32_par(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_momentum_wd (see the comment above rmsprop_momentum_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_momentum_wd_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, lamda, mu, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_wd_f64(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_momentum_wd (see the comment above rmsprop_momentum_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    mu = np.float64(mu)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            sigma = epsilon + math.sqrt(v)
            b = b*mu + d/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_momentum_wd_f64_par(param, grad, square_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_momentum_wd (see the comment above rmsprop_momentum_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_momentum_wd_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, lamda, mu, flush)


# ---------------------------------------------------------------------------
# rmsprop_centered: RMSprop (centered=True, momentum=False, weight_decay=False)
# Rule 'rmsprop_centered' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     v = g**2*w + rho*v
#     gbar = gbar + w*(g - gbar)
#     sigma = epsilon + sqrt(-gbar**2 + v)
#     q = g/sigma
#     theta = -eta*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
# State written back: square_avg (v), grad_avg (gbar)


def rmsprop_centered_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_centered at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    return (rho, w, epsilon, eta, )


def rmsprop_centered_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_centered (square_avg, grad_avg)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_f32(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop_centered (see the comment above rmsprop_centered_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            v = w*(g*g) + v*rho
            gbar = gbar + w*(g - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            q = g/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_f32_par(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop_centered (see the comment above rmsprop_centered_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], rho, w, epsilon, eta, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_f64(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop_centered (see the comment above rmsprop_centered_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            v = w*(g*g) + v*rho
            gbar = gbar + w*(g - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            q = g/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_f64_par(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, flush=False):
    """RMSprop, rule rmsprop_centered (see the comment above rmsprop_centered_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], rho, w, epsilon, eta, flush)


# ---------------------------------------------------------------------------
# rmsprop_centered_wd: RMSprop (centered=True, momentum=False, weight_decay=True)
# Rule 'rmsprop_centered_wd' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     v = d**2*w + rho*v
#     gbar = gbar + w*(d - gbar)
#     sigma = epsilon + sqrt(-gbar**2 + v)
#     q = d/sigma
#     theta = -eta*q + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     lamda = weight_decay
# State written back: square_avg (v), grad_avg (gbar)


def rmsprop_centered_wd_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_centered_wd at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    lamda = weight_decay
    return (rho, w, epsilon, eta, lamda, )


def rmsprop_centered_wd_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_centered_wd (square_avg, grad_avg)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_wd_f32(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_centered_wd (see the comment above rmsprop_centered_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            gbar = gbar + w*(d - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            q = d/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_wd_f32_par(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_centered_wd (see the comment above rmsprop_centered_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_wd_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], rho, w, epsilon, eta, lamda, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_wd_f64(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_centered_wd (see the comment above rmsprop_centered_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            gbar = gbar + w*(d - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            q = d/sigma
            theta = -q*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_wd_f64_par(param, grad, square_avg, grad_avg, rho, w, epsilon, eta, lamda, flush=False):
    """RMSprop, rule rmsprop_centered_wd (see the comment above rmsprop_centered_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_wd_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], rho, w, epsilon, eta, lamda, flush)


# ---------------------------------------------------------------------------
# rmsprop_centered_momentum: RMSprop (centered=True, momentum=True, weight_decay=False)
# Rule 'rmsprop_centered_momentum' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     v = g**2*w + rho*v
#     gbar = gbar + w*(g - gbar)
#     sigma = epsilon + sqrt(-gbar**2 + v)
#     b = b*mu + g/sigma
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     mu = momentum
# State written back: square_avg (v), grad_avg (gbar), momentum_buffer (b)


def rmsprop_centered_momentum_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_centered_momentum at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    mu = momentum
    return (rho, w, epsilon, eta, mu, )


def rmsprop_centered_momentum_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_centered_momentum (square_avg, grad_avg, momentum_buffer)."""
    return (0, 0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_f32(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum (see the comment above rmsprop_centered_momentum_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    mu = np.float32(mu)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            b = momentum_buffer_b[i]
            v = w*(g*g) + v*rho
            gbar = gbar + w*(g - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            b = b*mu + g/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_f32_par(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum (see the comment above rmsprop_centered_momentum_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_momentum_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, mu, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_f64(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum (see the comment above rmsprop_centered_momentum_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    mu = np.float64(mu)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            b = momentum_buffer_b[i]
            v = w*(g*g) + v*rho
            gbar = gbar + w*(g - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            b = b*mu + g/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_f64_par(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum (see the comment above rmsprop_centered_momentum_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_momentum_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, mu, flush)


# ---------------------------------------------------------------------------
# rmsprop_centered_momentum_wd: RMSprop (centered=True, momentum=True, weight_decay=True)
# Rule 'rmsprop_centered_momentum_wd' of derive.optim (derivecli show-grad rmsprop). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     v = d**2*w + rho*v
#     gbar = gbar + w*(d - gbar)
#     sigma = epsilon + sqrt(-gbar**2 + v)
#     b = b*mu + d/sigma
#     theta = -b*eta + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     rho = alpha
#     w = 1 - alpha
#     epsilon = eps
#     eta = lr
#     lamda = weight_decay
#     mu = momentum
# State written back: square_avg (v), grad_avg (gbar), momentum_buffer (b)


def rmsprop_centered_momentum_wd_scalars(t, lr, alpha, eps, weight_decay, momentum):
    """Kernel scalars of rmsprop_centered_momentum_wd at step t (1 on the first step), in kernel order."""
    rho = alpha
    w = 1 - alpha
    epsilon = eps
    eta = lr
    lamda = weight_decay
    mu = momentum
    return (rho, w, epsilon, eta, lamda, mu, )


def rmsprop_centered_momentum_wd_init(lr, alpha, eps, weight_decay, momentum):
    """Initial value of each state buffer of rmsprop_centered_momentum_wd (square_avg, grad_avg, momentum_buffer)."""
    return (0, 0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_wd_f32(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum_wd (see the comment above rmsprop_centered_momentum_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float32(rho)
    w = np.float32(w)
    epsilon = np.float32(epsilon)
    eta = np.float32(eta)
    lamda = np.float32(lamda)
    mu = np.float32(mu)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            gbar = gbar + w*(d - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            b = b*mu + d/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_wd_f32_par(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum_wd (see the comment above rmsprop_centered_momentum_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_momentum_wd_f32(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, lamda, mu, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_wd_f64(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum_wd (see the comment above rmsprop_centered_momentum_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    rho = np.float64(rho)
    w = np.float64(w)
    epsilon = np.float64(epsilon)
    eta = np.float64(eta)
    lamda = np.float64(lamda)
    mu = np.float64(mu)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        square_avg_b = square_avg[lo:hi]
        grad_avg_b = grad_avg[lo:hi]
        momentum_buffer_b = momentum_buffer[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            v = square_avg_b[i]
            gbar = grad_avg_b[i]
            b = momentum_buffer_b[i]
            d = g + theta*lamda
            v = w*(d*d) + v*rho
            gbar = gbar + w*(d - gbar)
            sigma = epsilon + math.sqrt(-(gbar*gbar) + v)
            b = b*mu + d/sigma
            theta = -b*eta + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            square_avg_b[i] = v * zero if abs(v) < tiny else v
            grad_avg_b[i] = gbar * zero if abs(gbar) < tiny else gbar
            momentum_buffer_b[i] = b * zero if abs(b) < tiny else b


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def rmsprop_centered_momentum_wd_f64_par(param, grad, square_avg, grad_avg, momentum_buffer, rho, w, epsilon, eta, lamda, mu, flush=False):
    """RMSprop, rule rmsprop_centered_momentum_wd (see the comment above rmsprop_centered_momentum_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if square_avg.shape[0] != n:
        size_error('square_avg', square_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if grad_avg.shape[0] != n:
        size_error('grad_avg', grad_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if momentum_buffer.shape[0] != n:
        size_error('momentum_buffer', momentum_buffer.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, square_avg) and (grad.ctypes.data != square_avg.ctypes.data or grad.strides != square_avg.strides):
        overlap_error('grad', 'square_avg')
    if overlaps(grad, grad_avg) and (grad.ctypes.data != grad_avg.ctypes.data or grad.strides != grad_avg.strides):
        overlap_error('grad', 'grad_avg')
    if overlaps(grad, momentum_buffer) and (grad.ctypes.data != momentum_buffer.ctypes.data or grad.strides != momentum_buffer.strides):
        overlap_error('grad', 'momentum_buffer')
    if overlaps(square_avg, param):
        shared_state_error('square_avg', 'param')
    if overlaps(grad_avg, param):
        shared_state_error('grad_avg', 'param')
    if overlaps(grad_avg, square_avg):
        shared_state_error('grad_avg', 'square_avg')
    if overlaps(momentum_buffer, param):
        shared_state_error('momentum_buffer', 'param')
    if overlaps(momentum_buffer, square_avg):
        shared_state_error('momentum_buffer', 'square_avg')
    if overlaps(momentum_buffer, grad_avg):
        shared_state_error('momentum_buffer', 'grad_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        rmsprop_centered_momentum_wd_f64(param[lo:hi], grad[lo:hi], square_avg[lo:hi], grad_avg[lo:hi], momentum_buffer[lo:hi], rho, w, epsilon, eta, lamda, mu, flush)


# ---------------------------------------------------------------------------
# adam: Adam (amsgrad=False, weight_decay=False)
# Rule 'adam' of derive.optim (derivecli show-grad adam). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     m = m + w_1*(g - m)
#     v = beta_2*v + g**2*w_2
#     sigma = epsilon + sqrt(v)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v)


def adam_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adam at step t (1 on the first step), in kernel order."""
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adam_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adam (exp_avg, exp_avg_sq)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_f32(param, grad, exp_avg, exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam (see the comment above adam_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_f32_par(param, grad, exp_avg, exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam (see the comment above adam_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_f64(param, grad, exp_avg, exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam (see the comment above adam_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_f64_par(param, grad, exp_avg, exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam (see the comment above adam_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# adam_wd: Adam (amsgrad=False, weight_decay=True)
# Rule 'adam_wd' of derive.optim (derivecli show-grad adam). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     m = m + w_1*(d - m)
#     v = beta_2*v + d**2*w_2
#     sigma = epsilon + sqrt(v)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     lamda = weight_decay
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v)


def adam_wd_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adam_wd at step t (1 on the first step), in kernel order."""
    lamda = weight_decay
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adam_wd_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adam_wd (exp_avg, exp_avg_sq)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_wd_f32(param, grad, exp_avg, exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_wd (see the comment above adam_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    lamda = np.float32(lamda)
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            d = g + theta*lamda
            m = m + w_1*(d - m)
            v = v*beta_2 + w_2*(d*d)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_wd_f32_par(param, grad, exp_avg, exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_wd (see the comment above adam_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_wd_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_wd_f64(param, grad, exp_avg, exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_wd (see the comment above adam_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    lamda = np.float64(lamda)
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            d = g + theta*lamda
            m = m + w_1*(d - m)
            v = v*beta_2 + w_2*(d*d)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_wd_f64_par(param, grad, exp_avg, exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_wd (see the comment above adam_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_wd_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# adam_amsgrad: Adam (amsgrad=True, weight_decay=False)
# Rule 'adam_amsgrad' of derive.optim (derivecli show-grad adam). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     m = m + w_1*(g - m)
#     v = beta_2*v + g**2*w_2
#     v_max = Max(v, v_max)
#     sigma = epsilon + sqrt(v_max)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (v_max)


def adam_amsgrad_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adam_amsgrad at step t (1 on the first step), in kernel order."""
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adam_amsgrad_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adam_amsgrad (exp_avg, exp_avg_sq, max_exp_avg_sq)."""
    return (0, 0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_f32(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad (see the comment above adam_amsgrad_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_f32_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad (see the comment above adam_amsgrad_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_amsgrad_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_f64(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad (see the comment above adam_amsgrad_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_f64_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad (see the comment above adam_amsgrad_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_amsgrad_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# adam_amsgrad_wd: Adam (amsgrad=True, weight_decay=True)
# Rule 'adam_amsgrad_wd' of derive.optim (derivecli show-grad adam). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     d = g + lamda*theta
#     m = m + w_1*(d - m)
#     v = beta_2*v + d**2*w_2
#     v_max = Max(v, v_max)
#     sigma = epsilon + sqrt(v_max)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     lamda = weight_decay
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (v_max)


def adam_amsgrad_wd_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adam_amsgrad_wd at step t (1 on the first step), in kernel order."""
    lamda = weight_decay
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adam_amsgrad_wd_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adam_amsgrad_wd (exp_avg, exp_avg_sq, max_exp_avg_sq)."""
    return (0, 0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_wd_f32(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad_wd (see the comment above adam_amsgrad_wd_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    lamda = np.float32(lamda)
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            d = g + theta*lamda
            m = m + w_1*(d - m)
            v = v*beta_2 + w_2*(d*d)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_wd_f32_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad_wd (see the comment above adam_amsgrad_wd_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_amsgrad_wd_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_wd_f64(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad_wd (see the comment above adam_amsgrad_wd_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    lamda = np.float64(lamda)
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            d = g + theta*lamda
            m = m + w_1*(d - m)
            v = v*beta_2 + w_2*(d*d)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adam_amsgrad_wd_f64_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """Adam, rule adam_amsgrad_wd (see the comment above adam_amsgrad_wd_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adam_amsgrad_wd_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], lamda, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# adamw: AdamW (amsgrad=False)
# Rule 'adamw' of derive.optim (derivecli show-grad adamw). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     theta = k*theta
#     m = m + w_1*(g - m)
#     v = beta_2*v + g**2*w_2
#     sigma = epsilon + sqrt(v)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     k = -lr*weight_decay + 1
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v)


def adamw_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adamw at step t (1 on the first step), in kernel order."""
    k = -lr*weight_decay + 1
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (k, w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adamw_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adamw (exp_avg, exp_avg_sq)."""
    return (0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_f32(param, grad, exp_avg, exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw (see the comment above adamw_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    k = np.float32(k)
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            theta = theta*k
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_f32_par(param, grad, exp_avg, exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw (see the comment above adamw_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adamw_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_f64(param, grad, exp_avg, exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw (see the comment above adamw_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    k = np.float64(k)
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            theta = theta*k
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            sigma = epsilon + math.sqrt(v)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_f64_par(param, grad, exp_avg, exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw (see the comment above adamw_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adamw_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# adamw_amsgrad: AdamW (amsgrad=True)
# Rule 'adamw_amsgrad' of derive.optim (derivecli show-grad adamw). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     theta = k*theta
#     m = m + w_1*(g - m)
#     v = beta_2*v + g**2*w_2
#     v_max = Max(v, v_max)
#     sigma = epsilon + sqrt(v_max)/c_2
#     q = m/sigma
#     theta = -q*s_t + theta
# Scalars, computed per step on the host (t = step count, 1 first):
#     k = -lr*weight_decay + 1
#     w_1 = 1 - beta1
#     beta_2 = beta2
#     w_2 = 1 - beta2
#     c_2 = sqrt(1 - beta2**t)
#     epsilon = eps
#     s_t = lr/(1 - beta1**t)
# State written back: exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (v_max)


def adamw_amsgrad_scalars(t, lr, beta1, beta2, eps, weight_decay):
    """Kernel scalars of adamw_amsgrad at step t (1 on the first step), in kernel order."""
    k = -lr*weight_decay + 1
    w_1 = 1 - beta1
    beta_2 = beta2
    w_2 = 1 - beta2
    c_2 = (1 - beta2**t) ** 0.5
    epsilon = eps
    s_t = lr/(1 - beta1**t)
    return (k, w_1, beta_2, w_2, c_2, epsilon, s_t, )


def adamw_amsgrad_init(lr, beta1, beta2, eps, weight_decay):
    """Initial value of each state buffer of adamw_amsgrad (exp_avg, exp_avg_sq, max_exp_avg_sq)."""
    return (0, 0, 0, )


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_amsgrad_f32(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw_amsgrad (see the comment above adamw_amsgrad_scalars): in place, float32, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    k = np.float32(k)
    w_1 = np.float32(w_1)
    beta_2 = np.float32(beta_2)
    w_2 = np.float32(w_2)
    c_2 = np.float32(c_2)
    epsilon = np.float32(epsilon)
    s_t = np.float32(s_t)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            theta = theta*k
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_amsgrad_f32_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw_amsgrad (see the comment above adamw_amsgrad_scalars): in place, float32, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adamw_amsgrad_f32(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_amsgrad_f64(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw_amsgrad (see the comment above adamw_amsgrad_scalars): in place, float64, serial."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    k = np.float64(k)
    w_1 = np.float64(w_1)
    beta_2 = np.float64(beta_2)
    w_2 = np.float64(w_2)
    c_2 = np.float64(c_2)
    epsilon = np.float64(epsilon)
    s_t = np.float64(s_t)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        param_b = param[lo:hi]
        grad_b = grad[lo:hi]
        exp_avg_b = exp_avg[lo:hi]
        exp_avg_sq_b = exp_avg_sq[lo:hi]
        max_exp_avg_sq_b = max_exp_avg_sq[lo:hi]
        for i in range(hi - lo):
            theta = param_b[i]
            g = grad_b[i]
            m = exp_avg_b[i]
            v = exp_avg_sq_b[i]
            v_max = max_exp_avg_sq_b[i]
            theta = theta*k
            m = m + w_1*(g - m)
            v = v*beta_2 + w_2*(g*g)
            v_max = (v if (v > v_max) | (v != v) else v_max)
            sigma = epsilon + math.sqrt(v_max)/c_2
            q = m/sigma
            theta = -q*s_t + theta
            param_b[i] = theta * zero if abs(theta) < tiny else theta
            exp_avg_b[i] = m * zero if abs(m) < tiny else m
            exp_avg_sq_b[i] = v * zero if abs(v) < tiny else v
            max_exp_avg_sq_b[i] = v_max * zero if abs(v_max) < tiny else v_max


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def adamw_amsgrad_f64_par(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush=False):
    """AdamW, rule adamw_amsgrad (see the comment above adamw_amsgrad_scalars): in place, float64, parallel over blocks."""
    n = param.shape[0]
    if grad.shape[0] != n:
        size_error('grad', grad.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg.shape[0] != n:
        size_error('exp_avg', exp_avg.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if exp_avg_sq.shape[0] != n:
        size_error('exp_avg_sq', exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if max_exp_avg_sq.shape[0] != n:
        size_error('max_exp_avg_sq', max_exp_avg_sq.shape[0], n, 'param.shape[0]: the arrays are 1-D, of one size')
    if overlaps(grad, param) and (grad.ctypes.data != param.ctypes.data or grad.strides != param.strides):
        overlap_error('grad', 'param')
    if overlaps(grad, exp_avg) and (grad.ctypes.data != exp_avg.ctypes.data or grad.strides != exp_avg.strides):
        overlap_error('grad', 'exp_avg')
    if overlaps(grad, exp_avg_sq) and (grad.ctypes.data != exp_avg_sq.ctypes.data or grad.strides != exp_avg_sq.strides):
        overlap_error('grad', 'exp_avg_sq')
    if overlaps(grad, max_exp_avg_sq) and (grad.ctypes.data != max_exp_avg_sq.ctypes.data or grad.strides != max_exp_avg_sq.strides):
        overlap_error('grad', 'max_exp_avg_sq')
    if overlaps(exp_avg, param):
        shared_state_error('exp_avg', 'param')
    if overlaps(exp_avg_sq, param):
        shared_state_error('exp_avg_sq', 'param')
    if overlaps(exp_avg_sq, exp_avg):
        shared_state_error('exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, param):
        shared_state_error('max_exp_avg_sq', 'param')
    if overlaps(max_exp_avg_sq, exp_avg):
        shared_state_error('max_exp_avg_sq', 'exp_avg')
    if overlaps(max_exp_avg_sq, exp_avg_sq):
        shared_state_error('max_exp_avg_sq', 'exp_avg_sq')
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        adamw_amsgrad_f64(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi], max_exp_avg_sq[lo:hi], k, w_1, beta_2, w_2, c_2, epsilon, s_t, flush)


# ---------------------------------------------------------------------------
# clip_grad_value: clip by value
# Rule 'clip_grad_value' of derive.optim (derivecli show-grad clip_grad_value). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     g = Piecewise((-c_v, c_v < -g), (c_v, c_v < g), (g, True))
# Scalars, computed per step on the host (t = step count, 1 first):
#     c_v = clip_value


def clip_grad_value_scalars(t, clip_value):
    """Kernel scalars of clip_grad_value at step t (1 on the first step), in kernel order."""
    c_v = clip_value
    return (c_v, )


def clip_grad_value_init(clip_value):
    """Initial value of each state buffer of clip_grad_value (none)."""
    return ()


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_value_f32(grad, c_v, flush=False):
    """clip by value, rule clip_grad_value (see the comment above clip_grad_value_scalars): in place, float32, serial."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    c_v = np.float32(c_v)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            g = grad_b[i]
            g = (-c_v if (c_v < -g) else (c_v if (c_v < g) else g))
            grad_b[i] = g * zero if abs(g) < tiny else g


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_value_f32_par(grad, c_v, flush=False):
    """clip by value, rule clip_grad_value (see the comment above clip_grad_value_scalars): in place, float32, parallel over blocks."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        clip_grad_value_f32(grad[lo:hi], c_v, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_value_f64(grad, c_v, flush=False):
    """clip by value, rule clip_grad_value (see the comment above clip_grad_value_scalars): in place, float64, serial."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    c_v = np.float64(c_v)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            g = grad_b[i]
            g = (-c_v if (c_v < -g) else (c_v if (c_v < g) else g))
            grad_b[i] = g * zero if abs(g) < tiny else g


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_value_f64_par(grad, c_v, flush=False):
    """clip by value, rule clip_grad_value (see the comment above clip_grad_value_scalars): in place, float64, parallel over blocks."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        clip_grad_value_f64(grad[lo:hi], c_v, flush)


# ---------------------------------------------------------------------------
# clip_grad_scale: clip by global norm
# Rule 'clip_grad_scale' of derive.optim (derivecli show-grad clip_grad_norm). Per element, in
# order (a state name holds its value before the step until it is assigned):
#     g = g*kappa
# Scalars, computed per step on the host (t = step count, 1 first):
#     kappa = Min(1, max_norm/(total_norm + 1.0e-6))


def clip_grad_scale_scalars(t, max_norm, total_norm):
    """Kernel scalars of clip_grad_scale at step t (1 on the first step), in kernel order."""
    kappa = _fmin(1, max_norm/(total_norm + 1.0e-6))
    return (kappa, )


def clip_grad_scale_init(max_norm, total_norm):
    """Initial value of each state buffer of clip_grad_scale (none)."""
    return ()


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_scale_f32(grad, kappa, flush=False):
    """clip by global norm, rule clip_grad_scale (see the comment above clip_grad_scale_scalars): in place, float32, serial."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    kappa = np.float32(kappa)
    tiny = np.float32(1.1754943508222875e-38) if flush else np.float32(0)
    zero = np.float32(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            g = grad_b[i]
            g = g*kappa
            grad_b[i] = g * zero if abs(g) < tiny else g


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_scale_f32_par(grad, kappa, flush=False):
    """clip by global norm, rule clip_grad_scale (see the comment above clip_grad_scale_scalars): in place, float32, parallel over blocks."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        clip_grad_scale_f32(grad[lo:hi], kappa, flush)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_scale_f64(grad, kappa, flush=False):
    """clip by global norm, rule clip_grad_scale (see the comment above clip_grad_scale_scalars): in place, float64, serial."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    kappa = np.float64(kappa)
    tiny = np.float64(2.2250738585072014e-308) if flush else np.float64(0)
    zero = np.float64(0)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        for i in range(hi - lo):
            g = grad_b[i]
            g = g*kappa
            grad_b[i] = g * zero if abs(g) < tiny else g


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def clip_grad_scale_f64_par(grad, kappa, flush=False):
    """clip by global norm, rule clip_grad_scale (see the comment above clip_grad_scale_scalars): in place, float64, parallel over blocks."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        clip_grad_scale_f64(grad[lo:hi], kappa, flush)


def norm_sum_abs_finish(R):
    """The norm from the reduced value R."""
    return R


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_abs(grad):
    """R = sum of Abs(g) over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_abs_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += abs(g)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += abs(g)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_abs_par(grad):
    """R = sum of Abs(g) over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_abs_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += abs(g)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += abs(g)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


def norm_sum_sq_finish(R):
    """The norm from the reduced value R."""
    return (R) ** 0.5


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_sq(grad):
    """R = sum of g**2 over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_sq_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += (g*g)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += (g*g)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_sq_par(grad):
    """R = sum of g**2 over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_sq_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += (g*g)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += (g*g)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


def norm_sum_pow_finish(R, p):
    """The norm from the reduced value R."""
    return R**(1/p)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_pow(grad, p):
    """R = sum of Abs(g)**p over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_pow_finish(R)."""
    p = np.float64(p)
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += (abs(g) ** p)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += (abs(g) ** p)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_sum_pow_par(grad, p):
    """R = sum of Abs(g)**p over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_sum_pow_finish(R)."""
    p = np.float64(p)
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                acc[k] += (abs(g) ** p)
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            total += (abs(g) ** p)
        for k in range(LANES):
            total += acc[k]
        partial[blk] = total
    return pairwise_sum(partial)


def norm_max_abs_finish(R):
    """The norm from the reduced value R."""
    return R


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_max_abs(grad):
    """R = max of Abs(g) over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_max_abs_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in range(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                x = abs(g)
                acc[k] = x if (x > acc[k]) | (x != x) else acc[k]
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            x = abs(g)
            total = x if (x > total) | (x != x) else total
        for k in range(LANES):
            g = acc[k]
            total = g if (g > total) | (g != g) else total
        partial[blk] = total
    return _nanmax(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def norm_max_abs_par(grad):
    """R = max of Abs(g) over every element, in float64 (LANES lanes per block, then across blocks); the norm is norm_max_abs_finish(R)."""
    n = grad.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(max(nblocks, 1), np.float64)
    for blk in numba.prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        grad_b = grad[lo:hi]
        m = hi - lo
        acc = np.zeros(LANES, np.float64)
        full = m - m % LANES
        for j0 in range(0, full, LANES):
            chunk = grad_b[j0:j0 + LANES]
            for k in range(LANES):
                g = np.float64(chunk[k])
                x = abs(g)
                acc[k] = x if (x > acc[k]) | (x != x) else acc[k]
        total = 0.0
        for k in range(full, m):
            g = np.float64(grad_b[k])
            x = abs(g)
            total = x if (x > total) | (x != x) else total
        for k in range(LANES):
            g = acc[k]
            total = g if (g > total) | (g != g) else total
        partial[blk] = total
    return _nanmax(partial)


RULES = {
    'sgd': {
        "optimizer": 'sgd',
        "options": {'momentum': False, 'nesterov': False, 'weight_decay': False},
        "state": (),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_scalars,
        "init": sgd_init,
        "kernels": {('float32', False): sgd_f32, ('float32', True): sgd_f32_par, ('float64', False): sgd_f64, ('float64', True): sgd_f64_par},
    },
    'sgd_wd': {
        "optimizer": 'sgd',
        "options": {'momentum': False, 'nesterov': False, 'weight_decay': True},
        "state": (),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_wd_scalars,
        "init": sgd_wd_init,
        "kernels": {('float32', False): sgd_wd_f32, ('float32', True): sgd_wd_f32_par, ('float64', False): sgd_wd_f64, ('float64', True): sgd_wd_f64_par},
    },
    'sgd_momentum': {
        "optimizer": 'sgd',
        "options": {'momentum': True, 'nesterov': False, 'weight_decay': False},
        "state": ('momentum_buffer',),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_momentum_scalars,
        "init": sgd_momentum_init,
        "kernels": {('float32', False): sgd_momentum_f32, ('float32', True): sgd_momentum_f32_par, ('float64', False): sgd_momentum_f64, ('float64', True): sgd_momentum_f64_par},
    },
    'sgd_momentum_wd': {
        "optimizer": 'sgd',
        "options": {'momentum': True, 'nesterov': False, 'weight_decay': True},
        "state": ('momentum_buffer',),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_momentum_wd_scalars,
        "init": sgd_momentum_wd_init,
        "kernels": {('float32', False): sgd_momentum_wd_f32, ('float32', True): sgd_momentum_wd_f32_par, ('float64', False): sgd_momentum_wd_f64, ('float64', True): sgd_momentum_wd_f64_par},
    },
    'sgd_momentum_nesterov': {
        "optimizer": 'sgd',
        "options": {'momentum': True, 'nesterov': True, 'weight_decay': False},
        "state": ('momentum_buffer',),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_momentum_nesterov_scalars,
        "init": sgd_momentum_nesterov_init,
        "kernels": {('float32', False): sgd_momentum_nesterov_f32, ('float32', True): sgd_momentum_nesterov_f32_par, ('float64', False): sgd_momentum_nesterov_f64, ('float64', True): sgd_momentum_nesterov_f64_par},
    },
    'sgd_momentum_nesterov_wd': {
        "optimizer": 'sgd',
        "options": {'momentum': True, 'nesterov': True, 'weight_decay': True},
        "state": ('momentum_buffer',),
        "hyper": ('lr', 'momentum', 'dampening', 'weight_decay'),
        "scalars": sgd_momentum_nesterov_wd_scalars,
        "init": sgd_momentum_nesterov_wd_init,
        "kernels": {('float32', False): sgd_momentum_nesterov_wd_f32, ('float32', True): sgd_momentum_nesterov_wd_f32_par, ('float64', False): sgd_momentum_nesterov_wd_f64, ('float64', True): sgd_momentum_nesterov_wd_f64_par},
    },
    'adagrad': {
        "optimizer": 'adagrad',
        "options": {'weight_decay': False},
        "state": ('sum',),
        "hyper": ('lr', 'lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps'),
        "scalars": adagrad_scalars,
        "init": adagrad_init,
        "kernels": {('float32', False): adagrad_f32, ('float32', True): adagrad_f32_par, ('float64', False): adagrad_f64, ('float64', True): adagrad_f64_par},
    },
    'adagrad_wd': {
        "optimizer": 'adagrad',
        "options": {'weight_decay': True},
        "state": ('sum',),
        "hyper": ('lr', 'lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps'),
        "scalars": adagrad_wd_scalars,
        "init": adagrad_wd_init,
        "kernels": {('float32', False): adagrad_wd_f32, ('float32', True): adagrad_wd_f32_par, ('float64', False): adagrad_wd_f64, ('float64', True): adagrad_wd_f64_par},
    },
    'rmsprop': {
        "optimizer": 'rmsprop',
        "options": {'centered': False, 'momentum': False, 'weight_decay': False},
        "state": ('square_avg',),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_scalars,
        "init": rmsprop_init,
        "kernels": {('float32', False): rmsprop_f32, ('float32', True): rmsprop_f32_par, ('float64', False): rmsprop_f64, ('float64', True): rmsprop_f64_par},
    },
    'rmsprop_wd': {
        "optimizer": 'rmsprop',
        "options": {'centered': False, 'momentum': False, 'weight_decay': True},
        "state": ('square_avg',),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_wd_scalars,
        "init": rmsprop_wd_init,
        "kernels": {('float32', False): rmsprop_wd_f32, ('float32', True): rmsprop_wd_f32_par, ('float64', False): rmsprop_wd_f64, ('float64', True): rmsprop_wd_f64_par},
    },
    'rmsprop_momentum': {
        "optimizer": 'rmsprop',
        "options": {'centered': False, 'momentum': True, 'weight_decay': False},
        "state": ('square_avg', 'momentum_buffer'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_momentum_scalars,
        "init": rmsprop_momentum_init,
        "kernels": {('float32', False): rmsprop_momentum_f32, ('float32', True): rmsprop_momentum_f32_par, ('float64', False): rmsprop_momentum_f64, ('float64', True): rmsprop_momentum_f64_par},
    },
    'rmsprop_momentum_wd': {
        "optimizer": 'rmsprop',
        "options": {'centered': False, 'momentum': True, 'weight_decay': True},
        "state": ('square_avg', 'momentum_buffer'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_momentum_wd_scalars,
        "init": rmsprop_momentum_wd_init,
        "kernels": {('float32', False): rmsprop_momentum_wd_f32, ('float32', True): rmsprop_momentum_wd_f32_par, ('float64', False): rmsprop_momentum_wd_f64, ('float64', True): rmsprop_momentum_wd_f64_par},
    },
    'rmsprop_centered': {
        "optimizer": 'rmsprop',
        "options": {'centered': True, 'momentum': False, 'weight_decay': False},
        "state": ('square_avg', 'grad_avg'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_centered_scalars,
        "init": rmsprop_centered_init,
        "kernels": {('float32', False): rmsprop_centered_f32, ('float32', True): rmsprop_centered_f32_par, ('float64', False): rmsprop_centered_f64, ('float64', True): rmsprop_centered_f64_par},
    },
    'rmsprop_centered_wd': {
        "optimizer": 'rmsprop',
        "options": {'centered': True, 'momentum': False, 'weight_decay': True},
        "state": ('square_avg', 'grad_avg'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_centered_wd_scalars,
        "init": rmsprop_centered_wd_init,
        "kernels": {('float32', False): rmsprop_centered_wd_f32, ('float32', True): rmsprop_centered_wd_f32_par, ('float64', False): rmsprop_centered_wd_f64, ('float64', True): rmsprop_centered_wd_f64_par},
    },
    'rmsprop_centered_momentum': {
        "optimizer": 'rmsprop',
        "options": {'centered': True, 'momentum': True, 'weight_decay': False},
        "state": ('square_avg', 'grad_avg', 'momentum_buffer'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_centered_momentum_scalars,
        "init": rmsprop_centered_momentum_init,
        "kernels": {('float32', False): rmsprop_centered_momentum_f32, ('float32', True): rmsprop_centered_momentum_f32_par, ('float64', False): rmsprop_centered_momentum_f64, ('float64', True): rmsprop_centered_momentum_f64_par},
    },
    'rmsprop_centered_momentum_wd': {
        "optimizer": 'rmsprop',
        "options": {'centered': True, 'momentum': True, 'weight_decay': True},
        "state": ('square_avg', 'grad_avg', 'momentum_buffer'),
        "hyper": ('lr', 'alpha', 'eps', 'weight_decay', 'momentum'),
        "scalars": rmsprop_centered_momentum_wd_scalars,
        "init": rmsprop_centered_momentum_wd_init,
        "kernels": {('float32', False): rmsprop_centered_momentum_wd_f32, ('float32', True): rmsprop_centered_momentum_wd_f32_par, ('float64', False): rmsprop_centered_momentum_wd_f64, ('float64', True): rmsprop_centered_momentum_wd_f64_par},
    },
    'adam': {
        "optimizer": 'adam',
        "options": {'amsgrad': False, 'weight_decay': False},
        "state": ('exp_avg', 'exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adam_scalars,
        "init": adam_init,
        "kernels": {('float32', False): adam_f32, ('float32', True): adam_f32_par, ('float64', False): adam_f64, ('float64', True): adam_f64_par},
    },
    'adam_wd': {
        "optimizer": 'adam',
        "options": {'amsgrad': False, 'weight_decay': True},
        "state": ('exp_avg', 'exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adam_wd_scalars,
        "init": adam_wd_init,
        "kernels": {('float32', False): adam_wd_f32, ('float32', True): adam_wd_f32_par, ('float64', False): adam_wd_f64, ('float64', True): adam_wd_f64_par},
    },
    'adam_amsgrad': {
        "optimizer": 'adam',
        "options": {'amsgrad': True, 'weight_decay': False},
        "state": ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adam_amsgrad_scalars,
        "init": adam_amsgrad_init,
        "kernels": {('float32', False): adam_amsgrad_f32, ('float32', True): adam_amsgrad_f32_par, ('float64', False): adam_amsgrad_f64, ('float64', True): adam_amsgrad_f64_par},
    },
    'adam_amsgrad_wd': {
        "optimizer": 'adam',
        "options": {'amsgrad': True, 'weight_decay': True},
        "state": ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adam_amsgrad_wd_scalars,
        "init": adam_amsgrad_wd_init,
        "kernels": {('float32', False): adam_amsgrad_wd_f32, ('float32', True): adam_amsgrad_wd_f32_par, ('float64', False): adam_amsgrad_wd_f64, ('float64', True): adam_amsgrad_wd_f64_par},
    },
    'adamw': {
        "optimizer": 'adamw',
        "options": {'amsgrad': False},
        "state": ('exp_avg', 'exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adamw_scalars,
        "init": adamw_init,
        "kernels": {('float32', False): adamw_f32, ('float32', True): adamw_f32_par, ('float64', False): adamw_f64, ('float64', True): adamw_f64_par},
    },
    'adamw_amsgrad': {
        "optimizer": 'adamw',
        "options": {'amsgrad': True},
        "state": ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'),
        "hyper": ('lr', 'beta1', 'beta2', 'eps', 'weight_decay'),
        "scalars": adamw_amsgrad_scalars,
        "init": adamw_amsgrad_init,
        "kernels": {('float32', False): adamw_amsgrad_f32, ('float32', True): adamw_amsgrad_f32_par, ('float64', False): adamw_amsgrad_f64, ('float64', True): adamw_amsgrad_f64_par},
    },
    'clip_grad_value': {
        "optimizer": 'clip_grad_value',
        "options": {},
        "state": (),
        "hyper": ('clip_value',),
        "scalars": clip_grad_value_scalars,
        "init": clip_grad_value_init,
        "kernels": {('float32', False): clip_grad_value_f32, ('float32', True): clip_grad_value_f32_par, ('float64', False): clip_grad_value_f64, ('float64', True): clip_grad_value_f64_par},
    },
    'clip_grad_scale': {
        "optimizer": 'clip_grad_norm',
        "options": {},
        "state": (),
        "hyper": ('max_norm', 'total_norm'),
        "scalars": clip_grad_scale_scalars,
        "init": clip_grad_scale_init,
        "kernels": {('float32', False): clip_grad_scale_f32, ('float32', True): clip_grad_scale_f32_par, ('float64', False): clip_grad_scale_f64, ('float64', True): clip_grad_scale_f64_par},
    },
}


NORMS = {
    'norm_sum_abs': {"p": 1, "finish": norm_sum_abs_finish, "kernels": {False: norm_sum_abs, True: norm_sum_abs_par}},
    'norm_sum_sq': {"p": 2, "finish": norm_sum_sq_finish, "kernels": {False: norm_sum_sq, True: norm_sum_sq_par}},
    'norm_sum_pow': {"p": 'p', "finish": norm_sum_pow_finish, "kernels": {False: norm_sum_pow, True: norm_sum_pow_par}},
    'norm_max_abs': {"p": 'inf', "finish": norm_max_abs_finish, "kernels": {False: norm_max_abs, True: norm_max_abs_par}},
}
