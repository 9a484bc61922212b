"""The fused bias + activation kernels (``<f>_bias_forward``, ``<f>_backward_output_bias`` of
runtime/generated/numba_activations.py) against NumPy float64 references written here from the
textbook formulas, math.fsum for ∂L/∂b, and Sequential's fused path (_BiasActivation) against
PyTorch autograd and central differences."""
import math

import numpy as np
import pytest

import runtime.generated.numba_activations as gen
from runtime import nn
from runtime.generated import kernels

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
DTYPES = [np.float32, np.float64]
BLOCK = gen.BLOCK
SLOPE = 0.01  # leaky_relu's negative_slope in the kernel tests


def _kernels(name, dtype):
    """(bias_forward, backward_output_bias, extra args) from the KERNELS table; the slope is
    passed in the kernel's dtype, as runtime.nn does (the same compiled specialisation)."""
    dt = np.dtype(dtype).name
    fwd = gen.KERNELS[(name, "default", "bias_forward", dt)]
    bwd = gen.KERNELS[(name, "default", "backward_output_bias", dt)]
    return fwd, bwd, ((np.dtype(dtype).type(SLOPE),) if name == "leaky_relu" else ())


def _slope(dtype):
    """The slope value the kernel receives (SLOPE rounded to the kernel's dtype), as float64."""
    return float(np.dtype(dtype).type(SLOPE))


def f_ref(name, x, slope):
    """f(x) in float64 from the textbook definitions."""
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "sigmoid":  # 1/(1+e^-x), written as e^x/(1+e^x) for x < 0 (no cancellation)
            return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        if name == "tanh":
            return np.tanh(x)
        if name == "relu":
            return np.where(x > 0, x, 0.0)
        return np.where(x > 0, x, slope * x)


def df_from_output(name, a, slope):
    """f'(z) written through a = f(z), in float64: σ' = a(1−a), tanh' = 1−a², relu/leaky 1 or
    0/slope by the sign of a (slope > 0)."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return np.where(a > 0, 1.0, 0.0)
    return np.where(a > 0, 1.0, slope)


def _inputs(N, F, dtype, seed):
    rng = np.random.default_rng(seed)
    z = (3 * rng.standard_normal(N * F)).astype(dtype)  # |z + b| up to ~15: no under/overflow
    bias = rng.standard_normal(F).astype(dtype)
    up = rng.standard_normal(N * F).astype(dtype)
    return z, bias, up


def check_forward(name, dtype, z, bias, out):
    """out = f(z + b) row by row. The reference takes x = z + b as rounded in the kernel's dtype
    (NumPy's IEEE add of the same two numbers), then f in float64. Tolerance: 4 ε of the dtype
    relative (the kernels' exp/tanh are within ~2 ulp, measured ≤ 1.6 in float32, ≤ 1 in
    float64; relu is exact, leaky_relu one rounding of x·slope)."""
    F = bias.size
    x = (z.reshape(-1, F) + bias).astype(np.float64).ravel()
    ref = f_ref(name, x, _slope(dtype))
    eps = np.finfo(dtype).eps
    err = np.abs(out.astype(np.float64) - ref)
    bad = err > 4 * eps * np.abs(ref)
    assert not bad.any(), (f"{name} {np.dtype(dtype)} bias_forward: {bad.sum()} of {ref.size} "
                           f"off, first at {np.flatnonzero(bad)[:5]}: {out[bad][:3]} vs "
                           f"{ref[bad][:3]}")


def delta_ref(name, dtype, a, up):
    """(δ = upstream·f'(z) from a, and its error scale |δ| + |upstream|·a²), float64."""
    a64, u64 = a.astype(np.float64), up.astype(np.float64)
    delta = u64 * df_from_output(name, a64, _slope(dtype))
    return delta, np.abs(delta) + np.abs(u64) * a64 * a64


def check_delta(name, dtype, a, up, out):
    """δ = upstream·f'(z). Tolerance: 4 ε·(|δ| + |u|·a²): two or three roundings of a product,
    and tanh's 1 − a² also carries the rounding of a² (≤ ε a²/2 absolute) when it is not
    fused into an FMA."""
    ref, scale = delta_ref(name, dtype, a, up)
    eps = np.finfo(dtype).eps
    bad = np.abs(out.astype(np.float64) - ref) > 4 * eps * scale
    assert not bad.any(), (f"{name} {np.dtype(dtype)} δ: {bad.sum()} of {ref.size} off, first at "
                           f"{np.flatnonzero(bad)[:5]}: {out[bad][:3]} vs {ref[bad][:3]}")


def check_bias_grad(name, dtype, a, up, out, bias_grad):
    """∂L/∂b_j = Σ_i δ_ij, against math.fsum of the float64 reference δ column.

    float64: each δ within 4 ε·scale (check_delta) and the kernel's float64 sum of N terms
    within (N − 1) ε Σ|δ| (the worst-case bound of recursive summation, Higham 4.3): so
    (N + 4) ε Σ scale: 4.4e-12 of it at N = 20000, ≤ 7e-13 at N ≤ 3000 (measured ≤ 2 ε).
    float32: the δ are float32 (4 ε₃₂ each), summed in float64 (N ε₆₄ Σ|δ|), then rounded once
    to float32 (ε₃₂/2 of the sum). A float32 accumulator would be ~√N ε₃₂ off instead; the
    second check (bias_grad = Σ of the kernel's own out column, rounded once) catches that.
    """
    F = bias_grad.size
    ref, scale = delta_ref(name, dtype, a, up)
    ref, scale = ref.reshape(-1, F), scale.reshape(-1, F)
    N = ref.shape[0]
    eps, eps64 = float(np.finfo(dtype).eps), float(np.finfo(np.float64).eps)
    out2 = out.astype(np.float64).reshape(-1, F)
    for j in range(F):
        exact = math.fsum(ref[:, j])
        s = math.fsum(scale[:, j])
        if dtype == np.float64:
            tol = (N + 4) * eps * s
        else:
            tol = 4 * eps * s + N * eps64 * s + eps * abs(exact)
        assert abs(float(bias_grad[j]) - exact) <= tol, (
            f"{name} {np.dtype(dtype)} bias_grad[{j}] = {bias_grad[j]!r}, fsum of the "
            f"reference δ = {exact!r} (tolerance {tol:.3g}, N = {N})")
        if dtype == np.float32:
            own = math.fsum(out2[:, j])
            tol = (float(np.spacing(np.float32(abs(own))))
                   + N * eps64 * math.fsum(np.abs(out2[:, j])))
            assert abs(float(bias_grad[j]) - own) <= tol, (
                f"{name} float32 bias_grad[{j}] = {bias_grad[j]!r} is not the float64 sum "
                f"{own!r} of its δ column rounded once")


def row_blocks(N, F):
    """How many row blocks the kernels split (N, F) into (rows per block as documented)."""
    rows = max(1, 8 * BLOCK // F)
    return -(-N // rows)


# (N, F): F = BLOCK + 3 tiles the columns; 20000×1, 3000×16 and 17×(BLOCK+3) make 2, 3 and 3
# row blocks; N = 1 and N = 0 the edges
SHAPES = [(1, 1), (7, 3), (20000, 1), (3000, 16), (1, BLOCK + 3), (17, BLOCK + 3), (0, 5)]


def test_shapes_cover_blocks():
    assert row_blocks(20000, 1) == 2 and row_blocks(3000, 16) == 3
    assert row_blocks(17, BLOCK + 3) == 3 and BLOCK + 3 > BLOCK


@pytest.mark.parametrize("N,F", SHAPES, ids=[f"{n}x{f}" for n, f in SHAPES])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_kernels_match_reference(name, dtype, N, F):
    fwd, bwd, opt = _kernels(name, dtype)
    z, bias, up = _inputs(N, F, dtype, seed=N * 7919 + F)
    z_before = z.copy()
    a = np.full(N * F, np.nan, dtype)
    fwd(z, bias, a, *opt)
    np.testing.assert_array_equal(z, z_before)  # input untouched
    check_forward(name, dtype, z, bias, a)

    out = np.full(N * F, np.nan, dtype)
    bias_grad = np.full(F, np.nan, dtype)  # every entry must be written, N = 0 included
    bwd(a, up, out, bias_grad, *opt)
    check_delta(name, dtype, a, up, out)
    check_bias_grad(name, dtype, a, up, out, bias_grad)
    if N == 0:
        np.testing.assert_array_equal(bias_grad, np.zeros(F, dtype))


IN_PLACE_SHAPES = [(7, 3), (3000, 16), (17, BLOCK + 3)]


@pytest.mark.parametrize("N,F", IN_PLACE_SHAPES, ids=[f"{n}x{f}" for n, f in IN_PLACE_SHAPES])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_in_place(name, dtype, N, F):
    fwd, bwd, opt = _kernels(name, dtype)
    z, bias, up = _inputs(N, F, dtype, seed=N + F + 1)
    z_in = z.copy()
    fwd(z, bias, z, *opt)  # out is z
    check_forward(name, dtype, z_in, bias, z)
    a = z

    # out is upstream
    u = up.copy()
    bias_grad = np.full(F, np.nan, dtype)
    bwd(a, u, u, bias_grad, *opt)
    check_delta(name, dtype, a, up, u)
    check_bias_grad(name, dtype, a, up, u, bias_grad)

    # out is a
    a2 = a.copy()
    bias_grad2 = np.full(F, np.nan, dtype)
    bwd(a2, up, a2, bias_grad2, *opt)
    check_delta(name, dtype, a, up, a2)
    check_bias_grad(name, dtype, a, up, a2, bias_grad2)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf(name, dtype):
    """NaN in z + b gives NaN out, NaN in a gives NaN δ (relu's a > 0 test alone would give 0)
    and a NaN ∂L/∂b in its column; ±inf in z gives f(±inf), and the other entries and columns
    are the references (tolerances as in check_forward / check_delta / check_bias_grad)."""
    N, F = 6, 4
    fwd, bwd, opt = _kernels(name, dtype)
    eps = np.finfo(dtype).eps
    z, bias, up = _inputs(N, F, dtype, seed=5)
    z2 = z.reshape(N, F)
    z2[1, 0] = np.nan
    z2[4, 2] = np.nan
    bias[3] = np.nan  # a whole column of z + b
    z2[0, 1], z2[2, 1] = np.inf, -np.inf  # column 1: no NaN
    nan_in = np.isnan(z2 + bias).ravel()
    inf_in = np.isinf(z)
    a = np.empty_like(z)
    fwd(z, bias, a, *opt)
    assert np.isnan(a[nan_in]).all(), f"{name}: f(NaN) must be NaN, got {a[nan_in]}"
    ok = ~nan_in
    x = (z2 + np.where(np.isnan(bias), 0, bias)).astype(np.float64).ravel()
    ref = f_ref(name, x, _slope(dtype))
    np.testing.assert_allclose(a[ok], ref[ok], rtol=4 * eps, atol=0)  # f(±inf) exactly

    out = np.empty_like(a)
    bias_grad = np.empty(F, dtype)
    bwd(a, up, out, bias_grad, *opt)
    assert np.isnan(out[nan_in]).all(), f"{name}: δ at a = NaN must be NaN, got {out[nan_in]}"
    finite = ok & ~inf_in
    check_delta(name, dtype, a[finite], up[finite], out[finite])
    ref_d, _ = delta_ref(name, dtype, a, up)
    # at a = f(±inf) (±1, 0/1, ±inf) δ is finite: 0 for σ and tanh, u or slope·u for relu's
    np.testing.assert_allclose(out[inf_in], ref_d[inf_in], rtol=4 * eps, atol=0)
    nan_cols = np.isnan(a.reshape(N, F)).any(axis=0)
    assert nan_cols.tolist() == [True, False, True, True]
    assert np.isnan(bias_grad[nan_cols]).all()
    col = ref_d.reshape(N, F)[:, 1]
    assert abs(float(bias_grad[1]) - math.fsum(col)) <= 16 * eps * math.fsum(np.abs(col))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_errors(name, dtype):
    fwd, bwd, opt = _kernels(name, dtype)
    N, F = 5, 3
    z, bias, up = _inputs(N, F, dtype, seed=9)
    out = np.empty_like(z)

    # forward: z.size not a multiple of bias.size, an empty bias, out of the wrong size
    with pytest.raises(ValueError, match=r"z has 14 elements, not a positive multiple of "
                                         r"bias\.size = 3"):
        fwd(z[:14], bias, out[:14], *opt)
    with pytest.raises(ValueError, match=r"not a positive multiple of bias\.size = 0"):
        fwd(z, bias[:0], out, *opt)
    with pytest.raises(ValueError, match=r"out has 14 elements, not 15"):
        fwd(z, bias, out[:14], *opt)
    # out a shifted view over z
    buf = np.concatenate([z, np.zeros(1, dtype)])
    with pytest.raises(ValueError, match=r"out overlaps z without being the same array"):
        fwd(buf[:15], bias, buf[1:], *opt)
    # the bias inside out (in place over z, or a separate out): rows after the first would
    # read a bias already overwritten
    zz, o = z.copy(), np.empty_like(z)
    for zin, b, dst in ((zz, zz[:F], zz), (z, o[:F], o)):
        before = dst.copy()
        with pytest.raises(ValueError, match=r"out overlaps bias: it must be an array of its own"):
            fwd(zin, b, dst, *opt)
        np.testing.assert_array_equal(dst, before)  # raised before anything was written

    a = np.empty_like(z)
    fwd(z, bias, a, *opt)
    bg = np.empty(F, dtype)
    # backward: sizes
    with pytest.raises(ValueError, match=r"a has 14 elements, not a positive multiple of "
                                         r"bias_grad\.size = 3"):
        bwd(a[:14], up[:14], out[:14], bg, *opt)
    with pytest.raises(ValueError, match=r"upstream has 14 elements, not 15"):
        bwd(a, up[:14], out, bg, *opt)
    with pytest.raises(ValueError, match=r"out has 12 elements, not 15"):
        bwd(a, up, out[:12], bg, *opt)
    # out a shifted view over a or upstream
    buf = np.concatenate([a, np.zeros(1, dtype)])
    with pytest.raises(ValueError, match=r"out overlaps a without being the same array"):
        bwd(buf[:15], up, buf[1:], bg, *opt)
    buf = np.concatenate([up, np.zeros(1, dtype)])
    with pytest.raises(ValueError, match=r"out overlaps upstream without being the same array"):
        bwd(a, buf[:15], buf[1:], bg, *opt)
    # bias_grad inside a, upstream or out
    for arg, call in (("a", lambda: bwd(a, up, out, a[3:6], *opt)),
                      ("upstream", lambda: bwd(a, up, out, up[:3], *opt)),
                      ("out", lambda: bwd(a, up, out, out[12:], *opt))):
        a_before, up_before = a.copy(), up.copy()
        with pytest.raises(ValueError, match=rf"bias_grad overlaps {arg}: it must be an array "
                                             rf"of its own"):
            call()
        np.testing.assert_array_equal(a, a_before)  # raised before anything was written
        np.testing.assert_array_equal(up, up_before)


def test_kernel_table_entries():
    table = kernels("numba_activations")
    for name in NAMES:
        for dt, s in (("float32", "f32"), ("float64", "f64")):
            assert table[(name, "default", "bias_forward", dt)] is getattr(
                gen, f"{name}_bias_forward_{s}")
            assert table[(name, "default", "backward_output_bias", dt)] is getattr(
                gen, f"{name}_backward_output_bias_{s}")


# --------------------------------------------------------------------------- Sequential


def _torch():
    return pytest.importorskip("torch", reason="PyTorch autograd is the oracle for the MLP "
                                               "gradients")


def torch_loss_and_grads(model, X, y):
    """The loss (mean) and ∂L/∂parameter of the same network in torch float64, with our
    weights (upcast), in model.parameters() order."""
    torch = _torch()
    F = torch.nn.functional
    params = [torch.tensor(np.asarray(p, np.float64), requires_grad=True)
              for p in model.parameters()]
    h, it = torch.tensor(np.asarray(X, np.float64)), iter(params)
    for layer in model.layers:
        if isinstance(layer, nn.Dense):
            w = next(it)
            h = F.linear(h, w, next(it) if layer.bias else None)
        elif isinstance(layer, nn.Activation):
            h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                 "leaky_relu": lambda t: F.leaky_relu(
                     t, layer.options.get("negative_slope", 0.01))}[layer.name](h)
        else:
            raise AssertionError(f"unexpected layer {layer!r}")
    if model.loss_name == "softmax_ce":
        loss = F.cross_entropy(h, torch.tensor(y))
    else:
        assert model.loss_name == "mse"
        loss = F.mse_loss(h, torch.tensor(np.asarray(y, np.float64)))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in params]


def _data(n, sizes, head, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    if head == "softmax_ce":
        y = rng.integers(0, sizes[-1], n)
    else:
        y = rng.random((n, sizes[-1]))  # in (0, 1): reachable by a sigmoid output too
    return X, y


def _model(sizes, act, head, dtype, **kw):
    if head == "mse":
        kw.setdefault("output_activation", act)
    return nn.MLP(sizes, act, loss=head, dtype=dtype, seed=0, **kw)


def _randomize_biases(model, seed):
    """Non-zero biases (they start at 0), so that a bias left out of f(z + b) is seen."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, nn.Dense) and layer.bias:
            layer.params["bias"][...] = 0.5 * rng.standard_normal(layer.out_features)


def _pairs(model):
    return [s for s in model._steps if isinstance(s, nn._BiasActivation)]


def assert_grads_match(model, X, y, loss, dtype):
    """Our loss and gradients against torch float64 autograd on the same weights.

    float64: every operation is a few roundings from torch's, over sums of ≤ 512 terms:
    rtol 1e-10 (with an absolute floor of 1e-10 of the gradient's largest entry, for entries
    that cancel to ~0; measured ≤ 1e-15). float32: the products and sums run in float32
    (ε₃₂ ≈ 1.2e-7, sums of up to 512 terms through three layers): rtol 1e-5 with a floor of
    1e-6 of the largest entry (measured ≤ 0.12 of that)."""
    ref_loss, ref = torch_loss_and_grads(model, X, y)
    rtol, floor = (1e-10, 1e-10) if dtype == np.float64 else (1e-5, 1e-6)
    assert loss == pytest.approx(ref_loss, rel=rtol)
    names = [n for n, _ in model.named_parameters()]
    for name, g, r in zip(names, model.gradients(), ref):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=floor * float(np.max(np.abs(r))),
                                   err_msg=f"∂L/∂{name}")


HEADS = ["softmax_ce", "mse"]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("act", NAMES)
def test_mlp_fused_gradients_match_torch(act, head, dtype):
    _torch()
    sizes = [6, 9, 7, 4]
    model = _model(sizes, act, head, dtype)
    _randomize_biases(model, seed=1)
    X, y = _data(300, sizes, head, seed=2)
    X = X.astype(dtype)  # torch gets exactly the model's inputs, upcast
    if head == "mse":
        y = y.astype(dtype)
    loss = model.loss_and_backward(X, y)
    pairs = _pairs(model)
    assert len(pairs) == (3 if head == "mse" else 2)
    assert all(p._fused for p in pairs), "batch 300 ≥ FEATURE_MAJOR_BELOW runs every pair fused"
    assert_grads_match(model, X, y, loss, dtype)


@pytest.mark.parametrize("head", HEADS)
def test_fused_kernels_called_at_batch_512_not_at_64(head, monkeypatch):
    """A spy on the KERNELS table: the fused kernels run for every pair at batch 512; at batch
    64 the inner pairs run feature-major and unfused (and a pair with no Dense after it, the
    mse head's output activation, stays fused). Gradients match torch either way."""
    _torch()
    table = kernels("numba_activations")
    calls = []
    for kind in ("bias_forward", "backward_output_bias"):
        key = ("tanh", "default", kind, "float64")
        original = table[key]

        def spy(*args, _k=kind, _f=original):
            calls.append((_k, args[0].size))
            return _f(*args)
        monkeypatch.setitem(table, key, spy)

    sizes = [6, 9, 7, 4]
    model = _model(sizes, "tanh", head, np.float64)  # built after the patch: it looks up spies
    _randomize_biases(model, seed=3)
    n_pairs = len(_pairs(model))
    assert nn.FEATURE_MAJOR_BELOW == 256

    X, y = _data(512, sizes, head, seed=4)
    loss = model.loss_and_backward(X, y)
    assert [p._fused for p in _pairs(model)] == [True] * n_pairs
    assert sorted(calls) == sorted([("bias_forward", 512 * s) for s in sizes[1:n_pairs + 1]]
                                   + [("backward_output_bias", 512 * s)
                                      for s in sizes[1:n_pairs + 1]])
    assert_grads_match(model, X, y, loss, np.float64)

    calls.clear()
    X, y = _data(64, sizes, head, seed=5)
    loss = model.loss_and_backward(X, y)
    fused = [p._fused for p in _pairs(model)]
    assert fused == ([False, False, True] if head == "mse" else [False, False])
    expected = [] if head == "softmax_ce" else [("bias_forward", 64 * 4),
                                                ("backward_output_bias", 64 * 4)]
    assert sorted(calls) == sorted(expected)
    assert_grads_match(model, X, y, loss, np.float64)

    # and back to a fused batch after the feature-major one
    calls.clear()
    X, y = _data(300, sizes, head, seed=6)
    loss = model.loss_and_backward(X, y)
    assert [p._fused for p in _pairs(model)] == [True] * n_pairs
    assert len(calls) == 2 * n_pairs
    assert_grads_match(model, X, y, loss, np.float64)


@pytest.mark.parametrize("slope", [0.2, 0.0, -0.1])
def test_leaky_relu_slope(slope):
    """leaky_relu's slope reaches the fused kernels (0.2); the output form of its derivative
    needs slope > 0 (a > 0 ⇔ z > 0), so with slope ≤ 0 every pair runs unfused through z, at
    any batch. Gradients match torch's leaky_relu with that slope either way."""
    _torch()
    fused = slope > 0
    sizes = [5, 8, 6, 3]
    for head in HEADS:
        model = nn.MLP(sizes, "leaky_relu", loss=head, negative_slope=slope, dtype=np.float64,
                       seed=0)
        acts = [layer for layer in model.layers if isinstance(layer, nn.Activation)]
        assert [layer.options for layer in acts] == [{"negative_slope": slope}] * 2
        _randomize_biases(model, seed=6)
        X, y = _data(300, sizes, head, seed=7)
        loss = model.loss_and_backward(X, y)
        assert [p._fused for p in _pairs(model)] == [fused, fused]
        assert_grads_match(model, X, y, loss, np.float64)

    # a pair with no Dense after it (fused at any batch when slope > 0), at batch 64
    model = nn.Sequential([nn.Dense(5, 8), nn.Activation("leaky_relu", negative_slope=slope),
                           nn.Dense(8, 3), nn.Activation("leaky_relu", negative_slope=slope)],
                          loss="mse", dtype=np.float64, seed=0)
    _randomize_biases(model, seed=8)
    X, y = _data(64, [5, 8, 3], "mse", seed=9)
    loss = model.loss_and_backward(X, y)
    assert [p._fused for p in _pairs(model)] == [False, fused]
    assert_grads_match(model, X, y, loss, np.float64)


def test_mlp_negative_slope_reaches_the_output_activation():
    """MLP's negative_slope is every leaky_relu's, the output activation's too (it got the
    default 0.01): the loss and gradients of torch's network with slope 0.3 throughout,
    written out here layer by layer."""
    torch = _torch()
    F = torch.nn.functional
    sizes, slope = [4, 6, 3], 0.3
    model = nn.MLP(sizes, "leaky_relu", loss="mse", output_activation="leaky_relu",
                   negative_slope=slope, dtype=np.float64, seed=0)
    _randomize_biases(model, seed=10)
    X, y = _data(300, sizes, "mse", seed=11)
    y = y - 0.5  # targets below 0: the output's negative side (its slope) matters
    loss = model.loss_and_backward(X, y)
    w1, b1, w2, b2 = (torch.tensor(np.array(p), requires_grad=True) for p in model.parameters())
    h = F.leaky_relu(F.linear(torch.tensor(X), w1, b1), slope)
    out = F.leaky_relu(F.linear(h, w2, b2), slope)
    ref = F.mse_loss(out, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for g, p in zip(model.gradients(), (w1, b1, w2, b2)):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("act,head", [("tanh", "softmax_ce"), ("sigmoid", "mse"),
                                      ("leaky_relu", "mse")])
def test_fused_gradients_match_central_differences(act, head):
    """float64, [5, 7, 3] at batch 300 (fused): central differences on a few weight and bias
    entries of each layer. h = 1e-5: truncation ~h²·|L'''| ≈ 1e-10, rounding ~ε|L|/h ≈ 1e-11,
    so rtol 1e-6 with an absolute 1e-8 is an order of magnitude clear of both."""
    sizes = [5, 7, 3]
    model = _model(sizes, act, head, np.float64)
    _randomize_biases(model, seed=10)
    X, y = _data(300, sizes, head, seed=11)
    model.loss_and_backward(X, y)
    assert all(p._fused for p in _pairs(model))
    grads = [g.copy() for g in model.gradients()]
    rng = np.random.default_rng(12)
    h = 1e-5
    for p, g, name in zip(model.parameters(), grads, [n for n, _ in model.named_parameters()]):
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)
        for i in rng.choice(flat_p.size, size=min(3, flat_p.size), replace=False):
            old = flat_p[i]
            flat_p[i] = old + h
            up = model.loss(X, y)
            flat_p[i] = old - h
            down = model.loss(X, y)
            flat_p[i] = old
            fd = (up - down) / (2 * h)
            assert flat_g[i] == pytest.approx(fd, rel=1e-6, abs=1e-8), f"∂L/∂{name}[{i}]"
