"""Gradient checking by central differences in float64, like torch.autograd.gradcheck.

``fn(*inputs)`` returns ``(output, gradient)``:

- a scalar output and its gradient (one array per checked input; a bare array for one), or
- any output and a vector-Jacobian product ``vjp(upstream) -> gradients`` (what a backward
  pass computes), which is called once per output entry to build the analytic Jacobian.

Every floating-point array among ``inputs`` is checked (``wrt`` picks a subset by position;
the gradients are always in input order);
other inputs, e.g. integer labels, are passed through. The analytic and numeric Jacobians must
agree entry by entry within ``atol + rtol·|numeric|`` (torch's criterion); on failure the error
names the worst entry: input, index, analytic and numeric values.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["gradcheck", "GradcheckError", "Mismatch", "numeric_jacobian"]


@dataclass(frozen=True)
class Mismatch:
    input: int  # position in ``inputs``
    index: tuple  # entry of that input
    output: tuple  # entry of the output (() for a scalar output)
    analytic: float
    numeric: float
    excess: float  # |analytic − numeric| − (atol + rtol·|numeric|); > 0 means it fails


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with central differences; ``.worst`` says where."""

    def __init__(self, worst: Mismatch, atol: float, rtol: float, failures: int, total: int):
        self.worst = worst
        out = f", output {worst.output}" if worst.output else ""
        super().__init__(
            f"gradcheck failed: {failures} of {total} Jacobian entries differ; worst at input "
            f"{worst.input}, index {worst.index}{out}: analytic {worst.analytic:.10g}, numeric "
            f"{worst.numeric:.10g} (|difference| {abs(worst.analytic - worst.numeric):.3g} > "
            f"atol + rtol·|numeric| = {atol + rtol * abs(worst.numeric):.3g})")


def _output_array(out):
    return np.asarray(out, dtype=np.float64)


def _call(fn, inputs):
    result = fn(*inputs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError("fn must return (output, gradient or vjp), got "
                        f"{type(result).__name__}")
    return result


def numeric_jacobian(fn, inputs, wrt, eps):
    """Central-difference Jacobians, one (output size, input size) matrix per checked input."""
    jacobians = []
    for k in wrt:
        x = inputs[k]
        columns = []
        # Entries in C order (the gradients' reshape(-1) order), set in x itself whatever its
        # layout: x.reshape(-1) of an F-ordered or strided x is a copy fn would never see.
        for j in np.ndindex(x.shape):
            saved = x[j]
            x[j] = saved + eps
            plus = _output_array(_call(fn, inputs)[0]).reshape(-1).copy()
            x[j] = saved - eps
            minus = _output_array(_call(fn, inputs)[0]).reshape(-1).copy()
            x[j] = saved
            columns.append((plus - minus) / (2 * eps))
        if not columns:  # an empty input: no columns, as many rows as the output has entries
            rows = _output_array(_call(fn, inputs)[0]).size
            jacobians.append(np.zeros((rows, 0)))
            continue
        jacobians.append(np.stack(columns, axis=1))
    return jacobians


def _as_grads(grads, wrt, inputs, what):
    if not isinstance(grads, (tuple, list)):  # a bare array is one gradient
        grads = (grads,)
    grads = list(grads)
    if len(grads) == len(inputs) and len(wrt) != len(inputs):
        grads = [grads[k] for k in wrt]  # one per input given; keep the checked ones
    if len(grads) != len(wrt):
        raise ValueError(f"{what} returned {len(grads)} gradients for {len(wrt)} checked inputs")
    out = []
    for g, k in zip(grads, wrt):
        # a copy: fn may return a buffer it overwrites on the next call (the numeric ones)
        g = np.zeros(inputs[k].shape) if g is None else np.array(g, dtype=np.float64)
        if g.shape != inputs[k].shape:
            raise ValueError(f"{what}: gradient for input {k} has shape {g.shape}, "
                             f"expected {inputs[k].shape}")
        out.append(g.reshape(-1))
    return out


def analytic_jacobian(fn, inputs, wrt):
    output, grad = _call(fn, inputs)
    output = _output_array(output)
    if not callable(grad):
        if output.size != 1:
            raise ValueError(f"fn returned an output of shape {output.shape} with gradients, "
                             "not a vjp; a non-scalar output needs vjp(upstream)")
        return [g[None, :] for g in _as_grads(grad, wrt, inputs, "fn")], output.shape
    rows = [[] for _ in wrt]
    for j in range(output.size):
        upstream = np.zeros(output.size)
        upstream[j] = 1.0
        for r, g in zip(rows, _as_grads(grad(upstream.reshape(output.shape)), wrt, inputs, "vjp")):
            r.append(g)
    return [np.stack(r) if r else np.zeros((0, inputs[k].size)) for r, k in zip(rows, wrt)], \
        output.shape


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              wrt=None, raise_exception: bool = True) -> bool:
    """True when ``fn``'s analytic gradient matches central differences in float64.

    Raises :class:`GradcheckError` naming the worst entry (or returns False when
    ``raise_exception=False``).
    """
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(v, (bool, np.bool_)) or not (isinstance(v, numbers.Real) and v >= 0) \
                or (name == "eps" and not 0 < v < float("inf")):  # inf: numeric NaN
            raise ValueError(f"{name} must be a {'positive' if name == 'eps' else 'non-negative'} "
                             f"number, got {v!r}")
    single = isinstance(inputs, np.ndarray) or np.isscalar(inputs)
    inputs = [inputs] if single else list(inputs)
    for k, x in enumerate(inputs):
        if np.asarray(x).dtype.kind == "c":  # passing it through unchecked would pass vacuously
            raise TypeError(f"inputs[{k}] has dtype {np.asarray(x).dtype}: complex inputs are not "
                            f"supported (check the real and imaginary parts as real inputs)")
    # float64 copies of the floating inputs: the differences need the precision, and the
    # caller's arrays are never perturbed.
    inputs = [np.array(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else x
              for x in inputs]
    floating = [k for k, x in enumerate(inputs) if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    if wrt is None:
        wrt = floating
    else:
        # Positions, in input order (the order fn returns the gradients in), each once.
        picks = [wrt] if isinstance(wrt, numbers.Integral) else list(wrt)
        for k in picks:
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) \
                    or k not in floating:
                raise ValueError(f"wrt={k!r}: input {k} is not a floating-point array")
        wrt = sorted(set(int(k) for k in picks))
    if not wrt:  # torch: "at least one input tensor to require gradient"
        raise ValueError("gradcheck has no floating-point input to check (integer inputs are "
                         "passed through; give at least one float array)")

    analytic, out_shape = analytic_jacobian(fn, inputs, wrt)
    numeric = numeric_jacobian(fn, inputs, wrt, eps)
    worst, failures, total = None, 0, 0
    for k, a, n in zip(wrt, analytic, numeric):
        if a.shape != n.shape:
            raise ValueError(f"output size changed between calls: {a.shape} vs {n.shape}")
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        excess = np.where(np.isnan(excess), np.inf, excess)  # NaN never passes
        failures += int(np.count_nonzero(excess > 0))
        total += excess.size
        if excess.size:
            o, i = np.unravel_index(int(np.argmax(excess)), excess.shape)
            if worst is None or excess[o, i] > worst.excess:
                worst = Mismatch(k, tuple(int(v) for v in np.unravel_index(i, inputs[k].shape)),
                                 tuple(int(v) for v in np.unravel_index(o, out_shape)),
                                 float(a[o, i]), float(n[o, i]), float(excess[o, i]))
    if failures:
        if raise_exception:
            raise GradcheckError(worst, atol, rtol, failures, total)
        return False
    return True
