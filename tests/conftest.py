"""Test-suite settings.

Hypothesis runs derandomized by default: the property tests draw the same examples on every
run, so CI's result depends on the code, not on the draw. ``pytest --hypothesis-profile=explore``
draws new examples (and should be run after a change to a kernel or a reference).

``host``: runtime.cuda_dispatch launching through the test module's own ``launcher`` fixture
(tests/cuda_host.py / tests/fake_device.py launchers), for the CuPy-path tests without a GPU.
"""
import pytest

try:
    from hypothesis import settings
except ImportError:  # the property tests then fail to import, naming hypothesis (test extra)
    settings = None

if settings is not None:
    settings.register_profile("repeatable", derandomize=True)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile("repeatable")


@pytest.fixture()
def host(launcher):
    """The requesting module's ``launcher`` (its launch log cleared) as runtime.cuda_dispatch's
    launcher for one test; the previous launcher is restored after it."""
    from runtime import cuda_dispatch

    launcher.launches.clear()
    old = cuda_dispatch.set_launcher(launcher)
    yield launcher
    cuda_dispatch.set_launcher(old)
