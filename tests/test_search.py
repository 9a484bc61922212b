"""Grid and random search: exhaustive grids, coarse-then-fine refinement, tables, ranking."""
import math

import numpy as np
import pytest

from runtime.search import (Choice, IntUniform, LogUniform, Uniform, fine_grid, grid_search,
                            random_search)


def _bowl(lr, momentum=0.0):
    # A loss with its minimum at lr = 0.03, momentum = 0.9, on a log scale for lr.
    return (math.log10(lr) - math.log10(0.03)) ** 2 + (momentum - 0.9) ** 2


def test_grid_search_is_exhaustive_and_finds_the_argmin():
    grid = {"lr": [1e-3, 1e-2, 1e-1, 1.0], "momentum": [0.0, 0.5, 0.9, 0.99]}
    calls = []
    result = grid_search(lambda **c: calls.append(c) or _bowl(**c), grid)
    assert len(calls) == 16 and len({tuple(c.values()) for c in calls}) == 16
    # Oracle: the brute-force argmin over the same grid in NumPy.
    scores = np.array([[_bowl(lr, m) for m in grid["momentum"]] for lr in grid["lr"]])
    i, j = np.unravel_index(np.argmin(scores), scores.shape)
    assert result.best_config == {"lr": grid["lr"][i], "momentum": grid["momentum"][j]}
    assert result.best_score == scores.min()


def test_grid_refinement_zooms_in_on_a_log_scale():
    grid = {"lr": [1e-3, 1e-2, 1e-1, 1.0]}
    coarse = grid_search(_bowl, grid)
    assert coarse.best_config == {"lr": 1e-2}
    assert fine_grid(grid, coarse.best_config, 5)["lr"] == pytest.approx(
        [1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1])
    refined = grid_search(_bowl, grid, refine_points=5)
    assert {t.stage for t in refined.trials} == {"coarse", "fine"}
    assert len(refined.trials) == 4 + 2  # the fine points not already tried
    assert refined.best_config["lr"] == pytest.approx(10**-1.5)
    assert refined.best_score < coarse.best_score


def test_fine_grid_linear_and_integer_and_choices():
    fine = fine_grid({"m": [0.0, 0.5, 1.0], "width": [16, 32, 48], "act": ["relu", "tanh"]},
                     {"m": 0.5, "width": 48, "act": "tanh"}, points=5)
    assert fine["m"] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert fine["width"] == [32, 36, 40, 44, 48]
    assert fine["act"] == ["tanh"]


def test_random_search_coarse_then_fine():
    space = {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99)}
    result = random_search(_bowl, space, n_trials=20, fine_trials=20, zoom=0.2, seed=0)
    coarse = [t for t in result.trials if t.stage == "coarse"]
    fine = [t for t in result.trials if t.stage == "fine"]
    assert len(coarse) == len(fine) == 20
    for t in result.trials:
        assert 1e-4 <= t.config["lr"] <= 1.0 and 0 <= t.config["momentum"] <= 0.99
    best_coarse = min(coarse, key=lambda t: t.score)
    # Fine samples stay within a window of 0.2 × the range around the coarse best.
    width = 0.2 * (math.log(1.0) - math.log(1e-4))
    for t in fine:
        assert abs(math.log(t.config["lr"]) - math.log(best_coarse.config["lr"])) <= width
        assert abs(t.config["momentum"] - best_coarse.config["momentum"]) <= 0.2 * 0.99 + 1e-12
    assert result.best_score <= best_coarse.score
    assert result.best_config["lr"] == pytest.approx(0.03, rel=0.5)
    again = random_search(_bowl, space, n_trials=20, fine_trials=20, zoom=0.2, seed=0)
    assert [t.config for t in again.trials] == [t.config for t in result.trials]


def test_log_uniform_is_uniform_in_the_exponent():
    rng = np.random.default_rng(0)
    d = LogUniform(1e-6, 1.0)
    e = np.log10([d.sample(rng) for _ in range(4000)])
    # Uniform on [-6, 0]: mean -3, std 6/√12; about 1/6 of the samples per decade.
    assert e.mean() == pytest.approx(-3, abs=0.15)
    assert e.std() == pytest.approx(6 / math.sqrt(12), rel=0.05)
    assert np.mean(e < -5) == pytest.approx(1 / 6, abs=0.03)


def test_choices_ints_and_max_mode_with_metrics():
    def train(width, act, lr):
        acc = {"relu": 0.9, "tanh": 0.8}[act] + width / 1000 - abs(lr - 0.1)
        return {"accuracy": acc, "loss": 1 - acc}

    result = random_search(train, {"width": IntUniform(8, 64), "act": ["relu", "tanh"],
                                   "lr": (0.0, 0.5)},
                           n_trials=30, fine_trials=10, seed=1, metric="accuracy", mode="max")
    assert all(isinstance(t.config["width"], int) and 8 <= t.config["width"] <= 64
               for t in result.trials)
    assert result.best_config["act"] == "relu"
    assert result.best_score == max(t.score for t in result.trials)
    fine = [t for t in result.trials if t.stage == "fine"]
    assert {t.config["act"] for t in fine} == {"relu"}
    table = result.table()
    lines = table.splitlines()
    assert lines[0].split() == ["stage", "width", "act", "lr", "score", "loss", "seconds"]
    assert lines[2].startswith("*") and f"{result.best_score:.4g}" in lines[2]
    assert "best: {" in str(result)


def test_diverged_runs_rank_last():
    result = grid_search(lambda lr: float("nan") if lr > 1 else lr, {"lr": [10.0, 0.5, 2.0]})
    assert result.best_config == {"lr": 0.5}
    assert math.isnan(result.ranked()[-1].score)
    assert math.isnan(grid_search(lambda lr: -lr if lr < 1 else float("inf"), {"lr": [0.5, 2.0]},
                                  mode="max").ranked()[0].score) is False


def test_bad_input():
    with pytest.raises(ValueError, match="mode='best'"):
        grid_search(_bowl, {"lr": [1.0]}, mode="best")
    with pytest.raises(ValueError, match="non-empty"):
        grid_search(_bowl, {"lr": []})
    with pytest.raises(ValueError, match="low > 0"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        Uniform(1.0, 1.0)
    with pytest.raises(TypeError, match="space\\['lr'\\]"):
        random_search(_bowl, {"lr": 0.1})
    with pytest.raises(ValueError, match="pass metric="):
        grid_search(lambda lr: {"a": 1, "b": 2}, {"lr": [1.0]})
    with pytest.raises(ValueError, match="at least one option"):
        Choice([])


def test_error_score_records_a_failing_trial_and_goes_on():
    """sklearn's error_score: a train_fn that raises is scored error_score, its error kept in the
    trial's metrics, with a RuntimeWarning naming the call; the other trials' results stand.
    Oracle: the score function itself, evaluated here on the configurations that do not fail."""
    import math
    import warnings

    def train(lr, batch):
        if batch > 8:
            raise ValueError(f"batch={batch} > 8 samples")
        return (lr - 0.1) ** 2 + batch / 100

    grid = {"lr": [0.01, 0.1, 1.0], "batch": [4, 16]}
    with pytest.raises(ValueError, match="batch=16 > 8"):
        grid_search(train, grid)  # the default: raise
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = grid_search(train, grid, error_score=float("nan"))
    failed = [t for t in result.trials if t.config["batch"] == 16]
    assert len(result.trials) == 6 and len(failed) == 3
    assert all(math.isnan(t.score) and t.metrics == {"error": "ValueError: batch=16 > 8 samples"}
               for t in failed)
    for t in result.trials:
        if t.config["batch"] == 4:
            assert t.score == pytest.approx(train(**t.config))
    assert result.best_config == {"lr": 0.1, "batch": 4}
    messages = [str(w.message) for w in seen if w.category is RuntimeWarning]
    assert len(messages) == 3 and "train_fn(lr=0.01, batch=16) raised ValueError" in messages[0]
    assert all(w.filename == __file__ for w in seen)  # attributed to the caller
    with pytest.warns(RuntimeWarning, match="raised ZeroDivisionError"):
        scored = random_search(lambda lr: 1 / 0 if lr > 0.5 else lr, {"lr": Uniform(0.0, 1.0)},
                               n_trials=20, seed=0, error_score=-1.0, mode="max")
    assert {t.score for t in scored.trials if t.config["lr"] > 0.5} == {-1.0}
    assert scored.best_config["lr"] == max(t.config["lr"] for t in scored.trials
                                           if t.config["lr"] <= 0.5)
    for bad in ("ignore", True, None):
        with pytest.raises(ValueError, match=f"error_score={bad!r} must be 'raise' or a number"):
            grid_search(train, grid, error_score=bad)
