"""Generate kernel modules from derive/'s derivations, and keep the committed ones up to date.

- ``generate_module(backend, names) -> str``: the source of one standalone module (it imports
  only numpy, numba and math) with kernels for the given derivation names (all when empty).
- ``write_module(path, text)``: write atomically (temporary file in the same directory, then
  ``os.replace``), so a reader never sees half a module.
- ``regenerate_all(root=None, write=True)``: the project's committed modules
  (:data:`COMMITTED`), regenerated; written when ``write``. Returns {relative path: text}.

Command line: ``python -m codegen.generate --update`` rewrites the committed modules;
``--check`` exits 1 (with a diff) when one has drifted.
"""
from __future__ import annotations

import difflib
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

GENERATOR_VERSION = "12"  # 12: softmax_ce row losses summed with compensation; 11: activations fused with a dense layer's bias (bias_forward, backward_output_bias); 10: the block sums of a mean or sum added pairwise (pairwise_sum); 9: softmax_ce confident rows: the argmax gradient for probability targets and label smoothing, (wq_r − a·rest)/s; 8: softmax_ce Σ a_j (m − z_j) summed as is; 7: softmax_ce confident rows (log1p of the rest), (m − z_c) + log(s); 6: cancellation-free sigmoid/tanh/bce_logits gradients; 5: CACHE switch, argument checks
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NumbaConfig:
    """Per-backend generator settings (a value: a changed setting is a new config)."""

    block: int = 2048  # elements per parallel block of an elementwise kernel
    row_block: int = 131072  # logits per block of rows of a softmax kernel, at most (bench_softmax_blocks)
    # Loss kernels write gradients of at least this many bytes with streaming stores
    # (codegen.numba_reduce.STREAM_SOURCE); smaller ones stay in cache for the next layer.
    stream_min_bytes: int = 1 << 22
    stream_row: int = 32768  # longest softmax row streamed (its stack buffer: 128 KiB in float32)
    fastmath: tuple[str, ...] = ("nsz", "arcp", "contract", "afn")  # never nnan/ninf/reassoc
    mathlib: bool | None = None  # None: the vectorizable mathlib when codegen.numba_mathlib exists
    dtypes: tuple[str, ...] = ("float32", "float64")


BACKENDS = {"numba": NumbaConfig()}
LAYER_NAMES = ("batchnorm", "dropout")  # codegen.numba_layers writes their module


def _group_names(names) -> tuple[list[str], list[str], list[str]]:
    """(losses, activations, skipped): every templated derivation when ``names`` is empty;
    an explicitly named derivation without a kernel template is an error."""
    from derive import registry

    from .numba_losses import has_template

    losses, activations, skipped = [], [], []
    wanted = [registry.canonical(n) for n in names] if names else registry.names()
    for name in dict.fromkeys(wanted):
        group = registry.entry(name).group
        if group == "loss" and has_template(name):
            losses.append(name)
        elif group == "activation":
            activations.append(name)
        elif names:  # asked for explicitly: say so rather than skip it
            raise NotImplementedError(
                f"the numba generator has no kernel template for {name!r} (group {group!r}); "
                f"it generates the losses and activations with kernel forms")
        else:
            skipped.append(name)
    return losses, activations, skipped


def source_hash(items) -> str:
    """sha256 (first 16 hex digits) of the SymPy expressions kernels are printed from."""
    h = hashlib.sha256(f"generator {GENERATOR_VERSION}\n".encode())
    for name, key, expr in items:
        h.update(f"{name}:{key}:{sp.srepr(expr)}\n".encode())
    return h.hexdigest()[:16]


def generate_module(backend: str = "numba", names=(), *, config: NumbaConfig | None = None,
                    command: str | None = None) -> str:
    """Source text of a standalone kernel module for ``names`` (every derivation when empty).

    ``command`` is how the header says to regenerate it (default: the committed modules' way).
    """
    if backend == "cupy":  # the CUDA backend's own generator (codegen/cuda_kernels.py)
        from .cuda_kernels import generate_module as cuda_module

        return cuda_module(list(names) or None)
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}: available backends: {', '.join(BACKENDS)}, cupy")
    from derive import registry

    from . import numba_losses
    from .numba_printer import NumbaPrinter, constant_lines

    config = config or BACKENDS[backend]
    wanted = {registry.canonical(n) for n in names}
    if wanted and wanted <= set(LAYER_NAMES):  # batch norm and dropout: a module of their own
        from . import numba_layers

        return numba_layers.generate_module(command=command)
    if wanted & set(LAYER_NAMES):
        raise NotImplementedError(
            f"{', '.join(sorted(wanted & set(LAYER_NAMES)))}: the layer kernels (batchnorm, "
            f"dropout) are generated in their own module; generate them apart from "
            f"{', '.join(sorted(wanted - set(LAYER_NAMES)))}")
    losses, activations, skipped = _group_names(list(names))
    printers = {dt: NumbaPrinter(dt, mathlib=config.mathlib) for dt in config.dtypes}
    kernels, hashed = [], []  # kernels: (key, function name, source)
    for name in losses:
        d = registry.get(name)
        if name in numba_losses.ELEMENTWISE:
            hashed += [(name, k, e) for k, e in numba_losses.source_expressions(d)]
            for dt in config.dtypes:
                kernels += numba_losses.elementwise_kernels(d, dt, printers[dt])
        elif name == "softmax_ce":
            hashed += [(name, k, e) for k, e in numba_losses.softmax_ce_source_expressions(d)]
            for dt in config.dtypes:
                kernels += numba_losses.softmax_ce_kernels(d, dt, printers[dt])
    for name in activations:
        from . import numba_activations

        d = registry.get(name)
        hashed += [(name, k, e) for k, e in numba_activations.source_expressions(d)]
        for dt in config.dtypes:
            kernels += numba_activations.activation_kernels(d, dt, printers[dt])

    all_names = losses + activations
    own = [n for n in skipped if n in LAYER_NAMES or registry.entry(n).group == "optimizer"]
    none = [n for n in skipped if n not in own]
    mathlib = any(p.mathlib_used for p in printers.values())
    head = [
        "# generated, do not edit: regenerate with "
        f"`{command or 'python -m codegen.generate --update'}`",
        f"# Generator: codegen numba backend, version {GENERATOR_VERSION}",
        f"# Derivations: {', '.join(all_names)}",
        *([f"# In modules of their own (name them: derivecli gen --backend numba adam -o "
            f"optim.py): {', '.join(own)}"] if own else []),
        *([f"# No kernel template: {', '.join(none)}"] if none else []),
        f"# Source hash: sha256:{source_hash(hashed)} (of the SymPy expressions printed below)",
        '"""Numba kernels generated from derive/ (see each kernel\'s docstring for its formula).',
        "",
        "Standalone: imports numpy, numba and math only. Kernels compile on first call",
        "(lazily, no signatures at import) and are cached on disk when the module is",
        "imported under its file's name (CACHE, below: not when loaded by path under another).",
        "KERNELS maps (name, variant, kind, dtype) to the kernel function.",
        "",
        "Calling a kernel (the signatures below; runtime/ calls them so): arrays of the kernel's",
        "dtype (_f32: float32, _f64: float64). Elementwise losses and activations take 1-D",
        "arrays of one size (ravel n-D ones); softmax_ce takes (N, C) logits, (N,) integer",
        "labels or (N, C) probability targets, (C,) weight. Outputs (grad, loss, out) are",
        "allocated by the caller and may be an input itself (in place). Reductions 'mean' and",
        "'sum' return the loss; 'none' writes per-element (per-row) losses into loss. Array",
        "sizes, class labels and outputs partly overlapping an input are checked (ValueError);",
        "values are not (bce's probabilities in [0, 1], option ranges): validate those as",
        "runtime/ does.",
        '"""',
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        f"FASTMATH = {{{', '.join(repr(f) for f in config.fastmath)}}}  # keeps NaN/Inf semantics",
        f"BLOCK = {config.block}",
        *([f"ROW_BLOCK = {config.row_block}", f"STREAM_MIN_BYTES = {config.stream_min_bytes}",
            f"STREAM_ROW = {config.stream_row}"]
          if losses else []),
        "",
    ]
    from .numba_cache import CACHE_SOURCE

    parts = ["\n".join(head), CACHE_SOURCE.strip("\n") + "\n"]
    if mathlib:
        from .numba_mathlib import MATHLIB_SOURCE

        parts.append(MATHLIB_SOURCE.strip("\n") + "\n")
    if losses or activations:  # the loss kernels' sums and row maxima; wide_vectors
        from .numba_reduce import REDUCE_SOURCE

        parts.append(REDUCE_SOURCE.strip("\n") + "\n")
    if losses:  # the block sums of a reduction, added in pairs
        from .numba_reduce import PAIRWISE_SOURCE

        parts.append(PAIRWISE_SOURCE.strip("\n") + "\n")
    if losses or activations:  # stack buffers; streaming stores for large gradients
        from .numba_reduce import STREAM_SOURCE

        parts.append(STREAM_SOURCE.strip("\n") + "\n")
    if losses or activations:  # the kernels' argument checks (sizes, labels)
        from .numba_checks import CHECKS_SOURCE

        parts.append(CHECKS_SOURCE.strip("\n") + "\n")
    consts = constant_lines(*printers.values())
    if consts:
        parts.append("# float32 constants: typed globals, so no literal promotes a loop to float64\n"
                     + "\n".join(consts) + "\n")
    parts += [src for _, _, src in kernels if src]
    table = ["KERNELS = {"] + [f"    {key!r}: {fname}," for key, fname, _ in kernels] + ["}"]
    parts.append("\n".join(table) + "\n")
    return "\n\n".join(parts)


def write_module(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file in the same directory + rename).

    A path that names a directory (or nothing, or ends in a separator) raises
    IsADirectoryError naming it; an existing file that is not a regular one (/dev/stdout, a
    pipe) is written through, not replaced."""
    shown = os.fspath(path)
    path = Path(path)
    if (not path.name or path.is_dir()  # os.replace would fail late, or replace a directory
            or shown.endswith(("/", os.sep))):  # Path drops the separator: "dir/" → "dir"
        raise IsADirectoryError(f"cannot write the module to {shown!r}: it names a directory, "
                                f"not a file")
    if path.exists() and not path.is_file():  # a device or a pipe: renaming would replace it
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _committed() -> dict[str, tuple[str, tuple[str, ...]]]:
    from derive import registry

    from .numba_losses import has_template

    return {
        "runtime/generated/numba_losses.py":
            ("numba", tuple(n for n in registry.names("loss") if has_template(n))),
        "runtime/generated/numba_activations.py": ("numba", tuple(registry.names("activation"))),
    }


def _own_generators():
    """Committed modules whose families have a generator of their own (optimizers, layers)."""
    from . import numba_layers, numba_optim

    return (numba_optim, numba_layers)


def regenerate_all(root=None, write: bool = True) -> dict[str, str]:
    """Regenerate the committed modules; {relative path: text}; written when ``write``."""
    root = Path(root or ROOT)
    texts = {}
    for rel, (backend, names) in _committed().items():
        if names:
            texts[rel] = generate_module(backend, names)
    for module in _own_generators():
        texts[module.OUTPUT] = module.generate_module()
    if write:
        for rel, text in texts.items():
            write_module(root / rel, text)
    return texts


def unified_drift(root, rel: str, text: str) -> str:
    """A unified diff from the committed file ``rel`` to ``text`` ("" when they agree)."""
    path = Path(root or ROOT) / rel
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old == text:
        return ""
    return "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                        f"{rel} (committed)", f"{rel} (regenerated)"))


def drift(root=None) -> dict[str, str]:
    """{relative path: unified diff} for every committed module that differs from its source."""
    diffs = {rel: unified_drift(root, rel, text)
             for rel, text in regenerate_all(root, write=False).items()}
    return {rel: d for rel, d in diffs.items() if d}


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m codegen.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the committed modules")
    ap.add_argument("--check", action="store_true", help="exit 1 with a diff when one drifted")
    args = ap.parse_args(argv)
    if args.update:
        for rel in regenerate_all():
            print(f"wrote {rel}")
        return 0
    diffs = drift()
    for rel, diff in diffs.items():
        sys.stdout.write(diff)
    if not diffs:
        print("generated modules are up to date")
    return 1 if diffs and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
