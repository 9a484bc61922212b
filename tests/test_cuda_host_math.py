"""The math of the generated CUDA kernels, run on the CPU (no GPU needed).

The committed module's CUDA source is compiled for the host (``tests/cuda_host.py``): the printed
``__host__ __device__`` functions, the grid-stride spans and the softmax row passes are the same
text NVRTC compiles. ``runtime.cuda_dispatch`` then runs on NumPy arrays with a host launcher,
so argument order, scaling, reductions and validation are checked too. Oracles: NumPy written
from the textbook formulas (float64), PyTorch's losses and autograd, and the Numba kernels.
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host  # noqa: E402  (tests/ is on sys.path: pytest's rootdir-relative import)

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

from runtime import cuda_dispatch  # noqa: E402
from runtime.generated import cupy_losses  # noqa: E402

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.fixture(scope="module")
def lib():
    return cuda_host.loss_library(cupy_losses.SOURCE)


@pytest.fixture()
def host(lib):
    launcher = cuda_host.HostLauncher(lib)
    old = cuda_dispatch.set_launcher(launcher)
    yield launcher
    cuda_dispatch.set_launcher(old)


# --------------------------------------------------------------------------- references

def reference(name, pred, target, **o):
    """(per-element loss, dL/dpred) from the textbook formulas, in float64, NumPy's NaN rules."""
    p, t = pred.astype(np.float64), target.astype(np.float64)
    with np.errstate(over="ignore"):  # the residual in the inputs' dtype, as any kernel has it
        r = (pred - target).astype(np.float64)
    with np.errstate(all="ignore"):
        if name == "mse":
            return r * r, 2 * r
        if name == "mae":
            return np.abs(r), np.sign(r)
        if name == "smooth_l1":
            b = o.get("beta", 1.0)
            small = np.abs(r) < b
            return (np.where(small, 0.5 * r * r / b, np.abs(r) - 0.5 * b),
                    np.where(small, r / b, np.sign(r)))
        if name == "huber":
            d = o.get("delta", 1.0)
            small = np.abs(r) < d
            return (np.where(small, 0.5 * r * r, d * (np.abs(r) - 0.5 * d)),
                    np.where(small, r, d * np.sign(r)))
        if name == "lp":
            q = o.get("p", 2.0)
            return np.abs(r) ** q, q * np.abs(r) ** (q - 1) * np.sign(r)
        if name == "bce":  # PyTorch clamps the logs at -100 and p(1 - p) at 1e-12
            loss = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
            # PyTorch's EPSILON is the float 1e-12, also in double arithmetic
            return loss, (p - t) / np.maximum(p * (1 - p), float(np.float32(1e-12)))
        if name == "bce_logits":
            pw = np.broadcast_to(np.asarray(o.get("pos_weight", 1.0), dtype=np.float64), p.shape)
            log_sig, log_1m = -np.logaddexp(0, -p), -np.logaddexp(0, p)  # log σ(z), log(1 − σ(z))
            sig = np.exp(log_sig)
            loss = -(pw * t * log_sig + (1 - t) * log_1m)
            return loss, -pw * t * (1 - sig) + (1 - t) * sig
    raise KeyError(name)


def data(name, dtype, n=257, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bce":
        p = rng.uniform(0.001, 0.999, n)
        t = rng.uniform(0, 1, n)
    elif name == "bce_logits":
        p = rng.normal(0, 4, n)
        t = rng.uniform(0, 1, n)
    else:
        p = rng.normal(0, 2, n)
        t = rng.normal(0, 2, n)
    return p.astype(dtype), t.astype(dtype)


def extremes(name, dtype):
    """Values at the edges: ±1e4 logits, probabilities 0 and 1, kinks, NaN, inf."""
    nan, inf = np.nan, np.inf
    if name == "bce":
        p = [0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-7, 0.5, nan, 0.3]
        t = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.5, nan]
    elif name == "bce_logits":
        p = [1e4, -1e4, 1e4, -1e4, 100.0, -100.0, 0.0, 88.0, -88.0, nan, 0.5, inf, -inf]
        t = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.5, 0.0, 1.0, 1.0, nan, 0.0, 1.0]
    else:
        p = [0.0, 1.0, -1.0, 1e4, -1e4, 1e-30, 0.5, 2.0, nan, 1.0, inf, 3e38]
        t = [0.0, 0.0, 0.0, -1e4, 1e4, 0.0, 0.0, 1.0, 0.0, nan, 0.0, -3e38]
    return np.array(p, dtype=dtype), np.array(t, dtype=dtype)


def assert_close(got, want, dtype, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN positions")
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], err_msg=what, **TOL[dtype])


OPTIONS = {"smooth_l1": [{"beta": 1.0}, {"beta": 0.25}], "huber": [{"delta": 1.0}, {"delta": 2.5}],
           "bce_logits": [{}, {"pos_weight": 3.0}], "lp": [{"p": 1.0}, {"p": 1.5}, {"p": 3.0}]}
CASES = [(n, o) for n in cuda_host.LOSS_OPTIONS for o in OPTIONS.get(n, [{}])]


# --------------------------------------------------------------------------- elementwise

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,opts", CASES, ids=[f"{n}{o or ''}" for n, o in CASES])
def test_elementwise_matches_textbook(host, name, opts, dtype):
    p, t = data(name, dtype)
    want_l, want_g = reference(name, p, t, **opts)
    loss, grad = cuda_dispatch.loss_and_grad(name, p, t, reduction="none", **opts)
    assert loss.dtype == dtype and grad.dtype == dtype and grad.shape == p.shape
    assert_close(loss, want_l, dtype, f"{name} loss")
    assert_close(grad, want_g, dtype, f"{name} grad")
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / p.size)):
        loss, grad = cuda_dispatch.loss_and_grad(name, p, t, reduction=reduction, **opts)
        assert loss.shape == () and loss.dtype == dtype
        assert_close(loss, want_l.sum() * scale, dtype, f"{name} {reduction} loss")
        assert_close(grad, want_g * scale, dtype, f"{name} {reduction} grad")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,opts", CASES, ids=[f"{n}{o or ''}" for n, o in CASES])
def test_elementwise_extremes(host, name, opts, dtype):
    p, t = extremes(name, dtype)
    want_l, want_g = reference(name, p, t, **opts)
    with np.errstate(over="ignore"):  # what the dtype can hold (3e38² overflows float32)
        want_l, want_g = want_l.astype(dtype), want_g.astype(dtype)
    loss, grad = cuda_dispatch.loss_and_grad(name, p, t, reduction="none", **opts)
    assert_close(loss, want_l, dtype, f"{name} loss at {p} / {t}")
    assert_close(grad, want_g, dtype, f"{name} grad at {p} / {t}")
    finite_in = np.isfinite(p) & np.isfinite(t)
    if name in ("bce", "bce_logits"):  # clamped / stable: finite wherever the inputs are
        assert np.isfinite(loss[finite_in]).all() and np.isfinite(grad[finite_in]).all()


def test_pos_weight_array_and_2d(host):
    rng = np.random.default_rng(3)
    z = rng.normal(0, 3, (6, 5)).astype(np.float32)
    y = (rng.uniform(size=(6, 5)) > 0.5).astype(np.float32)
    pw = np.array([0.5, 1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    want_l, want_g = reference("bce_logits", z, y, pos_weight=pw)
    loss, grad = cuda_dispatch.loss_and_grad("bce_logits", z, y, reduction="mean", pos_weight=pw)
    assert grad.shape == (6, 5)
    assert_close(loss, want_l.mean(), np.float32, "loss")
    assert_close(grad, want_g / z.size, np.float32, "grad")
    assert any(name.startswith("bce_logits_pwarray") for name, *_ in host.launches)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["bce", "bce_logits"])
def test_weight_rescales_each_element_as_torch(host, name, reduction):
    rng = np.random.default_rng(4)
    z = rng.normal(0, 3, (6, 5)).astype(np.float32)
    p = 1 / (1 + np.exp(-z)) if name == "bce" else z
    y = rng.uniform(size=(6, 5)).astype(np.float32)
    w = rng.uniform(0, 2, 5).astype(np.float32)  # one per column, broadcast over the rows
    want_l, want_g = reference(name, p, y)
    want_l, want_g = w * want_l, w * want_g  # PyTorch: w ⊙ ℓ, then the reduction
    if reduction == "mean":
        want_l, want_g = want_l.mean(), want_g / z.size
    elif reduction == "sum":
        want_l = want_l.sum()
    loss, grad = cuda_dispatch.loss_and_grad(name, p, y, reduction=reduction, weight=w)
    assert_close(loss, want_l, np.float32, "loss")
    assert_close(grad, want_g, np.float32, "grad")


def test_noncontiguous_and_out_buffer(host):
    rng = np.random.default_rng(8)
    p = rng.normal(size=(40, 12))[:, ::3]  # a strided view
    t = rng.normal(size=(40, 4)).astype(np.float32)  # converted to pred's dtype
    out = np.empty((40, 4))
    want_l, want_g = reference("huber", p, t.astype(np.float64), delta=0.7)
    loss, grad = cuda_dispatch.loss_and_grad("huber", p, t, reduction="sum", out=out, delta=0.7)
    assert grad is out
    assert_close(loss, want_l.sum(), np.float64, "strided loss")
    assert_close(grad, want_g, np.float64, "strided grad")
    z = rng.normal(size=(30, 20))[::2, ::2]
    labels = rng.integers(0, 10, 15)
    want_l, want_g = ce_reference(z, labels)
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, labels)
    assert_close(grad, want_g, np.float64, "strided softmax_ce grad")


def test_empty_batch(host):
    e = np.zeros(0, dtype=np.float32)
    loss, grad = cuda_dispatch.loss_and_grad("mse", e, e, reduction="mean")
    assert np.isnan(loss) and grad.shape == (0,)  # PyTorch: mean of nothing is nan
    loss, _ = cuda_dispatch.loss_and_grad("mse", e, e, reduction="sum")
    assert loss == 0


def test_bad_inputs(host):
    p = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"target has shape \(3,\) but pred has shape \(4,\)"):
        cuda_dispatch.loss_and_grad("mse", p, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"beta=-1.0 must be >= 0"):
        cuda_dispatch.loss_and_grad("smooth_l1", p, p, beta=-1.0)
    with pytest.raises(TypeError, match="integer dtype int64"):
        cuda_dispatch.loss_and_grad("mse", np.zeros(4, np.int64), p)
    with pytest.raises(ValueError, match=r"pred has 1.5 at position \(2,\)"):
        cuda_dispatch.loss_and_grad("bce", np.array([0.5, 0.5, 1.5, 0.5], np.float32), p)
    with pytest.raises(ValueError, match="reduction='avg'"):
        cuda_dispatch.loss_and_grad("mse", p, p, reduction="avg")


def test_matches_numba_kernels(host):
    try:
        from runtime.losses import loss_and_grad as numba_loss_and_grad
        numba_loss_and_grad("mse", np.zeros(2), np.zeros(2))
    except (ImportError, AttributeError, KeyError) as err:
        pytest.skip(f"the Numba kernels are not available yet ({err!r})")
    for name, opts in CASES:
        for dtype in DTYPES:
            for p, t in (data(name, dtype, seed=5), extremes(name, dtype)):
                want_l, want_g = numba_loss_and_grad(name, p, t, reduction="none", **opts)
                got_l, got_g = cuda_dispatch.loss_and_grad(name, p, t, reduction="none", **opts)
                assert_close(got_l, want_l, dtype, f"{name} {opts} loss vs Numba")
                assert_close(got_g, want_g, dtype, f"{name} {opts} grad vs Numba")


# --------------------------------------------------------------------------- softmax_ce

def ce_reference(z, target, *, weight=None, ignore_index=-100, label_smoothing=0.0,
                 reduction="mean"):
    """PyTorch's cross_entropy from the textbook formula, float64: (loss, dL/dz)."""
    z = z.astype(np.float64)
    N, C = z.shape
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    with np.errstate(all="ignore"):
        m = z.max(axis=1, keepdims=True)
        logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        if target.dtype.kind == "f":
            q = target.astype(np.float64)
            keep = np.ones(N, bool)
        else:
            keep = target != ignore_index
            q = np.zeros((N, C))
            q[np.arange(N)[keep], target[keep]] = 1.0
        q = (1 - label_smoothing) * q + label_smoothing / C
        wq = w * q
        terms = np.where(wq != 0, -wq * logp, 0.0)  # PyTorch: 0 · (−inf) terms do not count
        rows = np.where(keep, terms.sum(axis=1), 0.0)
        grad = np.where(keep[:, None], wq.sum(axis=1, keepdims=True) * p - wq, 0.0)
        if reduction == "none":
            return rows, grad
        if reduction == "sum":
            return rows.sum(), grad
        div = N if target.dtype.kind == "f" else w[target[keep]].sum()
        return rows.sum() / div, grad / div


CE_CASES = {
    "plain": {},
    "weight": {"weight": [0.5, 2.0, 1.0, 3.0, 0.25, 1.5, 1.0]},
    "ignore": {"ignore_index": 2},
    "smoothing": {"label_smoothing": 0.1},
    "all": {"weight": [0.5, 2.0, 1.0, 3.0, 0.25, 1.5, 1.0], "ignore_index": 1,
            "label_smoothing": 0.3},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", list(CE_CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_ce_class_targets(host, case, reduction, dtype):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (37, 7)).astype(dtype)
    z[3] = [1e4, -1e4, 0, 5, -5, 1e4, 1]  # extreme logits
    z[4, :3] = -np.inf  # masked classes
    labels = rng.integers(0, 7, 37)
    labels[4] = 5
    opts = CE_CASES[case]
    want_l, want_g = ce_reference(z, labels, reduction=reduction, **opts)
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, labels, reduction=reduction, **opts)
    assert grad.dtype == dtype and grad.shape == z.shape
    if case != "smoothing" and case != "all":  # smoothing over −inf logits is +inf, as PyTorch
        assert np.isfinite(loss).all() and np.isfinite(grad).all()
    assert_close(loss, want_l, dtype, f"softmax_ce {case} {reduction} loss")
    assert_close(grad, want_g, dtype, f"softmax_ce {case} {reduction} grad")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_ce_probability_targets(host, smoothing, dtype):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 3, (9, 6)).astype(dtype)
    q = rng.dirichlet(np.ones(6), 9).astype(dtype)
    w = rng.uniform(0.5, 2, 6)
    for opts in ({}, {"weight": w}):
        want_l, want_g = ce_reference(z, q, label_smoothing=smoothing, **opts)
        loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, q, label_smoothing=smoothing,
                                                 **opts)
        assert_close(loss, want_l, dtype, f"prob targets {opts} loss")
        assert_close(grad, want_g, dtype, f"prob targets {opts} grad")


@pytest.mark.parametrize("C,opt_in", [(1500, False), (13000, False), (13000, True)])
def test_softmax_ce_wide_rows_block_kernel(lib, C, opt_in):
    launcher = cuda_host.HostLauncher(lib, opt_in=opt_in)
    old = cuda_dispatch.set_launcher(launcher)
    try:
        rng = np.random.default_rng(4)
        z = rng.normal(0, 5, (3, C)).astype(np.float32)
        labels = np.array([0, C - 1, 7])
        want_l, want_g = ce_reference(z, labels, label_smoothing=0.05)
        loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, labels, label_smoothing=0.05)
    finally:
        cuda_dispatch.set_launcher(old)
    kernel, grid, block, smem = launcher.launches[-2]  # the last one is the finalize kernel
    assert kernel == "softmax_ce_block_f32"
    fits = C * 4 <= cuda_dispatch.SMEM_DEFAULT - cuda_dispatch.SMEM_STATIC
    assert smem == (C * 4 if (fits or opt_in) else 0)
    assert_close(loss, want_l, np.float32, "wide-row loss")
    assert_close(grad, want_g, np.float32, "wide-row grad")


def test_softmax_ce_nan_row_and_unbatched(host):
    z = np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]])
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, np.array([0, 2]), reduction="none")
    assert np.isnan(loss[0]) and np.isnan(grad[0]).all()
    assert_close(loss[1], ce_reference(z[1:], np.array([2]), reduction="none")[0][0],
                 np.float64, "finite row")
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z[1], np.array(2))
    assert loss.shape == () and grad.shape == (3,)
    assert_close(grad, ce_reference(z[1:], np.array([2]))[1][0], np.float64, "unbatched grad")


def test_softmax_ce_all_ignored_and_empty(host):
    z = np.ones((3, 4), np.float32)
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, np.full(3, -100))
    assert np.isnan(loss) and (grad == 0).all()  # PyTorch: 0/0 for the mean
    loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", np.zeros((0, 4), np.float32),
                                             np.zeros(0, np.int64), reduction="sum")
    assert loss == 0 and grad.shape == (0, 4)


def test_softmax_ce_bad_labels(host):
    z = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match=r"label 4 at position \(3,\), outside \[0, 4\)"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, np.array([0, 1, -100, 4, 9]))
    with pytest.raises(ValueError, match=r"label -1 at position \(0,\)"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, np.array([-1, 1, 2, 3, 0]), ignore_index=-2)
    with pytest.raises(TypeError, match="class labels must be an integer array"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\)"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, np.zeros(5, np.int64), weight=np.ones(3))
    with pytest.raises(ValueError, match="label_smoothing=1.5 must be <= 1"):
        cuda_dispatch.loss_and_grad("softmax_ce", z, np.zeros(5, np.int64), label_smoothing=1.5)


def test_softmax_ce_against_torch(host):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    z = rng.normal(0, 4, (23, 11))
    labels = rng.integers(0, 11, 23)
    labels[[2, 9]] = 3
    w = rng.uniform(0.2, 3, 11)
    for opts in ({}, {"weight": w, "ignore_index": 3, "label_smoothing": 0.15}):
        for reduction in ("mean", "sum"):
            zt = torch.tensor(z, requires_grad=True)
            topts = {**opts, "weight": torch.tensor(w)} if "weight" in opts else opts
            ref = F.cross_entropy(zt, torch.tensor(labels), reduction=reduction, **topts)
            ref.backward()
            loss, grad = cuda_dispatch.loss_and_grad("softmax_ce", z, labels, reduction=reduction,
                                                     **opts)
            assert_close(loss, ref.item(), np.float64, f"torch loss {opts} {reduction}")
            assert_close(grad, zt.grad.numpy(), np.float64, f"torch grad {opts} {reduction}")


# --------------------------------------------------------------------------- optimizers

@pytest.fixture(scope="module")
def optim_lib():
    from runtime.generated import cupy_optim

    return cuda_host.optim_library(cupy_optim.SOURCE)


@pytest.fixture()
def host_optim(optim_lib):
    launcher = cuda_host.HostLauncher(optim=optim_lib)
    old = cuda_dispatch.set_launcher(launcher)
    yield launcher
    cuda_dispatch.set_launcher(old)


HYPER = {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.03, "lr_decay": 0.01,
         "initial_accumulator_value": 0.1, "eps": 1e-3, "alpha": 0.9, "beta1": 0.85,
         "beta2": 0.99}
UPDATE_RULES = [n for n, (kind, _) in cuda_host.optim_rules().items()
                if kind == "rule" and not n.startswith("clip")]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("rule", UPDATE_RULES)
def test_update_rules_match_numba(host_optim, rule, dtype):
    """Three steps of each fused update, on the host-compiled CUDA source and in Numba."""
    numba_optim = pytest.importorskip("runtime.generated.numba_optim",
                                      reason="the Numba optimizer kernels")
    spec = numba_optim.RULES[rule]
    rng = np.random.default_rng(11)
    n = 301
    hyper = {k: HYPER[k] for k in spec["hyper"]}
    fills = spec["init"](**hyper)
    ours = [rng.normal(size=n).astype(dtype)] + [np.full(n, f, dtype) for f in fills]
    theirs = [a.copy() for a in ours]
    for t in (1, 2, 3):
        g = rng.normal(size=n).astype(dtype)
        g[:3] = [0.0, 1e4, -1e-30]
        scalars = spec["scalars"](t, **hyper)
        cuda_dispatch.optimizer_step(rule, ours[0], g, ours[1:], scalars)
        spec["kernels"][(np.dtype(dtype).name, False)](theirs[0], g, *theirs[1:],
                                                        *[dtype(x) for x in scalars])
    # Where g ≈ −λθ, d = g + λθ cancels; Numba fuses it into one multiply-add, the host build
    # rounds twice, and d/(√v + ε) carries the difference, |Δq| ≲ ulp(λθ)/ε (ε = 1e-3 here;
    # see tests/gpu/test_gpu_kernels.py).
    atol = {np.float32: 2e-5, np.float64: 1e-12}[dtype]
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=TOL[dtype]["rtol"], atol=atol,
                                   err_msg=f"{rule} array {k} after 3 steps")
    assert any(name == f"{rule}_{'f32' if dtype == np.float32 else 'f64'}"
               for name, *_ in host_optim.launches)


def test_adam_amsgrad_against_torch(host_optim):
    torch = pytest.importorskip("torch", reason="torch.optim is the oracle")
    numba_optim = pytest.importorskip("runtime.generated.numba_optim",
                                      reason="the host scalar functions")
    rng = np.random.default_rng(12)
    p0 = rng.normal(size=50)
    pt = torch.tensor(p0.copy(), requires_grad=True)
    opt = torch.optim.Adam([pt], lr=0.01, betas=(0.8, 0.95), eps=1e-7, weight_decay=0.1,
                           amsgrad=True)
    ours = [p0.copy(), np.zeros(50), np.zeros(50), np.zeros(50)]
    spec = numba_optim.RULES["adam_amsgrad_wd"]
    for t in range(1, 6):
        g = rng.normal(size=50)
        pt.grad = torch.tensor(g)
        opt.step()
        scalars = spec["scalars"](t, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-7, weight_decay=0.1)
        cuda_dispatch.optimizer_step("adam_amsgrad_wd", ours[0], g, ours[1:], scalars)
    assert_close(ours[0], pt.detach().numpy(), np.float64, "param after 5 Adam steps")
    assert_close(ours[3], opt.state[pt]["max_exp_avg_sq"].numpy(), np.float64, "max_exp_avg_sq")


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, np.inf])
def test_clip_grad_norm_against_torch(host_optim, norm_type):
    torch = pytest.importorskip("torch", reason="torch.nn.utils is the oracle")
    rng = np.random.default_rng(13)
    grads = [rng.normal(size=s).astype(np.float32) for s in ((7, 3), (11,))]
    tg = [torch.tensor(g.copy()) for g in grads]
    params = [torch.zeros(g.shape, requires_grad=True) for g in tg]
    for p, g in zip(params, tg):
        p.grad = g
    want = torch.nn.utils.clip_grad_norm_(params, 0.5, norm_type=norm_type)
    total = cuda_dispatch.clip_grad_norm_(grads, 0.5, norm_type=norm_type)
    assert total.dtype == np.float32
    assert_close(total, want.item(), np.float32, "total norm")
    for g, p in zip(grads, params):
        assert_close(g, p.grad.numpy(), np.float32, "clipped gradient")


def test_clip_grad_value_and_nan_norm(host_optim):
    g = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, np.nan], np.float64)
    cuda_dispatch.clip_grad_value_(g, 1.0)
    np.testing.assert_array_equal(g, [-1.0, -0.5, 0.0, 0.5, 1.0, np.nan])
    for norm_type in (2.0, np.inf):
        assert cuda_dispatch.get_total_norm([np.zeros(0)], norm_type) == 0
        assert np.isnan(cuda_dispatch.get_total_norm([np.array([1.0, np.nan, 2.0])], norm_type))
    with pytest.raises(ValueError, match="clip_value=-1"):
        cuda_dispatch.clip_grad_value_(g, -1)
    with pytest.raises(ValueError, match=r"grad has 3 elements but param has 4"):
        cuda_dispatch.optimizer_step("sgd", np.zeros(4), np.zeros(3), (), (0.1,))


# --------------------------------------------------------------------------- activations

@pytest.fixture()
def host_act():
    from runtime.generated import cupy_activations

    launcher = cuda_host.HostLauncher(
        activations=cuda_host.activation_library(cupy_activations.SOURCE))
    old = cuda_dispatch.set_launcher(launcher)
    yield launcher
    cuda_dispatch.set_launcher(old)


def act_reference(name, z, alpha=0.01):
    """(f(z), f'(z)) from the textbook formulas in float64 (NaN in, NaN out)."""
    z = z.astype(np.float64)
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            a = np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
            d = a * (1 - a)
        elif name == "tanh":
            a = np.tanh(z)
            d = 1 - a * a
        elif name == "relu":
            a, d = np.where(z > 0, z, 0.0), np.where(z > 0, 1.0, 0.0)
        else:
            a, d = np.where(z > 0, z, alpha * z), np.where(z > 0, 1.0, alpha)
    nan = np.isnan(z)
    a[nan], d[nan] = np.nan, np.nan
    return a, d


ACTS = [("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {}),
        ("leaky_relu", {"negative_slope": 0.2})]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,opts", ACTS, ids=[f"{n}{o or ''}" for n, o in ACTS])
def test_activations_match_textbook(host_act, name, opts, dtype):
    rng = np.random.default_rng(21)
    z = np.concatenate([rng.normal(0, 3, 200), [0.0, -0.0, 1e4, -1e4, 88.0, -88.0, 1e-30,
                                                 np.nan, np.inf, -np.inf]]).astype(dtype)
    u = rng.normal(size=z.size).astype(dtype)
    want_a, want_d = act_reference(name, z, opts.get("negative_slope", 0.01))
    want_a = want_a.astype(dtype)
    a = cuda_dispatch.activation(name, z, **opts)
    assert a.dtype == dtype
    assert_close(a, want_a, dtype, f"{name} forward")
    finite = np.isfinite(z)
    g = cuda_dispatch.activation_grad(name, z, u, **opts)
    assert_close(g[finite], (u * want_d)[finite], dtype, f"{name} backward")
    assert np.isnan(g[np.isnan(z)]).all()
    g_out = cuda_dispatch.activation_grad(name, None, u, output=a, **opts)
    assert_close(g_out[finite], (u * want_d)[finite], dtype, f"{name} backward through a")
    assert host_act.launches[-1][0].startswith(f"{name}_backward_output")


def test_activations_match_numba(host_act):
    try:
        from runtime.activations import activation, activation_grad
        activation("relu", np.zeros(2))
    except (ImportError, AttributeError, KeyError) as err:
        pytest.skip(f"the Numba activation kernels are not available yet ({err!r})")
    rng = np.random.default_rng(22)
    for name, opts in ACTS:
        for dtype in DTYPES:
            z = np.concatenate([rng.normal(0, 3, 100), [0.0, 1e4, -1e4, np.nan]]).astype(dtype)
            u = rng.normal(size=z.size).astype(dtype)
            assert_close(cuda_dispatch.activation(name, z, **opts), activation(name, z, **opts),
                         dtype, f"{name} forward vs Numba")
            a = activation(name, z, **opts)
            for kw in ({}, {"output": a}):
                zz = None if kw else z
                assert_close(cuda_dispatch.activation_grad(name, zz, u, **kw, **opts),
                             activation_grad(name, zz, u, **kw, **opts), dtype,
                             f"{name} backward {list(kw)} vs Numba")


def test_activation_bad_inputs(host_act):
    z = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"upstream has shape \(3,\) but z has shape \(4,\)"):
        cuda_dispatch.activation_grad("relu", z, np.zeros(3))
    with pytest.raises(ValueError, match="z is needed"):
        cuda_dispatch.activation_grad("relu", None, z)
    with pytest.raises(TypeError, match="unexpected option"):
        cuda_dispatch.activation("relu", z, negative_slope=0.1)


def test_scalar_options_checked_as_on_the_host(host):
    # The device path takes the host path's checks: a beta whose 1/beta overflows the dtype
    # (NaN/inf from the kernel otherwise) and lp's p = inf (|x|^inf: no gradient).
    p = np.array([0.5, -1.0, 2.0], np.float32)
    t = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"beta=1e-39 is too small for float32"):
        cuda_dispatch.loss_and_grad("smooth_l1", p, t, beta=1e-39)
    with pytest.raises(ValueError, match=r"p=inf must be finite"):
        cuda_dispatch.loss_and_grad("lp", p, t, p=float("inf"))
    loss, grad = cuda_dispatch.loss_and_grad("smooth_l1", p, t, beta=1e-30)  # 1/beta fits
    np.testing.assert_allclose(grad, np.sign(p) / 3, rtol=1e-6)  # |x| ≫ beta: the L1 slope
    np.testing.assert_allclose(loss, np.mean(np.abs(p)) - 0.5e-30, rtol=1e-6)
