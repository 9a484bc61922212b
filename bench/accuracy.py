"""Accuracy of the generated Numba loss and activation kernels against a high-precision oracle.

Every loss and activation (and its gradient) in float32 and float64, over stress inputs
(logits up to ±1e4, a dominant class, 32000 classes, probabilities next to 0 and 1, targets
equal to predictions, points at and next to the kinks, subnormals, large and tiny
magnitudes), through the public API (``runtime.loss_and_grad``, ``runtime.activation``,
``runtime.activation_grad``). The oracle is each textbook formula evaluated in 80-bit
``np.longdouble`` (64-bit significand: 2**11 times finer than float64), written here from the
formula, never calling the project's code; where the textbook form itself would cancel
(1 − σ(z), 1 − tanh², p_c − 1 of a confident row) the oracle uses the exact identity
(σ(−z), sech², −Σ_{k≠c} p_k). ``--check`` spot-checks the longdouble oracle against mpmath at
50 digits.

For each (kernel, dtype, case) it prints the max relative error and the max error in ULP
of the exact result (ULP of the result's dtype; exact 0 → 0 if the kernel gives 0, else
inf; a subnormal exact result is measured against the smallest normal), and where a NaN/inf
came out of a finite exact value. A result that is a difference of data-dependent terms
(softmax's p·Σq − q, bce_logits' (1 − y)σ(z) − p_w y σ(−z)) is measured relative to the sum
of the terms' magnitudes, which is what its conditioning allows ("vs ... " in the result
column); where the exact value has no cancellation (the true class of an index target
without smoothing, y = 0 or 1) that sum is the value itself. Mean reductions over 16M
elements show the error of the kernel's sum next to numpy's pairwise float32/float64 sum of
the same per-element losses.

    python bench/accuracy.py [--quick] [--check] [--markdown]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime import activation, activation_grad, loss_and_grad  # noqa: E402

LD = np.longdouble
DTYPES = (np.float32, np.float64)


# --------------------------------------------------------------------------- error measures


def errors(got, exact, dtype, terms=None):
    """(max relative error, max ULP error, count of non-finite results where exact is finite,
    index of the worst ULP); exact in longdouble, got in dtype. ``terms``: for a difference
    a − b, |a| + |b|: the error is then measured relative to (and in ULP of) that, which is
    what its conditioning allows (a zero crossing of the data is no defect)."""
    got = np.asarray(got, dtype=LD).ravel()
    exact = np.asarray(exact, dtype=LD).ravel()
    mag = np.abs(exact) if terms is None else np.asarray(terms, dtype=LD).ravel()
    info = np.finfo(dtype)
    # the exact value rounded to dtype: out of range -> inf is the right answer
    with np.errstate(over="ignore"):
        rounded = exact.astype(dtype).astype(LD)
    fin_exact = np.isfinite(rounded)
    bad = int(np.sum(fin_exact & ~np.isfinite(got)))
    both = fin_exact & np.isfinite(got)
    same_inf = ~fin_exact & (got == rounded)
    diff = np.abs(got - exact)
    with np.errstate(over="ignore"):
        ulp = np.spacing(mag.astype(dtype)).astype(LD)
    ulp = np.maximum(ulp, LD(info.smallest_subnormal))
    with np.errstate(divide="ignore", invalid="ignore"):
        # relative to the exact value, or to the smallest normal where the exact value is
        # subnormal or 0 (there the ULP column is the measure)
        rel = np.where(diff == 0, 0, diff / np.maximum(mag, LD(info.tiny)))
        u = diff / ulp
    rel = np.where(same_inf, 0, np.where(both, rel, np.where(fin_exact, np.inf, rel)))
    u = np.where(same_inf, 0, np.where(both, u, np.where(fin_exact, np.inf, u)))
    rel = np.nan_to_num(rel, nan=np.inf)
    u = np.nan_to_num(u, nan=np.inf)
    worst = int(np.argmax(u)) if u.size else 0
    return float(np.max(rel, initial=0)), float(np.max(u, initial=0)), bad, worst


ROWS: list[tuple] = []


def record(kernel, dtype, case, what, got, exact, inputs=None, terms=None):
    rel, ulp, bad, worst = errors(got, exact, dtype, terms)
    at = ""
    if inputs is not None and np.size(got):
        at = inputs(worst)
    ROWS.append((kernel, np.dtype(dtype).name, case, what, rel, ulp, bad, at))


# --------------------------------------------------------------------------- oracles (textbook)


def ld(a):
    return np.asarray(a).astype(LD)


def softplus(x):  # log(1 + e^x), exact form for every x
    x = ld(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    x = ld(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x):  # σ(x)σ(−x) = e/(1+e)², e = e^{−|x|}: no 1 − σ
    e = np.exp(-np.abs(ld(x)))
    return e / (1 + e) ** 2


def tanh_grad(x):  # sech²x = 4e/(1+e)², e = e^{−2|x|}: no 1 − tanh²
    e = np.exp(-2 * np.abs(ld(x)))
    return 4 * e / (1 + e) ** 2


# --------------------------------------------------------------------------- inputs


def logspace_signed(lo, hi, n, dtype):
    mag = np.logspace(lo, hi, n)
    return np.concatenate([-mag[::-1], [0.0], mag]).astype(dtype)


def stress_z(dtype):
    """Logits/activation inputs: ±1e-30..1e4, subnormals, zeros, and uniform noise."""
    info = np.finfo(dtype)
    sub = np.array([info.smallest_subnormal, info.smallest_subnormal * 7, info.tiny / 2,
                    info.tiny], dtype)
    rng = np.random.default_rng(0)
    return np.concatenate([logspace_signed(-30 if dtype == np.float32 else -300, 4, 4000, dtype),
                           sub, -sub, np.array([0.0, -0.0], dtype),
                           (rng.standard_normal(20000) * 8).astype(dtype),
                           np.arange(-100, 101, dtype=dtype)])


# --------------------------------------------------------------------------- losses


def loss_none(name, pred, target, **opts):
    loss, grad = loss_and_grad(name, pred, target, reduction="none", **opts)
    return np.asarray(loss), np.asarray(grad)


def bench_bce(dtype):
    info = np.finfo(dtype)
    eps = info.eps
    near0 = np.logspace(np.log10(info.tiny), -1, 2000).astype(dtype)
    near1 = (1 - np.logspace(np.log10(eps / 2), -1, 2000)).astype(dtype)
    rng = np.random.default_rng(1)
    p = np.concatenate([near0, near1, rng.random(5000).astype(dtype), np.array([0, 1, 0.5], dtype)])
    clamp = LD(np.float32(1e-12))  # PyTorch's EPSILON is a float, also for double
    for case, y in [("y=1", np.ones_like(p)), ("y=0", np.zeros_like(p)),
                    ("y=0.3", np.full_like(p, 0.3)), ("y=pred", p.copy())]:
        loss, grad = loss_none("bce", p, y)
        P, Y = ld(p), ld(y)
        with np.errstate(divide="ignore"):
            lp = np.maximum(np.log(P), -100)
            l1p = np.maximum(np.log1p(-P), -100)
        ex_loss = -(Y * lp + (1 - Y) * l1p)
        ex_grad = (P - Y) / np.maximum(P * (1 - P), clamp)
        at = lambda i, p=p, y=y: f"yhat={p[i]!r}, y={y[i]!r}"  # noqa: E731
        record("bce", dtype, f"yhat near 0/1, {case}", "loss", loss, ex_loss, at)
        record("bce", dtype, f"yhat near 0/1, {case}", "grad", grad, ex_grad, at)


def bench_bce_logits(dtype):
    z = stress_z(dtype)
    for case, yv, pw in [("y=1", 1.0, 1.0), ("y=0", 0.0, 1.0), ("y=1, pos_weight=3", 1.0, 3.0),
                         ("y=0.3, pos_weight=3", 0.3, 3.0)]:
        y = np.full_like(z, yv)
        loss, grad = loss_none("bce_logits", z, y, pos_weight=pw)
        Z, Y, W = ld(z), ld(y), LD(dtype(pw))
        ex_loss = W * Y * softplus(-Z) + (1 - Y) * softplus(Z)
        ex_grad = (1 - Y) * sigmoid(Z) - W * Y * sigmoid(-Z)
        at = lambda i, z=z, yv=yv: f"z={z[i]!r}, y={yv}"  # noqa: E731
        record("bce_logits", dtype, f"z ±1e4, {case}", "loss", loss, ex_loss, at)
        terms = (1 - Y) * sigmoid(Z) + W * Y * sigmoid(-Z)  # = |grad| at y = 0 or 1
        record("bce_logits", dtype, f"z ±1e4, {case}", "grad (vs its terms)", grad, ex_grad, at,
               terms)


def kink_points(k, dtype):
    """d = pred − target at, and a few ULP either side of, ±k; plus 0 and far points."""
    k = dtype(k)
    pts = [k]
    up = dn = k
    for _ in range(4):
        up, dn = np.nextafter(up, dtype(np.inf)), np.nextafter(dn, dtype(0))
        pts += [up, dn]
    pts = np.array(pts, dtype)
    return np.concatenate([pts, -pts])


def bench_regression(dtype):
    info = np.finfo(dtype)
    rng = np.random.default_rng(2)
    big = dtype(1e15) if dtype == np.float32 else dtype(1e150)  # squares stay finite
    base = rng.standard_normal(5000).astype(dtype)
    groups = {
        "random": (base, rng.standard_normal(5000).astype(dtype)),
        "pred == target": (base, base.copy()),
        "subnormal d": (np.array([info.smallest_subnormal, 3 * info.smallest_subnormal, info.tiny],
                                 dtype), np.zeros(3, dtype)),
        "tiny/large |d|": (logspace_signed(-30 if dtype == np.float32 else -300,
                                           np.log10(float(big)), 2000, dtype),
                           np.zeros(4001, dtype)),
    }
    losses = [
        ("mse", {}, lambda d: d * d, lambda d: 2 * d, None),
        ("mae", {}, np.abs, np.sign, None),
        ("smooth_l1", {"beta": 1.0}, None, None, "beta"),
        ("smooth_l1", {"beta": 0.5}, None, None, "beta"),
        ("huber", {"delta": 1.0}, None, None, "delta"),
        ("huber", {"delta": 2.5}, None, None, "delta"),
        ("lp", {"p": 3.0}, lambda d: np.abs(d) ** 3, lambda d: 3 * np.abs(d) ** 2 * np.sign(d), None),
        ("lp", {"p": 1.5}, lambda d: np.abs(d) ** LD(1.5),
         lambda d: LD(1.5) * np.abs(d) ** LD(0.5) * np.sign(d), None),
    ]
    for name, opts, fl, fg, kink in losses:
        cases = dict(groups)
        if kink:
            k = opts[kink]
            cases[f"|d| at/next to {kink}={k}"] = (kink_points(k, dtype),
                                                    np.zeros(16 + 2, dtype)[:18])
            # the kink with a nonzero target: d = pred − target not representable exactly
            t = np.full(18, 0.1, dtype)
            cases[f"|d| near {kink}, target 0.1"] = ((kink_points(k, dtype) + t).astype(dtype), t)
        for case, (p, t) in cases.items():
            if name == "lp" and case == "subnormal d" and opts["p"] == 3.0:
                continue  # |d|^3 underflows to 0 in every dtype: nothing to measure
            loss, grad = loss_none(name, p, t, **opts)
            d = ld(p) - ld(t)
            if name == "smooth_l1":
                b = LD(dtype(opts["beta"]))
                ex_l = np.where(np.abs(d) < b, d * d / (2 * b), np.abs(d) - b / 2)
                ex_g = np.where(np.abs(d) < b, d / b, np.sign(d))
            elif name == "huber":
                dl = LD(dtype(opts["delta"]))
                ex_l = np.where(np.abs(d) < dl, d * d / 2, dl * (np.abs(d) - dl / 2))
                ex_g = np.where(np.abs(d) < dl, d, dl * np.sign(d))
            else:
                ex_l, ex_g = fl(d), fg(d)
            label = name + (f"({', '.join(f'{a}={v}' for a, v in opts.items())})" if opts else "")
            at = lambda i, p=p, t=t: f"pred={p[i]!r}, target={t[i]!r}"  # noqa: E731
            record(label, dtype, case, "loss", loss, ex_l, at)
            record(label, dtype, case, "grad", grad, ex_g, at)


def ce_oracle(z, target, smoothing=0.0, index=True):
    """Per-row loss and gradient of the summed loss, in longdouble, without cancellation
    for the index-target class of a confident row."""
    Z = ld(z)
    n, c = Z.shape
    am = np.argmax(Z, axis=1)
    m = Z[np.arange(n), am][:, None]
    e = np.exp(Z - m)
    e_rest = e.copy()
    e_rest[np.arange(n), am] = 0  # e of the (first) argmax is exactly 1
    s_rest = e_rest.sum(axis=1)
    s = 1 + s_rest
    lse_minus_m = np.log1p(s_rest)[:, None]
    p = e / s[:, None]
    if index:
        q = np.full((n, c), LD(smoothing) / c)
        q[np.arange(n), target] += 1 - LD(smoothing)
    else:
        q = ld(target)
        q = q * (1 - LD(smoothing)) + LD(smoothing) / c
    loss = np.sum(q * ((m - Z) + lse_minus_m), axis=1)
    grad = p * q.sum(axis=1)[:, None] - q
    terms = p * q.sum(axis=1)[:, None] + q  # a difference: its conditioning's scale
    if index and smoothing == 0:
        # p_c − 1 = −Σ_{k≠c} e_k / s, summed directly: no cancellation in the exact value,
        # so the error is measured against the value itself
        e_not_c = e.copy()
        e_not_c[np.arange(n), target] = 0
        grad[np.arange(n), target] = -e_not_c.sum(axis=1) / s
        terms[np.arange(n), target] = np.abs(grad[np.arange(n), target])
    return loss, grad, terms


def bench_softmax_ce(dtype, quick):
    rng = np.random.default_rng(3)
    rows = {}
    rows["normal, C=10"] = rng.standard_normal((2000, 10))
    rows["uniform ±1e4, C=100"] = rng.uniform(-1e4, 1e4, (500, 100))
    dom = rng.standard_normal((400, 50))
    for i in range(400):
        dom[i, i % 50] = 5 + 0.25 * i  # a dominant class, margin 5..105
    rows["dominant class (label = it), C=50"] = dom
    rows["C=32000, normal*3"] = rng.standard_normal((8 if quick else 32, 32000)) * 3
    for case, z in rows.items():
        z = z.astype(dtype)
        n, c = z.shape
        labels = np.argmax(z, axis=1) if "dominant" in case else rng.integers(0, c, n)
        for sm in (0.0, 0.1):
            loss, grad = loss_none("softmax_ce", z, labels, label_smoothing=sm)
            ex_l, ex_g, terms = ce_oracle(z, labels, sm, index=True)
            tag = f"{case}, labels" + (f", smoothing {sm}" if sm else "")
            at = lambda i, z=z, labels=labels: f"row {i}, label {labels[i]}"  # noqa: E731
            atg = lambda i, c=c: f"row {i // c}, class {i % c}"  # noqa: E731
            record("softmax_ce", dtype, tag, "loss", loss, ex_l, at)
            record("softmax_ce", dtype, tag, "grad (vs |p q̄| + |q|)", grad, ex_g, atg, terms)
        probs = rng.dirichlet(np.ones(c) * 0.5, n).astype(dtype)
        loss, grad = loss_none("softmax_ce", z, probs)
        ex_l, ex_g, terms = ce_oracle(z, probs, 0.0, index=False)
        record("softmax_ce", dtype, f"{case}, probabilities", "loss", loss, ex_l,
               lambda i: f"row {i}")
        record("softmax_ce", dtype, f"{case}, probabilities", "grad (vs |p q̄| + |q|)", grad,
               ex_g, lambda i, c=c: f"row {i // c}, class {i % c}", terms)


# --------------------------------------------------------------------------- activations


def bench_activations(dtype):
    z = stress_z(dtype)
    Z = ld(z)
    up = np.ones_like(z)
    at = lambda i: f"z={z[i]!r}"  # noqa: E731
    forms = {
        "sigmoid": (sigmoid(Z), sigmoid_grad(Z), {}),
        "tanh": (np.tanh(Z), tanh_grad(Z), {}),
        "relu": (np.maximum(Z, 0), (Z > 0).astype(LD), {}),
        "leaky_relu": (np.where(Z > 0, Z, LD(dtype(0.01)) * Z),
                       np.where(Z > 0, 1, LD(dtype(0.01))), {"negative_slope": 0.01}),
    }
    for name, (fwd, grad, opts) in forms.items():
        record(name, dtype, "z ±1e4, subnormals, 0", "forward", activation(name, z, **opts), fwd, at)
        record(name, dtype, "z ±1e4, subnormals, 0", "grad(z)",
               activation_grad(name, z, up, **opts), grad, at)
        # through the saved output a (the a the kernel would have stored): the formula in a
        a = np.asarray(activation(name, z, **opts))
        A = ld(a)
        ga = {"sigmoid": A * (1 - A), "tanh": (1 - A) * (1 + A),  # (1 − A² would cancel)
              "relu": (A > 0).astype(LD),
              "leaky_relu": np.where(A > 0, 1, LD(dtype(0.01)))}[name]
        got = activation_grad(name, z, up, output=a, **opts)
        record(name, dtype, "z ±1e4 (via saved a)", "grad(a) vs f'(a)", got, ga, at)
        record(name, dtype, "z ±1e4 (via saved a)", "grad(a) vs f'(z)", got, grad, at)


# --------------------------------------------------------------------------- big means


def bench_means(dtype, quick):
    n = (1 << 20) if quick else (1 << 24)
    rng = np.random.default_rng(4)
    pred = rng.standard_normal(n).astype(dtype) * dtype(3)
    target = rng.standard_normal(n).astype(dtype)
    yb = (rng.random(n) < 0.5).astype(dtype)
    tag = f"mean over {n >> 20}M"
    for name, t, opts, per in [
            ("mse", target, {}, lambda P, T: (P - T) ** 2),
            ("mae", target, {}, lambda P, T: np.abs(P - T)),
            ("smooth_l1", target, {"beta": 1.0},
             lambda P, T: np.where(np.abs(P - T) < 1, (P - T) ** 2 / 2, np.abs(P - T) - LD(0.5))),
            ("huber", target, {"delta": 1.0},
             lambda P, T: np.where(np.abs(P - T) < 1, (P - T) ** 2 / 2, np.abs(P - T) - LD(0.5))),
            ("bce_logits", yb, {}, lambda P, T: T * softplus(-P) + (1 - T) * softplus(P))]:
        mean, _ = loss_and_grad(name, pred, t, reduction="mean", **opts)
        chunk = 1 << 20
        exact = LD(0)
        for lo in range(0, n, chunk):  # longdouble in chunks (memory)
            exact += np.sum(per(ld(pred[lo:lo + chunk]), ld(t[lo:lo + chunk])))
        exact /= n
        record(name, dtype, tag, "loss", np.array([mean]), np.array([exact]))
        # what a pairwise sum of the correctly rounded per-element losses keeps (numpy)
        pw = np.concatenate([per(ld(pred[lo:lo + chunk]), ld(t[lo:lo + chunk])).astype(dtype)
                             for lo in range(0, n, chunk)])
        ref = np.sum(pw, dtype=dtype) / dtype(n)
        record(name, dtype, tag, "loss (numpy pairwise, for scale)", np.array([ref]),
               np.array([exact]))


# --------------------------------------------------------------------------- mpmath check


def check_oracle():
    import mpmath as mp

    mp.mp.dps = 50
    worst = 0.0
    for x in [-1e4, -700.5, -80.25, -17.0, -1e-3, 1e-30, 0.5, 9.0, 17.0, 40.0, 700.0, 1e4]:
        pairs = [(sigmoid(x), 1 / (1 + mp.exp(-mp.mpf(x)))),
                 (sigmoid_grad(x), mp.exp(-mp.mpf(x)) / (1 + mp.exp(-mp.mpf(x))) ** 2),
                 (tanh_grad(x), mp.sech(mp.mpf(x)) ** 2),
                 (softplus(x), mp.log1p(mp.exp(mp.mpf(x))))]
        for a, b in pairs:
            if abs(b) > mp.mpf("1e-4900"):  # inside long double's range
                worst = max(worst, float(abs((mp.mpf(str(a)) - b) / b)))
    print(f"longdouble oracle vs mpmath (50 digits): max relative difference {worst:.2e}")


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1M-element means, 8 rows of 32000")
    ap.add_argument("--check", action="store_true", help="spot-check the oracle with mpmath")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args()
    if args.check:
        check_oracle()
    for dtype in DTYPES:
        bench_bce(dtype)
        bench_bce_logits(dtype)
        bench_regression(dtype)
        bench_softmax_ce(dtype, args.quick)
        bench_activations(dtype)
        bench_means(dtype, args.quick)
    if args.markdown:
        print("| kernel | dtype | inputs | result | max rel. error | max ULP | non-finite | worst at |")
        print("|---|---|---|---|---|---|---|---|")
        for k, dt, case, what, rel, ulp, bad, at in ROWS:
            print(f"| {k} | {dt} | {case} | {what} | {rel:.2e} | {ulp:.3g} | {bad or ''} | {at} |")
    else:
        print(f"{'kernel':<22} {'dtype':<8} {'inputs':<42} {'result':<24} "
              f"{'max rel':>9} {'max ULP':>9} {'nonfin':>6}  worst at")
        for k, dt, case, what, rel, ulp, bad, at in ROWS:
            print(f"{k:<22} {dt:<8} {case:<42} {what:<24} {rel:9.2e} {ulp:9.3g} {bad:6d}  {at}")


if __name__ == "__main__":
    main()
