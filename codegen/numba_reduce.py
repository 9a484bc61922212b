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
