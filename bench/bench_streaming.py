"""Streaming stores in the loss kernels, on and off, side by side (the measurement behind them).

The generated loss kernels write a large gradient through a stack buffer and 64-byte
non-temporal stores (``codegen.numba_reduce.stream_copy``): a plain store first reads the line
it writes from memory, a streaming store does not. Which kernels do so is a generator choice
(``NumbaConfig.stream_min_bytes``, ``ElementwiseLoss.stream``). This script generates the loss
module three ways into a temporary directory and times the same float32 inputs through each,
interleaved round-robin, with a triad (a = b + s·c) written both ways beside them:

- ``plain``: no streaming stores anywhere (``stream_min_bytes`` beyond any input);
- ``committed``: the committed settings (the memory-bound elementwise losses and softmax_ce
  stream outputs of at least ``stream_min_bytes``);
- ``all``: bce_logits too (it is bound by its exp/log1p arithmetic, not by memory).

    python bench/bench_streaming.py [--reps 25] [--threads 2]

Prints best / median ms and each variant's speed-up over ``plain`` (best over best).
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

from codegen import numba_losses  # noqa: E402
from codegen.generate import BACKENDS, generate_module, write_module  # noqa: E402

LOSSES = ["mse", "bce_logits", "softmax_ce"]


def module_for(variant: str, directory: Path):
    config = replace(BACKENDS["numba"], dtypes=("float32",))
    if variant == "plain":
        config = replace(config, stream_min_bytes=1 << 62)
    saved = dict(numba_losses.ELEMENTWISE)
    if variant == "all":
        numba_losses.ELEMENTWISE["bce_logits"] = replace(saved["bce_logits"], stream=True)
    try:
        text = generate_module("numba", LOSSES, config=config)
    finally:
        numba_losses.ELEMENTWISE.clear()
        numba_losses.ELEMENTWISE.update(saved)
    path = directory / f"losses_{variant}.py"
    write_module(path, text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    args = ap.parse_args(argv)
    numba.set_num_threads(args.threads)
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_losses import _triad, _triad_plain  # the roofline's two triads
    rng = np.random.default_rng(0)
    n = 1 << 24
    p, t = rng.standard_normal(n).astype(np.float32), rng.random(n, dtype=np.float32)
    big = [(N, C, (rng.standard_normal((N, C)) * 3).astype(np.float32), rng.integers(0, C, N))
           for N, C in ((8192, 1000), (512, 32000), (4096, 2000))]
    with tempfile.TemporaryDirectory() as tmp:
        mods = {v: module_for(v, Path(tmp)) for v in ("plain", "committed", "all")}
        # label -> (output shape, {variant: fn(out)})
        cases = {"triad 16M (plain / streaming stores)": ((n,), {
            "plain": lambda g: _triad_plain(g, p, t, np.float32(0.5)),
            "committed": lambda g: _triad(g, p, t, np.float32(0.5))})}
        for name in ("mse", "bce_logits"):
            opts = (1.0,) if name == "bce_logits" else ()
            cases[f"{name} 16M mean, out="] = ((n,), {
                v: (lambda g, k=m.KERNELS[(name, "default", "mean", "float32")], o=opts: k(p, t, g, *o))
                for v, m in mods.items()})
        for N, C, z, lab in big:
            w = np.ones(C, np.float32)
            cases[f"softmax_ce {N}×{C} mean, out="] = (z.shape, {
                v: (lambda g, k=m.KERNELS[("softmax_ce", "index", "mean", "float32")], z=z,
                    lab=lab, w=w: k(z, lab, w, -100, 0.0, g))
                for v, m in mods.items() if v != "all"})
        print(f"threads {args.threads}; best / median ms of {args.reps} interleaved runs; "
              f"(×) = plain's best / this best")
        print("| case | plain stores | committed | all (bce_logits streamed too) |")
        print("|---|---:|---:|---:|")
        for label, (shape, fns) in cases.items():
            outs = {v: np.empty(shape, np.float32) for v in fns}
            for v, f in fns.items():  # compile, first touch
                f(outs[v])
            times = {v: [] for v in fns}
            for _ in range(args.reps):
                for v, f in fns.items():
                    t0 = time.perf_counter()
                    f(outs[v])
                    times[v].append(time.perf_counter() - t0)
            base = min(times["plain"])
            cells = [f"{min(times[v]) * 1e3:.2f} / {statistics.median(times[v]) * 1e3:.2f} "
                     f"({base / min(times[v]):.2f}×)" if v in times else "—" for v in
                     ("plain", "committed", "all")]
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
