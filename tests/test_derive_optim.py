"""derive/optim.py: update rules against torch.optim's documented algorithms, the derivations'
checked steps, and seed 001's momentum example against the seed's own formulas."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from derive import optim, registry
from derive.core import DEFINITION, NUMERIC, PROVED
from optim_reference import hyper_for, init_state, rel_err, step as ref_step

RULES = [r for r in optim.all_rules() if r.grad is not None]


def _kw(rule, hyper: dict) -> dict:
    h = dict(hyper)
    if "betas" in h:
        h["beta1"], h["beta2"] = h.pop("betas")
    return {k: v for k, v in h.items() if k in {x.keyword for x in rule.hyper}}


def run_rule(rule, p, g, state: dict, hyper: dict, t: int):
    """One step of ``rule`` on float64 arrays: scalars by SymPy, assignments by lambdify."""
    kw = _kw(rule, hyper)
    values = {h.symbol: kw.get(h.keyword, h.default) for h in rule.hyper}
    values[optim.t] = t
    env = {rule.param: p, rule.grad: g}
    env.update({sym: state[key] for sym, key in rule.state})
    for sym, expr in rule.scalars:
        env[sym] = float(expr.subs(values))
    for target, expr in rule.assignments:
        syms = sorted(expr.free_symbols, key=str)
        env[target] = sp.lambdify(syms, expr, "numpy")(*[env[s] for s in syms])
    return env[rule.param], {key: env[sym] for sym, key in rule.state}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_matches_documented_algorithm(rule):
    rng = np.random.default_rng(abs(hash(rule.name)) % 2**32)
    hyper = hyper_for(rule.optimizer, dict(rule.options))
    n = 64
    p = rng.standard_normal(n)
    ref_p, ref_state = p.copy(), init_state(rule.optimizer, hyper, n)
    kw = _kw(rule, hyper)
    init = {h.symbol: kw.get(h.keyword, h.default) for h in rule.hyper}
    state = {key: np.full(n, float(e.subs(init))) for (_, key), e in zip(rule.state, rule.init)}
    for t in range(1, 6):
        g = rng.standard_normal(n)
        p, state = run_rule(rule, p, g, state, hyper, t)
        ref_p = ref_step(rule.optimizer, ref_p, g, ref_state, hyper, t)
        assert rel_err(p, ref_p) <= 1e-12, (rule.name, t)
        for key, value in state.items():
            assert rel_err(value, ref_state[key]) <= 1e-12, (rule.name, key, t)


def test_variants_cover_torch_options():
    names = {r.name for r in optim.all_rules()}
    assert {"sgd", "sgd_momentum_nesterov_wd", "adagrad_wd", "rmsprop_centered_momentum_wd",
            "adam_amsgrad_wd", "adamw_amsgrad", "clip_grad_value", "clip_grad_scale"} <= names
    assert len(optim.variants("sgd")) == 6  # nesterov needs momentum
    assert len(optim.variants("rmsprop")) == 8
    adam = optim.rule("adam", amsgrad=True)
    assert adam.state_keys == ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert {h.keyword: h.default for h in optim.ADAMW_HYPER}["weight_decay"] == 1e-2


def test_rule_arguments_are_checked():
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd_rule(nesterov=True)
    with pytest.raises(ValueError, match="amsgrad"):
        optim.rule("sgd", amsgrad=True)
    with pytest.raises(ValueError, match="optimizer='lion'"):
        optim.rule("lion")
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="undefined"):
        optim.UpdateRule("bad", "sgd", {}, optim.theta, optim.g, (), (), (), (),
                         ((optim.theta, optim.theta - x),))


def test_sgd_first_step_buffer_is_the_gradient():
    # torch clones the gradient into the buffer on the first step; with dampening τ the rule
    # must not give (1 − τ)·g there.
    r = optim.rule("sgd", momentum=True)
    hyper = {"lr": sp.Rational(1, 10), "momentum": sp.Rational(9, 10), "dampening": sp.Rational(1, 2)}
    g0 = sp.Rational(3, 7)
    first = r.evaluate({optim.theta: 1, optim.g: g0, optim.b: 0}, 1, **hyper)
    assert first[optim.b] == g0
    second = r.evaluate({optim.theta: 1, optim.g: g0, optim.b: g0}, 2, **hyper)
    assert second[optim.b] == sp.Rational(9, 10) * g0 + sp.Rational(1, 2) * g0


# --------------------------------------------------------------------------- derivations


@pytest.mark.parametrize("name", registry.names("optimizer"))
def test_derivation_steps_are_checked(name):
    d = registry.get(name)
    assert d.group == "optimizer"
    for v in d.wrt:
        steps = d.steps_for(v)
        assert steps[0].check == DEFINITION
        assert all(s.check in (PROVED, NUMERIC, DEFINITION) for s in steps)
        assert any(s.check in (PROVED, NUMERIC) for s in steps)  # something was checked
        for s in steps:
            assert s.check != NUMERIC or "random points" in s.note
    assert str(d)  # renders


def test_adam_result_is_the_kernel_form_of_the_documented_rule():
    # The registered result, with the kernel scalars written out, equals the docs' rule.
    d = registry.get("adam")
    r = optim.rule("adam", weight_decay=True)
    result = d.gradient("theta").xreplace(dict(r.scalars))
    b1, b2, t, eta, lam = optim.beta1, optim.beta2, optim.t, optim.eta, optim.lamda
    grad = optim.g + lam * optim.theta
    m_t = b1 * optim.m + (1 - b1) * grad
    v_t = b2 * optim.v + (1 - b2) * grad**2
    textbook = optim.theta - eta * (m_t / (1 - b1**t)) / (sp.sqrt(v_t / (1 - b2**t)) + optim.epsilon)
    rng = np.random.default_rng(1)
    for _ in range(20):
        vals = {optim.theta: rng.normal(), optim.g: rng.normal(), optim.m: rng.normal(),
                optim.v: rng.uniform(0, 2), b1: rng.uniform(0.1, 0.99), b2: rng.uniform(0.1, 0.999),
                t: int(rng.integers(1, 50)), eta: rng.uniform(0, 1), lam: rng.uniform(0, 0.5),
                optim.epsilon: rng.uniform(1e-8, 1e-2)}
        a, b = float(result.subs(vals)), float(textbook.subs(vals))
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b))


# --------------------------------------------------------------------------- seed 001


def _seed_formulas(steps):
    """Seed 001's own iteration: v = 0.9v + ∇f, (x, y) −= 0.1v, f = x² + 2y², from (1, 1)."""
    x, y, vx, vy = Fraction(1), Fraction(1), Fraction(0), Fraction(0)
    out = [(x, y)]
    for _ in range(steps):
        vx, vy = Fraction(9, 10) * vx + 2 * x, Fraction(9, 10) * vy + 4 * y
        x, y = x - Fraction(1, 10) * vx, y - Fraction(1, 10) * vy
        out.append((x, y))
    return out


def test_seed_momentum_example_exact():
    rows = optim.seed_momentum_example(12)
    expected = _seed_formulas(12)
    for (t, mom, vel, plain), (x, y) in zip(rows, expected):
        assert mom == (sp.Rational(x.numerator, x.denominator), sp.Rational(y.numerator, y.denominator))
        assert plain == (sp.Rational(4, 5) ** t, sp.Rational(3, 5) ** t)  # plain: x·0.8, y·0.6
    assert rows[1][1] == (sp.Rational(4, 5), sp.Rational(3, 5)) and rows[1][2] == (2, 4)
    assert rows[2][1][1] == 0  # y hits 0 exactly at step 2, then overshoots


def test_momentum_rate_against_eigenvalues():
    for curvature, plain in ((2, 0.8), (4, 0.6)):  # f = x² + 2y²: ∂²f = 2 and 4
        rate, plain_rate = optim.momentum_rate(curvature, sp.Rational(1, 10), sp.Rational(9, 10))
        # the iteration on (x, b): b' = μb + a·x, x' = x − lr·b'
        lr, mu, a = 0.1, 0.9, curvature
        mat = np.array([[1 - lr * a, -lr * mu], [a, mu]])
        assert float(rate) == pytest.approx(max(abs(np.linalg.eigvals(mat))), rel=1e-12)
        assert float(rate) == pytest.approx(np.sqrt(0.9), rel=1e-12)
        assert float(plain_rate) == pytest.approx(plain, rel=1e-12)


# --------------------------------------------------------------------------- clipping


def test_clip_value_rule_is_clamp_and_keeps_nan():
    r = optim.clip_value_rule()
    f = sp.lambdify([optim.g, optim.clip], r.assignments[0][1], "numpy")
    g = np.array([-5.0, -1.0, 0.0, 0.3, 2.0, np.inf, -np.inf])
    np.testing.assert_array_equal(f(g, 1.0), np.clip(g, -1.0, 1.0))
    assert np.isnan(f(np.nan, 1.0))


def test_clip_scale_coefficient():
    r = optim.clip_scale_rule()
    (kappa_sym, coef), = r.scalars
    for n_, c_ in ((10.0, 1.0), (0.5, 1.0), (0.0, 0.0)):
        expected = min(1.0, c_ / (n_ + 1e-6))  # torch.nn.utils.clip_grad_norm_
        got = float(coef.subs({optim.norm: n_, optim.max_norm: c_}))
        assert got == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("p", [1, 2, 3.5, "inf"])
def test_norm_rules_against_numpy(p):
    rng = np.random.default_rng(2)
    g = rng.standard_normal(101)
    rules = {nr.p: nr for nr in optim.norm_rules()}
    nr = rules[p if p in rules else "p"]
    term = sp.lambdify([optim.g, optim.p_norm], nr.term, "numpy")(g, p if p != "inf" else 0)
    reduced = term.sum() if nr.combine == "sum" else term.max()
    total = float(nr.finish.subs({optim.R: reduced, optim.p_norm: p if p != "inf" else 1}))
    expected = np.linalg.norm(g, np.inf if p == "inf" else p)
    assert total == pytest.approx(expected, rel=1e-12)


def test_seed_momentum_example_script_runs(capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "seed_momentum.py"
    mod = runpy.run_path(str(script), run_name="seed_momentum")
    assert mod["main"](["--steps", "4"]) == 0
    out = capsys.readouterr().out
    assert "(x, y) = (23/50, 0)" in out  # step 2, exact
    assert "-0.308600" in out  # step 4: x has changed sign
    assert "momentum 0.9487   plain 0.8000" in out
