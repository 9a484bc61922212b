"""The training loop against a PyTorch loop over the same batches; history, progress, plots,
clipping and thread plans."""
import io

import numba
import numpy as np
import pytest

from runtime import threads
from runtime.data import DataLoader
from runtime.nn import MLP
from runtime.optim import SGD, Adam
from runtime.train import History, ProgressBar, fit


def _regression(n=100, seed=0):
    rng = np.random.RandomState(seed)
    x = 2 * rng.rand(n, 1)
    return x, 3 + 2 * x + rng.randn(n, 1) * 0.5


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = np.array([[0, 3], [3, 0], [-3, -3]])
    return centres[y] + rng.normal(size=(n, 2)), y


@pytest.mark.parametrize("batch,updates", [(None, 50), (1, 5000), (20, 250)])
def test_update_counts_of_seed_003(batch, updates):
    x, y = _regression()
    model = MLP([1, 1], loss="mse", dtype=np.float64, seed=0)
    hist = fit(model, x, y, SGD(model.parameters(), lr=0.01), epochs=50, batch_size=batch,
               seed=0, progress=False)
    assert hist.updates == updates and hist.epoch == list(range(1, 51))


def test_matches_a_torch_loop_over_the_same_batches():
    torch = pytest.importorskip("torch", reason="a PyTorch training loop is the oracle")
    x, y = _regression()
    model = MLP([1, 1], loss="mse", dtype=np.float64, seed=3)
    (w0,), (b0,) = model.parameters()[0][0].copy(), model.parameters()[1].copy()
    hist = fit(model, x, y, SGD(model.parameters(), lr=0.05, momentum=0.5), epochs=7,
               batch_size=20, shuffle=True, seed=11, progress=False)
    # The same shuffled order: a loader with the same seed over the sample indices.
    order = DataLoader(np.arange(100), batch_size=20, shuffle=True, seed=11)
    w = torch.tensor([[w0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([b0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.05, momentum=0.5)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(7):
        for idx in order:
            idx = torch.from_numpy(idx)
            opt.zero_grad()
            loss = torch.mean((X[idx] @ w.T + b - Y[idx]) ** 2)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(hist.step_loss, losses, rtol=1e-10)
    np.testing.assert_allclose(model.parameters()[0], w.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.parameters()[1], b.detach().numpy(), rtol=1e-10)
    # Epoch losses are sample-weighted means of the batch losses.
    np.testing.assert_allclose(hist.loss, np.mean(np.reshape(losses, (7, 5)), axis=1), rtol=1e-12)


def test_classification_history_validation_and_progress():
    X, y = _blobs()
    model = MLP([2, 16, 3], "relu", dtype=np.float64, seed=0)
    stream = io.StringIO()
    import runtime.train as train

    original = train.ProgressBar
    train.ProgressBar = lambda total, epoch, epochs: original(total, epoch, epochs, stream=stream)
    try:
        hist = fit(model, X, y, Adam(model.parameters(), lr=0.05), epochs=5, batch_size=16,
                   seed=0, validation=(X, y), progress=True)
    finally:
        train.ProgressBar = original
    text = stream.getvalue()
    assert "epoch 1/5 [" in text and "epoch 5/5 [########################] 8/8" in text
    assert " acc " in text and "val_acc" in text
    assert len(hist.accuracy) == len(hist.val_loss) == len(hist.val_accuracy) == 5
    assert hist.val_accuracy[-1] == model.accuracy(X, y) and hist.val_accuracy[-1] > 0.95
    assert hist.loss[-1] < hist.loss[0]
    assert "updates 40" in hist.summary()


def test_training_accuracy_counts_the_batches():
    X, y = _blobs(40)
    model = MLP([2, 3], dtype=np.float64, seed=0)
    before = model.predict(X)
    hist = fit(model, X, y, SGD(model.parameters(), lr=0.0), epochs=1, batch_size=None,
               progress=False)  # lr 0: the weights stay, so the batch accuracy is exact
    assert hist.accuracy[0] == np.mean(before == y)


def test_clip_norm_records_the_norm_before_clipping():
    x, y = _regression()
    model = MLP([1, 1], loss="mse", dtype=np.float64, seed=0)
    model.loss_and_backward(x, y)
    expected = np.sqrt(sum(np.sum(g**2) for g in model.gradients()))
    params = [p.copy() for p in model.parameters()]
    hist = fit(model, x, y, SGD(model.parameters(), lr=1.0), epochs=1, batch_size=None,
               clip_norm=0.01, shuffle=False, progress=False)
    assert hist.grad_norm[0] == pytest.approx(expected, rel=1e-12)
    step = np.sqrt(sum(np.sum((p - q) ** 2) for p, q in zip(model.parameters(), params)))
    assert step == pytest.approx(0.01, rel=1e-4)  # lr 1 × clipped norm


def test_callback_stops_and_progress_off_by_default_in_tests(capsys):
    x, y = _regression()
    model = MLP([1, 1], loss="mse", dtype=np.float64, seed=0)
    hist = fit(model, x, y, SGD(model.parameters(), lr=0.1), epochs=10, batch_size=20,
               callback=lambda epoch, h: epoch == 3)
    assert hist.epoch == [1, 2, 3]
    assert capsys.readouterr().err == ""  # stderr is not a terminal here


def test_loss_curve_png(tmp_path):
    pytest.importorskip("matplotlib", reason="plots need the optional matplotlib (plot extra)")
    hist = History(epoch=[1, 2], loss=[1.0, 0.5], accuracy=[0.5, 0.8], step_loss=[1.2, 0.8, 0.6, 0.4])
    path = hist.plot(tmp_path / "curve.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_format():
    s = io.StringIO()
    bar = ProgressBar(10, 2, 3, stream=s, width=10)
    bar.update(5, 0.25, 0.5, force=True)
    bar.close(" done")
    assert s.getvalue() == "\repoch 2/3 [#####-----] 5/10 loss 0.2500 acc 0.5000 done\n"


def test_bad_epochs():
    model = MLP([1, 1], loss="mse", seed=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative int, got 2.5"):
        fit(model, np.ones((2, 1)), np.ones((2, 1)), SGD(model.parameters(), lr=0.1), epochs=2.5)


# --------------------------------------------------------------------------- thread plans


def test_plans():
    small = threads.plan(64, [784, 256, 256, 10], n_cores=2)
    assert (small.blas, small.kernels) == (1, 1)
    big = threads.plan(1024, [784, 256, 256, 10], n_cores=2)
    assert big.blas == 2 and big.kernels == 1  # never both pools multi-threaded
    wide = threads.plan(4096, [8, 1024, 8], n_cores=2, blas_min_flops=10**12)
    assert wide.blas == 1 and wide.kernels == min(2, numba.config.NUMBA_NUM_THREADS)


def test_using_applies_and_restores():
    before_k, before_b = numba.get_num_threads(), threads.blas_threads()
    if before_b is None:
        pytest.skip("this NumPy's BLAS exposes no thread control")
    with threads.using(threads.ThreadPlan(blas=1, kernels=1)):
        assert numba.get_num_threads() == 1 and threads.blas_threads() == 1
    assert numba.get_num_threads() == before_k and threads.blas_threads() == before_b
    with pytest.raises(ValueError, match="got 0"):
        threads.set_blas_threads(0)


def test_tuner_keeps_the_fastest_plan_after_warmup_and_trials():
    slow, fast = threads.ThreadPlan(2, 1, "slow"), threads.ThreadPlan(1, 1, "fast")
    tuner = threads.Tuner([slow, fast], trials=3, warmup=1)
    cost = {slow: [9.0, 2.0, 2.0, 2.0], fast: [9.0, 1.0, 5.0, 1.0]}  # first = warm-up, ignored
    order = []
    while tuner.chosen is None:
        p = tuner.next()
        order.append(p)
        tuner.record(p, cost[p].pop(0))
    assert order == [slow, fast] * 4  # in turn
    assert tuner.chosen == fast  # medians 1.0 < 2.0
    assert tuner.next() == fast and "*BLAS 1/kernels 1: 1000.000 ms" in tuner.summary()
    assert len(threads.candidates(1024, [784, 256, 10], n_cores=2)) == 2


def _tune(tuner, cost):
    """Run trials until the tuner chooses; ``cost[plan]`` gives each step's seconds."""
    while tuner.chosen is None:
        p = tuner.next()
        tuner.record(p, cost[p])
    return tuner.chosen


def test_tuner_retunes_when_the_chosen_plan_slows_down_and_backs_off():
    two, one = threads.ThreadPlan(2, 1, "two"), threads.ThreadPlan(1, 1, "one")
    tuner = threads.Tuner([one, two], trials=3, warmup=1, patience=3, slowdown=2.0,
                          retune_seconds=30.0)
    assert _tune(tuner, {one: 1.5, two: 1.0}) == two
    tuner.record(two, 5.0)
    tuner.record(two, 5.0)
    tuner.record(two, 1.0)  # a fast step resets the count of slow ones
    tuner.record(two, 5.0)
    tuner.record(two, 5.0)
    assert tuner.chosen == two
    tuner.record(two, 5.0)  # third slow step in a row: trials again
    assert tuner.chosen is None and tuner.retunes == 1
    assert _tune(tuner, {one: 3.0, two: 50.0}) == one  # the other process holds a core
    assert "*BLAS 1/kernels 1: 3000.000 ms" in tuner.summary() and "re-tuned 1×" in tuner.summary()
    for _ in range(9):  # a changed choice: the next scheduled re-tune after retune_seconds
        tuner.record(one, 3.0)
    assert tuner.chosen == one
    tuner.record(one, 3.0)
    assert tuner.chosen is None and tuner.retunes == 2
    assert _tune(tuner, {one: 3.0, two: 50.0}) == one  # kept: the interval doubles
    for _ in range(19):
        tuner.record(one, 3.0)
    assert tuner.chosen == one
    tuner.record(one, 3.0)
    assert tuner.chosen is None and tuner.retunes == 3
    assert _tune(tuner, {one: 1.5, two: 1.0}) == two
    for _ in range(3):  # under 2× its own median, but slower than the other plan measured
        tuner.record(two, 1.7)
    assert tuner.chosen is None and tuner.retunes == 4
    single = threads.Tuner([one])
    for _ in range(5000):
        single.record(one, 100.0)
    assert single.chosen == one and single.retunes == 0


def test_tuner_gives_up_on_a_plan_far_slower_than_another():
    two, one = threads.ThreadPlan(2, 1, "two"), threads.ThreadPlan(1, 1, "one")
    tuner = threads.Tuner([one, two], trials=5, warmup=1, give_up=5.0)
    order = []
    while tuner.chosen is None:
        p = tuner.next()
        order.append(p)
        tuner.record(p, {one: 1.0, two: 50.0}[p])
    # warm-up of each, one trial of `one`, then one trial of `two` (50 > 5 × 1) ends its
    # round; `one` finishes its five trials alone
    assert tuner.chosen == one and order.count(two) == 2 and order.count(one) == 6
    noisy = threads.Tuner([one, two], trials=3, warmup=0, give_up=5.0)
    for p, t in [(one, 1.0), (two, 4.0), (one, 1.0), (two, 0.5), (one, 1.0), (two, 0.5)]:
        noisy.record(p, t)  # 4× is an outlier, not a give-up: the median decides
    assert noisy.chosen == two


def test_scheduled_retune_drops_a_plan_that_still_loses_after_one_step():
    two, one = threads.ThreadPlan(2, 1, "two"), threads.ThreadPlan(1, 1, "one")
    cost = {one: 2.0, two: 1.0}  # `one` loses by 2×: under give_up (5×), over recheck (1.5×)

    def steps_until_chosen(tuner):
        ran = []
        while tuner.chosen is None:
            p = tuner.next()
            ran.append(p)
            tuner.record(p, cost[p])
        return ran

    tuner = threads.Tuner([one, two], trials=5, warmup=1, retune_seconds=3.0)
    first = steps_until_chosen(tuner)
    assert tuner.chosen == two and first.count(one) == 6  # first tuning: all its trials
    tuner.record(two, 1.0)
    tuner.record(two, 1.0)
    tuner.record(two, 1.0)  # 3 s of steps: a scheduled re-tune (nothing got slow)
    assert tuner.chosen is None and tuner.retunes == 1
    again = steps_until_chosen(tuner)
    assert tuner.chosen == two and again.count(one) == 2  # its warm-up and one trial step
    assert again.count(two) == 6
    for _ in range(3):  # slow steps: a triggered re-tune gives every plan its full trials
        tuner.record(two, 2.5)
    assert tuner.chosen is None and tuner.retunes == 2
    cost[two] = 2.5
    triggered = steps_until_chosen(tuner)
    assert triggered.count(one) == 6 and tuner.chosen == one  # 2.0 < 2.5: the other plan wins
    cost[two] = 1.0  # a plan 1.5× faster than the chosen one is kept by a re-check
    for _ in range(2):
        tuner.record(one, 2.0)  # 4 s (the interval went back to 3 s on the change)
    assert tuner.chosen is None
    assert steps_until_chosen(tuner).count(two) == 6 and tuner.chosen == two
    with pytest.raises(ValueError, match="recheck must be >= 1, got 0.5"):
        threads.Tuner([one, two], recheck=0.5)


def test_planned_applies_each_plan_records_and_restores():
    if threads.blas_threads() is None:
        pytest.skip("this NumPy's BLAS exposes no thread control")
    before = numba.get_num_threads(), threads.blas_threads()
    two, one = threads.ThreadPlan(2, 1, "two"), threads.ThreadPlan(1, 1, "one")
    tuner = threads.Tuner([one, two], trials=1, warmup=0)
    seen = []
    with threads.Planned(tuner) as planned:
        for _ in range(3):
            assert planned(lambda x: seen.append((threads.blas_threads(), numba.get_num_threads()))
                           or x, 7) == 7
    assert seen == [(1, 1), (2, 1), seen[1] if tuner.chosen == two else (1, 1)]
    assert tuner.medians and set(tuner.medians) == {one, two}
    assert (numba.get_num_threads(), threads.blas_threads()) == before


def test_candidates_time_a_multithreaded_blas_on_mid_sized_products():
    sizes = [784, 256, 10]  # largest product at batch 64: 2·64·784·256 = 25.7 MFLOP
    serial, blas = threads.candidates(64, sizes, n_cores=2)
    assert (serial.blas, serial.kernels) == (1, 1) == (threads.plan(64, sizes, n_cores=2).blas, 1)
    assert (blas.blas, blas.kernels) == (2, 1)  # never both pools multi-threaded
    tiny = threads.candidates(64, [2, 8, 3], n_cores=2)  # 3 kFLOP: nothing to time
    assert [(p.blas, p.kernels) for p in tiny] == [(1, 1)]
    assert threads.candidates(64, sizes, n_cores=1) == [threads.plan(64, sizes, n_cores=1)]
    assert len(threads.candidates(64, sizes, n_cores=2, blas_try_flops=10**9)) == 1


def test_fit_tunes_multithreaded_plans_on_its_first_steps():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2048, 784)).astype(np.float32), rng.integers(0, 10, size=2048)
    model = MLP([784, 256, 10], seed=0)
    hist = fit(model, np.concatenate([X] * 4), np.concatenate([y] * 4),
               SGD(model.flat_parameters(), lr=0.01), epochs=1, batch_size=1024)
    if threads.cores() > 1:
        assert "timed:" in hist.thread_plan and hist.thread_plan.count("ms") == 2
    assert hist.updates == 8


def test_fit_with_an_optimizer_on_the_flat_buffer_matches_per_layer_views():
    X, y = _blobs()
    a, b = (MLP([2, 8, 3], "tanh", dtype=np.float64, seed=0) for _ in range(2))
    ha = fit(a, X, y, SGD(a.parameters(), lr=0.1, momentum=0.9), epochs=3, batch_size=16, seed=0)
    hb = fit(b, X, y, SGD(b.flat_parameters(), lr=0.1, momentum=0.9), epochs=3, batch_size=16,
             seed=0)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert ha.step_loss == hb.step_loss


@pytest.mark.parametrize("coretype", [None, "Haswell"])
def test_blas_kernels_names_what_openblas_runs(coretype):
    """Oracle: threadpoolctl's report of the same process's OpenBLAS ('architecture')."""
    pytest.importorskip("threadpoolctl", reason="threadpoolctl reports OpenBLAS's kernels")
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    code = ("import json, threadpoolctl; from runtime import threads; "
            "info = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']; "
            "print(json.dumps([threads.blas_kernels(), info[0]['architecture'] if info else None]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    ours, arch = json.loads(out.stdout)
    if arch is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    if coretype:
        assert arch == coretype and ours == f"{coretype}, OPENBLAS_CORETYPE={coretype}"
    else:
        assert ours == arch


def test_scheduled_retunes_back_off_only_up_to_max_retune_seconds():
    """A plan chosen under a passing load: its steps do not get slower when the load goes, so
    only scheduled re-tunes can switch back; their interval doubles while the choice holds,
    up to max_retune_seconds (the contract in Tuner's docstring)."""
    two, one = threads.ThreadPlan(2, 1, "two"), threads.ThreadPlan(1, 1, "one")
    tuner = threads.Tuner([one, two], trials=1, warmup=0, retune_seconds=1.0,
                          max_retune_seconds=4.0)
    cost = {one: 1.0, two: 50.0}  # another process holds a core: `one` wins
    intervals = []
    for _ in range(5):
        while tuner.chosen is None:
            p = tuner.next()
            tuner.record(p, cost[p])
        steps = 0
        while tuner.chosen is not None:
            tuner.record(one, 1.0)
            steps += 1
        intervals.append(steps)
    assert intervals == [1, 2, 4, 4, 4]
    cost[two] = 0.5  # the load is gone: the next scheduled re-tune switches
    while tuner.chosen is None:
        p = tuner.next()
        tuner.record(p, cost[p])
    assert tuner.chosen == two
    with pytest.raises(ValueError, match=r"max_retune_seconds must be >= retune_seconds \(2.0\), got 1.0"):
        threads.Tuner([one, two], retune_seconds=2.0, max_retune_seconds=1.0)
