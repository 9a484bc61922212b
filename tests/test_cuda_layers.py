"""CUDA batch-norm and dropout kernels (runtime/generated/cupy_layers.py) without a GPU.

NVRTC compiles the committed source for sm_80 and sm_90; the spans every kernel runs are
compiled for the host (tests/cuda_host.py) and checked against the Numba layer kernels and a
NumPy reference written from the textbook formulas, float and double, extreme values included.
"""
from __future__ import annotations

import ctypes
import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from codegen import cuda_kernels, cuda_layers
from codegen.cuda_printer import cuda_code

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cuda_host  # noqa: E402

ARCHS = ("sm_80", "sm_90")
DTYPES = [np.float32, np.float64]
TN = {np.float32: "f32", np.float64: "f64"}
CT = {np.float32: ctypes.c_float, np.float64: ctypes.c_double}
NB = {np.float32: "float32", np.float64: "float64"}
# max |cuda − other| / max(|other|, 1) per output; float: a few ulp of the float32 statistics
TOL = {np.float32: 2e-5, np.float64: 1e-12}
layers = importlib.import_module("runtime.generated.cupy_layers")


# --------------------------------------------------------------------------- module, NVRTC

def test_module_is_up_to_date_and_lists_every_kernel():
    assert cuda_kernels.drift("layers") == ""
    assert layers.DERIVATIONS == ("batchnorm", "dropout") and layers._module is None
    for kind in (*cuda_layers.KINDS["batchnorm"], *cuda_layers.KINDS["dropout"]):
        for tn in ("f32", "f64"):
            assert f"{kind}_{tn}" in layers.KERNELS
            assert f'extern "C" __global__ void {kind}_{tn}(' in layers.SOURCE


@pytest.mark.parametrize("dtype", ["float", "double"])
def test_every_kernel_form_is_printed_from_derive(dtype):
    """Each of derive's kernel forms appears, as the CUDA printer prints it, in the source."""
    from derive import get

    source = cuda_layers.batchnorm_source(dtype) + cuda_layers.dropout_source(dtype)
    for name in ("batchnorm", "dropout"):
        for key, expr in get(name).stable.items():
            if key in ("grad_gamma", "grad_beta", "grad_x") and name == "batchnorm":
                continue  # printed with CSE (shared subexpressions); checked numerically below
            code = cuda_code(cuda_layers._c(expr), dtype)
            assert f"= {code};" in source, (name, key, code)


def test_gen_backend_cupy_includes_the_layers(tmp_path):
    from click.testing import CliRunner

    from codegen import generate
    from derivecli.cli import main

    text = generate.generate_module("cupy", ["bn", "dropout"])
    assert "from the derivations: batchnorm, dropout." in text
    assert "batchnorm_backward_eval_f64" in text and "dropout_backward_f32" in text
    assert "'batchnorm_train_f32'" in cuda_kernels.generate_module()  # all names: layers too
    out = tmp_path / "k.py"
    res = CliRunner().invoke(main, ["gen", "--backend", "cupy", "batchnorm", "-o", str(out)])
    assert res.exit_code == 0, res.output
    ns: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)
    assert "batchnorm_train_f32" in ns["KERNELS"] and "dropout_f32" not in ns["KERNELS"]


@pytest.fixture(scope="module")
def nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc as lib

        lib.getVersion()
    except Exception as err:  # noqa: BLE001 (ImportError, or the NVRTC library missing)
        pytest.skip(f"NVRTC is not available ({err!r}); pip install -e '.[gpu]'")
    return lib


@pytest.mark.parametrize("arch", ARCHS)
def test_nvrtc_compiles_every_layer_kernel(nvrtc, arch):
    prog = nvrtc.createProgram(layers.SOURCE, "cupy_layers.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14", "--ptxas-options=-v"])
        except nvrtc.NVRTCError as err:
            pytest.fail(f"NVRTC failed for {arch}: {err}\n{nvrtc.getProgramLog(prog)}")
        ptx, log = nvrtc.getPTX(prog).decode(), nvrtc.getProgramLog(prog)
        cubin = nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)
    assert f".target {arch}" in ptx and len(cubin) > 1000
    compiled = set(re.findall(r"^\.visible \.entry (\w+)", ptx, flags=re.M))
    assert set(layers.KERNELS) <= compiled, sorted(set(layers.KERNELS) - compiled)
    assert "spill" not in log.replace("0 bytes spill stores, 0 bytes spill loads", "")


# --------------------------------------------------------------------------- host math

@pytest.fixture(scope="module")
def lib():
    try:
        return cuda_host.layer_library(layers.SOURCE)
    except cuda_host.CompileError as err:
        pytest.skip(f"cannot compile the CUDA source for the host: {err}")


def _p(a):
    return ctypes.c_void_p(a.ctypes.data)


def host_train(lib, x, gamma, beta, eps, momentum, rm, rv, threads=4):
    t = x.dtype.type
    n, f = x.shape
    s, xh, y = np.empty(f, t), np.empty_like(x), np.empty_like(x)
    fn = getattr(lib, f"h_batchnorm_train_span_{TN[t]}")
    for k in range(threads):  # the threads of a launch, each with its grid-stride span
        fn(_p(x), _p(gamma), _p(beta), ctypes.c_longlong(n), ctypes.c_longlong(f), CT[t](eps),
           CT[t](momentum), _p(rm), _p(rv), _p(s), _p(xh), _p(y), ctypes.c_longlong(k),
           ctypes.c_longlong(threads))
    return s, xh, y


def host_eval(lib, x, gamma, beta, eps, rm, rv, threads=4):
    t = x.dtype.type
    n, f = x.shape
    s, xh, y = np.empty(f, t), np.empty_like(x), np.empty_like(x)
    fn = getattr(lib, f"h_batchnorm_eval_span_{TN[t]}")
    for k in range(threads):
        fn(_p(x), _p(gamma), _p(beta), ctypes.c_longlong(n), ctypes.c_longlong(f), CT[t](eps),
           _p(rm), _p(rv), _p(s), _p(xh), _p(y), ctypes.c_longlong(k), ctypes.c_longlong(threads))
    return s, xh, y


def host_backward(lib, g, xh, gamma, s, training, threads=4):
    t = g.dtype.type
    n, f = g.shape
    dx, dgamma, dbeta = np.empty_like(g), np.empty(f, t), np.empty(f, t)
    fn = getattr(lib, f"h_batchnorm_backward_span_{TN[t]}")
    for k in range(threads):
        fn(_p(g), _p(xh), _p(gamma), _p(s), ctypes.c_longlong(n), ctypes.c_longlong(f), _p(dx),
           _p(dgamma), _p(dbeta), ctypes.c_int(int(training)), ctypes.c_longlong(k),
           ctypes.c_longlong(threads))
    return dx, dgamma, dbeta


def numba_kernel(name, t):
    from runtime.generated.numba_layers import KERNELS

    return KERNELS[(name, NB[t])]


def err(a, b):
    """max |a − b| / max(|b|, 1), NaN where exactly one side is NaN counted as a mismatch."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "NaN in different places"
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    assert np.array_equal(np.isinf(a[ok]), np.isinf(b[ok])) and np.array_equal(
        a[ok][np.isinf(a[ok])], b[ok][np.isinf(b[ok])]), "Inf in different places"
    fin = ok & ~np.isinf(a)
    if not fin.any():
        return 0.0
    return float(np.max(np.abs(a[fin] - b[fin]) / np.maximum(np.abs(b[fin]), 1.0)))


def numpy_reference(x, gamma, beta, eps, momentum, rm, rv, g):
    """Textbook batch norm in float64 (Ioffe & Szegedy; PyTorch's running statistics)."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    n = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    s = 1.0 / np.sqrt(var + eps)
    xh = (x - mu) * s
    y = gamma * xh + beta
    new_rm = (1 - momentum) * rm + momentum * mu
    new_rv = (1 - momentum) * rv + momentum * var * n / (n - 1)
    dx = gamma * s / n * (n * g - g.sum(0) - xh * (g * xh).sum(0))
    return dict(inv_std=s, xhat=xh, y=y, rm=new_rm, rv=new_rv, dx=dx, dgamma=(g * xh).sum(0),
                dbeta=g.sum(0))


def batch(kind, n, f, t, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, f))
    if kind == "offset":  # a large mean: the two-pass variance must not cancel
        x = 1e3 + x
    elif kind == "wide":
        x = x * np.logspace(-3, 3, f)
    elif kind == "constant":  # σ² = 0 in some features: inv_std = 1/√ε
        x[:, ::2] = 0.25
    g = rng.normal(size=(n, f))
    return (x.astype(t), (1 + 0.3 * rng.normal(size=f)).astype(t), rng.normal(size=f).astype(t),
            g.astype(t), rng.uniform(0.5, 2, f).astype(t), rng.uniform(0.5, 2, f).astype(t))


CASES = [("normal", 2, 3), ("normal", 7, 5), ("normal", 64, 33), ("offset", 128, 9),
         ("wide", 50, 12), ("constant", 16, 6)]


@pytest.mark.parametrize("t", DTYPES)
@pytest.mark.parametrize("kind,n,f", CASES)
def test_batchnorm_train_and_backward_match_numba_and_numpy(lib, t, kind, n, f):
    x, gamma, beta, g, rm0, rv0 = batch(kind, n, f, t)
    eps, momentum = 1e-5, 0.1
    rm, rv = rm0.copy(), rv0.copy()
    s, xh, y = host_train(lib, x, gamma, beta, eps, momentum, rm, rv)
    dx, dgamma, dbeta = host_backward(lib, g, xh, gamma, s, training=True)

    nrm, nrv = rm0.copy(), rv0.copy()
    ns, nxh, ny = np.empty(f, t), np.empty_like(x), np.empty_like(x)
    numba_kernel("batchnorm_train", t)(x, gamma, beta, eps, momentum, nrm, nrv, ns, nxh, ny)
    ndx, ndg, ndb = np.empty_like(g), np.empty(f, t), np.empty(f, t)
    numba_kernel("batchnorm_backward", t)(g, nxh, gamma, ns, ndx, ndg, ndb)

    ref = numpy_reference(x, gamma, beta, eps, momentum, rm0, rv0, g)
    tol = TOL[t] * (10 if kind == "offset" and t == np.float32 else 1)  # x̂ from x − μ ≈ 1e3 ± 1
    for name, ours, numba_out in [("inv_std", s, ns), ("xhat", xh, nxh), ("y", y, ny),
                                  ("rm", rm, nrm), ("rv", rv, nrv), ("dx", dx, ndx),
                                  ("dgamma", dgamma, ndg), ("dbeta", dbeta, ndb)]:
        assert ours.dtype == t
        scale = 1.0 if name in ("inv_std", "rm", "rv") else max(1.0, float(np.abs(ref[name]).max()))
        assert err(ours, numba_out) <= tol * scale, (name, err(ours, numba_out))
        assert err(ours, ref[name]) <= 5 * tol * scale, (name, err(ours, ref[name]))


@pytest.mark.parametrize("t", DTYPES)
def test_batchnorm_eval_and_backward_eval_match_numba_and_numpy(lib, t):
    x, gamma, beta, g, rm, rv = batch("wide", 33, 10, t, seed=3)
    eps = 1e-3
    s, xh, y = host_eval(lib, x, gamma, beta, eps, rm, rv)
    dx, dgamma, dbeta = host_backward(lib, g, xh, gamma, s, training=False)
    ns, nxh, ny = np.empty(10, t), np.empty_like(x), np.empty_like(x)
    numba_kernel("batchnorm_eval", t)(x, gamma, beta, eps, rm, rv, ns, nxh, ny)
    ndx, ndg, ndb = np.empty_like(g), np.empty(10, t), np.empty(10, t)
    numba_kernel("batchnorm_backward_eval", t)(g, nxh, gamma, ns, ndx, ndg, ndb)

    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    rs = 1 / np.sqrt(rv.astype(np.float64) + eps)
    rxh = (x64 - rm) * rs
    ref = dict(s=rs, xh=rxh, y=gamma * rxh + beta, dx=gamma * rs * g64, dg=(g64 * rxh).sum(0),
               db=g64.sum(0))
    for name, ours, other in [("s", s, ns), ("xh", xh, nxh), ("y", y, ny), ("dx", dx, ndx),
                              ("dg", dgamma, ndg), ("db", dbeta, ndb)]:
        scale = max(1.0, float(np.abs(ref[name]).max()))
        assert err(ours, other) <= TOL[t] * scale, name
        assert err(ours, ref[name]) <= 5 * TOL[t] * scale, name


@pytest.mark.parametrize("t", DTYPES)
def test_batchnorm_nonfinite_inputs_propagate_as_in_numba(lib, t):
    x, gamma, beta, g, rm, rv = batch("normal", 6, 4, t, seed=5)
    x[2, 0], x[3, 1], g[1, 2] = np.nan, np.inf, np.inf
    x[:, 3] = t(3e38) if t == np.float32 else t(1e308)  # huge but constant column
    outs = []
    for run in ("cuda", "numba"):
        r1, r2 = rm.copy(), rv.copy()
        if run == "cuda":
            s, xh, y = host_train(lib, x, gamma, beta, 1e-5, 0.1, r1, r2)
            res = host_backward(lib, g, xh, gamma, s, training=True)
        else:
            s, xh, y = np.empty(4, t), np.empty_like(x), np.empty_like(x)
            numba_kernel("batchnorm_train", t)(x, gamma, beta, 1e-5, 0.1, r1, r2, s, xh, y)
            res = [np.empty_like(g), np.empty(4, t), np.empty(4, t)]
            numba_kernel("batchnorm_backward", t)(g, xh, gamma, s, *res)
        outs.append([s, xh, y, r1, r2, *res])
    assert np.isnan(outs[0][1][:, 0]).all() and np.isnan(outs[0][1][:, 1]).all()
    for a, b in zip(*outs):
        # NaN/Inf in the same places (err asserts it); finite values agree
        assert err(a, b) <= TOL[t]  # elementwise |a − b| / max(|b|, 1)


@pytest.mark.parametrize("t", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_matches_numba_and_numpy(lib, t, p):
    rng = np.random.default_rng(1)
    n = 1001
    x = rng.normal(size=n).astype(t)
    x[:3] = [np.nan, np.inf, -np.inf]
    g = rng.normal(size=n).astype(t)
    mask = (rng.uniform(size=n) > p).astype(t)
    y, dx = np.empty_like(x), np.empty_like(g)
    for k in range(4):
        getattr(lib, f"h_dropout_span_{TN[t]}")(_p(x), _p(mask), CT[t](p), _p(y),
                                                ctypes.c_longlong(n), ctypes.c_longlong(k),
                                                ctypes.c_longlong(4))
        getattr(lib, f"h_dropout_backward_span_{TN[t]}")(_p(g), _p(mask), CT[t](p), _p(dx),
                                                         ctypes.c_longlong(n), ctypes.c_longlong(k),
                                                         ctypes.c_longlong(4))
    ny, ndx = np.empty_like(x), np.empty_like(g)
    numba_kernel("dropout", t)(x, mask, p, ny)
    numba_kernel("dropout_backward", t)(g, mask, p, ndx)
    with np.errstate(invalid="ignore"):
        ref_y = mask.astype(np.float64) * x / (1 - np.float64(t(p)))
    ref_dx = mask.astype(np.float64) * g / (1 - np.float64(t(p)))
    assert err(y, ny) <= TOL[t] and err(dx, ndx) <= TOL[t]
    assert err(y, ref_y) <= TOL[t] and err(dx, ref_dx) <= TOL[t]
    assert np.all(y[mask == 0][np.isfinite(x[mask == 0])] == 0)  # dropped: exactly 0
