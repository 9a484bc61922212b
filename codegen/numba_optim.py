"""Numba kernels for the optimizer updates and gradient clipping of :mod:`derive.optim`.

From each :class:`derive.optim.UpdateRule` this prints, per dtype, one fused in-place kernel
(serial, and parallel over blocks with ``prange``) that reads the parameter, the gradient and
each state buffer once per element, runs the rule's assignments in float32 (or float64)
arithmetic, and writes the parameter and the state once. Hyper-parameters reach the kernel as
scalars that it converts to the buffer's dtype; the per-step scalars (bias corrections, ...) are
printed as plain Python functions from the rule's ``scalars`` expressions, in float64 on the
host as torch.optim computes them. Clip-by-norm gets reduction kernels (sum of squares, sum of
absolute values, sum of |g|^p, max |g|) that accumulate in float64 in LANES independent lanes
(vectorizable without the ``reassoc`` fast-math flag).

Calling convention (``runtime/optim.py`` relies on it): every array is 1-D, C-contiguous, of one
float dtype; ``RULES[name]["kernels"][(dtype, parallel)](param, grad, *state, *scalars,
flush=False)`` (see FLUSH_NOTE);
``RULES[name]["scalars"](t, **hyper)`` gives the scalars in kernel order. Clip kernels take the
gradient only (it is the updated buffer). ``NORMS[name]["kernels"][parallel](grad) -> float``.

``python -m codegen.generate --update`` rewrites ``runtime/generated/numba_optim.py``;
``--check`` exits 1 with a diff when the committed module has drifted.
"""
from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .numba_checks import overlap_checks, size_checks
from .numba_printer import NumbaPrinter, constant_lines

GENERATOR_VERSION = "5"  # 5: block sums of a norm added pairwise; 2: CACHE switch, argument checks; 3: overlap checks; 4: flush
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = "runtime/generated/numba_optim.py"
SUFFIX = {"float32": "f32", "float64": "f64"}
DTYPES = ("float32", "float64")
FASTMATH = ("nsz", "arcp", "contract", "afn")  # never nnan/ninf/reassoc: NaN and Inf stay
BLOCK = 16384  # elements per parallel block
LANES = 16  # independent float64 accumulators inside a block of a norm reduction
#: The smallest normal number of each dtype: with ``flush``, smaller stored values become 0.
TINY = {"float32": float(2.0 ** -126), "float64": float(2.0 ** -1022)}
FLUSH_NOTE = (
    "flush=True (runtime.optim.set_flush_denormal) stores a parameter or state value below the "
    "smallest normal number as 0, as torch.set_flush_denormal(True) does on the CPU: the "
    "momentum of a unit whose gradient stays 0 decays into subnormals and sticks there (0.9 "
    "times the smallest subnormal rounds back to it), and x86 then takes a slow assist on "
    "every such element of every later step.")

ARRAY_PARAM = "param"
ARRAY_GRAD = "grad"


# --------------------------------------------------------------------------- host printer


class HostPrinter(PythonCodePrinter):
    """Plain Python (float64 on the host) for the per-step scalars, in torch.optim's order."""

    def _print_Pow(self, expr, rational=False):
        if expr.exp == sp.Rational(1, 2):  # torch: bias_correction2 ** 0.5
            return f"({self._print(expr.base)}) ** 0.5"
        return super()._print_Pow(expr, rational=rational)

    def _print_Min(self, expr):  # NaN-propagating, as torch.clamp
        args = [self._print(a) for a in expr.args]
        code = args[0]
        for a in args[1:]:
            code = f"_fmin({code}, {a})"
        return code

    def _print_Max(self, expr):
        args = [self._print(a) for a in expr.args]
        code = args[0]
        for a in args[1:]:
            code = f"_fmax({code}, {a})"
        return code


def _host(expr, rename) -> str:
    return HostPrinter({"standard": "python3"}).doprint(sp.sympify(expr).xreplace(rename))


# --------------------------------------------------------------------------- sources


def _rules():
    from derive import optim

    return optim.all_rules()


def _norms():
    from derive import optim

    return optim.norm_rules()


def source_items(rules, norms) -> list[tuple[str, str, sp.Expr]]:
    """(rule, key, expression) of everything printed, for the header's hash."""
    items = []
    for r in rules:
        items += [(r.name, f"scalar {sym}", e) for sym, e in r.scalars]
        items += [(r.name, f"init {key}", e) for (_, key), e in zip(r.state, r.init)]
        items += [(r.name, f"{k}: {tgt}", e) for k, (tgt, e) in enumerate(r.assignments)]
    for nr in norms:
        items += [(nr.name, "term", nr.term), (nr.name, "finish", nr.finish)]
    return items


def source_hash(items) -> str:
    h = hashlib.sha256(f"numba_optim generator {GENERATOR_VERSION}\n".encode())
    for name, key, expr in items:
        h.update(f"{name}:{key}:{sp.srepr(expr)}\n".encode())
    return h.hexdigest()[:16]


def _rename(rule) -> dict:
    return {h.symbol: sp.Symbol(h.keyword) for h in rule.hyper}


def _arrays(rule) -> list[tuple[str, sp.Symbol]]:
    """(array name, element symbol) in kernel argument order."""
    if rule.grad is None:  # clipping: the gradient is the buffer updated in place
        return [(ARRAY_GRAD, rule.param)]
    return [(ARRAY_PARAM, rule.param), (ARRAY_GRAD, rule.grad)] + [(key, sym) for sym, key in rule.state]


def scalars_function(rule) -> str:
    rename = _rename(rule)
    params = ", ".join(["t"] + [h.keyword for h in rule.hyper])
    lines = [f"def {rule.name}_scalars({params}):",
             f'    """Kernel scalars of {rule.name} at step t (1 on the first step), '
             'in kernel order."""']
    for sym, expr in rule.scalars:
        lines.append(f"    {sym} = {_host(expr, rename)}")
    lines.append(f"    return ({''.join(str(sym) + ', ' for sym, _ in rule.scalars)})")
    return "\n".join(lines) + "\n"


def init_function(rule) -> str:
    rename = _rename(rule)
    params = ", ".join(h.keyword for h in rule.hyper)
    values = "".join(_host(e, rename) + ", " for e in rule.init)
    return (f"def {rule.name}_init({params}):\n"
            f'    """Initial value of each state buffer of {rule.name} ({", ".join(rule.state_keys) or "none"})."""\n'
            f"    return ({values})\n")


def rule_comment(rule) -> str:
    """A comment block that states the rule once, above its scalars function and kernels."""
    opts = ", ".join(f"{k}={v}" for k, v in rule.options.items())
    lines = [f"{'-' * 75}",
             f"{rule.name}: {rule.title}{f' ({opts})' if opts else ''}",
             f"Rule {rule.name!r} of derive.optim (derivecli show-grad {rule.optimizer}). Per element, in",
             "order (a state name holds its value before the step until it is assigned):"]
    lines += [f"    {tgt} = {sp.sstr(e)}" for tgt, e in rule.assignments]
    lines.append("Scalars, computed per step on the host (t = step count, 1 first):")
    lines += [f"    {sym} = {sp.sstr(e.xreplace(_rename(rule)))}" for sym, e in rule.scalars]
    if rule.state:
        lines.append("State written back: " + ", ".join(f"{key} ({sym})" for sym, key in rule.state))
    return "\n".join(("# " + ln).rstrip() for ln in lines) + "\n"


def _docstring(rule, dtype: str, parallel: bool) -> str:
    return (f"{rule.title}, rule {rule.name} (see the comment above {rule.name}_scalars): "
            f"in place, {dtype}, {'parallel over blocks' if parallel else 'serial'}.")


def update_kernel(rule, dtype: str, parallel: bool, printer: NumbaPrinter) -> tuple[str, str]:
    """(function name, source) of one fused update kernel.

    The serial kernel holds the loop; the parallel one runs it on blocks in ``prange``."""
    serial = f"{rule.name}_{SUFFIX[dtype]}"
    fname = serial + ("_par" if parallel else "")
    arrays = _arrays(rule)
    scalars = [str(sym) for sym in rule.scalar_symbols]
    out = [f"@numba.njit({'parallel=True, ' if parallel else ''}error_model=\"numpy\", "
           "fastmath=FASTMATH, cache=CACHE)",
           f"def {fname}({', '.join([a for a, _ in arrays] + scalars)}, flush=False):",
           f'    """{_docstring(rule, dtype, parallel)}"""',
           f"    n = {arrays[0][0]}.shape[0]",
           *size_checks([(a, f"{a}.shape[0]", "n", f"{arrays[0][0]}.shape[0]: the arrays are "
                          "1-D, of one size") for a, _ in arrays[1:]]),
           *_overlap_lines(arrays),
           "    nblocks = (n + BLOCK - 1) // BLOCK"]
    if parallel:
        args = ", ".join([f"{a}[lo:hi]" for a, _ in arrays] + scalars + ["flush"])
        out += ["    for blk in numba.prange(nblocks):",
                "        lo = blk * BLOCK",
                "        hi = min(lo + BLOCK, n)",
                f"        {serial}({args})"]
        return fname, "\n".join(out) + "\n"
    body = [f"{tgt} = {printer.doprint(e)}" for tgt, e in rule.assignments]
    written = [(a, sym) for a, sym in arrays if a != ARRAY_GRAD or rule.grad is None]
    out += [f"    {x} = np.{dtype}({x})" for x in scalars]  # the arithmetic stays in the dtype
    # flush: a value stored below the smallest normal number is stored as 0 (see FLUSH_NOTE);
    # off, tiny is 0 and the compare never holds, so one loop serves both.
    out += [f"    tiny = np.{dtype}({TINY[dtype]!r}) if flush else np.{dtype}(0)",
            f"    zero = np.{dtype}(0)"]
    out += ["    for blk in range(nblocks):",
            "        lo = blk * BLOCK",
            "        hi = min(lo + BLOCK, n)"]
    # Slices index from 0, so LLVM drops negative-index wraparound checks and vectorizes.
    out += [f"        {a}_b = {a}[lo:hi]" for a, _ in arrays]
    out += ["        for i in range(hi - lo):"]
    out += [f"            {sym} = {a}_b[i]" for a, sym in arrays]
    out += ["            " + ln for ln in body]
    out += [f"            {a}_b[i] = {sym} * zero if abs({sym}) < tiny else {sym}"
            for a, sym in written]
    return fname, "\n".join(out) + "\n"


def _overlap_lines(arrays) -> list[str]:
    """The kernel reads every array's element i before it writes element i: the gradient may
    be an array it writes (in place), but not a shifted view of one (read after written); two
    written arrays may not share memory at all (one write would be lost)."""
    written = [a for a, _ in arrays if a != ARRAY_GRAD]
    read = [a for a, _ in arrays if a == ARRAY_GRAD and len(arrays) > 1]
    out = overlap_checks([(r, w) for r in read for w in written])
    for k, a in enumerate(written):
        for b in written[:k]:
            out += [f"    if overlaps({a}, {b}):", f"        shared_state_error({a!r}, {b!r})"]
    return out


def _term_update(nr, printer: NumbaPrinter, acc: str) -> str:
    term = printer.doprint(nr.term)
    if nr.combine == "sum":
        return f"{acc} += {term}"
    # max, keeping a NaN once seen (a NaN term, or a NaN already in the accumulator)
    return f"x = {term}\n{{ind}}{acc} = x if (x > {acc}) | (x != x) else {acc}"


def norm_kernel(nr, parallel: bool, printer: NumbaPrinter) -> tuple[str, str]:
    """(function name, source) of one norm reduction (float64 result, any float dtype in)."""
    fname = nr.name + ("_par" if parallel else "")
    extra = ["p"] if nr.p == "p" else []
    ind_lane, ind_tail = " " * 16, " " * 12

    def upd(acc, ind):
        return ind + _term_update(nr, printer, acc).replace("{ind}", ind)

    combine = ("pairwise_sum(partial)" if nr.combine == "sum" else "_nanmax(partial)")
    out = [f"@numba.njit({'parallel=True, ' if parallel else ''}error_model=\"numpy\", "
           "fastmath=FASTMATH, cache=CACHE)",
           f"def {fname}({', '.join(['grad'] + extra)}):",
           f'    """R = {nr.combine} of {sp.sstr(nr.term)} over every element, in float64 '
           f'(LANES lanes per block, then across blocks); the norm is {nr.name}_finish(R)."""',
           *[f"    {x} = np.float64({x})" for x in extra],
           "    n = grad.shape[0]",
           "    nblocks = (n + BLOCK - 1) // BLOCK",
           "    partial = np.zeros(max(nblocks, 1), np.float64)",
           f"    for blk in {'numba.prange' if parallel else 'range'}(nblocks):",
           "        lo = blk * BLOCK",
           "        hi = min(lo + BLOCK, n)",
           "        grad_b = grad[lo:hi]",
           "        m = hi - lo",
           "        acc = np.zeros(LANES, np.float64)",
           "        full = m - m % LANES",
           "        for j0 in range(0, full, LANES):",
           "            chunk = grad_b[j0:j0 + LANES]",
           "            for k in range(LANES):",
           "                g = np.float64(chunk[k])",
           upd("acc[k]", ind_lane),
           "        total = 0.0",
           "        for k in range(full, m):",
           "            g = np.float64(grad_b[k])",
           upd("total", ind_tail),
           "        for k in range(LANES):",
           "            g = acc[k]" if nr.combine == "max" else "            total += acc[k]"]
    if nr.combine == "max":
        out.append("            total = g if (g > total) | (g != g) else total")
    out += ["        partial[blk] = total",
            f"    return {combine}"]
    return fname, "\n".join(out) + "\n"


def finish_function(nr) -> str:
    extra = ", p" if nr.p == "p" else ""
    code = _host(nr.finish, {sp.Symbol("p", positive=True): sp.Symbol("p")})
    return (f"def {nr.name}_finish(R{extra}):\n"
            f'    """The norm from the reduced value R."""\n'
            f"    return {code}\n")


HELPERS = '''
def _fmin(a, b):
    """min(a, b), NaN if either is NaN (as torch.clamp)."""
    return a if (a != a or a < b) else b


def _fmax(a, b):
    """max(a, b), NaN if either is NaN."""
    return a if (a != a or a > b) else b


@numba.njit(inline="always")
def overlaps(a, b):
    """Whether the memory of arrays a and b (C-contiguous) overlaps."""
    a0, b0 = a.ctypes.data, b.ctypes.data
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


@numba.njit(cache=CACHE)
def shared_state_error(a, b):
    raise ValueError(a + " overlaps " + b + ": the kernel writes both, so they need memory "
                     "of their own")


@numba.njit(error_model="numpy", cache=CACHE)
def _nanmax(x):
    """The maximum of x, NaN if any element is NaN (x is never empty)."""
    out = x[0]
    for k in range(1, x.shape[0]):
        if x[k] > out or x[k] != x[k]:
            out = x[k]
    return out
'''


#: Registry names (group "optimizer") -> the rule families their kernels come from.
FAMILIES = {"sgd": ("sgd",), "momentum": ("sgd",), "adagrad": ("adagrad",),
            "rmsprop": ("rmsprop",), "adam": ("adam",), "adamw": ("adamw",),
            "clip_grad_value": ("clip_grad_value",), "clip_grad_norm": ("clip_grad_norm",)}


def generate_module(names=(), command: str | None = None) -> str:
    """The source of a module with the kernels of the optimizer derivations ``names``
    (registry names, e.g. "adam", "clip_grad_norm"); every rule when empty, which is
    runtime/generated/numba_optim.py. ``command`` is how the header says to regenerate it."""
    rules, norms = _rules(), _norms()
    if names:
        from derive import registry

        wanted = [registry.canonical(n) for n in names]
        unknown = [n for n in wanted if n not in FAMILIES]
        if unknown:
            raise NotImplementedError(f"codegen.numba_optim makes optimizer and clipping kernels; "
                                      f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not one")
        families = {f for n in wanted for f in FAMILIES[n]}
        rules = tuple(r for r in rules if r.optimizer in families)
        norms = norms if "clip_grad_norm" in families else ()
    printers = {dt: NumbaPrinter(dt, mathlib=False) for dt in DTYPES}
    head = [
        f"# generated, do not edit: regenerate with `{command or 'python -m codegen.generate --update'}`",
        f"# Generator: codegen.numba_optim, version {GENERATOR_VERSION}",
        "# Derivations: " + ", ".join(dict.fromkeys(r.optimizer for r in rules)),
        f"# Source hash: sha256:{source_hash(source_items(rules, norms))} "
        "(of the SymPy expressions printed below)",
        '"""Fused optimizer updates and gradient clipping, generated from derive/optim.py.',
        "",
        "Standalone: imports numpy, numba and math only. Kernels compile on first call (no",
        "signatures at import) and are cached on disk when the module is imported under its",
        "file's name (CACHE, below: not when loaded by path under another). Every array is 1-D and",
        "C-contiguous; a kernel updates its arrays in place. RULES and NORMS index the kernels.",
        "",
        *textwrap.wrap("An update kernel's last argument, " + FLUSH_NOTE, 92),
        '"""',
        "import math  # noqa: F401  (the printed expressions use math.sqrt)",
        "",
        "import numba",
        "import numpy as np",
        "",
        f"FASTMATH = {{{', '.join(repr(f) for f in FASTMATH)}}}  # keeps NaN/Inf semantics",
        f"BLOCK = {BLOCK}",
        f"LANES = {LANES}",
        "",
    ]
    from .numba_cache import CACHE_SOURCE

    from .numba_checks import CHECKS_SOURCE
    from .numba_reduce import PAIRWISE_SOURCE

    parts = ["\n".join(head), CACHE_SOURCE.strip("\n") + "\n", HELPERS.strip("\n") + "\n",
             CHECKS_SOURCE.strip("\n") + "\n", PAIRWISE_SOURCE.strip("\n") + "\n"]
    body, table = [], ["RULES = {"]
    for r in rules:
        body += [rule_comment(r) + "\n\n" + scalars_function(r), init_function(r)]
        kernels = {}
        for dt in DTYPES:
            for par in (False, True):
                fname, src = update_kernel(r, dt, par, printers[dt])
                kernels[(dt, par)] = fname
                body.append(src)
        table += [f"    {r.name!r}: {{",
                  f"        \"optimizer\": {r.optimizer!r},",
                  f"        \"options\": {dict(r.options)!r},",
                  f"        \"state\": {r.state_keys!r},",
                  f"        \"hyper\": {tuple(h.keyword for h in r.hyper)!r},",
                  f"        \"scalars\": {r.name}_scalars,",
                  f"        \"init\": {r.name}_init,",
                  "        \"kernels\": {" + ", ".join(f"{k!r}: {v}" for k, v in kernels.items()) + "},",
                  "    },"]
    table.append("}")
    norm_table = ["NORMS = {"]
    p64 = NumbaPrinter("float64", mathlib=False)
    for nr in norms:
        body.append(finish_function(nr))
        names = {}
        for par in (False, True):
            fname, src = norm_kernel(nr, par, p64)
            names[par] = fname
            body.append(src)
        norm_table += [f"    {nr.name!r}: {{\"p\": {nr.p!r}, \"finish\": {nr.name}_finish, "
                       f"\"kernels\": {{False: {names[False]}, True: {names[True]}}}}},"]
    norm_table.append("}")
    consts = constant_lines(*printers.values(), p64)
    if consts:
        parts.append("# float32 constants: typed globals, so no literal promotes a loop to float64\n"
                     + "\n".join(consts) + "\n")
    parts += body
    parts += ["\n".join(table) + "\n", "\n".join(norm_table) + "\n"]
    return "\n\n".join(parts)


def regenerate(root=None, write: bool = True) -> str:
    """The module's text; written (atomically) to OUTPUT under ``root`` when ``write``."""
    text = generate_module()
    if write:
        from .generate import write_module  # atomic: temporary file, then rename

        write_module(Path(root or ROOT) / OUTPUT, text)
    return text


def drift(root=None) -> str:
    """A unified diff between the committed module and a fresh generation ("" if none)."""
    from .generate import unified_drift

    return unified_drift(root, OUTPUT, regenerate(root, write=False))
