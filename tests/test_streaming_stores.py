"""Large gradients of the memory-bound losses are written with streaming stores.

mse, mae, smooth_l1 and huber compute each block of a gradient (and of per-element losses)
of at least STREAM_MIN_BYTES into a stack buffer, then ``stream_copy`` writes it with 64-byte
non-temporal stores from the first 64-byte boundary of the destination on, plain stores
before and after it; softmax_ce does the same per row (rows up to STREAM_ROW long), scaling
the row as it writes it (``stream_scale``) when there is no label smoothing. These tests check
both intrinsics on every alignment and length against NumPy, the kernels just above and
below the threshold against the NumPy references, and that the compiled code really holds
streaming stores.
"""
import numba
import numpy as np
import pytest

from runtime import loss_and_grad
from runtime.generated import numba_losses as L
from test_numba_losses import (CE_OPTIONS, _ce_opts, assert_close, ce_sample, ref_elementwise,
                               ref_softmax_ce, reduce_ref, sample)

STREAMED = ["mse", "mae", "smooth_l1", "huber"]
OPTIONS = {"smooth_l1": {"beta": 0.5}, "huber": {"delta": 2.5}}


@numba.njit
def _copy(dst, start, src, n):
    L.stream_copy(dst, start, src, n)


@numba.njit
def _scale(dst, src, n, a, fix, v):
    L.stream_scale(dst, src, n, a, fix, v)


@numba.njit
def _from_stack(src, dst):
    # through the stack buffer as the kernels use it: fill it, then stream it out
    buf = L.stack_buffer(dst, 64)
    for k in range(src.size):
        buf[k] = src[k]
    L.stream_copy(dst, 0, buf, src.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_stream_copy_matches_slicing_at_every_alignment_and_length(dtype):
    rng = np.random.default_rng(0)
    src = rng.standard_normal(300).astype(dtype)
    for start in range(0, 20):  # the 64-byte boundary falls at every place in the head
        for n in (0, 1, 5, 15, 16, 17, 31, 33, 64, 100, 257):
            dst = np.full(300 + 40, -7.0, dtype)
            _copy(dst, start, src, n)
            expect = np.full_like(dst, -7.0)
            expect[start:start + n] = src[:n]
            np.testing.assert_array_equal(dst, expect, err_msg=f"start={start} n={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_stream_scale_matches_numpy_at_every_alignment_length_and_fixed_place(dtype):
    rng = np.random.default_rng(1)
    src = rng.standard_normal(300).astype(dtype)
    a, v = dtype(0.37), dtype(-5.5)
    backing = np.full(400, -7.0, dtype)
    for start in range(0, 17):
        for n in (0, 1, 16, 17, 40, 257):
            for fix in sorted({0, n // 2, n - 1, n + 3, -1}):  # in the head, a vector, the tail, none
                backing[:] = -7.0
                _scale(backing[start:start + n], src, n, a, fix, v)
                expect = np.full_like(backing, -7.0)
                expect[start:start + n] = a * src[:n]  # one rounding, as the kernel's a * e_k
                if 0 <= fix < n:
                    expect[start + fix] = v
                np.testing.assert_array_equal(backing, expect, err_msg=f"start={start} n={n} fix={fix}")


def test_stream_copy_into_a_destination_not_aligned_to_its_elements():
    # a float32 view at an odd byte offset: no 64-byte boundary lines up, plain stores only
    raw = np.zeros(4 * 200 + 1, np.uint8)
    dst = raw[1:].view(np.float32)
    src = np.arange(150, dtype=np.float32)
    _copy(dst, 3, src, 150)
    assert dst[:3].tolist() == [0, 0, 0] and dst[153:].max() == 0
    np.testing.assert_array_equal(dst[3:153], src)


def test_stack_buffer_round_trip():
    src = np.arange(50, dtype=np.float64)
    dst = np.zeros(50)
    _from_stack(src, dst)
    np.testing.assert_array_equal(dst, src)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", STREAMED)
def test_streamed_losses_match_reference_around_the_threshold(name, reduction, dtype):
    rng = np.random.default_rng(3)
    at = L.STREAM_MIN_BYTES // np.dtype(dtype).itemsize
    for n in (at - 1, at + 37):  # plain stores, then streaming (with a ragged last block)
        p, t = sample(name, (n,), dtype, rng)
        # the gradient goes into a view one element past a 64-byte boundary, between guards
        backing = np.full(n + 32, np.nan, dtype)
        first = (-backing.ctypes.data % 64) // backing.itemsize + 1
        out = backing[first:first + n]
        loss, grad = loss_and_grad(name, p, t, reduction=reduction, out=out,
                                   **OPTIONS.get(name, {}))
        assert grad is out or np.shares_memory(grad, out)
        assert np.isnan(backing[:first]).all() and np.isnan(backing[first + n:]).all()
        rl, rg = ref_elementwise(name, p.astype(np.float64), t.astype(np.float64),
                                 **OPTIONS.get(name, {}))
        rl, rg = reduce_ref(rl, rg, reduction)
        assert_close(loss, rl, dtype, f"{name} {reduction} n={n} loss")
        assert_close(grad, rg, dtype, f"{name} {reduction} n={n} grad")


def test_the_compiled_kernel_holds_streaming_stores():
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("looks for x86 non-temporal store instructions (movnt*)")
    # the committed kernels are cache=True and Numba cannot inspect cached code: recompile
    kernel = numba.njit(parallel=True, error_model="numpy", fastmath=L.FASTMATH)(
        L.KERNELS[("mse", "default", "mean", "float32")].py_func)
    x = np.ones(1000, np.float32)
    kernel(x, x, np.empty_like(x))
    asm = kernel.inspect_asm(kernel.signatures[0])
    assert "movnt" in asm, "no non-temporal stores in the mse kernel"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("target_kind", ["index", "prob"])
def test_streamed_softmax_ce_matches_reference(target_kind, dtype):
    # rows streamed (C = 1000, just past the threshold) and rows too long for the stack
    # buffer (C > STREAM_ROW, plain stores), with every option, every reduction, in place too
    rng = np.random.default_rng(5)
    item = np.dtype(dtype).itemsize
    long_c = L.STREAM_ROW + 5
    for C in (1000, long_c):
        N = L.STREAM_MIN_BYTES // (item * C) + 3
        z, t = ce_sample(N, C, dtype, target_kind, rng)
        for o in CE_OPTIONS:
            if target_kind == "prob" and "ignore_index" in o:
                continue
            if C == long_c and o:
                continue  # the long rows only need their plain-store path once
            opts = _ce_opts(o, C, dtype, rng)
            for reduction in ("mean", "sum", "none"):
                rl, rg = ref_softmax_ce(z, t, reduction=reduction, **opts)
                for in_place in (False, True):
                    work = z.copy()
                    out = work if in_place else np.full_like(z, np.nan)
                    loss, grad = loss_and_grad("softmax_ce", work, t, reduction=reduction,
                                               out=out, **opts)
                    what = f"{target_kind} {N}x{C} {reduction} {sorted(opts)} in_place={in_place}"
                    assert grad is out
                    assert_close(loss, rl, dtype, what + " loss")
                    assert_close(grad, rg, dtype, what + " grad")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", STREAMED + ["bce", "bce_logits", "lp"])
def test_gradient_written_over_the_prediction(name, dtype):
    # out=pred: the kernels see the overlap and go through the stack buffer (LLVM would
    # otherwise fall back to a scalar loop); small, and past the streaming threshold
    rng = np.random.default_rng(8)
    opts = {"lp": {"p": 3.0}}.get(name, OPTIONS.get(name, {}))
    for n in (1000, L.STREAM_MIN_BYTES // np.dtype(dtype).itemsize + 5):
        p, t = sample(name, (n,), dtype, rng)
        for reduction in ("mean", "sum", "none"):
            rl, rg = ref_elementwise(name, p.astype(np.float64), t.astype(np.float64), **opts)
            rl, rg = reduce_ref(rl, rg, reduction)
            work = p.copy()
            loss, grad = loss_and_grad(name, work, t, reduction=reduction, out=work, **opts)
            assert grad is work
            assert_close(loss, rl, dtype, f"{name} {reduction} n={n} loss")
            assert_close(grad, rg, dtype, f"{name} {reduction} n={n} grad")


def test_intrinsics_into_a_strided_destination():
    # not C-contiguous: plain stores element by element, the same values
    src = np.arange(100, dtype=np.float32) - 50
    backing = np.full(400, -7.0, np.float32)
    _copy(backing[::3], 2, src, 90)
    expect = np.full_like(backing, -7.0)
    expect[::3][2:92] = src[:90]
    np.testing.assert_array_equal(backing, expect)
    backing[:] = -7.0
    _scale(backing[1::2], src, 100, np.float32(0.5), 7, np.float32(9.0))
    expect = np.full_like(backing, -7.0)
    expect[1::2][:100] = np.float32(0.5) * src
    expect[1::2][7] = 9.0
    np.testing.assert_array_equal(backing, expect)


def test_kernels_called_directly_with_strided_outputs():
    # a vendored module's kernels take what their calling convention does not promise, too
    rng = np.random.default_rng(9)
    n = L.STREAM_MIN_BYTES // 4 + 11
    p, t = sample("mse", (n,), np.float32, rng)
    backing = np.zeros(2 * n, np.float32)
    loss = L.mse_mean_f32(p, t, backing[::2])
    rl, rg = reduce_ref(*ref_elementwise("mse", p.astype(np.float64), t.astype(np.float64)), "mean")
    assert_close(loss, rl, np.float32, "mse loss, strided grad")
    assert_close(backing[::2], rg, np.float32, "mse grad, strided")
    assert not backing[1::2].any()
    z, lab = ce_sample(1100, 1000, np.float32, "index", rng)
    grad = np.asfortranarray(np.zeros_like(z))  # rows of the gradient are strided
    loss = L.softmax_ce_index_mean_f32(z, lab, np.ones(1000, np.float32), -100, 0.0, grad)
    rl, rg = ref_softmax_ce(z, lab)
    assert_close(loss, rl, np.float32, "softmax_ce loss, F-ordered grad")
    assert_close(grad, rg, np.float32, "softmax_ce grad, F-ordered")
