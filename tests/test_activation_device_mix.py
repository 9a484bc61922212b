"""runtime.activation / activation_grad with host and device arrays mixed: a TypeError naming
the argument and both array types (as loss_and_grad, runtime.nn and PyTorch); a NumPy upstream
next to a CuPy z used to be copied to the device silently and a device result returned.

No GPU: tests/fake_device.py's arrays are taken for CuPy arrays; the activations' CUDA source
runs on the CPU through tests/cuda_host.py (the ``host`` fixture), so a silent copy would run
to the end. Oracle for the calls that stay on one side: the textbook f'(z) in NumPy.
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
import runtime  # noqa: E402
from runtime.generated import cupy_activations, cupy_losses  # noqa: E402


@pytest.fixture(scope="module")
def launcher():
    return fd.DeviceLauncher(cuda_host.loss_library(cupy_losses.SOURCE),
                             activations=cuda_host.activation_library(cupy_activations.SOURCE))


RNG = np.random.default_rng(0)
Z, U = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))


def _tanh_grad(z, u):
    return u * (1 - np.tanh(z) ** 2)


@pytest.mark.parametrize("call, arg", [
    (lambda: runtime.activation_grad("tanh", fd.put(Z), U), "upstream is a numpy.ndarray but z"),
    (lambda: runtime.activation_grad("tanh", None, U, output=fd.put(np.tanh(Z))),
     "upstream is a numpy.ndarray but output"),
    (lambda: runtime.activation_grad("tanh", fd.put(Z), fd.put(U), output=np.tanh(Z)),
     "output is a numpy.ndarray but z"),
    (lambda: runtime.activation_grad("tanh", Z, fd.put(U)), "upstream is a .* but z is a numpy"),
    (lambda: runtime.activation_grad("tanh", Z, U, out=fd.put(np.empty_like(Z))),
     "out is a .* but z is a numpy"),
    (lambda: runtime.activation("relu", Z, out=fd.put(np.empty_like(Z))),
     "out is a .* but z is a numpy"),
])
def test_mixed_sides_raise(host, call, arg):
    with pytest.raises(TypeError, match=arg):
        call()
    assert not host.launches, "nothing may run before the check"


def test_one_side_still_works(host):
    want = _tanh_grad(Z, U)
    got = runtime.activation_grad("tanh", fd.put(Z), fd.put(U))
    assert isinstance(got, fd.DeviceArray)
    np.testing.assert_allclose(fd.get(got), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(runtime.activation_grad("tanh", Z, U), want, rtol=1e-12,
                               atol=1e-15)
    got = runtime.activation_grad("tanh", None, fd.put(U), output=fd.put(np.tanh(Z)))
    np.testing.assert_allclose(fd.get(got), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fd.get(runtime.activation("relu", fd.put(Z))), np.maximum(Z, 0))
