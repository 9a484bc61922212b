"""The fused bias + activation kernels of runtime/generated/numba_activations.py, in both
layouts: batch-major (``<f>_bias_forward``, ``<f>_backward_output_bias``: an (N, F) array
raveled) and feature-major (``<f>_bias_rows_forward``, ``<f>_backward_output_bias_rows``: an
(F, N) array raveled, bias[j] belonging to row j), against NumPy float64 references written here
from the textbook formulas and math.fsum for ∂L/∂b; and Sequential's fused path
(_BiasActivation, which uses the rows kernels at small batches) against PyTorch autograd and
central differences."""
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
#: layout → (forward kind, backward kind) in the KERNELS table (also the kernels' name infixes)
LAYOUTS = {"batch": ("bias_forward", "backward_output_bias"),
           "rows": ("bias_rows_forward", "backward_output_bias_rows")}


def _kernels(name, dtype, layout):
    """(forward, backward, extra args) of ``layout`` from the KERNELS table; the slope is
    passed in the kernel's dtype, as runtime.nn does (the same compiled specialisation)."""
    dt = np.dtype(dtype).name
    fwd, bwd = (gen.KERNELS[(name, "default", kind, dt)] for kind in LAYOUTS[layout])
    return fwd, bwd, ((np.dtype(dtype).type(SLOPE),) if name == "leaky_relu" else ())


def by_feature(flat, F, layout):
    """The raveled array of N·F elements as an (F, N) view: feature j's N values in row j
    (the transpose of the batch-major (N, F) array; the rows layout's array itself)."""
    return flat.reshape(-1, F).T if layout == "batch" else flat.reshape(F, -1)


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


def check_forward(name, dtype, layout, z, bias, out):
    """out = f(z + b), b_j added to feature j's N values. The reference takes x = z + b as
    rounded in the kernel's dtype (NumPy's IEEE add of the same two numbers), then f in float64.
    Tolerance: 4 ε of the dtype relative (the kernels' exp/tanh are within ~2 ulp, measured
    ≤ 1.6 in float32, ≤ 1 in float64; relu is exact, leaky_relu one rounding of x·slope). A NaN
    where the reference is a number (an entry never written) fails."""
    F = bias.size
    x = (by_feature(z, F, layout) + bias[:, None]).astype(np.float64)
    ref = f_ref(name, x, _slope(dtype))
    got = by_feature(out, F, layout).astype(np.float64)
    bad = ~(np.abs(got - ref) <= 4 * np.finfo(dtype).eps * np.abs(ref))
    assert not bad.any(), (f"{name} {np.dtype(dtype)} {layout} forward: {bad.sum()} of "
                           f"{ref.size} off, first at (feature, sample) "
                           f"{np.argwhere(bad)[:3].tolist()}: {got[bad][:3]} vs {ref[bad][:3]}")


def delta_ref(name, dtype, a, up):
    """(δ = upstream·f'(z) from a, and its error scale |δ| + |upstream|·a²), float64,
    elementwise (either layout)."""
    a64, u64 = a.astype(np.float64), up.astype(np.float64)
    delta = u64 * df_from_output(name, a64, _slope(dtype))
    return delta, np.abs(delta) + np.abs(u64) * a64 * a64


def check_delta(name, dtype, a, up, out):
    """δ = upstream·f'(z). Tolerance: 4 ε·(|δ| + |u|·a²): two or three roundings of a product,
    and tanh's 1 − a² also carries the rounding of a² (≤ ε a²/2 absolute) when it is not
    fused into an FMA. A NaN where the reference is a number fails."""
    ref, scale = delta_ref(name, dtype, a, up)
    eps = np.finfo(dtype).eps
    bad = ~(np.abs(out.astype(np.float64) - ref) <= 4 * eps * scale)
    assert not bad.any(), (f"{name} {np.dtype(dtype)} δ: {bad.sum()} of {ref.size} off, first at "
                           f"{np.flatnonzero(bad)[:5]}: {out[bad][:3]} vs {ref[bad][:3]}")


def check_bias_grad(name, dtype, layout, a, up, out, bias_grad):
    """∂L/∂b_j = Σ_n δ_jn over feature j's N values, against math.fsum of the float64
    reference δ.

    The kernels sum in float64, the batch-major ones row after row, the rows ones in vector
    lanes (reassociated): no order is assumed. Any order of the N − 1 additions is within
    (N − 1)·(ε/2)·Σ|δ| of the exact sum (Higham, Accuracy and Stability, §4.2), ≤ N ε₆₄ Σ|δ|.
    float64: each δ within 4 ε·scale (check_delta), so (N + 4) ε Σ scale: 4.4e-12 of it at
    N = 20000, ≤ 7e-13 at N ≤ 3000 (measured ≤ 2 ε).
    float32: the δ are float32 (4 ε₃₂ each), summed in float64 (N ε₆₄ Σ|δ|), then rounded once
    to float32 (≤ ε₃₂|Σ|/2; ε₃₂|Σ| allowed). That bound is loose where the δ cancel, so a
    second, sharp check: bias_grad is the exact sum of the kernel's own δ (math.fsum of its
    out, each entry checked by check_delta), up to the float64 summation error, rounded once to
    float32, i.e. within half a float32 ulp: ½ spacing(|bias_grad|) (the ulp of the interval the
    float64 sum was rounded in is at most bias_grad's spacing, also when it rounded up to a
    power of 2; measured ≤ ½ ulp, exact ties included). A float32 accumulator would be
    ~√N ε₃₂ relative, several ulps, off instead.
    """
    F = bias_grad.size
    ref, scale = (by_feature(v, F, layout) for v in delta_ref(name, dtype, a, up))
    N = ref.shape[1]
    eps, eps64 = float(np.finfo(dtype).eps), float(np.finfo(np.float64).eps)
    exact = np.array([math.fsum(row) for row in ref])
    s = scale.sum(axis=1)  # a tolerance's scale (positive terms): no fsum needed
    got = bias_grad.astype(np.float64)
    if dtype == np.float64:
        tol = (N + 4) * eps * s
    else:
        tol = 4 * eps * s + N * eps64 * s + eps * np.abs(exact)
    bad = ~(np.abs(got - exact) <= tol)
    j = np.flatnonzero(bad)[:3]
    assert not bad.any(), (f"{name} {np.dtype(dtype)} {layout}: bias_grad{j.tolist()} = "
                           f"{got[j].tolist()}, fsum of the reference δ = {exact[j].tolist()} "
                           f"(tolerance {tol[j].tolist()}, N = {N}; {bad.sum()} of {F} off)")
    if dtype == np.float32:
        own_rows = by_feature(out, F, layout).astype(np.float64)
        own = np.array([math.fsum(row) for row in own_rows])
        tol = (0.5 * np.spacing(np.abs(bias_grad)).astype(np.float64)
               + N * eps64 * np.abs(own_rows).sum(axis=1))
        bad = ~(np.abs(got - own) <= tol)
        j = np.flatnonzero(bad)[:3]
        assert not bad.any(), (f"{name} float32 {layout}: bias_grad{j.tolist()} = "
                               f"{got[j].tolist()} is not the float64 sum {own[j].tolist()} of "
                               f"its δ rounded once ({bad.sum()} of {F} off)")


def row_blocks(N, F, layout):
    """(row blocks, tiles per row) the kernels split the raveled array into, as documented:
    rows of length L (F batch-major, N feature-major) in blocks of max(1, 8·BLOCK // L) rows,
    each row in tiles of BLOCK elements."""
    R, L = (N, F) if layout == "batch" else (F, N)
    rows = max(1, 8 * BLOCK // max(L, 1))
    return -(-R // rows), -(-L // BLOCK)


# (N, F) (batch, features = bias.size) per layout; the rows shapes are the batch ones transposed,
# so that both layouts get the same rows, blocks and tiles (test_shapes_cover_blocks): several
# row blocks, rows in several tiles (a length of BLOCK + 3, and 20000 at one row per block),
# both at once, N = 1, and N = 0 (no rows batch-major, rows of length 0 feature-major)
SHAPES = {"batch": [(1, 1), (7, 3), (20000, 1), (3000, 16), (1, BLOCK + 3), (17, BLOCK + 3),
                    (3, 20000), (0, 5)],
          "rows": [(1, 1), (3, 7), (1, 20000), (16, 3000), (BLOCK + 3, 1), (BLOCK + 3, 17),
                   (20000, 3), (0, 5)]}
IN_PLACE_SHAPES = {"batch": [(7, 3), (3000, 16), (17, BLOCK + 3)],
                   "rows": [(3, 7), (16, 3000), (BLOCK + 3, 17)]}


def _shape_params(shapes):
    return [pytest.param(layout, N, F, id=f"{layout}-N{N}-F{F}")
            for layout, pairs in shapes.items() for N, F in pairs]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_shapes_cover_blocks(layout):
    split = [row_blocks(N, F, layout) for N, F in SHAPES[layout][:-1]]
    # (blocks, tiles per row): one of each; 2 and 3 blocks; 2 tiles; 3 blocks of 2 tiles;
    # 3 blocks of one 20000-element row (10 tiles)
    assert split == [(1, 1), (1, 1), (2, 1), (3, 1), (1, 2), (3, 2), (3, 10)]
    assert SHAPES[layout][-1] == (0, 5)
    assert {N for N, _ in SHAPES[layout]} >= {0, 1}


@pytest.mark.parametrize("layout,N,F", _shape_params(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_kernels_match_reference(name, dtype, layout, N, F):
    fwd, bwd, opt = _kernels(name, dtype, layout)
    z, bias, up = _inputs(N, F, dtype, seed=N * 7919 + F)
    z_before = z.copy()
    a = np.full(N * F, np.nan, dtype)
    fwd(z, bias, a, *opt)
    np.testing.assert_array_equal(z, z_before)  # input untouched
    check_forward(name, dtype, layout, z, bias, a)

    out = np.full(N * F, np.nan, dtype)
    bias_grad = np.full(F, np.nan, dtype)  # every entry must be written, N = 0 included
    bwd(a, up, out, bias_grad, *opt)
    check_delta(name, dtype, a, up, out)
    check_bias_grad(name, dtype, layout, a, up, out, bias_grad)
    if N == 0:
        np.testing.assert_array_equal(bias_grad, np.zeros(F, dtype))


@pytest.mark.parametrize("layout,N,F", _shape_params(IN_PLACE_SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_in_place(name, dtype, layout, N, F):
    fwd, bwd, opt = _kernels(name, dtype, layout)
    z, bias, up = _inputs(N, F, dtype, seed=N + F + 1)
    z_in = z.copy()
    fwd(z, bias, z, *opt)  # out is z
    check_forward(name, dtype, layout, z_in, bias, z)
    a = z

    # out is upstream
    u = up.copy()
    bias_grad = np.full(F, np.nan, dtype)
    bwd(a, u, u, bias_grad, *opt)
    check_delta(name, dtype, a, up, u)
    check_bias_grad(name, dtype, layout, a, up, u, bias_grad)

    # out is a
    a2 = a.copy()
    bias_grad2 = np.full(F, np.nan, dtype)
    bwd(a2, up, a2, bias_grad2, *opt)
    check_delta(name, dtype, a, up, a2)
    check_bias_grad(name, dtype, layout, a, up, a2, bias_grad2)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf(name, dtype, layout):
    """NaN in z + b gives NaN out, NaN in a gives NaN δ (relu's a > 0 test alone would give 0)
    and a NaN ∂L/∂b for its feature; ±inf in z gives f(±inf), and the other entries and
    features are the references (tolerances as in check_forward / check_delta /
    check_bias_grad)."""
    N, F = 6, 4
    fwd, bwd, opt = _kernels(name, dtype, layout)
    eps = np.finfo(dtype).eps
    z, bias, up = _inputs(N, F, dtype, seed=5)
    zf = by_feature(z, F, layout)  # (feature, sample), a view of z
    zf[0, 1] = zf[2, 4] = np.nan
    bias[3] = np.nan  # all of feature 3's z + b
    zf[1, 0], zf[1, 2] = np.inf, -np.inf  # feature 1: no NaN
    x = zf + bias[:, None]
    nan_in, inf_in = np.isnan(x), np.isinf(zf)
    a = np.empty_like(z)
    fwd(z, bias, a, *opt)
    af = by_feature(a, F, layout)
    assert np.isnan(af[nan_in]).all(), f"{name}: f(NaN) must be NaN, got {af[nan_in]}"
    ok = ~nan_in
    ref = f_ref(name, x.astype(np.float64), _slope(dtype))
    np.testing.assert_allclose(af[ok], ref[ok], rtol=4 * eps, atol=0)  # f(±inf) exactly

    out = np.empty_like(a)
    bias_grad = np.empty(F, dtype)
    bwd(a, up, out, bias_grad, *opt)
    of, upf = by_feature(out, F, layout), by_feature(up, F, layout)
    assert np.isnan(of[nan_in]).all(), f"{name}: δ at a = NaN must be NaN, got {of[nan_in]}"
    finite = ok & ~inf_in
    check_delta(name, dtype, af[finite], upf[finite], of[finite])
    ref_d = by_feature(delta_ref(name, dtype, a, up)[0], F, layout)
    # at a = f(±inf) (±1, 0/1, ±inf) δ is finite: 0 for σ and tanh, u or slope·u for relu's
    np.testing.assert_allclose(of[inf_in], ref_d[inf_in], rtol=4 * eps, atol=0)
    nan_features = np.isnan(af).any(axis=1)
    assert nan_features.tolist() == [True, False, True, True]
    assert np.isnan(bias_grad[nan_features]).all()
    row = ref_d[1]
    assert abs(float(bias_grad[1]) - math.fsum(row)) <= 16 * eps * math.fsum(np.abs(row))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_errors(name, dtype, layout):
    fwd, bwd, opt = _kernels(name, dtype, layout)
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
            for kind in ("bias_forward", "backward_output_bias", "bias_rows_forward",
                         "backward_output_bias_rows"):
                assert table[(name, "default", kind, dt)] is getattr(gen, f"{name}_{kind}_{s}")


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


def _inner(model):
    """How many of the pairs are inner ones (a Dense after their activation: feature-major
    below FEATURE_MAJOR_BELOW); the mse head's output pair, last, is not."""
    return sum(p.dense.feature_major for p in _pairs(model))


@pytest.mark.parametrize("batch", [300, 64])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("act", NAMES)
def test_mlp_fused_gradients_match_torch(act, head, dtype, batch):
    """Every pair runs fused at either batch: at 300 batch-major, at 64 the inner pairs
    feature-major (the rows kernels). The loss and gradients match torch either way."""
    _torch()
    sizes = [6, 9, 7, 4]
    model = _model(sizes, act, head, dtype)
    _randomize_biases(model, seed=1)
    X, y = _data(batch, sizes, head, seed=2)
    X = X.astype(dtype)  # torch gets exactly the model's inputs, upcast
    if head == "mse":
        y = y.astype(dtype)
    loss = model.loss_and_backward(X, y)
    pairs = _pairs(model)
    assert len(pairs) == (3 if head == "mse" else 2) and _inner(model) == 2
    assert all(p._fused for p in pairs)
    assert [p.act._fm for p in pairs] == [batch < nn.FEATURE_MAJOR_BELOW] * 2 + [False] * (
        len(pairs) - 2)
    assert_grads_match(model, X, y, loss, dtype)


@pytest.mark.parametrize("head", HEADS)
def test_fused_kernels_batch_major_at_512_and_300_rows_at_64(head, monkeypatch):
    """A spy on the KERNELS table (tanh, float64, both layouts): every pair runs fused at every
    batch. At 512 and 300 (≥ FEATURE_MAJOR_BELOW) each calls the batch-major kernels; at 64 the
    inner pairs (Dense → tanh → Dense) call the rows kernels, the activation's output a being
    the C-contiguous (F, 64) buffer, while the mse head's output pair (no Dense after it) stays
    batch-major. Batches 512, 64, 300, 64 in turn (the work buffers change layout and shape in
    between); the gradients match torch each time."""
    _torch()
    table = kernels("numba_activations")
    calls = []
    for kind in (*LAYOUTS["batch"], *LAYOUTS["rows"]):
        key = ("tanh", "default", kind, "float64")
        original = table[key]

        def spy(*args, _k=kind, _f=original):
            vec = args[1] if "forward" in _k else args[3]  # bias or bias_grad: F elements
            calls.append((_k, args[0].size // vec.size, vec.size))  # (kind, N, F)
            return _f(*args)
        monkeypatch.setitem(table, key, spy)

    sizes = [6, 9, 7, 4]
    model = _model(sizes, "tanh", head, np.float64)  # built after the patch: it looks up spies
    _randomize_biases(model, seed=3)
    pairs = _pairs(model)
    widths = [p.dense.out_features for p in pairs]
    assert widths == ([9, 7, 4] if head == "mse" else [9, 7])
    assert nn.FEATURE_MAJOR_BELOW == 256

    for seed, batch in enumerate((512, 64, 300, 64), start=4):
        calls.clear()
        X, y = _data(batch, sizes, head, seed=seed)
        loss = model.loss_and_backward(X, y)
        layouts = (["rows", "rows", "batch"] if batch == 64 else ["batch"] * 3)[:len(pairs)]
        assert [p._fused for p in pairs] == [True] * len(pairs)
        assert [p.act._fm for p in pairs] == [lay == "rows" for lay in layouts]
        for p, lay, F in zip(pairs, layouts, widths):
            a = p.act._a
            assert a.shape == ((F, batch) if lay == "rows" else (batch, F))
            assert a.flags.c_contiguous
        assert sorted(calls) == sorted((kind, batch, F) for lay, F in zip(layouts, widths)
                                       for kind in LAYOUTS[lay]), f"batch {batch}"
        assert_grads_match(model, X, y, loss, np.float64)


@pytest.mark.parametrize("slope", [0.2, 0.0, -0.1])
def test_leaky_relu_slope(slope):
    """leaky_relu's slope reaches the fused kernels of both layouts (0.2: batch-major at 300,
    the inner pairs feature-major at 64); the output form of its derivative needs slope > 0
    (a > 0 ⇔ z > 0), so with slope ≤ 0 every pair runs unfused through z, at any batch.
    Gradients match torch's leaky_relu with that slope either way."""
    _torch()
    fused = slope > 0
    sizes = [5, 8, 6, 3]
    for head in HEADS:
        model = nn.MLP(sizes, "leaky_relu", loss=head, negative_slope=slope, dtype=np.float64,
                       seed=0)
        acts = [layer for layer in model.layers if isinstance(layer, nn.Activation)]
        assert [layer.options for layer in acts] == [{"negative_slope": slope}] * 2
        _randomize_biases(model, seed=6)
        for batch, seed in ((300, 7), (64, 8)):
            X, y = _data(batch, sizes, head, seed=seed)
            loss = model.loss_and_backward(X, y)
            pairs = _pairs(model)
            assert [p._fused for p in pairs] == [fused, fused]
            assert [p.act._fm for p in pairs] == [batch < nn.FEATURE_MAJOR_BELOW] * 2
            assert_grads_match(model, X, y, loss, np.float64)

    # at batch 64, a feature-major pair then one with no Dense after it (batch-major)
    model = nn.Sequential([nn.Dense(5, 8), nn.Activation("leaky_relu", negative_slope=slope),
                           nn.Dense(8, 3), nn.Activation("leaky_relu", negative_slope=slope)],
                          loss="mse", dtype=np.float64, seed=0)
    _randomize_biases(model, seed=8)
    X, y = _data(64, [5, 8, 3], "mse", seed=9)
    loss = model.loss_and_backward(X, y)
    pairs = _pairs(model)
    assert [p._fused for p in pairs] == [fused, fused]
    assert [p.act._fm for p in pairs] == [True, False]
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
@pytest.mark.parametrize("batch", [300, 64])
def test_fused_gradients_match_central_differences(act, head, batch):
    """float64, [5, 7, 3] at batch 300 (fused batch-major) and 64 (the first pair fused
    feature-major): central differences on a few weight and bias entries of each layer.
    h = 1e-5: truncation ~h²·|L'''| ≈ 1e-10, rounding ~ε|L|/h ≈ 1e-11, so rtol 1e-6 with an
    absolute 1e-8 is an order of magnitude clear of both."""
    sizes = [5, 7, 3]
    model = _model(sizes, act, head, np.float64)
    _randomize_biases(model, seed=10)
    X, y = _data(batch, sizes, head, seed=11)
    model.loss_and_backward(X, y)
    pairs = _pairs(model)
    assert all(p._fused for p in pairs)
    assert pairs[0].act._fm == (batch < nn.FEATURE_MAJOR_BELOW)
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
