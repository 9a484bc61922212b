"""derive/core.py's StepBuilder: wrong steps raise, steps without a proof say so, index-form
steps are checked at concrete sizes; and every derivation of this module builds with checked steps."""
import pytest
import sympy as sp

from derive import Domain, StepBuilder, StepCheckError, registry
from derive.core import DEFINITION, NUMERIC, PROVED, check_equal
from derive.functions import sigmoid

x = sp.Symbol("x", real=True)
L = sp.Symbol("L")


def test_correct_step_is_proved():
    b = StepBuilder(L, sp.log(sp.exp(x) * 2), Domain())
    b.then("log of a product", x + sp.log(2))
    assert b.steps[-1].check == PROVED and b.steps[0].check == DEFINITION


def test_wrong_step_raises():
    b = StepBuilder(L, (x + 1) ** 2, Domain())
    with pytest.raises(StepCheckError):
        b.then("a wrong expansion", x**2 + 1)


def test_wrong_derivative_step_raises():
    b = StepBuilder(L, sigmoid(x), Domain())
    b.restate("differentiate", sp.Derivative(sigmoid(x), x), sp.Derivative(L, x))
    with pytest.raises(StepCheckError):
        b.then("a wrong σ'", sigmoid(x) ** 2)


def test_step_without_proof_is_marked_numeric(monkeypatch):
    import derive.core as core

    monkeypatch.setattr(core, "_proved_equal", lambda a, b: False)  # as if SymPy found no proof
    status, note = check_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1), Domain())
    assert status == NUMERIC and "no symbolic proof" in note and "random points" in note


def test_numeric_step_still_fails_when_wrong(monkeypatch):
    import derive.core as core

    monkeypatch.setattr(core, "_proved_equal", lambda a, b: False)
    with pytest.raises(StepCheckError):
        check_equal(sp.sin(x) ** 2, sp.Integer(1), Domain())


def test_index_form_steps_are_checked_at_concrete_sizes():
    z = sp.IndexedBase("z")
    i, k = sp.symbols("i k", integer=True, nonnegative=True)
    C = sp.Symbol("C", integer=True, positive=True)
    dom = Domain(integers={C: (2, 4), i: (0, 1)})
    lse = sp.log(sp.Sum(sp.exp(z[k]), (k, 0, C - 1)))
    b = StepBuilder(L, lse, dom)
    b.restate("differentiate", sp.Derivative(lse, z[i]), sp.Derivative(L, z[i]))
    b.then("derivative of log-sum-exp", sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 0, C - 1)))
    with pytest.raises(StepCheckError):  # a wrong index (k for i) is caught
        b.then("wrong", sp.exp(z[0]) / sp.Sum(sp.exp(z[k]), (k, 0, C - 1)))


def test_equal_under_patterns_reach_bound_indices():
    q, u = sp.IndexedBase("q"), sp.IndexedBase("u", positive=True)
    j, t = sp.symbols("j t", integer=True, nonnegative=True)
    C = sp.Symbol("C", integer=True, positive=True)
    n = sp.Wild("n")
    dom = Domain(integers={C: (2, 4)})
    b = StepBuilder(L, sp.Sum(q[j], (j, 0, C - 1)), dom,
                    equal_under={q[n]: u[n] / sp.Sum(u[t], (t, 0, C - 1))})
    b.then("probabilities sum to one", sp.Integer(1))
    with pytest.raises(StepCheckError):
        b.then("not two", sp.Integer(2))


MINE = ["softmax_ce", "lp", "mse_vs_mae", "mse_multi", "sigmoid", "tanh", "relu", "leaky_relu",
        "entropy", "kl", "cross_entropy_kl", "dense"]


@pytest.mark.parametrize("name", MINE)
def test_derivation_builds_with_checked_steps(name):
    d = registry._build.__wrapped__(name)  # build afresh: every step is checked again
    for v in d.wrt:
        steps = d.steps_for(v)
        assert steps[0].check == DEFINITION
        checked = [s for s in steps if s.check != DEFINITION]
        assert checked, f"{name}: no checked step for {v}"
        for s in steps:
            assert s.check in (PROVED, NUMERIC, DEFINITION)
            assert s.check != NUMERIC or s.note, f"{name}: a numeric step must say so"
            assert s.rule
    assert registry.entry(name).group in {"loss", "activation", "information", "layer"}
