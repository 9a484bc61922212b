"""A CuPy stand-in for the runtime's dispatch tests on a machine without a GPU.

``runtime`` decides "CuPy array" from the array's type (its module is ``cupy...``), so a NumPy
subclass whose module says ``cupy`` takes the CuPy path of ``runtime.optim`` / ``runtime.clip``
through ``runtime.cuda_dispatch``; :class:`DeviceLauncher` (tests/cuda_host.py's host launcher)
runs the generated CUDA source compiled for the CPU, and allocates with :data:`XP`, which makes
device arrays. ``cuda_dispatch`` rejects arrays that are not ``XP.ndarray``, so state allocated
on the host would fail there. Reads of a device value on the host (``get``, ``float``, ``bool``,
``item``...) are counted in ``DeviceArray.host_reads``.
"""
from __future__ import annotations

import numpy as np

import cuda_host


class DeviceArray(np.ndarray):
    """A NumPy array that the runtime takes for a CuPy array."""

    host_reads = 0

    def _read(self):
        type(self).host_reads += 1
        return self.view(np.ndarray)

    def get(self):  # cupy.ndarray.get: the copy to the host
        return np.array(self._read())

    def __float__(self):
        return float(self._read())

    def __int__(self):
        return int(self._read())

    def __bool__(self):
        return bool(self._read())

    def item(self, *args):
        return self._read().item(*args)

    def tolist(self):
        return self._read().tolist()


DeviceArray.__module__ = "cupy._host_emulation"  # runtime.validate.array_module_name → "cupy"


def _own(a) -> DeviceArray:
    """A DeviceArray copy of ``a`` that owns its memory (base None, as a cupy allocation):
    views of it lead back to a DeviceArray, as views of a CuPy array to a CuPy array."""
    a = np.asarray(a.view(np.ndarray) if isinstance(a, DeviceArray) else a)
    out = np.ndarray.__new__(DeviceArray, a.shape, a.dtype)
    out[...] = a
    return out


def put(a) -> DeviceArray:
    """A device copy of ``a`` (cupy.asarray)."""
    return _own(a)


def get(a) -> np.ndarray:
    """A host copy of a device array (cupy.asnumpy), not counted as a runtime host read."""
    return np.array(a.view(np.ndarray) if isinstance(a, np.ndarray) else a, copy=True)


class _XP:
    """numpy, with every array it returns made a DeviceArray (cupy's constructors)."""

    __name__ = "cupy (host emulation)"
    ndarray = DeviceArray

    def __getattr__(self, name):
        fn = getattr(np, name)
        if not callable(fn) or isinstance(fn, type):
            return fn

        def wrapped(*args, **kwargs):
            out = fn(*args, **kwargs)
            if isinstance(out, np.ndarray) and not isinstance(out, DeviceArray):
                if out.base is not None and any(isinstance(a, DeviceArray)
                                                and np.may_share_memory(out, a) for a in args):
                    return out.view(DeviceArray)  # a view (asarray, broadcast_to), as CuPy's
                return _own(out)
            return out

        return wrapped


XP = _XP()


class DeviceLauncher(cuda_host.HostLauncher):
    xp = XP

    def launch(self, family, name, grid, block, args, shared_mem=0):
        # CuPy's launch takes device arrays only ("Unsupported type" for a NumPy array)
        for a in args:
            if isinstance(a, np.ndarray) and not isinstance(a, DeviceArray):
                raise TypeError(f"{name}: a host array among the kernel's arguments")
        return super().launch(family, name, grid, block, args, shared_mem)


def launcher() -> DeviceLauncher:
    """A launcher for the optimizer kernels (the CUDA source of runtime/generated/cupy_optim.py)."""
    from runtime.generated import cupy_optim

    return DeviceLauncher(optim=cuda_host.optim_library(cupy_optim.SOURCE))
