"""Whole training steps of another git revision against the working tree's, paired.

bench_mlp.py's step (784-256-256-10 ReLU MLP, softmax-CE, SGD momentum 0.9, float32) under one
fixed thread plan (BLAS on every core, the kernels on one thread: the plan runtime.threads.Tuner
picks for both batches on idle cores), built from REV (checked out into a temporary git
worktree) and from the working tree. Each run is a fresh process; the two sides alternate,
and which goes first alternates too, so a spell of load from other processes falls on both.
Each process times ``--blocks`` blocks of steps (the model rebuilt, untimed, before it reaches
bench_mlp.FRESH_STEPS) and reports the median and best block.

Prints per batch each pair's medians and the paired ratio REV / working tree (above 1: the
working tree is faster), and the median of the ratios. A change smaller than this machine's
run-to-run noise shows here where bench_mlp.py's settings side by side cannot tell it.

    python bench/bench_step_revisions.py REV [--batches 64 1024] [--pairs 6] [--blocks 12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(root: str, batch: int, blocks: int) -> str:
    """'median best' ms per step for the code under ``root`` (run in its own process)."""
    sys.path.insert(0, root)
    sys.path.insert(1, str(Path(root) / "bench"))
    import numpy as np

    import runtime
    from bench_mlp import FRESH_STEPS, _ours
    from runtime import threads

    if not Path(runtime.__file__).resolve().is_relative_to(Path(root).resolve()):
        raise RuntimeError(f"imported {runtime.__file__}, not the runtime under {root}")

    threads.passive_wait()  # as runtime.train.fit, before Numba's pool starts
    with threads.using(threads.ThreadPlan(threads.cores(), 1, "BLAS on every core")):
        step = _ours(batch)
        for _ in range(20):
            step()
        reps = max(10, 20000 // batch)
        times, done = [], FRESH_STEPS
        for _ in range(blocks):
            if done + reps > FRESH_STEPS:
                step, done = _ours(batch), 0
                for _ in range(3):
                    step()
            t0 = time.perf_counter()
            for _ in range(reps):
                step()
            times.append((time.perf_counter() - t0) / reps * 1e3)
            done += reps
    assert np.isfinite(times).all()
    return f"{statistics.median(times):.4f} {min(times):.4f}"


def run(root: Path, batch: int, blocks: int) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, __file__, "--worker", str(root), str(batch),
                          str(blocks)], env=env, check=True, capture_output=True, text=True,
                         cwd=root)
    med, best = out.stdout.split()[-2:]
    return float(med), float(best)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", nargs="?", help="a git revision, e.g. 50bf62c")
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 1024])
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--blocks", type=int, default=12)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        root, batch, blocks = args.worker
        print(worker(root, int(batch), int(blocks)))
        return
    if not args.rev:
        ap.error("the revision to compare with is required")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "rev"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.rev],
                       cwd=ROOT, check=True)
        try:
            for batch in args.batches:
                print(f"\nbatch {batch}: ms per step, median (best) of {args.blocks} blocks; "
                      f"{args.rev} / working tree")
                ratios = []
                for k in range(args.pairs):
                    sides = [("rev", old), ("tree", ROOT)]
                    if k % 2:
                        sides.reverse()
                    got = {name: run(root, batch, args.blocks) for name, root in sides}
                    r = got["rev"][0] / got["tree"][0]
                    ratios.append(r)
                    print(f"  pair {k + 1}: {args.rev} {got['rev'][0]:.3f} ({got['rev'][1]:.3f})"
                          f"  tree {got['tree'][0]:.3f} ({got['tree'][1]:.3f})  {r:.2f}×")
                faster = sum(r > 1 for r in ratios)
                print(f"  median ratio {statistics.median(ratios):.2f}× (range "
                      f"{min(ratios):.2f}–{max(ratios):.2f}×); the working tree faster in "
                      f"{faster} of {len(ratios)} pairs")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           check=False)


if __name__ == "__main__":
    main()
