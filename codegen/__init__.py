"""codegen: prints derive/'s expressions as Numba CPU kernels and CuPy CUDA kernels.

It writes source text; it never imports numba or cupy at module level.
"""
