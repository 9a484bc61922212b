"""The batch-reduction derivation: its result against finite differences of real batched losses."""
import numpy as np
import pytest
import sympy as sp

import derive
from derive.core import Domain, StepBuilder, StepCheckError
from derive.losses import ell_prime


def test_reduction_result_is_per_sample_gradient_over_n():
    d = derive.get("reduction")
    (var,) = d.wrt
    k = var.indices[0]
    N = sp.Symbol("N", integer=True, positive=True)
    assert sp.simplify(d.gradient() - ell_prime(var.base[k], sp.IndexedBase("y")[k]) / N) == 0
    rules = [s.rule for s in d.steps_for()]
    assert "definition (reduction='mean')" in rules and "definition (reduction='sum')" in rules


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reduced_gradient_matches_finite_differences(reduction):
    # Independent oracle: numerical differentiation of a batched BCE written from the textbook.
    rng = np.random.default_rng(1)
    p, y = rng.uniform(0.1, 0.9, 7), rng.uniform(0, 1, 7)

    def loss(p):
        per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return per.mean() if reduction == "mean" else per.sum()

    per_sample_grad = (p - y) / (p * (1 - p))  # ℓ'(ŷ, y) of BCE
    claimed = per_sample_grad / (len(p) if reduction == "mean" else 1)
    h = 1e-6
    numeric = np.array([(loss(p + h * e) - loss(p - h * e)) / (2 * h) for e in np.eye(len(p))])
    np.testing.assert_allclose(claimed, numeric, rtol=1e-6)


def test_dropping_the_one_over_n_is_caught():
    N = sp.Symbol("N", integer=True, positive=True)
    n, k = sp.symbols("n k", integer=True, nonnegative=True)
    P, T = sp.IndexedBase("yhat"), sp.IndexedBase("y")
    b = StepBuilder(sp.Symbol("L"), sp.Sum(ell_prime(P[n], T[n]) * sp.KroneckerDelta(n, k),
                                           (n, 0, N - 1)) / N,
                    Domain(integers={N: (3, 5), k: (0, 2)}))
    with pytest.raises(StepCheckError):
        b.then("wrong: forgot 1/N", ell_prime(P[k], T[k]))
