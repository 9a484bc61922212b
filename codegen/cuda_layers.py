"""CUDA kernels for batch normalisation and inverted dropout, printed from derive/batchnorm.py.

The same forms the Numba layer kernels print (``Derivation.stable`` of ``batchnorm`` and
``dropout``), here printed by :func:`codegen.cuda_printer.device_function`; the loops are the
template. Batch-norm arrays are (N, F) C-contiguous, parameters (F,). One thread per feature
(grid-stride over features): consecutive threads read consecutive columns of a row, so the
loads coalesce. Precision follows the Numba kernels: sums over the batch and the training-mode
statistics (μ, σ², 1/√(σ²+ε), running statistics) in double, per-element math in the kernel's
type; evaluation mode's 1/√(σ²+ε) in the kernel's type.

Kernels (``t`` = ``f32`` or ``f64``), argument order as the Numba ones plus sizes:

- ``batchnorm_train_t(x, gamma, beta, N, F, eps, momentum, running_mean, running_var,
  inv_std, xhat, y)`` (running statistics updated in place)
- ``batchnorm_eval_t(x, gamma, beta, N, F, eps, running_mean, running_var, inv_std, xhat, y)``
- ``batchnorm_backward_t(g, xhat, gamma, inv_std, N, F, dx, dgamma, dbeta)`` (training mode)
- ``batchnorm_backward_eval_t(g, xhat, gamma, inv_std, N, F, dx, dgamma, dbeta)``
- ``dropout_t(x, mask, p, y, n)``, ``dropout_backward_t(g, mask, p, dx, n)`` (1-D, mask 0/1
  in the data's dtype)
"""
from __future__ import annotations

from string import Template

import sympy as sp

from .cuda_printer import device_function

TAG = {"float": "f32", "double": "f64"}
KINDS = {"batchnorm": ("batchnorm_train", "batchnorm_eval", "batchnorm_backward",
                       "batchnorm_backward_eval"),
         "dropout": ("dropout", "dropout_backward")}
# derive's symbol names that are not C identifiers (or clash), and their C names.
C_NAMES = {"sigma^2": "var", "epsilon": "eps", "N": "n_batch"}


def _c(expr):
    """``expr`` with every symbol renamed to a real-valued C identifier."""
    expr = sp.sympify(expr)
    return expr.xreplace({s: sp.Symbol(C_NAMES.get(s.name, s.name), real=True)
                          for s in expr.free_symbols})


def _syms(*names):
    return [sp.Symbol(n, real=True) for n in names]


def _fn(name, params, outputs, dtype, d):
    doc = "\n".join(f"{d.name} {k}: {sp.sstr(d.stable[k])}" for k in outputs)
    return device_function(name, _syms(*params), {k: _c(d.stable[k]) for k in outputs},
                           dtype, doc=f"derive/batchnorm.py, {doc}")


BATCHNORM = Template(r"""
// Training mode, features [start, F) in steps of stride: batch mean and biased variance (two
// passes), inv_std and the running statistics (unbiased variance) in double, as the Numba
// kernel (per feature, so a float kernel's x − μ ~ 1e19 does not overflow); then x̂ and y in ${T}.
__host__ __device__ inline void dc_batchnorm_train_span_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ gamma, const ${T}* __restrict__ beta, long long N, long long F,
        ${T} eps, ${T} momentum, ${T}* __restrict__ running_mean, ${T}* __restrict__ running_var,
        ${T}* __restrict__ inv_std, ${T}* __restrict__ xhat, ${T}* __restrict__ y,
        long long start, long long stride) {
    for (long long j = start; j < F; j += stride) {
        double acc = 0.0;
        for (long long i = 0; i < N; ++i) acc += (double)x[i * F + j];
        const double n = (double)N, mean = acc / n;
        acc = 0.0;
        for (long long i = 0; i < N; ++i) {
            const double d = (double)x[i * F + j] - mean;
            acc += d * d;
        }
        const double var = acc / n;
        double sd, rm, rv;
        dc_batchnorm_stat_inv_std_${tn}(var, (double)eps, &sd);
        dc_batchnorm_stat_running_mean_${tn}((double)momentum, mean, (double)running_mean[j], &rm);
        dc_batchnorm_stat_running_var_${tn}((double)momentum, n, (double)running_var[j], var, &rv);
        const ${T} s = (${T})sd, mu = (${T})mean;
        inv_std[j] = s;
        running_mean[j] = (${T})rm;
        running_var[j] = (${T})rv;
        for (long long i = 0; i < N; ++i)
            dc_batchnorm_normalise_${tn}(x[i * F + j], mu, s, gamma[j], beta[j],
                                         &xhat[i * F + j], &y[i * F + j]);
    }
}

// Evaluation mode: normalise by the running statistics (all in ${T}, as the Numba kernel).
__host__ __device__ inline void dc_batchnorm_eval_span_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ gamma, const ${T}* __restrict__ beta, long long N, long long F,
        ${T} eps, const ${T}* __restrict__ running_mean, const ${T}* __restrict__ running_var,
        ${T}* __restrict__ inv_std, ${T}* __restrict__ xhat, ${T}* __restrict__ y,
        long long start, long long stride) {
    for (long long j = start; j < F; j += stride) {
        ${T} s;
        dc_batchnorm_inv_std_${tn}(running_var[j], eps, &s);
        inv_std[j] = s;
        const ${T} mu = running_mean[j];
        for (long long i = 0; i < N; ++i)
            dc_batchnorm_normalise_${tn}(x[i * F + j], mu, s, gamma[j], beta[j],
                                         &xhat[i * F + j], &y[i * F + j]);
    }
}

// Backward: ∂L/∂γ = Σ g x̂, ∂L/∂β = Σ g (double sums), then ∂L/∂x per element; training mode
// through μ and σ² (derive's closed form), evaluation mode with μ and σ² constants.
__host__ __device__ inline void dc_batchnorm_backward_span_${tn}(const ${T}* __restrict__ g,
        const ${T}* __restrict__ xhat, const ${T}* __restrict__ gamma,
        const ${T}* __restrict__ inv_std, long long N, long long F, ${T}* __restrict__ dx,
        ${T}* __restrict__ dgamma, ${T}* __restrict__ dbeta, bool training,
        long long start, long long stride) {
    for (long long j = start; j < F; j += stride) {
        double sg = 0.0, sgx = 0.0;
        for (long long i = 0; i < N; ++i) {
            ${T} tg, tb;
            dc_batchnorm_sum_terms_${tn}(g[i * F + j], xhat[i * F + j], &tg, &tb);
            sgx += (double)tg;
            sg += (double)tb;
        }
        dgamma[j] = (${T})sgx;
        dbeta[j] = (${T})sg;
        const ${T} mean_g = (${T})(sg / (double)N), mean_gxhat = (${T})(sgx / (double)N);
        for (long long i = 0; i < N; ++i) {
            if (training)
                dc_batchnorm_grad_x_${tn}(g[i * F + j], gamma[j], inv_std[j], mean_g, mean_gxhat,
                                          xhat[i * F + j], &dx[i * F + j]);
            else
                dc_batchnorm_grad_x_eval_${tn}(g[i * F + j], gamma[j], inv_std[j], &dx[i * F + j]);
        }
    }
}
#if defined(__CUDACC__)
#define DC_FEATURE_SPAN blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x
extern "C" __global__ void batchnorm_train_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ gamma, const ${T}* __restrict__ beta, long long N, long long F,
        ${T} eps, ${T} momentum, ${T}* __restrict__ running_mean, ${T}* __restrict__ running_var,
        ${T}* __restrict__ inv_std, ${T}* __restrict__ xhat, ${T}* __restrict__ y) {
    dc_batchnorm_train_span_${tn}(x, gamma, beta, N, F, eps, momentum, running_mean, running_var,
                                  inv_std, xhat, y, DC_FEATURE_SPAN);
}
extern "C" __global__ void batchnorm_eval_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ gamma, const ${T}* __restrict__ beta, long long N, long long F,
        ${T} eps, const ${T}* __restrict__ running_mean, const ${T}* __restrict__ running_var,
        ${T}* __restrict__ inv_std, ${T}* __restrict__ xhat, ${T}* __restrict__ y) {
    dc_batchnorm_eval_span_${tn}(x, gamma, beta, N, F, eps, running_mean, running_var, inv_std,
                                 xhat, y, DC_FEATURE_SPAN);
}
extern "C" __global__ void batchnorm_backward_${tn}(const ${T}* __restrict__ g,
        const ${T}* __restrict__ xhat, const ${T}* __restrict__ gamma,
        const ${T}* __restrict__ inv_std, long long N, long long F, ${T}* __restrict__ dx,
        ${T}* __restrict__ dgamma, ${T}* __restrict__ dbeta) {
    dc_batchnorm_backward_span_${tn}(g, xhat, gamma, inv_std, N, F, dx, dgamma, dbeta, true,
                                     DC_FEATURE_SPAN);
}
extern "C" __global__ void batchnorm_backward_eval_${tn}(const ${T}* __restrict__ g,
        const ${T}* __restrict__ xhat, const ${T}* __restrict__ gamma,
        const ${T}* __restrict__ inv_std, long long N, long long F, ${T}* __restrict__ dx,
        ${T}* __restrict__ dgamma, ${T}* __restrict__ dbeta) {
    dc_batchnorm_backward_span_${tn}(g, xhat, gamma, inv_std, N, F, dx, dgamma, dbeta, false,
                                     DC_FEATURE_SPAN);
}
#undef DC_FEATURE_SPAN
#endif
""")

DROPOUT = Template(r"""
// Grid-stride spans of inverted dropout, forward (y = m x/(1 − p)) and backward.
__host__ __device__ inline void dc_dropout_span_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ mask, ${T} p, ${T}* __restrict__ y, long long n,
        long long start, long long stride) {
    for (long long i = start; i < n; i += stride) dc_dropout_y_${tn}(mask[i], p, x[i], &y[i]);
}
__host__ __device__ inline void dc_dropout_backward_span_${tn}(const ${T}* __restrict__ g,
        const ${T}* __restrict__ mask, ${T} p, ${T}* __restrict__ dx, long long n,
        long long start, long long stride) {
    for (long long i = start; i < n; i += stride)
        dc_dropout_grad_x_${tn}(g[i], mask[i], p, &dx[i]);
}
#if defined(__CUDACC__)
extern "C" __global__ void dropout_${tn}(const ${T}* __restrict__ x,
        const ${T}* __restrict__ mask, ${T} p, ${T}* __restrict__ y, long long n) {
    dc_dropout_span_${tn}(x, mask, p, y, n, blockIdx.x * (long long)blockDim.x + threadIdx.x,
                          (long long)gridDim.x * blockDim.x);
}
extern "C" __global__ void dropout_backward_${tn}(const ${T}* __restrict__ g,
        const ${T}* __restrict__ mask, ${T} p, ${T}* __restrict__ dx, long long n) {
    dc_dropout_backward_span_${tn}(g, mask, p, dx, n,
        blockIdx.x * (long long)blockDim.x + threadIdx.x, (long long)gridDim.x * blockDim.x);
}
#endif
""")


def batchnorm_source(dtype: str) -> str:
    from derive import registry

    d, tn = registry.get("batchnorm"), TAG[dtype]
    fns = [
        # batch statistics (training mode) in double for both types, as the Numba kernel
        _fn(f"dc_batchnorm_stat_inv_std_{tn}", ["var", "eps"], ["inv_std"], "double", d),
        _fn(f"dc_batchnorm_stat_running_mean_{tn}", ["momentum", "mu", "running"],
            ["running_mean"], "double", d),
        _fn(f"dc_batchnorm_stat_running_var_{tn}", ["momentum", "n_batch", "running", "var"],
            ["running_var"], "double", d),
        _fn(f"dc_batchnorm_inv_std_{tn}", ["var", "eps"], ["inv_std"], dtype, d),  # eval mode
        # x̂ then y = γ x̂ + β from the rounded x̂, as the Numba kernel
        _normalise(dtype, d),
        _fn(f"dc_batchnorm_sum_terms_{tn}", ["g", "xhat"], ["grad_gamma", "grad_beta"], dtype, d),
        _fn(f"dc_batchnorm_grad_x_{tn}", ["g", "gamma", "inv_std", "mean_g", "mean_gxhat", "xhat"],
            ["grad_x"], dtype, d),
        _fn(f"dc_batchnorm_grad_x_eval_{tn}", ["g", "gamma", "inv_std"], ["grad_x_eval"], dtype, d),
    ]
    return "".join(fns) + BATCHNORM.substitute(tn=tn, T=dtype)


def _normalise(dtype, d):
    """x̂ = (x − μ)·inv_std, then y from that x̂ (two device functions and one wrapper)."""
    tn = TAG[dtype]
    a = _fn(f"dc_batchnorm_xhat_{tn}", ["x", "mu", "inv_std"], ["xhat"], dtype, d)
    b = _fn(f"dc_batchnorm_y_{tn}", ["xhat", "gamma", "beta"], ["y"], dtype, d)
    return a + b + (
        f"__host__ __device__ inline void dc_batchnorm_normalise_{tn}({dtype} x, {dtype} mu, "
        f"{dtype} inv_std, {dtype} gamma, {dtype} beta, {dtype}* xhat_out, {dtype}* y_out) {{\n"
        f"    {dtype} xh;\n    dc_batchnorm_xhat_{tn}(x, mu, inv_std, &xh);\n"
        f"    *xhat_out = xh;\n    dc_batchnorm_y_{tn}(xh, gamma, beta, y_out);\n}}\n")


def dropout_source(dtype: str) -> str:
    from derive import registry

    d, tn = registry.get("dropout"), TAG[dtype]
    return (_fn(f"dc_dropout_y_{tn}", ["m", "p", "x"], ["y"], dtype, d)
            + _fn(f"dc_dropout_grad_x_{tn}", ["g", "m", "p"], ["grad_x"], dtype, d)
            + DROPOUT.substitute(tn=tn, T=dtype))


def layer_source(name: str, dtype: str) -> str:
    if name == "batchnorm":
        return batchnorm_source(dtype)
    if name == "dropout":
        return dropout_source(dtype)
    raise NotImplementedError(f"cuda backend: no layer template for {name!r}")


def layer_kernels(name: str) -> list[str]:
    return [f"{k}_{TAG[dt]}" for dt in TAG for k in KINDS[name]]
