"""Geography: catalog, user population, haversine distance."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8smodel import federation as fed


def test_lax_jfk_matches_aviation_formulary():
    # Ed Williams, "Aviation Formulary" V1.47, worked example: LAX (33deg57'N, 118deg24'W)
    # to JFK (40deg38'N, 73deg47'W) is d = 0.623585 radians (2144 nm).
    lax = (33 + 57 / 60, -(118 + 24 / 60))
    jfk = (40 + 38 / 60, -(73 + 47 / 60))
    d = fed.distance_km(lax, jfk)
    assert d / fed.EARTH_RADIUS_KM == pytest.approx(0.623585, abs=2e-6)


def test_quarter_meridian_and_antipodes():
    r = fed.EARTH_RADIUS_KM
    assert fed.distance_km((0, 0), (90, 0)) == pytest.approx(math.pi / 2 * r)
    assert fed.distance_km((10, 20), (-10, -160)) == pytest.approx(math.pi * r)
    assert fed.distance_km((0, 179.5), (0, -179.5)) == pytest.approx(math.radians(1) * r)


def _law_of_cosines_km(p, q):
    # An independent formula: angle between unit vectors (fine away from 0 and pi).
    def unit(lat, lon):
        la, lo = math.radians(lat), math.radians(lon)
        return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])

    return fed.EARTH_RADIUS_KM * math.acos(np.clip(unit(*p) @ unit(*q), -1, 1))


lat = st.floats(-89.9, 89.9)
lon = st.floats(-179.9, 179.9)


@settings(max_examples=200, deadline=None)
@given(lat, lon, lat, lon)
def test_haversine_agrees_with_law_of_cosines(a, b, c, d):
    got = fed.distance_km((a, b), (c, d))
    ref = _law_of_cosines_km((a, b), (c, d))
    assert got == pytest.approx(ref, abs=0.05)  # acos loses digits near 0: 50 m slack
    assert 0 <= got <= math.pi * fed.EARTH_RADIUS_KM + 1e-9
    assert got == pytest.approx(fed.distance_km((c, d), (a, b)))


def test_region_names_and_matrix_shape():
    d = fed.distance_km(["us-east-1", "West Europe"], [(51.51, -0.13), "europe-west4", "eu-west-1"])
    assert d.shape == (2, 3)
    # Region coordinates are the cataloged city points.
    reg = fed.regions().set_index("region")
    ref = _law_of_cosines_km(tuple(reg.loc["us-east-1", ["lat", "lon"]]), (51.51, -0.13))
    assert d[0, 0] == pytest.approx(ref, rel=1e-9)


def test_catalog_contents():
    cat = fed.regions()
    assert set(cat.provider) == {"aws", "gcp", "azure"}
    assert cat.region.is_unique
    assert len(fed.regions(provider="aws")) == 29
    assert set(cat.area) <= {
        "north_america",
        "europe",
        "asia_pacific",
        "south_america",
        "middle_east",
        "africa",
    }
    assert cat.lat.between(-90, 90).all() and cat.lon.between(-180, 180).all()


def test_users_population():
    u = fed.users()
    assert len(u) == 113 and u.weight.min() >= 4_000_000
    assert u.iloc[0]["name"] == "Tokyo" and u.weight.is_monotonic_decreasing
    assert len(fed.users(top=10)) == 10


def test_unknown_region_suggests_close_matches():
    with pytest.raises(ValueError, match="did you mean .*'us-east-1'"):
        fed.distance_km("us-east-l", (0, 0))
    with pytest.raises(ValueError, match="unknown region 'atlantis'"):
        fed.locate("atlantis")


@pytest.mark.parametrize(
    "bad, exc",
    [((91, 0), ValueError), ((0, 200), ValueError), (3.5, TypeError)],
)
def test_bad_points(bad, exc):
    with pytest.raises(exc):
        fed.locate(bad)


def test_bad_provider():
    with pytest.raises(ValueError, match="provider must be among"):
        fed.regions(provider="oracle")


def test_documented_offsets_of_approximate_region_locations():
    # The docstrings and data/SOURCES.md say some catalog locations are state centroids, with
    # these distances to the data-centre towns. Spherical law of cosines, written here.
    def cosine_law_km(a, b):
        (p1, l1), (p2, l2) = np.radians(a), np.radians(b)
        c = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(l2 - l1)
        return 6371.0088 * np.arccos(np.clip(c, -1, 1))

    towns = {
        "us-east-1": ((39.0438, -77.4874), 258),  # Ashburn, VA
        "us-west-2": ((45.8399, -119.7006), 219),  # Boardman, OR
        "sa-east-1": ((-23.5505, -46.6333), 121),  # Sao Paulo
    }
    cat = fed.regions().set_index("region")
    for region, (town, km) in towns.items():
        here = cat.loc[region, ["lat", "lon"]].to_numpy(float)
        assert cosine_law_km(here, town) == pytest.approx(km, abs=1)
