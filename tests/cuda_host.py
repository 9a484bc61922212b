"""Run the generated CUDA source on the CPU: compile it for the host, and emulate the launches.

Everything in a generated CUDA module except the ``__global__`` wrappers is ``__host__
__device__`` (the printed math, each grid-stride span, each pass over a softmax row), and the
source's own prelude makes it plain C++ when ``__CUDACC__`` is not defined. This helper compiles
that text with the host C++ compiler into a shared library (plus a few ``extern "C"`` shims
below) and offers :class:`HostLauncher`, a stand-in for ``runtime.cuda_dispatch.Launcher`` that
runs each kernel's spans/passes on NumPy arrays, in the order of the threads of a launch (the
shuffle and atomic reductions become sums in Python). So ``runtime.cuda_dispatch`` itself, its
argument order and scaling included, runs here without a GPU.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CXX = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")

#: Elementwise losses and their option parameters, in the kernel's order (the template's
#: contract; a mismatch fails to compile the shims below).
LOSS_OPTIONS = {"bce": [], "bce_logits": ["p_w"], "mse": [], "mae": [], "smooth_l1": ["beta"],
                "huber": ["delta"], "lp": ["p"]}
ARRAY_VARIANTS = {"bce_logits_pwarray": ("bce_logits", "p_w")}
TYPES = {"f32": ("float", np.float32, ctypes.c_float), "f64": ("double", np.float64, ctypes.c_double)}


def _shims() -> str:
    out = []
    for tn, (T, _, _) in TYPES.items():
        kernels = {**{k: (k, None) for k in LOSS_OPTIONS}, **ARRAY_VARIANTS}
        for kname, (base, array_opt) in kernels.items():
            opts = LOSS_OPTIONS[base]
            params = "".join(f", const {T}* {o}" if o == array_opt else f", {T} {o}" for o in opts)
            args = "".join(f", {o}" for o in opts)
            out.append(
                f'extern "C" double h_{kname}_span_{tn}(const {T}* pred_, const {T}* target_, '
                f'long long n, long long start, long long stride{params}, {T} gs_, {T}* grad_, '
                f'{T}* loss_) {{\n    return dc_{kname}_span_{tn}(pred_, target_, n, start, '
                f'stride{args}, gs_, grad_, loss_); }}\n')
        out.append(f"""
extern "C" void h_softmax_ce_pass1_{tn}(const {T}* z, const {T}* q, long long label, const {T}* w,
        {T} eps, long long C, long long lane, long long width, {T}* cache, {T}* st) {{
    dc_ce_state_{tn} s = dc_softmax_ce_pass1_{tn}(z, q, label, w, eps, C, lane, width, cache);
    st[0] = s.m; st[1] = s.s; st[2] = s.wq; }}
extern "C" void h_softmax_ce_combine_{tn}(const {T}* a, const {T}* b, {T}* r) {{
    dc_ce_state_{tn} x = {{a[0], a[1], a[2]}}, y = {{b[0], b[1], b[2]}};
    dc_ce_state_{tn} s = dc_softmax_ce_combine_{tn}(x, y);
    r[0] = s.m; r[1] = s.s; r[2] = s.wq; }}
extern "C" double h_softmax_ce_pass2_{tn}(const {T}* z, const {T}* q, long long label, const {T}* w,
        {T} eps, long long C, long long lane, long long width, const {T}* cache, const {T}* st,
        {T} rest, {T} wq_r, {T} scale, {T}* grad) {{
    dc_ce_state_{tn} s = {{st[0], st[1], st[2]}};
    return dc_softmax_ce_pass2_{tn}(z, q, label, w, eps, C, lane, width, cache, s, rest, wq_r,
                                    scale, grad); }}
extern "C" double h_softmax_ce_rest_{tn}(const {T}* z, const {T}* q, long long label,
        const {T}* w, {T} eps, long long C, long long lane, long long width, const {T}* cache,
        {T} m, {T}* wq_r) {{
    return dc_softmax_ce_rest_{tn}(z, q, label, w, eps, C, lane, width, cache, m, wq_r); }}
extern "C" int h_softmax_ce_confident_{tn}({T} s) {{ return dc_softmax_ce_confident_{tn}(s); }}
extern "C" double h_softmax_ce_check_span_{tn}(const long long* labels, long long N, long long C,
        long long ignore_index, const {T}* w, long long start, long long stride, long long* bad) {{
    return dc_softmax_ce_check_span_{tn}(labels, N, C, ignore_index, w, start, stride, bad); }}
""")
    return "".join(out)


class CompileError(RuntimeError):
    pass


def compile_host(source: str, *, extra: str = "") -> ctypes.CDLL:
    """The CUDA ``source`` (plus ``extra`` C++) compiled for the host; cached by content hash."""
    if CXX is None:
        raise CompileError("no host C++ compiler (g++, c++ or clang++) on PATH")
    text = source + "\n// ---- host shims (tests/cuda_host.py)\n" + extra
    key = hashlib.sha256((CXX + text).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "derivecli-cuda-host"
    folder.mkdir(exist_ok=True)
    lib = folder / f"dc_{key}.so"
    if not lib.exists():
        src = folder / f"dc_{key}.cpp"
        src.write_text(text)
        tmp = folder / f"dc_{key}.{os.getpid()}.so"
        # No fast-math (NaN/Inf semantics as on the device); no FMA contraction either, so
        # the host result is the reference rounding of the printed expressions.
        cmd = [CXX, "-x", "c++", "-std=c++14", "-O2", "-fPIC", "-shared", "-ffp-contract=off",
               "-Wall", "-Werror", "-Wno-unused-function", str(src), "-o", str(tmp)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise CompileError(f"host compile failed: {' '.join(cmd)}\n{done.stderr}")
        tmp.replace(lib)
    return ctypes.CDLL(str(lib))


def loss_library(source: str) -> ctypes.CDLL:
    return compile_host(source, extra=_shims())


#: Activations and their option parameters (the template's contract, as LOSS_OPTIONS).
ACTIVATION_OPTIONS = {"sigmoid": [], "tanh": [], "relu": [], "leaky_relu": ["alpha"]}
ACTIVATION_KINDS = ("forward", "backward", "backward_output")


def _activation_shims() -> str:
    out = []
    for tn, (T, _, _) in TYPES.items():
        for name, opts in ACTIVATION_OPTIONS.items():
            for kind in ACTIVATION_KINDS:
                up = kind != "forward"
                params = "".join(f", {T} {o}" for o in opts)
                args = "".join(f", {o}" for o in opts)
                out.append(
                    f'extern "C" void h_{name}_{kind}_span_{tn}(const {T}* x, '
                    f'{f"const {T}* u, " if up else ""}{T}* out, long long n, long long start, '
                    f'long long stride{params}) {{\n    dc_{name}_{kind}_span_{tn}(x, '
                    f'{"u, " if up else ""}out, n, start, stride{args}); }}\n')
            out.append(
                f'extern "C" void h_{name}_bias_forward_span_{tn}(const {T}* x, const {T}* b, '
                f'{T}* out, long long n, long long F, long long start, long long stride{params})'
                f' {{\n    dc_{name}_bias_forward_span_{tn}(x, b, out, n, F, start, stride{args});'
                f' }}\n')
    return "".join(out)


def activation_library(source: str) -> ctypes.CDLL:
    return compile_host(source, extra=_activation_shims())


def optim_rules():
    """{kernel base name: (kind, spec)}: update rules ("rule") and norm reductions ("norm")."""
    from codegen import cuda_kernels

    out = {}
    for name in cuda_kernels.FAMILIES["optim"]:
        rules, norms = cuda_kernels.optimizer_rules(name)
        out.update({r.name: ("rule", r) for r in rules})
        out.update({nr.name: ("norm", nr) for nr in norms})
    return out


def _optim_shims() -> str:
    from codegen.cuda_kernels import _rule_arrays

    out = []
    for tn, (T, _, _) in TYPES.items():
        for name, (kind, spec) in optim_rules().items():
            if kind == "norm":
                extra = ", double p" if spec.p == "p" else ""
                out.append(f'extern "C" double h_{name}_span_{tn}(const {T}* g, long long n, '
                           f'long long start, long long stride{extra}) {{\n'
                           f'    return dc_{name}_span_{tn}(g, n, start, stride'
                           f'{", p" if extra else ""}); }}\n')
                continue
            arrays = _rule_arrays(spec)
            params = ", ".join(f"{T}* {a}" if w else f"const {T}* {a}" for a, _, w in arrays)
            scal = [str(x) for x in spec.scalar_symbols]
            out.append(f'extern "C" void h_{name}_span_{tn}({params}, long long n, long long start, '
                       f'long long stride{"".join(f", {T} {x}" for x in scal)}) {{\n'
                       f'    dc_{name}_span_{tn}({", ".join(a for a, _, _ in arrays)}, n, start, '
                       f'stride{"".join(f", {x}" for x in scal)}); }}\n')
    return "".join(out)


def optim_library(source: str) -> ctypes.CDLL:
    return compile_host(source, extra=_optim_shims())


def _layer_shims() -> str:
    """extern "C" entry points to the batch-norm and dropout spans (codegen/cuda_layers.py)."""
    out = []
    for tn, (T, _, _) in TYPES.items():
        out.append(f"""
extern "C" void h_batchnorm_train_span_{tn}(const {T}* x, const {T}* gamma, const {T}* beta,
        long long N, long long F, {T} eps, {T} momentum, {T}* rm, {T}* rv, {T}* s, {T}* xh, {T}* y,
        long long start, long long stride) {{
    dc_batchnorm_train_span_{tn}(x, gamma, beta, N, F, eps, momentum, rm, rv, s, xh, y, start,
                                 stride); }}
extern "C" void h_batchnorm_eval_span_{tn}(const {T}* x, const {T}* gamma, const {T}* beta,
        long long N, long long F, {T} eps, const {T}* rm, const {T}* rv, {T}* s, {T}* xh, {T}* y,
        long long start, long long stride) {{
    dc_batchnorm_eval_span_{tn}(x, gamma, beta, N, F, eps, rm, rv, s, xh, y, start, stride); }}
extern "C" void h_batchnorm_backward_span_{tn}(const {T}* g, const {T}* xh, const {T}* gamma,
        const {T}* s, long long N, long long F, {T}* dx, {T}* dgamma, {T}* dbeta, int training,
        long long start, long long stride) {{
    dc_batchnorm_backward_span_{tn}(g, xh, gamma, s, N, F, dx, dgamma, dbeta, training != 0,
                                    start, stride); }}
extern "C" void h_dropout_span_{tn}(const {T}* x, const {T}* m, {T} p, {T}* y, long long n,
        long long start, long long stride) {{
    dc_dropout_span_{tn}(x, m, p, y, n, start, stride); }}
extern "C" void h_dropout_backward_span_{tn}(const {T}* g, const {T}* m, {T} p, {T}* dx,
        long long n, long long start, long long stride) {{
    dc_dropout_backward_span_{tn}(g, m, p, dx, n, start, stride); }}
""")
    return "".join(out)


def layer_library(source: str) -> ctypes.CDLL:
    return compile_host(source, extra=_layer_shims())


def _ptr(a):
    return None if a is None else ctypes.c_void_p(a.ctypes.data)


class HostLauncher:
    """``runtime.cuda_dispatch.Launcher`` on the host: NumPy arrays, the compiled spans/passes.

    ``threads`` is how many threads a grid-stride launch is emulated with (each runs its span
    with that stride); the per-thread double sums are added as the block reduction would.
    """

    xp = np

    def __init__(self, lib: ctypes.CDLL | None = None, *, optim: ctypes.CDLL | None = None,
                 activations: ctypes.CDLL | None = None, threads: int = 5, sms: int = 2,
                 opt_in: bool = False):
        self.lib, self.optim, self.threads, self.sms, self.opt_in = lib, optim, threads, sms, opt_in
        self.activations = activations
        self.launches: list[tuple[str, int, int, int]] = []
        for tn, (_, _, ct) in TYPES.items():
            if lib is not None:
                for name in [f"h_{k}_span_{tn}" for k in [*LOSS_OPTIONS, *ARRAY_VARIANTS]] + \
                        [f"h_softmax_ce_pass2_{tn}", f"h_softmax_ce_check_span_{tn}",
                         f"h_softmax_ce_rest_{tn}"]:
                    getattr(lib, name).restype = ctypes.c_double
            if optim is not None:
                self.rules = optim_rules()
                for name, (kind, _) in self.rules.items():
                    getattr(optim, f"h_{name}_span_{tn}").restype = (
                        ctypes.c_double if kind == "norm" else None)

    def multiprocessors(self) -> int:
        return self.sms

    def opt_in_shared(self, family, name, nbytes) -> bool:
        return self.opt_in

    # ------------------------------------------------------------------ dispatch
    def launch(self, family, name, grid, block, args, shared_mem=0):
        assert block % 32 == 0 and grid >= 1, (name, grid, block)
        self.launches.append((name, grid, block, shared_mem))
        base, tn = name.rsplit("_", 1)
        if family == "optim":
            self._optim(base, tn, args)
        elif family == "activations":
            self._activation(base, tn, args)
        elif base == "dc_finalize":
            acc, divisor_ptr, divisor, out = args
            d = divisor_ptr[0] if divisor_ptr is not None else divisor
            with np.errstate(all="ignore"):
                out[...] = np.float64(acc[0]) / np.float64(d)
        elif base.endswith("_loss_grad"):
            self._elementwise(base[: -len("_loss_grad")], tn, args)
        elif base == "softmax_ce_check_labels":
            self._check_labels(tn, args)
        elif base in ("softmax_ce_warp", "softmax_ce_block"):
            width = 32 if base.endswith("warp") else block
            if base.endswith("warp"):
                assert shared_mem == 0 or shared_mem >= (block // 32) * args[2] * args[0].itemsize
            self._softmax_ce(tn, args, width, shared_mem)
        else:
            raise NotImplementedError(f"HostLauncher cannot emulate {name}")

    def _activation(self, base, tn, args):
        _, np_t, ct = TYPES[tn]
        name = next(a for a in ACTIVATION_OPTIONS if base.startswith(a + "_")
                    and base[len(a) + 1:] in ACTIVATION_KINDS + ("bias_forward",))
        kind = base[len(name) + 1:]
        nopt = len(ACTIVATION_OPTIONS[name])
        arrays = args[:2 if kind == "forward" else 3]  # bias_forward: x, bias, out
        sizes = args[len(arrays):len(arrays) + (2 if kind == "bias_forward" else 1)]  # n (, F)
        opts = args[len(arrays) + len(sizes):]
        assert all(isinstance(v, np.int64) for v in sizes), (base, sizes)
        assert len(opts) == nopt and all(isinstance(o, np_t) for o in opts), (base, opts)
        assert all(a.dtype == np_t for a in arrays)
        fn = getattr(self.activations, f"h_{base}_span_{tn}")
        for k in range(self.threads):
            fn(*(_ptr(a) for a in arrays), *(ctypes.c_longlong(int(v)) for v in sizes),
               ctypes.c_longlong(k), ctypes.c_longlong(self.threads), *(ct(o) for o in opts))

    def _optim(self, base, tn, args):
        _, np_t, ct = TYPES[tn]
        kind, spec = self.rules[base]
        fn = getattr(self.optim, f"h_{base}_span_{tn}")
        stride = self.threads
        if kind == "norm":
            grad, n, *extra, acc = args
            assert grad.dtype == np_t and all(isinstance(x, np.float64) for x in extra)
            parts = [fn(_ptr(grad), ctypes.c_longlong(int(n)), ctypes.c_longlong(k),
                        ctypes.c_longlong(stride), *(ctypes.c_double(x) for x in extra))
                     for k in range(stride)]
            if spec.combine == "sum":
                acc[0] += sum(parts)
            else:  # the kernel's atomicMax on the bits: NaN wins
                acc[0] = max([acc[0], *parts], key=lambda v: (np.isnan(v), v))
            return
        na = len(args) - 1 - len(spec.scalars)
        arrays, n, scalars = args[:na], int(args[na]), args[na + 1:]
        assert all(a.dtype == np_t for a in arrays) and all(isinstance(x, np_t) for x in scalars)
        for k in range(stride):
            fn(*(_ptr(a) for a in arrays), ctypes.c_longlong(n), ctypes.c_longlong(k),
               ctypes.c_longlong(stride), *(ct(x) for x in scalars))

    def _elementwise(self, kname, tn, args):
        _, np_t, ct = TYPES[tn]
        base = ARRAY_VARIANTS.get(kname, (kname, None))[0]
        nopt = len(LOSS_OPTIONS[base])
        pred, target, n = args[0], args[1], int(args[2])
        opts = args[3:3 + nopt]
        grad_scale, grad, loss_none, acc = args[3 + nopt:]
        assert pred.dtype == np_t and isinstance(grad_scale, np_t), (kname, tn)
        copts = [_ptr(o) if isinstance(o, np.ndarray) else ct(o) for o in opts]
        fn = getattr(self.lib, f"h_{kname}_span_{tn}")
        total = 0.0
        stride = self.threads
        for start in range(stride):
            total += fn(_ptr(pred), _ptr(target), ctypes.c_longlong(n), ctypes.c_longlong(start),
                        ctypes.c_longlong(stride), *copts, ct(grad_scale), _ptr(grad),
                        _ptr(loss_none))
        if acc is not None:
            acc[0] += total

    def _check_labels(self, tn, args):
        labels, N, C, ignore, w, first_bad, kept = args
        fn = getattr(self.lib, f"h_softmax_ce_check_span_{tn}")
        stride = self.threads
        for start in range(stride):
            bad = ctypes.c_longlong(int(N))
            kept[0] += fn(_ptr(labels), ctypes.c_longlong(int(N)), ctypes.c_longlong(int(C)),
                          ctypes.c_longlong(int(ignore)), _ptr(w), ctypes.c_longlong(start),
                          ctypes.c_longlong(stride), ctypes.byref(bad))
            if bad.value < int(N):
                first_bad[0] = min(int(first_bad[0]), bad.value)

    def _softmax_ce(self, tn, args, width, shared_mem):
        (z, N, C, labels, q, w, ignore, eps, divisor, grad_scale, use_cache, grad, loss_none,
         acc) = args
        _, np_t, ct = TYPES[tn]
        N, C = int(N), int(C)
        assert z.dtype == np_t and isinstance(eps, np_t) and isinstance(grad_scale, np_t)
        lib = self.lib
        pass1 = getattr(lib, f"h_softmax_ce_pass1_{tn}")
        combine = getattr(lib, f"h_softmax_ce_combine_{tn}")
        pass2 = getattr(lib, f"h_softmax_ce_pass2_{tn}")
        with np.errstate(divide="ignore"):  # all rows ignored: 1/0 = inf, as on the device
            scale = np_t(1.0 / divisor[0]) if divisor is not None else grad_scale
        cache = np.empty(C, dtype=np_t) if int(use_cache) else None
        total = 0.0
        for row in range(N):
            zr, gr = z[row], grad[row]
            label = int(labels[row]) if labels is not None else -1
            qr = q[row] if q is not None else None
            if labels is not None and label == int(ignore):
                gr[:] = 0
                if loss_none is not None:
                    loss_none[row] = 0
                continue
            common = (_ptr(zr), _ptr(qr), ctypes.c_longlong(label), _ptr(w), ct(eps),
                      ctypes.c_longlong(C))
            states = np.empty((width, 3), dtype=np_t)
            for lane in range(width):
                pass1(*common, ctypes.c_longlong(lane), ctypes.c_longlong(width), _ptr(cache),
                      _ptr(states[lane]))
            st = self._reduce_states(combine, states)
            # a confident row's s − 1 and Σ_{k≠argmax} w_k q_k, summed apart (the extra pass)
            rest = wq_r = 0.0
            if getattr(lib, f"h_softmax_ce_confident_{tn}")(ct(st[1])):
                mass = np.zeros(width, dtype=np_t)
                rest = float(np.sum([getattr(lib, f"h_softmax_ce_rest_{tn}")(
                    *common, ctypes.c_longlong(lane), ctypes.c_longlong(width), _ptr(cache),
                    ct(st[0]), _ptr(mass[lane:])) for lane in range(width)]))
                wq_r = np_t(np.sum(mass, dtype=np_t))
            part = [pass2(*common, ctypes.c_longlong(lane), ctypes.c_longlong(width),
                          _ptr(cache), _ptr(st), ct(rest), ct(wq_r), ct(scale), _ptr(gr))
                    for lane in range(width)]
            l = float(np.sum(part))
            if loss_none is not None:
                loss_none[row] = l
            total += l
        if acc is not None:
            acc[0] += total

    @staticmethod
    def _reduce_states(combine, states):
        """The kernels' order: xor butterflies inside each warp (lane 0 kept), then warps in order."""
        width = states.shape[0]
        warps = []
        for w0 in range(0, width, 32):
            lanes = [states[w0 + k].copy() for k in range(32)]
            o = 16
            while o:
                nxt = []
                for k in range(32):
                    r = np.empty(3, dtype=states.dtype)
                    combine(_ptr(lanes[k]), _ptr(lanes[k ^ o]), _ptr(r))
                    nxt.append(r)
                lanes, o = nxt, o >> 1
            warps.append(lanes[0])
        st = warps[0]
        for other in warps[1:]:
            r = np.empty(3, dtype=states.dtype)
            combine(_ptr(st), _ptr(other), _ptr(r))
            st = r
        return st
