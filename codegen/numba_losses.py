"""Numba kernel templates for the losses: fused loss value + gradient in one pass.

The per-element math is printed from ``derive.get(name).stable`` (falling back to the
derivation's own expression and gradient when it has no separate stable form, as for the
polynomial losses); this module only supplies the loop structure around it.

Calling convention of the generated elementwise kernels (``runtime/losses.py`` relies on it);
every array is 1-D and C-contiguous, all of one float dtype, and ``n = pred.size``:

- ``<name>_mean_<f32|f64>(pred, target, grad, *options) -> float``: the mean loss (float64
  accumulation across blocks), grad = ∂mean/∂pred written into ``grad``.
- ``<name>_sum_<dt>(pred, target, grad, *options) -> float``: the summed loss, its gradient.
- ``<name>_none_<dt>(pred, target, loss, grad, *options)``: per-element losses into ``loss``,
  grad = ∂(sum)/∂pred.
- ``bce_logits_pwarray_<red>_<dt>``: the same with a per-element ``pos_weight`` array (after
  ``target``) instead of a scalar option.

Options are scalars in the order of ``ElementwiseLoss.options``; the kernel converts them to its
dtype once. Loops run over blocks of ``BLOCK`` elements in parallel (``prange``); inside a block
the loss accumulates in the array's dtype through ``add_reassoc`` (``codegen.numba_reduce``: the
one addition LLVM may reorder, so the loop vectorizes; the kernels never set the ``reassoc``
flag), and across blocks in float64. The memory-bound losses (``ElementwiseLoss.stream``) build
each block of an output of at least ``STREAM_MIN_BYTES`` in a stack buffer and write it with
streaming stores (``codegen.numba_reduce.stream_copy``).

The softmax cross-entropy kernels are row-wise; see :func:`softmax_ce_kernels`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .numba_checks import overlap_checks, size_checks
from .numba_printer import NumbaPrinter, print_cse_block

REDUCTIONS = ("mean", "sum", "none")
SUFFIX = {"float32": "f32", "float64": "f64"}
ITEMSIZE = {"float32": 4, "float64": 8}


@dataclass(frozen=True)
class ElementwiseLoss:
    """How one elementwise derivation maps onto a kernel: which symbol is read from which array."""

    name: str
    pred: str  # symbol name of the prediction in derive (yhat or z)
    options: tuple[tuple[str, str], ...] = ()  # (kernel argument, derive symbol name)
    array_option: str | None = None  # an option that also has a per-element-array variant
    # Memory-bound: large outputs go through a stack buffer and streaming stores
    # (numba_reduce.stream_copy), saving the read of the old output (bench/bench_streaming.py:
    # mse over 16M float32 1.13–1.22× faster). Losses with exp/log/pow are bound by arithmetic,
    # where the extra copy costs more than it saves (bce_logits streamed: 0.91–0.94×).
    stream: bool = False


ELEMENTWISE: dict[str, ElementwiseLoss] = {
    "bce": ElementwiseLoss("bce", "yhat"),
    "bce_logits": ElementwiseLoss("bce_logits", "z", (("pos_weight", "p_w"),), "pos_weight"),
    "mse": ElementwiseLoss("mse", "yhat", stream=True),
    "mae": ElementwiseLoss("mae", "yhat", stream=True),
    "smooth_l1": ElementwiseLoss("smooth_l1", "yhat", (("beta", "beta"),), stream=True),
    "huber": ElementwiseLoss("huber", "yhat", (("delta", "delta"),), stream=True),
    "lp": ElementwiseLoss("lp", "yhat", (("p", "p"),)),
}


def has_template(name: str) -> bool:
    return name in ELEMENTWISE or name == "softmax_ce"


def kernel_forms(derivation) -> dict[str, sp.Expr]:
    """{"loss", "grad"} as printed: the stable forms, else the derivation's own (already stable)."""
    stable = dict(derivation.stable)
    pred = next(s for s in derivation.wrt if str(s) == ELEMENTWISE[derivation.name].pred)
    return {"loss": stable.get("loss", derivation.expr),
            "grad": stable.get("grad", derivation.gradient(pred))}


def source_expressions(derivation) -> list[tuple[str, sp.Expr]]:
    """What the kernels are printed from (hashed into the module header)."""
    return sorted(kernel_forms(derivation).items())


# --------------------------------------------------------------------------- annotations


def stable_note(expr: sp.Expr, resolve=lambda e: e) -> str | None:
    """A comment for a kernel line that is (part of) a stable rewrite, else None.

    ``expr`` is the line's expression (CSE temporaries as symbols); ``resolve`` expands them.
    """
    notes = []
    if expr.has(sp.exp) and any(isinstance(e.args[0], sp.Mul) and e.args[0].has(sp.Abs)
                                for e in expr.atoms(sp.exp)):
        notes.append("stable: e^(-|z|) <= 1 never overflows")
    for f in expr.atoms(sp.Function):
        if type(f).__name__ != "log1p":
            continue
        if resolve(f.args[0]).has(sp.exp):
            notes.append("stable: softplus(x) = max(x, 0) + log1p(e^(-|x|))")
        else:
            notes.append("stable: log(1 - yhat) as log1p(-yhat), exact near yhat = 0")
    for mx in expr.atoms(sp.Max):
        nums = [a for a in mx.args if a.is_number]
        if nums and nums[0] == -100:
            notes.append("PyTorch clamp: log >= -100")
        elif nums and 0 < float(nums[0]) < 1e-6:
            notes.append(f"PyTorch clamp: denominator >= {float(nums[0]):g}")
    return "; ".join(dict.fromkeys(notes)) or None


# --------------------------------------------------------------------------- templates


def _docstring(derivation, spec: ElementwiseLoss, reduction: str, dtype: str, variant: str) -> str:
    pred = derivation.variable(spec.pred)
    what = {"mean": "mean over all elements; grad = d(mean)/d(pred)",
            "sum": "sum over all elements; grad = d(sum)/d(pred)",
            "none": "per-element losses into `loss`; grad = d(sum)/d(pred)"}[reduction]
    forms = kernel_forms(derivation)
    lines = [
        f"{derivation.title}: loss and gradient in one pass ({reduction}, {dtype}){variant}.",
        "",
        f"Derivation {derivation.name!r} (derivecli show-grad {derivation.name}):",
        f"    L = {sp.sstr(derivation.expr)}",
        f"    dL/d{pred} = {sp.sstr(derivation.gradient(pred))}",
        "Kernel forms (stable rewrite, proved equal in derive):",
        f"    loss = {sp.sstr(forms['loss'])}",
        f"    grad = {sp.sstr(forms['grad'])}",
        f"Reduction: {what}.",
    ]
    return "\n".join("    " + ln if ln else "" for ln in lines).lstrip()


def elementwise_kernel(derivation, reduction: str, dtype: str, printer: NumbaPrinter,
                       array_option: bool = False) -> tuple[str, str]:
    """(function name, source) of one fused elementwise loss kernel."""
    spec = ELEMENTWISE[derivation.name]
    sfx = SUFFIX[dtype]
    variant = f"_{spec.array_option.replace('_', '')}array" if array_option else ""
    fname = f"{spec.name}{variant}_{reduction}_{sfx}"
    scalar_opts = [(arg, sym) for arg, sym in spec.options
                   if not (array_option and arg == spec.array_option)]
    array_opts = [(arg, sym) for arg, sym in spec.options if array_option and arg == spec.array_option]

    # Symbols print as the per-element local names; scalar options as their dtype-cast copies.
    saved = dict(printer.symbol_names)
    printer.symbol_names.update({spec.pred: "pred_k", "y": "target_k"})
    printer.symbol_names.update({sym: f"{arg}_" for arg, sym in scalar_opts})
    printer.symbol_names.update({sym: f"{arg}_k" for arg, sym in array_opts})
    try:
        body, _ = print_cse_block({"loss_k": kernel_forms(derivation)["loss"],
                                   "grad_k": kernel_forms(derivation)["grad"]},
                                  dtype, indent="", printer=printer, annotate=stable_note)
    finally:
        printer.symbol_names.clear()
        printer.symbol_names.update(saved)

    arrays = ["pred", "target"] + [arg for arg, _ in array_opts]
    params = arrays + (["loss"] if reduction == "none" else []) + ["grad"] + [a for a, _ in scalar_opts]
    doc = _docstring(derivation, spec, reduction, dtype,
                     f", per-element {spec.array_option}" if array_option else "")
    zero = printer.constant(0)
    out = [f"@numba.njit(parallel=True, error_model=\"numpy\", fastmath=FASTMATH, cache=CACHE)",
           f"def {fname}({', '.join(params)}):",
           f'    """{doc}\n    """',
           "    n = pred.size"]
    outputs = (["loss"] if reduction == "none" else []) + ["grad"]
    out += size_checks([(a, f"{a}.size", "n", "pred.size: the arrays are 1-D, of one size")
                        for a in arrays[1:] + outputs])
    out += overlap_checks([(o, a) for o in outputs for a in arrays])
    out += [f"    {arg}_ = np.{dtype}({arg})" for arg, _ in scalar_opts]
    if reduction == "mean":
        out.append(f"    scale = np.{dtype}(1.0 / n) if n > 0 else {zero}")
    stream = f"n * {ITEMSIZE[dtype]} >= STREAM_MIN_BYTES" if spec.stream else "False"
    out += ["    nblocks = (n + BLOCK - 1) // BLOCK",
            f"    stream = {stream}  # a large output: written past the caches",
            # An output over an input (in place): LLVM would see the overlap and fall back to a
            # scalar loop, so it goes through the stack buffer too.
            "    buffered = stream or "
            + " or ".join(f"overlaps({o}, {a})" for o in outputs for a in arrays)]
    if reduction != "none":
        out.append("    partial = np.empty(nblocks, np.float64)")
    out += ["    for b in numba.prange(nblocks):",
            "        wide_vectors()  # 512-bit vectors where the CPU has them",
            "        lo = b * BLOCK",
            "        hi = min(lo + BLOCK, n)",
            # Slices (indices from 0) let LLVM drop negative-index wraparound and vectorize.
            *[f"        {a}_b = {a}[lo:hi]" for a in arrays],
            *[f"        {a}_b = stack_buffer({a}, BLOCK) if buffered else {a}[lo:hi]"
              for a in outputs],
            "        m = hi - lo"]

    def element(indent: str, index: str, sl: str) -> list[str]:
        lines = [f"{indent}pred_k = pred_{sl}[{index}]", f"{indent}target_k = target_{sl}[{index}]"]
        lines += [f"{indent}{arg}_k = {arg}_{sl}[{index}]" for arg, _ in array_opts]
        lines += [indent + ln for ln in body]
        g = "grad_k * scale" if reduction == "mean" else "grad_k"
        lines.append(f"{indent}grad_{sl}[{index}] = {g}")
        if reduction == "none":
            lines.append(f"{indent}loss_{sl}[{index}] = loss_k")
        return lines

    if reduction == "none":
        out += ["        for k in range(m):", *element(" " * 12, "k", "b")]
    else:
        # The loss accumulates in the array's dtype through add_reassoc (the one addition
        # LLVM may reorder, so the loop vectorizes), then across blocks in float64, in pairs
        # (pairwise_sum).
        out += [f"        acc = {zero}",
                "        for k in range(m):",
                *element(" " * 12, "k", "b"),
                "            acc = add_reassoc(acc, loss_k)",
                "        partial[b] = acc"]
    out += ["        if stream:", *[f"            stream_copy({a}, lo, {a}_b, m)" for a in outputs],
            "        elif buffered:",
            *[f"            {a}[lo:hi] = {a}_b[:m]" for a in outputs]]
    if reduction == "mean":
        out.append("    return pairwise_sum(partial) / n")
    elif reduction == "sum":
        out.append("    return pairwise_sum(partial)")
    return fname, "\n".join(out) + "\n"


def elementwise_kernels(derivation, dtype: str, printer: NumbaPrinter) -> list[tuple[tuple, str, str]]:
    """[(key, function name, source)] for every reduction (and array-option variant)."""
    spec = ELEMENTWISE[derivation.name]
    result = []
    for array_option in ([False, True] if spec.array_option else [False]):
        for reduction in REDUCTIONS:
            fname, src = elementwise_kernel(derivation, reduction, dtype, printer, array_option)
            variant = f"{spec.array_option}_array" if array_option else "default"
            result.append(((spec.name, variant, reduction, dtype), fname, src))
    return result


# --------------------------------------------------------------------------- softmax cross-entropy
#
# Row-wise kernels. Per row: pass 1 reads the logits from memory once (the row max), pass 2
# stores e_j = exp(z_j − m) into a row buffer and sums them, pass 3 turns the cached e_j
# into the gradient row (with streaming stores when the gradient is large: 1.13–1.36× at
# 8192×1000, 512×32000 and 4096×2000 float32 in bench/bench_streaming.py). Pass 1 of row
# i + 1 runs inside pass 2 of row i, so that reading the next row from memory overlaps
# computing this row's exponentials (bench/bench_losses.py, 8192×1000 float32: 6.5 → 3.4 ms
# best with this, long blocks of rows and 512-bit vectors together); the weighted sums of
# label smoothing and probability targets take a pass of their own over the row, then in L1.
# The per-element and per-row formulas are derive's stable forms; the sums over j use their
# linearity in z_j and q_j.

CE_TARGETS = ("index", "prob")
_CE = {}  # symbols of derive.losses' softmax_ce kernel forms, looked up once


def _ce_symbols():
    if not _CE:
        from derive import losses as L

        _CE.update(zj=L.zj, m=L.m, s=L.s, qj=L.qj, onehot=L.onehot_j, eps=L.eps, C=L.C,
                   wj=L.wj, wq=L.wq, s_rest=L.s_rest, wq_rest=L.wq_rest)
    return _CE


def softmax_ce_source_expressions(derivation) -> list[tuple[str, sp.Expr]]:
    return sorted(dict(derivation.stable).items())


def _linear_in(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """(a, b) with expr = a·x + b, checked; so a row-constant a is hoisted out of the loop."""
    a, b = sp.diff(expr, x), expr.subs(x, 0)
    if a.has(x) or sp.expand(a * x + b - expr) != 0:
        raise NotImplementedError(f"softmax_ce: {sp.sstr(expr)} is not linear in {x}")
    return a, b


def _ce_forms(derivation) -> dict[str, sp.Expr]:
    """The kernel's scalar formulas, all from derivation.stable, in kernel-local symbols."""
    S = _ce_symbols()
    st = dict(derivation.stable)
    E, zc, Sa, Saz, wc, qk, wk, W, Wr = sp.symbols("e_k z_c sum_a sum_az w_c q_k w_k sum_w sum_w_r",
                                                   real=True)
    q = st["smoothed_target"]
    q_rest = q.subs(S["onehot"], 0)  # every class's smoothed target mass (ε/C)
    q_true = q.subs(S["onehot"], 1)  # the true class's ((1 − ε) + ε/C)
    nll = st["nll_term"]
    # Σ_j a_j ℓ_j for ℓ_j = α + β z_j (linear in z_j), α = lse = m + log(s):
    # (α − m) Σ a_j + Σ a_j (m + β z_j). Each m + β z_j = m − z_j ≥ 0 is summed as it is: as
    # α Σ a_j + β Σ a_j z_j, m cancels and takes a confident row's log(s) with it.
    beta_, alpha = _linear_in(nll, S["zj"])
    if sp.expand(alpha - st["lse"]) != 0:
        raise NotImplementedError(f"softmax_ce: {sp.sstr(nll)} is not lse + β z_j")
    LS = sp.Symbol("log_s", real=True)  # the kernel's log(s) (log1p(rest) on a confident row)
    wgrad = st["weighted_grad"].subs(st["shifted_exp"], E)
    if wgrad.has(S["zj"]):
        raise NotImplementedError("softmax_ce: weighted_grad is not a function of exp(z_j − m)")
    # The gradient is linear in e_k: its coefficient is a row constant (hoisted), the rest is
    # what the target adds per class.
    g_coef, g_rest = _linear_in(wgrad, E)
    return {
        "E": E, "shifted_exp": st["shifted_exp"], "lse": st["lse"],
        "nll_c": nll.subs(S["zj"], zc),
        # a confident row (s = 1 + r_s, r_s summed apart): lse, ℓ_c and the argmax's p − 1
        "lse_conf": st["lse_confident"],
        "nll_c_conf": st["nll_term_confident"].subs(S["zj"], zc),
        "g_argmax_conf": st["grad_argmax_confident"],
        # the argmax's p·wq − a with wq_r = Σ_{k≠argmax} a_k summed apart: a probability target
        # (the argmax's weight and target in wk, qk), and the label smoothed (Σ_{k≠c} w_k = sum_w_r)
        "g_argmax_conf_prob": st["weighted_grad_argmax_confident"].subs(
            {S["qj"]: q.subs(S["onehot"], qk), S["wj"]: wk}),
        "g_argmax_conf_true": st["weighted_grad_argmax_confident"].subs(
            {S["qj"]: q_true, S["wj"]: wc, S["wq_rest"]: q_rest * Wr}),
        "sum_nll": LS * Sa + Saz,  # Saz: Σ a_j (m + β z_j)
        "sum_nll_index": LS * W + Saz,  # a_j = w_j: Σ_j a_j = W
        "m_plus_beta_z": S["m"] + beta_ * S["zj"],
        "q_diff": q_true - q_rest, "q_rest": q_rest, "q_prob": q.subs(S["onehot"], qk),
        # index target: Σ_j w_j q_j = w_c q_true + q_rest Σ_{j≠c} w_j = w_c (q_true − q_rest) + q_rest W
        "wq_index": wc * (q_true - q_rest) + q_rest * W,
        "g_coef": g_coef,
        "g_rest_index": g_rest.subs({S["qj"]: q_rest, S["wj"]: wk}),
        "g_rest_true": g_rest.subs({S["qj"]: q_true, S["wj"]: wc}),
        "g_rest_prob": g_rest.subs({S["qj"]: q.subs(S["onehot"], qk), S["wj"]: wk}),
    }


def _ce_doc(derivation, target: str, reduction: str, dtype: str) -> str:
    st = dict(derivation.stable)
    zi = derivation.wrt[0]
    what = {
        ("index", "mean"): "sum of per-sample losses / Σ_n weight[target_n] over non-ignored "
                           "samples (PyTorch); grad of that",
        ("prob", "mean"): "sum of per-sample losses / N (PyTorch, probability targets); grad of that",
    }.get((target, reduction), {"sum": "sum of per-sample losses; its gradient",
                                "none": "per-sample losses into `loss`; grad of their sum"}.get(reduction))
    tgt = ("class indices `labels` (int64), ignore_index rows give 0" if target == "index"
           else "probabilities `target` (N, C)")
    lines = [
        f"Softmax cross-entropy, row by row: loss and gradient in one read ({target} targets, "
        f"{reduction}, {dtype}).",
        "",
        f"Derivation 'softmax_ce' (derivecli show-grad softmax_ce):",
        f"    L = {sp.sstr(derivation.expr)}",
        f"    dL/d{zi} = {sp.sstr(derivation.gradient(zi))}",
        "Kernel forms (stable: row max m subtracted, s = sum_k exp(z_k - m)):",
        *[f"    {k} = {sp.sstr(v)}" for k, v in sorted(st.items())],
        f"Targets: {tgt}; weight (C,), label_smoothing epsilon as PyTorch.",
        f"Reduction: {what}.",
    ]
    return "\n".join("    " + ln if ln else "" for ln in lines).lstrip()


def _row_pass(ind: str, loads: list[str], updates: list[tuple[str, str, str]],
              finals: list[str], zero: str, ninf: str) -> list[str]:
    """One pass over the row ``for k in range(C)`` that vectorizes.

    ``loads``: lines that read the element (``row[k]``, ``weight[k]``, ``trow[k]``);
    ``updates``: (accumulator, 'max' | 'sum', element expression), reduced with
    ``max_propagate_nan`` / ``add_reassoc`` (``codegen.numba_reduce``); ``finals``: extra lines
    after each element (e.g. a store into ``g[k]``).
    """
    o = [f"{ind}{acc} = {ninf if op == 'max' else zero}" for acc, op, _ in updates]
    o.append(f"{ind}for k in range(C):")
    o += [f"{ind}    {ln}" for ln in loads]
    o += [f"{ind}    {acc} = {'max_propagate_nan' if op == 'max' else 'add_reassoc'}({acc}, {e})"
          for acc, op, e in updates]
    o += [f"{ind}    {ln}" for ln in finals]
    return o



def label_pass(mean: bool) -> list[str]:
    """softmax_ce's one pass over the labels before the rows: every label is a class or
    ignore_index (a kernel reads weight[label] and the row's entry with it), and for the mean
    PyTorch's denominator, the weights of the non-ignored targets."""
    return ((["    denom = 0.0  # PyTorch: the weights of the non-ignored targets"] if mean else [])
            + ["    for i in range(N):  # every label is read with: a class or ignore_index",
               "        if labels[i] != ignore_index:",
               "            if labels[i] < 0 or labels[i] >= C:",
               "                label_error(i, labels[i], C, ignore_index)"]
            + (["            denom += weight[labels[i]]"] if mean else []))

def softmax_ce_kernel(derivation, target: str, reduction: str, dtype: str,
                      printer: NumbaPrinter) -> tuple[str, str]:
    S = _ce_symbols()
    F = _ce_forms(derivation)
    sfx = SUFFIX[dtype]
    fname = f"softmax_ce_{target}_{reduction}_{sfx}"
    saved = dict(printer.symbol_names)
    printer.symbol_names.update({
        str(S["zj"]): "zk", str(S["m"]): "mx", str(S["s"]): "s", str(S["eps"]): "eps",
        str(S["C"]): "n_classes", str(S["wq"]): "wq", "e_k": "ek", "z_c": "zc", "sum_a": "sum_a",
        "sum_az": "sum_amz", "log_s": "log_s", "w_c": "wc", "q_k": "qk", "w_k": "wk", "sum_w": "sum_w",
        str(S["s_rest"]): "rest", str(S["wq_rest"]): "wq_r", "sum_w_r": "sum_w_r"})
    P = printer.doprint
    try:
        one, zero, ninf = printer.constant(1), printer.constant(0), printer.constant(float("-inf"))
        shifted = P(F["shifted_exp"])
        # lse = m + log(s) and ℓ_c = (m − z_c) + log(s): m − z_c first, else a large m rounds
        # log(s)'s digits away (a confident row's log(s) is tiny). Checked to be derive's forms.
        log_s, log_s_conf = F["lse"] - S["m"], F["lse_conf"] - S["m"]
        for form, ls in ((F["nll_c"], log_s), (F["nll_c_conf"], log_s_conf)):
            if sp.expand(form - (S["m"] - sp.Symbol("z_c", real=True) + ls)) != 0:
                raise NotImplementedError(f"softmax_ce: {sp.sstr(form)} is not (m − z_c) + log(s)")
        log_s, log_s_conf = P(log_s), P(log_s_conf)
        g_conf = P(F["g_argmax_conf"])
        g_conf_prob, g_conf_true = P(F["g_argmax_conf_prob"]), P(F["g_argmax_conf_true"])
        s_confident = printer.constant(1.25)
        sum_nll = P(F["sum_nll" if target == "prob" else "sum_nll_index"])
        mz = P(F["m_plus_beta_z"])
        pr = {k: P(F[k]) for k in ("q_prob", "wq_index", "g_coef", "g_rest_index", "g_rest_true",
                                   "g_rest_prob", "q_diff", "q_rest")}
    finally:
        printer.symbol_names.clear()
        printer.symbol_names.update(saved)

    scaled = reduction != "none"
    sc = (lambda e: f"scale * ({e})") if scaled else (lambda e: e)
    if target == "index":
        params = "logits, labels, weight, ignore_index, label_smoothing"
    else:
        params = "logits, target, weight, label_smoothing"
    params += ", loss, grad" if reduction == "none" else ", grad"
    o = [f"@numba.njit(parallel=True, error_model=\"numpy\", fastmath=FASTMATH, cache=CACHE)",
         f"def {fname}({params}):",
         f'    """{_ce_doc(derivation, target, reduction, dtype)}\n    """',
         "    N, C = logits.shape",
         *size_checks(
             ([("labels", "labels.size", "N", "logits.shape[0]: a label per row")]
              if target == "index" else
              [("target", "target.shape[0]", "N", "logits.shape[0]: target has logits' shape"),
               ("target", "target.shape[1]", "C", "logits.shape[1]: target has logits' shape")])
             + [("weight", "weight.size", "C", "logits.shape[1]: a weight per class"),
                ("grad", "grad.shape[0]", "N", "logits.shape[0]: grad has logits' shape"),
                ("grad", "grad.shape[1]", "C", "logits.shape[1]: grad has logits' shape")]
             + ([("loss", "loss.size", "N", "logits.shape[0]: a loss per row")]
                if reduction == "none" else [])),
         *overlap_checks([("grad", "logits")]),
         *(label_pass(reduction == "mean") if target == "index" else []),
         f"    n_classes = np.{dtype}(C)",
         f"    eps = np.{dtype}(label_smoothing)",
         "    smoothing = label_smoothing > 0.0",
         f"    sum_w = {zero}",
         "    for k in range(C):",
         "        sum_w += weight[k]"]
    if reduction == "mean" and target != "index":
        o += ["    denom = float(N)"]
    if scaled:
        o.append(f"    scale = np.{dtype}(1.0 / denom) if denom != 0.0 else {zero}"
                 if reduction == "mean" else f"    scale = {one}")
    # The rows of one block run in a serial helper: the parallel driver only maps blocks
    # (Numba's parfor reduction analysis trips over the row loop's control flow).
    helper = f"_{fname}_rows"
    hparams = ("lo, hi, logits, " + ("labels, weight, ignore_index" if target == "index" else
                                      "target, weight") + ", eps, smoothing, n_classes, sum_w"
               + (", scale" if scaled else "") + (", loss, grad" if reduction == "none" else ", grad"))
    # Rows per block: long runs, since each row's max is read in the pass over the row before
    # it (bench/bench_softmax_blocks.py: 1.10× at 8192×1000, 1.13× at 512×32000 against
    # 2048-logit blocks), and 64
    # blocks or more to share between threads (numba.get_num_threads() here would stop Numba
    # caching the kernel). The serial twin runs all rows as one block.
    o += ["    rows = max(1, min(ROW_BLOCK // max(C, 1), N // 64))",
          "    nblocks = (N + rows - 1) // rows",
          "    partial = np.zeros(nblocks, np.float64)",
          "    for b in numba.prange(nblocks):",
          f"        partial[b] = {helper}(b * rows, min(b * rows + rows, N), "
          + hparams.split(", ", 2)[2] + ")"]
    if reduction == "mean":
        o.append("    return pairwise_sum(partial) / denom")
    elif reduction == "sum":
        o.append("    return pairwise_sum(partial)")
    driver = o
    max_pass = (lambda ind_, src: [f"{ind_}nrow = {src}"] + _row_pass(
        ind_, ["nk = nrow[k]"], [("mx_next", "max", "nk")], [], zero, ninf))
    o = ["@numba.njit(error_model=\"numpy\", fastmath=FASTMATH, cache=CACHE)",
         f"def {helper}({hparams}):",
         f'    """Rows lo..hi-1 of {fname}; returns the sum of their losses (float64)."""',
         "    wide_vectors()  # 512-bit vectors where the CPU has them",
         "    C = logits.shape[1]",
         "    total = 0.0",
         "    comp = 0.0  # the rounding errors of total's additions (Neumaier), added at the end",
         "    # g holds a row's e_j, never in the logits' memory: with the gradient written over",
         "    # the logits, LLVM would see the overlap and run pass 2 as a scalar loop, whose",
         "    # sequential float32 sum loses accuracy over long rows",
         f"    g = stack_buffer(grad, STREAM_ROW) if C <= STREAM_ROW else np.empty(C, np.{dtype})",
         "    # a large gradient is streamed out from g, so its old contents are never read from",
         "    # memory (stream_copy, stream_scale)",
         f"    stream = C <= STREAM_ROW and grad.size * {ITEMSIZE[dtype]} >= STREAM_MIN_BYTES",
         "    # pass 1, the row max m: here for the first row; each later row's is taken in the",
         "    # exp pass of the row before it, where its read from memory overlaps that computing",
         f"    mx_next = {ninf}",
         "    if lo < hi:",
         *max_pass("        ", "logits[lo]"),
         "    for i in range(lo, hi):",
         "        row = logits[i]",
         "        out = grad[i]",
         "        mx = mx_next",
         "        last = i + 1 == hi"]
    ind = " " * 8

    def pass3(ind_, loads, value, true_class=None, after=()):
        # The gradient row from e_j in g: straight into out, or (streaming) back into g and
        # then streamed out; separate loops, so no loop reads and writes arrays that may overlap.
        # ``after``: lines run once the row is in dst (``{dst}`` is filled in).
        def into(dst):
            return ([f"{ind_}    for k in range(C):", *[f"{ind_}        {ln}" for ln in loads],
                     f"{ind_}        {dst}[k] = {value}"]
                    + ([f"{ind_}    {dst}[c] = {true_class}"] if true_class else [])
                    + [f"{ind_}    {ln.format(dst=dst)}" for ln in after])
        return ([f"{ind_}if stream:", *into("g"), f"{ind_}    stream_copy(out, 0, g, C)",
                 f"{ind_}else:", *into("out")])

    if target == "index":
        o += [f"{ind}c = labels[i]",
              f"{ind}if c == ignore_index:",
              f"{ind}    for k in range(C):",
              f"{ind}        out[k] = {zero}"]
        if reduction == "none":
            o.append(f"{ind}    loss[i] = {zero}")
        o += [f"{ind}    if not last:",
              *max_pass(ind + "        ", "logits[i + 1]"),
              f"{ind}    continue",
              f"{ind}zc = row[c]  # read before out (which may be row) is written",
              f"{ind}wc = weight[c]",
              f"{ind}# with label smoothing, sum_amz = Σ w_j (m - z_j) for the ε/C Σ_j w_j ℓ_j term",
              f"{ind}sum_amz = {zero}",
              f"{ind}if smoothing:"]
        o += _row_pass(ind + "    ", ["zk = row[k]", "wk = weight[k]"],
                       [("sum_amz", "sum", f"wk * ({mz})")], [], zero, ninf)
    else:
        o += [f"{ind}trow = target[i]",
              f"{ind}# a_j = w_j q_j (q smoothed): sum_a = Σ a_j, sum_amz = Σ a_j (m - z_j)"]
        o += _row_pass(ind, ["zk = row[k]", "wk = weight[k]", "qk = trow[k]",
                             f"ak = wk * ({pr['q_prob']})"],
                       [("sum_a", "sum", "ak"), ("sum_amz", "sum", f"ak * ({mz})")], [], zero, ninf)
    o += [f"{ind}# pass 2: e_j = exp(z_j - m) <= 1 (stable: the row max subtracted), kept in g;",
          f"{ind}# and pass 1 of the next row (its max) in the same loop",
          f"{ind}if last:"]
    o += _row_pass(ind + "    ", ["zk = row[k]", f"ek = {shifted}"], [("s", "sum", "ek")],
                   ["g[k] = ek"], zero, ninf)
    o += [f"{ind}else:",
          f"{ind}    nrow = logits[i + 1]"]
    o += _row_pass(ind + "    ", ["zk = row[k]", f"ek = {shifted}", "nk = nrow[k]"],
                   [("s", "sum", "ek"), ("mx_next", "max", "nk")], ["g[k] = ek"], zero, ninf)
    # s = 1 + rest below 1.25 (only the row max has e_j = 1: a tie gives s >= 2): s rounds
    # rest's digits away, so rest is summed apart, from g in cache, for such rows only
    # and for probability targets so is the target mass off the row max, wq_r =
    # Σ_{k≠argmax} w_k q_k, for the argmax's gradient (1/s·wq − w q cancels the same way);
    # masked by a product (a select of ak on ek stops LLVM vectorizing the loop: 4x slower)
    o += [f"{ind}# a confident row: s = 1 + rest rounds rest's digits away; rest summed apart",
          f"{ind}confident = s < {s_confident}",
          f"{ind}rest = {zero}",
          f"{ind}if confident:"]
    rest_sum = ("rest", "sum", f"ek if ek < {one} else {zero}")
    if target == "index":  # with label smoothing, sum_w_r = Σ_{k≠argmax} w_k (ε/C times it)
        o += [f"{ind}    if smoothing:"]
        o += _row_pass(ind + "        ", ["ek = g[k]", "wk = weight[k]"],
                       [rest_sum, ("sum_w_r", "sum", f"wk * np.{dtype}(ek < {one})")],
                       [], zero, ninf)[1:]
        o += [f"{ind}    else:"]
        o += _row_pass(ind + "        ", ["ek = g[k]"], [rest_sum], [], zero, ninf)[1:]
    else:
        # and jm, the argmax (the one e_j = 1: a tie gives s >= 2), as an integer sum
        o += [f"{ind}    jm = 0"]
        o += _row_pass(ind + "    ", ["ek = g[k]", "wk = weight[k]", "qk = trow[k]",
                                      f"ak = wk * ({pr['q_prob']})"],
                       [rest_sum, ("wq_r", "sum", f"ak * np.{dtype}(ek < {one})")],
                       [f"jm += k * np.int64(ek == {one})"], zero, ninf)[1:]
        # the argmax's gradient, read before out (which may be the row or the target) is written
        o += [f"{ind}    wk = weight[jm]",
              f"{ind}    qk = trow[jm]",
              f"{ind}    gm = {sc(g_conf_prob)}"]
    o += [f"{ind}    log_s = {log_s_conf}",
          f"{ind}else:",
          f"{ind}    log_s = {log_s}",
          f"{ind}# lse = m + log(s); the loss is Σ_j w_j q_j (lse - z_j)",
          f"{ind}lse = mx + log_s"]
    if target == "index":
        o.append(f"{ind}nll_c = (mx - zc) + log_s  # m - z_c first: no digits of log(s) lost to m")
    if target == "index":
        o += [f"{ind}loss_i = wc * ({pr['q_diff']}) * nll_c",
              f"{ind}if smoothing:  # ε/C Σ_j w_j (lse - z_j); skipped at ε = 0 (-inf logits)",
              f"{ind}    loss_i += ({pr['q_rest']}) * ({sum_nll})",
              f"{ind}wq = {pr['wq_index']}",
              f"{ind}ec = g[c]",
              f"{ind}# pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)",
              f"{ind}coef = {sc(pr['g_coef'])}",
              f"{ind}gc = coef * ec + {sc(pr['g_rest_true'])}",
              f"{ind}if confident and ec == {one}:  # c is the row max",
              f"{ind}    if smoothing:",
              f"{ind}        gc = {sc(g_conf_true)}",
              f"{ind}    else:",
              f"{ind}        gc = {sc('wc * (' + g_conf + ')')}",
              f"{ind}if smoothing:",
              *pass3(ind + "    ", ["wk = weight[k]"], f"coef * g[k] + {sc(pr['g_rest_index'])}",
                     "gc"),
              f"{ind}elif stream:  # rest_j = 0 off the true class: scaled as it is written out",
              f"{ind}    stream_scale(out, g, C, coef, c, gc)",
              f"{ind}else:",
              f"{ind}    for k in range(C):",
              f"{ind}        out[k] = coef * g[k]",
              f"{ind}    out[c] = gc"]
    else:
        o += [f"{ind}loss_i = {sum_nll}",
              f"{ind}wq = sum_a",
              f"{ind}# pass 3: grad_j = coef e_j + rest_j (weighted_grad, linear in e_j)",
              f"{ind}coef = {sc(pr['g_coef'])}",
              *pass3(ind, ["wk = weight[k]", "qk = trow[k]"],
                     f"coef * g[k] + {sc(pr['g_rest_prob'])}",
                     after=["if confident:  # the argmax's gradient, summed apart", "    {dst}[jm] = gm"])]
    if reduction == "none":
        o.append(f"{ind}loss[i] = loss_i")
    else:
        # compensated: a block (the serial twin's is every row) adds up to N losses in order,
        # whose rounding errors grew with the row count (float64, a mean over 4M rows: 237–445
        # ULP off math.fsum's serially, 2–7 ULP in parallel blocks; 0–1 compensated)
        o += [f"{ind}t = total + loss_i",
              f"{ind}comp += ((total - t) + loss_i) if abs(total) >= abs(loss_i) else "
              "((loss_i - t) + total)",
              f"{ind}total = t"]
    # an infinite or NaN total: comp is NaN (inf − inf), and total is the answer
    o.append("    return total + comp if math.isfinite(total) else total")
    # The serial twin: the same driver on one thread (range for prange), for small inputs
    # where waking the thread pool costs more than the rows (a training step's head).
    serial = [driver[0].replace("parallel=True, ", ""),
              driver[1].replace(f"def {fname}(", f"def {fname}_serial("),
              f'    """{fname} on the calling thread only (same arguments and result)."""',
              *[("    rows = max(1, N)" if ln.startswith("    rows = ") else
                ln.replace("numba.prange(", "range(")) for ln in driver[3:]]]
    return fname, ("\n".join(o) + "\n\n\n" + "\n".join(driver) + "\n\n\n"
                   + "\n".join(serial) + "\n")


def softmax_ce_kernels(derivation, dtype: str, printer: NumbaPrinter) -> list[tuple[tuple, str, str]]:
    """[(key, function name, source)]: per target and reduction the parallel kernel (its source
    also holds the row helper and the serial twin, keyed with the target + "_serial")."""
    out = []
    for target in CE_TARGETS:
        for reduction in REDUCTIONS:
            fname, src = softmax_ce_kernel(derivation, target, reduction, dtype, printer)
            out.append((("softmax_ce", target, reduction, dtype), fname, src))
            out.append((("softmax_ce", f"{target}_serial", reduction, dtype), f"{fname}_serial", ""))
    return out
