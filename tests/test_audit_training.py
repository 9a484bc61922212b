"""Audit of training as a user sees it: fit with every head, targets in every documented form,
bad input named in the error, against NumPy references and PyTorch."""
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
