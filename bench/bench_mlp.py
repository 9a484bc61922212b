"""A training step of a 784-256-256-10 ReLU MLP (softmax-CE, SGD momentum, float32) vs PyTorch.

One step = forward, loss and ∂L/∂logits, backward, optimizer update. Ours: runtime.nn.MLP
(BLAS products, generated activation/δ and fused softmax-CE kernels) with runtime.optim.SGD
built on ``model.flat_parameters()`` (one fused kernel call over the flat parameter buffer). PyTorch: the same network with the same
initial weights, ``torch.optim.SGD(fused=True)``, ``zero_grad(set_to_none=True)``.

Thread use is what the issue is about, so several settings are timed in one run:

- ours, ``planned``: the plan runtime.train.fit picks (runtime.threads.plan, timed against
  the all-serial plan on real steps when it is multi-threaded);
- ours with OpenBLAS on every core and the kernels on one thread;
- ours, ``defaults``: Numba and OpenBLAS both on every core (no plan);
- PyTorch with as many threads as cores (its default) and with 1 thread.

The ratio is PyTorch's best time over ours (planned): above 1 means we are faster. Timing
blocks of each setting alternate (so a spell of load from other processes hits all of them),
and the median per-step time over the blocks is reported.

    python bench/bench_mlp.py [--batches 64 1024] [--blocks 7] [--write]

``--write`` replaces this script's section of bench/RESULTS.md (between its markers).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START, END = "<!-- bench_mlp: start -->", "<!-- bench_mlp: end -->"
SIZES = [784, 256, 256, 10]

import torch  # noqa: E402  (first: its own OpenMP runtime starts with its default wait policy)

from runtime import threads  # noqa: E402

threads.passive_wait()  # for Numba's OpenMP pool, before it starts, as runtime.train.fit does

import numba  # noqa: E402
import numpy as np  # noqa: E402


def ours(batch, seed=0):
    from runtime.nn import MLP
    from runtime.optim import SGD

    model = MLP(SIZES, "relu", loss="softmax_ce", dtype=np.float32, seed=seed)
    opt = SGD(model.flat_parameters(), lr=0.01, momentum=0.9)  # the flat buffer: one call
    rng = np.random.default_rng(seed)
    X = rng.random((batch, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=batch)

    def step():
        model.loss_and_backward(X, y)
        opt.step(model.flat_gradients())

    return model, step


def theirs(model, batch, seed=0):
    import torch

    layers = []
    for k, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        lin = torch.nn.Linear(a, b)
        dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"][k]
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(dense.params["weight"]))
            lin.bias.copy_(torch.from_numpy(dense.params["bias"]))
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, fused=True)
    rng = np.random.default_rng(seed)
    X = torch.from_numpy(rng.random((batch, SIZES[0]), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, SIZES[-1], size=batch))
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(X), y).backward()
        opt.step()

    return step


def block_time(step, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def bench(batch, blocks, seconds_per_block=0.25):
    import torch

    n = threads.cores()
    model, our_step = ours(batch)
    their_step = theirs(model, batch)
    # As runtime.train.fit does: the size-based plan, timed against all-serial on real steps
    # when it is multi-threaded.
    tuner = threads.Tuner(threads.candidates(batch, SIZES), trials=5)
    while tuner.chosen is None:
        p = tuner.next()
        with threads.using(p):
            tuner.record(p, block_time(our_step, 1))
    planned = tuner.chosen
    default = threads.ThreadPlan(blas=n, kernels=min(n, numba.config.NUMBA_NUM_THREADS),
                                 reason="no plan")

    def ours_with(p):
        def run(steps):
            with threads.using(p):
                return block_time(our_step, steps)
        return run

    def torch_with(t):
        def run(steps):
            before = torch.get_num_threads()
            torch.set_num_threads(t)
            try:
                return block_time(their_step, steps)
            finally:
                torch.set_num_threads(before)
        return run

    blas_all = threads.ThreadPlan(blas=n, kernels=1, reason="BLAS on every core")
    settings = {"ours, planned": ours_with(planned), "ours, BLAS all cores": ours_with(blas_all),
                "ours, defaults": ours_with(default),
                f"torch, {n} threads": torch_with(n), "torch, 1 thread": torch_with(1)}
    steps = {}
    for name, run in settings.items():  # warm up (compiles kernels) and size the blocks
        run(3)
        steps[name] = max(3, int(seconds_per_block / max(run(3), 1e-6)))
    times = {name: [] for name in settings}
    for _ in range(blocks):
        for name, run in settings.items():
            times[name].append(run(steps[name]))
    return planned, ({name: statistics.median(t) for name, t in times.items()},
                     {name: min(t) for name, t in times.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 1024])
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = ap.parse_args(argv)
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    blas = threads.blas_threads()
    lines = [f"MLP {'-'.join(map(str, SIZES))} ReLU, softmax-CE, SGD momentum 0.9, float32, "
             f"one training step (`python bench/bench_mlp.py --blocks {args.blocks}`)", "HEAD", "",
             "| batch | ours, planned | ours, BLAS on all cores, kernels 1 | ours, defaults "
             "(all threads) | torch, all cores (fused SGD) | torch, 1 thread | "
             "torch's faster / ours planned | plan |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for batch in args.batches:
        plan, (t, best) = bench(batch, args.blocks)
        torch_median = min(v for k, v in t.items() if k.startswith("torch"))
        torch_best = min(v for k, v in best.items() if k.startswith("torch"))
        cols = [f"{t[k] * 1e3:.2f} ({best[k] * 1e3:.2f})" for k in t]
        lines.append(f"| {batch} | {' | '.join(cols)} | "
                     f"{torch_median / t['ours, planned']:.2f}× ({torch_best / best['ours, planned']:.2f}×) "
                     f"| BLAS {plan.blas}, kernels {plan.kernels} |")
        print(lines[-1], flush=True)
    lines += ["", "Milliseconds per step: median over the blocks (best block in parentheses). "
              "The ratio is PyTorch's faster setting over ours (planned); above 1 we are faster. "
              "\"defaults\" is Numba and OpenBLAS each with a pool on every core."]
    layer = numba.threading_layer() if _layer_started() else "not started"
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines[1] = (f"{platform.processor() or platform.machine()}, {threads.cores()} cores, numpy "
                f"{np.__version__} (OpenBLAS, {blas} threads by default), numba {numba.__version__} "
                f"(threading layer {layer}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}), "
                f"torch {torch.__version__}; load average {load:.1f} at the start, "
                f"{end_load:.1f} at the end.")
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        write_results(text)


def _layer_started():
    try:
        numba.threading_layer()
        return True
    except ValueError:
        return False


def write_results(text):
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = f"{START}\n## bench_mlp.py\n\n{text}\n{END}"
    if START in old and END in old:
        new = old[:old.index(START)] + section + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(new, encoding="utf-8")
    print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
