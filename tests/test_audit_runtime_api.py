"""Audit of runtime's public API with bad and edge inputs: each test first failed on the code
it names (a wrong number, a crash or an unclear message), with torch or a NumPy formula as the
oracle."""
import warnings

import numpy as np
import pytest

from runtime import activation, activation_grad, loss_and_grad

torch = pytest.importorskip("torch", reason="the audit compares with PyTorch's behaviour")
F = torch.nn.functional


# --------------------------------------------------------------------------- out= aliasing

@pytest.mark.parametrize("n", [12, 200_000])
def test_activation_out_partially_overlapping_z_is_rejected(n):
    # out one element past z in the same buffer: the kernel overwrote z before reading it
    buf = np.random.default_rng(0).standard_normal(n + 1)
    with pytest.raises(ValueError, match="out overlaps z"):
        activation("sigmoid", buf[:n], out=buf[1:])
    buf = np.random.default_rng(1).standard_normal(n + 1)
    up = np.ones(n)
    with pytest.raises(ValueError, match="out overlaps z"):
        activation_grad("tanh", buf[:n], up, out=buf[1:])
    with pytest.raises(ValueError, match="out overlaps upstream"):
        activation_grad("tanh", np.zeros(n), buf[:n], out=buf[1:])


def test_activation_out_may_still_be_the_input_itself():
    z = np.random.default_rng(2).standard_normal(1000)
    expect = 1 / (1 + np.exp(-z))
    zc = z.copy()
    assert activation("sigmoid", zc, out=zc) is zc
    np.testing.assert_allclose(zc, expect, rtol=1e-15)
    u = np.random.default_rng(3).standard_normal(1000)
    got = activation_grad("tanh", z, u.copy(), out=None)
    uc = u.copy()
    activation_grad("tanh", z, uc, out=uc)
    np.testing.assert_array_equal(uc, got)
    np.testing.assert_allclose(got, u * (1 - np.tanh(z) ** 2), rtol=1e-12, atol=1e-300)


def test_bce_weight_that_is_out_is_rejected():
    rng = np.random.default_rng(4)
    p, t = rng.random((3, 4)), rng.random((3, 4))
    w = np.ones((3, 4))
    # before: the kernel wrote the gradient into w, then the loss was weighted by it
    with pytest.raises(ValueError, match="out overlaps weight"):
        loss_and_grad("bce", p, t, weight=w, out=w)
    pw = np.ones(16)
    with pytest.raises(ValueError, match="out overlaps pos_weight"):
        loss_and_grad("bce_logits", p, t, pos_weight=pw[:12].reshape(3, 4),
                      out=pw[4:].reshape(3, 4))


def test_softmax_ce_weight_overlapping_out_is_rejected():
    rng = np.random.default_rng(5)
    z, y = rng.standard_normal((50, 7)), rng.integers(0, 7, 50)
    buf = np.zeros((50, 7))
    buf[0] = rng.random(7)
    with pytest.raises(ValueError, match="out overlaps weight"):
        loss_and_grad("ce", z, y, weight=buf[0], out=buf)


# --------------------------------------------------------------------------- bad values

def test_bce_target_outside_unit_interval_raises_like_torch():
    p = np.full((2, 3), 0.5)
    t = np.array([[0.0, 1.0, 0.5], [0.2, 1.5, 0.0]])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
    with pytest.raises(ValueError, match=r"target has 1\.5 at position \(1, 1\)"):
        loss_and_grad("bce", p, t)
    with pytest.raises(ValueError, match=r"target has -0\.25"):
        loss_and_grad("bce", p, np.array([0.0, -0.25, 1.0]).reshape(1, 3).repeat(2, 0))
    # the ends 0 and 1 and NaN (NaN out) stay valid
    loss, grad = loss_and_grad("bce", p, np.array([[0.0, 1.0, np.nan], [1.0, 0.0, 0.5]]),
                               reduction="none")
    assert np.isnan(loss[0, 2]) and np.isfinite(np.delete(loss.ravel(), 2)).all()


def test_lp_infinite_p_is_rejected():
    p, t = np.array([0.5, 0.2]), np.zeros(2)
    # before: loss 0 and NaN gradients (|x|^inf of |x| < 1)
    with pytest.raises(ValueError, match="p=inf"):
        loss_and_grad("lp", p, t, p=float("inf"))


@pytest.mark.parametrize("name, kwargs", [
    ("ce", dict(label_smoothing="0.1")),
    ("smooth_l1", dict(beta="0.5")),
    ("huber", dict(delta="2")),
    ("bce_logits", dict(pos_weight="2")),
    ("lp", dict(p="3")),
])
def test_string_options_are_rejected_like_torch(name, kwargs):
    z = np.zeros((2, 3))
    target = np.array([0, 1]) if name == "ce" else np.zeros((2, 3))
    (key, value), = kwargs.items()
    with pytest.raises(TypeError, match=f"{key}='{value}'"):
        loss_and_grad(name, z, target, **kwargs)


def test_string_negative_slope_is_rejected_like_torch():
    with pytest.raises(TypeError):
        F.leaky_relu(torch.zeros(3), "0.1")
    with pytest.raises(TypeError, match="negative_slope='0.1'"):
        activation("leaky_relu", np.zeros(3), negative_slope="0.1")


def test_ignore_index_outside_int64_names_the_argument():
    with pytest.raises(ValueError, match=r"ignore_index=1180591620717411303424"):
        loss_and_grad("ce", np.zeros((2, 3)), np.array([0, 1]), ignore_index=2**70)


def test_uint64_labels_beyond_int64_are_not_wrapped():
    z = np.zeros((2, 3))
    # 2**64 − 100 wrapped to −100 (the default ignore_index): the sample was silently ignored
    y = np.array([1, 2**64 - 100], dtype=np.uint64)
    with pytest.raises(ValueError, match=r"label 18446744073709551516 at position \(1,\)"):
        loss_and_grad("ce", z, y)
    # in-range unsigned labels work as int64 ones
    y = np.array([1, 2], dtype=np.uint64)
    zt = torch.tensor(z, requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor([1, 2]))
    lt.backward()
    loss, grad = loss_and_grad("ce", z, y)
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-12)


def test_integer_target_with_the_logits_shape_says_what_is_wrong():
    # before: "target has shape (4, 3) but pred has shape (4, 3)"
    with pytest.raises(TypeError, match=r"target has pred's shape \(4, 3\) but dtype int64"):
        loss_and_grad("ce", np.zeros((4, 3)), np.zeros((4, 3), dtype=np.int64))


# --------------------------------------------------------------------------- clipping

def _torch_grads(arrays):
    ts = []
    for a in arrays:
        t = torch.zeros(a.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(a.copy())
        ts.append(t)
    return ts


def test_clip_grad_norm_takes_a_generator_like_torch():
    from runtime import clip

    rng = np.random.default_rng(6)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(5) * 5]
    ts = _torch_grads(grads)
    expect = torch.nn.utils.clip_grad_norm_((t for t in ts), 1.0)
    # before: the generator was used up deciding host or device: norm 0, nothing clipped
    total = clip.clip_grad_norm_((g for g in grads), 1.0)
    assert float(total) == pytest.approx(float(expect), rel=1e-12)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
    assert float(clip.get_total_norm(g for g in grads)) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value_takes_a_generator_like_torch():
    from runtime import clip

    grads = [np.array([-3.0, 0.2, 2.0]), np.array([[5.0, -0.1]])]
    ts = _torch_grads(grads)
    torch.nn.utils.clip_grad_value_((t for t in ts), 0.5)
    clip.clip_grad_value_((g for g in grads), 0.5)
    for g, t in zip(grads, ts):
        np.testing.assert_array_equal(g, t.grad.numpy())


# --------------------------------------------------------------------------- init

@pytest.mark.parametrize("fn", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                "kaiming_normal_"])
@pytest.mark.parametrize("shape", [(5, 0), (0, 5), (0, 0)])
def test_init_of_an_empty_weight_is_a_no_op_like_torch(fn, shape):
    from runtime import init

    if not (shape == (0, 0) and fn.startswith("xavier")):  # torch divides by 0 there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch may warn that it is a no-op
            getattr(torch.nn.init, fn)(torch.empty(shape))
    w = np.empty(shape)
    assert getattr(init, fn)(w, seed=0) is w  # before: ZeroDivisionError


@pytest.mark.parametrize("gain", [-1.0, float("nan"), float("inf"), "1"])
def test_init_bad_gain_names_it(gain):
    from runtime import init

    with pytest.raises((ValueError, TypeError), match="gain="):
        init.xavier_uniform_(np.empty((3, 4)), gain=gain)
    with pytest.raises((ValueError, TypeError), match="gain="):
        init.xavier_normal_(np.empty((3, 4)), gain=gain)


def test_init_bad_seed_and_read_only_weight_name_the_argument():
    from runtime import init

    with pytest.raises(ValueError, match="seed=-1"):
        init.xavier_uniform_(np.empty((3, 4)), seed=-1)
    with pytest.raises(TypeError, match="seed=True"):
        init.xavier_uniform_(np.empty((3, 4)), seed=True)
    ro = np.zeros((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="w is read-only"):
        init.kaiming_normal_(ro, seed=0)


# --------------------------------------------------------------------------- data

@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_updates_per_epoch_rejects_a_bad_batch_size(bad):
    from runtime.data import updates_per_epoch

    # before: 0 raised ZeroDivisionError, -3 returned -3 updates
    with pytest.raises(ValueError, match=f"batch_size .* got {bad!r}"):
        updates_per_epoch(10, bad)


def test_updates_per_epoch_counts_like_a_loader():
    from runtime.data import DataLoader, updates_per_epoch

    for n in (0, 1, 7, 100, 101):
        for bs in (None, 1, 3, 20, 200):
            for drop in (False, True):
                loader = DataLoader(np.arange(n), batch_size=bs, drop_last=drop)
                assert updates_per_epoch(n, bs, drop) == len(list(loader)) == len(loader)
    with pytest.raises(ValueError, match="n_samples=-1"):
        updates_per_epoch(-1, 3)


# --------------------------------------------------------------------------- gradcheck

def test_gradcheck_with_nothing_to_check_raises_instead_of_passing():
    from runtime import gradcheck

    wrong = lambda z: (np.sum(z.real ** 2), 3 * z)  # noqa: E731
    # before: True (integer and complex inputs are passed through unchecked)
    with pytest.raises(ValueError, match="no floating-point input"):
        gradcheck(wrong, [np.arange(3)])
    with pytest.raises(TypeError, match="complex128"):
        gradcheck(wrong, [np.ones(3, complex)])


def test_gradcheck_of_an_empty_input_passes_like_torch():
    from runtime import gradcheck

    x = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: (t ** 2).sum(), (x,))
    # before: "output size changed between calls: (1, 0) vs (0, 0)"
    assert gradcheck(lambda z: (np.sum(z ** 2), 2 * z), [np.zeros(0)])
    f = lambda a, b: (np.sum(a ** 2) + np.sum(b ** 3), (2 * a, 3 * b ** 2))  # noqa: E731
    assert gradcheck(f, [np.zeros(0), np.array([0.5, -1.5])])
    with pytest.raises(Exception, match="input 1"):  # the check still runs on the other input
        gradcheck(lambda a, b: (np.sum(a ** 2) + np.sum(b ** 3), (2 * a, b)),
                  [np.zeros(0), np.array([0.5, -1.5])])


def test_gradcheck_takes_numpy_scalars_as_tolerances():
    from runtime import gradcheck

    f = lambda z: (np.sum(z ** 3), 3 * z ** 2)  # noqa: E731
    assert gradcheck(f, np.linspace(-1, 1, 5), eps=np.float32(1e-6), atol=np.float32(1e-5))
    with pytest.raises(ValueError, match="eps"):
        gradcheck(f, np.ones(2), eps=True)
    with pytest.raises(ValueError, match="eps must be a positive number, got inf"):
        gradcheck(f, np.ones(2), eps=float("inf"))  # before: a GradcheckError (numeric nan)


# --------------------------------------------------------------------------- optimizers

@pytest.mark.parametrize("betas", [0.9, None])
def test_adam_betas_not_a_pair_names_the_argument(betas):
    from runtime import optim

    with pytest.raises((TypeError, ValueError), match=f"betas={betas!r}"):
        optim.Adam([np.zeros(3)], betas=betas)


@pytest.mark.parametrize("params", [1.0, None])
def test_optimizer_params_not_iterable_names_the_argument(params):
    from runtime import optim

    # before: "'float' object is not iterable" (torch's message is no clearer)
    with pytest.raises(TypeError, match="params must be"):
        optim.SGD(params)


def test_gradcheck_wrt_in_any_order_reads_gradients_in_input_order():
    from runtime import gradcheck
    from runtime.gradcheck import GradcheckError

    f = lambda a, b: (np.sum(a * b ** 2), (b ** 2, 2 * a * b))  # noqa: E731  (right)
    x = [np.array([1.0, 2.0]), np.array([3.0, -1.0])]
    # before: wrt=[1, 0] compared a's gradient with b's differences and failed a right gradient
    assert gradcheck(f, x, wrt=[1, 0])
    assert gradcheck(f, x, wrt=np.int64(1))  # before: "'numpy.int64' object is not iterable"
    wrong_b = lambda a, b: (np.sum(a * b ** 2), (b ** 2, a * b))  # noqa: E731
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(wrong_b, x, wrt=[1, 0])
    with pytest.raises(ValueError, match="wrt=True"):
        gradcheck(f, x, wrt=True)


@pytest.mark.parametrize("dtype, beta", [(np.float32, 1e-40), (np.float32, 1e-44),
                                         (np.float64, 1e-310)])
def test_smooth_l1_beta_whose_reciprocal_overflows_is_rejected(dtype, beta):
    x = np.array([0.0, 1e-42, 0.3, -2.0], dtype)
    # before: loss NaN at x = 0 and gradient ±inf (the kernel multiplies by 1/beta = inf)
    with pytest.raises(ValueError, match=f"beta={beta!r}"):
        loss_and_grad("smooth_l1", x, np.zeros_like(x), beta=beta)


@pytest.mark.parametrize("dtype, beta", [(np.float32, 3e-39), (np.float32, 1e-50),
                                         (np.float64, 1e-300)])
def test_smooth_l1_tiny_beta_that_the_kernel_can_take_matches_torch(dtype, beta):
    x = np.array([0.0, 1e-42, -1e-41, 1e-38, 0.3, -2.0], dtype)
    loss, grad = loss_and_grad("smooth_l1", x, np.zeros_like(x), beta=beta, reduction="none")
    xt = torch.tensor(x, requires_grad=True)
    lt = F.smooth_l1_loss(xt, torch.zeros_like(xt), beta=beta, reduction="none")
    lt.sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("a", [float("nan")])
def test_kaiming_non_finite_slope_names_it(a):
    from runtime import init

    with pytest.raises(RuntimeError, match="std"):
        torch.nn.init.kaiming_normal_(torch.empty(3, 4), a=a)
    # before: the weight was filled with NaN (a=inf gives gain 0 and zeros, as in torch)
    with pytest.raises(ValueError, match=f"a={a!r}"):
        init.kaiming_normal_(np.empty((3, 4)), a=a, seed=0)
    with pytest.raises(ValueError, match=f"a={a!r}"):
        init.kaiming_uniform_(np.empty((3, 4)), a=a, seed=0)


def test_clip_functions_take_torchs_keywords():
    from runtime import clip

    grads = [np.array([3.0, 4.0])]
    ts = _torch_grads(grads)
    # before: TypeError for foreach= (which torch.optim's twins here accept and ignore) and for
    # get_total_norm's error_if_nonfinite=
    expect = torch.nn.utils.clip_grad_norm_(ts, 1.0, foreach=True)
    assert float(clip.clip_grad_norm_(grads, 1.0, foreach=True)) == float(expect) == 5.0
    clip.clip_grad_value_(grads, 0.1, foreach=False)
    np.testing.assert_array_equal(grads[0], [0.1, 0.1])
    assert float(clip.get_total_norm(grads, 2.0, error_if_nonfinite=True, foreach=None)) == \
        pytest.approx(np.sqrt(0.02), rel=1e-15)
    bad = [np.array([np.nan, 1.0])]
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.get_total_norm([torch.tensor(bad[0])], error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip.get_total_norm(bad, error_if_nonfinite=True)
    assert np.isnan(clip.get_total_norm(bad))
