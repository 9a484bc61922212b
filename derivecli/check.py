"""`derivecli check NAME`: gradient checks of a derivation's generated kernels and of a small MLP.

For a loss, ``runtime.loss_and_grad``'s gradient; for an activation, ``runtime.activation_grad``
as the vector-Jacobian product of ``runtime.activation``; for a layer (batchnorm, dropout), the
runtime layer's backward. Then a small MLP that uses the piece (as its head, its activation or
its layer) is checked end to end. Every check is ``runtime.gradcheck``: central differences in
float64 against the analytic gradient. Exit status 1 when a check fails.
"""
from __future__ import annotations

import click

MLP_SIZES = [3, 5, 4]


class NoKernel(Exception):
    """The derivation has no runtime kernel (an optimizer update, a comparison, ...)."""

    def __init__(self, name, group):
        super().__init__(f"{name!r} (group {group!r}) has no generated runtime kernel to "
                         "gradcheck; `check` applies to the losses, activations and layers "
                         "that runtime runs")


def _runtime_losses():
    from runtime.losses import LOSSES

    return LOSSES


def _inputs(name, rng, shape=(4, 3)):
    import numpy as np

    if name == "softmax_ce":
        return rng.normal(size=shape), rng.integers(0, shape[1], size=shape[0])
    if name == "bce":
        return rng.uniform(0.05, 0.95, size=shape), rng.uniform(0, 1, size=shape)
    if name == "bce_logits":
        return rng.normal(size=shape), rng.uniform(0, 1, size=shape)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    return pred, np.where(np.abs(pred - target) < 1e-3, target + 0.1, target)  # off the kinks


def _kernel_check(name, group, rng):
    """(description, fn, inputs, wrt) for the generated kernels of ``name``."""
    import numpy as np

    import runtime
    from runtime import activations
    from runtime.nn import BatchNorm, Dense, Dropout, Sequential

    if group == "loss" and name in _runtime_losses():
        pred, target = _inputs(name, rng)
        return (f"runtime.loss_and_grad({name!r}) on a {pred.shape[0]}×{pred.shape[1]} batch",
                lambda p, t: runtime.loss_and_grad(name, p, t), (pred, target), 0)
    if group == "activation":
        z = rng.normal(size=(4, 3))
        z = np.where(np.abs(z) < 1e-3, 0.5, z)  # away from relu's kink
        return (f"runtime.activation_grad({name!r}) as the vjp of runtime.activation",
                lambda z: (activations.activation(name, z),
                           lambda g: activations.activation_grad(name, z, g)), (z,), None)
    if name == "batchnorm":
        layer = Sequential([BatchNorm(3)], loss="mse", dtype=np.float64).layers[0]
        layer.params["weight"][...] = rng.normal(size=3)
        layer.params["bias"][...] = rng.normal(size=3)

        def fn(x, w, b):
            layer.params["weight"][...], layer.params["bias"][...] = w, b
            y = layer.forward(x, training=True)
            return y, lambda g: (layer.backward(g), layer.grads["weight"].copy(),
                                 layer.grads["bias"].copy())

        return ("runtime.nn.BatchNorm backward (training mode) w.r.t. x, γ, β", fn,
                (rng.normal(size=(5, 3)) * 2 + 1, layer.params["weight"].copy(),
                 layer.params["bias"].copy()), None)
    if name == "dense":
        layer = Dense(3, 4)
        Sequential([layer], loss="mse", dtype=np.float64, seed=0)  # binds the parameters

        def fn(a, w, b):
            layer.params["weight"][...], layer.params["bias"][...] = w, b
            z = layer.forward(a, training=True).copy()
            return z, lambda d: (layer.backward(d), layer.grads["weight"].copy(),
                                 layer.grads["bias"].copy())

        return ("runtime.nn.Dense backward: ∂L/∂W = δᵀa, ∂L/∂b = Σ δ, ∂L/∂a = δW", fn,
                (rng.normal(size=(5, 3)), layer.params["weight"].copy(),
                 layer.params["bias"].copy()), None)
    if name == "dropout":
        layer = Dropout(0.4, seed=0)

        def fn(x):
            layer.reseed(0)  # the same mask for every evaluation
            y = layer.forward(x, training=True)
            return y, lambda g: layer.backward(g)

        return ("runtime.nn.Dropout backward (training mode, fixed mask)", fn,
                (rng.normal(size=(4, 3)),), None)
    raise NoKernel(name, group)


def _mlp_for(name, group):
    import numpy as np

    from runtime.nn import MLP

    kw = dict(dtype=np.float64, seed=0)
    if group == "loss":
        head = {"bce_logits": "bce"}.get(name, name)
        return f"MLP 3-5-4 (tanh) with the {name} head", MLP(MLP_SIZES, "tanh", loss=head, **kw), head
    if group == "activation":
        return f"MLP 3-5-4 ({name}) with a softmax-CE head", MLP(MLP_SIZES, name, **kw), "softmax_ce"
    if name == "batchnorm":
        return "MLP 3-5-4 (relu, batch norm)", MLP(MLP_SIZES, "relu", batchnorm=True, **kw), "softmax_ce"
    if name == "dropout":
        return "MLP 3-5-4 (relu, dropout 0.3)", MLP(MLP_SIZES, "relu", dropout=0.3, **kw), "softmax_ce"
    return "MLP 3-5-4 (tanh), two dense layers", MLP(MLP_SIZES, "tanh", **kw), "softmax_ce"


def _mlp_check(name, group, rng):
    import numpy as np

    from runtime.nn import Dropout

    title, model, head = _mlp_for(name, group)
    X = rng.normal(size=(6, MLP_SIZES[0]))
    if head == "softmax_ce":
        y = rng.integers(0, MLP_SIZES[-1], size=6)
    elif head == "bce":
        y = rng.uniform(0, 1, size=(6, MLP_SIZES[-1]))
    else:
        y = rng.normal(size=(6, MLP_SIZES[-1]))
    drops = [layer for layer in model.layers if isinstance(layer, Dropout)]

    def fn(flat):
        model.flat_params[...] = flat
        for layer in drops:
            layer.reseed(1)
        loss = model.loss_and_backward(X, y)
        return loss, model.flat_grads.copy()

    return f"{title}, {model.flat_params.size} parameters", fn, (model.flat_params.copy(),), None


def _say(line: str):
    """One line of the report, in ASCII when the terminal cannot show unicode (4×3, δᵀa)."""
    import sys

    from derive.render import ascii_text, stream_supports_unicode

    click.echo(line if stream_supports_unicode(sys.stdout) else ascii_text(line))


@click.command("check")
@click.argument("names", nargs=-1)
@click.option("--seed", default=0, type=click.IntRange(min=0), show_default=True,
              help="Seed of the random inputs.")
@click.option("--eps", default=1e-6, show_default=True, help="Central-difference step.")
@click.option("--atol", default=1e-5, show_default=True,
              help="Absolute tolerance of an entry's |analytic - numeric|.")
@click.option("--rtol", default=1e-3, show_default=True,
              help="Tolerance relative to |numeric|, added to --atol.")
def check(names, seed, eps, atol, rtol):
    """Gradient-check the generated kernels of NAMES (default: every loss, activation, layer).

    Each check compares the analytic gradient with float64 central differences (--eps) and
    passes when |analytic - numeric| <= atol + rtol·|numeric| for every entry; the exit
    status is 1 when a check fails.

    \b
    Examples:
      derivecli check bce
      derivecli check relu batchnorm
    """
    import numpy as np

    from derive import registry
    from runtime.gradcheck import GradcheckError, gradcheck

    for opt, v, positive in (("--eps", eps, True), ("--atol", atol, False), ("--rtol", rtol, False)):
        if not (0 < v < float("inf") if positive else v >= 0):  # NaN fails both
            raise click.BadParameter(f"{v!r}: must be a {'positive' if positive else 'non-negative'}"
                                     " number", param_hint=opt)
    explicit = bool(names)
    if not names:
        names = [e.name for e in registry.ENTRIES if e.group in ("loss", "activation", "layer")]
    try:  # every name before any check runs
        names = [registry.canonical(raw) for raw in names]
    except registry.UnknownNameError as err:
        raise click.UsageError(str(err)) from None
    failed = 0
    for name in names:
        group = registry.entry(name).group
        rng = np.random.default_rng(seed)
        try:
            checks = (_kernel_check(name, group, rng), _mlp_check(name, group, rng))
        except NoKernel as err:
            if explicit:
                raise click.UsageError(str(err)) from None
            click.echo(f"skip  {name}: no runtime kernel (a derivation only)")
            continue
        for what, fn, inputs, wrt in checks:
            try:
                # a huge --eps overflows inside the model: the report names the non-finite
                # numeric entry, NumPy's warnings on the way would only repeat it
                with np.errstate(over="ignore", invalid="ignore"):
                    gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, wrt=wrt)
                _say(f"ok    {name}: {what}")
            except GradcheckError as err:
                failed += 1
                _say(f"FAIL  {name}: {what}\n      {err}")
    if failed:
        raise SystemExit(1)
