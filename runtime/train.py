"""The training loop: mini-batches, optimizer steps, clipping, history, a progress bar, plots.

    history = fit(model, X, y, optimizer, epochs=20, batch_size=64, shuffle=True, seed=0,
                  validation=(X_val, y_val))
    history.plot("loss.png")          # needs matplotlib (the `plot` extra)

``fit`` works with any model that has ``loss_and_backward(X, y, return_output=...)``,
``parameters()``/``gradients()`` (runtime.nn models do). The progress bar is a small built-in
one, shown only when stderr is a terminal (``progress=True``/``False`` overrides).
"""
from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .data import DataLoader
from . import threads as _threads

__all__ = ["History", "fit", "evaluate", "ProgressBar", "pyplot", "save_figure"]


@dataclass
class History:
    """Per-epoch means (loss, accuracy, validation) and the loss of every update."""

    epoch: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)  # one per update
    grad_norm: list = field(default_factory=list)  # before clipping, when clip_norm is used
    seconds: float = 0.0
    thread_plan: str = ""  # the thread plan used (and how it was chosen)

    @property
    def updates(self) -> int:
        return len(self.step_loss)

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in self.__dict__.items() if isinstance(v, list)}

    def summary(self) -> str:
        parts = [f"epochs {len(self.epoch)}", f"updates {self.updates}",
                 f"loss {self.loss[-1]:.4f}" if self.loss else "loss -"]
        if self.accuracy:
            parts.append(f"accuracy {self.accuracy[-1]:.4f}")
        if self.val_loss:
            parts.append(f"val_loss {self.val_loss[-1]:.4f}")
        if self.val_accuracy:
            parts.append(f"val_accuracy {self.val_accuracy[-1]:.4f}")
        parts.append(f"{self.seconds:.2f} s")
        return ", ".join(parts)

    def plot(self, path, title: str = "training"):
        """Save loss (and accuracy) curves as a PNG; returns the path, or None without matplotlib.

        The figure is drawn without pyplot, so the caller's backend (a notebook's) is left as
        it is."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            return None
        panels = 2 if self.accuracy or self.val_accuracy else 1
        fig = Figure(figsize=(5 * panels, 3.6))
        axes = fig.subplots(1, panels, squeeze=False)
        ax = axes[0][0]
        if self.step_loss:
            per_epoch = self.updates / max(1, len(self.epoch))
            ax.plot(np.arange(1, self.updates + 1) / per_epoch, self.step_loss, lw=0.6,
                    alpha=0.4, label="per update")
        ax.plot(self.epoch, self.loss, marker=".", label="train (epoch mean)")
        if self.val_loss:
            ax.plot(self.epoch, self.val_loss, marker=".", label="validation")
        ax.set(xlabel="epoch", ylabel="loss", title=title)
        ax.legend()
        if panels == 2:
            ax = axes[0][1]
            if self.accuracy:
                ax.plot(self.epoch, self.accuracy, marker=".", label="train")
            if self.val_accuracy:
                ax.plot(self.epoch, self.val_accuracy, marker=".", label="validation")
            ax.set(xlabel="epoch", ylabel="accuracy")
            ax.legend()
        return save_figure(fig, path)


# --------------------------------------------------------------------------- plotting


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend, or None when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt = sys.modules.get("matplotlib.pyplot")  # a figure made by pyplot: release it there
    if plt is not None:
        plt.close(fig)  # (a no-op for a figure made without pyplot)
    return str(path)


# --------------------------------------------------------------------------- progress


class ProgressBar:
    """``epoch 3/10 [#######-----] 45/100 loss 0.1234 acc 0.9100`` on one refreshed line."""

    def __init__(self, total: int, epoch: int, epochs: int, stream=None, width: int = 24):
        self.total, self.epoch, self.epochs = total, epoch, epochs
        self.stream, self.width = stream or sys.stderr, width
        self._last = 0.0

    def update(self, done: int, loss: float, acc: float | None, force: bool = False):
        now = time.perf_counter()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        filled = int(self.width * done / max(1, self.total))
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"\repoch {self.epoch}/{self.epochs} [{bar}] {done}/{self.total} loss {loss:.4f}"
        if acc is not None:
            text += f" acc {acc:.4f}"
        self.stream.write(text)
        self.stream.flush()

    def close(self, extra: str = ""):
        self.stream.write(extra + "\n")
        self.stream.flush()


# --------------------------------------------------------------------------- loop


def _classification(model) -> bool:
    return getattr(model, "loss_name", None) in ("softmax_ce", "bce")


def _correct(model, out, y) -> tuple[int, int]:
    """(correct predictions, predictions made) on a batch: one per sample for softmax_ce
    (class labels other than ignore_index, or probability targets compared by their
    argmax), one per output for bce (multi-label heads are scored per label, as
    ``model.accuracy``)."""
    if model.loss_name == "softmax_ce":
        if y.ndim == 2:  # probability (e.g. one-hot) targets
            y = y.argmax(axis=1)
            return int(np.count_nonzero(out.argmax(axis=1) == y)), len(out)
        scored = y != model.loss_options.get("ignore_index", -100)  # as the loss skips them
        return (int(np.count_nonzero((out.argmax(axis=1) == y) & scored)),
                int(np.count_nonzero(scored)))
    pred = out > 0  # σ(z) > 1/2
    return int(np.count_nonzero(pred == (y.reshape(pred.shape) > 0.5))), pred.size


def _gradients_for(optimizer, model):
    """The gradient list matching the optimizer's parameters: per-layer views, the flat
    buffer when the optimizer was built on ``model.flat_parameters()`` (one array), or the
    gradients of the parameters it was given when it steps only some (frozen layers)."""
    params = getattr(optimizer, "_params", None)  # runtime.optim: its arrays, in step order
    mine = model.parameters() if hasattr(model, "parameters") else None
    if params is not None and mine is not None:
        flat = getattr(model, "flat_params", None)
        if len(params) == 1 and params[0] is flat:
            return model.flat_gradients
        if len(params) == len(mine) and all(p is q for p, q in zip(params, mine)):
            return model.gradients
        where = {id(q): k for k, q in enumerate(mine)}
        grads = model.gradients()
        picked = []
        for k, p in enumerate(params):
            if id(p) not in where:
                raise ValueError(
                    f"the optimizer's parameter {k} (shape {getattr(p, 'shape', '?')}) is not "
                    f"one of the model's parameters: build the optimizer on "
                    f"model.parameters() (or some of them) or model.flat_parameters(), after "
                    f"any model.to(...)")
            picked.append(grads[where[id(p)]])
        return lambda: picked
    groups = getattr(optimizer, "param_groups", None)
    flat = getattr(model, "flat_gradients", None)
    if groups is not None and flat is not None and len(model.parameters()) > 1 \
            and sum(len(g["params"]) for g in groups) == 1:
        return flat
    return model.gradients


def _as_model_inputs(model, X, y, names=("X", "y")):
    """X in the model's dtype and class labels as int64, converted once for the whole run
    rather than per batch by the model (the model still checks every batch). ``names`` are
    the arguments' names for the error messages."""
    nx, ny = names
    if type(X).__module__.split(".")[0] == "cupy" or type(y).__module__.split(".")[0] == "cupy":
        return X, y
    dtype = getattr(model, "dtype", None)
    X = np.asarray(X)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and X.dtype != dtype:
        from .nn import _real_input

        X = _real_input(X, dtype, nx)  # a TypeError naming X for complex, strings, dates
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{nx} has {len(X) if X.ndim else 'no'} samples but {ny} has "
                         f"{len(y) if y.ndim else 'no'} (shapes {X.shape} and {y.shape}); "
                         f"they must have one sample per row")
    sizes = _sizes(model)  # [input width, ...] of a runtime.nn model (a 1-D X is one feature)
    if sizes and (X.ndim > 2 or (X.shape[1] if X.ndim == 2 else 1) != sizes[0]):
        raise ValueError(f"{nx} has shape {X.shape} but the model takes {sizes[0]} features "
                         f"per sample: shape (n, {sizes[0]})")
    if getattr(model, "loss_name", None) == "softmax_ce" and y.ndim == 1:
        classes = _n_classes(model)
        if classes is not None:
            # Checked once on the whole y, so a bad label is named by its position in y (the
            # model's per-batch check would name its position in a shuffled batch).
            from .validate import labels

            ignore = getattr(model, "loss_options", {}).get("ignore_index", -100)
            y = labels(y, classes, ignore, ny)  # int64
    return X, y


def _sizes(model):
    """The layer widths the thread plan sizes its products by: an MLP's ``sizes``, or the
    input and output widths of a Sequential's Dense layers."""
    sizes = getattr(model, "sizes", None)
    if sizes is not None:
        return list(sizes)
    dense = [layer for layer in getattr(model, "layers", ()) if hasattr(layer, "out_features")]
    return [dense[0].in_features] + [layer.out_features for layer in dense] if dense else []


def _n_classes(model):
    """The class count of a softmax_ce model: the output width of its last Dense layer."""
    for layer in reversed(getattr(model, "layers", ())):
        if hasattr(layer, "out_features"):
            return layer.out_features
    return None


def _check_threads(threads):
    if threads is None or (isinstance(threads, str) and threads == "auto") \
            or isinstance(threads, _threads.ThreadPlan):
        return
    raise ValueError(f"threads={threads!r} is not a thread plan; use 'auto', None (leave "
                     f"the thread settings alone) or a runtime.threads.ThreadPlan")


def evaluate(model, X, y) -> dict:
    """Loss (and accuracy for classifiers) in evaluation mode."""
    result = {"loss": float(model.loss(X, y))}
    if _classification(model):
        result["accuracy"] = float(model.accuracy(X, y))
    return result


def fit(model, X, y, optimizer, *, epochs: int = 1, batch_size: int | None = None,
        shuffle: bool = True, seed=None, drop_last: bool = False, validation=None,
        clip_value: float | None = None, clip_norm: float | None = None,
        progress: bool | None = None, threads="auto", verbose: bool = False,
        callback=None, flush_denormal: bool = True) -> History:
    """Train ``model`` on (X, y) with ``optimizer``; returns the :class:`History`.

    ``optimizer`` may hold all of ``model.parameters()``, ``model.flat_parameters()``, or some
    of the parameters (the others stay frozen). X, y, the class labels and ``validation`` are
    checked before the first update; an error names the argument (and a bad label's
    position in y). ``batch_size=None`` is full-batch descent, 1 single-sample, otherwise mini-batch (seed
    003's three modes). ``clip_value`` / ``clip_norm`` clip the gradients before each step
    (runtime.clip). ``threads="auto"`` plans thread use for this network and batch size
    (:func:`runtime.threads.candidates`; with more than one candidate plan the first steps
    are timed under each and the fastest is kept, and kept watched: see
    :class:`runtime.threads.Tuner`);
    a :class:`~runtime.threads.ThreadPlan` is used as given; None leaves the thread settings
    alone. ``callback(epoch, history)`` runs after each epoch; returning True
    stops training. ``flush_denormal`` (default True) stores the optimizer kernels' subnormal
    results as 0 while training (:func:`runtime.optim.set_flush_denormal`; the previous mode
    is restored afterwards): without it the momentum of dead units decays into subnormals and
    every later step slows down (about 2× for bench_mlp's network after ~800 steps).

    A model moved to the GPU (``model.to("cuda")``) trains on CuPy ``X``/``y`` the same way;
    the history's per-step loss and accuracy are then one small read from the device per step.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    epochs = int(epochs)
    if not isinstance(flush_denormal, (bool, np.bool_)):
        raise TypeError(f"flush_denormal must be a bool, got {flush_denormal!r}")
    _check_threads(threads)
    X, y = _as_model_inputs(model, X, y)
    if validation is not None:  # checked now, not after the first epoch
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError(f"validation must be a pair (X_val, y_val), got "
                             f"{type(validation).__name__}")
        validation = _as_model_inputs(model, *validation,
                                      names=("validation X", "validation y"))
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                        drop_last=drop_last)
    if epochs and not len(loader):
        raise ValueError(f"no batch to train on: {loader.n} samples with batch_size="
                         f"{batch_size!r} and drop_last={drop_last!r}")
    from .nn import BatchNorm

    size = loader.batch_size or loader.n
    smallest = size if loader.drop_last or loader.n % size == 0 else loader.n % size
    if epochs and min(smallest, loader.n) == 1 and any(
            isinstance(layer, BatchNorm) for layer in getattr(model, "layers", ())):
        raise ValueError(f"a batch of 1 sample ({loader.n} samples, batch_size={batch_size!r}, "
                         f"drop_last={drop_last!r}): BatchNorm in training mode needs more "
                         f"than 1 sample per batch; pass drop_last=True (for a last batch of "
                         f"one) or another batch_size")
    if progress is None:
        progress = sys.stderr.isatty()
    classify = _classification(model)
    tuner = None
    if threads == "auto" and getattr(model, "device", "cpu") != "cpu":
        threads = None  # a model on the GPU: no host thread plan to make (nor to time)
    if threads == "auto":
        _threads.passive_wait()
        options = _threads.candidates(loader.batch_size or loader.n, _sizes(model))
        if len(options) > 1:
            tuner, threads = _threads.Tuner(options), None
        else:
            threads = options[0]
    params_grads = _gradients_for(optimizer, model)
    history = History()

    def train_step(xb, yb):
        loss, out = model.loss_and_backward(xb, yb, return_output=True)
        grads = params_grads()
        if clip_value is not None:
            from .clip import clip_grad_value_

            clip_grad_value_(grads, clip_value)
        if clip_norm is not None:
            from .clip import clip_grad_norm_

            history.grad_norm.append(float(clip_grad_norm_(grads, clip_norm)))
        optimizer.step(grads)
        return loss, out

    start = time.perf_counter()
    from .optim import flush_denormal as flushing

    with contextlib.ExitStack() as plan_in_force:
        plan_in_force.enter_context(flushing(bool(flush_denormal)))
        if threads is not None:
            plan_in_force.enter_context(_threads.using(threads))
            history.thread_plan = str(threads)
        planned = None if tuner is None else plan_in_force.enter_context(_threads.Planned(tuner))
        for epoch in range(1, epochs + 1):
            bar = ProgressBar(len(loader), epoch, epochs) if progress else None
            total_loss, seen, correct, scored = 0.0, 0, 0, 0
            for k, (xb, yb) in enumerate(loader, 1):
                if planned is not None:  # timed under the tuner's plan (see Tuner)
                    loss, out = planned(train_step, xb, yb)
                else:
                    loss, out = train_step(xb, yb)
                n = len(xb)
                history.step_loss.append(float(loss))
                total_loss += float(loss) * n
                seen += n
                if classify:
                    right, made = _correct(model, out, yb)
                    correct, scored = correct + right, scored + made
                if bar is not None:
                    bar.update(k, total_loss / seen, correct / scored if scored else None,
                               force=k == len(loader))
            history.epoch.append(epoch)
            history.loss.append(total_loss / seen if seen else math.nan)
            if classify:
                history.accuracy.append(correct / scored if scored else math.nan)
            extra = ""
            if validation is not None:
                scores = evaluate(model, *validation)
                history.val_loss.append(scores["loss"])
                extra = f" val_loss {scores['loss']:.4f}"
                if "accuracy" in scores:
                    history.val_accuracy.append(scores["accuracy"])
                    extra += f" val_acc {scores['accuracy']:.4f}"
            if bar is not None:
                bar.close(extra)
            elif verbose:
                acc = f" acc {history.accuracy[-1]:.4f}" if classify else ""
                print(f"epoch {epoch}/{epochs} loss {history.loss[-1]:.4f}{acc}{extra}", flush=True)
            if callback is not None and callback(epoch, history):
                break
        if planned is not None:
            history.thread_plan = (f"{planned.current} — timed: {tuner.summary()}"
                                   if tuner.medians else f"{planned.current} — tuning")
    history.seconds = time.perf_counter() - start
    return history
