# generated, do not edit: regenerate with `python -m codegen.generate --update`
# Generator: codegen numba backend, version 12
# Derivations: sigmoid, tanh, relu, leaky_relu
# Source hash: sha256:44662749fba19f6f (of the SymPy expressions printed below)
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
_F32_1P0 = np.float32(1.0)
_F32_2P0 = np.float32(2.0)
_F32_4P0 = np.float32(4.0)


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_forward_f32(z, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): forward (float32); out = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (_F32_1P0/(t0 + _F32_1P0))
            f_k = (t1 if (x_k >= _F32_0P0) else t0*t1)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_f32(z, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward (float32); out = upstream * f'(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad): exp(-Abs(z))/(1 + exp(-Abs(z)))**2
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            f_k = t0/((t0 + _F32_1P0)*(t0 + _F32_1P0))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_f32(a, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = x_k*(_F32_1P0 - x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_bias_forward_f32(z, bias, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): bias_forward (float32); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
                    t1 = (_F32_1P0/(t0 + _F32_1P0))
                    f_k = (t1 if (x_k >= _F32_0P0) else t0*t1)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_bias_f32(a, upstream, out, bias_grad):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output_bias (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = x_k*(_F32_1P0 - x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_bias_rows_forward_f32(z, bias, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): bias_rows_forward (float32); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    t0 = exp_f32(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
                    t1 = (_F32_1P0/(t0 + _F32_1P0))
                    f_k = (t1 if (x_k >= _F32_0P0) else t0*t1)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_bias_rows_f32(a, upstream, out, bias_grad):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output_bias_rows (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = x_k*(_F32_1P0 - x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_forward_f64(z, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): forward (float64); out = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            t1 = (1.0/(t0 + 1.0))
            f_k = (t1 if (x_k >= 0.0) else t0*t1)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_f64(z, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward (float64); out = upstream * f'(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad): exp(-Abs(z))/(1 + exp(-Abs(z)))**2
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
            f_k = t0/((t0 + 1.0)*(t0 + 1.0))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_f64(a, upstream, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = x_k*(1.0 - x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_bias_forward_f64(z, bias, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): bias_forward (float64); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
                    t1 = (1.0/(t0 + 1.0))
                    f_k = (t1 if (x_k >= 0.0) else t0*t1)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_bias_f64(a, upstream, out, bias_grad):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output_bias (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = x_k*(1.0 - x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_bias_rows_forward_f64(z, bias, out):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): bias_rows_forward (float64); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (forward): Piecewise((1/(1 + exp(-Abs(z))), z >= 0), (exp(-Abs(z))/(1 + exp(-Abs(z))), True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    t0 = exp_f64(-abs(x_k))  # stable: e^(-|z|) <= 1 never overflows
                    t1 = (1.0/(t0 + 1.0))
                    f_k = (t1 if (x_k >= 0.0) else t0*t1)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def sigmoid_backward_output_bias_rows_f64(a, upstream, out, bias_grad):
    """Logistic sigmoid σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a): backward_output_bias_rows (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'sigmoid' (derivecli show-grad sigmoid):
        a = sigmoid(z)
        da/dz = (1 - sigmoid(z))*sigmoid(z)
    Kernel form (grad_output): a*(1 - a)
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = x_k*(1.0 - x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_forward_f32(z, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: forward (float32); out = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = tanh_f32(x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_f32(z, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward (float32); out = upstream * f'(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad): 4*exp(-2*Abs(z))/(1 + exp(-2*Abs(z)))**2
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f32(-(_F32_2P0*abs(x_k)))  # stable: e^(-|z|) <= 1 never overflows
            f_k = _F32_4P0*t0/((t0 + _F32_1P0)*(t0 + _F32_1P0))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_f32(a, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = _F32_1P0 - (x_k*x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_bias_forward_f32(z, bias, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: bias_forward (float32); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = tanh_f32(x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_bias_f32(a, upstream, out, bias_grad):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output_bias (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = _F32_1P0 - (x_k*x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_bias_rows_forward_f32(z, bias, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: bias_rows_forward (float32); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = tanh_f32(x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_bias_rows_f32(a, upstream, out, bias_grad):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output_bias_rows (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = _F32_1P0 - (x_k*x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_forward_f64(z, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: forward (float64); out = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = tanh_f64(x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_f64(z, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward (float64); out = upstream * f'(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad): 4*exp(-2*Abs(z))/(1 + exp(-2*Abs(z)))**2
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            t0 = exp_f64(-(2.0*abs(x_k)))  # stable: e^(-|z|) <= 1 never overflows
            f_k = 4.0*t0/((t0 + 1.0)*(t0 + 1.0))
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_f64(a, upstream, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = 1.0 - (x_k*x_k)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_bias_forward_f64(z, bias, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: bias_forward (float64); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = tanh_f64(x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_bias_f64(a, upstream, out, bias_grad):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output_bias (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = 1.0 - (x_k*x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_bias_rows_forward_f64(z, bias, out):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: bias_rows_forward (float64); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (forward): tanh(z)
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = tanh_f64(x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def tanh_backward_output_bias_rows_f64(a, upstream, out, bias_grad):
    """Hyperbolic tangent; tanh' = 1 − tanh² = 1 − a²: backward_output_bias_rows (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'tanh' (derivecli show-grad tanh):
        a = tanh(z)
        da/dz = 1 - tanh(z)**2
    Kernel form (grad_output): 1 - a**2
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = 1.0 - (x_k*x_k)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_forward_f32(z, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: forward (float32); out = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_f32(z, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward (float32); out = upstream * f'(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad): Piecewise((1, z > 0), (0, True))
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_f32(a, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_bias_forward_f32(z, bias, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: bias_forward (float32); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = (x_k if (x_k > _F32_0P0) else _F32_0P0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_bias_f32(a, upstream, out, bias_grad):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output_bias (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_bias_rows_forward_f32(z, bias, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: bias_rows_forward (float32); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = (x_k if (x_k > _F32_0P0) else _F32_0P0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_bias_rows_f32(a, upstream, out, bias_grad):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output_bias_rows (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (_F32_1P0 if (x_k > _F32_0P0) else _F32_0P0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_forward_f64(z, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: forward (float64); out = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_f64(z, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward (float64); out = upstream * f'(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad): Piecewise((1, z > 0), (0, True))
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (1.0 if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_f64(a, upstream, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (1.0 if (x_k > 0.0) else 0.0)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_bias_forward_f64(z, bias, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: bias_forward (float64); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = (x_k if (x_k > 0.0) else 0.0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_bias_f64(a, upstream, out, bias_grad):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output_bias (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (1.0 if (x_k > 0.0) else 0.0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_bias_rows_forward_f64(z, bias, out):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: bias_rows_forward (float64); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (forward): Piecewise((z, z > 0), (0, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = (x_k if (x_k > 0.0) else 0.0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def relu_backward_output_bias_rows_f64(a, upstream, out, bias_grad):
    """ReLU max(z, 0); relu' = 1 for z > 0 else 0 (0 at 0, as PyTorch); a > 0 ⇔ z > 0: backward_output_bias_rows (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'relu' (derivecli show-grad relu):
        a = relu(z)
        da/dz = Piecewise((1, z > 0), (0, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (0, True))
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (1.0 if (x_k > 0.0) else 0.0)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_forward_f32(z, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): forward (float32); out = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > _F32_0P0) else x_k*negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_f32(z, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward (float32); out = upstream * f'(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad): Piecewise((1, z > 0), (alpha, True))
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_f32(a, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output (float32); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    negative_slope_ = np.float32(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_bias_forward_f32(z, bias, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): bias_forward (float32); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    negative_slope_ = np.float32(negative_slope)
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = (x_k if (x_k > _F32_0P0) else x_k*negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_bias_f32(a, upstream, out, bias_grad, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output_bias (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    negative_slope_ = np.float32(negative_slope)
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_bias_rows_forward_f32(z, bias, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): bias_rows_forward (float32); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    negative_slope_ = np.float32(negative_slope)
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = (x_k if (x_k > _F32_0P0) else x_k*negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_bias_rows_f32(a, upstream, out, bias_grad, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output_bias_rows (float32); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    negative_slope_ = np.float32(negative_slope)
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (_F32_1P0 if (x_k > _F32_0P0) else negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_forward_f64(z, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): forward (float64); out = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (x_k if (x_k > 0.0) else x_k*negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_f64(z, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward (float64); out = upstream * f'(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad): Piecewise((1, z > 0), (alpha, True))
    """
    n = z.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'z.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'z.size: the arrays are 1-D, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, z) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        z_b = z[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = z_b[k]
            f_k = (1.0 if (x_k > 0.0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_f64(a, upstream, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output (float64); out = upstream * f'(z), written through the saved a = f(z).

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: the arrays are 1-D, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: the arrays are 1-D, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    negative_slope_ = np.float64(negative_slope)
    nblocks = (n + BLOCK - 1) // BLOCK
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        a_b = a[lo:hi]
        upstream_b = upstream[lo:hi]
        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]
        for k in range(hi - lo):
            x_k = a_b[k]
            f_k = (1.0 if (x_k > 0.0) else negative_slope_)
            f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
            out_b[k] = upstream_b[k] * f_k
        if buffered:
            out[lo:hi] = out_b[:hi - lo]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_bias_forward_f64(z, bias, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): bias_forward (float64); out = f(z + bias) over an (N, F) array raveled, F = bias.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (N, F) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    negative_slope_ = np.float64(negative_slope)
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                bias_t = bias[lo:lo + w]
                for k in range(w):
                    x_k = z_t[k] + bias_t[k]
                    f_k = (x_k if (x_k > 0.0) else x_k*negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_bias_f64(a, upstream, out, bias_grad, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output_bias (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (N, F) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (N, F) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    negative_slope_ = np.float64(negative_slope)
    L = F
    R = n // F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    partial = np.zeros((nblocks, F), np.float64)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        acc = partial[b]
        for i in range(b * rows, min(b * rows + rows, R)):
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                acc_t = acc[lo:lo + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (1.0 if (x_k > 0.0) else negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    acc_t[k] += d_k
                if buffered:
                    out[start:start + w] = out_t[:w]
    total = np.zeros(F, np.float64)
    for b in range(nblocks):
        for j in range(F):
            total[j] += partial[b, j]
    for j in range(F):
        bias_grad[j] = total[j]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_bias_rows_forward_f64(z, bias, out, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): bias_rows_forward (float64); out = f(z + bias) over an (F, N) array raveled, F = bias.size, bias[j] added to row j.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (forward): Piecewise((z, z > 0), (alpha*z, True))
    """
    n = z.size
    F = bias.size
    if F == 0 or n % F != 0:
        rows_error('z', n, 'bias', F)
    if out.size != n:
        size_error('out', out.size, n, 'z.size: (F, N) arrays raveled, of one size')
    if overlaps(out, z) and (out.ctypes.data != z.ctypes.data or out.strides != z.strides):
        overlap_error('out', 'z')
    if overlaps(out, bias):
        disjoint_error('out', 'bias')
    negative_slope_ = np.float64(negative_slope)
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, z)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            bias_i = bias[i]
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                z_t = z[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = z_t[k] + bias_i
                    f_k = (x_k if (x_k > 0.0) else x_k*negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    out_t[k] = f_k
                if buffered:
                    out[start:start + w] = out_t[:w]


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH, cache=CACHE)
def leaky_relu_backward_output_bias_rows_f64(a, upstream, out, bias_grad, negative_slope):
    """Leaky ReLU max(αz, z); derivative 1 for z > 0, α otherwise (α at 0): backward_output_bias_rows (float64); out = upstream * f'(z), written through the saved a = f(z);
    over an (F, N) array raveled, bias_grad = Σ of out over N (float64 sums), F = bias_grad.size.

    Derivation 'leaky_relu' (derivecli show-grad leaky_relu):
        a = leaky_relu(z, alpha)
        da/dz = Piecewise((1, z > 0), (alpha, True))
    Kernel form (grad_output): Piecewise((1, a > 0), (alpha, True))
    Valid for negative_slope > 0 only (derive's assumption); otherwise call the backward kernel with z.
    """
    n = a.size
    F = bias_grad.size
    if F == 0 or n % F != 0:
        rows_error('a', n, 'bias_grad', F)
    if upstream.size != n:
        size_error('upstream', upstream.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if out.size != n:
        size_error('out', out.size, n, 'a.size: (F, N) arrays raveled, of one size')
    if overlaps(out, a) and (out.ctypes.data != a.ctypes.data or out.strides != a.strides):
        overlap_error('out', 'a')
    if overlaps(out, upstream) and (out.ctypes.data != upstream.ctypes.data or out.strides != upstream.strides):
        overlap_error('out', 'upstream')
    if overlaps(bias_grad, a):
        disjoint_error('bias_grad', 'a')
    if overlaps(bias_grad, upstream):
        disjoint_error('bias_grad', 'upstream')
    if overlaps(bias_grad, out):
        disjoint_error('bias_grad', 'out')
    negative_slope_ = np.float64(negative_slope)
    L = n // F
    R = F
    rows = max(1, (8 * BLOCK) // max(L, 1))
    nblocks = (R + rows - 1) // rows
    buffered = overlaps(out, a) or overlaps(out, upstream)
    for b in numba.prange(nblocks):
        wide_vectors()  # 512-bit vectors where the CPU has them
        for i in range(b * rows, min(b * rows + rows, R)):
            s = 0.0
            for lo in range(0, L, BLOCK):
                w = min(BLOCK, L - lo)
                start = i * L + lo
                a_t = a[start:start + w]
                upstream_t = upstream[start:start + w]
                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]
                for k in range(w):
                    x_k = a_t[k]
                    f_k = (1.0 if (x_k > 0.0) else negative_slope_)
                    f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)
                    d_k = upstream_t[k] * f_k
                    out_t[k] = d_k
                    s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums
                if buffered:
                    out[start:start + w] = out_t[:w]
            bias_grad[i] = s


KERNELS = {
    ('sigmoid', 'default', 'forward', 'float32'): sigmoid_forward_f32,
    ('sigmoid', 'default', 'backward', 'float32'): sigmoid_backward_f32,
    ('sigmoid', 'default', 'backward_output', 'float32'): sigmoid_backward_output_f32,
    ('sigmoid', 'default', 'bias_forward', 'float32'): sigmoid_bias_forward_f32,
    ('sigmoid', 'default', 'backward_output_bias', 'float32'): sigmoid_backward_output_bias_f32,
    ('sigmoid', 'default', 'bias_rows_forward', 'float32'): sigmoid_bias_rows_forward_f32,
    ('sigmoid', 'default', 'backward_output_bias_rows', 'float32'): sigmoid_backward_output_bias_rows_f32,
    ('sigmoid', 'default', 'forward', 'float64'): sigmoid_forward_f64,
    ('sigmoid', 'default', 'backward', 'float64'): sigmoid_backward_f64,
    ('sigmoid', 'default', 'backward_output', 'float64'): sigmoid_backward_output_f64,
    ('sigmoid', 'default', 'bias_forward', 'float64'): sigmoid_bias_forward_f64,
    ('sigmoid', 'default', 'backward_output_bias', 'float64'): sigmoid_backward_output_bias_f64,
    ('sigmoid', 'default', 'bias_rows_forward', 'float64'): sigmoid_bias_rows_forward_f64,
    ('sigmoid', 'default', 'backward_output_bias_rows', 'float64'): sigmoid_backward_output_bias_rows_f64,
    ('tanh', 'default', 'forward', 'float32'): tanh_forward_f32,
    ('tanh', 'default', 'backward', 'float32'): tanh_backward_f32,
    ('tanh', 'default', 'backward_output', 'float32'): tanh_backward_output_f32,
    ('tanh', 'default', 'bias_forward', 'float32'): tanh_bias_forward_f32,
    ('tanh', 'default', 'backward_output_bias', 'float32'): tanh_backward_output_bias_f32,
    ('tanh', 'default', 'bias_rows_forward', 'float32'): tanh_bias_rows_forward_f32,
    ('tanh', 'default', 'backward_output_bias_rows', 'float32'): tanh_backward_output_bias_rows_f32,
    ('tanh', 'default', 'forward', 'float64'): tanh_forward_f64,
    ('tanh', 'default', 'backward', 'float64'): tanh_backward_f64,
    ('tanh', 'default', 'backward_output', 'float64'): tanh_backward_output_f64,
    ('tanh', 'default', 'bias_forward', 'float64'): tanh_bias_forward_f64,
    ('tanh', 'default', 'backward_output_bias', 'float64'): tanh_backward_output_bias_f64,
    ('tanh', 'default', 'bias_rows_forward', 'float64'): tanh_bias_rows_forward_f64,
    ('tanh', 'default', 'backward_output_bias_rows', 'float64'): tanh_backward_output_bias_rows_f64,
    ('relu', 'default', 'forward', 'float32'): relu_forward_f32,
    ('relu', 'default', 'backward', 'float32'): relu_backward_f32,
    ('relu', 'default', 'backward_output', 'float32'): relu_backward_output_f32,
    ('relu', 'default', 'bias_forward', 'float32'): relu_bias_forward_f32,
    ('relu', 'default', 'backward_output_bias', 'float32'): relu_backward_output_bias_f32,
    ('relu', 'default', 'bias_rows_forward', 'float32'): relu_bias_rows_forward_f32,
    ('relu', 'default', 'backward_output_bias_rows', 'float32'): relu_backward_output_bias_rows_f32,
    ('relu', 'default', 'forward', 'float64'): relu_forward_f64,
    ('relu', 'default', 'backward', 'float64'): relu_backward_f64,
    ('relu', 'default', 'backward_output', 'float64'): relu_backward_output_f64,
    ('relu', 'default', 'bias_forward', 'float64'): relu_bias_forward_f64,
    ('relu', 'default', 'backward_output_bias', 'float64'): relu_backward_output_bias_f64,
    ('relu', 'default', 'bias_rows_forward', 'float64'): relu_bias_rows_forward_f64,
    ('relu', 'default', 'backward_output_bias_rows', 'float64'): relu_backward_output_bias_rows_f64,
    ('leaky_relu', 'default', 'forward', 'float32'): leaky_relu_forward_f32,
    ('leaky_relu', 'default', 'backward', 'float32'): leaky_relu_backward_f32,
    ('leaky_relu', 'default', 'backward_output', 'float32'): leaky_relu_backward_output_f32,
    ('leaky_relu', 'default', 'bias_forward', 'float32'): leaky_relu_bias_forward_f32,
    ('leaky_relu', 'default', 'backward_output_bias', 'float32'): leaky_relu_backward_output_bias_f32,
    ('leaky_relu', 'default', 'bias_rows_forward', 'float32'): leaky_relu_bias_rows_forward_f32,
    ('leaky_relu', 'default', 'backward_output_bias_rows', 'float32'): leaky_relu_backward_output_bias_rows_f32,
    ('leaky_relu', 'default', 'forward', 'float64'): leaky_relu_forward_f64,
    ('leaky_relu', 'default', 'backward', 'float64'): leaky_relu_backward_f64,
    ('leaky_relu', 'default', 'backward_output', 'float64'): leaky_relu_backward_output_f64,
    ('leaky_relu', 'default', 'bias_forward', 'float64'): leaky_relu_bias_forward_f64,
    ('leaky_relu', 'default', 'backward_output_bias', 'float64'): leaky_relu_backward_output_bias_f64,
    ('leaky_relu', 'default', 'bias_rows_forward', 'float64'): leaky_relu_bias_rows_forward_f64,
    ('leaky_relu', 'default', 'backward_output_bias_rows', 'float64'): leaky_relu_backward_output_bias_rows_f64,
}
