"""Initialisers against torch.nn.init's documented formulas and its own samples."""
import math

import numpy as np
import pytest

from runtime import init

SHAPES = [(300, 200), (64, 784), (10, 256)]


@pytest.mark.parametrize("name,param,expected", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("selu", None, 0.75)])
def test_gain_formulas(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_gain_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for calculate_gain")
    for name in ("linear", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in (None, 0.01, 0.3, 1.0):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope))


def test_fans_match_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for fan computation")
    for shape in [(3, 5), (7, 2), (4, 3, 2, 2)]:
        assert init.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _expected(kind, shape, gain_or_a, mode="fan_in", nonlinearity="leaky_relu"):
    """(distribution, scale) from torch.nn.init's documentation, written out independently."""
    fan_out, fan_in = shape
    if kind.startswith("xavier"):
        std = gain_or_a * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_in if mode == "fan_in" else fan_out
        gain = math.sqrt(2.0 / (1 + gain_or_a**2)) if nonlinearity == "leaky_relu" else (
            math.sqrt(2.0) if nonlinearity == "relu" else 1.0)
        std = gain / math.sqrt(fan)
    return std


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind,kw", [
    ("xavier_uniform", {"gain": 1.0}), ("xavier_uniform", {"gain": 5 / 3}),
    ("xavier_normal", {"gain": 1.0}), ("kaiming_uniform", {"a": 0.0}),
    ("kaiming_uniform", {"a": math.sqrt(5)}), ("kaiming_normal", {"a": 0.0}),
    ("kaiming_normal", {"a": 0.0, "mode": "fan_out", "nonlinearity": "relu"})])
def test_statistics(shape, kind, kw):
    w = np.empty(shape)
    getattr(init, kind + "_")(w, **kw, seed=1)
    std = _expected(kind, shape, kw.get("gain", kw.get("a")), kw.get("mode", "fan_in"),
                    kw.get("nonlinearity", "leaky_relu"))
    n = w.size
    assert abs(w.mean()) < 5 * std / math.sqrt(n)
    # The sample std's standard error is about std/√(2n) (normal) and smaller for uniform.
    assert w.std() == pytest.approx(std, rel=5 / math.sqrt(2 * n))
    if kind.endswith("uniform"):
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > bound * (1 - 20 / n)  # the support reaches the bound
    else:
        # Fourth moment of a normal is 3σ⁴ (a uniform's is 1.8σ⁴): tells the two apart.
        kurt = np.mean((w - w.mean()) ** 4) / w.var() ** 2
        assert kurt == pytest.approx(3.0, abs=0.3)


@pytest.mark.parametrize("kind,kw", [
    ("xavier_uniform", {"gain": 1.3}), ("xavier_normal", {"gain": 1.0}),
    ("kaiming_uniform", {"a": math.sqrt(5)}), ("kaiming_normal", {"mode": "fan_out"})])
def test_same_distribution_as_torch(kind, kw):
    torch = pytest.importorskip("torch", reason="torch samples are the oracle distribution")
    shape = (400, 300)
    ours = getattr(init, kind + "_")(np.empty(shape), **kw, seed=0)
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, kind + "_")(torch.empty(shape, dtype=torch.float64), **kw)
    theirs = theirs.numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.15 if "normal" in kind else 1e-3)


def test_seeded_and_in_place():
    a = np.empty((5, 4), dtype=np.float32)
    out = init.xavier_uniform_(a, seed=3)
    assert out is a and a.dtype == np.float32
    b = init.xavier_uniform_(np.empty((5, 4), dtype=np.float32), seed=3)
    np.testing.assert_array_equal(a, b)
    c = init.xavier_uniform_(np.empty((5, 4), dtype=np.float32), seed=4)
    assert not np.array_equal(a, c)


def test_seed_paper_rules():
    # Seed 001: Xavier N(0, 1/N) for tanh/sigmoid, He N(0, 2/N) for ReLU (square layers, N = 500).
    n = 500
    x = init.initialize_(np.empty((n, n)), "xavier_normal", "sigmoid", seed=0)
    h = init.initialize_(np.empty((n, n)), "he_normal", "relu", seed=0)
    assert x.var() == pytest.approx(1 / n, rel=0.02)
    assert h.var() == pytest.approx(2 / n, rel=0.02)


def test_bad_input():
    with pytest.raises(ValueError, match="nonlinearity='swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode='fan_middle'"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_middle")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(np.empty(4))
    with pytest.raises(TypeError, match="floating-point"):
        init.xavier_uniform_(np.empty((3, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="init='lecun'"):
        init.initialize_(np.empty((3, 3)), "lecun")
