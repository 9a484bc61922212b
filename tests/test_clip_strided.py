"""runtime.clip on non-C-contiguous NumPy gradients (F-ordered, transposed, strided slices,
reversed): torch.nn.utils takes any strides, so the values must be torch's and the in-place
clipping must reach the caller's array through the view. Contiguous gradients (C or F order)
are worked on in place, with no copy."""
import numpy as np
import pytest

from runtime import clip
from runtime.generated import numba_optim as gen

torch = pytest.importorskip("torch", reason="torch is the oracle for torch.nn.utils' clipping")


def _layouts(rng, dtype):
    """(name, base, cut, view): ``view = cut(base)`` is a gradient laid out in ``base``'s
    memory; F-ordered has no base or cut (it is its own memory)."""
    cuts = [
        ("transposed", (5, 7), lambda b: b.T),
        ("column slice", (6, 10), lambda b: b[:, ::2]),
        ("reversed rows", (9, 4), lambda b: b[::-1]),
        ("axes permuted", (3, 4, 5), lambda b: b.transpose(2, 0, 1)),
        ("1-D stride 3", (40,), lambda b: b[1::3]),
        ("3-D mixed", (4, 6, 5), lambda b: b.transpose(1, 0, 2)[::2, :, 1:]),
    ]
    out = [("F-ordered", None, None, np.asfortranarray(rng.standard_normal((6, 5)).astype(dtype)))]
    for name, shape, cut in cuts:
        base = rng.standard_normal(shape).astype(dtype)
        out.append((name, base, cut, cut(base)))
    return out


def _torch_grads(arrays):
    params = []
    for a in arrays:
        p = torch.zeros(a.shape, dtype=torch.float64 if a.dtype == np.float64 else torch.float32)
        p.grad = torch.tensor(np.ascontiguousarray(a))
        params.append(p)
    return params


NORMS = [2.0, float("inf"), 1.0, 0.5, 3.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", NORMS)
def test_get_total_norm_of_strided_gradients_is_torchs(dtype, norm_type):
    rng = np.random.default_rng(7)
    layouts = _layouts(rng, dtype)
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    for name, _, _, view in layouts:
        want = torch.nn.utils.get_total_norm([p.grad for p in _torch_grads([view])], norm_type)
        got = clip.get_total_norm(view, norm_type)
        assert got.dtype == dtype, name
        np.testing.assert_allclose(float(got), want.item(), rtol=rtol, err_msg=name)
    views = [v for *_, v in layouts]  # all together, as one vector
    want = torch.nn.utils.get_total_norm([p.grad for p in _torch_grads(views)], norm_type)
    np.testing.assert_allclose(float(clip.get_total_norm(views, norm_type)), want.item(),
                               rtol=rtol)


def test_get_total_norm_reads_a_read_only_gradient():
    """Only clipping writes: the norm of a read-only (e.g. broadcast) array is torch's."""
    g = np.broadcast_to(np.arange(1.0, 5.0), (3, 4))
    want = torch.nn.utils.get_total_norm([torch.tensor(np.ascontiguousarray(g))], 2.0)
    np.testing.assert_allclose(float(clip.get_total_norm(g)), want.item(), rtol=1e-14)
    with pytest.raises(ValueError, match=r"grads.*read-only"):
        clip.clip_grad_norm_(g, 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", NORMS)
def test_clip_grad_norm_scales_strided_gradients_in_place_as_torch(dtype, norm_type):
    rng = np.random.default_rng(11)
    layouts = _layouts(rng, dtype)
    views = [v for *_, v in layouts]
    params = _torch_grads(views)
    bases = [None if b is None else b.copy() for _, b, _, _ in layouts]
    max_norm = 0.25
    want = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    got = clip.clip_grad_norm_(views, max_norm, norm_type)
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(float(got), want.item(), rtol=rtol)
    assert float(got) > max_norm  # so the gradients were scaled
    for (name, base, cut, view), p, before in zip(layouts, params, bases):
        # in place: the caller's view (so its base) holds torch's clipped gradient
        np.testing.assert_allclose(view, p.grad.numpy(), rtol=rtol, atol=0, err_msg=name)
        if base is not None:  # and nothing outside the view changed
            inside = np.zeros(base.shape, bool)
            cut(inside)[...] = True
            np.testing.assert_array_equal(base[~inside], before[~inside], err_msg=name)
            np.testing.assert_allclose(cut(base), p.grad.numpy(), rtol=rtol, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_clamps_strided_gradients_in_place_as_torch(dtype):
    rng = np.random.default_rng(3)
    layouts = _layouts(rng, dtype)
    views = [v for *_, v in layouts]
    params = _torch_grads(views)
    torch.nn.utils.clip_grad_value_(params, 0.5)
    clip.clip_grad_value_(views, 0.5)
    for (name, *_, view), p in zip(layouts, params):
        np.testing.assert_array_equal(view, p.grad.numpy(), err_msg=name)


def test_clip_grad_norm_single_strided_array_in_place():
    """One array (not a list), a column slice: its base sees the scaled values."""
    base = np.arange(1.0, 13.0).reshape(3, 4)
    view = base[:, 1::2]
    total = np.sqrt(np.sum(view ** 2))  # textbook 2-norm
    kappa = 1.0 / (total + 1e-6)
    expected = base.copy()
    expected[:, 1::2] *= kappa
    got = clip.clip_grad_norm_(view, 1.0)
    np.testing.assert_allclose(float(got), total, rtol=1e-15)
    np.testing.assert_allclose(base, expected, rtol=1e-15)
    assert np.all(base[:, ::2] == np.arange(1.0, 13.0).reshape(3, 4)[:, ::2])


@pytest.mark.parametrize("make", [
    lambda a: a,                                    # C order
    lambda a: np.asfortranarray(a),                 # F order
    lambda a: a.T,                                  # transposed C
    lambda a: a.reshape(2, 3, 20).transpose(2, 0, 1),  # axes permuted, one block
], ids=["C", "F", "T", "permuted"])
def test_contiguous_gradients_are_worked_on_in_place_without_a_copy(make, monkeypatch):
    """Every kernel call gets a view of the gradient's own memory (no copy) when its elements
    fill one block, whatever the axis order."""
    g = make(np.random.default_rng(5).standard_normal((6, 20)))
    seen = []

    def spy(table, key):
        real = table[key]

        def call(flat, *args):
            seen.append(np.shares_memory(flat, g))
            return real(flat, *args)
        monkeypatch.setitem(table, key, call)

    for spec in gen.NORMS.values():
        for key in list(spec["kernels"]):
            spy(spec["kernels"], key)
    for rule in ("clip_grad_scale", "clip_grad_value"):
        for key in list(gen.RULES[rule]["kernels"]):
            spy(gen.RULES[rule]["kernels"], key)
    before = g.copy()
    for p in NORMS:
        clip.get_total_norm(g, p)
    clip.clip_grad_norm_(g, 0.1)
    clip.clip_grad_value_(g, 0.01)
    assert len(seen) == len(NORMS) + 2 + 1  # the norm inside clip_grad_norm_ too
    assert all(seen)
    assert not np.array_equal(g, before)  # the writes reached g
