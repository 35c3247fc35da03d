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
    # Unconstrained ordinary least squares (numpy) lands inside the bounds, so it must agree.
    x = 2 * pairs.distance_km.to_numpy() / fed.FIBRE_KM_PER_MS
    coef, *_ = np.linalg.lstsq(
        np.column_stack([np.ones_like(x), x]), pairs.rtt_ms.to_numpy(), rcond=None
    )
    model, stats = fed.fit_rtt_model(pairs)
    assert model.intercept_ms == pytest.approx(coef[0], rel=1e-6)
    assert model.stretch == pytest.approx(coef[1], rel=1e-6)
    # Every measured RTT respects the fibre bound (city-level coordinates).
    assert (pairs.rtt_ms >= fed.fibre_rtt_ms(pairs.distance_km)).all()
    # REFERENCE.md 4: measured cloud RTTs are about 2.56x the vacuum bound (10-90 %: 2.05-3.8).
    assert 2.05 < stats["median_ratio_to_vacuum"] < 3.8
