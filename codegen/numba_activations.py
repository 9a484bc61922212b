"""Numba kernel templates for the activations: forward, and backward fused with the upstream.

Printed from ``derive.get(name).stable``: "forward" (a = f(z)), "grad" (f'(z)) and, where the
derivative is a function of the output, "grad_output" (f' in terms of a). Calling convention
of the generated kernels (``runtime/activations.py`` relies on it); arrays are 1-D,
C-contiguous, of one float dtype:

- ``<name>_forward_<f32|f64>(z, out, *options)``: out = f(z).
- ``<name>_backward_<dt>(z, upstream, out, *options)``: out = upstream ⊙ f'(z).
- ``<name>_backward_output_<dt>(a, upstream, out, *options)``: out = upstream ⊙ f'(z) written
  through the saved output a = f(z) (only where derive gives "grad_output").

A dense layer's bias and its activation, fused (runtime/nn.py runs Dense → activation so on
batch-major batches: one pass over z where there were two, bench/bench_mlp.py): the arrays are
a batch-major (N, F) array raveled, ``bias`` and ``bias_grad`` have F elements:

- ``<name>_bias_forward_<dt>(z, bias, out, *options)``: out = f(z + bias), the bias added to
  every row (out may be z: in place; it must not overlap bias).
- ``<name>_backward_output_bias_<dt>(a, upstream, out, bias_grad, *options)``: out as
  ``backward_output``, and bias_grad = Σ over the rows of out (∂L/∂b = Σ_batch δ), summed in
  float64 (bias_grad must not overlap the other arrays).
- ``<name>_bias_rows_forward_<dt>``, ``<name>_backward_output_bias_rows_<dt>``: the same for a
  feature-major (F, N) array raveled (bias[j] belongs to row j; bias_grad[j] sums row j).

Options (scalars, converted to the dtype once): ``leaky_relu``: ``negative_slope``.
NaN policy (a template rule, the same for every activation): a NaN input gives a NaN output,
also where a piecewise form would pick a branch (relu(NaN) = NaN, as PyTorch's forward).
"""
from __future__ import annotations

import sympy as sp

from .numba_checks import overlap_checks, size_checks
from .numba_losses import SUFFIX, stable_note
from .numba_printer import NumbaPrinter, print_cse_block

#: (kernel argument, derive symbol name) of each activation's options.
OPTIONS = {"leaky_relu": (("negative_slope", "alpha"),)}
KINDS = (("forward", "forward", "z"), ("backward", "grad", "z"), ("backward_output", "grad_output", "a"))


def source_expressions(derivation) -> list[tuple[str, sp.Expr]]:
    return sorted((k, v) for k, v in derivation.stable.items()
                  if k in ("forward", "grad", "grad_output"))


def _doc(derivation, kind: str, dtype: str) -> str:
    zsym = derivation.wrt[0]
    form = {"forward": "forward", "backward": "grad", "backward_output": "grad_output"}[kind]
    what = {"forward": "out = f(z)", "backward": "out = upstream * f'(z)",
            "backward_output": "out = upstream * f'(z), written through the saved a = f(z)"}[kind]
    lines = [
        f"{derivation.title}: {kind} ({dtype}); {what}.",
        "",
        f"Derivation {derivation.name!r} (derivecli show-grad {derivation.name}):",
        f"    {sp.sstr(derivation.quantity)} = {sp.sstr(derivation.expr)}",
        f"    d{sp.sstr(derivation.quantity)}/d{zsym} = {sp.sstr(derivation.gradient(zsym))}",
        f"Kernel form ({form}): {sp.sstr(derivation.stable[form])}",
    ]
    if kind == "backward_output":  # a's sign gives z's only under derive's assumptions
        syms = {s.name: s for s in derivation.expr.free_symbols}
        pos = [arg for arg, sym in OPTIONS.get(derivation.name, ())
               if syms.get(sym) is not None and syms[sym].is_positive]
        if pos:
            lines.append(f"Valid for {', '.join(a + ' > 0' for a in pos)} only (derive's "
                         "assumption); otherwise call the backward kernel with z.")
    return "\n".join("    " + ln if ln else "" for ln in lines).lstrip()


def _body(derivation, form_key: str, var: str, dtype: str, printer: NumbaPrinter) -> list[str]:
    """The lines computing f_k (the form ``form_key``) from x_k, the options as ``<arg>_``."""
    saved = dict(printer.symbol_names)
    printer.symbol_names.update({var: "x_k"})
    printer.symbol_names.update({sym: f"{arg}_" for arg, sym in OPTIONS.get(derivation.name, ())})
    try:
        body, _ = print_cse_block({"f_k": derivation.stable[form_key]}, dtype, "",
                                  printer=printer, annotate=stable_note)
    finally:
        printer.symbol_names.clear()
        printer.symbol_names.update(saved)
    return body


def activation_kernel(derivation, kind: str, dtype: str, printer: NumbaPrinter) -> tuple[str, str]:
    name = derivation.name
    form_key, var = next((f, v) for k, f, v in KINDS if k == kind)
    opts = OPTIONS.get(name, ())
    fname = f"{name}_{kind}_{SUFFIX[dtype]}"
    body = _body(derivation, form_key, var, dtype, printer)
    first = "z" if var == "z" else "a"
    arrays = [first] + ([] if kind == "forward" else ["upstream"]) + ["out"]
    params = arrays + [arg for arg, _ in opts]
    value = "f_k" if kind == "forward" else "upstream_b[k] * f_k"
    ind = " " * 12
    o = ["@numba.njit(parallel=True, error_model=\"numpy\", fastmath=FASTMATH, cache=CACHE)",
         f"def {fname}({', '.join(params)}):",
         f'    """{_doc(derivation, kind, dtype)}\n    """',
         f"    n = {first}.size",
         *size_checks([(a, f"{a}.size", "n", f"{first}.size: the arrays are 1-D, of one size")
                       for a in arrays[1:]]),
         *overlap_checks([("out", a) for a in arrays[:-1]])]
    o += [f"    {arg}_ = np.{dtype}({arg})" for arg, _ in opts]
    o += ["    nblocks = (n + BLOCK - 1) // BLOCK",
          # out over an input (in place): LLVM would see the overlap and fall back to a
          # scalar loop, so blocks go through the stack.
          "    buffered = " + " or ".join(f"overlaps(out, {a})" for a in arrays[:-1]),
          "    for b in numba.prange(nblocks):",
          "        wide_vectors()  # 512-bit vectors where the CPU has them",
          "        lo = b * BLOCK",
          "        hi = min(lo + BLOCK, n)",
          *[f"        {a}_b = {a}[lo:hi]" for a in arrays[:-1]],
          "        out_b = stack_buffer(out, BLOCK) if buffered else out[lo:hi]",
          "        for k in range(hi - lo):",
          f"{ind}x_k = {first}_b[k]",
          *[ind + ln for ln in body],
          f"{ind}f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)",
          f"{ind}out_b[k] = {value}",
          "        if buffered:",
          "            out[lo:hi] = out_b[:hi - lo]"]
    return fname, "\n".join(o) + "\n"


def fused_bias_kernel(derivation, kind: str, dtype: str, printer: NumbaPrinter) -> tuple[str, str]:
    """``bias_forward`` (out = f(z + bias)) or ``backward_output_bias`` (out = upstream ⊙ f'
    through a, and bias_grad = Σ of out over the batch): a dense layer's bias and its
    activation in one pass over the layer's array, raveled. Batch-major (N, F): the bias runs
    along each row; the ``_rows`` kinds, feature-major (F, N): bias[j] is row j's. Rows in
    blocks (split between threads), each row in tiles of BLOCK."""
    name = derivation.name
    opts = OPTIONS.get(name, ())
    forward = kind.startswith("bias")
    per_row = "_rows" in kind
    fname = f"{name}_{kind}_{SUFFIX[dtype]}"
    body = _body(derivation, "forward" if forward else "grad_output", "z" if forward else "a",
                 dtype, printer)
    first, vec = ("z", "bias") if forward else ("a", "bias_grad")
    arrays = [first] + ([] if forward else ["upstream"]) + ["out"]
    params = ([first, "bias", "out"] if forward else [first, "upstream", "out", "bias_grad"])
    params += [arg for arg, _ in opts]
    doc = _doc(derivation, "forward" if forward else "backward_output", dtype).replace(
        "forward (", "bias_forward (" if not per_row else "bias_rows_forward (").replace(
        "backward_output (", f"{kind} (")
    shape = "(F, N)" if per_row else "(N, F)"
    doc = doc.replace("out = f(z).", f"out = f(z + bias) over an {shape} array raveled, "
                      f"F = bias.size{', bias[j] added to row j' if per_row else ''}.").replace(
        "written through the saved a = f(z).",
        f"written through the saved a = f(z);\n    over an {shape} array raveled, bias_grad "
        f"= Σ of out over N (float64 sums), F = bias_grad.size.")
    size_what = f"{first}.size: {shape} arrays raveled, of one size"
    o = ["@numba.njit(parallel=True, error_model=\"numpy\", fastmath=FASTMATH, cache=CACHE)",
         f"def {fname}({', '.join(params)}):",
         f'    """{doc}\n    """',
         f"    n = {first}.size",
         f"    F = {vec}.size",
         "    if F == 0 or n % F != 0:",
         f"        rows_error({first!r}, n, {vec!r}, F)",
         *size_checks([(a, f"{a}.size", "n", size_what) for a in arrays[1:]]),
         *overlap_checks([("out", a) for a in arrays[:-1]])]
    # the bias vector is read for every row: out must not overwrite it (nor, backward, may
    # bias_grad overlap the arrays it is summed from)
    o += ([f"    if overlaps(out, bias):\n        disjoint_error('out', 'bias')"] if forward else
          [f"    if overlaps(bias_grad, {a}):\n        disjoint_error('bias_grad', {a!r})"
           for a in arrays])
    o += [f"    {arg}_ = np.{dtype}({arg})" for arg, _ in opts]
    # rows of length L in blocks of 8 BLOCKs of elements (batch-major backward: a float64
    # partial row of bias_grad per block: few blocks, no large scratch)
    o += ["    L = n // F" if per_row else "    L = F",
          "    R = F" if per_row else "    R = n // F",
          "    rows = max(1, (8 * BLOCK) // max(L, 1))",
          "    nblocks = (R + rows - 1) // rows",
          # out over an input (in place): LLVM would see the overlap and fall back to a
          # scalar loop, so tiles go through the stack (as the 1-D kernels)
          "    buffered = " + " or ".join(f"overlaps(out, {a})" for a in arrays[:-1])]
    if not forward and not per_row:
        o.append("    partial = np.zeros((nblocks, F), np.float64)")
    o += ["    for b in numba.prange(nblocks):",
          "        wide_vectors()  # 512-bit vectors where the CPU has them"]
    if not forward and not per_row:
        o.append("        acc = partial[b]")
    o.append("        for i in range(b * rows, min(b * rows + rows, R)):")
    if per_row:
        o.append("            bias_i = bias[i]" if forward else "            s = 0.0")
    o += ["            for lo in range(0, L, BLOCK):",
          "                w = min(BLOCK, L - lo)",
          "                start = i * L + lo",
          *[f"                {a}_t = {a}[start:start + w]" for a in arrays[:-1]],
          "                out_t = stack_buffer(out, BLOCK) if buffered else out[start:start + w]"]
    if not per_row:
        o.append("                bias_t = bias[lo:lo + w]" if forward else
                 "                acc_t = acc[lo:lo + w]")
    ind = " " * 20
    o += ["                for k in range(w):"]
    if forward:
        o += [f"{ind}x_k = z_t[k] + {'bias_i' if per_row else 'bias_t[k]'}",
              *[ind + ln for ln in body],
              f"{ind}f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)",
              f"{ind}out_t[k] = f_k"]
    else:
        o += [f"{ind}x_k = a_t[k]",
              *[ind + ln for ln in body],
              f"{ind}f_k = f_k if x_k == x_k else x_k  # NaN in, NaN out (before any branch)",
              f"{ind}d_k = upstream_t[k] * f_k",
              f"{ind}out_t[k] = d_k",
              f"{ind}s = add_reassoc(s, np.float64(d_k))  # lanes of float64 sums" if per_row
              else f"{ind}acc_t[k] += d_k"]
    o += ["                if buffered:",
          "                    out[start:start + w] = out_t[:w]"]
    if not forward and per_row:
        o.append("            bias_grad[i] = s")
    elif not forward:
        o += ["    total = np.zeros(F, np.float64)",
              "    for b in range(nblocks):",
              "        for j in range(F):",
              "            total[j] += partial[b, j]",
              "    for j in range(F):",
              "        bias_grad[j] = total[j]"]
    return fname, "\n".join(o) + "\n"


#: The fused kinds (a dense layer's bias with the activation) and the form each needs;
#: ``_rows``: the feature-major layout runtime.nn uses for small batches.
FUSED_KINDS = (("bias_forward", "forward"), ("backward_output_bias", "grad_output"),
               ("bias_rows_forward", "forward"), ("backward_output_bias_rows", "grad_output"))


def activation_kernels(derivation, dtype: str, printer: NumbaPrinter) -> list[tuple[tuple, str, str]]:
    out = []
    for kind, form, _ in KINDS:
        if form in derivation.stable:
            fname, src = activation_kernel(derivation, kind, dtype, printer)
            out.append(((derivation.name, "default", kind, dtype), fname, src))
    for kind, form in FUSED_KINDS:
        if form in derivation.stable:
            fname, src = fused_bias_kernel(derivation, kind, dtype, printer)
            out.append(((derivation.name, "default", kind, dtype), fname, src))
    return out
