"""runtime.optim.set_flush_denormal: subnormal results of the update kernels stored as 0.

Oracles: the textbook momentum / Adam recurrences in NumPy (float32 or float64 arithmetic,
with the flush written out), and torch.optim with torch.set_flush_denormal(True) where
PyTorch is installed.
"""
from __future__ import annotations

import numpy as np
import pytest

from runtime import optim
from runtime.nn import MLP
from runtime.train import fit

TINY = {np.float32: np.finfo(np.float32).tiny, np.float64: np.finfo(np.float64).tiny}


@pytest.fixture(autouse=True)
def _mode_restored():
    before = optim._flush
    yield
    optim.set_flush_denormal(before)


def _sgd_reference(p, grads, lr, mu, flush, dtype):
    """Textbook SGD with momentum (torch's form: b = μb + g, p = p − lr·b) in ``dtype``."""
    p, b = p.astype(dtype), np.zeros_like(p, dtype=dtype)
    lr, mu = dtype(lr), dtype(mu)
    for g in grads:
        b = mu * b + g.astype(dtype)
        p = p - lr * b
        if flush:
            b = np.where(np.abs(b) < TINY[dtype], dtype(0), b)
            p = np.where(np.abs(p) < TINY[dtype], dtype(0), p)
    return p, b


def _decaying_grads(n, steps, dtype, seed=0):
    """One real gradient, then zeros: the momentum decays through the subnormals (a dead unit)."""
    rng = np.random.default_rng(seed)
    first = (rng.standard_normal(n) * 1e-3).astype(dtype)
    return [first] + [np.zeros(n, dtype)] * (steps - 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("flush", [False, True])
def test_sgd_momentum_state_against_textbook(dtype, flush):
    steps = 900 if dtype is np.float32 else 7000  # 0.9^k · 1e-3 below the smallest normal
    grads = _decaying_grads(64, steps, dtype)
    p0 = np.linspace(-1, 1, 64).astype(dtype)
    p = p0.copy()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    optim.set_flush_denormal(flush)
    for g in grads:
        opt.step([g])
    ref_p, ref_b = _sgd_reference(p0, grads, 0.1, 0.9, flush, dtype)
    b = opt.state_dict()["state"][0]["momentum_buffer"]
    np.testing.assert_allclose(p, ref_p, rtol=4 * np.finfo(dtype).eps, atol=0)
    subnormal = (b != 0) & (np.abs(b) < TINY[dtype])
    ref_subnormal = (ref_b != 0) & (np.abs(ref_b) < TINY[dtype])
    if flush:
        assert not subnormal.any()
        np.testing.assert_array_equal(b, ref_b)  # all 0 by now, as the reference
        assert not ref_b.any()
    else:  # the subnormals stick: 0.9 × the smallest one rounds back to it
        assert subnormal.all() and ref_subnormal.all()


@pytest.mark.parametrize("make, key", [
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), "momentum_buffer"),
    (lambda ps: optim.Adam(ps, lr=1e-3), "exp_avg")])
def test_flush_leaves_parameters_as_they_are(make, key):
    """A parameter moves by lr × a subnormal, below its own rounding: flushing the state
    changes no parameter, bit for bit, over a run long enough for dead units' momenta to
    become subnormal (bench_mlp's regime, smaller)."""
    rng = np.random.default_rng(1)
    X = rng.random((32, 20), dtype=np.float32)
    y = rng.integers(0, 4, size=32)
    out = {}
    for flush in (False, True):
        model = MLP([20, 64, 64, 4], "relu", seed=3)
        opt = make(model.flat_parameters())
        optim.set_flush_denormal(flush)
        for _ in range(1000):
            model.loss_and_backward(X, y)
            opt.step(model.flat_gradients())
        b = opt.state_dict()["state"][0][key]
        out[flush] = model.flat_params.copy(), b
    p_off, b_off = out[False]
    p_on, b_on = out[True]
    sub = (b_off != 0) & (np.abs(b_off) < TINY[np.float32])
    assert sub.sum() > 0, "the run should reach subnormal momenta (dead units)"
    np.testing.assert_array_equal(p_on, p_off)
    assert not ((b_on != 0) & (np.abs(b_on) < TINY[np.float32])).any()
    np.testing.assert_array_equal(b_on[~sub], b_off[~sub])
    assert not b_on[sub].any()


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_against_torch_flushing(name):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for torch.set_flush_denormal")
    grads = _decaying_grads(256, 900, np.float32, seed=2)
    p0 = np.linspace(-1, 1, 256).astype(np.float32)
    p = p0.copy()
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    if name == "sgd":
        ours = optim.SGD([p], lr=0.1, momentum=0.9)
        theirs = torch.optim.SGD([tp], lr=0.1, momentum=0.9, foreach=False)
        key = "momentum_buffer"
    else:
        ours = optim.Adam([p], lr=1e-3)
        theirs = torch.optim.Adam([tp], lr=1e-3, foreach=False)
        key = "exp_avg"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the flag is the calling thread's
    assert torch.set_flush_denormal(True), "this CPU cannot flush denormals"
    optim.set_flush_denormal(True)
    try:
        for g in grads:
            ours.step([g])
            tp.grad = torch.from_numpy(g.copy())
            theirs.step()
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    state = ours.state_dict()["state"][0][key]
    theirs_state = theirs.state[tp][key].numpy()
    for s in (state, theirs_state):
        assert not ((s != 0) & (np.abs(s) < TINY[np.float32])).any()
    np.testing.assert_allclose(state, theirs_state, rtol=1e-5, atol=0)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_generated_kernel_flush_argument_float64():
    """The kernel itself, as a vendoring caller calls it: flush is its last argument."""
    from runtime.generated import numba_optim as gen

    rule = gen.RULES["sgd_momentum"]
    scalars = rule["scalars"](1, lr=0.5, momentum=0.5, dampening=0.0, weight_decay=0.0)
    tiny = TINY[np.float64]
    for flush in (False, True):
        p = np.array([1.0, 4 * tiny, -3 * tiny, np.nan, np.inf])
        b = np.array([1.0, 2 * tiny, 2 * tiny, 1.0, 1.0])
        g = np.zeros(5)
        rule["kernels"][("float64", False)](p, g, b, *[np.float64(s) for s in scalars], flush)
        want_b = 0.5 * np.array([1.0, 2 * tiny, 2 * tiny, 1.0, 1.0])  # tiny: subnormal
        want_p = np.array([1.0, 4 * tiny, -3 * tiny, np.nan, np.inf]) - 0.5 * want_b
        if flush:
            want_b = np.where(np.abs(want_b) < tiny, 0.0, want_b)
            want_p = np.where(np.abs(want_p) < tiny, 0.0, want_p)
        np.testing.assert_array_equal(b, want_b)
        np.testing.assert_array_equal(p, want_p)  # NaN and inf stay (not below tiny)


def test_mode_switch_and_errors():
    assert optim.set_flush_denormal(True) is True
    assert optim._flush is True
    with optim.flush_denormal(False):
        assert optim._flush is False
    assert optim._flush is True
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match=f"mode must be a bool, got {bad!r}"):
            optim.set_flush_denormal(bad)
    assert optim._flush is True


def test_fit_flushes_while_training_and_restores():
    rng = np.random.default_rng(0)
    X = rng.random((16, 5), dtype=np.float32)
    y = rng.integers(0, 3, size=16)
    model = MLP([5, 8, 3], "relu", seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen = []
    optim.set_flush_denormal(False)
    fit(model, X, y, opt, epochs=2, callback=lambda e, h: seen.append(optim._flush), progress=False)
    assert seen == [True, True] and optim._flush is False
    fit(model, X, y, opt, epochs=1, flush_denormal=False,
        callback=lambda e, h: seen.append(optim._flush), progress=False)
    assert seen[-1] is False
    with pytest.raises(RuntimeError, match="stop"):
        def boom(epoch, history):
            raise RuntimeError("stop")
        fit(model, X, y, opt, epochs=1, callback=boom, progress=False)
    assert optim._flush is False
    with pytest.raises(TypeError, match="flush_denormal must be a bool, got 'no'"):
        fit(model, X, y, opt, flush_denormal="no")
