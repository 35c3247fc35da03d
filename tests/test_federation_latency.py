"""RTT model: never below the fibre bound; fitted to the shared Azure P50 matrix."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8smodel import federation as fed
from k8smodel._data import shared_data_dir
from k8smodel.federation.geo import DATA_DIR

# The shared measurements live next to the repository (../shared/data); K8SMODEL_SHARED_DATA
# points elsewhere (e.g. from a git worktree). Never copied into the project.
SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(
    not (SHARED / "azure_p50_rtt_2026-07-02.csv").exists(), reason="../shared/data is absent"
)


def test_fibre_bound_is_9_8_ms_per_1000_km():
    # REFERENCE.md 4: light in fibre ~204 km/ms -> 9.8 ms RTT per 1000 km.
    assert fed.fibre_rtt_ms(1000) == pytest.approx(9.8, abs=0.01)
    # The vacuum bound 6.67 ms per 1000 km is lower still.
    assert 2 * 1000 / 299.792458 == pytest.approx(6.67, abs=0.01)


@settings(deadline=None)
@given(
    st.floats(0, 20_100),
    st.floats(0, 200),
    st.floats(1, 10),
)
def test_model_never_below_fibre_bound(km, intercept, stretch):
    model = fed.RttModel(intercept_ms=intercept, stretch=stretch)
    assert model(km) >= fed.fibre_rtt_ms(km) - 1e-12


@settings(deadline=None)
@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_default_model_never_below_fibre_bound(a, b, c, d):
    km = fed.distance_km((a, b), (c, d))
    assert fed.rtt_ms((a, b), (c, d)) >= fed.fibre_rtt_ms(km)


@pytest.mark.parametrize(
    "kwargs", [{"intercept_ms": -1, "stretch": 2}, {"intercept_ms": 5, "stretch": 0.9}]
)
def test_model_rejects_faster_than_light(kwargs):
    with pytest.raises(ValueError):
        fed.RttModel(**kwargs)


def test_measured_matrix_is_used_verbatim():
    m = pd.DataFrame([[1.0, 80.0], [81.0, 1.0]], index=["a", "b"], columns=["a", "b"])
    assert fed.rtt_ms("a", "b", measured=m) == 80.0
    with pytest.raises(ValueError, match="measured has no row/column"):
        fed.rtt_ms("a", "c", measured=m)


def test_stored_model_reads():
    model = fed.default_rtt_model()
    assert model.intercept_ms >= 0 and model.stretch >= 1


@needs_shared
def test_fit_reproduces_stored_coefficients():
    pairs = fed.load_azure_p50(SHARED)
    # README: Qatar Central's column is zeros (missing) and Indonesia Central has no column.
    assert not (pairs.destination == "Qatar Central").any()
    assert not (pairs.destination == "Indonesia Central").any()
    assert (pairs.rtt_ms > 0).all() and (pairs.source != pairs.destination).all()
    model, stats = fed.fit_rtt_model(pairs)
    stored = pd.read_csv(DATA_DIR / "federation_rtt_model.csv").set_index("quantity").value
    assert model.intercept_ms == pytest.approx(stored["intercept_ms"], rel=1e-4)
    assert model.stretch == pytest.approx(stored["stretch"], rel=1e-4)
    assert stats["rmse_ms"] == pytest.approx(stored["rmse_ms"], rel=1e-4)


@needs_shared
def test_fit_against_independent_least_squares_and_physics():
    pairs = fed.load_azure_p50(SHARED)
    y = pairs.rtt_ms.to_numpy()
    x = 2 * pairs.distance_km.to_numpy() / fed.FIBRE_KM_PER_MS
    design = np.column_stack([np.ones_like(x), x])
    # Unconstrained least squares (numpy's SVD solver) lands inside the bounds, so it must agree:
    # plain for the absolute loss, rows divided by the measured RTT for the relative loss.
    coef_abs, *_ = np.linalg.lstsq(design, y, rcond=None)
    coef_rel, *_ = np.linalg.lstsq(design / y[:, None], np.ones_like(y), rcond=None)
    absolute, _ = fed.fit_rtt_model(pairs, loss="absolute")
    model, stats = fed.fit_rtt_model(pairs)
    assert absolute.intercept_ms == pytest.approx(coef_abs[0], rel=1e-6)
    assert absolute.stretch == pytest.approx(coef_abs[1], rel=1e-6)
    assert model.intercept_ms == pytest.approx(coef_rel[0], rel=1e-6)
    assert model.stretch == pytest.approx(coef_rel[1], rel=1e-6)
    # Every measured RTT respects the fibre bound (coordinates from the shared data).
    assert (pairs.rtt_ms >= fed.fibre_rtt_ms(pairs.distance_km)).all()
    # REFERENCE.md 4: measured cloud RTTs are about 2.56x the vacuum bound (10-90 %: 2.05-3.8).
    assert 2.05 < stats["median_ratio_to_vacuum"] < 3.8


@needs_shared
def test_relative_fit_is_right_where_users_are():
    # Review finding: the absolute-loss fit put short routes at 25 ms for a measured median of
    # 9.5 ms under 300 km. Medians by band, computed here from the pairs with pandas.
    pairs = fed.load_azure_p50(SHARED)
    model, _ = fed.fit_rtt_model(pairs)
    for lo, hi in [(0, 300), (300, 1000), (1000, 3000)]:
        band = pairs[(pairs.distance_km >= lo) & (pairs.distance_km < hi)]
        measured = band.rtt_ms.median()
        fitted = np.median(model(band.distance_km.to_numpy()))
        assert abs(fitted - measured) < 0.15 * measured


def test_relative_fit_by_hand():
    # Three pairs; the relative loss is sum((1 - (a + b x_i) / y_i)^2). Its normal equations,
    # written out: [[S(1/y^2), S(x/y^2)], [S(x/y^2), S(x^2/y^2)]] [a, b] = [S(1/y), S(x/y)].
    km = np.array([100.0, 2040.0, 10200.0])
    y = np.array([8.0, 40.0, 150.0])
    x = 2 * km / 204.0
    m = [[sum(1 / y**2), sum(x / y**2)], [sum(x / y**2), sum(x**2 / y**2)]]
    a, b = np.linalg.solve(m, [sum(1 / y), sum(x / y)])
    model, stats = fed.fit_rtt_model(pd.DataFrame({"rtt_ms": y, "distance_km": km}))
    assert model.intercept_ms == pytest.approx(a, rel=1e-9)
    assert model.stretch == pytest.approx(b, rel=1e-9)
    # Points on a line are recovered exactly by either loss.
    line = pd.DataFrame({"distance_km": km, "rtt_ms": 4.0 + 1.7 * x})
    for loss in ("relative", "absolute"):
        exact, st = fed.fit_rtt_model(line, loss=loss)
        assert exact.intercept_ms == pytest.approx(4.0) and exact.stretch == pytest.approx(1.7)
        assert st["rmse_ms"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"rtt_ms": [1.0, 0.0, 3.0], "distance_km": [1, 2, 3]}), "rtt_ms > 0"),
        (pd.DataFrame({"rtt_ms": [1.0, np.nan, 3.0], "distance_km": [1, 2, 3]}), "finite"),
        (pd.DataFrame({"rtt_ms": [1.0, 2.0], "distance_km": [1, 2]}), ">= 3 rows"),
    ],
)
def test_fit_rejects_bad_pairs(frame, match):
    with pytest.raises(ValueError, match=match):
        fed.fit_rtt_model(frame)
    with pytest.raises(ValueError, match="loss must be one of"):
        fed.fit_rtt_model(frame, loss="huber")
