"""Dense networks: forward/backward against PyTorch autograd and finite differences,
batch normalisation (derivation, runtime rule, running statistics), dropout, flat buffers."""
import numpy as np
import pytest

from runtime.gradcheck import gradcheck
from runtime.nn import MLP, Activation, BatchNorm, Dense, Dropout, Sequential

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu"]


def _torch():
    return pytest.importorskip("torch", reason="PyTorch autograd is the oracle for backprop")


def _torch_copy(model):
    """The same network in torch, with our weights, running stats and dropout masks."""
    torch = _torch()
    mods = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            lin = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias,
                                  dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.params["weight"].astype(np.float64)))
                if layer.bias:
                    lin.bias.copy_(torch.from_numpy(layer.params["bias"].astype(np.float64)))
            mods.append(lin)
        elif isinstance(layer, BatchNorm):
            bn = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                      dtype=torch.float64)
            with torch.no_grad():
                bn.weight.copy_(torch.from_numpy(layer.params["weight"].astype(np.float64)))
                bn.bias.copy_(torch.from_numpy(layer.params["bias"].astype(np.float64)))
                bn.running_mean.copy_(torch.from_numpy(layer.running_mean.astype(np.float64)))
                bn.running_var.copy_(torch.from_numpy(layer.running_var.astype(np.float64)))
            mods.append(bn)
        elif isinstance(layer, Activation):
            mods.append({"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(),
                         "relu": torch.nn.ReLU(),
                         "leaky_relu": torch.nn.LeakyReLU(layer.options.get("negative_slope", 0.01))
                         }[layer.name])
        elif isinstance(layer, Dropout):
            mods.append(_mask_module(torch, layer))
    return torch.nn.Sequential(*mods)


def _mask_module(torch, layer):
    """Multiplies by the mask our Dropout layer drew in its last forward (training mode)."""

    class MaskOf(torch.nn.Module):
        def forward(self, x):
            m = layer._mask
            return x if m is None else x * torch.from_numpy(m.astype(np.float64)) / (1 - layer.p)

    return MaskOf()


def _data(n, d, classes, seed=0, head="softmax_ce", out=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if head == "softmax_ce":
        y = rng.integers(0, classes, size=n)
    elif head == "bce":
        y = (rng.random(size=(n, out or 1)) > 0.5).astype(np.float64)
    else:
        y = rng.normal(size=(n, out or 1))
    return X, y


def _torch_loss(torch, head, out, y):
    F = torch.nn.functional
    if head == "softmax_ce":
        return F.cross_entropy(out, torch.from_numpy(y))
    if head == "bce":
        return F.binary_cross_entropy_with_logits(out, torch.from_numpy(y))
    return F.mse_loss(out, torch.from_numpy(y))


def _compare_with_torch(model, X, y, head, rtol=1e-10):
    torch = _torch()
    tmodel = _torch_copy(model)
    loss = model.loss_and_backward(X, y)  # draws dropout masks first
    tmodel.train()
    tout = tmodel(torch.from_numpy(X))
    tloss = _torch_loss(torch, head, tout, y)
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=rtol)
    theirs = [p.grad.numpy() for p in tmodel.parameters()]
    ours = model.gradients()
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    return tmodel


# --------------------------------------------------------------------------- MLP vs torch


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("head", ["softmax_ce", "bce", "mse"])
def test_mlp_matches_torch_autograd(act, head):
    out = 4 if head == "softmax_ce" else 2
    model = MLP([5, 7, 6, out], act, loss=head, dtype=np.float64, seed=1)
    X, y = _data(8, 5, out, head=head, out=out)
    _compare_with_torch(model, X, y, head)


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
@pytest.mark.parametrize("batch", [8, 300])
def test_feature_major_and_batch_major_layouts_match_torch(act, batch):
    # Hidden Dense layers run feature-major (zᵀ = W aᵀ + b) below FEATURE_MAJOR_BELOW and
    # batch-major from there on: both layouts give torch's gradients.
    from runtime import nn

    model = MLP([5, 7, 6, 4], act, dtype=np.float64, seed=1)
    X, y = _data(batch, 5, 4, seed=batch)
    _compare_with_torch(model, X, y, "softmax_ce")
    hidden = [layer for layer in model.layers if isinstance(layer, Dense)]
    assert [d.feature_major for d in hidden] == [True, True, False]
    z = hidden[0].forward(X, training=True)
    assert nn._feature_major(z) == (batch < nn.FEATURE_MAJOR_BELOW)
    assert not nn._feature_major(hidden[-1].forward(np.ones((batch, 6)), training=True))


def test_activation_keeps_a_feature_major_layout():
    # The same values from a feature-major input as from a C-contiguous one, and the output
    # and ∂L/∂z in the input's layout (the fast kernels and the public fallback).
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 5))
    up = rng.normal(size=(6, 5))
    for layer in (Activation("tanh"), Activation("leaky_relu", negative_slope=-0.5)):
        ref = Activation(layer.name, **layer.options)
        a_ref, d_ref = ref.forward(z, True).copy(), ref.backward(up).copy()
        a = layer.forward(np.asfortranarray(z), True)
        assert a.flags.f_contiguous and not a.flags.c_contiguous
        np.testing.assert_array_equal(a, a_ref)
        d = layer.backward(up)  # a C-contiguous upstream is put in a's layout
        assert d.flags.f_contiguous and not d.flags.c_contiguous
        np.testing.assert_array_equal(d, d_ref)
    np.testing.assert_allclose(a_ref, np.where(z > 0, z, -0.5 * z))  # textbook leaky ReLU
    np.testing.assert_allclose(d_ref, up * np.where(z > 0, 1.0, -0.5))


def test_seed_001_two_layer_mlp_formula():
    # f = W2 max(0, W1 x + b1) + b2, written out in NumPy from the seed.
    model = MLP([3, 5, 2], "relu", loss="mse", dtype=np.float64, seed=3)
    W1, b1, W2, b2 = model.parameters()
    x = np.random.default_rng(0).normal(size=(4, 3))
    expected = np.stack([W2 @ np.maximum(0, W1 @ xi + b1) + b2 for xi in x])
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


def test_mixed_activations_batchnorm_dropout_match_torch():
    model = MLP([6, 8, 7, 3], ["tanh", "leaky_relu"], batchnorm=True, dropout=0.3,
                negative_slope=0.2, dtype=np.float64, seed=2)
    X, y = _data(10, 6, 3)
    tmodel = _compare_with_torch(model, X, y, "softmax_ce")
    # Running statistics after one training step, then evaluation mode, as torch.
    torch = _torch()
    tbn = [m for m in tmodel if isinstance(m, torch.nn.BatchNorm1d)]
    ours = [layer for layer in model.layers if isinstance(layer, BatchNorm)]
    for a, b in zip(ours, tbn):
        np.testing.assert_allclose(a.running_mean, b.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(a.running_var, b.running_var.numpy(), rtol=1e-12)
    tmodel.eval()
    for layer in model.layers:
        if isinstance(layer, Dropout):
            layer._mask = None  # evaluation: torch copy multiplies by nothing
    np.testing.assert_allclose(model.forward(X, training=False),
                               tmodel(torch.from_numpy(X)).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("act", ACTS)
def test_mlp_gradcheck(act):
    model = MLP([4, 5, 3], act, batchnorm=True, dropout=0.25, dtype=np.float64, seed=4)
    X, y = _data(6, 4, 3, seed=5)
    drop = [layer for layer in model.layers if isinstance(layer, Dropout)]

    def fn(flat):
        model.flat_params[...] = flat
        for layer in drop:
            layer.reseed(7)  # the same mask at every evaluation
        loss = model.loss_and_backward(X, y)
        return loss, model.flat_grads.copy()

    assert gradcheck(fn, model.flat_params.copy())


def test_sigmoid_output_mse_head_is_seed_000_delta():
    # Seed 000: δ_L = (a_L − y) ⊙ a_L (1 − a_L) for a sigmoid output and squared error.
    model = MLP([3, 2], loss="mse", output_activation="sigmoid", dtype=np.float64, seed=0)
    X, y = _data(5, 3, 2, head="mse", out=2)
    model.loss_and_backward(X, y)
    W, b = model.parameters()
    a = 1 / (1 + np.exp(-(X @ W.T + b)))
    delta = (a - y) * a * (1 - a) * 2 / a.size  # mean of squares: factor 2/size
    np.testing.assert_allclose(model.gradients()[0], delta.T @ X, rtol=1e-10)
    np.testing.assert_allclose(model.gradients()[1], delta.sum(axis=0), rtol=1e-10)


# --------------------------------------------------------------------------- flat buffers


def test_parameters_are_consecutive_views_of_one_buffer():
    model = MLP([4, 6, 3], "relu", batchnorm=True, seed=0)
    flat, pos = model.flat_params, 0
    for p, g in zip(model.parameters(), model.gradients()):
        assert np.shares_memory(p, flat) and np.shares_memory(g, model.flat_grads)
        offset = (p.ctypes.data - flat.ctypes.data) // flat.itemsize
        assert offset == pos and p.flags.c_contiguous
        pos += p.size
    assert pos == flat.size == 4 * 6 + 6 * 2 + 6 * 3 + 3  # no hidden bias under batch norm
    assert flat.dtype == np.float32


def test_sgd_momentum_training_matches_torch_step_for_step():
    torch = _torch()
    from runtime.optim import SGD

    model = MLP([5, 8, 3], "tanh", dtype=np.float64, seed=6)
    tmodel = _torch_copy(model)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    X, y = _data(16, 5, 3, seed=7)
    for _ in range(5):
        model.loss_and_backward(X, y)
        opt.step(model.gradients())
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        topt.step()
    for a, b in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_state_dict_round_trip_and_predictions():
    model = MLP([4, 6, 3], "relu", batchnorm=True, seed=0)
    X, y = _data(12, 4, 3)
    model.loss_and_backward(X, y)
    state = model.state_dict()
    other = MLP([4, 6, 3], "relu", batchnorm=True, seed=99)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.forward(X, training=False), model.forward(X, training=False))
    proba = model.predict_proba(X)
    logits = model.forward(X, training=False).astype(np.float64)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))  # textbook oracle
    np.testing.assert_allclose(proba, softmax / softmax.sum(axis=1, keepdims=True), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    assert model.accuracy(X, y) == np.mean(model.predict(X) == y)


def test_forward_returns_a_fresh_array():
    model = MLP([3, 4, 2], seed=0)
    X = np.ones((2, 3))
    first = model.forward(X)
    model.forward(2 * X)
    np.testing.assert_array_equal(first, model.forward(X))


# --------------------------------------------------------------------------- batch norm


def test_batchnorm_layer_gradcheck_and_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(7, 4)) * 3 + 1, rng.normal(size=(7, 4))
    model = Sequential([BatchNorm(4)], loss="mse", dtype=np.float64, seed=0)
    bn = model.layers[0]
    bn.params["weight"][...] = rng.normal(size=4)
    bn.params["bias"][...] = rng.normal(size=4)

    def fn(x, w, b):
        bn.params["weight"][...], bn.params["bias"][...] = w, b
        y = bn.forward(x, training=True)
        dx = bn.backward(g)
        return float(np.sum(y * g)), (dx, bn.grads["weight"].copy(), bn.grads["bias"].copy())

    w0, b0 = bn.params["weight"].copy(), bn.params["bias"].copy()
    assert gradcheck(fn, (x, w0, b0))
    _, (dx, dw, db) = fn(x, w0, b0)
    xt = torch.from_numpy(x).requires_grad_()
    wt, bt = torch.from_numpy(w0).requires_grad_(), torch.from_numpy(b0).requires_grad_()
    yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-9)


def test_batchnorm_eval_mode_and_running_stats_match_torch():
    torch = _torch()
    rng = np.random.default_rng(1)
    bn = Sequential([BatchNorm(3, momentum=0.2)], loss="mse", dtype=np.float64).layers[0]
    tbn = torch.nn.BatchNorm1d(3, momentum=0.2, dtype=torch.float64)
    for _ in range(4):
        x = rng.normal(size=(5, 3)) * 2 - 1
        np.testing.assert_allclose(bn.forward(x, training=True),
                                   tbn.train()(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-12)
    x = rng.normal(size=(2, 3))
    xt = torch.from_numpy(x).requires_grad_()
    yt = tbn.eval()(xt)
    np.testing.assert_allclose(bn.forward(x, training=False), yt.detach().numpy(), rtol=1e-10)
    g = rng.normal(size=(2, 3))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(bn.backward(g), xt.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="more than 1 sample"):
        bn.forward(x[:1], training=True)


def test_runtime_batchnorm_rule_is_the_derived_closed_form():
    sp = pytest.importorskip("sympy", reason="the derivation is built with SymPy")
    from derive import batchnorm as B
    import derive

    d = derive.get("batchnorm")
    rng = np.random.default_rng(2)
    n = 4
    x, g = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    gamma, beta, eps = 1.7, -0.3, 1e-5
    bn = Sequential([BatchNorm(1, eps=eps)], loss="mse", dtype=np.float64).layers[0]
    bn.params["weight"][...], bn.params["bias"][...] = gamma, beta
    bn.forward(x, training=True)
    dx = bn.backward(g)[:, 0]
    mean, var = x.mean(), x.var()
    xhat = (x[:, 0] - mean) / np.sqrt(var + eps)
    closed = d.gradient("x[k]").subs(B.N, n).doit()
    subs = {B.gamma: gamma, B.eps: eps, B.var: var, **{B.g[j]: g[j, 0] for j in range(n)},
            **{B.xhat[j]: xhat[j] for j in range(n)}}
    expected = [float(closed.subs(B.k, k).subs(subs)) for k in range(n)]
    np.testing.assert_allclose(dx, expected, rtol=1e-10)
    np.testing.assert_allclose(bn.grads["weight"][0], float(d.gradient("gamma").subs(B.N, n).doit()
                                                            .subs(subs)), rtol=1e-10)


def test_batchnorm_derivation_is_checked():
    derive = pytest.importorskip("derive", reason="derive is the package under test")
    from derive import batchnorm as B
    from derive.core import DEFINITION

    d = derive.get("batchnorm")
    assert d.group == "layer" and derive.registry.canonical("batch-norm") == "batchnorm"
    for v in d.wrt:
        steps = d.steps_for(v)
        assert all(s.check != DEFINITION for s in steps[1:] if not s.rule.startswith(
            ("x̂_i depends", "σ² reaches", "μ reaches", "total derivative")))
    # A wrong closed form (the x̂ term's sign flipped) is rejected by the independent check.
    sp = pytest.importorskip("sympy", reason="the derivation is built with SymPy")
    wrong = B.gamma / (B.N * B.STD) * (B.N * B.g[B.k] - sp.Sum(B.g[B.i], (B.i, 0, B.N - 1))
                                       + B.xhat[B.k] * sp.Sum(B.g[B.i] * B.xhat[B.i], (B.i, 0, B.N - 1)))
    with pytest.raises(B.StepCheckError):
        B._check_closed_form(wrong, sizes=(2,))


# --------------------------------------------------------------------------- dropout


def test_dropout_inverted_mask_statistics_and_backward():
    drop = Dropout(0.3, seed=0)
    x = np.ones((400, 50))
    y = drop.forward(x, training=True)
    kept = y != 0
    assert np.mean(kept) == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # E[y] = x
    g = np.random.default_rng(0).normal(size=x.shape)
    np.testing.assert_allclose(drop.backward(g), np.where(kept, g / 0.7, 0), rtol=1e-15)
    np.testing.assert_array_equal(drop.forward(x, training=False), x)
    a = Dropout(0.5, seed=3).forward(x, training=True)
    b = Dropout(0.5, seed=3).forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Dropout(0.5, seed=4).forward(x, training=True))


def test_dropout_matches_the_derived_rule():
    derive = pytest.importorskip("derive", reason="derive holds the dropout rule")
    from derive import batchnorm as B

    d = derive.get("dropout")
    drop = Dropout(0.4, seed=1)
    x = np.random.default_rng(1).normal(size=(3, 4))
    drop.forward(x, training=True)
    g = np.ones_like(x)
    mask = drop._mask.astype(float)
    rule = np.vectorize(lambda m, gg: float(d.gradient().subs({B.m: m, B.g_d: gg, B.p: 0.4})))
    np.testing.assert_allclose(drop.backward(g), rule(mask, g), rtol=1e-6)


# --------------------------------------------------------------------------- errors


def test_bad_input():
    with pytest.raises(ValueError, match="activation='swish'"):
        MLP([2, 3, 1], "swish")
    with pytest.raises(ValueError, match="loss='hinge'"):
        MLP([2, 3, 1], loss="hinge")
    with pytest.raises(ValueError, match="2 entries for 1 hidden layers"):
        MLP([2, 3, 1], ["relu", "tanh"])
    with pytest.raises(ValueError, match="dropout probability p must be in \\[0, 1\\), got 1.0"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="output_activation='sigmoid' is not allowed"):
        MLP([2, 1], loss="bce", output_activation="sigmoid")
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        Dense(0, 3)
    model = MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match="got input of shape \\(2, 5\\)"):
        model.forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        MLP([2, 1], dtype=np.int32)


def test_batchnorm_float32_kernels_match_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(64, 16)) * 3 + 2).astype(np.float32)
    g = rng.normal(size=(64, 16)).astype(np.float32)
    bn = Sequential([BatchNorm(16)], loss="mse", dtype=np.float32).layers[0]
    bn.params["weight"][...] = rng.normal(size=16)
    tbn = torch.nn.BatchNorm1d(16)
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(bn.params["weight"]))
    xt = torch.from_numpy(x).requires_grad_()
    yt = tbn.train()(xt)
    yt.backward(torch.from_numpy(g))
    y = bn.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.backward(g), xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(bn.grads["weight"], tbn.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-5)


def test_generated_layer_kernels_are_up_to_date():
    pytest.importorskip("sympy", reason="regenerating needs derive (SymPy)")
    from codegen.numba_layers import drift

    diff = drift()
    assert diff == "", f"runtime/generated/numba_layers.py drifted; run `python -m codegen.generate --update`:\n{diff}"


def test_load_state_dict_from_torch_is_strict_like_torch():
    torch = pytest.importorskip("torch", reason="PyTorch (the oracle) is not installed")
    tnn = torch.nn
    torch.manual_seed(0)
    twin = tnn.Sequential(tnn.Linear(4, 6, bias=False), tnn.BatchNorm1d(6), tnn.ReLU(), tnn.Linear(6, 3)).double()
    with torch.no_grad():  # running statistics away from their initial 0 and 1
        twin.train()(torch.randn(32, 4, dtype=torch.float64) * 3 + 1)
    twin.eval()
    model = MLP([4, 6, 3], "relu", batchnorm=True, dtype=np.float64, seed=5)
    state = {k: v.numpy() for k, v in twin.state_dict().items()}
    assert any(k.endswith("num_batches_tracked") for k in state)  # torch's counter: accepted
    model.load_state_dict(state)
    X = np.random.default_rng(1).standard_normal((7, 4))
    np.testing.assert_allclose(model.forward(X, training=False),
                               twin(torch.from_numpy(X)).detach().numpy(), rtol=1e-12, atol=1e-12)
    typo = dict(state, **{"0.wieght": state["0.weight"]})
    del typo["0.weight"]
    with pytest.raises(KeyError, match=r"missing keys \['0.weight'\]; unexpected keys \['0.wieght'\]"):
        model.load_state_dict(typo)
    before = model.state_dict()["0.weight"].copy()
    partial = {"3.bias": np.full(3, 7.0), "extra": np.zeros(1)}
    model.load_state_dict(partial, strict=False)  # copies the keys both have, as torch
    np.testing.assert_array_equal(model.state_dict()["3.bias"], np.full(3, 7.0))
    np.testing.assert_array_equal(model.state_dict()["0.weight"], before)


def test_backward_checks_grad_output_shape():
    # a grad_output of the output's size but another shape (here the transpose: rows taken
    # for columns) would give wrong gradients silently; before any forward there is no output
    model = MLP([5, 7, 3], "tanh", loss="mse", dtype=np.float64, seed=0)
    with pytest.raises(ValueError, match="needs a forward pass first"):
        model.backward(np.ones((300, 3)))
    out = model.forward(np.ones((300, 5)), training=True)
    assert out.shape == (300, 3)
    with pytest.raises(ValueError, match=r"grad_output has shape \(3, 300\), but the last "
                                         r"forward pass gave an output of shape \(300, 3\)"):
        model.backward(np.ones((3, 300)))
    model.backward(np.ones((300, 3)))  # the right shape goes through
