"""softmax_ce's block of rows (``NumbaConfig.row_block``) at several sizes, side by side.

The generated softmax_ce kernels run blocks of rows in parallel; within a block each row's max is
taken in the exp pass of the row before it (its read from memory overlaps that computing), so
the first row of every block needs a pass of its own. This script generates the softmax_ce
module once per ``row_block`` value (codegen.generate with a changed NumbaConfig, into a
temporary directory), times the index-target mean float32 kernel of each on the same inputs,
interleaved round-robin, and prints the time and the ratio to the first value. It is the
measurement behind the committed default (codegen.generate.NumbaConfig.row_block):

    python bench/bench_softmax_blocks.py [--row-blocks 2048 32768 131072] [--reps 40] [--threads 2]

2048 logits is the elementwise kernels' block, which softmax_ce used before (2 rows at C = 1000).
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from codegen.generate import BACKENDS, generate_module, write_module  # noqa: E402

SHAPES = [(8192, 1000), (512, 32000), (65536, 10), (4096, 2000)]


def kernel_for(row_block: int, directory: Path):
    """The softmax_ce index/mean/float32 kernel of a module generated with ``row_block``."""
    config = replace(BACKENDS["numba"], row_block=row_block, dtypes=("float32",))
    path = directory / f"softmax_rows_{row_block}.py"
    write_module(path, generate_module("numba", ["softmax_ce"], config=config))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KERNELS[("softmax_ce", "index", "mean", "float32")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--row-blocks", type=int, nargs="+", default=[2048, 32768, 131072])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    args = ap.parse_args(argv)
    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        kernels = {rb: kernel_for(rb, Path(tmp)) for rb in args.row_blocks}
        print(f"threads {args.threads}; best / median ms of {args.reps} interleaved runs; "
              f"ratio = first row_block's best / this one's best")
        print("| N×C | " + " | ".join(f"row_block {rb}" for rb in kernels) + " |")
        print("|---|" + "---:|" * len(kernels))
        for N, C in SHAPES:
            z = (rng.standard_normal((N, C)) * 3).astype(np.float32)
            labels = rng.integers(0, C, N)
            weight = np.ones(C, np.float32)
            grads = {rb: np.empty_like(z) for rb in kernels}
            losses = {rb: k(z, labels, weight, -100, 0.0, grads[rb]) for rb, k in kernels.items()}
            first = args.row_blocks[0]
            for rb in kernels:  # same results whatever the blocking (up to the sum's rounding)
                assert abs(losses[rb] - losses[first]) <= 1e-5 * abs(losses[first])
                np.testing.assert_allclose(grads[rb], grads[first], rtol=1e-5, atol=1e-12)
            times = {rb: [] for rb in kernels}
            for _ in range(args.reps):
                for rb, k in kernels.items():
                    t0 = time.perf_counter()
                    k(z, labels, weight, -100, 0.0, grads[rb])
                    times[rb].append(time.perf_counter() - t0)
            best = {rb: min(t) for rb, t in times.items()}
            cells = [f"{best[rb] * 1e3:.2f} / {statistics.median(times[rb]) * 1e3:.2f} "
                     f"({best[first] / best[rb]:.2f}×)" for rb in kernels]
            print(f"| {N}×{C} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
