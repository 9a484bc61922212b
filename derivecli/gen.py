"""`derivecli gen --backend numba [NAMES...] -o FILE.py`: write a standalone kernel module.

The module imports only numpy, numba and math (numba backend) so it can be vendored; it is
written atomically (temporary file, then rename). Without names, the numba backend writes every
loss and activation; optimizer kernels come in their own module (name them: `derivecli gen
--backend numba adam sgd -o optim.py`). `--backend cupy` writes the CUDA sources (codegen's
CuPy backend).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click


def _numba_text(names: tuple[str, ...], command: str) -> str:
    from codegen import generate
    from derive import registry

    groups = {registry.entry(n).group for n in names}
    if names and groups == {"optimizer"}:
        from codegen import numba_optim

        return numba_optim.generate_module(names, command=command)
    if "optimizer" in groups:
        raise click.UsageError("optimizer kernels are generated in their own module: run gen "
                               "once for the optimizers and once for the other names")
    return generate.generate_module("numba", names, command=command)


def _derivations_held(text: str) -> list[str]:
    """The derivations a generated module's header lists (both backends' header forms)."""
    m = re.search(r"^# Derivations: ([\w, ]+)|^from the derivations: ([\w, ]+)\.", text, re.M)
    return [n.strip() for n in (m.group(1) or m.group(2)).split(",")] if m else []


@click.command("gen")
@click.argument("names", nargs=-1)
@click.option("--backend", type=click.Choice(["numba", "cupy"]), default="numba", show_default=True,
              help="numba: @njit CPU kernels; cupy: CUDA C sources for CuPy.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True),
              required=True, help="the .py file to write (replaced atomically)")
def gen(names, backend, output):
    """Generate a kernel module from the derivations NAMES (all when none).

    \b
    numba: without NAMES, every loss and activation; the optimizers (sgd, adam, ...,
    clip_grad_norm) and the layers (batchnorm, dropout) each come in a module of their
    own: name only them. cupy: without NAMES, every derivation with a CUDA template.
    """
    from codegen.generate import write_module
    from derive import registry

    if any(c in output for c in "\n\r\t\x00"):  # the header's command would break the module
        raise click.BadParameter(f"{output!r} contains a control character", param_hint="'-o'")
    try:
        names = tuple(dict.fromkeys(registry.canonical(n) for n in names))
        # the header's "regenerate with" command, quoted for a shell (spaces in a path)
        command = shlex.join(["derivecli", "gen", "--backend", backend, *names, "-o", output])
        if backend == "numba":
            text = _numba_text(names, command)
        else:
            from codegen import cuda_kernels

            text = cuda_kernels.generate_module(list(names) or None, command=command)
    except registry.UnknownNameError as e:
        raise click.BadParameter(str(e), param_hint="NAMES") from None
    except NotImplementedError as e:
        raise click.UsageError(str(e)) from None
    try:
        write_module(output, text)
    except OSError as e:  # a directory, a missing or read-only place: say so, no traceback
        raise click.FileError(output, hint=str(e)) from None
    what = ", ".join(names) if names else "every derivation with a template"
    held = _derivations_held(text)
    if names and held and set(held) != set(names):  # momentum is sgd's; dropout comes with batchnorm
        what += f"; the module holds the kernels of {', '.join(held)}"
    click.echo(f"wrote {output} ({backend}: {what})")
    path = Path(output)
    if backend == "numba" and not (path.suffix == ".py" and path.stem.isidentifier()):
        click.echo(f"warning: {path.name} cannot be imported by name (a NAME.py with NAME an "
                   f"identifier can); loaded by path, its kernels are not cached on disk",
                   err=True)
