"""Audit of training as a user sees it: fit with every head, targets in every documented form,
bad input named in the error, against NumPy references and PyTorch."""
import re

import numpy as np
import pytest

from runtime.nn import MLP, Dropout
from runtime.optim import SGD
from runtime.train import fit


def _data(n=24, d=4, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def _fit(model, X, y, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("threads", None)
    return fit(model, X, y, SGD(model.parameters(), lr=kw.pop("lr", 0.0)), **kw)


# ------------------------------------------------------------------ bce head in fit


@pytest.mark.parametrize("outputs", [1, 3])
def test_fit_with_a_bce_head_records_the_fraction_of_correct_labels(outputs):
    # lr=0 and one full batch: the training accuracy is that of the initial model, whose
    # logits a NumPy forward gives (σ(z) > 1/2 ⇔ z > 0), per label for a multi-label head.
    X, _ = _data()
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=(len(X), outputs)).astype(np.float64)
    if outputs == 1:
        y = y[:, 0]
    model = MLP([4, 5, outputs], "tanh", loss="bce", dtype=np.float64, seed=0)
    (w1, b1, w2, b2) = [p.copy() for p in model.parameters()]
    z = np.tanh(X @ w1.T + b1) @ w2.T + b2
    expected = np.mean((z > 0) == (y.reshape(z.shape) > 0.5))
    hist = _fit(model, X, y, epochs=1, shuffle=False)
    assert hist.accuracy == [pytest.approx(expected)]
    assert 0 <= hist.accuracy[0] <= 1


def test_fit_with_a_bce_head_trains_on_integer_labels_in_mini_batches():
    X, _ = _data(n=60)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)  # linearly separable
    model = MLP([4, 8, 1], "relu", loss="bce", dtype=np.float64, seed=0)
    hist = fit(model, X, y, SGD(model.parameters(), lr=0.5), epochs=30, batch_size=8,
               seed=0, progress=False)
    assert hist.accuracy[-1] > 0.9
    assert model.accuracy(X, y) == pytest.approx(np.mean((model.forward(X)[:, 0] > 0) == y))


# ------------------------------------------------------------------ probability targets


def test_fit_and_accuracy_take_one_hot_targets_for_softmax_ce():
    torch = pytest.importorskip("torch", reason="torch's cross_entropy with probability "
                                                "targets is the oracle for the loss")
    X, labels = _data()
    onehot = np.eye(3)[labels]
    model = MLP([4, 5, 3], "relu", dtype=np.float64, seed=0)
    logits = model.forward(X)
    expected_loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                                      torch.from_numpy(onehot)).item()
    expected_acc = np.mean(logits.argmax(axis=1) == labels)
    hist = _fit(model, X, onehot, epochs=1, shuffle=False)  # lr=0: the initial model
    assert hist.loss == [pytest.approx(expected_loss, rel=1e-12)]
    assert hist.accuracy == [pytest.approx(expected_acc)]
    assert model.accuracy(X, onehot) == pytest.approx(expected_acc)
    assert model.accuracy(X, labels) == pytest.approx(expected_acc)


# ------------------------------------------------------------------ bad input, named


def test_a_bad_label_is_reported_at_its_position_in_y_not_in_the_batch():
    X, y = _data(n=40)
    y[17] = 3
    model = MLP([4, 5, 3], "relu", seed=0)
    for shuffle in (False, True):
        with pytest.raises(ValueError, match=r"y has label 3 at position \(17,\)"):
            _fit(model, X, y, epochs=1, batch_size=8, shuffle=shuffle, seed=0)
    assert np.array_equal(model.flat_params, MLP([4, 5, 3], "relu", seed=0).flat_params)


def test_x_and_y_of_different_lengths_name_both():
    X, y = _data()
    model = MLP([4, 5, 3], "relu", seed=0)
    with pytest.raises(ValueError, match=r"X has 24 samples but y has 23"):
        _fit(model, X, y[:-1], epochs=1)


@pytest.mark.parametrize("threads", ["fast", 2, object()])
def test_a_bad_thread_plan_is_a_clear_error(threads):
    X, y = _data()
    model = MLP([4, 5, 3], "relu", seed=0)
    with pytest.raises(ValueError, match=r"threads=.* is not a thread plan"):
        _fit(model, X, y, epochs=1, threads=threads)


@pytest.mark.parametrize("make", [lambda X: X.astype(np.complex128), lambda X: X.astype(str),
                                  lambda X: X.astype("datetime64[s]")],
                         ids=["complex", "str", "datetime"])
def test_x_of_a_non_real_dtype_is_rejected_naming_x(make):
    # torch.from_numpy keeps complex, and float(...) on a complex warns and drops the
    # imaginary part: training on the real part alone is silently wrong data.
    X, y = _data()
    model = MLP([4, 5, 3], "relu", seed=0)
    bad = make(X)
    with pytest.raises(TypeError, match="X has dtype " + re.escape(str(bad.dtype))):
        _fit(model, bad, y, epochs=1)
    with pytest.raises(TypeError, match="X has dtype " + re.escape(str(bad.dtype))):
        model.forward(bad)


@pytest.mark.parametrize("n,batch", [(0, None), (10, 20)])
def test_an_epoch_without_a_batch_is_an_error_not_a_silent_nan(n, batch):
    X, y = _data(n=n)
    model = MLP([4, 5, 3], "relu", seed=0)
    with pytest.raises(ValueError, match=r"no batch"):
        _fit(model, X, y, epochs=1, batch_size=batch, drop_last=True)


def test_dropout_takes_a_numpy_float():
    for p in (np.float32(0.25), np.float64(0.25)):
        assert Dropout(p, seed=0).p == 0.25
        assert MLP([4, 5, 3], dropout=p, seed=0).layers[2].p == 0.25
    with pytest.raises(ValueError, match=r"got True"):
        Dropout(True)


def test_to_cuda_without_a_gpu_says_so():
    cupy = pytest.importorskip("cupy", reason="without CuPy the error is the install hint")
    try:
        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a CUDA device is present")
    except Exception:  # noqa: BLE001  (cupy's CUDARuntimeError: no device, no driver)
        pass
    model = MLP([4, 5, 3], "relu", seed=0)
    before = model.flat_params.copy()
    with pytest.raises(RuntimeError, match=r"device='cuda'.*no usable CUDA device"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match=r"device='cuda'.*no usable CUDA device"):
        MLP([4, 5, 3], "relu", seed=0, device="cuda")
    assert model.device == "cpu" and np.array_equal(model.flat_params, before)
    model.loss_and_backward(*_data())  # still trains on the host


# ------------------------------------------------------------------ search


def test_fine_grid_refines_numpy_integer_and_float_grids_like_python_ones():
    from runtime.search import fine_grid

    widths = np.arange(8, 80, 16)  # 8, 24, 40, 56, 72 as np.int64
    fine = fine_grid({"width": widths}, {"width": widths[2]}, points=5)
    # between the neighbours 24 and 56, linear (the grid spans less than a factor of 10)
    assert fine["width"] == [24, 32, 40, 48, 56]
    assert all(type(v) is int for v in fine["width"])
    lrs = np.logspace(-3, 0, 4, dtype=np.float32)
    fine = fine_grid({"lr": lrs}, {"lr": lrs[1]}, points=3)
    np.testing.assert_allclose(fine["lr"], [1e-3, 1e-2, 1e-1], rtol=1e-6)


def test_grid_search_takes_any_iterable_of_values():
    from runtime.search import grid_search

    seen = []
    result = grid_search(lambda lr: seen.append(lr) or (lr - 0.1) ** 2,
                         {"lr": (v for v in [0.01, 0.1, 1.0])})
    assert seen == [0.01, 0.1, 1.0] and result.best_config == {"lr": 0.1}


@pytest.mark.parametrize("kw", [{"n_trials": 2.5}, {"fine_trials": 1.5}, {"n_trials": True}])
def test_random_search_trial_counts_must_be_ints(kw):
    from runtime.search import LogUniform, random_search

    name = next(iter(kw))
    with pytest.raises(ValueError, match=rf"{name} must be"):
        random_search(lambda lr: lr, {"lr": LogUniform(1e-3, 1)}, seed=0, **kw)


# ------------------------------------------------------------------ predictions


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_predict_proba_is_softmax_to_the_dtype_precision_with_many_classes(dtype, rtol):
    torch = pytest.importorskip("torch", reason="torch.softmax in float64 is the oracle")
    # near-uniform rows over 1000 classes: every probability ~1e-3, the argmax's too
    model = MLP([4, 5, 1000], "relu", dtype=dtype, seed=0)
    X = np.random.default_rng(0).normal(size=(50, 4)) * 0.01
    p = model.predict_proba(X)
    ref = torch.softmax(torch.from_numpy(model.forward(X).astype(np.float64)), 1).numpy()
    assert p.dtype == dtype
    np.testing.assert_allclose(p, ref, rtol=rtol, atol=0)


# ------------------------------------------------------------------ layers


def test_batchnorm_options_torch_accepts_but_this_layer_does_not_are_clear_errors():
    from runtime.nn import BatchNorm

    # torch.nn.BatchNorm1d(momentum=None) is a cumulative average: not implemented here
    with pytest.raises(NotImplementedError, match=r"momentum=None"):
        BatchNorm(4, momentum=None)
    for bad in ("0.1", 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"momentum must be"):
            BatchNorm(4, momentum=bad)
    for bad in (None, "1e-5", 0.0, float("nan")):
        with pytest.raises(ValueError, match=r"eps must be"):
            BatchNorm(4, eps=bad)
    assert BatchNorm(4, eps=np.float32(1e-3), momentum=np.float64(0.2)).momentum == 0.2


# ------------------------------------------------------------------ against torch, step for step

OPTIMIZERS = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
              ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
              ("Adagrad", dict(lr=0.05, lr_decay=0.01)), ("RMSprop", dict(lr=0.01)),
              ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adam", dict(lr=1e-2)),
              ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2)), ("AdamW", dict(lr=1e-2))]


def _torch_twin(torch, model):
    from runtime.nn import Activation, BatchNorm, Dense

    tdt = torch.float64 if model.dtype == np.float64 else torch.float32
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}
    mods = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            m = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias).to(tdt)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.params["weight"].copy()))
                if layer.bias:
                    m.bias.copy_(torch.from_numpy(layer.params["bias"].copy()))
        elif isinstance(layer, BatchNorm):
            m = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps,
                                     momentum=layer.momentum).to(tdt)
        elif isinstance(layer, Activation):
            m = (torch.nn.LeakyReLU(layer.options.get("negative_slope", 0.01))
                 if layer.name == "leaky_relu" else acts[layer.name]())
        mods.append(m)
    return torch.nn.Sequential(*mods), tdt


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("name,options", OPTIMIZERS,
                         ids=[f"{n}-{'-'.join(o)}" for n, o in OPTIMIZERS])
def test_batchnorm_mlp_trains_like_torch_step_for_step(name, options, dtype, tol):
    torch = pytest.importorskip("torch", reason="torch.nn + torch.optim are the oracle")
    import runtime.optim as ro

    model = MLP([5, 7, 6, 3], "tanh", batchnorm=True, dtype=dtype, seed=1)
    twin, tdt = _torch_twin(torch, model)
    opt = getattr(ro, name)(model.parameters(), **options)
    topt = getattr(torch.optim, name)(twin.parameters(), **options)
    rng = np.random.default_rng(2)
    for _ in range(4):
        X, y = rng.normal(size=(9, 5)), rng.integers(0, 3, 9)
        loss = model.loss_and_backward(X, y)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X).to(tdt)),
                                                  torch.from_numpy(y))
        tloss.backward()
        assert loss == pytest.approx(tloss.item(), rel=tol)
        for g, p in zip(model.gradients(), twin.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=tol, atol=tol)
        opt.step(model.gradients())
        topt.step()
        for a, p in zip(model.parameters(), twin.parameters()):
            np.testing.assert_allclose(a, p.detach().numpy(), rtol=tol, atol=tol)
    bns = [m for m in twin if isinstance(m, torch.nn.BatchNorm1d)]
    mine = [layer for layer in model.layers if hasattr(layer, "running_var")]
    for a, b in zip(mine, bns):
        np.testing.assert_allclose(a.running_mean, b.running_mean.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(a.running_var, b.running_var.numpy(), rtol=tol, atol=tol)
    twin.eval()
    X = rng.normal(size=(1, 5))  # a batch of one, in evaluation mode
    with torch.no_grad():
        ref = twin(torch.from_numpy(X).to(tdt)).numpy()
    np.testing.assert_allclose(model.eval().forward(X), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("head", ["softmax_ce", "bce", "mse"])
def test_every_activation_and_head_gradient_matches_torch_autograd(act, head):
    torch = pytest.importorskip("torch", reason="torch autograd is the oracle")
    F = torch.nn.functional
    out = 1 if head == "bce" else 3
    model = MLP([4, 6, 5, out], act, loss=head, dtype=np.float64, seed=3)
    twin, _ = _torch_twin(torch, model)
    rng = np.random.default_rng(4)
    for n in (1, 7, 300):  # a single sample, a small batch, past the feature-major switch
        X = rng.normal(size=(n, 4))
        y = {"softmax_ce": rng.integers(0, 3, n), "bce": rng.integers(0, 2, n).astype(float),
             "mse": rng.normal(size=(n, 3))}[head]
        loss = model.loss_and_backward(X, y)
        z = twin(torch.from_numpy(X))
        ty = torch.from_numpy(y)
        tloss = {"softmax_ce": lambda: F.cross_entropy(z, ty),
                 "bce": lambda: F.binary_cross_entropy_with_logits(z, ty[:, None]),
                 "mse": lambda: F.mse_loss(z, ty)}[head]()
        twin.zero_grad()
        tloss.backward()
        assert loss == pytest.approx(tloss.item(), rel=1e-12)
        for g, p in zip(model.gradients(), twin.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("subset", ["last weight", "last layer", "two groups"])
def test_fit_trains_an_optimizer_over_a_subset_of_the_parameters_like_torch(subset):
    # Freezing layers: torch.optim over some of the parameters; the rest stay as they are.
    torch = pytest.importorskip("torch", reason="a torch loop with frozen layers is the oracle")
    model = MLP([4, 5, 3], "tanh", dtype=np.float64, seed=0)
    twin, _ = _torch_twin(torch, model)
    last, tlast = model.layers[-1].params, twin[-1]
    pick = {"last weight": lambda: ([last["weight"]], [tlast.weight]),
            "last layer": lambda: ([last["weight"], last["bias"]], list(tlast.parameters())),
            "two groups": lambda: ([{"params": [last["bias"]], "lr": 0.5},
                                    {"params": [model.layers[0].params["weight"]]}],
                                   [{"params": [tlast.bias], "lr": 0.5},
                                    {"params": [twin[0].weight]}])}[subset]
    mine, theirs = pick()
    X, y = _data(n=20)
    frozen = {k: p.copy() for k, p in model.named_parameters()}
    hist = fit(model, X, y, SGD(mine, lr=0.1, momentum=0.9), epochs=3, batch_size=5,
               shuffle=False, progress=False, threads=None)
    topt = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    losses = []
    for _ in range(3):
        for s in range(0, 20, 5):
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X[s:s + 5])),
                                                     torch.from_numpy(y[s:s + 5]))
            loss.backward()
            topt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(hist.step_loss, losses, rtol=1e-12)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert any(np.array_equal(p, frozen[k]) for k, p in model.named_parameters())


def test_fit_names_an_optimizer_parameter_that_is_not_the_models():
    model = MLP([4, 5, 3], "relu", seed=0)
    other = MLP([4, 5, 3], "relu", seed=1)
    X, y = _data()
    with pytest.raises(ValueError, match=r"optimizer's parameter 0 .* not one of the model's"):
        fit(model, X, y, SGD(other.parameters(), lr=0.1), progress=False, threads=None)


def test_bad_validation_data_is_rejected_before_training_naming_it():
    X, y = _data()
    model = MLP([4, 5, 3], "relu", seed=0)
    before = model.flat_params.copy()
    y_val = y.copy()
    y_val[5] = -2
    with pytest.raises(ValueError, match=r"validation y has label -2 at position \(5,\)"):
        fit(model, X, y, SGD(model.parameters(), lr=0.1), epochs=2, validation=(X, y_val),
            progress=False, threads=None)
    with pytest.raises(ValueError, match=r"validation X has 24 samples but validation y has 3"):
        fit(model, X, y, SGD(model.parameters(), lr=0.1), validation=(X, y[:3]),
            progress=False, threads=None)
    with pytest.raises(ValueError, match=r"validation must be a pair \(X_val, y_val\)"):
        fit(model, X, y, SGD(model.parameters(), lr=0.1), validation=X, progress=False,
            threads=None)
    assert np.array_equal(model.flat_params, before)  # nothing trained before the errors


def test_search_spaces_that_are_not_ranges_or_lists_name_the_dimension():
    from runtime.search import grid_search, random_search

    with pytest.raises(TypeError, match=r"grid\['lr'\] = 0.1"):
        grid_search(lambda lr: lr, {"lr": 0.1})
    with pytest.raises(TypeError, match=r"space\['act'\] = \('relu', 'tanh'\)"):
        random_search(lambda act: 0.0, {"act": ("relu", "tanh")}, n_trials=2, seed=0)


@pytest.mark.parametrize("n,batch", [(10, 3), (10, 1), (1, None)])
def test_batchnorm_with_a_batch_of_one_fails_before_training_with_the_way_out(n, batch):
    # torch.nn.BatchNorm1d raises on a training batch of one too; fit says so before any
    # update instead of after the epoch's other batches have changed the model.
    X, y = _data(n=n)
    model = MLP([4, 5, 3], "relu", batchnorm=True, seed=0)
    before = model.flat_params.copy()
    with pytest.raises(ValueError, match=r"batch of 1 sample.*BatchNorm.*drop_last=True"):
        _fit(model, X, y, epochs=1, batch_size=batch, lr=0.1)
    assert np.array_equal(model.flat_params, before)
    if batch == 3:  # the way out works: the last batch is dropped
        hist = _fit(model, X, y, epochs=1, batch_size=batch, drop_last=True, lr=0.1)
        assert hist.updates == 3


@pytest.mark.parametrize("ignore", [None, 1])
def test_accuracy_skips_labels_equal_to_ignore_index_as_the_loss_does(ignore):
    X, y = _data(n=30)
    opts = {} if ignore is None else {"ignore_index": ignore}
    skip = -100 if ignore is None else ignore  # torch's default ignore_index is -100
    y = y.copy()
    y[::4] = skip
    model = MLP([4, 5, 3], "relu", dtype=np.float64, seed=0, loss_options=opts)
    keep = y != skip
    expected = np.mean(model.forward(X).argmax(axis=1)[keep] == y[keep])
    assert model.accuracy(X, y) == pytest.approx(expected)
    hist = _fit(model, X, y, epochs=1, shuffle=False, batch_size=7)  # lr=0
    assert hist.accuracy == [pytest.approx(expected)]


def test_one_hot_targets_are_all_scored_whatever_ignore_index_is():
    X, y = _data(n=30)
    model = MLP([4, 5, 3], "relu", dtype=np.float64, seed=0, loss_options={"ignore_index": 0})
    expected = np.mean(model.forward(X).argmax(axis=1) == y)
    assert model.accuracy(X, np.eye(3)[y]) == pytest.approx(expected)


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize("script,option", [("digits_mlp.py", "--epochs"),
                                           ("optimizers_compared.py", "--epochs"),
                                           ("momentum_vs_gd.py", "--steps")])
def test_example_counts_must_be_positive(script, option):
    # 0 crashed with an IndexError after the work (an empty history / trajectory)
    import subprocess
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / script
    done = subprocess.run([sys.executable, str(path), option, "0", "--no-plot"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"argument {option}: must be a positive int, got '0'" in done.stderr


def test_fit_takes_numpy_integer_epochs_and_batch_size():
    # e.g. from a grid over np.arange(...)
    X, y = _data(n=20)
    model = MLP([4, 5, 3], "relu", seed=0)
    hist = _fit(model, X, y, epochs=np.int64(3), batch_size=np.int32(5))
    assert hist.epoch == [1, 2, 3] and hist.updates == 12
    for bad in (np.float64(3), True, -1):
        with pytest.raises(ValueError, match=r"epochs must be a non-negative int"):
            _fit(model, X, y, epochs=bad)


def test_a_cuda_device_index_other_than_the_current_device_is_not_ignored(monkeypatch):
    cupy = pytest.importorskip("cupy", reason="the check runs once CuPy is importable")
    import runtime.nn as nn

    class Current:  # CuPy's current device, as cupy.cuda.Device() reports it
        id = 0

    monkeypatch.setattr(cupy.cuda.runtime, "getDeviceCount", lambda: 2)
    monkeypatch.setattr(cupy.cuda, "Device", lambda *a: Current())
    assert nn._device_module("cuda:0") is cupy and nn._device_module("cuda") is cupy
    with pytest.raises(NotImplementedError, match=r"device='cuda:1'.*cupy.cuda.Device\(1\)"):
        nn._device_module("cuda:1")
    with pytest.raises(ValueError, match=r"device='cuda:x' is not supported"):
        nn._device_module("cuda:x")
    with pytest.raises(RuntimeError, match=r"device='cuda:5'.*2 CUDA device"):
        nn._device_module("cuda:5")


def test_bce_accuracy_reads_soft_targets_as_their_side_of_one_half_as_fit_does():
    # label-smoothed or probability targets: the label is the side of 1/2 the target is on
    X, _ = _data(n=30)
    hard = (X[:, 0] > 0).astype(np.int64)
    soft = np.where(hard == 1, 0.9, 0.1)
    model = MLP([4, 5, 1], "relu", loss="bce", dtype=np.float64, seed=0)
    expected = np.mean((model.forward(X)[:, 0] > 0) == hard)
    assert model.accuracy(X, hard) == pytest.approx(expected)
    assert model.accuracy(X, soft) == pytest.approx(expected)
    assert _fit(model, X, soft, epochs=1, shuffle=False).accuracy == [pytest.approx(expected)]


def test_thread_plan_of_a_sequential_model_sees_its_layer_sizes(monkeypatch):
    # threads="auto" plans "for this network": a Sequential of Dense layers has sizes too
    from runtime import threads
    from runtime.nn import Activation, BatchNorm, Dense, Sequential

    seen = []
    real = threads.candidates
    monkeypatch.setattr(threads, "candidates",
                        lambda batch, sizes, **kw: seen.append((batch, list(sizes)))
                        or real(batch, sizes, **kw))
    X, y = _data(n=16)
    seq = Sequential([Dense(4, 7), BatchNorm(7), Activation("relu"), Dense(7, 3)], seed=0)
    mlp = MLP([4, 7, 3], "relu", seed=0)
    for model in (seq, mlp):
        fit(model, X, y, SGD(model.parameters(), lr=0.1), batch_size=8, progress=False)
    assert seen == [(8, [4, 7, 3]), (8, [4, 7, 3])]


def test_progress_bar_with_a_first_batch_of_ignored_labels():
    import io
    import sys

    X, y = _data(n=12)
    y = y.copy()
    y[:4] = -100  # the first batch is all padding
    model = MLP([4, 5, 3], "relu", seed=0)
    err, sys.stderr = sys.stderr, io.StringIO()
    try:
        hist = _fit(model, X, y, epochs=1, batch_size=4, shuffle=False, progress=True)
        shown = sys.stderr.getvalue()
    finally:
        sys.stderr = err
    keep = y != -100
    expected = np.mean(model.forward(X).argmax(axis=1)[keep] == y[keep])
    assert hist.accuracy == [pytest.approx(expected)]
    assert f"acc {expected:.4f}" in shown


def test_activation_layer_rejects_options_its_function_does_not_take():
    # The layer's fast path called the kernel with the default slope and dropped the rest:
    # a typo (slope= for negative_slope=) trained with 0.01 without a word.
    from runtime.nn import Activation

    with pytest.raises(TypeError, match=r"leaky_relu got unexpected option\(s\) slope"):
        Activation("leaky_relu", slope=0.2)
    with pytest.raises(TypeError, match=r"tanh got unexpected option\(s\) negative_slope"):
        Activation("tanh", negative_slope=0.2)
    with pytest.raises(ValueError, match=r"negative_slope"):
        Activation("leaky_relu", negative_slope=float("nan"))
    x = -np.ones((2, 3))
    np.testing.assert_array_equal(Activation("leaky_relu", negative_slope=0.2).forward(x, True),
                                  -0.2 * np.ones((2, 3)))


def test_fit_with_batchnorm_adam_shuffle_and_drop_last_is_a_torch_loop():
    torch = pytest.importorskip("torch", reason="a torch training loop is the oracle")
    from runtime.data import DataLoader
    from runtime.optim import Adam

    X, y = _data(n=50, seed=3)
    model = MLP([4, 8, 6, 3], "relu", batchnorm=True, dtype=np.float64, seed=2)
    twin, _ = _torch_twin(torch, model)
    hist = fit(model, X, y, Adam(model.parameters(), lr=0.01), epochs=4, batch_size=8,
               shuffle=True, seed=7, drop_last=True, validation=(X, y), progress=False)
    assert hist.updates == 4 * (50 // 8)
    opt = torch.optim.Adam(twin.parameters(), lr=0.01)
    order = DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=7, drop_last=True)
    losses, val = [], []
    for _ in range(4):
        twin.train()
        for idx in order:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X[idx])),
                                                     torch.from_numpy(y[idx]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        twin.eval()
        with torch.no_grad():
            val.append(torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)),
                                                         torch.from_numpy(y)).item())
    np.testing.assert_allclose(hist.step_loss, losses, rtol=1e-10)
    np.testing.assert_allclose(hist.val_loss, val, rtol=1e-10)


def test_history_plot_leaves_the_users_matplotlib_backend_alone(tmp_path):
    # In a notebook history.plot(...) switched pyplot to Agg for good (inline plots stopped
    # showing); the library's own figure needs no pyplot state.
    matplotlib = pytest.importorskip("matplotlib", reason="history.plot needs matplotlib")
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    try:
        plt.switch_backend("svg")  # stands in for a notebook's inline backend
        X, y = _data()
        model = MLP([4, 5, 3], "relu", seed=0)
        hist = _fit(model, X, y, epochs=2, batch_size=8, validation=(X, y), lr=0.1)
        path = hist.plot(tmp_path / "curves.png")
        assert matplotlib.get_backend() == "svg"
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.switch_backend(before)
