"""runtime.optim and runtime.clip on CuPy arrays, without a GPU.

The arrays are tests/fake_device.py's stand-ins (the runtime takes them for CuPy arrays); the
kernels are the CUDA source of runtime/generated/cupy_optim.py compiled for the CPU and launched
by tests/cuda_host.py's host launcher through runtime.cuda_dispatch. Oracles: the Numba path
(runtime.optim on NumPy copies) and the torch.optim pseudo-code in tests/optim_reference.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host

if cuda_host.CXX is None:
    pytest.skip("no host C++ compiler (g++/c++/clang++) to compile the CUDA source for the CPU",
                allow_module_level=True)

import fake_device as fd  # noqa: E402
from optim_reference import hyper_for, init_state, rel_err, step as reference_step  # noqa: E402
from runtime import clip, cuda_dispatch, optim  # noqa: E402
from runtime.generated import numba_optim  # noqa: E402

CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
           "adamw": "AdamW"}
RULES = [r for r in numba_optim.RULES if not r.startswith("clip")]
SHAPES = [(3, 4), (5,), (2, 3, 2), (300,)]
TAG = {np.float32: "f32", np.float64: "f64"}
# Against the Numba kernels: the same printed expressions, rounded alike up to FMA contraction.
TOL_NUMBA = {np.float32: 2e-6, np.float64: 1e-13}
# Against the float64 textbook pseudo-code: float32 rounding accumulated over the steps.
TOL_REF = {np.float32: 2e-5, np.float64: 1e-11}


@pytest.fixture()
def host():
    launcher = fd.launcher()
    old = cuda_dispatch.set_launcher(launcher)
    yield launcher
    cuda_dispatch.set_launcher(old)


def case(rule):
    spec = numba_optim.RULES[rule]
    kw = hyper_for(spec["optimizer"], spec["options"])
    kw["eps"] = 1e-3 if "eps" in kw else None  # see OPTIM_ATOL in tests/gpu/test_gpu_kernels.py
    kw = {k: v for k, v in kw.items() if v is not None}
    return CLASSES[spec["optimizer"]], kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("rule", RULES)
def test_trajectory_on_device_matches_numba_and_reference(host, rule, dtype):
    name, kw = case(rule)
    family = numba_optim.RULES[rule]["optimizer"]
    rng = np.random.default_rng(3)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    dev = [fd.put(p) for p in start]
    cpu = [p.copy() for p in start]
    ref = [p.astype(np.float64) for p in start]
    ref_state = [init_state(family, kw, p.shape) for p in start]
    ours, numba_path = getattr(optim, name)(dev, **kw), getattr(optim, name)(cpu, **kw)
    assert ours.param_groups[0]["params"] == [0, 1, 2, 3]
    reads = fd.DeviceArray.host_reads
    steps = 8
    for t in range(1, steps + 1):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        ours.step([fd.put(g) for g in grads])
        numba_path.step(grads)
        ref = [reference_step(family, p, g, s, kw, t) for p, g, s in zip(ref, grads, ref_state)]
        for d, c, r in zip(dev, cpu, ref):
            assert isinstance(d, fd.DeviceArray)
            assert rel_err(fd.get(d), c) <= TOL_NUMBA[dtype], (t, "vs numba")
            assert rel_err(fd.get(d), r) <= TOL_REF[dtype], (t, "vs reference")
    assert fd.DeviceArray.host_reads == reads, "an optimizer step read a device value on the host"
    # every update ran as this rule's CUDA kernel, one launch per parameter per step
    assert [name_ for name_, *_ in host.launches] == [f"{rule}_{TAG[dtype]}"] * (steps * len(SHAPES))
    for i, s in ours.state.items():
        for key in numba_optim.RULES[rule]["state"]:
            assert isinstance(s[key], fd.DeviceArray), (i, key, type(s[key]))
            assert rel_err(fd.get(s[key]), numba_path.state[i][key]) <= 10 * TOL_NUMBA[dtype]


@pytest.mark.parametrize("fresh", [False, True], ids=["same-views", "fresh-grad-views"])
def test_views_of_a_flat_device_buffer_are_one_launch_per_step(host, fresh):
    sizes = [12, 5, 7, 40]
    offs = np.cumsum([0] + sizes)
    cuts = list(zip(offs[:-1], offs[1:]))
    rng = np.random.default_rng(4)
    flat0 = rng.standard_normal(offs[-1]).astype(np.float32)
    flat, gflat = fd.put(flat0), fd.put(np.zeros_like(flat0))
    cpu = flat0.copy()
    ours = optim.Adam([flat[a:b] for a, b in cuts], lr=0.01, amsgrad=True)
    theirs = optim.Adam([cpu], lr=0.01, amsgrad=True)
    views = [gflat[a:b] for a, b in cuts]
    for _ in range(6):
        g = rng.standard_normal(offs[-1]).astype(np.float32)
        gflat[...] = g
        ours.step([gflat[a:b] for a, b in cuts] if fresh else views)
        theirs.step([g])
    assert rel_err(fd.get(flat), cpu) <= TOL_NUMBA[np.float32]
    assert [(n, ) for n, *_ in host.launches] == [("adam_amsgrad_f32",)] * 6
    assert ours.state[0]["exp_avg"].base is ours.state[3]["exp_avg"].base  # one device buffer


def test_state_dict_on_device_round_trip_and_host_state(host):
    rng = np.random.default_rng(5)
    start = [rng.standard_normal(s) for s in ((3, 2), (4,))]
    dev = [fd.put(p) for p in start]
    cpu = [p.copy() for p in start]
    ours = optim.RMSprop(dev, centered=True, momentum=0.5)
    theirs = optim.RMSprop(cpu, centered=True, momentum=0.5)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in start]
        ours.step([fd.put(g) for g in grads])
        theirs.step(grads)
    saved = ours.state_dict()
    assert all(isinstance(v, fd.DeviceArray) for s in saved["state"].values()
               for k, v in s.items() if k != "step")
    copy = [fd.put(fd.get(p)) for p in dev]
    resumed = optim.RMSprop(copy, centered=True, momentum=0.5)
    resumed.load_state_dict(saved)
    from_host = [fd.put(fd.get(p)) for p in dev]  # resumes from the Numba optimizer's state
    resumed_h = optim.RMSprop(from_host, centered=True, momentum=0.5)
    resumed_h.load_state_dict(theirs.state_dict())
    assert isinstance(resumed_h.state[0]["square_avg"], fd.DeviceArray)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in start]
        for o in (ours, resumed, resumed_h):
            o.step([fd.put(g) for g in grads])
        theirs.step(grads)
    for a, b, c, d in zip(dev, copy, from_host, cpu):
        np.testing.assert_array_equal(fd.get(a), fd.get(b))
        np.testing.assert_array_equal(fd.get(a), fd.get(c))
        assert rel_err(fd.get(a), d) <= TOL_NUMBA[np.float64]


def test_host_and_device_parameters_in_one_optimizer(host):
    a, b = np.linspace(-1, 1, 7), np.linspace(2, 3, 5)
    da, hb = fd.put(a), b.copy()
    ours = optim.SGD([da, hb], lr=0.1, momentum=0.9)
    ref = optim.SGD([a, b], lr=0.1, momentum=0.9)
    for k in range(4):
        ga, gb = np.cos(a + k), np.sin(b - k)
        ours.step([fd.put(ga), gb.copy()])
        ref.step([ga, gb])
    assert isinstance(ours.state[0]["momentum_buffer"], fd.DeviceArray)
    assert type(ours.state[1]["momentum_buffer"]) is np.ndarray
    assert rel_err(fd.get(da), a) <= 1e-13 and rel_err(hb, b) <= 1e-13
    assert len(host.launches) == 4  # the device parameter only


def test_noncontiguous_device_gradient_is_copied_on_the_device(host):
    p0 = np.arange(6.0)
    dp, hp = fd.put(p0), p0.copy()
    g = np.arange(12.0).reshape(6, 2) / 10
    ours, ref = optim.Adagrad([dp], lr=0.1), optim.Adagrad([hp], lr=0.1)
    for _ in range(3):
        ours.step([fd.put(g)[:, 0]])
        ref.step([g[:, 0]])
    assert rel_err(fd.get(dp), hp) <= 1e-13


def test_device_input_errors(host):
    p = fd.put(np.zeros((2, 3)))
    opt = optim.Adam([p])
    with pytest.raises(TypeError, match=r"grads\[0\] is a numpy.ndarray; params\[0\] is a CuPy"):
        opt.step([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(3,\)"):
        opt.step([fd.put(np.zeros(3))])
    with pytest.raises(TypeError, match=r"grads\[0\] has dtype float32"):
        opt.step([fd.put(np.zeros((2, 3), np.float32))])
    with pytest.raises(ValueError, match=r"params\[0\] is not C-contiguous.*cupy.ascontiguousarray"):
        optim.SGD([fd.put(np.zeros((4, 4)))[:, 1]])
    with pytest.raises(TypeError, match="int64"):
        optim.SGD([fd.put(np.zeros(3, np.int64))])
    host_opt = optim.SGD([np.zeros(3)])
    with pytest.raises(TypeError, match=r"params\[0\] is a NumPy array"):
        host_opt.step([fd.put(np.zeros(3))])
    assert host.launches == []


# --------------------------------------------------------------------------- clipping

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_on_device(host, norm_type, max_norm, dtype):
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    dev = [fd.put(g) for g in grads]
    expected = np.linalg.norm(np.concatenate([g.ravel() for g in grads]).astype(np.float64),
                              float(norm_type))
    want = clip.clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    got = clip.clip_grad_norm_(dev, max_norm, norm_type=norm_type)
    assert isinstance(got, fd.DeviceArray) and got.shape == () and got.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert abs(float(fd.get(got)) - expected) <= tol * expected
    assert abs(float(fd.get(got)) - float(want)) <= tol * expected
    for d, g in zip(dev, grads):
        assert rel_err(fd.get(d), g) <= tol
    scaled = max_norm < expected
    assert any(n.startswith("clip_grad_scale") for n, *_ in host.launches) == scaled


def test_get_total_norm_and_clip_value_on_device(host):
    rng = np.random.default_rng(7)
    grads = [(3 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
    grads[1][0] = np.nan
    dev = [fd.put(g) for g in grads]
    total = clip.get_total_norm(dev[2:], 2.0)
    assert isinstance(total, fd.DeviceArray)
    expected = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads[2:]))
    assert abs(float(fd.get(total)) - expected) <= 1e-6 * expected
    reads = fd.DeviceArray.host_reads
    clip.clip_grad_value_(dev, 0.7)
    assert fd.DeviceArray.host_reads == reads
    clip.clip_grad_value_(grads, 0.7)
    for d, g in zip(dev, grads):
        np.testing.assert_array_equal(fd.get(d), g)
        assert np.nanmax(np.abs(fd.get(d))) <= np.float32(0.7)
    assert np.isnan(fd.get(dev[1])[0])
    assert np.isnan(float(fd.get(clip.clip_grad_norm_(dev, 1.0))))


def test_clip_device_errors(host):
    dev = [fd.put(np.ones(3))]
    with pytest.raises(TypeError, match="mixes CuPy and NumPy"):
        clip.clip_grad_norm_(dev + [np.ones(2)], 1.0)
    with pytest.raises(ValueError, match="clip_value=-1"):
        clip.clip_grad_value_(dev, -1)
    with pytest.raises(ValueError, match="max_norm=-1"):
        clip.clip_grad_norm_(dev, -1)
    with pytest.raises(NotImplementedError, match="norm_type=0"):
        clip.clip_grad_norm_(dev, 1.0, norm_type=0)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip.clip_grad_norm_([fd.put(np.array([np.inf, 1.0]))], 1.0, error_if_nonfinite=True)
    assert not any(n.startswith("clip_grad_scale") for n, *_ in host.launches)


# --------------------------------------------------------------------------- overlaps

def test_update_kernel_refuses_overlapping_buffers(host):
    """cuda_dispatch.optimizer_step (the reference caller of the CUDA update kernels) refuses
    what the Numba kernels refuse: a CUDA kernel would compute wrong numbers silently."""
    buf = fd.put(np.arange(12, dtype=np.float64))
    p, g = buf[:8], buf[2:10]  # grad a shifted view of param
    with pytest.raises(ValueError, match=r"grad overlaps param without being the same array"):
        cuda_dispatch.optimizer_step("sgd", p, g, (), (0.1,))
    mom = fd.put(np.zeros(8))
    with pytest.raises(ValueError, match=r"grad overlaps state\[0\] \(momentum_buffer\) without"):
        cuda_dispatch.optimizer_step("sgd_momentum", fd.put(np.ones(8)), buf[:8], (buf[4:],),
                                     (0.1, 0.9, 1))
    with pytest.raises(ValueError, match=r"state\[0\] \(momentum_buffer\) overlaps param: the "
                                         r"kernel writes both"):
        cuda_dispatch.optimizer_step("sgd_momentum", buf[:8], mom, (buf[4:],), (0.1, 0.9, 1))
    with pytest.raises(ValueError, match=r"state\[0\] \(momentum_buffer\) overlaps param"):
        cuda_dispatch.optimizer_step("sgd_momentum", p, mom, (p,), (0.1, 0.9, 1))  # the same array
    avg = fd.put(np.zeros(16))
    with pytest.raises(ValueError, match=r"state\[1\] \(exp_avg_sq\) overlaps state\[0\] "
                                         r"\(exp_avg\)"):
        cuda_dispatch.optimizer_step("adam", fd.put(np.ones(8)), mom, (avg[:8], avg[4:12]),
                                     (0.9, 0.1, 0.9, 0.9, 0.1, 0.1))
    assert host.launches == []
    assert np.array_equal(fd.get(buf), np.arange(12.0))  # nothing written


def test_update_with_grad_being_the_param_itself(host):
    """grad may be the param exactly (each element is read before it is written), as on the
    Numba path: SGD then scales p by (1 − lr); with the momentum buffer being the grad,
    v ← μ·v + 1·g reads g twice before writing it: v = 1.9·g, p ← p − lr·v."""
    start = np.linspace(-2.0, 3.0, 7)
    p = fd.put(start)
    cuda_dispatch.optimizer_step("sgd", p, p, (), (0.25,))
    np.testing.assert_allclose(fd.get(p), start * 0.75, rtol=0, atol=1e-15)
    p, g = fd.put(start), fd.put(start * 0.5)
    # scalars (lr, momentum, gradient coefficient: 1 − dampening, 1 at the first step)
    cuda_dispatch.optimizer_step("sgd_momentum", p, g, (g,), (0.25, 0.9, 1))
    np.testing.assert_allclose(fd.get(g), 1.9 * start * 0.5, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(fd.get(p), start - 0.25 * 1.9 * start * 0.5, rtol=1e-15, atol=1e-15)
    assert [name for name, *_ in host.launches] == ["sgd_f64", "sgd_momentum_f64"]
