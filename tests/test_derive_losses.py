"""derive/losses.py: every closed form against central finite differences of the loss formula
(float64, relative error ≤ 1e-6) and against torch autograd for every option and reduction;
the stable kernel forms against the textbook forms; seed 000's MSE/MAE comparison by value."""
import math

import numpy as np
import pytest
import sympy as sp

from derive import get, losses
from derive.functions import to_elementary
from derive.symbols import beta, delta, pos_weight, y, yhat, z

RTOL = 1e-6
H = 1e-5


def fn(expr, *syms):
    """A NumPy function of ``syms`` from a derive expression (custom functions written out)."""
    return sp.lambdify(syms, to_elementary(expr), "numpy")


def central(f, x, *args):
    return (f(x + H, *args) - f(x - H, *args)) / (2 * H)


def assert_close(actual, expected, rtol=RTOL, atol=1e-9):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def away_from(x, kinks, gap=1e-3):
    """Points of ``x`` not within ``gap`` of a kink (finite differences are invalid there)."""
    keep = np.ones_like(x, dtype=bool)
    for k in kinks:
        keep &= np.abs(x - k) > gap
    return keep


rng = np.random.default_rng(12345)


# --------------------------------------------------------------------------- elementwise losses

ELEMENTWISE = [
    # name, option symbol, option value, kinks of the residual r = ŷ − y
    ("mse", None, None, lambda v: []),
    ("mae", None, None, lambda v: [0.0]),
    ("smooth_l1", beta, 1.0, lambda v: [0.0, -v, v]),
    ("smooth_l1", beta, 0.3, lambda v: [0.0, -v, v]),
    ("huber", delta, 1.0, lambda v: [-v, v]),
    ("huber", delta, 2.5, lambda v: [-v, v]),
]


def _elementwise(name, opt, value):
    d = get(name)
    subs = {opt: value} if opt is not None else {}
    loss = fn(d.expr.subs(subs), yhat, y)
    grad = fn(d.gradient("yhat").subs(subs), yhat, y)
    return d, loss, grad


@pytest.mark.parametrize("name,opt,value,kinks", ELEMENTWISE,
                         ids=[f"{e[0]}-{e[2]}" for e in ELEMENTWISE])
def test_elementwise_grad_vs_finite_differences(name, opt, value, kinks):
    _, loss, grad = _elementwise(name, opt, value)
    yh, yt = rng.uniform(-3, 3, 400), rng.uniform(-3, 3, 400)
    keep = away_from(yh - yt, kinks(value))
    yh, yt = yh[keep], yt[keep]
    assert_close(grad(yh, yt), central(loss, yh, yt))


@pytest.mark.parametrize("name,opt,value,kinks", ELEMENTWISE,
                         ids=[f"{e[0]}-{e[2]}" for e in ELEMENTWISE])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_elementwise_vs_torch(name, opt, value, kinks, reduction):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (pip install torch==2.13.0)")
    F = torch.nn.functional
    _, loss, grad = _elementwise(name, opt, value)
    yh = rng.uniform(-3, 3, 64)
    yt = rng.uniform(-3, 3, 64)
    yh[:3] = yt[:3]  # exactly at r = 0: PyTorch's conventions (sign(0) = 0) must agree
    kwargs = {"beta": value} if name == "smooth_l1" else {"delta": value} if name == "huber" else {}
    torch_fn = {"mse": F.mse_loss, "mae": F.l1_loss, "smooth_l1": F.smooth_l1_loss,
                "huber": F.huber_loss}[name]
    t = torch.tensor(yh, requires_grad=True)
    out = torch_fn(t, torch.tensor(yt), reduction=reduction, **kwargs)
    out.backward()
    scale = 1 / len(yh) if reduction == "mean" else 1.0
    assert_close(scale * np.sum(loss(yh, yt)), out.item(), rtol=1e-12)
    assert_close(scale * grad(yh, yt), t.grad.numpy(), rtol=1e-12)


def test_lp_grad_vs_finite_differences_and_torch():
    d = get("lp")
    local = np.random.default_rng(2024)  # its own points: the same whatever ran before (-k)
    yh, yt = local.uniform(-2, 2, 300), local.uniform(-2, 2, 300)
    # |r|^p's third derivative grows as |r|^(p-3) near r = 0: central differences need
    # room there (a point 1e-3 from the kink is off by ~1e-5 relative at p = 1.5).
    keep = away_from(yh - yt, [0.0], gap=0.05)
    yh, yt = yh[keep], yt[keep]
    for pv in (1.0, 1.5, 2.0, 3.0, 4.0):
        loss = fn(d.expr.subs(losses.p, pv), yhat, y)
        grad = fn(d.gradient().subs(losses.p, pv), yhat, y)
        assert_close(grad(yh, yt), central(loss, yh, yt))
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    for pv in (1.5, 3.0):
        t = torch.tensor(yh, requires_grad=True)
        (torch.tensor(yt) - t).abs().pow(pv).sum().backward()
        assert_close(fn(d.gradient().subs(losses.p, pv), yhat, y)(yh, yt), t.grad.numpy(), rtol=1e-12)


def test_lp_is_mse_and_mae_for_p_2_and_1():
    d = get("lp")
    r = sp.Symbol("r_", real=True)
    g2 = d.gradient().subs(losses.p, 2)
    g1 = d.gradient().subs(losses.p, 1)
    yh, yt = rng.uniform(-2, 2, 50), rng.uniform(-2, 2, 50)
    assert_close(fn(g2, yhat, y)(yh, yt), 2 * (yh - yt), rtol=1e-12)
    assert_close(fn(g1, yhat, y)(yh, yt), np.sign(yh - yt), rtol=1e-12)
    del r


def test_mse_vs_mae_claims_by_value():
    d = get("mse_vs_mae")
    sets = [s.expr for s in d.steps_for() if isinstance(s.expr, sp.Set)]
    loss_set, grad_set, slopes = sets
    assert slopes == sp.FiniteSet(-1, 1)  # |r| has one-sided slopes ∓1 at 0: no derivative
    r = np.concatenate([rng.uniform(-3, 3, 200), [-1.0, 1.0, -0.5, 0.5, 0.0]])
    for v in r:
        assert (v * v > abs(v)) == bool(loss_set.contains(sp.Float(v)))  # loss: |r| > 1
        assert (abs(2 * v) > abs(np.sign(v))) == bool(grad_set.contains(sp.Float(v)))  # |r| > 1/2
    assert loss_set == sp.Union(sp.Interval.open(-sp.oo, -1), sp.Interval.open(1, sp.oo))
    assert grad_set == sp.Union(sp.Interval.open(-sp.oo, -sp.Rational(1, 2)),
                                sp.Interval.open(sp.Rational(1, 2), sp.oo))
    # The gap's gradient 2r − sign r against finite differences of r² − |r|.
    yh, yt = rng.uniform(-3, 3, 300), rng.uniform(-3, 3, 300)
    keep = away_from(yh - yt, [0.0])
    assert_close(fn(d.gradient(), yhat, y)(yh[keep], yt[keep]),
                 central(lambda a, b: (a - b) ** 2 - np.abs(a - b), yh[keep], yt[keep]))


def test_mse_multi_vs_torch_and_finite_differences():
    d = get("mse_multi")
    n, m = 3, 4
    yh, yt = rng.standard_normal((n, m)), rng.standard_normal((n, m))
    g = d.gradient()
    subs = {losses.n_samples: n, losses.n_targets: m}
    formula = np.array([[float(g.subs(subs).subs({losses.k2: a, losses.l2: b})
                              .subs({losses.YHAT2[a, b]: yh[a, b], losses.Y2[a, b]: yt[a, b]}))
                         for b in range(m)] for a in range(n)])
    ref = lambda a: np.mean((yt - a) ** 2)  # noqa: E731  1/(mn) ΣΣ
    fd = np.zeros_like(yh)
    for a in range(n):
        for b in range(m):
            e = np.zeros_like(yh)
            e[a, b] = H
            fd[a, b] = (ref(yh + e) - ref(yh - e)) / (2 * H)
    assert_close(formula, fd)
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    t = torch.tensor(yh, requires_grad=True)
    torch.nn.functional.mse_loss(t, torch.tensor(yt)).backward()
    assert_close(formula, t.grad.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- bce, bce_logits


def test_bce_grads_vs_finite_differences():
    d = get("bce")
    loss = fn(d.expr, yhat, y)
    yh, yt = rng.uniform(0.02, 0.98, 300), rng.uniform(0, 1, 300)
    assert_close(fn(d.gradient("yhat"), yhat, y)(yh, yt), central(loss, yh, yt))
    zz = rng.uniform(-6, 6, 300)
    through = fn(d.expr.subs(yhat, losses.sigmoid(z)), z, y)
    assert_close(fn(d.gradient("z"), z, y)(zz, yt), central(through, zz, yt))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_vs_torch(reduction):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    F = torch.nn.functional
    d = get("bce")
    yh, yt = rng.uniform(0.02, 0.98, 50), rng.uniform(0, 1, 50)
    scale = 1 / 50 if reduction == "mean" else 1.0
    t = torch.tensor(yh, requires_grad=True)
    F.binary_cross_entropy(t, torch.tensor(yt), reduction=reduction).backward()
    assert_close(scale * fn(d.gradient("yhat"), yhat, y)(yh, yt), t.grad.numpy(), rtol=1e-10)
    zz = rng.uniform(-6, 6, 50)
    tz = torch.tensor(zz, requires_grad=True)
    F.binary_cross_entropy(torch.sigmoid(tz), torch.tensor(yt), reduction=reduction).backward()
    assert_close(scale * fn(d.gradient("z"), z, y)(zz, yt), tz.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("pw", [1.0, 0.3, 4.0])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_logits_vs_finite_differences_and_torch(pw, reduction):
    d = get("bce_logits")
    loss = fn(d.expr.subs(pos_weight, pw), z, y)
    grad = fn(d.gradient().subs(pos_weight, pw), z, y)
    zz, yt = rng.uniform(-8, 8, 200), rng.uniform(0, 1, 200)
    assert_close(grad(zz, yt), central(loss, zz, yt))
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    t = torch.tensor(zz, requires_grad=True)
    out = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.tensor(yt), pos_weight=torch.tensor([pw], dtype=torch.float64), reduction=reduction)
    out.backward()
    scale = 1 / 200 if reduction == "mean" else 1.0
    assert_close(scale * loss(zz, yt).sum(), out.item(), rtol=1e-12)
    assert_close(scale * grad(zz, yt), t.grad.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- softmax_ce

C = 5


def stable_ce(z_rows, target_probs, weight=None):
    """Loss rows and ∂L/∂z from the ``stable`` kernel forms (what codegen prints), in NumPy."""
    st = get("softmax_ce").stable
    S = losses
    prob = fn(st["prob"], S.zj, S.m, S.s)
    nll = fn(st["nll_term"], S.zj, S.m, S.s)
    m = z_rows.max(axis=1, keepdims=True)
    s = np.exp(z_rows - m).sum(axis=1, keepdims=True)
    p, ell = prob(z_rows, m, s), nll(z_rows, m, s)
    if weight is None:
        return (target_probs * ell).sum(axis=1), fn(st["grad"], S.zj, S.m, S.s, S.qj)(z_rows, m, s, target_probs)
    wq = (weight * target_probs).sum(axis=1, keepdims=True)
    wgrad = fn(st["weighted_grad"], S.zj, S.m, S.s, S.wj, S.qj, S.wq)
    return (weight * target_probs * ell).sum(axis=1), wgrad(z_rows, m, s, weight, target_probs, wq)


def smoothed(labels, eps):
    onehot = np.eye(C)[labels]
    f = fn(get("softmax_ce").stable["smoothed_target"], losses.onehot_j, losses.eps, losses.C)
    return f(onehot, eps, C)


def test_softmax_ce_index_gradient_at_concrete_sizes():
    """The derivation's own result softmax(z)_i − y_i, written out for C = 5, vs differences."""
    d = get("softmax_ce")
    zs = [losses.Z[q] for q in range(C)]
    for c in range(C):
        zrow = rng.standard_normal(C) * 3
        loss = sp.lambdify([zs], d.expr.subs({losses.C: C, losses.c: c}).doit())
        g = [float(d.gradient().subs({losses.C: C, losses.i: i}).doit()
                   .subs(losses.Y[i], float(i == c)).subs(dict(zip(zs, zrow)))) for i in range(C)]
        fd = [(loss(zrow + H * np.eye(C)[i]) - loss(zrow - H * np.eye(C)[i])) / (2 * H) for i in range(C)]
        assert_close(g, fd)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.4])
def test_softmax_ce_stable_forms_vs_finite_differences(eps):
    zr = rng.standard_normal((20, C)) * 4
    labels = rng.integers(0, C, 20)
    q = smoothed(labels, eps)
    _, grad = stable_ce(zr, q)
    for a in range(C):
        e = np.zeros(C)
        e[a] = H
        fd = (stable_ce(zr + e, q)[0] - stable_ce(zr - e, q)[0]) / (2 * H)
        assert_close(grad[:, a], fd)


def test_softmax_ce_stable_forms_do_not_overflow():
    zr = np.array([[1000.0, 0.0, -1000.0, 999.0, 3.0]])
    q = np.eye(C)[[0]]
    loss, grad = stable_ce(zr, q)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    assert_close(loss, [math.log1p(math.exp(-1.0))], rtol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_ce_class_index_vs_torch(eps, weighted, reduction):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    N = 16
    zr = rng.standard_normal((N, C)) * 3
    labels = rng.integers(0, C, N)
    w = rng.uniform(0.2, 2.0, C) if weighted else None
    rows, grad = stable_ce(zr, smoothed(labels, eps), None if w is None else np.tile(w, (N, 1)))
    if reduction == "sum":
        denom = 1.0
    else:  # PyTorch's 'mean' with class weights divides by Σ_n w_(c_n), else by N
        denom = w[labels].sum() if weighted else N
    t = torch.tensor(zr, requires_grad=True)
    out = torch.nn.functional.cross_entropy(
        t, torch.tensor(labels), weight=None if w is None else torch.tensor(w),
        label_smoothing=eps, reduction=reduction)
    out.backward()
    assert_close(rows.sum() / denom, out.item(), rtol=1e-12)
    assert_close(grad / denom, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_ce_probability_target_vs_torch(eps, weighted, reduction):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle")
    N = 12
    zr = rng.standard_normal((N, C)) * 2
    q = rng.dirichlet(np.ones(C), N)
    w = rng.uniform(0.2, 2.0, C) if weighted else None
    qs = (1 - eps) * q + eps / C  # PyTorch smooths probability targets the same way
    rows, grad = stable_ce(zr, qs, None if w is None else np.tile(w, (N, 1)))
    denom = N if reduction == "mean" else 1.0  # probability targets: 'mean' divides by N
    t = torch.tensor(zr, requires_grad=True)
    out = torch.nn.functional.cross_entropy(
        t, torch.tensor(q), weight=None if w is None else torch.tensor(w),
        label_smoothing=eps, reduction=reduction)
    out.backward()
    assert_close(rows.sum() / denom, out.item(), rtol=1e-12)
    assert_close(grad / denom, t.grad.numpy(), rtol=1e-12)


def test_softmax_ce_stable_keys_and_symbols():
    st = get("softmax_ce").stable
    S = losses
    assert {"shifted_exp", "lse", "nll_term", "prob", "grad", "smoothed_target"} <= set(st)
    assert st["shifted_exp"] == sp.exp(S.zj - S.m)
    assert st["lse"] == S.m + sp.log(S.s)
    assert sp.simplify(st["nll_term"] - (st["lse"] - S.zj)) == 0
    assert sp.simplify(st["grad"] - (st["prob"] - S.qj)) == 0
    assert st["smoothed_target"].free_symbols == {S.onehot_j, S.eps, S.C}


def test_softmax_ce_gradient_reads_as_softmax_minus_target():
    d = get("ce")
    assert d.gradient() == losses.softmax(losses.Z, losses.i, losses.C) - losses.Y[losses.i]
