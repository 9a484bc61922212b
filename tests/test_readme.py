"""The README's examples work as written: its Python blocks run, the values its comments state
hold, and every command of its command-line block exits with status 0.

The oracle is the README itself (the documented contract) and, for the numbers, textbook
formulas written here in NumPy.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", TEXT, flags=re.S)


def _block(lang: str, marker: str) -> str:
    found = [b for b in _blocks(lang) if marker in b]
    assert len(found) == 1, f"README has {len(found)} {lang} blocks containing {marker!r}"
    return found[0]


def test_derive_block_runs_and_its_comment_holds():
    ns: dict = {}
    exec(compile(_block("python", "derive.get"), "README:derive", "exec"), ns)
    d = ns["d"]
    # the comment says d.gradient("z") is -y + sigmoid(z): the seed's σ(z) − y
    import sympy

    z, y = sympy.symbols("z y", real=True)
    g = d.gradient("z")
    for zv, yv in ((0.3, 1.0), (-2.0, 0.25), (4.0, 0.0)):
        value = float(g.subs({s: zv for s in g.free_symbols if s.name == "z"})
                      .subs({s: yv for s in g.free_symbols if s.name == "y"}))
        assert value == pytest.approx(1 / (1 + np.exp(-zv)) - yv, rel=1e-12)
    assert str(g) == "-y + sigmoid(z)"


def test_runtime_block_runs_and_matches_textbook_formulas():
    ns: dict = {}
    exec(compile(_block("python", "loss_and_grad"), "README:runtime", "exec"), ns)
    logits = ns["logits"].astype(np.float64)
    # the last assignments: activation("relu", logits) and σ'(z) ⊙ 1
    np.testing.assert_allclose(ns["a"], np.maximum(logits, 0), rtol=0, atol=0)
    s = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(ns["delta"], s * (1 - s), rtol=1e-5, atol=1e-7)
    # the last loss: bce_logits with pos_weight and weight, mean (textbook form)
    labels = np.arange(64) % 10
    t = (labels[:, None] == np.arange(10)).astype(np.float64)
    w = np.linspace(0.5, 2, 10)
    ls = -np.log(s)
    l1s = -np.log1p(-s)
    expected = np.mean(w * (3.0 * t * ls + (1 - t) * l1s))
    assert ns["loss"] == pytest.approx(expected, rel=1e-5)


def test_training_block_runs_on_the_data_it_names():
    pytest.importorskip("sklearn", reason="the block's X, y are digits-shaped (64 features, "
                                          "10 classes): scikit-learn's load_digits provides them")
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.data / 16).astype(np.float32)[:600]
    y = digits.target[:600]
    code = _block("python", "from runtime.train import fit").replace("epochs=40", "epochs=3")
    ns = {"X": X, "y": y}
    exec(compile(code, "README:train", "exec"), ns)
    history = ns["history"]
    assert len(history.loss) == 3 and history.loss[-1] < history.loss[0]
    assert history.updates == 3 * (600 // 32 + 1)  # batch_size=32, the last batch kept


def _cli_commands() -> list[list[str]]:
    block = _block("sh", "derivecli list")
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith("derivecli "):
            commands.append(shlex.split(line)[1:])
    assert len(commands) >= 8, commands
    return commands


@pytest.mark.parametrize("args", _cli_commands(), ids=lambda a: " ".join(a)[:60])
def test_cli_block_commands_exit_zero(args, tmp_path):
    cmd = [sys.executable, "-m", "derivecli", *args]
    if "check" in args[:1]:
        cmd += ["softmax_ce"]  # the whole check runs in test_cli; one name keeps this fast
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), "no output"
    for arg in args:  # files the command says it writes are written
        if arg.endswith(".py") and "-o" in args:
            assert (tmp_path / arg).is_file()
