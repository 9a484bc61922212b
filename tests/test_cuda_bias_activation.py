"""The CUDA kernels <f>_bias_forward (a dense layer's bias fused into its activation) without a
GPU: runtime/generated/cupy_activations.py's source compiled for the CPU and launched through
runtime.cuda_dispatch.activation_bias_forward by tests/cuda_host.py's host launcher (5 emulated
threads, so the grid-stride spans and the column index i % F are exercised).

Oracle: the textbook activation in NumPy float64 of z + b rounded to the kernel's dtype (the
kernel adds in its own type). runtime.nn's device models use the kernel in every hidden layer:
tests/test_nn_cupy.py trains them against the host path.
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
from runtime import cuda_dispatch  # noqa: E402
from runtime.generated import cupy_activations, cupy_losses  # noqa: E402

SLOPE = 0.2
TEXTBOOK = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, SLOPE * x),
}
OPTIONS = {"leaky_relu": {"negative_slope": SLOPE}}
# a few ulp of the dtype: exp/tanh of the CUDA math library's host twins, one rounding each
RTOL = {np.float32: 5e-7, np.float64: 4e-15}


@pytest.fixture(scope="module")
def launcher():
    return fd.DeviceLauncher(cuda_host.loss_library(cupy_losses.SOURCE),
                             activations=cuda_host.activation_library(cupy_activations.SOURCE))


def reference(name, z, b):
    x = (z + b).astype(z.dtype)  # the kernel's sum, in its dtype
    with np.errstate(over="ignore"):
        return TEXTBOOK[name](x.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (33, 130), (4, 1)])
@pytest.mark.parametrize("name", list(TEXTBOOK))
def test_matches_textbook(host, name, shape, dtype):
    rng = np.random.default_rng(sum(shape))
    z = (rng.standard_normal(shape) * 4).astype(dtype)
    b = (rng.standard_normal(shape[1]) * 4).astype(dtype)
    got = cuda_dispatch.activation_bias_forward(name, fd.put(z), fd.put(b), **OPTIONS.get(name, {}))
    assert isinstance(got, fd.DeviceArray) and got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(fd.get(got), reference(name, z, b), rtol=RTOL[dtype], atol=0)
    tn = "f32" if dtype == np.float32 else "f64"
    assert [n for n, *_ in host.launches] == [f"{name}_bias_forward_{tn}"]


@pytest.mark.parametrize("name", list(TEXTBOOK))
def test_in_place_nan_inf_and_empty(host, name):
    z = np.array([[0.5, np.nan, -np.inf], [np.inf, -3.0, 40.0]])
    b = np.array([-0.5, 1.0, 2.0])
    want = reference(name, z, b)
    dz = fd.put(z)
    got = cuda_dispatch.activation_bias_forward(name, dz, fd.put(b), out=dz,
                                                **OPTIONS.get(name, {}))
    assert got is dz  # in place
    np.testing.assert_allclose(fd.get(dz), want, rtol=RTOL[np.float64], atol=0, equal_nan=True)
    assert np.isnan(fd.get(dz)[0, 1])
    empty = cuda_dispatch.activation_bias_forward(name, fd.put(np.zeros((0, 3))), fd.put(b),
                                                  **OPTIONS.get(name, {}))
    assert empty.shape == (0, 3)
    assert len(host.launches) == 1  # nothing launched for the empty batch


def test_bad_inputs(host):
    z, b = fd.put(np.zeros((4, 3))), fd.put(np.zeros(3))
    with pytest.raises(ValueError, match=r"bias has shape \(4,\); z has shape \(4, 3\), so bias "
                                         r"must have shape \(3,\)"):
        cuda_dispatch.activation_bias_forward("relu", z, fd.put(np.zeros(4)))
    with pytest.raises(ValueError, match=r"z must be 2-D \(batch, features\), got shape \(3,\)"):
        cuda_dispatch.activation_bias_forward("relu", fd.put(np.zeros(3)), b)
    with pytest.raises(TypeError, match=r"bias is a numpy.ndarray; activation_bias_forward runs "
                                        r"on the device"):
        cuda_dispatch.activation_bias_forward("relu", z, np.zeros(3))
    with pytest.raises(TypeError, match=r"z is a numpy.ndarray"):
        cuda_dispatch.activation_bias_forward("relu", np.zeros((4, 3)), b)
    buf = fd.put(np.zeros(15))
    with pytest.raises(ValueError, match=r"out overlaps bias"):
        cuda_dispatch.activation_bias_forward("relu", z, buf[:3], out=buf[2:14].reshape(4, 3))
    with pytest.raises(ValueError, match=r"negative_slope"):
        cuda_dispatch.activation_bias_forward("leaky_relu", z, b, negative_slope=float("nan"))
    with pytest.raises(ValueError, match=r"unknown activation|activation"):
        cuda_dispatch.activation_bias_forward("softplus", z, b)
    assert host.launches == []
