"""Step overhead of runtime.optim: one flat buffer against per-layer views of it.

A model's parameters and gradients live in one flat buffer each, with a view per layer
(runtime.nn). Stepping the list of views must cost about what stepping the flat buffer costs:
the views are checked once, and the group runs as one fused kernel call over the span. Small
layers (the step is all Python overhead) and a 784-256-256-10 MLP, SGD momentum and Adam,
float32, interleaved round-robin; best and median microseconds per step and the ratio to the
flat buffer. "fresh views" passes new gradient view objects every step (each one is checked).

    python bench/bench_optim_views.py [--reps 400] [--against REV]

``--against REV`` also times runtime/optim.py as of git revision REV, side by side.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime import optim  # noqa: E402

MODELS = {"small": [40, 8, 64, 8, 80, 10],
          "mlp784": [784 * 256, 256, 256 * 256, 256, 256 * 10, 10]}
RULES = {"SGD": dict(lr=0.01, momentum=0.9), "Adam": dict(lr=1e-3)}


def load_revision(rev: str):
    """runtime/optim.py at ``rev`` as a module of the runtime package (same kernels)."""
    text = subprocess.run(["git", "show", f"{rev}:runtime/optim.py"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "optim_rev.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("runtime._optim_rev", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def steppers(module, name, kw, sizes):
    offs = np.cumsum([0] + sizes)
    cuts = list(zip(offs[:-1], offs[1:]))
    out = {}
    for kind in ("flat", "views", "fresh views"):
        p = np.random.default_rng(0).standard_normal(offs[-1]).astype(np.float32)
        g = np.full(offs[-1], 1e-3, np.float32)
        if kind == "flat":
            opt, make = getattr(module, name)([p], **kw), (lambda g=g: [g])
        else:
            gv = [g[a:b] for a, b in cuts]
            opt = getattr(module, name)([p[a:b] for a, b in cuts], **kw)
            make = (lambda gv=gv: gv) if kind == "views" else \
                (lambda g=g: [g[a:b] for a, b in cuts])
        out[kind] = (lambda opt=opt, make=make: opt.step(make()))
    return out


def interleaved(fns: dict, reps: int) -> dict:
    for fn in fns.values():
        for _ in range(20):
            fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v) * 1e6, statistics.median(v) * 1e6) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--against", default=None)
    args = ap.parse_args()
    modules = {"now": optim}
    if args.against:
        modules[args.against] = load_revision(args.against)
    for model, sizes in MODELS.items():
        for name, kw in RULES.items():
            fns = {}
            for label, mod in modules.items():
                for kind, fn in steppers(mod, name, kw, sizes).items():
                    fns[(label, kind)] = fn
            res = interleaved(fns, args.reps)
            print(f"{model} ({sum(sizes)} float32, {len(sizes)} views) {name}")
            for (label, kind), (best, med) in res.items():
                flat = res[(label, "flat")][1]
                print(f"  {label:>8} {kind:<12} best {best:8.1f} us  median {med:8.1f} us  "
                      f"median/flat {med / flat:5.2f}")


if __name__ == "__main__":
    main()
