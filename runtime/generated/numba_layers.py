# generated, do not edit: regenerate with `python -m codegen.generate --update`
# Generator: codegen.numba_layers, version 2
# Derivations: batchnorm, dropout (derive/batchnorm.py)
# Source hash: sha256:f071dcc0e6c9f73f (of the SymPy kernel forms printed below)
"""Batch normalisation and inverted dropout kernels, generated from derive/batchnorm.py.

Standalone: imports numpy, numba and math only; kernels compile on first call and are
cached on disk when the module is imported under its file's name (CACHE, below).
Batch-norm arrays are (N, F) C-contiguous, parameters (F,); dropout arrays are 1-D.
KERNELS[(name, dtype)] indexes them (see codegen/numba_layers.py)."""
import math  # noqa: F401  (printed expressions may use math.sqrt)

import numba
import numpy as np

FASTMATH = {'nsz', 'arcp', 'contract', 'afn'}  # keeps NaN/Inf semantics


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


# float32 constants: typed globals, so no literal promotes a loop to float64
_F32_1P0 = np.float32(1.0)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _batch_mean_var_f32(x):
    """Per-feature mean and biased variance (1/N) of x (N, F), accumulated in float64."""
    n, nf = x.shape
    acc = np.zeros(nf, dtype=np.float64)
    for i in range(n):
        for j in range(nf):
            acc[j] += x[i, j]
    mean = acc / n
    acc[:] = 0.0
    for i in range(n):
        for j in range(nf):
            d = x[i, j] - mean[j]
            acc[j] += d * d
    return mean, acc / n


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _normalise_f32(x, gamma, beta, mu, inv_std, xhat, y):
    n, nf = x.shape
    for i in range(n):
        for j in range(nf):
            xh = inv_std[j]*(-mu[j] + x[i, j])
            xhat[i, j] = xh
            y[i, j] = beta[j] + gamma[j]*xh


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_train_f32(x, gamma, beta, eps, momentum, running_mean, running_var, inv_std, xhat, y):
    """Training mode: batch statistics, running statistics updated, x̂ and y = γx̂ + β.

    Kernel forms (derivecli show-grad batchnorm):
        inv_std = 1/sqrt(epsilon + sigma^2)
        xhat = inv_std*(-mu + x)
        y = beta + gamma*xhat
        running_mean = momentum*mu + running*(1 - momentum)
        running_var = N*momentum*sigma^2/(N - 1) + running*(1 - momentum)
    """
    n, nf = x.shape
    if xhat.shape[0] != x.shape[0]:
        size_error('xhat', xhat.shape[0], x.shape[0], "x.shape[0]: xhat has x's shape")
    if y.shape[0] != x.shape[0]:
        size_error('y', y.shape[0], x.shape[0], "x.shape[0]: y has x's shape")
    if xhat.shape[1] != x.shape[1]:
        size_error('xhat', xhat.shape[1], x.shape[1], "x.shape[1]: xhat has x's shape")
    if y.shape[1] != x.shape[1]:
        size_error('y', y.shape[1], x.shape[1], "x.shape[1]: y has x's shape")
    if gamma.size != x.shape[1]:
        size_error('gamma', gamma.size, x.shape[1], 'x.shape[1]: one per feature')
    if beta.size != x.shape[1]:
        size_error('beta', beta.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_mean.size != x.shape[1]:
        size_error('running_mean', running_mean.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_var.size != x.shape[1]:
        size_error('running_var', running_var.size, x.shape[1], 'x.shape[1]: one per feature')
    if inv_std.size != x.shape[1]:
        size_error('inv_std', inv_std.size, x.shape[1], 'x.shape[1]: one per feature')
    eps_ = np.float32(eps)
    mean, variance = _batch_mean_var_f32(x)
    mu = np.empty(nf, dtype=x.dtype)
    N = n
    for j in range(nf):
        var = variance[j]
        mu_j = mean[j]
        inv_std[j] = (_F32_1P0/math.sqrt(eps_ + var))
        mu[j] = mu_j
        running = running_mean[j]
        running_mean[j] = mu_j*momentum + running*(_F32_1P0 - momentum)
        running = running_var[j]
        running_var[j] = momentum*var*N/(N - _F32_1P0) + running*(_F32_1P0 - momentum)
    _normalise_f32(x, gamma, beta, mu, inv_std, xhat, y)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_eval_f32(x, gamma, beta, eps, running_mean, running_var, inv_std, xhat, y):
    """Evaluation mode: normalise by the running statistics.

    Kernel forms (derivecli show-grad batchnorm):
        inv_std = 1/sqrt(epsilon + sigma^2)
        xhat = inv_std*(-mu + x)
        y = beta + gamma*xhat
    """
    nf = x.shape[1]
    if xhat.shape[0] != x.shape[0]:
        size_error('xhat', xhat.shape[0], x.shape[0], "x.shape[0]: xhat has x's shape")
    if y.shape[0] != x.shape[0]:
        size_error('y', y.shape[0], x.shape[0], "x.shape[0]: y has x's shape")
    if xhat.shape[1] != x.shape[1]:
        size_error('xhat', xhat.shape[1], x.shape[1], "x.shape[1]: xhat has x's shape")
    if y.shape[1] != x.shape[1]:
        size_error('y', y.shape[1], x.shape[1], "x.shape[1]: y has x's shape")
    if gamma.size != x.shape[1]:
        size_error('gamma', gamma.size, x.shape[1], 'x.shape[1]: one per feature')
    if beta.size != x.shape[1]:
        size_error('beta', beta.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_mean.size != x.shape[1]:
        size_error('running_mean', running_mean.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_var.size != x.shape[1]:
        size_error('running_var', running_var.size, x.shape[1], 'x.shape[1]: one per feature')
    if inv_std.size != x.shape[1]:
        size_error('inv_std', inv_std.size, x.shape[1], 'x.shape[1]: one per feature')
    eps_ = np.float32(eps)
    for j in range(nf):
        var = running_var[j]
        inv_std[j] = (_F32_1P0/math.sqrt(eps_ + var))
    _normalise_f32(x, gamma, beta, running_mean, inv_std, xhat, y)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _sums_f32(g, xhat, dgamma, dbeta):
    """∂L/∂γ = Σ g x̂ and ∂L/∂β = Σ g over the batch, accumulated in float64."""
    n, nf = g.shape
    sg = np.zeros(nf, dtype=np.float64)
    sgx = np.zeros(nf, dtype=np.float64)
    for i in range(n):
        for j in range(nf):
            sg[j] += g[i, j]
            sgx[j] += g[i, j]*xhat[i, j]
    for j in range(nf):
        dgamma[j] = sgx[j]
        dbeta[j] = sg[j]
    return sg, sgx


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_backward_f32(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Training mode: ∂L/∂x through μ and σ² (derive.batchnorm's closed form), ∂L/∂γ, ∂L/∂β.

    Kernel forms (derivecli show-grad batchnorm):
        grad_x = gamma*inv_std*(g - mean_g - mean_gxhat*xhat)
        grad_gamma = g*xhat
        grad_beta = g
    """
    n, nf = g.shape
    if xhat.shape[0] != g.shape[0]:
        size_error('xhat', xhat.shape[0], g.shape[0], "g.shape[0]: xhat has g's shape")
    if dx.shape[0] != g.shape[0]:
        size_error('dx', dx.shape[0], g.shape[0], "g.shape[0]: dx has g's shape")
    if xhat.shape[1] != g.shape[1]:
        size_error('xhat', xhat.shape[1], g.shape[1], "g.shape[1]: xhat has g's shape")
    if dx.shape[1] != g.shape[1]:
        size_error('dx', dx.shape[1], g.shape[1], "g.shape[1]: dx has g's shape")
    if gamma.size != g.shape[1]:
        size_error('gamma', gamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if inv_std.size != g.shape[1]:
        size_error('inv_std', inv_std.size, g.shape[1], 'g.shape[1]: one per feature')
    if dgamma.size != g.shape[1]:
        size_error('dgamma', dgamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if dbeta.size != g.shape[1]:
        size_error('dbeta', dbeta.size, g.shape[1], 'g.shape[1]: one per feature')
    sg, sgx = _sums_f32(g, xhat, dgamma, dbeta)
    mean_g = (sg / n).astype(g.dtype)
    mean_gxhat = (sgx / n).astype(g.dtype)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = gamma[j]*inv_std[j]*(g[i, j] - mean_g[j] - mean_gxhat[j]*xhat[i, j])


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_backward_eval_f32(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Evaluation mode: μ and σ² are constants, the layer is affine.

    Kernel forms (derivecli show-grad batchnorm):
        grad_x_eval = g*gamma*inv_std
        grad_gamma = g*xhat
        grad_beta = g
    """
    n, nf = g.shape
    if xhat.shape[0] != g.shape[0]:
        size_error('xhat', xhat.shape[0], g.shape[0], "g.shape[0]: xhat has g's shape")
    if dx.shape[0] != g.shape[0]:
        size_error('dx', dx.shape[0], g.shape[0], "g.shape[0]: dx has g's shape")
    if xhat.shape[1] != g.shape[1]:
        size_error('xhat', xhat.shape[1], g.shape[1], "g.shape[1]: xhat has g's shape")
    if dx.shape[1] != g.shape[1]:
        size_error('dx', dx.shape[1], g.shape[1], "g.shape[1]: dx has g's shape")
    if gamma.size != g.shape[1]:
        size_error('gamma', gamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if inv_std.size != g.shape[1]:
        size_error('inv_std', inv_std.size, g.shape[1], 'g.shape[1]: one per feature')
    if dgamma.size != g.shape[1]:
        size_error('dgamma', dgamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if dbeta.size != g.shape[1]:
        size_error('dbeta', dbeta.size, g.shape[1], 'g.shape[1]: one per feature')
    _sums_f32(g, xhat, dgamma, dbeta)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = g[i, j]*gamma[j]*inv_std[j]


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def dropout_f32(x, mask, p, y):
    """Inverted dropout forward: y = m x/(1 − p).

    Kernel forms (derivecli show-grad dropout):
        y = m*x/(1 - p)
    """
    if mask.size != x.size:
        size_error('mask', mask.size, x.size, 'x.size: the arrays are 1-D, of one size')
    if y.size != x.size:
        size_error('y', y.size, x.size, 'x.size: the arrays are 1-D, of one size')
    p = np.float32(p)
    for i in range(x.shape[0]):
        y[i] = x[i]*mask[i]/(_F32_1P0 - p)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def dropout_backward_f32(g, mask, p, dx):
    """Inverted dropout backward: ∂L/∂x = g m/(1 − p).

    Kernel forms (derivecli show-grad dropout):
        grad_x = g*m/(1 - p)
    """
    if mask.size != g.size:
        size_error('mask', mask.size, g.size, 'g.size: the arrays are 1-D, of one size')
    if dx.size != g.size:
        size_error('dx', dx.size, g.size, 'g.size: the arrays are 1-D, of one size')
    p = np.float32(p)
    for i in range(g.shape[0]):
        dx[i] = g[i]*mask[i]/(_F32_1P0 - p)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _batch_mean_var_f64(x):
    """Per-feature mean and biased variance (1/N) of x (N, F), accumulated in float64."""
    n, nf = x.shape
    acc = np.zeros(nf, dtype=np.float64)
    for i in range(n):
        for j in range(nf):
            acc[j] += x[i, j]
    mean = acc / n
    acc[:] = 0.0
    for i in range(n):
        for j in range(nf):
            d = x[i, j] - mean[j]
            acc[j] += d * d
    return mean, acc / n


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _normalise_f64(x, gamma, beta, mu, inv_std, xhat, y):
    n, nf = x.shape
    for i in range(n):
        for j in range(nf):
            xh = inv_std[j]*(-mu[j] + x[i, j])
            xhat[i, j] = xh
            y[i, j] = beta[j] + gamma[j]*xh


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_train_f64(x, gamma, beta, eps, momentum, running_mean, running_var, inv_std, xhat, y):
    """Training mode: batch statistics, running statistics updated, x̂ and y = γx̂ + β.

    Kernel forms (derivecli show-grad batchnorm):
        inv_std = 1/sqrt(epsilon + sigma^2)
        xhat = inv_std*(-mu + x)
        y = beta + gamma*xhat
        running_mean = momentum*mu + running*(1 - momentum)
        running_var = N*momentum*sigma^2/(N - 1) + running*(1 - momentum)
    """
    n, nf = x.shape
    if xhat.shape[0] != x.shape[0]:
        size_error('xhat', xhat.shape[0], x.shape[0], "x.shape[0]: xhat has x's shape")
    if y.shape[0] != x.shape[0]:
        size_error('y', y.shape[0], x.shape[0], "x.shape[0]: y has x's shape")
    if xhat.shape[1] != x.shape[1]:
        size_error('xhat', xhat.shape[1], x.shape[1], "x.shape[1]: xhat has x's shape")
    if y.shape[1] != x.shape[1]:
        size_error('y', y.shape[1], x.shape[1], "x.shape[1]: y has x's shape")
    if gamma.size != x.shape[1]:
        size_error('gamma', gamma.size, x.shape[1], 'x.shape[1]: one per feature')
    if beta.size != x.shape[1]:
        size_error('beta', beta.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_mean.size != x.shape[1]:
        size_error('running_mean', running_mean.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_var.size != x.shape[1]:
        size_error('running_var', running_var.size, x.shape[1], 'x.shape[1]: one per feature')
    if inv_std.size != x.shape[1]:
        size_error('inv_std', inv_std.size, x.shape[1], 'x.shape[1]: one per feature')
    eps_ = np.float64(eps)
    mean, variance = _batch_mean_var_f64(x)
    mu = np.empty(nf, dtype=x.dtype)
    N = n
    for j in range(nf):
        var = variance[j]
        mu_j = mean[j]
        inv_std[j] = (1.0/math.sqrt(eps_ + var))
        mu[j] = mu_j
        running = running_mean[j]
        running_mean[j] = mu_j*momentum + running*(1.0 - momentum)
        running = running_var[j]
        running_var[j] = momentum*var*N/(N - 1.0) + running*(1.0 - momentum)
    _normalise_f64(x, gamma, beta, mu, inv_std, xhat, y)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_eval_f64(x, gamma, beta, eps, running_mean, running_var, inv_std, xhat, y):
    """Evaluation mode: normalise by the running statistics.

    Kernel forms (derivecli show-grad batchnorm):
        inv_std = 1/sqrt(epsilon + sigma^2)
        xhat = inv_std*(-mu + x)
        y = beta + gamma*xhat
    """
    nf = x.shape[1]
    if xhat.shape[0] != x.shape[0]:
        size_error('xhat', xhat.shape[0], x.shape[0], "x.shape[0]: xhat has x's shape")
    if y.shape[0] != x.shape[0]:
        size_error('y', y.shape[0], x.shape[0], "x.shape[0]: y has x's shape")
    if xhat.shape[1] != x.shape[1]:
        size_error('xhat', xhat.shape[1], x.shape[1], "x.shape[1]: xhat has x's shape")
    if y.shape[1] != x.shape[1]:
        size_error('y', y.shape[1], x.shape[1], "x.shape[1]: y has x's shape")
    if gamma.size != x.shape[1]:
        size_error('gamma', gamma.size, x.shape[1], 'x.shape[1]: one per feature')
    if beta.size != x.shape[1]:
        size_error('beta', beta.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_mean.size != x.shape[1]:
        size_error('running_mean', running_mean.size, x.shape[1], 'x.shape[1]: one per feature')
    if running_var.size != x.shape[1]:
        size_error('running_var', running_var.size, x.shape[1], 'x.shape[1]: one per feature')
    if inv_std.size != x.shape[1]:
        size_error('inv_std', inv_std.size, x.shape[1], 'x.shape[1]: one per feature')
    eps_ = np.float64(eps)
    for j in range(nf):
        var = running_var[j]
        inv_std[j] = (1.0/math.sqrt(eps_ + var))
    _normalise_f64(x, gamma, beta, running_mean, inv_std, xhat, y)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _sums_f64(g, xhat, dgamma, dbeta):
    """∂L/∂γ = Σ g x̂ and ∂L/∂β = Σ g over the batch, accumulated in float64."""
    n, nf = g.shape
    sg = np.zeros(nf, dtype=np.float64)
    sgx = np.zeros(nf, dtype=np.float64)
    for i in range(n):
        for j in range(nf):
            sg[j] += g[i, j]
            sgx[j] += g[i, j]*xhat[i, j]
    for j in range(nf):
        dgamma[j] = sgx[j]
        dbeta[j] = sg[j]
    return sg, sgx


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_backward_f64(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Training mode: ∂L/∂x through μ and σ² (derive.batchnorm's closed form), ∂L/∂γ, ∂L/∂β.

    Kernel forms (derivecli show-grad batchnorm):
        grad_x = gamma*inv_std*(g - mean_g - mean_gxhat*xhat)
        grad_gamma = g*xhat
        grad_beta = g
    """
    n, nf = g.shape
    if xhat.shape[0] != g.shape[0]:
        size_error('xhat', xhat.shape[0], g.shape[0], "g.shape[0]: xhat has g's shape")
    if dx.shape[0] != g.shape[0]:
        size_error('dx', dx.shape[0], g.shape[0], "g.shape[0]: dx has g's shape")
    if xhat.shape[1] != g.shape[1]:
        size_error('xhat', xhat.shape[1], g.shape[1], "g.shape[1]: xhat has g's shape")
    if dx.shape[1] != g.shape[1]:
        size_error('dx', dx.shape[1], g.shape[1], "g.shape[1]: dx has g's shape")
    if gamma.size != g.shape[1]:
        size_error('gamma', gamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if inv_std.size != g.shape[1]:
        size_error('inv_std', inv_std.size, g.shape[1], 'g.shape[1]: one per feature')
    if dgamma.size != g.shape[1]:
        size_error('dgamma', dgamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if dbeta.size != g.shape[1]:
        size_error('dbeta', dbeta.size, g.shape[1], 'g.shape[1]: one per feature')
    sg, sgx = _sums_f64(g, xhat, dgamma, dbeta)
    mean_g = (sg / n).astype(g.dtype)
    mean_gxhat = (sgx / n).astype(g.dtype)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = gamma[j]*inv_std[j]*(g[i, j] - mean_g[j] - mean_gxhat[j]*xhat[i, j])


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def batchnorm_backward_eval_f64(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Evaluation mode: μ and σ² are constants, the layer is affine.

    Kernel forms (derivecli show-grad batchnorm):
        grad_x_eval = g*gamma*inv_std
        grad_gamma = g*xhat
        grad_beta = g
    """
    n, nf = g.shape
    if xhat.shape[0] != g.shape[0]:
        size_error('xhat', xhat.shape[0], g.shape[0], "g.shape[0]: xhat has g's shape")
    if dx.shape[0] != g.shape[0]:
        size_error('dx', dx.shape[0], g.shape[0], "g.shape[0]: dx has g's shape")
    if xhat.shape[1] != g.shape[1]:
        size_error('xhat', xhat.shape[1], g.shape[1], "g.shape[1]: xhat has g's shape")
    if dx.shape[1] != g.shape[1]:
        size_error('dx', dx.shape[1], g.shape[1], "g.shape[1]: dx has g's shape")
    if gamma.size != g.shape[1]:
        size_error('gamma', gamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if inv_std.size != g.shape[1]:
        size_error('inv_std', inv_std.size, g.shape[1], 'g.shape[1]: one per feature')
    if dgamma.size != g.shape[1]:
        size_error('dgamma', dgamma.size, g.shape[1], 'g.shape[1]: one per feature')
    if dbeta.size != g.shape[1]:
        size_error('dbeta', dbeta.size, g.shape[1], 'g.shape[1]: one per feature')
    _sums_f64(g, xhat, dgamma, dbeta)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = g[i, j]*gamma[j]*inv_std[j]


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def dropout_f64(x, mask, p, y):
    """Inverted dropout forward: y = m x/(1 − p).

    Kernel forms (derivecli show-grad dropout):
        y = m*x/(1 - p)
    """
    if mask.size != x.size:
        size_error('mask', mask.size, x.size, 'x.size: the arrays are 1-D, of one size')
    if y.size != x.size:
        size_error('y', y.size, x.size, 'x.size: the arrays are 1-D, of one size')
    p = np.float64(p)
    for i in range(x.shape[0]):
        y[i] = x[i]*mask[i]/(1.0 - p)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def dropout_backward_f64(g, mask, p, dx):
    """Inverted dropout backward: ∂L/∂x = g m/(1 − p).

    Kernel forms (derivecli show-grad dropout):
        grad_x = g*m/(1 - p)
    """
    if mask.size != g.size:
        size_error('mask', mask.size, g.size, 'g.size: the arrays are 1-D, of one size')
    if dx.size != g.size:
        size_error('dx', dx.size, g.size, 'g.size: the arrays are 1-D, of one size')
    p = np.float64(p)
    for i in range(g.shape[0]):
        dx[i] = g[i]*mask[i]/(1.0 - p)


KERNELS = {
    ('batchnorm_train', 'float32'): batchnorm_train_f32,
    ('batchnorm_eval', 'float32'): batchnorm_eval_f32,
    ('batchnorm_backward', 'float32'): batchnorm_backward_f32,
    ('batchnorm_backward_eval', 'float32'): batchnorm_backward_eval_f32,
    ('dropout', 'float32'): dropout_f32,
    ('dropout_backward', 'float32'): dropout_backward_f32,
    ('batchnorm_train', 'float64'): batchnorm_train_f64,
    ('batchnorm_eval', 'float64'): batchnorm_eval_f64,
    ('batchnorm_backward', 'float64'): batchnorm_backward_f64,
    ('batchnorm_backward_eval', 'float64'): batchnorm_backward_eval_f64,
    ('dropout', 'float64'): dropout_f64,
    ('dropout_backward', 'float64'): dropout_backward_f64,
}
