"""Batch-norm and dropout CUDA kernels (runtime/generated/cupy_layers.py) on a real device.

Each kernel, float and double, training and evaluation mode, against the Numba layer kernels
on the same inputs (and the running statistics updated in place). Skipped with the reason when
no CUDA device is present (conftest.py). With ``DERIVECLI_GPU_DRYRUN=1`` the launches run the
host-compiled CUDA source (tests/cuda_host.py) instead, which checks this file's own logic.
"""
from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import numpy as np
import pytest

from runtime.generated import cupy_layers
from runtime.generated.numba_layers import KERNELS as NUMBA

DTYPES = [np.float32, np.float64]
NB = {np.float32: "float32", np.float64: "float64"}
TN = {np.float32: "f32", np.float64: "f64"}
# The device contracts a*b + c into FMAs, Numba/LLVM may not: a few ulp apart.
TOL = {np.float32: 3e-5, np.float64: 1e-12}
SHAPES = [(2, 3), (64, 4096), (1000, 37), (300, 257)]
BLOCK = 128


class Launcher:
    """Launch a cupy_layers kernel on the device, or (dry run) its host-compiled spans."""

    def __init__(self, device):
        self.device = device
        if device.dry:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            import cuda_host

            self.lib = cuda_host.layer_library(cupy_layers.SOURCE)

    def __call__(self, name, work, args):
        grid = max(1, min(-(-work // BLOCK), 256))
        if not self.device.dry:
            cupy_layers.kernel(name)((grid,), (BLOCK,), args)
            return
        base, tn = name.rsplit("_", 1)
        extra = []
        if base.startswith("batchnorm_backward"):
            extra, base = [ctypes.c_int(base == "batchnorm_backward")], "batchnorm_backward"
        fn = getattr(self.lib, f"h_{base}_span_{tn}")
        conv = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray)
                else ctypes.c_longlong(int(a)) if isinstance(a, np.int64)
                else (ctypes.c_float if isinstance(a, np.float32) else ctypes.c_double)(a)
                for a in args]
        threads = min(grid * BLOCK, 37)  # any stride: each thread's grid-stride span
        for k in range(threads):
            fn(*conv, *extra, ctypes.c_longlong(k), ctypes.c_longlong(threads))


@pytest.fixture()
def launch(device):
    return Launcher(device)


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1.0))


def inputs(n, f, t, seed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, f)) * rng.uniform(0.1, 10, f) + rng.normal(size=f) * 5).astype(t)
    return (x, (1 + 0.3 * rng.normal(size=f)).astype(t), rng.normal(size=f).astype(t),
            rng.normal(size=(n, f)).astype(t), rng.uniform(-1, 1, f).astype(t),
            rng.uniform(0.5, 2, f).astype(t))


@pytest.mark.parametrize("t", DTYPES)
@pytest.mark.parametrize("n,f", SHAPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_matches_numba(device, launch, t, n, f, training):
    x, gamma, beta, g, rm, rv = inputs(n, f, t, seed=n + f)
    eps, momentum = t(1e-5), t(0.1)
    put, get = device.put, device.get
    d = {k: put(v) for k, v in dict(x=x, gamma=gamma, beta=beta, g=g, rm=rm, rv=rv).items()}
    s, xh, y = put(np.zeros(f, t)), put(np.zeros_like(x)), put(np.zeros_like(x))
    dx, dgamma, dbeta = put(np.zeros_like(x)), put(np.zeros(f, t)), put(np.zeros(f, t))
    N, F = np.int64(n), np.int64(f)
    if training:
        launch(f"batchnorm_train_{TN[t]}", f, (d["x"], d["gamma"], d["beta"], N, F, eps, momentum,
                                               d["rm"], d["rv"], s, xh, y))
    else:
        launch(f"batchnorm_eval_{TN[t]}", f, (d["x"], d["gamma"], d["beta"], N, F, eps, d["rm"],
                                              d["rv"], s, xh, y))
    back = "batchnorm_backward" + ("" if training else "_eval")
    launch(f"{back}_{TN[t]}", f, (d["g"], xh, d["gamma"], s, N, F, dx, dgamma, dbeta))

    nrm, nrv = rm.copy(), rv.copy()
    ns, nxh, ny = np.empty(f, t), np.empty_like(x), np.empty_like(x)
    if training:
        NUMBA[("batchnorm_train", NB[t])](x, gamma, beta, eps, momentum, nrm, nrv, ns, nxh, ny)
    else:
        NUMBA[("batchnorm_eval", NB[t])](x, gamma, beta, eps, nrm, nrv, ns, nxh, ny)
    ndx, ndg, ndb = np.empty_like(g), np.empty(f, t), np.empty(f, t)
    NUMBA[(back, NB[t])](g, nxh, gamma, ns, ndx, ndg, ndb)

    for name, ours, theirs in [("inv_std", s, ns), ("xhat", xh, nxh), ("y", y, ny),
                               ("running_mean", d["rm"], nrm), ("running_var", d["rv"], nrv),
                               ("dx", dx, ndx), ("dgamma", dgamma, ndg), ("dbeta", dbeta, ndb)]:
        ours = get(ours)
        assert ours.dtype == t and ours.shape == theirs.shape, name
        assert rel(ours, theirs) <= TOL[t], (name, rel(ours, theirs))
    if not training:  # evaluation leaves the running statistics alone
        assert np.array_equal(get(d["rm"]), rm) and np.array_equal(get(d["rv"]), rv)


@pytest.mark.parametrize("t", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("n", [1, 1000, 1 << 20])
def test_dropout_matches_numba(device, launch, t, p, n):
    rng = np.random.default_rng(n)
    x, g = rng.normal(size=n).astype(t), rng.normal(size=n).astype(t)
    mask = (rng.uniform(size=n) >= p).astype(t)
    put, get = device.put, device.get
    y, dx = put(np.zeros(n, t)), put(np.zeros(n, t))
    launch(f"dropout_{TN[t]}", n, (put(x), put(mask), t(p), y, np.int64(n)))
    launch(f"dropout_backward_{TN[t]}", n, (put(g), put(mask), t(p), dx, np.int64(n)))
    ny, ndx = np.empty_like(x), np.empty_like(g)
    NUMBA[("dropout", NB[t])](x, mask, p, ny)
    NUMBA[("dropout_backward", NB[t])](g, mask, p, ndx)
    y, dx = get(y), get(dx)
    assert rel(y, ny) <= TOL[t] and rel(dx, ndx) <= TOL[t]
    assert np.all(y[mask == 0] == 0) and np.all(dx[mask == 0] == 0)
