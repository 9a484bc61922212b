"""gradcheck: passes true gradients, catches wrong ones and names the worst entry."""
import numpy as np
import pytest

from runtime.gradcheck import GradcheckError, gradcheck, numeric_jacobian


def _sin_loss(x, w):
    # L = Σ sin(x)·w², written out by hand with its textbook gradient.
    return np.sum(np.sin(x) * w**2), (np.cos(x) * w**2, 2 * w * np.sin(x))


def test_true_gradient_passes():
    rng = np.random.default_rng(0)
    assert gradcheck(_sin_loss, (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))))


def test_deliberately_wrong_gradient_is_caught_with_the_worst_entry():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def wrong(x, w):
        loss, (gx, gw) = _sin_loss(x, w)
        gw = gw.copy()
        gw[1, 2] += 0.1  # one wrong entry
        gx = gx * 1.0001  # everywhere slightly off, but within rtol=1e-3
        return loss, (gx, gw)

    with pytest.raises(GradcheckError) as err:
        gradcheck(wrong, (x, w))
    worst = err.value.worst
    assert (worst.input, worst.index, worst.output) == (1, (1, 2), ())
    true = 2 * w[1, 2] * np.sin(x[1, 2])
    assert worst.analytic == pytest.approx(true + 0.1, rel=1e-12)
    assert worst.numeric == pytest.approx(true, abs=1e-8)
    assert "1 of 24 Jacobian entries" in str(err.value) and "index (1, 2)" in str(err.value)
    assert gradcheck(wrong, (x, w), raise_exception=False) is False


def test_common_backprop_bug_missing_transpose_is_caught():
    rng = np.random.default_rng(2)
    a, W = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))

    def dense(a, W):  # z = a Wᵀ, with the vjp of a dense layer ... but W not transposed back
        return a @ W.T, lambda g: (g @ W.T, g.T @ a)

    with pytest.raises(GradcheckError, match="worst at input 0"):
        gradcheck(dense, (a, W))

    def dense_ok(a, W):
        return a @ W.T, lambda g: (g @ W, g.T @ a)

    assert gradcheck(dense_ok, (a, W))


def test_numeric_jacobian_matches_torch():
    torch = pytest.importorskip("torch", reason="torch.autograd.functional.jacobian is the oracle")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3))
    jac = numeric_jacobian(lambda x: (np.tanh(x) ** 2 @ np.arange(3.0), None), [x], [0], 1e-6)[0]
    expected = torch.autograd.functional.jacobian(
        lambda t: torch.tanh(t) ** 2 @ torch.arange(3.0, dtype=torch.float64), torch.from_numpy(x))
    np.testing.assert_allclose(jac, expected.reshape(2, 6).numpy(), rtol=1e-7, atol=1e-9)


def test_agrees_with_torch_gradcheck_on_a_softmax_ce():
    torch = pytest.importorskip("torch", reason="torch.autograd.gradcheck is the reference")
    rng = np.random.default_rng(4)
    z, labels = rng.normal(size=(4, 5)), np.array([0, 3, 4, 1])

    def ce(z, labels):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(4), labels]))
        g = p.copy()
        g[np.arange(4), labels] -= 1
        return loss, g / 4

    assert gradcheck(ce, (z, labels))  # integer labels pass through unchecked
    zt = torch.from_numpy(z).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: torch.nn.functional.cross_entropy(t, torch.from_numpy(labels)), (zt,))

    def ce_wrong(z, labels):  # forgets the 1/N of the mean
        loss, g = ce(z, labels)
        return loss, g * 4

    with pytest.raises(GradcheckError):
        gradcheck(ce_wrong, (z, labels))


def test_inputs_are_not_modified_and_float32_is_promoted():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    before = x.copy()
    seen = []

    def f(x):
        seen.append(x.dtype)
        return np.sum(x**3), 3 * x**2

    assert gradcheck(f, x)
    np.testing.assert_array_equal(x, before)
    assert set(seen) == {np.dtype(np.float64)}


def test_nan_gradient_fails():
    with pytest.raises(GradcheckError, match="analytic nan"):
        gradcheck(lambda x: (np.sum(x**2), np.full_like(x, np.nan)), np.ones(3))


def test_wrt_selects_inputs():
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=3), rng.normal(size=3)

    def only_x_right(x, w):
        return np.sum(x * w), (w, np.zeros(3))  # ∂/∂w is wrong

    assert gradcheck(only_x_right, (x, w), wrt=0)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(only_x_right, (x, w))


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps must be a positive number, got 0"):
        gradcheck(_sin_loss, (np.ones(2), np.ones(2)), eps=0)
    with pytest.raises(ValueError, match="expected \\(2,\\)"):
        gradcheck(lambda x: (np.sum(x), np.ones(3)), np.ones(2))
    with pytest.raises(ValueError, match="needs vjp"):
        gradcheck(lambda x: (x * 2, np.ones(2)), np.ones(2))
    with pytest.raises(ValueError, match="wrt=1"):
        gradcheck(lambda x, c: (np.sum(x), np.ones(2)), (np.ones(2), np.array([1, 2])), wrt=1)


def test_exported_as_runtime_gradcheck():
    import runtime

    assert runtime.gradcheck is gradcheck


def test_derivecli_check_passes_and_catches_a_broken_kernel(monkeypatch):
    from click.testing import CliRunner

    import runtime
    from derivecli.cli import main

    result = CliRunner().invoke(main, ["check", "bce", "tanh", "batchnorm", "dropout"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 8 and all(line.startswith("ok    ") for line in lines)
    assert "MLP 3-5-4 (relu, batch norm)" in result.output

    result = CliRunner().invoke(main, ["check", "dense", "lp"])
    assert result.exit_code == 0 and result.output.count("ok    ") == 4, result.output

    real = runtime.loss_and_grad
    monkeypatch.setattr(runtime, "loss_and_grad",
                        lambda *a, **k: (lambda lg: (lg[0], lg[1] * 1.01))(real(*a, **k)))
    result = CliRunner().invoke(main, ["check", "mse"])
    assert result.exit_code == 1
    assert "FAIL  mse: runtime.loss_and_grad('mse')" in result.output
    assert "worst at input 0" in result.output

    result = CliRunner().invoke(main, ["check", "adam"])
    assert result.exit_code == 2 and "no generated runtime kernel" in result.output

