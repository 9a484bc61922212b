"""The CUDA backend without a GPU: the printer, NVRTC compiles for sm_80 and sm_90, drift.

Each committed ``runtime/generated/cupy_*.py`` is compiled once per architecture by NVRTC (the
compiler CuPy uses), to PTX and to SASS (so ptxas runs too); a compile error fails with the
compiler log. The PTX shows that every listed kernel exists and that float kernels do no double
arithmetic beyond their double accumulators.
"""
from __future__ import annotations

import importlib
import re
from collections import Counter

import pytest
import sympy as sp
from sympy.codegen.cfunctions import log1p

from codegen import cuda_kernels
from codegen.cuda_printer import CudaPrintError, cuda_code, device_function
from derive.functions import sigmoid
from derive.symbols import y, yhat, z

ARCHS = ("sm_80", "sm_90")
FAMILIES = [f for f in cuda_kernels.FAMILIES if cuda_kernels.GENERATED[f].exists()]


# --------------------------------------------------------------------------- printer

x = sp.Symbol("x", real=True)


@pytest.mark.parametrize("expr,float_code,double_code", [
    (sp.exp(x) + sp.Rational(1, 2), "expf(x) + 0.5f", "exp(x) + 0.5"),
    (log1p(-x) / 3, "(0.33333334f)*log1pf(-x)", "(0.3333333333333333)*log1p(-x)"),
    (sp.Abs(x) * sp.Float(1e-12), "1e-12f*fabsf(x)", "1e-12*fabs(x)"),
    (x**2, "x*x", "x*x"),
    (1 / (x + 1), "1.0f/(x + 1)", "1.0/(x + 1)"),
    (sp.sqrt(x), "sqrtf(x)", "sqrt(x)"),
    (x**2.5, "powf(x, 2.5f)", "pow(x, 2.5)"),
    (sp.pi * x, "3.1415927f*x", "3.141592653589793*x"),
    (sp.Max(x, 0), "dc_maxf(0, x)", "dc_max(0, x)"),
    (sp.Min(x, y, 1), "dc_minf(1, dc_minf(x, y))", "dc_min(1, dc_min(x, y))"),
    (sp.sign(x), "dc_signf(x)", "dc_sign(x)"),
    (sp.Heaviside(x, 0), "dc_heavisidef(x)", "dc_heaviside(x)"),
    (sp.Piecewise((x, x > 0), (2 * x, x < -1), (0, True)),
     "((x > 0) ? (x) : ((x < -1) ? (2*x) : (0)))", "((x > 0) ? (x) : ((x < -1) ? (2*x) : (0)))"),
])
def test_printer_float_and_double(expr, float_code, double_code):
    assert cuda_code(expr, "float") == float_code
    assert cuda_code(expr, "double") == double_code


def test_float_literals_round_to_the_nearest_float():
    import numpy as np

    for v in (0.1, 1 / 3, 1e-12, 6.02e23, 1.1754943508222875e-38, 3.4028234663852886e38):
        text = cuda_code(sp.Float(v) * x, "float").split("*")[0]
        assert text.endswith("f")
        assert np.float32(float(text[:-1])) == np.float32(v), text
        dtext = cuda_code(sp.Float(v) * x, "double").split("*")[0]
        assert float(dtext) == v


@pytest.mark.parametrize("expr,node", [
    (sigmoid(x), "sigmoid"),  # custom functions must be rewritten to their stable form first
    (sp.besselj(0, x), "besselj"),
    (sp.Heaviside(x), "Heaviside"),  # H(0) = 1/2 is not PyTorch's relu'(0)
    (sp.oo * x, "Infinity"),
    (sp.Piecewise((x, x > 0)), "Piecewise"),  # no default branch
    (sp.Float(1e39) * x, "Float"),  # overflows float
])
def test_printer_is_strict(expr, node):
    with pytest.raises(CudaPrintError, match=rf"cuda backend cannot print {node}"):
        cuda_code(expr, "float")


def test_device_function_shares_subexpressions():
    code = device_function("f", [z, y], {"a": sp.exp(-sp.Abs(z)) * y,
                                         "b": sp.Piecewise((sp.exp(-sp.Abs(z)), z > 0), (1, True))}, "float")
    assert code.count("expf(") == 1 and code.startswith("__host__ __device__ inline void f(")
    with pytest.raises(CudaPrintError, match=r"free symbols \['yhat'\]"):
        device_function("f", [z], {"a": z + yhat}, "double")


# --------------------------------------------------------------------------- NVRTC

@pytest.fixture(scope="module")
def nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc as lib

        lib.getVersion()
    except Exception as err:  # noqa: BLE001 (ImportError, or the NVRTC library missing)
        pytest.skip(f"NVRTC is not available ({err!r}); install the gpu extra: "
                    f"pip install -e '.[gpu]'")
    return lib


_compiled: dict = {}


def compile_module(nvrtc, family: str, arch: str):
    """(ptx, cubin, log) of runtime/generated/cupy_<family>.py for ``arch``, compiled once."""
    key = (family, arch)
    if key not in _compiled:
        module = importlib.import_module(f"runtime.generated.cupy_{family}")
        prog = nvrtc.createProgram(module.SOURCE, f"cupy_{family}.cu", [], [])
        try:
            try:
                nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14", "--ptxas-options=-v"])
            except nvrtc.NVRTCError as err:
                pytest.fail(f"NVRTC failed to compile cupy_{family} for {arch}: {err}\n"
                            f"{nvrtc.getProgramLog(prog)}")
            _compiled[key] = (nvrtc.getPTX(prog).decode(), nvrtc.getCUBIN(prog),
                              nvrtc.getProgramLog(prog))
        finally:
            nvrtc.destroyProgram(prog)
    return _compiled[key]


def entries(ptx: str) -> dict[str, str]:
    """Kernel name -> its PTX body."""
    parts = re.split(r"(?=^\.visible \.entry )", ptx, flags=re.M)
    return {re.match(r"\.visible \.entry (\w+)", p).group(1): p for p in parts[1:]}


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("family", FAMILIES)
def test_compiles_with_every_kernel(nvrtc, family, arch):
    ptx, cubin, log = compile_module(nvrtc, family, arch)
    module = importlib.import_module(f"runtime.generated.cupy_{family}")
    assert f".target {arch}" in ptx and len(cubin) > 1000
    missing = set(module.KERNELS) - set(entries(ptx))
    assert not missing, f"kernels listed but not compiled: {sorted(missing)}"
    spills = [line for line in log.splitlines()
              if "spill" in line and "0 bytes spill stores, 0 bytes spill loads" not in line]
    assert not spills, "register spills:\n" + "\n".join(spills)


# f64 instructions a float kernel may use: its double accumulators (convert, add, move, load,
# store, shuffle, atomic) and, once per launch, the double divisor of a mean.
F64_ALLOWED = re.compile(r"^(cvt\.f64\.f32|add(\.rn)?\.f64|mov\.f64|mov\.b64|ld\..*f64|st\..*f64|"
                         r"atom\..*f64|shfl.*|setp\..*f64|selp\.f64|neg\.f64)$")
F64_ONCE = {"div.rn.f64": 1, "cvt.rn.f32.f64": 3, "rcp.rn.f64": 1}


@pytest.mark.parametrize("family", FAMILIES)
def test_float_kernels_do_float_math(nvrtc, family):
    ptx, _, _ = compile_module(nvrtc, family, ARCHS[0])
    for name, body in entries(ptx).items():
        if not name.endswith("_f32") or name.startswith(("norm_", "batchnorm_")):
            continue  # (the norm reductions and batch statistics are double on purpose, as Numba's)
        ops = Counter(re.findall(r"^\s+(?:@%p\d+\s+)?([a-z][\w.]*f64[\w.]*)", body, flags=re.M))
        bad = {op: k for op, k in ops.items()
               if not F64_ALLOWED.match(op) and k > F64_ONCE.get(op, 0)}
        assert not bad, f"{name} promotes to double: {bad}"


def test_double_kernels_are_double(nvrtc):
    ptx, _, _ = compile_module(nvrtc, "losses", ARCHS[0])
    body = entries(ptx)["bce_logits_loss_grad_f64"]
    assert "ex2.approx.ftz.f32" not in body and "fma.rn.f64" in body


def test_a_compile_error_reports_the_log(nvrtc):
    prog = nvrtc.createProgram('extern "C" __global__ void k() { undefined_name(); }',
                               "bad.cu", [], [])
    try:
        with pytest.raises(nvrtc.NVRTCError):
            nvrtc.compileProgram(prog, ["-arch=sm_80"])
        assert 'identifier "undefined_name" is undefined' in nvrtc.getProgramLog(prog)
    finally:
        nvrtc.destroyProgram(prog)


# --------------------------------------------------------------------------- generated modules

@pytest.mark.parametrize("family", FAMILIES)
def test_generated_module_has_not_drifted(family):
    diff = cuda_kernels.drift(family)
    assert not diff, (f"runtime/generated/cupy_{family}.py differs from a fresh generation; "
                      f"run `python -m codegen.cuda_kernels --update` if the change is "
                      f"intended:\n{diff}")


@pytest.mark.parametrize("family", FAMILIES)
def test_generated_module_header_and_lazy_cupy(family):
    module = importlib.import_module(f"runtime.generated.cupy_{family}")
    doc = module.__doc__
    assert "generated, do not edit" in doc and "generator version" in doc
    assert module.EXPRESSION_HASH in doc and ", ".join(module.DERIVATIONS) in doc
    assert module._module is None  # nothing compiled (or imported from CuPy) at import
    with pytest.raises(KeyError, match="no kernel 'nope'"):
        module.kernel("nope")


def test_generate_module_for_chosen_names():
    text = cuda_kernels.generate_module(["huber", "l1"])
    assert "DERIVATIONS = (\n    'huber',\n    'mae',\n)" in text
    ns: dict = {}
    exec(compile(text, "<generated>", "exec"), ns)
    assert "mae_loss_grad_f32" in ns["KERNELS"] and "dc_huber_f64" in ns["SOURCE"]
    with pytest.raises(NotImplementedError, match="cuda backend"):
        cuda_kernels.family_of("mystery")


def test_generate_hook_for_the_cupy_backend():
    from codegen import generate

    text = generate.generate_module("cupy", ["relu", "adam"])
    assert "from the derivations: relu, adam." in text
    assert "relu_backward_output_f32" in text and "adam_f64" in text


def test_covers_every_derivation_the_numba_backend_covers():
    from codegen import generate
    from derive import optim

    numba_names = {n for _, names in generate._committed().values() for n in names}
    ours = {n for members in cuda_kernels.FAMILIES.values() for n in members}
    assert numba_names <= ours, f"no CUDA template for {sorted(numba_names - ours)}"
    kernels = set(cuda_kernels.all_kernel_names(cuda_kernels.FAMILIES["optim"]))
    for r in (*optim.all_rules(), *optim.norm_rules()):
        assert {f"{r.name}_f32", f"{r.name}_f64"} <= kernels, r.name
