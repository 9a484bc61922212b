# generated, do not edit: regenerate with `python -m codegen.generate --update`
# Generator: codegen numba backend, version 2
# Derivations: sigmoid, tanh, relu, leaky_relu
# Source hash: sha256:233592916b8e9f12 (of the SymPy expressions printed below)
"""Numba kernels generated from derive/ (see each kernel's docstring for its formula).

Standalone: imports numpy, numba and math only. Kernels compile on first call
(lazily, no signatures at import) and are cached on disk (cache=True).
KERNELS maps (name, variant, kind, dtype) to the kernel function.
"""
import math

import numba
import numpy as np

FASTMATH = {'nsz', 'arcp', 'contract', 'afn'}  # keeps NaN/Inf semantics
BLOCK = 2048


# ---------------------------------------------------------------------------
# Vectorizable, branch-free exp/log/log1p/tanh (from codegen/numba_mathlib.py).
# Requires: import math, import numpy as np, import numba
# ---------------------------------------------------------------------------
FASTMATH = {"nsz", "arcp", "contract", "afn"}

# float32 constants: every literal is an np.float32 global, so Numba freezes
# it as a float constant and nothing is promoted to double.
_ML_F32_ZERO = np.float32(0.0)
_ML_F32_HALF = np.float32(0.5)
_ML_F32_ONE = np.float32(1.0)
_ML_F32_TWO = np.float32(2.0)
_ML_F32_NEG_ONE = np.float32(-1.0)
_ML_F32_INF = np.float32(np.inf)
_ML_F32_NINF = np.float32(-np.inf)
_ML_F32_NAN = np.float32(np.nan)
_ML_F32_LN2_HI = np.float32(0.693145751953125)         # 16 significant bits
_ML_F32_LN2_LO = np.float32(1.428606765330187e-06)     # ln2 - LN2_HI
_ML_F32_LOG2E = np.float32(1.4426950216293335)
_ML_F32_SHIFT = np.float32(12582912.0)                 # 1.5 * 2**23
_ML_F32_SHIFT_BITS = 0x4B400000
_ML_F32_EXP_HI = np.float32(90.0)                      # exp(90) overflows
_ML_F32_EXP_LO = np.float32(-110.0)                    # exp(-110) -> 0
# exp(r) ~ 1 + r + r^2 * Q(r), |r| <= ln2/2 (Chebyshev fit, mpmath)
_ML_F32_EXP_C0 = np.float32(0.5)
_ML_F32_EXP_C1 = np.float32(0.1666666716337204)
_ML_F32_EXP_C2 = np.float32(0.04166644811630249)
_ML_F32_EXP_C3 = np.float32(0.00833330862224102)
_ML_F32_EXP_C4 = np.float32(0.0013935451861470938)
_ML_F32_EXP_C5 = np.float32(0.00019892991986125708)
_ML_F32_MIN_NORMAL = np.float32(1.1754943508222875e-38)
_ML_F32_TWOSUB = np.float32(33554432.0)               # 2**25
_ML_F32_SUBK = np.float32(25.0)
_ML_F32_BIG = np.float32(1.8446744073709552e+19)       # 2**64
_ML_F32_EXP_BIAS_KF = np.float32(8388735.0)            # 2**23 + 127
# log(1+f) = f - hfsq + s*(hfsq + R(z)), s = f/(2+f), z = s*s,
# R(z) = z * (C0 + z*C1 + z^2*C2)  (Chebyshev fit of (2atanh(s)-2s)/s^3)
_ML_F32_LOG_C0 = np.float32(0.6666668653488159)
_ML_F32_LOG_C1 = np.float32(0.3998831808567047)
_ML_F32_LOG_C2 = np.float32(0.2960069179534912)
_ML_F32_SMALL = np.float32(3.814697265625e-06)          # 2**-18
_ML_F32_THIRD = np.float32(1.0 / 3.0)
_ML_F32_LOG1P_TINY = np.float32(1.4901161193847656e-08)   # 2**-26
# tanh(x) = x + x*z*P(z), z = x^2, |x| < 0.625 (Chebyshev fit of
# (tanh(s) - s)/s^3 in z = s^2); 1 - 2/(exp(2|x|) + 1) above
_ML_F32_TANH_SMALL = np.float32(0.625)
_ML_F32_TANH_TINY = np.float32(0.000244140625)          # 2**-12: tanh(x) rounds to x
_ML_F32_TANH_C0 = np.float32(-0.3333333432674408)
_ML_F32_TANH_C1 = np.float32(0.1333330124616623)
_ML_F32_TANH_C2 = np.float32(-0.05395859479904175)
_ML_F32_TANH_C3 = np.float32(0.02176356129348278)
_ML_F32_TANH_C4 = np.float32(-0.008326576091349125)
_ML_F32_TANH_C5 = np.float32(0.002273258753120899)

# float64 constants
_ML_F64_ZERO = np.float64(0.0)
_ML_F64_HALF = np.float64(0.5)
_ML_F64_ONE = np.float64(1.0)
_ML_F64_TWO = np.float64(2.0)
_ML_F64_NEG_ONE = np.float64(-1.0)
_ML_F64_INF = np.float64(np.inf)
_ML_F64_NINF = np.float64(-np.inf)
_ML_F64_NAN = np.float64(np.nan)
_ML_F64_LN2_HI = np.float64(0.6931471805592082)        # 40 significant bits
_ML_F64_LN2_LO = np.float64(7.371002565167799e-13)     # ln2 - LN2_HI
_ML_F64_LOG2E = np.float64(1.4426950408889634)
_ML_F64_SHIFT = np.float64(6755399441055744.0)         # 1.5 * 2**52
_ML_F64_SHIFT_BITS = 0x4338000000000000
_ML_F64_EXP_HI = np.float64(720.0)                     # exp(720) overflows
_ML_F64_EXP_LO = np.float64(-760.0)                    # exp(-760) -> 0
_ML_F64_EXP_C0 = np.float64(0.5)
_ML_F64_EXP_C1 = np.float64(0.1666666666666667)
_ML_F64_EXP_C2 = np.float64(0.04166666666666667)
_ML_F64_EXP_C3 = np.float64(0.008333333333324906)
_ML_F64_EXP_C4 = np.float64(0.001388888888888287)
_ML_F64_EXP_C5 = np.float64(0.00019841269879033045)
_ML_F64_EXP_C6 = np.float64(2.4801587328555858e-05)
_ML_F64_EXP_C7 = np.float64(2.755725016302918e-06)
_ML_F64_EXP_C8 = np.float64(2.7557269903215795e-07)
_ML_F64_EXP_C9 = np.float64(2.5107353767261877e-08)
_ML_F64_EXP_C10 = np.float64(2.0916212837493853e-09)
_ML_F64_MIN_NORMAL = np.float64(2.2250738585072014e-308)
_ML_F64_TWOSUB = np.float64(18014398509481984.0)      # 2**54
_ML_F64_SUBK = np.float64(54.0)
_ML_F64_BIG = np.float64(1.157920892373162e+77)        # 2**256
_ML_F64_EXP_BIAS_KF = np.float64(4503599627371519.0)   # 2**52 + 1023
_ML_F64_LOG_C0 = np.float64(0.666666666666667)
_ML_F64_LOG_C1 = np.float64(0.39999999999886615)
_ML_F64_LOG_C2 = np.float64(0.28571428631764334)
_ML_F64_LOG_C3 = np.float64(0.2222221019926421)
_ML_F64_LOG_C4 = np.float64(0.18182956608063458)
_ML_F64_LOG_C5 = np.float64(0.15329500754204178)
_ML_F64_LOG_C6 = np.float64(0.14643628601909797)
_ML_F64_SMALL = np.float64(3.814697265625e-06)          # 2**-18
_ML_F64_THIRD = np.float64(1.0 / 3.0)
_ML_F64_QUARTER = np.float64(0.25)
_ML_F64_FIFTH = np.float64(0.2)
_ML_F64_LOG1P_TINY = np.float64(5.551115123125783e-17)    # 2**-54
_ML_F64_TANH_SMALL = np.float64(0.625)
_ML_F64_TANH_TINY = np.float64(7.450580596923828e-09)   # 2**-27: tanh(x) rounds to x
_ML_F64_TANH_C0 = np.float64(-0.3333333333333333)
_ML_F64_TANH_C1 = np.float64(0.13333333333332975)
_ML_F64_TANH_C2 = np.float64(-0.05396825396782573)
_ML_F64_TANH_C3 = np.float64(0.021869488515988706)
_ML_F64_TANH_C4 = np.float64(-0.008863235037913742)
_ML_F64_TANH_C5 = np.float64(0.0035921209299417775)
_ML_F64_TANH_C6 = np.float64(-0.0014557689990026916)
_ML_F64_TANH_C7 = np.float64(0.0005896285964194752)
_ML_F64_TANH_C8 = np.float64(-0.00023748797317858894)
_ML_F64_TANH_C9 = np.float64(9.236750032628766e-05)
_ML_F64_TANH_C10 = np.float64(-3.09733369825203e-05)
_ML_F64_TANH_C11 = np.float64(6.375396531342414e-06)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def exp_f32(x):
    x = np.float32(x)
    # Clamp (NaN -> HI, patched at the end) so k stays small; the clamped
    # ends overflow to inf / underflow to 0 naturally.
    xc = x if x < _ML_F32_EXP_HI else _ML_F32_EXP_HI
    xc = xc if xc > _ML_F32_EXP_LO else _ML_F32_EXP_LO
    # k = round(x / ln2): the shift trick leaves k in the low mantissa bits.
    t = xc * _ML_F32_LOG2E + _ML_F32_SHIFT
    kf = t - _ML_F32_SHIFT
    k = np.float32(t).view(np.int32) - _ML_F32_SHIFT_BITS
    # Cody-Waite: r = x - k*ln2 (k*LN2_HI is exact)
    r = xc - kf * _ML_F32_LN2_HI
    r = r - kf * _ML_F32_LN2_LO
    q = _ML_F32_EXP_C4 + r * _ML_F32_EXP_C5
    q = _ML_F32_EXP_C3 + r * q
    q = _ML_F32_EXP_C2 + r * q
    q = _ML_F32_EXP_C1 + r * q
    q = _ML_F32_EXP_C0 + r * q
    p = _ML_F32_ONE + (r + (r * r) * q)
    # 2**k as two normal factors 2**k1 * 2**k2 (covers k in [-159, 130]);
    # the first product is exact, the second rounds once (also subnormals).
    k1 = k >> 1
    k2 = k - k1
    s1 = np.int32((k1 + 127) << 23).view(np.float32)
    s2 = np.int32((k2 + 127) << 23).view(np.float32)
    y = (p * s1) * s2
    return y if x == x else x


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def exp_f64(x):
    x = np.float64(x)
    xc = x if x < _ML_F64_EXP_HI else _ML_F64_EXP_HI
    xc = xc if xc > _ML_F64_EXP_LO else _ML_F64_EXP_LO
    t = xc * _ML_F64_LOG2E + _ML_F64_SHIFT
    kf = t - _ML_F64_SHIFT
    r = xc - kf * _ML_F64_LN2_HI
    r = r - kf * _ML_F64_LN2_LO
    q = _ML_F64_EXP_C9 + r * _ML_F64_EXP_C10
    q = _ML_F64_EXP_C8 + r * q
    q = _ML_F64_EXP_C7 + r * q
    q = _ML_F64_EXP_C6 + r * q
    q = _ML_F64_EXP_C5 + r * q
    q = _ML_F64_EXP_C4 + r * q
    q = _ML_F64_EXP_C3 + r * q
    q = _ML_F64_EXP_C2 + r * q
    q = _ML_F64_EXP_C1 + r * q
    q = _ML_F64_EXP_C0 + r * q
    p = _ML_F64_ONE + (r + (r * r) * q)
    # Split k = k1 + k2 with float rounding (no 64-bit arithmetic shift or
    # float->int conversion needed, so this also vectorizes on plain AVX2).
    t1 = kf * _ML_F64_HALF + _ML_F64_SHIFT
    k1 = np.float64(t1).view(np.int64) - _ML_F64_SHIFT_BITS
    k2 = np.float64(t).view(np.int64) - _ML_F64_SHIFT_BITS - k1
    s1 = np.int64((k1 + 1023) << 52).view(np.float64)
    s2 = np.int64((k2 + 1023) << 52).view(np.float64)
    y = (p * s1) * s2
    return y if x == x else x


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_reduce_f32(u):
    """u = 2**k * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); returns (k, f)
    as floats.  Pure integer bit manipulation, no float<->int conversion."""
    ix = np.float32(u).view(np.int32) + (0x3F800000 - 0x3F3504F3)
    e = (ix >> 23) & 0xFF
    kf = np.int32(e | 0x4B000000).view(np.float32) - _ML_F32_EXP_BIAS_KF
    m = np.int32((ix & 0x007FFFFF) + 0x3F3504F3).view(np.float32)
    return kf, m - _ML_F32_ONE


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_tail_f32(kf, f, s, lo):
    """log(2**k * (1 + f)) + lo, given s = f / (2 + f)."""
    z = s * s
    rz = z * (_ML_F32_LOG_C0 + z * (_ML_F32_LOG_C1 + z * _ML_F32_LOG_C2))
    hfsq = _ML_F32_HALF * f * f
    lo = kf * _ML_F32_LN2_LO + lo
    return kf * _ML_F32_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - f)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f32(x):
    x = np.float32(x)
    sub = x < _ML_F32_MIN_NORMAL                 # subnormal: scale up first
    xs = x * _ML_F32_TWOSUB if sub else x
    kf, f = _ml_log_reduce_f32(xs)
    kf = kf - _ML_F32_SUBK if sub else kf
    s = f / (_ML_F32_TWO + f)
    y = _ml_log_tail_f32(kf, f, s, _ML_F32_ZERO)
    y = y if x < _ML_F32_INF else x              # +inf -> inf, NaN -> NaN
    y = _ML_F32_NINF if x == _ML_F32_ZERO else y
    y = _ML_F32_NAN if x < _ML_F32_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f32(x):
    x = np.float32(x)
    u = _ML_F32_ONE + x      # >= 2**-24 for x > -1: never subnormal
    # Fast2Sum: c = (1 + x) - u exactly; log1p(x) = log(u) + c/u.
    c = (_ML_F32_ONE - u) + x if abs(x) <= _ML_F32_ONE else (x - u) + _ML_F32_ONE
    kf, f = _ml_log_reduce_f32(u)
    # One division for both s = f/(2+f) and c/u: inv = 1/((2+f)*u).  For
    # huge u use m = 1+f instead of u (no overflow); c/u is negligible there.
    big = u > _ML_F32_BIG
    uu = f + _ML_F32_ONE if big else u
    c = _ML_F32_ZERO if big else c
    two_f = _ML_F32_TWO + f
    inv = _ML_F32_ONE / (two_f * uu)
    s = (f * uu) * inv
    cu = (c * two_f) * inv
    y = _ml_log_tail_f32(kf, f, s, cu)
    # |x| < 2**-18: c/u would dominate the result; use the series instead.
    ys = x + (x * x) * (x * _ML_F32_THIRD - _ML_F32_HALF)
    y = ys if abs(x) < _ML_F32_SMALL else y
    y = y if x < _ML_F32_INF else x
    y = _ML_F32_NINF if x == _ML_F32_NEG_ONE else y
    y = _ML_F32_NAN if x < _ML_F32_NEG_ONE else y
    y = x if abs(x) < _ML_F32_LOG1P_TINY else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_reduce_f64(u):
    """u = 2**k * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); returns (k, f)
    as floats.  Pure integer bit manipulation, no float<->int conversion."""
    ix = np.float64(u).view(np.int64) + (0x3FF0000000000000 - 0x3FE6A09E667F3BCD)
    e = (ix >> 52) & 0x7FF
    kf = np.int64(e | 0x4330000000000000).view(np.float64) - _ML_F64_EXP_BIAS_KF
    m = np.int64((ix & 0x000FFFFFFFFFFFFF) + 0x3FE6A09E667F3BCD).view(np.float64)
    return kf, m - _ML_F64_ONE


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_tail_f64(kf, f, s, lo):
    """log(2**k * (1 + f)) + lo, given s = f / (2 + f)."""
    z = s * s
    q = _ML_F64_LOG_C5 + z * _ML_F64_LOG_C6
    q = _ML_F64_LOG_C4 + z * q
    q = _ML_F64_LOG_C3 + z * q
    q = _ML_F64_LOG_C2 + z * q
    q = _ML_F64_LOG_C1 + z * q
    q = _ML_F64_LOG_C0 + z * q
    rz = z * q
    hfsq = _ML_F64_HALF * f * f
    lo = kf * _ML_F64_LN2_LO + lo
    return kf * _ML_F64_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - f)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f64(x):
    x = np.float64(x)
    sub = x < _ML_F64_MIN_NORMAL                 # subnormal: scale up first
    xs = x * _ML_F64_TWOSUB if sub else x
    kf, f = _ml_log_reduce_f64(xs)
    kf = kf - _ML_F64_SUBK if sub else kf
    s = f / (_ML_F64_TWO + f)
    y = _ml_log_tail_f64(kf, f, s, _ML_F64_ZERO)
    y = y if x < _ML_F64_INF else x              # +inf -> inf, NaN -> NaN
    y = _ML_F64_NINF if x == _ML_F64_ZERO else y
    y = _ML_F64_NAN if x < _ML_F64_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f64(x):
    x = np.float64(x)
    u = _ML_F64_ONE + x      # >= 2**-53 for x > -1: never subnormal
    # Fast2Sum: c = (1 + x) - u exactly; log1p(x) = log(u) + c/u.
    c = (_ML_F64_ONE - u) + x if abs(x) <= _ML_F64_ONE else (x - u) + _ML_F64_ONE
    kf, f = _ml_log_reduce_f64(u)
    # One division for both s = f/(2+f) and c/u: inv = 1/((2+f)*u).  For
    # huge u use m = 1+f instead of u (no overflow); c/u is negligible there.
    big = u > _ML_F64_BIG
    uu = f + _ML_F64_ONE if big else u
    c = _ML_F64_ZERO if big else c
    two_f = _ML_F64_TWO + f
    inv = _ML_F64_ONE / (two_f * uu)
    s = (f * uu) * inv
    cu = (c * two_f) * inv
    y = _ml_log_tail_f64(kf, f, s, cu)
    # |x| < 2**-18: c/u would dominate the result; use the series instead.
    ys = x * (_ML_F64_THIRD + x * (x * _ML_F64_FIFTH - _ML_F64_QUARTER)) - _ML_F64_HALF
    ys = x + (x * x) * ys
    y = ys if abs(x) < _ML_F64_SMALL else y
    y = y if x < _ML_F64_INF else x
    y = _ML_F64_NINF if x == _ML_F64_NEG_ONE else y
    y = _ML_F64_NAN if x < _ML_F64_NEG_ONE else y
    y = x if abs(x) < _ML_F64_LOG1P_TINY else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def tanh_f32(x):
    x = np.float32(x)
    a = abs(x)
    # |x| >= 0.625: 1 - 2/(e^2|x| + 1), no cancellation since the result is
    # >= 0.55; e overflows to inf for large |x| and gives exactly 1.
    e = exp_f32(a + a)
    yb = _ML_F32_ONE - _ML_F32_TWO / (e + _ML_F32_ONE)
    yb = _ML_F32_ZERO - yb if x < _ML_F32_ZERO else yb
    # |x| < 0.625: odd polynomial x + x*z*P(z).
    z = x * x
    q = _ML_F32_TANH_C4 + z * _ML_F32_TANH_C5
    q = _ML_F32_TANH_C3 + z * q
    q = _ML_F32_TANH_C2 + z * q
    q = _ML_F32_TANH_C1 + z * q
    q = _ML_F32_TANH_C0 + z * q
    ys = x + x * (z * q)
    ys = x if a < _ML_F32_TANH_TINY else ys          # tanh(-0) = -0 (-0 + 0 = +0)
    return ys if a < _ML_F32_TANH_SMALL else yb     # NaN -> yb = NaN


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def tanh_f64(x):
    x = np.float64(x)
    a = abs(x)
    e = exp_f64(a + a)
    yb = _ML_F64_ONE - _ML_F64_TWO / (e + _ML_F64_ONE)
    yb = _ML_F64_ZERO - yb if x < _ML_F64_ZERO else yb
    z = x * x
    q = _ML_F64_TANH_C10 + z * _ML_F64_TANH_C11
    q = _ML_F64_TANH_C9 + z * q
    q = _ML_F64_TANH_C8 + z * q
    q = _ML_F64_TANH_C7 + z * q
    q = _ML_F64_TANH_C6 + z * q
    q = _ML_F64_TANH_C5 + z * q
    q = _ML_F64_TANH_C4 + z * q
    q = _ML_F64_TANH_C3 + z * q
    q = _ML_F64_TANH_C2 + z * q
    q = _ML_F64_TANH_C1 + z * q
    q = _ML_F64_TANH_C0 + z * q
    ys = x + x * (z * q)
    ys = x if a < _ML_F64_TANH_TINY else ys
    return ys if a < _ML_F64_TANH_SMALL else yb


# float32 constants: typed globals, so no literal promotes a loop to float64
_F32_0P0 = np.float32(0.0)
_F32_1P0 = np.float32(1.0)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_forward_f32(z, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): forward (float32); out = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (_F32_1P0/(t0 + _F32_1P0))
            f_k = (t1 if (x_k >= _F32_0P0) else t0*t1)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_backward_f32(z, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward (float32); out = upstream * f'(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad): (1 - Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)))*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (_F32_1P0/(t0 + _F32_1P0))
            t2 = (t1 if (x_k >= _F32_0P0) else t0*t1)
            f_k = t2*(_F32_1P0 - t2)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_backward_output_f32(a, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = x_k*(_F32_1P0 - x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_forward_f64(z, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): forward (float64); out = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (1.0/(t0 + 1.0))
            f_k = (t1 if (x_k >= 0.0) else t0*t1)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_backward_f64(z, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward (float64); out = upstream * f'(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad): (1 - Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)))*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (1.0/(t0 + 1.0))
            t2 = (t1 if (x_k >= 0.0) else t0*t1)
            f_k = t2*(1.0 - t2)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def sigmoid_backward_output_f64(a, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = x_k*(1.0 - x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_forward_f32(z, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: forward (float32); out = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = tanh_f32(x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_backward_f32(z, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward (float32); out = upstream * f'(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad): 1 - tanh(z)**2
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = _F32_1P0 - (tanh_f32(x_k)*tanh_f32(x_k))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_backward_output_f32(a, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = _F32_1P0 - (x_k*x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_forward_f64(z, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: forward (float64); out = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = tanh_f64(x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_backward_f64(z, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward (float64); out = upstream * f'(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad): 1 - tanh(z)**2
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = 1.0 - (tanh_f64(x_k)*tanh_f64(x_k))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def tanh_backward_output_f64(a, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = 1.0 - (x_k*x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_forward_f32(z, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: forward (float32); out = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_backward_f32(z, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward (float32); out = upstream * f'(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad): Piecewise((1, z > 0), (0, True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_backward_output_f32(a, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_forward_f64(z, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: forward (float64); out = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_backward_f64(z, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward (float64); out = upstream * f'(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad): Piecewise((1, z > 0), (0, True))
    """
    n = z.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (1.0 if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def relu_backward_output_f64(a, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (1.0 if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_forward_f32(z, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): forward (float32); out = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > _F32_0P0) else x_k*negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_backward_f32(z, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward (float32); out = upstream * f'(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad): Piecewise((1, z > 0), (alpha, True))
    """
    n = z.size
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_backward_output_f32(a, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    """
    n = a.size
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_forward_f64(z, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): forward (float64); out = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > 0.0) else x_k*negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_backward_f64(z, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward (float64); out = upstream * f'(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad): Piecewise((1, z > 0), (alpha, True))
    """
    n = z.size
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (1.0 if (x_k > 0.0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=True)
def leaky_relu_backward_output_f64(a, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    """
    n = a.size
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (1.0 if (x_k > 0.0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k


KERNELS = {
    ('sigmoid', 'default', 'forward', 'float32'): sigmoid_forward_f32,
    ('sigmoid', 'default', 'backward', 'float32'): sigmoid_backward_f32,
    ('sigmoid', 'default', 'backward_output', 'float32'): sigmoid_backward_output_f32,
    ('sigmoid', 'default', 'forward', 'float64'): sigmoid_forward_f64,
    ('sigmoid', 'default', 'backward', 'float64'): sigmoid_backward_f64,
    ('sigmoid', 'default', 'backward_output', 'float64'): sigmoid_backward_output_f64,
    ('tanh', 'default', 'forward', 'float32'): tanh_forward_f32,
    ('tanh', 'default', 'backward', 'float32'): tanh_backward_f32,
    ('tanh', 'default', 'backward_output', 'float32'): tanh_backward_output_f32,
    ('tanh', 'default', 'forward', 'float64'): tanh_forward_f64,
    ('tanh', 'default', 'backward', 'float64'): tanh_backward_f64,
    ('tanh', 'default', 'backward_output', 'float64'): tanh_backward_output_f64,
    ('relu', 'default', 'forward', 'float32'): relu_forward_f32,
    ('relu', 'default', 'backward', 'float32'): relu_backward_f32,
    ('relu', 'default', 'backward_output', 'float32'): relu_backward_output_f32,
    ('relu', 'default', 'forward', 'float64'): relu_forward_f64,
    ('relu', 'default', 'backward', 'float64'): relu_backward_f64,
    ('relu', 'default', 'backward_output', 'float64'): relu_backward_output_f64,
    ('leaky_relu', 'default', 'forward', 'float32'): leaky_relu_forward_f32,
    ('leaky_relu', 'default', 'backward', 'float32'): leaky_relu_backward_f32,
    ('leaky_relu', 'default', 'backward_output', 'float32'): leaky_relu_backward_output_f32,
    ('leaky_relu', 'default', 'forward', 'float64'): leaky_relu_forward_f64,
    ('leaky_relu', 'default', 'backward', 'float64'): leaky_relu_backward_f64,
    ('leaky_relu', 'default', 'backward_output', 'float64'): leaky_relu_backward_output_f64,
}
