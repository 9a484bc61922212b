"""Vectorizable exp / log / log1p for generated Numba kernels.

PLACEHOLDER_DOC
"""

MATHLIB_SOURCE = r'''
# ---------------------------------------------------------------------------
# Vectorizable, branch-free exp/log/log1p (from codegen/numba_mathlib.py).
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
_ML_F32_TWO25 = np.float32(33554432.0)
_ML_F32_25 = np.float32(25.0)
_ML_F32_EXP_BIAS_KF = np.float32(8388735.0)            # 2**23 + 127
# log(1+f) = f - hfsq + s*(hfsq + R(z)), s = f/(2+f), z = s*s,
# R(z) = z * (C0 + z*C1 + z^2*C2)  (Chebyshev fit of (2atanh(s)-2s)/s^3)
_ML_F32_LOG_C0 = np.float32(0.6666668653488159)
_ML_F32_LOG_C1 = np.float32(0.3998831808567047)
_ML_F32_LOG_C2 = np.float32(0.2960069179534912)
_ML_F32_LOG1P_TINY = np.float32(1.4901161193847656e-08)   # 2**-26

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
_ML_F64_TWO54 = np.float64(18014398509481984.0)
_ML_F64_54 = np.float64(54.0)
_ML_F64_EXP_BIAS_KF = np.float64(4503599627371519.0)   # 2**52 + 1023
_ML_F64_LOG_C0 = np.float64(0.666666666666667)
_ML_F64_LOG_C1 = np.float64(0.39999999999886615)
_ML_F64_LOG_C2 = np.float64(0.28571428631764334)
_ML_F64_LOG_C3 = np.float64(0.2222221019926421)
_ML_F64_LOG_C4 = np.float64(0.18182956608063458)
_ML_F64_LOG_C5 = np.float64(0.15329500754204178)
_ML_F64_LOG_C6 = np.float64(0.14643628601909797)
_ML_F64_LOG1P_TINY = np.float64(5.551115123125783e-17)    # 2**-54


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
def _ml_log_core_f32(u, c):
    """log(u) + c/u for finite u > 0 (u may be subnormal), float32."""
    sub = u < _ML_F32_MIN_NORMAL
    us = u * _ML_F32_TWO25 if sub else u
    # Move the mantissa into [sqrt(1/2), sqrt(2)) and pull out the exponent.
    ix = np.float32(us).view(np.int32) + (0x3F800000 - 0x3F3504F3)
    e = (ix >> 23) & 0xFF
    kf = np.int32(e | 0x4B000000).view(np.float32) - _ML_F32_EXP_BIAS_KF
    kf = kf - _ML_F32_25 if sub else kf
    m = np.int32((ix & 0x007FFFFF) + 0x3F3504F3).view(np.float32)
    f = m - _ML_F32_ONE
    s = f / (_ML_F32_TWO + f)
    z = s * s
    rz = z * (_ML_F32_LOG_C0 + z * (_ML_F32_LOG_C1 + z * _ML_F32_LOG_C2))
    hfsq = _ML_F32_HALF * f * f
    lo = kf * _ML_F32_LN2_LO + c / u
    return kf * _ML_F32_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - f)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_core_f64(u, c):
    """log(u) + c/u for finite u > 0 (u may be subnormal), float64."""
    sub = u < _ML_F64_MIN_NORMAL
    us = u * _ML_F64_TWO54 if sub else u
    ix = np.float64(us).view(np.int64) + (0x3FF0000000000000 - 0x3FE6A09E667F3BCD)
    e = (ix >> 52) & 0x7FF
    kf = np.int64(e | 0x4330000000000000).view(np.float64) - _ML_F64_EXP_BIAS_KF
    kf = kf - _ML_F64_54 if sub else kf
    m = np.int64((ix & 0x000FFFFFFFFFFFFF) + 0x3FE6A09E667F3BCD).view(np.float64)
    f = m - _ML_F64_ONE
    s = f / (_ML_F64_TWO + f)
    z = s * s
    q = _ML_F64_LOG_C5 + z * _ML_F64_LOG_C6
    q = _ML_F64_LOG_C4 + z * q
    q = _ML_F64_LOG_C3 + z * q
    q = _ML_F64_LOG_C2 + z * q
    q = _ML_F64_LOG_C1 + z * q
    q = _ML_F64_LOG_C0 + z * q
    rz = z * q
    hfsq = _ML_F64_HALF * f * f
    lo = kf * _ML_F64_LN2_LO + c / u
    return kf * _ML_F64_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - f)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f32(x):
    x = np.float32(x)
    y = _ml_log_core_f32(x, _ML_F32_ZERO)
    y = y if x < _ML_F32_INF else x          # +inf -> inf, NaN -> NaN
    y = _ML_F32_NINF if x == _ML_F32_ZERO else y
    y = _ML_F32_NAN if x < _ML_F32_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f64(x):
    x = np.float64(x)
    y = _ml_log_core_f64(x, _ML_F64_ZERO)
    y = y if x < _ML_F64_INF else x
    y = _ML_F64_NINF if x == _ML_F64_ZERO else y
    y = _ML_F64_NAN if x < _ML_F64_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f32(x):
    x = np.float32(x)
    u = _ML_F32_ONE + x
    # Fast2Sum: c = (1 + x) - u exactly, folded in as log(u) + c/u.
    c = (_ML_F32_ONE - u) + x if abs(x) <= _ML_F32_ONE else (x - u) + _ML_F32_ONE
    y = _ml_log_core_f32(u, c)
    y = y if x < _ML_F32_INF else x
    y = _ML_F32_NINF if x == _ML_F32_NEG_ONE else y
    y = _ML_F32_NAN if x < _ML_F32_NEG_ONE else y
    y = x if abs(x) < _ML_F32_LOG1P_TINY else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f64(x):
    x = np.float64(x)
    u = _ML_F64_ONE + x
    c = (_ML_F64_ONE - u) + x if abs(x) <= _ML_F64_ONE else (x - u) + _ML_F64_ONE
    y = _ml_log_core_f64(u, c)
    y = y if x < _ML_F64_INF else x
    y = _ML_F64_NINF if x == _ML_F64_NEG_ONE else y
    y = _ML_F64_NAN if x < _ML_F64_NEG_ONE else y
    y = x if abs(x) < _ML_F64_LOG1P_TINY else y
    return y
'''

MATHLIB_FUNCTIONS = {
    ("exp", "float32"): "exp_f32",
    ("exp", "float64"): "exp_f64",
    ("log", "float32"): "log_f32",
    ("log", "float64"): "log_f64",
    ("log1p", "float32"): "log1p_f32",
    ("log1p", "float64"): "log1p_f64",
}

MAX_ULP = {
    ("exp", "float32"): 2,
    ("exp", "float64"): 2,
    ("log", "float32"): 2,
    ("log", "float64"): 2,
    ("log1p", "float32"): 2,
    ("log1p", "float64"): 2,
}
