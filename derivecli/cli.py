"""The `derivecli` command line.

Only click is imported at module level: each command imports what it needs when it runs, so
`derivecli show-grad bce` loads SymPy and derive/, never NumPy-heavy code or Numba.

Adding a subcommand (e.g. `gen`, `check`): write a click command ``NAME`` in
``derivecli/NAME.py`` and list it in :data:`LAZY_COMMANDS`; it is imported only when used
(or when ``derivecli --help`` lists the commands).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

import click

# Kept here (not imported from derive.render) so `--help` does not import SymPy;
# tests/test_cli.py checks that the two lists agree.
FORMATS = ("text", "latex", "markdown", "json")
GROUP_ORDER = ("loss", "activation", "layer", "optimizer", "information")

# Seconds a symbolic proof or simplification of an --expr step may take before the step is
# checked at random points instead (SymPy's simplify can run for hours on small input).
PROOF_SECONDS = 1.0

# command name -> "module:attribute"; listed only when the module exists.
LAZY_COMMANDS = {
    "gen": "derivecli.gen:gen",
    "check": "derivecli.check:check",
}


class LazyGroup(click.Group):
    """A click group whose extra subcommands are imported on first use."""

    def _lazy_available(self) -> list[str]:
        return [name for name, target in LAZY_COMMANDS.items()
                if name not in self.commands
                and importlib.util.find_spec(target.split(":")[0]) is not None]

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._lazy_available()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and name in self._lazy_available():
            module, attribute = LAZY_COMMANDS[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derivecli")
def main():
    """Neural-network gradients derived by SymPy, printed step by step.

    \b
    Examples:
      derivecli list
      derivecli show-grad bce
      derivecli show-grad bce --wrt z --format latex > bce.tex
      derivecli show-grad --expr "x**2*sin(x)" --wrt x
    """


@main.command("list")
@click.option("--group", "group", default=None, metavar="GROUP",
              help="Only this group (loss, activation, layer, optimizer, information).")
@click.option("--ascii", "ascii_only", is_flag=True, help="ASCII output only.")
def list_command(group, ascii_only):
    """Every derivation by group, one line each (nothing is built or checked).

    \b
    Examples:
      derivecli list
      derivecli list --group loss
    """
    from derive import registry

    entries = [e for e in registry.ENTRIES if group is None or e.group == group]
    if not entries:
        groups = ", ".join(dict.fromkeys(e.group for e in registry.ENTRIES))
        raise click.BadParameter(f"no derivations in group {group!r}; groups: {groups}",
                                 param_hint="'--group'")
    aliases: dict[str, list[str]] = {}
    for alias, name in registry.ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    groups = sorted(dict.fromkeys(e.group for e in entries),
                    key=lambda g: (GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER), g))
    width = max(len(e.name) for e in entries)
    lines = []
    for g in groups:
        lines.append(g)
        for e in (e for e in entries if e.group == g):
            aka = f"  (also: {', '.join(aliases[e.name])})" if e.name in aliases else ""
            lines.append(f"  {e.name:<{width}}  {e.summary}{aka}")
    _echo("\n".join(lines) + "\n", ascii_only)


def _echo(text: str, ascii_only: bool):
    from derive.render import ascii_text, stream_supports_unicode

    if ascii_only or not stream_supports_unicode(sys.stdout):
        text = ascii_text(text)
    click.echo(text, nl=False)


@main.command("show-grad")
@click.argument("name", required=False)
@click.option("--expr", "expr_text", metavar="EXPR",
              help="Differentiate your own expression instead of a named derivation.")
@click.option("--wrt", metavar="VAR",
              help="The variable to differentiate with respect to (default: all of a "
                   "derivation's variables; the only symbol of an --expr). As stored (yhat, "
                   "theta), as the output prints it, or in ASCII (z2, W1 for dense's layers); "
                   "an indexed variable by its base (z for z[i]).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, latex for a document, markdown with $$ math, json for tools.")
@click.option("--no-steps", is_flag=True, help="Print only the results, not the steps.")
@click.option("--ascii", "ascii_only", is_flag=True,
              help="ASCII output only (automatic when the terminal cannot show unicode).")
def show_grad(name, expr_text, wrt, fmt, no_steps, ascii_only):
    """Print the gradient of NAME (see `derivecli list`), step by step.

    Every step is checked when the derivation is built: SymPy proves it equal to the one
    before it, or (marked as a numeric check) it agrees at 40 random points.

    \b
    Examples:
      derivecli show-grad bce                  # dL/dyhat, then dL/dz through yhat = sigmoid(z)
      derivecli show-grad bce --wrt z --no-steps
      derivecli show-grad smooth-l1 --format markdown
      derivecli show-grad ce --format json | python -m json.tool
      derivecli show-grad --expr "sigmoid(w*x + b)" --wrt w

    \b
    EXPR may use numbers, variable names, + - * / ** and the functions exp, log, ln,
    log1p, sqrt, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, erf, abs, sign,
    max, min, sigmoid, softplus, relu, leaky_relu, and the constants pi and E. It is
    parsed, never executed: anything else is rejected.
    """
    if (name is None) == (expr_text is None):
        raise click.UsageError("give either a NAME or --expr EXPR (not both); "
                               "see `derivecli list` for the names")
    if name is not None:
        derivation = _named(name)
    else:
        derivation, wrt = _from_expression(expr_text, wrt)
    if wrt is not None:
        wrt = _variable_name(derivation, wrt)

    from derive.render import render

    text = render(derivation, fmt=fmt, wrt=wrt, steps=not no_steps,
                  unicode=False if ascii_only else None)
    click.echo(text, nl=False)


def _variable_name(derivation, wrt: str) -> str:
    """The variable called ``wrt``: as stored (yhat), as printed (ŷ), in ASCII (z2 for z²),
    or an indexed variable by its base (z for z[i])."""
    from derive.render import ascii_name, stream_supports_unicode

    try:
        return str(derivation.variable(wrt))
    except ValueError:
        pass
    names = [str(v) for v in derivation.wrt]
    if not stream_supports_unicode(sys.stderr):
        names = [ascii_name(n) for n in names]
        wrt = ascii_name(wrt)
    raise click.BadParameter(f"{wrt!r} is not a variable of {derivation.name!r}; valid: "
                             f"{', '.join(names)}", param_hint="'--wrt'")


def _named(name: str):
    from derive import registry

    try:
        canonical = registry.canonical(name)
    except registry.UnknownNameError as e:
        raise click.BadParameter(str(e), param_hint="'NAME'") from None
    try:
        return registry.get(canonical)
    except NotImplementedError as e:
        raise click.ClickException(f"{canonical}: {e}") from None


def _from_expression(text: str, wrt: str | None):
    import sympy as sp

    from derive.core import StepCheckError, derivation_of, proof_time_limit
    from derive.parse import parse_expression

    try:
        expr, symbols = parse_expression(text)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--expr'") from None
    names = [str(s) for s in symbols]
    if not symbols:
        raise click.BadParameter(f"{text!r} has no variables to differentiate with respect to",
                                 param_hint="'--expr'")
    if wrt is None:
        if len(symbols) > 1:
            raise click.BadParameter(f"{text!r} has several variables ({', '.join(names)}); "
                                     "choose one with --wrt", param_hint="'--wrt'")
        wrt = names[0]
    if wrt not in names:  # as the output prints it: β for beta
        import unicodedata

        from derive.render import variable_spellings

        typed = unicodedata.normalize("NFC", wrt.strip())
        hits = [n for s, n in zip(symbols, names) if typed in variable_spellings(s)]
        if len(hits) != 1:
            raise click.BadParameter(f"wrt={wrt!r} is not a variable of {text!r}; valid: "
                                     f"{', '.join(names)}", param_hint="'--wrt'")
        wrt = hits[0]
    x = symbols[names.index(wrt)]
    meaning = {n: ("variable" if n == wrt else "held constant") for n in names}
    try:
        with proof_time_limit(PROOF_SECONDS):
            derivation = derivation_of("expr", "expression", f"f = {text.strip()}", expr, [x],
                                       quantity=sp.Symbol("f"), symbols=meaning)
    except StepCheckError as e:
        raise click.ClickException(f"a step of the derivation failed its check: {e}") from None
    except ValueError as e:  # no rule for a function; SymPy refusing max of complex values
        raise click.ClickException(f"cannot derive {text!r}: {e}") from None
    return derivation, wrt


if __name__ == "__main__":  # pragma: no cover
    main()
