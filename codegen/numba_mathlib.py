"""Vectorizable, branch-free exp / log / log1p / tanh for generated Numba kernels.

Numba lowers ``math.exp`` / ``math.log`` / ``math.log1p`` to scalar libm
calls, which LLVM cannot vectorize without SVML.  ``MATHLIB_SOURCE`` holds
njit-able replacements written only with +, *, /, compares/selects and
integer bit manipulation, so LLVM's loop vectorizer turns a loop calling them
into ``<8 x float>`` / ``<4 x double>`` code.  The text is pasted verbatim into
generated kernel modules (which already ``import math, numpy as np, numba``);
``MATHLIB_FUNCTIONS`` maps ``(func, dtype)`` to the function name and
``MAX_ULP`` gives the documented error bound.

Algorithms (coefficients derived for this module with ``mpmath.chebyfit``,
see ``_derive_coefficients``):

* exp: the input is clamped to [-110, 90] / [-760, 720] in an order that
  lets NaN through (NaN then flows to the result, no final patch).  k =
  round(x/ln2) via the 1.5*2**p shift trick (k is read from the low mantissa
  bits, no float->int conversion; the shift constant also carries the
  exponent bias), Cody-Waite r = x - k*ln2 (ln2 split into 16+24 / 40+53
  bits), e^r - 1 = r + r^2*Q(r) with Q of degree 5 (f32) / 10 (f64), its
  tail evaluated Estrin-style / as even+odd halves (short dependency chain,
  no extra operations).  Scaling: 2**k = s1 * s2 with s1 = 2**+-64
  (2**+-512 for f64) chosen by the sign of x, so both factors are normal for
  every k; y = (s2 + s2*(e^r - 1)) * s1 is one fma (one rounding) and one
  exact multiply, which still gives overflow to inf and gradual underflow
  (one more rounding only for subnormal results) and never creates subnormal
  intermediates for ordinary results (those cost microcode assists on x86).
* log: exponent/mantissa split by integer ops on the bit pattern (mantissa
  centred on [sqrt(1/2), sqrt(2)), subnormals pre-scaled by 2**25 / 2**54),
  then the fdlibm-style form log(1+f) = f - hfsq + s*(hfsq + R(s^2)),
  s = f/(2+f), R of degree 3 (f32) / 7 (f64).
* log1p: u = 1 + x, g = u - 1 (exact) and c = x - g, the exact rounding error
  of 1 + x (for u < 2**24 / 2**53; c = 0 above), log1p = log(u) + c/u =
  log(u) - f + (f + c) - c*g/u.  For k = 0, f = g and f + c = x, so the result
  is x plus small terms: accurate down to tiny and subnormal x without a
  separate series.  One division serves s and 1/u: 1/((2+f)*u), u capped at
  2**64 / 2**256 (where c = 0) against overflow.  The sign is copied from x
  at the end (log1p(-0) = -0).
* tanh: |x| < 0.625: a + a*z*P(a^2), a = |x|, P of degree 5 (f32) / 11
  (f64); above, 1 - 2/(exp(2a) + 1) (no cancellation: the result is
  >= 0.55) with 2a clamped to 40 (tanh = 1 there), so 2**k is one normal
  factor.  Both sides are computed and selected, then the sign of x is
  copied onto the result (also tanh(-0) = -0; tiny a gives a exactly since
  a*z*P rounds away).  Worst error sits just above the 0.625 switch.
* Special values: exp(+-inf) = inf/0 and NaN come out of the clamp and the
  arithmetic; the rest is applied with selects at the end: log(0) = -inf,
  log(<0) = NaN, log1p(-1) = -inf, log1p(<-1) = NaN, f(inf) = inf,
  NaN -> NaN.
* Integer bit tricks on float32 stay int32: Numba types int32 arithmetic as
  int64, and where LLVM cannot narrow it back (e.g. an arithmetic shift of a
  sign-extended value, an integer select) the loop runs on <8 x i64> vectors
  (512-bit on AVX-512), 2-3x slower; wrap such values in np.int32(...) and
  keep selects in the float domain (the test checks the IR).

Measured accuracy (max error in ulp of the exact result; float32: exhaustive
over every float32 where the function is not saturated, vs float64 numpy;
float64: 34-45M random points per function (16 batches of the test's
sampler), vs 80-bit long double numpy):

    exp_f32 0.988   log_f32 0.858   log1p_f32 0.912   tanh_f32 1.330
    exp_f64 0.980   log_f64 0.867   log1p_f64 0.898   tanh_f64 1.342

(The previous version, one Horner chain and two-factor 2**k scaling, had the
same float32 maxima; on the same float64 points it gives the same maxima too:
the results differ from the current ones in ~0.003% of inputs.)

The float32 functions use float32 constants and arithmetic only (no fpext /
double in the IR).  All eight vectorize (checked in tests/test_mathlib.py via
``inspect_llvm``); float64 vectorizes too, at half the lanes.

IMPORTANT -- compile the *calling* kernel with ``error_model="numpy"`` and a
fastmath set without "reassoc"/"nnan"/"ninf" (e.g. ``fastmath=FASTMATH``).
``inline="always"`` inlines at the Numba-IR level, so the callee's own
``error_model``/``fastmath`` are ignored and the caller's apply: with the
default error model every division gets a ZeroDivisionError check (which also
blocks vectorization), and with ``fastmath=True`` the shift trick is folded
away (exp_f32(0.5) returns 2.0).  (Without ``inline="always"`` Numba compiles
them separately with their own flags and LLVM still inlines and vectorizes
them; that would be the more robust choice.)

Performance, measured on this machine (bench/bench_mathlib.py; Ice Lake
Xeon, AVX-512 present but LLVM uses 256-bit vectors; 1 thread; in L2 cache;
old = the previous version (git a56fafb), new = this one; the machine is
shared with other jobs, so absolute times move by up to ~1.5x between runs,
the ratio column ranged as shown over 4 runs):

    func              dtype    old ns/el  new ns/el  old/new (range)
    exp               float32      0.530      0.349  1.52x (1.48-1.52)
    log               float32      0.629      0.611  1.03x (1.03-1.06)
    log1p             float32      0.879      0.680  1.29x (1.21-1.31)
    tanh              float32      1.169      0.708  1.65x (1.24-1.68)
    log1p(exp(-|x|))  float32      2.235      1.553  1.44x (1.39-1.45)
    exp               float64      1.806      1.417  1.27x (1.23-1.30)
    log               float64      1.507      1.543  0.98x (0.94-1.06)
    log1p             float64      2.675      1.913  1.40x (1.31-1.40)
    tanh              float64      2.982      2.333  1.28x (1.28-1.49)
    log1p(exp(-|x|))  float64      5.881      4.032  1.46x (1.25-1.46)

Single loops like ``out[i] = exp_f32(x[i])`` are throughput-bound (the
out-of-order window overlaps iterations), so the gains come from fewer
vector operations per vector (loop body, loads/stores/moves not counted):
exp 19 / 24 (f32 / f64; was 28 / 30), log 28 / 33 (29 / 33), log1p 37 / 42
(45 / 52), tanh 29 / 40 (45 / 53).  Long compound chains such as
log1p(exp(-|x|)) are latency-bound (~120 cycles of dependent operations per
vector vs ~60 ops), so they gain from the shorter chains as well.

libm vs ours (``--libm``; 16M elements = memory-bound, 64K x256 = in cache):

    func   dtype    size       libm ms  ours ms  speedup
    exp    float32  16M          93.9     12.5    7.5x
    exp    float32  64K x256     92.7      8.6   10.8x
    log1p  float32  16M         263.2     14.1   18.6x
    log1p  float32  64K x256    207.0     13.9   14.9x
    exp    float64  16M         176.1     29.6    6.0x
    exp    float64  64K x256     97.8     17.6    5.6x
    log1p  float64  16M         291.7     47.4    6.2x
    log1p  float64  64K x256    286.4     45.5    6.3x
    (np.exp float32 16M: 23.3 ms)

exp_f32 over 16M elements runs at about memory bandwidth.  Inputs producing
subnormal results (x < -87.3) are much slower on x86 (microcode assists on
the final multiply), as they are for libm.  ``math.log1p`` on float32 is
especially slow in Numba.  float64 gains less (4 lanes; log is partly bound
by the division's throughput).
"""

MATHLIB_SOURCE = r'''
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
'''

MATHLIB_FUNCTIONS = {
    ("exp", "float32"): "exp_f32",
    ("exp", "float64"): "exp_f64",
    ("log", "float32"): "log_f32",
    ("log", "float64"): "log_f64",
    ("log1p", "float32"): "log1p_f32",
    ("log1p", "float64"): "log1p_f64",
    ("tanh", "float32"): "tanh_f32",
    ("tanh", "float64"): "tanh_f64",
}

MAX_ULP = {  # documented bounds: measured maxima (see docstring) rounded up
    ("exp", "float32"): 1.0,     # 0.988, exhaustive
    ("exp", "float64"): 1.0,     # 0.980, 34M random points
    ("log", "float32"): 0.9,     # 0.858, exhaustive
    ("log", "float64"): 0.9,     # 0.867, 35M random points
    ("log1p", "float32"): 0.95,  # 0.912, exhaustive
    ("log1p", "float64"): 0.95,  # 0.898, 35M random points (0.934 on an earlier sample)
    ("tanh", "float32"): 1.4,    # 1.330, exhaustive over |x| <= 9.5 (|x| > 9.01 gives +-1)
    ("tanh", "float64"): 1.4,    # 1.342, 45M random points
}


def _derive_coefficients():
    """Re-derive the polynomial coefficients in MATHLIB_SOURCE (needs mpmath
    and numpy; not used at runtime).  Returns {name: [c0, c1, ...]}.

    exp: Q(r) = (e^r - 1 - r) / r^2 on |r| <= 1.02 * ln2/2.
    log: Q(z) = (2 atanh(s) - 2 s) / s^3, z = s^2, s <= 1.02 * (sqrt2-1)/(sqrt2+1)
    (so R(z) = z * Q(z)).
    tanh: P(z) = (tanh(s) - s) / s^3, z = s^2, s <= 1.01 * 0.625.
    Chebyshev-series fits (near-minimax), rounded to
    the working precision.
    """
    import mpmath as mp
    import numpy as np

    mp.mp.dps = 60

    def qexp(r):
        if abs(r) < mp.mpf("1e-25"):
            return mp.mpf(1) / 2 + r / 6
        return (mp.exp(r) - 1 - r) / r ** 2

    def qlog(z):
        if z < mp.mpf("1e-50"):
            return mp.mpf(2) / 3 + 2 * z / 5
        s = mp.sqrt(z)
        return (2 * mp.atanh(s) - 2 * s) / (s * z)

    def qtanh(z):
        if z < mp.mpf("1e-40"):
            return -mp.mpf(1) / 3 + 2 * z / 15
        s = mp.sqrt(z)
        return (mp.tanh(s) - s) / (s * z)

    r_max = mp.log(2) / 2 * mp.mpf("1.02")
    z_max = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2 * mp.mpf("1.02")
    z_tanh = (mp.mpf("0.625") * mp.mpf("1.01")) ** 2
    out = {}
    for name, f, interval, degree, t in [
            ("EXP_F32", qexp, [-r_max, r_max], 5, np.float32),
            ("EXP_F64", qexp, [-r_max, r_max], 10, np.float64),
            ("LOG_F32", qlog, [0, z_max], 2, np.float32),
            ("LOG_F64", qlog, [0, z_max], 6, np.float64),
            ("TANH_F32", qtanh, [0, z_tanh], 5, np.float32),
            ("TANH_F64", qtanh, [0, z_tanh], 11, np.float64)]:
        coeffs, _err = mp.chebyfit(f, interval, degree + 1, error=True)
        out[name] = [float(t(float(c))) for c in coeffs[::-1]]
    return out
