"""runtime.optim and runtime.clip against torch.optim and torch.nn.utils, step for step."""
import inspect
import subprocess
import sys

import numpy as np
import pytest

from runtime import clip, optim
from optim_reference import DEFAULTS, rel_err

torch = pytest.importorskip("torch", reason="the trajectory tests compare with torch.optim")

TOL = {np.float32: 1e-5, np.float64: 1e-12}
SHAPES = [(3, 4), (5,), (2, 3, 2), (300,)]
BIG = (optim.PARALLEL_MIN + 3,)  # runs the parallel kernels

CASES = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-6)),
    ("RMSprop", {}),
    ("RMSprop", dict(weight_decay=0.05)),
    ("RMSprop", dict(momentum=0.5)),
    ("RMSprop", dict(momentum=0.5, weight_decay=0.05)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(centered=True, weight_decay=0.05)),
    ("RMSprop", dict(centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, centered=True, momentum=0.5, weight_decay=0.05)),
    ("Adam", {}),
    ("Adam", dict(amsgrad=True)),
    ("Adam", dict(weight_decay=0.05)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(weight_decay=0.0)),
    # maximize: gradient ascent (torch negates the gradient first)
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.05, maximize=True)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05, maximize=True)),
    ("RMSprop", dict(centered=True, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + ("-" + ",".join(f"{k}={v}" for k, v in kw.items()) if kw else "-defaults")


def _trajectory(name, kw, dtype, params, steps=20, seed=0, grads_of=None, each_step=None):
    """Step ours and torch's side by side; the worst relative error over params and steps."""
    rng = np.random.default_rng(seed)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours = getattr(optim, name)(params, **kw)
    theirs = getattr(torch.optim, name)(tparams, **kw)
    worst = 0.0
    for k in range(steps):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        if grads_of is not None:
            grads = grads_of(grads)
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(np.array(g)) if g is not None else None
        if each_step:
            each_step(k, ours, theirs)
        ours.step(grads)
        theirs.step()
        for p, tp in zip(params, tparams):
            worst = max(worst, rel_err(p, tp.detach().numpy()))
    return worst, ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype):
    name, kw = case
    rng = np.random.default_rng(1)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    worst, _, _ = _trajectory(name, kw, dtype, params)
    assert worst <= TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", [CASES[6], CASES[8], CASES[17], CASES[21], CASES[24]],
                         ids=[_ids(c) for c in (CASES[6], CASES[8], CASES[17], CASES[21], CASES[24])])
def test_parallel_trajectory_matches_torch(case, dtype):
    name, kw = case
    params = [np.random.default_rng(8).standard_normal(BIG).astype(dtype), np.ones(3, dtype)]
    worst, _, _ = _trajectory(name, kw, dtype, params, steps=5)
    assert worst <= TOL[dtype]


def test_defaults_are_torchs():
    for name, key in (("SGD", "sgd"), ("Adagrad", "adagrad"), ("RMSprop", "rmsprop"),
                      ("Adam", "adam"), ("AdamW", "adamw")):
        theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
        ours = inspect.signature(getattr(optim, name).__init__).parameters
        for kw, value in DEFAULTS[key].items():
            assert ours[kw].default == theirs[kw].default == value, (name, kw)


def test_flat_buffer_is_one_kernel_call_per_step(monkeypatch):
    flat = np.random.default_rng(2).standard_normal(3 * 4 + 5 + 7).astype(np.float32)
    params = [flat[:12].reshape(3, 4), flat[12:17], flat[17:]]
    gflat = np.empty_like(flat)
    gviews = [gflat[:12].reshape(3, 4), gflat[12:17], gflat[17:]]
    calls = []
    real = optim.Optimizer._call
    monkeypatch.setattr(optim.Optimizer, "_call",
                        lambda self, name, rule, dev, arrays, *rest: (
                            calls.append(arrays[0].size), real(self, name, rule, dev, arrays, *rest)))

    def fill(grads):
        for v, g in zip(gviews, grads):
            v[...] = g
        return gviews

    worst, _, _ = _trajectory("Adam", dict(lr=0.01, amsgrad=True), np.float32, params,
                              steps=5, grads_of=fill)
    assert worst <= 1e-5
    assert calls == [flat.size] * 5  # the whole model in one fused call per step


def test_param_groups_and_lr_schedule_like_torch():
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(s) for s in ((4, 3), (6,), (2, 2)))
    groups = [{"params": [a, b]}, {"params": [c], "lr": 0.5, "momentum": 0.0}]
    tgroups = [{"params": [torch.tensor(a.copy(), requires_grad=True),
                           torch.tensor(b.copy(), requires_grad=True)]},
               {"params": [torch.tensor(c.copy(), requires_grad=True)], "lr": 0.5, "momentum": 0.0}]
    ours = optim.SGD(groups, lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD(tgroups, lr=0.1, momentum=0.9)
    tparams = [p for g in tgroups for p in g["params"]]
    for k in range(10):
        for g_ours, g_theirs in zip(ours.param_groups, theirs.param_groups):  # a schedule
            g_ours["lr"] = g_theirs["lr"] = g_theirs["lr"] * 0.9
        grads = [rng.standard_normal(p.shape) for p in (a, b, c)]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        ours.step(grads)
        theirs.step()
    for p, tp in zip((a, b, c), tparams):
        assert rel_err(p, tp.detach().numpy()) <= 1e-12


def test_missing_gradient_skips_the_parameter_like_torch():
    rng = np.random.default_rng(4)
    params = [rng.standard_normal(5), rng.standard_normal(3)]
    frozen = params[1].copy()

    def drop_second_sometimes(grads):
        return [grads[0], None]

    worst, ours, _ = _trajectory("Adam", dict(lr=0.1), np.float64, params, steps=6,
                                 grads_of=drop_second_sometimes)
    assert worst <= 1e-12
    np.testing.assert_array_equal(params[1], frozen)
    assert 1 not in ours.state_dict()["state"]


@pytest.mark.parametrize("name, kw", [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.2)),
    ("RMSprop", dict(centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
])
def test_state_dict_round_trip_and_torch_state(name, kw):
    rng = np.random.default_rng(5)
    shapes = [(3, 2), (4,)]
    params = [rng.standard_normal(s) for s in shapes]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours = getattr(optim, name)(params, **kw)
    theirs = getattr(torch.optim, name)(tparams, **kw)

    def both_step(o, t, ps, tps, grads):
        for tp, g in zip(tps, grads):
            tp.grad = torch.tensor(g)
        o.step(grads)
        t.step()

    for _ in range(4):
        both_step(ours, theirs, params, tparams, [rng.standard_normal(s) for s in shapes])
    saved = ours.state_dict()
    copy = [p.copy() for p in params]
    resumed = getattr(optim, name)(copy, **kw)
    resumed.load_state_dict(saved)
    # a second copy resumes from torch's state dict instead
    from_torch = [p.copy() for p in params]
    resumed_t = getattr(optim, name)(from_torch, **kw)
    resumed_t.load_state_dict(theirs.state_dict())
    for _ in range(4):
        grads = [rng.standard_normal(s) for s in shapes]
        both_step(ours, theirs, params, tparams, grads)
        resumed.step(grads)
        resumed_t.step(grads)
    for p, q, r_, tp in zip(params, copy, from_torch, tparams):
        np.testing.assert_array_equal(p, q)  # resuming from our state dict is exact
        assert rel_err(r_, tp.detach().numpy()) <= 1e-12
        assert rel_err(p, tp.detach().numpy()) <= 1e-12
    assert saved["param_groups"][0]["lr"] == kw.get("lr", DEFAULTS[name.lower()]["lr"])


def test_state_dict_returns_copies():
    p = np.ones(4)
    opt = optim.Adam([p], lr=0.1)
    opt.step([np.ones(4)])
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 123.0
    assert opt.state[0]["exp_avg"][0] != 123.0
    assert sd["state"][0]["step"] == 1


# --------------------------------------------------------------------------- bad input

BAD = [
    ("SGD", dict(lr=-0.1), ValueError, "lr=-0.1"),
    ("SGD", dict(lr=float("nan")), ValueError, "lr=nan"),
    ("SGD", dict(momentum=-0.5), ValueError, "momentum"),
    ("SGD", dict(weight_decay=-1), ValueError, "weight_decay"),
    ("SGD", dict(nesterov=True), ValueError, "nesterov"),
    ("SGD", dict(momentum=0.9, nesterov=True, dampening=0.1), ValueError, "dampening"),
    ("SGD", dict(lr="fast"), TypeError, "lr"),
    ("Adagrad", dict(lr_decay=-1), ValueError, "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
    ("Adagrad", dict(eps=-1e-10), ValueError, "eps"),
    ("RMSprop", dict(alpha=-0.1), ValueError, "alpha"),
    ("RMSprop", dict(momentum=-0.1), ValueError, "momentum"),
    ("Adam", dict(betas=(1.0, 0.999)), ValueError, r"betas\[0\]=1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
    ("Adam", dict(betas=(0.9,)), ValueError, "pair"),
    ("Adam", dict(eps=-1.0), ValueError, "eps"),
    ("AdamW", dict(weight_decay=-0.01), ValueError, "weight_decay"),
    ("Adam", dict(differentiable=True), NotImplementedError, "differentiable"),
    ("Adam", dict(capturable=True), NotImplementedError, "capturable"),
    ("Adam", dict(nosuch=1), TypeError, "nosuch"),
]


@pytest.mark.parametrize("name, kw, exc, match", BAD, ids=[f"{b[0]}-{b[3]}" for b in BAD])
def test_bad_hyper_parameters_raise(name, kw, exc, match):
    with pytest.raises(exc, match=match):
        getattr(optim, name)([np.zeros(3)], **kw)


def test_bad_params_and_grads_raise():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match="int64"):
        optim.SGD([np.zeros(3, np.int64)])
    with pytest.raises(ValueError, match="C-contiguous"):
        optim.SGD([np.zeros((4, 4))[:, 1]])
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD([ro])
    with pytest.raises(ValueError, match="unknown option"):
        optim.SGD([{"params": [np.zeros(3)], "betas": (0.9, 0.9)}])
    opt = optim.Adam([np.zeros((2, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(3,\) but params\[1\] has shape \(4,\)"):
        opt.step([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(TypeError, match=r"grads\[0\] has dtype float32"):
        opt.step([np.zeros((2, 3), np.float32), np.zeros(4)])
    with pytest.raises(ValueError, match="2 parameters"):
        opt.step([np.zeros((2, 3))])
    optim.Adam([np.zeros(3)], foreach=True, fused=True)  # accepted: the kernels are always fused


def test_runtime_does_not_import_sympy():
    code = ("import sys, runtime.optim, runtime.clip; "
            "bad = [m for m in ('sympy', 'derive', 'codegen') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    rng = np.random.default_rng(6)
    # torch sums a float32 norm in float32 (1e-5 off over 1M elements): the big array is
    # checked against float64 NumPy instead, below.
    shapes = SHAPES + [BIG] if dtype == np.float64 else SHAPES
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tparams = [torch.zeros(s, dtype=torch.float64 if dtype == np.float64 else torch.float32)
               for s in shapes]
    for tp, g in zip(tparams, grads):
        tp.grad = torch.tensor(g.copy())
    total = clip.clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert total.dtype == dtype
    assert abs(float(total) - float(ttotal)) <= TOL[dtype] * float(ttotal)
    for g, tp in zip(grads, tparams):
        assert rel_err(g, tp.grad.numpy()) <= TOL[dtype]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm_large_float32_against_float64(norm_type):
    rng = np.random.default_rng(9)
    grads = [rng.standard_normal(BIG).astype(np.float32), rng.standard_normal(7).astype(np.float32)]
    ref = [g.astype(np.float64) for g in grads]
    expected = np.linalg.norm(np.concatenate(ref), norm_type)
    total = clip.clip_grad_norm_(grads, 1.0, norm_type=norm_type)
    assert abs(float(total) - expected) <= 1e-6 * expected
    for g, r in zip(grads, ref):
        assert rel_err(g, r * min(1.0, 1.0 / (expected + 1e-6))) <= 1e-6


def test_clip_grad_norm_nonfinite():
    grads = [np.array([1.0, np.nan, 2.0]), np.array([3.0])]
    tparams = [torch.zeros(3, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)]
    for tp, g in zip(tparams, grads):
        tp.grad = torch.tensor(g.copy())
    total = clip.clip_grad_norm_(grads, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.0)
    assert np.isnan(total) and torch.isnan(ttotal)
    for g, tp in zip(grads, tparams):
        np.testing.assert_array_equal(np.isnan(g), torch.isnan(tp.grad).numpy())
    with pytest.raises(RuntimeError, match="non-finite"):
        clip.clip_grad_norm_([np.array([np.inf, 1.0])], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_clip_grad_value_matches_torch(dtype):
    rng = np.random.default_rng(7)
    grads = [(3 * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
    grads[1][0] = np.nan
    tgrads = [torch.tensor(g.copy()) for g in grads]
    tparams = [torch.zeros_like(t) for t in tgrads]
    for tp, tg in zip(tparams, tgrads):
        tp.grad = tg
    clip.clip_grad_value_(grads, 0.7)
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for g, tp in zip(grads, tparams):
        np.testing.assert_array_equal(g, tp.grad.numpy())


def test_clip_bad_input():
    with pytest.raises(ValueError, match="clip_value=-1"):
        clip.clip_grad_value_([np.zeros(2)], -1)
    with pytest.raises(ValueError, match="max_norm=-1"):
        clip.clip_grad_norm_([np.zeros(2)], -1)
    with pytest.raises(NotImplementedError, match="norm_type=0"):
        clip.clip_grad_norm_([np.zeros(2)], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="int64"):
        clip.clip_grad_norm_([np.zeros(2, np.int64)], 1.0)
    assert clip.clip_grad_norm_([], 1.0) == 0.0


# --------------------------------------------------------------------------- step plans


def test_step_plan_follows_changing_gradient_arrays_like_torch():
    """The per-group plan (checks and spans of the last step's arrays) is reused only for the
    same arrays: fresh views, arrays elsewhere, non-contiguous arrays, a missing gradient and a
    bad new array are each handled as on a first step."""
    sizes = [12, 5, 7]
    offs = np.cumsum([0] + sizes)
    cuts = list(zip(offs[:-1], offs[1:]))
    rng = np.random.default_rng(11)
    flat = rng.standard_normal(offs[-1])
    params = [flat[a:b] for a, b in cuts]
    gflat = np.zeros(offs[-1])
    views = [gflat[a:b] for a, b in cuts]

    def same_views(g):
        for v, x in zip(views, g):
            v[...] = x
        return views

    def fresh_views(g):
        same_views(g)
        return [gflat[a:b] for a, b in cuts]

    kinds = [same_views, same_views, fresh_views,
             lambda g: [x.copy() for x in g],  # separate arrays: no span, one call each
             lambda g: [np.repeat(x, 2)[::2] for x in g],  # non-contiguous: copied per step
             lambda g: [g[0], None, g[2]],
             same_views, same_views]

    def grads_of(grads, k=iter(range(100))):
        return kinds[next(k)](grads)

    def each_step(k, ours, theirs):
        if k == 3:
            with pytest.raises(ValueError, match=r"grads\[1\] has shape \(4,\)"):
                ours.step([views[0], np.zeros(4), views[2]])

    worst, ours, _ = _trajectory("Adam", dict(lr=0.05, amsgrad=True), np.float64, params,
                                 steps=len(kinds), grads_of=grads_of, each_step=each_step)
    assert worst <= 1e-12
    assert [ours.state[i]["step"] for i in range(3)] == [8, 7, 8]


def test_views_of_a_flat_buffer_are_one_call_per_step_after_the_first(monkeypatch):
    flat = np.zeros(30, np.float32)
    gflat = np.ones(30, np.float32)
    opt = optim.SGD([flat[:10], flat[10:25], flat[25:]], lr=0.1, momentum=0.9)
    grads = [gflat[:10], gflat[10:25], gflat[25:]]
    calls = []
    monkeypatch.setattr(optim, "_span", lambda arrays, real=optim._span: (calls.append(1),
                                                                         real(arrays))[1])
    for _ in range(5):
        opt.step(grads)
    assert len(calls) == 3  # params, grads, momentum buffers: spanned once, on the first step
    opt.step([gflat[:10], gflat[10:25], gflat[25:]])  # new views: their span is checked again
    assert len(calls) == 4
    # b = g on the first step, then b = 0.9 b + g: θ = −0.1 (1 + 1.9 + 2.71 + 3.439 + 4.0951 + 4.68559)
    np.testing.assert_allclose(flat, -0.1 * sum(sum(0.9**j for j in range(k)) for k in range(1, 7)),
                               rtol=1e-6)
