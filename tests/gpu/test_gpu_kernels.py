"""Every CUDA kernel on a real device against the Numba kernels, each option and dtype.

Skipped with the reason when no CUDA device is present (see conftest.py; with
``DERIVECLI_GPU_DRYRUN=1`` they run on the host-compiled source instead).
"""
from __future__ import annotations

import numpy as np
import pytest

from runtime import cuda_dispatch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def close(device, got, want, dtype, what, atol=None):
    got = np.asarray(device.get(got), dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN positions")
    ok = ~np.isnan(want)
    scale = np.abs(want[ok]).max(initial=1.0)
    np.testing.assert_allclose(got[ok], want[ok], rtol=TOL[dtype]["rtol"],
                               atol=TOL[dtype]["atol"] * scale if atol is None else atol,
                               err_msg=what)


# An update divides d = g + λθ by √v + ε with v ~ d² on the first steps: where g ≈ −λθ the
# cancellation leaves d with an absolute error of about ulp(λθ) that depends on whether λθ + g
# is one fused multiply-add (GPU, Numba's contract flag) or two roundings; the quotient
# carries it as |Δq| ≲ ulp(λθ)/ε. The tests use ε = 1e-3 (1e-6 made this 1e-2 in float32).
OPTIM_ATOL = {np.float32: 2e-5, np.float64: 1e-12}


def on_device(device, *arrays):
    for a in arrays:
        assert isinstance(a, device.xp.ndarray), f"{type(a)} is not a {device.xp.__name__} array"


def numba_losses():
    from runtime.losses import loss_and_grad

    return loss_and_grad


# --------------------------------------------------------------------------- losses

LOSS_CASES = [("bce", {}), ("bce_logits", {}), ("bce_logits", {"pos_weight": 2.5}),
              ("mse", {}), ("mae", {}), ("smooth_l1", {"beta": 1.0}), ("smooth_l1", {"beta": 0.3}),
              ("smooth_l1", {"beta": 0.0}), ("huber", {"delta": 1.0}), ("huber", {"delta": 2.0}),
              ("lp", {"p": 1.5}), ("lp", {"p": 3.0})]


def loss_data(name, dtype, n, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bce":
        p, t = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        p[:4], t[:4] = [0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]
    else:
        p, t = rng.normal(0, 3, n), rng.uniform(0, 1, n)
        p[:4] = [1e4, -1e4, 0.0, t[3]]
    return p.astype(dtype), t.astype(dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,opts", LOSS_CASES, ids=[f"{n}{o or ''}" for n, o in LOSS_CASES])
def test_elementwise_loss(device, name, opts, dtype, reduction):
    p, t = loss_data(name, dtype, 100_003)
    want_l, want_g = numba_losses()(name, p, t, reduction=reduction, **opts)
    loss, grad = cuda_dispatch.loss_and_grad(name, device.put(p), device.put(t),
                                             reduction=reduction, **opts)
    on_device(device, loss, grad)
    assert grad.dtype == dtype and loss.dtype == dtype
    close(device, loss, want_l, dtype, f"{name} {opts} {reduction} loss")
    close(device, grad, want_g, dtype, f"{name} {opts} {reduction} grad")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_pos_weight_array_noncontiguous_and_out(device, dtype):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (300, 14)).astype(dtype)[:, ::2]  # non-contiguous
    y = (rng.uniform(size=(300, 7)) > 0.5).astype(dtype)
    pw = rng.uniform(0.5, 4, 7).astype(dtype)
    want_l, want_g = numba_losses()("bce_logits", z, y, pos_weight=pw)
    out = device.xp.empty((300, 7), dtype=dtype)
    loss, grad = cuda_dispatch.loss_and_grad("bce_logits", device.put(z), device.put(y),
                                             pos_weight=device.put(pw), out=out)
    assert grad is out
    close(device, loss, want_l, dtype, "pos_weight array loss")
    close(device, grad, want_g, dtype, "pos_weight array grad")


def test_many_blocks_reduce_in_double(device):
    rng = np.random.default_rng(2)
    n = (1 << 22) + 3
    p, t = rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32)
    loss, _ = cuda_dispatch.loss_and_grad("mse", device.put(p), device.put(t))
    want = np.mean((p.astype(np.float64) - t) ** 2)
    assert abs(float(device.get(loss)) - want) <= 2e-7 * want


# --------------------------------------------------------------------------- softmax_ce

CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": "w"},
    "ignore": {"ignore_index": 1},
    "smoothing": {"label_smoothing": 0.1},
    "all": {"weight": "w", "ignore_index": 1, "label_smoothing": 0.25},
    "probs": {"targets": "probs"},
    "probs_all": {"targets": "probs", "weight": "w", "label_smoothing": 0.1},
}
SHAPES = [(257, 10), (64, 1000), (8, 5000), (3, 40000)]  # warp rows; block rows (cached / not)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", list(CE_OPTIONS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_softmax_ce(device, shape, case, dtype, reduction):
    N, C = shape
    rng = np.random.default_rng(3)
    z = rng.normal(0, 4, shape).astype(dtype)
    z[0, :2] = [1e4, -1e4]
    opts = dict(CE_OPTIONS[case])
    if opts.pop("targets", None) == "probs":
        target = rng.dirichlet(np.ones(C), N).astype(dtype)
    else:
        target = rng.integers(0, C, N)
        target[::5] = 1
    if opts.get("weight") == "w":
        opts["weight"] = rng.uniform(0.2, 3, C).astype(dtype)
    want_l, want_g = numba_losses()("softmax_ce", z, target, reduction=reduction, **opts)
    dev_opts = {k: (device.put(v) if isinstance(v, np.ndarray) else v) for k, v in opts.items()}
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", device.put(z), device.put(target),
                                             reduction=reduction, **dev_opts)
    on_device(device, loss, grad)
    close(device, loss, want_l, dtype, f"softmax_ce {shape} {case} {reduction} loss")
    close(device, grad, want_g, dtype, f"softmax_ce {shape} {case} {reduction} grad")


def test_softmax_ce_labels_checked_on_device(device):
    z = device.put(np.zeros((6, 4), np.float32))
    labels = device.put(np.array([0, 1, -100, 3, 4, 2]))
    with pytest.raises(ValueError, match=r"label 4 at position \(4,\)"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, labels)
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, device.put(np.array([0, 1, 2, 3, 0, -100])))
    assert abs(float(device.get(loss)) - np.log(4)) < 1e-6


# --------------------------------------------------------------------------- activations

ACTS = [("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {}),
        ("leaky_relu", {"negative_slope": 0.2})]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,opts", ACTS, ids=[f"{n}{o or ''}" for n, o in ACTS])
def test_activation(device, name, opts, dtype):
    try:
        from runtime.activations import activation, activation_grad
    except ImportError as err:
        pytest.skip(f"the Numba activations are not available ({err})")
    rng = np.random.default_rng(4)
    z = np.concatenate([rng.normal(0, 3, 50_000), [0.0, 1e4, -1e4, np.nan]]).astype(dtype)
    u = rng.normal(size=z.size).astype(dtype)
    a = activation(name, z, **opts)
    got_a = cuda_dispatch.activation(name, device.put(z), **opts)
    on_device(device, got_a)
    close(device, got_a, a, dtype, f"{name} forward")
    close(device, cuda_dispatch.activation_grad(name, device.put(z), device.put(u), **opts),
          activation_grad(name, z, u, **opts), dtype, f"{name} backward")
    close(device, cuda_dispatch.activation_grad(name, None, device.put(u), output=device.put(a),
                                                **opts),
          activation_grad(name, None, u, output=a, **opts), dtype, f"{name} backward through a")
    # a dense layer's bias fused in: the CPU's activation of z + b (summed in the dtype)
    Z = z[:50_000].reshape(500, 100)
    b = rng.normal(0, 3, 100).astype(dtype)
    got = cuda_dispatch.activation_bias_forward(name, device.put(Z), device.put(b), **opts)
    on_device(device, got)
    close(device, got, activation(name, (Z + b).astype(dtype), **opts), dtype,
          f"{name} bias_forward")


# --------------------------------------------------------------------------- optimizers

HYPER = {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.03, "lr_decay": 0.01,
         "initial_accumulator_value": 0.1, "eps": 1e-3, "alpha": 0.9, "beta1": 0.85,
         "beta2": 0.99}


def _rules():
    try:
        from runtime.generated import numba_optim
    except ImportError:
        return []
    return [r for r in numba_optim.RULES if not r.startswith("clip")]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("rule", _rules())
def test_optimizer_update(device, rule, dtype):
    from runtime.generated import numba_optim

    spec = numba_optim.RULES[rule]
    rng = np.random.default_rng(5)
    n = 200_003
    hyper = {k: HYPER[k] for k in spec["hyper"]}
    host = [rng.normal(size=n).astype(dtype)] + [np.full(n, f, dtype) for f in spec["init"](**hyper)]
    dev = [device.put(a) for a in host]
    for t in (1, 2, 3):
        g = rng.normal(size=n).astype(dtype)
        scalars = spec["scalars"](t, **hyper)
        spec["kernels"][(np.dtype(dtype).name, False)](host[0], g, *host[1:],
                                                        *[dtype(x) for x in scalars])
        cuda_dispatch.optimizer_step(rule, dev[0], device.put(g), dev[1:], scalars)
    for k, (d, h) in enumerate(zip(dev, host)):
        close(device, d, h, dtype, f"{rule} array {k}", atol=OPTIM_ATOL[dtype])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_clipping(device, norm_type, dtype):
    from runtime import clip

    rng = np.random.default_rng(6)
    host = [rng.normal(size=s).astype(dtype) for s in ((300, 7), (10_001,))]
    dev = [device.put(g) for g in host]
    want = clip.clip_grad_norm_(host, 1.5, norm_type=norm_type)
    got = cuda_dispatch.clip_grad_norm_(dev, 1.5, norm_type=norm_type)
    close(device, got, want, dtype, f"total norm {norm_type}")
    for d, h in zip(dev, host):
        close(device, d, h, dtype, "clipped by norm")
    clip.clip_grad_value_(host, 0.1)
    cuda_dispatch.clip_grad_value_(dev, 0.1)
    for d, h in zip(dev, host):
        close(device, d, h, dtype, "clipped by value")


# --------------------------------------------------------------------------- the runtime hook

def test_runtime_dispatches_cupy_arrays(device):
    if device.dry:
        pytest.skip("dry run: NumPy arrays go to the Numba path, not to cuda_dispatch")
    import runtime.activations
    import runtime.losses

    p = device.put(np.linspace(-2, 2, 1000, dtype=np.float32))
    loss, grad = runtime.losses.loss_and_grad("mse", p, device.xp.zeros_like(p))
    on_device(device, loss, grad)
    on_device(device, runtime.activations.activation("relu", p))
