"""fit converts X to the model's dtype and labels to int64 once per run (not per batch);
the result must be the same training as feeding the model converted batches by hand, and
bad labels must still be rejected."""
from __future__ import annotations

import numpy as np
import pytest

from runtime.nn import MLP
from runtime.optim import SGD
from runtime.train import fit


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)), rng.integers(0, 3, size=40).astype(np.int32)


def test_fit_on_float64_int32_inputs_matches_a_hand_loop():
    X, y = _data()
    model = MLP([5, 6, 3], "relu", dtype=np.float32, seed=1)
    ref = MLP([5, 6, 3], "relu", dtype=np.float32, seed=1)
    fit(model, X, y, SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=2, batch_size=8,
        shuffle=False, threads=None, progress=False)
    opt = SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        for s in range(0, 40, 8):  # converted batches, written out
            ref.loss_and_backward(X[s:s + 8].astype(np.float32), y[s:s + 8].astype(np.int64))
            opt.step(ref.gradients())
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a, b)


def test_fit_still_rejects_bad_labels():
    X, y = _data()
    y[17] = 3
    model = MLP([5, 6, 3], "relu", dtype=np.float32, seed=1)
    with pytest.raises(ValueError, match=r"label 3 at position"):
        fit(model, X, y, SGD(model.parameters(), lr=0.1), epochs=1, batch_size=8,
            shuffle=False, threads=None, progress=False)
