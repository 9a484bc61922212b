"""The hidden Dense layer's matrix products in both layouts runtime.nn can use, side by side.

runtime.nn runs a hidden Dense layer feature-major (zᵀ = W aᵀ + b into an (out, batch) buffer)
below ``runtime.nn.FEATURE_MAJOR_BELOW`` samples and batch-major (z = a Wᵀ + b) from there on.
This script times the three products of one 784→256 layer (forward, ∂L/∂W, ∂L/∂a) through
NumPy's BLAS in each layout, interleaved, and prints the ratio, so the threshold can be
re-checked on another machine or BLAS:

    python bench/bench_mlp_layouts.py [--batches 64 256 1024] [--reps 200] [--threads 1]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    args = ap.parse_args()
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
