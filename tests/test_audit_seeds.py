"""Audit of the seed texts' items not covered elsewhere: each against an oracle computed here
(NumPy/plain Python from the seed's formula, sympy.diff of an expression written here, PyTorch)."""
import io
import math
import runpy
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive
from derive import losses

ROOT = Path(__file__).resolve().parents[1]


def _run_example(script, *argv):
    buf = io.StringIO()
    mod = runpy.run_path(str(ROOT / "examples" / script), run_name="audit")
    with redirect_stdout(buf):
        assert mod["main"](list(argv)) == 0
    return buf.getvalue()


# ----------------------------------------------------------------- seed 001: entropy examples
def test_seed_kl_prints_the_seeds_entropy_examples():
    # Seed 001: H([0, 0, 1]) is 0 (no uncertainty); [0.3, 0.3, 0.4] has a large entropy.
    out = _run_example("seed_kl.py")
    lines = {ln.split(" = ")[0]: ln for ln in out.splitlines() if ln.startswith("H([")}
    assert set(lines) == {"H([0, 0, 1])", "H([0.3, 0.3, 0.4])"}, out
    for p, key in (([0, 0, 1], "H([0, 0, 1])"), ([0.3, 0.3, 0.4], "H([0.3, 0.3, 0.4])")):
        nz = [v for v in p if v > 0]  # 0·log 0 = 0
        want_e = -sum(v * math.log(v) for v in nz) + 0.0
        want_10 = -sum(v * math.log10(v) for v in nz) + 0.0
        nums = [float(t) for t in lines[key].split("=", 1)[1].replace("(base e),", "")
                .replace("(base 10)", "").split()]
        assert nums == pytest.approx([want_e, want_10], abs=5e-5)
    assert -sum(v * math.log(v) for v in (0.3, 0.3, 0.4)) == pytest.approx(1.0889, abs=1e-4)


# ------------------------------------------------ seed 003: multi-label BCE, mean over samples
def _seed003_steps():
    steps = derive.get("reduction").steps_for()
    start = [i for i, s in enumerate(steps) if s.rule.startswith("seed 003")]
    assert start, "the reduction derivation has no seed 003 (mean over samples only) steps"
    return [s for s in steps[start[0]:] if "L_seed003" in str(s.lhs)]  # its block only


def test_reduction_derives_seed003_per_sample_mean_against_sympy_diff():
    # Seed 003: E = −(1/m) Σ_i Σ_k [y log p + (1 − y) log(1 − p)], sum over the n labels.
    steps = _seed003_steps()
    assert all(s.check in ("definition", "proved", "numeric") for s in steps)
    final = steps[-1].expr
    m, n = 2, 3
    rng = np.random.default_rng(3)
    pv, yv = rng.uniform(0.1, 0.9, (m, n)), rng.integers(0, 2, (m, n)).astype(float)
    ps = sp.symbols(f"p0:{m * n}")
    E = -sum(yv.flat[t] * sp.log(ps[t]) + (1 - yv.flat[t]) * sp.log(1 - ps[t])
             for t in range(m * n)) / m
    yhat_syms = {s.name: s for s in final.free_symbols}
    for kk in range(m):
        for ll in range(n):
            oracle = float(sp.diff(E, ps[kk * n + ll]).subs({ps[t]: pv.flat[t] for t in range(m * n)}))
            bce_prime = lambda p_, y_: (p_ - y_) / (p_ * (1 - p_))  # noqa: E731  textbook ∂ℓ/∂p
            got = final.replace(lambda e: isinstance(e, losses.ell_prime),
                                lambda e: bce_prime(*e.args))
            got = got.subs({yhat_syms["m"]: m, yhat_syms["k"]: kk, yhat_syms["l"]: ll})
            got = got.subs({sp.IndexedBase("yhat")[kk, ll]: pv[kk, ll],
                            sp.IndexedBase("y")[kk, ll]: yv[kk, ll]})
            assert float(got) == pytest.approx(oracle, rel=1e-12)


def test_seed003_formula_is_n_times_torch_bce_mean():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for BCELoss")
    m, n = 4, 3
    rng = np.random.default_rng(5)
    p = torch.tensor(rng.uniform(0.05, 0.95, (m, n)), requires_grad=True)
    y = torch.tensor(rng.integers(0, 2, (m, n)).astype(float))
    torch.nn.functional.binary_cross_entropy(p, y, reduction="mean").backward()
    g_mean = p.grad.clone()
    pn, yn = p.detach().numpy(), y.numpy()
    seed003 = (pn - yn) / (pn * (1 - pn)) / m  # ∂E/∂p_kl of seed 003's E
    np.testing.assert_allclose(seed003, n * g_mean.numpy(), rtol=1e-12)
    assert "1/m instead of 1/(mn)" in _seed003_steps()[-1].rule


# ----------------------------------------- seed 002: MSE with 1/n and its ∂L/∂ŷ per element
def test_seed002_mse_gradient_is_per_element_not_the_seeds_sum():
    # Seed 002 writes ∂L/∂y = (2/n) Σ_i (ŷ_i − y_i); per element it is (2/n)(ŷ_k − y_k); the
    # seed's sum is Σ_k ∂L/∂ŷ_k (the gradient of one bias shared by every output).
    d = derive.get("reduction")
    n = 4
    yh, yt = sp.symbols("a0:4"), [0.5, -1.0, 2.0, 0.25]
    L = sum((yh[t] - yt[t]) ** 2 for t in range(n)) / n
    vals = {yh[t]: v for t, v in enumerate([1.5, -0.5, 1.0, 3.0])}
    (N,) = [s for s in d.gradient().free_symbols if s.name == "N"]
    (k,) = [s for s in d.gradient().free_symbols if s.name == "k"]
    per = []
    for kk in range(n):
        g = d.gradient().subs({N: n, k: kk}).replace(
            lambda e: isinstance(e, losses.ell_prime), lambda e: 2 * (e.args[0] - e.args[1]))
        g = g.subs({sp.IndexedBase("yhat")[kk]: vals[yh[kk]], sp.IndexedBase("y")[kk]: yt[kk]})
        per.append(float(g))
        assert per[-1] == pytest.approx(float(sp.diff(L, yh[kk]).subs(vals)))
    seed_sum = 2 / n * sum(vals[yh[t]] - yt[t] for t in range(n))
    assert sum(per) == pytest.approx(seed_sum) and per[0] != pytest.approx(seed_sum)



def test_reduction_explains_seed002s_mse_gradient_as_the_sum_of_the_partials():
    # The printed steps say what the seed's 2/n Σ(ŷ_i − y_i) is; oracle: Σ_k of sympy.diff of
    # the MSE written here, at N = 4, and the seed's own expression, both by hand.
    steps = [s for s in derive.get("reduction").steps_for() if str(s.lhs) == "S_seed002"]
    assert steps and "seed 002" in steps[0].rule and all(s.check for s in steps)
    n = 4
    yh, yt = sp.symbols("a0:4"), [0.5, -1.0, 2.0, 0.25]
    vals = dict(zip(yh, [1.5, -0.5, 1.0, 3.0]))
    L = sum((yh[t] - yt[t]) ** 2 for t in range(n)) / n
    want = float(sum(sp.diff(L, a) for a in yh).subs(vals))
    assert want == pytest.approx(2 / n * sum(vals[yh[t]] - yt[t] for t in range(n)))
    last = steps[-1].expr
    (N,) = [s for s in last.free_symbols if s.name == "N"]
    P, T = sp.IndexedBase("yhat"), sp.IndexedBase("y")
    got = last.subs(N, n).doit().subs({**{P[t]: vals[yh[t]] for t in range(n)},
                                       **{T[t]: yt[t] for t in range(n)}})
    assert float(got) == pytest.approx(want)

# ------------------------------------------------------------ seed 001: activation formulas
def test_tanh_derivation_is_the_seeds_exponential_form():
    z = sp.Symbol("z", real=True)
    seed = (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z))
    d = derive.get("tanh")
    (zz,) = d.wrt
    for v in (-2.5, -0.3, 0.0, 0.7, 3.0):
        assert float(d.expr.subs(zz, v)) == pytest.approx(float(seed.subs(z, v)), abs=1e-14)
        assert float(d.gradient().subs(zz, v)) == pytest.approx(float(sp.diff(seed, z).subs(z, v)),
                                                                abs=1e-14)


@pytest.mark.parametrize("alpha", [0.01, 0.2, 0.9])
def test_leaky_relu_is_the_seeds_max_ax_x_for_slopes_below_one(alpha):
    from derive.activations import leaky_relu
    from derive.functions import to_elementary

    d = leaky_relu(alpha)
    (zz,) = d.wrt
    al = [s for s in d.expr.free_symbols if s != zz][0]
    for v in (-3.0, -0.5, 0.5, 2.0):
        f = float(to_elementary(d.expr).subs({zz: v, al: alpha}))
        assert f == pytest.approx(max(alpha * v, v))
        h = 1e-6
        fd = (max(alpha * (v + h), v + h) - max(alpha * (v - h), v - h)) / (2 * h)
        assert float(d.gradient().subs({zz: v, al: alpha})) == pytest.approx(fd, abs=1e-8)


# --------------------------------------------------------------- seed 001: momentum limits
def test_momentum_with_mu_zero_is_plain_gradient_descent():
    # Seed 001: "μ = 0 gives back plain (mini-batch) gradient descent" θ ← θ − ε g.
    d = derive.get("momentum")
    res = d.gradient("theta_t")
    syms = {s.name: s for s in res.free_symbols}
    (g_t,) = res.atoms(sp.Indexed)
    theta, eps, g, v_prev = 0.7, 0.1, -1.3, 5.0
    got = res.subs({syms["mu"]: 0, syms["epsilon"]: eps, syms["theta_{t-1}"]: theta,
                    syms["v_{t-1}"]: v_prev, g_t: g})
    assert float(got) == pytest.approx(theta - eps * g)
    # and μ = 0.9 keeps 0.9·v_{t−1} of the old step (the seed's v = μv + g, w = w − εv)
    got = res.subs({syms["mu"]: 0.9, syms["epsilon"]: eps, syms["theta_{t-1}"]: theta,
                    syms["v_{t-1}"]: v_prev, g_t: g})
    assert float(got) == pytest.approx(theta - eps * (0.9 * v_prev + g))


def test_seed_momentum_worked_example_first_iterates_by_hand():
    # f = x² + 2y², ε = 0.1, μ = 0.9, from (1, 1): iterate the seed's four steps in plain Python.
    x, y, vx, vy = 1.0, 1.0, 0.0, 0.0
    want = []
    for _ in range(3):
        vx, vy = 0.9 * vx + 2 * x, 0.9 * vy + 4 * y
        x, y = x - 0.1 * vx, y - 0.1 * vy
        want.append((x, y))
    out = _run_example("seed_momentum.py", "--steps", "3")
    rows = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit() and len(ln.split()) > 6]
    got = [(float(r[1]), float(r[2])) for r in rows[1:4]]
    np.testing.assert_allclose(got, want, atol=5e-7)
