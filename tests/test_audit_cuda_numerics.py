"""Accuracy of the CUDA softmax_ce kernels on confident rows, run on the host.

The kernels are the committed CuPy module's CUDA source compiled for the CPU (tests/cuda_host.py)
and launched through runtime.cuda_dispatch with tests/fake_device.py's arrays, so each launch
variant is the one a device would run: the warp kernel (C <= cuda_dispatch.WARP_MAX_C), the
block kernel with its row cached in shared memory, and without (a row larger than the shared
memory a block gets without opting in).

Oracle: the textbook softmax cross-entropy, Σ_j w_j q_j (lse − z_j) and its gradient
softmax(z)_j·Σ_k w_k q_k − w_j q_j, in 80-bit long double, with lse = m + log1p(rest),
rest = Σ_{k≠argmax} e^(z_k − m) (the sum of C − 1 positive terms kept apart from the 1, as a
careful hand would), and for the argmax class of a one-hot target 1/s − 1 = −rest/s. On a
confident row (the label's logit leads by 3..40) the float kernels computed s = 1 + rest,
which rounds rest away, and m + log(s) − z_c, which rounds log(s) to ulp(m): loss 0 and
gradient 0 for the true class (relative error 1), where the oracle gives rest.

Tolerances (as tests/test_audit_numerics.py): (8 + cond)·u with cond = 2·max|z| (log1p(rest)'s
condition number in the logits) plus the number of additions in the kernel's sums (C/32 per
lane plus the reduction tree); the reductions over rows add N.
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
from test_audit_numerics import _argmax_grad_exact  # noqa: E402  (the oracle's one home)

LD = np.longdouble
DTYPES = [np.float32, np.float64]

pytestmark = pytest.mark.skipif(np.finfo(LD).eps > 1e-18,
                                reason="needs an extended long double (x86 80-bit) as the oracle")

#: (launch variant, C, rows) for each dtype: the warp kernel, the block kernel with the row in
#: shared memory, and without (C·itemsize above the 48 KiB a block gets without opting in).
VARIANTS = {
    np.float32: [("warp", 50, 120), ("block", 2000, 24), ("block-nocache", 13000, 12)],
    np.float64: [("warp", 50, 120), ("block", 2000, 24), ("block-nocache", 6500, 12)],
}
CASES = [(dt, *v) for dt in DTYPES for v in VARIANTS[dt]]
IDS = [f"{np.dtype(dt).name}-{v}" for dt, v, _, _ in CASES]


@pytest.fixture(scope="module")
def launcher():
    """The device launcher for conftest's ``host`` fixture; no opted-in shared memory (the
    default), so the block-nocache variant runs as on a device that gives a block 48 KiB."""
    return fd.DeviceLauncher(cuda_host.loss_library(cupy_losses.SOURCE))


def _rows(dtype, C, n):
    """Rows where the label's logit leads the others by 3..40 (late training)."""
    rng = np.random.default_rng(C + n)
    z = rng.standard_normal((n, C))
    labels = (np.arange(n) * 7919) % C
    z[np.arange(n), labels] = np.linspace(3, 40, n)
    return z.astype(dtype), labels


def _oracle(z, q, w):
    """Per-row loss Σ_j w_j q_j (lse − z_j) and gradient p_j·Σ_k w_k q_k − w_j q_j (long double)."""
    Z = z.astype(LD)
    n = len(Z)
    am = np.argmax(Z, axis=1)
    m = Z[np.arange(n), am]
    e = np.exp(Z - m[:, None])
    e[np.arange(n), am] = 0
    rest = e.sum(axis=1)
    s = 1 + rest
    lse = m + np.log1p(rest)
    e[np.arange(n), am] = 1
    p = e / s[:, None]
    Q, W = q.astype(LD), w.astype(LD)[None, :]
    wq = (W * Q).sum(axis=1)
    loss = (W * Q * ((m[:, None] - Z) + np.log1p(rest)[:, None])).sum(axis=1)
    grad = p * wq[:, None] - W * Q
    # p_c·wq − w_c q_c for a one-hot q at the argmax: w_c (1/s − 1) = −w_c rest/s, exactly
    onehot = (Q.max(axis=1) == 1) & (Q.sum(axis=1) == 1) & (np.argmax(Q, axis=1) == am)
    r = np.nonzero(onehot)[0]
    grad[r, am[r]] = -W[0, am[r]] * rest[r] / s[r]
    return loss, grad, lse


def _assert_close(got, exact, dtype, cond, what):
    u = np.finfo(dtype).eps / 2
    tol = (8 + np.asarray(cond, dtype=LD)) * u
    got = np.asarray(got).astype(LD)
    scale = np.maximum(np.abs(exact), LD(np.finfo(dtype).tiny))
    rel = np.abs(got - exact) / scale
    worst = np.unravel_index(int(np.argmax(rel / tol)), rel.shape)
    assert bool(np.all(rel <= tol)), (
        f"{np.dtype(dtype).name} {what} at {worst}: got {got[worst]!r}, exact {exact[worst]!r}, "
        f"relative error {float(rel[worst]):.3g} > {float(tol[worst]):.3g}")


def _kind(variant):
    return variant.split("-")[0]


def _check_launch(host, variant, dtype):
    name, _, _, smem = [x for x in host.launches if x[0].startswith("softmax_ce_")][-1]
    tn = "f32" if dtype == np.float32 else "f64"
    assert name == f"softmax_ce_{_kind(variant)}_{tn}", host.launches
    assert (smem == 0) == (variant == "block-nocache"), host.launches


def _cond(z, C):
    return 2 * np.abs(z.astype(LD)).max(axis=1) + C // 32 + 16


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_confident_rows_none(host, dtype, variant, C, n):
    # class labels, reduction 'none': each row's loss log1p(rest) and the true class's −rest/s
    z, labels = _rows(dtype, C, n)
    q = np.zeros((n, C))
    q[np.arange(n), labels] = 1
    exact_loss, exact_grad, _ = _oracle(z, q, np.ones(C))
    loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(labels), reduction="none")
    _check_launch(host, variant, dtype)
    cond = _cond(z, C)
    _assert_close(fd.get(loss), exact_loss, dtype, cond, "loss")
    _assert_close(fd.get(grad), exact_grad, dtype, np.broadcast_to(cond[:, None], z.shape), "grad")


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_confident_rows_mean_and_weighted(host, dtype, variant, C, n):
    # the mean over rows, unweighted and with class weights: Σ_n w_c L_n / Σ_n w_c
    z, labels = _rows(dtype, C, n)
    q = np.zeros((n, C))
    q[np.arange(n), labels] = 1
    for w in (None, np.linspace(0.5, 2.0, C).astype(dtype)):
        wv = np.ones(C) if w is None else w
        exact_loss, exact_grad, _ = _oracle(z, q, wv)
        D = wv.astype(LD)[labels].sum()
        kw = {} if w is None else {"weight": fd.put(w)}
        loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(labels), **kw)
        _check_launch(host, variant, dtype)
        cond = _cond(z, C).max() + n
        _assert_close(np.array([float(fd.get(loss))]), np.array([exact_loss.sum() / D]), dtype,
                      np.array([cond]), f"mean loss (weight={w is not None})")
        _assert_close(fd.get(grad), exact_grad / D, dtype, np.full(z.shape, cond),
                      f"mean grad (weight={w is not None})")


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_confident_rows_label_smoothing(host, dtype, variant, C, n):
    # q = (1 − ε) onehot + ε/C, weighted: every term w_j q_j ((m − z_j) + log s) is positive,
    # the loss is conditioned as above. The gradient p_j·wq − w_j q_j is a difference (no
    # rewrite for it here): its conditioning is (p_j wq + w_j q_j)/|g_j| times that.
    z, labels = _rows(dtype, C, n)
    eps = 0.1
    w = np.linspace(0.5, 2.0, C).astype(dtype)
    q = np.full((n, C), eps / C)
    q[np.arange(n), labels] += 1 - eps
    exact_loss, exact_grad, lse = _oracle(z, q, w)
    loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(labels), reduction="none",
                                       weight=fd.put(w), label_smoothing=eps)
    _check_launch(host, variant, dtype)
    cond = _cond(z, C)
    _assert_close(fd.get(loss), exact_loss, dtype, cond, "loss")
    Z, Q, W = z.astype(LD), q.astype(LD), w.astype(LD)
    p = np.exp(Z - lse[:, None])
    terms = p * (W * Q).sum(axis=1)[:, None] + W * Q
    _assert_close(fd.get(grad), exact_grad, dtype,
                  cond[:, None] * terms / np.abs(exact_grad), "grad")


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_confident_rows_probability_targets(host, dtype, variant, C, n):
    # probability targets: one-hot (the loss is log1p(rest), as the label call) and a spread one
    # (q ∝ e^(−(z_c − z_j)) on the classes, half of the mass on the label); the loss Σ_j q_j
    # ((m − z_j) + log s) is a sum of positive terms. Gradients of the non-argmax classes
    # (p_j − q_j with p_j ≪ q_j or q_j = 0) checked with the difference's conditioning.
    z, labels = _rows(dtype, C, n)
    onehot = np.zeros((n, C))
    onehot[np.arange(n), labels] = 1
    rng = np.random.default_rng(3)
    spread = rng.random((n, C))
    spread *= 0.5 / spread.sum(axis=1, keepdims=True)
    spread[np.arange(n), labels] += 0.5
    for q in (onehot.astype(dtype), spread.astype(dtype)):
        exact_loss, exact_grad, lse = _oracle(z, q, np.ones(C))
        loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(q), reduction="none")
        _check_launch(host, variant, dtype)
        cond = _cond(z, C)
        _assert_close(fd.get(loss), exact_loss, dtype, cond, "loss")
        Z, Q = z.astype(LD), q.astype(LD)
        p = np.exp(Z - lse[:, None])
        terms = p * Q.sum(axis=1)[:, None] + Q
        mask = np.ones(z.shape, bool)
        mask[np.arange(n), labels] = False
        c = (cond[:, None] * terms / np.maximum(np.abs(exact_grad), LD(1e-300)))
        _assert_close(fd.get(grad)[mask], exact_grad[mask], dtype, c[mask], "grad (non-argmax)")


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_infinite_label_logit_stays_nan_as_torch(host, dtype, variant, C, n):
    # a +inf logit at the label: s = 1 (a "confident" row), but inf − inf is NaN, so PyTorch
    # gives NaN loss and gradient for the row; the argmax rewrite −rest/s must not turn the
    # label's NaN into −0 (it applies where e^(z_c − m) = 1, not where z_c == m)
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the inf/NaN rows")
    z, labels = _rows(dtype, C, 4)
    z[0, labels[0]] = np.inf
    loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(labels), reduction="none")
    _check_launch(host, variant, dtype)
    t = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor(labels), reduction="none")
    ref.sum().backward()
    np.testing.assert_array_equal(np.isnan(fd.get(loss)), np.isnan(ref.detach().numpy()))
    np.testing.assert_array_equal(np.isnan(fd.get(grad)), np.isnan(t.grad.numpy()))


def _argmax_grad(z, labels, a):
    """The argmax class's p_c·Σ_k a_k − a_c on a confident row, exact in long double
    (tests/test_audit_numerics.py's oracle), with this backend's conditioning: _cond's for
    rest, plus the kernel's warp/block additions for Σ_{k≠c} a_k."""
    C = z.shape[1]
    return _argmax_grad_exact(z, labels, a, rest_cond=_cond(z, C), sum_cond=C // 32 + 16)


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_probability_target_argmax_gradient(host, dtype, variant, C, n):
    # one-hot and near-one-hot (1 − δ on the label, δ spread) probability targets, unweighted
    # and weighted: the argmax's p_c·Σa − a_c = 1/s·Σa − a_c came out 0 (one-hot, float32
    # margin ≥ 17) or with few digits, s = 1 + rest having rounded rest away.
    z, labels = _rows(dtype, C, n)
    rows = np.arange(n)
    for delta in (0.0, 1e-5):
        q = np.full((n, C), delta / (C - 1))
        q[rows, labels] = 1 - delta
        q = q.astype(dtype)
        for w in (None, np.linspace(0.5, 2.0, C).astype(dtype)):
            wv = np.ones(C, dtype) if w is None else w
            exact, cond = _argmax_grad(z, labels, q.astype(LD) * wv.astype(LD)[None, :])
            kw = {} if w is None else {"weight": fd.put(w)}
            _, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(q), reduction="none",
                                            **kw)
            _check_launch(host, variant, dtype)
            _assert_close(fd.get(grad)[rows, labels], exact, dtype, cond,
                          f"argmax grad (δ={delta}, weight={w is not None})")


@pytest.mark.parametrize("dtype,variant,C,n", CASES, ids=IDS)
def test_cuda_softmax_ce_label_smoothing_argmax_gradient(host, dtype, variant, C, n):
    # label smoothing ε (class labels and one-hot probabilities): the argmax's p_c·Σa − a_c
    # = ((ε/C)·Σ_{k≠c} w_k − a_c·rest)/s, lost to s's rounding when ε is small.
    z, labels = _rows(dtype, C, n)
    rows = np.arange(n)
    eps = 1e-4
    w = np.linspace(0.5, 2.0, C).astype(dtype)
    onehot = np.zeros((n, C), dtype)
    onehot[rows, labels] = 1
    Q = (1 - LD(eps)) * onehot.astype(LD) + LD(eps) / C
    exact, cond = _argmax_grad(z, labels, Q * w.astype(LD)[None, :])
    for target in (labels, onehot):
        _, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(target), reduction="none",
                                        weight=fd.put(w), label_smoothing=eps)
        _check_launch(host, variant, dtype)
        # ε and ε/C are rounded to the dtype in the kernel: a few more roundings
        _assert_close(fd.get(grad)[rows, labels], exact, dtype, cond + 4,
                      f"argmax grad ({'index' if target is labels else 'prob'} target)")
