"""Losses and activations: the generated Numba kernels vs a NumPy reference vs PyTorch CPU.

    python bench/bench_losses.py [--reps 7] [--threads N] [--quick] [--no-compile] [--write]

One run, the same thread count for Numba and PyTorch (torch.set_num_threads ==
numba.set_num_threads), implementations timed interleaved round-robin (best and median), and a
memory-bandwidth roofline measured here with a triad. Prints a Markdown table of ratios;
``--write`` replaces the losses section of bench/RESULTS.md. Also: first-call JIT time of each
kernel (cold, in a fresh process with an empty cache, and from the cache) and the import time
of the generated modules. Targets from the issue are printed next to the ratios; nothing is
asserted (speed claims live here, not in tests).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import runtime  # noqa: E402
from runtime import activation, activation_grad, loss_and_grad  # noqa: E402
from runtime.generated.numba_losses import stack_buffer, stream_copy, wide_vectors  # noqa: E402


# --------------------------------------------------------------------------- timing


def round_robin(fns: dict, reps: int) -> dict:
    """{name: (best s, median s)}: every fn once per round, rounds repeated (noise is shared)."""
    for f in fns.values():  # warm-up (and JIT)
        f()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}


@numba.njit(parallel=True, cache=True)
def _triad_plain(a, b, c, s):
    for i in numba.prange(a.size):
        a[i] = b[i] + s * c[i]


TRIAD_BLOCK = 2048


@numba.njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    """a = b + s·c written with streaming stores, as the memory-bound loss kernels write (each
    block built on the stack, then ``stream_copy``): no read of a's old contents, so 12 bytes
    of traffic per element instead of 16, and the faster triad on this machine."""
    n = a.size
    for blk in numba.prange((n + TRIAD_BLOCK - 1) // TRIAD_BLOCK):
        wide_vectors()
        lo = blk * TRIAD_BLOCK
        hi = min(lo + TRIAD_BLOCK, n)
        buf = stack_buffer(a, TRIAD_BLOCK)
        bb, cc = b[lo:hi], c[lo:hi]  # slices: indices from 0, no wraparound checks, vectorizes
        for k in range(hi - lo):
            buf[k] = bb[k] + s * cc[k]
        stream_copy(a, lo, buf, hi - lo)


def triad_bandwidth(n: int, reps: int) -> dict:
    """Bytes/s of a = b + s·c over float32 (12 bytes per element, STREAM's count): with
    streaming stores, with plain stores (Numba parallel) and NumPy's (one thread)."""
    a, b, c = (np.ones(n, np.float32) for _ in range(3))
    best = round_robin({"streaming stores": lambda: _triad(a, b, c, np.float32(0.5)),
                        "plain stores": lambda: _triad_plain(a, b, c, np.float32(0.5)),
                        "numpy": lambda: np.add(b, c, out=a)}, reps)
    return {k: 12 * n / t for k, (t, _) in best.items()}


# --------------------------------------------------------------------------- cases


def numpy_ce(z, lab):
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    n = z.shape[0]
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[np.arange(n), lab]))
    g = e / s
    g[np.arange(n), lab] -= 1
    g /= n
    return loss, g


def numpy_bce_logits(z, t):
    loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
    return loss, (1 / (1 + np.exp(-z)) - t) / z.size


NUMPY = {
    "mse": lambda p, t: (np.mean((p - t) ** 2), 2 * (p - t) / p.size),
    "mae": lambda p, t: (np.mean(np.abs(p - t)), np.sign(p - t) / p.size),
    "smooth_l1": lambda p, t: (np.mean(np.where(np.abs(p - t) < 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5)),
                               np.where(np.abs(p - t) < 1, p - t, np.sign(p - t)) / p.size),
    "huber": lambda p, t: (np.mean(np.where(np.abs(p - t) < 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5)),
                           np.where(np.abs(p - t) < 1, p - t, np.sign(p - t)) / p.size),
    "bce_logits": numpy_bce_logits,
}


def torch_step(torch, fn, x, *args, **kw):
    def run():
        x.grad = None
        fn(x, *args, **kw).backward()
    return run


def cases(torch, quick: bool):
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    n16 = 1 << (22 if quick else 24)
    out = []
    # (label, bytes moved, {impl: fn}, target text)
    ce_shapes = [((8192, 1000), np.float32, "≥5× eager, ≥50% roofline"),
                 ((512, 32000), np.float32, "≥8× eager and torch.compile"),
                 ((65536, 10), np.float32, "≥1.8× eager"),
                 ((8192, 1000), np.float64, "≥2.5× eager")]
    if quick:
        ce_shapes = [((2048, 1000), np.float32, "≥5× eager, ≥50% roofline")]
    for (N, C), dt, target in ce_shapes:
        z = (rng.standard_normal((N, C)) * 3).astype(dt)
        lab = rng.integers(0, C, N)
        g = np.empty_like(z)
        zt = torch.from_numpy(z.copy()).requires_grad_()
        lt = torch.from_numpy(lab)
        impl = {"numba (out=)": lambda z=z, lab=lab, g=g: loss_and_grad("ce", z, lab, out=g),
                "numba": lambda z=z, lab=lab: loss_and_grad("ce", z, lab),
                "numpy": lambda z=z, lab=lab: numpy_ce(z, lab),
                "torch eager": torch_step(torch, F.cross_entropy, zt, lt)}
        bytes_ = N * C * 2 * z.itemsize + N * 8
        out.append((f"softmax_ce {N}×{C} {np.dtype(dt).name} mean", bytes_, impl, target,
                    ("torch_compile", zt, lt) if (N, C) == (512, 32000) else None))
    for name in ["bce_logits", "mse", "mae", "smooth_l1", "huber"]:
        p = rng.standard_normal(n16).astype(np.float32)
        t = (rng.random(n16) if name == "bce_logits" else rng.standard_normal(n16)).astype(np.float32)
        g = np.empty_like(p)
        pt = torch.from_numpy(p.copy()).requires_grad_()
        tt = torch.from_numpy(t)
        tfn = {"bce_logits": F.binary_cross_entropy_with_logits, "mse": F.mse_loss, "mae": F.l1_loss,
               "smooth_l1": F.smooth_l1_loss, "huber": F.huber_loss}[name]
        impl = {"numba (out=)": lambda name=name, p=p, t=t, g=g: loss_and_grad(name, p, t, out=g),
                "numba": lambda name=name, p=p, t=t: loss_and_grad(name, p, t),
                "numpy": lambda name=name, p=p, t=t: NUMPY[name](p, t),
                "torch eager": torch_step(torch, tfn, pt, tt)}
        target = "≥8× torch" + ("" if name == "bce_logits" else ", ≥85% roofline with out=")
        out.append((f"{name} {n16 >> 20}M float32 mean", 12 * n16, impl, target, None))
    for name in ["sigmoid", "tanh", "relu"]:
        z = rng.standard_normal(n16).astype(np.float32)
        u = rng.standard_normal(n16).astype(np.float32)
        a, d = np.empty_like(z), np.empty_like(z)
        zt = torch.from_numpy(z.copy()).requires_grad_()
        ut = torch.from_numpy(u)
        tf = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name]

        def ours(name=name, z=z, u=u, a=a, d=d):
            activation(name, z, out=a)
            activation_grad(name, z, u, output=a, out=d)

        def npref(name=name, z=z, u=u):
            if name == "sigmoid":
                s = 1 / (1 + np.exp(-z))
                return s, u * s * (1 - s)
            if name == "tanh":
                t = np.tanh(z)
                return t, u * (1 - t * t)
            return np.maximum(z, 0), u * (z > 0)

        def tstep(tf=tf, zt=zt, ut=ut):
            zt.grad = None
            tf(zt).backward(ut)

        out.append((f"{name} fwd+bwd {n16 >> 20}M float32", 20 * n16,
                    {"numba (out=)": ours, "numpy": npref, "torch eager": tstep}, "", None))
    return out


def try_torch_compile(torch, zt, lt, reps):
    F = torch.nn.functional

    def step(x, y):
        return F.cross_entropy(x, y)

    try:
        compiled = torch.compile(step)
        t0 = time.perf_counter()
        x = zt.detach().clone().requires_grad_()
        compiled(x, lt).backward()
        ctime = time.perf_counter() - t0

        def run():
            x.grad = None
            compiled(x, lt).backward()
        return run, ctime, None
    except Exception as e:  # noqa: BLE001 - report why, do not fail the run
        return None, None, f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"


# --------------------------------------------------------------------------- JIT cost


JIT_SCRIPT = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numba, numpy as np
    t1 = time.perf_counter()
    import runtime.generated.numba_losses as L, runtime.generated.numba_activations as A
    t2 = time.perf_counter()
    from runtime import loss_and_grad, activation, activation_grad
    res = {"import_numba": t1 - t0, "import_generated": t2 - t1, "first_call": {}}
    rng = np.random.default_rng(0)
    for name in ["softmax_ce", "bce", "bce_logits", "mse", "mae", "smooth_l1", "huber", "lp"]:
        for dt in (np.float32, np.float64):
            if name == "softmax_ce":
                p, t = rng.standard_normal((64, 10)).astype(dt), rng.integers(0, 10, 64)
            else:
                p, t = rng.uniform(0.1, 0.9, 1000).astype(dt), rng.random(1000).astype(dt)
            a = time.perf_counter(); loss_and_grad(name, p, t)
            res["first_call"][f"{name} mean {np.dtype(dt).name}"] = time.perf_counter() - a
    for name in ["sigmoid", "tanh", "relu", "leaky_relu"]:
        z = rng.standard_normal(1000).astype(np.float32)
        a = time.perf_counter(); activation(name, z)
        res["first_call"][f"{name} forward float32"] = time.perf_counter() - a
    print(json.dumps(res))
""")


def jit_costs(cache_dir: str | None) -> dict:
    import json

    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", JIT_SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# --------------------------------------------------------------------------- main


def machine() -> str:
    import torch

    from runtime import threads

    cpu = threads.cpu_model()
    return (f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numba {numba.__version__} "
            f"(threading layer {numba.threading_layer()}), numpy {np.__version__}, torch {torch.__version__}")


def needs(target: str, res: dict, roofline_s: float) -> str:
    """The time the speed-up target asks for (torch's best over the factor), beside the time of
    moving the case's bytes at the triad's rate: a target below the roofline cannot be met by any
    kernel on this machine, only by a slower torch."""
    m = re.match(r"≥(\d+(?:\.\d+)?)×", target)
    if not m:
        return ""
    ref = min(t for k, (t, _) in res.items() if k.startswith("torch"))
    return f"{ref / float(m.group(1)) * 1e3:.2f} ({roofline_s * 1e3:.2f})"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--no-jit", action="store_true", help="skip the first-call JIT measurements")
    ap.add_argument("--write", action="store_true", help="replace the section in bench/RESULTS.md")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    triad = triad_bandwidth(1 << (23 if args.quick else 25), args.reps)
    # The triad is also timed inside every case's round-robin, so each case's roofline share
    # compares against the bandwidth of the same moments (this machine's load varies).
    tn = 1 << (23 if args.quick else 24)
    ta, tb, tc = (np.ones(tn, np.float32) for _ in range(3))
    lines = [f"Threads: {args.threads} (numba.set_num_threads = torch.set_num_threads). "
             f"Triad roofline (a = b + s·c, float32, 12 B/element), measured alone: "
             + ", ".join(f"{k} **{v / 1e9:.1f} GB/s**" if k == "streaming stores" else
                         f"{k} {v / 1e9:.1f} GB/s" for k, v in triad.items())
             + ". The % column uses the streaming-store triad timed in the same round-robin as "
             f"each case (its GB/s in the case's label).", "",
             "| case | implementation | best ms | median ms | torch eager / this (best) | (median) "
             "| % roofline (best) | target | target needs ≤ ms (roofline ms) |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for label, nbytes, impl, target, extra in cases(torch, args.quick):
        if extra and not args.no_compile:
            run, ctime, err = try_torch_compile(torch, extra[1], extra[2], args.reps)
            if run:
                impl["torch.compile"] = run
                label += f" (torch.compile first call {ctime:.1f} s)"
            else:
                label += f" (torch.compile failed: {err})"
        impl["triad"] = lambda: _triad(ta, tb, tc, np.float32(0.5))
        res = round_robin(impl, args.reps)
        bw = 12 * tn / res.pop("triad")[0]
        label += f" [triad {bw / 1e9:.1f} GB/s]"
        eager = res["torch eager"]
        for k, (best, med) in res.items():
            roof = f"{100 * nbytes / best / bw:.0f}%" if k.startswith("numba") else ""
            lines.append(f"| {label} | {k} | {best * 1e3:.2f} | {med * 1e3:.2f} | "
                         f"{eager[0] / best:.2f}× | {eager[1] / med:.2f}× | {roof} | "
                         f"{target if k == 'numba (out=)' else ''} | "
                         f"{needs(target, res, nbytes / bw) if k == 'numba (out=)' else ''} |")
            print(lines[-1], flush=True)
    if not args.no_jit:
        with tempfile.TemporaryDirectory() as cold:
            c = jit_costs(cold)
            w = jit_costs(cold)  # the same cache directory, now filled
        lines += ["", f"Import (fresh process): numba {c['import_numba'] * 1e3:.0f} ms, the two generated "
                      f"modules {w['import_generated'] * 1e3:.0f} ms (no kernel compiled at import).", "",
                  "| first call (fresh process) | compile, empty cache (s) | load from cache (s) |",
                  "|---|---:|---:|"]
        for k in c["first_call"]:
            lines.append(f"| {k} | {c['first_call'][k]:.2f} | {w['first_call'][k]:.3f} |")
        print("\n".join(lines[-len(c['first_call']) - 4:]))
    text = "\n".join(lines)
    if args.write:
        write_section(text, args)
    return text


def write_section(text: str, args) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    cmd = "python bench/bench_losses.py " + " ".join(
        a for a in sys.argv[1:] if a != "--write")
    notes = (
        "Notes. The triad's GB/s beside each case shows the load of that moment: at ~13 GB/s one of "
        "the two CPUs was taken by another job, and the Numba rows of that case are then about half "
        "as fast as in a quiet moment (torch's less so: its eager passes are spread over more time). "
        "Every kernel's loop is vectorized (checked in the LLVM IR), exp/log/log1p/tanh included "
        "(codegen/numba_mathlib.py); the loss and activation kernels ask for 512-bit vectors "
        "(`wide_vectors`, 16 float lanes on this AVX-512 CPU). Sums and row maxima reduce "
        "through `add_reassoc` / `max_propagate_nan` (codegen/numba_reduce.py), the only operations "
        "LLVM may reorder. The last column is the time a speed-up target asks for, beside the "
        "time of moving the case's bytes at the triad's rate (the roofline): where the first is "
        "below or near the second, no kernel on this machine can meet the target. The triad, "
        "mse, mae, smooth_l1, huber and softmax_ce write large outputs with streaming stores "
        "(`stream_copy`: no read of the old output, so 12 bytes of traffic per triad element "
        "instead of 16; bench/bench_streaming.py times them with and without); the roofline is "
        "the streaming triad (both triads, measured alone, are in the header). The "
        "memory-bound losses run near it with `out=`, so their speed-up over torch is torch's "
        "distance from the same bound. softmax_ce takes each row's max (its one read from memory) "
        "in the exp pass of the row before, so reading overlaps computing.")
    body = (f"<!-- bench_losses: start -->\n## Losses and activations, forward + backward "
            f"(bench/bench_losses.py)\n\n`{cmd.strip()} --write` on {machine()}; best and median of "
            f"{args.reps} runs, interleaved round-robin. The machine is shared by other jobs: ratios "
            f"under 1.3× are noise.\n\n{text}\n\n{notes}\n<!-- bench_losses: end -->")
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = "<!-- bench_losses: start -->", "<!-- bench_losses: end -->"
    if start in old:
        new = old[:old.index(start)] + body + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + body + "\n"
    from codegen.generate import write_module

    write_module(path, new)


if __name__ == "__main__":
    main()
