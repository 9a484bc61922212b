"""Mini-batches: full-batch, single-sample and mini-batch descent (seed 003's three modes).

``DataLoader(X, y, batch_size=20, shuffle=True, seed=0)`` yields ``(X_batch, y_batch)`` along
the first axis. ``batch_size=None`` is full-batch descent (one update per epoch), ``1`` is
single-sample (stochastic) descent, anything else mini-batch descent. With 100 samples, 50
epochs and batch 20 that is 5 updates per epoch, 250 in all, as the seed counts.
"""
from __future__ import annotations

import math

import numpy as np

from .init import as_rng
from .validate import any_cupy

__all__ = ["DataLoader", "updates_per_epoch", "MODES"]

#: The three descent modes seed 003 compares, as ``batch_size`` values (None: all samples).
MODES = {"full-batch": None, "single-sample": 1}


def updates_per_epoch(n_samples: int, batch_size: int | None, drop_last: bool = False) -> int:
    """How many batches one epoch over ``n_samples`` gives."""
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 0:
        raise ValueError(f"n_samples={n_samples!r} must be a non-negative int")
    batch_size = _batch_size(batch_size)
    _flag("drop_last", drop_last)
    size = n_samples if batch_size is None else batch_size
    if n_samples == 0:
        return 0
    return n_samples // size if drop_last else math.ceil(n_samples / size)


def _batch_size(batch_size):
    """``batch_size`` as an int >= 1, or None (full batch); ValueError naming it otherwise."""
    if batch_size is None:
        return None
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch), "
                         f"got {batch_size!r}")
    return int(batch_size)


def _flag(name, value) -> bool:
    """A bool flag (NumPy's too); TypeError naming it otherwise: bool("no") would be True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} must be a bool")
    return bool(value)


class DataLoader:
    """Batches of one or more arrays that share their first axis.

    Shuffling uses a NumPy Generator made from ``seed``; each epoch (each ``iter``) draws a new
    permutation from it, so a seeded loader gives the same sequence of epochs every run.
    Batches are views when not shuffling, copies (one gather per array) when shuffling.
    """

    def __init__(self, *arrays, batch_size: int | None = None, shuffle: bool = False,
                 seed=None, drop_last: bool = False):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        # CuPy arrays stay on the device (batches are device slices / gathers there).
        arrays = tuple(a if any_cupy(a) else np.asarray(a) for a in arrays)
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"arrays[{k}] is a scalar; every array needs a sample axis")
        n = len(arrays[0])
        lengths = [len(a) for a in arrays]
        if any(m != n for m in lengths):
            raise ValueError(f"arrays have different numbers of samples: {lengths}")
        batch_size = _batch_size(batch_size)
        shuffle, drop_last = _flag("shuffle", shuffle), _flag("drop_last", drop_last)
        rng = as_rng(seed)  # checked even when not shuffling
        self.arrays, self.n = arrays, n
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.rng = rng if shuffle else None

    @property
    def mode(self) -> str:
        if self.batch_size is None or self.batch_size >= self.n:
            return "full-batch"
        return "single-sample" if self.batch_size == 1 else "mini-batch"

    def __len__(self) -> int:
        return updates_per_epoch(self.n, self.batch_size, self.drop_last)

    def __iter__(self):
        size = max(1, self.n if self.batch_size is None else self.batch_size)
        order = self.rng.permutation(self.n) if self.shuffle else None
        stop = self.n - self.n % size if self.drop_last else self.n
        for start in range(0, stop, size):
            end = min(start + size, self.n)
            if order is None:
                batch = tuple(a[start:end] for a in self.arrays)
            else:
                idx = order[start:end]
                batch = tuple(a[idx] for a in self.arrays)
            yield batch if len(batch) > 1 else batch[0]

    def __repr__(self):
        return (f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, mode={self.mode!r}, batches={len(self)})")
