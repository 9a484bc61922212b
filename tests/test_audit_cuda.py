"""Audit of the CuPy path (runtime.cuda_dispatch) without a GPU, used as a user would.

The arrays are tests/fake_device.py's stand-ins (the runtime takes them for CuPy arrays) and the
kernels are the committed CUDA source compiled for the CPU (tests/cuda_host.py). The device path
documents the NumPy path's semantics, so the oracles are the NumPy path's documented contract
(its checks and messages), PyTorch and NumPy formulas. Each test first failed on the code.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
import runtime  # noqa: E402
from runtime import cuda_dispatch  # noqa: E402
from runtime.generated import cupy_activations, cupy_losses, cupy_optim  # noqa: E402


@pytest.fixture(scope="module")
def launcher():
    return fd.DeviceLauncher(cuda_host.loss_library(cupy_losses.SOURCE),
                             optim=cuda_host.optim_library(cupy_optim.SOURCE),
                             activations=cuda_host.activation_library(cupy_activations.SOURCE))


# --------------------------------------------------------------------------- out= overlap

def test_activation_out_partially_overlapping_an_input_is_rejected(host):
    # As the NumPy path (tests/test_audit_runtime_api.py): a shifted view was overwritten by
    # one thread before another read it (the emulation's thread 0 wrote z[1]).
    n = 40
    buf = fd.put(np.random.default_rng(0).standard_normal(n + 1))
    with pytest.raises(ValueError, match="out overlaps z without being the same array"):
        runtime.activation("sigmoid", buf[:n], out=buf[1:])
    with pytest.raises(ValueError, match="out overlaps z without being the same array"):
        runtime.activation_grad("tanh", buf[:n], fd.put(np.ones(n)), out=buf[1:])
    with pytest.raises(ValueError, match="out overlaps upstream without being the same array"):
        runtime.activation_grad("tanh", fd.put(np.zeros(n)), buf[:n], out=buf[1:])
    a = fd.put(np.full(n + 1, 0.5))
    with pytest.raises(ValueError, match="out overlaps output without being the same array"):
        runtime.activation_grad("sigmoid", None, fd.put(np.ones(n)), output=a[:n], out=a[1:])


def test_activation_out_may_be_the_input_itself(host):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(300)
    zd = fd.put(z)
    assert runtime.activation("sigmoid", zd, out=zd) is zd
    np.testing.assert_allclose(fd.get(zd), 1 / (1 + np.exp(-z)), rtol=1e-15)
    u = rng.standard_normal(300)
    ud = fd.put(u)
    runtime.activation_grad("tanh", fd.put(z), ud, out=ud)
    np.testing.assert_allclose(fd.get(ud), u * (1 - np.tanh(z) ** 2), rtol=1e-12, atol=1e-300)


def test_loss_out_partially_overlapping_an_input_is_rejected(host):
    rng = np.random.default_rng(2)
    buf = fd.put(rng.standard_normal(33))
    t = fd.put(rng.standard_normal(32))
    with pytest.raises(ValueError, match="out overlaps pred without being the same array"):
        runtime.loss_and_grad("mse", buf[:32], t, out=buf[1:])
    with pytest.raises(ValueError, match="out overlaps target without being the same array"):
        runtime.loss_and_grad("mse", t, buf[:32], out=buf[1:])
    z = fd.put(rng.standard_normal(8 * 5 + 1))
    with pytest.raises(ValueError, match="out overlaps pred without being the same array"):
        runtime.loss_and_grad("softmax_ce", z[:40].reshape(8, 5), fd.put(rng.integers(0, 5, 8)),
                              out=z[1:].reshape(8, 5))
    q = fd.put(np.full(8 * 5 + 1, 0.2))
    with pytest.raises(ValueError, match="out overlaps target without being the same array"):
        runtime.loss_and_grad("softmax_ce", fd.put(rng.standard_normal((8, 5))),
                              q[:40].reshape(8, 5), out=q[1:].reshape(8, 5))


def test_loss_out_overlapping_weight_is_rejected(host):
    rng = np.random.default_rng(3)
    p, t = fd.put(rng.random((3, 4))), fd.put(rng.random((3, 4)))
    w = fd.put(np.ones((3, 4)))
    with pytest.raises(ValueError, match="out overlaps weight, which is read after"):
        runtime.loss_and_grad("bce", p, t, weight=w, out=w)
    pw = fd.put(np.ones(16))
    with pytest.raises(ValueError, match="out overlaps pos_weight, which is read after"):
        runtime.loss_and_grad("bce_logits", p, t, pos_weight=pw[:12].reshape(3, 4),
                              out=pw[4:].reshape(3, 4))
    buf = fd.put(np.zeros((50, 7)))
    buf[0] = rng.random(7)
    with pytest.raises(ValueError, match="out overlaps weight, which is read after"):
        runtime.loss_and_grad("ce", fd.put(rng.standard_normal((50, 7))),
                              fd.put(rng.integers(0, 7, 50)), weight=buf[0], out=buf)


def test_loss_out_may_be_pred_or_target_itself(host):
    rng = np.random.default_rng(4)
    p, t = rng.standard_normal(100), rng.standard_normal(100)
    pd_ = fd.put(p)
    _, g = runtime.loss_and_grad("mse", pd_, fd.put(t), out=pd_)
    assert g is pd_
    np.testing.assert_allclose(fd.get(g), 2 * (p - t) / 100, rtol=1e-13)
    z, q = rng.standard_normal((6, 4)), rng.dirichlet(np.ones(4), 6)
    qd = fd.put(q)
    _, g = runtime.loss_and_grad("ce", fd.put(z), qd, out=qd, reduction="sum")
    e = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(fd.get(g), e / e.sum(1, keepdims=True) - q, rtol=1e-12,
                               atol=1e-15)


# --------------------------------------------------------------------------- softmax_ce

def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for cross_entropy")


def test_softmax_ce_empty_batch_of_probabilities_is_nan_as_torch(host):
    torch = _torch()
    for dt in (np.float32, np.float64):
        z, q = np.zeros((0, 4), dt), np.zeros((0, 4), dt)
        want = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(q))
        assert np.isnan(float(want))
        # before: ZeroDivisionError from the host-side 1/N of the gradient scale
        loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(q))
        assert np.isnan(float(loss)) and grad.shape == (0, 4) and grad.dtype == dt
        loss, _ = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(q), reduction="sum")
        assert float(loss) == 0


def test_softmax_ce_probabilities_with_a_nonnegative_ignore_index_raise_as_torch(host):
    torch = _torch()
    rng = np.random.default_rng(5)
    z, q = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)
    with pytest.raises(Exception):
        torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(q),
                                          ignore_index=1)
    # before: accepted and ignored on the device (the NumPy path raises)
    with pytest.raises(ValueError, match=r"ignore_index=1 is not supported with probability"):
        runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(q), ignore_index=1)


def test_softmax_ce_uint64_labels_are_checked_in_their_own_dtype(host):
    z = fd.put(np.random.default_rng(6).standard_normal((3, 4)))
    # 2**64 - 100 is -100 = ignore_index once cast to int64: the row was silently ignored
    y = np.array([0, 2**64 - 100, 1], np.uint64)
    with pytest.raises(ValueError, match=r"target has label 18446744073709551516 at position "
                                         r"\(1,\), outside \[0, 4\)"):
        runtime.loss_and_grad("softmax_ce", z, fd.put(y))
    y = np.array([0, 2**63 + 5, 1], np.uint64)  # the message showed the wrapped negative value
    with pytest.raises(ValueError, match=r"target has label 9223372036854775813 at position"):
        runtime.loss_and_grad("softmax_ce", z, fd.put(y))


def test_softmax_ce_spatial_logits_as_the_numpy_path_and_torch(host):
    # (N, C, d1, ...) logits: documented by the NumPy path and by torch; the device raised
    torch = _torch()
    rng = np.random.default_rng(7)
    for dt, tol in ((np.float32, 2e-5), (np.float64, 1e-12)):
        z = rng.standard_normal((3, 5, 2, 4)).astype(dt)
        y = rng.integers(0, 5, (3, 2, 4))
        y[0, 1, 2] = -100
        q = rng.dirichlet(np.ones(5), (3, 2, 4)).transpose(0, 3, 1, 2).astype(dt)
        w = rng.random(5).astype(dt)
        for target in (y, q):
            for red in ("mean", "sum", "none"):
                kw = dict(weight=fd.put(w), label_smoothing=0.1)  # on the device, as pred
                tz = torch.from_numpy(z).requires_grad_()
                want = torch.nn.functional.cross_entropy(
                    tz, torch.from_numpy(target), weight=torch.from_numpy(w), reduction=red,
                    label_smoothing=0.1)
                want.sum().backward()
                loss, grad = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(target),
                                                   reduction=red, **kw)
                assert isinstance(grad, fd.DeviceArray) and grad.dtype == dt
                assert grad.shape == z.shape
                np.testing.assert_allclose(fd.get(loss), want.detach().numpy(), rtol=tol,
                                           atol=tol)
                np.testing.assert_allclose(fd.get(grad), tz.grad.numpy(), rtol=tol, atol=tol)
        out = fd.put(np.empty_like(z))
        _, g = runtime.loss_and_grad("softmax_ce", fd.put(z), fd.put(y), out=out)
        assert g is out


def test_softmax_ce_checks_and_names_pred_as_the_numpy_path(host):
    # The argument is pred (runtime.loss_and_grad's); the device's messages said 'logits',
    # accepted C = 0 and reported integer targets of pred's shape as a shape error.
    with pytest.raises(ValueError, match=r"pred has shape \(3, 0\): no classes \(C = 0\)"):
        runtime.loss_and_grad("softmax_ce", fd.put(np.zeros((3, 0))),
                              fd.put(np.zeros(3, np.int64)), ignore_index=0)
    with pytest.raises(ValueError, match=r"pred must have a class dimension"):
        runtime.loss_and_grad("softmax_ce", fd.put(np.zeros(())), fd.put(np.zeros((), int)))
    with pytest.raises(TypeError, match=r"pred has an integer dtype int64"):
        runtime.loss_and_grad("softmax_ce", fd.put(np.zeros((2, 3), int)),
                              fd.put(np.zeros(2, int)))
    with pytest.raises(TypeError, match=r"target has pred's shape \(2, 3\) but dtype int64: "
                                        r"probabilities must be floating point"):
        runtime.loss_and_grad("softmax_ce", fd.put(np.zeros((2, 3))),
                              fd.put(np.zeros((2, 3), int)))


def test_a_host_out_for_device_inputs_is_rejected_naming_out(host):
    # The kernels write out= on the device: a NumPy buffer cannot be (CuPy's launch fails with
    # "Unsupported type <class 'numpy.ndarray'>"; the emulation wrote the host array and
    # handed it back as the device gradient).
    rng = np.random.default_rng(8)
    p, t = fd.put(rng.standard_normal(6)), fd.put(rng.standard_normal(6))
    with pytest.raises(TypeError, match=r"out is a numpy.ndarray; .* on the device"):
        runtime.loss_and_grad("mse", p, t, out=np.empty(6))
    with pytest.raises(TypeError, match=r"out is a numpy.ndarray; .* on the device"):
        runtime.loss_and_grad("ce", fd.put(rng.standard_normal((2, 3))),
                              fd.put(np.array([0, 2])), out=np.empty((2, 3)))
    with pytest.raises(TypeError, match=r"out is a numpy.ndarray; .* on the device"):
        runtime.activation("relu", p, out=np.empty(6))
    with pytest.raises(TypeError, match=r"out is a numpy.ndarray; .* on the device"):
        runtime.activation_grad("relu", p, t, out=np.empty(6))


# --------------------------------------------------------------------------- launch resources

def _static_smem(arch="sm_80"):
    """{kernel: bytes of static shared memory} from NVRTC's ptxas report of cupy_losses."""
    import re

    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as err:  # noqa: BLE001 (ImportError, or the NVRTC library missing)
        pytest.skip(f"NVRTC is not available ({err!r}); install the gpu extra")
    prog = nvrtc.createProgram(cupy_losses.SOURCE, "cupy_losses.cu", [], [])
    try:
        nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14", "--ptxas-options=-v"])
        log = nvrtc.getProgramLog(prog)
    finally:
        nvrtc.destroyProgram(prog)
    out, name = {}, None
    for line in log.splitlines():
        m = re.search(r"Compiling entry function '(\w+)'", line)
        name = m.group(1) if m else name
        m = re.search(r"(\d+) bytes smem", line)
        if m and name:
            out[name] = int(m.group(1))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_softmax_ce_shared_memory_fits_the_48k_a_block_gets_without_opt_in(host, dtype):
    # CUDA: a block's static plus dynamic shared memory is at most 48 KiB unless the kernel
    # opted in. The plan filled 48 KiB with cached logits and forgot the kernels' own
    # __shared__ arrays: float64 with C = 1024 (warp kernel, 256 B static) and float32 with
    # C = 12288 (block kernel, 896 B) failed to launch on a device.
    static = _static_smem()
    itemsize = np.dtype(dtype).itemsize
    tn = "f32" if dtype == np.float32 else "f64"
    host.opt_in = False
    for C in list(range(1, 1025)) + list(range(5800, 6145)) + list(range(11900, 12289, 7)):
        kind, grid, block, smem, cache = cuda_dispatch._softmax_plan(1000, C, itemsize, tn)
        assert smem + static[f"softmax_ce_{kind}_{tn}"] <= 48 * 1024, (C, kind, smem)
        if cache:
            assert smem >= (block // 32 if kind == "warp" else 1) * C * itemsize


# --------------------------------------------------------------------------- optimizer_step

def test_optimizer_step_checks_the_rule_and_its_argument_counts(host):
    # A missing state buffer or scalar was launched as is: the kernel took the next argument
    # (or nothing) for a pointer, an out-of-bounds read and write on the device (the emulation
    # read a stray pointer). The Numba kernel of the same rule refuses such a call.
    from runtime.generated import numba_optim

    p, g = fd.put(np.ones(4)), fd.put(np.full(4, 0.5))
    assert numba_optim.RULES["sgd_momentum"]["state"] == ("momentum_buffer",)
    with pytest.raises(ValueError, match=r"sgd_momentum takes 1 state buffer\(s\) "
                                         r"\(momentum_buffer\), got 0"):
        cuda_dispatch.optimizer_step("sgd_momentum", p, g, (), (0.1, 0.9, 0.0))
    with pytest.raises(ValueError, match=r"sgd_momentum takes 3 scalars, got 2"):
        cuda_dispatch.optimizer_step("sgd_momentum", p, g, (fd.put(np.zeros(4)),), (0.1, 0.9))
    with pytest.raises(ValueError, match=r"rule='adamx' is not an optimizer update rule"):
        cuda_dispatch.optimizer_step("adamx", p, g, (), ())
    with pytest.raises(ValueError, match=r"rule='clip_grad_value' is not an optimizer update"):
        cuda_dispatch.optimizer_step("clip_grad_value", p, g, (), (1.0,))
    # the right call still works: torch's first momentum step is θ -= lr·g (buffer = g)
    scalars = numba_optim.RULES["sgd_momentum"]["scalars"](1, lr=0.1, momentum=0.9,
                                                            dampening=0.0, weight_decay=0.0)
    buf = fd.put(np.zeros(4))
    cuda_dispatch.optimizer_step("sgd_momentum", p, g, (buf,), scalars)
    np.testing.assert_allclose(fd.get(p), 1 - 0.1 * 0.5, rtol=1e-15)
    np.testing.assert_allclose(fd.get(buf), 0.5, rtol=1e-15)


# --------------------------------------------------------------------------- layer entry points

def test_layer_entry_points_check_sizes_as_the_numba_kernels(host):
    # batchnorm_forward/backward and dropout launched with any sizes: a short gamma, running
    # statistic or mask was read (and a short output written) past its end on the device.
    # The Numba layer kernels raise these messages.
    N, F = 5, 4
    put = fd.put
    x = put(np.random.default_rng(9).standard_normal((N, F)))
    vec = lambda k=F: put(np.ones(k))  # noqa: E731
    mat = lambda n=N, f=F: put(np.zeros((n, f)))  # noqa: E731
    with pytest.raises(ValueError, match=r"gamma has 3 elements, not 4 \(x.shape\[1\]: one per "
                                         r"feature\)"):
        cuda_dispatch.batchnorm_forward(x, vec(3), vec(), 1e-5, 0.1, vec(), vec(), vec(), mat(),
                                        mat(), True)
    with pytest.raises(ValueError, match=r"running_var has 5 elements, not 4"):
        cuda_dispatch.batchnorm_forward(x, vec(), vec(), 1e-5, 0.1, vec(), vec(5), vec(), mat(),
                                        mat(), False)
    with pytest.raises(ValueError, match=r"y has 4 elements, not 5 \(x.shape\[0\]: y has x's "
                                         r"shape\)"):
        cuda_dispatch.batchnorm_forward(x, vec(), vec(), 1e-5, 0.1, vec(), vec(), vec(), mat(),
                                        mat(4), True)
    with pytest.raises(ValueError, match=r"dgamma has 2 elements, not 4 \(g.shape\[1\]: one per "
                                         r"feature\)"):
        cuda_dispatch.batchnorm_backward(x, mat(), vec(), vec(), mat(), vec(2), vec(), True)
    with pytest.raises(ValueError, match=r"xhat has 3 elements, not 4 \(g.shape\[1\]: xhat has "
                                         r"g's shape\)"):
        cuda_dispatch.batchnorm_backward(x, mat(f=3), vec(), vec(), mat(), vec(), vec(), False)
    with pytest.raises(ValueError, match=r"mask has 19 elements, not 20 \(x.size: the arrays "
                                         r"are 1-D, of one size\)"):
        cuda_dispatch.dropout(x, vec(19), 0.5, mat())
    with pytest.raises(ValueError, match=r"y has 19 elements, not 20"):
        cuda_dispatch.dropout(x, mat(), 0.5, vec(19), backward=True)


# --------------------------------------------------------------------------- generated subsets

@pytest.mark.parametrize("names", [["mse"], ["leaky_relu"], ["adam"], ["dropout"],
                                   ["softmax_ce", "clip_grad_norm", "batchnorm", "tanh"]],
                         ids=lambda n: "+".join(n))
def test_a_module_generated_for_chosen_names_compiles_with_nvrtc(names):
    # tests/test_cuda_compile.py compiles the committed modules; `derivecli gen --backend cupy
    # NAMES` writes modules with only some templates (and their shared helpers): each must
    # compile on its own and define every kernel it lists.
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as err:  # noqa: BLE001 (ImportError, or the NVRTC library missing)
        pytest.skip(f"NVRTC is not available ({err!r}); install the gpu extra")
    from codegen import cuda_kernels

    ns: dict = {}
    exec(compile(cuda_kernels.generate_module(names), "<generated>", "exec"), ns)
    prog = nvrtc.createProgram(ns["SOURCE"], "subset.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, ["-arch=sm_80", "--std=c++14"])
        except nvrtc.NVRTCError as err:
            pytest.fail(f"NVRTC failed on the module for {names}: {err}\n"
                        f"{nvrtc.getProgramLog(prog)}")
        ptx = nvrtc.getPTX(prog).decode()
    finally:
        nvrtc.destroyProgram(prog)
    assert ns["KERNELS"] and all(f".entry {k}(" in ptx for k in ns["KERNELS"])


def test_a_host_array_given_to_a_device_entry_point_is_named_with_its_module(host):
    # "grad is a ndarray; expected a cupy array": NumPy's and CuPy's arrays are both 'ndarray'
    p = fd.put(np.ones(4))
    with pytest.raises(TypeError, match=r"grad is a numpy.ndarray; expected a device array"):
        cuda_dispatch.optimizer_step("sgd", p, np.ones(4), (), (0.1,))
    with pytest.raises(TypeError, match=r"grads\[1\] is a list; expected a device array"):
        cuda_dispatch.clip_grad_value_([p, [1.0]], 1.0)


# --------------------------------------------------------------------------- the CUDA printer

def test_printer_parenthesizes_a_power_printed_as_a_product_in_a_denominator():
    # Integer powers print as products (b*b); SymPy writes a lone denominator by its precedence
    # (Pow's) without parentheses, so x/(y + 1)**2 came out as x/(y + 1)*(y + 1) = x. C and
    # Python give * and / the same precedence and associativity: the text evaluates alike.
    from codegen.cuda_printer import cuda_code

    x, y = sp.symbols("x y", real=True)
    point = {"x": 3.0, "y": 0.5}
    for expr in (x / (1 + y) ** 2, x / y ** 3, -x / (y - 2) ** 4, 2 * x ** 2 / (1 + y) ** 2,
                 x / (y * (1 + y) ** 2), x ** 2 * y ** 3, (1 + y) ** -2, x / y):
        want = float(expr.subs({x: 3.0, y: 0.5}))
        for dtype in ("float", "double"):
            text = cuda_code(expr, dtype)
            got = eval(text.replace("f", "").replace("1.0/", "1/"), dict(point))  # noqa: S307
            assert got == pytest.approx(want, rel=1e-12), (expr, dtype, text)


def test_a_device_function_with_a_squared_denominator_computes_it(tmp_path):
    # σ'(z) = e/(1 + e)², e = e^(−|z|) (a form derive may print): compiled and run on the host
    import ctypes

    from codegen.cuda_printer import HELPERS, device_function

    z = sp.Symbol("z", real=True)
    e = sp.exp(-sp.Abs(z))
    src = "#include <math.h>\n#define __host__\n#define __device__\n" + HELPERS + \
        device_function("dc_dsig", [z], {"f": e / (1 + e) ** 2}, "double") + \
        'extern "C" double h_dsig(double z) { double f; dc_dsig(z, &f); return f; }\n'
    lib = cuda_host.compile_host(src)
    lib.h_dsig.restype, lib.h_dsig.argtypes = ctypes.c_double, [ctypes.c_double]
    for v in (-30.0, -2.0, 0.0, 0.7, 25.0):
        s = 1 / (1 + np.exp(-v))
        assert lib.h_dsig(v) == pytest.approx(s * (1 - s) if abs(v) < 20 else np.exp(-abs(v)),
                                              rel=1e-12), v


@pytest.mark.parametrize("make,node", [
    (lambda x, y: sp.Sum(x, (y, 0, 3)), "Sum"),
    (lambda x, y: sp.I * x, "ImaginaryUnit"),
    (lambda x, y: sp.Product(x, (y, 1, 3)), "Product"),
    (lambda x, y: sp.Integral(x, y), "Integral"),
])
def test_printer_is_strict_where_sympy_would_print_its_text(make, node):
    # The Numba printer raises for these; the CUDA printer wrote SymPy's text form into the
    # kernel ("Sum(x, (y, 0, 3))", "I*x"), found only by the C++ compiler, if at all.
    from codegen.cuda_printer import CudaPrintError, cuda_code

    x, y = sp.symbols("x y", real=True)
    for dtype in ("float", "double"):
        with pytest.raises(CudaPrintError, match=rf"cuda backend cannot print {node} node"):
            cuda_code(make(x, y), dtype)


# --------------------------------------------------------------------------- the CuPy launcher

def test_cupy_launcher_passes_a_null_pointer_for_none(monkeypatch):
    # cuda_dispatch passes None for an absent optional array (loss_none for 'mean', the loss
    # accumulator for 'none', labels/probs/weight of softmax_ce, the finalize divisor). CuPy
    # turns a None kernel argument into a null *address of* the argument, and the kernel
    # reads garbage (0xffffffff in CuPy issue 9046), not NULL: `if (loss_none)` held and the
    # kernel wrote through it. A 64-bit zero is the NULL pointer the kernels test for.
    pytest.importorskip("cupy", reason="the real launcher imports CuPy (no device needed)")
    from runtime.generated import cupy_losses as module

    calls = []

    def kernel(name):
        return lambda grid, block, args, shared_mem=0: calls.append(args)

    monkeypatch.setattr(module, "kernel", kernel)
    launcher = cuda_dispatch.Launcher()
    args = (np.float64(1.0), None, np.int64(3), None)
    launcher.launch("losses", "dc_finalize_f32", 1, 32, args)
    (sent,) = calls
    assert len(sent) == 4 and sent[0] is args[0] and sent[2] is args[2]
    for k in (1, 3):
        assert sent[k] is not None and int(sent[k]) == 0 and np.asarray(sent[k]).itemsize == 8


# --------------------------------------------------------------------------- bce targets

@pytest.mark.parametrize("bad", [-0.25, 1.5, np.inf])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_targets_outside_the_unit_interval_are_rejected_as_on_the_host(host, bad, reduction):
    # The NumPy path (and torch) reject bce targets outside [0, 1]; the device path used them,
    # giving a finite loss that is no cross-entropy (y = 1.5 weights log(1 − p) by −0.5).
    rng = np.random.default_rng(7)
    p, t = rng.uniform(0.05, 0.95, (6, 5)), rng.uniform(0, 1, (6, 5))
    t[4, 2] = bad
    with pytest.raises(ValueError) as on_host:
        runtime.loss_and_grad("bce", p, t, reduction=reduction)
    with pytest.raises(ValueError) as on_device:
        runtime.loss_and_grad("bce", fd.put(p), fd.put(t), reduction=reduction)
    assert str(on_device.value) == str(on_host.value)
    assert "target" in str(on_device.value) and "(4, 2)" in str(on_device.value)


def test_bce_targets_at_the_ends_and_nan_pass_on_the_device(host):
    # 0, 1 and NaN targets are valid (NaN in, NaN out), as on the host: only the loss decides
    p = np.array([0.2, 0.7, 0.4, 0.9])
    t = np.array([0.0, 1.0, 0.5, 1.0])
    loss, grad = runtime.loss_and_grad("bce", fd.put(p), fd.put(t), reduction="sum")
    expected = -np.sum(t * np.log(p) + (1 - t) * np.log1p(-p))
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    t[2] = np.nan
    loss, _ = runtime.loss_and_grad("bce", fd.put(p), fd.put(t), reduction="sum")
    assert np.isnan(float(loss))
