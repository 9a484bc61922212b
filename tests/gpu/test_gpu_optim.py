"""runtime.optim and runtime.clip on CuPy arrays on a real device, against the Numba path.

Skipped with the reason when no CUDA device is present (conftest.py). With
``DERIVECLI_GPU_DRYRUN=1`` the CuPy arrays are tests/fake_device.py's stand-ins and the kernels
the host-compiled CUDA source, which checks these tests' own logic without a GPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from runtime import clip, cuda_dispatch, optim

DTYPES = [np.float32, np.float64]
# An update divides by √v + ε: ε = 1e-3 keeps FMA-contraction differences (device vs Numba)
# from being amplified where g + λθ cancels (see OPTIM_ATOL in test_gpu_kernels.py).
TOL = {np.float32: 2e-5, np.float64: 1e-12}
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.03)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.03, initial_accumulator_value=0.1,
                     eps=1e-3)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.03, momentum=0.5,
                     centered=True)),
    ("RMSprop", dict(lr=0.01, eps=1e-3)),
    ("Adam", dict(lr=0.01, betas=(0.85, 0.99), eps=1e-3, weight_decay=0.03, amsgrad=True)),
    ("Adam", dict(lr=0.01, eps=1e-3)),
    ("AdamW", dict(lr=0.01, eps=1e-3, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01, eps=1e-3, amsgrad=True)),
]
SIZES = [784 * 256, 256, 256 * 10, 10]  # several blocks per launch, and one tiny one


class Dev:
    def __init__(self, xp, put, get, ndarray):
        self.xp, self.put, self.get, self.ndarray = xp, put, get, ndarray


@pytest.fixture()
def dev(device):
    if not device.dry:
        import cupy

        yield Dev(cupy, cupy.asarray, cupy.asnumpy, cupy.ndarray)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import fake_device as fd

    old = cuda_dispatch.set_launcher(fd.launcher())
    yield Dev(fd.XP, fd.put, fd.get, fd.DeviceArray)
    cuda_dispatch.set_launcher(old)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["views", "separate"])
@pytest.mark.parametrize("name, kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_on_device_matches_numba(dev, name, kw, layout, dtype):
    rng = np.random.default_rng(1)
    offs = np.cumsum([0] + SIZES)
    cuts = list(zip(offs[:-1], offs[1:]))
    flat0 = rng.standard_normal(offs[-1]).astype(dtype)
    host = [flat0[a:b].copy() for a, b in cuts]
    if layout == "views":  # one flat device buffer with a view per layer (runtime.nn's layout)
        flat, gflat = dev.put(flat0), dev.xp.zeros(offs[-1], dtype=dtype)
        params, gviews = [flat[a:b] for a, b in cuts], [gflat[a:b] for a, b in cuts]
    else:
        params = [dev.put(p) for p in host]
    ours, ref = getattr(optim, name)(params, **kw), getattr(optim, name)(host, **kw)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in host]
        if layout == "views":
            gflat[...] = dev.put(np.concatenate(grads))
            ours.step(gviews)
        else:
            ours.step([dev.put(g) for g in grads])
        ref.step(grads)
    for p, h in zip(params, host):
        assert isinstance(p, dev.ndarray)
        assert rel_err(dev.get(p), h) <= TOL[dtype]
    for i, s in ours.state.items():
        for key, v in s.items():
            if key != "step" and not key.startswith("_"):
                assert isinstance(v, dev.ndarray), f"state {key} of parameter {i} is not on the device"
                assert rel_err(dev.get(v), ref.state[i][key]) <= 10 * TOL[dtype]
    saved = ours.state_dict()
    assert all(isinstance(v, dev.ndarray) for s in saved["state"].values()
               for k, v in s.items() if k != "step")


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_clip_on_device_matches_numba(dev, norm_type, dtype):
    rng = np.random.default_rng(2)
    host = [rng.standard_normal(s).astype(dtype) for s in ((300, 7), (100_001,))]
    d = [dev.put(g) for g in host]
    want = clip.clip_grad_norm_(host, 1.5, norm_type=norm_type)
    got = clip.clip_grad_norm_(d, 1.5, norm_type=norm_type)
    assert isinstance(got, dev.ndarray) and got.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert abs(float(dev.get(got)) - float(want)) <= tol * float(want)
    for a, b in zip(d, host):
        assert rel_err(dev.get(a), b) <= tol
    norm = clip.get_total_norm(d, norm_type)
    assert isinstance(norm, dev.ndarray)
    want = float(clip.get_total_norm(host, norm_type))
    assert abs(float(dev.get(norm)) - want) <= tol * want
    host = [rng.standard_normal(g.shape).astype(dtype) for g in host]
    d = [dev.put(g) for g in host]
    clip.clip_grad_value_(d, 0.3)
    clip.clip_grad_value_(host, 0.3)
    for a, b in zip(d, host):
        np.testing.assert_array_equal(dev.get(a), b)  # a clamp rounds nothing
