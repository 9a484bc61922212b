"""examples/seed_*.py of the derive layer, run as subprocesses: their printed numbers against
values computed here independently with NumPy from the textbook formulas."""
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], capture_output=True,
                         text=True, env=env, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def floats(text):
    return [float(v) for v in re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", text)]


def line(out, start):
    found = [ln for ln in out.splitlines() if ln.startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{out}"
    return found[0]


def softmax(v):
    e = np.exp(np.asarray(v) - np.max(v))
    return e / e.sum()


def test_seed_softmax():
    out = run("seed_softmax.py")
    ref = softmax([0.5, 1.2, -0.3])
    np.testing.assert_allclose(floats(line(out, "softmax(z) =").split("(seed")[0]), ref, atol=5e-4)
    np.testing.assert_allclose(floats(line(out, "stable form"))[:3], ref, atol=5e-4)
    assert floats(line(out, "cross-entropy for class 1"))[-1] == pytest.approx(-math.log(ref[1]), abs=5e-5)
    np.testing.assert_allclose(floats(line(out, "dL/dz")), ref - np.eye(3)[1], atol=5e-4)
    # The seed's printed probabilities are softmax([0, 1, -1]), which the example shows.
    np.testing.assert_allclose(floats(line(out, "  note:"))[-3:], softmax([0, 1, -1]), atol=5e-4)


def test_seed_softmax_other_scores():
    out = run("seed_softmax.py", "--scores", "2", "-1", "0.25", "--label", "2")
    ref = softmax([2, -1, 0.25])
    np.testing.assert_allclose(floats(line(out, "softmax(z) =").split("(seed")[0]), ref, atol=5e-4)
    assert floats(line(out, "cross-entropy for class 2"))[-1] == pytest.approx(-math.log(ref[2]), abs=5e-5)


def test_seed_kl():
    out = run("seed_kl.py")
    first, second = [ln for ln in out.splitlines() if ln.startswith("KL(")]
    for text, q in ((first, 0.4), (second, 0.9)):  # p = [0, 0, 1]: KL = −log q_3
        e, b10 = floats(text)[-3:-1]
        assert e == pytest.approx(-math.log(q), abs=5e-5)
        assert b10 == pytest.approx(-math.log10(q), abs=5e-5)
    assert floats(first)[-1] == 0.39 and floats(second)[-1] == 0.04  # the seed's truncated figures
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.3, 0.3, 0.4])
    h, kl, ce, total = floats(line(out, "p = [0.2"))[-4:]
    assert h == pytest.approx(-(p * np.log(p)).sum(), abs=5e-5)
    assert kl == pytest.approx((p * np.log(p / q)).sum(), abs=5e-5)
    assert ce == pytest.approx(-(p * np.log(q)).sum(), abs=5e-5) and total == pytest.approx(ce, abs=2e-4)
    assert floats(line(out, "one-hot"))[-1] == pytest.approx(-math.log(0.21), abs=5e-5)


def test_seed_bce_sigmoid():
    out = run("seed_bce_sigmoid.py", "--z", "-2", "0.8", "--y", "0.25")
    assert "cancel σ(z)(1 − σ(z))" in out and "σ(z)" in out.split("numbers")[0]
    rows = [ln for ln in out.splitlines() if ln.strip().startswith("z =")]
    for text, zv in zip(rows, (-2.0, 0.8)):
        s = 1 / (1 + math.exp(-zv))
        L, g, fd = floats(text)[1:]
        assert L == pytest.approx(-(0.25 * math.log(s) + 0.75 * math.log(1 - s)), abs=5e-6)
        assert g == pytest.approx(s - 0.25, abs=5e-6) and fd == pytest.approx(s - 0.25, abs=5e-6)
