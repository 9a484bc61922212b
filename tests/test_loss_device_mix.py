"""runtime.loss_and_grad with host and device arrays mixed: a TypeError naming the argument
and both array types, as runtime.nn and runtime.clip raise and as PyTorch does ("Expected all
tensors to be on the same device"); nothing is copied between host and device implicitly.

No GPU: tests/fake_device.py's arrays are taken for CuPy arrays, and the losses' CUDA source
runs on the CPU through tests/cuda_host.py (the ``host`` fixture in tests/conftest.py), so a
silent copy would run to the end and return a result instead of raising.
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
import runtime  # noqa: E402
from runtime.generated import cupy_losses  # noqa: E402


@pytest.fixture(scope="module")
def launcher():
    return fd.DeviceLauncher(cuda_host.loss_library(cupy_losses.SOURCE))


RNG = np.random.default_rng(0)
P, T = RNG.random((3, 4)), RNG.random((3, 4))
Z, Y = RNG.standard_normal((5, 3)), RNG.integers(0, 3, 5)
W3, WC = RNG.random((3, 4)) + 0.5, RNG.random(3) + 0.5

# (loss, pred, target, the options, the argument on the other side)
DEVICE_PRED = [
    ("mse", fd.put(P), T, {}, "target"),
    ("huber", fd.put(P), T, {}, "target"),
    ("bce", fd.put(P), fd.put(T), {"weight": W3}, "weight"),
    ("bce_logits", fd.put(P), fd.put(T), {"weight": W3}, "weight"),
    ("bce_logits", fd.put(P), fd.put(T), {"pos_weight": W3[0]}, "pos_weight"),
    ("softmax_ce", fd.put(Z), Y, {}, "target"),
    ("softmax_ce", fd.put(Z), fd.put(Y), {"weight": WC}, "weight"),
    ("softmax_ce", fd.put(Z), np.eye(3)[Y], {}, "target"),  # probabilities
]
HOST_PRED = [
    ("mse", P, fd.put(T), {}, "target"),
    ("bce", P, T, {"weight": fd.put(W3)}, "weight"),
    ("bce_logits", P, T, {"pos_weight": fd.put(W3[0])}, "pos_weight"),
    ("softmax_ce", Z, fd.put(Y), {}, "target"),
    ("softmax_ce", Z, Y, {"weight": fd.put(WC)}, "weight"),
    ("mse", P, T, {"out": fd.put(np.empty_like(P))}, "out"),
]


def _id(case):
    return f"{case[0]}-{case[4]}"


@pytest.mark.parametrize("case", DEVICE_PRED, ids=_id)
def test_host_array_with_device_pred_raises_naming_it(host, case):
    name, pred, target, opts, arg = case
    with pytest.raises(TypeError, match=rf"^{arg} is a numpy\.ndarray but pred is a "
                                        rf"cupy\.\w+ .*cupy\.asarray\({arg}\)"):
        runtime.loss_and_grad(name, pred, target, **opts)
    assert not host.launches  # nothing ran on the device


@pytest.mark.parametrize("case", HOST_PRED, ids=_id)
def test_device_array_with_host_pred_raises_naming_it(host, case):
    name, pred, target, opts, arg = case
    with pytest.raises(TypeError, match=rf"^{arg} is a cupy\.\w+ but pred is a numpy\.ndarray "
                                        rf".*cupy\.asnumpy\({arg}\)"):
        runtime.loss_and_grad(name, pred, target, **opts)
    assert not host.launches


def test_same_side_calls_still_run_and_agree(host):
    """The check rejects mixes only: all-device calls run on the device and give the host's
    values (textbook MSE / BCE as the oracle), scalar options are fine on either side."""
    loss, grad = runtime.loss_and_grad("mse", fd.put(P), fd.put(T))
    np.testing.assert_allclose(float(loss), np.mean((P - T) ** 2), rtol=1e-13)
    np.testing.assert_allclose(fd.get(grad), 2 * (P - T) / P.size, rtol=1e-13)
    assert isinstance(grad, fd.DeviceArray)
    for pw in (2.0, np.float64(2.0), np.array(2.0)):  # a scalar: read as a number
        loss, _ = runtime.loss_and_grad("bce_logits", fd.put(P), fd.put(T), pos_weight=pw)
        s = 1 / (1 + np.exp(-P))
        want = -np.mean(2.0 * T * np.log(s) + (1 - T) * np.log(1 - s))
        np.testing.assert_allclose(float(loss), want, rtol=1e-12)
    loss, _ = runtime.loss_and_grad("bce", fd.put(P), fd.put(T), weight=fd.put(W3))
    want = -np.mean(W3 * (T * np.log(P) + (1 - T) * np.log(1 - P)))
    np.testing.assert_allclose(float(loss), want, rtol=1e-12)
    host.launches.clear()
    loss, _ = runtime.loss_and_grad("bce", P, T, weight=W3)  # all host: no launch
    np.testing.assert_allclose(loss, want, rtol=1e-12)
    assert not host.launches
