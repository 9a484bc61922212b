"""Audit of runtime.optim as a torch.optim user would use it: memory overlaps between
parameters, gradients and state; torch state dicts (Adam <-> AdamW); add_param_group;
state-dict round trips; param_groups edits. The oracle is torch.optim (2.13), step for step."""
import numpy as np
import pytest

from runtime import optim
from optim_reference import rel_err

try:
    import torch
except ImportError:  # the overlap and kernel tests need no torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch.optim "
                                 "(pip install torch==2.13.0)")

TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _tgrads(tparams, grads):
    for tp, g in zip(tparams, grads):
        tp.grad = None if g is None else torch.tensor(np.array(g))


def _close(params, tparams, dtype=np.float64):
    return max(rel_err(p, tp.detach().numpy()) for p, tp in zip(params, tparams)) <= TOL[dtype]


# --------------------------------------------------------------------------- 1. overlaps

def test_gradient_partly_overlapping_its_parameter_raises():
    flat = np.arange(10.0)
    p = flat[:8]
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\].*params\[0\]"):
        opt.step([flat[2:]])  # a shifted view: read after it is written
    np.testing.assert_array_equal(flat, np.arange(10.0))  # nothing was updated


def test_gradient_that_is_its_parameter_raises():
    p = np.ones(5)
    opt = optim.AdamW([p], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\].*params\[0\].*cop"):
        opt.step([p])
    with pytest.raises(ValueError, match=r"grads\[0\].*params\[0\]"):
        opt.step([p.reshape(5)])  # another view of the same memory


def test_gradient_overlapping_the_state_raises():
    p = np.ones(6)
    opt = optim.Adam([p], lr=0.1)
    opt.step([np.full(6, 0.5)])
    with pytest.raises(ValueError, match=r"grads\[0\].*exp_avg"):
        opt.step([opt.state[0]["exp_avg"]])
    flat = np.zeros(13)
    q = flat[:6]
    opt = optim.Adam([q], lr=0.1)
    opt.step([np.full(6, 0.5)])
    with pytest.raises(ValueError, match=r"grads\[0\].*exp_avg_sq"):  # a strided view
        opt.step([opt.state[0]["exp_avg_sq"][::-1]])


def test_gradient_overlapping_another_parameter_raises():
    flat = np.zeros(8)
    a, b = flat[:4], flat[4:]
    opt = optim.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\].*params\[1\]"):
        opt.step([b, np.ones(4)])


def test_parameters_sharing_memory_raise():
    flat = np.zeros(8)
    with pytest.raises(ValueError, match=r"params\[1\].*params\[0\]"):
        optim.SGD([flat[:5], flat[3:]], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[1\].*params\[0\]"):
        optim.SGD([{"params": [flat[:4]]}, {"params": [flat.reshape(2, 4)]}], lr=0.1)


@needs_torch
def test_separate_gradients_still_step_like_torch_after_an_overlap_error():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(6), rng.standard_normal(3)]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours, theirs = optim.Adam(params, lr=0.1), torch.optim.Adam(tparams, lr=0.1)
    with pytest.raises(ValueError):
        ours.step([params[0], np.ones(3)])
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in params]
        _tgrads(tparams, grads)
        ours.step(grads)
        theirs.step()
    assert _close(params, tparams)


# --------------------------------------------------------------------------- 2. Adam <-> AdamW


@needs_torch
@pytest.mark.parametrize("src, dst", [("AdamW", "Adam"), ("Adam", "AdamW")])
def test_loading_torch_adamw_state_into_adam_behaves_like_torch(src, dst):
    """torch's Adam.load_state_dict takes the group's decoupled_weight_decay flag (AdamW's
    state dict makes an Adam decoupled); AdamW always stays decoupled."""
    rng = np.random.default_rng(1)
    shapes = [(3, 2), (4,)]
    kw = dict(lr=0.05, weight_decay=0.1)
    start = [rng.standard_normal(s) for s in shapes]
    ps = [torch.tensor(p.copy(), requires_grad=True) for p in start]
    src_t = getattr(torch.optim, src)(ps, **kw)
    for _ in range(3):
        _tgrads(ps, [rng.standard_normal(s) for s in shapes])
        src_t.step()
    saved = src_t.state_dict()
    params = [tp.detach().numpy().copy() for tp in ps]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = getattr(torch.optim, dst)(tparams, **kw)
    theirs.load_state_dict(saved)
    ours = getattr(optim, dst)(params, **kw)
    ours.load_state_dict(saved)
    for _ in range(4):
        grads = [rng.standard_normal(s) for s in shapes]
        _tgrads(tparams, grads)
        ours.step(grads)
        theirs.step()
    assert _close(params, tparams)
    assert ours.state_dict()["param_groups"][0]["decoupled_weight_decay"] == \
        theirs.state_dict()["param_groups"][0]["decoupled_weight_decay"]


@needs_torch
def test_our_adamw_state_dict_loads_into_torch_adam_as_adamw():
    rng = np.random.default_rng(2)
    p = rng.standard_normal(5)
    ours = optim.AdamW([p], lr=0.05, weight_decay=0.2)
    for _ in range(2):
        ours.step([rng.standard_normal(5)])
    saved = ours.state_dict()
    tp = torch.tensor(p.copy(), requires_grad=True)
    theirs = torch.optim.Adam([tp], lr=0.05, weight_decay=0.2)
    theirs.load_state_dict({"state": {i: {k: (torch.tensor(v) if isinstance(v, np.ndarray)
                                              else torch.tensor(float(v)))
                                          for k, v in s.items()}
                                      for i, s in saved["state"].items()},
                            "param_groups": saved["param_groups"]})
    for _ in range(3):
        g = rng.standard_normal(5)
        tp.grad = torch.tensor(g)
        ours.step([g])
        theirs.step()
    assert _close([p], [tp])


# --------------------------------------------------------------------------- 3. add_param_group


@needs_torch
@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                      ("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("RMSprop", dict(centered=True))])
def test_add_param_group_like_torch(name, kw):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(5)
    ta, tb = (torch.tensor(x.copy(), requires_grad=True) for x in (a, b))
    ours, theirs = getattr(optim, name)([a], **kw), getattr(torch.optim, name)([ta], **kw)
    for k in range(6):
        if k == 2:  # a second group with its own lr, the rest from the defaults
            ours.add_param_group({"params": [b], "lr": 0.5})
            theirs.add_param_group({"params": [tb], "lr": 0.5})
        ps, tps = ([a, b], [ta, tb]) if k >= 2 else ([a], [ta])
        grads = [rng.standard_normal(p.shape) for p in ps]
        _tgrads(tps, grads)
        ours.step(grads)
        theirs.step()
    assert _close([a, b], [ta, tb])
    for g_ours, g_theirs in zip(ours.param_groups, theirs.param_groups):
        for key in g_ours:
            if key != "params":
                assert g_ours[key] == g_theirs[key], key
    sd = ours.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]


def test_add_param_group_rejects_duplicates_and_bad_options():
    a = np.ones(3)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"lr=-1"):
        opt.add_param_group({"params": [np.ones(2)], "lr": -1})
    with pytest.raises(TypeError, match="dict"):
        opt.add_param_group([np.ones(2)])
    assert len(opt.param_groups) == 1  # failed additions leave nothing behind
    opt.step([np.ones(3)])


def test_overlap_check_is_exact_and_runs_once_per_new_gradient_arrays(monkeypatch):
    flat = np.zeros(30)
    p = flat[5:8]
    opt = optim.SGD([p], lr=0.5)
    g = np.ones(30)[::12]  # strided, not touching p's memory
    calls = []
    real = optim.Optimizer._check_overlaps
    monkeypatch.setattr(optim.Optimizer, "_check_overlaps",
                        lambda self, grads: (calls.append(1), real(self, grads)))
    interleaved = flat[0:30:12]  # bounds span p's bytes, but no element of p
    interleaved[...] = 1.0
    for _ in range(3):
        opt.step([interleaved])
    np.testing.assert_array_equal(p, [-1.5] * 3)
    assert calls == [1]  # checked when the array first came, not at every step
    opt.step([g])
    assert calls == [1, 1]


# --------------------------------------------------------------------------- param_groups edits


def _edited_trajectory(name, kw, key, value, at=2, steps=6, groups=None):
    """Step ours and torch's, setting param_groups[0][key] = value before step ``at``."""
    rng = np.random.default_rng(7)
    p = rng.standard_normal(5)
    tp = torch.tensor(p.copy(), requires_grad=True)
    ours = getattr(optim, name)([p], **kw)
    theirs = getattr(torch.optim, name)([tp], **kw)
    for k in range(steps):
        if k == at:
            ours.param_groups[0][key] = theirs.param_groups[0][key] = value
        g = rng.standard_normal(5)
        tp.grad = torch.tensor(g)
        ours.step([g])
        theirs.step()
    return p, tp


@pytest.mark.parametrize("name, kw, key, value", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "momentum", 0),  # nesterov has no effect
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "dampening", 0.3),
    ("SGD", dict(lr=0.1), "momentum", 0.9),  # the buffer starts as the gradient
    ("SGD", dict(lr=0.1, momentum=0.9), "maximize", True),
    ("Adam", dict(lr=0.1), "betas", (0.5, 0.9)),
    ("Adam", dict(lr=0.1), "weight_decay", 0.1),
    ("Adam", dict(lr=0.1, weight_decay=0.1), "decoupled_weight_decay", True),
    ("Adam", dict(lr=0.1), "lr", 0.01),
    ("AdamW", dict(lr=0.1), "weight_decay", 0.0),
    ("RMSprop", dict(lr=0.01, momentum=0.5), "momentum", 0),
    ("Adagrad", dict(lr=0.1), "lr_decay", 0.5),
    # torch's Adagrad fills its accumulators at construction, from the constructor's value
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5), "initial_accumulator_value", 5.0),
])
@needs_torch
@pytest.mark.parametrize("at", [0, 2])
def test_param_groups_edits_take_effect_like_torch(name, kw, key, value, at):
    p, tp = _edited_trajectory(name, kw, key, value, at=at)
    assert _close([p], [tp])


@needs_torch
def test_adagrad_group_initial_accumulator_value_like_torch():
    """torch's Adagrad fills every accumulator with the constructor's value (a group's own
    initial_accumulator_value is not used)."""
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal(4), rng.standard_normal(3)
    ta, tb = (torch.tensor(x.copy(), requires_grad=True) for x in (a, b))
    kw = dict(lr=0.1, initial_accumulator_value=0.2)
    ours = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}], **kw)
    theirs = torch.optim.Adagrad([{"params": [ta]}, {"params": [tb], "initial_accumulator_value": 3.0}],
                                 **kw)
    for _ in range(4):
        grads = [rng.standard_normal(4), rng.standard_normal(3)]
        _tgrads([ta, tb], grads)
        ours.step(grads)
        theirs.step()
    assert _close([a, b], [ta, tb])


def test_gradients_after_add_param_group_are_checked():
    a, b = np.ones(3), np.ones(4)
    opt = optim.SGD([a], lr=0.1)
    ga = np.ones(3)
    opt.step([ga])
    opt.add_param_group({"params": [b]})
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(2,\)"):
        opt.step([ga, np.ones(2)])  # would read past the end of the gradient
    with pytest.raises(ValueError, match=r"grads\[1\].*params\[1\]"):
        opt.step([ga, b])
    np.testing.assert_array_equal(b, np.ones(4))


@needs_torch
def test_failed_load_state_dict_leaves_the_optimizer_unchanged():
    rng = np.random.default_rng(9)
    params = [rng.standard_normal(3), rng.standard_normal(2)]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours, theirs = optim.Adam(params, lr=0.1), torch.optim.Adam(tparams, lr=0.1)
    for k in range(5):
        if k == 2:
            bad = ours.state_dict()
            bad["param_groups"][0]["lr"] = 0.5
            bad["state"][1]["exp_avg"] = np.zeros(7)  # the wrong shape, in the second entry
            with pytest.raises(ValueError, match=r"exp_avg.*\(7,\)"):
                ours.load_state_dict(bad)
            assert ours.param_groups[0]["lr"] == 0.1
        grads = [rng.standard_normal(3), rng.standard_normal(2)]
        _tgrads(tparams, grads)
        ours.step(grads)
        theirs.step()
    assert _close(params, tparams)


def test_a_parameter_listed_twice_in_one_group_says_so():
    a = np.ones(3)
    with pytest.raises(ValueError, match=r"params\[1\].*twice"):
        optim.SGD([a, a], lr=0.1)


# --------------------------------------------------------------------------- the kernels themselves


def test_generated_kernels_refuse_partly_overlapping_arrays():
    """Called directly (a vendored module has no runtime.optim in front of it), a kernel
    refuses a gradient that partly overlaps what it writes, and state that overlaps the
    parameter or other state at all; the gradient being the parameter itself is in place."""
    from runtime.generated import numba_optim as gen

    rule = gen.RULES["adam_amsgrad"]
    scalars = rule["scalars"](1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
    for par in (False, True):
        kernel = rule["kernels"][("float64", par)]
        flat = np.ones(12)
        param, m, v, vmax = flat[:6], np.zeros(6), np.zeros(6), np.zeros(6)
        with pytest.raises(ValueError, match="grad overlaps param"):
            kernel(param, flat[1:7], m, v, vmax, *scalars)
        with pytest.raises(ValueError, match="exp_avg_sq.*exp_avg"):
            kernel(param, np.ones(6), m, m, vmax, *scalars)
        with pytest.raises(ValueError, match="max_exp_avg_sq.*param"):
            kernel(param, np.ones(6), m, v, flat[3:9], *scalars)
        np.testing.assert_array_equal(flat, np.ones(12))  # refused before writing anything
        # the parameter as its own gradient: every element reads both before writing
        p = np.full(6, 2.0)
        kernel(p, p, np.zeros(6), np.zeros(6), np.zeros(6), *scalars)
        q, g = np.full(6, 2.0), np.full(6, 2.0)
        kernel(q, g, np.zeros(6), np.zeros(6), np.zeros(6), *scalars)
        np.testing.assert_array_equal(p, q)


def test_overlap_found_through_buffers_that_do_not_own_their_memory():
    raw = bytearray(8 * 10)
    p = np.frombuffer(raw, dtype=np.float64)[:6]
    g = np.frombuffer(raw, dtype=np.float64)[2:8]  # another array object on the same bytes
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] shares memory with params\[0\]"):
        opt.step([g])
    opt.step([np.ones(6)])  # a separate gradient is fine
    np.testing.assert_allclose(p, -0.1)
