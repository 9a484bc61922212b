"""The hidden Dense layer's matrix products in both layouts runtime.nn can use, side by side.

runtime.nn runs a hidden Dense layer feature-major (zᵀ = W aᵀ + b into an (out, batch) buffer)
below ``runtime.nn.FEATURE_MAJOR_BELOW`` samples and batch-major (z = a Wᵀ + b) from there on.
This script times the three products of one 784→256 layer (forward, ∂L/∂W, ∂L/∂a) through
NumPy's BLAS in each layout, interleaved, and prints the ratio, so the threshold can be
re-checked on another machine or BLAS:

    python bench/bench_mlp_layouts.py [--batches 64 256 1024] [--reps 200] [--threads 1]

``--split`` times instead, with OpenBLAS on 2 threads, each product of the layer (in the
layout runtime.nn uses at that batch) as one plain call, which OpenBLAS cuts up among its
threads, against the product's two halves (out's rows) in one call of OpenBLAS's batched
product ``cblas_sgemm_batch`` (through ctypes), which runs them side by side, one per thread;
and ∂L/∂W with ∂L/∂a of a 256→256 layer as two plain calls against one batched call. This is
the measurement behind not splitting products in runtime.nn: here (OpenBLAS 0.3.31, 2 cores,
two runs) the forward product was a tie at batch 64 (1.01–1.02×), the backward ones 1.12–1.20×
faster, and all a tie at 1024 (0.94–1.06×); but a training step with its products split (fwd
and bwd), or only the backward ones, was no faster than with plain calls (a prototype of
runtime.nn, interleaved, 200–500 blocks of 10 steps at batch 64: 0.869 against 0.874 ms and
1.115 against 1.117 ms medians): in the step the forward halves were slower (231 → 253 µs,
cold weights right after the optimizer) and the backward pairs gained ~25 µs of ~1 ms.

    python bench/bench_mlp_layouts.py --split [--batches 64 1024] [--reps 200]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def products(batch: int, d_in: int, d_out: int, feature_major: bool, rng):
    """A closure running forward, ∂L/∂W and ∂L/∂a as runtime.nn.Dense does in that layout."""
    w = rng.standard_normal((d_out, d_in), dtype=np.float32)
    x = rng.standard_normal((batch, d_in), dtype=np.float32)
    gw = np.empty_like(w)
    if feature_major:  # activations stored transposed: (features, batch) C-contiguous
        xt = np.ascontiguousarray(x.T)
        zt = np.empty((d_out, batch), np.float32)
        dt = rng.standard_normal((d_out, batch), dtype=np.float32)
        dat = np.empty((d_in, batch), np.float32)

        def run():
            np.matmul(w, xt, out=zt)            # zᵀ = W aᵀ
            np.matmul(dt, xt.T, out=gw)         # ∂L/∂W = δᵀ a with δᵀ, aᵀ stored
            np.matmul(w.T, dt, out=dat)         # (∂L/∂a)ᵀ = Wᵀ δᵀ
    else:
        z = np.empty((batch, d_out), np.float32)
        d = rng.standard_normal((batch, d_out), dtype=np.float32)
        da = np.empty_like(x)

        def run():
            np.matmul(x, w.T, out=z)            # z = a Wᵀ
            np.matmul(d.T, x, out=gw)           # ∂L/∂W = δᵀ a
            np.matmul(d, w, out=da)             # ∂L/∂a = δ W
    return run


def _batched_sgemm():
    """OpenBLAS's cblas_sgemm_batch from the library NumPy loaded, and its integer type."""
    import ctypes

    lib = None
    with open("/proc/self/maps") as maps:
        for path in dict.fromkeys(line.split()[-1] for line in maps if "openblas" in line):
            lib = ctypes.CDLL(path)
            break
    names = ("scipy_cblas_sgemm_batch64_", "cblas_sgemm_batch64_", "cblas_sgemm_batch")
    fn = next((getattr(lib, n) for n in names if lib is not None and hasattr(lib, n)), None)
    if fn is None:
        raise SystemExit("--split needs NumPy on an OpenBLAS with cblas_sgemm_batch (>= 0.3.29)")
    config = next(getattr(lib, n) for n in ("scipy_openblas_get_config64_",
                                            "openblas_get_config") if hasattr(lib, n))
    config.restype = ctypes.c_char_p
    wide = b"USE64BITINT" in config()
    fn.restype = None
    fn.argtypes = ([ctypes.c_int] + [ctypes.c_void_p] * 13
                   + [ctypes.c_int64 if wide else ctypes.c_int32, ctypes.c_void_p])
    return fn, (np.int64 if wide else np.int32)


def _side_by_side(fn, int_t, products):
    """A closure computing out = a @ b for each (a, b, out) in one batched call (row-major;
    out C-contiguous rows, a and b C- or F-ordered)."""
    cols = []
    for a, b, out in products:
        size = out.itemsize

        def op(x):  # (CblasNoTrans / CblasTrans, leading dimension)
            return (111, x.strides[0] // size) if x.strides[1] == size else \
                (112, x.strides[1] // size)

        (ta, lda), (tb, ldb) = op(a), op(b)
        cols.append((ta, tb, out.shape[0], out.shape[1], a.shape[1], a.ctypes.data, lda,
                     b.ctypes.data, ldb, out.ctypes.data, out.strides[0] // size))
    cols = list(zip(*cols))
    n = len(products)
    arrays = [np.array(cols[0], np.int32), np.array(cols[1], np.int32)]
    arrays += [np.array(c, int_t) for c in cols[2:5]]
    arrays += [np.ones(n, np.float32)]
    arrays += [np.array(c, np.uintp if i % 2 == 0 else int_t) for i, c in enumerate(cols[5:9])]
    arrays += [np.zeros(n, np.float32), np.array(cols[9], np.uintp), np.array(cols[10], int_t),
               np.ones(n, int_t)]
    args = [101] + [x.ctypes.data for x in arrays[:-1]] + [n, arrays[-1].ctypes.data]

    def run():
        fn(*args)
    run.keep = (arrays, products)  # the arrays the pointers point into
    return run


def split(batches, reps):
    """Plain multi-threaded calls against halves side by side (see the module docstring)."""
    fn, int_t = _batched_sgemm()
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from runtime import threads
    from runtime.nn import FEATURE_MAJOR_BELOW

    threads.set_blas_threads(2)
    rng = np.random.default_rng(0)
    f32 = np.float32
    print("| batch | product | OpenBLAS 2 threads µs | halves side by side µs | ratio |")
    print("|---:|---|---:|---:|---:|")
    for batch in batches:
        w = rng.standard_normal((256, 784), dtype=f32)
        x = rng.standard_normal((batch, 784), dtype=f32)
        w2 = rng.standard_normal((256, 256), dtype=f32)
        a1 = rng.standard_normal((batch, 256), dtype=f32)
        gw, gw2 = np.empty_like(w), np.empty_like(w2)
        if batch < FEATURE_MAJOR_BELOW:  # feature-major: (features, batch) arrays
            d = rng.standard_normal((256, batch), dtype=f32)
            zt, da = np.empty((256, batch), f32), np.empty((256, batch), f32)
            fwd, dw, dw2, dx2 = (w, x.T, zt), (d, x, gw), (d, a1, gw2), (w2.T, d, da)
        else:
            d = rng.standard_normal((batch, 256), dtype=f32)
            z, da = np.empty((batch, 256), f32), np.empty((batch, 256), f32)
            fwd, dw, dw2, dx2 = (x, w.T, z), (d.T, x, gw), (d.T, a1, gw2), (d, w2, da)

        def halves(a, b, out):
            h = out.shape[0] // 2
            return [(a[:h], b, out[:h]), (a[h:], b, out[h:])]

        cases = {"z = a Wᵀ (784→256)": ([fwd], halves(*fwd)),
                 "∂L/∂W (784→256)": ([dw], halves(*dw)),
                 "∂L/∂W ∥ ∂L/∂a (256→256)": ([dw2, dx2], [dw2, dx2])}
        for name, (plain, pair) in cases.items():
            together = _side_by_side(fn, int_t, pair)

            def one_by_one(plain=plain):
                for a, b, out in plain:
                    np.matmul(a, b, out=out)
            times = {0: [], 1: []}
            for _ in range(reps):  # interleaved: both see the same load
                for k, run in enumerate((one_by_one, together)):
                    t = time.perf_counter()
                    run()
                    times[k].append(time.perf_counter() - t)
            ref = [np.matmul(a, b) for a, b, _ in plain]
            together()
            assert all(np.allclose(r, out, rtol=1e-4, atol=1e-3)
                       for r, (_, _, out) in zip(ref, plain)), name
            t0, t1 = (float(np.median(times[k])) * 1e6 for k in (0, 1))
            print(f"| {batch} | {name} | {t0:.0f} | {t1:.0f} | {t0 / t1:.2f}× |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    ap.add_argument("--split", action="store_true",
                    help="plain 2-thread calls against halves side by side (batched call)")
    args = ap.parse_args()
    if args.split:
        split(args.batches, args.reps)
        return
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        limit = None
        print("threadpoolctl not installed: BLAS runs with its default thread count")
    rng = np.random.default_rng(0)
    print("| batch | batch-major µs | feature-major µs | batch-major / feature-major |")
    print("|---:|---:|---:|---:|")
    for batch in args.batches:
        runs = {fm: products(batch, 784, 256, fm, rng) for fm in (False, True)}
        times = {False: [], True: []}
        for _ in range(args.reps):  # interleaved: both layouts see the same load
            for fm, run in runs.items():
                t = time.perf_counter()
                run()
                times[fm].append(time.perf_counter() - t)
        bm, fm = (float(np.median(times[k])) * 1e6 for k in (False, True))
        print(f"| {batch} | {bm:.0f} | {fm:.0f} | {bm / fm:.2f}× |")
    if limit is not None:
        limit.restore_original_limits()


if __name__ == "__main__":
    main()
