"""Optimizer steps over 10M float32 parameters: runtime.optim vs torch.optim on the CPU.

One run, side by side, the same thread count for Numba and PyTorch: Adam and SGD with momentum
(runtime.optim's fused generated kernel, through ``opt.step`` and as a raw kernel call) against
``torch.optim`` with ``fused=True``, ``foreach=True`` and the default single-tensor loop, plus
the memory roofline measured here (an in-place triad a ← a + s·b, 12 bytes per element, the
access pattern of an in-place update; the best of a serial and a parallel Numba triad and
NumPy's a += b). Prints best and median times, ratios to torch fused, and
the fraction of the roofline (Adam moves 28 bytes per element: reads θ, g, m, v, writes θ, m, v;
SGD momentum 20: reads θ, g, b, writes θ, b). Also the import time of the generated module and
the first-call time of the parallel Adam kernel, compiled cold and loaded from the cache.

    python bench/bench_optim.py [--n 10000000] [--reps 15] [--threads 2] [--write]

``--write`` replaces this script's section of bench/RESULTS.md (between its markers).
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

import numba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_optim: start -->", "<!-- bench_optim: end -->"


_FM = {"nsz", "arcp", "contract", "afn"}


@numba.njit(fastmath=_FM, error_model="numpy")
def _triad_serial(a, b, s):
    """a ← a + s·b over blocks of slices (the generated kernels' loop shape)."""
    n = a.shape[0]
    for k in range((n + 16383) // 16384):
        lo = k * 16384
        hi = min(lo + 16384, n)
        a_b, b_b = a[lo:hi], b[lo:hi]
        for i in range(hi - lo):
            a_b[i] = a_b[i] + s * b_b[i]


@numba.njit(parallel=True, fastmath=_FM, error_model="numpy")
def _triad(a, b, s):
    n = a.shape[0]
    for k in numba.prange((n + 16383) // 16384):
        lo = k * 16384
        hi = min(lo + 16384, n)
        _triad_serial(a[lo:hi], b[lo:hi], s)


def interleaved(fns: dict, reps: int, warmup: int = 2) -> dict:
    """{label: (best, median)} seconds, the runs interleaved round-robin so that every
    implementation sees the same machine noise."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {label: [] for label in fns}
    for _ in range(reps):
        for label, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return {label: (min(ts), statistics.median(ts)) for label, ts in times.items()}


def _subprocess_seconds(code: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def jit_times() -> dict:
    """Import time of the generated module; first call of adam_f32_par cold and cached."""
    import_code = ("import time, numba; t0 = time.perf_counter(); import runtime.generated.numba_optim; "
                   "print(time.perf_counter() - t0)")
    call_code = ("import numpy as np, time; from runtime.generated import numba_optim as G; "
                 "a = [np.zeros(1 << 17, np.float32) for _ in range(4)]; "
                 "s = [np.float32(x) for x in G.adam_scalars(1, 1e-3, 0.9, 0.999, 1e-8, 0.0)]; "
                 "t0 = time.perf_counter(); G.adam_f32_par(*a, *s); print(time.perf_counter() - t0)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        imp = _subprocess_seconds(import_code, env)
        cold = _subprocess_seconds(call_code, env)
        warm = _subprocess_seconds(call_code, env)
    return {"import": imp, "cold": cold, "cached": warm}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = ap.parse_args(argv)

    import torch

    from runtime import optim, threads

    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    n, reps = args.n, args.reps
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(n, dtype=np.float32)
    g = (1e-2 * rng.standard_normal(n, dtype=np.float32))

    a, b = p0.copy(), g.copy()
    # The triads run inside each round-robin below, so the roofline sees the same noise.
    triad_fns = {"Numba parallel": lambda: _triad(a, b, np.float32(1e-3)),
                 "Numba serial": lambda: _triad_serial(a, b, np.float32(1e-3)),
                 "NumPy a += b": lambda: np.add(a, b, out=a)}
    triads = {name: float("inf") for name in triad_fns}
    rows = []

    for opt_name, ours_cls, kw, nbytes in (
            ("Adam", optim.Adam, dict(lr=1e-3), 28),
            ("SGD momentum", optim.SGD, dict(lr=1e-3, momentum=0.9), 20)):
        fns, errors = {}, []
        p = p0.copy()
        ours = ours_cls([p], **kw)
        fns["runtime.optim (fused kernel)"] = lambda ours=ours: ours.step([g])
        ours.step([g])  # allocates the state
        rule = optim._RULES[(ours.family, tuple(sorted(ours._options(ours.param_groups[0]).items())))]
        st = ours.state[0]
        arrays = [p, g] + [st[k] for k in rule["state"]]
        hyper = {k: v for k, v in ours._hyper(ours.param_groups[0]).items() if k in rule["hyper"]}
        scal = [np.float32(x) for x in rule["scalars"](2, **hyper)]
        for par in (True, False):
            kern = rule["kernels"][("float32", par)]
            fns[f"  raw kernel call, {'parallel' if par else 'serial'}"] = \
                lambda kern=kern: kern(*arrays, *scal)
        for mode in (dict(fused=True), dict(foreach=True), dict(foreach=False)):
            tp = torch.from_numpy(p0.copy()).requires_grad_()
            tp.grad = torch.from_numpy(g.copy())
            label = "torch.optim " + ", ".join(f"{k}={v}" for k, v in mode.items())
            try:
                theirs = getattr(torch.optim, ours_cls.__name__)([tp], **kw, **mode)
                theirs.step()
            except (RuntimeError, ValueError) as e:  # a mode torch does not offer on the CPU
                errors.append(dict(label=label, opt=opt_name, error=str(e).splitlines()[0]))
                continue
            fns[label] = theirs.step
        for label, (best, med) in interleaved({**fns, **triad_fns}, reps).items():
            if label in triads:
                triads[label] = min(triads[label], best)
            else:
                rows.append(dict(label=label, opt=opt_name, best=best, med=med, bytes=nbytes))
        rows += errors
    bandwidth = 12 * n / min(triads.values())  # bytes per second, best triad run
    for r in rows:
        if "best" in r:
            r["roof"] = r["bytes"] * n / bandwidth / r["best"]

    jt = jit_times()
    fused = {r["opt"]: (r["best"], r["med"]) for r in rows if "fused=True" in r["label"] and "best" in r}
    lines = [
        f"## Optimizer step, {n / 1e6:g}M float32 parameters (bench/bench_optim.py)",
        "",
        f"`{' '.join([Path(sys.executable).name, 'bench/bench_optim.py'] + (argv or sys.argv[1:]))}` — "
        f"{threads.cpu_model()}, {os.cpu_count()} CPUs, threads = {args.threads} "
        f"(Numba and PyTorch), numba {numba.__version__}, torch {torch.__version__}, numpy {np.__version__}; "
        f"best and median of {reps} runs, interleaved round-robin.",
        "",
        f"Roofline: in-place triad a ← a + s·b, {bandwidth / 1e9:.1f} GB/s, the best of ("
        + "; ".join(f"{k}: {12 * n / v / 1e9:.1f}" for k, v in triads.items())
        + " GB/s; 12 B/element), timed in the same round-robins as the optimizers.",
        "",
        "| optimizer | implementation | best ms | median ms | torch fused / this (best) | (median) "
        "| % of roofline (best) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['opt']} | {r['label']} | — | — | — | — | unavailable: {r['error']} |")
            continue
        best, med = fused.get(r["opt"], (float("nan"), float("nan")))
        lines.append(f"| {r['opt']} | {r['label']} | {r['best'] * 1e3:.2f} | {r['med'] * 1e3:.2f} "
                     f"| {best / r['best']:.2f}× | {med / r['med']:.2f}× | {100 * r['roof']:.0f}% |")
    lines += ["",
              f"Generated module import (numba already imported): {jt['import'] * 1e3:.0f} ms; first call of "
              f"`adam_f32_par`: {jt['cold']:.2f} s compiling cold, {jt['cached'] * 1e3:.0f} ms from the "
              "cache (both in a fresh process).",
              "",
              "This machine is shared and noisy (2 vCPUs, other jobs running); ratios under 1.3× are "
              "within the noise, and so are the roofline shares (over 100% means the noise hit the "
              "triad's runs harder than the update's)."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = ROOT / "bench" / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
        section = f"{START}\n{text}\n{END}"
        if START in old and END in old:
            new = old[:old.index(START)] + section + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n" + section + "\n"
        path.write_text(new, encoding="utf-8")
        print(f"\nupdated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
