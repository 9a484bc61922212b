"""runtime.nn's public API as a PyTorch user meets it on the host: BatchNorm over many steps
and in both modes, Dropout, switching modes mid-training, parameter views after steps, loads
and copies, state dicts both ways, constructor validation, input checks, empty and NaN
batches. Oracles: torch.nn modules on the same weights and inputs, NumPy textbook formulas,
and the documented contract (module docstrings)."""
import copy
import pickle

import numpy as np
import pytest

from runtime import optim as ro
from runtime.nn import MLP, Activation, BatchNorm, Dense, Dropout, Sequential


def _torch():
    return pytest.importorskip("torch", reason="torch.nn is the oracle for these layers")


def _twin(torch, model):
    """The model's network as torch.nn modules with its current weights and running
    statistics; a Dropout becomes a module multiplying by our layer's last mask / (1 - p) in
    training mode (identity in eval mode, as torch.nn.Dropout)."""
    tdt = torch.float64 if model.dtype == np.float64 else torch.float32

    class MaskOf(torch.nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            m = self.layer._mask
            if not self.training or m is None:
                return x
            dt = np.float64 if x.dtype == torch.float64 else np.float32
            return x * torch.from_numpy(m.astype(dt)) / (1 - self.layer.p)

    mods = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            m = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias, dtype=tdt)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.params["weight"].copy()))
                if layer.bias:
                    m.bias.copy_(torch.from_numpy(layer.params["bias"].copy()))
        elif isinstance(layer, BatchNorm):
            m = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                     dtype=tdt)
            with torch.no_grad():
                for name in ("weight", "bias"):
                    getattr(m, name).copy_(torch.from_numpy(layer.params[name].copy()))
                m.running_mean.copy_(torch.from_numpy(layer.running_mean.copy()))
                m.running_var.copy_(torch.from_numpy(layer.running_var.copy()))
        elif isinstance(layer, Activation):
            m = {"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid(),
                 "leaky_relu": torch.nn.LeakyReLU(layer.options.get("negative_slope", 0.01))
                 }[layer.name]
        else:
            m = MaskOf(layer)
        mods.append(m)
    return torch.nn.Sequential(*mods)


def _randomize(model, seed=1):
    """Batch norm's γ, β away from 1, 0 (they start there)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, BatchNorm):
            layer.params["weight"][...] = 1 + 0.3 * rng.standard_normal(layer.num_features)
            layer.params["bias"][...] = 0.3 * rng.standard_normal(layer.num_features)


def _data(n=16, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * 2 + 1, rng.integers(0, classes, size=n)


def _bound_bn(num_features, dtype, **kw):
    return Sequential([BatchNorm(num_features, **kw)], loss="mse", dtype=dtype).layers[0]


# --------------------------------------------------------------------------- batch norm


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("momentum", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("n", [2, 3, 300])
def test_batchnorm_running_statistics_and_eval_over_steps_match_torch(dtype, tol, momentum, n):
    torch = _torch()
    rng = np.random.default_rng(n)
    bn = _bound_bn(5, dtype, momentum=momentum, eps=1e-3)
    w, b = rng.normal(size=5).astype(dtype), rng.normal(size=5).astype(dtype)
    bn.params["weight"][...], bn.params["bias"][...] = w, b
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tbn = torch.nn.BatchNorm1d(5, momentum=momentum, eps=1e-3, dtype=tdt)
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(w))
        tbn.bias.copy_(torch.from_numpy(b))
    for _ in range(6):
        x = (rng.normal(size=(n, 5)) * 3 + 5).astype(dtype)
        np.testing.assert_allclose(bn.forward(x, training=True),
                                   tbn.train()(torch.from_numpy(x)).detach().numpy(),
                                   rtol=tol, atol=tol)
    assert bn.running_mean.dtype == bn.running_var.dtype == dtype
    np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=tol, atol=tol)
    x = (rng.normal(size=(1, 5)) * 3 + 5).astype(dtype)  # a batch of 1 is fine in eval mode
    np.testing.assert_allclose(bn.forward(x, training=False),
                               tbn.eval()(torch.from_numpy(x)).detach().numpy(), rtol=tol, atol=tol)


def test_batchnorm_momentum_one_keeps_the_last_batch_statistics_textbook():
    rng = np.random.default_rng(3)
    bn = _bound_bn(4, np.float64, momentum=1.0)
    for _ in range(3):
        x = rng.normal(size=(7, 4)) * 2 - 3
        bn.forward(x, training=True)
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1), rtol=1e-13)  # unbiased


@pytest.mark.parametrize("shape", [(6, 4, 2), (6, 5), (6, 3)])
def test_batchnorm_input_of_the_wrong_shape_is_a_clear_error(shape):
    # torch.nn.BatchNorm1d(4) refuses a (6, 5) input with a message naming the sizes; here a
    # 3-D input failed inside Numba's typing and a wrong width spoke of "gamma"
    model = Sequential([BatchNorm(4), Activation("relu"), Dense(4, 2)], loss="mse",
                       dtype=np.float64)
    for training in (True, False):
        with pytest.raises(ValueError, match=rf"BatchNorm\(4\) got input of shape "
                                             rf"{re_shape(shape)}; expected \(batch, 4\)"):
            model.forward(np.ones(shape), training=training)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_batchnorm_nan_in_one_feature_spreads_like_torch():
    torch = _torch()
    model = Sequential([BatchNorm(2)], loss="mse", dtype=np.float64)
    X = np.column_stack([[np.nan, 1.0, 2.0, 4.0], [1.0, 2.0, 3.0, 5.0]])
    tbn = torch.nn.BatchNorm1d(2, dtype=torch.float64)
    np.testing.assert_allclose(model.forward(X, training=True),
                               tbn(torch.from_numpy(X)).detach().numpy(), rtol=1e-12)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_a_model_keeps_one_minus_p_scaled_by_its_inverse(dtype, p):
    # inverted dropout, as torch.nn.Dropout: each entry kept with probability 1 - p and
    # scaled by 1/(1 - p); the kept count within 5 standard deviations of the binomial's mean
    model = Sequential([Dropout(p, seed=7)], loss="mse", dtype=dtype)
    X = np.full((200, 100), 3.0, dtype=dtype)
    out = model.forward(X, training=True)
    kept = out != 0
    n = X.size
    assert abs(kept.sum() - n * (1 - p)) < 5 * np.sqrt(n * p * (1 - p))
    np.testing.assert_allclose(out[kept], 3.0 / (1 - p), rtol=1e-6)
    model.eval()
    np.testing.assert_array_equal(model.forward(X), X)  # eval: the identity
    np.testing.assert_array_equal(model.train().forward(X, training=False), X)


def test_dropout_zero_is_the_identity_in_training_too():
    X = np.random.default_rng(0).normal(size=(5, 4))
    model = Sequential([Dropout(0.0, seed=1)], loss="mse", dtype=np.float64)
    np.testing.assert_array_equal(model.forward(X, training=True), X)


def test_seeded_dropout_mlp_is_repeatable_and_the_seed_matters():
    # the contract: "the mask comes from a NumPy Generator seeded by seed"; an MLP's seed
    # makes its weights and its dropout seeds. Oracle for the masks: the zeros of the output
    # (the last layer is Dropout, so a zero is a dropped entry).
    X = np.random.default_rng(1).normal(size=(32, 6)) + 10  # inputs far from 0
    def masks(seed):
        model = Sequential([Dense(6, 8), Activation("sigmoid"), Dropout(0.5, seed=seed)],
                           loss="mse", dtype=np.float64, seed=0)
        return [model.forward(X, training=True) == 0 for _ in range(3)]
    a, b, c = masks(3), masks(3), masks(4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1])  # a new mask each training forward
    assert not np.array_equal(a[0], c[0])


# --------------------------------------------------------------------------- modes


def test_switching_modes_mid_training_matches_torch_step_for_step():
    torch = _torch()
    F = torch.nn.functional
    model = MLP([4, 6, 5, 3], ["tanh", "relu"], batchnorm=True, dropout=0.25,
                dtype=np.float64, seed=2)
    _randomize(model)
    twin = _twin(torch, model)
    opt = ro.SGD(model.flat_parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    X, y = _data(12, 4, 3, seed=4)
    Xv = np.random.default_rng(5).normal(size=(3, 4))
    for step in range(4):
        model.train()
        loss = model.loss_and_backward(X, y)
        twin.train()
        tloss = F.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
        topt.zero_grad()
        tloss.backward()
        assert loss == pytest.approx(tloss.item(), rel=1e-10)
        opt.step(model.flat_gradients())
        topt.step()
        # mid-training evaluation: running statistics read, not updated; dropout off
        model.eval()
        twin.eval()
        with torch.no_grad():
            expect = twin(torch.from_numpy(Xv)).numpy()
        np.testing.assert_allclose(model.forward(Xv), expect, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(model.predict(Xv), expect.argmax(axis=1))
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-9, atol=1e-12)
    bns = [m for m in twin if isinstance(m, torch.nn.BatchNorm1d)]
    ours = [layer for layer in model.layers if isinstance(layer, BatchNorm)]
    for a, b in zip(ours, bns):
        np.testing.assert_allclose(a.running_mean, b.running_mean.numpy(), rtol=1e-10)
        np.testing.assert_allclose(a.running_var, b.running_var.numpy(), rtol=1e-10)


# --------------------------------------------------------------------------- views and state


def _views_of_flat(model):
    return (all(np.shares_memory(p, model.flat_params) for p in model.parameters())
            and all(np.shares_memory(g, model.flat_grads) for g in model.gradients()))


def test_views_stay_views_after_steps_and_loads_and_an_earlier_optimizer_still_steps():
    torch = _torch()
    X, y = _data()
    src = MLP([4, 6, 3], "relu", batchnorm=True, dtype=np.float64, seed=0)
    _randomize(src)
    model = MLP([4, 6, 3], "relu", batchnorm=True, dtype=np.float64, seed=9)
    opt = ro.Adam(model.parameters(), lr=1e-2)  # built before the load, as in torch
    for _ in range(2):
        model.loss_and_backward(X, y)
        opt.step(model.gradients())
    assert _views_of_flat(model)
    model.load_state_dict(src.state_dict())
    assert _views_of_flat(model)
    twin = _twin(torch, model)  # the loaded weights, as torch would hold them
    tlr = 0.5
    sgd = ro.SGD(model.flat_parameters(), lr=tlr)
    model.loss_and_backward(X, y)
    sgd.step(model.flat_gradients())
    twin.train()
    torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p, (q - tlr * q.grad).detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_trains_through_its_flat_buffers_like_torch(how):
    # copy.deepcopy (a torch user's best-model snapshot) raised "cannot pickle 'module'"
    # (the model kept NumPy's module); the copy must keep its layers as views of its own
    # flat buffers, or an optimizer on flat_parameters() steps weights no layer reads
    torch = _torch()
    X, y = _data()
    model = MLP([4, 6, 3], "tanh", batchnorm=True, dtype=np.float64, seed=0)
    _randomize(model)
    model.loss_and_backward(X, y)  # running statistics away from 0 and 1
    twin = _twin(torch, model)
    c = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    assert _views_of_flat(c)
    opt = ro.SGD(c.flat_parameters(), lr=0.5)
    c.loss_and_backward(X, y)
    opt.step(c.flat_gradients())
    twin.train()
    torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    with torch.no_grad():
        for q in twin.parameters():
            q -= 0.5 * q.grad
        twin.eval()
        expect = twin(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(c.forward(X, training=False), expect, rtol=1e-10, atol=1e-12)
    # the original is untouched by the copy's step: the twin's weights before it
    np.testing.assert_allclose(model.layers[0].params["weight"],
                               (twin[0].weight + 0.5 * twin[0].weight.grad).detach().numpy(),
                               rtol=1e-12, atol=1e-14)


def test_layers_of_a_live_model_are_refused_by_a_second_model():
    # a second Sequential rebound the layers to its own buffer: the first model's flat
    # buffer (and any optimizer on flat_parameters()) no longer reached its layers
    first = Sequential([Dense(4, 6), Activation("relu"), Dense(6, 3)], dtype=np.float64, seed=0)
    with pytest.raises(ValueError, match=r"layers\[0\] \(Dense\(4, 6.*belongs to another model"):
        Sequential(first.layers, dtype=np.float64, seed=1)
    assert _views_of_flat(first)
    # copies of the layers are layers of no model
    second = Sequential([copy.deepcopy(layer) for layer in first.layers], dtype=np.float64)
    assert _views_of_flat(second) and _views_of_flat(first)


def test_torch_state_dict_tensors_load_and_torch_loads_ours():
    torch = _torch()
    tnn = torch.nn
    torch.manual_seed(0)
    twin = tnn.Sequential(tnn.Linear(4, 6, bias=False), tnn.BatchNorm1d(6), tnn.ReLU(),
                          tnn.Dropout(0.3), tnn.Linear(6, 3)).double()
    with torch.no_grad():
        twin.train()(torch.randn(32, 4, dtype=torch.float64) * 3 + 1)
    twin.eval()
    X = np.random.default_rng(1).standard_normal((7, 4))
    with torch.no_grad():
        expect = twin(torch.from_numpy(X)).numpy()
    model = MLP([4, 6, 3], "relu", batchnorm=True, dropout=0.3, dtype=np.float64, seed=5)
    model.load_state_dict(twin.state_dict())  # torch tensors, as torch hands them over
    np.testing.assert_allclose(model.forward(X, training=False), expect, rtol=1e-12, atol=1e-12)
    other = tnn.Sequential(tnn.Linear(4, 6, bias=False), tnn.BatchNorm1d(6), tnn.ReLU(),
                           tnn.Dropout(0.3), tnn.Linear(6, 3)).double().eval()
    other.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    with torch.no_grad():
        np.testing.assert_allclose(other(torch.from_numpy(X)).numpy(), expect, rtol=1e-12,
                                   atol=1e-12)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("sizes,match", [
    ([2, 0, 1], r"sizes must hold positive ints, got 0"),
    ([2, -3, 1], r"sizes must hold positive ints, got -3"),
    ([2, 2.5, 1], r"sizes must hold positive ints, got 2.5"),
    ([2, True, 1], r"sizes must hold positive ints, got True"),
    ([0, 3], r"sizes must hold positive ints, got 0"),
])
def test_mlp_bad_sizes_name_sizes_and_the_value(sizes, match):
    with pytest.raises(ValueError, match=match):
        MLP(sizes, seed=0)


def test_mlp_sizes_not_a_list_names_sizes():
    with pytest.raises(TypeError, match=r"sizes must be a list of layer widths, got 5"):
        MLP(5)


@pytest.mark.parametrize("sizes", [[2, 3], [2, 4, 3]])
def test_mlp_unknown_activation_is_refused_even_without_a_hidden_layer(sizes):
    with pytest.raises(ValueError, match=r"activation='swish' is not supported"):
        MLP(sizes, "swish")


@pytest.mark.parametrize("dtype,shown", [(None, "None"), ("foo", "'foo'"), (np.int32, "int32"),
                                         ("float16", "float16")])
def test_mlp_bad_dtype_names_dtype_and_the_value(dtype, shown):
    # dtype=None built a float64 model (np.dtype(None) is float64), not the documented
    # float32 default; "foo" was NumPy's TypeError naming no argument
    with pytest.raises(ValueError, match=rf"dtype must be float32 or float64, got {shown}"):
        MLP([2, 3, 1], dtype=dtype)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_mlp_bad_dropout_names_it_and_the_value(p):
    with pytest.raises(ValueError, match=rf"dropout probability p must be in \[0, 1\), got {p}"):
        MLP([2, 3, 1], dropout=p)


# --------------------------------------------------------------------------- inputs


def test_empty_batches_give_empty_outputs_and_a_nan_mean_loss_like_torch():
    torch = _torch()
    model = MLP([4, 6, 3], "relu", dtype=np.float64, seed=0)
    twin = _twin(torch, model)
    X = np.ones((0, 4))
    with torch.no_grad():
        tout = twin(torch.from_numpy(X))
        tloss = torch.nn.functional.cross_entropy(tout, torch.zeros(0, dtype=torch.long))
    assert model.forward(X).shape == tuple(tout.shape) == (0, 3)
    assert model.predict(X).shape == (0,)
    assert np.isnan(model.loss(X, np.zeros(0, dtype=np.int64))) and np.isnan(tloss.item())
    bn = MLP([4, 6, 3], "relu", batchnorm=True, seed=0)
    assert bn.forward(X, training=False).shape == (0, 3)
    with pytest.raises(ValueError, match=r"more than 1 sample per batch"):
        bn.forward(X, training=True)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("n", [4, 300])  # both layouts (Dense.feature_major)
def test_a_nan_input_row_gives_nan_in_that_row_only_like_torch(act, n):
    torch = _torch()
    model = MLP([3, 5, 2], act, loss="mse", dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(n, 3))
    X[1, 0] = np.nan
    with torch.no_grad():
        expect = _twin(torch, model)(torch.from_numpy(X)).numpy()
    out = model.forward(X, training=False)
    assert np.isnan(expect[1]).all()
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)  # NaNs compared equal


def test_repr_lists_the_layers_in_order_with_their_options():
    model = MLP([4, 6, 3], "leaky_relu", batchnorm=True, dropout=0.25, seed=0)
    text = repr(model)
    order = ["Dense(4, 6, bias=False", "BatchNorm(6, eps=1e-05, momentum=0.1)",
             "Activation('leaky_relu', negative_slope=0.01)", "Dropout(p=0.25)", "Dense(6, 3"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    # parameter count from the textbook: W1 (no bias under batch norm), γ, β, W2, b2
    assert f"parameters={4 * 6 + 6 + 6 + 6 * 3 + 3}" in text and "dtype=float32" in text


@pytest.mark.parametrize("mode", ["False", 0, None])
def test_train_mode_must_be_a_bool_like_torch(mode):
    # bool("False") is True: model.train("False") silently stayed in training mode
    torch = _torch()
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        torch.nn.Linear(2, 2).train(mode)
    model = MLP([2, 3, 1], seed=0).eval()
    with pytest.raises(ValueError, match=rf"training mode is expected to be a bool, got "
                                         rf"mode={mode!r}"):
        model.train(mode)
    assert model.training is False
    assert model.train(np.bool_(True)).training is True


# --------------------------------------------------------------------------- fit


@pytest.mark.parametrize("which", ["X", "validation X"])
@pytest.mark.parametrize("bad", [(20, 5), (20, 4, 1)])
def test_fit_checks_the_input_width_before_the_first_update_naming_the_argument(which, bad):
    # fit's contract: "X, y, the class labels and validation are checked before the first
    # update; an error names the argument". A validation X of the wrong width was found by
    # the model only after a whole epoch of updates, in a message naming no argument.
    from runtime.train import fit

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    model = MLP([4, 6, 3], "relu", batchnorm=True, dtype=np.float64, seed=0)
    before = model.state_dict()
    wrong = np.ones(bad)
    args = (wrong, y, None) if which == "X" else (X, y, (wrong, y))
    with pytest.raises(ValueError, match=rf"^{which} has shape {re_shape(bad)} but the model "
                                         rf"takes 4 features per sample"):
        fit(model, args[0], args[1], ro.SGD(model.parameters(), lr=0.1), epochs=2,
            batch_size=5, validation=args[2], progress=False)
    for name, value in model.state_dict().items():  # no update was made
        np.testing.assert_array_equal(value, before[name])


def test_fit_takes_a_one_dimensional_x_for_a_one_feature_model():
    # the model reads a 1-D X as n samples of one feature (runtime.nn's _input), so fit does
    from runtime.train import fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=32)
    y = 3 * x - 1
    model = MLP([1, 1], loss="mse", dtype=np.float64, seed=0)
    fit(model, x, y, ro.SGD(model.parameters(), lr=0.3), epochs=60, batch_size=None,
        progress=False, threads=None)
    w, b = model.layers[0].params["weight"][0, 0], model.layers[0].params["bias"][0]
    assert w == pytest.approx(3, abs=1e-3) and b == pytest.approx(-1, abs=1e-3)  # y = 3x - 1
