"""Benchmark: libm (math.exp / math.log1p) vs codegen.numba_mathlib in njit loops.

Times ``out[i] = f(x[i])`` over 16M elements (single-threaded, both loops
compiled with the same flags: error_model="numpy", fastmath=FASTMATH), and the
same over a 64K-element array that stays in L2 cache (repeated 256x) to show
the compute throughput without the memory-bandwidth limit.

Usage:  python bench/bench_mathlib.py [--n 16777216] [--repeat 5]
"""
import argparse
import importlib.util
import math
import pathlib
import time

import numba
import numpy as np


def load_mathlib():
    try:
        from codegen import numba_mathlib as m  # noqa: F401
        return m
    except ImportError:
        path = pathlib.Path(__file__).resolve().parents[1] / "codegen" / "numba_mathlib.py"
        spec = importlib.util.spec_from_file_location("numba_mathlib", path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        return m


M = load_mathlib()
NS = {"math": math, "np": np, "numba": numba}
exec(compile(M.MATHLIB_SOURCE, "<MATHLIB_SOURCE>", "exec"), NS)
FLAGS = dict(error_model="numpy", fastmath=NS["FASTMATH"])


def make_loop(f):
    @numba.njit(**FLAGS)
    def loop(x, out, reps):
        for _ in range(reps):
            for i in range(x.size):
                out[i] = f(x[i])
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1 << 24)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    cases = [
        ("exp", "float32", _math_exp, "exp_f32", (-10.0, 10.0)),
        ("log1p", "float32", _math_log1p, "log1p_f32", (-0.9, 10.0)),
        ("exp", "float64", _math_exp, "exp_f64", (-10.0, 10.0)),
        ("log1p", "float64", _math_log1p, "log1p_f64", (-0.9, 10.0)),
    ]
    print("numba %s, numpy %s, threads=1 (both loops), n=%d, best of %d"
          % (numba.__version__, np.__version__, args.n, args.repeat))
    print("%-6s %-8s %-9s %10s %10s %8s" % ("func", "dtype", "size", "libm ms", "ours ms", "speedup"))
    for fname, dt, libm_f, ours_name, (lo, hi) in cases:
        x_big = rng.uniform(lo, hi, args.n).astype(dt)
        out_big = np.empty_like(x_big)
        libm_loop = make_loop(libm_f)
        ours_loop = make_loop(NS[ours_name])
        for label, x, reps in (("16M" if args.n == 1 << 24 else str(args.n), x_big, 1),
                               ("64K x256", x_big[: 1 << 16].copy(), 256)):
            out = out_big[: x.size]
            t_libm = best_time(libm_loop, x, out, reps, args.repeat)
            t_ours = best_time(ours_loop, x, out, reps, args.repeat)
            print("%-6s %-8s %-9s %10.2f %10.2f %7.2fx"
                  % (fname, dt, label, t_libm * 1e3, t_ours * 1e3, t_libm / t_ours))
    # numpy for reference
    x = rng.uniform(-10, 10, args.n).astype(np.float32)
    t0 = time.perf_counter()
    np.exp(x)
    print("np.exp float32 16M (for reference): %.2f ms" % ((time.perf_counter() - t0) * 1e3))


if __name__ == "__main__":
    main()
