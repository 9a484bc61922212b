"""The generated CUDA kernels on a GPU: against PyTorch CUDA and the device's memory bandwidth.

One run, side by side, on the current CUDA device: each kernel through ``runtime.cuda_dispatch``
(CuPy arrays, the gradient written into a reused ``out=`` buffer), the same operation in
PyTorch CUDA (eager; ``torch.compile`` too for softmax_ce where it works), and the roofline:
a triad a ← b + s·c measured here (12 bytes per float32 element), plus the theoretical peak
from the device's attributes. Times are CUDA-event medians after warm-up; ratios > 1 mean the
generated kernel is faster. Bytes per call: softmax_ce reads the logits and writes the
gradient (8 bytes per float32 logit) plus the labels; the elementwise losses read pred and
target and write grad (12 bytes); activations forward 8, backward 12; Adam 28, SGD momentum 20.

    python bench/bench_gpu.py [--reps 50] [--quick]

Without a CUDA device it exits at once, saying why (nothing is measured).
"""
from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np


def device_or_exit():
    try:
        import cupy
    except ImportError as err:
        sys.exit(f"bench_gpu: CuPy is not installed ({err}); pip install -e '.[gpu]' on a "
                 f"machine with an NVIDIA GPU. Nothing was measured.")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001
        sys.exit(f"bench_gpu: no usable CUDA device ({type(err).__name__}: {err}). "
                 f"Nothing was measured.")
    if count == 0:
        sys.exit("bench_gpu: no CUDA device (getDeviceCount() == 0). Nothing was measured.")
    return cupy


def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def timed(cupy, fn, reps: int) -> float:
    """Median milliseconds of ``fn()`` over ``reps`` runs (CUDA events), after warm-up."""
    for _ in range(3):
        fn()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(reps):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop))
    return statistics.median(times)


def triad_gbps(cupy, reps: int) -> float:
    n = 1 << 26
    b, c = cupy.ones(n, cupy.float32), cupy.ones(n, cupy.float32)
    a = cupy.empty_like(b)
    triad = cupy.ElementwiseKernel("float32 b, float32 c, float32 s", "float32 a",
                                   "a = b + s * c", "dc_triad")
    ms = timed(cupy, lambda: triad(b, c, np.float32(3.0), a), reps)
    return 12 * n / ms / 1e6


def peak_gbps(cupy) -> float | None:
    attrs = cupy.cuda.Device().attributes
    clock, width = attrs.get("MemoryClockRate"), attrs.get("GlobalMemoryBusWidth")
    if not clock or not width:
        return None
    return 2 * clock * 1e3 * width / 8 / 1e9  # DDR: two transfers per clock


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = ap.parse_args(argv)
    cupy = device_or_exit()
    torch = torch_cuda()
    from runtime import cuda_dispatch

    dev = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(dev.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    triad = triad_gbps(cupy, args.reps)
    peak = peak_gbps(cupy)
    print(f"device: {name} (sm_{props['major']}{props['minor']}, {props['multiProcessorCount']} SMs); "
          f"CuPy {cupy.__version__}; PyTorch CUDA: {torch.__version__ if torch else 'not available'}")
    print(f"roofline: triad {triad:.0f} GB/s" + (f", theoretical peak {peak:.0f} GB/s" if peak else ""))
    scale = 16 if args.quick else 1
    rng = np.random.default_rng(0)
    rows = []

    def row(label, ours_ms, nbytes, torch_ms=None, compiled_ms=None):
        gbps = nbytes / ours_ms / 1e6
        rows.append((label, ours_ms, torch_ms, compiled_ms, gbps))

    # softmax_ce forward + backward, mean
    for (N, C, dt) in [(8192, 1000, np.float32), (512, 32000, np.float32), (65536, 10, np.float32),
                       (8192, 1000, np.float64)]:
        N = max(1, N // scale)
        z = cupy.asarray(rng.normal(0, 3, (N, C)).astype(dt))
        labels = cupy.asarray(rng.integers(0, C, N))
        out = cupy.empty_like(z)
        ours = timed(cupy, lambda: cuda_dispatch.loss_and_grad("softmax_ce", z, labels, out=out),
                     args.reps)
        t_ms = c_ms = None
        if torch is not None:
            zt = torch.as_tensor(z, device="cuda").requires_grad_(True)
            lt = torch.as_tensor(labels, device="cuda")

            def eager(f=torch.nn.functional.cross_entropy):
                zt.grad = None
                f(zt, lt).backward()
            t_ms = timed(cupy, eager, args.reps)
            try:
                compiled = torch.compile(torch.nn.functional.cross_entropy)
                c_ms = timed(cupy, lambda: eager(compiled), args.reps)
            except Exception as err:  # noqa: BLE001
                print(f"  (torch.compile unavailable for cross_entropy: {type(err).__name__})")
        row(f"softmax_ce {N}x{C} {np.dtype(dt).name}", ours,
            2 * N * C * np.dtype(dt).itemsize + 8 * N, t_ms, c_ms)

    # elementwise losses over 16M float32, preallocated gradient
    n = (16 << 20) // scale
    F = torch.nn.functional if torch else None
    torch_losses = {"bce_logits": "binary_cross_entropy_with_logits", "mse": "mse_loss",
                    "mae": "l1_loss", "smooth_l1": "smooth_l1_loss", "huber": "huber_loss"}
    for name, fname in torch_losses.items():
        p = cupy.asarray(rng.normal(size=n).astype(np.float32))
        t = cupy.asarray(rng.uniform(size=n).astype(np.float32))
        out = cupy.empty_like(p)
        ours = timed(cupy, lambda: cuda_dispatch.loss_and_grad(name, p, t, out=out), args.reps)
        t_ms = None
        if torch is not None:
            pt = torch.as_tensor(p, device="cuda").requires_grad_(True)
            tt = torch.as_tensor(t, device="cuda")

            def eager():
                pt.grad = None
                getattr(F, fname)(pt, tt).backward()
            t_ms = timed(cupy, eager, args.reps)
        row(f"{name} 16M float32", ours, 12 * n, t_ms)

    # activations over 16M float32
    for name in ("relu", "sigmoid", "tanh"):
        z = cupy.asarray(rng.normal(size=n).astype(np.float32))
        u = cupy.asarray(rng.normal(size=n).astype(np.float32))
        out = cupy.empty_like(z)
        fwd = timed(cupy, lambda: cuda_dispatch.activation(name, z, out=out), args.reps)
        bwd = timed(cupy, lambda: cuda_dispatch.activation_grad(name, z, u, out=out), args.reps)
        tf = tb = None
        if torch is not None:
            zt, ut = torch.as_tensor(z, device="cuda"), torch.as_tensor(u, device="cuda")
            f = getattr(torch, name)
            tf = timed(cupy, lambda: f(zt), args.reps)
            if name == "relu":
                tb = timed(cupy, lambda: torch.ops.aten.threshold_backward(ut, zt, 0), args.reps)
            elif name == "sigmoid":
                at = torch.sigmoid(zt)
                tb = timed(cupy, lambda: torch.ops.aten.sigmoid_backward(ut, at), args.reps)
            else:
                at = torch.tanh(zt)
                tb = timed(cupy, lambda: torch.ops.aten.tanh_backward(ut, at), args.reps)
        row(f"{name} forward 16M float32", fwd, 8 * n, tf)
        row(f"{name} backward 16M float32", bwd, 12 * n, tb)

    # optimizer steps over 10M float32 parameters
    from runtime.generated import numba_optim

    m = (10_000_000) // scale
    for rule, hyper, state_n, nbytes, make_torch in [
        ("adam", dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0), 2, 28,
         lambda ps: torch.optim.Adam(ps, lr=1e-3, fused=True)),
        ("sgd_momentum", dict(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0), 1, 20,
         lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9)),
    ]:
        p = cupy.asarray(rng.normal(size=m).astype(np.float32))
        g = cupy.asarray(rng.normal(size=m).astype(np.float32))
        state = [cupy.zeros(m, cupy.float32) for _ in range(state_n)]
        spec = numba_optim.RULES[rule]
        scalars = spec["scalars"](2, **{k: hyper[k] for k in spec["hyper"]})
        ours = timed(cupy, lambda: cuda_dispatch.optimizer_step(rule, p, g, state, scalars),
                     args.reps)
        t_ms = None
        if torch is not None:
            pt = torch.nn.Parameter(torch.as_tensor(p.copy(), device="cuda"))
            pt.grad = torch.as_tensor(g, device="cuda")
            opt = make_torch([pt])
            t_ms = timed(cupy, opt.step, args.reps)
        row(f"{rule} 10M float32", ours, nbytes * m, t_ms)

    print(f"\n{'kernel':34s} {'ours ms':>9s} {'torch ms':>9s} {'× torch':>8s} "
          f"{'compile ms':>10s} {'GB/s':>7s} {'% triad':>8s}")
    for label, ours, t_ms, c_ms, gbps in rows:
        ratio = f"{t_ms / ours:7.2f}×" if t_ms else "      -"
        print(f"{label:34s} {ours:9.3f} {t_ms if t_ms else float('nan'):9.3f} {ratio:>8s} "
              f"{c_ms if c_ms else float('nan'):10.3f} {gbps:7.0f} {100 * gbps / triad:7.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
