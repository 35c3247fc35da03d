"""Round-trip time from distance: the fibre bound and a model fitted to measured cloud RTTs.

Light in fibre covers about 204 km per ms (vacuum 299.79 km/ms over a group
index near 1.47), so a round trip over great-circle distance ``d`` can never take
less than ``2 d / 204`` ms, 9.8 ms per 1000 km. Real paths are longer than the
great circle and pass routers, so measured RTTs sit above that bound. The model
here is the simplest one that respects it:

``rtt_ms(d) = intercept_ms + stretch * 2 d / 204``, with ``intercept_ms >= 0``, ``stretch >= 1``,

fitted by bounded least squares on the relative error to the public Azure P50
inter-region matrix in ``../shared/data/`` (used from there, never copied). The
fitted coefficients and the fit's error are in ``data/federation_rtt_model.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from k8smodel._validate import check_array, check_choice, check_real
from k8smodel.federation.geo import DATA_DIR, distance_km, haversine_km

__all__ = [
    "VACUUM_KM_PER_MS",
    "FIBRE_KM_PER_MS",
    "fibre_rtt_ms",
    "RttModel",
    "default_rtt_model",
    "rtt_ms",
    "load_azure_p50",
    "fit_rtt_model",
]

#: Speed of light in vacuum, km per ms.
VACUUM_KM_PER_MS = 299.792458
#: Speed of light in optical fibre, km per ms (group index about 1.47; REFERENCE.md §4).
FIBRE_KM_PER_MS = 204.0

_AZURE_MATRIX = "azure_p50_rtt_2026-07-02.csv"
_AZURE_COORDS = "azure_region_coords.csv"


def fibre_rtt_ms(km: Any) -> Any:
    """The physical lower bound on round-trip time over great-circle distance ``km``.

    Parameters
    ----------
    km : float or array_like
        Great-circle distance, km (>= 0).

    Returns
    -------
    float or numpy.ndarray
        ``2 * km / FIBRE_KM_PER_MS`` ms: 9.80 ms per 1000 km.

    Notes
    -----
    No path can beat light in fibre along the great circle; the vacuum bound
    (6.67 ms per 1000 km) is lower still. See Singla, Chandrasekaran, Godfrey,
    Maggs, "The Internet at the Speed of Light", HotNets 2014,
    doi:10.1145/2670518.2673876.
    """
    arr = check_array(km, "km", minimum=0)
    out = 2.0 * arr / FIBRE_KM_PER_MS
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class RttModel:
    """Distance-to-RTT model ``intercept_ms + stretch * fibre_rtt_ms(d)``.

    Parameters
    ----------
    intercept_ms : float
        Fixed cost of a round trip (routers, serialization, the last metres), >= 0.
    stretch : float
        How many times slower than light in fibre along the great circle, >= 1.

    Notes
    -----
    With ``intercept_ms >= 0`` and ``stretch >= 1`` the model is never below the
    fibre bound; the constraints are checked here so a hand-built model cannot
    break that either.
    """

    intercept_ms: float
    stretch: float

    def __post_init__(self) -> None:
        check_real(self.intercept_ms, "intercept_ms", minimum=0.0)
        # stretch >= 1: never faster than light in fibre.
        check_real(self.stretch, "stretch", minimum=1.0)

    def __call__(self, km: Any) -> Any:
        """RTT in ms for great-circle distance ``km``."""
        bound = fibre_rtt_ms(km)
        return self.intercept_ms + self.stretch * bound


@lru_cache(maxsize=1)
def default_rtt_model() -> RttModel:
    """The model fitted to the Azure P50 matrix, as stored in ``data/federation_rtt_model.csv``.

    Returns
    -------
    RttModel
        The stored coefficients (see :func:`fit_rtt_model` for how they were made).
    """
    table = pd.read_csv(DATA_DIR / "federation_rtt_model.csv").set_index("quantity")["value"]
    return RttModel(intercept_ms=float(table["intercept_ms"]), stretch=float(table["stretch"]))


def rtt_ms(
    a: Any, b: Any, *, model: RttModel | None = None, measured: pd.DataFrame | None = None
) -> Any:
    """Round-trip time between locations, from the distance model or a measured matrix.

    Parameters
    ----------
    a, b : location or sequence of locations
        Region names or ``(lat, lon)`` points (see :func:`k8smodel.federation.geo.locate`).
    model : RttModel, optional
        Defaults to :func:`default_rtt_model`.
    measured : pandas.DataFrame, optional
        A measured RTT matrix (ms) indexed by names on both axes; when given,
        ``a`` and ``b`` must be names found in it, and the measurements are
        returned instead of the model.

    Returns
    -------
    float or numpy.ndarray
        RTT in ms; a matrix ``(len(a), len(b))`` when either side is a sequence.
    """
    if measured is not None:
        rows = [a] if isinstance(a, str) else list(a)
        cols = [b] if isinstance(b, str) else list(b)
        missing = [n for n in rows if n not in measured.index] + [
            n for n in cols if n not in measured.columns
        ]
        if missing:
            raise ValueError(f"measured has no row/column for {missing!r}")
        out = measured.loc[rows, cols].to_numpy(dtype=float)
        return float(out[0, 0]) if isinstance(a, str) and isinstance(b, str) else out
    model = default_rtt_model() if model is None else model
    return model(distance_km(a, b))


def load_azure_p50(folder: str | Path) -> pd.DataFrame:
    """Read the Azure P50 matrix and coordinates from ``folder`` as a tidy table of pairs.

    Parameters
    ----------
    folder : str or Path
        The shared data folder holding ``azure_p50_rtt_2026-07-02.csv`` and
        ``azure_region_coords.csv`` (see its README).

    Returns
    -------
    pandas.DataFrame
        One row per usable ordered pair with columns ``source``, ``destination``,
        ``rtt_ms`` and ``distance_km``.

    Notes
    -----
    Cleaning follows the data README: zeros are missing values (the whole
    ``Qatar Central`` column), blanks are missing (``Jio India West`` is mostly
    blank), the diagonal is dropped, and regions without coordinates
    (``Indonesia Central``, ``Malaysia West``, ``Mexico Central``,
    ``New Zealand North``) are left out. ``Indonesia Central`` has no column at all.
    """
    folder = Path(folder)
    matrix = pd.read_csv(folder / _AZURE_MATRIX, index_col=0)
    coords = pd.read_csv(folder / _AZURE_COORDS).set_index("display_name")
    long = pd.DataFrame(matrix.stack(future_stack=True)).reset_index()
    long.columns = ["source", "destination", "rtt_ms"]
    long = long[(long.source != long.destination) & (long.rtt_ms > 0) & long.rtt_ms.notna()]
    known = long.source.isin(coords.index) & long.destination.isin(coords.index)
    long = long[known].reset_index(drop=True)
    src, dst = coords.loc[long.source], coords.loc[long.destination]
    long["distance_km"] = haversine_km(
        src.lat.to_numpy(), src.lon.to_numpy(), dst.lat.to_numpy(), dst.lon.to_numpy()
    )
    return long


_LOSSES = ("relative", "absolute")

#: Distance bands (km) over which :func:`fit_rtt_model` reports median measured and fitted RTT.
FIT_BANDS_KM = ((0, 300), (300, 1000), (1000, 3000), (3000, 8000), (8000, np.inf))


def fit_rtt_model(
    pairs: pd.DataFrame, *, loss: str = "relative"
) -> tuple[RttModel, dict[str, float]]:
    """Fit ``rtt = intercept + stretch * fibre_rtt(d)`` by bounded (weighted) least squares.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``rtt_ms`` and ``distance_km`` (e.g. from :func:`load_azure_p50`).
    loss : {"relative", "absolute"}, default "relative"
        ``"relative"`` minimizes the squared relative error
        ``sum(((rtt - model) / rtt) ** 2)``, i.e. least squares with weights
        ``1 / rtt`` on the rows; ``"absolute"`` minimizes the squared error in ms.

    Returns
    -------
    model : RttModel
        The fitted coefficients (``intercept_ms >= 0``, ``stretch >= 1``).
    stats : dict
        ``pairs``, ``rmse_ms``, ``mae_ms``, ``median_abs_pct_error``,
        ``p90_abs_pct_error``, ``max_abs_error_ms``, ``r2``,
        ``median_ratio_to_vacuum`` (measured RTT over the vacuum bound, pairs
        over 1000 km, for comparison with REFERENCE.md §4), and for each band
        of :data:`FIT_BANDS_KM` ``median_measured_ms_<lo>_<hi>km`` and
        ``median_fitted_ms_<lo>_<hi>km``.

    Notes
    -----
    Bounded linear least squares, :func:`scipy.optimize.lsq_linear` (trust-region
    reflective), on the rows scaled by ``1 / rtt`` for the relative loss. Ordered
    pairs are dominated by long routes (most are over 5000 km), so the
    absolute loss fits those and overstates short routes: on the Azure matrix it
    put a 21 ms intercept on pairs whose median RTT under 300 km is about 10 ms.
    Relative error weighs a 10 ms and a 200 ms route alike, which suits users
    who are mostly within about 1000 km of their region. Weighted least squares
    as in Seber and Lee, *Linear Regression Analysis*, 2nd ed., Wiley 2003
    (generalized least squares with a diagonal covariance).
    Pairs closer than 50 km (Canberra's two regions) are kept; their RTT is all
    intercept.
    """
    check_choice(loss, "loss", _LOSSES)
    if not {"rtt_ms", "distance_km"} <= set(pairs.columns) or len(pairs) < 3:
        raise ValueError("pairs must have columns 'rtt_ms' and 'distance_km' and >= 3 rows")
    y = pairs.rtt_ms.to_numpy(float)
    km = pairs.distance_km.to_numpy(float)
    if not (np.isfinite(y).all() and np.isfinite(km).all()) or (y <= 0).any() or (km < 0).any():
        raise ValueError("pairs must have finite rtt_ms > 0 and finite distance_km >= 0")
    x = fibre_rtt_ms(km)
    design = np.column_stack([np.ones_like(x), x])
    scale = 1 / y if loss == "relative" else np.ones_like(y)
    sol = lsq_linear(design * scale[:, None], y * scale, bounds=([0.0, 1.0], [np.inf, np.inf]))
    model = RttModel(intercept_ms=float(sol.x[0]), stretch=float(sol.x[1]))
    fitted = model(km)
    resid = y - fitted
    far = km > 1000
    vacuum = 2 * km[far] / VACUUM_KM_PER_MS
    stats = {
        "pairs": float(len(y)),
        "rmse_ms": float(np.sqrt(np.mean(resid**2))),
        "mae_ms": float(np.mean(np.abs(resid))),
        "median_abs_pct_error": float(np.median(np.abs(resid) / y) * 100),
        "p90_abs_pct_error": float(np.quantile(np.abs(resid) / y, 0.9) * 100),
        "max_abs_error_ms": float(np.max(np.abs(resid))),
        "r2": float(1 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2)),
        "median_ratio_to_vacuum": float(np.median(y[far] / vacuum)),
    }
    for lo, hi in FIT_BANDS_KM:
        band = (km >= lo) & (km < hi)
        label = f"{lo}_{'inf' if np.isinf(hi) else int(hi)}km"
        stats[f"median_measured_ms_{label}"] = float(np.median(y[band])) if band.any() else np.nan
        stats[f"median_fitted_ms_{label}"] = (
            float(np.median(fitted[band])) if band.any() else np.nan
        )
    return model, stats
