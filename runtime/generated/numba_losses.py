# generated, do not edit: regenerate with `python -m codegen.generate --update`
# Generator: codegen numba backend, version 12
# Derivations: softmax_ce, bce, bce_logits, mse, mae, smooth_l1, huber, lp
# Source hash: sha256:4d7170f3047f9335 (of the SymPy expressions printed below)
"""Numba kernels generated from derive/ (see each kernel's docstring for its formula).

Standalone: imports numpy, numba and math only. Kernels compile on first call
(lazily, no signatures at import) and are cached on disk when the module is
imported under its file's name (CACHE, below: not when loaded by path under another).
KERNELS maps (name, variant, kind, dtype) to the kernel function.

Calling a kernel (the signatures below; runtime/ calls them so): arrays of the kernel's
dtype (_f32: float32, _f64: float64). Elementwise losses and activations take 1-D
arrays of one size (ravel n-D ones); softmax_ce takes (N, C) logits, (N,) integer
labels or (N, C) probability targets, (C,) weight. Outputs (grad, loss, out) are
allocated by the caller and may be an input itself (in place). Reductions 'mean' and
'sum' return the loss; 'none' writes per-element (per-row) losses into loss. Array
sizes, class labels and outputs partly overlapping an input are checked (ValueError);
values are not (bce's probabilities in [0, 1], option ranges): validate those as
runtime/ does.
"""
import math

import numba
import numpy as np

FASTMATH = {'nsz', 'arcp', 'contract', 'afn'}  # keeps NaN/Inf semantics
BLOCK = 2048
ROW_BLOCK = 131072
STREAM_MIN_BYTES = 4194304
STREAM_ROW = 32768


# Numba caches kernels in __pycache__ beside this file, keyed by the file, not the
# module's name, and an entry only loads under the name that wrote it. So kernels are
# cached on disk only when this file is imported under its package name (its file name
# after the names of the enclosing directories that hold an __init__.py), in sys.modules:
# one name per file. Imported under another name (its directory put on sys.path inside a
# package), loaded by path (importlib.util.spec_from_file_location), exec'd or run as a
# script, they compile in memory and touch no cache.
def _package_name(path):
    """The file's stem after the names of the enclosing directories holding an __init__.py."""
    parts = path.replace("\\", "/").split("/")
    names = [parts[-1].rpartition(".")[0]]
    for k in range(len(parts) - 1, 0, -1):
        try:  # open, not os.path: the module imports numpy, numba and math only
            open("/".join(parts[:k]) + "/__init__.py", "rb").close()
        except OSError:
            break
        names.insert(0, parts[k - 1])
    return ".".join(names)


def _cache_on_disk():
    """Whether this module is imported under its file's package name (codegen/numba_cache.py)."""
    g = globals()
    name, path = g.get("__name__"), g.get("__file__")
    if not name or not path or name != _package_name(path):
        return False
    try:  # the module name Numba records in a cache entry ('<dynamic>' if not in sys.modules)
        from numba.core.bytecode import FunctionIdentity

        return FunctionIdentity.from_function(_cache_on_disk).modname == name
    except Exception:  # noqa: BLE001  (another Numba: its own cache logic, as cache=True)
        return True


CACHE = _cache_on_disk()  # every kernel: @numba.njit(..., cache=CACHE)


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
# 1.5 * 2**23 + 254: t = x/ln2 + SHIFT has k + 254 in its low mantissa bits,
# so (bits of t) << 23 = (k + 254) << 23 = bits of 2**(k + 127) * 2**127.
_ML_F32_SHIFT = np.float32(12583166.0)
_ML_F32_EXP_HI = np.float32(90.0)                      # exp(90) overflows
_ML_F32_EXP_LO = np.float32(-110.0)                    # exp(-110) -> 0
_ML_F32_P64 = np.float32(2.0 ** 64)
_ML_F32_M64 = np.float32(2.0 ** -64)
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
# log(1+f) = f - hfsq + s*(hfsq + R(z)), s = f/(2+f), z = s*s,
# R(z) = z * (C0 + z*C1 + z^2*C2)  (Chebyshev fit of (2atanh(s)-2s)/s^3)
_ML_F32_LOG_C0 = np.float32(0.6666668653488159)
_ML_F32_LOG_C1 = np.float32(0.3998831808567047)
_ML_F32_LOG_C2 = np.float32(0.2960069179534912)
_ML_F32_LOG1P_BIG = np.float32(1.8446744073709552e+19)  # 2**64
# tanh(x) = x + x*z*P(z), z = x^2, |x| < 0.625 (Chebyshev fit of
# (tanh(s) - s)/s^3 in z = s^2); 1 - 2/(exp(2|x|) + 1) above
_ML_F32_TANH_SMALL = np.float32(0.625)
_ML_F32_TANH_EXP_HI = np.float32(40.0)                  # tanh(20) rounds to 1
_ML_F32_TANH_SHIFT = np.float32(12583039.0)             # 1.5 * 2**23 + 127
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
_ML_F64_SHIFT = np.float64(6755399441057790.0)         # 1.5 * 2**52 + 2046
_ML_F64_P512 = np.float64(2.0 ** 512)
_ML_F64_M512 = np.float64(2.0 ** -512)
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
_ML_F64_EXP_BIAS_KF = np.float64(4503599627371519.0)   # 2**52 + 1023
_ML_F64_LOG_C0 = np.float64(0.666666666666667)
_ML_F64_LOG_C1 = np.float64(0.39999999999886615)
_ML_F64_LOG_C2 = np.float64(0.28571428631764334)
_ML_F64_LOG_C3 = np.float64(0.2222221019926421)
_ML_F64_LOG_C4 = np.float64(0.18182956608063458)
_ML_F64_LOG_C5 = np.float64(0.15329500754204178)
_ML_F64_LOG_C6 = np.float64(0.14643628601909797)
_ML_F64_LOG1P_BIG = np.float64(1.157920892373162e+77)   # 2**256
_ML_F64_TANH_SMALL = np.float64(0.625)
_ML_F64_TANH_EXP_HI = np.float64(40.0)                  # tanh(20) rounds to 1
_ML_F64_TANH_SHIFT = np.float64(6755399441056767.0)     # 1.5 * 2**52 + 1023
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
def _ml_exp_core_f32(xc, shift):
    """t = x/ln2 + shift (k = round(x/ln2) + low bits of shift sit in the low
    mantissa bits of t) and pm1 = e^r - 1, r = x - k*ln2; |x| <= 110."""
    t = xc * _ML_F32_LOG2E + shift
    kf = t - shift
    # Cody-Waite: r = x - k*ln2 (k*LN2_HI is exact)
    r = xc - kf * _ML_F32_LN2_HI
    r = r - kf * _ML_F32_LN2_LO
    # e^r - 1 = r + r^2*Q(r).  Q's tail from C2 on is evaluated Estrin-style
    # (shorter dependency chain, same number of fmas); the last two steps stay
    # Horner so the tail's rounding errors are damped by r^2.
    r2 = r * r
    q = (_ML_F32_EXP_C2 + r * _ML_F32_EXP_C3) + r2 * (_ML_F32_EXP_C4 + r * _ML_F32_EXP_C5)
    q = _ML_F32_EXP_C0 + r * (_ML_F32_EXP_C1 + r * q)
    return t, r + r2 * q


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def exp_f32(x):
    x = np.float32(x)
    # Clamp so k stays small (the ends still overflow to inf / underflow to
    # 0); this order lets NaN through, and NaN then flows to the result.
    xc = _ML_F32_EXP_HI if x > _ML_F32_EXP_HI else x
    xc = _ML_F32_EXP_LO if xc < _ML_F32_EXP_LO else xc
    t, pm1 = _ml_exp_core_f32(xc, _ML_F32_SHIFT)     # k + 254 in the low bits of t
    # 2**k = s1 * s2 with s1 = 2**64 (x > 0) or 2**-64 (x <= 0), so both
    # factors are normal floats for every k in [-159, 130] (no subnormal
    # intermediates, i.e. no slow microcode assists).  s2 (1 + pm1) is one fma
    # rounded at normal range; the exact multiply by s1 then gives overflow to
    # inf and gradual underflow (rounding once more only for subnormals).
    # bits(s2) = (k + 127 - j) << 23 = (t_bits << 23) - bits(2**j), j = +-64
    # (the shift also drops the high bits of t).  The select stays in the
    # float domain so LLVM keeps the integer ops 32-bit wide.
    s1 = _ML_F32_P64 if xc > _ML_F32_ZERO else _ML_F32_M64
    s2 = np.int32((np.float32(t).view(np.int32) << 23)
                  - np.float32(s1).view(np.int32)).view(np.float32)
    return (s2 + s2 * pm1) * s1


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_exp_core_f64(xc, shift):
    """float64 _ml_exp_core_f32; |x| <= 760."""
    t = xc * _ML_F64_LOG2E + shift
    kf = t - shift
    r = xc - kf * _ML_F64_LN2_HI
    r = r - kf * _ML_F64_LN2_LO
    # e^r - 1 = r + r^2*Q(r).  Q's tail from C2 on is split into even and odd
    # parts in r^2 (two parallel Horner chains, same number of fmas); the
    # last two steps stay Horner so the tail's rounding errors are damped.
    r2 = r * r
    qe = _ML_F64_EXP_C8 + r2 * _ML_F64_EXP_C10
    qe = _ML_F64_EXP_C6 + r2 * qe
    qe = _ML_F64_EXP_C4 + r2 * qe
    qe = _ML_F64_EXP_C2 + r2 * qe
    qo = _ML_F64_EXP_C7 + r2 * _ML_F64_EXP_C9
    qo = _ML_F64_EXP_C5 + r2 * qo
    qo = _ML_F64_EXP_C3 + r2 * qo
    q = _ML_F64_EXP_C0 + r * (_ML_F64_EXP_C1 + r * (qe + r * qo))
    return t, r + r2 * q


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def exp_f64(x):
    x = np.float64(x)
    xc = _ML_F64_EXP_HI if x > _ML_F64_EXP_HI else x     # NaN passes through
    xc = _ML_F64_EXP_LO if xc < _ML_F64_EXP_LO else xc
    t, pm1 = _ml_exp_core_f64(xc, _ML_F64_SHIFT)         # k + 2046 in the low bits
    # 2**k = s1 * s2, s1 = 2**+-512, both normal for k in [-1097, 1039]; see
    # exp_f32.  bits(s2) = (t_bits << 52) - bits(2**j).
    s1 = _ML_F64_P512 if xc > _ML_F64_ZERO else _ML_F64_M512
    s2 = np.int64((np.float64(t).view(np.int64) << 52)
                  - np.float64(s1).view(np.int64)).view(np.float64)
    return (s2 + s2 * pm1) * s1


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_reduce_f32(u):
    """u = 2**k * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); returns (k, f,
    2 + f) as floats.  Integer ops on the bit pattern: subtracting the bits of
    sqrt(1/2) leaves k in the (arithmetic-shifted) exponent field."""
    ix = np.int32(np.float32(u).view(np.int32) - 0x3F3504F3)
    kf = np.float32(np.int32(ix >> 23))
    m = np.int32((ix & 0x007FFFFF) + 0x3F3504F3).view(np.float32)
    # 2 + f computed as m + 1 (same value, exact f) off the f dependency chain
    return kf, m - _ML_F32_ONE, m + _ML_F32_ONE


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_tail_f32(kf, f, s, lo, fx):
    """log(2**k * (1 + f)) - f + fx + lo, given s = f / (2 + f)."""
    z = s * s
    rz = z * (_ML_F32_LOG_C0 + z * (_ML_F32_LOG_C1 + z * _ML_F32_LOG_C2))
    hfsq = _ML_F32_HALF * f * f
    lo = kf * _ML_F32_LN2_LO + lo
    return kf * _ML_F32_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - fx)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f32(x):
    x = np.float32(x)
    sub = x < _ML_F32_MIN_NORMAL                 # subnormal: scale up first
    xs = x * _ML_F32_TWOSUB if sub else x
    kf, f, two_f = _ml_log_reduce_f32(xs)
    kf = kf - _ML_F32_SUBK if sub else kf
    s = f / two_f
    y = _ml_log_tail_f32(kf, f, s, _ML_F32_ZERO, f)
    y = y if x < _ML_F32_INF else x              # +inf -> inf, NaN -> NaN
    y = _ML_F32_NINF if x == _ML_F32_ZERO else y
    y = _ML_F32_NAN if x < _ML_F32_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f32(x):
    x = np.float32(x)
    u = _ML_F32_ONE + x      # >= 2**-24 for x > -1: never subnormal
    # c = (1 + x) - u: exact for u < 2**24 (g = u - 1 is exact, and so is
    # the rounding error of 1 + x); log1p(x) = log(u) + c/u.
    g = u - _ML_F32_ONE
    c = x - g
    kf, f, two_f = _ml_log_reduce_f32(u)
    # One division for both s = f/(2+f) and 1/u: inv = 1/((2+f)*u).  u is
    # capped at 2**64 against overflow; c = 0 there (1 + x rounds to x).
    uu = _ML_F32_LOG1P_BIG if u > _ML_F32_LOG1P_BIG else u
    inv = _ML_F32_ONE / (two_f * uu)
    s = (f * uu) * inv
    # log(u) + c/u = log(u) - f + (f + c) - c*g/u.  For k = 0, f = g and
    # f + c = x exactly, so the result is x plus small terms (one rounding
    # at the result's scale; accurate down to tiny and subnormal x).
    cgu = ((c * g) * two_f) * inv
    y = _ml_log_tail_f32(kf, f, s, _ML_F32_ZERO - cgu, f + c)
    y = y if x < _ML_F32_INF else x
    y = _ML_F32_NINF if x == _ML_F32_NEG_ONE else y
    y = _ML_F32_NAN if x < _ML_F32_NEG_ONE else y
    # log1p(x) has the sign of x: copysign also gives log1p(-0) = -0
    return np.int32(np.float32(y).view(np.int32)
                    | (np.float32(x).view(np.int32) & np.int32(-0x80000000))).view(np.float32)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_reduce_f64(u):
    """u = 2**k * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); returns (k, f,
    2 + f) as floats.  Pure integer bit manipulation, no float<->int conversion."""
    ix = np.float64(u).view(np.int64) + (0x3FF0000000000000 - 0x3FE6A09E667F3BCD)
    e = (ix >> 52) & 0x7FF
    kf = np.int64(e | 0x4330000000000000).view(np.float64) - _ML_F64_EXP_BIAS_KF
    m = np.int64((ix & 0x000FFFFFFFFFFFFF) + 0x3FE6A09E667F3BCD).view(np.float64)
    # 2 + f computed as m + 1 (same value, exact f) off the f dependency chain
    return kf, m - _ML_F64_ONE, m + _ML_F64_ONE


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def _ml_log_tail_f64(kf, f, s, lo, fx):
    """log(2**k * (1 + f)) - f + fx + lo, given s = f / (2 + f)."""
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
    return kf * _ML_F64_LN2_HI - ((hfsq - (s * (hfsq + rz) + lo)) - fx)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log_f64(x):
    x = np.float64(x)
    sub = x < _ML_F64_MIN_NORMAL                 # subnormal: scale up first
    xs = x * _ML_F64_TWOSUB if sub else x
    kf, f, two_f = _ml_log_reduce_f64(xs)
    kf = kf - _ML_F64_SUBK if sub else kf
    s = f / two_f
    y = _ml_log_tail_f64(kf, f, s, _ML_F64_ZERO, f)
    y = y if x < _ML_F64_INF else x              # +inf -> inf, NaN -> NaN
    y = _ML_F64_NINF if x == _ML_F64_ZERO else y
    y = _ML_F64_NAN if x < _ML_F64_ZERO else y
    return y


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def log1p_f64(x):
    x = np.float64(x)
    u = _ML_F64_ONE + x      # >= 2**-53 for x > -1: never subnormal
    g = u - _ML_F64_ONE      # exact; c = (1 + x) - u exactly (see log1p_f32)
    c = x - g
    kf, f, two_f = _ml_log_reduce_f64(u)
    uu = _ML_F64_LOG1P_BIG if u > _ML_F64_LOG1P_BIG else u
    inv = _ML_F64_ONE / (two_f * uu)
    s = (f * uu) * inv
    cgu = ((c * g) * two_f) * inv
    y = _ml_log_tail_f64(kf, f, s, _ML_F64_ZERO - cgu, f + c)
    y = y if x < _ML_F64_INF else x
    y = _ML_F64_NINF if x == _ML_F64_NEG_ONE else y
    y = _ML_F64_NAN if x < _ML_F64_NEG_ONE else y
    return np.int64(np.float64(y).view(np.int64)
                    | (np.float64(x).view(np.int64) & np.int64(-0x8000000000000000))).view(np.float64)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def tanh_f32(x):
    x = np.float32(x)
    a = abs(x)
    # |x| >= 0.625: 1 - 2/(e^2|x| + 1), no cancellation since the result is
    # >= 0.55.  2|x| is clamped to 40 (tanh is 1 there), so k <= 58 and 2**k
    # is a single normal factor: e = s + s*pm1 (NaN passes the clamp).
    a2 = a + a
    a2 = _ML_F32_TANH_EXP_HI if a2 > _ML_F32_TANH_EXP_HI else a2
    t, pm1 = _ml_exp_core_f32(a2, _ML_F32_TANH_SHIFT)
    sc = np.int32(np.float32(t).view(np.int32) << 23).view(np.float32)
    e = sc + sc * pm1
    yb = _ML_F32_ONE - _ML_F32_TWO / (e + _ML_F32_ONE)
    # |x| < 0.625: odd polynomial a + a*z*P(z) (tiny a: a*z*P rounds away).
    z = a * a
    q = _ML_F32_TANH_C4 + z * _ML_F32_TANH_C5
    q = _ML_F32_TANH_C3 + z * q
    q = _ML_F32_TANH_C2 + z * q
    q = _ML_F32_TANH_C1 + z * q
    q = _ML_F32_TANH_C0 + z * q
    ys = a + a * (z * q)
    y = ys if a < _ML_F32_TANH_SMALL else yb        # NaN -> yb = NaN
    # copysign(y, x), also tanh(-0) = -0
    return np.int32(np.float32(y).view(np.int32)
                    | (np.float32(x).view(np.int32) & np.int32(-0x80000000))).view(np.float32)


@numba.njit(inline="always", error_model="numpy", fastmath=FASTMATH)
def tanh_f64(x):
    x = np.float64(x)
    a = abs(x)
    a2 = a + a
    a2 = _ML_F64_TANH_EXP_HI if a2 > _ML_F64_TANH_EXP_HI else a2
    t, pm1 = _ml_exp_core_f64(a2, _ML_F64_TANH_SHIFT)
    sc = np.int64(np.float64(t).view(np.int64) << 52).view(np.float64)
    e = sc + sc * pm1
    yb = _ML_F64_ONE - _ML_F64_TWO / (e + _ML_F64_ONE)
    z = a * a
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
    ys = a + a * (z * q)
    y = ys if a < _ML_F64_TANH_SMALL else yb
    return np.int64(np.float64(y).view(np.int64)
                    | (np.float64(x).view(np.int64) & np.int64(-0x8000000000000000))).view(np.float64)


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


# Argument checks (from codegen/numba_checks.py): Numba does no bounds checks, so a
# kernel compares its arrays' sizes (and class labels) before it reads with them, and
# refuses an output that partly overlaps an input.
@numba.njit(cache=CACHE)
def size_error(name, size, expected, what):
    raise ValueError(name + " has " + str(size) + " elements, not " + str(expected)
                     + " (" + what + ")")


@numba.njit(cache=CACHE)
def overlap_error(out, arg):
    raise ValueError(out + " overlaps " + arg + " without being the same array (in place: pass "
                     + arg + " itself; a shifted view would be read after it is written)")


@numba.njit(cache=CACHE)
def disjoint_error(out, arg):
    raise ValueError(out + " overlaps " + arg + ": it must be an array of its own")


@numba.njit(cache=CACHE)
def rows_error(name, size, vec, features):
    raise ValueError(name + " has " + str(size) + " elements, not a positive multiple of " + vec
                     + ".size = " + str(features) + " (a raveled (N, F) or, for the _rows "
                     "kernels, (F, N) array, F = " + vec + ".size)")


@numba.njit(cache=CACHE)
def label_error(i, label, n_classes, ignore_index):
    raise ValueError("labels[" + str(i) + "] = " + str(label) + " is not a class index in [0, "
                     + str(n_classes) + ") nor ignore_index (" + str(ignore_index) + ")")


# float32 constants: typed globals, so no literal promotes a loop to float64
_F32_0P0 = np.float32(0.0)
_F32_0P5 = np.float32(0.5)
_F32_1P0 = np.float32(1.0)
_F32_1P25 = np.float32(1.25)
_F32_2P0 = np.float32(2.0)
_F32_9P999999960041972EM13 = np.float32(9.999999960041972e-13)
_F32_M100P0 = np.float32(-100.0)
_F32_M1P0 = np.float32(-1.0)
_F32_MINF = np.float32(-np.inf)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_mean_f32_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_index_mean_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = _F32_0P0
            if not last:
                nrow = logits[i + 1]
                mx_next = _F32_MINF
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = _F32_0P0
        if smoothing:
            sum_amz = _F32_0P0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            if smoothing:
                sum_w_r = _F32_0P0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float32(ek < _F32_1P0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (_F32_1P0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(_F32_1P0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        gc = coef * ec + scale * (-(wc*(-eps + _F32_1P0 + eps/n_classes)))
        if confident and ec == _F32_1P0:  # c is the row max
            if smoothing:
                gc = scale * ((-wc*rest*(-eps + _F32_1P0 + eps/n_classes) + sum_w_r*eps/n_classes)/s)
            else:
                gc = scale * (wc * (-(rest/s)))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_mean_f32(logits, labels, weight, ignore_index, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, mean, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses / Σ_n weight[target_n] over non-ignored samples (PyTorch); grad of that.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    denom = 0.0  # PyTorch: the weights of the non-ignored targets
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
            denom += weight[labels[i]]
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = np.float32(1.0 / denom) if denom != 0.0 else _F32_0P0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_mean_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_mean_f32_serial(logits, labels, weight, ignore_index, label_smoothing, grad):
    """softmax_ce_index_mean_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    denom = 0.0  # PyTorch: the weights of the non-ignored targets
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
            denom += weight[labels[i]]
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = np.float32(1.0 / denom) if denom != 0.0 else _F32_0P0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_mean_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_sum_f32_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_index_sum_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = _F32_0P0
            if not last:
                nrow = logits[i + 1]
                mx_next = _F32_MINF
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = _F32_0P0
        if smoothing:
            sum_amz = _F32_0P0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            if smoothing:
                sum_w_r = _F32_0P0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float32(ek < _F32_1P0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (_F32_1P0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(_F32_1P0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        gc = coef * ec + scale * (-(wc*(-eps + _F32_1P0 + eps/n_classes)))
        if confident and ec == _F32_1P0:  # c is the row max
            if smoothing:
                gc = scale * ((-wc*rest*(-eps + _F32_1P0 + eps/n_classes) + sum_w_r*eps/n_classes)/s)
            else:
                gc = scale * (wc * (-(rest/s)))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_sum_f32(logits, labels, weight, ignore_index, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, sum, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses; its gradient.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = _F32_1P0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_sum_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_sum_f32_serial(logits, labels, weight, ignore_index, label_smoothing, grad):
    """softmax_ce_index_sum_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = _F32_1P0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_sum_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_none_f32_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad):
    """Rows lo..hi-1 of softmax_ce_index_none_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = _F32_0P0
            loss[i] = _F32_0P0
            if not last:
                nrow = logits[i + 1]
                mx_next = _F32_MINF
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = _F32_0P0
        if smoothing:
            sum_amz = _F32_0P0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            if smoothing:
                sum_w_r = _F32_0P0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float32(ek < _F32_1P0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (_F32_1P0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(_F32_1P0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = wq/s
        gc = coef * ec + -(wc*(-eps + _F32_1P0 + eps/n_classes))
        if confident and ec == _F32_1P0:  # c is the row max
            if smoothing:
                gc = (-wc*rest*(-eps + _F32_1P0 + eps/n_classes) + sum_w_r*eps/n_classes)/s
            else:
                gc = wc * (-(rest/s))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + -(wk*eps/n_classes)
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + -(wk*eps/n_classes)
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        loss[i] = loss_i
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_none_f32(logits, labels, weight, ignore_index, label_smoothing, loss, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, none, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: per-sample losses into `loss`; grad of their sum.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_none_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_none_f32_serial(logits, labels, weight, ignore_index, label_smoothing, loss, grad):
    """softmax_ce_index_none_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_none_f32_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_mean_f32_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_prob_mean_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = _F32_0P0
        sum_amz = _F32_0P0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            jm = 0
            wq_r = _F32_0P0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                wq_r = add_reassoc(wq_r, ak * np.float32(ek < _F32_1P0))
                jm += k * np.int64(ek == _F32_1P0)
            wk = weight[jm]
            qk = trow[jm]
            gm = scale * ((-wk*rest*(qk*(_F32_1P0 - eps) + eps/n_classes) + wq_r)/s)
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + scale * (-(wk*(qk*(_F32_1P0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + scale * (-(wk*(qk*(_F32_1P0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_mean_f32(logits, target, weight, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, mean, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses / N (PyTorch, probability targets); grad of that.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    denom = float(N)
    scale = np.float32(1.0 / denom) if denom != 0.0 else _F32_0P0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_mean_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_mean_f32_serial(logits, target, weight, label_smoothing, grad):
    """softmax_ce_prob_mean_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    denom = float(N)
    scale = np.float32(1.0 / denom) if denom != 0.0 else _F32_0P0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_mean_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_sum_f32_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_prob_sum_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = _F32_0P0
        sum_amz = _F32_0P0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            jm = 0
            wq_r = _F32_0P0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                wq_r = add_reassoc(wq_r, ak * np.float32(ek < _F32_1P0))
                jm += k * np.int64(ek == _F32_1P0)
            wk = weight[jm]
            qk = trow[jm]
            gm = scale * ((-wk*rest*(qk*(_F32_1P0 - eps) + eps/n_classes) + wq_r)/s)
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + scale * (-(wk*(qk*(_F32_1P0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + scale * (-(wk*(qk*(_F32_1P0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_sum_f32(logits, target, weight, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, sum, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses; its gradient.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = _F32_1P0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_sum_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_sum_f32_serial(logits, target, weight, label_smoothing, grad):
    """softmax_ce_prob_sum_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    scale = _F32_1P0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_sum_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_none_f32_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad):
    """Rows lo..hi-1 of softmax_ce_prob_none_f32; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float32)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 4 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = _F32_MINF
    if lo < hi:
        nrow = logits[lo]
        mx_next = _F32_MINF
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = _F32_0P0
        sum_amz = _F32_0P0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = _F32_0P0
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = _F32_0P0
            mx_next = _F32_MINF
            for k in range(C):
                zk = row[k]
                ek = exp_f32(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < _F32_1P25
        rest = _F32_0P0
        if confident:
            jm = 0
            wq_r = _F32_0P0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(_F32_1P0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < _F32_1P0 else _F32_0P0)
                wq_r = add_reassoc(wq_r, ak * np.float32(ek < _F32_1P0))
                jm += k * np.int64(ek == _F32_1P0)
            wk = weight[jm]
            qk = trow[jm]
            gm = (-wk*rest*(qk*(_F32_1P0 - eps) + eps/n_classes) + wq_r)/s
            log_s = log1p_f32(rest)
        else:
            log_s = log_f32(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = wq/s
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + -(wk*(qk*(_F32_1P0 - eps) + eps/n_classes))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + -(wk*(qk*(_F32_1P0 - eps) + eps/n_classes))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        loss[i] = loss_i
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_none_f32(logits, target, weight, label_smoothing, loss, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, none, float32).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: per-sample losses into `loss`; grad of their sum.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_none_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_none_f32_serial(logits, target, weight, label_smoothing, loss, grad):
    """softmax_ce_prob_none_f32 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float32(C)
    eps = np.float32(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = _F32_0P0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_none_f32_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_mean_f64_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_index_mean_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = 0.0
            if not last:
                nrow = logits[i + 1]
                mx_next = (-math.inf)
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = 0.0
        if smoothing:
            sum_amz = 0.0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            if smoothing:
                sum_w_r = 0.0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float64(ek < 1.0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (1.0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(1.0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        gc = coef * ec + scale * (-(wc*(-eps + 1.0 + eps/n_classes)))
        if confident and ec == 1.0:  # c is the row max
            if smoothing:
                gc = scale * ((-wc*rest*(-eps + 1.0 + eps/n_classes) + sum_w_r*eps/n_classes)/s)
            else:
                gc = scale * (wc * (-(rest/s)))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_mean_f64(logits, labels, weight, ignore_index, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, mean, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses / Σ_n weight[target_n] over non-ignored samples (PyTorch); grad of that.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    denom = 0.0  # PyTorch: the weights of the non-ignored targets
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
            denom += weight[labels[i]]
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = np.float64(1.0 / denom) if denom != 0.0 else 0.0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_mean_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_mean_f64_serial(logits, labels, weight, ignore_index, label_smoothing, grad):
    """softmax_ce_index_mean_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    denom = 0.0  # PyTorch: the weights of the non-ignored targets
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
            denom += weight[labels[i]]
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = np.float64(1.0 / denom) if denom != 0.0 else 0.0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_mean_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_sum_f64_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_index_sum_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = 0.0
            if not last:
                nrow = logits[i + 1]
                mx_next = (-math.inf)
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = 0.0
        if smoothing:
            sum_amz = 0.0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            if smoothing:
                sum_w_r = 0.0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float64(ek < 1.0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (1.0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(1.0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        gc = coef * ec + scale * (-(wc*(-eps + 1.0 + eps/n_classes)))
        if confident and ec == 1.0:  # c is the row max
            if smoothing:
                gc = scale * ((-wc*rest*(-eps + 1.0 + eps/n_classes) + sum_w_r*eps/n_classes)/s)
            else:
                gc = scale * (wc * (-(rest/s)))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + scale * (-(wk*eps/n_classes))
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_sum_f64(logits, labels, weight, ignore_index, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, sum, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses; its gradient.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = 1.0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_sum_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_sum_f64_serial(logits, labels, weight, ignore_index, label_smoothing, grad):
    """softmax_ce_index_sum_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = 1.0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_sum_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_index_none_f64_rows(lo, hi, logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad):
    """Rows lo..hi-1 of softmax_ce_index_none_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        c = labels[i]
        if c == ignore_index:
            for k in range(C):
                out[k] = 0.0
            loss[i] = 0.0
            if not last:
                nrow = logits[i + 1]
                mx_next = (-math.inf)
                for k in range(C):
                    nk = nrow[k]
                    mx_next = max_propagate_nan(mx_next, nk)
            continue
        zc = row[c]  # read before out (which may be row) is written
        wc = weight[c]
        # with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term
        sum_amz = 0.0
        if smoothing:
            sum_amz = 0.0
            for k in range(C):
                zk = row[k]
                wk = weight[k]
                sum_amz = add_reassoc(sum_amz, wk * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            if smoothing:
                sum_w_r = 0.0
                for k in range(C):
                    ek = g[k]
                    wk = weight[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                    sum_w_r = add_reassoc(sum_w_r, wk * np.float64(ek < 1.0))
            else:
                for k in range(C):
                    ek = g[k]
                    rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m
        loss_i = wc * (1.0 - eps) * nll_c
        if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)
            loss_i += (eps/n_classes) * (log_s*sum_w + sum_amz)
        wq = wc*(1.0 - eps) + sum_w*eps/n_classes
        ec = g[c]
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = wq/s
        gc = coef * ec + -(wc*(-eps + 1.0 + eps/n_classes))
        if confident and ec == 1.0:  # c is the row max
            if smoothing:
                gc = (-wc*rest*(-eps + 1.0 + eps/n_classes) + sum_w_r*eps/n_classes)/s
            else:
                gc = wc * (-(rest/s))
        if smoothing:
            if stream:
                for k in range(C):
                    wk = weight[k]
                    g[k] = coef * g[k] + -(wk*eps/n_classes)
                g[c] = gc
                stream_copy(out, 0, g, C)
            else:
                for k in range(C):
                    wk = weight[k]
                    out[k] = coef * g[k] + -(wk*eps/n_classes)
                out[c] = gc
        elif stream:  # rest_j = 0 off the true class: scaled as it is written out
            stream_scale(out, g, C, coef, c, gc)
        else:
            for k in range(C):
                out[k] = coef * g[k]
            out[c] = gc
        loss[i] = loss_i
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_none_f64(logits, labels, weight, ignore_index, label_smoothing, loss, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (index targets, none, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: class indices `labels` (int64), ignore_index rows give 0; weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: per-sample losses into `loss`; grad of their sum.
    """
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_index_none_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_index_none_f64_serial(logits, labels, weight, ignore_index, label_smoothing, loss, grad):
    """softmax_ce_index_none_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if labels.size != N:
        size_error('labels', labels.size, N, 'logits.shape[0]: a label per row')
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    for i in range(N):  # every label is read with: a class or ignore_index
        if labels[i] != ignore_index:
            if labels[i] < 0 or labels[i] >= C:
                label_error(i, labels[i], C, ignore_index)
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_index_none_f64_rows(b * rows, min(b * rows + rows, N), logits, labels, weight, ignore_index, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_mean_f64_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_prob_mean_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = 0.0
        sum_amz = 0.0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(1.0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            jm = 0
            wq_r = 0.0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(1.0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                wq_r = add_reassoc(wq_r, ak * np.float64(ek < 1.0))
                jm += k * np.int64(ek == 1.0)
            wk = weight[jm]
            qk = trow[jm]
            gm = scale * ((-wk*rest*(qk*(1.0 - eps) + eps/n_classes) + wq_r)/s)
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + scale * (-(wk*(qk*(1.0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + scale * (-(wk*(qk*(1.0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_mean_f64(logits, target, weight, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, mean, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses / N (PyTorch, probability targets); grad of that.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    denom = float(N)
    scale = np.float64(1.0 / denom) if denom != 0.0 else 0.0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_mean_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_mean_f64_serial(logits, target, weight, label_smoothing, grad):
    """softmax_ce_prob_mean_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    denom = float(N)
    scale = np.float64(1.0 / denom) if denom != 0.0 else 0.0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_mean_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial) / denom


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_sum_f64_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad):
    """Rows lo..hi-1 of softmax_ce_prob_sum_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = 0.0
        sum_amz = 0.0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(1.0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            jm = 0
            wq_r = 0.0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(1.0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                wq_r = add_reassoc(wq_r, ak * np.float64(ek < 1.0))
                jm += k * np.int64(ek == 1.0)
            wk = weight[jm]
            qk = trow[jm]
            gm = scale * ((-wk*rest*(qk*(1.0 - eps) + eps/n_classes) + wq_r)/s)
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = scale * (wq/s)
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + scale * (-(wk*(qk*(1.0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + scale * (-(wk*(qk*(1.0 - eps) + eps/n_classes)))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        t = total + loss_i
        comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else ((loss_i - t) + total)
        total = t
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_sum_f64(logits, target, weight, label_smoothing, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, sum, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: sum of per-sample losses; its gradient.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = 1.0
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_sum_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_sum_f64_serial(logits, target, weight, label_smoothing, grad):
    """softmax_ce_prob_sum_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    scale = 1.0
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_sum_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, scale, grad)
    return pairwise_sum(partial)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def _softmax_ce_prob_none_f64_rows(lo, hi, logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad):
    """Rows lo..hi-1 of softmax_ce_prob_none_f64; returns the sum of their losses (float64)."""
    wide_vectors()  # 512-bit vectors where the CPU has them
    C = logits.shape[1]
    total = 0.0
    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end
    # g holds a row's e_j, never in the logits' memory: with the gradient written over
    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose
    # sequential float32 sum loses accuracy over long rows
    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.float64)
    # a large gradient is streamed out from g, so its old contents are never read from
    # memory (stream_copy, stream_scale)
    stream = C <= STREAM_ROW and grad.size * 8 >= STREAM_MIN_BYTES
    # pass 1, the row max m: here for the first row; each later row's is taken in the
    # exp pass of the row before it, where its read from memory overlaps that computing
    mx_next = (-math.inf)
    if lo < hi:
        nrow = logits[lo]
        mx_next = (-math.inf)
        for k in range(C):
            nk = nrow[k]
            mx_next = max_propagate_nan(mx_next, nk)
    for i in range(lo, hi):
        row = logits[i]
        out = grad[i]
        mx = mx_next
        last = i + 1 == hi
        trow = target[i]
        # a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)
        sum_a = 0.0
        sum_amz = 0.0
        for k in range(C):
            zk = row[k]
            wk = weight[k]
            qk = trow[k]
            ak = wk * (qk*(1.0 - eps) + eps/n_classes)
            sum_a = add_reassoc(sum_a, ak)
            sum_amz = add_reassoc(sum_amz, ak * (mx - zk))
        # pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;
        # and pass 1 of the next row (its max) in the same loop
        if last:
            s = 0.0
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                s = add_reassoc(s, ek)
                g[k] = ek
        else:
            nrow = logits[i + 1]
            s = 0.0
            mx_next = (-math.inf)
            for k in range(C):
                zk = row[k]
                ek = exp_f64(-mx + zk)
                nk = nrow[k]
                s = add_reassoc(s, ek)
                mx_next = max_propagate_nan(mx_next, nk)
                g[k] = ek
        # a confident row: s = 1 + rest rounds rest's digits away; rest summed apart
        confident = s < 1.25
        rest = 0.0
        if confident:
            jm = 0
            wq_r = 0.0
            for k in range(C):
                ek = g[k]
                wk = weight[k]
                qk = trow[k]
                ak = wk * (qk*(1.0 - eps) + eps/n_classes)
                rest = add_reassoc(rest, ek if ek < 1.0 else 0.0)
                wq_r = add_reassoc(wq_r, ak * np.float64(ek < 1.0))
                jm += k * np.int64(ek == 1.0)
            wk = weight[jm]
            qk = trow[jm]
            gm = (-wk*rest*(qk*(1.0 - eps) + eps/n_classes) + wq_r)/s
            log_s = log1p_f64(rest)
        else:
            log_s = log_f64(s)
        # lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)
        lse = mx + log_s
        loss_i = log_s*sum_a + sum_amz
        wq = sum_a
        # pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)
        coef = wq/s
        if stream:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                g[k] = coef * g[k] + -(wk*(qk*(1.0 - eps) + eps/n_classes))
            if confident:  # the argmax's gradient, summed apart
                g[jm] = gm
            stream_copy(out, 0, g, C)
        else:
            for k in range(C):
                wk = weight[k]
                qk = trow[k]
                out[k] = coef * g[k] + -(wk*(qk*(1.0 - eps) + eps/n_classes))
            if confident:  # the argmax's gradient, summed apart
                out[jm] = gm
        loss[i] = loss_i
    return total + comp if math.isfinite(total) else total


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_none_f64(logits, target, weight, label_smoothing, loss, grad):
    """Softmax cross-entropy, row by row: loss and gradient in one read (prob targets, none, float64).

    Derivation 'softmax_ce' (derivecli show-grad softmax_ce):
        L = -log(softmax(z, c, C))
        dL/dz[i] = softmax(z, i, C) - y[i]
    Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):
        grad = -q_j + exp(-m + z_j)/s
        grad_argmax_confident = -r_s/s
        lse = m + log(s)
        lse_confident = m + log1p(r_s)
        nll_term = m - z_j + log(s)
        nll_term_confident = m - z_j + log1p(r_s)
        prob = exp(-m + z_j)/s
        shifted_exp = exp(-m + z_j)
        smoothed_target = onehot_j*(1 - epsilon) + epsilon/C
        weighted_grad = -q_j*w_j + wq*exp(-m + z_j)/s
        weighted_grad_argmax_confident = (-q_j*r_s*w_j + wq_r)/s
    Targets: probabilities `target` (N, C); weight (C,), label_smoothing epsilon as PyTorch.
    Reduction: per-sample losses into `loss`; grad of their sum.
    """
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in numba.prange(nblocks):
        partial[b] = _softmax_ce_prob_none_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def softmax_ce_prob_none_f64_serial(logits, target, weight, label_smoothing, loss, grad):
    """softmax_ce_prob_none_f64 on the calling thread only (same arguments and result)."""
    N, C = logits.shape
    if target.shape[0] != N:
        size_error('target', target.shape[0], N, "logits.shape[0]: target has logits' shape")
    if target.shape[1] != C:
        size_error('target', target.shape[1], C, "logits.shape[1]: target has logits' shape")
    if weight.size != C:
        size_error('weight', weight.size, C, 'logits.shape[1]: a weight per class')
    if grad.shape[0] != N:
        size_error('grad', grad.shape[0], N, "logits.shape[0]: grad has logits' shape")
    if grad.shape[1] != C:
        size_error('grad', grad.shape[1], C, "logits.shape[1]: grad has logits' shape")
    if loss.size != N:
        size_error('loss', loss.size, N, 'logits.shape[0]: a loss per row')
    if overlaps(grad, logits) and (grad.ctypes.data != logits.ctypes.data or grad.strides != logits.strides):
        overlap_error('grad', 'logits')
    n_classes = np.float64(C)
    eps = np.float64(label_smoothing)
    smoothing = label_smoothing > 0.0
    sum_w = 0.0
    for k in range(C):
        sum_w += weight[k]
    rows = max(1, N)
    nblocks = (N + rows - 1) // rows
    partial = np.zeros(nblocks, np.float64)
    for b in range(nblocks):
        partial[b] = _softmax_ce_prob_none_f64_rows(b * rows, min(b * rows + rows, N), logits, target, weight, eps, smoothing, n_classes, sum_w, loss, grad)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_mean_f32(pred, target, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (mean, float32).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*(_F32_M100P0 if _F32_M100P0 > log_f32(pred_k) else log_f32(pred_k)) - (_F32_1P0 - target_k)*(_F32_M100P0 if _F32_M100P0 > log1p_f32(t0) else log1p_f32(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(_F32_9P999999960041972EM13 if _F32_9P999999960041972EM13 > pred_k*(_F32_1P0 - pred_k) else pred_k*(_F32_1P0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_sum_f32(pred, target, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (sum, float32).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*(_F32_M100P0 if _F32_M100P0 > log_f32(pred_k) else log_f32(pred_k)) - (_F32_1P0 - target_k)*(_F32_M100P0 if _F32_M100P0 > log1p_f32(t0) else log1p_f32(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(_F32_9P999999960041972EM13 if _F32_9P999999960041972EM13 > pred_k*(_F32_1P0 - pred_k) else pred_k*(_F32_1P0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_none_f32(pred, target, loss, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (none, float32).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*(_F32_M100P0 if _F32_M100P0 > log_f32(pred_k) else log_f32(pred_k)) - (_F32_1P0 - target_k)*(_F32_M100P0 if _F32_M100P0 > log1p_f32(t0) else log1p_f32(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(_F32_9P999999960041972EM13 if _F32_9P999999960041972EM13 > pred_k*(_F32_1P0 - pred_k) else pred_k*(_F32_1P0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_mean_f64(pred, target, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (mean, float64).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*((-100.0) if (-100.0) > log_f64(pred_k) else log_f64(pred_k)) - (1.0 - target_k)*((-100.0) if (-100.0) > log1p_f64(t0) else log1p_f64(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(9.999999960041972e-13 if 9.999999960041972e-13 > pred_k*(1.0 - pred_k) else pred_k*(1.0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_sum_f64(pred, target, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (sum, float64).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*((-100.0) if (-100.0) > log_f64(pred_k) else log_f64(pred_k)) - (1.0 - target_k)*((-100.0) if (-100.0) > log1p_f64(t0) else log1p_f64(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(9.999999960041972e-13 if 9.999999960041972e-13 > pred_k*(1.0 - pred_k) else pred_k*(1.0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_none_f64(pred, target, loss, grad):
    """Binary cross-entropy on a probability ŷ, and through ŷ = σ(z): loss and gradient in one pass (none, float64).

    Derivation 'bce' (derivecli show-grad bce):
        L = -y*log(yhat) - (1 - y)*log(1 - yhat)
        dL/dyhat = (-y + yhat)/(yhat*(1 - yhat))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = -y*Max(-100, log(yhat)) - (1 - y)*Max(-100, log1p(-yhat))
        grad = (-y + yhat)/Max(9.99999996004197e-13, yhat*(1 - yhat))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -pred_k
            loss_k = -target_k*((-100.0) if (-100.0) > log_f64(pred_k) else log_f64(pred_k)) - (1.0 - target_k)*((-100.0) if (-100.0) > log1p_f64(t0) else log1p_f64(t0))  # stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0; PyTorch clamp: log >= -100
            grad_k = (-t0 - target_k)/(9.999999960041972e-13 if 9.999999960041972e-13 > pred_k*(1.0 - pred_k) else pred_k*(1.0 - pred_k))  # PyTorch clamp: denominator >= 1e-12
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_mean_f32(pred, target, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (mean, float32).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float32(pos_weight)
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_sum_f32(pred, target, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (sum, float32).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float32(pos_weight)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_none_f32(pred, target, loss, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (none, float32).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float32(pos_weight)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_mean_f32(pred, target, pos_weight, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (mean, float32), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_sum_f32(pred, target, pos_weight, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (sum, float32), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_none_f32(pred, target, pos_weight, loss, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (none, float32), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(loss, pos_weight) and (loss.ctypes.data != pos_weight.ctypes.data or loss.strides != pos_weight.strides):
        overlap_error('loss', 'pos_weight')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(loss, pos_weight) or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = _F32_1P0 - target_k
            t1 = exp_f32(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f32(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (_F32_1P0/(t1 + _F32_1P0))
            t5 = t1*t4
            loss_k = t0*(t2 + (_F32_0P0 if _F32_0P0 > pred_k else pred_k)) + t3*(t2 + (_F32_0P0 if _F32_0P0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= _F32_0P0) else t5) - t3*(t4 if (pred_k <= _F32_0P0) else t5)
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_mean_f64(pred, target, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (mean, float64).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float64(pos_weight)
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_sum_f64(pred, target, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (sum, float64).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float64(pos_weight)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_none_f64(pred, target, loss, grad, pos_weight):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (none, float64).

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    pos_weight_ = np.float64(pos_weight)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_mean_f64(pred, target, pos_weight, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (mean, float64), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_sum_f64(pred, target, pos_weight, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (sum, float64), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def bce_logits_posweightarray_none_f64(pred, target, pos_weight, loss, grad):
    """Binary cross-entropy with logits (stable, with pos_weight): loss and gradient in one pass (none, float64), per-element pos_weight.

    Derivation 'bce_logits' (derivecli show-grad bce_logits):
        L = -p_w*y*log(sigmoid(z)) - (1 - y)*log(1 - sigmoid(z))
        dL/dz = -p_w*y + (p_w*y - y + 1)*sigmoid(z)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = p_w*y*(log1p(exp(-Abs(z))) + Max(0, -z)) + (1 - y)*(log1p(exp(-Abs(z))) + Max(0, z))
        grad = -p_w*y*Piecewise((1/(1 + exp(-Abs(z))), z <= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True)) + (1 - y)*Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if pos_weight.size != n:
        size_error('pos_weight', pos_weight.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(loss, pos_weight) and (loss.ctypes.data != pos_weight.ctypes.data or loss.strides != pos_weight.strides):
        overlap_error('loss', 'pos_weight')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    if overlaps(grad, pos_weight) and (grad.ctypes.data != pos_weight.ctypes.data or grad.strides != pos_weight.strides):
        overlap_error('grad', 'pos_weight')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(loss, pos_weight) or overlaps(grad, pred) or overlaps(grad, target) or overlaps(grad, pos_weight)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        pos_weight_b = pos_weight[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            pos_weight_k = pos_weight_b[k]
            t0 = 1.0 - target_k
            t1 = exp_f64(-abs(pred_k))  # stable: e^(-|z|) <= 1 never overflows
            t2 = log1p_f64(t1)  # stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))
            t3 = target_k*pos_weight_k
            t4 = (1.0/(t1 + 1.0))
            t5 = t1*t4
            loss_k = t0*(t2 + (0.0 if 0.0 > pred_k else pred_k)) + t3*(t2 + (0.0 if 0.0 > -pred_k else -pred_k))
            grad_k = t0*(t4 if (pred_k >= 0.0) else t5) - t3*(t4 if (pred_k <= 0.0) else t5)
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_mean_f32(pred, target, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (mean, float32).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = _F32_2P0*t0
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_sum_f32(pred, target, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (sum, float32).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = _F32_2P0*t0
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_none_f32(pred, target, loss, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (none, float32).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = _F32_2P0*t0
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_mean_f64(pred, target, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (mean, float64).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = 2.0*t0
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_sum_f64(pred, target, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (sum, float64).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = 2.0*t0
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mse_none_f64(pred, target, loss, grad):
    """Mean squared error (per element; mean over all elements): loss and gradient in one pass (none, float64).

    Derivation 'mse' (derivecli show-grad mse):
        L = (-y + yhat)**2
        dL/dyhat = 2*(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = (-y + yhat)**2
        grad = 2*(-y + yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = -target_k + pred_k
            loss_k = (t0*t0)
            grad_k = 2.0*t0
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_mean_f32(pred, target, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (mean, float32).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_sum_f32(pred, target, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (sum, float32).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_none_f32(pred, target, loss, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (none, float32).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_mean_f64(pred, target, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (mean, float64).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_sum_f64(pred, target, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (sum, float64).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def mae_none_f64(pred, target, loss, grad):
    """Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch): loss and gradient in one pass (none, float64).

    Derivation 'mae' (derivecli show-grad mae):
        L = Abs(y - yhat)
        dL/dyhat = -sign(y - yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)
        grad = -sign(y - yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            loss_k = abs(t0)
            grad_k = -(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_mean_f32(pred, target, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (mean, float32).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float32(beta)
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (_F32_1P0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (_F32_0P5*t0*(t2*t2) if t4 else -_F32_0P5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(_F32_1P0 if t1 > _F32_0P0 else (_F32_M1P0 if t1 < _F32_0P0 else t1)))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_sum_f32(pred, target, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (sum, float32).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float32(beta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (_F32_1P0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (_F32_0P5*t0*(t2*t2) if t4 else -_F32_0P5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(_F32_1P0 if t1 > _F32_0P0 else (_F32_M1P0 if t1 < _F32_0P0 else t1)))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_none_f32(pred, target, loss, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (none, float32).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float32(beta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (_F32_1P0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (_F32_0P5*t0*(t2*t2) if t4 else -_F32_0P5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(_F32_1P0 if t1 > _F32_0P0 else (_F32_M1P0 if t1 < _F32_0P0 else t1)))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_mean_f64(pred, target, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (mean, float64).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float64(beta)
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (1.0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (0.5*t0*(t2*t2) if t4 else -0.5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(1.0 if t1 > 0.0 else ((-1.0) if t1 < 0.0 else t1)))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_sum_f64(pred, target, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (sum, float64).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float64(beta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (1.0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (0.5*t0*(t2*t2) if t4 else -0.5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(1.0 if t1 > 0.0 else ((-1.0) if t1 < 0.0 else t1)))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def smooth_l1_none_f64(pred, target, loss, grad, beta):
    """SmoothL1: quadratic inside |ŷ − y| < β, linear outside: loss and gradient in one pass (none, float64).

    Derivation 'smooth_l1' (derivecli show-grad smooth_l1):
        L = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        dL/dyhat = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/(2*beta), beta > Abs(y - yhat)), (-beta/2 + Abs(y - yhat), True))
        grad = Piecewise(((-y + yhat)/beta, beta > Abs(y - yhat)), (-sign(y - yhat), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    beta_ = np.float64(beta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = (1.0/beta_)
            t1 = target_k - pred_k
            t2 = -t1
            t3 = abs(t1)
            t4 = (beta_ > t3)
            loss_k = (0.5*t0*(t2*t2) if t4 else -0.5*beta_ + t3)
            grad_k = (t0*t2 if t4 else -(1.0 if t1 > 0.0 else ((-1.0) if t1 < 0.0 else t1)))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_mean_f32(pred, target, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (mean, float32).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float32(delta)
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (_F32_0P5*(t1*t1) if t3 else delta_*(-_F32_0P5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_sum_f32(pred, target, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (sum, float32).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float32(delta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (_F32_0P5*(t1*t1) if t3 else delta_*(-_F32_0P5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_none_f32(pred, target, loss, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (none, float32).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float32(delta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 4 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (_F32_0P5*(t1*t1) if t3 else delta_*(-_F32_0P5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0))))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_mean_f64(pred, target, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (mean, float64).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float64(delta)
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (0.5*(t1*t1) if t3 else delta_*(-0.5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_sum_f64(pred, target, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (sum, float64).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float64(delta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (0.5*(t1*t1) if t3 else delta_*(-0.5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def huber_none_f64(pred, target, loss, grad, delta):
    """Huber: quadratic inside |ŷ − y| < δ, δ-linear outside: loss and gradient in one pass (none, float64).

    Derivation 'huber' (derivecli show-grad huber):
        L = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        dL/dyhat = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Piecewise(((-y + yhat)**2/2, delta > Abs(y - yhat)), (delta*(-delta/2 + Abs(y - yhat)), True))
        grad = Piecewise((-y + yhat, delta > Abs(y - yhat)), (-delta*sign(y - yhat), True))
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    delta_ = np.float64(delta)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = n * 8 >= STREAM_MIN_BYTES  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = -t0
            t2 = abs(t0)
            t3 = (delta_ > t2)
            loss_k = (0.5*(t1*t1) if t3 else delta_*(-0.5*delta_ + t2))
            grad_k = (t1 if t3 else -(delta_*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0))))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_mean_f32(pred, target, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (mean, float32).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float32(p)
    scale = np.float32(1.0 / n) if n > 0 else _F32_0P0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - _F32_1P0))*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0)))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_sum_f32(pred, target, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (sum, float32).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float32(p)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = _F32_0P0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - _F32_1P0))*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0)))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_none_f32(pred, target, loss, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (none, float32).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float32(p)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - _F32_1P0))*(_F32_1P0 if t0 > _F32_0P0 else (_F32_M1P0 if t0 < _F32_0P0 else t0)))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_mean_f64(pred, target, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (mean, float64).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: mean over all elements; grad = d(mean)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float64(p)
    scale = np.float64(1.0 / n) if n > 0 else 0.0
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - 1.0))*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0)))
            grad_b[k] = grad_k * scale
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial) / n


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_sum_f64(pred, target, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (sum, float64).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: sum over all elements; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float64(p)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(grad, pred) or overlaps(grad, target)
    partial = np.empty(nblocks, np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        acc = 0.0
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - 1.0))*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0)))
            grad_b[k] = grad_k
            acc = add_reassoc(acc, loss_k)
        partial[b] = acc
        if stream:
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            grad[lo:hi] = grad_b[:m]
    return pairwise_sum(partial)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def lp_none_f64(pred, target, loss, grad, p):
    """Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE): loss and gradient in one pass (none, float64).

    Derivation 'lp' (derivecli show-grad lp):
        L = Abs(y - yhat)**p
        dL/dyhat = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Kernel forms (stable rewrite, proved equal in derive):
        loss = Abs(y - yhat)**p
        grad = p*Abs(y - yhat)**(p - 1)*sign(-y + yhat)
    Reduction: per-element losses into `loss`; grad = d(sum)/d(pred).
    """
    n = pred.size
    if target.size != n:
        size_error('target', target.size, n, 'pred.size: the arrays are 1-D, of one size')
    if loss.size != n:
        size_error('loss', loss.size, n, 'pred.size: the arrays are 1-D, of one size')
    if grad.size != n:
        size_error('grad', grad.size, n, 'pred.size: the arrays are 1-D, of one size')
    if overlaps(loss, pred) and (loss.ctypes.data != pred.ctypes.data or loss.strides != pred.strides):
        overlap_error('loss', 'pred')
    if overlaps(loss, target) and (loss.ctypes.data != target.ctypes.data or loss.strides != target.strides):
        overlap_error('loss', 'target')
    if overlaps(grad, pred) and (grad.ctypes.data != pred.ctypes.data or grad.strides != pred.strides):
        overlap_error('grad', 'pred')
    if overlaps(grad, target) and (grad.ctypes.data != target.ctypes.data or grad.strides != target.strides):
        overlap_error('grad', 'target')
    p_ = np.float64(p)
    nblocks = (n + BLOCK - 1) // BLOCK
    stream = False  # a large output: written past the caches
    buffered = stream or overlaps(loss, pred) or overlaps(loss, target) or overlaps(grad, pred) or overlaps(grad, target)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        pred_b = pred[lo:hi]
        target_b = target[lo:hi]
        loss_b = stack_buffer(loss, BLOCK) if buffered else loss[lo:hi]
        grad_b = stack_buffer(grad, BLOCK) if buffered else grad[lo:hi]
        m = hi - lo
        for k in range(m):
            pred_k = pred_b[k]
            target_k = target_b[k]
            t0 = target_k - pred_k
            t1 = abs(t0)
            loss_k = (t1 ** p_)
            grad_k = -(p_*(t1 ** (p_ - 1.0))*(1.0 if t0 > 0.0 else ((-1.0) if t0 < 0.0 else t0)))
            grad_b[k] = grad_k
            loss_b[k] = loss_k
        if stream:
            stream_copy(loss, lo, loss_b, m)
            stream_copy(grad, lo, grad_b, m)
        elif buffered:
            loss[lo:hi] = loss_b[:m]
            grad[lo:hi] = grad_b[:m]


KERNELS = {
    ('softmax_ce', 'index', 'mean', 'float32'): softmax_ce_index_mean_f32,
    ('softmax_ce', 'index_serial', 'mean', 'float32'): softmax_ce_index_mean_f32_serial,
    ('softmax_ce', 'index', 'sum', 'float32'): softmax_ce_index_sum_f32,
    ('softmax_ce', 'index_serial', 'sum', 'float32'): softmax_ce_index_sum_f32_serial,
    ('softmax_ce', 'index', 'none', 'float32'): softmax_ce_index_none_f32,
    ('softmax_ce', 'index_serial', 'none', 'float32'): softmax_ce_index_none_f32_serial,
    ('softmax_ce', 'prob', 'mean', 'float32'): softmax_ce_prob_mean_f32,
    ('softmax_ce', 'prob_serial', 'mean', 'float32'): softmax_ce_prob_mean_f32_serial,
    ('softmax_ce', 'prob', 'sum', 'float32'): softmax_ce_prob_sum_f32,
    ('softmax_ce', 'prob_serial', 'sum', 'float32'): softmax_ce_prob_sum_f32_serial,
    ('softmax_ce', 'prob', 'none', 'float32'): softmax_ce_prob_none_f32,
    ('softmax_ce', 'prob_serial', 'none', 'float32'): softmax_ce_prob_none_f32_serial,
    ('softmax_ce', 'index', 'mean', 'float64'): softmax_ce_index_mean_f64,
    ('softmax_ce', 'index_serial', 'mean', 'float64'): softmax_ce_index_mean_f64_serial,
    ('softmax_ce', 'index', 'sum', 'float64'): softmax_ce_index_sum_f64,
    ('softmax_ce', 'index_serial', 'sum', 'float64'): softmax_ce_index_sum_f64_serial,
    ('softmax_ce', 'index', 'none', 'float64'): softmax_ce_index_none_f64,
    ('softmax_ce', 'index_serial', 'none', 'float64'): softmax_ce_index_none_f64_serial,
    ('softmax_ce', 'prob', 'mean', 'float64'): softmax_ce_prob_mean_f64,
    ('softmax_ce', 'prob_serial', 'mean', 'float64'): softmax_ce_prob_mean_f64_serial,
    ('softmax_ce', 'prob', 'sum', 'float64'): softmax_ce_prob_sum_f64,
    ('softmax_ce', 'prob_serial', 'sum', 'float64'): softmax_ce_prob_sum_f64_serial,
    ('softmax_ce', 'prob', 'none', 'float64'): softmax_ce_prob_none_f64,
    ('softmax_ce', 'prob_serial', 'none', 'float64'): softmax_ce_prob_none_f64_serial,
    ('bce', 'default', 'mean', 'float32'): bce_mean_f32,
    ('bce', 'default', 'sum', 'float32'): bce_sum_f32,
    ('bce', 'default', 'none', 'float32'): bce_none_f32,
    ('bce', 'default', 'mean', 'float64'): bce_mean_f64,
    ('bce', 'default', 'sum', 'float64'): bce_sum_f64,
    ('bce', 'default', 'none', 'float64'): bce_none_f64,
    ('bce_logits', 'default', 'mean', 'float32'): bce_logits_mean_f32,
    ('bce_logits', 'default', 'sum', 'float32'): bce_logits_sum_f32,
    ('bce_logits', 'default', 'none', 'float32'): bce_logits_none_f32,
    ('bce_logits', 'pos_weight_array', 'mean', 'float32'): bce_logits_posweightarray_mean_f32,
    ('bce_logits', 'pos_weight_array', 'sum', 'float32'): bce_logits_posweightarray_sum_f32,
    ('bce_logits', 'pos_weight_array', 'none', 'float32'): bce_logits_posweightarray_none_f32,
    ('bce_logits', 'default', 'mean', 'float64'): bce_logits_mean_f64,
    ('bce_logits', 'default', 'sum', 'float64'): bce_logits_sum_f64,
    ('bce_logits', 'default', 'none', 'float64'): bce_logits_none_f64,
    ('bce_logits', 'pos_weight_array', 'mean', 'float64'): bce_logits_posweightarray_mean_f64,
    ('bce_logits', 'pos_weight_array', 'sum', 'float64'): bce_logits_posweightarray_sum_f64,
    ('bce_logits', 'pos_weight_array', 'none', 'float64'): bce_logits_posweightarray_none_f64,
    ('mse', 'default', 'mean', 'float32'): mse_mean_f32,
    ('mse', 'default', 'sum', 'float32'): mse_sum_f32,
    ('mse', 'default', 'none', 'float32'): mse_none_f32,
    ('mse', 'default', 'mean', 'float64'): mse_mean_f64,
    ('mse', 'default', 'sum', 'float64'): mse_sum_f64,
    ('mse', 'default', 'none', 'float64'): mse_none_f64,
    ('mae', 'default', 'mean', 'float32'): mae_mean_f32,
    ('mae', 'default', 'sum', 'float32'): mae_sum_f32,
    ('mae', 'default', 'none', 'float32'): mae_none_f32,
    ('mae', 'default', 'mean', 'float64'): mae_mean_f64,
    ('mae', 'default', 'sum', 'float64'): mae_sum_f64,
    ('mae', 'default', 'none', 'float64'): mae_none_f64,
    ('smooth_l1', 'default', 'mean', 'float32'): smooth_l1_mean_f32,
    ('smooth_l1', 'default', 'sum', 'float32'): smooth_l1_sum_f32,
    ('smooth_l1', 'default', 'none', 'float32'): smooth_l1_none_f32,
    ('smooth_l1', 'default', 'mean', 'float64'): smooth_l1_mean_f64,
    ('smooth_l1', 'default', 'sum', 'float64'): smooth_l1_sum_f64,
    ('smooth_l1', 'default', 'none', 'float64'): smooth_l1_none_f64,
    ('huber', 'default', 'mean', 'float32'): huber_mean_f32,
    ('huber', 'default', 'sum', 'float32'): huber_sum_f32,
    ('huber', 'default', 'none', 'float32'): huber_none_f32,
    ('huber', 'default', 'mean', 'float64'): huber_mean_f64,
    ('huber', 'default', 'sum', 'float64'): huber_sum_f64,
    ('huber', 'default', 'none', 'float64'): huber_none_f64,
    ('lp', 'default', 'mean', 'float32'): lp_mean_f32,
    ('lp', 'default', 'sum', 'float32'): lp_sum_f32,
    ('lp', 'default', 'none', 'float32'): lp_none_f32,
    ('lp', 'default', 'mean', 'float64'): lp_mean_f64,
    ('lp', 'default', 'sum', 'float64'): lp_sum_f64,
    ('lp', 'default', 'none', 'float64'): lp_none_f64,
}
