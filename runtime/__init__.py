"""runtime: runs the generated kernels (losses, activations, optimizers, training).

``from runtime import loss_and_grad, activation, activation_grad``: fused, generated Numba
kernels (see runtime.losses and runtime.activations for the contract). Importing runtime does
not import the generated modules; each kernel compiles on its first call (then cached on disk).
"""
from .activations import activation, activation_grad
from .losses import loss_and_grad
from .gradcheck import gradcheck  # the function; the module is runtime.gradcheck

__all__ = ["activation", "activation_grad", "loss_and_grad", "gradcheck"]
