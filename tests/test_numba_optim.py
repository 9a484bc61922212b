"""Generated optimizer kernels (runtime/generated/numba_optim.py): no drift from derive/optim.py,
standalone, float32 arithmetic in float32 kernels, and values against torch.optim's documented
algorithms (tests/optim_reference.py) in float32 and float64."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest

from codegen import numba_optim as gen
from optim_reference import hyper_for, init_state, rel_err, step as ref_step
from runtime.generated import numba_optim as G

MODULE = Path(gen.ROOT) / gen.OUTPUT
UPDATES = [name for name, r in G.RULES.items() if not name.startswith("clip")]
TOL = {"float32": 1e-5, "float64": 1e-12}


def test_committed_module_has_not_drifted():
    diff = gen.drift()
    assert not diff, ("runtime/generated/numba_optim.py differs from a fresh generation; run "
                      "`python -m codegen.generate --update`\n" + diff[:4000])


def test_header_and_imports():
    text = MODULE.read_text(encoding="utf-8")
    head = text.splitlines()[:5]
    assert "generated, do not edit" in head[0]
    assert any(f"version {gen.GENERATOR_VERSION}" in ln for ln in head)
    assert any(re.search(r"Source hash: sha256:[0-9a-f]{16}", ln) for ln in head)
    assert any("Derivations: sgd, adagrad, rmsprop, adam, adamw" in ln for ln in head)
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"math", "numba", "numpy"}
    assert G.FASTMATH == {"nsz", "arcp", "contract", "afn"}  # no nnan/ninf/reassoc


def _run_kernel(name, dtype, n, steps, parallel=False, seed=0):
    """Run the generated kernel ``steps`` times and the documented reference alongside."""
    r = G.RULES[name]
    rng = np.random.default_rng(seed)
    hyper = hyper_for(r["optimizer"], r["options"])
    kw = {k: v for k, v in hyper.items() if k not in ("betas", "nesterov", "centered", "amsgrad")}
    if "betas" in hyper:
        kw["beta1"], kw["beta2"] = hyper["betas"]
    kw = {k: kw.get(k, 0.0) for k in r["hyper"]}
    p = rng.standard_normal(n).astype(dtype)
    state = [np.full(n, fill, dtype=dtype) for fill in r["init"](**kw)]
    ref_p, ref_state = p.astype(np.float64), init_state(r["optimizer"], hyper, n)
    worst = 0.0
    for t in range(1, steps + 1):
        g = rng.standard_normal(n).astype(dtype)
        scalars = [np.dtype(dtype).type(x) for x in r["scalars"](t, **kw)]
        r["kernels"][(dtype, parallel)](p, g, *state, *scalars)
        ref_p = ref_step(r["optimizer"], ref_p, g, ref_state, hyper, t)
        worst = max(worst, rel_err(p, ref_p))
        for key, s in zip(r["state"], state):
            worst = max(worst, rel_err(s, ref_state[key]))
    return worst


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UPDATES)
def test_kernel_against_reference(name, dtype):
    assert _run_kernel(name, dtype, n=300, steps=3) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sgd_momentum_nesterov_wd", "adagrad_wd",
                                  "rmsprop_centered_momentum_wd", "adam_amsgrad_wd", "adamw"])
def test_parallel_kernel_across_blocks(name, dtype):
    n = 2 * G.BLOCK + 37  # three blocks, the last one partial
    assert _run_kernel(name, dtype, n=n, steps=2, parallel=True) <= TOL[dtype]


_DOUBLE_OP = re.compile(r"= (fadd|fsub|fmul|fdiv|frem)( [a-z]+)* double |@llvm\.(sqrt|fma)\.f64")


@pytest.mark.parametrize("name", ["sgd_momentum_nesterov_wd", "adagrad_wd",
                                  "rmsprop_centered_momentum_wd", "adam_amsgrad_wd", "adamw_amsgrad"])
def test_float32_kernels_never_compute_in_float64(name):
    import numba

    r = G.RULES[name]
    # Numba cannot show the IR of a kernel loaded from its cache: compile an uncached copy.
    kernel = numba.njit(error_model="numpy", fastmath=G.FASTMATH)(
        r["kernels"][("float32", False)].py_func)
    n = 8
    arrays = [np.ones(n, np.float32) for _ in range(2 + len(r["state"]))]
    kw = {k: 0.1 for k in r["hyper"]}
    scalars = [np.float32(x) for x in r["scalars"](2, **kw)]
    kernel(*arrays, *scalars)
    ir = "\n".join(kernel.inspect_llvm().values())
    assert "fmul" in ir and "float" in ir
    assert not _DOUBLE_OP.search(ir), _DOUBLE_OP.search(ir).group(0)


def test_nan_gradient_propagates_like_torch():
    r = G.RULES["adam_amsgrad"]
    p = np.ones(5, np.float32)
    g = np.array([0.1, np.nan, 0.2, np.inf, -0.3], np.float32)
    state = [np.zeros(5, np.float32) for _ in r["state"]]
    scalars = [np.float32(x) for x in r["scalars"](1, 1e-3, 0.9, 0.999, 1e-8, 0.0)]
    r["kernels"][("float32", False)](p, g, *state, *scalars)
    assert np.isnan(p[1]) and np.isnan(state[2][1])  # NaN reaches θ and max_exp_avg_sq
    assert np.isnan(p[3])  # ∞/∞ is NaN, as in torch
    assert np.all(np.isfinite(p[[0, 2, 4]]))


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_value_kernel(dtype, parallel):
    rng = np.random.default_rng(3)
    g = (3 * rng.standard_normal(2 * G.BLOCK + 5)).astype(dtype)
    g[:4] = [np.nan, np.inf, -np.inf, 0.0]
    expected = np.clip(g, -1.5, 1.5)
    G.RULES["clip_grad_value"]["kernels"][(dtype, parallel)](g, np.dtype(dtype).type(1.5))
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm", ["norm_sum_abs", "norm_sum_sq", "norm_sum_pow", "norm_max_abs"])
def test_norm_kernels(norm, dtype, parallel):
    spec = G.NORMS[norm]
    p = {1: 1, 2: 2, "p": 3.5, "inf": np.inf}[spec["p"]]
    extra = (3.5,) if spec["p"] == "p" else ()
    rng = np.random.default_rng(4)
    for n in (0, 7, 2 * G.BLOCK + 11):
        g = rng.standard_normal(n).astype(dtype)
        got = spec["finish"](spec["kernels"][parallel](g, *extra), *extra)
        expected = np.linalg.norm(g.astype(np.float64), p) if n else 0.0
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)
        if n:
            g[n // 2] = np.nan
            assert np.isnan(spec["finish"](spec["kernels"][parallel](g, *extra), *extra))


def test_module_for_chosen_derivations(tmp_path):
    import importlib.util

    path = tmp_path / "my_adam.py"
    path.write_text(gen.generate_module(["adam", "clip_norm"]), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_adam", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert sorted(mod.RULES) == ["adam", "adam_amsgrad", "adam_amsgrad_wd", "adam_wd", "clip_grad_scale"]
    assert "norm_sum_sq" in mod.NORMS
    p, g = np.ones(4), np.full(4, 0.5)
    m, v = np.zeros(4), np.zeros(4)
    mod.RULES["adam"]["kernels"][("float64", False)](p, g, m, v, *mod.adam_scalars(1, 0.1, 0.9, 0.999, 1e-8, 0.0))
    np.testing.assert_allclose(p, 1 - 0.1 * 0.5 / (0.5 + 1e-8), rtol=1e-15)  # step 1: θ − lr·sign(g)
    with pytest.raises(NotImplementedError, match="bce"):
        gen.generate_module(["bce"])


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(UPDATES), dtype=st.sampled_from(["float32", "float64"]),
       n=st.integers(0, 300), seed=st.integers(0, 2**31 - 1),
       lr=st.floats(1e-4, 0.5), momentum=st.floats(0.05, 0.99), beta1=st.floats(0.0, 0.99),
       beta2=st.floats(0.5, 0.9999), weight_decay=st.floats(0.0, 0.3), eps=st.floats(1e-8, 1e-2))
def test_kernels_property(name, dtype, n, seed, lr, momentum, beta1, beta2, weight_decay, eps):
    r = G.RULES[name]
    opts = r["options"]
    hyper = {"lr": lr, "eps": eps, "weight_decay": weight_decay if opts.get("weight_decay", True) else 0.0}
    if r["optimizer"] == "sgd":
        hyper.update(momentum=momentum if opts["momentum"] else 0.0,
                     dampening=0.0 if opts["nesterov"] else 0.3, nesterov=opts["nesterov"])
        hyper.pop("eps")
    elif r["optimizer"] == "adagrad":
        hyper.update(lr_decay=0.01, initial_accumulator_value=0.1)
    elif r["optimizer"] == "rmsprop":
        hyper.update(alpha=beta2, momentum=momentum if opts["momentum"] else 0.0,
                     centered=opts["centered"])
    else:
        hyper.update(betas=(beta1, beta2), amsgrad=opts["amsgrad"])
    kw = {k: v for k, v in hyper.items() if k not in ("betas", "nesterov", "centered", "amsgrad")}
    if "betas" in hyper:
        kw["beta1"], kw["beta2"] = hyper["betas"]
    kw = {k: kw.get(k, 0.0) for k in r["hyper"]}
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n).astype(dtype)
    state = [np.full(n, fill, dtype=dtype) for fill in r["init"](**kw)]
    ref_p, ref_state = p.astype(np.float64), init_state(r["optimizer"], hyper, n)
    for t in (1, 2, 3):
        g = rng.standard_normal(n).astype(dtype)
        r["kernels"][(dtype, False)](p, g, *state, *[np.dtype(dtype).type(x) for x in r["scalars"](t, **kw)])
        ref_p = ref_step(r["optimizer"], ref_p, g, ref_state, hyper, t)
    if n:
        assert rel_err(p, ref_p) <= TOL[dtype]


def test_gen_cli_for_an_optimizer_writes_an_importable_module_naming_its_command(tmp_path):
    import importlib.util

    from click.testing import CliRunner

    from derivecli.cli import main

    out = tmp_path / "my_adam.py"
    res = CliRunner().invoke(main, ["gen", "--backend", "numba", "adam", "-o", str(out)])
    assert res.exit_code == 0, res.output
    first = out.read_text().splitlines()[0]
    assert f"derivecli gen --backend numba adam -o {out}" in first
    spec = importlib.util.spec_from_file_location("my_adam", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # standalone: numpy, numba and math only
    assert module.RULES and all(name.startswith("adam") for name in module.RULES)
