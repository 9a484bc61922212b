"""Generated modules as a user vendors them: `derivecli gen ... -o FILE.py`, the file copied to
a fresh directory and imported by a Python process that cannot see this project (``-I``, cwd
elsewhere), its kernels called per the module's own documentation and compared with NumPy
references written from the textbook formulas."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from derivecli.cli import main

ROOT = Path(__file__).resolve().parent.parent


def gen(out: Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["gen", *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out.read_text(encoding="utf-8")


def run_isolated(cwd: Path, code: str) -> dict:
    """Run ``code`` with ``python -I`` in ``cwd`` (only cwd added to sys.path); it may set
    ``result`` (JSON); the child also reports which of this project's packages it imported."""
    script = ("import json, os, sys\nsys.path.insert(0, os.getcwd())\nresult = None\n"
              + textwrap.dedent(code)
              + "\nleaked = sorted({m.split('.')[0] for m in sys.modules} & "
                "{'derive', 'codegen', 'runtime', 'derivecli', 'sympy', 'torch'})\n"
                "print(json.dumps({'result': result, 'leaked': leaked}))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run([sys.executable, "-I", "-c", script], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["leaked"] == [], f"the vendored module imported {report['leaked']}"
    assert str(ROOT) not in out.stdout
    return report["result"]


# --------------------------------------------------------------------------- Numba's disk cache

LOAD_BY_PATH = """
import importlib.util
import numpy as np
spec = importlib.util.spec_from_file_location({name!r}, "kern.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
p = np.array([1.0, 2.0, 4.0])
result = [mod.CACHE, float(mod.mse_sum_f64(p, np.array([0.0, 2.0, 1.0]), np.empty(3)))]
"""
IMPORT = """
import numpy as np
import kern
p = np.array([1.0, 2.0, 4.0])
result = [kern.CACHE, float(kern.mse_sum_f64(p, np.array([0.0, 2.0, 1.0]), np.empty(3)))]
"""


@pytest.mark.parametrize("name", ["other_name", "kern"])
def test_loading_by_path_under_another_name_leaves_the_real_import_working(tmp_path, name):
    # Before: the kernel compiled under "other_name" (or under "kern" without sys.modules,
    # recorded by Numba as '<dynamic>') was cached beside kern.py, and `import kern` then
    # loaded that entry and failed: ModuleNotFoundError: No module named '<dynamic>'.
    gen(tmp_path / "kern.py", "mse")
    assert run_isolated(tmp_path, LOAD_BY_PATH.format(name=name)) == [False, 10.0]  # 1 + 0 + 9
    assert run_isolated(tmp_path, IMPORT) == [True, 10.0]
    assert run_isolated(tmp_path, IMPORT) == [True, 10.0]  # from the cache it wrote
    # and the other way round: the real import's cache entries are not read by path
    assert run_isolated(tmp_path, LOAD_BY_PATH.format(name=name)) == [False, 10.0]


# --------------------------------------------------------------------------- -o


@pytest.mark.parametrize("bad", ["", "file.txt/k.py", "file.txt/sub/k.py"])
def test_gen_output_that_cannot_be_written_is_a_clear_error(tmp_path, bad, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("not a directory\n")
    res = CliRunner().invoke(main, ["gen", "mse", "-o", bad])
    # Before: a Python traceback (IsADirectoryError / OSError 'Device or resource busy' for
    # "", NotADirectoryError / FileExistsError under a file), exit status 1.
    assert res.exit_code != 0
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Error" in res.output and repr(bad) in res.output, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # nothing left behind
    assert (tmp_path / "file.txt").read_text() == "not a directory\n"


def test_write_module_names_the_path_it_cannot_write(tmp_path):
    from codegen.generate import write_module

    with pytest.raises(IsADirectoryError, match="cannot write the module to"):
        write_module(tmp_path, "x = 1\n")
    with pytest.raises(IsADirectoryError, match="cannot write the module to '': it names a directory"):
        write_module("", "x = 1\n")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bad calls


@pytest.fixture(scope="module")
def checked_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("vendored_checks")
    gen(d / "losses_k.py", "mse", "softmax_ce")
    gen(d / "act_k.py", "relu")
    gen(d / "optim_k.py", "sgd")
    return d


BAD_CALLS = """
import numpy as np
import losses_k as L, act_k as A, optim_k as O
def err(f, *args):
    try:
        f(*args)
    except ValueError as e:
        return str(e)
    return "no error"
p = np.ones(100000); short = np.zeros(10)
z = np.zeros((4, 5)); g = np.empty((4, 5)); w = np.ones(5)
result = {
    "target": err(L.mse_sum_f64, p, short, np.empty_like(p)),
    "grad": err(L.mse_mean_f64, p, p, short),
    "loss": err(L.mse_none_f64, p, p, short, np.empty_like(p)),
    "label": err(L.softmax_ce_index_sum_f64_serial, z, np.array([0, 1, 7, 2]), w, -100, 0.0, g),
    "negative": err(L.softmax_ce_index_mean_f64, z, np.array([0, -3, 1, 2]), w, -100, 0.0, g),
    "labels size": err(L.softmax_ce_index_sum_f64_serial, z, np.array([0, 1]), w, -100, 0.0, g),
    "weight": err(L.softmax_ce_index_sum_f64_serial, z, np.array([0, 1, 2, 3]), w[:3], -100, 0.0, g),
    "ignored": float(L.softmax_ce_index_sum_f64_serial(z, np.array([0, -100, 4, 2]), w, -100, 0.0, g)),
    "out": err(A.relu_forward_f64, p, short),
    "upstream": err(A.relu_backward_f64, p, short, np.empty_like(p)),
    "sgd": err(O.sgd_f64, p, short, 0.1),
    "sgd par": err(O.sgd_f64_par, p, short, 0.1),
}
buf = np.linspace(-1.0, 1.0, 100001)
result["shifted out"] = err(A.relu_forward_f64, buf[:-1], buf[1:])
result["shifted grad"] = err(L.mse_sum_f64, buf[1:], np.zeros(100000), buf[:-1])
zz = np.linspace(-2.0, 2.0, 25).reshape(5, 5)
flat = zz.reshape(-1)
result["shifted ce"] = err(L.softmax_ce_index_sum_f64_serial, flat[:20].reshape(4, 5),
                           np.array([0, 1, 2, 3]), w, -100, 0.0, flat[5:].reshape(4, 5))
same = buf[:-1].copy()
ref = np.maximum(same, 0.0)
A.relu_forward_f64(same, same)  # in place: the same array, allowed
result["in place"] = float(np.abs(same - ref).max())
"""


def test_kernels_called_with_wrong_sizes_or_labels_raise(checked_dir):
    # Before: no check at all (Numba does no bounds checks): mse_sum_f64 with a 10-element
    # target over 100000 predictions read past it and aborted the process (free(): invalid
    # pointer); a label of 7 with 5 classes read weight[7] and wrote past the gradient's row.
    r = run_isolated(checked_dir, BAD_CALLS)
    assert r["target"] == "target has 10 elements, not 100000 (pred.size: the arrays are 1-D, of one size)"
    assert r["grad"].startswith("grad has 10 elements, not 100000")
    assert r["loss"].startswith("loss has 10 elements, not 100000")
    assert r["label"] == "labels[2] = 7 is not a class index in [0, 5) nor ignore_index (-100)"
    assert r["negative"].startswith("labels[1] = -3 is not a class index in [0, 5)")
    assert r["labels size"].startswith("labels has 2 elements, not 4 (logits.shape[0]")
    assert r["weight"].startswith("weight has 3 elements, not 5 (logits.shape[1]")
    assert r["ignored"] == pytest.approx(3 * np.log(5))  # uniform logits: log C per kept row
    assert r["out"].startswith("out has 10 elements, not 100000 (z.size")
    assert r["upstream"].startswith("upstream has 10 elements, not 100000")
    assert r["sgd"].startswith("grad has 10 elements, not 100000 (param.shape[0]")
    assert r["sgd par"].startswith("grad has 10 elements, not 100000")
    # An output that partly overlaps an input was overwritten before it was read (relu of a
    # view shifted by one element: errors of 2.4), with no error.
    assert r["shifted out"].startswith("out overlaps z without being the same array")
    assert r["shifted grad"].startswith("grad overlaps pred without being the same array")
    assert r["shifted ce"].startswith("grad overlaps logits without being the same array")
    assert r["in place"] == 0.0


# --------------------------------------------------------------------------- values


def _close(got, ref, dtype, scale=1.0):
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-6 * scale)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * scale)


def _softplus(x):  # log(1 + e^x) without overflow (the reference's own, from NumPy)
    return np.logaddexp(0.0, x)


@pytest.fixture(scope="module")
def vendored(tmp_path_factory):
    """Generated modules in a fresh directory, the kernels run there by an isolated process
    on random inputs; {name: array} of what they returned."""
    d = tmp_path_factory.mktemp("vendored_values")
    texts = {"one_loss.py": gen(d / "one_loss.py", "smooth-l1"),
             "one_act.py": gen(d / "one_act.py", "leaky_relu"),
             "one_opt.py": gen(d / "one_opt.py", "adam"),
             "every.py": gen(d / "every.py")}
    rng = np.random.default_rng(11)
    n = 5000
    z = rng.normal(scale=3.0, size=(64, 7))
    z[0, 3] = 80.0  # exp(80) overflows float32: only the stable form stays finite
    z[1, :] = -90.0
    inputs = dict(p=rng.normal(size=n), t=rng.normal(size=n), up=rng.normal(size=n),
                  logit=rng.normal(scale=4.0, size=n), y01=rng.uniform(size=n),
                  z=z, labels=rng.integers(0, 7, size=64), w=rng.uniform(0.5, 2.0, size=7),
                  theta=rng.normal(size=n), grads=rng.normal(size=(3, n)))
    inputs["logit"][:4] = [-200.0, 200.0, 0.0, 40.0]
    np.savez(d / "inputs.npz", **inputs)
    run_isolated(d, CALLS)
    out = dict(np.load(d / "outputs.npz"))
    return texts, inputs, out


CALLS = """
import numpy as np
import one_loss, one_act, one_opt, every
x = dict(np.load("inputs.npz"))
out = {}
for dt, s in ((np.float32, "f32"), (np.float64, "f64")):
    p, t, up = x["p"].astype(dt), x["t"].astype(dt), x["up"].astype(dt)
    g = np.empty_like(p)
    out["sl1_mean_loss_" + s] = getattr(one_loss, "smooth_l1_mean_" + s)(p, t, g, 0.5)
    out["sl1_mean_grad_" + s] = g
    loss, g = np.empty_like(p), np.empty_like(p)
    getattr(one_loss, "smooth_l1_none_" + s)(p, t, loss, g, 0.5)
    out["sl1_none_loss_" + s], out["sl1_none_grad_" + s] = loss, g
    a = np.empty_like(p)
    getattr(one_act, "leaky_relu_forward_" + s)(p, a, 0.1)
    out["lrelu_fwd_" + s] = a
    d = np.empty_like(p)
    getattr(one_act, "leaky_relu_backward_" + s)(p, up, d, 0.1)
    out["lrelu_bwd_" + s] = d
    d2 = np.empty_like(p)
    getattr(one_act, "leaky_relu_backward_output_" + s)(a, up, d2, 0.1)
    out["lrelu_bwd_out_" + s] = d2
    theta = x["theta"].astype(dt)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    kernel = one_opt.RULES["adam"]["kernels"][(np.dtype(dt).name, False)]
    for step in range(1, 4):
        kernel(theta, x["grads"][step - 1].astype(dt), m, v,
               *one_opt.RULES["adam"]["scalars"](step, 1e-2, 0.9, 0.999, 1e-8, 0.0))
    out["adam_theta_" + s], out["adam_m_" + s], out["adam_v_" + s] = theta, m, v
    zl, y = x["logit"].astype(dt), x["y01"].astype(dt)
    g = np.empty_like(zl)
    out["bcel_sum_loss_" + s] = every.KERNELS[("bce_logits", "default", "sum", np.dtype(dt).name)](zl, y, g, 2.0)
    out["bcel_sum_grad_" + s] = g
    zz = x["z"].astype(dt)
    g = np.empty_like(zz)
    ce = every.KERNELS[("softmax_ce", "index_serial", "mean", np.dtype(dt).name)]
    out["ce_loss_" + s] = ce(zz, x["labels"], x["w"].astype(dt), -100, 0.1, g)
    out["ce_grad_" + s] = g
    g2 = np.empty_like(zz)
    ce = every.KERNELS[("softmax_ce", "index", "mean", np.dtype(dt).name)]
    out["ce_par_loss_" + s] = ce(zz, x["labels"], x["w"].astype(dt), -100, 0.1, g2)
    out["ce_par_grad_" + s] = g2
np.savez("outputs.npz", **{k: np.asarray(v) for k, v in out.items()})
"""


@pytest.mark.parametrize("s,dtype", [("f32", np.float32), ("f64", np.float64)])
def test_vendored_loss_and_activation_values(vendored, s, dtype):
    _, x, out = vendored
    p, t, up = (x[k].astype(dtype).astype(np.float64) for k in ("p", "t", "up"))
    n, beta = p.size, 0.5
    d = p - t
    # smooth L1 (PyTorch's beta form): 0.5 d²/β for |d| < β, |d| − 0.5β otherwise
    sl1 = np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
    dsl1 = np.where(np.abs(d) < beta, d / beta, np.sign(d))
    _close(out["sl1_mean_loss_" + s], sl1.mean(), dtype)
    _close(out["sl1_mean_grad_" + s], dsl1 / n, dtype, 1.0 / n)
    _close(out["sl1_none_loss_" + s], sl1, dtype)
    _close(out["sl1_none_grad_" + s], dsl1, dtype)
    # leaky ReLU, slope 0.1: f = z (z > 0), 0.1 z otherwise; f' = 1 or 0.1
    _close(out["lrelu_fwd_" + s], np.where(p > 0, p, 0.1 * p), dtype)
    _close(out["lrelu_bwd_" + s], up * np.where(p > 0, 1.0, 0.1), dtype)
    _close(out["lrelu_bwd_out_" + s], up * np.where(p > 0, 1.0, 0.1), dtype)
    # BCE with logits, pos_weight 2: −[2y log σ(z) + (1 − y) log(1 − σ(z))], summed
    zl, y = (x[k].astype(dtype).astype(np.float64) for k in ("logit", "y01"))
    bce = 2.0 * y * _softplus(-zl) + (1 - y) * _softplus(zl)
    sig = np.exp(-_softplus(-zl))
    _close(out["bcel_sum_loss_" + s], bce.sum(), dtype, n)
    _close(out["bcel_sum_grad_" + s], sig * (2.0 * y + 1 - y) - 2.0 * y, dtype)


@pytest.mark.parametrize("s,dtype", [("f32", np.float32), ("f64", np.float64)])
def test_vendored_softmax_ce_values(vendored, s, dtype):
    # PyTorch's definition: q = (1 − ε) onehot + ε/C, ℓ_i = Σ_j w_j q_j (−log p_j),
    # mean = Σ_i ℓ_i / Σ_i w_{c_i}; ∂ℓ_i/∂z_k = p_k Σ_j w_j q_j − w_k q_k
    _, x, out = vendored
    z = x["z"].astype(dtype).astype(np.float64)
    w = x["w"].astype(dtype).astype(np.float64)
    c, eps = x["labels"], 0.1
    N, C = z.shape
    logp = z - (z.max(1, keepdims=True) + np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)))
    q = (1 - eps) * np.eye(C)[c] + eps / C
    denom = w[c].sum()
    loss = (-(w * q * logp).sum(1)).sum() / denom
    grad = (np.exp(logp) * (w * q).sum(1, keepdims=True) - w * q) / denom
    for kind in ("ce", "ce_par"):
        assert np.isfinite(out[f"{kind}_loss_{s}"]) and np.isfinite(out[f"{kind}_grad_{s}"]).all()
        _close(out[f"{kind}_loss_{s}"], loss, dtype)
        _close(out[f"{kind}_grad_{s}"], grad, dtype, 1.0 / N)


@pytest.mark.parametrize("s,dtype", [("f32", np.float32), ("f64", np.float64)])
def test_vendored_adam_matches_the_textbook_update(vendored, s, dtype):
    # Kingma & Ba (PyTorch's Adam): m = β1 m + (1 − β1) g, v = β2 v + (1 − β2) g²,
    # θ −= lr m̂ / (√v̂ + ε), m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)
    _, x, out = vendored
    theta = x["theta"].astype(dtype).astype(np.float64)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    for t in range(1, 4):
        g = x["grads"][t - 1].astype(dtype).astype(np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    _close(out["adam_m_" + s], m, dtype)
    _close(out["adam_v_" + s], v, dtype)
    _close(out["adam_theta_" + s], theta, dtype)


# --------------------------------------------------------------------------- derivecli check


@pytest.mark.parametrize("opt,value", [("--eps", "0"), ("--eps", "-1e-6"), ("--eps", "nan"),
                                       ("--atol", "-1"), ("--rtol", "nan")])
def test_check_rejects_bad_tolerances_as_usage_errors(opt, value):
    # Before: a ValueError traceback from runtime.gradcheck, exit status 1 (a failed check's status).
    res = CliRunner().invoke(main, ["check", "mse", opt, value])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert opt in res.output and repr(float(value)) in res.output, res.output


def test_check_exits_1_and_reports_the_worst_entry_when_a_check_fails():
    # rtol 1e-14 is beyond central differences' accuracy: every check must fail, and say where
    res = CliRunner().invoke(main, ["check", "mse", "relu", "--atol", "0", "--rtol", "1e-14"])
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert sum(ln.startswith("FAIL  ") for ln in lines) == 4, res.output
    assert res.output.count("gradcheck failed:") == 4 and "worst at input 0, index" in res.output
    assert "exit status is 1 when a check fails" in " ".join(
        CliRunner().invoke(main, ["check", "--help"]).output.split())  # --help says so
    ok = CliRunner().invoke(main, ["check", "mse", "relu"])
    assert ok.exit_code == 0 and sum(ln.startswith("ok    ") for ln in ok.output.splitlines()) == 4


# --------------------------------------------------------------------------- gen: help and names


def test_gen_help_says_where_optimizers_and_layers_go_and_the_header_agrees(tmp_path):
    # Before: --help said "all when none", the header of the all-names module listed adam, sgd,
    # batchnorm, ... as "Not kernels (no template)", and `gen batchnorm` said the numba
    # generator had no template for it, though runtime/generated/numba_layers.py is generated.
    help_text = CliRunner().invoke(main, ["gen", "--help"]).output
    assert "module of their" in help_text and "batchnorm" in help_text and "adam" in help_text
    text = gen(tmp_path / "every.py")
    head = text.splitlines()[:6]
    own = next(ln for ln in head if ln.startswith("# In modules of their own"))
    assert all(n in own for n in ("adam", "sgd", "clip_grad_norm", "batchnorm", "dropout"))
    none = next(ln for ln in head if ln.startswith("# No kernel template: "))
    assert "dense" in none and "adam" not in none and "batchnorm" not in none
    res = CliRunner().invoke(main, ["gen", "dropout", "mse", "-o", str(tmp_path / "x.py")])
    assert res.exit_code == 2 and "generated in their own module" in res.output


LAYERS = """
import numpy as np
import layers_k as K
x = dict(np.load("layer_inputs.npz"))
out = {}
X, gam, bet, G = x["X"], x["gamma"], x["beta"], x["G"]
rm, rv = np.zeros(3), np.ones(3)
inv_std, xhat, y = np.empty(3), np.empty_like(X), np.empty_like(X)
K.batchnorm_train_f64(X, gam, bet, 1e-5, 0.1, rm, rv, inv_std, xhat, y)
dx, dg, db = np.empty_like(X), np.empty(3), np.empty(3)
K.batchnorm_backward_f64(G, xhat, gam, inv_std, dx, dg, db)
out.update(y=y, rm=rm, rv=rv, dx=dx, dg=dg, db=db)
xf, mask = x["X"].ravel().astype(np.float32), x["mask"].astype(np.float32)
yd = np.empty_like(xf)
K.dropout_f32(xf, mask, 0.25, yd)
out["drop"] = yd
try:
    K.batchnorm_train_f64(X, gam[:2], bet, 1e-5, 0.1, rm, rv, inv_std, xhat, y)
    out["bad"] = "no error"
except ValueError as e:
    out["bad"] = str(e)
np.savez("outputs.npz", **{k: np.asarray(v) for k, v in out.items()})
"""


def test_gen_layers_module_vendored(tmp_path):
    text = gen(tmp_path / "layers_k.py", "bn")
    assert text.startswith("# generated, do not edit: regenerate with `derivecli gen --backend numba "
                           "batchnorm -o ")
    rng = np.random.default_rng(3)
    X, G = rng.normal(2.0, 3.0, size=(8, 3)), rng.normal(size=(8, 3))
    gam, bet = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    mask = (rng.uniform(size=24) > 0.25).astype(float)
    np.savez(tmp_path / "layer_inputs.npz", X=X, G=G, gamma=gam, beta=bet, mask=mask)
    run_isolated(tmp_path, LAYERS)
    out = dict(np.load(tmp_path / "outputs.npz"))
    # batch norm (Ioffe & Szegedy; PyTorch's running statistics: unbiased variance, momentum 0.1)
    N = X.shape[0]
    mu, var = X.mean(0), X.var(0)
    xh = (X - mu) / np.sqrt(var + 1e-5)
    _close(out["y"], gam * xh + bet, np.float64)
    _close(out["rm"], 0.1 * mu, np.float64)
    _close(out["rv"], 0.9 + 0.1 * var * N / (N - 1), np.float64)
    dx = gam / np.sqrt(var + 1e-5) / N * (N * G - G.sum(0) - xh * (G * xh).sum(0))
    _close(out["dx"], dx, np.float64)
    _close(out["dg"], (G * xh).sum(0), np.float64)
    _close(out["db"], G.sum(0), np.float64)
    xf = X.ravel().astype(np.float32).astype(np.float64)
    _close(out["drop"], xf * mask / 0.75, np.float32)
    assert str(out["bad"]) == "gamma has 2 elements, not 3 (x.shape[1]: one per feature)"


# --------------------------------------------------------------------------- cupy


@pytest.fixture(scope="module")
def nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc as lib

        lib.getVersion()
    except Exception as err:  # noqa: BLE001 (ImportError, or the NVRTC library missing)
        pytest.skip(f"NVRTC is not available ({err!r}); install the gpu extra")
    return lib


CUPY_SETS = {"one_loss": ["huber"], "one_act": ["sigmoid"], "one_opt": ["rmsprop"],
             "one_layer": ["dropout"], "every": []}


def test_vendored_cupy_modules_compile_with_nvrtc(tmp_path, nvrtc):
    import re

    for mod, names in CUPY_SETS.items():
        text = gen(tmp_path / f"{mod}.py", "--backend", "cupy", *names)
        assert "generated, do not edit" in text.split('"""')[1]
        assert f"Regenerate: derivecli gen --backend cupy {' '.join(names)}".rstrip() in text
    code = ("import importlib\nresult = {}\nfor m in %r:\n"
            "    mod = importlib.import_module(m)\n"
            "    result[m] = [mod.SOURCE, list(mod.KERNELS), list(mod.DERIVATIONS), mod._module]\n"
            "assert 'cupy' not in sys.modules  # compiled on first use only\n" % list(CUPY_SETS))
    mods = run_isolated(tmp_path, code)
    for mod, names in CUPY_SETS.items():
        source, kernels, derivations, compiled = mods[mod]
        assert compiled is None and (derivations == names or not names)
        for arch in ("sm_80", "sm_90"):
            prog = nvrtc.createProgram(source, f"{mod}.cu", [], [])
            try:
                try:
                    nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14"])
                except nvrtc.NVRTCError as err:
                    pytest.fail(f"{mod} ({arch}): {err}\n{nvrtc.getProgramLog(prog)}")
                ptx = nvrtc.getPTX(prog).decode()
            finally:
                nvrtc.destroyProgram(prog)
            assert f".target {arch}" in ptx
            assert set(kernels) <= set(re.findall(r"\.visible \.entry (\w+)", ptx)), (mod, arch)
    # each kernel's closed form (and a loss's stable form) is in the source, as a comment
    source = mods["one_loss"][0]
    assert re.search(r"^// huber: L = .*;  dL/dyhat = ", source, re.M)
    assert re.search(r"^// stable form: loss = .*; grad = ", source, re.M)
    assert "// sigmoid grad_output: a*(1 - a)" in mods["one_act"][0]
    assert "// rmsprop: RMSprop" in mods["one_opt"][0]
    assert "// derive/batchnorm.py, dropout grad_x: g*m/(1 - p)" in mods["one_layer"][0]


def test_every_vendored_numba_kernel_docstring_states_its_forms(tmp_path):
    # The layer kernels' docstrings named no formula ("derive.batchnorm's closed form").
    import ast

    import sympy as sp

    import derive

    for names in (["bn"], ["mse", "relu"], ["adam"]):
        text = gen(tmp_path / "k.py", *names)
        tree = ast.parse(text)
        public = [f for f in tree.body if isinstance(f, ast.FunctionDef)
                  and f.name.endswith(("_f32", "_f64")) and not f.name.startswith("_")
                  and f.decorator_list and "njit" in ast.unparse(f.decorator_list[0])]
        assert public, names
        for f in public:
            doc = ast.get_docstring(f) or ""
            if names == ["adam"]:  # the rule's forms are the comment block above adam_scalars
                assert "see the comment above" in doc
                continue
            if f.name.startswith(("exp_", "log", "tanh_f")):
                continue  # the mathlib's own functions
            assert "derivecli show-grad" in doc and " = " in doc, (f.name, doc)
    # leaky_relu through its output: a's sign is z's only for a positive slope (derive assumes it)
    text = gen(tmp_path / "k.py", "leaky_relu")
    docs = {f.name: ast.get_docstring(f) for f in ast.parse(text).body if isinstance(f, ast.FunctionDef)}
    assert "Valid for negative_slope > 0 only" in docs["leaky_relu_backward_output_f64"]
    assert "Valid for" not in docs["leaky_relu_backward_f64"]
    bn = derive.get("batchnorm")
    text = gen(tmp_path / "k.py", "batchnorm")
    doc = ast.get_docstring(next(f for f in ast.parse(text).body if isinstance(f, ast.FunctionDef)
                                 and f.name == "batchnorm_backward_f64"))
    assert f"grad_x = {sp.sstr(bn.stable['grad_x'])}" in doc


def test_vendored_cupy_module_says_how_to_launch_its_kernels(tmp_path):
    # The module documented only kernel(name): nothing on block sizes, the loss accumulator,
    # or that the loss kernels read class labels unchecked.
    text = gen(tmp_path / "k.py", "--backend", "cupy", "ce", "mse")
    ns: dict = {}
    exec(compile(text, "k.py", "exec"), ns)
    doc = ns["__doc__"]
    assert "multiple of 32" in doc and "loss_acc" in doc and "zeroed double" in doc
    assert "softmax_ce_check_labels_<t>" in doc
    assert {"softmax_ce_check_labels_f32", "dc_finalize_f64"} <= set(ns["KERNELS"])
    for arg in ("loss_acc", "grad_scale", "loss_none"):
        assert f"double* __restrict__ {arg}" in ns["SOURCE"] or f" {arg}," in ns["SOURCE"]


@pytest.mark.parametrize("names,derivations,generator", [
    (["huber"], "huber", "codegen numba backend, version {v}"),
    (["tanh"], "tanh", "codegen numba backend, version {v}"),
    (["adamw", "sgd"], "sgd, adamw", "codegen.numba_optim, version {o}"),
    (["dropout"], "batchnorm, dropout (derive/batchnorm.py)", "codegen.numba_layers, version {y}"),
    ([], "softmax_ce, bce, bce_logits, mse, mae, smooth_l1, huber, lp, sigmoid, tanh, relu, "
         "leaky_relu", "codegen numba backend, version {v}"),
])
def test_vendored_numba_header(tmp_path, names, derivations, generator):
    import ast
    import re

    from codegen import generate, numba_layers, numba_optim

    out = tmp_path / "k.py"
    text = gen(out, *names)
    head = text.splitlines()[:7]
    assert head[0] == ("# generated, do not edit: regenerate with `derivecli gen --backend numba "
                       + " ".join([*names, "-o", str(out)]).replace("  ", " ") + "`")
    version = generator.format(v=generate.GENERATOR_VERSION, o=numba_optim.GENERATOR_VERSION,
                               y=numba_layers.GENERATOR_VERSION)
    assert f"# Generator: {version}" in head and f"# Derivations: {derivations}" in head
    assert any(re.fullmatch(r"# Source hash: sha256:[0-9a-f]{16} \(.*\)", ln) for ln in head)
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"math", "numpy", "numba"}, imported
    assert re.search(r"^CACHE = _cache_on_disk\(\)", text, re.M)
    assert not re.search(r"njit\([^)]*cache=True", text) and "cache=CACHE)" in text


def test_check_rejects_a_negative_seed_as_a_usage_error():
    # Before: numpy's "ValueError: expected non-negative integer" traceback, exit status 1.
    res = CliRunner().invoke(main, ["check", "mse", "--seed", "-1"])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), repr(res.exception)
    assert "--seed" in res.output and "-1" in res.output


@pytest.mark.parametrize("name,warned", [("my-kernels.py", True), ("kernels.txt", True),
                                         ("1kernels.py", True), ("my_kernels.py", False)])
def test_gen_warns_when_the_file_cannot_be_imported_by_name(tmp_path, name, warned):
    # A numba module that can only be loaded by path never caches its kernels on disk (CACHE):
    # every process would compile them again (seconds per kernel), with no word about it.
    res = CliRunner().invoke(main, ["gen", "mse", "-o", str(tmp_path / name)])
    assert res.exit_code == 0 and (tmp_path / name).exists()
    assert ("warning:" in res.output and name in res.output
            and "cached" in res.output) == warned, res.output
    cupy = CliRunner().invoke(main, ["gen", "--backend", "cupy", "mse", "-o", str(tmp_path / name)])
    assert cupy.exit_code == 0 and "warning:" not in cupy.output  # CuPy caches by source text


def test_gen_momentum_for_both_backends(tmp_path):
    # `gen --backend numba momentum` wrote the SGD kernels (momentum is SGD with momentum);
    # `--backend cupy momentum` said the cuda backend had no template for it.
    ns: dict = {}
    text = gen(tmp_path / "m.py", "--backend", "cupy", "momentum")
    exec(compile(text, "m.py", "exec"), ns)
    assert ns["DERIVATIONS"] == ("sgd",)
    assert any("momentum" in k and k.endswith("_f32") for k in ns["KERNELS"]), ns["KERNELS"]
    numba_text = gen(tmp_path / "n.py", "momentum")
    assert "# Derivations: sgd" in numba_text
