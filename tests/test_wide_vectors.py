"""The generated loss and activation kernels ask LLVM for 512-bit vectors (wide_vectors()).

On AVX-512 CPUs LLVM otherwise stays at 256 bits; with the wider loops bce_logits over 16M
float32 went from 17.4 to 13.5 ms best in bench/bench_losses.py. The request is a function attribute set
through llvmlite internals, so these tests catch a Numba/llvmlite upgrade that drops it.
"""
import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

from runtime.generated import numba_activations as A
from runtime.generated import numba_losses as L

ATTRIBUTE = '"prefer-vector-width"="512"'


def _numba_target_features() -> str:
    # What Numba compiles for: the host's features unless NUMBA_CPU_NAME/FEATURES say otherwise.
    from numba.core.registry import cpu_target

    codegen = cpu_target.target_context.codegen()
    return getattr(codegen, "_tm_features", None) or llvm.get_host_cpu_features().flatten()


def _uncached(kernel, **options):
    # The committed kernels are cache=True and Numba cannot inspect cached code: recompile.
    return numba.njit(error_model="numpy", fastmath=L.FASTMATH, **options)(kernel.py_func)


def _cases():
    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    z = x.reshape(10, 100)
    labels = np.arange(10) % 100
    w = np.ones(100, np.float32)
    yield ("bce_logits mean f32", _uncached(L.KERNELS[("bce_logits", "default", "mean", "float32")],
                                            parallel=True),
           (x, (x > 0).astype(np.float32), np.empty_like(x), 1.0))
    yield ("sigmoid forward f32", _uncached(A.KERNELS[("sigmoid", "default", "forward", "float32")],
                                            parallel=True), (x, np.empty_like(x)))
    rows = _uncached(L._softmax_ce_index_mean_f32_rows)
    yield ("softmax_ce rows f32", rows,
           (0, 10, z, labels, w, -100, np.float32(0), False, np.float32(100), np.float32(100),
            np.float32(0.1), np.empty_like(z)))


@pytest.mark.parametrize("name,kernel,args", list(_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_kernel_requests_and_gets_wide_vectors(name, kernel, args):
    kernel(*args)
    sig = kernel.signatures[0]
    assert ATTRIBUTE in kernel.inspect_llvm(sig), f"{name}: the 512-bit request was dropped"
    if "+avx512f" not in _numba_target_features():
        pytest.skip("Numba's target CPU has no AVX-512: no 512-bit registers to look for")
    assert "zmm" in kernel.inspect_asm(sig), f"{name}: no 512-bit vector code on an AVX-512 CPU"
