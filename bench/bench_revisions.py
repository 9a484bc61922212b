"""The generated loss and activation kernels of another git revision against the working tree's.

Loads ``runtime/generated/numba_losses.py`` and ``numba_activations.py`` as committed at REV
(``git show``, into a temporary directory) next to the working tree's, and times the same
float32 inputs through both, interleaved round-robin, calling the kernels directly (their
calling convention has not changed). Cases include outputs written over their input (in
place), where an older generator let LLVM fall back to scalar loops:

    python bench/bench_revisions.py d6480de [--reps 15] [--threads 2]

Prints best / median ms for each and the speed-up of the working tree (REV's best / ours).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

MODULES = ("numba_losses", "numba_activations")


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules_at(rev: str, directory: Path) -> dict:
    out = {}
    for m in MODULES:
        text = subprocess.run(["git", "show", f"{rev}:runtime/generated/{m}.py"], cwd=ROOT,
                              check=True, capture_output=True, text=True).stdout
        path = directory / f"{m}_{rev}.py"
        path.write_text(text)
        out[m] = load(f"{m}_{rev}", path)
    return out


def cases(rng):
    """label -> (output shape, prepare(buf), call(modules, buf)): prepare copies the input into
    the output buffer for the in-place cases (outside the timing), call runs the kernel."""
    n = 1 << 24
    p, t = rng.standard_normal(n).astype(np.float32), rng.random(n, dtype=np.float32)
    z1 = (rng.standard_normal((8192, 1000)) * 3).astype(np.float32)
    lab1, w1 = rng.integers(0, 1000, 8192), np.ones(1000, np.float32)
    z2 = (rng.standard_normal((512, 32000)) * 3).astype(np.float32)
    lab2, w2 = rng.integers(0, 32000, 512), np.ones(32000, np.float32)
    L, A = "numba_losses", "numba_activations"

    def prepare(x, in_place):
        def copy_in(buf):
            if in_place:
                buf[...] = x
        return copy_in

    def ce(z, lab, w, in_place, eps=0.0):
        def call(mods, buf):
            k = mods[L].KERNELS[("softmax_ce", "index", "mean", "float32")]
            return k(buf if in_place else z, lab, w, -100, eps, buf)
        return z.shape, prepare(z, in_place), call

    def ce_prob(z, q, w):
        def call(mods, buf):
            k = mods[L].KERNELS[("softmax_ce", "prob", "mean", "float32")]
            return k(z, q, w, 0.0, buf)
        return z.shape, prepare(z, False), call

    # Confident rows (the label's logit 30 above the rest: s = 1 + rest < 1.25), where the
    # kernels take an extra pass over the row for log1p(rest) since the accuracy fixes.
    zc = z1.copy()
    zc[np.arange(8192), lab1] += 30
    onehot = np.zeros_like(z1)
    onehot[np.arange(8192), lab1] = 1
    z3 = rng.standard_normal((65536, 10)).astype(np.float32)
    lab3, w3 = rng.integers(0, 10, 65536), np.ones(10, np.float32)

    def elementwise(name, in_place, *opts):
        def call(mods, buf):
            k = mods[L].KERNELS[(name, "default", "mean", "float32")]
            return k(buf if in_place else p, t, buf, *opts)
        return p.shape, prepare(p, in_place), call

    def act(name, in_place):
        def call(mods, buf):
            k = mods[A].KERNELS[(name, "default", "forward", "float32")]
            return k(buf if in_place else p, buf)
        return p.shape, prepare(p, in_place), call

    def act_grad(name):  # out = upstream ⊙ f'(z), f' from z
        def call(mods, buf):
            k = mods[A].KERNELS[(name, "default", "backward", "float32")]
            return k(p, t, buf)
        return p.shape, prepare(p, False), call

    return {
        "softmax_ce 8192×1000, out=": ce(z1, lab1, w1, False),
        "softmax_ce 8192×1000, in place": ce(z1, lab1, w1, True),
        "softmax_ce 512×32000, out=": ce(z2, lab2, w2, False),
        "softmax_ce 65536×10, out=": ce(z3, lab3, w3, False),
        "softmax_ce 8192×1000 confident rows, out=": ce(zc, lab1, w1, False),
        "softmax_ce 8192×1000 confident rows, smoothing 0.1": ce(zc, lab1, w1, False, 0.1),
        "softmax_ce 8192×1000 probabilities (one-hot), random rows": ce_prob(z1, onehot, w1),
        "softmax_ce 8192×1000 probabilities (one-hot), confident rows": ce_prob(zc, onehot, w1),
        "mse 16M, out=": elementwise("mse", False),
        "bce_logits 16M, out=": elementwise("bce_logits", False, 1.0),
        "bce_logits 16M, in place": elementwise("bce_logits", True, 1.0),
        "sigmoid forward 16M, out=": act("sigmoid", False),
        "sigmoid forward 16M, in place": act("sigmoid", True),
        "sigmoid backward 16M, out=": act_grad("sigmoid"),
        "tanh backward 16M, out=": act_grad("tanh"),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rev", help="a git revision, e.g. d6480de")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    args = ap.parse_args(argv)
    numba.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        theirs = modules_at(args.rev, Path(tmp))
        # imported as the package's modules: loading the same files under another name would
        # write Numba cache entries that the real modules cannot load back
        ours = {m: importlib.import_module(f"runtime.generated.{m}") for m in MODULES}
        variants = {args.rev: theirs, "working tree": ours}
        print(f"threads {args.threads}; best / median ms of {args.reps} interleaved runs (in place: "
              f"the input copied back before each call, outside the timing)")
        print(f"| case | {args.rev} | working tree | {args.rev} / working tree (best) |")
        print("|---|---:|---:|---:|")
        for label, (shape, copy_in, call) in cases(np.random.default_rng(0)).items():
            bufs = {v: np.empty(shape, np.float32) for v in variants}
            for v, mods in variants.items():  # compile, first touch
                copy_in(bufs[v])
                call(mods, bufs[v])
            times = {v: [] for v in variants}
            for _ in range(args.reps):
                for v, mods in variants.items():
                    copy_in(bufs[v])
                    t0 = time.perf_counter()
                    call(mods, bufs[v])
                    times[v].append(time.perf_counter() - t0)
            cells = [f"{min(times[v]) * 1e3:.2f} / {statistics.median(times[v]) * 1e3:.2f}"
                     for v in variants]
            print(f"| {label} | {cells[0]} | {cells[1]} | "
                  f"{min(times[args.rev]) / min(times['working tree']):.2f}× |", flush=True)


if __name__ == "__main__":
    main()
