"""Per-operation breakdown of one training step of the 784-256-256-10 ReLU MLP, ours vs PyTorch.

The same step as bench/bench_mlp.py (softmax-CE head, SGD momentum 0.9, float32), cut into its
operations, each timed on its own in a loop on the shapes and buffers of a real step:

- ours: runtime.nn.MLP's own layer methods where one method is one operation (Dense.forward =
  GEMM + bias, Activation.forward/backward, the head ``_train_head``), and Dense.backward's
  three products (dW, db as 1ᵀδ, dA) as that method runs them (same layouts: the hidden
  layers run feature-major below batch 256); runtime.optim.SGD.step on the flat buffer.
  A hidden layer's bias goes into its activation's kernels, as the step runs them
  (runtime.nn._BiasActivation; the ``_rows`` kernels in the feature-major layout): our
  "GEMM+bias" is the product only, "fwd relu" adds the bias, "bwd relu" also sums ∂L/∂b,
  and our "db" is empty;
- PyTorch: the ATen calls its autograd makes for the same network: ``torch.addmm`` (Linear's
  forward), ``torch.relu``, ``F.cross_entropy`` + ``backward()`` on a leaf (the head),
  ``mm(δᵀ, a)``, ``δ.sum(0)``, ``mm(δ, W)``, ``threshold_backward``, fused SGD's ``step()``.

Each op is timed two ways: "alone", called in a loop (its data hot in the caches of the
core that last wrote it), and "in sequence", the same calls run back to back in step order
and timed one by one (each op finds caches and thread pools as the ops before it left them,
as in a step). The sums of each against the whole step show what a step pays beyond its
ops; ``--step-vs-sequence`` times whole steps against the ops in sequence in one process,
alternating, where block-to-block noise cannot tell them apart.

Thread use as in bench_mlp: torch on every core; ours with OpenBLAS on every core and the
Numba kernels on one thread (the plan runtime.threads.Tuner picks for both batches on idle
cores, held fixed here), OMP_WAIT_POLICY=PASSIVE; ``--threads 1`` puts both libraries on one
thread (their kernels compared with no thread pool involved). Each library runs in its own
worker process; the main process asks them in turn (round-robin, the order alternating per
round) for a block of one op, each block after a pause that saw the CPUs idle (see
``bench``) and one untimed call, and reports per op the median and the best block.

Models are rebuilt (same seed, untimed) before a block would take them past FRESH_STEPS
updates (subnormal momentum, see bench_mlp's docstring).

    python bench/bench_mlp_ops.py [--batches 64 1024] [--blocks 5] [--threads 1]
    python bench/bench_mlp_ops.py --step-vs-sequence 60 [--threads 1]

The printed section goes into bench/RESULTS.md between the markers START/END below (pasted by
hand: other scripts write other sections of that file).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START, END = "<!-- bench_mlp_ops: start -->", "<!-- bench_mlp_ops: end -->"
SIZES = [784, 256, 256, 10]
FRESH_STEPS = 400
STEP = "whole step"


def op_names():
    """The operations of one step in the order the step runs them."""
    names, n = [], len(SIZES) - 1
    for k in range(n):
        names.append(f"fwd L{k + 1} {SIZES[k]}→{SIZES[k + 1]} GEMM+bias")
        if k < n - 1:
            names.append(f"fwd relu {k + 1}")
    names.append("loss head (softmax-CE + ∂/∂logits)")
    for k in reversed(range(n)):
        names += [f"bwd L{k + 1} dW", f"bwd L{k + 1} db"]
        if k > 0:
            names += [f"bwd L{k + 1} dA", f"bwd relu {k}"]
    return names + ["optimizer step (SGD momentum)"]


OPS = op_names()
#: ops that change the parameters or the momentum (counted against FRESH_STEPS)
SEQUENCE = "ops in sequence"
UPDATES = ("optimizer step (SGD momentum)", STEP, SEQUENCE)


def _ours(batch, seed=0):
    """{op name: closure} on one model's buffers after one real step."""
    import numpy as np

    from runtime.nn import MLP, _BiasActivation, _feature_major
    from runtime.optim import SGD

    model = MLP(SIZES, "relu", loss="softmax_ce", dtype=np.float32, seed=seed)
    opt = SGD(model.flat_parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    X = rng.random((batch, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=batch)
    grads = model.flat_gradients()

    # one step by hand, keeping every step's input and upstream gradient (model._steps: a
    # Dense and its activation run as one _BiasActivation, fused on batch-major batches)
    steps = model._steps
    ins, a = [], model._input(X)
    for st in steps:
        ins.append(a)
        a = st.forward(a, True)
    out = a
    loss, g = model._train_head(out, y)
    ups = [None] * len(steps)
    for k in reversed(range(len(steps))):
        ups[k] = g
        g = steps[k].backward(g, need_input_grad=k > 0)
    opt.step(grads)

    def dense_products(layer, delta, dense_k, k, fused):
        # Dense.backward's products as it runs them: dW, db as 1ᵀδ (none when fused: the δ
        # kernel summed it), dA
        x, gw, gb, w = layer._input, layer.grads["weight"], layer.grads["bias"], \
            layer.params["weight"]
        ops[f"bwd L{dense_k} dW"] = lambda d=delta, x=x, gw=gw: np.matmul(d.T, x, out=gw)
        if fused:
            ops[f"bwd L{dense_k} db"] = lambda: None
        elif _feature_major(delta):
            ones = layer._work["ones"]
            ops[f"bwd L{dense_k} db"] = lambda d=delta, o=ones, gb=gb: np.matmul(d.T, o, out=gb)
        else:
            ones = layer._work["ones"]
            ops[f"bwd L{dense_k} db"] = lambda d=delta, o=ones, gb=gb: np.matmul(o, d, out=gb)
        if k > 0:
            if _feature_major(x):
                dat = layer._work["dat"]
                ops[f"bwd L{dense_k} dA"] = lambda d=delta, w=w, o=dat: np.matmul(w.T, d.T, out=o)
            else:
                da = layer._work["da"]
                ops[f"bwd L{dense_k} dA"] = lambda d=delta, w=w, o=da: np.matmul(d, w, out=o)

    ops, dense_k = {}, 0
    for k, st in enumerate(steps):
        x = ins[k]
        dense_k += 1
        dense = st.dense if isinstance(st, _BiasActivation) else st
        name = f"fwd L{dense_k} {dense.in_features}→{dense.out_features} GEMM+bias"
        if isinstance(st, _BiasActivation) and st._fused:
            fast, fm = st.act._kernels(x.dtype), st.act._fm
            z = st.act._a.reshape(-1)  # z's buffer (C-contiguous), which holds a
            ops[name] = lambda d=dense, x=x: d.forward(x, True, add_bias=False)
            ops[f"fwd relu {dense_k}"] = (lambda f=fast[5 if fm else 3], z=z, b=dense.params["bias"],
                                          opt=fast[2]: f(z, b, z, *opt))
        elif isinstance(st, _BiasActivation):  # unfused: the layers' own passes
            zin = (dense._work["zt"].T if dense.runs_feature_major(x.shape[0])
                   else dense._work["z"])
            ops[name] = lambda d=dense, x=x: d.forward(x, True)
            ops[f"fwd relu {dense_k}"] = lambda act=st.act, z=zin: act.forward(z, True)
        else:
            ops[name] = lambda d=dense, x=x: d.forward(x, True)
    ops["loss head (softmax-CE + ∂/∂logits)"] = lambda: model._train_head(out, y)
    for k in reversed(range(len(steps))):
        st, up = steps[k], ups[k]
        if isinstance(st, _BiasActivation):
            act, dense = st.act, st.dense
            delta = act._work["delta"]
            if st._fused:
                fast, fm = act._kernels(delta.dtype), act._fm
                u = np.asfortranarray(up).T if fm else np.ascontiguousarray(up)
                ops[f"bwd relu {dense_k}"] = (
                    lambda f=fast[6 if fm else 4], a=act._a.reshape(-1), u=u.reshape(-1),
                    d=delta.reshape(-1), gb=dense.grads["bias"], opt=fast[2]: f(a, u, d, gb, *opt))
                delta = delta.T if fm else delta
            else:
                ops[f"bwd relu {dense_k}"] = lambda act=act, u=up: act.backward(u, True)
                delta = delta.T if act._fm else delta
            dense_products(dense, delta, dense_k, k, st._fused)
        else:
            dense_products(st, up, dense_k, k, False)
        dense_k -= 1
    ops["optimizer step (SGD momentum)"] = lambda: opt.step(grads)

    def step():
        model.loss_and_backward(X, y)
        opt.step(grads)

    ops[STEP] = step
    return ops


def _theirs(batch, seed=0):
    """{op name: closure}: the ATen calls of torch's step on the same shapes and weights."""
    import torch
    import torch.nn.functional as F

    from bench_mlp import torch_twin  # the same network, weights and data as bench_mlp

    lins, net, opt, X, y = torch_twin(batch, seed)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(X), y).backward()
        opt.step()

    step()  # grads in place for the optimizer op; momentum buffers exist

    ops = {}
    with torch.no_grad():
        Ws = [lin.weight.detach().clone() for lin in lins]
        bs = [lin.bias.detach().clone() for lin in lins]
        a, ins, zs = X, [], []
        for k, (W, b) in enumerate(zip(Ws, bs)):
            ins.append(a)
            z = torch.addmm(b, a, W.t())
            zs.append(z)
            a = torch.relu(z) if k < len(Ws) - 1 else z
    logits = a.clone().requires_grad_(True)
    F.cross_entropy(logits, y).backward()
    with torch.no_grad():
        g, ups = logits.grad.clone(), [None] * len(Ws)
        for k in reversed(range(len(Ws))):
            ups[k] = g
            if k > 0:
                g = torch.ops.aten.threshold_backward(g @ Ws[k], ins[k], 0)
    for k, (W, b) in enumerate(zip(Ws, bs)):
        ops[f"fwd L{k + 1} {SIZES[k]}→{SIZES[k + 1]} GEMM+bias"] = \
            (lambda W=W, b=b, x=ins[k]: torch.addmm(b, x, W.t()))
        if k < len(Ws) - 1:
            ops[f"fwd relu {k + 1}"] = lambda z=zs[k]: torch.relu(z)

    def head():
        logits.grad = None
        F.cross_entropy(logits, y).backward()

    ops["loss head (softmax-CE + ∂/∂logits)"] = head
    for k in reversed(range(len(Ws))):
        d, x, W = ups[k], ins[k], Ws[k]
        ops[f"bwd L{k + 1} dW"] = lambda d=d, x=x: torch.mm(d.t(), x)
        ops[f"bwd L{k + 1} db"] = lambda d=d: d.sum(0)
        if k > 0:
            ops[f"bwd L{k + 1} dA"] = lambda d=d, W=W: torch.mm(d, W)
            up = d @ W
            ops[f"bwd relu {k}"] = (lambda up=up, a=ins[k]:
                                    torch.ops.aten.threshold_backward(up, a, 0))
    ops["optimizer step (SGD momentum)"] = opt.step
    ops[STEP] = step
    return ops


def _worker(conn, side, batch, n_threads=None):
    from runtime import threads

    n = n_threads or threads.cores()
    if side == "torch":
        import torch

        torch.set_num_threads(n)
        build, note = _theirs, f"torch {n} threads"
    else:
        threads.passive_wait()  # before Numba's pool starts, as runtime.train.fit does
        build = _ours
    ops = build(batch)
    for fn in ops.values():
        fn()
    conn.send("ready")
    assert conn.recv() == "plan"  # every worker compiled and idle
    if side == "ours":
        # BLAS on every core, the kernels on one thread: the plan the Tuner picks for both
        # batches on idle cores (bench/RESULTS.md, "Training step"), held fixed here so a
        # spell of load cannot switch it between ops
        chosen = threads.ThreadPlan(n, 1, "BLAS on every core")  # (or --threads)
        in_force = threads.using(chosen)  # kept referenced: for the worker's lifetime
        in_force.__enter__()
        note = f"BLAS {chosen.blas} threads, kernels {chosen.kernels}"
    conn.send(note)
    updates = FRESH_STEPS  # rebuild before the first block
    while True:
        msg = conn.recv()
        if msg is None:
            break
        name, reps = msg
        if name in UPDATES:
            if updates + reps + 1 > FRESH_STEPS:
                ops, updates = build(batch), 0
                for fn in ops.values():  # first touch of the new buffers
                    fn()
                updates = 2
            updates += reps + 1
        if name == SEQUENCE:
            _sequence(ops, 1)  # untimed: wakes the pools that slept through the pause
            conn.send(_sequence(ops, reps))
            continue
        fn = ops[name]
        fn()  # untimed: wakes the pools that slept through the pause (a training loop has none)
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        conn.send((time.perf_counter() - t0) / reps)


def _sequence(ops, reps):
    """{op: seconds per call} with the ops run back to back in step order (a step made of the
    closures: each op sees the caches and thread pools as the previous op left them)."""
    clock, total = time.perf_counter, dict.fromkeys(OPS, 0.0)
    fns = [(name, ops[name]) for name in OPS]
    for _ in range(reps):
        for name, fn in fns:
            t0 = clock()
            fn()
            total[name] += clock() - t0
    return {name: t / reps for name, t in total.items()}


def _cpu_idle():
    """(idle, total) CPU time so far, all CPUs, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:8]]
    except OSError:
        return None
    return fields[3] + fields[4], sum(fields)


def bench(batch, blocks, seconds_per_block=0.03, pause=0.15, idle_wait=10.0, n_threads=None):
    """Per-op medians and bests. Before each block the main process pauses ``pause`` s; the
    block starts once a pause saw the CPUs ≥ 90% idle (other jobs on a shared machine turn
    a 2-thread product's 1 ms into 8–100 ms), or after ``idle_wait`` s of pauses regardless
    (counted in ``notes["busy"]``)."""
    ctx = mp.get_context("spawn")
    sides = {}
    for side in ("ours", "torch"):
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(there, side, batch, n_threads),
                           daemon=True)
        proc.start()
        sides[side] = (here, proc)
    def recv(side):
        conn, proc = sides[side]
        while not conn.poll(1.0):
            if not proc.is_alive():
                raise RuntimeError(f"the {side} worker died (exit code {proc.exitcode})")
        return conn.recv()

    for side in sides:
        assert recv(side) == "ready"
    notes = {}
    for side, (conn, _) in sides.items():
        conn.send("plan")
        notes[side] = recv(side)

    busy = [0, 0]

    def run(side, name, reps):
        waited = 0.0
        while True:  # the other side's idle pool threads stop spinning; other jobs finish
            a = _cpu_idle()
            time.sleep(pause)
            b = _cpu_idle()
            waited += pause
            if a is None or (b[0] - a[0]) >= 0.9 * (b[1] - a[1]):
                break
            if waited >= idle_wait:
                busy[0] += 1
                break
        busy[1] += 1
        sides[side][0].send((name, reps))
        return recv(side)

    names = OPS + [STEP]
    reps = {}
    for side in sides:  # size the blocks
        for name in names:
            t = run(side, name, 3)
            reps[side, name] = min(FRESH_STEPS // 2, max(3, int(seconds_per_block / max(t, 1e-7))))
        reps[side, SEQUENCE] = max(5, reps[side, STEP])
    times = {key: [] for key in reps}
    seq = {(side, f"{name} [seq]"): [] for side in sides for name in OPS}
    for r in range(blocks):
        for name in names + [SEQUENCE]:
            for side in (("ours", "torch") if r % 2 == 0 else ("torch", "ours")):
                got = run(side, name, reps[side, name])
                if name == SEQUENCE:
                    for op, t in got.items():
                        seq[side, f"{op} [seq]"].append(t)
                    got = sum(got.values())
                times[side, name].append(got)
    for conn, proc in sides.values():
        conn.send(None)
        proc.join(timeout=30)
    notes["busy"] = f"{busy[0]} of {busy[1]} blocks started without an idle pause"
    med = {key: statistics.median(t) for key, t in (times | seq).items()}
    best = {key: min(t) for key, t in (times | seq).items()}
    return notes, med, best


def table(batch, notes, med, best):
    lines = [f"Batch {batch} (ours: {notes['ours']}; {notes['torch']}; {notes['busy']})", "",
             "| op | ours alone | torch alone | torch / ours | ours in sequence | "
             "torch in sequence | torch / ours |", "| --- |" + " ---: |" * 6]

    def cells(o, t):
        return (f"{med[o] * 1e3:.3f} ({best[o] * 1e3:.3f}) | {med[t] * 1e3:.3f} "
                f"({best[t] * 1e3:.3f}) | {med[t] / med[o]:.2f}× ({best[t] / best[o]:.2f}×)")

    for name in OPS:
        lines.append(f"| {name} | {cells(('ours', name), ('torch', name))} | "
                     f"{cells(('ours', name + ' [seq]'), ('torch', name + ' [seq]'))} |")
    for side in ("ours", "torch"):
        med[side, "sum"] = sum(med[side, n] for n in OPS)
        best[side, "sum"] = sum(best[side, n] for n in OPS)
    lines.append(f"| **sum** | {cells(('ours', 'sum'), ('torch', 'sum'))} | "
                 f"{cells(('ours', SEQUENCE), ('torch', SEQUENCE))} |")
    lines.append(f"| **{STEP}** | {cells(('ours', STEP), ('torch', STEP))} | | | |")
    lines += ["", "What the whole step pays beyond its ops (Python between the ops, buffer "
              "lookups, thread pool wake-ups, caches), median (best): "
              + "; ".join(f"{side}: step − sum of ops alone "
                          f"{(med[side, STEP] - med[side, 'sum']) * 1e3:+.3f} ms "
                          f"({(best[side, STEP] - best[side, 'sum']) * 1e3:+.3f}), step − ops in "
                          f"sequence {(med[side, STEP] - med[side, SEQUENCE]) * 1e3:+.3f} ms "
                          f"({(best[side, STEP] - best[side, SEQUENCE]) * 1e3:+.3f})"
                          for side in ("ours", "torch")) + "."]
    return lines


def step_vs_sequence(batch, rounds, n_threads=None, steps=10):
    """Ours only, in this process: blocks of whole steps and blocks of the same ops called
    back to back (untimed one by one), alternating; (median, best) ms of each. Equal times
    mean the step pays nothing between its ops that the ops alone do not."""
    from runtime import threads

    threads.passive_wait()
    n = n_threads or threads.cores()
    with threads.using(threads.ThreadPlan(n, 1, "BLAS on every core")):
        def fresh():
            ops = _ours(batch)
            for fn in ops.values():
                fn()
            fns = [ops[name] for name in OPS]

            def sequence():
                for fn in fns:
                    fn()
            return {STEP: ops[STEP], "ops in sequence": sequence}

        runs, times, done = fresh(), {STEP: [], "ops in sequence": []}, 0
        for r in range(rounds):
            if done + 2 * (steps + 1) > FRESH_STEPS:
                runs, done = fresh(), 0
            for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
                fn = runs[name]
                fn()
                t0 = time.perf_counter()
                for _ in range(steps):
                    fn()
                times[name].append((time.perf_counter() - t0) / steps)
            done += 2 * (steps + 1)
    return {k: (statistics.median(t), min(t)) for k, t in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 1024])
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS and torch threads (default: every core); 1 compares the "
                         "libraries' kernels with no thread pool involved")
    ap.add_argument("--step-vs-sequence", type=int, metavar="ROUNDS", default=0,
                    help="instead: ours only, whole steps against the same ops in sequence, "
                         "alternating blocks of 10 in one process, ROUNDS rounds")
    args = ap.parse_args(argv)
    if args.step_vs_sequence:
        for batch in args.batches:
            got = step_vs_sequence(batch, args.step_vs_sequence, args.threads)
            print(f"batch {batch}, BLAS {args.threads or 'every core'}: " + "; ".join(
                f"{k} {m * 1e3:.3f} ms ({b * 1e3:.3f})" for k, (m, b) in got.items())
                + f" (median (best) of {args.step_vs_sequence} blocks of 10)", flush=True)
        return
    import numba
    import numpy as np
    import torch

    from runtime import threads

    load = os.getloadavg()[0]
    lines = [f"MLP {'-'.join(map(str, SIZES))} ReLU, softmax-CE, SGD momentum 0.9, float32: "
             f"each op of a training step timed alone (`python bench/bench_mlp_ops.py --blocks "
             f"{args.blocks}{f' --threads {args.threads}' if args.threads else ''}`)", ""]
    for batch in args.batches:
        notes, med, best = bench(batch, args.blocks, n_threads=args.threads)
        part = table(batch, notes, med, best)
        print("\n".join(part), flush=True)
        lines += [""] + part
    end_load = os.getloadavg()[0]
    lines[1] = (f"{threads.cpu_model()}, {threads.cores()} cores, numpy {np.__version__} "
                f"(OpenBLAS, kernels {threads.blas_kernels()}), numba {numba.__version__}, torch "
                f"{torch.__version__} (MKL); load average {load:.1f} at the start, "
                f"{end_load:.1f} at the end.")
    lines += ["", "Milliseconds per call: median over the blocks (best block in parentheses), "
              "each library in its own process, interleaved round-robin. \"alone\": one op "
              "called in a loop; \"in sequence\": the same calls run back to back in step "
              "order (each op after the ops before it, as in a step), timed one by one. torch / "
              "ours above 1: we are faster."]
    text = "\n".join(lines)
    print()
    print(text)


if __name__ == "__main__":
    main()
