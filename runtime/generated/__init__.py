"""Generated kernel modules (do not edit them: ``python -m codegen.generate --update``).

``kernels(module)`` imports a generated module on first use and returns its KERNELS table, so
``import runtime`` stays cheap; ``threads_for(n)`` runs small inputs single-threaded.
"""
from __future__ import annotations

import contextlib
import importlib

import numba

#: Below this many elements a parallel kernel runs on the calling thread only: waking the
#: pool costs more than it saves, and idle pool threads spinning next to another library's
#: (OpenBLAS, torch) pool slow both down on a small machine.
PARALLEL_MIN = 1 << 16

_TABLES: dict[str, dict] = {}


def kernels(module: str) -> dict:
    """The KERNELS table of ``runtime.generated.<module>``, imported once."""
    table = _TABLES.get(module)
    if table is None:
        table = _TABLES[module] = importlib.import_module(f"{__name__}.{module}").KERNELS
    return table


@contextlib.contextmanager
def threads_for(n: int):
    """Limit Numba's threads to one for small ``n`` (restored afterwards)."""
    if n >= PARALLEL_MIN:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)
