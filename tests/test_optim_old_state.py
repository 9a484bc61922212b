"""Loading an old torch state dict whose param_groups lack options added to torch later
(``decoupled_weight_decay``, ``maximize``, ...): torch's Optimizer.load_state_dict replaces
each group by the saved one and its ``__setstate__`` fills the missing options with fixed
fallbacks (Adam: decoupled_weight_decay=False, amsgrad=False; AdamW: decoupled always True;
every optimizer: maximize=False), not with the loading optimizer's own settings. The oracle is
torch itself: the same dict is loaded into torch and into runtime.optim, both are stepped with
the same gradients and their trajectories compared."""
import numpy as np
import pytest

from runtime import optim

torch = pytest.importorskip("torch", reason="torch's own load_state_dict is the oracle")

SHAPES = [(3, 2), (4,)]


def _old_state(cls, kw, drop, rng, **saved_kw):
    """A torch ``cls`` state dict after 3 steps, with the options in ``drop`` removed from its
    groups (as saved by an older torch), and the parameters it was saved with."""
    ps = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    src = cls(ps, **kw, **saved_kw)
    for _ in range(3):
        for p in ps:
            p.grad = torch.tensor(rng.standard_normal(p.shape))
        src.step()
    saved = src.state_dict()
    for g in saved["param_groups"]:
        for key in drop:
            del g[key]
    return saved, [p.detach().numpy().copy() for p in ps]


def _run_both(name, kw, saved, start, rng, steps=4):
    """Load ``saved`` into torch.optim.<name>(**kw) and optim.<name>(**kw), step both."""
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in start]
    theirs = getattr(torch.optim, name)(tparams, **kw)
    theirs.load_state_dict(saved)
    params = [p.copy() for p in start]
    ours = getattr(optim, name)(params, **kw)
    ours.load_state_dict(saved)
    for _ in range(steps):
        grads = [rng.standard_normal(s) for s in SHAPES]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        theirs.step()
        ours.step(grads)
    return params, tparams, ours, theirs


def _assert_same(params, tparams, ours, theirs, keys):
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    for mine, their in zip(ours.param_groups, theirs.param_groups):
        for key in keys:
            assert mine[key] == their[key], key


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("decoupled", [False, True])
def test_old_adam_state_without_decoupled_weight_decay_loads_as_torch(name, decoupled):
    """An Adam(decoupled_weight_decay=True) loading a group without the key falls back to
    coupled decay, as torch's Adam does; AdamW stays decoupled whatever the dict says."""
    rng = np.random.default_rng(4)
    saved, start = _old_state(torch.optim.Adam, dict(lr=0.05, weight_decay=0.1),
                              ["decoupled_weight_decay"], rng)
    kw = dict(lr=0.05, weight_decay=0.1)
    if name == "Adam":
        kw["decoupled_weight_decay"] = decoupled
    params, tparams, ours, theirs = _run_both(name, kw, saved, start, rng)
    assert theirs.param_groups[0]["decoupled_weight_decay"] == (name == "AdamW")  # the premise
    _assert_same(params, tparams, ours, theirs, ["decoupled_weight_decay"])


@pytest.mark.parametrize("name, kw, drop", [
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True), ["amsgrad", "maximize"]),
    ("AdamW", dict(lr=0.05, amsgrad=True), ["amsgrad", "maximize", "decoupled_weight_decay"]),
    ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True), ["nesterov", "maximize"]),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True), ["momentum", "centered", "maximize"]),
    ("Adagrad", dict(lr=0.05), ["maximize"]),
], ids=["Adam", "AdamW", "SGD", "RMSprop", "Adagrad"])
def test_old_state_missing_switches_fall_back_as_torch(name, kw, drop):
    """Switches torch's __setstate__ fills in (maximize, amsgrad, nesterov, momentum, centered)
    take torch's fallback, not the loading optimizer's setting."""
    rng = np.random.default_rng(8)
    saved_kw = {k: (0 if k == "momentum" else False) for k in drop
                if k not in ("maximize", "decoupled_weight_decay")}
    if name == "SGD":  # nesterov needs momentum; the old run had it off
        saved_kw = dict(nesterov=False)
    saved, start = _old_state(getattr(torch.optim, name), {k: v for k, v in kw.items()
                                                          if k not in saved_kw},
                              drop, rng, **saved_kw)
    params, tparams, ours, theirs = _run_both(name, dict(kw, maximize=True), saved, start, rng)
    assert theirs.param_groups[0]["maximize"] is False  # the premise: torch fell back
    _assert_same(params, tparams, ours, theirs, [k for k in drop])
