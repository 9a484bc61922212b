"""Audit of examples/*.py: command-line errors, plots without matplotlib, seed numbers at the
edges. The scripts are loaded in-process (runpy) and their main(argv) called, so argument
errors cost no interpreter start; expectations come from NumPy written from the formulas."""
import math
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLOTTING = ["digits_mlp.py", "linear_regression.py", "momentum_vs_gd.py", "optimizers_compared.py",
            "spirals_mlp_vs_linear.py", "vanishing_gradients.py", "seed_momentum.py"]


def _main(script):
    return runpy.run_path(str(EXAMPLES / script), run_name=Path(script).stem)["main"]


def _exit(script, argv, capsys):
    """main(argv) must stop in argparse: (exit status, stderr)."""
    with pytest.raises(SystemExit) as stop:
        _main(script)(argv)
    return stop.value.code, capsys.readouterr().err


def _floats(text):
    return [float(v) for v in re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", text)]


@pytest.mark.parametrize("script", PLOTTING)
def test_plot_into_a_missing_directory_is_an_argparse_error(script, tmp_path, capsys):
    # was: a FileNotFoundError traceback from savefig, after all the training
    target = tmp_path / "no_such_dir" / "x.png"
    code, err = _exit(script, ["--plot", str(target)], capsys)
    assert code == 2
    assert "argument --plot" in err and str(target.parent) in err


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_seed_momentum_steps_must_be_positive(steps, capsys):
    # was: accepted; printed an empty "first steps" table and a distance "after -3 steps"
    code, err = _exit("seed_momentum.py", ["--steps", steps], capsys)
    assert code == 2 and f"argument --steps: must be a positive int, got '{steps}'" in err


def test_seed_momentum_plot_without_matplotlib_is_a_note(monkeypatch, tmp_path, capsys):
    # was: ImportError traceback at the end (the other examples print a note)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert _main("seed_momentum.py")(["--steps", "3", "--plot", str(tmp_path / "t.png")]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not (tmp_path / "t.png").exists()


def test_seed_momentum_plot_is_written(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the plot needs the plot extra")
    target = tmp_path / "t.png"
    assert _main("seed_momentum.py")(["--steps", "5", "--plot", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("script", ["hyperparameter_search.py", "seed_kl.py"])
def test_scripts_without_options_answer_help_and_reject_unknown_ones(script, capsys):
    # was: no argument parser; --help ran the whole search, a typo was silently ignored
    code, _ = _exit(script, ["--help"], capsys)
    assert code == 0
    code, err = _exit(script, ["--epochs", "3"], capsys)
    assert code == 2 and "unrecognized arguments: --epochs 3" in err


@pytest.mark.parametrize("script,argv,option,value", [
    ("seed_softmax.py", ["--scores", "nan", "0"], "--scores", "nan"),
    ("seed_softmax.py", ["--scores", "1", "inf"], "--scores", "inf"),
    ("seed_bce_sigmoid.py", ["--z", "nan"], "--z", "nan"),
    ("seed_bce_sigmoid.py", ["--z=-inf"], "--z", "-inf"),  # "-inf" alone reads as an option
    ("digits_mlp.py", ["--seed", "-1"], "--seed", "-1"),
])
def test_bad_numbers_are_argparse_errors(script, argv, option, value, capsys):
    # was: NaN printed as results (softmax, bce), a ValueError traceback (math domain, seed < 0)
    code, err = _exit(script, argv, capsys)
    assert code == 2 and f"argument {option}" in err and repr(value) in err


def test_seed_softmax_large_scores_use_the_stable_form(capsys):
    # was: OverflowError in the exp(z) line; the stable form is what the example is about
    scores = [800.0, 0.0, -5.0]
    assert _main("seed_softmax.py")(["--scores", *map(str, scores), "--label", "1"]) == 0
    out = capsys.readouterr().out
    z = np.array(scores)
    log_p = z - z.max() - np.log(np.exp(z - z.max()).sum())
    p = np.exp(log_p)
    lines = {ln.split("=")[0].strip(): ln for ln in out.splitlines() if "=" in ln}
    np.testing.assert_allclose(_floats(lines["softmax(z)"]), p, atol=5e-4)
    np.testing.assert_allclose(_floats(lines["stable form exp(z_j - m)/s"])[:3], p, atol=5e-4)
    assert _floats(lines["cross-entropy for class 1: -log softmax(z)_1"])[-1] == pytest.approx(
        -log_p[1], rel=1e-6)
    np.testing.assert_allclose(_floats(lines["dL/dz"]), p - np.eye(3)[1], atol=5e-4)
    assert "seed 001" not in out  # the seed's probabilities belong to its own scores only


def test_seed_bce_sigmoid_large_logits(capsys):
    # was: "math domain error" from log(1 − σ(z)) once σ(z) rounds to 1 (z ≳ 37), and an
    # OverflowError from exp(−z) for z ≲ −710
    zs, y = [-800.0, -40.0, 0.5, 40.0, 800.0], 0.25
    assert _main("seed_bce_sigmoid.py")(["--z", *map(str, zs), "--y", str(y)]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("z =")]
    assert len(rows) == len(zs)
    for text, zv in zip(rows, zs):
        # L = −y log σ(z) − (1 − y) log(1 − σ(z)) = y softplus(−z) + (1 − y) softplus(z)
        L = y * np.logaddexp(0, -zv) + (1 - y) * np.logaddexp(0, zv)
        g = 0.5 * (1 + math.tanh(zv / 2)) - y  # σ(z) − y without overflow
        Lp, gp, fd = _floats(text)[1:]
        assert Lp == pytest.approx(L, rel=1e-6, abs=5e-7)
        assert gp == pytest.approx(g, abs=5e-7) and fd == pytest.approx(g, abs=5e-6)


def _first_below(curvature, lr, mu, tol=1e-6, steps=600):
    """Seed 001's iteration v = μv + ∇f, θ −= lr·v on f = x² + c·y² from (1, 1)."""
    c, p, v = np.array([1.0, curvature]), np.array([1.0, 1.0]), np.zeros(2)
    for k in range(1, steps + 1):
        v = mu * v + 2 * c * p
        p = p - lr * v
        if np.sum(c * p**2) < tol:
            return k
    return None


def test_momentum_vs_gd_valley_where_momentum_wins(capsys):
    # the docstring's claim: on f = x² + 50y² with lr 0.015 momentum needs fewer steps
    _main("momentum_vs_gd.py")(["--valley", "--no-plot"])
    out = capsys.readouterr().out
    gd = int(re.search(r"gradient descent: f < 1e-6 after (\d+)", out).group(1))
    mom = int(re.search(r"momentum 0.9: f < 1e-6 after (\d+)", out).group(1))
    assert (gd, mom) == (_first_below(50, 0.015, 0.0), _first_below(50, 0.015, 0.9))
    assert mom < gd
    rows = re.findall(r"^\s+(\d)\s+\(([-+\d.]+), ([-+\d.]+)\)\s+\(([-+\d.]+), ([-+\d.]+)\)", out, re.M)
    assert [float(r[2]) for r in rows] == pytest.approx([(-0.5) ** k for k in range(4)], abs=1e-4)


def test_seed_momentum_table_and_rates_against_numpy(capsys):
    # Seed 001: v(t) = 0.9 v(t−1) + (2x, 4y), (x, y) −= 0.1 v(t) from (1, 1); plain: −= 0.1 ∇f
    assert _main("seed_momentum.py")(["--steps", "20"]) == 0
    out = capsys.readouterr().out
    rows = [ln.split() for ln in out.splitlines() if re.fullmatch(r"\s*\d+(\s+\S+){8}", ln)]
    assert [int(r[0]) for r in rows] == list(range(21))
    p, v, q = np.array([1.0, 1.0]), np.zeros(2), np.array([1.0, 1.0])
    for t, r in enumerate(rows):
        if t:
            v = 0.9 * v + np.array([2, 4]) * p
            p, q = p - 0.1 * v, q - 0.1 * np.array([2, 4]) * q
        f, fq = p @ (np.array([1, 2]) * p), q @ (np.array([1, 2]) * q)
        np.testing.assert_allclose([float(c) for c in r[1:]], [*p, *v, f, *q, fq],
                                   rtol=2e-3, atol=1e-6)
    # rate per step along a coordinate of curvature a: the largest |eigenvalue| of the linear
    # map (θ, v) → (θ − lr(μv + aθ), μv + aθ); plain descent: |1 − lr·a|
    rates = re.findall(r"lr = ([\d.]+)\s+\S+ \(∂²f = (\d)\): momentum ([\d.]+)\s+plain ([\d.]+)", out)
    assert len(rates) == 4
    for lr, a, mom, plain in rates:
        lr, a = float(lr), float(a)
        M = np.array([[1 - lr * a, -lr * 0.9], [a, 0.9]])
        assert float(mom) == pytest.approx(np.abs(np.linalg.eigvals(M)).max(), abs=1e-4)
        assert float(plain) == pytest.approx(abs(1 - lr * a), abs=1e-4)


@pytest.mark.parametrize("script", PLOTTING)
def test_plot_path_with_an_unknown_image_suffix_is_an_argparse_error(script, tmp_path, capsys):
    # was: matplotlib's ValueError (Format 'xyz' is not supported) as a traceback after the run
    code, err = _exit(script, ["--plot", str(tmp_path / "curves.xyz")], capsys)
    assert code == 2 and "argument --plot" in err and "'.xyz'" in err


def test_plot_path_without_a_suffix_is_reported_as_the_file_written(tmp_path, capsys):
    # was: "plot: <path>" while matplotlib wrote <path>.png
    pytest.importorskip("matplotlib", reason="the plot needs the plot extra")
    _main("momentum_vs_gd.py")(["--steps", "5", "--plot", str(tmp_path / "curves")])
    out = capsys.readouterr().out
    written = [p.name for p in tmp_path.iterdir()]
    assert written == ["curves.png"] and f"plot: {tmp_path / 'curves.png'}" in out


@pytest.mark.parametrize("steps", [1, 2])
def test_momentum_vs_gd_with_fewer_steps_than_the_iterates_it_prints(steps, capsys):
    # was: IndexError (it printed iterates 0..3 whatever --steps was)
    _main("momentum_vs_gd.py")(["--steps", str(steps), "--no-plot"])
    out = capsys.readouterr().out
    rows = re.findall(r"^\s+(\d)\s+\(([-+\d.]+), ([-+\d.]+)\)\s+\(([-+\d.]+), ([-+\d.]+)\)", out, re.M)
    assert [int(r[0]) for r in rows] == list(range(steps + 1))
    assert [float(r[1]) for r in rows] == pytest.approx([0.8**k for k in range(steps + 1)], abs=1e-4)
    assert f"f < 1e-6 after more than {steps} steps" in out
