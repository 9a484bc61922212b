"""Dense networks trained by back-propagation on the generated kernels.

Arrays are batch-major: a batch ``X`` has shape (N, features). A dense layer stores its weight
as (out, in), as ``torch.nn.Linear`` does, so the seeds' per-sample rules read row-wise:

    z = a Wᵀ + b                  (seed 002: z = W a + b per sample)
    δ = ∂L/∂z                     from the head's fused loss kernel, or from the layer above
    ∂L/∂W = δᵀ a,  ∂L/∂b = Σ δ    (seed 000: ∂L/∂W_l = δ_l a_{l−1}ᵀ, summed over the batch)
    ∂L/∂a = δ W                   (seed 000: W_{l+1}ᵀ δ_{l+1}), then ⊙ f'(z) by the activation

The products go through NumPy's BLAS; the elementwise parts are generated kernels: the
activation kernels of ``runtime.activation`` / ``runtime.activation_grad`` for f and its δ rule,
``runtime.loss_and_grad`` for the loss and ∂L/∂output at the head, and for batch normalisation
(after the dense layer, before the activation) and inverted dropout the kernels printed from
derive/batchnorm.py (runtime/generated/numba_layers.py). A dense layer's bias and the
activation right after it share one kernel (``<f>_bias_forward``: z ← f(z + b);
``<f>_backward_output_bias``: δ and ∂L/∂b = Σ δ in one pass; ``_rows`` twins for the
feature-major layout of small batches; see _BiasActivation).

Parameters live in one flat buffer per dtype (a model has one dtype), gradients in another of
the same layout; each layer holds views. ``model.parameters()`` and ``model.gradients()`` list
the views in buffer order, so ``runtime.optim`` steps the whole model with one fused kernel call::

    model = MLP([784, 256, 256, 10], "relu", loss="softmax_ce", seed=0)
    opt = runtime.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = model.loss_and_backward(X, labels)   # forward (training mode) and backward
    opt.step(model.gradients())

``model.flat_parameters()`` / ``model.flat_gradients()`` give the two flat buffers themselves
(one array each): the fastest way to step, with nothing to check per parameter.

On a GPU (CuPy), as PyTorch: move the model, then build the optimizer on its parameters::

    model = MLP([784, 256, 10], "relu", seed=0).to("cuda")   # or MLP(..., device="cuda")
    opt = runtime.optim.Adam(model.flat_parameters(), lr=1e-3)
    loss = model.loss_and_backward(cupy.asarray(X), cupy.asarray(labels))
    opt.step(model.flat_gradients())
    float(loss)                                               # a read back, if wanted

``to(device)`` ("cuda", "cpu", or an array module such as ``cupy``/``numpy``) moves the flat
parameter and gradient buffers (and batch norm's running statistics) and rebinds the layers'
views; the array module is decided there, once per model, never per call. On the device the
products are ``cupy.matmul`` (with ``out=`` into reused buffers, as on the host, always
batch-major), the activations and the head go through runtime.activation/activation_grad/
loss_and_grad to runtime.cuda_dispatch's CUDA kernels, and batch norm and dropout through
cuda_dispatch.batchnorm_forward/batchnorm_backward/dropout (the kernels of
runtime/generated/cupy_layers.py). Dropout's mask is drawn on the device by
``cupy.random.default_rng(seed)``: seeded and repeatable, but not the NumPy path's mask (as
torch's CUDA and CPU generators differ). A device step reads nothing back: ``loss_and_backward``
returns the loss as a 0-d device array (``float(loss)`` is the read). One exception lives in
cuda_dispatch: the softmax-CE head with class labels reads its label check's one scalar per
call. Inputs must be on the model's device: a NumPy X or y for a device model (or a CuPy one
for a host model) is a TypeError naming the argument; nothing is copied implicitly.
"""
from __future__ import annotations

import numbers
import weakref

import numpy as np

from . import init as _init
from .init import as_rng

__all__ = ["Layer", "Dense", "Activation", "BatchNorm", "Dropout", "Sequential", "MLP",
           "ACTIVATIONS", "CLASSIFICATION_HEADS"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
#: Heads that read the last layer's output as logits; every other loss of runtime.losses
#: (mse, mae, smooth_l1, huber, lp, ...) is a regression head on the output itself.
CLASSIFICATION_HEADS = ("softmax_ce", "bce")


def _positive_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 1


def _check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is not supported; valid: {', '.join(ACTIVATIONS)}")
    return name


def _head(loss: str) -> str:
    from .losses import LOSSES, canonical

    try:
        name = canonical(loss)
    except ValueError:
        raise ValueError(f"loss={loss!r} is not a supported head; valid: "
                         f"{', '.join(n for n in LOSSES if n != 'bce_logits')}") from None
    return "bce" if name == "bce_logits" else name  # the bce head always works on logits


FLOAT = (np.dtype(np.float32), np.dtype(np.float64))


def _activations():
    # Imported on first use: the activation kernels compile lazily.
    from . import activations

    return activations


def _loss_and_grad(name, pred, target, **kw):
    from .losses import loss_and_grad

    return loss_and_grad(name, pred, target, **kw)


def _numba_threads() -> int:
    import numba  # loaded by then: the kernels are Numba's

    return numba.get_num_threads()


def _layer_kernel(name, dtype):
    """A kernel of runtime/generated/numba_layers.py (printed from derive/batchnorm.py)."""
    from .generated import kernels

    return kernels("numba_layers")[(name, np.dtype(dtype).name)]


#: Batches smaller than this run a hidden Dense layer feature-major (see Dense.feature_major).
#: bench/bench_mlp_layouts.py times a 784→256 layer's three products in both layouts (OpenBLAS
#: 0.3.31, SkylakeX kernels, 1 thread): feature-major 6–14% faster at batch 64 (sgemm's packing
#: of a transposed weight costs more than the product at 64 rows), a tie at 256, batch-major
#: ~5% faster at 1024.
FEATURE_MAJOR_BELOW = 256


def _feature_major(a) -> bool:
    """True when ``a`` (batch, features) is stored feature-major: its transpose is C-contiguous."""
    return a.flags.f_contiguous and not a.flags.c_contiguous


def _buffer(cache: dict, key, shape, dtype, xp=np):
    """A reusable work array (fresh pages on every step cost more than the arithmetic), made by
    ``xp`` (the model's array module) when new."""
    a = cache.get(key)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = cache[key] = xp.empty(shape, dtype=dtype)
    return a


def _cuda():
    from . import cuda_dispatch

    return cuda_dispatch


def _is_cupy(a) -> bool:
    return type(a).__module__.split(".")[0] == "cupy"


def _device_module(device):
    """The array module for ``device``: "cuda"/"gpu" → cupy, "cpu" → numpy, or a module-like
    object with ``ndarray`` and ``asarray`` (cupy, numpy, a test's stand-in)."""
    if isinstance(device, str):
        key = device.split(":")[0].lower()
        if key == "cpu":
            return np
        if key in ("cuda", "gpu"):
            try:
                import cupy
            except ImportError as err:
                raise RuntimeError(f"device={device!r} needs CuPy ({err}); pip install -e "
                                   f"'.[gpu]'") from None
            try:  # CuPy imports without a GPU; its first allocation would fail obscurely
                count = cupy.cuda.runtime.getDeviceCount()
            except Exception as err:  # noqa: BLE001  (CUDARuntimeError: no driver, no device)
                raise RuntimeError(f"device={device!r}: no usable CUDA device ({err})") from None
            if count < 1:
                raise RuntimeError(f"device={device!r}: no usable CUDA device (none found)")
            index = device.partition(":")[2]
            if index:  # arrays go to CuPy's current device: an index must name that one
                if not index.isdigit():
                    raise ValueError(f"device={device!r} is not supported; valid: 'cpu', "
                                     f"'cuda', 'cuda:N', or an array module (numpy, cupy)")
                if int(index) >= count:
                    raise RuntimeError(f"device={device!r}: there are {count} CUDA device(s)")
                current = cupy.cuda.Device().id
                if int(index) != current:
                    raise NotImplementedError(
                        f"device={device!r}: models go to CuPy's current device ({current}); "
                        f"select device {index} first with cupy.cuda.Device({index}).use() "
                        f"(or a `with cupy.cuda.Device({index}):` block) and pass 'cuda'")
            return cupy
        raise ValueError(f"device={device!r} is not supported; valid: 'cpu', 'cuda', or an "
                         f"array module (numpy, cupy)")
    if hasattr(device, "ndarray") and hasattr(device, "asarray"):
        return device
    raise ValueError(f"device={device!r} is not supported; valid: 'cpu', 'cuda', or an array "
                     f"module (numpy, cupy)")


_LABEL_CHECK = []


def _label_check():
    """A compiled label check: the position of the first label outside [0, n) that is not
    ignore_index, or -1. One call instead of validate.labels's handful of array operations per
    batch; on a bad label validate.labels runs to raise its message."""
    if not _LABEL_CHECK:
        try:
            import numba

            @numba.njit(cache=True)
            def first_bad_label(t, n, ignore):
                for i in range(t.size):
                    c = t[i]
                    if c != ignore and (c < 0 or c >= n):
                        return i
                return -1

            _LABEL_CHECK.append(first_bad_label)
        except ImportError:  # validate.labels does the same with NumPy
            _LABEL_CHECK.append(None)
    return _LABEL_CHECK[0]


# --------------------------------------------------------------------------- layers


class Layer:
    """A step of the network: ``forward(x, training)`` and ``backward(upstream) -> ∂L/∂x``.

    Layers with parameters list them in ``param_specs`` (name, shape); the model binds views
    of its flat buffers to ``self.params[name]`` and ``self.grads[name]``.
    """

    param_specs: tuple = ()

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._work: dict = {}

    def init_params(self, rng) -> None:
        pass

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, upstream: np.ndarray, need_input_grad: bool = True):
        raise NotImplementedError

    # The device (CuPy) passes: ``xp`` is the model's array module (see Sequential.to).
    def forward_xp(self, x, training: bool, xp):
        raise NotImplementedError(f"{type(self).__name__} has no device (CuPy) forward")

    def backward_xp(self, upstream, need_input_grad: bool, xp):
        raise NotImplementedError(f"{type(self).__name__} has no device (CuPy) backward")

    def __getstate__(self):
        # a copy of a layer is a layer of no model (a copied model binds its copies again)
        return {k: v for k, v in self.__dict__.items() if k != "_owner"}

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class Dense(Layer):
    """z = a Wᵀ + b with W of shape (out_features, in_features).

    ``feature_major`` (set by Sequential when an activation and another Dense follow): for
    batches below FEATURE_MAJOR_BELOW the output z is the transpose of an (out, batch) buffer,
    zᵀ = W aᵀ + b, and backward gives ∂L/∂a in the layout of the input a. The values are the
    same either way; only which BLAS products run (and how fast) changes.
    """

    feature_major = False

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True,
                 init: str = "xavier_uniform", gain_for: str = "linear",
                 negative_slope: float = 0.01):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not _positive_int(v):
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.bias, self.init, self.gain_for = bool(bias), init, gain_for
        self.negative_slope = negative_slope
        specs = [("weight", (self.out_features, self.in_features))]
        if self.bias:
            specs.append(("bias", (self.out_features,)))
        self.param_specs = tuple(specs)
        self._input = None

    def init_params(self, rng):
        _init.initialize_(self.params["weight"], self.init, self.gain_for, seed=rng,
                          negative_slope=self.negative_slope)
        if self.bias:
            self.params["bias"][...] = 0

    def runs_feature_major(self, n: int) -> bool:
        """Whether a batch of ``n`` rows runs feature-major (see FEATURE_MAJOR_BELOW)."""
        return self.feature_major and n < FEATURE_MAJOR_BELOW

    def forward(self, x, training, add_bias=True):
        # add_bias=False: z = a Wᵀ only, for _BiasActivation, which adds the bias in the
        # activation's kernel
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"Dense({self.in_features}, {self.out_features}) got input of shape "
                             f"{x.shape}; expected (batch, {self.in_features})")
        self._input = x
        w, n = self.params["weight"], x.shape[0]
        if self.runs_feature_major(n):
            # zᵀ = W aᵀ + b into an (out, batch) buffer; z is its transpose (see
            # FEATURE_MAJOR_BELOW): OpenBLAS runs these small-batch products faster this way.
            zt = _buffer(self._work, "zt", (self.out_features, n), x.dtype)
            np.matmul(w, x.T, out=zt)
            if self.bias and add_bias:
                np.add(zt, self.params["bias"][:, None], out=zt)
            return zt.T
        z = _buffer(self._work, "z", (n, self.out_features), x.dtype)
        np.matmul(x, w.T, out=z)
        if self.bias and add_bias:
            np.add(z, self.params["bias"], out=z)
        return z

    def backward(self, delta, need_input_grad=True, bias_grad_done=False):
        # ∂L/∂W = δᵀ a, ∂L/∂b = Σ_batch δ, ∂L/∂a = δ W; each product in the layout of its
        # operands (δ and a may be batch-major or feature-major, see forward).
        # bias_grad_done: ∂L/∂b is in grads already (_BiasActivation's δ kernel summed it).
        grads, x = self.grads, self._input
        np.matmul(delta.T, x, out=grads["weight"])
        if self.bias and not bias_grad_done:
            # Σ_batch δ as 1ᵀδ: BLAS's gemv is 2–3× faster than np.sum(axis=0) (as accurate)
            ones = self._work.get("ones")
            if ones is None or ones.shape[0] != delta.shape[0] or ones.dtype != delta.dtype:
                ones = self._work["ones"] = np.ones(delta.shape[0], delta.dtype)
            if _feature_major(delta):
                np.matmul(delta.T, ones, out=grads["bias"])
            else:
                np.matmul(ones, delta, out=grads["bias"])
        if not need_input_grad:
            return None
        w = self.params["weight"]
        if _feature_major(x):  # ∂L/∂a in a's layout, for the elementwise δ kernel below
            dat = _buffer(self._work, "dat", (x.shape[1], x.shape[0]), delta.dtype)
            np.matmul(w.T, delta.T, out=dat)
            return dat.T
        da = _buffer(self._work, "da", x.shape, delta.dtype)
        return np.matmul(delta, w, out=da)

    def forward_xp(self, x, training, xp, add_bias=True):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"Dense({self.in_features}, {self.out_features}) got input of shape "
                             f"{x.shape}; expected (batch, {self.in_features})")
        self._input = x
        z = _buffer(self._work, "z", (x.shape[0], self.out_features), x.dtype, xp)
        xp.matmul(x, self.params["weight"].T, out=z)
        if self.bias and add_bias:
            xp.add(z, self.params["bias"], out=z)
        return z

    def backward_xp(self, delta, need_input_grad, xp):
        grads, x = self.grads, self._input
        xp.matmul(delta.T, x, out=grads["weight"])
        if self.bias:  # Σ_batch δ as 1ᵀδ, as the host path
            ones = self._work.get("ones")
            if ones is None or ones.shape[0] != delta.shape[0] or ones.dtype != delta.dtype:
                ones = self._work["ones"] = xp.ones(delta.shape[0], delta.dtype)
            xp.matmul(ones, delta, out=grads["bias"])
        if not need_input_grad:
            return None
        da = _buffer(self._work, "da", x.shape, delta.dtype, xp)
        return xp.matmul(delta, self.params["weight"], out=da)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias}, init={self.init!r}"


class Activation(Layer):
    """a = f(z) elementwise; backward δ = f'(z) ⊙ upstream by the generated δ kernel."""

    def __init__(self, name: str, **options):
        super().__init__()
        _check_activation(name)
        # checked here: the fast path below passes only the options it knows to the kernel
        _activations()._options(name, options)
        self.name, self.options = name, dict(options)
        self._z = self._a = None
        self._fm = False
        self._fast = {}

    def _kernels(self, dtype):
        """The generated forward and δ kernels for ``dtype``, looked up once.

        Called directly on this layer's own contiguous buffers, skipping the per-call checks
        of runtime.activation (worth ~10 µs a call at small batches); None when the generated
        table has no such entry, and then the public functions are used.
        """
        try:
            return self._fast[dtype]  # keyed by the dtype object: dtype.name is a slow property
        except KeyError:
            pass
        dtype = np.dtype(dtype)
        try:
            from .generated import kernels

            table = kernels("numba_activations")
            fwd = table[(self.name, "default", "forward", dtype.name)]
            bwd = table[(self.name, "default", "backward_output", dtype.name)]
            # with a dense layer's bias (_BiasActivation), batch-major and feature-major (rows);
            # None in an older generated module
            fused = [table.get((self.name, "default", kind, dtype.name)) for kind in
                     ("bias_forward", "backward_output_bias", "bias_rows_forward",
                      "backward_output_bias_rows")]
            slope = self.options.get("negative_slope", 0.01)
            args = (dtype.type(slope),) if self.name == "leaky_relu" else ()
            self._fast[dtype] = (fwd, bwd, args, *fused) if self._output_form() else None
        except (ImportError, KeyError, AttributeError):
            self._fast[dtype] = None
        return self._fast[dtype]

    def _output_form(self) -> bool:
        """Whether f' can be had from the output a alone (leaky_relu needs a slope > 0: with
        a slope ≤ 0, a's sign does not give z's)."""
        return self.name != "leaky_relu" or self.options.get("negative_slope", 0.01) > 0

    def forward(self, x, training):
        # Elementwise, so a feature-major x (see Dense) is worked on as its C-contiguous
        # transpose and the output keeps x's layout.
        fm = _feature_major(x)
        xc = x.T if fm else np.ascontiguousarray(x)
        a = _buffer(self._work, "a", xc.shape, xc.dtype)
        fast = self._kernels(xc.dtype)
        if fast is None:
            _activations().activation(self.name, xc, out=a, **self.options)
        else:
            fast[0](xc.reshape(-1), a.reshape(-1), *fast[2])
        self._z, self._a, self._fm = xc, a, fm
        return a.T if fm else a

    def backward(self, upstream, need_input_grad=True):
        # in the forward's layout: upstream as a C-contiguous array lined up with self._a
        up = np.asfortranarray(upstream).T if self._fm else np.ascontiguousarray(upstream)
        delta = _buffer(self._work, "delta", up.shape, up.dtype)
        fast = self._kernels(up.dtype)
        if fast is None or up.dtype != self._a.dtype:
            _activations().activation_grad(self.name, self._z, up, output=self._a, out=delta,
                                           **self.options)
        else:
            fast[1](self._a.reshape(-1), up.reshape(-1), delta.reshape(-1), *fast[2])
        return delta.T if self._fm else delta

    def forward_xp(self, x, training, xp):
        x = xp.ascontiguousarray(x)
        a = _buffer(self._work, "a", x.shape, x.dtype, xp)
        _activations().activation(self.name, x, out=a, **self.options)  # → cuda_dispatch
        self._z, self._a, self._fm = x, a, False
        return a

    def backward_xp(self, upstream, need_input_grad, xp):
        up = xp.ascontiguousarray(upstream)
        delta = _buffer(self._work, "delta", up.shape, up.dtype, xp)
        _activations().activation_grad(self.name, self._z, up, output=self._a, out=delta,
                                       **self.options)
        return delta

    def extra_repr(self):
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"{self.name!r}{opts}"


class BatchNorm(Layer):
    """Batch normalisation over the batch axis, per feature (torch.nn.BatchNorm1d semantics).

    Training: normalise by the batch mean and biased variance, update the running statistics
    with ``momentum`` (the running variance uses the unbiased estimate, as torch). Evaluation:
    normalise by the running statistics. Backward (training mode) is derive.batchnorm's rule
    ∂L/∂x = γ/√(σ²+ε) (g − mean(g) − x̂ mean(g x̂)); in evaluation mode the layer is affine.
    Both directions run the kernels generated from that derivation (runtime/generated/numba_layers.py).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        if not _positive_int(num_features):
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        if momentum is None:
            raise NotImplementedError("BatchNorm(momentum=None) (torch's cumulative moving "
                                      "average of the statistics) is not implemented; pass a "
                                      "momentum in [0, 1]")
        real = lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool)  # noqa: E731
        if not (real(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        if not (real(momentum) and 0 <= momentum <= 1):
            raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.param_specs = (("weight", (self.num_features,)), ("bias", (self.num_features,)))
        self.running_mean = self.running_var = None
        self._xhat = self._inv_std = None
        self._training = True

    def init_params(self, rng):
        self.params["weight"][...] = 1
        self.params["bias"][...] = 0
        dt = self.params["weight"].dtype
        self.running_mean = np.zeros(self.num_features, dtype=dt)
        self.running_var = np.ones(self.num_features, dtype=dt)

    def _start_forward(self, x, training, xp=np):
        """Check the batch, keep the mode and give (x contiguous, the output buffer); the
        saved statistics (1/σ, x̂) get their buffers too. Shared by the host and device paths."""
        self._training = training
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm({self.num_features}) got input of shape {x.shape}; "
                             f"expected (batch, {self.num_features})")
        if training and x.shape[0] < 2:
            raise ValueError(f"BatchNorm in training mode needs more than 1 sample per batch, "
                             f"got input of shape {x.shape}")
        x = xp.ascontiguousarray(x)
        dt = x.dtype
        self._inv_std = _buffer(self._work, "inv_std", (self.num_features,), dt, xp)
        self._xhat = _buffer(self._work, "xhat", x.shape, dt, xp)
        return x, _buffer(self._work, "y", x.shape, dt, xp)

    def forward(self, x, training):
        x, y = self._start_forward(x, training)
        dt = x.dtype
        w, b = self.params["weight"], self.params["bias"]
        if training:
            _layer_kernel("batchnorm_train", dt)(x, w, b, self.eps, self.momentum, self.running_mean,
                                                 self.running_var, self._inv_std, self._xhat, y)
        else:
            _layer_kernel("batchnorm_eval", dt)(x, w, b, self.eps, self.running_mean,
                                                self.running_var, self._inv_std, self._xhat, y)
        return y

    def backward(self, g, need_input_grad=True):
        dx = _buffer(self._work, "dx", g.shape, g.dtype)
        name = "batchnorm_backward" if self._training else "batchnorm_backward_eval"
        _layer_kernel(name, g.dtype)(np.ascontiguousarray(g), self._xhat, self.params["weight"],
                                     self._inv_std, dx, self.grads["weight"], self.grads["bias"])
        return dx if need_input_grad else None

    def forward_xp(self, x, training, xp):
        x, y = self._start_forward(x, training, xp)
        _cuda().batchnorm_forward(x, self.params["weight"], self.params["bias"], self.eps,
                                  self.momentum, self.running_mean, self.running_var,
                                  self._inv_std, self._xhat, y, training)
        return y

    def backward_xp(self, g, need_input_grad, xp):
        g = xp.ascontiguousarray(g)
        dx = _buffer(self._work, "dx", g.shape, g.dtype, xp)
        _cuda().batchnorm_backward(g, self._xhat, self.params["weight"], self._inv_std, dx,
                                   self.grads["weight"], self.grads["bias"], self._training)
        return dx if need_input_grad else None

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class Dropout(Layer):
    """Inverted dropout: zero each input with probability p, scale the rest by 1/(1 − p).

    The mask comes from a NumPy Generator seeded by ``seed``; a new mask each training forward.
    ``reseed(seed)`` restarts the sequence (used to make a forward pass repeatable).
    """

    def __init__(self, p: float = 0.5, seed=None):
        super().__init__()
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0 <= p < 1):
            raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.reseed(seed)
        self._mask = None

    def reseed(self, seed):
        self.seed = seed
        self.rng = as_rng(seed)
        self._device_rng = None  # drawn from self.seed again on the next device forward

    def forward(self, x, training):
        if not training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
        self._mask = (keep >= self.p).astype(x.dtype)  # m: 1 keeps an input, 0 drops it
        y = _buffer(self._work, "y", x.shape, x.dtype)
        _layer_kernel("dropout", x.dtype)(np.ascontiguousarray(x).reshape(-1),
                                          self._mask.reshape(-1), self.p, y.reshape(-1))
        return y

    def backward(self, upstream, need_input_grad=True):
        if self._mask is None:
            return upstream
        dx = _buffer(self._work, "dx", upstream.shape, upstream.dtype)
        _layer_kernel("dropout_backward", upstream.dtype)(
            np.ascontiguousarray(upstream).reshape(-1), self._mask.reshape(-1), self.p,
            dx.reshape(-1))
        return dx

    def forward_xp(self, x, training, xp):
        if not training or self.p == 0:
            self._mask = None
            return x
        if self._device_rng is None:
            seed = self.seed
            if not isinstance(seed, (int, np.integer)):  # None or a Generator: an int from it
                seed = int(as_rng(seed).integers(2**63))
            self._device_rng = xp.random.default_rng(int(seed))
        dt = x.dtype
        keep = self._device_rng.random(x.shape, dtype=np.float64 if dt == np.float64 else
                                       np.float32)
        self._mask = xp.asarray(keep >= self.p, dtype=dt)  # m: 1 keeps an input, 0 drops it
        x = xp.ascontiguousarray(x)
        y = _buffer(self._work, "y", x.shape, dt, xp)
        _cuda().dropout(x, self._mask, self.p, y)
        return y

    def backward_xp(self, upstream, need_input_grad, xp):
        if self._mask is None:
            return upstream
        g = xp.ascontiguousarray(upstream)
        dx = _buffer(self._work, "dx", g.shape, g.dtype, xp)
        _cuda().dropout(g, self._mask, self.p, dx, backward=True)
        return dx

    def extra_repr(self):
        return f"p={self.p}"


class _BiasActivation:
    """A Dense layer with a bias and the Activation after it, run as one on the host.

    The bias goes into the activation's kernel: forward z ← f(a Wᵀ + b) with one generated
    kernel over z (``<f>_bias_forward``, in place) where the bias add and the activation were
    two passes, and backward δ = f'(z) ⊙ upstream together with ∂L/∂b = Σ_batch δ
    (``<f>_backward_output_bias``) where the δ kernel and a gemv were two: 3–10% per step
    (bench/bench_step_revisions.py; figures in bench/RESULTS.md, bench_mlp_ops). Feature-major batches (small ones, Dense.feature_major) use the ``_rows``
    twins of the two kernels. The formulas are the activation's derived forms; only the loops
    are fused. Activations without those kernels (leaky_relu with a slope ≤ 0, whose δ needs
    z) run the two layers in turn. On a CuPy device the forward is fused the same way (the
    CUDA kernel ``<f>_bias_forward``); its backward is the δ kernel and 1ᵀδ, as unpaired.
    """

    def __init__(self, dense: "Dense", act: "Activation"):
        self.dense, self.act = dense, act
        self._fused = False

    def forward(self, x, training):
        dense, act = self.dense, self.act
        fast = act._kernels(x.dtype) if x.ndim == 2 else None
        fm = x.ndim == 2 and dense.runs_feature_major(x.shape[0])
        if fast is None or fast[5 if fm else 3] is None:
            self._fused = False
            return act.forward(dense.forward(x, training), training)
        # z: a C-contiguous (N, F) work buffer, or the transpose of an (F, N) one
        z = dense.forward(x, training, add_bias=False)
        zc = z.T if fm else z
        flat = zc.reshape(-1)
        fast[5 if fm else 3](flat, dense.params["bias"], flat, *fast[2])
        # the activation's state as after its own forward: its output a (in z's buffer), and
        # no z, which the fused backward never reads (the output form of f')
        act._z, act._a, act._fm = None, zc, fm
        self._fused = True
        return z

    def backward(self, upstream, need_input_grad=True):
        dense, act = self.dense, self.act
        if not self._fused:
            return dense.backward(act.backward(upstream), need_input_grad)
        fm, dtype = act._fm, act._a.dtype
        fast = act._kernels(dtype)
        # upstream lined up with a: C-contiguous, or (feature-major) the C-contiguous transpose
        up = (np.asfortranarray(upstream, dtype=dtype).T if fm
              else np.ascontiguousarray(upstream, dtype=dtype))
        delta = _buffer(act._work, "delta", up.shape, dtype)
        fast[6 if fm else 4](act._a.reshape(-1), up.reshape(-1), delta.reshape(-1),
                             dense.grads["bias"], *fast[2])
        return dense.backward(delta.T if fm else delta, need_input_grad, bias_grad_done=True)

    def forward_xp(self, x, training, xp):
        # On the device only the forward is fused (<f>_bias_forward, in place over z); the
        # backward is the activation's δ kernel and the dense layer's 1ᵀδ, as unpaired.
        dense, act = self.dense, self.act
        self._fused = act._output_form()  # the backward reads a, never z
        if not self._fused:
            return act.forward_xp(dense.forward_xp(x, training, xp), training, xp)
        z = dense.forward_xp(x, training, xp, add_bias=False)
        from . import cuda_dispatch

        cuda_dispatch.activation_bias_forward(act.name, z, dense.params["bias"], out=z,
                                              **act.options)
        act._z, act._a, act._fm = None, z, False  # as in forward: a in z's buffer, no z
        return z

    def backward_xp(self, upstream, need_input_grad, xp):
        return self.dense.backward_xp(self.act.backward_xp(upstream, True, xp), need_input_grad, xp)


def _fused_steps(layers):
    """The layers as the passes run them: each Dense with a bias that is followed by an
    Activation paired into a _BiasActivation, the rest as they are."""
    steps, k = [], 0
    while k < len(layers):
        layer = layers[k]
        if (isinstance(layer, Dense) and layer.bias and k + 1 < len(layers)
                and isinstance(layers[k + 1], Activation)):
            steps.append(_BiasActivation(layer, layers[k + 1]))
            k += 2
        else:
            steps.append(layer)
            k += 1
    return steps


# --------------------------------------------------------------------------- models


class Sequential:
    """Layers in order, their parameters in one flat buffer, and a loss head.

    ``loss`` names the head: ``softmax_ce`` (the last layer gives logits; labels are class
    indices), ``bce`` (logits through σ; BCE computed on the logits by the stable fused kernel,
    whose δ is σ(z) − y as seed 000 derives), or a regression loss (``mse``, ``mae``,
    ``smooth_l1``, ``huber``, ``lp``: any elementwise loss of runtime.losses, options in
    ``loss_options``) on the output. ``output_activation`` (regression heads only) puts
    an activation after the last layer, e.g. seed 000's sigmoid output with MSE: a name, or an
    ``Activation`` layer for one with options (``Activation("leaky_relu", negative_slope=0.2)``).
    ``device`` (default: the host) moves the model there once built; see ``to``.
    """

    def __init__(self, layers, *, loss: str = "softmax_ce", output_activation=None,
                 dtype=np.float32, seed=None, loss_options: dict | None = None, device=None):
        self.layers = list(layers)
        try:  # None is refused too: np.dtype(None) is float64, not the float32 default
            self.dtype = np.dtype(dtype) if dtype is not None else None
        except TypeError:  # not a dtype at all ("foo")
            self.dtype = None
        if self.dtype is None or self.dtype not in FLOAT:  # (None == float64 for NumPy)
            shown = repr(dtype) if self.dtype is None else self.dtype
            raise ValueError(f"dtype must be float32 or float64, got {shown}")
        loss = _head(loss)
        if output_activation is not None:
            if loss in ("softmax_ce", "bce"):
                raise ValueError(f"output_activation={output_activation!r} is not allowed with "
                                 f"loss={loss!r}: the loss applies its own softmax/sigmoid")
            self.layers.append(output_activation if isinstance(output_activation, Activation)
                               else Activation(output_activation))
        first = {}
        for k, layer in enumerate(self.layers):
            # a layer keeps its forward pass's state (input, output, mask) for its backward,
            # so one object at two positions would back-propagate with the later one's state
            j = first.setdefault(id(layer), k)
            if j != k:
                raise ValueError(f"layers[{k}] is the same {type(layer).__name__} object as "
                                 f"layers[{j}]; a layer keeps its forward pass's state for "
                                 f"backward, so each position needs its own instance (e.g. "
                                 f"{type(layer).__name__}(...) again, or copy.deepcopy)")
        self.loss_name, self.loss_options = loss, dict(loss_options or {})
        # Dense → Activation → Dense: the activation works in either layout and the next
        # Dense reads either, so the first may run feature-major (Dense.feature_major).
        for k, layer in enumerate(self.layers[:-2]):
            if isinstance(layer, Dense):
                layer.feature_major = (isinstance(self.layers[k + 1], Activation)
                                       and isinstance(self.layers[k + 2], Dense))
        self._steps = _fused_steps(self.layers)
        self.training = True
        self._work: dict = {}  # the head's gradient buffer
        self._ce_cache: dict = {}
        self.xp = np  # the array module of the parameters (see to())
        self._bind(as_rng(seed))
        if device is not None:
            self.to(device)

    # ---------------------------------------------------------------- parameters

    def _bind(self, rng):
        for k, layer in enumerate(self.layers):
            # its parameters are views of a live model's buffer: rebinding them here would
            # leave that model's flat buffer behind (its optimizer stepping what no layer reads)
            owner = getattr(layer, "_owner", None)
            if owner is not None and owner() is not None:
                raise ValueError(f"layers[{k}] ({layer!r}) belongs to another model already; "
                                 f"each model needs its own layer instances (e.g. "
                                 f"{type(layer).__name__}(...) again, or copy.deepcopy)")
        specs = [(layer, name, shape) for layer in self.layers for name, shape in layer.param_specs]
        total = sum(int(np.prod(shape)) for _, _, shape in specs)
        self.flat_params = np.zeros(total, dtype=self.dtype)
        self.flat_grads = np.zeros(total, dtype=self.dtype)
        self._views()
        for layer in self.layers:
            layer.init_params(rng)

    def _views(self):
        """Bind each layer's params/grads to views of the flat buffers."""
        self._names = []
        pos = 0
        for k, layer in enumerate(self.layers):
            if layer.param_specs:
                layer._owner = weakref.ref(self)  # see _bind
            for name, shape in layer.param_specs:
                n = int(np.prod(shape))
                layer.params[name] = self.flat_params[pos:pos + n].reshape(shape)
                layer.grads[name] = self.flat_grads[pos:pos + n].reshape(shape)
                self._names.append(f"{k}.{name}")
                pos += n

    # The passes that differ on the device; to() binds the device versions on the instance,
    # so the NumPy path runs its methods with no per-call test of where the arrays live.
    _DEVICE_METHODS = ("_input", "_target", "_forward", "_train_head", "backward")

    def to(self, device):
        """Move the model to ``device`` ("cuda", "cpu", or an array module: cupy, numpy) and
        return it. Parameters, gradients and batch norm's running statistics are copied to the
        device's flat buffers and the layers rebound to views of them; optimizers built before
        hold the old arrays (build them after moving, as in PyTorch). Array-valued
        ``loss_options`` (a class weight) move too."""
        xp = _device_module(device)
        if xp is self.xp:
            return self

        def move(a):
            host = a if self.xp is np else a.get()
            return host if xp is np else xp.asarray(host)

        self.flat_params, self.flat_grads = move(self.flat_params), move(self.flat_grads)
        self._views()
        for layer in self.layers:
            layer._work = {}
            if isinstance(layer, BatchNorm) and layer.running_mean is not None:
                layer.running_mean = move(layer.running_mean)
                layer.running_var = move(layer.running_var)
            for attr in ("_input", "_z", "_a", "_xhat", "_inv_std", "_mask"):
                if hasattr(layer, attr):
                    setattr(layer, attr, None)
        # array-valued loss options (a class weight, pos_weight) go along, as a torch loss
        # module's weight does with .to(): the loss kernels refuse a host/device mix
        self.loss_options = {k: (xp.asarray(v.get() if _is_cupy(v) else v)
                                 if isinstance(v, np.ndarray) or _is_cupy(v) else v)
                             for k, v in self.loss_options.items()}
        self._work, self._ce_cache = {}, {}
        self._use(xp)
        return self

    def _use(self, xp):
        """Make ``xp`` the model's array module and bind its passes (see _DEVICE_METHODS)."""
        self.xp = xp
        for name in self._DEVICE_METHODS:
            if xp is np:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, getattr(self, f"{name}_xp"))

    # copy.deepcopy and pickle: the array module goes by its device name (a module does not
    # pickle), and the copy's layers are bound again to views of the copy's flat buffers (a
    # copy would otherwise hold each view as an array of its own, and an optimizer on
    # flat_parameters() would step a buffer that the layers no longer read).
    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in self._DEVICE_METHODS}
        state["xp"] = self.device
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._views()
        self._use(_device_module(state["xp"]))

    @property
    def device(self) -> str:
        return "cpu" if self.xp is np else "cuda"

    def parameters(self) -> list[np.ndarray]:
        """Views of the flat parameter buffer, one per parameter, in buffer order."""
        return [layer.params[name] for layer in self.layers for name, _ in layer.param_specs]

    def gradients(self) -> list[np.ndarray]:
        """Views of the flat gradient buffer, matching ``parameters()``."""
        return [layer.grads[name] for layer in self.layers for name, _ in layer.param_specs]

    def flat_parameters(self) -> list[np.ndarray]:
        """[the flat parameter buffer]: an optimizer built on it steps the model in one call
        with no per-parameter bookkeeping (pair it with ``flat_gradients()``)."""
        return [self.flat_params]

    def flat_gradients(self) -> list[np.ndarray]:
        return [self.flat_grads]

    def named_parameters(self):
        return list(zip(self._names, self.parameters()))

    def state_dict(self) -> dict:
        """Copies of the parameters and running statistics, on the model's device."""
        state = {name: p.copy() for name, p in self.named_parameters()}
        for k, layer in enumerate(self.layers):
            if isinstance(layer, BatchNorm):
                state[f"{k}.running_mean"] = layer.running_mean.copy()
                state[f"{k}.running_var"] = layer.running_var.copy()
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy parameters and running statistics from ``state`` (ours, or a torch
        ``nn.Sequential``'s of the same layers). ``strict``, as torch's: every key of
        ``state_dict()`` must be there and no other (torch's ``num_batches_tracked`` of a batch
        norm layer is accepted and ignored: no momentum here reads it); ``strict=False`` copies
        the keys both have."""
        mine = dict(self.named_parameters())
        counters = set()
        for k, layer in enumerate(self.layers):
            if isinstance(layer, BatchNorm):
                mine[f"{k}.running_mean"] = layer.running_mean
                mine[f"{k}.running_var"] = layer.running_var
                counters.add(f"{k}.num_batches_tracked")
        missing = sorted(set(mine) - set(state))
        unexpected = sorted(set(state) - set(mine) - counters)
        if strict and (missing or unexpected):
            raise KeyError("state dict does not match the model: "
                           + "; ".join(f"{what} keys {keys}" for what, keys in
                                       (("missing", missing), ("unexpected", unexpected)) if keys)
                           + " (strict=False loads the keys both have)")
        mine = {name: target for name, target in mine.items() if name in state}
        for name, target in mine.items():
            value = state[name]
            if self.xp is np and _is_cupy(value):
                value = value.get()
            value = self.xp.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}, expected {target.shape}")
            target[...] = value

    # ---------------------------------------------------------------- modes

    def train(self, mode: bool = True):
        if not isinstance(mode, (bool, np.bool_)):  # bool("False") is True; torch refuses too
            raise ValueError(f"training mode is expected to be a bool, got mode={mode!r}")
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    # ---------------------------------------------------------------- passes

    def _input(self, X):
        if type(X).__module__.split(".")[0] == "cupy":
            raise TypeError(_placement("X", X, np))
        X = np.asarray(X)
        if X.dtype != self.dtype:
            X = _real_input(X, self.dtype)
        if X.ndim == 1:
            X = X[:, None]
        return X

    def _forward(self, X, training: bool) -> np.ndarray:
        # The result may be a layer's work buffer, overwritten by the next pass.
        a = self._input(X)
        for step in self._steps:
            a = step.forward(a, training)
        self._out_shape = tuple(a.shape)  # what backward's grad_output must match
        return a

    def forward(self, X, training: bool | None = None) -> np.ndarray:
        """The last layer's output (logits for softmax_ce and bce heads), a fresh array."""
        training = self.training if training is None else training
        return self._forward(X, training).copy()

    __call__ = forward

    def _target(self, y, out):
        if type(y) is not np.ndarray and _is_cupy(y):
            raise TypeError(_placement("y", y, np))
        if self.loss_name == "softmax_ce":
            return np.asarray(y)
        y = np.asarray(y, dtype=self.dtype)
        if y.ndim == 1 and out.ndim == 2 and out.shape[1] == 1:
            y = y[:, None]
        return y

    def loss(self, X, y) -> float:
        """The loss on (X, y) in evaluation mode (no gradients kept), as a float (on a device
        model: one read back)."""
        out = self._forward(X, training=False)
        loss, _ = self._head(out, y)
        return float(loss)

    def _head(self, out, y):
        target = self._target(y, out)
        name = "bce_logits" if self.loss_name == "bce" else self.loss_name
        return _loss_and_grad(name, out, target, **self.loss_options)

    def _ce_head(self, dtype, n_classes):
        """The softmax_ce head with class index targets, its options validated once (per
        dtype, class count and option values): a dict with the fused kernel and its
        arguments, and ``rows``, the kernel's serial row loop when it can be called directly
        (see _train_head); None when the options need the general path (a weight array)."""
        opts = self.loss_options
        if any(isinstance(v, np.ndarray) or k not in ("ignore_index", "label_smoothing")
               for k, v in opts.items()):
            return None
        key = (dtype, n_classes, tuple(sorted(opts.items())))
        hit = self._ce_cache.get(key)
        if hit is None:
            from . import validate
            from .generated import PARALLEL_MIN, kernels
            from .losses import SUFFIX

            ignore = validate.integer_option("ignore_index", opts.get("ignore_index", -100))
            eps = validate.option_range("label_smoothing", opts.get("label_smoothing", 0.0),
                                        ge=0.0, le=1.0)
            table = kernels("numba_losses")
            kernel = table[("softmax_ce", "index", "mean", SUFFIX[dtype])]
            hit = self._ce_cache[key] = {
                "kernel": kernel, "weight": np.ones(n_classes, dtype), "ignore": ignore,
                "eps": eps, "parallel_min": PARALLEL_MIN,
                "serial": table[("softmax_ce", "index_serial", "mean", SUFFIX[dtype])],
                "check": _label_check(),
            }
        return hit

    def _train_head(self, out, y):
        """The head's loss and ∂L/∂output (into a reused buffer) for ``loss_and_backward``.

        softmax_ce with class labels calls the fused kernel directly: the labels are checked
        once here (the kernel does no bounds checks), the options once per setting. Below the
        kernel's parallel size it calls the generated serial twin of the kernel: no
        thread-pool launch on small batches. Every other head goes through
        runtime.loss_and_grad with ``out=``.
        """
        grad = _buffer(self._work, "head_grad", out.shape, out.dtype)
        if self.loss_name == "softmax_ce" and out.ndim == 2 and out.flags.c_contiguous:
            n, c = out.shape
            head = self._ce_head(out.dtype, c)
            t = y if type(y) is np.ndarray else self._target(y, out)
            if head is not None and t.dtype.kind in "iu":
                from . import validate

                if t.shape != (n,):
                    raise ValueError(f"target has shape {t.shape} but the output has shape "
                                     f"{out.shape}: class labels need shape ({n},)")
                ignore = head["ignore"]
                if t.dtype != np.int64 or not t.flags.c_contiguous or head["check"] is None:
                    t = validate.labels(t, c, ignore, "target")
                elif head["check"](t, c, ignore) >= 0:
                    validate.labels(t, c, ignore, "target")  # raises, naming the label
                kernel = head["kernel"] if out.size >= head["parallel_min"] else head["serial"]
                return float(kernel(out, t, head["weight"], ignore, head["eps"], grad)), grad
        target = self._target(y, out)
        name = "bce_logits" if self.loss_name == "bce" else self.loss_name
        return _loss_and_grad(name, out, target, out=grad, **self.loss_options)

    def loss_and_backward(self, X, y, return_output: bool = False):
        """Forward in training mode, the head's fused loss kernel, and backward into the grads.

        Returns the loss (a float; on a device model a 0-d device array, read by ``float``),
        or (loss, output) with ``return_output`` (the output is a work buffer, valid until
        the next pass).
        """
        out = self._forward(X, training=True)
        loss, delta = self._train_head(out, y)
        self.backward(delta)
        return (loss, out) if return_output else loss

    def backward(self, grad_output: np.ndarray) -> None:
        """Back-propagate ∂L/∂output through every layer into ``gradients()`` (after a forward
        pass: grad_output has the shape of its output)."""
        g = self._grad_output(np.asarray(grad_output))
        last = len(self._steps) - 1
        for k, step in enumerate(reversed(self._steps)):
            g = step.backward(g, need_input_grad=k < last)  # no ∂L/∂X for the input

    def _grad_output(self, g):
        """``g`` checked against the last forward's output shape, in the model's dtype (as X)."""
        shape = getattr(self, "_out_shape", None)
        if tuple(g.shape) != shape:
            raise ValueError(f"grad_output has shape {tuple(g.shape)}, but the last forward "
                             f"pass gave an output of shape {shape}" if shape is not None else
                             "backward needs a forward pass first (forward or loss_and_backward)")
        return g if g.dtype == self.dtype else _real_input(g, self.dtype, "grad_output")

    # ---------------------------------------------------------------- device passes

    def _input_xp(self, X):
        xp = self.xp
        if not isinstance(X, xp.ndarray):
            raise TypeError(_placement("X", X, xp))
        if X.dtype != self.dtype:
            X = _real_input(X, self.dtype)
        if X.ndim == 1:
            X = X[:, None]
        return X

    def _target_xp(self, y, out):
        xp = self.xp
        if not isinstance(y, xp.ndarray):
            raise TypeError(_placement("y", y, xp))
        if self.loss_name == "softmax_ce":
            return y
        if y.dtype != self.dtype:
            y = y.astype(self.dtype)
        if y.ndim == 1 and out.ndim == 2 and out.shape[1] == 1:
            y = y[:, None]
        return y

    def _forward_xp(self, X, training: bool):
        a, xp = self._input_xp(X), self.xp
        for step in self._steps:
            a = step.forward_xp(a, training, xp)
        self._out_shape = tuple(a.shape)
        return a

    def _train_head_xp(self, out, y):
        # runtime.loss_and_grad hands device arrays to cuda_dispatch; the loss stays on the device
        grad = _buffer(self._work, "head_grad", out.shape, out.dtype, self.xp)
        target = self._target_xp(y, out)
        name = "bce_logits" if self.loss_name == "bce" else self.loss_name
        return _loss_and_grad(name, out, target, out=grad, **self.loss_options)

    def backward_xp(self, grad_output) -> None:
        xp = self.xp
        if not isinstance(grad_output, xp.ndarray):
            raise TypeError(_placement("grad_output", grad_output, xp))
        g = self._grad_output(grad_output)
        last = len(self._steps) - 1
        for k, step in enumerate(reversed(self._steps)):
            g = step.backward_xp(g, k < last, xp)

    # ---------------------------------------------------------------- predictions

    def predict_proba(self, X) -> np.ndarray:
        out = self._forward(X, training=False)
        if self.loss_name == "softmax_ce":
            # The fused kernel's per-sample gradient is softmax(z) − onehot(label): with the
            # argmax as label, adding the one back costs an absolute rounding error of the
            # dtype's epsilon at that entry (≥ 1/C), a relative C·ε: float32 works in float64.
            labels = out.argmax(axis=1)
            z = out if out.dtype == np.float64 else out.astype(np.float64)
            _, p = _loss_and_grad("softmax_ce", z, labels, reduction="none")
            p[self.xp.arange(len(labels)), labels] += 1
            return p.astype(out.dtype, copy=False)
        if self.loss_name == "bce":
            return _activations().activation("sigmoid", out)
        raise ValueError(f"predict_proba needs a classification head, the loss is {self.loss_name!r}")

    def predict(self, X) -> np.ndarray:
        """Class indices (softmax_ce), 0/1 labels (bce) or the regression output."""
        out = self._forward(X, training=False)
        if self.loss_name == "softmax_ce":
            return out.argmax(axis=1)
        if self.loss_name == "bce":
            labels = (out > 0).astype(np.int64)  # σ(z) > 1/2 ⇔ z > 0
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return out.copy()

    def accuracy(self, X, y) -> float:
        """The fraction of correct predictions (classification heads)."""
        if self.loss_name not in ("softmax_ce", "bce"):
            raise ValueError(f"accuracy needs a classification head, the loss is {self.loss_name!r}")
        pred = self.predict(X)
        if self.xp is np:
            y = self._target(y, pred) if _is_cupy(y) else np.asarray(y)  # _target: the TypeError
        elif not isinstance(y, self.xp.ndarray):
            raise TypeError(_placement("y", y, self.xp))
        labels = self.loss_name == "softmax_ce"
        if labels and y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)  # probability (e.g. one-hot) targets, as the loss takes them
            labels = False  # (ignore_index applies to class labels only, as in torch)
        if pred.shape != y.shape:
            y = y.reshape(pred.shape)
        if labels:  # labels the loss ignores are not scored either
            scored = y != self.loss_options.get("ignore_index", -100)
            return float((pred == y)[scored].mean())
        if self.loss_name == "bce":  # 0/1 labels or soft targets: the side of 1/2
            y = y > 0.5
        return float((pred == y).mean())

    def __repr__(self):
        inner = "\n".join(f"  ({k}): {layer!r}" for k, layer in enumerate(self.layers))
        return (f"{type(self).__name__}(\n{inner}\n  loss={self.loss_name!r}, dtype={self.dtype}, "
                f"parameters={self.flat_params.size}\n)")


def _real_input(X, dtype, name="X"):
    """``X`` (a NumPy array) converted to ``dtype``; a TypeError naming ``name`` for dtypes
    that are not real numbers (complex would lose its imaginary part, strings and dates
    would be parsed or counted)."""
    kind = X.dtype.kind
    if kind not in "biufO":
        raise TypeError(f"{name} has dtype {X.dtype}; it must hold real numbers (float, int "
                        f"or bool), converted to the model's {np.dtype(dtype).name}")
    try:
        return X.astype(dtype)
    except (TypeError, ValueError) as err:  # an object array of something else
        raise TypeError(f"{name} has dtype {X.dtype} and does not convert to "
                        f"{np.dtype(dtype).name}: {err}") from None


def _placement(name, value, xp) -> str:
    """The TypeError message for an input not on the model's device."""
    if xp is np:
        return (f"{name} is a CuPy array ({type(value).__name__}) but the model is on the host "
                f"(NumPy parameters); move the model with model.to('cuda'), or {name} with "
                f"cupy.asnumpy({name})")
    return (f"{name} is a {type(value).__module__}.{type(value).__name__} but the model is on "
            f"the device ({xp.__name__} parameters); move {name} with cupy.asarray({name}) "
            f"(nothing is copied implicitly)")


def _per_layer(value, n, name):
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} has {len(value)} entries for {n} hidden layers")
        return list(value)
    return [value] * n


def _default_init(act):
    # Seed 001: Xavier for tanh/sigmoid, He (Kaiming) for ReLU-like activations.
    return "kaiming_uniform" if act in ("relu", "leaky_relu") else "xavier_uniform"


class MLP(Sequential):
    """A multi-layer perceptron: [Dense → (BatchNorm) → activation → (Dropout)] × hidden, Dense.

    ``MLP([n, m, p], "relu")`` is seed 001's f = W2 max(0, W1 x + b1) + b2. ``activation`` (and
    ``init``) may be one value or one per hidden layer. ``negative_slope`` is the slope of every
    leaky_relu of the network, an ``output_activation="leaky_relu"`` included. ``init=None``
    picks Kaiming uniform for ReLU-like layers and Xavier uniform otherwise; the output layer
    gets Xavier uniform.
    ``device="cuda"`` builds it on the host (same seeded weights) and moves it (``to``).
    """

    def __init__(self, sizes, activation="relu", *, loss: str = "softmax_ce",
                 output_activation: str | None = None, batchnorm: bool = False,
                 dropout: float = 0.0, init=None, negative_slope: float = 0.01,
                 dtype=np.float32, seed=None, loss_options: dict | None = None, device=None):
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(f"sizes must be a list of layer widths, got {sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
        for v in sizes:
            if not _positive_int(v):
                raise ValueError(f"sizes must hold positive ints, got {v!r} in {sizes}")
        hidden = len(sizes) - 2
        acts = _per_layer(activation, hidden, "activation")
        inits = _per_layer(init, hidden, "init")
        rng = as_rng(seed)
        layers = []
        if not hidden and not isinstance(activation, (list, tuple)):
            _check_activation(activation)  # unused without a hidden layer, but a typo all the same
        for k in range(hidden):
            act = _check_activation(acts[k])
            layers.append(Dense(sizes[k], sizes[k + 1], init=inits[k] or _default_init(act),
                                gain_for=act, negative_slope=negative_slope,
                                bias=not batchnorm))  # BN's β makes the bias redundant
            if batchnorm:
                layers.append(BatchNorm(sizes[k + 1]))
            opts = {"negative_slope": negative_slope} if act == "leaky_relu" else {}
            layers.append(Activation(act, **opts))
            if dropout:
                layers.append(Dropout(dropout, seed=int(rng.integers(2**31))))
        layers.append(Dense(sizes[-2], sizes[-1], init="xavier_uniform"))
        self.sizes = sizes
        if output_activation == "leaky_relu":
            output_activation = Activation("leaky_relu", negative_slope=negative_slope)
        super().__init__(layers, loss=loss, output_activation=output_activation, dtype=dtype,
                         seed=rng, loss_options=loss_options, device=device)
