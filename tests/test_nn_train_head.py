"""The training head of runtime.nn models: softmax-CE calls the fused kernel directly (labels
checked once per batch, options once per setting); oracle: PyTorch autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest

from runtime.nn import MLP


def _torch():
    return pytest.importorskip("torch", reason="PyTorch autograd is the oracle for the head")


def _torch_grads(model, X, y, **ce_options):
    """Loss and parameter gradients of the same network in torch (float64)."""
    torch = _torch()
    mods = []
    for layer in model.layers:
        if hasattr(layer, "in_features"):
            lin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.params["weight"]))
                lin.bias.copy_(torch.from_numpy(layer.params["bias"]))
            mods.append(lin)
        else:
            mods.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*mods)
    opts = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            for k, v in ce_options.items()}
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y), **opts)
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in net.parameters()]


def _model(**loss_options):
    return MLP([5, 6, 4], "tanh", dtype=np.float64, seed=3, loss_options=loss_options)


def _data(n=9, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 4, size=n)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"ignore_index": 2},
                                     {"weight": np.array([0.5, 1.0, 2.0, 0.1])}])
def test_head_matches_torch(options):
    X, y = _data()
    y[1] = options.get("ignore_index", y[1])
    model = _model(**options)
    loss = model.loss_and_backward(X, y)
    tloss, tgrads = _torch_grads(model, X, y, **options)
    assert loss == pytest.approx(tloss, rel=1e-10)
    for a, b in zip(model.gradients(), tgrads):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_default_ignore_index_rows_are_skipped_like_torch():
    X, y = _data()
    y[[0, 4]] = -100
    model = _model()
    loss = model.loss_and_backward(X, y)
    tloss, tgrads = _torch_grads(model, X, y)
    assert loss == pytest.approx(tloss, rel=1e-10)
    for a, b in zip(model.gradients(), tgrads):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_changed_options_take_effect():
    X, y = _data()
    model = _model()
    model.loss_and_backward(X, y)
    model.loss_options["label_smoothing"] = 0.3
    loss = model.loss_and_backward(X, y)
    tloss, _ = _torch_grads(model, X, y, label_smoothing=0.3)
    assert loss == pytest.approx(tloss, rel=1e-10)


@pytest.mark.parametrize("bad, position", [(4, 2), (-1, 5), (-100 + 1, 0), (2**40, 8)])
def test_bad_labels_are_rejected_before_the_kernel(bad, position):
    X, y = _data()
    y[position] = bad
    model = _model()
    with pytest.raises(ValueError, match=rf"label {bad} at position \({position},\)"):
        model.loss_and_backward(X, y)


def test_bad_label_types_and_shapes_are_rejected():
    X, y = _data()
    model = _model()
    with pytest.raises(TypeError, match="class labels must be an integer array"):
        model.loss_and_backward(X, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"target has shape \(8,\)"):
        model.loss_and_backward(X, y[:8])
    with pytest.raises(ValueError, match="label_smoothing"):
        _model(label_smoothing=1.5).loss_and_backward(X, y)
    with pytest.raises(TypeError, match="unexpected option"):
        _model(smoothing=0.1).loss_and_backward(X, y)


def test_float32_head_matches_float64():
    X, y = _data(n=32)
    m64 = _model()
    m32 = MLP([5, 6, 4], "tanh", dtype=np.float32, seed=3)
    loss32 = m32.loss_and_backward(X.astype(np.float32), y.astype(np.int32))
    loss64 = m64.loss_and_backward(X, y)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for a, b in zip(m32.gradients(), m64.gradients()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"ignore_index": 2}])
def test_small_batches_run_the_serial_kernel_and_match_torch(dtype, options):
    # Small batches run the generated kernel's serial twin (no thread-pool launch), large
    # ones the parallel kernel; both give torch's loss and gradients, ignored labels included.
    X, y = _data(n=12, seed=4)
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-12)
    model = MLP([5, 6, 4], "tanh", dtype=dtype, seed=3, loss_options=options)
    model.loss_and_backward(X, y)  # fills the head's cache
    (head,) = model._ce_cache.values()
    assert head["serial"].__name__.endswith("_serial")
    calls, serial = [], head["serial"]
    head["serial"] = lambda *a: calls.append(1) or serial(*a)
    y[0] = options.get("ignore_index", -100)  # an ignored label: the kernel's denominator
    for parallel_min in (10**9, 0):  # the serial twin, then the parallel kernel
        head["parallel_min"] = parallel_min
        loss = model.loss_and_backward(X, y)
        tloss, tgrads = _torch_grads(model, X.astype(dtype).astype(np.float64), y, **options)
        assert loss == pytest.approx(tloss, rel=tol["rtol"])
        for a, b in zip(model.gradients(), tgrads):
            np.testing.assert_allclose(a, b, **tol)
    assert calls == [1]