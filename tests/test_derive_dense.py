"""derive/dense.py: the backprop rules entry by entry against sympy.diff of a fully expanded
3-4-2 network (MSE/σ, BCE/σ, CE/softmax; one sample and a batch), and numerically against
torch autograd of the same network; the derivation's steps and results."""
import numpy as np
import pytest
import sympy as sp

from derive import dense, get
from derive.core import StepCheckError


@pytest.mark.parametrize("loss", ["mse", "bce", "ce"])
def test_rules_match_sympy_diff_of_expanded_3_4_2_network(loss):
    summary = dense.check_network((3, 4, 2), batch=1, loss=loss, points=2)
    assert summary.startswith("26 entries of a 3-4-2 network")  # 12 + 4 + 8 + 2


def test_batch_mean_matches_sympy_diff():
    summary = dense.check_network((3, 4, 2), batch=2, loss="mse", points=1)
    assert "batch 2" in summary


def test_check_network_catches_a_wrong_rule(monkeypatch):
    right = dense.backprop_formulas

    def wrong(net):
        g = right(net)
        g["W1"] = g["W1"] * 2  # e.g. a forgotten ½ in the loss
        return g

    monkeypatch.setattr(dense, "backprop_formulas", wrong)
    with pytest.raises(StepCheckError, match="W1_"):
        dense.check_network((2, 2, 1), loss="mse", points=1)


def _numpy_backprop(W1, b1, W2, b2, X, Y, loss):
    """The derived rules in NumPy (δ² by loss, δ¹ = W²ᵀδ² ⊙ (1 − a¹²), mean over the batch)."""
    z1 = X @ W1.T + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2.T + b2
    if loss == "ce":
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        d2 = e / e.sum(axis=1, keepdims=True) - Y
    else:
        a2 = 1 / (1 + np.exp(-z2))
        d2 = (a2 - Y) * a2 * (1 - a2) if loss == "mse" else a2 - Y
    d1 = (d2 @ W2) * (1 - a1**2)
    B = len(X)
    return d1.T @ X / B, d1.mean(axis=0), d2.T @ a1 / B, d2.mean(axis=0)


@pytest.mark.parametrize("loss", ["mse", "bce", "ce"])
def test_rules_vs_torch_autograd(loss):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (pip install torch==2.13.0)")
    rng = np.random.default_rng(11)
    B = 8
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((2, 4)), rng.standard_normal(2)
    X = rng.standard_normal((B, 3))
    Y = rng.dirichlet(np.ones(2), B) if loss == "ce" else rng.uniform(0, 1, (B, 2))
    params = [torch.tensor(v, requires_grad=True) for v in (W1, b1, W2, b2)]
    tW1, tb1, tW2, tb2 = params
    a1 = torch.tanh(torch.tensor(X) @ tW1.T + tb1)
    z2 = a1 @ tW2.T + tb2
    ty = torch.tensor(Y)
    if loss == "mse":
        per = 0.5 * ((torch.sigmoid(z2) - ty) ** 2).sum(dim=1)
    elif loss == "bce":
        per = torch.nn.functional.binary_cross_entropy_with_logits(z2, ty, reduction="none").sum(dim=1)
    else:
        per = torch.nn.functional.cross_entropy(z2, ty, reduction="none")
    per.mean().backward()
    ours = _numpy_backprop(W1, b1, W2, b2, X, Y, loss)
    for mine, p in zip(ours, params):
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_derivation_results():
    d = get("dense")
    assert set(map(str, d.wrt)) == {"z²[m]", "z¹[j]", "W¹[j, k]", "b¹[j]"}
    assert d.gradient("W¹[j, k]") == dense.D1[dense.j] * dense.X[dense.k]
    assert d.gradient("b¹[j]") == dense.D1[dense.j]
    expected = sp.Sum(dense.D2[dense.m] * dense.W2[dense.m, dense.j], (dense.m, 0, dense.n2 - 1)) \
        * dense.fp(dense.Z1[dense.j])
    assert d.gradient("z¹[j]") == expected
    assert d.gradient("z²[m]") == (dense.A2[dense.m] - dense.Y[dense.m]) * dense.gp(dense.Z2[dense.m])
    output_results = [s.expr for s in d.steps_for("z²[m]")]
    assert dense.sigmoid(dense.Z2[dense.m]) - dense.Y[dense.m] in output_results  # BCE with σ
    assert dense.softmax(dense.Z2, dense.m, dense.n2) - dense.Y[dense.m] in output_results  # CE


def test_expanded_network_rejects_unknown_loss():
    with pytest.raises(ValueError, match="loss='hinge'"):
        dense.expanded_network(loss="hinge")
