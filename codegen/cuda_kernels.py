"""CUDA kernels printed from derive's stable forms, and the CuPy modules that load them.

One template per kernel family, each in ``float`` (``_f32``) and ``double`` (``_f64``):

- elementwise losses: ``<loss>_loss_grad_<t>`` — grid-stride loop, each input read once, the
  gradient written and the loss summed in the same kernel (per-thread double sum, warp shuffles,
  one ``atomicAdd`` per block on a double accumulator), or written per element (``none``);
- ``softmax_ce``: ``softmax_ce_warp_<t>`` (one warp per row) and ``softmax_ce_block_<t>`` (one
  block per wide row); online max and sum of exponentials, shuffle reductions, the gradient
  written in the same kernel, with ``weight``, ``ignore_index``, ``label_smoothing`` and
  probability targets; ``softmax_ce_check_labels_<t>`` validates labels on the device;
- activations: ``<act>_forward_<t>``, ``<act>_backward_<t>`` (δ = upstream ⊙ f'(z)) and
  ``<act>_backward_output_<t>`` (the same from the saved output a, where derive gives that form);
- optimizers: one fused in-place kernel per update rule over a flat buffer;
- layers (codegen/cuda_layers.py): batch norm (training/evaluation forward and backward) and
  inverted dropout, one thread per feature / grid-stride over elements.

Every piece of math is a ``__host__ __device__`` function printed by :mod:`codegen.cuda_printer`;
the loops around it are ``__host__ __device__`` too (a span of a grid-stride loop, one pass of a
row), so the whole source except the ``__global__`` wrappers compiles with a host C++ compiler
and the tests run the same text on the CPU. ``python -m codegen.cuda_kernels --update`` rewrites
the committed modules in ``runtime/generated/``; ``--check`` reports drift.
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

import sympy as sp

from derive import registry
from derive.symbols import beta, delta, negative_slope, pos_weight, y, yhat, z

from .cuda_printer import HELPERS, CudaPrintError, device_function

GENERATOR_VERSION = 4  # 4: <f>_bias_forward, an activation fused with a dense layer's bias; 3: softmax_ce confident rows: the argmax's gradient for any target, (wq_r − w q·rest)/s; 2: softmax_ce confident rows (rest summed apart), (m − z_j) + log(s)
DTYPES = ("float", "double")
TAG = {"float": "f32", "double": "f64"}  # kernel-name suffix
FSUF = {"float": "f", "double": ""}  # C math / helper suffix

#: Loss option name (PyTorch's) -> the symbol derive uses for it.
OPTION_SYMBOLS = {"beta": beta, "delta": delta, "pos_weight": pos_weight,
                  "negative_slope": negative_slope}

ELEMENTWISE_LOSSES = ("bce", "bce_logits", "mse", "mae", "smooth_l1", "huber", "lp")
FAMILIES = {
    "losses": ("softmax_ce",) + ELEMENTWISE_LOSSES,
    "activations": ("sigmoid", "tanh", "relu", "leaky_relu"),
    # derive/optim.py's optimizers (every variant of each) and clipping (value; norm = the
    # norm reductions and the scaling kernel)
    "optim": ("sgd", "adagrad", "rmsprop", "adam", "adamw", "clip_grad_value", "clip_grad_norm"),
    # derive/batchnorm.py's layers (codegen/cuda_layers.py)
    "layers": ("batchnorm", "dropout"),
}
ROOT = Path(__file__).resolve().parent.parent
GENERATED = {family: ROOT / "runtime" / "generated" / f"cupy_{family}.py" for family in FAMILIES}

PLATFORM = r"""
// The same text compiles with NVRTC (device) and with a host C++ compiler (the CPU checks):
// only the __global__ kernels below are device-only.
#if defined(__CUDACC__)
#define DC_INFF __int_as_float(0x7f800000)
#define DC_INF __longlong_as_double(0x7ff0000000000000LL)
#else
#include <math.h>
#define __host__
#define __device__
#define DC_INFF HUGE_VALF
#define DC_INF HUGE_VAL
#endif
"""

DEVICE_COMMON = r"""
#if defined(__CUDACC__)
#define DC_FULL_MASK 0xffffffffu
__device__ inline double dc_warp_sum(double x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(DC_FULL_MASK, x, o);
    return x;
}
// Block-wide sum, then one atomicAdd per block. Every thread of the block must call it;
// blockDim.x is a multiple of 32.
__device__ inline void dc_block_sum_atomic(double x, double* acc) {
    __shared__ double partial[32];
    __syncthreads();  // partial may still be read by a previous call
    x = dc_warp_sum(x);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = x;
    __syncthreads();
    if (warp == 0) {
        x = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.0;
        x = dc_warp_sum(x);
        if (lane == 0) atomicAdd(acc, x);
    }
}
// Block-wide maximum of non-negative values (NaN wins), then one atomicMax per block on the
// bits: for doubles with the sign bit clear, the integer order is the numeric order, and a
// positive NaN is above +inf. *acc starts at 0.0.
__device__ inline void dc_block_max_atomic(double x, double* acc) {
    __shared__ double partial[32];
    __syncthreads();
    for (int o = 16; o > 0; o >>= 1) x = dc_max(x, __shfl_xor_sync(DC_FULL_MASK, x, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = x;
    __syncthreads();
    if (warp == 0) {
        x = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) x = dc_max(x, __shfl_xor_sync(DC_FULL_MASK, x, o));
        if (lane == 0)
            atomicMax(reinterpret_cast<unsigned long long*>(acc),
                      (unsigned long long)__double_as_longlong(x));
    }
}
#endif
"""

FINALIZE = Template(r"""
#if defined(__CUDACC__)
// The reduced loss: acc / divisor (divisor from the device when given, e.g. Σ weights).
extern "C" __global__ void dc_finalize_${tn}(const double* acc, const double* divisor_ptr,
                                             double divisor, ${T}* out) {
    if (blockIdx.x == 0 && threadIdx.x == 0)
        out[0] = (${T})(acc[0] / (divisor_ptr ? divisor_ptr[0] : divisor));
}
#endif
""")


# --------------------------------------------------------------------------- specs

@dataclass(frozen=True)
class ElementwiseLoss:
    """What the elementwise-loss template needs from one derivation."""

    name: str
    pred: sp.Symbol  # yhat or z
    options: tuple[tuple[str, sp.Symbol, float], ...]  # (option name, symbol, default)
    loss: sp.Expr
    grad: sp.Expr
    closed_form: str  # the textbook gradient, for the comment above the kernel


def _forms(d) -> dict:
    """The derivation's stable kernel forms; its textbook forms when it has no rewrite."""
    return dict(d.stable)


def elementwise_loss(name: str) -> ElementwiseLoss:
    d = registry.get(name)
    forms = _forms(d)
    pred = next(v for v in (yhat, z) if v in d.wrt and
                (not forms or v in sp.sympify(forms.get("grad", 0)).free_symbols))
    loss = forms.get("loss", d.expr)
    grad = forms.get("grad", d.gradients[pred])
    free = sp.sympify(loss).free_symbols | sp.sympify(grad).free_symbols
    options = tuple((opt, OPTION_SYMBOLS.get(opt) or next(s for s in free if s.name == opt),
                     float(default)) for opt, default in d.options.items())
    return ElementwiseLoss(name, pred, options, loss, grad,
                           f"L = {sp.sstr(d.expr)};  dL/d{pred} = {sp.sstr(d.gradients[pred])}")


# --------------------------------------------------------------------------- elementwise losses

ELEMENTWISE_LOSS = Template(r"""
// Grid-stride span [start, n) in steps of stride: writes grad (times grad_scale) and either the
// loss per element (loss_none) or returns the span's loss sum in double.
__host__ __device__ inline double dc_${kname}_span_${tn}(
        const ${T}* __restrict__ pred, const ${T}* __restrict__ target, long long n,
        long long start, long long stride${opt_params}, ${T} grad_scale,
        ${T}* __restrict__ grad, ${T}* __restrict__ loss_none) {
    double acc = 0.0;
    for (long long i = start; i < n; i += stride) {
        ${T} l, g;
        dc_${name}_${tn}(pred[i], target[i]${elem_args}, &l, &g);
        grad[i] = g * grad_scale;
        if (loss_none) loss_none[i] = l; else acc += (double)l;
    }
    return acc;
}
#if defined(__CUDACC__)
extern "C" __global__ void ${kname}_loss_grad_${tn}(
        const ${T}* __restrict__ pred, const ${T}* __restrict__ target, long long n${opt_params},
        ${T} grad_scale, ${T}* __restrict__ grad, ${T}* __restrict__ loss_none,
        double* __restrict__ loss_acc) {
    const long long start = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    const long long stride = (long long)gridDim.x * blockDim.x;
    const double acc = dc_${kname}_span_${tn}(pred, target, n, start, stride${opt_args},
                                              grad_scale, grad, loss_none);
    if (loss_acc) dc_block_sum_atomic(acc, loss_acc);
}
#endif
""")

#: Options that may also be given per element (an array broadcast to pred's shape, as PyTorch
#: broadcasts pos_weight): the loss then has a second kernel ``<name>_<tag>_loss_grad_<t>``.
ARRAY_OPTIONS = {"bce_logits": ("pos_weight", "pwarray")}


def _variants(spec: ElementwiseLoss) -> list[tuple[str, str | None]]:
    """(kernel base name, the option read from an array or None)."""
    out = [(spec.name, None)]
    if spec.name in ARRAY_OPTIONS:
        opt, tag = ARRAY_OPTIONS[spec.name]
        out.append((f"{spec.name}_{tag}", opt))
    return out


def elementwise_loss_source(spec: ElementwiseLoss, dtype: str) -> str:
    tn, T = TAG[dtype], dtype
    params = [spec.pred, y] + [sym for _, sym, _ in spec.options]
    out = device_function(f"dc_{spec.name}_{tn}", params, {"loss": spec.loss, "grad": spec.grad},
                          dtype, doc=f"{spec.name}: {spec.closed_form}\n"
                                     f"stable form: loss = {sp.sstr(spec.loss)}; "
                                     f"grad = {sp.sstr(spec.grad)}")
    for kname, array_opt in _variants(spec):
        opt_params = "".join(f", const {T}* __restrict__ {sym}" if opt == array_opt
                             else f", {T} {sym}" for opt, sym, _ in spec.options)
        elem_args = "".join(f", {sym}[i]" if opt == array_opt else f", {sym}"
                            for opt, sym, _ in spec.options)
        opt_args = "".join(f", {sym}" for _, sym, _ in spec.options)
        out += ELEMENTWISE_LOSS.substitute(name=spec.name, kname=kname, tn=tn, T=T,
                                           opt_params=opt_params, opt_args=opt_args,
                                           elem_args=elem_args)
    return out


def elementwise_loss_kernels(name: str) -> list[str]:
    return [f"{kname}_loss_grad_{TAG[dt]}" for dt in DTYPES
            for kname, _ in _variants(elementwise_loss(name))]


# --------------------------------------------------------------------------- softmax_ce

SOFTMAX_CE = Template(r"""
// Online (max, sum of exponentials) state of part of a row, and its weighted target mass
// wq = Σ_j w_j q_j.
struct dc_ce_state_${tn} { ${T} m; ${T} s; ${T} wq; };

// Add x to (m, s) = (max, Σ exp(z − m)): rescale s when the max grows.
__host__ __device__ inline void dc_softmax_ce_push_${tn}(${T}& m, ${T}& s, ${T} x) {
    ${T} e;
    if (x > m) { dc_softmax_ce_shifted_exp_${tn}(m, x, &e); s = s * e + (${T})1; m = x; }
    else if (x == m) { s += (${T})1; }  // also −inf == −inf, where exp(x − m) would be NaN
    else { dc_softmax_ce_shifted_exp_${tn}(x, m, &e); s += e; }  // NaN x makes s NaN
}

// Merge two partial states (associative; the empty state is {−inf, 0, 0}).
__host__ __device__ inline dc_ce_state_${tn} dc_softmax_ce_combine_${tn}(dc_ce_state_${tn} a,
                                                                       dc_ce_state_${tn} b) {
    dc_ce_state_${tn} r;
    r.m = dc_max${fs}(a.m, b.m);
    r.wq = a.wq + b.wq;
    if (r.m == -DC_INF${fs_upper}) { r.s = a.s + b.s; return r; }
    ${T} ea, eb;
    dc_softmax_ce_shifted_exp_${tn}(a.m, r.m, &ea);
    dc_softmax_ce_shifted_exp_${tn}(b.m, r.m, &eb);
    r.s = a.s * ea + b.s * eb;
    return r;
}

// Target probability of class j: the label-smoothed one-hot, or the smoothed given q_j.
__host__ __device__ inline ${T} dc_softmax_ce_target_${tn}(const ${T}* __restrict__ q,
        long long label, long long j, ${T} eps, ${T} C) {
    const ${T} t = q ? q[j] : (j == label ? (${T})1 : (${T})0);
    ${T} out;
    dc_softmax_ce_smoothed_target_${tn}(t, eps, C, &out);
    return out;
}

// Pass 1 over the columns lane, lane + width, ... of one row: (max, sum exp) and wq; the
// logits are kept in cache (when given) so that pass 2 does not read them again.
__host__ __device__ inline dc_ce_state_${tn} dc_softmax_ce_pass1_${tn}(
        const ${T}* __restrict__ z, const ${T}* __restrict__ q, long long label,
        const ${T}* __restrict__ w, ${T} eps, long long C, long long lane, long long width,
        ${T}* __restrict__ cache) {
    dc_ce_state_${tn} st = {-DC_INF${fs_upper}, (${T})0, (${T})0};
    for (long long j = lane; j < C; j += width) {
        const ${T} x = z[j];
        if (cache) cache[j] = x;
        dc_softmax_ce_push_${tn}(st.m, st.s, x);
        st.wq += (w ? w[j] : (${T})1) * dc_softmax_ce_target_${tn}(q, label, j, eps, (${T})C);
    }
    return st;
}

// A confident row: the row max holds almost all the mass, s = 1 + rest < 1.25 (a tie gives
// s >= 2). s rounds rest's digits away (float: rest < 6e-8 is lost entirely), so such a row
// sums rest apart (dc_softmax_ce_rest) for log(s) = log1p(rest) and the label's p − 1.
__host__ __device__ inline bool dc_softmax_ce_confident_${tn}(${T} s) { return s < (${T})1.25; }

// rest = Σ_{z_j < m} e^(z_j − m) over the columns lane, lane + width, ... (the row max's
// e^0 = 1 left out), in double; read from cache when given (this thread wrote those columns).
// *wq_r = Σ_{z_j < m} w_j q_j, the target mass off the row max, for the argmax's gradient
// (in ${T}, as wq: no cancellation in a sum of non-negative terms).
__host__ __device__ inline double dc_softmax_ce_rest_${tn}(
        const ${T}* __restrict__ z, const ${T}* __restrict__ q, long long label,
        const ${T}* __restrict__ w, ${T} eps, long long C, long long lane, long long width,
        const ${T}* __restrict__ cache, ${T} m, ${T}* wq_r) {
    double r = 0.0;
    ${T} a = (${T})0;
    for (long long j = lane; j < C; j += width) {
        const ${T} x = cache ? cache[j] : z[j];
        if (x < m) {
            ${T} e; dc_softmax_ce_shifted_exp_${tn}(x, m, &e); r += (double)e;
            a += (w ? w[j] : (${T})1) * dc_softmax_ce_target_${tn}(q, label, j, eps, (${T})C);
        }
    }
    *wq_r = a;
    return r;
}

// Pass 2, given the whole row's state (and rest = s − 1 and wq_r = Σ_{k≠argmax} w_k q_k summed
// apart on a confident row; not read otherwise): grad_j = (p_j·wq − w_j q_j)·scale, and the span's loss
// Σ_j w_j q_j ((m − z_j) + log s): m − z_j first, else a large m rounds log(s)'s digits away
// (terms with w_j q_j = 0 skipped: a −inf logit of another class must not turn 0·inf into NaN).
__host__ __device__ inline double dc_softmax_ce_pass2_${tn}(
        const ${T}* __restrict__ z, const ${T}* __restrict__ q, long long label,
        const ${T}* __restrict__ w, ${T} eps, long long C, long long lane, long long width,
        const ${T}* __restrict__ cache, dc_ce_state_${tn} st, ${T} rest, ${T} wq_r, ${T} scale,
        ${T}* __restrict__ grad) {
    const bool confident = dc_softmax_ce_confident_${tn}(st.s);
    ${T} log_s;
    if (confident) dc_softmax_ce_log_s_confident_${tn}(rest, &log_s);
    else dc_softmax_ce_log_s_${tn}(st.s, &log_s);
    // the argmax's gradient wq/s − w_j q_j (1/s − 1 for a one-hot target): (wq_r − w_j q_j rest)/s
    double loss = 0.0;
    for (long long j = lane; j < C; j += width) {
        const ${T} x = cache ? cache[j] : z[j];
        const ${T} wj = w ? w[j] : (${T})1;
        const ${T} qj = dc_softmax_ce_target_${tn}(q, label, j, eps, (${T})C);
        ${T} mz, g;
        dc_softmax_ce_terms_${tn}(x, st.m, st.s, st.wq, wj, qj, &mz, &g);
        if (confident && x == st.m)  // the one e_j = 1 (a tie gives s >= 2)
            dc_softmax_ce_weighted_grad_argmax_confident_${tn}(wq_r, wj, qj, rest, st.s, &g);
        grad[j] = g * scale;
        const ${T} nll = mz + log_s;
        const ${T} wqj = wj * qj;
        if (wqj != (${T})0) loss += (double)(wqj * nll);  // the product in ${T}, the sum in double
    }
    return loss;
}

// Label check over a grid-stride span: the first position (from start) whose label is outside
// [0, C) and not ignore_index goes to *first_bad (left alone when there is none); returns
// Σ weight[label] (or the count) over the kept labels.
__host__ __device__ inline double dc_softmax_ce_check_span_${tn}(
        const long long* __restrict__ labels, long long N, long long C, long long ignore_index,
        const ${T}* __restrict__ weight, long long start, long long stride, long long* first_bad) {
    double kept = 0.0;
    for (long long i = start; i < N; i += stride) {
        const long long c = labels[i];
        if (c == ignore_index) continue;
        if (c < 0 || c >= C) { if (i < *first_bad) *first_bad = i; }
        else kept += weight ? (double)weight[c] : 1.0;
    }
    return kept;
}

#if defined(__CUDACC__)
__device__ inline ${T} dc_softmax_ce_warp_sum_${tn}(${T} x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(DC_FULL_MASK, x, o);
    return x;
}

__device__ inline dc_ce_state_${tn} dc_softmax_ce_warp_combine_${tn}(dc_ce_state_${tn} st) {
    for (int o = 16; o > 0; o >>= 1) {
        dc_ce_state_${tn} other;
        other.m = __shfl_xor_sync(DC_FULL_MASK, st.m, o);
        other.s = __shfl_xor_sync(DC_FULL_MASK, st.s, o);
        other.wq = __shfl_xor_sync(DC_FULL_MASK, st.wq, o);
        st = dc_softmax_ce_combine_${tn}(st, other);
    }
    // Lane 0's result for every lane: contracted multiply-adds may round lanes differently.
    st.m = __shfl_sync(DC_FULL_MASK, st.m, 0);
    st.s = __shfl_sync(DC_FULL_MASK, st.s, 0);
    st.wq = __shfl_sync(DC_FULL_MASK, st.wq, 0);
    return st;
}

// One warp per row; blockDim.x = 32 · rows per block; with use_cache, dynamic shared memory
// holds rows-per-block · C logits.
extern "C" __global__ void softmax_ce_warp_${tn}(
        const ${T}* __restrict__ z, long long N, long long C,
        const long long* __restrict__ labels, const ${T}* __restrict__ probs,
        const ${T}* __restrict__ weight, long long ignore_index, ${T} eps,
        const double* __restrict__ divisor, ${T} grad_scale, int use_cache,
        ${T}* __restrict__ grad, ${T}* __restrict__ loss_none, double* __restrict__ loss_acc) {
    extern __shared__ __align__(16) unsigned char dc_smem[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    ${T}* cache = use_cache ? reinterpret_cast<${T}*>(dc_smem) + (long long)warp * C : nullptr;
    const ${T} scale = divisor ? (${T})(1.0 / divisor[0]) : grad_scale;
    double acc = 0.0;
    for (long long row = (long long)blockIdx.x * warps + warp; row < N;
         row += (long long)gridDim.x * warps) {
        const ${T}* zr = z + row * C;
        ${T}* gr = grad + row * C;
        const long long label = labels ? labels[row] : -1;
        const ${T}* qr = probs ? probs + row * C : nullptr;
        if (labels && label == ignore_index) {
            for (long long j = lane; j < C; j += 32) gr[j] = (${T})0;
            if (loss_none && lane == 0) loss_none[row] = (${T})0;
            continue;
        }
        dc_ce_state_${tn} st = dc_softmax_ce_pass1_${tn}(zr, qr, label, weight, eps, C, lane, 32, cache);
        st = dc_softmax_ce_warp_combine_${tn}(st);
        ${T} rest = (${T})0, wq_r = (${T})0;
        if (dc_softmax_ce_confident_${tn}(st.s)) {  // the same st in every lane: uniform
            ${T} a;
            rest = (${T})dc_warp_sum(dc_softmax_ce_rest_${tn}(zr, qr, label, weight, eps, C, lane,
                                                              32, cache, st.m, &a));
            wq_r = dc_softmax_ce_warp_sum_${tn}(a);
        }
        double l = dc_softmax_ce_pass2_${tn}(zr, qr, label, weight, eps, C, lane, 32, cache, st,
                                             rest, wq_r, scale, gr);
        l = dc_warp_sum(l);
        if (lane == 0) {
            if (loss_none) loss_none[row] = (${T})l;
            acc += l;
        }
    }
    if (loss_acc) dc_block_sum_atomic(acc, loss_acc);
}

// One block per row (wide rows); with use_cache, dynamic shared memory holds the C logits.
extern "C" __global__ void softmax_ce_block_${tn}(
        const ${T}* __restrict__ z, long long N, long long C,
        const long long* __restrict__ labels, const ${T}* __restrict__ probs,
        const ${T}* __restrict__ weight, long long ignore_index, ${T} eps,
        const double* __restrict__ divisor, ${T} grad_scale, int use_cache,
        ${T}* __restrict__ grad, ${T}* __restrict__ loss_none, double* __restrict__ loss_acc) {
    extern __shared__ __align__(16) unsigned char dc_smem[];
    __shared__ dc_ce_state_${tn} red[32];
    __shared__ double lred[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    ${T}* cache = use_cache ? reinterpret_cast<${T}*>(dc_smem) : nullptr;
    const ${T} scale = divisor ? (${T})(1.0 / divisor[0]) : grad_scale;
    double acc = 0.0;
    for (long long row = blockIdx.x; row < N; row += gridDim.x) {
        const ${T}* zr = z + row * C;
        ${T}* gr = grad + row * C;
        const long long label = labels ? labels[row] : -1;
        const ${T}* qr = probs ? probs + row * C : nullptr;
        if (labels && label == ignore_index) {
            for (long long j = threadIdx.x; j < C; j += blockDim.x) gr[j] = (${T})0;
            if (loss_none && threadIdx.x == 0) loss_none[row] = (${T})0;
            continue;
        }
        dc_ce_state_${tn} st = dc_softmax_ce_pass1_${tn}(zr, qr, label, weight, eps, C,
                                                         threadIdx.x, blockDim.x, cache);
        st = dc_softmax_ce_warp_combine_${tn}(st);
        __syncthreads();  // red is free again
        if (lane == 0) red[warp] = st;
        __syncthreads();
        st = red[0];  // every thread merges in the same order: the same state everywhere
        for (int k = 1; k < warps; ++k) st = dc_softmax_ce_combine_${tn}(st, red[k]);
        ${T} rest = (${T})0, wq_r = (${T})0;
        if (dc_softmax_ce_confident_${tn}(st.s)) {  // the same st in every thread: uniform
            ${T} a;
            double r = dc_warp_sum(dc_softmax_ce_rest_${tn}(zr, qr, label, weight, eps, C,
                                                            threadIdx.x, blockDim.x, cache,
                                                            st.m, &a));
            a = dc_softmax_ce_warp_sum_${tn}(a);
            __syncthreads();  // every thread has read red (the row's state): wq_r's sums go there
            if (lane == 0) { lred[warp] = r; red[warp].wq = a; }
            __syncthreads();
            r = 0.0;
            a = (${T})0;
            for (int k = 0; k < warps; ++k) { r += lred[k]; a += red[k].wq; }
            rest = (${T})r;
            wq_r = a;
            __syncthreads();  // every thread has read lred before pass 2's sums go there
        }
        double l = dc_softmax_ce_pass2_${tn}(zr, qr, label, weight, eps, C, threadIdx.x,
                                             blockDim.x, cache, st, rest, wq_r, scale, gr);
        l = dc_warp_sum(l);
        if (lane == 0) lred[warp] = l;
        __syncthreads();
        if (threadIdx.x == 0) {
            l = 0.0;
            for (int k = 0; k < warps; ++k) l += lred[k];
            if (loss_none) loss_none[row] = (${T})l;
            acc += l;
        }
    }
    if (loss_acc) dc_block_sum_atomic(acc, loss_acc);
}

// Labels outside [0, C) (other than ignore_index): the first bad position goes to first_bad
// (initialised to N); divisor += Σ w[label] over the kept rows (the 'mean' denominator).
extern "C" __global__ void softmax_ce_check_labels_${tn}(
        const long long* __restrict__ labels, long long N, long long C, long long ignore_index,
        const ${T}* __restrict__ weight, unsigned long long* first_bad, double* divisor) {
    long long bad = N;
    const double kept = dc_softmax_ce_check_span_${tn}(
        labels, N, C, ignore_index, weight, blockIdx.x * (long long)blockDim.x + threadIdx.x,
        (long long)gridDim.x * blockDim.x, &bad);
    if (bad < N) atomicMin(first_bad, (unsigned long long)bad);
    dc_block_sum_atomic(kept, divisor);
}
#endif
""")


def softmax_ce_source(dtype: str) -> str:
    from derive import losses as L  # the index-form symbols of softmax_ce's kernel forms

    d = registry.get("softmax_ce")
    f = d.stable
    tn = TAG[dtype]
    exp_fn = device_function(f"dc_softmax_ce_shifted_exp_{tn}", [L.zj, L.m],
                             {"e": f["shifted_exp"]}, dtype,
                             doc="softmax_ce: e^(z_j − m), the max-shifted exponential")
    tgt_fn = device_function(f"dc_softmax_ce_smoothed_target_{tn}", [L.onehot_j, L.eps, L.C],
                             {"q": f["smoothed_target"]}, dtype,
                             doc="label smoothing: q_j = (1 − ε)·onehot_j + ε/C")
    # ℓ_j = (m − z_j) + log(s): the kernel adds log(s) (log1p(rest) on a confident row) to
    # m − z_j, else a large m rounds a small log(s)'s digits away. Checked to be derive's forms.
    mz = L.m + sp.diff(f["nll_term"], L.zj) * L.zj
    log_s, log_s_conf = f["lse"] - L.m, f["lse_confident"] - L.m
    for form, ls in ((f["nll_term"], log_s), (f["nll_term_confident"], log_s_conf)):
        if sp.expand(form - (mz + ls)) != 0 or ls.has(L.zj, L.m):
            raise NotImplementedError(f"softmax_ce: {sp.sstr(form)} is not (m − z_j) + log(s)")
    terms_fn = device_function(
        f"dc_softmax_ce_terms_{tn}", [L.zj, L.m, L.s, L.wq, L.wj, L.qj],
        {"m_minus_z": mz, "grad": f["weighted_grad"]}, dtype,
        doc=f"softmax_ce: {sp.sstr(d.expr)};  dL/dz_i = {sp.sstr(next(iter(d.gradients.values())))}\n"
            f"stable: -log softmax(z)_j = {sp.sstr(f['nll_term'])} = (m - z_j) + log(s), "
            "s = Σ_k exp(z_k - m);\n"
            "weighted: dL/dz_j = softmax(z)_j·Σ_k w_k q_k − w_j q_j")
    log_fns = (device_function(f"dc_softmax_ce_log_s_{tn}", [L.s], {"log_s": log_s}, dtype,
                               doc=f"softmax_ce: log(s) = lse - m = {sp.sstr(log_s)}")
               + device_function(f"dc_softmax_ce_log_s_confident_{tn}", [L.s_rest],
                                 {"log_s": log_s_conf}, dtype,
                                 doc=f"softmax_ce, a confident row (s = 1 + r_s, r_s summed "
                                     f"apart): log(s) = {sp.sstr(log_s_conf)}")
               + device_function(f"dc_softmax_ce_grad_argmax_confident_{tn}", [L.s_rest, L.s],
                                 {"g": f["grad_argmax_confident"]}, dtype,
                                 doc="softmax_ce, a confident row: the argmax class's "
                                     f"p - 1 = 1/s - 1 = {sp.sstr(f['grad_argmax_confident'])}")
               + device_function(f"dc_softmax_ce_weighted_grad_argmax_confident_{tn}",
                                 [L.wq_rest, L.wj, L.qj, L.s_rest, L.s],
                                 {"g": f["weighted_grad_argmax_confident"]}, dtype,
                                 doc="softmax_ce, a confident row: the argmax class's "
                                     "p·wq - w q = wq/s - w q, wq_r = Σ_{k≠argmax} w_k q_k: "
                                     f"{sp.sstr(f['weighted_grad_argmax_confident'])}"))
    body = SOFTMAX_CE.substitute(tn=tn, T=dtype, fs=FSUF[dtype],
                                 fs_upper="F" if dtype == "float" else "")
    return exp_fn + tgt_fn + terms_fn + log_fns + body


def softmax_ce_kernels() -> list[str]:
    return [f"softmax_ce_{kind}_{TAG[dt]}" for dt in DTYPES
            for kind in ("warp", "block", "check_labels")]


# --------------------------------------------------------------------------- activations

#: (kernel kind, derive's stable key, the variable the form reads)
ACTIVATION_KINDS = (("forward", "forward", z), ("backward", "grad", z),
                    ("backward_output", "grad_output", sp.Symbol("a", real=True)))

ACTIVATION_SPAN = Template(r"""
// ${kind} span: ${what}. NaN in gives NaN out, also where a piecewise form would pick a
// branch (the same rule as the Numba kernels).
__host__ __device__ inline void dc_${name}_${kind}_span_${tn}(const ${T}* __restrict__ x,
        ${upstream_param}${T}* __restrict__ out, long long n, long long start,
        long long stride${opt_params}) {
    for (long long i = start; i < n; i += stride) {
        const ${T} xi = x[i];
        ${T} f;
        dc_${name}_${form}_${tn}(xi${opt_args}, &f);
        if (xi != xi) f = xi;
        out[i] = ${result};
    }
}
#if defined(__CUDACC__)
extern "C" __global__ void ${name}_${kind}_${tn}(const ${T}* __restrict__ x,
        ${upstream_param}${T}* __restrict__ out, long long n${opt_params}) {
    dc_${name}_${kind}_span_${tn}(x, ${upstream_arg}out, n,
        blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x${opt_args});
}
#endif
""")

ACTIVATION_BIAS_SPAN = Template(r"""
// bias_forward span: out = f(z + bias), z an (N, F) array raveled, bias[j] added to column j
// (a dense layer's bias fused into its activation: one pass over z, in place when out is z,
// so z and out are not __restrict__). NaN in gives NaN out, as above.
__host__ __device__ inline void dc_${name}_bias_forward_span_${tn}(const ${T}* x,
        const ${T}* __restrict__ bias, ${T}* out, long long n, long long F, long long start,
        long long stride${opt_params}) {
    for (long long i = start; i < n; i += stride) {
        const ${T} xi = x[i] + bias[i % F];
        ${T} f;
        dc_${name}_forward_${tn}(xi${opt_args}, &f);
        if (xi != xi) f = xi;
        out[i] = f;
    }
}
#if defined(__CUDACC__)
extern "C" __global__ void ${name}_bias_forward_${tn}(const ${T}* x,
        const ${T}* __restrict__ bias, ${T}* out, long long n, long long F${opt_params}) {
    dc_${name}_bias_forward_span_${tn}(x, bias, out, n, F,
        blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x${opt_args});
}
#endif
""")


def _activation_kinds(d):
    return [(kind, form, var) for kind, form, var in ACTIVATION_KINDS if form in d.stable]


def activation_source(name: str, dtype: str) -> str:
    d = registry.get(name)
    tn, T = TAG[dtype], dtype
    options = [(opt, OPTION_SYMBOLS[opt]) for opt in d.options]
    opt_params = "".join(f", {T} {sym}" for _, sym in options)
    opt_args = "".join(f", {sym}" for _, sym in options)
    zsym = d.wrt[0]
    out = []
    for kind, form, var in _activation_kinds(d):
        expr = d.stable[form]
        if var != z:  # the output form reads a
            var = next(v for v in expr.free_symbols if v.name == "a")
        out.append(device_function(
            f"dc_{name}_{form}_{tn}", [var] + [sym for _, sym in options], {"f": expr}, dtype,
            doc=f"{name} {form}: {sp.sstr(expr)}"
                + (f"\n(d{sp.sstr(d.quantity)}/d{zsym} = {sp.sstr(d.gradient(zsym))})"
                   if form != "forward" else f"\n({sp.sstr(d.quantity)} = {sp.sstr(d.expr)})")))
        backward = kind != "forward"
        out.append(ACTIVATION_SPAN.substitute(
            name=name, kind=kind, form=form, tn=tn, T=T, opt_params=opt_params, opt_args=opt_args,
            what="out = upstream * f'" + ("(z) from a = f(z)" if var != z else "(z)")
                 if backward else "out = f(z)",
            upstream_param=f"const {T}* __restrict__ upstream, " if backward else "",
            upstream_arg="upstream, " if backward else "",
            result="upstream[i] * f" if backward else "f"))
        if kind == "forward":  # its form, after the dense layer's bias
            out.append(ACTIVATION_BIAS_SPAN.substitute(name=name, tn=tn, T=T,
                                                       opt_params=opt_params, opt_args=opt_args))
    return "".join(out)


def activation_kernels(name: str) -> list[str]:
    d = registry.get(name)
    kinds = [kind for kind, _, _ in _activation_kinds(d)]
    kinds += ["bias_forward"] if "forward" in kinds else []
    return [f"{name}_{kind}_{TAG[dt]}" for dt in DTYPES for kind in kinds]


# --------------------------------------------------------------------------- optimizers

OPTIM_SPAN = Template(r"""
// Grid-stride span of the in-place update: each array element read once and written once.
__host__ __device__ inline void dc_${name}_span_${tn}(${array_params}, long long n,
        long long start, long long stride${scalar_params}) {
    for (long long i = start; i < n; i += stride) {
${loads}
        dc_${name}_${tn}(${call_args});
${stores}
    }
}
#if defined(__CUDACC__)
extern "C" __global__ void ${name}_${tn}(${array_params}, long long n${scalar_params}) {
    dc_${name}_span_${tn}(${array_args}, n, blockIdx.x * (long long)blockDim.x + threadIdx.x,
                          (long long)gridDim.x * blockDim.x${scalar_args});
}
#endif
""")

NORM = Template(r"""
// ${name}: R = ${combine} of ${term_text} over every element, in double (the norm is then
// ${finish_text}, computed on the host from R).
__host__ __device__ inline double dc_${name}_span_${tn}(const ${T}* __restrict__ grad, long long n,
        long long start, long long stride${p_param}) {
    double acc = 0.0;
    for (long long i = start; i < n; i += stride) {
        const double g = (double)grad[i];
        const double x = ${term};
        ${update}
    }
    return acc;
}
#if defined(__CUDACC__)
extern "C" __global__ void ${name}_${tn}(const ${T}* __restrict__ grad, long long n${p_param},
                                         double* __restrict__ acc) {
    const double part = dc_${name}_span_${tn}(grad, n,
        blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x${p_arg});
    dc_block_${combine}_atomic(part, acc);
}
#endif
""")


def optimizer_rules(name: str):
    """(update rules, norm rules) of one optimizer name of derive.optim."""
    from derive import optim

    if name == "clip_grad_norm":
        return [optim.clip_scale_rule()], list(optim.norm_rules())
    if name == "clip_grad_value":
        return [optim.clip_value_rule()], []
    return list(optim.variants(name)), []


def _rule_arrays(rule):
    """(array name, element symbol, written?) in kernel argument order."""
    if rule.grad is None:  # clipping: the gradient is the buffer updated in place
        return [("grad", rule.param, True)]
    return ([("param", rule.param, True), ("grad", rule.grad, False)]
            + [(key, sym, True) for sym, key in rule.state])


def update_rule_source(rule, dtype: str) -> str:
    from codegen.cuda_printer import printer

    p, tn, T = printer(dtype), TAG[dtype], dtype
    arrays = _rule_arrays(rule)
    written = {sym for _, sym, w in arrays if w}
    fn_params = [f"{T}& {sym}" if w else f"{T} {sym}" for _, sym, w in arrays]
    fn_params += [f"{T} {sym}" for sym in rule.scalar_symbols]
    lines = [f"// {rule.name}: {rule.title} ({', '.join(f'{k}={v}' for k, v in rule.options.items())})",
             f"// derive.optim rule {rule.name!r}, per element in torch.optim's order; state written "
             f"back: {', '.join(rule.state_keys) or 'none'}",
             f"__host__ __device__ inline void dc_{rule.name}_{tn}({', '.join(fn_params)}) {{"]
    for target, expr in rule.assignments:  # no CSE: keep torch's rounding order
        code = p.doprint(expr)
        lines.append(f"    {target} = {code};" if target in written
                     else f"    const {T} {target} = {code};")
    lines.append("}")
    array_params = ", ".join(f"{T}* __restrict__ {a}" if w else f"const {T}* __restrict__ {a}"
                             for a, _, w in arrays)
    loads = "\n".join(f"        {'' if w else 'const '}{T} {sym} = {a}[i];" for a, sym, w in arrays)
    stores = "\n".join(f"        {a}[i] = {sym};" for a, sym, w in arrays if w)
    scalars = [str(sym) for sym in rule.scalar_symbols]
    return "\n".join(lines) + "\n" + OPTIM_SPAN.substitute(
        name=rule.name, tn=tn, array_params=array_params, loads=loads, stores=stores,
        call_args=", ".join([str(sym) for _, sym, _ in arrays] + scalars),
        scalar_params="".join(f", {T} {x}" for x in scalars),
        scalar_args="".join(f", {x}" for x in scalars),
        array_args=", ".join(a for a, _, _ in arrays))


def norm_source(nr, dtype: str) -> str:
    from derive.optim import g as g_sym
    from derive.optim import p_norm

    from codegen.cuda_printer import printer

    term = nr.term.xreplace({g_sym: sp.Symbol("g", real=True), p_norm: sp.Symbol("p", positive=True)})
    update = ("acc += x;" if nr.combine == "sum"
              else "acc = (x > acc || x != x) ? x : acc;  // NaN once seen stays")
    has_p = nr.p == "p"
    return NORM.substitute(
        name=nr.name, tn=TAG[dtype], T=dtype, combine=nr.combine, term_text=sp.sstr(nr.term),
        finish_text=sp.sstr(nr.finish), term=printer("double").doprint(term), update=update,
        p_param=", double p" if has_p else "", p_arg=", p" if has_p else "")


def optimizer_source(name: str, dtype: str) -> str:
    rules, norms = optimizer_rules(name)
    return "".join([update_rule_source(r, dtype) for r in rules] + [norm_source(n, dtype) for n in norms])


def optimizer_kernels(name: str) -> list[str]:
    rules, norms = optimizer_rules(name)
    return [f"{x.name}_{TAG[dt]}" for dt in DTYPES for x in [*rules, *norms]]


# --------------------------------------------------------------------------- sources and modules

def family_of(name: str) -> str:
    for family, members in FAMILIES.items():
        if name in members:
            return family
    raise NotImplementedError(f"cuda backend: no kernel template for {name!r} "
                              f"(families: {', '.join(f'{k}: {v}' for k, v in FAMILIES.items())})")


def _kernel_source(name: str, dtype: str) -> str:
    family = family_of(name)
    if name == "softmax_ce":
        return softmax_ce_source(dtype)
    if family == "losses":
        return elementwise_loss_source(elementwise_loss(name), dtype)
    if family == "optim":
        return optimizer_source(name, dtype)
    if family == "activations":
        return activation_source(name, dtype)
    if family == "layers":
        from .cuda_layers import layer_source

        return layer_source(name, dtype)
    raise NotImplementedError(f"cuda backend: the {family} template is not written yet ({name})")


def kernel_names(name: str) -> list[str]:
    if name == "softmax_ce":
        return softmax_ce_kernels()
    if family_of(name) == "losses":
        return elementwise_loss_kernels(name)
    if family_of(name) == "optim":
        return optimizer_kernels(name)
    if family_of(name) == "activations":
        return activation_kernels(name)
    if family_of(name) == "layers":
        from .cuda_layers import layer_kernels

        return layer_kernels(name)
    raise NotImplementedError(f"cuda backend: no kernels for {name!r} yet")


#: Registry names whose kernels another family's template writes (as codegen.numba_optim's
#: FAMILIES: seed 001's momentum is SGD with momentum).
KERNEL_NAMES = {"momentum": "sgd"}


def canonical_names(names) -> list[str]:
    out = [KERNEL_NAMES.get(n, n) for n in (registry.canonical(n) for n in names)]
    for n in out:
        family_of(n)
    return list(dict.fromkeys(out))


def cuda_source(names) -> str:
    """The CUDA C source of every kernel of ``names`` (float and double)."""
    names = canonical_names(names)
    parts = [PLATFORM, HELPERS, DEVICE_COMMON]
    for dtype in DTYPES:
        parts.append(FINALIZE.substitute(tn=TAG[dtype], T=dtype))
    for name in names:
        for dtype in DTYPES:
            parts.append(f"\n// ======================================== {name} ({dtype})\n")
            parts.append(_kernel_source(name, dtype))
    return "".join(parts).lstrip("\n")


def all_kernel_names(names) -> list[str]:
    out = [f"dc_finalize_{TAG[dt]}" for dt in DTYPES]
    for n in canonical_names(names):
        out += kernel_names(n)
    return out


def expression_hash(names) -> str:
    """sha256 of the expressions printed (srepr of each derivation's kernel forms)."""
    h = hashlib.sha256()
    for n in canonical_names(names):
        if family_of(n) == "optim":  # the update rules' assignments and the norms' terms
            rules, norms = optimizer_rules(n)
            forms = {f"{r.name}:{k}:{tgt}": e for r in rules
                     for k, (tgt, e) in enumerate(r.assignments)}
            forms.update({f"{nr.name}:term": nr.term for nr in norms})
        else:
            d = registry.get(n)
            forms = _forms(d) or {"expr": d.expr, **{str(k): v for k, v in d.gradients.items()}}
        for key in sorted(forms):
            h.update(f"{n}:{key}:{sp.srepr(forms[key])}\n".encode())
    return h.hexdigest()[:16]


MODULE = Template('''\
"""CuPy CUDA kernels, float and double — generated, do not edit.

Generated by derivecli's CUDA backend (codegen.cuda_kernels, generator version ${version})
from the derivations: ${names_text}.
Expression hash: ${hash} (sha256 of the printed kernel forms).
Regenerate: ${command}

SOURCE is compiled with cupy.RawModule on first use (CuPy caches the binary on disk);
kernel(name) looks a kernel up by name (KERNELS lists them).

Launching (runtime/cuda_dispatch.py is the reference caller): C-contiguous device arrays of
the kernel's type (_f32: float, _f64: double), scalars as its signature in SOURCE declares
them (lengths as long long). A NULL pointer (an optional array left out, e.g. loss_acc or
loss_none, softmax_ce's labels, probs, weight or divisor, dc_finalize's divisor_ptr) is passed
as numpy.uint64(0), not None: CuPy sends None as the address of an empty argument, which the
kernel reads as a non-NULL garbage pointer. Grid-stride kernels take any grid; blocks are a
multiple of 32 threads (block reductions use whole warps). A loss kernel adds its sum into
loss_acc, a zeroed double on the device (NULL, with a loss_none array, for reduction 'none'), scales
the gradient by grad_scale (an elementwise 'mean': 1/n; softmax_ce may divide by a divisor
on the device instead); dc_finalize_<t> divides the sum. Kernels do not check sizes or
class labels: run softmax_ce_check_labels_<t> before softmax_ce.
"""
GENERATOR_VERSION = ${version}
EXPRESSION_HASH = "${hash}"
DERIVATIONS = ${names_tuple}
KERNELS = ${kernels_tuple}

SOURCE = r"""
${source}"""

_module = None


def module():
    """The compiled cupy.RawModule (imports CuPy; compiles for the current device)."""
    global _module
    if _module is None:
        import cupy

        _module = cupy.RawModule(code=SOURCE, options=("--std=c++14",))
    return _module


def kernel(name):
    """The kernel called ``name`` (see KERNELS)."""
    if name not in KERNELS:
        raise KeyError(f"no kernel {name!r} in this module; known: {', '.join(KERNELS)}")
    return module().get_function(name)
''')


def _tuple_text(items) -> str:
    items = list(items)
    if not items:
        return "()"
    return "(\n" + "".join(f"    {x!r},\n" for x in items) + ")"


def generate_module(names=None, command: str | None = None) -> str:
    """A standalone Python module holding the CUDA source of ``names`` (default: every
    derivation with a CUDA template: the losses, activations, optimizers and layers)."""
    names = canonical_names(names or [n for members in FAMILIES.values() for n in members])
    source = cuda_source(names)
    if '"""' in source:
        raise CudaPrintError(sp.Symbol("SOURCE"), 'CUDA source contains """')
    command = command or f"derivecli gen --backend cupy {' '.join(names)} -o FILE.py"
    return MODULE.substitute(
        names_text=", ".join(names), version=GENERATOR_VERSION, hash=expression_hash(names),
        # in the module's docstring: a backslash (a Windows path) or three quotes stay text
        command=command.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'),
        names_tuple=_tuple_text(names), kernels_tuple=_tuple_text(all_kernel_names(names)),
        source=source)


def family_module(family: str) -> str:
    """The committed module of one family (``runtime/generated/cupy_<family>.py``)."""
    return generate_module(FAMILIES[family],
                           command="python -m codegen.cuda_kernels --update")


def available_families() -> list[str]:
    out = []
    for family, members in FAMILIES.items():
        try:
            if members and all(kernel_names(n) for n in members):
                out.append(family)
        except (NotImplementedError, KeyError, registry.UnknownNameError):
            continue
    return out


def drift(family: str) -> str:
    """A unified diff between the committed module and a fresh generation ('' when equal)."""
    path = GENERATED[family]
    fresh = family_module(family)
    old = path.read_text() if path.exists() else ""
    return "".join(difflib.unified_diff(old.splitlines(True), fresh.splitlines(True),
                                        f"{path} (committed)", f"{path} (regenerated)"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codegen.cuda_kernels",
                                 description="Regenerate or check the committed CuPy modules.")
    ap.add_argument("--update", action="store_true", help="rewrite runtime/generated/cupy_*.py")
    ap.add_argument("--check", action="store_true", help="exit 1 and print a diff on drift")
    ap.add_argument("families", nargs="*", help=f"default: {', '.join(FAMILIES)} (those available)")
    args = ap.parse_args(argv)
    families = args.families or available_families()
    status = 0
    for family in families:
        if args.update:
            path = GENERATED[family]
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".py.tmp")
            tmp.write_text(family_module(family))
            tmp.replace(path)
            print(f"wrote {path}")
        else:
            diff = drift(family)
            if diff:
                status = 1
                sys.stdout.write(diff)
            print(f"{family}: {'drift' if diff else 'up to date'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
