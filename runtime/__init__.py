"""runtime: runs the generated kernels (losses, activations, optimizers, training)."""
