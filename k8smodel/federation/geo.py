"""Geography: the region catalog, the default user population, great-circle distance.

The catalog (``data/federation_regions.csv``) lists AWS, GCP and Azure regions
with an approximate location: the city a region is named after for most, but
the centroid of a state or an area for some, as in the source (us-east-1 sits
at Virginia's centroid, 258 km from the Ashburn data centres; us-west-2 at
Oregon's, 219 km from Boardman; sa-east-1 121 km from Sao Paulo). Read off
tal66/cloud-regions (``web/data/awsData.js``, ``gcpData.js``, ``azureData.js``);
the user population (``data/federation_users.csv``) lists the urban
agglomerations with at least 4 million inhabitants in 2020 from the UN World
Urbanization Prospects 2018, file F22. Both are cited in ``data/SOURCES.md``.

Everywhere a location is expected, this module accepts a region name (the id of
any catalog region, e.g. ``"us-east-1"``, ``"europe-west4"``, ``"westeurope"``,
or an Azure display name such as ``"West Europe"``) or a ``(lat, lon)`` pair
in degrees.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from k8smodel._data import data_dir

__all__ = [
    "EARTH_RADIUS_KM",
    "DATA_DIR",
    "regions",
    "users",
    "locate",
    "distance_km",
    "haversine_km",
]

#: Mean Earth radius (IUGG), km, as used for the haversine distance.
EARTH_RADIUS_KM = 6371.0088

#: The project's ``data/`` folder (facts and fitted figures the project writes itself).
DATA_DIR = data_dir()

_PROVIDERS = ("aws", "gcp", "azure")


def _read_csv(name: str) -> pd.DataFrame:
    path = DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: k8smodel.federation reads its catalog from the project's data/ "
            "folder (run from a source checkout)"
        )
    return pd.read_csv(path)


@lru_cache(maxsize=1)
def _catalog() -> pd.DataFrame:
    return _read_csv("federation_regions.csv")


@lru_cache(maxsize=1)
def _users() -> pd.DataFrame:
    return _read_csv("federation_users.csv")


@lru_cache(maxsize=1)
def _name_index() -> dict[str, int]:
    cat = _catalog()
    index: dict[str, int] = {}
    for i, (region, display) in enumerate(zip(cat.region, cat.display_name, strict=True)):
        index[region.lower()] = i
        index.setdefault(display.lower(), i)
    return index


def regions(provider: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The region catalog, optionally for some providers only.

    Parameters
    ----------
    provider : {"aws", "gcp", "azure"}, sequence of them, or None
        Which providers' regions; ``None`` gives all three.

    Returns
    -------
    pandas.DataFrame
        One row per region with columns ``provider``, ``region`` (the provider's
        id), ``display_name``, ``city``, ``area`` (``north_america``, ``europe``,
        ``asia_pacific``, ``south_america``, ``middle_east``, ``africa``), ``lat``
        and ``lon`` (degrees, an approximate location, not the data centres').

    Notes
    -----
    Coordinates are approximate locations from tal66/cloud-regions (see
    ``data/SOURCES.md``): the city a region is named after for most, the centroid
    of a state or area for some, as in the source (us-east-1 lies 258 km from
    Ashburn, us-west-2 219 km from Boardman). At the fitted stretch that is a few
    ms of RTT for users near such a region. Azure's EUAP/staging regions,
    ``brazilus`` and Azure China are left out.
    """
    cat = _catalog()
    if provider is None:
        return cat.copy()
    wanted = [provider] if isinstance(provider, str) else list(provider)
    bad = [p for p in wanted if p not in _PROVIDERS]
    if bad or not wanted:
        raise ValueError(f"provider must be among {_PROVIDERS} (or None); got {provider!r}")
    return cat[cat.provider.isin(wanted)].reset_index(drop=True)


def users(*, top: int | None = None) -> pd.DataFrame:
    """The default user population: the world's largest urban agglomerations.

    Parameters
    ----------
    top : int, optional
        Keep only the ``top`` most populous agglomerations.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``country``, ``lat``, ``lon`` (degrees) and ``weight``
        (population in 2020, persons), sorted by decreasing population. Every
        function taking ``users`` reads ``lat``, ``lon`` and ``weight``.

    Notes
    -----
    All 113 agglomerations with at least 4 million inhabitants in 2020 in the
    UN World Urbanization Prospects 2018 (file F22, figures for 2020). Users of a
    service are not people in general: pass your own table (same columns) when
    you know where your users are.
    """
    df = _users().rename(columns={"population": "weight"})
    if top is not None:
        from k8smodel.federation._checks import whole

        df = df.head(whole(top, "top", 1))
    return df.reset_index(drop=True)


def _unknown_region(name: str) -> ValueError:
    known = list(_name_index())
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"unknown region {name!r}: not an AWS, GCP or Azure region id in the catalog{hint}"
    )


def locate(where) -> np.ndarray:
    """Coordinates of region names or points.

    Parameters
    ----------
    where : str, (lat, lon), or a sequence / DataFrame of them
        A region name, a ``(lat, lon)`` pair in degrees, a list mixing both, an
        ``(n, 2)`` array of points, or a DataFrame with ``lat`` and ``lon``
        columns.

    Returns
    -------
    numpy.ndarray
        ``(2,)`` for one location, else ``(n, 2)``: latitude and longitude, degrees.

    Raises
    ------
    ValueError
        For an unknown region name (with close matches suggested) or coordinates
        outside ``[-90, 90] x [-180, 180]``.
    """
    if isinstance(where, pd.DataFrame):
        if not {"lat", "lon"} <= set(where.columns):
            raise ValueError("a DataFrame of locations needs 'lat' and 'lon' columns")
        return _check_coords(where[["lat", "lon"]].to_numpy(dtype=float))
    if isinstance(where, str):
        idx = _name_index().get(where.lower())
        if idx is None:
            raise _unknown_region(where)
        row = _catalog().iloc[idx]
        return np.array([row.lat, row.lon], dtype=float)
    if isinstance(where, np.ndarray) and where.dtype.kind in "fiu":
        return _check_coords(where.astype(float))
    if isinstance(where, Iterable):
        items = list(where)
        if len(items) == 2 and all(isinstance(v, numbers.Real) for v in items):
            return _check_coords(np.asarray(items, dtype=float))
        if not items:
            return np.empty((0, 2))
        return np.stack([np.asarray(locate(item), dtype=float).reshape(2) for item in items])
    raise TypeError(
        f"a location must be a region name, a (lat, lon) pair or a sequence of them; "
        f"got {type(where).__name__}"
    )


def _check_coords(arr: np.ndarray) -> np.ndarray:
    if arr.shape[-1] != 2:
        raise ValueError(f"points must be (lat, lon) pairs; got an array of shape {arr.shape}")
    lat, lon = arr[..., 0], arr[..., 1]
    if np.isnan(arr).any() or (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise ValueError("coordinates must be latitude in [-90, 90] and longitude in [-180, 180]")
    return arr


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    r"""Great-circle distance by the haversine formula, broadcasting over arrays.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like
        Coordinates in degrees.

    Returns
    -------
    numpy.ndarray
        Distance in km on a sphere of radius :data:`EARTH_RADIUS_KM`.

    Notes
    -----
    :math:`d = 2R \arcsin\sqrt{\sin^2(\Delta\varphi/2) + \cos\varphi_1\cos\varphi_2
    \sin^2(\Delta\lambda/2)}` (R. W. Sinnott, "Virtues of the Haversine", Sky and
    Telescope 68(2), 1984). On the sphere the error against the WGS-84 ellipsoid
    is below about 0.5 %.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_km(a, b) -> float | np.ndarray:
    """Great-circle distance between locations (region names or ``(lat, lon)`` points).

    Parameters
    ----------
    a, b : location or sequence of locations
        See :func:`locate`. Two single locations give a float; sequences give
        the matrix of all pairs, shape ``(len(a), len(b))``.

    Returns
    -------
    float or numpy.ndarray
        Distance in km (haversine, R = 6371.0088 km).

    Examples
    --------
    >>> round(distance_km("us-east-1", (51.51, -0.13)))
    6172
    """
    pa, pb = locate(a), locate(b)
    if pa.ndim == 1 and pb.ndim == 1:
        return float(haversine_km(pa[0], pa[1], pb[0], pb[1]))
    pa, pb = np.atleast_2d(pa), np.atleast_2d(pb)
    return haversine_km(pa[:, 0, None], pa[:, 1, None], pb[None, :, 0], pb[None, :, 1])
