"""Benchmark codegen.numba_mathlib in njit loops (single thread).

Two tables:

* ``--compare REV`` (default): the mathlib of git revision REV ("old") against
  the working-tree one ("new"), side by side, in ns/element over a 16K-element
  array that stays in L2 cache (compute-bound): exp, log, log1p, tanh and the
  compound ``log1p(exp(-|x|))`` used by the bce_logits loss, float32 and
  float64.  The old source text comes from ``git show REV:codegen/numba_mathlib.py``.
* ``--libm``: libm (``math.exp`` / ``math.log1p``) against ours over 16M
  elements (memory-bound) and over a 64K-element array repeated 256x.

All loops are compiled with the flags generated kernels use
(error_model="numpy", fastmath=FASTMATH).  Times are the best of --repeat
runs; old and new alternate, so load from other jobs on a shared machine hits
both.  old/new > 1 means the new version is faster.

Usage:  python bench/bench_mathlib.py [--compare a56fafb] [--funcs exp tanh] [--dtypes float32]
                                      [--libm] [--repeat 15]
"""
import argparse
import importlib.util
import math
import pathlib
import subprocess
import time

import numba
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
# the mathlib before the latency rework (one long Horner chain, two-factor scaling)
BASE_REV = "a56fafb"


def load_mathlib():
    try:
        from codegen import numba_mathlib as m  # noqa: F401
        return m
    except ImportError:
        path = ROOT / "codegen" / "numba_mathlib.py"
        spec = importlib.util.spec_from_file_location("numba_mathlib", path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        return m


def namespace(source):
    ns = {"math": math, "np": np, "numba": numba}
    exec(compile(source, "<MATHLIB_SOURCE>", "exec"), ns)
    return ns


def old_source(rev):
    text = subprocess.run(["git", "show", "%s:codegen/numba_mathlib.py" % rev], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout
    glb = {}
    exec(compile(text, "<old numba_mathlib>", "exec"), glb)
    return glb["MATHLIB_SOURCE"]


M = load_mathlib()
NS = namespace(M.MATHLIB_SOURCE)
FLAGS = dict(error_model="numpy", fastmath=NS["FASTMATH"])


def make_loop(f):
    @numba.njit(**FLAGS)
    def loop(x, out, reps):
        for _ in range(reps):
            for i in range(x.size):
                out[i] = f(x[i])
    return loop


def make_compound(ns, dt):
    """log1p(exp(-|x|)), the softplus tail of bce_logits."""
    sfx = "f32" if dt == "float32" else "f64"
    ex, l1p = ns["exp_" + sfx], ns["log1p_" + sfx]

    @numba.njit(**FLAGS)
    def loop(x, out, reps):
        for _ in range(reps):
            for i in range(x.size):
                out[i] = l1p(ex(-abs(x[i])))
    return loop


@numba.njit(**FLAGS)
def _math_exp(v):
    return math.exp(v)


@numba.njit(**FLAGS)
def _math_log1p(v):
    return math.log1p(v)


def best_time(fn, x, out, reps, repeat):
    fn(x[:64], out[:64], 1)  # compile
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(x, out, reps)
        ts.append(time.perf_counter() - t0)
    return min(ts)


RANGES = {"exp": (-10.0, 10.0), "log": (1e-3, 1e3), "log1p": (-0.9, 10.0),
          "tanh": (-5.0, 5.0), "log1p(exp(-|x|))": (-10.0, 10.0)}


def compare(rev, repeat, funcs=None, dtypes=("float32", "float64")):
    old = namespace(old_source(rev))
    rng = np.random.default_rng(0)
    n, reps = 1 << 14, 50
    print("in-cache (%d elements x %d), 1 thread, best of %d: old = %s, new = working tree"
          % (n, reps, repeat, rev))
    print("%-17s %-8s %10s %10s %8s" % ("func", "dtype", "old ns/el", "new ns/el", "old/new"))
    for dt in dtypes:
        sfx = "f32" if dt == "float32" else "f64"
        for fname, (lo, hi) in RANGES.items():
            if funcs and fname not in funcs:
                continue
            if fname == "log":  # log-uniform over the range
                x = np.exp(rng.uniform(np.log(lo), np.log(hi), n)).astype(dt)
            else:
                x = rng.uniform(lo, hi, n).astype(dt)
            out = np.empty_like(x)
            loops = []
            for ns in (old, NS):
                if fname.startswith("log1p(exp"):
                    loops.append(make_compound(ns, dt))
                else:
                    loops.append(make_loop(ns["%s_%s" % (fname, sfx)]))
                loops[-1](x[:64], out[:64], 1)  # compile
            # alternate old/new so load changes on the shared machine hit both
            ts = [math.inf, math.inf]
            for _ in range(repeat):
                for j, loop in enumerate(loops):
                    ts[j] = min(ts[j], best_time(loop, x, out, reps, 1) / (n * reps) * 1e9)
            print("%-17s %-8s %10.3f %10.3f %7.2fx" % (fname, dt, ts[0], ts[1], ts[0] / ts[1]))


def libm(n, repeat):
    rng = np.random.default_rng(0)
    cases = [
        ("exp", "float32", _math_exp, "exp_f32", (-10.0, 10.0)),
        ("log1p", "float32", _math_log1p, "log1p_f32", (-0.9, 10.0)),
        ("exp", "float64", _math_exp, "exp_f64", (-10.0, 10.0)),
        ("log1p", "float64", _math_log1p, "log1p_f64", (-0.9, 10.0)),
    ]
    print("numba %s, numpy %s, threads=1 (both loops), n=%d, best of %d"
          % (numba.__version__, np.__version__, n, repeat))
    print("%-6s %-8s %-9s %10s %10s %8s" % ("func", "dtype", "size", "libm ms", "ours ms", "speedup"))
    for fname, dt, libm_f, ours_name, (lo, hi) in cases:
        x_big = rng.uniform(lo, hi, n).astype(dt)
        out_big = np.empty_like(x_big)
        libm_loop = make_loop(libm_f)
        ours_loop = make_loop(NS[ours_name])
        for label, x, reps in (("16M" if n == 1 << 24 else str(n), x_big, 1),
                               ("64K x256", x_big[: 1 << 16].copy(), 256)):
            out = out_big[: x.size]
            t_libm = best_time(libm_loop, x, out, reps, repeat)
            t_ours = best_time(ours_loop, x, out, reps, repeat)
            print("%-6s %-8s %-9s %10.2f %10.2f %7.2fx"
                  % (fname, dt, label, t_libm * 1e3, t_ours * 1e3, t_libm / t_ours))
    x = rng.uniform(-10, 10, n).astype(np.float32)
    t0 = time.perf_counter()
    np.exp(x)
    print("np.exp float32 %d (for reference): %.2f ms" % (n, (time.perf_counter() - t0) * 1e3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", default=BASE_REV, metavar="REV",
                    help="git revision of the old mathlib (default %(default)s)")
    ap.add_argument("--libm", action="store_true", help="also time libm vs ours")
    ap.add_argument("--n", type=int, default=1 << 24, help="array size for --libm")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--funcs", nargs="*", help="subset of %s" % ", ".join(RANGES))
    ap.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    args = ap.parse_args()
    numba.set_num_threads(1)
    compare(args.compare, args.repeat, args.funcs, args.dtypes)
    if args.libm:
        libm(args.n, args.repeat)


if __name__ == "__main__":
    main()
