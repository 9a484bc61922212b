"""Names and aliases of every derivation, built lazily (and checked) only when asked for."""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from functools import lru_cache

from .core import Derivation


@dataclass(frozen=True)
class Entry:
    name: str
    group: str  # "loss", "activation", "layer", "optimizer", "information"
    summary: str  # one line for `derivecli list`
    factory: str  # "module:function" inside derive/


# One line per derivation. Each helper module adds its own entries here.
ENTRIES: tuple[Entry, ...] = (
    Entry("softmax_ce", "loss", "softmax cross-entropy: ∂L/∂z = softmax(z) − onehot(c)", "losses:softmax_ce"),
    Entry("bce", "loss", "binary cross-entropy: (ŷ − y)/(ŷ(1 − ŷ)); through σ: σ(z) − y", "losses:bce"),
    Entry("bce_logits", "loss", "BCE on logits: σ(z)(p_w y + 1 − y) − p_w y, stable softplus form", "losses:bce_logits"),
    Entry("mse", "loss", "squared error: 2(ŷ − y)", "losses:mse"),
    Entry("mae", "loss", "absolute error: sign(ŷ − y), 0 at 0", "losses:mae"),
    Entry("smooth_l1", "loss", "SmoothL1 with beta: r/β inside, sign(r) outside", "losses:smooth_l1"),
    Entry("huber", "loss", "Huber with delta: r inside, δ·sign(r) outside", "losses:huber"),
    Entry("reduction", "loss", "reduction mean | sum over a batch: ∂L/∂ŷ_k = ℓ'(ŷ_k, y_k)/N or ℓ'(ŷ_k, y_k)", "losses:reduction"),
    Entry("lp", "loss", "Lp loss |y − ŷ|^p: p|ŷ − y|^(p−1)·sign(ŷ − y); p = 2 MSE, p = 1 MAE", "losses:lp"),
    Entry("mse_vs_mae", "loss", "MSE vs MAE: r² > |r| iff |r| > 1; |2r| > |sign r| iff |r| > 1/2", "losses:mse_vs_mae"),
    Entry("mse_multi", "loss", "multi-target MSE 1/(mn) ΣΣ (y − ŷ)²: 2(ŷ_kl − y_kl)/(mn)", "losses:mse_multi"),
    Entry("entropy", "information", "entropy H(p) = −Σ p log p: ∂H/∂p_i = −(log p_i + 1)", "info:entropy"),
    Entry("kl", "information", "KL(p‖q) = −Σ p log(q/p): ∂/∂q_i = −p_i/q_i; KL(p‖p) = 0", "info:kl"),
    Entry("cross_entropy_kl", "information", "H(p,q) = H(p) + KL(p‖q): same q-gradient, both minimised at q = p", "info:cross_entropy_kl"),
    Entry("sigmoid", "activation", "σ(z) = 1/(1 + e^(−z)): σ' = σ(1 − σ) = a(1 − a)", "activations:sigmoid"),
    Entry("tanh", "activation", "tanh(z): tanh' = 1 − tanh² = 1 − a²", "activations:tanh"),
    Entry("relu", "activation", "max(z, 0): 1 for z > 0 else 0 (0 at 0); same test on a", "activations:relu"),
    Entry("leaky_relu", "activation", "leaky ReLU (negative_slope α = 0.01): 1 for z > 0, α otherwise", "activations:leaky_relu"),
    Entry("sgd", "optimizer", "SGD: b = μb + (1 − τ)g (b₁ = g), θ −= lr·b; Nesterov, weight decay", "optim:sgd"),
    Entry("momentum", "optimizer", "seed 001's momentum v = μv + g, θ −= εv, unrolled", "optim:momentum"),
    Entry("adagrad", "optimizer", "Adagrad: s += g², θ −= lr_t·g/(√s + ε)", "optim:adagrad"),
    Entry("rmsprop", "optimizer", "RMSprop: v = αv + (1 − α)g², θ −= lr·g/(√v + ε); centered, momentum", "optim:rmsprop"),
    Entry("adam", "optimizer", "Adam: bias-corrected m̂/(√v̂ + ε), amsgrad, weight decay", "optim:adam"),
    Entry("adamw", "optimizer", "AdamW: θ ← θ(1 − lr·λ), then the Adam step", "optim:adamw"),
    Entry("clip_grad_value", "optimizer", "clip by value: clamp(g, −c, c)", "optim:clip_grad_value"),
    Entry("clip_grad_norm", "optimizer", "clip by global norm: g·min(1, c/(‖g‖ + 1e−6))", "optim:clip_grad_norm"),
    Entry("batchnorm", "layer", "batch norm: γ/(N√(σ²+ε))(N g_k − Σg − x̂_k Σ g x̂), Σ g x̂, Σ g", "batchnorm:batchnorm"),
    Entry("dense", "layer", "dense z = Wa + b: δ = (a − y)⊙f', σ − y, softmax − y; δˡ = Wᵀδ⊙f'; ∂W = δ aᵀ, ∂b = δ", "dense:dense"),
    Entry("dropout", "layer", "inverted dropout: ∂L/∂x = g·m/(1 − p)", "batchnorm:dropout"),
)

ALIASES = {
    "ce": "softmax_ce",
    "cross_entropy": "softmax_ce",
    "crossentropy": "softmax_ce",
    "softmax_cross_entropy": "softmax_ce",
    "binary_cross_entropy": "bce",
    "bce_with_logits": "bce_logits",
    "binary_cross_entropy_with_logits": "bce_logits",
    "l2": "mse",
    "l1": "mae",
    "smoothl1": "smooth_l1",
    "leakyrelu": "leaky_relu",
    "kl_divergence": "kl",
    "relative_entropy": "kl",
    "batch_norm": "batchnorm",
    "bn": "batchnorm",
    "heavy_ball": "momentum",
    "adam_w": "adamw",
    "rms_prop": "rmsprop",
    "clip_value": "clip_grad_value",
    "clip_norm": "clip_grad_norm",
}


class UnknownNameError(KeyError):
    """A derivation name that is not registered; the message lists the closest names."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name, self.suggestions = name, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown derivation {name!r}{hint} (see `derivecli list`)")

    def __str__(self):
        return self.args[0]


def _by_name() -> dict[str, Entry]:
    return {e.name: e for e in ENTRIES}


def names(group: str | None = None) -> list[str]:
    return [e.name for e in ENTRIES if group is None or e.group == group]


def entry(name: str) -> Entry:
    return _by_name()[canonical(name)]


def canonical(name: str) -> str:
    """The canonical name for ``name``: case, hyphens and aliases are accepted."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key in _by_name():
        return key
    known = list(_by_name()) + list(ALIASES)
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    raise UnknownNameError(str(name), list(dict.fromkeys(ALIASES.get(c, c) for c in close)))


@lru_cache(maxsize=None)
def _build(name: str) -> Derivation:
    module, function = _by_name()[name].factory.split(":")
    return getattr(importlib.import_module(f"derive.{module}"), function)()


def get(name: str) -> Derivation:
    """The derivation called ``name`` (or an alias), built and checked on first use."""
    return _build(canonical(name))
