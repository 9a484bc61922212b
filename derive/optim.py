"""Optimizer updates and gradient clipping as symbolic elementwise assignments.

The one home of every optimizer formula. Each optimizer variant is an :class:`UpdateRule`: the
per-element assignments a fused kernel runs (read parameter, gradient and state once, write them
once), the per-step scalars the host computes from the hyper-parameters and the step count ``t``,
and the hyper-parameters with ``torch.optim``'s keyword names and defaults, so a user can switch.

The assignments follow ``torch.optim``'s single-tensor arithmetic order (e.g. Adam's
``denom = sqrt(v)/sqrt(1 - beta2^t) + eps`` and ``step = lr/(1 - beta1^t)``; ``lerp`` for the
first moment), so generated kernels agree with PyTorch to rounding. The derivations registered
in :mod:`derive.registry` (group "optimizer") show, step by step and checked, that these kernel
forms equal the textbook rules of PyTorch's documentation.

Conventions: the state symbols (``m``, ``v``, ...) hold the values *before* the step; an
assignment to a state symbol or to ``theta`` is its new value (written back once); any other
target is a temporary. ``g`` is the gradient as given (never written).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Mapping

import sympy as sp

from .core import Derivation, Domain, Step, StepBuilder

# --------------------------------------------------------------------------- symbols

theta = sp.Symbol("theta", real=True)  # a parameter, before the step
g = sp.Symbol("g", real=True)  # its gradient
t = sp.Symbol("t", integer=True, positive=True)  # the step count, 1 on the first step

# Hyper-parameters (torch.optim keyword in the comment).
eta = sp.Symbol("eta", positive=True)  # lr
mu = sp.Symbol("mu", nonnegative=True)  # momentum
tau = sp.Symbol("tau", nonnegative=True)  # dampening
lamda = sp.Symbol("lamda", nonnegative=True)  # weight_decay (SymPy spells λ "lamda")
gamma = sp.Symbol("gamma", nonnegative=True)  # lr_decay (Adagrad)
epsilon = sp.Symbol("epsilon", positive=True)  # eps
rho = sp.Symbol("rho", positive=True)  # alpha (RMSprop's smoothing constant)
beta1 = sp.Symbol("beta_1", positive=True)  # betas[0]
beta2 = sp.Symbol("beta_2", positive=True)  # betas[1]
s0 = sp.Symbol("s_0", nonnegative=True)  # initial_accumulator_value (Adagrad)

# State (the torch.optim state key is given in each rule).
b = sp.Symbol("b", real=True)  # momentum_buffer
s = sp.Symbol("s", nonnegative=True)  # sum (Adagrad)
m = sp.Symbol("m", real=True)  # exp_avg
v = sp.Symbol("v", nonnegative=True)  # exp_avg_sq / square_avg
v_max = sp.Symbol("v_max", nonnegative=True)  # max_exp_avg_sq (amsgrad)
gbar = sp.Symbol("gbar", real=True)  # grad_avg (centered RMSprop)

# Per-step kernel scalars computed on the host.
c = sp.Symbol("c", positive=True)  # SGD: 1 on the first step, 1 - dampening after
eta_t = sp.Symbol("eta_t", positive=True)  # Adagrad: lr / (1 + (t - 1) lr_decay)
w = sp.Symbol("w", positive=True)  # RMSprop: 1 - alpha
w1 = sp.Symbol("w_1", positive=True)  # Adam: 1 - beta1
w2 = sp.Symbol("w_2", positive=True)  # Adam: 1 - beta2
c2 = sp.Symbol("c_2", positive=True)  # Adam: sqrt(1 - beta2^t)
s_t = sp.Symbol("s_t", positive=True)  # Adam: lr / (1 - beta1^t)
k = sp.Symbol("k", positive=True)  # AdamW: 1 - lr * weight_decay
# Names used in the derivations' steps only (positive, so SymPy can split square roots).
B1 = sp.Symbol("B_1", positive=True)  # 1 - beta1^t
B2 = sp.Symbol("B_2", positive=True)  # 1 - beta2^t

# Temporaries inside a kernel.
d = sp.Symbol("d", real=True)  # the gradient after (coupled) weight decay
u = sp.Symbol("u", real=True)  # the step direction (Nesterov)
q = sp.Symbol("q", real=True)  # a quotient, kept apart to keep torch's rounding order
sigma = sp.Symbol("sigma", positive=True)  # a denominator sqrt(.) + eps

# Clipping.
clip = sp.Symbol("c_v", nonnegative=True)  # clip_value
max_norm = sp.Symbol("c_n", nonnegative=True)  # max_norm
norm = sp.Symbol("N", nonnegative=True)  # the total norm before clipping
kappa = sp.Symbol("kappa", nonnegative=True)  # the clip coefficient
p_norm = sp.Symbol("p", positive=True)  # norm_type
#: torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing.
CLIP_NORM_EPS = sp.Float(1e-6)

MEANING = {
    "theta": "parameter θ before the step", "g": "gradient ∂L/∂θ", "t": "step count (1 first)",
    "eta": "learning rate lr", "mu": "momentum", "tau": "dampening",
    "lamda": "weight_decay", "gamma": "lr_decay", "epsilon": "eps", "rho": "alpha (RMSprop)",
    "beta_1": "betas[0]", "beta_2": "betas[1]", "s_0": "initial_accumulator_value",
    "b": "momentum_buffer (before the step)", "s": "sum of squared gradients (Adagrad)",
    "m": "exp_avg, first moment (before the step)", "v": "exp_avg_sq / square_avg (before)",
    "v_max": "max_exp_avg_sq (amsgrad)", "gbar": "grad_avg (centered RMSprop)",
    "c": "1 at t = 1, 1 − dampening after", "eta_t": "lr/(1 + (t − 1)·lr_decay)",
    "w": "1 − alpha", "w_1": "1 − β₁", "w_2": "1 − β₂", "c_2": "√(1 − β₂ᵗ)",
    "s_t": "lr/(1 − β₁ᵗ)", "k": "1 − lr·weight_decay", "B_1": "1 − β₁ᵗ", "B_2": "1 − β₂ᵗ", "d": "gradient after weight decay",
    "u": "step direction", "q": "quotient", "sigma": "denominator √(·) + ε",
    "c_v": "clip_value", "c_n": "max_norm", "N": "total norm before clipping",
    "kappa": "clip coefficient", "p": "norm_type",
}


# --------------------------------------------------------------------------- the value object


@dataclass(frozen=True)
class Hyper:
    """A hyper-parameter: torch.optim's keyword, its symbol, its default."""

    keyword: str
    symbol: sp.Symbol
    default: float


@dataclass(frozen=True)
class UpdateRule:
    """One optimizer variant as elementwise assignments (see the module docstring).

    ``state`` pairs each state symbol with torch.optim's state key, in kernel argument order;
    ``init`` gives each state's initial value (an expression of the hyper symbols);
    ``scalars`` are the per-step kernel arguments as expressions of the hyper symbols and ``t``.
    A kernel is ``name(param, grad, *state, *scalars)``.
    """

    name: str  # variant name, e.g. "adam_amsgrad_wd"; the generated kernel's name
    optimizer: str  # "sgd", "adagrad", "rmsprop", "adam", "adamw", "clip_grad_value", ...
    options: Mapping[str, bool]  # the compile-time switches of this variant
    param: sp.Symbol
    grad: sp.Symbol | None
    state: tuple[tuple[sp.Symbol, str], ...]
    init: tuple[sp.Expr, ...]
    hyper: tuple[Hyper, ...]
    scalars: tuple[tuple[sp.Symbol, sp.Expr], ...]
    assignments: tuple[tuple[sp.Symbol, sp.Expr], ...]
    title: str = ""

    def __post_init__(self):
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        known = {self.param} | {sym for sym, _ in self.state} | {sym for sym, _ in self.scalars}
        if self.grad is not None:
            known.add(self.grad)
        for target, expr in self.assignments:  # every read is of something already defined
            unknown = expr.free_symbols - known
            if unknown:
                raise ValueError(f"{self.name}: {target} = {expr} reads undefined {unknown}")
            known.add(target)

    @property
    def state_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sym for sym, _ in self.state)

    @property
    def state_keys(self) -> tuple[str, ...]:
        return tuple(key for _, key in self.state)

    @property
    def scalar_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sym for sym, _ in self.scalars)

    @property
    def outputs(self) -> tuple[sp.Symbol, ...]:
        """What the kernel writes back: the parameter and every state buffer."""
        return (self.param,) + self.state_symbols

    def final(self) -> dict[sp.Symbol, sp.Expr]:
        """Each output's new value as one expression of the inputs (temporaries substituted)."""
        env: dict[sp.Symbol, sp.Expr] = {}
        for target, expr in self.assignments:
            env[target] = expr.xreplace(env)
        return {o: env.get(o, o) for o in self.outputs}

    def scalar_values(self, step: int, **hyper) -> dict[sp.Symbol, sp.Expr]:
        """The kernel scalars at ``step`` (exact when the hyper-parameters are Rationals)."""
        values = {h.symbol: sp.nsimplify(hyper.get(h.keyword, h.default)) for h in self.hyper}
        values[t] = sp.Integer(step)
        return {sym: expr.xreplace(values).doit() for sym, expr in self.scalars}

    def evaluate(self, values: Mapping[sp.Symbol, object], step: int, **hyper) -> dict:
        """One step on numbers: ``values`` maps param, grad and state to numbers (SymPy exact
        numbers give exact results); returns the outputs' new values."""
        env = dict(values)
        env.update(self.scalar_values(step, **hyper))
        for target, expr in self.assignments:
            env[target] = sp.sympify(expr).xreplace(env)
        return {o: env[o] for o in self.outputs}


def _h(*entries) -> tuple[Hyper, ...]:
    return tuple(Hyper(kw, sym, default) for kw, sym, default in entries)


def _name(optimizer: str, options: Mapping[str, bool], tags: Mapping[str, str]) -> str:
    return "_".join([optimizer] + [tags[o] for o, on in options.items() if on])


# --------------------------------------------------------------------------- optimizers

SGD_HYPER = _h(("lr", eta, 1e-3), ("momentum", mu, 0.0), ("dampening", tau, 0.0),
               ("weight_decay", lamda, 0.0))
ADAGRAD_HYPER = _h(("lr", eta, 1e-2), ("lr_decay", gamma, 0.0), ("weight_decay", lamda, 0.0),
                   ("initial_accumulator_value", s0, 0.0), ("eps", epsilon, 1e-10))
RMSPROP_HYPER = _h(("lr", eta, 1e-2), ("alpha", rho, 0.99), ("eps", epsilon, 1e-8),
                   ("weight_decay", lamda, 0.0), ("momentum", mu, 0.0))
ADAM_HYPER = _h(("lr", eta, 1e-3), ("beta1", beta1, 0.9), ("beta2", beta2, 0.999),
                ("eps", epsilon, 1e-8), ("weight_decay", lamda, 0.0))
ADAMW_HYPER = _h(("lr", eta, 1e-3), ("beta1", beta1, 0.9), ("beta2", beta2, 0.999),
                 ("eps", epsilon, 1e-8), ("weight_decay", lamda, 1e-2))

#: Each optimizer's compile-time switches (in variant-name order) and their name tags.
FLAGS: dict[str, dict[str, str]] = {
    "sgd": {"momentum": "momentum", "nesterov": "nesterov", "weight_decay": "wd"},
    "adagrad": {"weight_decay": "wd"},
    "rmsprop": {"centered": "centered", "momentum": "momentum", "weight_decay": "wd"},
    "adam": {"amsgrad": "amsgrad", "weight_decay": "wd"},
    "adamw": {"amsgrad": "amsgrad"},
}


def _decayed(options, assignments: list, scalars: list) -> sp.Symbol:
    """Coupled weight decay d = g + λθ (torch: grad.add(param, alpha=weight_decay))."""
    if options.get("weight_decay"):
        scalars.append((lamda, lamda))
        assignments.append((d, g + lamda * theta))
        return d
    return g


def sgd_rule(momentum: bool = False, nesterov: bool = False, weight_decay: bool = False) -> UpdateRule:
    """torch.optim.SGD. The buffer starts at 0 and c = 1 on the first step, so b₁ = μ·0 + g = g
    as torch (which clones the gradient); after that c = 1 − dampening."""
    if nesterov and not momentum:
        raise ValueError("nesterov=True needs momentum=True")
    options = {"momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay}
    assignments, scalars = [], [(eta, eta)]
    grad = _decayed(options, assignments, scalars)
    state = ()
    direction = grad
    if momentum:
        scalars += [(mu, mu), (c, sp.Piecewise((1, sp.Eq(t, 1)), (1 - tau, True)))]
        state = ((b, "momentum_buffer"),)
        assignments.append((b, b * mu + c * grad))  # buf.mul_(momentum).add_(grad, alpha=...)
        if nesterov:
            assignments.append((u, grad + mu * b))
            direction = u
        else:
            direction = b
    assignments.append((theta, theta - eta * direction))
    return UpdateRule(_name("sgd", options, FLAGS["sgd"]), "sgd", options, theta, g, state,
                      tuple(sp.Integer(0) for _ in state), SGD_HYPER, tuple(scalars),
                      tuple(assignments), "SGD")


def adagrad_rule(weight_decay: bool = False) -> UpdateRule:
    """torch.optim.Adagrad: s += d², θ −= η_t·d/(√s + ε), η_t = lr/(1 + (t − 1)·lr_decay)."""
    options = {"weight_decay": weight_decay}
    assignments = []
    scalars = [(eta_t, eta / (1 + (t - 1) * gamma)), (epsilon, epsilon)]
    grad = _decayed(options, assignments, scalars)
    assignments += [
        (s, s + grad * grad),  # state_sum.addcmul_(grad, grad, value=1)
        (sigma, sp.sqrt(s) + epsilon),  # std = state_sum.sqrt().add_(eps)
        (q, grad / sigma),
        (theta, theta - eta_t * q),  # param.addcdiv_(grad, std, value=-clr)
    ]
    return UpdateRule(_name("adagrad", options, FLAGS["adagrad"]), "adagrad", options, theta, g,
                      ((s, "sum"),), (s0,), ADAGRAD_HYPER, tuple(scalars), tuple(assignments),
                      "Adagrad")


def rmsprop_rule(centered: bool = False, momentum: bool = False,
                 weight_decay: bool = False) -> UpdateRule:
    """torch.optim.RMSprop (alpha is ρ here, as in the seed)."""
    options = {"centered": centered, "momentum": momentum, "weight_decay": weight_decay}
    assignments = []
    scalars = [(rho, rho), (w, 1 - rho), (epsilon, epsilon), (eta, eta)]
    grad = _decayed(options, assignments, scalars)
    state = [(v, "square_avg")]
    assignments.append((v, v * rho + w * grad**2))  # square_avg.mul_(alpha).addcmul_(g, g, 1 - alpha)
    if centered:
        state.append((gbar, "grad_avg"))
        assignments.append((gbar, gbar + w * (grad - gbar)))  # grad_avg.lerp_(grad, 1 - alpha)
        assignments.append((sigma, sp.sqrt(v - gbar * gbar) + epsilon))
    else:
        assignments.append((sigma, sp.sqrt(v) + epsilon))
    if momentum:
        scalars.append((mu, mu))
        state.append((b, "momentum_buffer"))
        assignments.append((b, b * mu + grad / sigma))  # buf.mul_(momentum).addcdiv_(grad, avg)
        assignments.append((theta, theta - eta * b))
    else:
        assignments += [(q, grad / sigma), (theta, theta - eta * q)]
    return UpdateRule(_name("rmsprop", options, FLAGS["rmsprop"]), "rmsprop", options, theta, g,
                      tuple(state), tuple(sp.Integer(0) for _ in state), RMSPROP_HYPER,
                      tuple(scalars), tuple(assignments), "RMSprop")


def adam_rule(amsgrad: bool = False, weight_decay: bool = False,
              decoupled: bool = False) -> UpdateRule:
    """torch.optim.Adam (coupled weight decay) or AdamW (``decoupled``: θ ← θ(1 − lr·wd) first)."""
    optimizer = "adamw" if decoupled else "adam"
    options = {"amsgrad": amsgrad} if decoupled else {"amsgrad": amsgrad, "weight_decay": weight_decay}
    assignments, scalars = [], []
    if decoupled:
        scalars.append((k, 1 - eta * lamda))
        assignments.append((theta, theta * k))  # param.mul_(1 - lr * weight_decay)
        grad = g
    else:
        grad = _decayed(options, assignments, scalars)
    scalars += [(w1, 1 - beta1), (beta2, beta2), (w2, 1 - beta2), (c2, sp.sqrt(1 - beta2**t)),
                (epsilon, epsilon), (s_t, eta / (1 - beta1**t))]
    state = [(m, "exp_avg"), (v, "exp_avg_sq")]
    assignments += [
        (m, m + w1 * (grad - m)),  # exp_avg.lerp_(grad, 1 - beta1)
        (v, v * beta2 + w2 * grad**2),  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    ]
    if amsgrad:
        state.append((v_max, "max_exp_avg_sq"))
        assignments.append((v_max, sp.Max(v_max, v)))  # torch.maximum (NaN propagates)
        assignments.append((sigma, sp.sqrt(v_max) / c2 + epsilon))
    else:
        assignments.append((sigma, sp.sqrt(v) / c2 + epsilon))  # (sqrt(v)/sqrt(bc2)).add_(eps)
    assignments += [(q, m / sigma), (theta, theta - s_t * q)]  # addcdiv_(m, denom, -step_size)
    return UpdateRule(_name(optimizer, options, FLAGS[optimizer]), optimizer, options, theta, g,
                      tuple(state), tuple(sp.Integer(0) for _ in state),
                      ADAMW_HYPER if decoupled else ADAM_HYPER, tuple(scalars), tuple(assignments),
                      "AdamW" if decoupled else "Adam")


_BUILDERS = {
    "sgd": sgd_rule,
    "adagrad": adagrad_rule,
    "rmsprop": rmsprop_rule,
    "adam": adam_rule,
    "adamw": lambda amsgrad=False: adam_rule(amsgrad=amsgrad, decoupled=True),
}


def rule(optimizer: str, **options: bool) -> UpdateRule:
    """The variant of ``optimizer`` with the given switches (missing switches are off)."""
    if optimizer not in _BUILDERS:
        raise ValueError(f"optimizer={optimizer!r}; valid: {', '.join(_BUILDERS)}")
    unknown = set(options) - set(FLAGS[optimizer])
    if unknown:
        raise ValueError(f"{optimizer} has no option {sorted(unknown)}; "
                         f"valid: {', '.join(FLAGS[optimizer])}")
    return _BUILDERS[optimizer](**{o: bool(options.get(o, False)) for o in FLAGS[optimizer]})


def variants(optimizer: str) -> tuple[UpdateRule, ...]:
    """Every valid combination of ``optimizer``'s switches."""
    out = []
    for combo in itertools.product((False, True), repeat=len(FLAGS[optimizer])):
        options = dict(zip(FLAGS[optimizer], combo))
        if optimizer == "sgd" and options["nesterov"] and not options["momentum"]:
            continue
        out.append(rule(optimizer, **options))
    return tuple(out)


def all_rules() -> tuple[UpdateRule, ...]:
    """Every optimizer variant, then the clipping rules: what codegen turns into kernels."""
    return tuple(r for o in _BUILDERS for r in variants(o)) + (clip_value_rule(), clip_scale_rule())


# --------------------------------------------------------------------------- clipping


def clip_value_rule() -> UpdateRule:
    """torch.nn.utils.clip_grad_value_: clamp each gradient into [−c, c] (NaN stays NaN)."""
    return UpdateRule("clip_grad_value", "clip_grad_value", {}, g, None, (), (),
                      _h(("clip_value", clip, None)), ((clip, clip),),
                      ((g, sp.Piecewise((-clip, g < -clip), (clip, g > clip), (g, True))),),
                      "clip by value")


def clip_scale_rule() -> UpdateRule:
    """The scaling half of torch.nn.utils.clip_grad_norm_: g ← κ·g with
    κ = min(1, max_norm/(N + 1e-6)) computed on the host from the total norm N."""
    coef = sp.Min(1, max_norm / (norm + CLIP_NORM_EPS))
    return UpdateRule("clip_grad_scale", "clip_grad_norm", {}, g, None, (), (),
                      _h(("max_norm", max_norm, None), ("total_norm", norm, None)),
                      ((kappa, coef),), ((g, g * kappa),), "clip by global norm")


@dataclass(frozen=True)
class NormRule:
    """A vector norm as a reduction: combine ``term`` over every element, then ``finish``.

    ``combine`` is "sum" or "max"; ``finish`` is an expression of the reduced value ``R``."""

    name: str
    p: object  # 1, 2, "p" (any finite p > 0, passed at run time) or "inf"
    term: sp.Expr
    combine: str
    finish: sp.Expr


R = sp.Symbol("R", nonnegative=True)  # a reduced value (a sum or a max)


def norm_rules() -> tuple[NormRule, ...]:
    """The norms torch.linalg.vector_norm computes for clip_grad_norm_'s ``norm_type``."""
    return (
        NormRule("norm_sum_abs", 1, sp.Abs(g), "sum", R),
        NormRule("norm_sum_sq", 2, g * g, "sum", sp.sqrt(R)),
        NormRule("norm_sum_pow", "p", sp.Abs(g) ** p_norm, "sum", R ** (1 / p_norm)),
        NormRule("norm_max_abs", "inf", sp.Abs(g), "max", R),
    )


# --------------------------------------------------------------------------- derivations

#: Where random check points are drawn: moments, sums and denominators stay positive.
DOMAIN = Domain(intervals={
    v: (0.01, 3.0), v_max: (0.01, 3.0), s: (0.01, 3.0), beta1: (0.05, 0.95),
    beta2: (0.05, 0.999), rho: (0.05, 0.99), mu: (0.0, 0.99), tau: (0.0, 0.9),
    lamda: (0.0, 0.5), gamma: (0.0, 0.5), epsilon: (1e-3, 0.5), eta: (1e-3, 1.0),
    gbar: (-0.05, 0.05), clip: (0.0, 3.0), max_norm: (0.0, 3.0), norm: (0.0, 5.0),
}, integers={t: (1, 30)})
#: For steps with sums over k ≤ t: few terms, so each random point is cheap.
SUM_DOMAIN = Domain(intervals=DOMAIN.intervals, integers={t: (1, 5)})


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _result_lhs(*names) -> dict:
    return {sym: _sym(name) for sym, name in names}


def _chain(lhs, definition, rule: str, links, equal_under=None, domain=DOMAIN) -> tuple:
    """Steps from a textbook ``definition`` through the checked ``links`` (rule, expr)."""
    sb = StepBuilder(lhs, definition, domain, rule=rule, equal_under=equal_under)
    for item in links:
        if item[0] == "restate":
            sb.restate(item[1], item[2], item[3])
        else:
            sb.then(*item)
    return sb.build(), sb.current


def _kernel_form(r: UpdateRule, target: sp.Symbol) -> sp.Expr:
    return r.final()[target]


def _scalar_defs(r: UpdateRule) -> list:
    return [(sym, expr) for sym, expr in r.scalars if sym != expr]


def _symbols(*syms) -> dict:
    return {str(x): MEANING[str(x)] for x in syms}


def _options(hyper: tuple[Hyper, ...], extra: Mapping | None = None) -> dict:
    out = {h.keyword: h.default for h in hyper}
    out.update(extra or {})
    return out


def sgd() -> Derivation:
    """SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD."""
    heavy = sgd_rule(momentum=True, weight_decay=True)
    nest = sgd_rule(momentum=True, nesterov=True, weight_decay=True)
    b_t, theta_t = _sym("b_t"), _sym("theta_t")
    first = sp.Piecewise((d, sp.Eq(t, 1)), (mu * b + (1 - tau) * d, True))
    b_steps, _ = _chain(b_t, first, "definition (torch.optim.SGD: b₁ = g, then μb + (1 − τ)g)", [
        ("zero-initialised buffer: b = 0 at t = 1", mu * sp.Piecewise((0, sp.Eq(t, 1)), (b, True))
         + sp.Piecewise((1, sp.Eq(t, 1)), (1 - tau, True)) * d),
        ("restate", "kernel form (b holds 0 before the first step)", b * mu + c * d, b_t),
        ("substitute d = g + λθ (coupled weight decay)", _kernel_form(heavy, b)),
    ], equal_under=[(d, g + lamda * theta)] + _scalar_defs(heavy))
    theta_steps, _ = _chain(theta_t, theta - eta * b_t, "definition: θ ← θ − lr·b_t (heavy ball)", [
        ("substitute b_t", theta - eta * (b * mu + c * d)),
        ("substitute d = g + λθ", _kernel_form(heavy, theta)),
        ("restate", "Nesterov: step along d + μ·b_t", theta - eta * (d + mu * b_t), theta_t),
        ("substitute b_t and d", _kernel_form(nest, theta)),
    ], equal_under=[(b_t, b * mu + c * d), (d, g + lamda * theta)] + _scalar_defs(heavy))
    return Derivation(
        "sgd", "optimizer", "SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)",
        theta - eta * b_t, (theta, b), {theta: _kernel_form(heavy, theta), b: _kernel_form(heavy, b)},
        {theta: theta_steps, b: b_steps},
        symbols=_symbols(theta, g, eta, mu, tau, lamda, b, c, d),
        options=_options(SGD_HYPER, {"nesterov": False}), quantity=theta_t,
        result_lhs=_result_lhs((theta, "theta_t"), (b, "b_t")))


def momentum() -> Derivation:
    """Seed 001's momentum: v = μv + g, θ = θ − εv, unrolled and checked."""
    G = sp.IndexedBase("g")
    kk, tt = sp.Symbol("k", integer=True), t
    v_prev, v_t, th_prev, theta_t = _sym("v_{t-1}"), _sym("v_t"), _sym("theta_{t-1}"), _sym("theta_t")
    vp = sp.Symbol("v'", real=True)
    domain = Domain(intervals={mu: (0.0, 0.99)}, integers={tt: (1, 5)})
    unrolled_prev = sp.Sum(mu ** (tt - 1 - kk) * G[kk], (kk, 1, tt - 1))
    v_steps, _ = _chain(v_t, mu * v_prev + G[tt], "definition (seed 001): v_t = μ·v_{t−1} + g_t", [
        ("induction: v_{t−1} = Σ_{k<t} μ^{t−1−k} g_k (v₀ = 0)", mu * unrolled_prev + G[tt]),
        ("μ into the sum", sp.Sum(mu ** (tt - kk) * G[kk], (kk, 1, tt - 1)) + G[tt]),
        ("g_t is the k = t term: v_t = Σ_{k≤t} μ^{t−k} g_k", sp.Sum(mu ** (tt - kk) * G[kk], (kk, 1, tt))),
        ("restate", "constant gradient g_k = g, times (1 − μ)",
         (1 - mu) * sp.Sum(mu ** (tt - kk) * g, (kk, 1, tt)), (1 - mu) * v_t),
        ("geometric sum: v_t = g(1 − μᵗ)/(1 − μ) → g/(1 − μ), a 1/(1 − μ) larger step "
         "(10× for μ = 0.9)", g * (1 - mu**tt)),
    ], equal_under=[(v_prev, unrolled_prev)], domain=domain)
    theta_steps, _ = _chain(theta_t, th_prev - epsilon * v_t, "definition (seed 001's example): "
                            "θ_t = θ_{t−1} − ε·v_t, ε the learning rate", [
        ("substitute v_t", th_prev - epsilon * (mu * v_prev + G[tt])),
        ("restate", "lr folded into the buffer, v′ = ε·v (the seed's text: w = w − v(t))",
         th_prev - vp, theta_t),
        ("v′_t = μ·v′_{t−1} + ε·g_t with v′_{t−1} = ε·v_{t−1}: the same step while ε is constant",
         th_prev - (mu * epsilon * v_prev + epsilon * G[tt])),
        ("equals torch.optim.SGD(momentum=μ, dampening=0): b = μb + g, θ = θ − lr·b",
         _kernel_form(sgd_rule(momentum=True), theta).xreplace(
             {theta: th_prev, b: v_prev, c: 1, g: G[tt], eta: epsilon})),
    ], equal_under=[(vp, epsilon * (mu * v_prev + G[tt])), (v_t, mu * v_prev + G[tt])], domain=domain)
    return Derivation(
        "momentum", "optimizer", "Momentum (seed 001): v = μv + g, θ = θ − εv, unrolled",
        th_prev - epsilon * v_t, (v_t, theta_t),
        {v_t: sp.Sum(mu ** (tt - kk) * G[kk], (kk, 1, tt)),
         theta_t: th_prev - epsilon * (mu * v_prev + G[tt])},
        {v_t: v_steps, theta_t: theta_steps},
        symbols={"mu": "momentum μ (0.9 in the seed)", "epsilon": "learning rate ε (0.1 in the seed)",
                 "g": "gradient", "t": "step"},
        options={"lr": 0.1, "momentum": 0.9}, quantity=theta_t,
        result_lhs={v_t: v_t, theta_t: theta_t})


def adagrad() -> Derivation:
    r = adagrad_rule(weight_decay=True)
    s_t_, theta_t = _sym("s_t"), _sym("theta_t")
    s_steps, _ = _chain(s_t_, s + d**2, "definition: s_t = s_{t−1} + d² (s₀ = initial_accumulator_value)", [
        ("substitute d = g + λθ", _kernel_form(r, s)),
    ], equal_under=[(d, g + lamda * theta)])
    clr = eta / (1 + (t - 1) * gamma)
    theta_steps, _ = _chain(theta_t, theta - clr * d / (sp.sqrt(s_t_) + epsilon),
                            "definition (torch.optim.Adagrad; seed 001: w − ε/(√r + δ)·g)", [
        ("η_t = lr/(1 + (t − 1)·lr_decay)", theta - eta_t * (d / (sp.sqrt(s_t_) + epsilon))),
        ("substitute s_t and d = g + λθ", _kernel_form(r, theta)),
    ], equal_under=[(s_t_, s + d**2), (d, g + lamda * theta)] + _scalar_defs(r))
    return Derivation(
        "adagrad", "optimizer", "Adagrad with lr_decay and weight decay (torch.optim.Adagrad)",
        theta - clr * d / (sp.sqrt(s_t_) + epsilon), (theta, s),
        {theta: _kernel_form(r, theta), s: _kernel_form(r, s)}, {theta: theta_steps, s: s_steps},
        symbols=_symbols(theta, g, eta, gamma, lamda, epsilon, s, s0, eta_t, d),
        options=_options(ADAGRAD_HYPER), quantity=theta_t,
        result_lhs=_result_lhs((theta, "theta_t"), (s, "s_t")))


def rmsprop() -> Derivation:
    plain = rmsprop_rule(weight_decay=True)
    full = rmsprop_rule(centered=True, momentum=True, weight_decay=True)
    v_t, gbar_t, b_t, theta_t = _sym("v_t"), _sym("gbar_t"), _sym("b_t"), _sym("theta_t")
    under = [(d, g + lamda * theta)] + _scalar_defs(full)
    v_steps, _ = _chain(v_t, rho * v + (1 - rho) * d**2, "definition (seed 001: r = ρr + (1 − ρ)g²)", [
        ("w = 1 − ρ: v·ρ + w·d² (torch: mul_(alpha).addcmul_(d, d, 1 − alpha))", v * rho + w * d**2),
        ("substitute d = g + λθ", _kernel_form(full, v)),
    ], equal_under=under)
    gbar_steps, _ = _chain(gbar_t, rho * gbar + (1 - rho) * d, "definition (centered): running mean of d", [
        ("lerp form ḡ + w(d − ḡ) (torch: grad_avg.lerp_(d, 1 − alpha))", gbar + w * (d - gbar)),
        ("substitute d = g + λθ", _kernel_form(full, gbar)),
    ], equal_under=under)
    b_steps, _ = _chain(b_t, mu * b + d / (sp.sqrt(v_t - gbar_t**2) + epsilon),
                        "definition (momentum, centered): b_t = μb + d/(√(v_t − ḡ_t²) + ε)", [
        ("substitute v_t, ḡ_t, d", _kernel_form(full, b)),
    ], equal_under=[(v_t, v * rho + w * d**2), (gbar_t, gbar + w * (d - gbar))] + under)
    theta_steps, _ = _chain(theta_t, theta - eta * d / (sp.sqrt(v_t) + epsilon),
                            "definition (seed 001: w − ε/(√r + δ)·g)", [
        ("substitute v_t and d = g + λθ", _kernel_form(plain, theta)),
        ("restate", "centered, with momentum: θ_t = θ − lr·b_t", theta - eta * b_t, theta_t),
        ("substitute b_t", _kernel_form(full, theta)),
    ], equal_under=[(b_t, b * mu + d / (sp.sqrt(v * rho + w * d**2 - (gbar + w * (d - gbar))**2)
                                        + epsilon)), (v_t, v * rho + w * d**2)] + under)
    return Derivation(
        "rmsprop", "optimizer", "RMSprop with centering, momentum and weight decay (torch.optim.RMSprop)",
        theta - eta * d / (sp.sqrt(v_t) + epsilon), (theta, v, gbar, b),
        {theta: _kernel_form(plain, theta), v: _kernel_form(full, v),
         gbar: _kernel_form(full, gbar), b: _kernel_form(full, b)},
        {theta: theta_steps, v: v_steps, gbar: gbar_steps, b: b_steps},
        symbols=_symbols(theta, g, eta, rho, epsilon, lamda, mu, v, gbar, b, w, d),
        options=_options(RMSPROP_HYPER, {"centered": False}), quantity=theta_t,
        result_lhs=_result_lhs((theta, "theta_t"), (v, "v_t"), (gbar, "gbar_t"), (b, "b_t")))


def _adam(decoupled: bool) -> Derivation:
    r = adam_rule(weight_decay=not decoupled, decoupled=decoupled)
    ams = adam_rule(amsgrad=True, weight_decay=not decoupled, decoupled=decoupled)
    m_t, v_t, theta_t = _sym("m_t"), _sym("v_t"), _sym("theta_t")
    m_hat, v_hat, vmax_t = _sym("mhat_t"), _sym("vhat_t"), _sym("v_max_t")
    kk = sp.Symbol("k", integer=True)
    grad = g if decoupled else d
    # The kernel scalars in terms of B₁ = 1 − β₁ᵗ, B₂ = 1 − β₂ᵗ (UpdateRule.scalars has them in t).
    under = ([] if decoupled else [(d, g + lamda * theta)]) + [
        (w1, 1 - beta1), (w2, 1 - beta2), (c2, sp.sqrt(B2)), (s_t, eta / B1), (k, 1 - eta * lamda)]
    gn = "g" if decoupled else "d"  # AdamW's moments see the plain gradient (no d in its symbols)
    # AdamW has nothing to substitute: its lerp form already is the kernel form.
    subst = [] if decoupled else [("substitute d = g + λθ", _kernel_form(r, m))]
    m_steps, _ = _chain(m_t, beta1 * m + (1 - beta1) * grad, f"definition: m_t = β₁m + (1 − β₁)·{gn}", [
        (f"lerp form m + (1 − β₁)({gn} − m) (torch: exp_avg.lerp_({gn}, 1 − β₁))", m + w1 * (grad - m)),
        *subst,
    ], equal_under=under)
    why, _ = _chain(m_t, sp.Sum((1 - beta1) * beta1 ** (t - kk) * grad, (kk, 1, t)),
                    f"why bias correction: unrolled from m₀ = 0 with a constant gradient {gn}", [
        (f"geometric sum: m_t = (1 − β₁ᵗ)·{gn}, so m̂_t = m_t/(1 − β₁ᵗ) = {gn}", (1 - beta1**t) * grad),
    ], domain=SUM_DOMAIN)
    m_steps += why
    subst = [] if decoupled else [("substitute d = g + λθ", _kernel_form(r, v))]
    v_steps, _ = _chain(v_t, beta2 * v + (1 - beta2) * grad**2, f"definition: v_t = β₂v + (1 − β₂)·{gn}²", [
        (f"w₂ = 1 − β₂: v·β₂ + w₂·{gn}² (torch: mul_(β₂).addcmul_({gn}, {gn}, 1 − β₂))",
         v * beta2 + w2 * grad**2),
        *subst,
    ], equal_under=under)
    vmax_steps, _ = _chain(vmax_t, sp.Max(v_max, v_t), "definition (amsgrad): the running maximum of v_t", [
        ("substitute v_t", _kernel_form(ams, v_max)),
    ], equal_under=[(v_t, v * beta2 + w2 * grad**2)] + under)
    start = theta * (1 - eta * lamda) if decoupled else theta
    textbook = start - eta * m_hat / (sp.sqrt(v_hat) + epsilon)
    corrected = start - eta * (m_t / B1) / (sp.sqrt(v_t / B2) + epsilon)
    theta0 = k * theta if decoupled else theta
    torch_order = theta0 - s_t * (m_t / (sp.sqrt(v_t) / c2 + epsilon))
    links = [
        ("bias correction: m̂_t = m_t/B₁, v̂_t = v_t/B₂ with B₁ = 1 − β₁ᵗ, B₂ = 1 − β₂ᵗ", corrected),
        ("torch's order: s_t = lr/B₁, denominator √v_t/c₂ + ε with c₂ = √B₂"
         + (", k = 1 − lr·λ" if decoupled else ""), torch_order),
        ("substitute m_t, v_t" + ("" if decoupled else ", d = g + λθ"), _kernel_form(r, theta)),
        ("restate", "amsgrad: v_max,t = max(v_max, v_t) in place of v_t",
         theta0 - s_t * (m_t / (sp.sqrt(vmax_t) / c2 + epsilon)), theta_t),
        ("substitute", _kernel_form(ams, theta)),
    ]
    title = ("θ_t = θ(1 − lr·λ) − lr·m̂_t/(√v̂_t + ε) (decoupled decay first)" if decoupled
             else "θ_t = θ − lr·m̂_t/(√v̂_t + ε), d = g + λθ")
    theta_steps, _ = _chain(theta_t, textbook, "definition (torch.optim docs): " + title, links,
                            equal_under=[(m_hat, m_t / B1), (v_hat, v_t / B2),
                                         (m_t, m + w1 * (grad - m)), (v_t, v * beta2 + w2 * grad**2),
                                         (vmax_t, sp.Max(v_max, v * beta2 + w2 * grad**2))] + under)
    name = "adamw" if decoupled else "adam"
    extra = (k,) if decoupled else (d,)
    return Derivation(
        name, "optimizer", ("AdamW: Adam with decoupled weight decay (torch.optim.AdamW)" if decoupled
                            else "Adam with bias correction, amsgrad and weight decay (torch.optim.Adam)"),
        textbook, (theta, m, v, v_max),
        {theta: _kernel_form(r, theta), m: _kernel_form(r, m), v: _kernel_form(r, v),
         v_max: _kernel_form(ams, v_max)},
        {theta: theta_steps, m: m_steps, v: v_steps, v_max: vmax_steps},
        symbols=_symbols(theta, g, eta, beta1, beta2, epsilon, lamda, m, v, v_max, w1, w2, c2, s_t,
                         B1, B2, *extra),
        options=_options(ADAMW_HYPER if decoupled else ADAM_HYPER, {"amsgrad": False}),
        quantity=theta_t,
        result_lhs=_result_lhs((theta, "theta_t"), (m, "m_t"), (v, "v_t"), (v_max, "v_max_t")))


def adam() -> Derivation:
    return _adam(decoupled=False)


def adamw() -> Derivation:
    return _adam(decoupled=True)


def clip_grad_value() -> Derivation:
    r = clip_value_rule()
    g_c = _sym("g_clipped")
    steps, _ = _chain(g_c, sp.Min(sp.Max(g, -clip), clip),
                      "definition (torch.nn.utils.clip_grad_value_): clamp(g, −c, c)", [
        ("as a selection that keeps NaN (the kernel form)", _kernel_form(r, g)),
    ])
    return Derivation("clip_grad_value", "optimizer", "Gradient clipping by value (seed 001: clip_value)",
                      sp.Min(sp.Max(g, -clip), clip), (g,), {g: _kernel_form(r, g)}, {g: steps},
                      symbols=_symbols(g, clip), options={"clip_value": None}, quantity=g_c,
                      result_lhs={g: g_c})


def clip_grad_norm() -> Derivation:
    r = clip_scale_rule()
    g_c, n_c = _sym("g_clipped"), sp.Symbol("N_clipped", nonnegative=True)
    coef = dict(r.scalars)[kappa]
    steps, _ = _chain(g_c, coef * g, "definition (torch.nn.utils.clip_grad_norm_): "
                      "κ = min(1, c/(N + 10⁻⁶)), N = ‖g‖_p over all gradients", [
        ("kernel form: g·κ, κ computed once on the host", _kernel_form(r, g)),
        ("restate", "norm after clipping: ‖κg‖ = κ·N (κ ≥ 0)", kappa * norm, n_c),
        ("substitute κ", coef * norm),
        ("so the clipped norm is min(N, c·N/(N + 10⁻⁶)) < c whenever N > c",
         sp.Min(norm, max_norm * norm / (norm + CLIP_NORM_EPS))),
    ], equal_under=[(kappa, coef)])
    return Derivation("clip_grad_norm", "optimizer", "Gradient clipping by global norm",
                      coef * g, (g,), {g: _kernel_form(r, g)}, {g: steps},
                      symbols=_symbols(g, max_norm, norm, kappa, p_norm),
                      options={"max_norm": None, "norm_type": 2.0}, quantity=g_c,
                      result_lhs={g: g_c})


# --------------------------------------------------------------------------- seed 001's example


def quadratic_grad(x, y):
    """∇f for seed 001's f(x, y) = x² + 2y²."""
    return 2 * x, 4 * y


def seed_momentum_example(steps: int = 10, lr=Fraction(1, 10), mu_=Fraction(9, 10), start=(1, 1)):
    """Iterate torch.optim.SGD's momentum rule (and plain descent) on f = x² + 2y², exactly.

    Returns rows (t, (x, y) with momentum, (v_x, v_y), (x, y) plain), as SymPy Rationals.
    The rules applied are :func:`sgd_rule`'s, step by step, from (1, 1) with v₀ = 0.
    """
    heavy, plain = sgd_rule(momentum=True), sgd_rule()
    hyper = {"lr": sp.Rational(lr), "momentum": sp.Rational(mu_)}
    x = [sp.Rational(start[0]), sp.Rational(start[1])]
    vel = [sp.Integer(0), sp.Integer(0)]
    xp = list(x)
    rows = [(0, tuple(x), tuple(vel), tuple(xp))]
    for step in range(1, steps + 1):
        grads = quadratic_grad(*x)
        for i in range(2):
            new = heavy.evaluate({theta: x[i], g: grads[i], b: vel[i]}, step, **hyper)
            x[i], vel[i] = new[theta], new[b]
        pgrads = quadratic_grad(*xp)
        xp = [plain.evaluate({theta: xp[i], g: pgrads[i]}, step, **hyper)[theta] for i in range(2)]
        rows.append((step, tuple(x), tuple(vel), tuple(xp)))
    return rows


def momentum_rate(curvature, lr, mu_) -> tuple[sp.Expr, sp.Expr]:
    """Convergence factor per step of heavy-ball momentum and of plain descent on f = a·x²/2.

    Momentum's iteration (x, b) ↦ (x − lr(μb + a·x), μb + a·x) has the characteristic
    polynomial λ² − (1 + μ − lr·a)λ + μ; its largest |λ| is the factor. Plain: |1 − lr·a|.
    """
    lam = sp.Symbol("lambda")
    a_, lr, mu_ = sp.nsimplify(curvature), sp.nsimplify(lr), sp.nsimplify(mu_)
    roots = sp.solve(lam**2 - (1 + mu_ - lr * a_) * lam + mu_, lam)
    return max((sp.Abs(r_) for r_ in roots), key=lambda e: float(e)), sp.Abs(1 - lr * a_)
