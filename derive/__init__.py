"""derive: neural-network losses, activations, layers and optimizer rules derived by SymPy.

Every formula of the project lives here once; codegen/ prints kernels from these expressions.
Only SymPy and the standard library are imported.

>>> import derive
>>> d = derive.get("bce")
>>> d.gradient("z")
-y + sigmoid(z)
"""
from .core import Derivation, Domain, Step, StepBuilder, StepCheckError
from .registry import ALIASES, ENTRIES, UnknownNameError, canonical, get, names

__all__ = ["ALIASES", "ENTRIES", "Derivation", "Domain", "Step", "StepBuilder", "StepCheckError",
           "UnknownNameError", "canonical", "get", "names"]
