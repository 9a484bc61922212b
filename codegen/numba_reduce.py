"""Vectorizable reductions for generated Numba kernels (a NaN-propagating max, a reassociable add),
and a request for 512-bit vectors.

LLVM vectorizes a loop that reduces into one scalar (``s += x[k]``, ``m = max(m, x[k])``)
only if it may reorder the operations. The kernels never set the ``reassoc`` fast-math flag on a
whole function: it would let LLVM fold the shift trick of the mathlib's exp (``(t + S) − S``)
and break it. ``REDUCE_SOURCE`` instead gives the two reduction operations their own
instructions, pasted into generated modules next to the mathlib:

* ``add_reassoc(a, b)``: ``fadd reassoc nsz``. Only this addition may be reordered, so a loop
  ``acc = add_reassoc(acc, loss_k)`` vectorizes into lane-wise partial sums (like the manual
  lanes it replaces), while everything else in the loop keeps IEEE order. NaN and ±inf
  propagate through reassociated sums as through ordered ones; only the rounding order differs.
* ``max_propagate_nan(a, b)``: ``llvm.maximum``, IEEE 754-2019 maximum: the larger operand, NaN
  if either is NaN (as ``np.maximum``). LLVM vectorizes a ``maximum`` reduction without the
  ``nnan`` flag, also in a loop that stores (the softmax exp pass, which takes the next row's
  max on the way); ``llvm.maxnum`` (NaN-ignoring), used before, vectorized only in a loop of its
  own. In the softmax kernels a NaN in a row makes m NaN, so the row's loss and gradient are NaN,
  as in PyTorch.

Measured here (1 thread, 1000-float32 rows in L2, ``bench``-style loop, Ice Lake, 256-bit
vectors): row max 1.1 ns/element with ``a if a > m else m`` (scalar, also with every
fast-math flag) → 0.13 ns with ``llvm.maxnum``; row sum 1.07 → 0.11 ns with ``add_reassoc``.
The fused softmax cross-entropy at 8192×1000 went from 10–12 ms to 5–6.5 ms on 2 threads.

A third intrinsic, ``wide_vectors()``, emits no code: it gives the function that calls it the
attribute ``"prefer-vector-width"="512"``. On AVX-512 CPUs LLVM otherwise vectorizes with 256-bit
vectors (its "prefer-256-bit" tuning, chosen for old Skylake-X clock penalties); with 512 bits
the exp/log1p-bound loops do twice the lanes per instruction (bench/bench_losses.py, bce_logits
over 16M float32: 17.4 → 13.5 ms best, 7.4× → 10.9× torch, bench/RESULTS.md before and after).
The loss and activation kernels call it at the top of each parallel block and row helper; on
CPUs without AVX-512 it changes nothing.

``STREAM_SOURCE`` (pasted into the loss and activation modules) holds the output buffers:
``stack_buffer(like, size)``, a scratch array on the stack; ``stream_copy(dst, start, src, n)``,
which writes it out with 64-byte non-temporal stores, and ``stream_scale``, which scales it on
the way (softmax's last pass); ``overlaps(a, b)``, whether an output is written over an input.
A plain store first reads the line it writes from memory, so an output costs twice its bytes;
a streaming store does not (bench/bench_streaming.py, three runs: a triad a = b + s·c over 16M
float32 1.10–1.20× faster, mse 1.13–1.22×, softmax_ce 1.13–1.36×). The memory-bound losses
(mse, mae, smooth_l1, huber) and softmax_ce use it for outputs of at least
``STREAM_MIN_BYTES``; see ``codegen.numba_losses.ElementwiseLoss.stream``. The kernels also
compute a block into a stack buffer when their output overlaps an input (in place), where
LLVM would otherwise fall back to a scalar loop. A strided (1-D) destination or source, which
the calling convention does not promise but a direct caller may pass, is copied element by
element with plain stores.

``PAIRWISE_SOURCE`` (pasted into the loss and optimizer modules) holds ``pairwise_sum``, which
adds a reduction's per-block partial sums in pairs: a mean over 16M float64 elements was 4–15
ULP from the exact value with the 8192 block sums added in order, 0.01–0.17 ULP added in pairs
(bench/accuracy.py; NumPy's pairwise sum of the same losses is as close).

The intrinsics build LLVM IR through llvmlite, which generated modules reach as
``numba.core.cgutils.ir`` so that they import numba, numpy and math only.
"""

REDUCE_SOURCE = r'''
# ---------------------------------------------------------------------------
# Reductions that vectorize (from codegen/numba_reduce.py): only these two
# operations may be reordered; the rest of every kernel keeps IEEE order.
# wide_vectors() asks for 512-bit vectors in the function that calls it.
# ---------------------------------------------------------------------------
from numba.core import cgutils as _cgutils  # noqa: E402  (llvmlite.ir, reached through numba)
from numba.core import types as _types  # noqa: E402
from numba.extending import intrinsic as _intrinsic  # noqa: E402


@_intrinsic
def add_reassoc(typingctx, a, b):
    """a + b as ``fadd reassoc nsz``: a sum reduction over it vectorizes."""
    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1], flags=("reassoc", "nsz"))
    if not isinstance(a, _types.Float) or a != b:
        return None
    return a(a, b), codegen


@_intrinsic
def max_propagate_nan(typingctx, a, b):
    """IEEE maximum (llvm.maximum): the larger of a, b; NaN if either is NaN."""
    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic(
            "llvm.maximum", [ty], _cgutils.ir.FunctionType(ty, [ty, ty]))
        return builder.call(fn, args)
    if not isinstance(a, _types.Float) or a != b:
        return None
    return a(a, b), codegen


@_intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorize the calling function with 512-bit vectors on AVX-512 CPUs.

    LLVM prefers 256-bit vectors there (the "prefer-256-bit" tuning of Skylake-X and Ice
    Lake); the string attribute "prefer-vector-width"="512" lifts that for this function only.
    No effect on CPUs without AVX-512, and no code is emitted."""
    def codegen(context, builder, signature, args):
        try:  # llvmlite's AttributeSet admits only known names; a string attribute prints as is
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except TypeError:  # not a set in some other llvmlite: keep the default width
            pass
        return context.get_dummy_value()
    return _types.none(), codegen
'''


PAIRWISE_SOURCE = r'''
# ---------------------------------------------------------------------------
# The sum of a reduction's per-block partial sums (from codegen/numba_reduce.py).
# ---------------------------------------------------------------------------
@numba.njit(error_model="numpy", cache=CACHE)
def pairwise_sum(partial):
    """Σ partial (1-D float64), added in pairs level by level, overwriting partial.

    Its rounding error grows with log2(n), where an in-order loop's (np.sum in Numba) grows
    with n: a mean over 16M float64 elements (8192 blocks) was 4–15 ULP off summed in order
    (bench/accuracy.py), as NumPy's pairwise sum is well under 1."""
    m = partial.size
    while m > 1:
        h = m // 2
        for k in range(h):  # reads 2k, 2k + 1 >= k: nothing is read after it is overwritten
            partial[k] = partial[2 * k] + partial[2 * k + 1]
        if m % 2:
            partial[h] = partial[m - 1]
            h += 1
        m = h
    return partial[0] if m == 1 else 0.0
'''


STREAM_SOURCE = r'''
# ---------------------------------------------------------------------------
# Output buffers (from codegen/numba_reduce.py): a block computed into a stack
# buffer, then copied out (an output over an input) or written to memory past
# the caches with streaming stores (a large output).
# ---------------------------------------------------------------------------
STREAM_VECTOR_BYTES = 64  # one cache line: a whole line per streaming store, one AVX-512 vector


@numba.njit(inline="always")
def overlaps(a, b):
    """Whether the memory of arrays a and b (C-contiguous) overlaps."""
    a0, b0 = a.ctypes.data, b.ctypes.data
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


@_intrinsic
def stack_buffer(typingctx, like, size):
    """A 1-D C array of ``size`` (a constant) elements of ``like``'s dtype on the stack of the
    calling function: scratch for one block, no allocation. Its contents start undefined."""
    if not isinstance(like, _types.Array) or not isinstance(size, _types.IntegerLiteral):
        return None
    n, arr = size.literal_value, _types.Array(like.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        ir, lty = _cgutils.ir, context.get_data_type(like.dtype)
        intp = context.get_value_type(_types.intp)
        data = _cgutils.alloca_once(builder, lty, size=ir.Constant(intp, n))  # entry block: once
        data.align = STREAM_VECTOR_BYTES
        item = context.get_abi_sizeof(lty)
        ary = context.make_array(arr)(context, builder)
        context.populate_array(ary, data=data, shape=[ir.Constant(intp, n)],
                               strides=[ir.Constant(intp, item)],
                               itemsize=ir.Constant(intp, item), meminfo=None)
        return ary._getvalue()
    return arr(like, size), codegen


def _destination(context, builder, aty, value, start):
    """(pointer to element ``start`` of the 1-D or C-contiguous array ``value``, its stride in
    bytes, or None when it is C-contiguous)."""
    ary = context.make_array(aty)(context, builder, value)
    if aty.layout == "C":
        return builder.gep(ary.data, [start]), None
    intp = context.get_value_type(_types.intp)
    stride = _cgutils.unpack_tuple(builder, ary.strides, 1)[0]
    first = builder.add(builder.ptrtoint(ary.data, intp), builder.mul(start, stride))
    return builder.inttoptr(first, ary.data.type), stride


def _stream_out(context, builder, dtype, d, n, value, stride=None, vectors=True):
    """Store value(k, lanes) at d[k] for k < n: plain stores up to the first 64-byte boundary
    of d, 64-byte vectors marked !nontemporal from there (aligned, as x86 requires), plain
    stores for the rest. value(k, None) is element k; value(k, lanes) the vector from k on.
    A strided destination (``stride`` bytes apart), or a source without vectors, gets plain
    stores element by element."""
    ir = _cgutils.ir
    intp = context.get_value_type(_types.intp)
    item = context.get_abi_sizeof(context.get_data_type(dtype))
    lanes = STREAM_VECTOR_BYTES // item
    const = lambda v: ir.Constant(intp, v)  # noqa: E731
    addr = builder.ptrtoint(d, intp)
    if stride is not None or not vectors:
        step = const(item) if stride is None else stride
        with _cgutils.for_range(builder, n, intp=intp) as loop:
            at = builder.add(addr, builder.mul(loop.index, step))
            builder.store(value(loop.index, None), builder.inttoptr(at, d.type))
        return
    # elements before the first 64-byte boundary (all of them if d is not even
    # element-aligned, as a view into a byte buffer may be)
    to_edge = builder.udiv(builder.and_(builder.neg(addr), const(STREAM_VECTOR_BYTES - 1)),
                           const(item))
    aligned = builder.icmp_unsigned("==", builder.and_(addr, const(item - 1)), const(0))
    head = builder.select(aligned, to_edge, n)
    head = builder.select(builder.icmp_signed("<", n, head), n, head)
    nvec = builder.sdiv(builder.sub(n, head), const(lanes))
    tail = builder.add(head, builder.mul(nvec, const(lanes)))

    def plain(lo, hi):
        with _cgutils.for_range_slice(builder, lo, hi, const(1), intp=intp) as (k, _):
            builder.store(value(k, None), builder.gep(d, [k]))

    plain(const(0), head)
    streaming = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
    with _cgutils.for_range(builder, nvec, intp=intp) as loop:
        k = builder.add(head, builder.mul(loop.index, const(lanes)))
        v = value(k, lanes)
        st = builder.store(v, builder.bitcast(builder.gep(d, [k]), v.type.as_pointer()),
                           align=STREAM_VECTOR_BYTES)
        st.set_metadata("nontemporal", streaming)
    plain(tail, n)


def _source(context, builder, aty, value):
    """(data pointer, stride in bytes, or None when C-contiguous) of a 1-D or C array."""
    ary = context.make_array(aty)(context, builder, value)
    if aty.layout == "C":
        return ary.data, None
    return ary.data, _cgutils.unpack_tuple(builder, ary.strides, 1)[0]


def _load(context, builder, dtype, ptr, k, lanes, stride=None):
    """Element k of ptr (lanes None), or the vector of ``lanes`` elements from k on; element k
    of a source ``stride`` bytes apart."""
    if stride is not None:
        intp = context.get_value_type(_types.intp)
        at = builder.add(builder.ptrtoint(ptr, intp), builder.mul(k, stride))
        return builder.load(builder.inttoptr(at, ptr.type))
    if lanes is None:
        return builder.load(builder.gep(ptr, [k]))
    lty = context.get_data_type(dtype)
    vec = _cgutils.ir.VectorType(lty, lanes).as_pointer()
    return builder.load(builder.bitcast(builder.gep(ptr, [k]), vec),
                        align=context.get_abi_sizeof(lty))


def _streamable(dst, src):
    # 1-D arrays that are not C-contiguous are read and written element by element
    return (isinstance(dst, _types.Array) and isinstance(src, _types.Array)
            and (dst.layout == "C" or dst.ndim == 1) and (src.layout == "C" or src.ndim == 1)
            and dst.dtype == src.dtype)


@_intrinsic
def stream_copy(typingctx, dst, start, src, n):
    """dst.flat[start:start + n] = src[:n] with non-temporal (streaming) vector stores.

    A plain store first reads the destination's cache line from memory (write-allocate), so
    writing an output costs twice its bytes; a streaming store writes the line whole, past the
    caches. LLVM's vectorizer does not emit them (a scalar store marked !nontemporal stays
    scalar), so this copies explicitly (_stream_out). No fence: the threads of a parallel loop
    hand their results over through the thread pool's locked instructions, which drain the
    write-combining buffers (x86), and the calling thread always sees its own stores."""
    if not (_streamable(dst, src) and isinstance(start, _types.Integer)
            and isinstance(n, _types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        start_, n_ = (context.cast(builder, v, t, _types.intp)
                      for v, t in ((args[1], signature.args[1]), (args[3], signature.args[3])))
        d, stride = _destination(context, builder, dst, args[0], start_)
        s, s_stride = _source(context, builder, src, args[2])
        _stream_out(context, builder, dst.dtype, d, n_,
                    lambda k, lanes: _load(context, builder, dst.dtype, s, k, lanes, s_stride),
                    stride, vectors=s_stride is None)
        return context.get_dummy_value()
    return _types.none(dst, start, src, n), codegen


@_intrinsic
def stream_scale(typingctx, dst, src, n, a, fix, v):
    """dst[k] = a * src[k] for k < n, except dst[fix] = v, with streaming stores as
    stream_copy: a row scaled and written out in one pass (softmax's last pass)."""
    if not (_streamable(dst, src) and isinstance(n, _types.Integer) and a == dst.dtype
            and v == dst.dtype and isinstance(fix, _types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ir = _cgutils.ir
        intp = context.get_value_type(_types.intp)
        n_, fix_ = (context.cast(builder, args[i], signature.args[i], _types.intp) for i in (2, 4))
        d, stride = _destination(context, builder, dst, args[0], ir.Constant(intp, 0))
        s, s_stride = _source(context, builder, src, args[1])
        a_, v_ = args[3], args[5]

        def value(k, lanes):
            x = _load(context, builder, dst.dtype, s, k, lanes, s_stride)
            if lanes is None:
                return builder.select(builder.icmp_signed("==", k, fix_), v_,
                                      builder.fmul(a_, x))
            splat = lambda e, t: builder.shuffle_vector(  # noqa: E731
                builder.insert_element(ir.Constant(ir.VectorType(t, lanes), None), e,
                                       ir.Constant(ir.IntType(32), 0)),
                ir.Constant(ir.VectorType(t, lanes), None),
                ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes))
            at = ir.Constant(ir.VectorType(intp, lanes), list(range(lanes)))
            hit = builder.icmp_signed("==", builder.add(splat(k, intp), at), splat(fix_, intp))
            return builder.select(hit, splat(v_, v_.type), builder.fmul(splat(a_, a_.type), x))
        _stream_out(context, builder, dst.dtype, d, n_, value, stride, vectors=s_stride is None)
        return context.get_dummy_value()
    return _types.none(dst, src, n, a, fix, v), codegen
'''

