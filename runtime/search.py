"""Hyper-parameter search: grid search and random search, coarse first, then fine around the best.

Seed 001's advice: search on a coarse scale (log scale for learning rates), then search again,
finer, around the best value. ``train_fn(**config)`` trains and returns a score (a float, or a
dict of metrics with ``metric`` naming the score). Diverged runs (NaN/inf) rank last; with
``error_score=float('nan')`` a run whose ``train_fn`` raises is recorded and ranks last too.

>>> result = random_search(lambda lr: (lr - 0.01) ** 2, {"lr": LogUniform(1e-4, 1)},
...                        n_trials=10, fine_trials=10, seed=0)
>>> print(result.table())            # doctest: +SKIP
>>> result.best_config["lr"]         # doctest: +SKIP
"""
from __future__ import annotations

import itertools
import math
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .init import as_rng

__all__ = ["Uniform", "LogUniform", "IntUniform", "Choice", "Trial", "SearchResult",
           "grid_search", "random_search", "fine_grid"]


# --------------------------------------------------------------------------- spaces


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self):
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                   for v in (self.low, self.high)):
            raise TypeError(f"{type(self).__name__}({self.low!r}, {self.high!r}): low and high "
                            f"must be real numbers")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"{type(self).__name__} needs finite low < high, "
                             f"got ({self.low!r}, {self.high!r})")

    def _to(self, v):  # to the scale on which the search is uniform
        return v

    def _from(self, u):
        return u

    def sample(self, rng, low=None, high=None):
        low = self._to(self.low) if low is None else low
        high = self._to(self.high) if high is None else high
        return self._from(rng.uniform(low, high))

    def around(self, best, zoom):
        """The range, on the search scale, of width ``zoom`` × this one centred at ``best``."""
        lo, hi = self._to(self.low), self._to(self.high)
        half = (hi - lo) * zoom / 2
        c = min(max(self._to(best), lo + half), hi - half)
        return c - half, c + half


@dataclass(frozen=True)
class LogUniform(Uniform):
    """Uniform in log(value): the coarse scale for learning rates and regularisation."""

    def __post_init__(self):
        super().__post_init__()
        if self.low <= 0:
            raise ValueError(f"LogUniform needs low > 0, got {self.low!r}")

    def _to(self, v):
        return math.log(v)

    def _from(self, u):
        return math.exp(u)


@dataclass(frozen=True)
class IntUniform(Uniform):
    """Integers from low to high inclusive."""

    def __post_init__(self):
        super().__post_init__()
        if math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"IntUniform({self.low!r}, {self.high!r}) contains no integer")

    def sample(self, rng, low=None, high=None):
        low = self.low if low is None else low
        high = self.high if high is None else high
        return int(rng.integers(math.ceil(low), math.floor(high) + 1))


@dataclass(frozen=True)
class Choice:
    options: tuple

    def __init__(self, options):
        options = tuple(options)
        if not options:
            raise ValueError("Choice needs at least one option")
        object.__setattr__(self, "options", options)

    def sample(self, rng, low=None, high=None):
        return self.options[int(rng.integers(len(self.options)))]


def _dimension(name, spec):
    if isinstance(spec, (Uniform, Choice)):
        return spec
    if isinstance(spec, list):
        return Choice(spec)
    if isinstance(spec, tuple) and len(spec) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec):
        return Uniform(float(spec[0]), float(spec[1]))
    raise TypeError(f"space[{name!r}] = {spec!r}: use Uniform, LogUniform, IntUniform, "
                    f"Choice, a (low, high) tuple or a list of choices")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Trial:
    config: dict
    score: float
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    stage: str = "coarse"


class SearchResult:
    """All trials, the best one, and a results table."""

    def __init__(self, trials, mode="min"):
        self.trials, self.mode = list(trials), mode

    def _key(self, t: Trial):
        if not math.isfinite(t.score):  # diverged: last
            return (1, 0.0)
        return (0, t.score if self.mode == "min" else -t.score)

    @property
    def best(self) -> Trial:
        if not self.trials:
            raise ValueError("no trials were run")
        return min(self.trials, key=self._key)

    @property
    def best_config(self) -> dict:
        return dict(self.best.config)

    @property
    def best_score(self) -> float:
        return self.best.score

    def ranked(self) -> list[Trial]:
        return sorted(self.trials, key=self._key)

    def table(self, limit: int | None = None) -> str:
        """A plain-text table of the trials, best first, the best marked with ``*``."""
        if limit is not None and (isinstance(limit, (bool, np.bool_))
                                  or not isinstance(limit, numbers.Integral) or limit < 0):
            raise ValueError(f"limit={limit!r} must be None or an int >= 0")
        trials = self.ranked()[:limit]
        params = list(dict.fromkeys(k for t in self.trials for k in t.config))
        extra = list(dict.fromkeys(k for t in self.trials for k in t.metrics))
        head = ["", "stage", *params, "score", *extra, "seconds"]
        best = self.best
        rows = [["*" if t is best else "", t.stage, *(_fmt(t.config.get(p)) for p in params),
                 _fmt(t.score), *(_fmt(t.metrics.get(m)) for m in extra), f"{t.seconds:.2f}"]
                for t in trials]
        widths = [max(len(str(r[c])) for r in [head, *rows]) for c in range(len(head))]
        line = lambda r: "  ".join(str(v).rjust(w) for v, w in zip(r, widths)).rstrip()
        return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])

    def __str__(self):
        return f"{self.table()}\nbest: {self.best_config} (score {_fmt(self.best_score)})"

    def __repr__(self):
        return f"SearchResult({len(self.trials)} trials, best={self.best_config})"


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _number(value, what):
    """A score or metric as a float: a real number (or a 0-d array, a scalar tensor), not a
    str, a bool or an array of several values."""
    if not isinstance(value, (str, bytes, bool, np.bool_)) and value is not None:
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{what} = {value!r} is not a number")


def _score(value, metric, call="train_fn"):
    if isinstance(value, dict):
        if metric is None:
            if len(value) != 1:
                raise ValueError(f"train_fn returned metrics {sorted(value)}; pass metric= "
                                 "to say which one is the score")
            metric = next(iter(value))
        if metric not in value:
            raise KeyError(f"metric={metric!r} is not among the returned metrics {sorted(value)}")
        return (_number(value[metric], f"{call}[{metric!r}]"),
                {k: v for k, v in value.items() if k != metric})
    return _number(value, call), {}


def _error_score(error_score):
    """'raise', or the score of a trial whose train_fn raised (sklearn's ``error_score``)."""
    if isinstance(error_score, str) and error_score == "raise":
        return error_score
    if isinstance(error_score, (bool, np.bool_)) or not isinstance(error_score, numbers.Real):
        raise ValueError(f"error_score={error_score!r} must be 'raise' or a number "
                         f"(float('nan'): a failed trial ranks last)")
    return float(error_score)


def _warn_caller(message):
    """A RuntimeWarning attributed to the first frame outside this module (the search's caller)."""
    frame, level = sys._getframe(), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def _run(train_fn, config, metric, stage, verbose, error_score="raise"):
    start = time.perf_counter()
    call = f"train_fn({', '.join(f'{k}={v!r}' for k, v in config.items())})"
    if error_score == "raise":
        score, metrics = _score(train_fn(**config), metric, call)
    else:
        try:
            value = train_fn(**config)
        except Exception as err:  # recorded, so the other trials' results are kept
            score, metrics = error_score, {"error": f"{type(err).__name__}: {err}"}
            _warn_caller(f"{call} raised {metrics['error']}; scored {error_score!r} "
                         f"(error_score)")
        else:
            score, metrics = _score(value, metric, call)
    trial = Trial(dict(config), score, metrics, time.perf_counter() - start, stage)
    if verbose:
        print(f"[{stage}] {config} -> {_fmt(score)}", flush=True)
    return trial


def _check_mode(mode):
    if mode not in ("min", "max"):
        raise ValueError(f"mode={mode!r}: use 'min' (a loss) or 'max' (an accuracy)")


# --------------------------------------------------------------------------- grid search


def fine_grid(grid: dict, best: dict, points: int = 5) -> dict:
    """A finer grid between the best value's neighbours in each numeric dimension.

    Geometric spacing where the coarse grid spans more than a factor of 10 of positive values
    (a log scale), linear otherwise; non-numeric dimensions stay at the best value.
    """
    fine = {}
    for name, values in grid.items():
        values = list(values)
        # numbers.Real: NumPy scalars too (a grid from np.arange or np.logspace)
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                      for v in values)
        if not numeric or len(values) < 2:
            fine[name] = [best[name]]
            continue
        ordered = sorted(values)
        k = ordered.index(best[name])
        lo, hi = ordered[max(k - 1, 0)], ordered[min(k + 1, len(ordered) - 1)]
        if ordered[0] > 0 and ordered[-1] / ordered[0] > 10:
            new = np.geomspace(lo, hi, points)
        else:
            new = np.linspace(lo, hi, points)
        # a point that is a coarse value but for rounding (0.6000000000000001) is that value,
        # so that grid_search does not run it again
        new = [next((c for c in (lo, best[name], hi) if abs(v - c) <= 1e-9 * (hi - lo)), v)
               for v in new]
        if all(isinstance(v, numbers.Integral) for v in values):
            new = sorted(set(int(round(v)) for v in new))
        fine[name] = [v if isinstance(v, int) else float(v) for v in new]
    return fine


def grid_search(train_fn, grid: dict, *, metric: str | None = None, mode: str = "min",
                refine_points: int = 0, verbose: bool = False,
                error_score="raise") -> SearchResult:
    """Every combination of ``grid``'s values; with ``refine_points``, a fine grid around the best.

    ``error_score``: 'raise' (the default) lets an exception from ``train_fn`` stop the search;
    a number (``float('nan')`` ranks last) is recorded as that trial's score instead, with the
    error in its metrics and a RuntimeWarning, and the search goes on (as sklearn's).
    """
    _check_mode(mode)
    error_score = _error_score(error_score)
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of name -> list of values, got {grid!r}")
    for n, v in grid.items():
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise TypeError(f"grid[{n!r}] = {v!r}: give a list of values to try")
    if isinstance(refine_points, (bool, np.bool_)) or not isinstance(refine_points,
                                                                      numbers.Integral) \
            or refine_points < 0:
        raise ValueError(f"refine_points={refine_points!r} must be an int >= 0 (0: no refinement)")
    grid = {n: list(v) for n, v in grid.items()}  # iterables (generators) read once
    if not grid or any(len(v) == 0 for v in grid.values()):
        raise ValueError(f"grid must map each name to a non-empty list of values, got {grid!r}")
    names = list(grid)
    trials = [_run(train_fn, dict(zip(names, combo)), metric, "coarse", verbose, error_score)
              for combo in itertools.product(*(list(grid[n]) for n in names))]
    result = SearchResult(trials, mode)
    if refine_points:
        fine = fine_grid(grid, result.best_config, refine_points)
        done = [t.config for t in trials]
        for combo in itertools.product(*(fine[n] for n in names)):
            config = dict(zip(names, combo))
            if config not in done:
                result.trials.append(_run(train_fn, config, metric, "fine", verbose,
                                          error_score))
    return result


# --------------------------------------------------------------------------- random search


def random_search(train_fn, space: dict, *, n_trials: int = 20, fine_trials: int = 0,
                  zoom: float = 0.2, seed=None, metric: str | None = None, mode: str = "min",
                  verbose: bool = False, error_score="raise") -> SearchResult:
    """``n_trials`` random configurations, then ``fine_trials`` around the best of them.

    The fine stage samples each continuous dimension from a window ``zoom`` times its range
    (on its own scale: log for LogUniform) centred on the best value, with choices fixed.
    ``error_score`` as in :func:`grid_search`.
    """
    _check_mode(mode)
    error_score = _error_score(error_score)
    if not isinstance(space, dict):
        raise TypeError(f"space must be a dict of name -> Uniform, LogUniform, IntUniform, "
                        f"Choice, (low, high) or list, got {space!r}")
    if not space:
        raise ValueError("space must name at least one hyper-parameter")
    for name, value, least in (("n_trials", n_trials, 1), ("fine_trials", fine_trials, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"{name} must be an int ≥ {least}, got {value!r}")
    if isinstance(zoom, (bool, np.bool_)) or not isinstance(zoom, numbers.Real) \
            or not 0 < zoom <= 1:
        raise ValueError(f"zoom={zoom!r} must be a number in (0, 1]")
    dims = {name: _dimension(name, spec) for name, spec in space.items()}
    rng = as_rng(seed)
    trials = [_run(train_fn, {n: d.sample(rng) for n, d in dims.items()}, metric, "coarse", verbose,
                   error_score) for _ in range(n_trials)]
    result = SearchResult(trials, mode)
    if fine_trials:
        best = result.best_config
        windows = {n: d.around(best[n], zoom) for n, d in dims.items()
                   if isinstance(d, Uniform) and not isinstance(d, IntUniform)}
        for n, d in dims.items():
            if isinstance(d, IntUniform):
                half = max(1, round((d.high - d.low) * zoom / 2))
                windows[n] = (max(d.low, best[n] - half), min(d.high, best[n] + half))
        for _ in range(fine_trials):
            config = {n: (d.sample(rng, *windows[n]) if n in windows else best[n])
                      for n, d in dims.items()}
            result.trials.append(_run(train_fn, config, metric, "fine", verbose, error_score))
    return result
