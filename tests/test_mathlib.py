"""Accuracy / special-value / vectorization tests for codegen/numba_mathlib.py.

The float32 functions are checked on a dense sweep of bit patterns (every
67th float32 -- an odd stride so all low-bit residues are hit -- in the ranges
where the function is not trivially saturated, plus a coarse sweep of
everything else) against numpy float64.  The float64 functions are checked on
random bit patterns and on dense random samples of the interesting ranges
against numpy long double (80-bit on x86; falls back to mpmath otherwise).
Errors are measured in fractional ulp of the (unrounded) reference.
"""
import importlib.util
import math
import pathlib
import re

import numba
import numpy as np
import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "codegen" / "numba_mathlib.py"
_spec = importlib.util.spec_from_file_location("_numba_mathlib_under_test", _PATH)
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

KEYS = sorted(M.MATHLIB_FUNCTIONS)
REF = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "tanh": np.tanh}
CHUNK = 1 << 22


@pytest.fixture(scope="module")
def ns():
    namespace = {"math": math, "np": np, "numba": numba}
    exec(compile(M.MATHLIB_SOURCE, "<MATHLIB_SOURCE>", "exec"), namespace)
    return namespace


_LOOPS = {}


def get_loop(ns, key):
    """njit loop out[i] = f(x[i]) compiled the way generated kernels are."""
    if key not in _LOOPS:
        f = ns[M.MATHLIB_FUNCTIONS[key]]

        @numba.njit(error_model="numpy", fastmath=ns["FASTMATH"])
        def loop(x, out):
            for i in range(x.size):
                out[i] = f(x[i])

        _LOOPS[key] = loop
    return _LOOPS[key]


def run(ns, key, x):
    x = np.ascontiguousarray(x, dtype=np.dtype(key[1]))
    out = np.empty_like(x)
    get_loop(ns, key)(x, out)
    return out


def have_extended_longdouble():
    return np.finfo(np.longdouble).nmant >= 63


def reference(fname, x):
    """High-precision reference (float64 for float32 inputs, long double or
    mpmath for float64 inputs), unrounded."""
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            return REF[fname](x.astype(np.float64))
        if have_extended_longdouble():
            return REF[fname](x.astype(np.longdouble))
    import mpmath

    mp_f = {"exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh}[fname]
    mpmath.mp.prec = 80
    out = np.empty(x.size, dtype=object)
    for i, v in enumerate(x.tolist()):
        if math.isnan(v):
            out[i] = math.nan
        elif fname == "log" and v < 0 or fname == "log1p" and v < -1:
            out[i] = math.nan
        elif fname == "log" and v == 0 or fname == "log1p" and v == -1:
            out[i] = -math.inf
        elif math.isinf(v):
            out[i] = math.copysign(1.0, v) if fname == "tanh" else (math.inf if v > 0 else 0.0)
        else:
            out[i] = mp_f(mpmath.mpf(v))
    return out


def ulp_errors(y, x, fname):
    """Returns (max ulp error over finite references, index, mask of
    mismatching non-finite results)."""
    dt = y.dtype
    ref = reference(fname, x)
    if ref.dtype == object:  # mpmath fallback
        yr = np.array([float(v) for v in ref])
        with np.errstate(all="ignore"):
            err = np.array([
                float(abs(r - float(yy)) / (2.0 ** (max(math.frexp(float(r))[1], -1021) - 53)))
                if math.isfinite(float(r)) and math.isfinite(float(yy)) and float(r) != 0 else 0.0
                for r, yy in zip(ref, y.tolist())])
        refr = yr.astype(dt)
    else:
        with np.errstate(all="ignore"):
            refr = ref.astype(dt)
        fin = np.isfinite(refr)
        p, emin = (24, -125) if dt == np.float32 else (53, -1021)
        _, e = np.frexp(np.where(fin, ref, 1))
        ulp = np.ldexp(np.ones(ref.shape, ref.dtype), np.maximum(e, emin) - p)
        with np.errstate(all="ignore"):
            err = np.where(fin, np.abs(y.astype(ref.dtype) - ref) / ulp, 0.0)
        err = err.astype(np.float64)
    bad = ~np.isfinite(refr) & ~((y == refr) | (np.isnan(y) & np.isnan(refr)))
    # finite reference but non-finite result -> infinite error
    err = np.where(np.isfinite(refr) & ~np.isfinite(y), np.inf, err)
    i = int(np.argmax(err)) if err.size else 0
    return (float(err[i]) if err.size else 0.0), i, bad


def check(ns, key, x, tol=None):
    fname, _ = key
    tol = M.MAX_ULP[key] if tol is None else tol
    worst = 0.0
    for s in range(0, x.size, CHUNK):
        xc = x[s:s + CHUNK]
        y = run(ns, key, xc)
        err, i, bad = ulp_errors(y, xc, fname)
        assert not bad.any(), (key, xc[bad][:8], y[bad][:8])
        assert err <= tol, (key, "x=%r y=%r err=%.3f ulp" % (xc[i], y[i], err))
        worst = max(worst, err)
    return worst


def f32_bits(lo, hi, stride):
    return np.arange(lo, hi, stride, dtype=np.int64).astype(np.uint32).view(np.float32)


# Dense float32 bit ranges (positive patterns; negated where relevant).
F32_DENSE = {
    # exp: all |x| < 2**-24 give 1; everything beyond +-104 saturates
    "exp": [(0x33000000, 0x42D00000, 97, (1, -1))],
    # log: every positive finite float incl. subnormals
    "log": [(0x00000000, 0x7F800000, 97, (1,))],
    # log1p: all x > 0 (incl. subnormals) and -1 < x < 0
    "log1p": [(0x00000000, 0x7F800000, 97, (1,)),
              (0x00000000, 0x3F800000, 97, (-1,))],
    # tanh: every |x| <= 9.5 incl. subnormals (float32 tanh is +-1 beyond 9.01)
    "tanh": [(0x00000000, 0x41180000, 97, (1, -1))],
}


@pytest.mark.parametrize("fname", ["exp", "log", "log1p", "tanh"])
def test_float32_dense_sweep(ns, fname):
    key = (fname, "float32")
    for lo, hi, stride, signs in F32_DENSE[fname]:
        b = f32_bits(lo, hi, stride)
        for sgn in signs:
            check(ns, key, b if sgn > 0 else -b)
    # coarse sweep of every finite float32 of both signs (saturation, NaN)
    b = f32_bits(0, 0x7F800000, 4099)
    check(ns, key, np.concatenate([b, -b]))


def f64_samples(fname, rng):
    n = 400_000
    bits = rng.integers(0, 0x7FF0000000000000, n, dtype=np.int64).view(np.float64)
    logu = np.exp2(rng.uniform(-1074, 1024, n)) * rng.choice([-1.0, 1.0], n)
    parts = [bits, -bits, logu]
    if fname == "exp":
        parts += [rng.uniform(-746, 710, n), rng.uniform(-1, 1, n),
                  rng.uniform(-1e-8, 1e-8, n // 4)]
    elif fname == "log":
        parts += [rng.uniform(0, 4, n), rng.uniform(0.7, 1.45, n),
                  1.0 + rng.uniform(-1e-7, 1e-7, n // 4),
                  np.exp2(rng.uniform(-1074, -1022, n // 4))]
    elif fname == "tanh":
        # both sides of the 0.625 switch, the exp branch, tiny and saturated
        parts += [rng.uniform(-1, 1, n), rng.uniform(0.6, 0.7, n), rng.uniform(-20, 20, n),
                  np.exp2(rng.uniform(-60, 5, n)) * rng.choice([-1.0, 1.0], n)]
    else:
        parts += [rng.uniform(-1, 3, n), rng.uniform(-0.3, 0.42, n),
                  -1.0 + np.exp2(rng.uniform(-53, -1, n // 4)),
                  rng.uniform(-1e-8, 1e-8, n // 4)]
    return np.concatenate(parts)


@pytest.mark.parametrize("fname", ["exp", "log", "log1p", "tanh"])
def test_float64_random(ns, fname):
    rng = np.random.default_rng(12345)
    x = f64_samples(fname, rng)
    if not have_extended_longdouble():
        x = x[:: max(1, x.size // 20000)]
    check(ns, (fname, "float64"), x)


F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = float(np.finfo(np.float32).tiny)
F32_SUB = float(np.finfo(np.float32).smallest_subnormal)
F64_MAX = float(np.finfo(np.float64).max)
F64_TINY = float(np.finfo(np.float64).tiny)
F64_SUB = float(np.finfo(np.float64).smallest_subnormal)
INF, NAN = math.inf, math.nan


def edge_inputs(fname, dt):
    fmax, tiny, sub = (F32_MAX, F32_TINY, F32_SUB) if dt == "float32" else (F64_MAX, F64_TINY, F64_SUB)
    common = [0.0, -0.0, INF, -INF, NAN, -NAN, sub, -sub, tiny, -tiny, fmax, -fmax,
              1.0, -1.0, 0.5, 2.0, 1e-30, -1e-30]
    t = np.dtype(dt).type
    near = lambda v: [float(np.nextafter(t(v), t(d), dtype=t)) for d in (-INF, INF)] + [v]  # noqa
    if fname == "exp":
        if dt == "float32":
            ex = near(88.72283935546875) + near(88.72283172607422) + near(-87.33654) \
                + near(-103.97208) + near(-103.27893) + [89.0, 90.0, 100.0, -104.0, -110.0, -150.0]
        else:
            ex = near(709.782712893384) + near(-708.3964185322641) + near(-745.1332191019411) \
                + near(-744.4400719213812) + [710.0, 720.0, 800.0, -746.0, -760.0, -1000.0]
        ex += [1e-10, -1e-10, 0.34657359, -0.34657359, 0.6931471805599453, -0.6931471805599453]
    elif fname == "log":
        ex = near(1.0) + near(0.5) + near(2.0) \
            + [sub * 3, sub * 1000, tiny / 2, tiny * 1.5, 0.7071067811865476, 1.4142135623730951,
               math.e, 10.0, 1e30, -5.0]
    elif fname == "tanh":
        ex = near(0.625) + near(-0.625) + near(2.0 ** -12) + near(2.0 ** -27) \
            + [9.0, -9.0, 9.1, 19.0, 20.0, -20.0, 44.0, 45.0, 89.0, 400.0, -400.0, 1e-5, -1e-5]
    else:
        ex = near(-1.0) + near(0.0) + [-0.5, -0.9999, -0.29289321881345254, 0.41421356237309515,
                                       1e-5, -1e-5, 1e-10, -1e-10, sub * 7, -sub * 7, tiny * 3,
                                       -2.0, 1e30, fmax / 2, 3e-8, -3e-8, 6e-8, -6e-8]
        # where 1 + x stops being exact in the correction term, and the 2**64 / 2**256 cap
        big = 2.0 ** 64 if dt == "float32" else 2.0 ** 256
        ex += near(2.0 ** 24) + near(2.0 ** 25) + near(2.0 ** 53) + near(big) \
            + near(2.0 ** -18) + near(-2.0 ** -18) + near(2.0 ** -24) + near(-2.0 ** -25)
    return np.array(common + ex, dtype=dt)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: "%s-%s" % k if isinstance(k, tuple) else k)
def test_edge_cases(ns, key):
    fname, dt = key
    x = edge_inputs(fname, dt)
    check(ns, key, x)
    y = run(ns, key, x)
    with np.errstate(all="ignore"):
        expect = REF[fname](x.astype(np.float64)).astype(dt)
    # exact special values
    for xi, yi, ei in zip(x, y, expect):
        if np.isnan(ei):
            assert np.isnan(yi), (key, xi, yi)
        elif np.isinf(ei):
            assert yi == ei, (key, xi, yi)
        elif ei == 0:
            assert yi == 0, (key, xi, yi)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_explicit_specials(ns, dt):
    t = np.dtype(dt).type
    f = {n: (lambda v, _n=n: run(ns, (_n, dt), np.array([v], dtype=dt))[0]) for n in REF}
    assert f["exp"](t(INF)) == INF
    assert f["exp"](t(-INF)) == 0
    assert np.isnan(f["exp"](t(NAN)))
    assert f["exp"](t(1000)) == INF
    assert f["exp"](t(-1000)) == 0
    assert f["exp"](t(0)) == 1
    assert f["log"](t(0)) == -INF
    assert f["log"](t(-0.0)) == -INF
    assert np.isnan(f["log"](t(-1)))
    assert np.isnan(f["log"](t(-INF)))
    assert f["log"](t(INF)) == INF
    assert np.isnan(f["log"](t(NAN)))
    assert f["log"](t(1)) == 0
    sub = np.finfo(dt).smallest_subnormal
    assert f["log"](t(sub)) == t(math.log(float(sub)))
    assert f["log1p"](t(-1)) == -INF
    assert np.isnan(f["log1p"](t(-1.5)))
    assert np.isnan(f["log1p"](t(-INF)))
    assert f["log1p"](t(INF)) == INF
    assert np.isnan(f["log1p"](t(NAN)))
    for v in (1e-30, -1e-30, sub, -sub, 1e-20):
        assert f["log1p"](t(v)) == t(v)
    assert f["log1p"](t(0)) == 0 and not np.signbit(f["log1p"](t(0)))
    assert f["log1p"](t(-0.0)) == 0 and np.signbit(f["log1p"](t(-0.0)))
    assert f["tanh"](t(0)) == 0 and not np.signbit(f["tanh"](t(0)))
    assert f["tanh"](t(-0.0)) == 0 and np.signbit(f["tanh"](t(-0.0)))
    assert f["tanh"](t(INF)) == 1
    assert f["tanh"](t(-INF)) == -1
    assert np.isnan(f["tanh"](t(NAN)))
    for v in (30.0, 1000.0, float(np.finfo(dt).max)):
        assert f["tanh"](t(v)) == 1 and f["tanh"](t(-v)) == -1
    for v in (1e-30, -1e-30, sub, -sub):
        assert f["tanh"](t(v)) == t(v)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: "%s-%s" % k if isinstance(k, tuple) else k)
def test_vectorized_and_no_promotion(ns, key):
    loop = get_loop(ns, key)
    x = np.ones(64, dtype=key[1])
    loop(x, np.empty_like(x))
    ir = loop.inspect_llvm(loop.signatures[0])
    llty = "float" if key[1] == "float32" else "double"
    assert re.search(r"<\d+ x %s>" % llty, ir), "loop was not vectorized"
    if key[1] == "float32":
        assert "fpext" not in ir and "double" not in ir, "float32 code promoted to double"
        # int32 bit tricks must stay 32-bit: Numba types int32 arithmetic as
        # int64, and when LLVM cannot narrow it back the loop runs on <8 x i64>
        # (zmm on AVX-512, split halves on AVX2), measured 2-3x slower
        assert not re.search(r"<\d+ x i64>", ir), "float32 code uses 64-bit integer vectors"
    # no libm calls left in the loop
    assert not re.search(r"call .*@(expf?|logf?|log1pf?|tanhf?)\(", ir)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: "%s-%s" % k if isinstance(k, tuple) else k)
def test_scalar_dtype(ns, key):
    f = ns[M.MATHLIB_FUNCTIONS[key]]
    t = np.dtype(key[1]).type
    f(t(0.75))
    sig = [s for s in f.signatures if s[0] == numba.from_dtype(np.dtype(key[1]))][0]
    assert f.overloads[sig].signature.return_type == numba.from_dtype(np.dtype(key[1]))


def test_module_contract():
    assert set(M.MATHLIB_FUNCTIONS) == set(M.MAX_ULP)
    assert all(M.MAX_ULP[k] <= 2 for k in M.MAX_ULP)
    src = M.MATHLIB_SOURCE
    assert 'FASTMATH = {"nsz", "arcp", "contract", "afn"}' in src
    for bad in ("nnan", "ninf", "reassoc"):
        assert bad not in src.split("FASTMATH =")[1].split("\n")[0]
    for name in M.MATHLIB_FUNCTIONS.values():
        assert re.search(r'@numba\.njit\(inline="always", error_model="numpy", '
                         r'fastmath=FASTMATH\)\ndef %s\(x\):' % name, src), name
    # the module itself must not import numba/numpy
    text = _PATH.read_text()
    head = text.split("MATHLIB_SOURCE")[0]
    assert "import numba" not in head and "import numpy" not in head


def test_coefficients_match_derivation():
    pytest.importorskip("mpmath")
    for name, coeffs in M._derive_coefficients().items():
        func, prec = name.split("_")          # e.g. EXP, F32
        for i, c in enumerate(coeffs):
            m = re.search(r"_ML_%s_%s_C%d = np\.float(?:32|64)\(([^)]*)\)" % (prec, func, i),
                          M.MATHLIB_SOURCE)
            assert m and float(m.group(1)) == c, (name, i, c)
