"""GPU tests: skipped, with the reason, unless a CUDA device is present.

``DERIVECLI_GPU_DRYRUN=1`` runs these tests without a GPU: NumPy arrays and the host-compiled
CUDA source (tests/cuda_host.py) stand in for CuPy and the device, which checks the tests'
own logic on a machine without one (the kernels' launch-level code is then emulated).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
DRY = os.environ.get("DERIVECLI_GPU_DRYRUN") == "1"


def device_reason() -> str | None:
    """Why the GPU tests cannot run here, or None when a CUDA device is present."""
    try:
        import cupy
    except ImportError as err:
        return f"CuPy is not installed ({err}); pip install -e '.[gpu]'"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001  (no driver, or a driver too old for the runtime)
        return f"no usable CUDA device: {type(err).__name__}: {err}"
    if count == 0:
        return "no CUDA device (cupy.cuda.runtime.getDeviceCount() == 0)"
    return None


REASON = None if DRY else device_reason()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.gpu)
            if REASON:
                item.add_marker(pytest.mark.skip(reason=REASON))


class Device:
    """The array module the tests put data on, and the way back to NumPy."""

    def __init__(self, xp, put, get, dry: bool):
        self.xp, self.put, self.get, self.dry = xp, put, get, dry


@pytest.fixture(scope="session")
def device():
    from runtime import cuda_dispatch

    if not DRY:
        import cupy

        yield Device(cupy, cupy.asarray, cupy.asnumpy, False)
        return
    sys.path.insert(0, str(HERE.parent))
    import cuda_host
    from runtime.generated import cupy_activations, cupy_losses, cupy_optim

    launcher = cuda_host.HostLauncher(
        cuda_host.loss_library(cupy_losses.SOURCE),
        optim=cuda_host.optim_library(cupy_optim.SOURCE),
        activations=cuda_host.activation_library(cupy_activations.SOURCE))
    old = cuda_dispatch.set_launcher(launcher)
    yield Device(np, lambda a: np.array(a, copy=True), np.asarray, True)
    cuda_dispatch.set_launcher(old)
