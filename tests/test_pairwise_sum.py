"""Reductions add their per-block partial sums in pairs (codegen.numba_reduce.pairwise_sum),
and softmax_ce the row losses inside a block with a compensated sum.

The oracle is math.fsum (the correctly rounded sum). The inputs are built so that adding the
block sums in order, as the kernels did before, is hundreds of ULP off: one block of large
terms, then thousands of blocks whose sums are each under an ULP of the running total and
round up.
"""
import math

import numpy as np
import pytest

import runtime
from runtime.clip import get_total_norm
from runtime.generated import numba_losses, numba_optim


def ulps(value, exact):
    return abs(float(value) - exact) / np.spacing(exact)


@pytest.mark.parametrize("module", [numba_losses, numba_optim], ids=["losses", "optim"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 1000, 8193])
def test_pairwise_sum_against_fsum(module, n):
    x = np.random.default_rng(n).standard_normal(n) * 10.0 ** (np.arange(n) % 7)  # mixed magnitudes
    exact = math.fsum(x)
    got = module.pairwise_sum(x.copy())
    # the bound of a pairwise sum: ceil(log2 n) roundings of at most eps/2 · Σ|x|
    bound = max(math.ceil(math.log2(max(n, 2))), 1) * np.finfo(np.float64).eps / 2 * np.abs(x).sum()
    assert abs(got - exact) <= bound
    if n == 0:
        assert got == 0.0


def test_pairwise_sum_where_an_in_order_sum_is_off():
    # 1 then 8191 halves of an ULP of 1: an in-order sum rounds each one away (ties to even)
    x = np.full(8192, 2.0 ** -53)
    x[0] = 1.0
    in_order = 0.0  # the kernels' old partial.sum()
    for v in x:
        in_order += v
    exact = math.fsum(x)
    assert in_order == 1.0 and exact > 1.0  # the oracle sees what the in-order sum loses
    assert ulps(in_order, exact) > 4000
    assert ulps(numba_losses.pairwise_sum(x.copy()), exact) <= 1


def _skewed(n, block, big, small, dtype=np.float64):
    a = np.full(n, small, dtype)
    a[:block] = big
    return a


@pytest.mark.parametrize("name", ["mse", "mae", "smooth_l1", "huber"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_reductions_over_many_blocks_float64(name, reduction):
    n = 1 << 22
    block = numba_losses.BLOCK
    # d = 1e4 on one block, 1e-4 elsewhere: each later block adds less than an ULP of the total
    pred, target = _skewed(n, block, 1e4, 1e-4), np.zeros(n)
    loss, _ = runtime.loss_and_grad(name, pred, target, reduction=reduction)
    d = pred - target
    if name == "mse":
        per = d * d
    elif name == "mae":
        per = np.abs(d)
    else:  # smooth_l1 (beta 1) and huber (delta 1): |d| − 1/2 above 1, d²/2 below
        per = np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5)
    exact = math.fsum(per) / (n if reduction == "mean" else 1)
    assert ulps(loss, exact) <= 2


def test_bce_logits_mean_over_many_blocks_float64():
    n = 1 << 22
    z = _skewed(n, 2048, -40.0, 33.0)  # y = 1: loss ≈ 40 on one block, 4.7e-15 elsewhere
    y = np.ones(n)
    loss, _ = runtime.loss_and_grad("bce_logits", z, y)
    exact = math.fsum(np.logaddexp(0.0, -z)) / n
    assert ulps(loss, exact) <= 2


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_total_norm_over_many_blocks_float64(norm_type):
    n = 1 << 22
    block = numba_optim.BLOCK
    g = _skewed(n, block, 1e4, 1e-4)
    norm = get_total_norm([g], norm_type=norm_type)
    exact = (math.sqrt(math.fsum(g * g)) if norm_type == 2.0 else math.fsum(np.abs(g)))
    assert ulps(norm, exact) <= 2


def test_softmax_ce_mean_over_row_blocks_float64():
    # 64 row blocks of 1024 rows (2 classes): the first block's rows lose ≈ 40 each, the
    # others 4.7e-15 each, so each later block adds about 2/3 of an ULP of the running total
    n, c = 1 << 16, 2
    margin = np.full(n, 33.0)  # z_label − z_other
    margin[:n // 64] = -40.0
    labels = np.zeros(n, np.int64)
    logits = np.zeros((n, c))
    logits[:, 0] = margin
    loss, _ = runtime.loss_and_grad("softmax_ce", logits, labels)
    # textbook: log Σ_j exp(z_j) − z_label = log(1 + exp(z_other − z_label))
    exact = math.fsum(np.logaddexp(0.0, -margin)) / n
    assert ulps(loss, exact) <= 2


@pytest.mark.parametrize("variant", ["index", "index_serial"])
def test_softmax_ce_mean_of_many_rows_in_one_block_float64(variant):
    # The serial twin adds every row's loss into one block total, the parallel kernel up to
    # ROW_BLOCK / C rows per block: added in order, this mean over 4M rows was 445 ULP off
    # (serial) and 2 ULP off (parallel) before the compensated sum; now 0 (n is a power of 2:
    # the mean is the sum's rounding only, within an ULP).
    n, c = 1 << 22, 2
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    kernel = numba_losses.KERNELS[("softmax_ce", variant, "mean", "float64")]
    loss = kernel(logits, labels, np.ones(c), -100, 0.0, np.empty_like(logits))
    # textbook: log Σ_j exp(z_j) − z_label, row by row, the rows summed exactly
    rows = np.logaddexp(logits[:, 0], logits[:, 1]) - logits[np.arange(n), labels]
    assert ulps(loss, math.fsum(rows) / n) <= 1


@pytest.mark.parametrize("variant", ["index", "index_serial"])
def test_softmax_ce_infinite_loss_stays_infinite(variant):
    # a −inf logit on the label gives an infinite loss (as torch); the compensation term is
    # then NaN (inf − inf) and must not replace it
    logits = np.zeros((8, 3))
    logits[5, 1] = -np.inf
    labels = np.full(8, 1)
    kernel = numba_losses.KERNELS[("softmax_ce", variant, "mean", "float64")]
    assert kernel(logits, labels, np.ones(3), -100, 0.0, np.empty_like(logits)) == np.inf
