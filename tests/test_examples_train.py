"""Smoke tests: each training example runs and prints the results it promises."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(name, *args, timeout=300):
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _plot_args(tmp_path, stem):
    return ["--plot", str(tmp_path / f"{stem}.png")]


def _check_plot(out, tmp_path, stem):
    path = tmp_path / f"{stem}.png"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
        return
    assert f"plot: {path}" in out and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_linear_regression(tmp_path):
    out = _run("linear_regression.py", *_plot_args(tmp_path, "lr"))
    w_ls, b_ls = map(float, re.search(r"least squares.*w = ([\d.]+), b = ([\d.]+)", out).groups())
    # Oracle: the least-squares line of the seed's data, computed here independently.
    rng = np.random.RandomState(0)
    x = 2 * rng.rand(100, 1)
    y = 3 + 2 * x + rng.randn(100, 1) * 0.5
    w, b = np.polyfit(x[:, 0], y[:, 0], 1)
    assert (w_ls, b_ls) == (pytest.approx(w, abs=1e-4), pytest.approx(b, abs=1e-4))
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(
        r"^(full-batch|single-sample|mini-batch)\s+(\d+)\s+[\d.]+\s+50\s+(\d+)\s+([\d.]+)\s+([\d.]+)",
        out, re.M)}
    assert {k: int(v[1]) for k, v in rows.items()} == {
        "full-batch": 50, "single-sample": 5000, "mini-batch": 250}  # seed 003's counts
    for batch, updates, w_fit, b_fit in rows.values():
        assert abs(float(w_fit) - 2) < 0.1 and abs(float(b_fit) - 3) < 0.2  # w ≈ 2, b ≈ 3
        assert abs(float(w_fit) - w) < 0.02 and abs(float(b_fit) - b) < 0.02
    # Full batch is deterministic: seed 003's h = w x + b, loss mean((h − y)²), 50 steps of
    # w −= lr ∂L/∂w from the example's initial weights (MLP([1, 1], seed=1)), at lr 0.4.
    from runtime.nn import MLP

    start = MLP([1, 1], loss="mse", dtype=np.float64, seed=1).parameters()
    wk, bk = float(start[0][0, 0]), float(start[1][0])
    for _ in range(50):
        r = wk * x[:, 0] + bk - y[:, 0]
        wk, bk = wk - 0.4 * 2 * np.mean(r * x[:, 0]), bk - 0.4 * 2 * np.mean(r)
    assert re.search(r"^full-batch\s+100\s+0.4\s", out, re.M)
    assert (float(rows["full-batch"][2]), float(rows["full-batch"][3])) == (
        pytest.approx(wk, abs=1e-4), pytest.approx(bk, abs=1e-4))
    for line in re.findall(r"^(?:full-batch|single-sample|mini-batch)\s.*$", out, re.M):
        w_fit, b_fit, mse = map(float, line.split()[-3:])
        assert mse == pytest.approx(np.mean((w_fit * x + b_fit - y) ** 2), abs=2e-4)
    _check_plot(out, tmp_path, "lr")


def test_momentum_vs_gd(tmp_path):
    out = _run("momentum_vs_gd.py", *_plot_args(tmp_path, "mom"))
    # Seed 001's iteration by hand: v = 0.9v + (2x, 4y), (x, y) −= 0.1 v from (1, 1).
    p, v, expected = np.array([1.0, 1.0]), np.zeros(2), []
    for _ in range(3):
        v = 0.9 * v + np.array([2, 4]) * p
        p = p - 0.1 * v
        expected.append(p.copy())
    rows = re.findall(r"^\s+(\d)\s+\(([-+\d.]+), ([-+\d.]+)\)\s+\(([-+\d.]+), ([-+\d.]+)\)", out, re.M)
    for k, row in enumerate(rows[1:4]):
        assert float(row[3]) == pytest.approx(expected[k][0], abs=1e-4)
        assert float(row[4]) == pytest.approx(expected[k][1], abs=1e-4)
        assert float(row[1]) == pytest.approx(0.8 ** (k + 1), abs=1e-4)  # plain: x ← 0.8x
    gd = int(re.search(r"gradient descent: f < 1e-6 after (\d+)", out).group(1))
    mom = int(re.search(r"momentum 0.9: f < 1e-6 after (\d+)", out).group(1))
    assert gd == 31  # f = 0.64^k + 2·0.36^k < 1e-6 first at k = 31
    assert mom > gd  # on this round bowl momentum 0.9 spirals in more slowly
    p, v, k = np.array([1.0, 1.0]), np.zeros(2), 0
    while p @ (np.array([1, 2]) * p) >= 1e-6:
        v = 0.9 * v + np.array([2, 4]) * p
        p, k = p - 0.1 * v, k + 1
    assert mom == k
    _check_plot(out, tmp_path, "mom")


def test_spirals_mlp_vs_linear(tmp_path):
    out = _run("spirals_mlp_vs_linear.py", *_plot_args(tmp_path, "sp"))
    lin = float(re.search(r"^linear:.*test accuracy ([\d.]+)", out, re.M).group(1))
    mlp = float(re.search(r"^MLP.*test accuracy ([\d.]+)", out, re.M).group(1))
    assert lin < 0.75 and mlp > 0.95
    _check_plot(out, tmp_path, "sp")


def test_vanishing_gradients(tmp_path):
    out = _run("vanishing_gradients.py", *_plot_args(tmp_path, "vg"))
    grads_part, spread_part = out.split("standard deviation")

    def table(text):
        return {tuple(line.split()[:2]): [float(v) for v in line.split()[2:]]
                for line in text.splitlines() if line.startswith(("sigmoid ", "relu "))}

    grads, spread = table(grads_part), table(spread_part)
    assert all(len(v) == 12 for v in grads.values()) and all(len(v) == 10 for v in spread.values())
    ratio = {k: v[-1] for k, v in grads.items()}  # ‖∂L/∂W_1‖ / ‖∂L/∂W_11‖
    assert ratio[("sigmoid", "xavier")] < 1e-4 and ratio[("sigmoid", "he")] < 1e-3  # vanishing
    assert ratio[("relu", "xavier")] > 1e-2 and ratio[("relu", "he")] > 1e-2
    he, xavier = spread[("relu", "he")], spread[("relu", "xavier")]
    assert he[-1] / he[0] > 0.5  # He keeps a ReLU net's signal
    assert xavier[-1] / xavier[0] < 0.1  # Xavier's 1/N halves its variance per layer
    _check_plot(out, tmp_path, "vg")


def test_optimizers_compared(tmp_path):
    out = _run("optimizers_compared.py", *_plot_args(tmp_path, "opt"))
    rows = dict(re.findall(r"^(SGD|SGD momentum 0.9|Nesterov 0.9|Adagrad|RMSprop|Adam|AdamW)\s+"
                           r"[\d.]+\s+([\d.]+)", out, re.M))
    assert len(rows) == 7
    assert all(float(acc) > 0.9 for acc in rows.values())
    _check_plot(out, tmp_path, "opt")


def test_digits_mlp(tmp_path):
    pytest.importorskip("sklearn", reason="load_digits comes from scikit-learn (test extra)")
    out = _run("digits_mlp.py", *_plot_args(tmp_path, "digits"))
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"test accuracy: 0\.\d{4}", last)
    assert float(last.split(": ")[1]) >= 0.97
    _check_plot(out, tmp_path, "digits")


def test_hyperparameter_search():
    out = _run("hyperparameter_search.py")
    random_part, grid_part = out.split("grid search")

    def rows(text):
        return [line.split() for line in text.splitlines()
                if line.lstrip("* ").startswith(("coarse", "fine"))]

    for part, n_rows in ((random_part, 14), (grid_part, 6)):
        table = rows(part)
        assert len(table) == n_rows
        scores = [float(r[-3]) for r in table]
        assert scores == sorted(scores, reverse=True)  # best first
        assert table[0][0] == "*"
        best = float(re.search(r"validation accuracy ([\d.]+)", part.rsplit("best:", 1)[1]).group(1))
        assert best == scores[0] > 0.9
        coarse = max(float(r[-3]) for r in table if "coarse" in r)
        assert best >= coarse  # the fine stage never loses the coarse best
