"""Generated Numba loss kernels (through runtime.loss_and_grad) against independent oracles:
NumPy references written here from the textbook formulas, central finite differences
(float64), and PyTorch's loss functions + autograd for every option and reduction."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from runtime import loss_and_grad

ELEMENTWISE = ["mse", "mae", "smooth_l1", "huber", "bce", "bce_logits"]
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


# --------------------------------------------------------------------------- NumPy references
# Textbook formulas, written independently of derive/ (per element: loss, d loss / d pred).

def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))  # σ = exp(log σ): not the kernels' exp(-|z|) route


def ref_elementwise(name, pred, t, beta=1.0, delta=1.0, pos_weight=1.0, p=2.0):
    r = pred - t
    if name == "lp":  # |r|^p, d/dpred = p |r|^(p-1) sign(r)
        e = p
        p = pred
        return np.abs(r) ** e, e * np.abs(r) ** (e - 1) * np.sign(r)
    p = pred
    if name == "mse":
        return r**2, 2 * r
    if name == "mae":
        return np.abs(r), np.sign(r)
    if name == "smooth_l1":
        if beta == 0:
            return np.abs(r), np.sign(r)
        inside = np.abs(r) < beta
        return (np.where(inside, 0.5 * r**2 / beta, np.abs(r) - 0.5 * beta),
                np.where(inside, r / beta, np.sign(r)))
    if name == "huber":
        inside = np.abs(r) < delta
        return (np.where(inside, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)),
                np.where(inside, r, delta * np.sign(r)))
    if name == "bce":  # PyTorch clamps each log at -100 and the gradient's denominator at 1e-12
        with np.errstate(divide="ignore"):
            lp, l1p = np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)
        return -(t * lp + (1 - t) * l1p), (p - t) / np.maximum(p * (1 - p), 1e-12)
    if name == "bce_logits":
        # log σ(z) = -log(1 + e^(-z)), log(1 - σ(z)) = -z - log(1 + e^(-z)), via logaddexp.
        log_sig, log_1msig = -np.logaddexp(0, -p), -np.logaddexp(0, p)
        loss = -(pos_weight * t * log_sig + (1 - t) * log_1msig)
        # σ(z) − 1 = −σ(−z): the subtraction would round to 0 for z ≳ 37 where the gradient is not
        return loss, -pos_weight * t * _sigmoid(-p) + (1 - t) * _sigmoid(p)
    raise KeyError(name)


def reduce_ref(loss, grad, reduction):
    if reduction == "none":
        return loss, grad
    if reduction == "sum":
        return loss.sum(), grad
    return loss.mean(), grad / loss.size


def sample(name, shape, dtype, rng):
    p = rng.standard_normal(shape) * 2
    t = rng.standard_normal(shape) * 2
    if name == "bce":
        p, t = rng.uniform(0.001, 0.999, shape), rng.uniform(0, 1, shape)
    elif name == "bce_logits":
        t = rng.uniform(0, 1, shape)
    return p.astype(dtype), t.astype(dtype)


OPTIONS = {"smooth_l1": [{}, {"beta": 0.5}, {"beta": 0.0}], "huber": [{}, {"delta": 2.5}],
           "lp": [{"p": 2.0}, {"p": 1.0}, {"p": 3.5}],
           "bce": [{}, {"weight": "array"}, {"weight": "full"}],
           "bce_logits": [{}, {"pos_weight": 3.0}, {"pos_weight": "array"},
                          {"weight": "array", "pos_weight": 2.0}, {"weight": "full"}]}


def _opts(name, o, shape, dtype, rng):
    o = dict(o)
    if o.get("pos_weight") == "array":  # one weight per column, broadcast over the rows
        o["pos_weight"] = rng.uniform(0.5, 3, shape[-1]).astype(dtype)
    if o.get("weight") == "array":  # one per column, broadcast over the rows
        o["weight"] = rng.uniform(0, 2, shape[-1]).astype(dtype)
    elif o.get("weight") == "full":  # one per element
        o["weight"] = rng.uniform(0, 2, shape).astype(dtype)
    return o


def assert_close(ours, ref, dtype, what):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-300)
    np.testing.assert_allclose(ours, ref, rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=what)


# --------------------------------------------------------------------------- reference and FD

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ELEMENTWISE + ["lp"])
def test_elementwise_matches_numpy_reference(name, reduction, dtype):
    rng = np.random.default_rng(1)
    shape = (37, 29)  # not a multiple of the lane count: the tail is exercised
    p, t = sample(name, shape, dtype, rng)
    for o in OPTIONS.get(name, [{}]):
        opts = _opts(name, o, shape, dtype, rng)
        loss, grad = loss_and_grad(name, p, t, reduction=reduction, **opts)
        ref_opts = {k: (np.asarray(v, np.float64) if k == "pos_weight" else v) for k, v in opts.items()}
        w = np.asarray(ref_opts.pop("weight", 1.0), np.float64)  # PyTorch: w ⊙ ℓ, then reduce
        rl, rg = ref_elementwise(name, p.astype(np.float64), t.astype(np.float64), **ref_opts)
        rl, rg = reduce_ref(w * rl, w * rg, reduction)
        assert grad.shape == p.shape and grad.dtype == p.dtype
        if reduction == "none":
            assert loss.shape == p.shape and loss.dtype == p.dtype
        else:
            assert isinstance(loss, float)
        assert_close(loss, rl, dtype, f"{name} {reduction} {opts} loss")
        assert_close(grad, rg, dtype, f"{name} {reduction} {opts} grad")


def _away_from_kinks(name, p, t, h):
    r = p - t
    keep = np.ones(p.shape, bool)
    for k in (0.0, 1.0, -1.0, 0.5, -0.5):  # |r| = 0, beta or delta
        keep &= np.abs(r - k) > 10 * h
    return keep


@pytest.mark.parametrize("name", ELEMENTWISE + ["lp"])
def test_elementwise_gradient_matches_central_differences(name):
    rng = np.random.default_rng(2)
    p, t = sample(name, (300,), np.float64, rng)
    opts = {"smooth_l1": {"beta": 0.5}, "huber": {"delta": 1.0}, "bce_logits": {"pos_weight": 2.0},
            "lp": {"p": 2.7}}.get(name, {})
    h = 1e-6
    keep = _away_from_kinks(name, p, t, h)
    _, grad = loss_and_grad(name, p, t, reduction="sum", **opts)
    lp, _ = loss_and_grad(name, p + h, t, reduction="none", **opts)
    lm, _ = loss_and_grad(name, p - h, t, reduction="none", **opts)
    fd = (lp - lm) / (2 * h)
    np.testing.assert_allclose(grad[keep], fd[keep], rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- PyTorch

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for option semantics")
F = torch.nn.functional
TORCH = {"mse": F.mse_loss, "mae": F.l1_loss, "smooth_l1": F.smooth_l1_loss,
         "huber": F.huber_loss, "bce": F.binary_cross_entropy,
         "bce_logits": F.binary_cross_entropy_with_logits}


def torch_loss_and_grad(fn, p, t, reduction, **opts):
    pt = torch.from_numpy(np.array(p)).requires_grad_()
    o = {k: (torch.as_tensor(np.asarray(v, p.dtype)) if isinstance(v, np.ndarray) or k == "pos_weight"
             else v) for k, v in opts.items()}
    loss = fn(pt, torch.from_numpy(np.array(t)), reduction=reduction, **o)
    loss.sum().backward()
    return loss.detach().numpy(), pt.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_torch(name, reduction, dtype):
    rng = np.random.default_rng(3)
    shape = (64, 33)
    p, t = sample(name, shape, dtype, rng)
    for o in OPTIONS.get(name, [{}]):
        opts = _opts(name, o, shape, dtype, rng)
        loss, grad = loss_and_grad(name, p, t, reduction=reduction, **opts)
        tl, tg = torch_loss_and_grad(TORCH[name], p, t, reduction, **opts)
        assert_close(loss, tl, dtype, f"{name} {reduction} {opts} loss vs torch")
        assert_close(grad, tg, dtype, f"{name} {reduction} {opts} grad vs torch")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_probabilities_exactly_zero_and_one_are_clamped_as_torch(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0], dtype)
    for reduction in REDUCTIONS:
        loss, grad = loss_and_grad("bce", p, t, reduction=reduction)
        tl, tg = torch_loss_and_grad(TORCH["bce"], p, t, reduction)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        assert_close(loss, tl, dtype, f"bce clamp {reduction}")
        assert_close(grad, tg, dtype, f"bce clamp grad {reduction}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_logits_extreme_logits_are_finite_and_match_torch(dtype):
    z = np.array([-1e4, -100, -30, -1, 0, 1, 30, 100, 1e4], dtype)
    t = np.array([1, 1, 0, 0.5, 1, 0, 1, 0, 0], dtype)
    for pw in (1.0, 4.0):
        loss, grad = loss_and_grad("bce_logits", z, t, reduction="none", pos_weight=pw)
        tl, tg = torch_loss_and_grad(TORCH["bce_logits"], z, t, "none",
                                     pos_weight=np.full(z.shape, pw, dtype))
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        assert_close(loss, tl, dtype, "bce_logits extremes")
        assert_close(grad, tg, dtype, "bce_logits extremes grad")


# --------------------------------------------------------------------------- softmax_ce


def ref_softmax_ce(z, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """F.cross_entropy's documented formula, in float64, rows (N, C)."""
    z = z.astype(np.float64)
    N, C = z.shape
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    # log Σ_j e^(z_j − m) as log1p(rest), rest the sum without one row maximum: 1 + rest would
    # round rest away on a confident row (margin ≳ 37), leaving its loss 0
    rows, top = np.arange(N), z.argmax(axis=1)
    m = z[rows, top][:, None]
    e = np.exp(z - m)
    e_rest = e.copy()
    e_rest[rows, top] = 0.0
    rest = e_rest.sum(axis=1)
    logp = (z - m) - np.log1p(rest)[:, None]
    p = e / (1.0 + rest)[:, None]
    eps = label_smoothing
    if target.dtype.kind in "iu":
        valid = target != ignore_index
        c = np.where(valid, target, 0)
        onehot = np.eye(C)[c]
        q = (1 - eps) * onehot + eps / C
        qw = q * w * valid[:, None]
        denom = (w[c] * valid).sum()
    else:
        q = (1 - eps) * target.astype(np.float64) + eps / C
        qw = q * w
        denom = N
    loss = -(qw * logp).sum(axis=1)
    S = qw.sum(axis=1)
    grad = p * S[:, None] - qw
    # at the row maximum p − 1 = −rest/(1 + rest): p·S − q = (S − q) − S·rest/(1 + rest)
    grad[rows, top] = (S - qw[rows, top]) - S * rest / (1.0 + rest)
    if reduction == "none":
        return loss, grad
    if reduction == "sum":
        return loss.sum(), grad
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.sum() / denom, grad / denom


def ce_sample(N, C, dtype, target_kind, rng, scale=3.0):
    z = (rng.standard_normal((N, C)) * scale).astype(dtype)
    if target_kind == "index":
        t = rng.integers(0, C, N)
        t[::5] = 2  # a class that is also ignored in some cases
    else:
        t = rng.random((N, C)).astype(dtype)
        t /= t.sum(axis=1, keepdims=True)
    return z, t


CE_OPTIONS = [{}, {"label_smoothing": 0.15}, {"weight": "w"}, {"weight": "w", "label_smoothing": 0.3},
              {"ignore_index": 2}, {"weight": "w", "ignore_index": 2, "label_smoothing": 0.1},
              {"label_smoothing": 1.0}]


def _ce_opts(o, C, dtype, rng):
    return {k: (rng.uniform(0.2, 2.0, C).astype(dtype) if v == "w" else v) for k, v in o.items()}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["index", "prob"])
def test_softmax_ce_matches_reference_and_torch(target_kind, reduction, dtype):
    rng = np.random.default_rng(4)
    for N, C in [(23, 37), (9, 5), (4, 70)]:  # C below, between and above multiples of the lanes
        z, t = ce_sample(N, C, dtype, target_kind, rng)
        for o in CE_OPTIONS:
            if target_kind == "prob" and "ignore_index" in o:
                continue
            opts = _ce_opts(o, C, dtype, rng)
            loss, grad = loss_and_grad("softmax_ce", z, t, reduction=reduction, **opts)
            assert grad.shape == z.shape and grad.dtype == z.dtype
            rl, rg = ref_softmax_ce(z, t, reduction=reduction, **opts)
            what = f"{target_kind} {reduction} {N}x{C} {sorted(opts)}"
            assert_close(loss, rl, dtype, what + " loss vs numpy")
            assert_close(grad, rg, dtype, what + " grad vs numpy")
            tl, tg = torch_loss_and_grad(F.cross_entropy, z, t, reduction, **opts)
            assert_close(loss, tl, dtype, what + " loss vs torch")
            assert_close(grad, tg, dtype, what + " grad vs torch")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("in_place", [False, True], ids=["out", "in-place"])
def test_softmax_ce_across_row_blocks_with_ignored_rows(dtype, in_place):
    # Each row's max is taken in the exp pass of the row before it, within a block of rows
    # (blocks run in parallel): ignored rows anywhere, in runs, first and last in a block,
    # must still hand the right max on; also with the gradient written over the logits,
    # where the next row is read while this one is overwritten.
    rng = np.random.default_rng(12)
    N, C = 2000, 61  # several blocks of rows, on one thread and on more
    z = (rng.standard_normal((N, C)) * 4).astype(dtype)
    z[::7] += 1000  # rows whose max is far from their neighbours': a wrong shift overflows
    z[3::7] -= 1000  # or underflows exp(z - m)
    t = rng.integers(0, C, N)
    t[rng.random(N) < 0.3] = -100
    t[[0, 1, 14, 21, N - 2, N - 1]] = -100
    opts = dict(weight=rng.uniform(0.5, 2, C).astype(dtype), label_smoothing=0.1)
    for reduction in REDUCTIONS:
        rl, rg = ref_softmax_ce(z, t, reduction=reduction, **opts)
        work = z.copy()
        out = work if in_place else np.empty_like(z)
        loss, grad = loss_and_grad("softmax_ce", work, t, reduction=reduction, out=out, **opts)
        assert grad is out
        assert_close(loss, rl, dtype, f"{reduction} loss")
        assert_close(grad, rg, dtype, f"{reduction} grad")
    # The serial twin (nn's small-batch head) runs all rows as one block.
    from runtime.generated import kernels

    serial = kernels("numba_losses")[("softmax_ce", "index_serial", "mean", np.dtype(dtype).name)]
    grad = z.copy() if in_place else np.empty_like(z)
    loss = serial(z.copy() if not in_place else grad, t, opts["weight"], -100, 0.1, grad)
    rl, rg = ref_softmax_ce(z, t, reduction="mean", **opts)
    assert_close(loss, rl, dtype, "serial loss")
    assert_close(grad, rg, dtype, "serial grad")


def test_softmax_ce_gradient_matches_central_differences():
    rng = np.random.default_rng(5)
    z, t = ce_sample(6, 11, np.float64, "index", rng)
    w = rng.uniform(0.5, 2, 11)
    opts = dict(weight=w, label_smoothing=0.2, ignore_index=2)
    _, grad = loss_and_grad("ce", z, t, **opts)
    h = 1e-6
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        fd[idx] = (loss_and_grad("ce", zp, t, **opts)[0] - loss_and_grad("ce", zm, t, **opts)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_softmax_ce_extreme_logits_are_finite_and_match_torch(dtype):
    z = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -1e4 + 1], [3e3, 3e3, -3e3, 0.0]], dtype)
    t = np.array([1, 0, 2])
    for o in ({}, {"label_smoothing": 0.1}):
        loss, grad = loss_and_grad("ce", z, t, reduction="none", **o)
        tl, tg = torch_loss_and_grad(F.cross_entropy, z, t, "none", **o)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        assert_close(loss, tl, dtype, f"extreme {o}")
        assert_close(grad, tg, dtype, f"extreme grad {o}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax_ce_unbatched_and_spatial_inputs_match_torch(reduction):
    rng = np.random.default_rng(6)
    z1 = rng.standard_normal(7)
    for t1 in (np.array(3), rng.dirichlet(np.ones(7))):
        loss, grad = loss_and_grad("ce", z1, t1, reduction=reduction)
        tl, tg = torch_loss_and_grad(F.cross_entropy, z1, t1, reduction)
        assert grad.shape == (7,)
        assert_close(loss, tl, np.float64, "unbatched")
        assert_close(grad, tg, np.float64, "unbatched grad")
    z = rng.standard_normal((3, 5, 4, 2))  # (N, C, d1, d2)
    for t in (rng.integers(0, 5, (3, 4, 2)), np.moveaxis(rng.dirichlet(np.ones(5), (3, 4, 2)), -1, 1)):
        opts = {"weight": rng.uniform(0.5, 2, 5), "label_smoothing": 0.1}
        loss, grad = loss_and_grad("ce", z, t, reduction=reduction, **opts)
        tl, tg = torch_loss_and_grad(F.cross_entropy, z, t, reduction, **opts)
        if reduction == "none":
            assert loss.shape == (3, 4, 2)
        assert_close(loss, tl, np.float64, "spatial")
        assert_close(grad, tg, np.float64, "spatial grad")
        out = np.empty_like(z)
        _, g2 = loss_and_grad("ce", z, t, reduction=reduction, out=out, **opts)
        assert g2 is out and np.array_equal(out, grad)


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax_ce"])
def test_empty_batch_gives_torchs_result(name, reduction):
    if name == "softmax_ce":
        p, t = np.zeros((0, 4)), np.zeros(0, np.int64)
        fn = F.cross_entropy
    else:
        p, t = np.zeros(0), np.zeros(0)
        fn = TORCH[name]
    loss, grad = loss_and_grad(name, p, t, reduction=reduction)
    tl, tg = torch_loss_and_grad(fn, p, t, reduction)
    assert grad.shape == p.shape
    np.testing.assert_array_equal(np.asarray(loss), tl)  # nan for mean (both), 0 for sum


def test_softmax_ce_all_targets_ignored_is_nan_for_mean_like_torch():
    z = np.random.default_rng(7).standard_normal((4, 3))
    t = np.full(4, -100)
    loss, grad = loss_and_grad("ce", z, t)
    tl, tg = torch_loss_and_grad(F.cross_entropy, z, t, "mean")
    assert np.isnan(loss) and np.isnan(tl)
    np.testing.assert_array_equal(grad, tg)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax_ce"])
def test_nan_in_gives_nan_out(name, dtype):
    rng = np.random.default_rng(8)
    if name == "softmax_ce":
        p, t = ce_sample(5, 6, dtype, "index", rng)
        p[2, 3] = np.nan
        loss, grad = loss_and_grad(name, p, t, reduction="none")
        assert np.isnan(loss[2]) and np.all(np.isfinite(np.delete(loss, 2)))
        assert np.all(np.isnan(grad[2])) and np.all(np.isfinite(np.delete(grad, 2, axis=0)))
    else:
        p, t = sample(name, (40,), dtype, rng)
        p[17] = np.nan
        loss, grad = loss_and_grad(name, p, t, reduction="none")
        assert np.isnan(loss[17]) and np.isnan(grad[17])
        assert np.all(np.isfinite(np.delete(loss, 17))) and np.all(np.isfinite(np.delete(grad, 17)))
    assert np.isnan(loss_and_grad(name, p, t)[0])


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax_ce"])
def test_non_contiguous_inputs_give_the_contiguous_result(name):
    rng = np.random.default_rng(9)
    if name == "softmax_ce":
        big, t = ce_sample(20, 14, np.float64, "index", rng)
        z = big[::2, ::2]  # strided in both axes
        t = t[::2] % z.shape[1]
    else:
        pb, tb = sample(name, (20, 30), np.float64, rng)
        z, t = pb.T[::3], tb.T[::3]
    assert not z.flags.c_contiguous
    l1, g1 = loss_and_grad(name, z, t, reduction="none")
    l2, g2 = loss_and_grad(name, np.ascontiguousarray(z), np.ascontiguousarray(t), reduction="none")
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(g1, g2)
    assert g1.shape == z.shape


@pytest.mark.parametrize("name", ["mse", "bce_logits", "softmax_ce"])
def test_out_buffer_is_filled_and_returned(name):
    rng = np.random.default_rng(10)
    if name == "softmax_ce":
        p, t = ce_sample(8, 9, np.float32, "index", rng)
    else:
        p, t = sample(name, (50,), np.float32, rng)
    out = np.full_like(p, 123.0)
    loss, grad = loss_and_grad(name, p, t, out=out)
    assert grad is out
    ref_loss, ref_grad = loss_and_grad(name, p, t)
    assert loss == ref_loss and np.array_equal(out, ref_grad)
    # In place: the gradient overwrites the prediction (the kernels read before they write).
    q = p.copy()
    loss2, g2 = loss_and_grad(name, q, t, out=q)
    # Aliased arrays take LLVM's unvectorized fallback loop, which adds float32 sums (the
    # loss, softmax's row sum) in another order: results may differ in their last bits.
    f32_eps = float(np.finfo(np.float32).eps)
    assert g2 is q
    np.testing.assert_allclose(q, ref_grad, rtol=4 * f32_eps, atol=1e-30)
    assert loss2 == pytest.approx(ref_loss, rel=4 * f32_eps)


def test_dtype_policy():
    p = np.linspace(-1, 1, 10)
    loss16, g16 = loss_and_grad("mse", p.astype(np.float16), p.astype(np.float16) * 0)
    assert g16.dtype == np.float32  # float16 computed in float32
    _, gi = loss_and_grad("mse", p, np.arange(10))  # integer targets convert to pred's dtype
    np.testing.assert_allclose(gi, 2 * (p - np.arange(10)) / 10, rtol=1e-15)
    _, g32 = loss_and_grad("bce", np.full(4, 0.5, np.float32), np.array([0, 1, 1, 0]))
    assert g32.dtype == np.float32


# --------------------------------------------------------------------------- bad input


BAD = [
    (("mse", np.zeros(3), np.zeros(4)), {}, ValueError, r"target has shape \(4,\) but pred has shape \(3,\)"),
    (("mse", np.zeros(3, np.int64), np.zeros(3)), {}, TypeError, "pred has an integer dtype int64"),
    (("mse", np.zeros(3), np.zeros(3)), {"reduction": "avg"}, ValueError, "reduction='avg'"),
    (("msee", np.zeros(3), np.zeros(3)), {}, ValueError, "unknown loss 'msee'; did you mean mse"),
    (("mse", np.zeros(3), np.zeros(3)), {"beta": 1.0}, TypeError, "unexpected option.*beta"),
    (("smooth_l1", np.zeros(3), np.zeros(3)), {"beta": -0.5}, ValueError, "beta=-0.5 must be >= 0"),
    (("smooth_l1", np.zeros(3), np.zeros(3)), {"beta": float("nan")}, ValueError, "beta=nan is NaN"),
    (("huber", np.zeros(3), np.zeros(3)), {"delta": 0.0}, ValueError, "delta=0.0 must be > 0"),
    (("lp", np.zeros(3), np.zeros(3)), {"p": 0.5}, ValueError, "p=0.5 must be >= 1"),
    (("bce", np.array([0.5, 1.5]), np.zeros(2)), {}, ValueError, r"pred has 1.5 at position \(1,\)"),
    (("bce", np.zeros((2, 3)), np.zeros((2, 3))), {"weight": np.ones(2)}, ValueError,
     r"weight has shape \(2,\), not broadcastable to pred's shape \(2, 3\)"),
    (("bce", np.zeros(2), np.zeros(2)), {"weight": np.array(["a", "b"])}, TypeError,
     "weight has dtype <U1; expected a real numeric array"),
    (("bce_logits", np.zeros((2, 3)), np.zeros((2, 3))), {"pos_weight": np.ones(4)}, ValueError,
     r"pos_weight has shape \(4,\), not broadcastable to pred's shape \(2, 3\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 4, 1])), {}, ValueError,
     r"target has label 4 at position \(1,\), outside \[0, 4\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 1, -1])), {}, ValueError, r"label -1 at position \(2,\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 1, 7])), {"ignore_index": 7}, None, None),
    (("ce", np.zeros((3, 4)), np.array([0.0, 1.0, 2.0])), {}, TypeError, "must be an integer array"),
    (("ce", np.zeros((3, 4)), np.zeros((4, 3))), {}, ValueError, r"class labels need shape \(3,\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 1])), {}, ValueError, r"target has shape \(2,\) but pred has shape \(3, 4\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 1, 2])), {"label_smoothing": 1.5}, ValueError,
     "label_smoothing=1.5 must be <= 1"),
    (("ce", np.zeros((3, 4)), np.array([0, 1, 2])), {"weight": np.ones(3)}, ValueError,
     r"weight has shape \(3,\); expected \(4,\)"),
    (("ce", np.zeros((3, 4)), np.array([0, 1, 2])), {"ignore_index": 1.5}, TypeError,
     "ignore_index=1.5 must be an integer"),
    (("ce", np.zeros((3, 4)), np.full((3, 4), 0.25)), {"ignore_index": 1}, ValueError,
     "ignore_index=1 is not supported with probability targets"),
    (("ce", np.zeros((3, 0)), np.zeros(3, np.int64)), {}, ValueError, "no classes"),
    (("mse", np.zeros(3), np.zeros(3)), {"out": np.zeros(4)}, ValueError, r"out has shape \(4,\)"),
    (("mse", np.zeros(3), np.zeros(3)), {"out": np.zeros(3, np.float32)}, ValueError, "out has dtype float32"),
    (("mse", np.zeros(3), np.zeros(3)), {"out": np.zeros(6)[::2]}, ValueError, "C-contiguous"),
]


@pytest.mark.parametrize("args,kwargs,exc,match", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_raises_a_clear_message(args, kwargs, exc, match):
    if exc is None:  # the label equal to ignore_index is accepted
        loss_and_grad(*args, **kwargs)
        return
    with pytest.raises(exc, match=match):
        loss_and_grad(*args, **kwargs)


def test_out_overlapping_target_is_rejected():
    buf = np.zeros(6)
    with pytest.raises(ValueError, match="out overlaps target"):
        loss_and_grad("mse", np.ones(4), buf[:4], out=buf[2:])


# --------------------------------------------------------------------------- properties


finite = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(["mse", "mae", "smooth_l1", "huber", "bce_logits"]),
       reduction=st.sampled_from(REDUCTIONS))
def test_property_elementwise_any_shape_matches_reference(data, name, reduction):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40))
    p = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    t = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1) if name == "bce_logits" else finite))
    loss, grad = loss_and_grad(name, p, t, reduction=reduction)
    assert grad.shape == p.shape
    if p.size == 0 and reduction == "mean":
        assert np.isnan(loss)  # as torch: the mean of nothing
        return
    rl, rg = reduce_ref(*ref_elementwise(name, p, t), reduction)
    assert_close(loss, rl, np.float64, "property loss")
    assert_close(grad, rg, np.float64, "property grad")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS), eps=st.sampled_from([0.0, 0.05, 0.5]))
def test_property_softmax_ce_rows_match_reference(data, reduction, eps):
    N = data.draw(st.integers(1, 12))
    C = data.draw(st.integers(1, 40))
    z = data.draw(hnp.arrays(np.float64, (N, C), elements=st.floats(-300, 300, allow_nan=False)))
    t = data.draw(hnp.arrays(np.int64, (N,), elements=st.integers(0, C - 1)))
    loss, grad = loss_and_grad("ce", z, t, reduction=reduction, label_smoothing=eps)
    rl, rg = ref_softmax_ce(z, t, label_smoothing=eps, reduction=reduction)
    assert_close(loss, rl, np.float64, "property ce loss")
    assert_close(grad, rg, np.float64, "property ce grad")
    # Rows of the gradient sum to zero (softmax minus a distribution), scaled by the mean.
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12 * max(1.0, np.abs(grad).max()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_confident_rows_and_saturated_logits_match_reference(reduction):
    # Inputs the property tests above can draw, where a float64 reference written as
    # log(1 + rest) or σ(z) − 1 rounds the answer to 0 (a confident row's loss and its label's
    # gradient; bce_logits' gradient at y = 1, z ≳ 37) while the kernels keep the digits.
    for row, label in (([300.0, 0.0], 0), ([0.0, -300.0, 5.0], 2), ([40.0, 0.0, 0.0], 0)):
        z, t = np.array([row]), np.array([label])
        loss, grad = loss_and_grad("ce", z, t, reduction=reduction)
        rl, rg = ref_softmax_ce(z, t, reduction=reduction)
        assert np.all(np.asarray(rl) > 0) and rg[0, label] < 0
        assert_close(loss, rl, np.float64, "confident ce loss")
        assert_close(grad, rg, np.float64, "confident ce grad")
    z, t = np.array([40.0]), np.array([1.0])
    loss, grad = loss_and_grad("bce_logits", z, t, reduction=reduction)
    rl, rg = reduce_ref(*ref_elementwise("bce_logits", z, t), reduction)
    assert np.all(rg < 0)
    assert_close(grad, rg, np.float64, "bce_logits grad at y = 1")
