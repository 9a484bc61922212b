"""The MLP's eight matrix products under OpenBLAS (NumPy's), Intel MKL and PyTorch, side by side.

A training step of bench_mlp.py's 784-256-256-10 network spends most of its time in eight
products (three forward, ∂L/∂W of each layer, ∂L/∂a of the upper two). NumPy's wheels bundle
OpenBLAS; PyTorch's CPU build uses MKL. This script times the eight products (batch-major, as
runtime.nn runs them from batch 256 on) through

- ``numpy.matmul`` with ``out=`` (OpenBLAS), with the kernels it picked or the environment's
  ``OPENBLAS_CORETYPE`` forced, and, when that variable is set, again with it removed
  (``openblas-auto``: the kernels OpenBLAS detects for this CPU),
- MKL's ``cblas_sgemm`` through ctypes, when Intel's ``mkl`` wheel is installed
  (``pip install mkl``; not a dependency of the project),
- ``torch.mm`` with ``out=``, when PyTorch is installed,

each library in its own process (their thread pools must not spin next to each other), on 1
and on 2 threads, the processes alternating over ``--runs`` rounds, every product checked
against a float64 product first. It prints each product's median time and the sum, and each
library's sum over OpenBLAS's.

This is the measurement behind keeping NumPy's BLAS in runtime.nn (bench/RESULTS.md).

    python bench/bench_blas.py [--batches 64 1024] [--runs 2] [--reps 30]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = (784, 256, 256, 10)
LIBRARIES = ("openblas", "openblas-auto", "mkl", "torch")


def products(batch: int, rng):
    """[(name, a, b, out)] with out = a @ b: the step's eight products, runtime.nn's layout."""
    f = np.float32
    d0, d1, d2, d3 = SIZES
    x = rng.standard_normal((batch, d0), dtype=f)
    w1, w2, w3 = (rng.standard_normal((o, i), dtype=f) for i, o in zip(SIZES, SIZES[1:]))
    a1, a2 = (rng.standard_normal((batch, d), dtype=f) for d in (d1, d2))
    g1, g2, g3 = (rng.standard_normal((batch, d), dtype=f) for d in (d1, d2, d3))
    pairs = [("fwd L1", x, w1.T), ("fwd L2", a1, w2.T), ("fwd L3", a2, w3.T),
             ("dW L3", g3.T, a2), ("dA L3", g3, w3), ("dW L2", g2.T, a1), ("dA L2", g2, w2),
             ("dW L1", g1.T, x)]
    return [(n, a, b, np.empty((a.shape[0], b.shape[1]), f)) for n, a, b in pairs]


def _mkl_gemm():
    """MKL's cblas_sgemm as ``gemm(a, b, out)`` (row-major operands, or transposed views)."""
    import ctypes
    from importlib import metadata

    try:
        files = metadata.distribution("mkl").files or ()
    except metadata.PackageNotFoundError:
        return None
    path = next((str(p.locate()) for p in files if p.name.startswith("libmkl_rt.so")), None)
    if path is None:
        return None
    lib = ctypes.CDLL(path)
    fn = lib.cblas_sgemm
    P, I = ctypes.c_void_p, ctypes.c_int
    fn.restype = None
    fn.argtypes = [I, I, I, I, I, I, ctypes.c_float, P, I, P, I, ctypes.c_float, P, I]

    def layout(a):  # (trans flag, leading dimension): C-contiguous, or a C-contiguous array's .T
        return (111, a.strides[0] // 4) if a.flags.c_contiguous else (112, a.strides[1] // 4)

    def gemm(a, b, out):
        (ta, lda), (tb, ldb) = layout(a), layout(b)
        m, k = a.shape
        fn(101, ta, tb, m, b.shape[1], k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0,
           out.ctypes.data, out.shape[1])

    return lib, gemm


def worker(library: str, threads: int, batch: int, reps: int) -> dict:
    """{product: median ms} for one library in this process, or {"skipped": reason}."""
    rng = np.random.default_rng(0)
    prods = products(batch, rng)
    if library.startswith("openblas"):
        from runtime import threads as plans

        if library == "openblas-auto" and "OPENBLAS_CORETYPE" in os.environ:
            raise RuntimeError("openblas-auto runs without OPENBLAS_CORETYPE")
        plans.set_blas_threads(threads)
        kernels = plans.blas_kernels()
        calls = [lambda a=a, b=b, c=c: np.matmul(a, b, out=c) for _, a, b, c in prods]
    elif library == "mkl":
        found = _mkl_gemm()
        if found is None:
            return {"skipped": "Intel MKL not installed (pip install mkl)"}
        lib, gemm = found
        lib.MKL_Set_Num_Threads(threads)
        calls = [lambda a=a, b=b, c=c: gemm(a, b, c) for _, a, b, c in prods]
    else:
        try:
            import torch
        except ImportError:
            return {"skipped": "PyTorch not installed (pip install torch==2.13.0)"}
        torch.set_num_threads(threads)
        t = torch.from_numpy
        calls = [lambda a=t(a), b=t(b), c=t(c): torch.mm(a, b, out=c) for _, a, b, c in prods]
    for (name, a, b, c), call in zip(prods, calls):
        call()
        want = a.astype(np.float64) @ b.astype(np.float64)
        err = np.abs(c - want).max() / np.abs(want).max()
        if not err < 1e-5:
            raise AssertionError(f"{library}: {name} is off by {err:.2e} (relative to its max)")
    times = [[] for _ in calls]
    for r in range(reps + 3):  # three warm-up rounds
        for j, call in enumerate(calls):
            t0 = time.perf_counter()
            call()
            if r >= 3:
                times[j].append(time.perf_counter() - t0)
    out = {name: statistics.median(t) * 1e3 for (name, *_), t in zip(prods, times)}
    if library.startswith("openblas"):
        out["kernels"] = kernels
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 1024])
    ap.add_argument("--runs", type=int, default=2, help="rounds over the libraries' processes")
    ap.add_argument("--reps", type=int, default=30, help="timed calls of each product per process")
    ap.add_argument("--worker", nargs=3, metavar=("LIBRARY", "THREADS", "BATCH"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        lib, threads, batch = args.worker
        print(json.dumps(worker(lib, int(threads), int(batch), args.reps)))
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    for batch in args.batches:
        for threads in (1, 2):
            runs = {lib: [] for lib in LIBRARIES}
            for _ in range(args.runs):
                for lib in LIBRARIES:
                    if lib == "openblas-auto" and "OPENBLAS_CORETYPE" not in env:
                        runs[lib].append({"skipped": "OPENBLAS_CORETYPE is not set: "
                                                     "openblas picked its kernels itself"})
                        continue
                    lib_env = env if lib != "openblas-auto" else \
                        {k: v for k, v in env.items() if k != "OPENBLAS_CORETYPE"}
                    out = subprocess.run([sys.executable, __file__, "--reps", str(args.reps),
                                          "--worker", lib, str(threads), str(batch)],
                                         env=lib_env, check=True, capture_output=True, text=True)
                    runs[lib].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"\nbatch {batch}, {threads} thread(s): median ms per product (one value per run)")
            names = [p[0] for p in products(1, np.random.default_rng(0))]
            sums = {}
            for lib, results in runs.items():
                if "skipped" in results[0]:
                    print(f"  {lib:13s} skipped: {results[0]['skipped']}")
                    continue
                sums[lib] = [sum(r[n] for n in names) for r in results]
                cells = "  ".join(f"{n} " + "/".join(f"{r[n]:.3f}" for r in results) for n in names)
                kernels = f" (kernels: {results[0]['kernels']})" if "kernels" in results[0] else ""
                print(f"  {lib:13s} {cells}  sum " + "/".join(f"{s:.3f}" for s in sums[lib])
                      + kernels)
            base = sums.get("openblas")
            for lib, s in sums.items():
                if lib != "openblas":
                    print(f"  OpenBLAS's sum / {lib}'s: " + ", ".join(
                        f"{b / x:.2f}×" for b, x in zip(base, s)))


if __name__ == "__main__":
    main()
