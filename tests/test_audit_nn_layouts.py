"""Audit of runtime/nn.py's host (NumPy/Numba) path against independent oracles.

Every test compares the model's loss, gradients, outputs or running statistics with PyTorch
float64 autograd on the same weights (written out functionally here, layer by layer, from
the model's parameters), or with central finite differences. Covered: batch sizes changing
across the feature-major / batch-major switch (FEATURE_MAJOR_BELOW) with one model, Sequential
models mixing fused pairs, BatchNorm and Dropout, evaluation mode, unusual inputs (dtype,
layout, 1-D), every regression head with an output activation, the bce head, class labels of
small integer dtypes, repeated forward / backward calls, leaky_relu slopes ≤ 0 and > 1,
grad_output dtypes and layouts, and layer instances used twice in one Sequential.
"""
import numpy as np
import pytest

from runtime import nn

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (rtol, absolute floor as a fraction of the largest reference gradient). float64: a handful
# of roundings on sums of ≤ 300 terms; float32: products and sums in float32, and entries that
# cancel to ~0 (a bias before batch norm) keep ~1e-5 of the scale
TOL = {np.float64: (1e-10, 1e-12), np.float32: (2e-5, 1e-4)}


# --------------------------------------------------------------------------- oracle


def torch_reference(model, X, y, head, *, training=True, loss_options=None, masks=None,
                    bn_state=None):
    """Loss, parameter gradients (in model.parameters() order) and output of the model's
    network rebuilt in torch float64 from its current parameters.

    masks: the dropout masks of the training forward (one per Dropout layer with p > 0).
    bn_state: a list of (running_mean, running_var) torch tensors, one per BatchNorm layer,
    updated in place by torch's batch_norm (training); default: the model's own statistics
    (copies), which only evaluation mode reads."""
    x = torch.tensor(np.asarray(X, dtype=np.float64))
    if x.ndim == 1:
        x = x[:, None]
    params, h, di, bi = [], x, 0, 0
    for layer in model.layers:
        if isinstance(layer, nn.Dense):
            w = torch.tensor(layer.params["weight"].astype(np.float64), requires_grad=True)
            params.append(w)
            b = None
            if layer.bias:
                b = torch.tensor(layer.params["bias"].astype(np.float64), requires_grad=True)
                params.append(b)
            h = F.linear(h, w, b)
        elif isinstance(layer, nn.Activation):
            if layer.name == "leaky_relu":
                h = F.leaky_relu(h, layer.options.get("negative_slope", 0.01))
            else:
                h = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[layer.name](h)
        elif isinstance(layer, nn.BatchNorm):
            g = torch.tensor(layer.params["weight"].astype(np.float64), requires_grad=True)
            b = torch.tensor(layer.params["bias"].astype(np.float64), requires_grad=True)
            params += [g, b]
            if bn_state is not None:
                rm, rv = bn_state[bi]
            else:
                rm = torch.tensor(layer.running_mean.astype(np.float64))
                rv = torch.tensor(layer.running_var.astype(np.float64))
            bi += 1
            h = F.batch_norm(h, rm, rv, g, b, training=training, momentum=layer.momentum,
                             eps=layer.eps)
        elif isinstance(layer, nn.Dropout):
            if training and layer.p > 0:
                h = h * torch.tensor(masks[di].astype(np.float64)) / (1 - layer.p)
                di += 1
        else:
            raise TypeError(layer)
    out, opts = h, dict(loss_options or {})
    if head == "softmax_ce":
        loss = F.cross_entropy(out, torch.tensor(np.asarray(y).astype(np.int64)), **opts)
    else:
        t = torch.tensor(np.asarray(y, np.float64)).reshape(out.shape)
        loss = {"bce": F.binary_cross_entropy_with_logits, "mse": F.mse_loss, "mae": F.l1_loss,
                "smooth_l1": F.smooth_l1_loss, "huber": F.huber_loss}[head](out, t, **opts)
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in params], out.detach().numpy()


def dropout_masks(model):
    return [layer._mask.copy() for layer in model.layers
            if isinstance(layer, nn.Dropout) and layer._mask is not None]


def assert_grads(model, ref, dtype, what=""):
    """Each gradient against torch's, rtol with an absolute floor scaled by the largest entry
    of all reference gradients (entries that cancel to ~0, e.g. a bias before batch norm)."""
    rtol, floor = TOL[dtype]
    scale = max(float(np.max(np.abs(r))) for r in ref)
    ours = model.gradients()
    assert len(ours) == len(ref)
    for (name, _), g, r in zip(model.named_parameters(), ours, ref):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=floor * scale,
                                   err_msg=f"{what} ∂L/∂{name}")


def randomize(model, seed=1):
    """Non-zero biases and batch-norm affine parameters (they start at 0 and 1)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, nn.Dense) and layer.bias:
            layer.params["bias"][...] = 0.5 * rng.standard_normal(layer.out_features)
        if isinstance(layer, nn.BatchNorm):
            layer.params["weight"][...] = 1 + 0.3 * rng.standard_normal(layer.num_features)
            layer.params["bias"][...] = 0.3 * rng.standard_normal(layer.num_features)


def check_step(model, X, y, head, dtype, what="", loss_options=None):
    loss = model.loss_and_backward(X, y)
    ref_loss, ref, _ = torch_reference(model, X, y, head, masks=dropout_masks(model),
                                       loss_options=loss_options)
    assert loss == pytest.approx(ref_loss, rel=TOL[dtype][0] * 10), what
    assert_grads(model, ref, dtype, what)


DTYPES = [np.float32, np.float64]
SEQUENCE = (300, 64, 255, 256, 1, 300, 9, 2, 257, 64)


# --------------------------------------------------------------------------- layout switch


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_batch_size_changes_across_the_layout_switch(act, dtype):
    # One model, batches crossing FEATURE_MAJOR_BELOW both ways (and 1, 2, and a batch equal
    # to a hidden width): every step's gradients are torch's for that step's batch.
    assert nn.FEATURE_MAJOR_BELOW == 256
    model = nn.MLP([7, 9, 8, 5], act, loss="softmax_ce", dtype=dtype, seed=0)
    randomize(model)
    rng = np.random.default_rng(2)
    for n in SEQUENCE:
        X = rng.normal(size=(n, 7)).astype(dtype)
        y = rng.integers(0, 5, size=n)
        check_step(model, X, y, "softmax_ce", dtype, what=f"batch {n}")


def test_layout_switch_with_sgd_steps_in_between():
    # Parameters moving between steps (the flat buffer stepped by runtime.optim) and the
    # batch size changing: each step against torch on the then-current weights.
    from runtime import optim

    dtype = np.float64
    model = nn.MLP([6, 10, 10, 3], ["tanh", "relu"], loss="mse", output_activation="sigmoid",
                   dtype=dtype, seed=3)
    randomize(model)
    opt = optim.SGD(model.flat_parameters(), lr=0.5, momentum=0.9)
    rng = np.random.default_rng(4)
    for n in SEQUENCE:
        X, y = rng.normal(size=(n, 6)), rng.random(size=(n, 3))
        check_step(model, X, y, "mse", dtype, what=f"batch {n}")
        opt.step(model.flat_gradients())


# --------------------------------------------------------------------------- BN / dropout mixes


def _mixed(dtype, seed=0):
    return nn.Sequential([
        nn.Dense(6, 9), nn.Activation("tanh"),                     # fused, feature-major < 256
        nn.Dense(9, 8), nn.BatchNorm(8), nn.Activation("relu"), nn.Dropout(0.3, seed=5),
        nn.Dense(8, 7), nn.Dropout(0.2, seed=6), nn.Activation("sigmoid"),
        nn.Dense(7, 7), nn.Activation("leaky_relu", negative_slope=-0.2),  # unfused, fm
        nn.Dense(7, 6, bias=False), nn.Activation("relu"),          # unpaired, fm
        nn.Dense(6, 4), nn.BatchNorm(4)], loss="softmax_ce", dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_mixed_sequential_over_batch_sequence_with_running_stats(dtype):
    model = _mixed(dtype)
    randomize(model)
    bns = [layer for layer in model.layers if isinstance(layer, nn.BatchNorm)]
    state = [(torch.zeros(b.num_features, dtype=torch.float64),
              torch.ones(b.num_features, dtype=torch.float64)) for b in bns]
    rng = np.random.default_rng(7)
    rtol, _ = TOL[dtype]
    for n in (300, 64, 255, 256, 2, 300, 17):
        X = rng.normal(size=(n, 6)).astype(dtype)
        y = rng.integers(0, 4, size=n)
        loss = model.loss_and_backward(X, y)
        ref_loss, ref, _ = torch_reference(model, X, y, "softmax_ce", masks=dropout_masks(model),
                                           bn_state=state)
        assert loss == pytest.approx(ref_loss, rel=rtol * 10)
        # a batch of 2 through batch norm is ill-conditioned (x̂ = ±1): looser there
        assert_grads(model, ref, dtype) if n > 2 else None
        for b, (rm, rv) in zip(bns, state):  # unbiased running variance, as torch
            np.testing.assert_allclose(b.running_mean, rm.numpy(), rtol=rtol * 10, atol=1e-6)
            np.testing.assert_allclose(b.running_var, rv.numpy(), rtol=rtol * 10, atol=1e-6)
    # evaluation mode: running statistics, no dropout; forward and the eval-mode backward
    for n in (50, 300):
        X, y = rng.normal(size=(n, 6)).astype(dtype), rng.integers(0, 4, size=n)
        out = model.forward(X, training=False)
        ref_loss, ref, ref_out = torch_reference(model, X, y, "softmax_ce", training=False)
        np.testing.assert_allclose(out, ref_out, rtol=rtol * 10, atol=1e-5 if dtype ==
                                   np.float32 else 1e-12)
        assert model.loss(X, y) == pytest.approx(ref_loss, rel=rtol * 10)
        t = torch.tensor(ref_out, requires_grad=True)
        F.cross_entropy(t, torch.tensor(y)).backward()
        model.backward(t.grad.numpy().astype(dtype))
        assert_grads(model, ref, dtype, what=f"eval batch {n}")


@pytest.mark.parametrize("n", [1, 64, 300])
def test_eval_mode_backward_uses_running_statistics(n):
    model = nn.MLP([5, 8, 7, 3], "tanh", dtype=np.float64, seed=0, batchnorm=True,
                   dropout=0.3, loss="mse")
    randomize(model)
    rng = np.random.default_rng(n)
    for layer in model.layers:
        if isinstance(layer, nn.BatchNorm):
            layer.running_mean[...] = rng.normal(size=layer.num_features)
            layer.running_var[...] = rng.random(layer.num_features) + 0.5
    X, y = rng.normal(size=(n, 5)), rng.normal(size=(n, 3))
    out = model.forward(X, training=False)
    model.backward(2 * (out - y) / y.size)
    _, ref, ref_out = torch_reference(model, X, y, "mse", training=False)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    assert_grads(model, ref, np.float64)


@pytest.mark.parametrize("first", ["tanh", "leaky_neg", "batchnorm", "dropout"])
@pytest.mark.parametrize("n", [64, 300])
def test_first_layer_not_dense_with_fortran_input(first, n):
    layer = {"tanh": nn.Activation("tanh"),
             "leaky_neg": nn.Activation("leaky_relu", negative_slope=-0.5),
             "batchnorm": nn.BatchNorm(6), "dropout": nn.Dropout(0.3, seed=2)}[first]
    model = nn.Sequential([layer, nn.Dense(6, 8), nn.Activation("relu"), nn.Dense(8, 3)],
                          loss="softmax_ce", dtype=np.float64, seed=0)
    randomize(model)
    rng = np.random.default_rng(3)
    X = np.asfortranarray(rng.normal(size=(n, 6)))
    check_step(model, X, rng.integers(0, 3, size=n), "softmax_ce", np.float64)


# --------------------------------------------------------------------------- inputs


def _input(kind, n, dtype, rng):
    base = rng.normal(size=(2 * n, 12))
    if kind == "float64":
        return base[:n, :6].copy()
    if kind == "int":
        return rng.integers(-3, 4, size=(n, 6))
    if kind == "bool":
        return rng.random(size=(n, 6)) > 0.5
    if kind == "columns_strided":
        return base[:n, ::2].astype(dtype)
    if kind == "rows_strided":
        return base.astype(dtype)[::2, :6]
    if kind == "transposed":
        return np.ascontiguousarray(base[:n, :6].T).astype(dtype).T
    if kind == "fortran":
        return np.asfortranarray(base[:n, :6].astype(dtype))
    if kind == "broadcast":
        return np.broadcast_to(base[0, :6].astype(dtype), (n, 6))
    if kind == "list":
        return base[:n, :6].tolist()
    raise ValueError(kind)


@pytest.mark.parametrize("n", [1, 64, 300])
@pytest.mark.parametrize("kind", ["float64", "int", "bool", "columns_strided", "rows_strided",
                                  "transposed", "fortran", "broadcast", "list"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_input_dtypes_and_layouts(kind, n, dtype):
    model = nn.MLP([6, 9, 8, 3], "relu", loss="softmax_ce", dtype=dtype, seed=0)
    randomize(model)
    rng = np.random.default_rng(11)
    X = _input(kind, n, dtype, rng)
    y = rng.integers(0, 3, size=n)
    Xd = np.asarray(X).astype(dtype)  # what the model should see: X converted to its dtype
    check_step(model, X, y, "softmax_ce", dtype, what=kind)
    _, _, ref_out = torch_reference(model, Xd, y, "softmax_ce", training=False)
    np.testing.assert_allclose(model.forward(X, training=False), ref_out,
                               rtol=TOL[dtype][0] * 10, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("n", [64, 300])
def test_one_dimensional_input_and_target(n):
    model = nn.MLP([1, 9, 8, 1], "tanh", loss="mse", dtype=np.float64, seed=0)
    randomize(model)
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=n), rng.normal(size=n)
    check_step(model, X, y, "mse", np.float64)
    with pytest.raises(ValueError, match="expected \\(batch, 6\\)"):
        nn.MLP([6, 3], loss="mse", seed=0).forward(np.ones(4))


# --------------------------------------------------------------------------- heads


@pytest.mark.parametrize("n", [64, 300])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("output_activation", [None, "sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("head,options", [("mse", None), ("mae", None), ("smooth_l1", None),
                                          ("smooth_l1", {"beta": 0.3}), ("huber", None),
                                          ("huber", {"delta": 0.4})])
def test_regression_heads_with_output_activation(head, options, output_activation, dtype, n):
    model = nn.MLP([5, 8, 7, 2], "tanh", loss=head, output_activation=output_activation,
                   dtype=dtype, seed=0, loss_options=options)
    randomize(model)
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 5)).astype(dtype)
    y = (2 * rng.normal(size=(n, 2))).astype(dtype)
    check_step(model, X, y, head, dtype, loss_options=options)
    ref_loss, _, _ = torch_reference(model, X, y, head, training=False, loss_options=options)
    assert model.loss(X, y) == pytest.approx(ref_loss, rel=TOL[dtype][0] * 10)


@pytest.mark.parametrize("n", [64, 300])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_bce_head_and_probabilities(outputs, dtype, n):
    model = nn.MLP([5, 8, 7, outputs], "relu", loss="bce", dtype=dtype, seed=0)
    randomize(model)
    rng = np.random.default_rng(n + outputs)
    X = rng.normal(size=(n, 5)).astype(dtype)
    y = (rng.random(size=(n, outputs)) > 0.5).astype(np.int64)  # integer 0/1 targets
    if outputs == 1:
        y = y[:, 0]  # (N,) targets for an (N, 1) output
    check_step(model, X, y, "bce", dtype)
    _, _, ref_out = torch_reference(model, X, y, "bce", training=False)
    np.testing.assert_allclose(model.predict_proba(X), torch.sigmoid(torch.tensor(ref_out)),
                               rtol=TOL[dtype][0] * 10, atol=1e-7)


@pytest.mark.parametrize("n", [64, 300, 20000])
@pytest.mark.parametrize("label_dtype,options", [
    (np.int32, {}), (np.uint8, {}), (np.int16, {"label_smoothing": 0.3}),
    (np.uint64, {}), (np.int32, {"ignore_index": 2}), (np.int32, {"ignore_index": -100}),
    (np.uint8, {"ignore_index": 255}), (np.uint8, {"ignore_index": 1, "label_smoothing": 0.2})])
def test_softmax_ce_small_integer_labels(label_dtype, options, n):
    dtype = np.float32
    model = nn.MLP([5, 8, 4], "relu", dtype=dtype, seed=0, loss_options=options)
    randomize(model)
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 5)).astype(dtype)
    y = rng.integers(0, 4, size=n)
    if "ignore_index" in options:
        y[::3] = options["ignore_index"]
    y = y.astype(label_dtype)
    loss = model.loss_and_backward(X, y)
    ref_loss, ref, ref_out = torch_reference(model, X, y.astype(np.int64), "softmax_ce",
                                             loss_options=options)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert_grads(model, ref, dtype)
    np.testing.assert_allclose(model.predict_proba(X), torch.softmax(torch.tensor(ref_out), 1),
                               rtol=1e-5, atol=1e-7)


def test_softmax_ce_float_labels_is_a_clear_error():
    model = nn.MLP([5, 8, 4], "relu", dtype=np.float32, seed=0)
    with pytest.raises(TypeError, match="class labels must be an integer array"):
        model.loss_and_backward(np.ones((6, 5)), np.zeros(6, np.float32))


# --------------------------------------------------------------------------- repeated calls


@pytest.mark.parametrize("n1,n2", [(64, 300), (300, 64), (64, 64), (300, 300), (64, 1)])
def test_forward_twice_then_backward_is_for_the_last_forward(n1, n2):
    model = nn.MLP([5, 8, 7, 3], "tanh", loss="mse", dtype=np.float64, seed=0)
    randomize(model)
    rng = np.random.default_rng(n1 * 1000 + n2)
    X1, X2, y2 = rng.normal(size=(n1, 5)), rng.normal(size=(n2, 5)), rng.normal(size=(n2, 3))
    model.forward(X1, training=True)
    out = model.forward(X2, training=True)
    model.backward(2 * (out - y2) / y2.size)
    _, ref, ref_out = torch_reference(model, X2, y2, "mse")
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    assert_grads(model, ref, np.float64)
    with pytest.raises(ValueError, match="grad_output has shape"):
        if n1 != n2:  # a gradient for the earlier forward's output is refused
            model.backward(np.zeros((n1, 3)))
        else:
            model.backward(np.zeros((n1, 4)))


@pytest.mark.parametrize("n", [64, 300])
@pytest.mark.parametrize("head", ["softmax_ce", "mse"])
def test_backward_twice_gives_the_same_gradients(head, n):
    # The gradients are overwritten (not accumulated): a second backward with the same
    # grad_output gives torch's gradients again.
    model = nn.MLP([5, 8, 7, 3], "tanh", loss=head, dtype=np.float64, seed=0, batchnorm=True,
                   dropout=0.3)
    randomize(model)
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 5))
    y = rng.integers(0, 3, size=n) if head == "softmax_ce" else rng.normal(size=(n, 3))
    model.loss_and_backward(X, y)
    masks = dropout_masks(model)
    out = model.forward(X, training=False)  # a forward of another mode in between ...
    model.loss_and_backward(X, y)           # ... then train again: new masks
    masks = dropout_masks(model)
    _, ref, ref_out = torch_reference(model, X, y, head, masks=masks)
    t = torch.tensor(ref_out, requires_grad=True)
    (F.cross_entropy(t, torch.tensor(y)) if head == "softmax_ce" else
     F.mse_loss(t, torch.tensor(y))).backward()
    for _ in range(2):
        model.backward(t.grad.numpy())
        assert_grads(model, ref, np.float64)
    assert out.shape == (n, 3)


# --------------------------------------------------------------------------- leaky_relu slopes


@pytest.mark.parametrize("n", [1, 64, 300])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("slope", [0.0, -0.3, -1.0, 1.0, 1.5, 3.0])
def test_leaky_relu_slopes(slope, dtype, n):
    rng = np.random.default_rng(n)
    for head, oa in (("softmax_ce", None), ("mse", "leaky_relu")):
        model = nn.MLP([5, 8, 7, 3], "leaky_relu", negative_slope=slope, loss=head,
                       output_activation=oa, dtype=dtype, seed=0)
        randomize(model)
        X = rng.normal(size=(n, 5)).astype(dtype)
        y = rng.integers(0, 3, size=n) if head == "softmax_ce" else rng.normal(size=(n, 3))
        check_step(model, X, y.astype(dtype) if oa else y, head, dtype, what=f"{head}")


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "sigmoid"])
@pytest.mark.parametrize("n", [64, 300])
def test_derivative_at_exactly_zero_matches_torch(act, n):
    # X = 0 on every other row and zero biases: pre-activations exactly 0 (relu'(0) = 0,
    # leaky_relu'(0) = slope in torch)
    model = nn.MLP([4, 6, 5, 3], act, dtype=np.float64, seed=0)
    rng = np.random.default_rng(n)
    X = np.zeros((n, 4))
    X[::2] = rng.integers(-2, 3, size=(n - n // 2, 4))
    check_step(model, X, rng.integers(0, 3, size=n), "softmax_ce", np.float64)


# --------------------------------------------------------------------------- grad_output


def _tail_model(tail, dtype):
    layers = [nn.Dense(5, 4), nn.Activation("tanh"), nn.Dense(4, 3)]
    layers += {"dense": [], "batchnorm": [nn.BatchNorm(3)], "dropout": [nn.Dropout(0.3, seed=1)],
               "sigmoid": [nn.Activation("sigmoid")],
               "leaky_zero": [nn.Activation("leaky_relu", negative_slope=0.0)]}[tail]
    return nn.Sequential(layers, loss="mse", dtype=dtype, seed=0)


def _grad_output_check(tail, model_dtype, grad_dtype, layout, n=10):
    model = _tail_model(tail, model_dtype)
    randomize(model)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5)).astype(model_dtype)
    out = model.forward(X, training=True)
    y = out.astype(np.float64) + rng.normal(size=out.shape)
    g = (2 * (out.astype(np.float64) - y) / y.size).astype(grad_dtype)
    y = out.astype(np.float64) - g.astype(np.float64) * y.size / 2  # the mse target of g
    if layout == "fortran":
        g = np.asfortranarray(g)
    elif layout == "strided":
        g = np.repeat(g, 2, axis=1)[:, ::2]
    model.backward(g)
    _, ref, _ = torch_reference(model, X, y, "mse", masks=dropout_masks(model))
    rtol = 1e-3 if grad_dtype == np.float16 else TOL[np.float32][0]
    scale = max(float(np.max(np.abs(r))) for r in ref)
    for gg, r in zip(model.gradients(), ref):
        np.testing.assert_allclose(gg, r, rtol=rtol, atol=rtol * 0.1 * scale)


@pytest.mark.parametrize("layout", ["c", "fortran", "strided"])
@pytest.mark.parametrize("tail", ["dense", "batchnorm", "dropout", "sigmoid", "leaky_zero"])
def test_grad_output_layouts(tail, layout):
    _grad_output_check(tail, np.float32, np.float32, layout)


@pytest.mark.parametrize("tail", ["dense", "batchnorm", "dropout", "sigmoid"])
def test_grad_output_float64_into_float32_model(tail):
    _grad_output_check(tail, np.float32, np.float64, "c")


# Sequential.backward converts grad_output to the model's dtype as it converts X (these used
# to fail with KeyErrors from the kernel tables or an 'out has dtype' error naming neither).
@pytest.mark.parametrize("tail", ["dense", "batchnorm", "dropout", "sigmoid", "leaky_zero"])
def test_grad_output_float32_into_float64_model(tail):
    _grad_output_check(tail, np.float64, np.float32, "c")


@pytest.mark.parametrize("tail", ["dense", "sigmoid", "batchnorm", "dropout", "leaky_zero"])
def test_grad_output_float16_into_float32_model(tail):
    _grad_output_check(tail, np.float32, np.float16, "c")


def test_grad_output_of_another_kind_is_refused():
    model = _tail_model("dense", np.float32)
    out = model.forward(np.ones((4, 5), np.float32), training=True)
    with pytest.raises(TypeError, match=r"grad_output has dtype complex128; it must hold real"):
        model.backward(np.zeros(out.shape, np.complex128))


# --------------------------------------------------------------------------- shared layers


# One layer object at two positions: a layer keeps its forward pass's state for backward, so
# reuse gave silently wrong gradients (torch-style reuse of a stateless module); Sequential
# now refuses it when built, naming both positions.
@pytest.mark.parametrize("layers, k, j, kind", [
    (lambda a: [nn.Dense(6, 6), a, nn.Dense(6, 6), a, nn.Dense(6, 3)], 3, 1, "Activation"),
    (lambda a: [nn.Dense(5, 6), a, nn.Dense(6, 7), a, nn.Dense(7, 3)], 3, 1, "Activation"),
])
def test_shared_activation_instance_is_refused(layers, k, j, kind):
    with pytest.raises(ValueError, match=rf"layers\[{k}\] is the same {kind} object as "
                                         rf"layers\[{j}\]; a layer keeps its forward"):
        nn.Sequential(layers(nn.Activation("tanh")), loss="softmax_ce", dtype=np.float64)


def test_shared_dense_and_output_activation_are_refused():
    d = nn.Dense(4, 4)
    with pytest.raises(ValueError, match=r"layers\[2\] is the same Dense object as layers\[0\]"):
        nn.Sequential([d, nn.Activation("relu"), d], loss="mse")
    act = nn.Activation("sigmoid")
    with pytest.raises(ValueError, match=r"layers\[3\] is the same Activation object as "
                                         r"layers\[1\]"):
        nn.Sequential([nn.Dense(3, 4), act, nn.Dense(4, 2)], loss="mse", output_activation=act)


def _dropout_fd_check(model, drops, seeds, n):
    """The gradient of the training loss against central differences, every dropout layer
    reseeded before each evaluation (the same masks throughout). tanh: no kinks."""
    randomize(model)
    rng = np.random.default_rng(n)
    X, y = rng.normal(size=(n, 6)), rng.integers(0, 3, size=n)

    def loss_at(flat):
        model.flat_params[...] = flat
        for d, s in zip(drops, seeds):
            d.reseed(s)
        return model.loss_and_backward(X, y)

    p0 = model.flat_params.copy()
    loss_at(p0)
    grad = model.flat_grads.copy()
    h, fd = 1e-6, np.empty_like(p0)
    for i in range(p0.size):
        e = np.zeros_like(p0)
        e[i] = h
        fd[i] = (loss_at(p0 + e) - loss_at(p0 - e)) / (2 * h)
    loss_at(p0)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7 * np.max(np.abs(fd)))


def _two_dropout_net(first, second):
    return nn.Sequential([nn.Dense(6, 6), nn.Activation("tanh"), first, nn.Dense(6, 6),
                          nn.Activation("tanh"), second, nn.Dense(6, 3)],
                         loss="softmax_ce", dtype=np.float64, seed=0)


@pytest.mark.parametrize("n", [64, 300])
def test_two_dropout_layers_match_central_differences(n):
    # the control for the shared-instance case below: the same check on distinct layers
    d1, d2 = nn.Dropout(0.4, seed=3), nn.Dropout(0.4, seed=4)
    _dropout_fd_check(_two_dropout_net(d1, d2), [d1, d2], [3, 4], n)


def test_shared_dropout_instance_is_refused():
    drop = nn.Dropout(0.4, seed=3)
    with pytest.raises(ValueError, match=r"layers\[5\] is the same Dropout object as "
                                         r"layers\[2\]"):
        _two_dropout_net(drop, drop)
