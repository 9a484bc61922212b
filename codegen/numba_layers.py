"""Numba kernels for batch normalisation and inverted dropout, printed from derive/batchnorm.py.

The loops (reductions over the batch axis of a batch-major (N, F) array, then one elementwise
pass) are the template; every formula inside them is a kernel form of the ``batchnorm`` and
``dropout`` derivations (``Derivation.stable``), printed by :class:`codegen.numba_printer.NumbaPrinter`.
Sums over the batch accumulate in float64.

Calling convention (``runtime/nn.py`` relies on it), ``S`` = ``f32`` or ``f64``:

- ``batchnorm_train_S(x, gamma, beta, eps, momentum, running_mean, running_var, inv_std, xhat, y)``
  (running statistics updated in place; inv_std, xhat, y written)
- ``batchnorm_eval_S(x, gamma, beta, eps, running_mean, running_var, inv_std, xhat, y)``
- ``batchnorm_backward_S(g, xhat, gamma, inv_std, dx, dgamma, dbeta)`` (training mode)
- ``batchnorm_backward_eval_S(g, xhat, gamma, inv_std, dx, dgamma, dbeta)``
- ``dropout_S(x, mask, p, y)``, ``dropout_backward_S(g, mask, p, dx)`` on 1-D arrays, ``mask``
  of 0/1 in the data's dtype.

``python -m codegen.generate --update`` rewrites ``runtime/generated/numba_layers.py``;
``--check`` exits 1 with a diff when the committed module has drifted.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import sympy as sp

from .numba_checks import size_checks
from .numba_printer import NumbaPrinter, constant_lines

GENERATOR_VERSION = "2"  # 2: CACHE switch, argument checks
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = "runtime/generated/numba_layers.py"
SUFFIX = {"float32": "f32", "float64": "f64"}
FASTMATH = ("nsz", "arcp", "contract", "afn")  # never nnan/ninf/reassoc


def _forms():
    from derive import get

    return get("batchnorm"), get("dropout")


def source_hash(bn, drop) -> str:
    h = hashlib.sha256(f"numba_layers generator {GENERATOR_VERSION}\n".encode())
    for d in (bn, drop):
        for key, expr in sorted(d.stable.items()):
            h.update(f"{d.name}:{key}:{sp.srepr(expr)}\n".encode())
    return h.hexdigest()[:16]


def _kernel_source(bn, drop, dtype: str, printer: NumbaPrinter) -> str:
    s = SUFFIX[dtype]
    f = bn.stable

    def pr(key, d=f, **names):
        # Symbols print under the names given (array elements, loop locals); the rest as is.
        printer.symbol_names = {k: v for k, v in names.items()}
        try:
            return printer.doprint(d[key])
        finally:
            printer.symbol_names = {}

    deco = '@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)'
    stats = dict(epsilon="eps_", **{"sigma^2": "var"})
    elem = dict(x="x[i, j]", mu="mu[j]", inv_std="inv_std[j]")
    out = dict(xhat="xh", gamma="gamma[j]", beta="beta[j]")
    back = dict(g="g[i, j]", xhat="xhat[i, j]", gamma="gamma[j]", inv_std="inv_std[j]",
                mean_g="mean_g[j]", mean_gxhat="mean_gxhat[j]")
    sums = dict(g="g[i, j]", xhat="xhat[i, j]")

    def check(first, rows, vectors, flat=()):
        """size_error unless (N, F) arrays ``rows``, (F,) arrays ``vectors`` and 1-D
        arrays ``flat`` fit the array ``first``."""
        n, nf = f"{first}.shape[0]", f"{first}.shape[1]"
        return "\n".join(size_checks(
            [(a, f"{a}.shape[0]", n, f"{first}.shape[0]: {a} has {first}'s shape") for a in rows]
            + [(a, f"{a}.shape[1]", nf, f"{first}.shape[1]: {a} has {first}'s shape") for a in rows]
            + [(a, f"{a}.size", nf, f"{first}.shape[1]: one per feature") for a in vectors]
            + [(a, f"{a}.size", f"{first}.size", f"{first}.size: the arrays are 1-D, of one size")
               for a in flat]))

    vec_train = ("gamma", "beta", "running_mean", "running_var", "inv_std")

    def forms(d, *keys):
        """Docstring lines: the kernel forms this kernel prints, as derive states them."""
        return "\n".join([f"\n    Kernel forms (derivecli show-grad {d.name}):"]
                         + [f"        {k} = {sp.sstr(d.stable[k])}" for k in keys]) + "\n    "
    return f'''
{deco}
def _batch_mean_var_{s}(x):
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


{deco}
def _normalise_{s}(x, gamma, beta, mu, inv_std, xhat, y):
    n, nf = x.shape
    for i in range(n):
        for j in range(nf):
            xh = {pr("xhat", **elem)}
            xhat[i, j] = xh
            y[i, j] = {pr("y", **out)}


{deco}
def batchnorm_train_{s}(x, gamma, beta, eps, momentum, running_mean, running_var, inv_std, xhat, y):
    """Training mode: batch statistics, running statistics updated, x̂ and y = γx̂ + β.
{forms(bn, "inv_std", "xhat", "y", "running_mean", "running_var")}"""
    n, nf = x.shape
{check("x", ("xhat", "y"), vec_train)}
    eps_ = np.{dtype}(eps)
    mean, variance = _batch_mean_var_{s}(x)
    mu = np.empty(nf, dtype=x.dtype)
    N = n
    for j in range(nf):
        var = variance[j]
        mu_j = mean[j]
        inv_std[j] = {pr("inv_std", **stats)}
        mu[j] = mu_j
        running = running_mean[j]
        running_mean[j] = {pr("running_mean", mu="mu_j")}
        running = running_var[j]
        running_var[j] = {pr("running_var", **{"sigma^2": "var"})}
    _normalise_{s}(x, gamma, beta, mu, inv_std, xhat, y)


{deco}
def batchnorm_eval_{s}(x, gamma, beta, eps, running_mean, running_var, inv_std, xhat, y):
    """Evaluation mode: normalise by the running statistics.
{forms(bn, "inv_std", "xhat", "y")}"""
    nf = x.shape[1]
{check("x", ("xhat", "y"), vec_train)}
    eps_ = np.{dtype}(eps)
    for j in range(nf):
        var = running_var[j]
        inv_std[j] = {pr("inv_std", **stats)}
    _normalise_{s}(x, gamma, beta, running_mean, inv_std, xhat, y)


{deco}
def _sums_{s}(g, xhat, dgamma, dbeta):
    """∂L/∂γ = Σ g x̂ and ∂L/∂β = Σ g over the batch, accumulated in float64."""
    n, nf = g.shape
    sg = np.zeros(nf, dtype=np.float64)
    sgx = np.zeros(nf, dtype=np.float64)
    for i in range(n):
        for j in range(nf):
            sg[j] += {pr("grad_beta", **sums)}
            sgx[j] += {pr("grad_gamma", **sums)}
    for j in range(nf):
        dgamma[j] = sgx[j]
        dbeta[j] = sg[j]
    return sg, sgx


{deco}
def batchnorm_backward_{s}(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Training mode: ∂L/∂x through μ and σ² (derive.batchnorm's closed form), ∂L/∂γ, ∂L/∂β.
{forms(bn, "grad_x", "grad_gamma", "grad_beta")}"""
    n, nf = g.shape
{check("g", ("xhat", "dx"), ("gamma", "inv_std", "dgamma", "dbeta"))}
    sg, sgx = _sums_{s}(g, xhat, dgamma, dbeta)
    mean_g = (sg / n).astype(g.dtype)
    mean_gxhat = (sgx / n).astype(g.dtype)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = {pr("grad_x", **back)}


{deco}
def batchnorm_backward_eval_{s}(g, xhat, gamma, inv_std, dx, dgamma, dbeta):
    """Evaluation mode: μ and σ² are constants, the layer is affine.
{forms(bn, "grad_x_eval", "grad_gamma", "grad_beta")}"""
    n, nf = g.shape
{check("g", ("xhat", "dx"), ("gamma", "inv_std", "dgamma", "dbeta"))}
    _sums_{s}(g, xhat, dgamma, dbeta)
    for i in range(n):
        for j in range(nf):
            dx[i, j] = {pr("grad_x_eval", **back)}


{deco}
def dropout_{s}(x, mask, p, y):
    """Inverted dropout forward: y = m x/(1 − p).
{forms(drop, "y")}"""
{check("x", (), (), ("mask", "y"))}
    p = np.{dtype}(p)
    for i in range(x.shape[0]):
        y[i] = {pr("y", drop.stable, x="x[i]", m="mask[i]")}


{deco}
def dropout_backward_{s}(g, mask, p, dx):
    """Inverted dropout backward: ∂L/∂x = g m/(1 − p).
{forms(drop, "grad_x")}"""
{check("g", (), (), ("mask", "dx"))}
    p = np.{dtype}(p)
    for i in range(g.shape[0]):
        dx[i] = {pr("grad_x", drop.stable, g="g[i]", m="mask[i]")}
'''


def generate_module(command: str | None = None) -> str:
    """The source of runtime/generated/numba_layers.py (``command``: how the header says to
    regenerate it; the committed module's way by default)."""
    bn, drop = _forms()
    printers = {dt: NumbaPrinter(dt, mathlib=False) for dt in SUFFIX}
    bodies = [_kernel_source(bn, drop, dt, printers[dt]) for dt in SUFFIX]
    table = ["KERNELS = {"]
    for dt, s in SUFFIX.items():
        for k in ("batchnorm_train", "batchnorm_eval", "batchnorm_backward",
                  "batchnorm_backward_eval", "dropout", "dropout_backward"):
            table.append(f"    ({k!r}, {dt!r}): {k}_{s},")
    table.append("}")
    head = "\n".join([
        "# generated, do not edit: regenerate with "
        f"`{command or 'python -m codegen.generate --update'}`",
        f"# Generator: codegen.numba_layers, version {GENERATOR_VERSION}",
        "# Derivations: batchnorm, dropout (derive/batchnorm.py)",
        f"# Source hash: sha256:{source_hash(bn, drop)} (of the SymPy kernel forms printed below)",
        '"""Batch normalisation and inverted dropout kernels, generated from derive/batchnorm.py.',
        "",
        "Standalone: imports numpy, numba and math only; kernels compile on first call and are",
        "cached on disk when the module is imported under its file's name (CACHE, below).",
        "Batch-norm arrays are (N, F) C-contiguous, parameters (F,); dropout arrays are 1-D.",
        'KERNELS[(name, dtype)] indexes them (see codegen/numba_layers.py)."""',
        "import math  # noqa: F401  (printed expressions may use math.sqrt)",
        "",
        "import numba",
        "import numpy as np",
        "",
        f"FASTMATH = {{{', '.join(repr(f) for f in FASTMATH)}}}  # keeps NaN/Inf semantics",
    ])
    from .numba_cache import CACHE_SOURCE
    from .numba_checks import CHECKS_SOURCE

    consts = constant_lines(*printers.values())
    parts = [head, CACHE_SOURCE.strip("\n"), CHECKS_SOURCE.strip("\n")]
    if consts:
        parts.append("# float32 constants: typed globals, so no literal promotes a loop to float64\n"
                     + "\n".join(consts))
    parts += [b.strip("\n") for b in bodies]
    parts.append("\n".join(table))
    return "\n\n\n".join(parts) + "\n"


def regenerate(root=None, write: bool = True) -> str:
    text = generate_module()
    if write:
        from .generate import write_module  # atomic: temporary file, then rename

        write_module(Path(root or ROOT) / OUTPUT, text)
    return text


def drift(root=None) -> str:
    """A unified diff between the committed module and a fresh generation ("" if none)."""
    from .generate import unified_drift

    return unified_drift(root, OUTPUT, regenerate(root, write=False))
