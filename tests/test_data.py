"""The mini-batch loader: the seed's update counts, shuffling, drop_last, the three modes."""
import numpy as np
import pytest

from runtime.data import DataLoader, updates_per_epoch


def _data(n=100):
    x = np.arange(n, dtype=np.float64).reshape(n, 1)
    return x, 3 + 2 * x[:, 0]


def test_seed_003_update_counts():
    x, y = _data()
    counts = {}
    for bs in (None, 1, 20):
        loader = DataLoader(x, y, batch_size=bs, shuffle=True, seed=0)
        counts[loader.mode] = sum(1 for _ in range(50) for _ in loader)
    assert counts == {"full-batch": 50, "single-sample": 5000, "mini-batch": 250}


@pytest.mark.parametrize("n,bs,drop,expected", [
    (100, 20, False, [20] * 5), (103, 20, False, [20] * 5 + [3]), (103, 20, True, [20] * 5),
    (5, None, False, [5]), (5, 8, False, [5]), (5, 8, True, []), (3, 1, False, [1, 1, 1])])
def test_batch_sizes(n, bs, drop, expected):
    x, y = _data(n)
    loader = DataLoader(x, y, batch_size=bs, drop_last=drop)
    sizes = [len(xb) for xb, _ in loader]
    assert sizes == expected
    assert len(loader) == len(expected) == updates_per_epoch(n, bs, drop)


def test_no_shuffle_keeps_order_and_pairs():
    x, y = _data(10)
    xs, ys = zip(*DataLoader(x, y, batch_size=4))
    np.testing.assert_array_equal(np.concatenate(xs)[:, 0], np.arange(10))
    np.testing.assert_array_equal(np.concatenate(ys), 3 + 2 * np.arange(10))


def test_shuffle_is_a_permutation_each_epoch_and_seeded():
    x, y = _data(50)
    loader = DataLoader(x, y, batch_size=7, shuffle=True, seed=42)
    epochs = []
    for _ in range(3):
        xs, ys = zip(*loader)
        xs, ys = np.concatenate(xs)[:, 0], np.concatenate(ys)
        np.testing.assert_array_equal(np.sort(xs), np.arange(50))  # every sample once
        np.testing.assert_array_equal(ys, 3 + 2 * xs)  # pairs stay together
        epochs.append(xs)
    assert not np.array_equal(epochs[0], epochs[1])  # a new order each epoch
    assert not np.array_equal(epochs[0], np.arange(50))
    again = DataLoader(x, y, batch_size=7, shuffle=True, seed=42)
    for e in epochs:
        np.testing.assert_array_equal(np.concatenate([b[0] for b in again])[:, 0], e)


def test_drop_last_with_shuffle_drops_random_samples():
    x, _ = _data(10)
    loader = DataLoader(x, batch_size=4, shuffle=True, seed=1, drop_last=True)
    batches = list(loader)
    assert [len(b) for b in batches] == [4, 4]
    assert len(np.unique(np.concatenate(batches))) == 8


def test_single_array_yields_arrays():
    x, _ = _data(6)
    assert all(isinstance(b, np.ndarray) for b in DataLoader(x, batch_size=4))


def test_bad_input():
    x, y = _data(10)
    with pytest.raises(ValueError, match="different numbers of samples: \\[10, 9\\]"):
        DataLoader(x, y[:9])
    with pytest.raises(ValueError, match="batch_size .* got 0"):
        DataLoader(x, batch_size=0)
    with pytest.raises(ValueError, match="got 2.5"):
        DataLoader(x, batch_size=2.5)
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader()
    with pytest.raises(TypeError, match="seed"):
        DataLoader(x, shuffle=True, seed="abc")
