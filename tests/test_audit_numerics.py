"""Accuracy of the generated kernels where a formula cancels (bench/accuracy.py measures all).

The oracle is the textbook formula evaluated in 80-bit long double (np.longdouble: a 64-bit
significand, 2**11 finer than float64), written in the form that does not cancel (σ(−z) for
1 − σ(z), sech² for 1 − tanh²), never the project's code. Tolerances come from the
conditioning: the inputs are exact floats; a backward-stable evaluation of f(z) has a
relative error of at most cond(f, z)·u plus a few roundings, with cond(f, z) = |z f'(z)/f(z)|
(u = unit roundoff of the dtype). For σ'(z) = σ(z)σ(−z), cond = |z|·|1 − 2σ(z)| ≤ |z|; for
sech²(z), cond = 2|z|·|tanh z| ≤ 2|z|; for σ(−z) (bce_logits' gradient at y = 1), cond =
|z|σ(z) ≤ |z|. The tolerance below allows 8 roundings plus that (a stable evaluation meets it
with a margin: its exp's argument is exact, so it does better than cond·u); the defects these
tests were written for gave a relative error of 1 (0 for a nonzero result) or ~10^4–10^7 ULP.
"""
import numpy as np
import pytest

from runtime import activation, activation_grad, loss_and_grad

LD = np.longdouble
DTYPES = [np.float32, np.float64]

pytestmark = pytest.mark.skipif(np.finfo(LD).eps > 1e-18,
                                reason="needs an extended long double (x86 80-bit) as the oracle")


def _z(dtype):
    """Saturating inputs: |z| from 1 to where the derivative underflows (f32 ~100, f64 ~740),
    both signs, plus ordinary ones."""
    top = 85.0 if dtype == np.float32 else 700.0
    mag = np.concatenate([np.linspace(0.5, 20, 79), np.geomspace(20, top, 40)])
    return np.concatenate([mag, -mag]).astype(dtype)


def _assert_close(got, exact, z, dtype, cond):
    u = np.finfo(dtype).eps / 2
    tol = (8 + cond) * u
    got = np.asarray(got).astype(LD)
    # where the exact value is subnormal in dtype, measure absolutely against the smallest normal
    scale = np.maximum(np.abs(exact), LD(np.finfo(dtype).tiny))
    rel = np.abs(got - exact) / scale
    worst = int(np.argmax(rel / tol))
    assert bool(np.all(rel <= tol)), (
        f"{np.dtype(dtype).name}: z={z[worst]!r}: got {got[worst]!r}, exact {exact[worst]!r}, "
        f"relative error {float(rel[worst]):.3g} > {float(tol[worst]):.3g}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_grad_keeps_its_digits_where_sigma_saturates(dtype):
    # σ'(z) = σ(z)(1 − σ(z)): for z > 0, 1 − σ(z) cancels (float32 z > 17: σ = 1, σ' = 0)
    z = _z(dtype)
    Z = z.astype(LD)
    e = np.exp(-np.abs(Z))
    exact = e / (1 + e) ** 2
    got = activation_grad("sigmoid", z, np.ones_like(z))
    _assert_close(got, exact, z, dtype, np.abs(Z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_grad_keeps_its_digits_where_tanh_saturates(dtype):
    # 1 − tanh²(z) cancels for |z| ≳ 3 (float32 |z| > 9: tanh = ±1, grad 0)
    z = _z(dtype)
    Z = z.astype(LD)
    e = np.exp(-2 * np.abs(Z))
    exact = 4 * e / (1 + e) ** 2  # sech²
    got = activation_grad("tanh", z, np.ones_like(z))
    _assert_close(got, exact, z, dtype, 2 * np.abs(Z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_grad_through_the_output_is_exactly_rounded_in_a(dtype):
    # 1 − a² for a given a close to 1: a·a rounds (absolute error u), 1 − a² ~ 1e-10 keeps
    # few digits; (1 − a)(1 + a) is exact up to its last two roundings. The input a is
    # exact, so the tolerance is a few roundings (no conditioning term).
    z = _z(dtype)
    a = np.asarray(activation("tanh", z))
    a = a[np.abs(a) < 1]  # a = ±1 exactly gives 0 either way
    A = a.astype(LD)
    exact = (1 - A) * (1 + A)
    got = activation_grad("tanh", None, np.ones_like(a), output=a)
    _assert_close(got, exact, a, dtype, np.zeros_like(A))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [1.0, 3.0])
def test_bce_logits_grad_at_y_one_keeps_its_digits(dtype, pos_weight):
    # ∂/∂z = (1 − y)σ(z) − p_w y σ(−z); written σ(z)(p_w y + 1 − y) − p_w y it cancels for
    # y = 1, z > 0 (float32 z > 17: 0 instead of −p_w e^−z)
    z = _z(dtype)
    y = np.ones_like(z)
    Z, W = z.astype(LD), LD(dtype(pos_weight))
    e = np.exp(-np.abs(Z))
    sig_minus = np.where(Z >= 0, e / (1 + e), 1 / (1 + e))  # σ(−z)
    exact = -W * sig_minus
    _, got = loss_and_grad("bce_logits", z, y, reduction="none", pos_weight=pos_weight)
    _assert_close(got, exact, z, dtype, np.abs(Z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_logits_grad_at_y_zero_and_between_still_holds(dtype):
    # the rewritten form must keep y = 0 (σ(z)) and a fractional y (no zero crossing in range)
    z = _z(dtype)
    for yv, pw in [(0.0, 1.0), (0.25, 0.5)]:
        y = np.full_like(z, yv)
        Z, Y, W = z.astype(LD), LD(dtype(yv)), LD(dtype(pw))
        e = np.exp(-np.abs(Z))
        sig = np.where(Z >= 0, 1 / (1 + e), e / (1 + e))
        exact = (1 - Y) * sig - W * Y * (1 - sig)
        _, got = loss_and_grad("bce_logits", z, y, reduction="none", pos_weight=pw)
        # a difference of two terms: conditioned by their sum over the difference
        terms = (1 - Y) * sig + W * Y * (1 - sig)
        _assert_close(got, exact, z, dtype, (np.abs(Z) + 2) * terms / np.abs(exact))


def _confident_rows(dtype, n_classes=50):
    """Rows where the label's logit leads by 3..40 (p_c from 0.7 to 1 − 1e-16): late training."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((120, n_classes))
    labels = np.arange(120) % n_classes
    z[np.arange(120), labels] = np.linspace(3, 40, 120)
    return z.astype(dtype), labels


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_ce_confident_rows_keep_loss_and_true_class_gradient(dtype):
    # L = log(s) with s = 1 + rest: rest below u rounds away (loss 0, p_c − 1 = 0) and a small
    # rest keeps few digits. Exact: L = log1p(rest), ∂L/∂z_c = −rest/s, rest = Σ_{k≠c} e^{z_k − z_c}.
    z, labels = _confident_rows(dtype)
    n, C = z.shape
    Z = z.astype(LD)
    e = np.exp(Z - Z[np.arange(n), labels][:, None])
    e[np.arange(n), labels] = 0
    rest = e.sum(axis=1)
    exact_loss = np.log1p(rest)
    exact_gc = -rest / (1 + rest)
    loss, grad = loss_and_grad("softmax_ce", z, labels, reduction="none")
    # cond of log1p(rest) in the logits ≤ 2 max|z|; the sum of C − 1 terms adds ≤ (C − 1) u
    cond = 2 * np.abs(Z).max(axis=1) + C
    _assert_close(loss, exact_loss, labels, dtype, cond)
    _assert_close(np.asarray(grad)[np.arange(n), labels], exact_gc, labels, dtype, cond)
    # the other classes were never affected: p_k = e_k/s, relative
    p = np.exp(Z - Z[np.arange(n), labels][:, None]) / (1 + rest)[:, None]
    mask = np.ones_like(z, bool)
    mask[np.arange(n), labels] = False
    _assert_close(np.asarray(grad)[mask], p[mask], np.zeros(mask.sum()), dtype,
                  np.broadcast_to(cond[:, None], z.shape)[mask])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_ce_confident_rows_mean_and_weighted(dtype):
    # the same through the mean reduction and class weights: Σ_n w_c L_n / Σ_n w_c
    z, labels = _confident_rows(dtype)
    n, C = z.shape
    w = np.linspace(0.5, 2.0, C).astype(dtype)
    Z = z.astype(LD)
    e = np.exp(Z - Z[np.arange(n), labels][:, None])
    e[np.arange(n), labels] = 0
    rest = e.sum(axis=1)
    W = w.astype(LD)[labels]
    exact = np.sum(W * np.log1p(rest)) / np.sum(W)
    loss, grad = loss_and_grad("softmax_ce", z, labels, weight=w)
    cond = 2 * float(np.abs(Z).max()) + C + n  # plus the sum over rows
    _assert_close(np.array([loss]), np.array([exact]), np.array([0]), dtype, np.array([cond]))
    exact_gc = -W * rest / (1 + rest) / np.sum(W)
    _assert_close(np.asarray(grad)[np.arange(n), labels], exact_gc, labels, dtype,
                  np.full(n, cond))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_ce_one_hot_probability_targets_on_confident_rows(dtype):
    # Probability targets that are one-hot (or a label smoothed one) on confident rows: the loss
    # Σ_j q_j (lse − z_j) was evaluated as lse·Σq − Σ q_j z_j, where m cancels and takes
    # log1p(rest)'s digits with it (float32: 0 or ~ulp(m) instead of rest).
    z, labels = _confident_rows(dtype)
    n, C = z.shape
    q = np.zeros_like(z)
    q[np.arange(n), labels] = 1
    Z = z.astype(LD)
    e = np.exp(Z - Z[np.arange(n), labels][:, None])
    e[np.arange(n), labels] = 0
    rest = e.sum(axis=1)
    loss, _ = loss_and_grad("softmax_ce", z, q, reduction="none")
    index_loss, _ = loss_and_grad("softmax_ce", z, labels, reduction="none")
    cond = 2 * np.abs(Z).max(axis=1) + C
    _assert_close(loss, np.log1p(rest), labels, dtype, cond)
    _assert_close(index_loss, np.log1p(rest), labels, dtype, cond)


def _argmax_grad_exact(z, labels, a, rest_cond=None, sum_cond=None):
    """The argmax class's ∂L/∂z_c = p_c·Σ_k a_k − a_c (a_k = w_k q_k, c the row max) on a
    confident row, as (Σ_{k≠c} a_k − a_c·rest)/s in long double: p_c = 1/s with s = 1 + rest,
    rest and Σ_{k≠c} a_k summed apart from the 1 and from a_c. Returns it and its conditioning:
    rest's (2 max|z| + C, as above) scaled by the difference's (A + a_c rest)/|A − a_c rest|,
    plus C for the sum of the a_k. ``rest_cond``/``sum_cond`` replace those two for a backend
    that sums in another order (tests/test_audit_cuda_numerics.py)."""
    n, C = z.shape
    rows = np.arange(n)
    Z, A = z.astype(LD), np.array(a, dtype=LD)
    e = np.exp(Z - Z[rows, labels][:, None])
    e[rows, labels] = 0
    rest = e.sum(axis=1)
    ac = A[rows, labels].copy()
    A[rows, labels] = 0
    other = A.sum(axis=1)  # Σ_{k≠c} a_k, apart from a_c
    num = other - ac * rest
    exact = num / (1 + rest)
    if rest_cond is None:
        rest_cond = 2 * np.abs(Z).max(axis=1) + C
    if sum_cond is None:
        sum_cond = C
    cond = rest_cond * (other + ac * rest) / np.abs(num) + sum_cond
    return exact, cond


def _near_one_hot(z, labels, delta):
    """q with 1 − δ on the label and δ spread evenly over the other classes (δ = 0: one-hot)."""
    n, C = z.shape
    q = np.full(z.shape, delta / (C - 1))
    q[np.arange(n), labels] = 1 - delta
    return q.astype(z.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("delta", [0.0, 1e-5])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_ce_probability_target_argmax_gradient_on_confident_rows(dtype, delta, weighted):
    # p_c·Σ_k a_k − a_c at the row max of a confident row: s = 1 + rest rounds rest away, so
    # with a one-hot q it came out 1/s − 1 = 0 (float32 margin ≥ 17) where it is −rest/s; a
    # near-one-hot q kept a few of the digits of Σ_{k≠c} a_k − a_c·rest.
    z, labels = _confident_rows(dtype)
    n, C = z.shape
    q = _near_one_hot(z, labels, delta)
    w = np.linspace(0.5, 2.0, C).astype(dtype) if weighted else np.ones(C, dtype)
    exact, cond = _argmax_grad_exact(z, labels, q.astype(LD) * w.astype(LD))
    _, grad = loss_and_grad("softmax_ce", z, q, weight=w, reduction="none")
    _assert_close(np.asarray(grad)[np.arange(n), labels], exact, labels, dtype, cond)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["index", "prob"])
def test_softmax_ce_label_smoothing_argmax_gradient_on_confident_rows(dtype, target):
    # label smoothing ε: q_c = 1 − ε + ε/C, q_k = ε/C: the same cancellation, p_c·Σa − a_c
    # = ((ε/C) Σ_{k≠c} w_k − a_c·rest)/s, lost to s's rounding when ε is small.
    z, labels = _confident_rows(dtype)
    n, C = z.shape
    eps = 1e-4
    w = np.linspace(0.5, 2.0, C).astype(dtype)
    onehot = _near_one_hot(z, labels, 0.0)
    Q = (1 - LD(eps)) * onehot.astype(LD) + LD(eps) / C
    exact, cond = _argmax_grad_exact(z, labels, Q * w.astype(LD))
    _, grad = loss_and_grad("softmax_ce", z, labels if target == "index" else onehot, weight=w,
                            label_smoothing=eps, reduction="none")
    # ε and ε/C are rounded to the dtype in the kernel: a few more roundings
    _assert_close(np.asarray(grad)[np.arange(n), labels], exact, labels, dtype, cond + 4)


@pytest.mark.parametrize("delta", [0.0, 1e-5])
def test_argmax_gradient_oracle_is_the_textbook_formula(delta):
    # The oracle above evaluates (Σ_{k≠c} a_k − a_c·rest)/(1 + rest), the same identity the
    # kernels use. Here it is checked against the textbook p_c·Σ_k a_k − a_c itself, with
    # p_c = e^{z_c} / Σ_j e^{z_j}, in 60-digit arithmetic (mpmath, SymPy's own dependency), so
    # the chain kernel → oracle → textbook has an independent end.
    import mpmath

    z, labels = _confident_rows(np.float64)
    rows = np.arange(0, z.shape[0], 10)  # margins 3 … 40
    z, labels = z[rows], labels[rows]
    C = z.shape[1]
    w = np.linspace(0.5, 2.0, C)
    a = _near_one_hot(z, labels, delta).astype(np.float64) * w  # float64: exact in both
    exact, _ = _argmax_grad_exact(z, labels, a.astype(LD))
    with mpmath.workdps(60):
        for i, c in enumerate(labels):
            e = [mpmath.exp(mpmath.mpf(float(v))) for v in z[i]]
            textbook = e[c] / mpmath.fsum(e) * mpmath.fsum(mpmath.mpf(float(x)) for x in a[i]) \
                - mpmath.mpf(float(a[i, c]))
            assert abs(float((mpmath.mpf(float(exact[i])) - textbook) / textbook)) < 1e-15, (i, c)
