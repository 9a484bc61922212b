"""Thread planning for training: who gets the cores, the BLAS or the Numba kernels.

A training step alternates BLAS matrix products (OpenBLAS has its own thread pool) with Numba
kernels (activations, the loss, the optimizer; Numba's OpenMP/TBB pool). Left to their
defaults, both pools keep their threads spinning for a while after each call, waiting for more
work; on a small machine the two sets of spinning threads take the cores from each other and a
step becomes several times slower (the issue measured 4–27× on 2 cores). So the plan gives
each phase the cores in turn and lets only one pool be multi-threaded:

- BLAS gets the cores for products big enough to profit (``blas_min_flops``), one thread below;
- Numba kernels run on one thread (the serial kernel variants) unless a kernel's arrays are
  large enough to amortise waking a pool (``kernels_min_elements``), and then only when the
  BLAS pool is not also using the cores;
- ``passive_wait()`` asks OpenMP pools to sleep rather than spin when idle (it must run before
  Numba's threading layer starts; training calls it, an explicit environment value wins).

``plan(batch_size, sizes)`` returns a :class:`ThreadPlan` from sizes alone; ``tune(batch_size,
sizes)`` times the largest product with one and with all BLAS threads and keeps the faster
(what training uses: a machine shared with other busy processes punishes a multi-threaded
BLAS); ``using(plan)`` applies a plan for a block and restores the previous settings. ``bench/bench_mlp.py`` measures the plans side by
side; the defaults below come from those measurements.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
from dataclasses import dataclass

import numba

__all__ = ["ThreadPlan", "plan", "tune", "using", "passive_wait", "blas_threads", "set_blas_threads",
           "cores"]

#: Products below this many flops (2·m·n·k) run BLAS on one thread.
BLAS_MIN_FLOPS = 2 * 256 * 784 * 256
#: Elementwise kernels over fewer elements than this stay on one Numba thread.
KERNELS_MIN_ELEMENTS = 1 << 20


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- BLAS threads

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "openblas_set_num_threads", "MKL_Set_Num_Threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
            "openblas_get_num_threads", "MKL_Get_Max_Threads")
_blas = None


def _blas_lib():
    """(get, set) for the BLAS NumPy loaded, found among the process's mapped libraries."""
    global _blas
    if _blas is not None:
        return _blas
    import numpy  # noqa: F401  (loads the BLAS)

    paths = []
    try:
        with open("/proc/self/maps") as maps:
            paths = list(dict.fromkeys(line.split()[-1] for line in maps
                                       if "blas" in line.lower() or "mkl" in line.lower()))
    except OSError:
        pass
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        get = next((getattr(lib, s) for s in _GETTERS if hasattr(lib, s)), None)
        put = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
        if get is not None and put is not None:
            get.restype = ctypes.c_int
            _blas = (get, put)
            return _blas
    _blas = (None, None)
    return _blas


def blas_threads() -> int | None:
    """The BLAS's thread count (None when the BLAS cannot be controlled)."""
    get, _ = _blas_lib()
    return int(get()) if get is not None else None


def set_blas_threads(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"BLAS threads must be a positive int, got {n!r}")
    _, put = _blas_lib()
    if put is not None:
        put(ctypes.c_int(n))


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class ThreadPlan:
    """How many threads the BLAS and the Numba kernels get during a block of work."""

    blas: int
    kernels: int
    reason: str = ""

    def __str__(self):
        return f"BLAS {self.blas} thread(s), kernels {self.kernels} thread(s) ({self.reason})"


def plan(batch_size: int, sizes=(), *, n_cores: int | None = None,
         blas_min_flops: int = BLAS_MIN_FLOPS,
         kernels_min_elements: int = KERNELS_MIN_ELEMENTS) -> ThreadPlan:
    """The plan for training a dense network with layer ``sizes`` on batches of ``batch_size``."""
    n = n_cores or cores()
    sizes = list(sizes)
    flops = max((2 * batch_size * a * b for a, b in zip(sizes, sizes[1:])), default=0)
    widest = batch_size * max(sizes[1:], default=1)
    blas = n if flops >= blas_min_flops else 1
    # Only one pool multi-threaded at a time: kernels go parallel only when BLAS stays serial.
    kernels = min(n, numba.config.NUMBA_NUM_THREADS) if (
        widest >= kernels_min_elements and blas == 1) else 1
    reason = (f"largest product {flops / 1e6:.1f} MFLOP "
              f"{'≥' if blas > 1 else '<'} {blas_min_flops / 1e6:.1f}; widest activation "
              f"{widest} elements")
    return ThreadPlan(blas, kernels, reason)


def tune(batch_size: int, sizes, *, n_cores: int | None = None, dtype="float32",
         seconds: float = 0.02) -> ThreadPlan:
    """The plan, with the BLAS thread count chosen by timing the network's largest product.

    A busy machine (other processes on the cores) can make a multi-threaded BLAS several times
    slower than one thread, an idle one faster: measuring beats guessing. Times
    ``X @ W.T`` of the largest layer with one thread and with every core in 5 alternating
    rounds of about ``seconds``/5 each, and keeps more threads only when their median time is
    at least 20% lower.
    """
    import time

    import numpy as np

    base = plan(batch_size, sizes, n_cores=n_cores)
    n = n_cores or cores()
    sizes = list(sizes)
    if base.blas == 1 or len(sizes) < 2 or blas_threads() is None:
        return base  # products too small to share out, or no control over the BLAS
    a, b = max(zip(sizes, sizes[1:]), key=lambda ab: ab[0] * ab[1])
    rng = np.random.default_rng(0)
    X = rng.random((batch_size, a), dtype=np.dtype(dtype).type)
    W = rng.random((b, a), dtype=np.dtype(dtype).type)
    out = np.empty((batch_size, b), dtype=dtype)
    rounds = {1: [], n: []}
    before = blas_threads()
    try:
        for _ in range(5):
            for t in rounds:
                set_blas_threads(t)
                np.matmul(X, W.T, out=out)  # wake the pool
                reps, start = 0, time.perf_counter()
                while time.perf_counter() - start < seconds / 5:
                    np.matmul(X, W.T, out=out)
                    reps += 1
                rounds[t].append((time.perf_counter() - start) / reps)
    finally:
        set_blas_threads(before)
    # Medians, not minima: a lucky moment with idle cores flatters the multi-threaded BLAS.
    best = {t: sorted(v)[len(v) // 2] for t, v in rounds.items()}
    blas = n if best[n] < 0.8 * best[1] else 1
    kernels = base.kernels if blas == 1 else 1
    return ThreadPlan(blas, kernels, f"timed {a}×{b} product at batch {batch_size}: "
                      f"{best[1] * 1e6:.0f} µs on 1 thread, {best[n] * 1e6:.0f} µs on {n}")


@contextlib.contextmanager
def using(p: ThreadPlan):
    """Apply ``p`` inside the block; restore the previous thread counts afterwards."""
    before_kernels, before_blas = numba.get_num_threads(), blas_threads()
    numba.set_num_threads(max(1, min(p.kernels, numba.config.NUMBA_NUM_THREADS)))
    if before_blas is not None:
        set_blas_threads(p.blas)
    try:
        yield p
    finally:
        numba.set_num_threads(before_kernels)
        if before_blas is not None:
            set_blas_threads(before_blas)


def passive_wait() -> bool:
    """Ask OpenMP thread pools to sleep when idle (OMP_WAIT_POLICY=PASSIVE) unless the user set it.

    Effective only before the OpenMP runtime starts (Numba starts it at the first parallel
    kernel); returns True when the setting is in place.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.environ["OMP_WAIT_POLICY"].upper() == "PASSIVE"
