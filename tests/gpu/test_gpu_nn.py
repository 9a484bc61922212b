"""runtime.nn networks trained on real CuPy arrays (model.to("cuda")).

Skipped with the reason when no CUDA device is present (conftest.py). Oracle: the same model on
the NumPy path (Numba kernels, NumPy's BLAS), step for step. On the device cuBLAS sums in
its own order and the kernels contract into FMAs, so the tolerances are wider than the host
emulation's (tests/test_nn_cupy.py). With ``DERIVECLI_GPU_DRYRUN=1`` the "device" is NumPy
(conftest.py), which checks only this file's own logic.
"""
from __future__ import annotations

import numpy as np
import pytest

from runtime import nn, optim

TOL = {np.float32: 1e-4, np.float64: 1e-10}
SIZES, ACTS = [20, 64, 32, 5], ["tanh", "relu"]


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def data(dtype, n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0])).astype(dtype)
    y = (X[:, :SIZES[-1]].argmax(axis=1) + (X[:, 0] > 1)) % SIZES[-1]  # learnable labels
    return X, y.astype(np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("batchnorm", [False, True], ids=["plain", "bn"])
def test_mlp_on_device_matches_numpy(device, dtype, opt, batchnorm):
    make = {"sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
            "adam": lambda ps: optim.Adam(ps, lr=3e-3)}[opt]
    cpu = nn.MLP(SIZES, ACTS, dtype=dtype, seed=2, batchnorm=batchnorm)
    dev = nn.MLP(SIZES, ACTS, dtype=dtype, seed=2, batchnorm=batchnorm, device=device.xp)
    X, y = data(dtype)
    Xd, yd = device.put(X), device.put(y)
    o_cpu, o_dev = make(cpu.flat_parameters()), make(dev.flat_parameters())
    first = last = None
    for step in range(10):
        l_cpu = cpu.loss_and_backward(X, y)
        l_dev = dev.loss_and_backward(Xd, yd)
        assert abs(float(l_dev) - l_cpu) <= TOL[dtype] * abs(l_cpu), step
        o_cpu.step(cpu.flat_gradients())
        o_dev.step(dev.flat_gradients())
        assert rel(device.get(dev.flat_grads), cpu.flat_grads) <= TOL[dtype], step
        assert rel(device.get(dev.flat_params), cpu.flat_params) <= TOL[dtype], step
        first, last = first if first is not None else l_cpu, l_cpu
    assert last < first
    if batchnorm:
        for a, b in zip(cpu.layers, dev.layers):
            if isinstance(a, nn.BatchNorm):
                assert rel(device.get(b.running_var), a.running_var) <= TOL[dtype]
    assert rel(device.get(dev.eval().forward(Xd)), cpu.eval().forward(X)) <= 10 * TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_dropout_on_device_is_seeded_inverted_dropout(device, dtype):
    p = 0.3
    X, y = data(dtype, n=512)
    Xd, yd = device.put(X), device.put(y)
    runs = []
    for _ in range(2):  # the same seed: the same device masks, the same trajectory
        dev = nn.MLP(SIZES, ACTS, dtype=dtype, seed=4, dropout=p, device=device.xp)
        opt = optim.Adam(dev.flat_parameters(), lr=3e-3)
        losses = []
        for _ in range(5):
            losses.append(float(dev.loss_and_backward(Xd, yd)))
            opt.step(dev.flat_gradients())
        runs.append((losses, device.get(dev.flat_params)))
        drop = next(layer for layer in dev.layers if isinstance(layer, nn.Dropout))
        mask = device.get(drop._mask)
        assert set(np.unique(mask)) <= {0, 1} and abs(mask.mean() - (1 - p)) < 0.02
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0][-1] < runs[0][0][0]
    # evaluation mode: no dropout, so the output is the dropout-free network's
    ref = nn.MLP(SIZES, ACTS, dtype=dtype, seed=4, dropout=p)
    ref.load_state_dict({k: device.get(v) for k, v in dev.state_dict().items()})
    assert rel(device.get(dev.eval().forward(Xd)), ref.eval().forward(X)) <= TOL[dtype]


def test_mixed_inputs_raise_on_a_real_device(device):
    if device.dry:
        pytest.skip("dry run: the stand-in device is NumPy, so host and device inputs are alike")
    dev = nn.MLP(SIZES, ACTS, device="cuda")
    X, y = data(np.float32)
    with pytest.raises(TypeError, match="X is a numpy.ndarray but the model is on the device"):
        dev.loss_and_backward(X, device.put(y))
    with pytest.raises(TypeError, match="y is a numpy.ndarray but the model is on the device"):
        dev.loss_and_backward(device.put(X), y)
    with pytest.raises(TypeError, match=r"X is a CuPy array"):
        nn.MLP(SIZES, ACTS).loss_and_backward(device.put(X), y)
