"""derive/info.py: entropy, KL and cross-entropy gradients against finite differences of NumPy
formulas and torch autograd; H(p,q) = H(p) + KL(p‖q) and the minimiser q = p by value."""
import numpy as np
import pytest
import sympy as sp

from derive import get, info

H = 1e-6
K = 4
rng = np.random.default_rng(3)


def grad_at(d, v, pv, qv):
    """The derivation's gradient written out at K = 4: one value per index i."""
    out = []
    for i in range(K):
        e = d.gradient(v).subs({info.K: K, info.i: i}).doit()
        vals = {info.P[x]: pv[x] for x in range(K)} | {info.Q[x]: qv[x] for x in range(K)}
        out.append(float(e.subs(vals)))
    return np.array(out)


def fd(f, v, i):
    e = np.zeros(K)
    e[i] = H
    return (f(v + e) - f(v - e)) / (2 * H)


entropy = lambda p: -np.sum(p * np.log(p))  # noqa: E731  textbook formulas
kl = lambda p, q: np.sum(p * np.log(p / q))  # noqa: E731
cross = lambda p, q: -np.sum(p * np.log(q))  # noqa: E731


def test_entropy_grad_vs_finite_differences():
    p, q = rng.uniform(0.05, 1, K), rng.uniform(0.05, 1, K)
    g = grad_at(get("entropy"), "p[i]", p, q)
    np.testing.assert_allclose(g, [fd(entropy, p, i) for i in range(K)], rtol=1e-6)


def test_kl_grads_vs_finite_differences():
    p, q = rng.uniform(0.05, 1, K), rng.uniform(0.05, 1, K)
    d = get("kl")
    np.testing.assert_allclose(grad_at(d, "q[i]", p, q), [fd(lambda v: kl(p, v), q, i) for i in range(K)], rtol=1e-6)
    np.testing.assert_allclose(grad_at(d, "p[i]", p, q), [fd(lambda v: kl(v, q), p, i) for i in range(K)], rtol=1e-6)


def test_cross_entropy_decomposition_and_shared_gradient():
    p = rng.dirichlet(5 * np.ones(K))
    q = rng.dirichlet(5 * np.ones(K))
    assert cross(p, q) == pytest.approx(entropy(p) + kl(p, q), rel=1e-12)
    d = get("cross_entropy_kl")
    g = grad_at(d, "q[i]", p, q)
    np.testing.assert_allclose(g, [fd(lambda v: cross(p, v), q, i) for i in range(K)], rtol=1e-6)
    np.testing.assert_allclose(g, [fd(lambda v: kl(p, v), q, i) for i in range(K)], rtol=1e-6)
    # The derivation's own expressions satisfy the identity at these numbers.
    vals = {info.P[x]: p[x] for x in range(K)} | {info.Q[x]: q[x] for x in range(K)}
    lhs = float(info.cross_entropy_expr().subs(info.K, K).doit().subs(vals))
    rhs = float((info.entropy_expr() + info.kl_expr()).subs(info.K, K).doit().subs(vals))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_minimising_cross_entropy_over_the_simplex_gives_q_equal_p():
    p = rng.dirichlet(5 * np.ones(K))
    best = min((rng.dirichlet(5 * np.ones(K)) for _ in range(4000)), key=lambda q: cross(p, q))
    assert cross(p, p) <= cross(p, best) and kl(p, p) == 0.0
    assert kl(p, best) == pytest.approx(cross(p, best) - entropy(p), rel=1e-9)


def test_vs_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (pip install torch==2.13.0)")
    p, q = rng.dirichlet(5 * np.ones(K)), rng.dirichlet(5 * np.ones(K))
    tq = torch.tensor(q, requires_grad=True)
    # F.kl_div(input=log q, target=p, 'sum') = Σ p (log p − log q) = KL(p‖q)
    torch.nn.functional.kl_div(tq.log(), torch.tensor(p), reduction="sum").backward()
    np.testing.assert_allclose(grad_at(get("kl"), "q[i]", p, q), tq.grad.numpy(), rtol=1e-12)
    tq2 = torch.tensor(q, requires_grad=True)
    (-(torch.tensor(p) * tq2.log()).sum()).backward()
    np.testing.assert_allclose(grad_at(get("cross_entropy_kl"), "q[i]", p, q), tq2.grad.numpy(), rtol=1e-12)


def test_log_base_scales_every_quantity():
    p, q = [0.0001, 0.0001, 0.9998], [0.3, 0.3, 0.4]
    vals = {info.P[x]: p[x] for x in range(3)} | {info.Q[x]: q[x] for x in range(3)}
    e = float(info.kl_expr().subs(info.K, 3).doit().subs(vals))
    b10 = float(info.kl_expr(base=10).subs(info.K, 3).doit().subs(vals))
    assert b10 == pytest.approx(e / np.log(10), rel=1e-12)


def test_steps_end_in_the_closed_forms():
    assert get("kl").gradient("q[i]") == -info.P[info.i] / info.Q[info.i]
    assert get("entropy").gradient() == -sp.log(info.P[info.i]) - 1
    rules = [s.rule for s in get("cross_entropy_kl").steps_for()]
    assert "the entropy H(p) plus the KL divergence KL(p‖q)" in rules
