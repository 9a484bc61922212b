"""Derivations as values: steps generated from expressions, each one checked by SymPy.

A :class:`Derivation` holds the quantity, the variables it is differentiated with respect to,
the closed-form gradients and, for each variable, the list of :class:`Step` that leads there.
Steps are made by :class:`StepBuilder`, which proves every new expression equal to the previous
one (or, failing a proof, checks it at many random points and says so) and raises
:class:`StepCheckError` when they differ.
"""
from __future__ import annotations

import math
import random
import signal
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

import mpmath
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from .functions import to_elementary

PROVED = "proved"
NUMERIC = "numeric"
DEFINITION = "definition"


class StepCheckError(AssertionError):
    """A step of a derivation is not equal to the step before it."""


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = expr``, obtained from the line before by ``rule``."""

    rule: str
    expr: sp.Expr
    lhs: sp.Expr | None = None
    check: str = PROVED  # PROVED, NUMERIC (with ``note``) or DEFINITION
    note: str = ""


@dataclass(frozen=True)
class Derivation:
    """A named derivation: quantity, variables, closed-form gradients and checked steps."""

    name: str
    group: str
    title: str
    expr: sp.Expr  # the quantity differentiated (a loss, an activation, ...)
    wrt: tuple[sp.Symbol, ...]
    gradients: Mapping[sp.Symbol, sp.Expr]
    steps: Mapping[sp.Symbol, tuple[Step, ...]]
    symbols: Mapping[str, str] = field(default_factory=dict)  # symbol name -> meaning
    options: Mapping[str, object] = field(default_factory=dict)  # option -> default
    quantity: sp.Expr | None = None  # how the quantity is written on the left (L, a, ...)
    stable: Mapping[str, sp.Expr] = field(default_factory=dict)  # kernel forms, proved equal
    result_lhs: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)  # v -> lhs of a result that is not ∂quantity/∂v (optimizer updates)

    def __post_init__(self):
        for name in ("gradients", "steps", "symbols", "options", "stable", "result_lhs"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def variable(self, wrt: str | sp.Symbol | None = None) -> sp.Symbol:
        """The variable named ``wrt`` (the first one when None); ValueError names the valid ones."""
        if wrt is None:
            return self.wrt[0]
        for v in self.wrt:
            if str(v) == str(wrt):
                return v
        # As printed (ŷ, θ, z²), in ASCII (z2, W1), or an indexed variable by its base (z for z[i]).
        from .render import variable_spellings

        typed = unicodedata.normalize("NFC", str(wrt).strip())
        matches = [v for v in self.wrt if typed in variable_spellings(v)]
        if len(matches) == 1:
            return matches[0]
        valid = ", ".join(str(v) for v in self.wrt)
        raise ValueError(f"wrt={str(wrt)!r} is not a variable of {self.name!r}; valid: {valid}")

    def gradient(self, wrt=None) -> sp.Expr:
        return self.gradients[self.variable(wrt)]

    def steps_for(self, wrt=None) -> tuple[Step, ...]:
        return self.steps[self.variable(wrt)]

    def _repr_latex_(self):
        from .render import render_latex_fragment

        return render_latex_fragment(self)

    def _repr_markdown_(self):
        from .render import render

        return render(self, fmt="markdown")

    def __str__(self):
        from .render import render

        return render(self, fmt="text")


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Domain:
    """Where random check points are drawn: an interval per symbol, integers per index."""

    intervals: Mapping[sp.Symbol, tuple[float, float]] = field(default_factory=dict)
    integers: Mapping[sp.Symbol, tuple[int, int]] = field(default_factory=dict)
    default: tuple[float, float] = (-3.0, 3.0)

    def interval(self, s: sp.Symbol) -> tuple[float, float]:
        if s in self.intervals:
            return self.intervals[s]
        if s.is_positive:
            return (0.05, 3.0)
        return self.default


def _expand_sums(e: sp.Expr) -> sp.Expr:
    """Sums with integer bounds written out term by term (far faster than Sum.doit)."""
    def concrete(x):
        return isinstance(x, sp.Sum) and all(lo.is_Integer and hi.is_Integer
                                             for _, lo, hi in x.limits)

    def written_out(x):
        terms = [x.function]
        for var, lo, hi in x.limits:
            terms = [t.xreplace({var: n}) for t in terms for n in range(int(lo), int(hi) + 1)]
        return sp.Add(*terms)

    return e.replace(concrete, written_out)


def _concrete(e: sp.Expr, ints: dict) -> sp.Expr:
    """``e`` at the given integers (also in ∂/∂z[i]), with its sums written out and evaluated."""
    e = e.subs(ints)
    if ints:  # subs leaves differentiation variables alone
        e = e.replace(
            lambda d: isinstance(d, sp.Derivative) and any(v.has(*ints) for v, _ in d.variable_count),
            lambda d: sp.Derivative(d.expr, *[(v.xreplace(ints), n) for v, n in d.variable_count]))
    return _expand_sums(_expand_sums(e).doit())


def _atoms(concrete: sp.Expr, domain: Domain) -> list:
    """The symbols and vector entries z[0], z[1], ... that get random real values."""
    labels = {b.label for b in concrete.atoms(sp.IndexedBase)}  # the name z of z[k], not a value
    atoms = (concrete.free_symbols - labels) | concrete.atoms(sp.Indexed)
    return sorted((a for a in atoms if a not in domain.integers), key=sp.default_sort_key)


# e^x for |x| beyond this has over 400,000 digits: such a point tells nothing a float could
# show, and mpmath's time grows with the exponent's size (exp(exp(exp(exp(x)))) never ends).
MAX_EXP_ARGUMENT = 1e6


class _TooLarge(ArithmeticError):
    """A check point where a value is astronomically large: the point is skipped."""


def _guard(x):
    if abs(mpmath.re(x)) > MAX_EXP_ARGUMENT:
        raise _TooLarge(x)


class _GuardedMpmath:
    """mpmath for the check points, refusing e^x (sinh, cosh, x^y) of astronomic size."""

    def __getattr__(self, name):
        return getattr(mpmath, name)

    @staticmethod
    def exp(x):
        _guard(x)
        return mpmath.exp(x)

    @staticmethod
    def sinh(x):
        _guard(x)
        return mpmath.sinh(x)

    @staticmethod
    def cosh(x):
        _guard(x)
        return mpmath.cosh(x)

    @staticmethod
    def power(a, b):
        if a != 0:
            _guard(b * mpmath.log(abs(a)))
        return mpmath.power(a, b)


class _CheckPrinter(MpmathPrinter):
    """Powers through ``mpmath.power`` (guarded), square roots as mpmath.sqrt."""

    def _print_Pow(self, expr, rational=False):
        if expr.exp in (sp.S.Half, -sp.S.Half, sp.S.NegativeOne):
            return super()._print_Pow(expr, rational=rational)
        return f"mpmath.power({self._print(expr.base)}, {self._print(expr.exp)})"


def _compiled(expr: sp.Expr, atoms: list):
    """``expr`` as an mpmath function of ``atoms`` (SymPy's evalf per point is far slower).

    Printed directly rather than by ``lambdify``, whose set-up costs more than the points save.
    """
    names = sp.symbols(f"x0:{len(atoms)}")
    printer = _CheckPrinter({"fully_qualified_modules": True, "inline": True})
    try:
        code = printer.doprint(expr.xreplace(dict(zip(atoms, names))))
        if printer._not_supported:
            return None
        return eval(f"lambda {', '.join(map(str, names))}: ({code})", {"mpmath": _GuardedMpmath()})
    except Exception:  # anything the printer cannot write is evaluated by SymPy instead
        return None


def _compiled_in_time(expr: sp.Expr, atoms: list):
    """_compiled, or None (SymPy evaluates) when printing takes too long (nested Piecewise)."""
    try:
        with _time_limited():
            return _compiled(expr, atoms)
    except _OutOfTime:
        return None


_SKIP = object()  # _fast_value's answer at a point with astronomically large values


def _fast_value(f, reals: dict):
    if f is None:
        return None
    try:
        with mpmath.workdps(30):
            value = f(*reals.values())
            if mpmath.isfinite(value) and mpmath.mag(value) > 1000:
                return _SKIP  # beyond any float: complex() would overflow
            return complex(value)
    except _TooLarge:
        return _SKIP
    except Exception:  # unknown function, division by zero, ...: SymPy decides
        return None


def _numerically_equal(a, b, domain: Domain, points: int, seed: int,
                       cache: dict | None = None, counted: list | None = None
                       ) -> tuple[bool, dict | None]:
    """Compare at random points: integers first (sums get concrete bounds), then random reals.

    Points where a value is astronomically large (or undefined on both sides) are skipped;
    ``counted`` (a list) receives the number of points actually compared.
    """
    compared = 0
    rng = random.Random(seed)
    a, b = sp.sympify(a), sp.sympify(b)
    indices = [s for s in domain.integers if a.has(s) or b.has(s)]
    # Writing out sums is the slow part: a few integer draws (the same ones in every pass, so
    # ``cache`` reuses them), many real points for each.
    ints_rng = random.Random(len(indices))
    draws = [{s: ints_rng.randint(*domain.integers[s]) for s in indices}
             for _ in range(2 if points <= 8 else 4)]
    cache = {} if cache is None else cache
    for n in range(points):
        ints = draws[n % len(draws)]
        key = tuple(ints.values())
        if key not in cache:
            ca, cb = _concrete(a, ints), _concrete(b, ints)
            atoms = list(dict.fromkeys(_atoms(ca, domain) + _atoms(cb, domain)))
            # Plain symbols for z[0], z[1], ...: SymPy evaluates Indexed objects slowly.
            plain = [sp.Dummy(str(x)) for x in atoms]
            ca, cb = (_real_sign_derivatives(to_elementary(e, deep=False)).xreplace(dict(zip(atoms, plain)))
                      for e in (ca, cb))
            cache[key] = ca, cb, atoms, plain, _compiled_in_time(ca, plain), _compiled_in_time(cb, plain)
        ca, cb, atoms, plain, fast_a, fast_b = cache[key]
        reals = {x: rng.uniform(*domain.interval(x.base.label if isinstance(x, sp.Indexed) else x))
                 for x in atoms}
        fa, fb = _fast_value(fast_a, reals), _fast_value(fast_b, reals)
        if fa is _SKIP or fb is _SKIP:
            continue
        if fa is None or fb is None:  # no compiled form, or a pole: evaluate with SymPy
            at = dict(zip(plain, reals.values()))
            try:
                with _time_limited():  # e^(e^(e^(e^x))) evaluated by SymPy never ends
                    va = ca.xreplace(at).doit().evalf(30)
                    vb = cb.xreplace(at).doit().evalf(30)
            except _OutOfTime:
                break  # no more points by SymPy: what was compared so far is counted
            except (TypeError, ValueError):  # relu(complex): a kink test of a complex value
                continue  # the expression is undefined there
            if va.has(sp.nan, sp.zoo) and vb.has(sp.nan, sp.zoo):
                continue
            try:
                fa, fb = complex(va), complex(vb)
            except OverflowError:  # beyond any float
                continue
            except TypeError:  # no number: a Piecewise whose condition SymPy cannot decide
                if _kinks_not_real((ca, cb), plain, reals):
                    continue
                return False, {**ints, **reals}
        if abs(fa - fb) > 1e-9 * max(1.0, abs(fa), abs(fb)):
            if max(abs(fa.imag), abs(fb.imag)) > 1e-9 * max(1.0, abs(fa), abs(fb)) or \
                    _kinks_not_real((ca, cb), plain, reals):
                continue  # not real there (asin(2)): the rules (d|u| = sign(u) du) are real ones
            return False, {**ints, **reals}
        compared += 1
    if counted is not None:
        counted.append(compared)
    return True, None


def _real_sign_derivatives(e: sp.Expr) -> sp.Expr:
    """d sign(u)/dx as SymPy has it for a real u, 2·δ(u)·u': SymPy leaves it unevaluated
    (so undefined at every check point) when it cannot tell that u is real."""
    def real_rule(d):
        (u,), (v, n) = d.expr.args, d.variable_count[0]
        return 2 * sp.DiracDelta(u) * sp.diff(u, v) if n == 1 else d

    return e.replace(lambda d: isinstance(d, sp.Derivative) and isinstance(d.expr, sp.sign)
                     and len(d.variable_count) == 1, real_rule)


_KINKS = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min)


def _kinks_not_real(exprs, plain: list, reals: dict) -> bool:
    """Whether an argument of |·|, sign, θ, max, min or of a Piecewise condition is not real at
    the point: their rules are rules of real analysis (|u|' = sign(u)·u' fails for complex u)."""
    args = []
    for e in exprs:
        args += [a for f in e.atoms(*_KINKS) for a in f.args]
        for pw in e.atoms(sp.Piecewise):
            args += [side for _, cond in pw.args
                     for rel in cond.atoms(sp.core.relational.Relational) for side in rel.args]
    at = dict(zip(plain, reals.values()))
    try:
        with _time_limited():
            for arg in args:
                try:
                    v = complex(sp.sympify(arg.xreplace(at)).evalf(15))  # x -> a float
                except (TypeError, ValueError, OverflowError):
                    continue
                if abs(v.imag) > 1e-12 * max(1.0, abs(v)):
                    return True
    except _OutOfTime:
        pass
    return False


def _expand_sum_logs(e: sp.Expr) -> sp.Expr:
    """Split sums of sums, take constant factors out, log(a·b) = log a + log b for a, b > 0."""
    def split(x):  # Σ (a + b) = Σ a + Σ b, and constants out of each
        return sp.Add(*[sp.factor_terms(x.func(t, *x.limits))
                        for t in sp.Add.make_args(sp.expand(x.function))])

    e = sp.expand_log(e.replace(lambda x: isinstance(x, sp.Sum), split))
    return sp.expand(e.replace(lambda x: isinstance(x, sp.Sum), split))


MAX_EXPANDED_TERMS = 5000  # expand, cancel, factor or simplify past this would not finish
# Polynomial algorithms (factor, cancel) take e^1000000 as a power of e of that degree.
MAX_POLY_DEGREE = 1000


def _huge_exponent(e: sp.Expr) -> bool:
    if isinstance(e, sp.exp):
        power = e.args[0]
    elif isinstance(e, sp.Pow):
        power = e.exp
    else:
        return False
    coeff = power.as_coeff_Mul()[0]
    return coeff.is_Rational and max(abs(coeff.p), coeff.q) > MAX_POLY_DEGREE


def _expanded_terms(e: sp.Expr, limit: int = MAX_EXPANDED_TERMS) -> int:
    """About how many terms ``sp.expand(e)`` writes out (at most ``limit + 1``)."""
    if _huge_exponent(e):
        return limit + 1
    if isinstance(e, sp.Add):
        n = sum(_expanded_terms(a, limit) for a in e.args)
    elif isinstance(e, sp.Mul):
        n = 1
        for a in e.args:
            n = min(n * _expanded_terms(a, limit), limit + 1)
    elif isinstance(e, sp.Pow) and e.exp.is_Integer and abs(e.exp) > 1:
        k = _expanded_terms(e.base, limit)
        n = math.comb(abs(int(e.exp)) + k - 1, k - 1) if k > 1 else 1
    elif e.args:  # a function: its arguments are expanded on their own
        n = max(_expanded_terms(a, limit) for a in e.args)
    else:
        n = 1
    return min(n, limit + 1)


def _too_large_to_expand(e: sp.Expr) -> bool:
    """(a + b + c + d)**100 and the like: no expansion-based proof or tidying is tried."""
    return _expanded_terms(e) > MAX_EXPANDED_TERMS


def _proved_equal(a: sp.Expr, b: sp.Expr) -> bool:
    diff = sp.sympify(a - b).rewrite(sp.Sum)  # functions of vectors (softmax) as their Sums
    if diff.has(sp.Sum):
        # doit and simplify on symbolic sums are slow and rarely succeed: such steps are
        # proved only by expanding (functions of vectors written as their Sums, constant
        # factors taken out of sums, logs of positive products split), else checked by value.
        diff, attempts = to_elementary(diff), (sp.expand, _expand_sum_logs)
        if diff.has(sp.Derivative):  # unevaluated ∂/∂z[i] of a sum: nothing to expand
            return False
    else:
        diff = to_elementary(diff.doit())
        attempts = (sp.expand,) if diff.has(sp.Sum) else (
            sp.expand, sp.cancel, lambda e: sp.expand(sp.powsimp(e)), sp.simplify)
        if diff.has(sp.sinh, sp.cosh, sp.tanh):  # tanh = sinh/cosh: quick in exp form
            attempts = (lambda e: sp.cancel(e.rewrite(sp.exp)),) + attempts
    if diff == 0:
        return True
    if _too_large_to_expand(diff):
        return False  # checked at random points instead
    for attempt in attempts:
        try:
            if attempt(diff) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, RecursionError, StopIteration):
            continue
    return False


_PROOF_SECONDS: float | None = None  # set by proof_time_limit(); None: no limit


class _OutOfTime(BaseException):  # not Exception: SymPy's own ``except Exception`` lets it by
    """A symbolic proof or simplification ran past the time limit."""


@contextmanager
def proof_time_limit(seconds: float | None):
    """Within: symbolic proofs and simplifications give up after ``seconds`` each.

    For a user's own expression (``show-grad --expr``), where SymPy's ``simplify`` or
    ``cancel`` can run for hours (tanh(tanh(tanh(tanh(tanh(x)))))); a step whose proof gave up
    is checked at random points instead. Works in the main thread (SIGALRM); elsewhere, and
    for the registered derivations, there is no limit, so their steps read the same every run.
    """
    global _PROOF_SECONDS
    old, _PROOF_SECONDS = _PROOF_SECONDS, seconds
    try:
        yield
    finally:
        _PROOF_SECONDS = old


@contextmanager
def _time_limited():
    if (_PROOF_SECONDS is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def out_of_time(signum, frame):
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, out_of_time)
    start = time.monotonic()
    outer, interval = signal.setitimer(signal.ITIMER_REAL, _PROOF_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # someone else's timer (pytest-timeout, ...): give back what is left of it
            left = outer - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), interval)


def _proved_in_time(a: sp.Expr, b: sp.Expr) -> bool:
    try:
        with _time_limited():
            return _proved_equal(a, b)
    except _OutOfTime:
        return False


def check_equal(a: sp.Expr, b: sp.Expr, domain: Domain, *, points: int = 40, seed: int = 0):
    """Return (PROVED | NUMERIC, note) when ``a`` equals ``b``; raise StepCheckError otherwise."""
    cache = {}
    ok, where = _numerically_equal(a, b, domain, points=min(points, 8), seed=seed, cache=cache)
    if not ok:
        raise StepCheckError(f"{sp.sstr(a)} != {sp.sstr(b)} at {where}")
    if _proved_in_time(a, b):
        return PROVED, ""
    counted = []
    ok, where = _numerically_equal(a, b, domain, points=points, seed=seed + 1, cache=cache,
                                   counted=counted)
    if not ok:
        raise StepCheckError(f"{sp.sstr(a)} != {sp.sstr(b)} at {where}")
    if counted[0] == 0:
        raise StepCheckError(f"cannot check {sp.sstr(a)} = {sp.sstr(b)}: no symbolic proof "
                             f"found, and its values are too large (beyond e^{MAX_EXP_ARGUMENT:g}), "
                             f"undefined or not real at all {points} random points")
    return NUMERIC, f"no symbolic proof found; agrees at {counted[0]} random points"


class StepBuilder:
    """Collects the steps of one derivation, checking each against the one before.

    ``equal_under`` substitutions (e.g. ŷ → σ(z)) are applied to both sides before a check,
    so a step may introduce names for sub-expressions.
    """

    def __init__(self, lhs: sp.Expr, definition: sp.Expr, domain: Domain | None = None,
                 rule: str = "definition", equal_under: Mapping | None = None):
        self.domain = domain or Domain()
        self.equal_under = list(dict(equal_under or {}).items())
        self.lhs = lhs
        self.steps: list[Step] = [Step(rule, definition, lhs, DEFINITION)]

    @property
    def current(self) -> sp.Expr:
        return self.steps[-1].expr

    def _resolved(self, e: sp.Expr) -> sp.Expr:
        e = sp.sympify(e)
        for old, new in self.equal_under:  # in order: names may refer to later ones
            # A pattern with Wilds (e.g. q[n_]) also reaches bound indices inside Sums; a
            # function (f → tanh) is replaced where it is applied.
            by_replace = isinstance(old, type) or old.has(sp.Wild)
            e = e.replace(old, new) if by_replace else e.subs(old, new)
        return e

    def then(self, rule: str, expr: sp.Expr, *, lhs: sp.Expr | None = None) -> "StepBuilder":
        """Add ``lhs = expr`` by ``rule``; it must equal the current expression."""
        check, note = check_equal(self._resolved(self.current), self._resolved(expr), self.domain,
                                  seed=len(self.steps))
        self.steps.append(Step(rule, expr, lhs if lhs is not None else self.steps[-1].lhs,
                               check, note))
        return self

    def restate(self, rule: str, expr: sp.Expr, lhs: sp.Expr) -> "StepBuilder":
        """Start a new equation (e.g. differentiate both sides); true by definition."""
        self.steps.append(Step(rule, expr, lhs, DEFINITION))
        return self

    def differentiate(self, expr: sp.Expr, x: sp.Symbol, *, lhs: sp.Expr | None = None):
        """Steps of d(expr)/dx, rule by rule, from the unevaluated derivative to its value."""
        lhs = lhs if lhs is not None else sp.Derivative(self.lhs, x, evaluate=False)
        self.restate("differentiate both sides", _D(expr, x), lhs)
        for rule, e in derivative_rules(expr, x):
            self.then(rule, e, lhs=lhs)
        return self

    def simplify(self, rule: str = "simplification", target: sp.Expr | None = None):
        """Add a simplified form (``target`` when given, else the shortest SymPy finds)."""
        new = target if target is not None else tidy(self.current)
        if new != self.current:
            self.then(rule, new)
        return self

    def build(self) -> tuple[Step, ...]:
        return tuple(self.steps)


def tidy(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few standard simplifications, keeping custom functions intact."""
    candidates = [expr]
    if _too_large_to_expand(expr):
        return expr
    for f in (sp.cancel, sp.factor, sp.simplify, lambda e: sp.factor_terms(sp.expand(e))):
        try:
            with _time_limited():
                candidates.append(f(expr))
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError, _OutOfTime):
            pass
    return min(candidates, key=lambda e: (sp.count_ops(e), len(sp.srepr(e))))


# --------------------------------------------------------------------------- rule engine


def _D(u: sp.Expr, x: sp.Symbol) -> sp.Expr:
    return sp.Integer(1) if u == x else sp.Derivative(u, x, evaluate=False)


def _chain(rule: str, outer: sp.Expr, inner: sp.Expr, x: sp.Symbol) -> tuple[str, sp.Expr]:
    if inner == x:
        return rule, outer
    return f"{rule}, chain rule", outer * _D(inner, x)


def _function_name(f) -> str:
    name = getattr(f, "pretty_name", "") or type(f).__name__
    return {"Abs": "|·|"}.get(type(f).__name__, name)


def apply_rule(u: sp.Expr, x: sp.Symbol) -> tuple[str, sp.Expr]:
    """One differentiation rule for d(u)/dx, leaving derivatives of the parts unevaluated."""
    if not u.has(x):
        return "constant rule", sp.Integer(0)
    if u == x:
        return "d/dx x = 1", sp.Integer(1)
    if isinstance(u, sp.Add):
        return "sum rule", sp.Add(*[_D(t, x) for t in u.args])
    if isinstance(u, sp.Mul):
        coeff, rest = u.as_independent(x, as_Add=False)
        if coeff != 1:
            return "constant factor rule", coeff * _D(rest, x)
        num, den = sp.fraction(u)
        if den.has(x) and num != 1:
            return "quotient rule", (_D(num, x) * den - num * _D(den, x)) / den**2
        factors = u.args
        terms = [sp.Mul(*factors[:k], _D(f, x), *factors[k + 1:]) for k, f in enumerate(factors)]
        return "product rule", sp.Add(*terms)
    if isinstance(u, sp.Pow):
        base, e = u.args
        if not e.has(x):
            return _chain("power rule", e * base ** (e - 1), base, x)
        if not base.has(x):
            return _chain("exponential rule", u * sp.log(base), e, x)
        return "logarithmic differentiation", u * (_D(e, x) * sp.log(base) + e * _D(base, x) / base)
    if isinstance(u, sp.exp):
        return _chain("derivative of exp", u, u.args[0], x)
    if isinstance(u, sp.log):
        return _chain("derivative of log", 1 / u.args[0], u.args[0], x)
    if isinstance(u, sp.Abs):
        return _chain("derivative of |·| (sign, 0 at 0)", sp.sign(u.args[0]), u.args[0], x)
    if isinstance(u, sp.sign):  # piecewise constant; PyTorch's sign' is 0 everywhere
        return "derivative of sign (0 wherever it is defined; 0 at 0 as PyTorch)", sp.Integer(0)
    if isinstance(u, (sp.Max, sp.Min)):  # SymPy writes the step function θ, θ(0) = 1/2
        which = "max" if isinstance(u, sp.Max) else "min"
        return (f"derivative of {which}: the step function θ picks the {which}imal argument "
                "(θ(0) = 1/2 at a tie)", sp.diff(u, x))
    if isinstance(u, sp.Piecewise):
        return "derivative of each piece", sp.Piecewise(*[(_D(e, x), c) for e, c in u.args])
    if isinstance(u, sp.Function):
        dependent = [k for k, a in enumerate(u.args) if a.has(x)]
        if len(dependent) == 1:
            k = dependent[0]
            return _chain(f"derivative of {_function_name(u)}", u.fdiff(k + 1), u.args[k], x)
    return "differentiation (SymPy)", sp.diff(u, x)


def derivative_rules(expr: sp.Expr, x: sp.Symbol) -> Iterable[tuple[str, sp.Expr]]:
    """Yield (rule, expression) from d(expr)/dx unevaluated to the evaluated derivative.

    Each yield applies one rule to every pending derivative; the rules used are named.
    """
    current = _D(expr, x)
    for _ in range(100):
        # Sorted, so the rule names come in the same order on every run.
        pending = sorted((d for d in current.atoms(sp.Derivative)
                          if not isinstance(d.expr, sp.Derivative)), key=sp.default_sort_key)
        if not pending:
            return
        rules, replacement = [], {}
        for d in pending:
            rule, new = apply_rule(d.expr, x)
            if new.has(d):  # no rule applies: say so rather than loop
                raise ValueError(f"cannot differentiate {sp.sstr(d.expr)} with respect to {x}")
            rules.append(rule)
            replacement[d] = new
        current = current.xreplace(replacement)
        names = list(dict.fromkeys(rules))
        yield "; ".join(names), current
    raise RuntimeError(f"differentiating {expr} did not finish in 100 rule applications")


def derivation_of(name: str, group: str, title: str, expr: sp.Expr,
                  wrt: Iterable[sp.Symbol], *, domain: Domain | None = None,
                  quantity: sp.Expr | None = None, **fields) -> Derivation:
    """The plain derivation of ``expr`` w.r.t. each variable by the rule engine, simplified."""
    quantity = quantity if quantity is not None else sp.Symbol("L")
    steps, grads = {}, {}
    for v in wrt:
        b = StepBuilder(quantity, expr, domain)
        b.differentiate(expr, v, lhs=sp.Derivative(quantity, v, evaluate=False)).simplify()
        steps[v], grads[v] = b.build(), b.current
    return Derivation(name, group, title, expr, tuple(wrt), grads, steps, quantity=quantity, **fields)


#: Factories registered by name; built (and checked) only when asked for.
Factory = Callable[[], Derivation]
