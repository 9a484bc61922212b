"""derive/activations.py: value and derivative against finite differences and torch autograd,
the derivative through the output a against the derivative in z, the kink conventions, and the
stable forms (no overflow at large |z|)."""
import numpy as np
import pytest
import sympy as sp

from derive import get
from derive.functions import to_elementary
from derive.symbols import a, negative_slope, z

H = 1e-5
NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
rng = np.random.default_rng(7)


def fn(expr, *syms):
    return sp.lambdify(syms, to_elementary(expr), "numpy")


def forms(name, slope=0.01):
    """NumPy forward, grad(z), grad_output(a) from the derivation's stable forms."""
    st = get(name).stable
    subs = {negative_slope: slope}
    fwd = np.vectorize(fn(st["forward"].subs(subs), z), otypes=[float])
    grad = np.vectorize(fn(st["grad"].subs(subs), z), otypes=[float])
    gout = np.vectorize(fn(st["grad_output"].subs(subs), a), otypes=[float])
    return fwd, grad, gout


@pytest.mark.parametrize("name", NAMES)
def test_grad_vs_finite_differences(name):
    d = get(name)
    f = fn(d.expr.subs(negative_slope, 0.01), z)
    g = fn(d.gradient().subs(negative_slope, 0.01), z)
    zz = rng.uniform(-5, 5, 500)
    zz = zz[np.abs(zz) > 1e-3]  # not at the kink
    fd = (np.vectorize(f)(zz + H) - np.vectorize(f)(zz - H)) / (2 * H)
    np.testing.assert_allclose(np.vectorize(g, otypes=[float])(zz), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_grad_output_equals_grad(name):
    fwd, grad, gout = forms(name)
    zz = np.concatenate([rng.uniform(-6, 6, 300), [0.0]])
    np.testing.assert_allclose(gout(fwd(zz)), grad(zz), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,slope", [(n, 0.01) for n in NAMES] + [("leaky_relu", 0.2)])
def test_vs_torch(name, slope):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (pip install torch==2.13.0)")
    fwd, grad, gout = forms(name, slope)
    zz = np.concatenate([rng.uniform(-8, 8, 200), [0.0, -0.0, 1e-300, -1e-300]])  # the kink too
    t = torch.tensor(zz, requires_grad=True)
    F = torch.nn.functional
    out = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
           "leaky_relu": lambda v: F.leaky_relu(v, negative_slope=slope)}[name](t)
    out.sum().backward()
    np.testing.assert_allclose(fwd(zz), out.detach().numpy(), rtol=1e-12, atol=1e-300)
    # 1 − tanh² cancels where tanh ≈ ±1: a few ulps of tanh become ~1e-10 relative there.
    np.testing.assert_allclose(grad(zz), t.grad.numpy(), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(gout(fwd(zz)), t.grad.numpy(), rtol=1e-9, atol=1e-300)


def test_kink_conventions():
    assert get("relu").gradient().subs(z, 0) == 0
    assert get("leaky_relu").gradient().subs(z, 0) == negative_slope
    assert get("relu").stable["grad_output"].subs(a, 0) == 0


def test_sigmoid_stable_forward_does_not_overflow():
    fwd, grad, _ = forms("sigmoid")
    with np.errstate(over="raise"):
        v = fwd(np.array([-1000.0, -50.0, 50.0, 1000.0]))
        gv = grad(np.array([-1000.0, 1000.0]))
    assert v[0] == 0.0 and v[-1] == 1.0 and np.all(gv == 0.0)


def test_derivative_through_output_is_the_seed_form():
    assert sp.expand(get("sigmoid").stable["grad_output"] - a * (1 - a)) == 0
    assert sp.expand(get("tanh").stable["grad_output"] - (1 - a**2)) == 0
    steps = get("sigmoid").steps_for()
    assert steps[-1].rule.startswith("write through the output") and steps[-1].expr == a * (1 - a)


def test_leaky_relu_rejects_bad_slope():
    from derive.activations import leaky_relu

    with pytest.raises(ValueError, match="negative_slope=-0.1"):
        leaky_relu(-0.1)
