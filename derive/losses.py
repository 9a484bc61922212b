"""Per-sample losses: the one home of each loss formula, its derivation, and its kernel form.

Every loss is written once here, as a SymPy expression of the prediction and the target. The
derivations differentiate these expressions step by step; the kernel specs
(:mod:`derive.kernels`) are the same expressions rewritten into stable forms that the steps prove
equal. Option names and conventions follow ``torch.nn.functional``.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .core import PROVED, Derivation, Domain, Step, StepBuilder, tidy
from .functions import sigmoid, softplus
from .symbols import L, beta, delta, pos_weight, r, y, yhat, z

# PyTorch clamps BCE's logs at −100 and its gradient's denominator at 1e−12, so that
# probabilities of exactly 0 and 1 give finite losses and gradients.
BCE_LOG_FLOOR = -100
BCE_GRAD_EPS = sp.Float(9.999999960041972e-13)  # float32(1e-12): PyTorch's EPSILON is a float, also for double

RESIDUAL = yhat - y


# --------------------------------------------------------------------------- formulas


def mse_loss() -> sp.Expr:
    return (yhat - y) ** 2


def mae_loss() -> sp.Expr:
    return sp.Abs(yhat - y)


def smooth_l1_loss(b: sp.Expr = beta) -> sp.Expr:
    """0.5 r²/β for |r| < β, |r| − β/2 otherwise (β = 1 is seed 004's SmoothL1)."""
    return sp.Piecewise((r**2 / (2 * b), sp.Abs(r) < b), (sp.Abs(r) - b / 2, True)).subs(r, RESIDUAL)


def huber_loss(d: sp.Expr = delta) -> sp.Expr:
    """0.5 r² for |r| < δ, δ(|r| − δ/2) otherwise: δ·SmoothL1 with β = δ."""
    return sp.Piecewise((r**2 / 2, sp.Abs(r) < d), (d * (sp.Abs(r) - d / 2), True)).subs(r, RESIDUAL)


def lp_loss(p: sp.Expr) -> sp.Expr:
    """|y − ŷ|^p, seed 000's Lp loss per element (MAE and MSE are its means for p = 1, 2)."""
    return sp.Abs(y - yhat) ** p


def bce_loss(prob: sp.Expr = yhat) -> sp.Expr:
    """−[y log ŷ + (1 − y) log(1 − ŷ)] for a probability ŷ."""
    return -(y * sp.log(prob) + (1 - y) * sp.log(1 - prob))


def bce_logits_loss(w: sp.Expr = pos_weight) -> sp.Expr:
    """BCE of σ(z), with positive targets weighted by ``pos_weight`` as in PyTorch."""
    return -(w * y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z)))


# --------------------------------------------------------------------------- domains

PROB = Domain(intervals={yhat: (0.02, 0.98), y: (0.0, 1.0)})
REAL = Domain(intervals={y: (0.0, 1.0)})


# --------------------------------------------------------------------------- derivations


def _dL(v):
    return sp.Derivative(L, v, evaluate=False)


def _plain(name: str, title: str, expr: sp.Expr, domain: Domain, options=None,
           wrt=(yhat,), stable=None) -> Derivation:
    steps, grads = {}, {}
    for v in wrt:
        b = StepBuilder(L, expr, domain)
        b.differentiate(expr, v).simplify()
        steps[v], grads[v] = b.build(), b.current
    return Derivation(name, "loss", title, expr, tuple(wrt), grads, steps, quantity=L,
                      options=options or {}, stable=stable or {},
                      symbols={"yhat": "prediction ŷ", "y": "target"})


def mse() -> Derivation:
    return _plain("mse", "Mean squared error (per element; mean over all elements)",
                  mse_loss(), REAL)


def mae() -> Derivation:
    return _plain("mae", "Mean absolute error (sign(ŷ − y), 0 at 0 as PyTorch)", mae_loss(), REAL)


def smooth_l1() -> Derivation:
    return _plain("smooth_l1", "SmoothL1: quadratic inside |ŷ − y| < β, linear outside",
                  smooth_l1_loss(), REAL, options={"beta": 1.0})


def huber() -> Derivation:
    return _plain("huber", "Huber: quadratic inside |ŷ − y| < δ, δ-linear outside",
                  huber_loss(), REAL, options={"delta": 1.0})


def bce() -> Derivation:
    """BCE on a probability, then through a sigmoid output: ∂L/∂z = σ(z) − y (seed 000)."""
    expr = bce_loss()
    b = StepBuilder(L, expr, PROB)
    b.differentiate(expr, yhat).simplify(target=(yhat - y) / (yhat * (1 - yhat)))
    grad_yhat = b.current
    prob_steps = b.build()

    # Through ŷ = σ(z): the chain rule, then σ' = σ(1 − σ) cancels the denominator.
    c = StepBuilder(L, expr, REAL, equal_under={L: expr, yhat: sigmoid(z)})
    c.restate("chain rule through ŷ = σ(z)",
              _dL(yhat) * sp.Derivative(yhat, z, evaluate=False), _dL(z))
    c.then("substitute ∂L/∂ŷ", grad_yhat * sp.Derivative(sigmoid(z), z, evaluate=False))
    c.then("derivative of σ: σ'(z) = σ(z)(1 − σ(z))", grad_yhat * sigmoid(z) * (1 - sigmoid(z)))
    slope = sigmoid(z) * (1 - sigmoid(z))
    c.then("substitute ŷ = σ(z)", sp.Mul(sigmoid(z) - y, 1 / slope, slope, evaluate=False))
    c.then("cancel σ(z)(1 − σ(z))", sigmoid(z) - y)
    logit_steps = c.build()[1:]  # the definition is the same as above

    # The chain-rule restatement compares with nothing before it: check the end by value.
    StepBuilder(L, sp.diff(expr.subs(yhat, sigmoid(z)), z), REAL).then("closed form", sigmoid(z) - y)

    stable = {
        "loss": -(y * sp.Max(sp.log(yhat), BCE_LOG_FLOOR)
                  + (1 - y) * sp.Max(log1p(-yhat), BCE_LOG_FLOOR)),
        "grad": (yhat - y) / sp.Max(yhat * (1 - yhat), BCE_GRAD_EPS),
    }
    return Derivation(
        "bce", "loss", "Binary cross-entropy on a probability ŷ, and through ŷ = σ(z)",
        expr, (yhat, z), {yhat: grad_yhat, z: sigmoid(z) - y},
        {yhat: prob_steps, z: prob_steps[:1] + logit_steps}, quantity=L, stable=stable,
        symbols={"yhat": "probability ŷ = σ(z)", "y": "target in [0, 1]", "z": "logit"})


def bce_logits() -> Derivation:
    """BCE on logits: σ(z)(p_w y + 1 − y) − p_w y, and the softplus form kernels evaluate."""
    expr = bce_logits_loss()
    b = StepBuilder(L, expr, REAL)
    b.differentiate(expr, z).simplify(target=sigmoid(z) * (pos_weight * y + 1 - y) - pos_weight * y)
    grad = b.current

    # The stable rewrite: log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z), and
    # softplus(x) = max(x, 0) + log1p(e^−|x|), so no exp ever overflows.
    s = StepBuilder(L, expr, REAL)
    s.then("log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z)",
           pos_weight * y * softplus(-z) + (1 - y) * softplus(z))
    stable_loss = pos_weight * y * softplus(-z).rewrite("stable") + (1 - y) * softplus(z).rewrite("stable")
    s.then("stable rewrite: softplus(x) = max(x, 0) + log1p(e^(−|x|))", stable_loss)
    rewrite_steps = s.build()[1:]
    # The gradient as (1 − y)σ(z) − p_w y σ(−z) (σ(−z) = 1 − σ(z)): written σ(z)(p_w y + 1 − y)
    # − p_w y it cancels at y = 1 for z > 0 (float32 z > 17: 0 instead of −p_w e^(−z)).
    grad_split = (1 - y) * sigmoid(z) - pos_weight * y * sigmoid(-z)
    StepBuilder(L, grad, REAL).then("σ(−z) = 1 − σ(z)", grad_split)  # checks the two equal
    stable = {"loss": stable_loss,
              "grad": grad_split.subs({sigmoid(z): sigmoid(z).rewrite("stable"),
                                       sigmoid(-z): sigmoid(-z).rewrite("stable")})}
    return Derivation(
        "bce_logits", "loss", "Binary cross-entropy with logits (stable, with pos_weight)",
        expr, (z,), {z: grad}, {z: b.build() + rewrite_steps}, quantity=L,
        options={"pos_weight": 1.0}, stable=stable,
        symbols={"z": "logit", "y": "target in [0, 1]", "p_w": "pos_weight"})


# --------------------------------------------------------------------------- softmax cross-entropy
#
# Index form: logits z[0..C−1], class index c, a target distribution y (one-hot δ_jc) or q.
# Steps are checked with concrete sizes: the Domain draws C, c and i as integers first.

def _exp_sum(vec, n):
    """Σ_k e^(z_k), written out when the number of classes is concrete."""
    if n.is_Integer:
        return sp.Add(*[sp.exp(vec[q]) for q in range(int(n))])
    # The bound index is the module's k (not a Dummy), so equal sums compare equal.
    return sp.Sum(sp.exp(vec[k]), (k, 0, n - 1))


class _IndexedFunction(sp.Function):
    """A function of a whole vector z (an IndexedBase) that expands to Sums on ``doit``."""

    latex_name = ""

    def doit(self, **hints):
        expanded = self._expanded()
        return expanded.doit(**hints) if hints.get("deep", True) else expanded

    def _eval_is_real(self):
        return True

    def _eval_rewrite_as_Sum(self, *args, **kwargs):
        return self._expanded()


class softmax(_IndexedFunction):
    """softmax(z)_i = e^(z_i) / Σ_k e^(z_k) over C classes: ``softmax(z, i, C)``."""

    nargs = 3

    def _expanded(self):
        vec, idx, n = self.args
        return sp.exp(vec[idx]) / _exp_sum(vec, n)

    def _eval_is_positive(self):
        return True

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        vec, idx, _ = self.args
        return prettyForm(f"softmax({printer.doprint(vec)})[{printer.doprint(idx)}]")

    def _latex(self, printer, exp=None):
        vec, idx, _ = self.args
        tex = r"\operatorname{softmax}\left(%s\right)_{%s}" % (printer._print(vec), printer._print(idx))
        return r"%s^{%s}" % (tex, exp) if exp is not None else tex


class logsumexp(_IndexedFunction):
    """logsumexp(z) = log Σ_k e^(z_k) over C classes: ``logsumexp(z, C)``; ∂/∂z_i = softmax(z)_i."""

    nargs = 2

    def _expanded(self):
        vec, n = self.args
        return sp.log(_exp_sum(vec, n))

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(f"logsumexp({printer.doprint(self.args[0])})")

    def _latex(self, printer, exp=None):
        tex = r"\operatorname{logsumexp}\left(%s\right)" % printer._print(self.args[0])
        return r"%s^{%s}" % (tex, exp) if exp is not None else tex


# Index-form symbols.
Z = sp.IndexedBase("z", real=True)  # logits
Y = sp.IndexedBase("y", real=True)  # one-hot target y_j = δ_jc
Q = sp.IndexedBase("q", real=True)  # target distribution (probabilities, or label-smoothed)
W = sp.IndexedBase("w", positive=True)  # class weights
_U = sp.IndexedBase("u", positive=True)  # unnormalised target: q_j = u_j / Σ u (for the checks)
i, j, k = sp.symbols("i j k", integer=True, nonnegative=True)
c = sp.Symbol("c", integer=True, nonnegative=True)  # the true class
_t = sp.Symbol("t", integer=True, nonnegative=True)
_n = sp.Wild("n")

# Scalar symbols of the kernel forms (codegen prints ``softmax_ce().stable`` with these).
C = sp.Symbol("C", integer=True, positive=True)  # number of classes
zj = sp.Symbol("z_j", real=True)  # logit of class j
m = sp.Symbol("m", real=True)  # row max, max_k z_k
s = sp.Symbol("s", positive=True)  # Σ_k exp(z_k − m)
s_rest = sp.Symbol("r_s", nonnegative=True)  # s − 1 = Σ_{k: z_k < m} exp(z_k − m), one row max
qj = sp.Symbol("q_j", real=True)  # target probability of class j
onehot_j = sp.Symbol("onehot_j", real=True)  # 1 if j is the true class, else 0
eps = sp.Symbol("epsilon", nonnegative=True)  # label_smoothing
wj = sp.Symbol("w_j", positive=True)  # weight of class j
wq = sp.Symbol("wq", positive=True)  # Σ_k w_k q_k (the weighted target mass of one row)
wq_rest = sp.Symbol("wq_r", nonnegative=True)  # Σ_{k≠j} w_k q_k: the mass off the argmax j

CE_DOMAIN = Domain(intervals={eps: (0.0, 1.0), m: (-3.0, 3.0)},
                   integers={C: (3, 5), c: (0, 2), i: (0, 2), j: (0, 2)})


def _sum(expr, idx=j):
    return sp.Sum(expr, (idx, 0, C - 1))


def softmax_ce_loss(target=Y, weight=None) -> sp.Expr:
    """−Σ_j w_j q_j log softmax(z)_j; a one-hot target gives −log softmax(z)_c."""
    term = target[j] * sp.log(softmax(Z, j, C))
    return -_sum(term if weight is None else weight[j] * term)


def smoothed_target(onehot=Y[j]) -> sp.Expr:
    """PyTorch's label smoothing: q_j = (1 − ε)·onehot_j + ε/C."""
    return (1 - eps) * onehot + eps / C


def _dz(expr):
    return sp.Derivative(expr, Z[i], evaluate=False)


def softmax_ce() -> Derivation:
    """−log softmax(z)_c: ∂L/∂z_i = softmax(z)_i − y_i, with label smoothing and class weights."""
    p_i = softmax(Z, i, C)
    lse = logsumexp(Z, C)
    onehot = {Y[_n]: sp.KroneckerDelta(_n, c)}
    dLi = sp.Derivative(L, Z[i], evaluate=False)

    # One-hot target: the true class's log-probability, written as a sum over a one-hot y.
    b = StepBuilder(L, -sp.log(softmax(Z, c, C)), CE_DOMAIN, equal_under=onehot)
    b.then("one-hot target y_j = δ_jc: the sum picks j = c", softmax_ce_loss(Y))
    b.then("definition of softmax",
           -_sum(Y[j] * sp.log(sp.exp(Z[j]) / _sum(sp.exp(Z[k]), k))))
    b.then("log of a quotient", -_sum(Y[j] * (Z[j] - sp.log(_sum(sp.exp(Z[k]), k)))))
    b.then("split the sum; logsumexp(z) = log Σ_k e^(z_k)", -_sum(Y[j] * Z[j]) + _sum(Y[j]) * lse)
    b.then("one-hot targets sum to one: Σ_j y_j = 1", -_sum(Y[j] * Z[j]) + lse)
    b.restate(f"differentiate with respect to {Z[i]}",
              -_sum(Y[j] * sp.Derivative(Z[j], Z[i], evaluate=False)) + _dz(lse), dLi)
    b.then("∂z_j/∂z_i = δ_ij; derivative of logsumexp: ∂logsumexp(z)/∂z_i = softmax(z)_i",
           -_sum(Y[j] * sp.KroneckerDelta(i, j)) + p_i)
    b.then("the Kronecker delta picks j = i", p_i - Y[i])
    grad = b.current
    # The restatement compares with nothing before it: check the result against SymPy's diff.
    StepBuilder(dLi, sp.diff(-sp.log(softmax(Z, c, C)._expanded()), Z[i]), CE_DOMAIN,
                equal_under=onehot).then("closed form", grad)
    onehot_steps = b.build()

    # A probability target q (any q_j ≥ 0 summing to one), and label smoothing, which is one.
    prob = {Q[_n]: _U[_n] / _sum(_U[_t], _t)}
    g = StepBuilder(L, softmax_ce_loss(Q), CE_DOMAIN, equal_under=prob,
                    rule="probability target q (Σ_j q_j = 1)")
    g.then("definition of softmax; log of a quotient; split the sum",
           -_sum(Q[j] * Z[j]) + _sum(Q[j]) * lse)
    g.restate(f"differentiate with respect to {Z[i]}", _dz(g.current), dLi)
    g.then("∂z_j/∂z_i = δ_ij; derivative of logsumexp", -Q[i] + _sum(Q[j]) * p_i)
    g.then("targets sum to one: Σ_j q_j = 1", p_i - Q[i])
    prob_steps = g.build()

    smooth = {Q[_n]: smoothed_target(sp.KroneckerDelta(_n, c)), **onehot}
    h = StepBuilder(L, softmax_ce_loss(Q), CE_DOMAIN, equal_under=smooth,
                    rule="label smoothing ε (PyTorch): q_j = (1 − ε) y_j + ε/C")
    h.restate(f"differentiate with respect to {Z[i]}", _dz(h.current), dLi)
    h.then("as for a probability target", -Q[i] + _sum(Q[j]) * p_i)
    h.then("smoothed targets sum to one: Σ_j q_j = (1 − ε)·1 + C·ε/C = 1", p_i - Q[i])
    h.then("substitute q_i", p_i - smoothed_target(Y[i]), )
    smooth_steps = h.build()

    # Class weights (PyTorch's per-sample weighted loss; 'mean' divides by Σ_n w_(c_n)).
    wt = StepBuilder(L, softmax_ce_loss(Q, W), CE_DOMAIN, equal_under=prob,
                     rule="class weights w: L = −Σ_j w_j q_j log softmax(z)_j")
    wt.then("log of a quotient; split the sum", -_sum(W[j] * Q[j] * Z[j]) + _sum(W[j] * Q[j]) * lse)
    wt.restate(f"differentiate with respect to {Z[i]}", _dz(wt.current), dLi)
    wt.then("∂z_j/∂z_i = δ_ij; derivative of logsumexp", p_i * _sum(W[j] * Q[j]) - W[i] * Q[i])
    weight_steps = wt.build()
    one = StepBuilder(dLi, wt.current, CE_DOMAIN,
                      equal_under={Q[_n]: sp.KroneckerDelta(_n, c), **onehot},
                      rule="one-hot target q = y (no smoothing)")
    one.then("Σ_j w_j δ_jc = w_c", p_i * W[c] - W[i] * Y[i])
    one.then("w_i y_i = w_c y_i", W[c] * (p_i - Y[i]))
    weight_steps += one.build()

    stable_steps = _softmax_ce_stable_steps()
    stable = {
        "shifted_exp": sp.exp(zj - m),
        "lse": m + sp.log(s),
        "nll_term": m + sp.log(s) - zj,
        "prob": sp.exp(zj - m) / s,
        "grad": sp.exp(zj - m) / s - qj,
        "smoothed_target": smoothed_target(onehot_j),
        "weighted_grad": sp.exp(zj - m) / s * wq - wj * qj,
        # A confident row (the argmax class j holds almost all the mass, s = 1 + r_s, r_s
        # small): s rounds r_s's digits away, so log(s) and p_j − 1 = 1/s − 1 keep none of
        # them. With r_s summed apart: log(s) = log1p(r_s), and for the argmax (e^0 = 1)
        # p_j − 1 = −r_s/s.
        "lse_confident": m + log1p(s_rest),
        "nll_term_confident": m + log1p(s_rest) - zj,
        "grad_argmax_confident": -s_rest / s,
        # Any target (probabilities, label smoothing, weights): p_j·wq − w_j q_j at the argmax
        # is 1/s·wq − w_j q_j, the same cancellation; with wq_r = Σ_{k≠j} w_k q_k summed apart
        # it is (wq_r − w_j q_j·r_s)/s (−w_j r_s/s for a one-hot target).
        "weighted_grad_argmax_confident": (wq_rest - wj * qj * s_rest) / s,
    }
    zi = Z[i]
    return Derivation(
        "softmax_ce", "loss", "Softmax cross-entropy: −log softmax(z)_c, ∂L/∂z = softmax(z) − y",
        -sp.log(softmax(Z, c, C)), (zi,), {zi: grad},
        {zi: onehot_steps + prob_steps + smooth_steps + weight_steps + stable_steps},
        quantity=L, options={"label_smoothing": 0.0, "weight": None, "reduction": "mean"},
        stable=stable,
        symbols={"z": "logits z_0 … z_(C−1)", "c": "true class index", "C": "number of classes",
                 "y": "one-hot target y_j = δ_jc", "q": "target probabilities (Σ_j q_j = 1)",
                 "epsilon": "label_smoothing ε", "w": "class weights", "m": "row max max_k z_k",
                 "s": "Σ_k exp(z_k − m)"})


def _softmax_ce_stable_steps():
    """The kernel form: −log softmax(z)_j = m + log Σ_k e^(z_k − m) − z_j for the row max m."""
    names = {s: _sum(sp.exp(Z[k] - m), k), zj: Z[j]}
    nll = sp.Symbol("ℓ_j")
    b = StepBuilder(nll, -sp.log(softmax(Z, j, C)), CE_DOMAIN, equal_under=names,
                    rule="stable rewrite: ℓ_j = −log softmax(z)_j")
    b.then("log of a quotient", logsumexp(Z, C) - Z[j])
    b.then("subtract the row max m = max_k z_k (any m is exact; the max keeps e^(z_k − m) ≤ 1)",
           m + sp.log(_sum(sp.exp(Z[k] - m), k)) - Z[j])
    b.then("name s = Σ_k e^(z_k − m)", m + sp.log(s) - zj)
    p = StepBuilder(sp.Symbol("p_j"), softmax(Z, j, C), CE_DOMAIN, equal_under=names,
                    rule="stable softmax")
    p.then("divide numerator and denominator by e^m", sp.exp(zj - m) / s)
    # The argmax class j (z_j = m) of a confident row, s = 1 + r_s with r_s summed apart.
    conf = {zj: m, s: 1 + s_rest, wq: wq_rest + wj * qj}
    g = StepBuilder(sp.Symbol("g_j"), sp.exp(zj - m) / s * wq - wj * qj, CE_DOMAIN,
                    equal_under=conf, rule="the argmax class of a confident row: p_j·wq − w_j q_j")
    g.then("z_j = m: e^(z_j − m) = 1", wq / s - wj * qj)
    g.then("wq = w_j q_j + Σ_{k≠j} w_k q_k = w_j q_j + wq_r; s = 1 + r_s: 1/s − 1 = −r_s/s",
           (wq_rest - wj * qj * s_rest) / s)
    one = StepBuilder(sp.Symbol("g_j"), g.current, CE_DOMAIN,
                      equal_under={wq_rest: 0, qj: 1, wj: 1},
                      rule="a one-hot target on the argmax, per unit weight (q_j = 1, wq_r = 0)")
    one.then("p_j − 1", -s_rest / s)
    return b.build() + p.build() + g.build() + one.build()


# --------------------------------------------------------------------------- Lp, MSE vs MAE, multi-target MSE

p = sp.Symbol("p", positive=True)  # the exponent of the Lp loss (seed 000: p ≥ 1)
LP_DOMAIN = Domain(intervals={y: (-2.0, 2.0), yhat: (-2.0, 2.0), p: (1.0, 4.0)})


def lp() -> Derivation:
    """|y − ŷ|^p per element (seed 000's Lp = Σ_i |y_i − ŷ_i|^p); p = 2 gives MSE's, p = 1 MAE's."""
    expr = lp_loss(p)
    grad = p * sp.Abs(yhat - y) ** (p - 1) * sp.sign(yhat - y)
    b = StepBuilder(L, expr, LP_DOMAIN)
    b.differentiate(expr, yhat).simplify(
        "simplification: |y − ŷ| = |ŷ − y|, −sign(y − ŷ) = sign(ŷ − y)", target=grad)
    # The specialisations substitute p (both sides), so each is checked as an equation.
    # Each starts from the gradient with p put in (unevaluated, so |r|¹ and |r|⁰ show).
    with sp.evaluate(False):
        at = {n: sp.Mul(n, sp.Pow(sp.Abs(yhat - y), n - 1), sp.sign(yhat - y)) for n in (2, 1)}
    two = StepBuilder(_dL(yhat), at[2], LP_DOMAIN, equal_under={p: 2}, rule="p = 2 (MSE per element)")
    two.then("|r|·sign(r) = r", 2 * (yhat - y))
    one = StepBuilder(_dL(yhat), at[1], LP_DOMAIN, equal_under={p: 1},
                      rule="p = 1 (MAE per element; PyTorch takes sign(0) = 0)")
    one.then("|r|⁰ = 1", sp.sign(yhat - y))
    return Derivation(
        "lp", "loss", "Lp loss |y − ŷ|^p per element (p = 2: MSE, p = 1: MAE)", expr, (yhat,),
        {yhat: grad}, {yhat: b.build() + two.build() + one.build()}, quantity=L,
        options={"p": 2}, stable={"loss": expr, "grad": grad},
        symbols={"yhat": "prediction ŷ", "y": "target", "p": "exponent p ≥ 1"})


def _solved(rule: str, condition, note: str) -> Step:
    """A step ``{r | condition} = the set SymPy's solveset finds``: the comparison, proved."""
    return Step(rule, sp.solveset(condition, r, sp.S.Reals), sp.ConditionSet(r, condition, sp.Reals),
                PROVED, note)


def mse_vs_mae() -> Derivation:
    """Seed 000: MSE punishes |r| > 1 harder than MAE; its gradient is the larger for |r| > 1/2.

    The quantity is the gap Δ = (ŷ − y)² − |ŷ − y|, per element (the means over N elements
    share the factor 1/N, so the comparisons hold for them as well).
    """
    expr = mse_loss() - mae_loss()
    gap = sp.Symbol("Δ")
    b = StepBuilder(gap, expr, REAL)
    b.differentiate(expr, yhat, lhs=sp.Derivative(gap, yhat, evaluate=False)).simplify(
        target=2 * (yhat - y) - sp.sign(yhat - y))
    grad = b.current
    steps = list(b.build())
    steps.append(_solved("where the MSE term is the larger (seed 000: |r| > 1), r = ŷ − y",
                         r**2 > sp.Abs(r), "solved by sympy.solveset"))
    steps.append(_solved("where MSE's gradient 2r is the larger in size than MAE's sign(r)",
                         sp.Abs(2 * r) > sp.Abs(sp.sign(r)), "solved by sympy.solveset"))
    # MAE has no derivative at r = 0: the one-sided difference quotients of |r| disagree.
    h = sp.Symbol("h", real=True)
    slopes = sp.FiniteSet(sp.limit(sp.Abs(h) / h, h, 0, "-"), sp.limit(sp.Abs(h) / h, h, 0, "+"))
    one_sided = sp.FiniteSet(*[sp.Limit(sp.Abs(h) / h, h, 0, side) for side in "-+"])
    steps.append(Step("|r| has no derivative at r = 0 (PyTorch uses sign(0) = 0)", slopes,
                      one_sided, PROVED, "one-sided limits by sympy.limit"))
    return Derivation(
        "mse_vs_mae", "loss", "MSE vs MAE: which loss and which gradient is the larger (seed 000)",
        expr, (yhat,), {yhat: grad}, {yhat: tuple(steps)}, quantity=gap,
        symbols={"yhat": "prediction ŷ", "y": "target", "r": "residual ŷ − y",
                 "Δ": "MSE term minus MAE term, (ŷ − y)² − |ŷ − y|"})


# Multi-target MSE: n samples, m targets each (seed 003): 1/(mn) Σ_i Σ_j (y_ij − ŷ_ij)².
YHAT2, Y2 = sp.IndexedBase("yhat", real=True), sp.IndexedBase("y", real=True)
n_samples, n_targets = sp.symbols("n m", integer=True, positive=True)
k2, l2 = sp.symbols("k l", integer=True, nonnegative=True)
MULTI_DOMAIN = Domain(intervals={}, integers={n_samples: (2, 3), n_targets: (2, 3), k2: (0, 1), l2: (0, 1)})


def mse_multi() -> Derivation:
    """∂/∂ŷ_kl of 1/(mn) Σ_i Σ_j (y_ij − ŷ_ij)² = 2(ŷ_kl − y_kl)/(mn)."""
    ii, jj = sp.symbols("i j", integer=True, nonnegative=True)
    limits = ((jj, 0, n_targets - 1), (ii, 0, n_samples - 1))
    expr = sp.Sum((Y2[ii, jj] - YHAT2[ii, jj]) ** 2, *limits) / (n_samples * n_targets)
    var = YHAT2[k2, l2]
    dL = sp.Derivative(L, var, evaluate=False)
    b = StepBuilder(L, expr, MULTI_DOMAIN)
    b.restate(f"differentiate with respect to {var}", sp.Derivative(expr, var, evaluate=False), dL)
    b.then("constant factor, sum rule, power rule, chain rule: ∂ŷ_ij/∂ŷ_kl = δ_ik δ_jl",
           sp.Sum(-2 * (Y2[ii, jj] - YHAT2[ii, jj]) * sp.KroneckerDelta(ii, k2)
                  * sp.KroneckerDelta(jj, l2), *limits) / (n_samples * n_targets))
    b.then("the Kronecker deltas pick i = k, j = l",
           2 * (YHAT2[k2, l2] - Y2[k2, l2]) / (n_samples * n_targets))
    return Derivation(
        "mse_multi", "loss", "Multi-target MSE 1/(mn) Σ_i Σ_j (y_ij − ŷ_ij)² (seed 003)",
        expr, (var,), {var: b.current}, {var: b.build()}, quantity=L,
        stable={"grad": 2 * (yhat - y) / (n_samples * n_targets)},
        symbols={"yhat": "predictions ŷ_ij", "y": "targets y_ij", "n": "samples", "m": "targets per sample"})


# --------------------------------------------------------------------------- batch reductions


class ell(sp.Function):
    """A per-sample loss ℓ(ŷ, y), left general; ∂ℓ/∂ŷ is ``ell_prime``.

    The steps are generic. Only the numeric checks need values, and for those ℓ stands for
    the squared error (any differentiable loss would do: the steps never use its form).
    """

    nargs = 2

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return ell_prime(*self.args)

    def _eval_evalf(self, prec):
        p, t = self.args
        return ((p - t) ** 2).evalf(prec)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(x) for x in self.args)
        return r"\ell\left(%s\right)" % args + (f"^{{{exp}}}" if exp else "")

    def _pretty(self, printer):
        return printer._print_Function(self, func_name="ℓ")


class ell_prime(sp.Function):
    """∂ℓ/∂ŷ of :class:`ell` (numerically, the squared error's 2(ŷ − y))."""

    nargs = 2

    def _eval_evalf(self, prec):
        p, t = self.args
        return (2 * (p - t)).evalf(prec)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(x) for x in self.args)
        return r"\ell'\left(%s\right)" % args + (f"^{{{exp}}}" if exp else "")

    def _pretty(self, printer):
        return printer._print_Function(self, func_name="ℓ'")


def reduction() -> Derivation:
    """reduction='mean' and 'sum' over a batch of N: ∂L/∂ŷ_k = ℓ'(ŷ_k, y_k)/N, or ℓ'(ŷ_k, y_k).

    Every elementwise loss above is ℓ; the runtime's kernels scale the per-element gradient
    by this 1/N (PyTorch's mean over all elements). Then seed 003's form for m samples of n
    outputs, the mean over samples only: ∂/∂ŷ_kl = ℓ'(ŷ_kl, y_kl)/m, n times PyTorch's mean;
    and what seed 002's MSE gradient 2/n Σ(ŷ_i − y_i) is: the sum of the partials, not one.
    """
    N = sp.Symbol("N", integer=True, positive=True)
    n, k = sp.symbols("n k", integer=True, nonnegative=True)
    P, T = sp.IndexedBase("yhat"), sp.IndexedBase("y")
    domain = Domain(intervals={T: (0.0, 1.0)}, integers={N: (3, 5), k: (0, 2)})
    steps, grads = {}, {}
    total = sp.Sum(ell(P[n], T[n]), (n, 0, N - 1))
    for name, scale in (("mean", 1 / N), ("sum", sp.Integer(1))):
        Lr = sp.Symbol(f"L_{name}")
        b = StepBuilder(Lr, scale * total, domain, rule=f"definition (reduction='{name}')")
        dLr = sp.Derivative(Lr, P[k], evaluate=False)
        b.restate("differentiate both sides",
                  scale * sp.Derivative(total, P[k], evaluate=False), dLr)
        b.then("linearity: the derivative of a sum is the sum of the derivatives",
               scale * sp.Sum(sp.Derivative(ell(P[n], T[n]), P[k], evaluate=False), (n, 0, N - 1)))
        b.then("chain rule: ∂ℓ(ŷ_n, y_n)/∂ŷ_k = ℓ'(ŷ_n, y_n)·δ_nk",
               scale * sp.Sum(ell_prime(P[n], T[n]) * sp.KroneckerDelta(n, k), (n, 0, N - 1)))
        b.then("only the term n = k remains", scale * ell_prime(P[k], T[k]))
        steps[name], grads[name] = b.build(), b.current
    # Seed 003's multi-label BCE E = −(1/m) Σ_i Σ_k [y log p + (1 − y) log(1 − p)] and its
    # multi-class CE average over the m samples only and sum over each sample's n outputs:
    # 1/m, not PyTorch's 1/(mn) of reduction='mean' over all m·n elements.
    M, K = sp.symbols("m n", integer=True, positive=True)
    i, j, l = sp.symbols("i j l", integer=True, nonnegative=True)
    domain2 = Domain(intervals={T: (0.0, 1.0)}, integers={M: (2, 3), K: (2, 3), k: (0, 1), l: (0, 1)})
    total2 = sp.Sum(ell(P[i, j], T[i, j]), (i, 0, M - 1), (j, 0, K - 1))
    Ls = sp.Symbol("L_seed003")
    b = StepBuilder(Ls, total2 / M, domain2,
                    rule="seed 003: mean over the m samples, sum over each sample's n outputs "
                         "(its multi-label BCE and multi-class CE, E = −(1/m) Σ_i Σ_k …)")
    dLs = sp.Derivative(Ls, P[k, l], evaluate=False)
    b.restate("differentiate both sides", sp.Derivative(total2, P[k, l], evaluate=False) / M, dLs)
    b.then("chain rule: ∂ℓ(ŷ_ij, y_ij)/∂ŷ_kl = ℓ'(ŷ_ij, y_ij)·δ_ik·δ_jl",
           sp.Sum(ell_prime(P[i, j], T[i, j]) * sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l),
                  (i, 0, M - 1), (j, 0, K - 1)) / M)
    b.then("only the term i = k, j = l remains: n times reduction='mean' over all m·n elements "
           "(PyTorch's BCELoss), 1/m instead of 1/(mn)", ell_prime(P[k, l], T[k, l]) / M)
    steps["seed003"] = b.build()
    # Seed 002 writes the MSE's gradient as 2/n Σ(ŷ_i − y_i): the sum of the partials above
    # (the slope when every ŷ_k moves by the same amount), not the gradient's entries.
    S = sp.Symbol("S_seed002")
    mse_mean = sp.Sum((P[n] - T[n]) ** 2, (n, 0, N - 1)) / N
    domain3 = Domain(integers={N: (3, 5)})
    b = StepBuilder(S, sp.Sum(sp.Derivative(mse_mean, P[i], evaluate=False), (i, 0, N - 1)),
                    domain3, rule="seed 002's ∂L/∂y = 2/n Σ(ŷ_i − y_i) for the MSE is this sum "
                                  "of the N partial derivatives, not the gradient")
    b.then("each term: reduction='mean' above with ℓ = (ŷ − y)², ℓ' = 2(ŷ − y)",
           sp.Sum(2 * (P[i] - T[i]) / N, (i, 0, N - 1)))
    b.then("the constant 2/N out of the sum: the seed's expression; the gradient's entries are "
           "its terms 2(ŷ_k − y_k)/N, one per prediction",
           2 / N * sp.Sum(P[i] - T[i], (i, 0, N - 1)))
    steps["seed002"] = b.build()
    # All reductions share one variable ŷ_k; the other blocks' steps follow the 'mean' ones.
    var = P[k]
    return Derivation(
        "reduction", "loss", "Mean and sum over a batch: ∂L/∂ŷ_k = ℓ'(ŷ_k, y_k)/N or ℓ'(ŷ_k, y_k)",
        total / N, (var,), {var: grads["mean"]}, {var: steps["mean"] + steps["sum"] + steps["seed003"] + steps["seed002"]},
        quantity=sp.Symbol("L_mean"), options={"reduction": "mean"},
        symbols={"yhat": "predictions ŷ_n of a batch", "y": "targets", "N": "batch size",
                 "ell": "any per-sample loss ℓ(ŷ, y) above"})
