"""Audit of the training pieces (runtime.init, runtime.clip, runtime.data, runtime.gradcheck,
runtime.search) against torch and textbook NumPy: each test names the defect it pins down.

Oracles: torch.nn.init / torch.nn.utils / torch.utils.data where the modules claim torch's
behaviour, NumPy formulas written from the definitions, and the documented contracts.
"""
import math
import warnings

import numpy as np
import pytest

from runtime import clip, init
from runtime.data import DataLoader, updates_per_epoch
from runtime.gradcheck import GradcheckError, gradcheck, numeric_jacobian
from runtime.search import IntUniform, LogUniform, Uniform, fine_grid, grid_search, random_search


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for this test")


# ------------------------------------------------------------------ init


@pytest.mark.parametrize("alias", ["LeakyReLU", "leakyrelu", "LEAKY_RELU"])
@pytest.mark.parametrize("name", ["xavier_normal", "kaiming_normal"])
def test_initialize_uses_negative_slope_for_leaky_relu_aliases(alias, name):
    # calculate_gain accepts the aliases (any case, "leakyrelu"), so initialize_ must give them
    # the layer's negative_slope too; it used 0.01 (Xavier) or ReLU's √2 (Kaiming) instead.
    torch = _torch()
    slope, shape = 0.5, (300, 200)
    w = np.empty(shape)
    init.initialize_(w, name, alias, seed=0, negative_slope=slope)
    gain = torch.nn.init.calculate_gain("leaky_relu", slope)
    fan_in, fan_out = shape[1], shape[0]
    std = (gain * math.sqrt(2.0 / (fan_in + fan_out)) if name == "xavier_normal"
           else gain / math.sqrt(fan_in))
    # The same draw, rescaled: w / std is exactly the seed's standard normal sample.
    z = np.random.default_rng(0).normal(0.0, 1.0, size=shape)
    np.testing.assert_allclose(w, z * std, rtol=1e-12)


@pytest.mark.parametrize("mode", ["FAN_OUT", "Fan_In"])
def test_kaiming_mode_is_case_insensitive_like_torch(mode):
    torch = _torch()
    shape = (16, 4, 3, 3)
    t = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.kaiming_uniform_(t, a=0.2, mode=mode)  # torch lower-cases mode
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    fan = fan_out if mode.lower() == "fan_out" else fan_in
    bound = torch.nn.init.calculate_gain("leaky_relu", 0.2) * math.sqrt(3.0 / fan)
    w = np.empty(shape)
    init.kaiming_uniform_(w, a=0.2, mode=mode, seed=1)
    u = np.random.default_rng(1).uniform(-bound, bound, size=shape)
    np.testing.assert_allclose(w, u, rtol=1e-12)
    assert np.abs(t.numpy()).max() <= bound  # torch's draw within the same bound


def test_kaiming_bad_mode_names_the_argument():
    with pytest.raises(ValueError, match="mode='fan_avg'"):
        init.kaiming_normal_(np.empty((3, 4)), mode="fan_avg")


# ------------------------------------------------------------------ clip


@pytest.mark.parametrize("fn", ["clip_grad_norm_", "get_total_norm"])
def test_clip_bad_norm_type_string_names_the_argument(fn):
    g = [np.array([3.0, 4.0])]
    args = (g, 1.0) if fn == "clip_grad_norm_" else (g,)
    with pytest.raises(ValueError, match="norm_type='two'"):
        getattr(clip, fn)(*args, norm_type="two")
    np.testing.assert_array_equal(g[0], [3.0, 4.0])  # nothing clipped


@pytest.mark.parametrize("norm_type", ["inf", "2", "1.0"])
def test_clip_norm_type_strings_that_torch_takes(norm_type):
    torch = _torch()
    rng = np.random.default_rng(3)
    g = rng.normal(size=(4, 5))
    p = torch.nn.Parameter(torch.zeros(4, 5, dtype=torch.float64))
    p.grad = torch.from_numpy(g.copy())
    expected = torch.nn.utils.clip_grad_norm_([p], 0.5, norm_type=float(norm_type)).item()
    total = clip.clip_grad_norm_([g], 0.5, norm_type=norm_type)
    assert total == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)


def test_clip_norm_overflowing_float32_is_inf_without_a_warning():
    # The float64-accumulated norm 4.2e38 does not fit float32: torch returns inf (and scales
    # the gradients by 0) silently; the cast here raised a RuntimeWarning.
    torch = _torch()
    g = np.full(2, 3e38, dtype=np.float32)
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.from_numpy(g.copy())
    expected = torch.nn.utils.clip_grad_norm_([p], 1.0).item()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = clip.clip_grad_norm_([g], 1.0)
    assert math.isinf(expected) and math.isinf(total) and total.dtype == np.float32
    np.testing.assert_array_equal(g, p.grad.numpy())


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_clip_norm_mixed_layouts_against_torch(norm_type):
    torch = _torch()
    rng = np.random.default_rng(7)
    grads = [rng.normal(size=(6, 4)).T, rng.normal(size=(5, 8))[::2, ::-3],
             np.asfortranarray(rng.normal(size=(3, 3)).astype(np.float32)), np.zeros((0, 2))]
    params = []
    for g in grads[:-1]:  # the empty one adds nothing (torch's inf norm refuses it)
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.from_numpy(np.ascontiguousarray(g, dtype=np.float64))
        params.append(p)
    expected = torch.nn.utils.clip_grad_norm_(params, 0.7, norm_type=norm_type).item()
    total = clip.clip_grad_norm_(grads, 0.7, norm_type=norm_type)
    assert total == pytest.approx(expected, rel=1e-6)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=2e-6)
    assert grads[-1].shape == (0, 2)


def test_clip_value_against_torch_with_nan_inf_and_strides():
    torch = _torch()
    base = np.array([[np.nan, 5.0, -5.0], [np.inf, -np.inf, 0.25]])
    g = base.T.copy().T[:, ::-1]  # a reversed view
    t = torch.from_numpy(np.ascontiguousarray(g))
    p = torch.nn.Parameter(torch.zeros_like(t))
    p.grad = t.clone()
    torch.nn.utils.clip_grad_value_([p], 1.0)
    clip.clip_grad_value_(g, 1.0)
    np.testing.assert_array_equal(g, p.grad.numpy())


# ------------------------------------------------------------------ data


@pytest.mark.parametrize("kw", [{"shuffle": "no"}, {"shuffle": 1}, {"drop_last": "yes"},
                                {"drop_last": None}])
def test_loader_flags_must_be_bools(kw):
    # shuffle="no" shuffled (bool("no") is True): a non-bool flag is an error naming it.
    name, value = next(iter(kw.items()))
    with pytest.raises(TypeError, match=f"{name}={value!r}"):
        DataLoader(np.arange(10), batch_size=3, **kw)


def test_updates_per_epoch_drop_last_must_be_a_bool():
    with pytest.raises(TypeError, match="drop_last='x'"):
        updates_per_epoch(10, 3, "x")


def test_loader_checks_seed_without_shuffle():
    with pytest.raises(TypeError, match="seed='abc'"):
        DataLoader(np.arange(10), batch_size=3, seed="abc")
    with pytest.raises(ValueError, match="seed=-1"):
        DataLoader(np.arange(10), batch_size=3, seed=-1)
    assert DataLoader(np.arange(4), shuffle=np.bool_(True), seed=0).shuffle is True


@pytest.mark.parametrize("n,bs", [(10, 3), (10, 5), (10, 11), (7, 1), (1, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_match_torch_dataloader(n, bs, drop_last):
    torch = _torch()
    expected = [b.tolist() for b in torch.utils.data.DataLoader(
        torch.arange(n), batch_size=bs, drop_last=drop_last)]
    loader = DataLoader(np.arange(n), np.arange(n) * 10, batch_size=bs, drop_last=drop_last)
    got = [(x.tolist(), y.tolist()) for x, y in loader]
    assert [x for x, _ in got] == expected and len(loader) == len(expected)
    assert all(y == [10 * v for v in x] for x, y in got)
    shuffled = DataLoader(np.arange(n), batch_size=bs, drop_last=drop_last, shuffle=True,
                          seed=5)
    sizes = [len(b) for b in shuffled]
    assert sizes == [len(b) for b in expected]  # torch's batch sizes with shuffling too
    seen = np.concatenate([b for b in shuffled] or [np.array([], int)])
    assert len(set(seen.tolist())) == len(seen) == sum(sizes)  # no sample twice


# ------------------------------------------------------------------ gradcheck


def _weighted_sum(x):
    # f(x) = Σ c_ij x_ij³: ∂f/∂x = 3 c x² (C-order coefficients c = 1, 2, 3, ...)
    c = np.arange(1, x.size + 1, dtype=np.float64).reshape(x.shape)
    return np.sum(c * x**3), 3 * c * x**2


@pytest.mark.parametrize("layout", ["F", "T", "T32"])
def test_gradcheck_passes_right_gradients_of_non_c_contiguous_inputs(layout):
    # An F-ordered input was copied F-ordered, so x.reshape(-1) was a copy: the perturbations
    # never reached fn, the numeric Jacobian was 0 and a right gradient was flagged wrong.
    rng = np.random.default_rng(0)
    x = {"F": np.asfortranarray(rng.normal(size=(3, 4))), "T": rng.normal(size=(4, 3)).T,
         "T32": rng.normal(size=(4, 3)).astype(np.float32).T}[layout]
    before = x.copy()
    assert gradcheck(_weighted_sum, x)
    np.testing.assert_array_equal(x, before)  # the caller's input is not modified


def test_gradcheck_catches_a_wrong_entry_of_an_f_ordered_input():
    x = np.asfortranarray(np.random.default_rng(1).normal(size=(2, 3)))

    def wrong(x):
        v, g = _weighted_sum(x)
        g = g.copy()
        g[1, 0] += 0.5
        return v, g

    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, x)
    worst = info.value.worst
    assert worst.index == (1, 0) and info.value.args[0].startswith("gradcheck failed: 1 of 6")
    # Oracle: the textbook gradient 3·c·x² at that entry (c = 4 in C order).
    assert worst.numeric == pytest.approx(3 * 4 * x[1, 0] ** 2, rel=1e-6)
    assert worst.analytic == pytest.approx(3 * 4 * x[1, 0] ** 2 + 0.5, rel=1e-12)


def test_numeric_jacobian_of_an_f_ordered_array():
    x = np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))
    (jac,) = numeric_jacobian(lambda x: (x**2, None), [x], [0], 1e-6)
    np.testing.assert_allclose(jac, np.diag(2 * x.reshape(-1)), atol=1e-6)
    np.testing.assert_array_equal(x, np.arange(6).reshape(2, 3))


def test_gradcheck_copies_a_gradient_that_fn_reuses_between_calls():
    # A backward pass that writes into a buffer it returns every call (as layers do): the
    # analytic Jacobian kept the buffer, which the numeric calls then overwrote.
    buf = np.empty(4)

    def cube(x):
        np.multiply(3.0, x**2, out=buf)
        return np.sum(x**3), buf

    x = np.array([0.5, -1.0, 1.5, 2.0])
    # Central differences of x³ with eps 1e-2 err by eps² = 1e-4, inside rtol·3x².
    assert gradcheck(cube, x, eps=1e-2, atol=1e-6, rtol=1e-3)


def test_gradcheck_several_inputs_and_labels():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=3).astype(np.float32)
    labels = np.array([0, 2])

    def f(a, b, labels):
        z = a * b
        return np.sum(z[np.arange(2), labels]), (np.eye(3)[labels] * b, (np.eye(3)[labels] * a).sum(0), None)

    assert gradcheck(f, [a, b, labels])

    def g(a, b, labels):
        v, (ga, gb, _) = f(a, b, labels)
        return v, (ga, gb * 1.01, None)

    with pytest.raises(GradcheckError) as info:
        gradcheck(g, [a, b, labels])
    assert info.value.worst.input == 1


# ------------------------------------------------------------------ search


def test_fine_grid_does_not_rerun_the_best_value():
    # linspace(0.3, 0.9, 5) gives 0.6000000000000001 for the coarse 0.6: it was run again as a
    # "fine" trial (a second full training run of the same configuration).
    calls = []
    result = grid_search(lambda x: calls.append(x) or (x - 0.6) ** 2,
                         {"x": [0.3, 0.6, 0.9, 1.2]}, refine_points=5)
    fine = sorted(t.config["x"] for t in result.trials if t.stage == "fine")
    assert fine == pytest.approx([0.45, 0.75])  # np.linspace(0.3, 0.9, 5) minus the tried
    assert sum(1 for c in calls if abs(c - 0.6) < 1e-9) == 1
    assert len(calls) == len(result.trials) == 6
    assert result.best_config == {"x": 0.6}


@pytest.mark.parametrize("grid,best", [([0.7, 1.4, 2.1, 2.8], 2.1), ([0.3, 0.6, 0.9], 0.9),
                                       ([-0.3, 0.0, 0.3], 0.0)])
def test_fine_grid_contains_the_coarse_values_exactly(grid, best):
    fine = fine_grid({"x": grid}, {"x": best}, 5)["x"]
    k = sorted(grid).index(best)
    lo, hi = sorted(grid)[max(k - 1, 0)], sorted(grid)[min(k + 1, len(grid) - 1)]
    assert fine == pytest.approx(list(np.linspace(lo, hi, 5)))
    assert best in fine and lo in fine and hi in fine


@pytest.mark.parametrize("points", [-1, 2.5, True, "5"])
def test_grid_search_refine_points_is_checked(points):
    calls = []
    with pytest.raises((TypeError, ValueError), match=f"refine_points={points!r}"):
        grid_search(lambda lr: calls.append(lr) or lr, {"lr": [0.1, 1.0]}, refine_points=points)
    assert calls == []  # checked before any training


@pytest.mark.parametrize("zoom", ["0.2", True])
def test_random_search_zoom_is_checked(zoom):
    with pytest.raises((TypeError, ValueError), match=f"zoom={zoom!r}"):
        random_search(lambda lr: lr, {"lr": (0.0, 1.0)}, n_trials=2, fine_trials=2, zoom=zoom,
                      seed=0)


def test_int_uniform_without_an_integer_is_refused_up_front():
    with pytest.raises(ValueError, match=r"IntUniform\(2.2, 2.8\)"):
        IntUniform(2.2, 2.8)
    r = random_search(lambda n: n, {"n": IntUniform(1.5, 3.2)}, n_trials=20, seed=0)
    assert {t.config["n"] for t in r.trials} == {2, 3}  # the integers in [1.5, 3.2]


@pytest.mark.parametrize("low,high", [("a", "b"), (True, 5), (0, None)])
def test_uniform_bounds_must_be_numbers(low, high):
    with pytest.raises(TypeError, match="Uniform"):
        Uniform(low, high)


@pytest.mark.parametrize("ret", ["0.5", True, None, np.array([1.0, 2.0]), {"acc": "0.9"}])
def test_search_score_must_be_a_number(ret):
    with pytest.raises(TypeError, match=r"train_fn\(lr=0.1\)"):
        grid_search(lambda lr: ret, {"lr": [0.1]}, metric="acc" if isinstance(ret, dict) else None)


def test_search_accepts_numpy_and_0d_scores():
    r = grid_search(lambda lr: np.float32(lr) if lr < 0.5 else np.array(lr), {"lr": [0.1, 0.9]})
    assert [t.score for t in r.trials] == [pytest.approx(0.1), 0.9]


def test_search_nan_and_inf_rank_last_in_both_modes():
    scores = {0.1: math.nan, 0.2: 0.5, 0.3: math.inf, 0.4: -math.inf, 0.5: 0.25}
    r = grid_search(lambda lr: scores[lr], {"lr": list(scores)})
    assert [t.config["lr"] for t in r.ranked()][:2] == [0.5, 0.2]  # finite scores first
    r = grid_search(lambda lr: scores[lr], {"lr": list(scores)}, mode="max")
    assert [t.config["lr"] for t in r.ranked()][:2] == [0.2, 0.5]


def test_table_rows_match_the_runs_and_limit_is_checked():
    runs = {}
    r = grid_search(lambda lr, m: runs.setdefault((lr, m), lr * 10 + m), {"lr": [0.1, 0.2],
                                                                         "m": [0, 1]})
    lines = r.table().splitlines()[2:]
    assert len(lines) == len(runs) == 4
    best = min(runs, key=runs.get)
    assert lines[0].split()[0] == "*" and lines[0].split()[2:4] == [str(best[0]), str(best[1])]
    assert [float(l.split()[-2]) for l in lines] == sorted(runs.values())
    assert len(r.table(limit=2).splitlines()) == 4
    with pytest.raises(ValueError, match="limit=-1"):
        r.table(limit=-1)


def test_random_search_fine_stage_stays_inside_log_bounds():
    seen = []
    space = {"lr": LogUniform(1e-4, 1.0), "n": IntUniform(1, 8)}
    r = random_search(lambda lr, n: seen.append((lr, n)) or (math.log10(lr) + 4) ** 2 + n,
                      space, n_trials=10, fine_trials=40, zoom=0.5, seed=0)
    assert len(seen) == len(r.trials) == 50
    assert [(t.config["lr"], t.config["n"]) for t in r.trials] == seen  # the table's runs
    best = min((t for t in r.trials if t.stage == "coarse"), key=lambda t: t.score).config
    # The documented window: zoom × the range on the log scale, centred on the best and
    # shifted to stay inside [log 1e-4, log 1].
    lo, hi = math.log(1e-4), math.log(1.0)
    half = 0.5 * (hi - lo) / 2
    c = min(max(math.log(best["lr"]), lo + half), hi - half)
    fine = [t.config for t in r.trials if t.stage == "fine"]
    assert len(fine) == 40
    for t in r.trials:
        assert 1e-4 <= t.config["lr"] <= 1.0 and 1 <= t.config["n"] <= 8
    for cfg in fine:
        assert c - half - 1e-12 <= math.log(cfg["lr"]) <= c + half + 1e-12
        assert abs(cfg["n"] - best["n"]) <= round(7 * 0.5 / 2)


def test_random_search_is_seeded():
    run = lambda: [t.config for t in random_search(
        lambda lr: lr, {"lr": LogUniform(1e-3, 1)}, n_trials=4, fine_trials=4, seed=3).trials]
    assert run() == run()


@pytest.mark.parametrize("name", ["kaiming_uniform", "he_normal"])
def test_initialize_kaiming_refuses_an_unknown_activation(name):
    # Xavier refused a misspelt activation, Kaiming silently used ReLU's gain for it.
    w = np.zeros((3, 4))
    with pytest.raises(ValueError, match="'lekay_relu'"):
        init.initialize_(w, name, "lekay_relu", seed=0)
    assert not w.any()


def test_random_search_space_must_be_a_dict():
    calls = []
    with pytest.raises(TypeError, match=r"space must be a dict.*\[\('lr', \(0, 1\)\)\]"):
        random_search(lambda lr: calls.append(lr) or lr, [("lr", (0, 1))], n_trials=2, seed=0)
    assert calls == []
