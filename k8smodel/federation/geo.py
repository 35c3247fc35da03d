"""Geography: the region catalog, the default user population, great-circle distance.

The catalog (``data/federation_regions.csv``) lists AWS, GCP and Azure regions
with an approximate location: the city a region is named after for most, but
the centroid of a state or an area for some, as in the source (us-east-1 sits
at Virginia's centroid, 258 km from the Ashburn data centres; us-west-2 at
Oregon's, 219 km from Boardman; sa-east-1 121 km from Sao Paulo). Read off
tal66/cloud-regions (``web/data/awsData.js``, ``gcpData.js``, ``azureData.js``);
the user population (``data/federation_users.csv``) lists the urban
agglomerations with at least 4 million inhabitants in 2020 from the UN World
Urbanization Prospects 2018, file F22, and each country's continent and sub-region
come from the UN M49 standard (``data/federation_countries.csv``). All are cited in
``data/SOURCES.md``.

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
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._data import data_dir
from k8smodel._validate import check_array, check_int, check_vector, describe

__all__ = [
    "EARTH_RADIUS_KM",
    "DATA_DIR",
    "regions",
    "users",
    "user_weights",
    "catalog_row",
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
    people = _read_csv("federation_users.csv")
    countries = _read_csv("federation_countries.csv")[["country", "continent", "subregion"]]
    out = people.merge(countries, on="country", how="left", validate="many_to_one")
    if out.continent.isna().any():  # every country of the UN file is in the M49 table
        missing = sorted(out.country[out.continent.isna()].unique())
        raise RuntimeError(f"data/federation_countries.csv lacks {missing}")
    return out


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


def _as_list(value: str | Sequence[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in items):
        raise TypeError(f"{name} must be a string or a sequence of strings; got {describe(value)}")
    return items


def users(
    *,
    top: int | None = None,
    continent: str | Sequence[str] | None = None,
    subregion: str | Sequence[str] | None = None,
    country: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The default user population: the world's largest urban agglomerations.

    Parameters
    ----------
    top : int, optional
        Keep only the ``top`` most populous agglomerations (after the filters).
    continent, subregion, country : str or sequence of str, optional
        Keep the agglomerations in any of these continents (``"Europe"``,
        ``"North America"``, ``"South America"``, ``"Asia"``, ``"Africa"``,
        ``"Oceania"``), UN M49 sub-regions (``"Western Europe"``, ``"Eastern Asia"``,
        ...) or countries (as the UN spells them: ``"United States of America"``).
        A row is kept when it matches any value given, so
        ``users(continent="Europe", country="United States of America")`` is Europe
        plus the US.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``country``, ``continent``, ``subregion``, ``lat``, ``lon``
        (degrees) and ``weight`` (population in 2020, persons), sorted by decreasing
        population. Every function taking ``users`` reads ``lat``, ``lon`` and ``weight``.

    Raises
    ------
    ValueError
        A continent, sub-region or country not in the table (the allowed values are listed).

    Notes
    -----
    All 113 agglomerations with at least 4 million inhabitants in 2020 in the
    UN World Urbanization Prospects 2018 (file F22, figures for 2020); continents
    and sub-regions from the UN M49 standard, with the Americas split into North
    America (Northern and Central America, the Caribbean) and South America. Users
    of a service are not people in general: pass your own table (same columns) when
    you know where your users are.

    Examples
    --------
    >>> eu_us = users(continent="Europe", country="United States of America")
    >>> len(eu_us), sorted(eu_us.continent.unique())
    (18, ['Europe', 'North America'])
    """
    df = _users().rename(columns={"population": "weight"})
    df = df[["name", "country", "continent", "subregion", "lat", "lon", "weight"]]
    wanted = {
        column: _as_list(value, column)
        for column, value in (
            ("continent", continent),
            ("subregion", subregion),
            ("country", country),
        )
    }
    if any(wanted.values()):
        keep = np.zeros(len(df), dtype=bool)
        for column, values in wanted.items():
            known = sorted(df[column].unique())
            bad = [v for v in values if v not in known]
            if bad:
                raise ValueError(f"{column} must be among {known}; got {bad}")
            keep |= df[column].isin(values).to_numpy()
        df = df[keep]
    if top is not None:
        df = df.head(check_int(top, "top", minimum=1))
    return df.reset_index(drop=True)


def user_weights(users: Any) -> np.ndarray:
    """The ``weight`` column of a user table, checked (the table needs lat, lon, weight).

    Raises
    ------
    TypeError
        ``users`` is not a DataFrame.
    ValueError
        A column is missing, or the weights are not finite, >= 0, with a positive sum.
    """
    required = ("lat", "lon", "weight")
    if not isinstance(users, pd.DataFrame):
        raise TypeError(
            f"users must be a pandas DataFrame with columns {required}; got {type(users).__name__}"
        )
    missing = [c for c in required if c not in users.columns]
    if missing:
        raise ValueError(
            f"users must have columns {required}; missing {missing} "
            f"(k8smodel.federation.users() shows the layout)"
        )
    w = check_vector(users["weight"].to_numpy(dtype=float), "users['weight']", minimum=0.0)
    if w.sum() <= 0:
        raise ValueError("users['weight'] must be finite numbers >= 0 with a positive sum")
    return w


def catalog_row(name: str) -> pd.Series:
    """The catalog row of a region name (id or display name); unknown names suggest matches."""
    if not isinstance(name, str):
        raise TypeError(f"a region name must be a string; got {describe(name)}")
    idx = _name_index().get(name.lower())
    if idx is None:
        raise _unknown_region(name)
    return _catalog().iloc[idx]


def _unknown_region(name: str) -> ValueError:
    known = list(_name_index())
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"unknown region {name!r}: not an AWS, GCP or Azure region id in the catalog{hint}"
    )


def locate(where: Any) -> np.ndarray:
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


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    r"""Great-circle distance by the haversine formula, broadcasting over arrays.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like
        Coordinates in degrees: latitudes in ``[-90, 90]``, longitudes in ``[-180, 180]``.

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
    lat1, lat2 = (
        check_array(v, n, minimum=-90, maximum=90) for v, n in ((lat1, "lat1"), (lat2, "lat2"))
    )
    lon1, lon2 = (
        check_array(v, n, minimum=-180, maximum=180) for v, n in ((lon1, "lon1"), (lon2, "lon2"))
    )
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_km(a: Any, b: Any) -> float | np.ndarray:
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
