"""runtime.nn networks trained on CuPy arrays, without a GPU.

The arrays are tests/fake_device.py's stand-ins (the runtime takes them for CuPy arrays): the
model is moved with ``model.to(fd.XP)``; the CUDA kernels (activations, losses, optimizers,
batch norm and dropout: runtime/generated/cupy_*.py) are compiled for the CPU and launched by
tests/cuda_host.py's host launcher through runtime.cuda_dispatch. Oracle: the same model on the
NumPy path (the Numba kernels and NumPy's BLAS), step for step: loss, gradients, parameters.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
from runtime import nn, optim  # noqa: E402
from runtime.generated import cupy_activations, cupy_layers, cupy_losses, cupy_optim  # noqa: E402

# float32: products and kernels round alike up to BLAS blocking / FMA contraction, a few ulp
# per step; float64 likewise at double precision.
TOL = {np.float32: 1e-5, np.float64: 1e-12}


class Launcher(fd.DeviceLauncher):
    """The host launcher with every kernel family, including runtime/generated/cupy_layers.py."""

    def __init__(self):
        super().__init__(cuda_host.loss_library(cupy_losses.SOURCE),
                         optim=cuda_host.optim_library(cupy_optim.SOURCE),
                         activations=cuda_host.activation_library(cupy_activations.SOURCE))
        self.layer_lib = cuda_host.layer_library(cupy_layers.SOURCE)

    def launch(self, family, name, grid, block, args, shared_mem=0):
        if family != "layers":
            return super().launch(family, name, grid, block, args, shared_mem)
        assert block % 32 == 0 and grid >= 1, (name, grid, block)
        self.launches.append((name, grid, block, shared_mem))
        base, tn = name.rsplit("_", 1)
        np_t = cuda_host.TYPES[tn][1]
        extra = []
        if base.startswith("batchnorm_backward"):  # one span, the mode as a flag
            extra, base = [ctypes.c_int(base == "batchnorm_backward")], "batchnorm_backward"
        conv = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert isinstance(a, fd.DeviceArray) and a.dtype == np_t, (name, type(a), a.dtype)
                conv.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.int64):
                conv.append(ctypes.c_longlong(int(a)))
            else:
                assert isinstance(a, np_t), (name, type(a))
                conv.append(cuda_host.TYPES[tn][2](a))
        fn = getattr(self.layer_lib, f"h_{base}_span_{tn}")
        for k in range(self.threads):  # each thread's grid-stride span
            fn(*conv, *extra, ctypes.c_longlong(k), ctypes.c_longlong(self.threads))


@pytest.fixture(scope="module")
def launcher():
    return Launcher()


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def data(dtype, loss, n=48, d=6, c=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    if loss == "softmax_ce":
        y = rng.integers(0, c, n)
    elif loss == "bce":
        y = (rng.random((n, c)) < 0.5).astype(dtype)
    else:
        y = rng.standard_normal((n, c)).astype(dtype)
    return X, y


def pair(dtype, loss="softmax_ce", **kw):
    """The same model twice: on the host, and moved to the fake device."""
    args = ([6, 16, 12, 3], ["tanh", "relu"])
    cpu = nn.MLP(*args, loss=loss, dtype=dtype, seed=1, **kw)
    dev = nn.MLP(*args, loss=loss, dtype=dtype, seed=1, **kw).to(fd.XP)
    return cpu, dev


def check_close(cpu, dev, tol, what):
    assert isinstance(dev.flat_params, fd.DeviceArray) and isinstance(dev.flat_grads, fd.DeviceArray)
    for (name, p), q, g, h in zip(cpu.named_parameters(), dev.parameters(), cpu.gradients(),
                                  dev.gradients()):
        assert rel(fd.get(h), g) <= tol, (what, "grad", name, rel(fd.get(h), g))
        assert rel(fd.get(q), p) <= tol, (what, "param", name, rel(fd.get(q), p))


OPTIMIZERS = {"sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
              "adam": lambda ps: optim.Adam(ps, lr=0.01)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
def test_mlp_trains_on_device_like_numpy(host, dtype, opt, loss):
    cpu, dev = pair(dtype, loss)
    X, y = data(dtype, loss)
    Xd, yd = fd.put(X), fd.put(y)
    check_close(cpu, dev, 0, "moved")  # to() copies the host's initial parameters exactly
    o_cpu, o_dev = OPTIMIZERS[opt](cpu.flat_parameters()), OPTIMIZERS[opt](dev.flat_parameters())
    reads = fd.DeviceArray.host_reads
    losses = []
    for step in range(5):
        l_cpu = cpu.loss_and_backward(X, y)
        l_dev = dev.loss_and_backward(Xd, yd)
        assert isinstance(l_dev, fd.DeviceArray) and l_dev.shape == ()
        losses.append((l_cpu, l_dev))
        o_cpu.step(cpu.flat_gradients())
        o_dev.step(dev.flat_gradients())
        check_close(cpu, dev, TOL[dtype], step)
    assert fd.DeviceArray.host_reads == reads, "a training step read a device value on the host"
    for l_cpu, l_dev in losses:
        assert abs(float(fd.get(l_dev)) - l_cpu) <= TOL[dtype] * abs(l_cpu)
    assert losses[-1][0] < losses[0][0]  # it trains
    names = {n for n, *_ in host.launches}
    tn = {np.float32: "f32", np.float64: "f64"}[dtype]
    # each hidden layer's bias goes into its activation's kernel (one pass over z)
    assert {f"tanh_bias_forward_{tn}", f"relu_bias_forward_{tn}", f"relu_backward_output_{tn}",
            f"tanh_backward_output_{tn}"} <= names
    assert not names & {f"tanh_forward_{tn}", f"relu_forward_{tn}"}
    assert any(n.startswith(("softmax_ce_warp", "bce_logits_loss_grad", "mse_loss_grad"))
               for n in names)
    assert any(n.startswith("sgd" if opt == "sgd" else "adam") for n in names)
    # evaluation-mode passes on the device agree too
    out = dev.forward(Xd, training=False)
    assert isinstance(out, fd.DeviceArray)
    assert rel(fd.get(out), cpu.forward(X, training=False)) <= TOL[dtype]
    assert abs(dev.loss(Xd, yd) - cpu.loss(X, y)) <= TOL[dtype] * abs(cpu.loss(X, y))
    if loss != "mse":
        assert dev.accuracy(Xd, yd) == cpu.accuracy(X, y)
        np.testing.assert_array_equal(fd.get(dev.predict(Xd)), cpu.predict(X))
        assert rel(fd.get(dev.predict_proba(Xd)), cpu.predict_proba(X)) <= 10 * TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_batchnorm_dropout_mlp_on_device_like_numpy(host, dtype):
    cpu, dev = pair(dtype, batchnorm=True, dropout=0.25)
    X, y = data(dtype, "softmax_ce", n=40)
    Xd, yd = fd.put(X), fd.put(y)
    o_cpu, o_dev = optim.Adam(cpu.flat_parameters(), lr=0.01), optim.Adam(dev.flat_parameters(), lr=0.01)
    drops = [(a, b) for a, b in zip(cpu.layers, dev.layers) if isinstance(a, nn.Dropout)]
    bns = [(a, b) for a, b in zip(cpu.layers, dev.layers) if isinstance(a, nn.BatchNorm)]
    assert len(drops) == 2 and len(bns) == 2
    reads = fd.DeviceArray.host_reads
    for step in range(4):
        l_cpu = cpu.loss_and_backward(X, y)
        l_dev = dev.loss_and_backward(Xd, yd)
        # The fake device's xp.random is NumPy's, so the device Generator seeded with the
        # layer's seed draws the host's masks (on a GPU, cupy.random's stream differs).
        for a, b in drops:
            assert isinstance(b._mask, fd.DeviceArray)
            np.testing.assert_array_equal(fd.get(b._mask), a._mask)
        assert abs(float(fd.get(l_dev)) - l_cpu) <= TOL[dtype] * abs(l_cpu)
        o_cpu.step(cpu.flat_gradients())
        o_dev.step(dev.flat_gradients())
        check_close(cpu, dev, TOL[dtype], step)
        for a, b in bns:
            assert isinstance(b.running_mean, fd.DeviceArray)
            assert rel(fd.get(b.running_mean), a.running_mean) <= TOL[dtype]
            assert rel(fd.get(b.running_var), a.running_var) <= TOL[dtype]
    assert fd.DeviceArray.host_reads == reads
    names = {n for n, *_ in host.launches}
    tn = {np.float32: "f32", np.float64: "f64"}[dtype]
    assert {f"batchnorm_train_{tn}", f"batchnorm_backward_{tn}", f"dropout_{tn}",
            f"dropout_backward_{tn}"} <= names
    # evaluation mode: running statistics, no dropout
    out = dev.eval().forward(Xd)
    assert rel(fd.get(out), cpu.eval().forward(X)) <= TOL[dtype]
    assert f"batchnorm_eval_{tn}" in {n for n, *_ in host.launches}
    # evaluation-mode backward (the affine rule) on the device
    dev.backward(fd.put(np.ones(out.shape, dtype)))
    cpu.backward(np.ones(out.shape, dtype))
    check_close(cpu, dev, TOL[dtype], "eval backward")
    assert f"batchnorm_backward_eval_{tn}" in {n for n, *_ in host.launches}


def test_float_of_the_loss_is_the_one_read(host):
    _, dev = pair(np.float32, "mse")
    X, y = data(np.float32, "mse")
    reads = fd.DeviceArray.host_reads
    loss = dev.loss_and_backward(fd.put(X), fd.put(y))
    assert fd.DeviceArray.host_reads == reads
    value = float(loss)
    assert fd.DeviceArray.host_reads == reads + 1 and isinstance(value, float)


def test_mixed_host_and_device_inputs_raise(host):
    cpu, dev = pair(np.float32)
    X, y = data(np.float32, "softmax_ce")
    with pytest.raises(TypeError, match=r"X is a numpy.ndarray but the model is on the device"):
        dev.loss_and_backward(X, fd.put(y))
    with pytest.raises(TypeError, match=r"y is a numpy.ndarray but the model is on the device"):
        dev.loss_and_backward(fd.put(X), y)
    with pytest.raises(TypeError, match=r"X is a numpy.ndarray but the model is on the device"):
        dev.predict(X)
    with pytest.raises(TypeError, match=r"y is a numpy.ndarray .*cupy.asarray\(y\)"):
        dev.accuracy(fd.put(X), y)
    with pytest.raises(TypeError, match=r"X is a CuPy array .* model.to\('cuda'\)"):
        cpu.loss_and_backward(fd.put(X), y)
    with pytest.raises(TypeError, match=r"y is a CuPy array .* model is on the host"):
        cpu.loss_and_backward(X, fd.put(y))
    _, reg = pair(np.float32, "mse")
    with pytest.raises(TypeError, match=r"y is a numpy.ndarray"):
        reg.loss_and_backward(fd.put(X), np.zeros((len(X), 3), np.float32))
    cpu_mse, _ = pair(np.float32, "mse")
    with pytest.raises(TypeError, match=r"y is a CuPy array"):
        cpu_mse.loss_and_backward(X, fd.put(np.zeros((len(X), 3), np.float32)))


def test_to_round_trip_device_argument_and_state_dict(host):
    cpu, _ = pair(np.float64, batchnorm=True)
    start = cpu.flat_params.copy()
    dev = nn.MLP([6, 16, 12, 3], ["tanh", "relu"], dtype=np.float64, seed=1, batchnorm=True,
                 device=fd.XP)
    assert dev.device == "cuda" and cpu.device == "cpu"
    np.testing.assert_array_equal(fd.get(dev.flat_params), start)
    X, y = data(np.float64, "softmax_ce")
    dev.loss_and_backward(fd.put(X), fd.put(y))
    state = dev.state_dict()
    assert all(isinstance(v, fd.DeviceArray) for v in state.values())
    back = dev.to("cpu")
    assert back is dev and type(dev.flat_params) is np.ndarray
    assert type(dev.layers[1].running_mean) is np.ndarray
    cpu.loss_and_backward(X, y)
    np.testing.assert_array_equal(dev.flat_params, cpu.flat_params)
    assert rel(dev.flat_grads, cpu.flat_grads) <= TOL[np.float64]
    assert rel(dev.layers[1].running_mean, cpu.layers[1].running_mean) <= TOL[np.float64]
    assert rel(dev.layers[1].running_var, cpu.layers[1].running_var) <= TOL[np.float64]
    # after moving back the host path trains as before (the instance's device passes are gone)
    assert "_forward" not in vars(dev)
    l_back, l_cpu = dev.loss_and_backward(X, y), cpu.loss_and_backward(X, y)
    assert isinstance(l_back, float) and abs(l_back - l_cpu) <= 1e-12 * abs(l_cpu)
    # a device state dict loads into a host model and back
    fresh = nn.MLP([6, 16, 12, 3], ["tanh", "relu"], dtype=np.float64, seed=7, batchnorm=True)
    fresh.load_state_dict(state)
    fresh.to(fd.XP).load_state_dict(cpu.state_dict())
    np.testing.assert_array_equal(fd.get(fresh.flat_params), cpu.flat_params)
    with pytest.raises(ValueError, match=r"device='tpu' is not supported"):
        cpu.to("tpu")


@pytest.mark.parametrize("batch_size", [None, 16])
def test_fit_trains_a_device_model_like_the_host(host, batch_size):
    from runtime.train import fit

    cpu, dev = pair(np.float32)
    X, y = data(np.float32, "softmax_ce")
    h_cpu = fit(cpu, X, y, optim.SGD(cpu.flat_parameters(), lr=0.1, momentum=0.9), epochs=3,
                batch_size=batch_size, seed=5)
    h_dev = fit(dev, fd.put(X), fd.put(y), optim.SGD(dev.flat_parameters(), lr=0.1, momentum=0.9),
                epochs=3, batch_size=batch_size, seed=5)
    assert h_dev.updates == h_cpu.updates == 3 * (1 if batch_size is None else 3)
    np.testing.assert_allclose(h_dev.step_loss, h_cpu.step_loss, rtol=1e-5)
    assert h_dev.thread_plan in ("", None) or "BLAS" not in str(h_dev.thread_plan)
    check_close(cpu, dev, 1e-5, "after fit")


def test_to_moves_array_loss_options(host):
    """A class weight given as a NumPy array moves with the model (as a torch loss module's
    weight with .to()); the device loss then equals the host's, from the textbook formula."""
    X, y = data(np.float64, "softmax_ce")
    w = np.array([0.5, 2.0, 1.0])
    dev = nn.MLP([6, 16, 12, 3], ["tanh", "relu"], dtype=np.float64, seed=1,
                 loss_options={"weight": w}, device=fd.XP)
    assert isinstance(dev.loss_options["weight"], fd.DeviceArray)
    loss = float(fd.get(dev.loss_and_backward(fd.put(X), fd.put(y))))
    back = dev.to("cpu")
    assert type(back.loss_options["weight"]) is np.ndarray
    logits = back.forward(X, training=True)  # the parameters have not moved since the step
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = -(w[y] * logp[np.arange(len(y)), y]).sum() / w[y].sum()  # torch's weighted mean
    assert abs(loss - want) <= 1e-12 * abs(want)


@pytest.mark.parametrize("slope", [0.2, -0.1])
def test_leaky_relu_layers_on_device_like_numpy(host, slope):
    """leaky_relu with a slope > 0 runs the fused bias kernel on the device; with a slope ≤ 0
    (its δ needs z, not a) the bias add and the activation stay apart, z kept for backward."""
    dtype = np.float64
    args = ([6, 16, 12, 3], "leaky_relu")
    cpu = nn.MLP(*args, dtype=dtype, seed=2, negative_slope=slope)
    dev = nn.MLP(*args, dtype=dtype, seed=2, negative_slope=slope).to(fd.XP)
    X, y = data(dtype, "softmax_ce", seed=3)
    for step in range(3):
        l_cpu, l_dev = cpu.loss_and_backward(X, y), dev.loss_and_backward(fd.put(X), fd.put(y))
        assert abs(float(fd.get(l_dev)) - l_cpu) <= TOL[dtype] * abs(l_cpu)
        check_close(cpu, dev, TOL[dtype], step)
    names = {n for n, *_ in host.launches}
    fused = {"leaky_relu_bias_forward_f64", "leaky_relu_backward_output_f64"}
    apart = {"leaky_relu_forward_f64", "leaky_relu_backward_f64"}
    assert (fused <= names and not names & apart) if slope > 0 else (apart <= names and not names & fused)


def test_device_backward_checks_grad_output_like_the_host(host):
    """backward on a device model: a host array, a shape other than the last forward's output,
    or no forward yet raise errors naming grad_output; another real dtype is converted."""
    cpu, dev = pair(np.float64, "mse")
    with pytest.raises(ValueError, match="backward needs a forward pass first"):
        dev.backward(fd.put(np.zeros((4, 3))))
    X, y = data(np.float64, "mse", n=8)
    out_cpu, out_dev = cpu.forward(X, training=True), dev.forward(fd.put(X), training=True)
    g = np.random.default_rng(5).standard_normal(out_cpu.shape)
    with pytest.raises(TypeError, match=r"grad_output is a numpy.ndarray but the model is on "
                                        r"the device"):
        dev.backward(g)
    with pytest.raises(ValueError, match=r"grad_output has shape \(3, 8\), but the last forward "
                                         r"pass gave an output of shape \(8, 3\)"):
        dev.backward(fd.put(g.T.copy()))
    cpu.backward(g)
    dev.backward(fd.put(g.astype(np.float32)))  # converted to the model's float64
    g32 = g.astype(np.float32).astype(np.float64)
    cpu.backward(g32)
    check_close(cpu, dev, TOL[np.float64], "float32 grad_output")
