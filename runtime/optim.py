"""Optimizers constructed like ``torch.optim``, stepping NumPy arrays with fused generated kernels.

``SGD``, ``Adagrad``, ``RMSprop``, ``Adam`` and ``AdamW`` take the same keyword names and
defaults as ``torch.optim`` and follow its update rules step for step (derive/optim.py holds the
rules; runtime/generated/numba_optim.py the kernels printed from them)::

    opt = runtime.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    opt.step(grads)  # updates every array of params in place

``params`` is a float32/float64 array, a list of them (C-contiguous and writeable: each is
updated in place through a flat view), or a list of param-group dicts as in torch
(``{"params": [...], "lr": ...}``); ``opt.param_groups[k]["params"]`` then holds the
parameters' positions in that flattened list (as torch's state dicts do), not the arrays, and
editing a group's options between steps takes effect as in torch. ``grads`` has the same
structure as the flattened params (one array per parameter, same shape and dtype; ``None``
skips a parameter, as a missing ``.grad`` does in torch). There is no ``zero_grad``: gradients
are passed in, not accumulated. A gradient must not share memory with any parameter or
optimizer state (not even be the parameter itself), and parameters must not share memory with
one another: ValueError naming both, checked when an array is first seen, not at every step.
``maximize=True`` (per group, as in torch) ascends: the gradient is negated into a copy first,
so such a group pays one extra pass and no cached plan. ``capturable`` and ``differentiable``
(CUDA graphs, autograd through the step) raise NotImplementedError; ``foreach``/``fused`` are
accepted and ignored (the kernels are always fused).

One kernel call per parameter reads the parameter, its gradient and its state once and writes
them once. When the parameters of a group are consecutive views of one flat buffer, and the
gradients too, the whole group is one kernel call (the state of a group is allocated as one
flat buffer per dtype, in parameter order). Arrays of at least ``PARALLEL_MIN`` elements use
the parallel kernel (Numba threads), smaller ones the serial kernel.

Each step's kernel calls are kept per group: when the next step passes the same gradient
array objects (and no state was allocated since), they are called again without checking or
re-slicing anything, so per-layer views of one flat buffer step as fast as the buffer itself.
Any other array is checked in full (type, shape, dtype; contiguity and placement for the span).

CuPy parameters are updated on the device by the same rules' CUDA kernels
(runtime/generated/cupy_optim.py, through ``runtime.cuda_dispatch.optimizer_step``): their
gradients must be CuPy arrays, their state is allocated on the device and stays there
(``state_dict`` returns device copies), and a step reads nothing back to the host. NumPy and
CuPy parameters may share an optimizer; each runs on its own side.

``state_dict()`` returns copies, in torch's layout (``{"state": {index: {"step": int,
"exp_avg": array, ...}}, "param_groups": [{..., "params": [indices]}]}``, with torch's state
keys); ``load_state_dict`` also accepts a torch optimizer's state dict (tensors are converted),
with torch's rules: Adam takes the groups' ``decoupled_weight_decay`` (an AdamW state dict makes
it step as AdamW), AdamW stays decoupled; a switch missing from a saved group (an older torch's
dict) takes torch's fallback (``fallbacks``: decoupled_weight_decay, maximize, ... False), not
this optimizer's setting. ``add_param_group`` adds a group as in torch.
"""
from __future__ import annotations

import bisect
import contextlib
import math
import numbers

import numba
import numpy as np

from . import validate
from .generated import numba_optim as _gen
from .threads import KERNELS_MIN_ELEMENTS

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "PARALLEL_MIN",
           "set_flush_denormal", "flush_denormal"]

#: Arrays at least this long are updated by the parallel kernel (below: no thread wake-up cost);
#: the threshold runtime.threads measured for elementwise kernels. A thread plan that leaves
#: Numba one thread (runtime.threads.using) keeps every update serial.
PARALLEL_MIN = KERNELS_MIN_ELEMENTS
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_DTYPE_NAME = {dt: dt.name for dt in FLOAT_DTYPES}  # dtype.name is slow to compute per call

# torch.optim keywords accepted for drop-in use: the kernels are always fused, so foreach/fused
# change nothing; the others would change the rule and are not implemented.
_IGNORED = ("foreach", "fused")
_UNSUPPORTED = ("capturable", "differentiable")  # CUDA graphs and autograd: none here


_flush = False  # set_flush_denormal's mode, passed to every host update kernel


def set_flush_denormal(mode: bool) -> bool:
    """Store subnormal results of the CPU update kernels as 0 (``mode=True``), as
    ``torch.set_flush_denormal(True)`` makes the CPU do; returns True (the kernels do it
    themselves, so every CPU supports it). Off by default, as in torch.

    Why: a unit whose gradient stays 0 (a dead ReLU) keeps a momentum (or Adam's exp_avg)
    that decays by 0.9 a step into the subnormal range and sticks there (0.9 × the smallest
    subnormal rounds back to it); x86 takes a slow assist on each such element at every
    later step. bench/bench_denormal.py measures the training steps before and after.
    Flushing changes only values below the smallest normal number (1.2e-38 in float32):
    a parameter moves by lr × such a value, far below its own rounding. With ``eps=0``
    (Adam, RMSprop, Adagrad) a flushed second moment of 0 divides by 0, as in torch with
    flushing on. CuPy parameters are not affected (the CUDA kernels run unchanged).
    ``runtime.train.fit`` turns it on while it trains (``flush_denormal=True``).
    """
    global _flush
    if not isinstance(mode, (bool, np.bool_)):
        raise TypeError(f"mode must be a bool, got {mode!r}")
    _flush = bool(mode)
    return True


@contextlib.contextmanager
def flush_denormal(mode: bool = True):
    """``set_flush_denormal(mode)`` inside a ``with`` block; the previous mode afterwards."""
    before = _flush
    set_flush_denormal(mode)
    try:
        yield
    finally:
        set_flush_denormal(before)


def _parallel(n: int) -> bool:
    return n >= PARALLEL_MIN and numba.get_num_threads() > 1


def _check_number(name: str, value, lo=0.0, hi=None, hi_open=True) -> None:
    """ValueError naming ``name`` unless lo <= value (< or <= hi); NaN always fails."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    ok = value >= lo and (hi is None or (value < hi if hi_open else value <= hi))
    if not ok:
        bound = f"in [{lo}, {hi})" if hi is not None else f">= {lo}"
        raise ValueError(f"{name}={value!r} is invalid: {name} must be {bound}")


def _is_device(a) -> bool:
    """A CuPy array (decided from the type: CuPy is imported only when one is passed)."""
    return validate.array_module_name(a) == "cupy"


def _is_array(a) -> bool:
    return isinstance(a, np.ndarray) or _is_device(a)


def _xp():
    """The device array module (cupy; a stand-in in the host emulation tests)."""
    from . import cuda_dispatch

    return cuda_dispatch.launcher().xp


def _as_param(p, where: str) -> bool:
    """Check a parameter; True when it lives on the device (a CuPy array)."""
    dev = _is_device(p)
    if not dev and not isinstance(p, np.ndarray):
        raise TypeError(f"{where} is a {type(p).__name__}; expected a NumPy or CuPy "
                        f"float32/float64 array")
    if p.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{where} has dtype {p.dtype}; expected float32 or float64")
    if not p.flags.c_contiguous:
        mod = "cupy" if dev else "np"
        raise ValueError(f"{where} is not C-contiguous: it is updated in place through a flat "
                         f"view (pass {mod}.ascontiguousarray(p) and keep that array)")
    if not dev and not p.flags.writeable:
        raise ValueError(f"{where} is read-only; the optimizer updates it in place")
    return dev


def _address(a) -> int:
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr  # CuPy: a MemoryPointer


def _bounds(a):
    """[lo, hi): the byte addresses a's elements occupy; None for an empty array."""
    if a.size == 0:
        return None
    lo = hi = _address(a)
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


def _shares(a, b) -> bool:
    """Whether a and b (whose byte bounds overlap) share an element: exact for NumPy,
    the bounds for CuPy (the parameter side is always contiguous)."""
    return not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or np.shares_memory(a, b)


def _root(a):
    while isinstance(a.base, np.ndarray) or (a.base is not None and _is_device(a.base)):
        a = a.base
    return a


def _span(arrays):
    """One flat view covering ``arrays`` when they lie back to back in one buffer, else None."""
    if not arrays:
        return None
    dt, root = arrays[0].dtype, _root(arrays[0])
    if not root.flags.c_contiguous or root.dtype != dt:
        return None
    start = pos = None
    for a in arrays:
        if a.dtype != dt or not a.flags.c_contiguous or _root(a) is not root:
            return None
        at = _address(a)
        if pos is None:
            start = pos = at
        elif at != pos:
            return None
        pos += a.nbytes
    offset = (start - _address(root)) // dt.itemsize
    return root.reshape(-1)[offset:offset + (pos - start) // dt.itemsize]


class Optimizer:
    """Base class: param groups, state, kernel dispatch, state_dict (see the module docstring)."""

    family = ""  # the rule family in the generated module ("sgd", "adam", ...)
    # What torch's __setstate__ puts in a loaded group that lacks the option (an older torch's
    # state dict), instead of this optimizer's own setting.
    fallbacks = {"maximize": False}

    def __init__(self, params, defaults: dict, extra: dict):
        for key in _UNSUPPORTED:
            if extra.get(key):
                raise NotImplementedError(f"{type(self).__name__}({key}=True) is not supported "
                                          f"by the fused kernels")
        unknown = set(extra) - set(_IGNORED) - set(_UNSUPPORTED) - {"maximize"}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{', '.join(sorted(unknown))}")
        # maximize: torch negates the gradient before anything else; so do we (one copy).
        self.defaults = {**defaults, "maximize": bool(extra.get("maximize", False))}
        self._validate(self.defaults, "")
        self._single = _is_array(params)
        if self._single:
            params = [params]
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params must be an array, or an iterable of arrays or of param-group "
                            f"dicts, got {type(params).__name__}") from None
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups: list[dict] = []
        self._params: list = []
        self._spans: list[tuple] = []  # (on device, lo, hi, index): parameter memory, sorted
        self._regions = None  # (key, sorted memory of parameters and state): see _check_overlaps
        self._device: list[bool] = []  # per parameter: a CuPy array (its updates run on the device)
        for gi, group in enumerate(params):
            self._add_group(group, gi)
        self.state: dict[int, dict] = {}
        # Per group, the kernel calls of the last step (see _step_group), valid while the same
        # gradient arrays come back and no state was (re)allocated (_version counts that).
        self._plans: dict[int, dict] = {}
        self._version = 0
        self._checked: list | None = None  # the gradient arrays step() validated last

    # ------------------------------------------------------------------ groups and checks

    def add_param_group(self, param_group: dict) -> None:
        """Add a group as torch.optim does: options it leaves out come from the defaults; a
        parameter already in the optimizer is refused (ValueError). Its state is allocated
        at its first step; step() then takes one gradient per parameter of all groups."""
        self._add_group(param_group, len(self.param_groups))
        self._checked = None  # the next gradient list is longer: check all of it

    def _add_group(self, group: dict, gi: int) -> None:
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"param group {gi} must be a dict with a 'params' entry")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"param group {gi} has unknown option(s) {sorted(unknown)}; "
                             f"valid: {', '.join(self.defaults)}")
        ps = group["params"]
        ps = [ps] if _is_array(ps) else list(ps)
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._validate(full, f"param group {gi}: ")
        indices, spans = [], list(self._spans)
        for p in ps:
            where = f"params[{len(self._params) + len(indices)}]"
            dev = _as_param(p, where)
            if any(p is q for q in self._params):
                raise ValueError(f"{where}: some parameters appear in more than one parameter group")
            if any(p is ps[k] for k in range(len(indices))):
                raise ValueError(f"{where}: param group {gi} lists this parameter twice (torch "
                                 f"warns and steps it twice); list each parameter once")
            b = _bounds(p)
            if b is not None:  # a parameter sharing memory with another would be updated twice
                key = (dev, b[0], b[1], len(self._params) + len(indices))
                k = bisect.bisect_left(spans, key)
                for other in spans[max(k - 1, 0):k + 1]:
                    if other[0] == dev and other[1] < b[1] and b[0] < other[2]:
                        raise ValueError(f"{where} shares memory with params[{other[3]}]: each "
                                         f"parameter is updated in place and must have memory "
                                         f"of its own (pass one of them, or a copy)")
                spans.insert(k, key)
            indices.append(len(self._params) + len(indices))
        # only now, when every parameter of the group passed: a failed group leaves nothing
        self._spans = spans
        for p in ps:
            self._params.append(p)
            self._device.append(_is_device(p))
        full["params"] = indices
        self.param_groups.append(full)

    def _validate(self, h: dict, where: str) -> None:
        _check_number(where + "lr", h["lr"])
        _check_number(where + "weight_decay", h["weight_decay"])

    def _options(self, group: dict) -> dict:
        """The compile-time switches of the rule this group runs."""
        raise NotImplementedError

    def _hyper(self, group: dict) -> dict:
        """The rule's hyper-parameters by keyword (betas become beta1, beta2)."""
        h = {k: v for k, v in group.items() if k != "params"}
        if "betas" in h:
            h["beta1"], h["beta2"] = h.pop("betas")
        return h

    def _family(self, group: dict) -> str:
        return self.family

    def _rule_name(self, group: dict) -> str:
        return _RULE_NAMES[(self._family(group), tuple(sorted(self._options(group).items())))]

    def _rule(self, group: dict) -> dict:
        return _gen.RULES[self._rule_name(group)]

    def _check_grads(self, grads) -> None:
        for i, g in enumerate(grads):
            if g is None:
                continue
            p = self._params[i]
            host = type(g) is np.ndarray  # the common case, without the module-name test
            if (host and self._device[i]) or (not host and (self._device[i] != _is_device(g)
                                                            or not _is_array(g))):
                kind = "CuPy" if self._device[i] else "NumPy"
                raise TypeError(f"grads[{i}] is a {type(g).__module__}.{type(g).__name__}; "
                                f"params[{i}] is a {kind} array, so its gradient must be one "
                                f"too (nothing is copied between host and device)")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}")
            if g.dtype != p.dtype:
                raise TypeError(f"grads[{i}] has dtype {g.dtype} but params[{i}] has dtype {p.dtype}")
        self._check_overlaps(grads)

    def _memory(self):
        """Sorted (on device, lo, hi, what, array) of every parameter and state array, rebuilt
        when the state or the parameters changed. They never overlap one another (parameters
        are checked when added, state is allocated, or copied when loaded)."""
        key = (self._version, len(self._params))
        if self._regions is None or self._regions[0] != key:
            regions = []
            for i, p in enumerate(self._params):
                arrays = [(f"params[{i}]", p)]
                arrays += [(f"the optimizer state {k!r} of params[{i}]", v)
                           for k, v in self.state.get(i, {}).items() if _is_array(v)]
                for what, a in arrays:
                    b = _bounds(a)
                    if b is not None:
                        regions.append((self._device[i], b[0], b[1], what, a))
            regions.sort(key=lambda r: r[:3])
            # Buffers that own their memory overlap only through views of themselves: when
            # all of ours do, a gradient whose own buffer is another one needs no address.
            roots = [_root(r[4]) for r in regions if not r[0]]
            owned = {id(r) for r in roots} if all(r.flags.owndata for r in roots) else None
            self._regions = (key, [r[:2] for r in regions], regions, owned)
        return self._regions[1:]

    def _check_overlaps(self, grads) -> None:
        """A gradient must not share memory with a parameter or the state: the kernels write
        them while reading it (a shifted view would be read after it is written; even the
        parameter itself as its gradient gives an order-dependent AdamW step). Run when new
        gradient arrays arrive, not at every step: O(log n) per gradient."""
        starts, regions, owned = self._memory()
        for i, g in enumerate(grads):
            if owned is not None and type(g) is np.ndarray:
                root = _root(g)
                if root.flags.owndata and id(root) not in owned:
                    continue  # its own allocation, none of ours
            b = None if g is None else _bounds(g)
            if b is None:
                continue
            dev = self._device[i]
            k = max(bisect.bisect_right(starts, (dev, b[0])) - 1, 0)
            while k < len(regions) and regions[k][:2] < (dev, b[1]):
                r = regions[k]
                if r[0] == dev and r[2] > b[0] and r[1] < b[1] and _shares(g, r[4]):
                    raise ValueError(
                        f"grads[{i}] shares memory with {r[3]}; a gradient must not alias a "
                        f"parameter or optimizer state, which the update writes while reading "
                        f"it: pass a copy (g.copy())")
                k += 1

    # ------------------------------------------------------------------ state

    def _full(self, i: int, n: int, fill, dt):
        """A state buffer beside parameter ``i``: on the device for a CuPy parameter."""
        return (_xp() if self._device[i] else np).full(n, fill, dtype=dt)

    def _init_state(self, group: dict, rule: dict) -> None:
        """Allocate the group's state: one flat buffer per key, place and dtype, a view per parameter."""
        self._version += 1
        h = self._hyper(group)
        fills = rule["init"](**{k: h[k] for k in rule["hyper"]})
        missing = [i for i in group["params"] if i not in self.state]
        kinds = dict.fromkeys((self._device[i], self._params[i].dtype) for i in missing)
        for dev, dt in kinds:
            idx = [i for i in missing if (self._device[i], self._params[i].dtype) == (dev, dt)]
            total = sum(self._params[i].size for i in idx)
            buffers = {key: self._full(idx[0], total, fill, dt)
                       for key, fill in zip(rule["state"], fills)}
            pos = 0
            for i in idx:
                n = self._params[i].size
                self.state[i] = {"step": 0, **{k: b[pos:pos + n] for k, b in buffers.items()}}
                pos += n

    def _ensure_keys(self, i: int, rule: dict, fills) -> None:
        """A state key the rule needs but the parameter lacks (e.g. momentum switched on)."""
        for key, fill in zip(rule["state"], fills):
            if key not in self.state[i]:
                self._version += 1
                p = self._params[i]
                self.state[i][key] = self._full(i, p.size, fill, p.dtype)
                self.state[i].setdefault("_fresh", set()).add(key)

    def _kernel_step(self, i: int, h: dict) -> int:
        """The step count the scalars are computed for (after incrementing)."""
        return self.state[i]["step"]

    def _after_step(self, live) -> None:
        """Hook run after the first step of a plan (SGD: momentum buffers are no longer fresh)."""

    # ------------------------------------------------------------------ stepping

    def step(self, grads) -> None:
        """One update of every parameter with a gradient, in place."""
        if self._single and _is_array(grads):
            grads = [grads]
        grads = list(grads)
        if len(grads) != len(self._params):
            raise ValueError(f"got {len(grads)} gradients for {len(self._params)} parameters")
        # Arrays checked at the last step are not checked again (holding them keeps them
        # the same objects); any other array is.
        last = self._checked
        if last is None or any(g is not h for g, h in zip(grads, last)):
            self._check_grads(grads)
            self._checked = grads
        if any(group["maximize"] for group in self.param_groups):
            grads = list(grads)
            for group in self.param_groups:
                if group["maximize"]:
                    for i in group["params"]:
                        grads[i] = None if grads[i] is None else -grads[i]
        for gi, group in enumerate(self.param_groups):
            self._step_group(gi, group, grads)

    def _step_group(self, gi: int, group: dict, grads) -> None:
        name = self._rule_name(group)
        rule = _gen.RULES[name]
        h = self._hyper(group)
        hyper = {k: h[k] for k in rule["hyper"]}
        plan = self._plans.get(gi)
        if plan is not None and plan["rule"] == name and plan["version"] == self._version:
            calls = self._replan_grads(plan, group, grads)
            if calls is not None:  # the same kernel calls as the last step: no per-parameter work
                state = self.state
                for i in plan["live"]:
                    state[i]["step"] += 1
                memo = {}
                for i, dev, arrays in calls:
                    self._call(name, rule, dev, arrays, self._kernel_step(i, h), hyper, memo)
                return
        self._plans.pop(gi, None)
        live = [i for i in group["params"] if grads[i] is not None]
        if not live:
            return
        if any(i not in self.state for i in live):
            self._init_state(group, rule)
        fills = rule["init"](**hyper)
        for i in live:
            self._ensure_keys(i, rule, fills)
            self.state[i]["step"] += 1
        calls = self._plan_calls(rule, live, grads, h)
        memo = {}
        for i, dev, arrays in calls:
            self._call(name, rule, dev, arrays, self._kernel_step(i, h), hyper, memo)
        self._after_step(live)
        if all(grads[i].flags.c_contiguous for i in live):  # the calls hold views, not copies
            self._plans[gi] = {"rule": name, "version": self._version, "live": live,
                               "grads": [grads[i] for i in group["params"]], "calls": calls}

    def _plan_calls(self, rule: dict, live, grads, h: dict) -> list:
        """[(index for the step count, on device, kernel arrays)]: one call for the group when
        parameters, gradients and each state key are one span (same place, same step count)."""
        steps = {self._kernel_step(i, h) for i in live}
        devs = {self._device[i] for i in live}
        if len(live) > 1 and len(steps) == 1 and len(devs) == 1:
            spans = [_span([self._params[i] for i in live]), _span([grads[i] for i in live])]
            spans += [_span([self.state[i][k] for i in live]) for k in rule["state"]]
            if all(s is not None for s in spans):
                return [(live[0], devs.pop(), spans)]
        calls = []
        for i in live:
            g = grads[i]
            if not g.flags.c_contiguous:  # a copy (on the gradient's side of the bus)
                g = (_xp() if self._device[i] else np).ascontiguousarray(g)
            arrays = [self._params[i].reshape(-1), g.reshape(-1)]
            arrays += [self.state[i][k] for k in rule["state"]]
            calls.append((i, self._device[i], arrays))
        return calls

    def _replan_grads(self, plan: dict, group: dict, grads):
        """The plan's calls for these gradients, or None when the plan does not fit them."""
        old = plan["grads"]
        new = [grads[i] for i in group["params"]]
        if all(a is b for a, b in zip(new, old)):
            return plan["calls"]
        if any((a is None) != (b is None) for a, b in zip(new, old)):
            return None
        live = [grads[i] for i in plan["live"]]  # already validated by step()
        if not all(g.flags.c_contiguous for g in live):
            return None
        calls = plan["calls"]
        if len(calls) == 1 and len(live) > 1:
            span = _span(live)
            if span is None:
                return None
            calls = [(calls[0][0], calls[0][1], [calls[0][2][0], span, *calls[0][2][2:]])]
        else:
            calls = [(i, dev, [arrays[0], g.reshape(-1), *arrays[2:]])
                     for (i, dev, arrays), g in zip(calls, live)]
        plan["grads"], plan["calls"] = new, calls
        return calls

    def _call(self, name: str, rule: dict, dev: bool, arrays, t: int, hyper: dict,
              memo: dict | None = None) -> None:
        dt = arrays[0].dtype
        scalars = memo.get((t, dt)) if memo is not None else None
        if scalars is None:  # the same for every parameter of a group at one step count
            scalars = [dt.type(x) for x in rule["scalars"](t, **hyper)]
            if memo is not None:
                memo[(t, dt)] = scalars
        if dev:
            from . import cuda_dispatch

            cuda_dispatch.optimizer_step(name, arrays[0], arrays[1], arrays[2:], scalars)
        else:
            rule["kernels"][(_DTYPE_NAME[dt], _parallel(arrays[0].shape[0]))](*arrays, *scalars,
                                                                              _flush)

    # ------------------------------------------------------------------ state dicts

    def state_dict(self) -> dict:
        """Copies of the state (on the device for CuPy parameters), and the groups' options
        with parameter indices (torch's layout)."""
        state = {}
        for i, s in sorted(self.state.items()):
            if s["step"] == 0:  # allocated with its group, never stepped: nothing to save
                continue
            state[i] = {k: (v.reshape(self._params[i].shape).copy() if _is_array(v) else v)
                        for k, v in s.items() if not k.startswith("_")}
        groups = [{k: (list(v) if k == "params" else v) for k, v in g.items()} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load options and state saved by ``state_dict`` (ours, or a torch optimizer's)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        for gi, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"loaded parameter group {gi} has {len(saved['params'])} "
                                 f"parameters, the optimizer's has {len(mine['params'])}")
        new_groups = []
        for saved, mine in zip(groups, self.param_groups):
            group = {**mine, **self.fallbacks}
            group.update({k: (tuple(v) if k == "betas" else v) for k, v in saved.items()
                          if k in self.defaults})
            self._loaded_group(group)
            self._validate(group, "loaded state dict: ")
            new_groups.append(group)
        saved_state = state_dict["state"]
        before = self.param_groups, self.state
        self.param_groups = new_groups
        self.state = {}
        self._plans = {}
        self._version += 1
        try:
            for saved, group in zip(groups, self.param_groups):
                pairs = [(old, new) for old, new in zip(saved["params"], group["params"])
                         if saved_state.get(old)]
                if not pairs:
                    continue
                self._init_state(group, self._rule(group))
                for old, new in pairs:
                    self._load_entry(new, saved_state[old])
                loaded = {new for _, new in pairs}
                for i in group["params"]:  # no saved state: the parameter starts fresh
                    if i not in loaded:
                        self.state.pop(i, None)
        except BaseException:  # a bad entry (shape, ...): keep the optimizer as it was
            self.param_groups, self.state = before
            self._version += 1
            raise

    def _state_array(self, i: int, value):
        """A saved state value as an array where parameter ``i`` lives (host → device copies
        only when loading host state for a device parameter)."""
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().numpy()
        if self._device[i]:
            return value if _is_device(value) else _xp().asarray(np.asarray(value))
        if _is_device(value):
            return value.get()
        return np.asarray(value)

    def _load_entry(self, i: int, entry: dict) -> None:
        p = self._params[i]
        mine = self.state[i]
        for key, value in entry.items():
            if key == "step":
                mine["step"] = int(float(value.item() if hasattr(value, "item") else value))
                continue
            if value is None:
                continue
            arr = self._state_array(i, value)
            if arr.shape != p.shape and arr.size != p.size:
                raise ValueError(f"state {key!r} of parameter {i} has shape {arr.shape}, "
                                 f"the parameter has shape {p.shape}")
            if key in mine:
                mine[key][...] = arr.reshape(-1)
            else:
                xp = _xp() if self._device[i] else np
                mine[key] = xp.array(arr.reshape(-1), dtype=p.dtype)  # a copy: state is ours alone
        self._after_load(i, entry)

    def _after_load(self, i: int, entry: dict) -> None:
        pass

    def _loaded_group(self, group: dict) -> None:
        """Adjust a group's options just loaded from a state dict (AdamW: stays decoupled)."""

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for gi, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {gi}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


#: (family, sorted switches) -> the name of the generated rule that implements them, and the rule.
_RULE_NAMES = {(r["optimizer"], tuple(sorted(r["options"].items()))): name
               for name, r in _gen.RULES.items()}
_RULES = {key: _gen.RULES[name] for key, name in _RULE_NAMES.items()}


# --------------------------------------------------------------------------- optimizers


class SGD(Optimizer):
    """torch.optim.SGD: momentum (buffer = g on its first step), dampening, Nesterov, weight decay."""

    family = "sgd"
    fallbacks = {"maximize": False, "nesterov": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 **kwargs):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov), kwargs)

    def _validate(self, h, where):
        super()._validate(h, where)
        _check_number(where + "momentum", h["momentum"])
        if not isinstance(h["dampening"], numbers.Real) or math.isnan(h["dampening"]):
            raise ValueError(f"{where}dampening={h['dampening']!r} must be a real number")
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError(f"{where}nesterov=True requires momentum > 0 and dampening = 0 "
                             f"(got momentum={h['momentum']!r}, dampening={h['dampening']!r})")

    def _options(self, group):
        # torch applies nesterov inside its momentum branch: without momentum it does nothing
        # (momentum set to 0 in param_groups after construction with nesterov=True)
        return {"momentum": group["momentum"] != 0,
                "nesterov": bool(group["nesterov"]) and group["momentum"] != 0,
                "weight_decay": group["weight_decay"] != 0}

    def _kernel_step(self, i, h):
        # The rule's c is 1 on the buffer's first step (b = g, as torch's clone), 1 − τ after.
        s = self.state[i]
        return 1 if "momentum_buffer" in s.get("_fresh", ()) else max(s["step"], 1)

    def _after_step(self, live):
        for i in live:  # buffers used once are no longer fresh
            self.state[i].pop("_fresh", None)

    def _init_state(self, group, rule):
        super()._init_state(group, rule)
        for i in group["params"]:
            if "momentum_buffer" in self.state[i] and self.state[i]["step"] == 0:
                self.state[i]["_fresh"] = {"momentum_buffer"}

    def _after_load(self, i, entry):
        s = self.state[i]
        s.pop("_fresh", None)
        if "momentum_buffer" in s and entry.get("momentum_buffer") is None:
            s["_fresh"] = {"momentum_buffer"}  # torch saves None before the first momentum step
        s["step"] = max(s["step"], 1) if entry.get("momentum_buffer") is not None else s["step"]


class Adagrad(Optimizer):
    """torch.optim.Adagrad: lr_decay, weight decay, initial_accumulator_value, eps."""

    family = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, **kwargs):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps), kwargs)

    def _validate(self, h, where):
        super()._validate(h, where)
        _check_number(where + "lr_decay", h["lr_decay"])
        _check_number(where + "initial_accumulator_value", h["initial_accumulator_value"])
        _check_number(where + "eps", h["eps"])

    def _options(self, group):
        return {"weight_decay": group["weight_decay"] != 0}

    def _init_state(self, group, rule):
        # torch fills every accumulator with the constructor's initial_accumulator_value (at
        # construction; for groups added later, from its defaults), never a group's own value
        iav = self.defaults["initial_accumulator_value"]
        super()._init_state({**group, "initial_accumulator_value": iav}, rule)


class RMSprop(Optimizer):
    """torch.optim.RMSprop: alpha, eps, weight decay, momentum, centered."""

    family = "rmsprop"
    fallbacks = {"maximize": False, "momentum": 0, "centered": False}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, **kwargs):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered), kwargs)

    def _validate(self, h, where):
        super()._validate(h, where)
        _check_number(where + "alpha", h["alpha"])
        _check_number(where + "eps", h["eps"])
        _check_number(where + "momentum", h["momentum"])

    def _options(self, group):
        return {"centered": bool(group["centered"]), "momentum": group["momentum"] > 0,
                "weight_decay": group["weight_decay"] != 0}


class Adam(Optimizer):
    """torch.optim.Adam: bias correction, amsgrad, weight decay (coupled; decoupled = AdamW).

    ``decoupled_weight_decay`` is a group option, as in torch: loading an AdamW state dict
    (whose groups say True) makes this optimizer step as AdamW, as torch's Adam does."""

    family = "adam"
    fallbacks = {"maximize": False, "amsgrad": False, "decoupled_weight_decay": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, decoupled_weight_decay=False, **kwargs):
        try:
            betas = tuple(betas)
        except TypeError:
            raise TypeError(f"betas={betas!r} must be a pair (beta1, beta2)") from None
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad,
                                      decoupled_weight_decay=bool(decoupled_weight_decay)), kwargs)

    def _family(self, group):
        return "adamw" if group["decoupled_weight_decay"] else "adam"

    def _validate(self, h, where):
        super()._validate(h, where)
        _check_number(where + "eps", h["eps"])
        betas = h["betas"]
        if len(betas) != 2:
            raise ValueError(f"{where}betas={betas!r} must be a pair (beta1, beta2)")
        for k, beta in enumerate(betas):
            _check_number(f"{where}betas[{k}]", beta, 0.0, 1.0)

    def _options(self, group):
        if group["decoupled_weight_decay"]:
            return {"amsgrad": bool(group["amsgrad"])}
        return {"amsgrad": bool(group["amsgrad"]), "weight_decay": group["weight_decay"] != 0}


class AdamW(Adam):
    """torch.optim.AdamW: θ ← θ(1 − lr·weight_decay), then the Adam step (weight_decay=1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, **kwargs):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, decoupled_weight_decay=True, **kwargs)

    def _loaded_group(self, group):
        group["decoupled_weight_decay"] = True  # as torch's AdamW.__setstate__, even from Adam
