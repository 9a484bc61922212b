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

``plan(batch_size, sizes)`` returns a :class:`ThreadPlan` from sizes alone; ``candidates``
adds the all-serial plan when that one is multi-threaded, and a BLAS-on-every-core plan for
products too small for ``plan`` but big enough that a free core still pays (``BLAS_TRY_FLOPS``);
training times its first steps under each candidate and keeps the fastest (:class:`Tuner`;
a machine shared with other busy processes punishes a multi-threaded BLAS). ``using(plan)`` applies a plan for a block and restores the previous
settings. ``bench/bench_mlp.py`` measures the plans side by
side; the defaults below come from those measurements.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import time
from dataclasses import dataclass

import numba

__all__ = ["ThreadPlan", "plan", "candidates", "Tuner", "Planned", "using", "passive_wait", "blas_threads",
           "blas_kernels", "set_blas_threads", "cores", "cpu_model", "BLAS_MIN_FLOPS", "BLAS_TRY_FLOPS", "KERNELS_MIN_ELEMENTS"]

#: Products below this many flops (2·m·n·k) run BLAS on one thread.
BLAS_MIN_FLOPS = 2 * 256 * 784 * 256
#: From this many flops in the largest product a multi-threaded BLAS is worth timing against
#: the serial plan (``candidates``): bench/bench_mlp.py's batch-64 step (largest product
#: 25.7 MFLOP) measured 0.94 ms with OpenBLAS on 2 threads against 1.39 ms on one while the
#: second core was free, and several times slower while other processes held it.
BLAS_TRY_FLOPS = 2 * 64 * 256 * 256
#: Elementwise kernels over fewer elements than this stay on one Numba thread.
KERNELS_MIN_ELEMENTS = 1 << 20


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name ('AMD EPYC', 'Intel(R) Xeon(R) ...'), for benchmark headers."""
    import platform

    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------- BLAS threads

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "openblas_set_num_threads", "MKL_Set_Num_Threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
            "openblas_get_num_threads", "MKL_Get_Max_Threads")
_CORENAMES = ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
               "openblas_get_corename")
_blas = None
_corename = None


def _blas_lib():
    """(get, set) for the BLAS NumPy loaded, found among the process's mapped libraries."""
    global _blas, _corename
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
            _corename = next((getattr(lib, s) for s in _CORENAMES if hasattr(lib, s)), None)
            if _corename is not None:
                _corename.restype = ctypes.c_char_p
            return _blas
    _blas = (None, None)
    return _blas


def blas_threads() -> int | None:
    """The BLAS's thread count (None when the BLAS cannot be controlled)."""
    get, _ = _blas_lib()
    return int(get()) if get is not None else None


def blas_kernels() -> str | None:
    """The CPU kernels OpenBLAS runs (its core name: 'SkylakeX', 'Haswell', ...), followed by
    ``OPENBLAS_CORETYPE=...`` when the environment chose them; None for another BLAS.

    The products are most of a training step's time and OpenBLAS's kernels differ by up to 1.85×
    on one CPU (AVX2 against AVX-512, bench/bench_blas.py), so the benchmarks print this."""
    _blas_lib()
    if _corename is None:
        return None
    name = _corename().decode(errors="replace").strip()
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return f"{name}, OPENBLAS_CORETYPE={forced}" if forced else name


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


class Tuner:
    """Try each candidate plan on real training steps and keep the fastest, and keep watching.

    What a step costs under a plan depends on the machine and on what else runs on it: a
    multi-threaded BLAS that wins on idle cores can lose several times over when other
    processes hold them, and a product timed alone does not show how the BLAS threads and the
    kernels between products get in each other's way. So the steps themselves are timed:
    ``next()`` gives the plan for the coming step, ``record(plan, seconds)`` its time; after
    ``warmup`` + ``trials`` steps per candidate (in turn) ``chosen`` is the plan with the
    lowest median time. The steps run during the trials are ordinary training steps.

    The load can change after the choice (measured on 2 shared cores: a batch-64 step with
    OpenBLAS on both cores went from 1 ms to 50 ms when another process took one), so steps
    keep being recorded: ``patience`` steps in a row slower than ``slowdown`` × the chosen
    plan's median (or than the next-best plan's median, when that is lower), or
    ``retune_seconds`` of steps under the chosen plan (the load may also have gone), start
    the trials again. A re-tune that keeps the same plan doubles the interval to the next
    scheduled one (the trials of a plan that lost cost time), up to ``max_retune_seconds``
    (a plan chosen under a passing load gets faster steps, not slower ones, so only a
    scheduled re-tune can find that the other plan wins again); one that changes the plan
    resets it. A trial step ``give_up`` × slower than another plan's best ends that plan's
    trials for the round, so a re-tune under load costs a step or two of the losing plan.
    A scheduled re-tune (nothing got slow) only checks whether another plan has become
    faster: a trial step of another plan ``recheck`` × slower than the chosen plan's median
    ends that plan's trials (a warm-up and one step, not the full trials, per losing plan:
    at batch 1024 each step of the serial plan costs ~6 ms more than one of BLAS on 2 cores).
    One candidate is never re-tuned.
    """

    def __init__(self, candidates, trials: int = 3, warmup: int = 1, *, patience: int = 3,
                 slowdown: float = 2.0, retune_seconds: float = 1.0, give_up: float = 5.0,
                 recheck: float = 1.5, max_retune_seconds: float = 60.0):
        self.candidates = list(dict.fromkeys(candidates))
        if not self.candidates:
            raise ValueError("Tuner needs at least one candidate plan")
        self.trials, self.warmup = int(trials), int(warmup)
        self.patience, self.slowdown, self.give_up = int(patience), float(slowdown), float(give_up)
        self.recheck = float(recheck)
        if not self.recheck >= 1:  # below 1 a re-check would drop plans faster than the choice
            raise ValueError(f"recheck must be >= 1, got {recheck!r}")
        self._scheduled = False  # the running trials are a scheduled re-tune
        self._before = None  # the plan chosen before the running re-tune
        self.retune_seconds = self._interval = float(retune_seconds)
        self.max_retune_seconds = float(max_retune_seconds)
        if not self.max_retune_seconds >= self.retune_seconds:
            raise ValueError(f"max_retune_seconds must be >= retune_seconds "
                             f"({retune_seconds!r}), got {max_retune_seconds!r}")
        self.retunes = 0
        self.medians = {}
        self.chosen = self.candidates[0] if len(self.candidates) == 1 else None
        self._start()

    def _start(self):
        self.times = {p: [] for p in self.candidates}
        self._seen = {p: 0 for p in self.candidates}
        self._turn = 0
        self._bad = self._since = 0

    def next(self) -> ThreadPlan:
        if self.chosen is not None:
            return self.chosen
        for _ in self.candidates:  # in turn, skipping plans whose trials are done
            p = self.candidates[self._turn % len(self.candidates)]
            self._turn += 1
            if len(self.times[p]) < self.trials:
                return p
        return p

    def record(self, p: ThreadPlan, seconds: float) -> None:
        if self.chosen is not None:
            if len(self.candidates) > 1 and p == self.chosen:
                self._watch(seconds)
            return
        self._seen[p] += 1
        if self._seen[p] > self.warmup:
            self.times[p].append(seconds)
            # A trial step give_up × slower than another plan's best (this round's, or the
            # last round's median) ends this plan's trials: it has lost, and under load its
            # steps can cost 50× (no need to sit through the rest).
            others = [min(t) for q, t in self.times.items() if q != p and t]
            others += [m for q, m in self.medians.items() if q != p]
            give_up = self.give_up
            if self._scheduled and p != self._before:  # a re-check: losing by a little is enough
                others, give_up = [self.medians[self._before]], self.recheck
            if others and seconds > give_up * min(others):
                self.times[p] += [seconds] * (self.trials - len(self.times[p]))
        if all(len(t) >= self.trials for t in self.times.values()):
            median = {q: sorted(t)[len(t) // 2] for q, t in self.times.items()}
            before = self._before
            self.chosen = min(self.candidates, key=lambda q: median[q])
            self.medians, self._scheduled = median, False
            if before is not None:  # a re-tune: back off while the choice holds
                self._interval = (min(2 * self._interval, self.max_retune_seconds)
                                  if self.chosen == before else self.retune_seconds)
            self._bad, self._since = 0, 0.0
            # slower than this is slow: slowdown × the chosen median, or the next-best
            # plan's median when that is lower (the choice would no longer be the best)
            self._limit = min([self.slowdown * median[self.chosen]]
                              + [m for q, m in median.items() if q != self.chosen])

    def _watch(self, seconds: float) -> None:
        self._since += seconds
        slow = seconds > self._limit
        self._bad = self._bad + 1 if slow else 0
        if self._bad >= self.patience or (self._interval and self._since >= self._interval):
            self._scheduled = self._bad < self.patience  # not because steps got slow
            self._before, self.chosen = self.chosen, None
            self.retunes += 1
            self._start()

    def summary(self) -> str:
        if not self.medians:
            return "tuning"
        again = f" (re-tuned {self.retunes}×)" if self.retunes else ""
        return "; ".join(f"{'*' if q == self.chosen else ''}BLAS {q.blas}/kernels {q.kernels}: "
                         f"{self.medians[q] * 1e3:.3f} ms" for q in self.candidates) + again


class Planned:
    """Run steps under a :class:`Tuner`'s plans: ``planned(fn, *args)`` applies the plan for
    the coming step (thread counts change only when the plan does), runs ``fn(*args)``, and
    records its time. ``close()`` (or leaving a ``with`` block) restores the thread counts
    in force before the first step."""

    def __init__(self, tuner: Tuner):
        self.tuner = tuner
        self.current = None
        self._using = None

    def __call__(self, fn, *args):
        p = self.tuner.next()
        if p is not self.current:
            if self._using is None:
                self._using = using(p)
                self._using.__enter__()
            else:
                _apply(p)
            self.current = p
        t0 = time.perf_counter()
        result = fn(*args)
        self.tuner.record(p, time.perf_counter() - t0)
        return result

    def close(self):
        if self._using is not None:
            self._using.__exit__(None, None, None)
            self._using = self.current = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def candidates(batch_size: int, sizes, *, n_cores: int | None = None,
               blas_try_flops: int = BLAS_TRY_FLOPS) -> list[ThreadPlan]:
    """Plans worth timing for this network: the all-serial plan, and the size-based plan if it
    uses more than one thread anywhere; when it does not, but the largest product has at
    least ``blas_try_flops``, the BLAS on every core (kernels on one thread) is timed too."""
    n = n_cores or cores()
    base = plan(batch_size, sizes, n_cores=n)
    serial = ThreadPlan(1, 1, "everything on one thread")
    if (base.blas, base.kernels) != (1, 1):
        return [serial, base]
    sizes = list(sizes)
    flops = max((2 * batch_size * a * b for a, b in zip(sizes, sizes[1:])), default=0)
    if n > 1 and flops >= blas_try_flops:
        return [serial, ThreadPlan(n, 1, f"BLAS on every core: largest product "
                                         f"{flops / 1e6:.1f} MFLOP ≥ {blas_try_flops / 1e6:.1f}")]
    return [base]


def _apply(p: ThreadPlan) -> None:
    numba.set_num_threads(max(1, min(p.kernels, numba.config.NUMBA_NUM_THREADS)))
    if blas_threads() is not None:
        set_blas_threads(p.blas)


@contextlib.contextmanager
def using(p: ThreadPlan):
    """Apply ``p`` inside the block; restore the previous thread counts afterwards."""
    before_kernels, before_blas = numba.get_num_threads(), blas_threads()
    _apply(p)
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
