"""runtime.validate (shared with the CUDA dispatch), runtime's name tables against derive's
registry, the CuPy dispatch hook and the thread plan."""
import sys
import types

import numba
import numpy as np
import pytest

import runtime
from runtime import activations as ract
from runtime import losses as rloss
from runtime import validate
from runtime.generated import PARALLEL_MIN, threads_for


# --------------------------------------------------------------------------- name tables

def test_loss_names_and_aliases_agree_with_derive_registry():
    from codegen.numba_losses import has_template
    from derive import registry

    kernel_losses = {n for n in registry.names("loss") if has_template(n)}
    assert set(rloss.LOSSES) == kernel_losses
    derive_aliases = {a: t for a, t in registry.ALIASES.items() if t in kernel_losses}
    assert rloss.ALIASES == derive_aliases
    for alias, target in derive_aliases.items():
        assert rloss.canonical(alias.upper().replace("_", "-")) == target == registry.canonical(alias)


def test_activation_names_agree_with_derive_registry():
    from derive import registry

    assert set(ract.ACTIVATIONS) == set(registry.names("activation"))
    assert ract.ALIASES == {a: t for a, t in registry.ALIASES.items() if t in ract.ACTIVATIONS}


def test_option_defaults_agree_with_derive():
    import derive

    for name, opts in {**rloss.LOSSES, **ract.ACTIVATIONS}.items():
        d = derive.get(name)
        for option, default in opts.items():
            if option in d.options and default is not None and d.options[option] is not None:
                assert float(default) == float(d.options[option]), (name, option)


# --------------------------------------------------------------------------- validate

def test_float_input_keeps_float32_and_float64_and_preserves_0d():
    for dt in (np.float32, np.float64):
        a = np.arange(6, dtype=dt).reshape(2, 3).T  # non-contiguous
        b = validate.float_input(a, "pred")
        assert b.dtype == dt and b.flags.c_contiguous and np.array_equal(a, b)
    assert validate.float_input(np.float64(2.0), "pred").shape == ()
    assert validate.float_input(np.zeros(2, np.float16), "pred").dtype == np.float32


@pytest.mark.parametrize("value,kind", [(np.zeros(2, np.int64), "an integer"),
                                        (np.zeros(2, np.uint8), "an unsigned integer"),
                                        (np.zeros(2, bool), "a bool"),
                                        (np.zeros(2, complex), "a complex"),
                                        (np.array(["a"]), "a non-numeric")])
def test_float_input_rejects_other_dtypes_naming_the_argument(value, kind):
    with pytest.raises(TypeError, match=f"logits has {kind} dtype"):
        validate.float_input(value, "logits")


def test_like_input_converts_to_the_reference_dtype():
    ref = np.zeros(3, np.float32)
    assert validate.like_input([1, 0, 1], "target", ref).dtype == np.float32
    with pytest.raises(TypeError, match="target has dtype <U1"):
        validate.like_input(np.array(["a"]), "target", ref)


def test_labels_name_the_first_bad_label_and_its_position():
    t = np.array([[0, 1, 2], [3, -100, 9], [5, 1, 0]])
    with pytest.raises(ValueError, match=r"target has label 9 at position \(1, 2\), outside \[0, 4\)"):
        validate.labels(t, 4, -100)
    assert validate.labels(np.array([0, 3, -100]), 4, -100).dtype == np.int64
    with pytest.raises(TypeError, match="class labels must be an integer array"):
        validate.labels(np.array([0.0, 1.0]), 4, -100)
    assert validate.labels(np.zeros(0, np.int32), 4, -100).shape == (0,)


def test_options_are_range_checked():
    assert validate.option_range("beta", 0, ge=0) == 0.0
    with pytest.raises(ValueError, match="beta=-1 must be >= 0"):
        validate.option_range("beta", -1, ge=0)
    with pytest.raises(ValueError, match="delta=0 must be > 0"):
        validate.option_range("delta", 0, gt=0)
    with pytest.raises(ValueError, match="label_smoothing=1.01 must be <= 1"):
        validate.option_range("label_smoothing", 1.01, ge=0, le=1)
    with pytest.raises(TypeError, match="beta='x' is not a real number"):
        validate.option_range("beta", "x")
    with pytest.raises(TypeError, match="ignore_index=True must be an integer"):
        validate.integer_option("ignore_index", True)
    assert validate.integer_option("ignore_index", np.int32(-1)) == -1
    with pytest.raises(ValueError, match="reduction='avg'; expected one of 'mean', 'sum', 'none'"):
        validate.reduction("avg")


def test_gradient_buffer_checks():
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        validate.gradient_buffer(ro, (3,), np.dtype(np.float64))
    with pytest.raises(TypeError, match="out must be an array, got list"):
        validate.gradient_buffer([0, 0, 0], (3,), np.dtype(np.float64))
    x = np.zeros(3)
    assert validate.gradient_buffer(x, (3,), x.dtype, inputs=(("pred", x),)) is x  # in place is fine


def test_array_module_is_read_from_the_type_without_importing_cupy():
    fake = type("ndarray", (), {"__module__": "cupy._core.core"})()
    assert validate.array_module_name(fake) == "cupy"
    assert validate.array_module_name(np.zeros(1)) == "numpy"
    assert validate.any_cupy(None, np.zeros(1), fake) and not validate.any_cupy(None, np.zeros(1))


# --------------------------------------------------------------------------- CuPy hook


def test_cupy_arrays_are_handed_to_cuda_dispatch(monkeypatch):
    calls = []
    fake_mod = types.ModuleType("runtime.cuda_dispatch")
    fake_mod.loss_and_grad = lambda *a, **k: calls.append(("loss_and_grad", a, k)) or "L"
    fake_mod.activation = lambda *a, **k: calls.append(("activation", a, k)) or "A"
    fake_mod.activation_grad = lambda *a, **k: calls.append(("activation_grad", a, k)) or "G"
    monkeypatch.setitem(sys.modules, "runtime.cuda_dispatch", fake_mod)
    monkeypatch.setattr(runtime, "cuda_dispatch", fake_mod, raising=False)
    arr = type("ndarray", (), {"__module__": "cupy"})()
    assert runtime.loss_and_grad("mse", arr, arr, reduction="sum", beta=1) == "L"
    assert runtime.activation("relu", arr) == "A"
    assert runtime.activation_grad("relu", arr, arr, output=None) == "G"
    assert calls[0] == ("loss_and_grad", ("mse", arr, arr), {"reduction": "sum", "out": None, "beta": 1})
    assert [c[0] for c in calls] == ["loss_and_grad", "activation", "activation_grad"]


# --------------------------------------------------------------------------- threads


def test_small_inputs_run_single_threaded_and_the_setting_is_restored():
    before = numba.get_num_threads()
    with threads_for(10):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with threads_for(PARALLEL_MIN):
        assert numba.get_num_threads() == before
