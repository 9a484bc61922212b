"""bench/bench_mlp.py's hand-written NumPy backprop (the issue's baseline, used to calibrate the
machine against the issue's timings) must compute the same training step as the networks it is
compared with. Oracle: PyTorch autograd with torch.optim.SGD on bench_mlp's torch twin (same
initial weights and data), a few steps, parameter by parameter."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch autograd is the oracle of the baseline's step")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_mlp  # noqa: E402


@pytest.mark.parametrize("batch", [8, 64])
def test_numpy_baseline_is_the_textbook_step(batch):
    step = bench_mlp._numpy(batch)
    lins, net, opt, X, y = bench_mlp.torch_twin(batch)
    for _ in range(3):
        step()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
    for W, b, lin in zip(step.weights, step.biases, lins):
        np.testing.assert_allclose(W, lin.weight.detach().numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(b, lin.bias.detach().numpy(), rtol=0, atol=1e-6)
    moved = np.abs(step.weights[0] - bench_mlp.torch_twin(batch)[0][0].weight.detach().numpy())
    assert moved.max() > 1e-4, "three steps should move the first layer's weights"
