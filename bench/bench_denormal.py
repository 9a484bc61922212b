"""Long training runs and subnormal numbers: bench_mlp's step, early and after ~1000 steps.

The network of bench/bench_mlp.py (784-256-256-10 ReLU, softmax-CE, SGD momentum 0.9, float32)
trains on one fixed batch without being rebuilt. Units that are dead on the batch get a
gradient of exactly 0, so their momentum decays by 0.9 a step and, after ~700 steps, reaches
the subnormal range, where it sticks (0.9 × the smallest subnormal rounds back to it). From
then on every step takes x86's slow path on those elements. Timed, each setting in its own
process, one after the other: ms per step over the steps ``--early`` (after warm-up) and
``--late`` (the same run, later):

- ours, ``runtime.optim.set_flush_denormal(False)`` (torch's default arithmetic) and
  ``True`` (what ``runtime.train.fit`` uses);
- torch with its defaults, and with ``torch.set_flush_denormal(True)``.

    python bench/bench_denormal.py [--batch 64] [--write]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
START, END = "<!-- bench_denormal: start -->", "<!-- bench_denormal: end -->"
SETTINGS = ["ours, flush off", "ours, flush on", "torch, defaults", "torch, set_flush_denormal(True)"]


def _run(conn, setting, batch, early, late):
    import numpy as np

    from runtime import threads

    n = threads.cores()
    if setting.startswith("ours"):
        threads.passive_wait()
        from runtime import optim

        import bench_mlp

        optim.set_flush_denormal(setting.endswith("on"))
        threads.using(threads.ThreadPlan(n, 1, "BLAS on every core")).__enter__()
        step = bench_mlp._ours(batch)

        def momentum():
            return step.optimizer.state_dict()["state"][0]["momentum_buffer"]
    else:
        import torch

        import bench_mlp

        torch.set_num_threads(n)
        if setting.endswith("(True)"):
            torch.set_flush_denormal(True)
        step = bench_mlp._theirs(batch)

        def momentum():
            opt = step.optimizer
            return np.concatenate([opt.state[p]["momentum_buffer"].numpy().ravel()
                                   for g in opt.param_groups for p in g["params"]])
    times = []
    last = max(late)
    for k in range(last):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    m = momentum()
    tiny = np.finfo(np.float32).tiny
    subnormal = int(np.sum((m != 0) & (np.abs(m) < tiny)))
    pick = {w: float(np.median(times[lo:hi])) for w, (lo, hi) in (("early", early), ("late", late))}
    conn.send((pick, subnormal, m.size))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--early", type=int, nargs=2, default=[100, 400], metavar=("FROM", "TO"))
    ap.add_argument("--late", type=int, nargs=2, default=[1200, 1500], metavar=("FROM", "TO"))
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    rows = {}
    for s in SETTINGS:
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_run, args=(there, s, args.batch, tuple(args.early),
                                              tuple(args.late)))
        proc.start()
        rows[s] = here.recv()
        proc.join()
        (t, sub, size) = rows[s]
        print(f"{s}: early {t['early'] * 1e3:.3f} ms, late {t['late'] * 1e3:.3f} ms, "
              f"subnormal momenta at the end {sub} of {size}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    torch_late = rows["torch, defaults"][0]["late"]
    lines = [f"bench_mlp's network, batch {args.batch}, trained on one fixed batch without a "
             f"rebuild (`python bench/bench_denormal.py --batch {args.batch}`); median ms per "
             f"step over steps {args.early[0]}–{args.early[1]} (early) and {args.late[0]}–"
             f"{args.late[1]} (late); load average {load:.1f} at the end.", "",
             "| setting | early ms | late ms | late / early | subnormal momenta at the end | "
             "torch defaults late / this late |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in SETTINGS:
        t, sub, size = rows[s]
        lines.append(f"| {s} | {t['early'] * 1e3:.3f} | {t['late'] * 1e3:.3f} | "
                     f"{t['late'] / t['early']:.2f}× | {sub} of {size} | "
                     f"{torch_late / t['late']:.2f}× |")
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        path = ROOT / "bench" / "RESULTS.md"
        old = path.read_text(encoding="utf-8")
        section = (f"{START}\n## Long runs and subnormals (bench/bench_denormal.py)\n\n{text}\n{END}")
        if START in old and END in old:
            new = old[:old.index(START)] + section + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n" + section + "\n"
        path.write_text(new, encoding="utf-8")
        print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
