import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from k8smodel import metrics

nonneg = arrays(
    float,
    st.tuples(st.integers(1, 5), st.integers(1, 12)),
    # zero or a size whose square does not underflow
    elements=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)),
)


def test_jain_known_values():
    # Jain, Chiu, Hawe (1984): equal allocation -> 1; one user takes all -> 1/n.
    assert metrics.jain([5, 5, 5, 5]) == pytest.approx(1.0)
    assert metrics.jain([1, 0, 0, 0]) == pytest.approx(0.25)
    # (1+2+3)^2 / (3 * (1+4+9)) = 36/42
    assert metrics.jain([1, 2, 3]) == pytest.approx(36 / 42)


def test_jain_all_zero_is_nan():
    assert np.isnan(metrics.jain([0, 0, 0]))


@given(nonneg)
def test_jain_bounds_and_cov_identity(x):
    j = metrics.jain(x)
    positive = x.sum(axis=1) > 0
    n = x.shape[1]
    assert np.all(j[positive] >= 1 / n - 1e-12)
    assert np.all(j[positive] <= 1 + 1e-12)
    # J = 1 / (1 + CoV^2) (Jain et al. 1984)
    np.testing.assert_allclose(j[positive], 1 / (1 + metrics.cov(x)[positive] ** 2), rtol=1e-9)


@given(nonneg)
def test_shares_sum_to_one(x):
    s = metrics.shares(x)
    positive = x.sum(axis=1) > 0
    np.testing.assert_allclose(s[positive].sum(axis=1), 1.0)
    ms = metrics.max_share(x)[positive]
    assert np.all(ms >= 1 / x.shape[1] - 1e-12) and np.all(ms <= 1 + 1e-12)
    np.testing.assert_allclose(metrics.peak_to_mean(x)[positive], x.shape[1] * ms)


def test_axis_argument():
    x = np.array([[1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(metrics.jain(x, axis=1), [1.0, 0.5])
    np.testing.assert_allclose(metrics.jain(x, axis=0), [1.0, 0.5])


def test_quantile_summary():
    samples = np.arange(1, 101, dtype=float)
    table = metrics.quantile_summary(samples, q=(0.5, 0.99))
    assert list(table.columns) == ["mean", "std", "p50", "p99", "n"]
    assert table.loc[0, "mean"] == 50.5
    assert table.loc[0, "p50"] == np.quantile(samples, 0.5)
    two = metrics.quantile_summary(np.vstack([samples, 2 * samples]))
    assert len(two) == 2 and two.loc[1, "mean"] == 101.0


def test_values_near_the_float_limit():
    # equal allocations are perfectly fair whatever their scale (issue 19: was NaN)
    assert metrics.jain([1e200, 1e200]) == 1.0
    assert metrics.cov([1e200, 1e200]) == 0.0
    assert metrics.shares([1e308, 1e308]).tolist() == [0.5, 0.5]
    assert metrics.quantile_summary([1.0, np.inf]).loc[0, "std"] == np.inf


def test_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        metrics.jain([1, -1])
    with pytest.raises(ValueError, match="x must be finite"):
        metrics.cov([1, np.nan])
    with pytest.raises(ValueError, match="x must be non-negative"):
        metrics.shares([2.0, -1.0])
    with pytest.raises(ValueError, match="x must not be empty"):
        metrics.max_share([])
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        metrics.peak_to_mean([True, False])
    with pytest.raises(ValueError, match="q must be"):
        metrics.quantile_summary([1.0, 2.0], q=(1.5,))
    with pytest.raises(ValueError, match="scalar"):
        metrics.jain(3.0)
