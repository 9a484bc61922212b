"""Generated Numba activation kernels (through runtime.activation / activation_grad) against
NumPy references written here, central differences (float64) and PyTorch autograd."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from runtime import activation, activation_grad

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def ref(name, z, negative_slope=0.01):
    """(f(z), f'(z)) from the textbook definitions (PyTorch's kink conventions)."""
    if name == "sigmoid":
        s = np.exp(-np.logaddexp(0.0, -z))
        # σ' = σ(z)σ(−z): s * (1 − s) cancels for z > 0 (2e-11 relative off at z = 13)
        return s, s * np.exp(-np.logaddexp(0.0, z))
    if name == "tanh":
        # tanh' = sech²: 1 − tanh² cancels for |z| ≳ 3; in long double, so that cosh² does not
        # overflow where sech² is a float64 subnormal (|z| ≈ 355…372)
        with np.errstate(over="ignore"):
            zl = np.asarray(z, np.longdouble)
            return np.tanh(z), (1 / np.cosh(zl) ** 2).astype(np.float64)
    if name == "relu":
        return np.where(z > 0, z, 0.0), np.where(z > 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, negative_slope * z), np.where(z > 0, 1.0, negative_slope)
    raise KeyError(name)


def close(ours, expected, dtype, what):
    expected = np.asarray(expected, np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 1.0
    # subnormal results carry fewer digits than rtol asks: a few of their spacings are allowed
    tiny = 8 * float(np.finfo(dtype).smallest_subnormal)
    np.testing.assert_allclose(np.asarray(ours, np.float64), expected, rtol=RTOL[dtype],
                               atol=max(RTOL[dtype] * scale, tiny), err_msg=what)


OPTS = {"leaky_relu": [{}, {"negative_slope": 0.2}]}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_match_numpy_reference(name, dtype):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((33, 19)) * 4).astype(dtype)
    z[0, :3] = 0.0  # the kink
    u = rng.standard_normal(z.shape).astype(dtype)
    for opts in OPTS.get(name, [{}]):
        f, df = ref(name, z.astype(np.float64), **opts)
        a = activation(name, z, **opts)
        assert a.shape == z.shape and a.dtype == z.dtype
        close(a, f, dtype, f"{name} forward {opts}")
        close(activation_grad(name, z, u, **opts), u * df, dtype, f"{name} backward(z) {opts}")
        close(activation_grad(name, z, u, output=a, **opts), u * df, dtype, f"{name} backward(a) {opts}")
        close(activation_grad(name, None, u, output=a, **opts), u * df, dtype, f"{name} backward(a only)")


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences(name):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(500) * 3
    z = z[np.abs(z) > 1e-3]  # away from the kink
    u = rng.standard_normal(z.shape)
    h = 1e-6
    fd = (activation(name, z + h) - activation(name, z - h)) / (2 * h)
    np.testing.assert_allclose(activation_grad(name, z, u), u * fd, rtol=1e-7, atol=1e-9)


torch = pytest.importorskip("torch", reason="PyTorch is the oracle for activation semantics")
TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "leaky_relu": torch.nn.functional.leaky_relu}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_match_torch(name, dtype):
    rng = np.random.default_rng(2)
    z = (rng.standard_normal(1000) * 5).astype(dtype)
    z[:4] = [0.0, -0.0, 1e4, -1e4]  # kinks and extremes
    u = rng.standard_normal(z.shape).astype(dtype)
    for opts in OPTS.get(name, [{}]):
        zt = torch.from_numpy(z.copy()).requires_grad_()
        at = TORCH[name](zt, **opts)
        at.backward(torch.from_numpy(u))
        a = activation(name, z, **opts)
        close(a, at.detach().numpy(), dtype, f"{name} forward vs torch {opts}")
        g = zt.grad.numpy()
        close(activation_grad(name, z, u, **opts), g, dtype, f"{name} backward vs torch {opts}")
        close(activation_grad(name, z, u, output=a, **opts), g, dtype, f"{name} backward(a) vs torch")
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_nan_in_gives_nan_out(name, dtype):
    z = np.array([-2.0, np.nan, 0.0, 3.0], dtype)
    u = np.ones_like(z)
    a = activation(name, z)
    for g in (activation_grad(name, z, u), activation_grad(name, z, u, output=a)):
        assert np.isnan(g[1]) and np.all(np.isfinite(np.delete(g, 1)))
    assert np.isnan(a[1]) and np.all(np.isfinite(np.delete(a, 1)))


def test_leaky_relu_with_non_positive_slope_uses_z_not_the_output():
    z = np.array([-2.0, -0.5, 0.0, 1.5])
    u = np.array([1.0, 2.0, 3.0, 4.0])
    for slope in (0.0, -0.5):
        a = activation("leaky_relu", z, negative_slope=slope)
        # a's sign no longer gives z's: the output form would be wrong, so z is used.
        g = activation_grad("leaky_relu", z, u, output=a, negative_slope=slope)
        np.testing.assert_array_equal(g, u * np.where(z > 0, 1.0, slope))
        with pytest.raises(ValueError, match="z is needed"):
            activation_grad("leaky_relu", None, u, output=a, negative_slope=slope)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_output_written_over_the_input(name, dtype):
    # out=z and out=upstream: the kernels see the overlap and go through a stack buffer
    # (LLVM would otherwise fall back to a scalar loop); across several parallel blocks
    rng = np.random.default_rng(6)
    z = (rng.standard_normal(50_003) * 4).astype(dtype)
    up = rng.standard_normal(z.size).astype(dtype)
    f, df = ref(name, z.astype(np.float64))
    work = z.copy()
    assert activation(name, work, out=work) is work
    close(work, f, dtype, f"{name} forward in place")
    work = up.copy()
    assert activation_grad(name, z, work, out=work) is work
    close(work, up * df, dtype, f"{name} backward over upstream")


def test_non_contiguous_and_out():
    rng = np.random.default_rng(3)
    big = rng.standard_normal((30, 40))
    z, u = big.T[::3], rng.standard_normal((30, 40)).T[::3]
    assert not z.flags.c_contiguous
    for name in NAMES:
        np.testing.assert_array_equal(activation(name, z), activation(name, np.ascontiguousarray(z)))
        np.testing.assert_array_equal(activation_grad(name, z, u),
                                      activation_grad(name, np.ascontiguousarray(z), np.ascontiguousarray(u)))
        out = np.empty(z.shape)
        assert activation(name, z, out=out) is out
        np.testing.assert_array_equal(out, activation(name, z))


BAD = [
    (lambda: activation("softmaxx", np.zeros(3)), ValueError, "unknown activation 'softmaxx'"),
    (lambda: activation("relu", np.zeros(3, np.int32)), TypeError, "z has an integer dtype int32"),
    (lambda: activation("relu", np.zeros(3), negative_slope=0.1), TypeError, "unexpected option"),
    (lambda: activation("leaky_relu", np.zeros(3), negative_slope=float("nan")), ValueError,
     "negative_slope=nan is NaN"),
    (lambda: activation("leaky_relu", np.zeros(3), negative_slope=float("inf")), ValueError,
     "must be finite"),
    (lambda: activation_grad("tanh", np.zeros(3), np.zeros(4)), ValueError,
     r"upstream has shape \(4,\) but z has shape \(3,\)"),
    (lambda: activation_grad("tanh", np.zeros(3), np.zeros(3), output=np.zeros(2)), ValueError,
     r"z has shape \(3,\) but output has shape \(2,\)"),
    (lambda: activation_grad("tanh", None, np.zeros(3)), ValueError, "z is needed"),
    (lambda: activation("relu", np.zeros(3), out=np.zeros(3, np.float32)), ValueError,
     "out has dtype float32"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_raises_a_clear_message(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(NAMES),
       z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=30),
                    elements=st.floats(-700, 700, allow_nan=False)))
def test_property_any_shape_matches_reference(name, z):
    f, df = ref(name, z)
    a = activation(name, z)
    assert a.shape == z.shape
    close(a, f, np.float64, "property forward")
    u = np.ones_like(z)
    close(activation_grad(name, z, u), df, np.float64, "property backward")


def test_tanh_grad_where_sech_squared_is_subnormal():
    # sech²(z) is a float64 subnormal for |z| ≈ 355…372 (found by the property test above,
    # whose reference once computed cosh² in float64 and overflowed to 0 there)
    z = np.array([-371.5, -356.0, 356.0, 360.0, 370.0, 372.0, 380.0])
    _, df = ref("tanh", z)
    assert np.all(df[:-1] > 0) and df[-1] == 0
    close(activation_grad("tanh", z, np.ones_like(z)), df, np.float64, "subnormal sech²")
