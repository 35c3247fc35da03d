"""Service latency study: per-pod M/M/c quantiles against closed forms and a numeric check."""

import math

import numpy as np
import pytest
from scipy import integrate

from k8smodel.service import Layout, Service, theory
from k8smodel.studies.service_latency import mmc_response_sf, service_latency

LOCAL = Service(type="LoadBalancer", external_traffic_policy="Local")
LAYOUT = Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1])


def test_mm1_quantiles_per_pod():
    # 40 req/s, 20 ms: pods get 10, 10, 20 req/s; M/M/1 response ~ Exp(mu - lambda), so the
    # q-quantile is -ln(1 - q) / (mu - lambda) with mu = 50/s.
    lat = service_latency(theory(LOCAL, LAYOUT, request_rate_per_s=40, mean_service_s=0.02))
    for lam, row in zip([10, 10, 20], lat.per_pod.itertuples(), strict=True):
        assert row.p50_response_s == pytest.approx(math.log(2) / (50 - lam))
        assert row.p99_response_s == pytest.approx(math.log(100) / (50 - lam))


def test_mixture_median_solves_the_weighted_survival():
    lat = service_latency(theory(LOCAL, LAYOUT, request_rate_per_s=40, mean_service_s=0.02))
    t = lat.summary.p50_response_s.iloc[0]
    # 0.5 = 0.5 exp(-40 t) + 0.5 exp(-30 t), written out here
    assert 0.5 * math.exp(-40 * t) + 0.5 * math.exp(-30 * t) == pytest.approx(0.5)


def test_mmc_survival_matches_numeric_convolution():
    # M/M/2 with lambda = 1.5, mu = 1: C(2, 1.5) = 0.642857 (Erlang C written out); the
    # response is S + W with W = 0 w.p. 1 - C and Exp(2 mu - lambda) otherwise.
    lam, mu, c = 1.5, 1.0, 2
    a = lam / mu
    b = a**c / math.factorial(c) * c / (c - a)
    cw = b / (sum(a**k / math.factorial(k) for k in range(c)) + b)
    theta = c * mu - lam
    for t in (0.3, 1.0, 4.0):
        queued = integrate.quad(
            lambda w, t=t: theta * math.exp(-theta * w) * math.exp(-mu * max(t - w, 0)), 0, np.inf
        )[0]
        expected = (1 - cw) * math.exp(-mu * t) + cw * queued
        assert mmc_response_sf(t, lam, 1 / mu, c) == pytest.approx(expected, rel=1e-7)


def test_overloaded_pod_is_flagged_not_hidden():
    lat = service_latency(theory(LOCAL, LAYOUT, request_rate_per_s=120, mean_service_s=0.02))
    assert lat.summary["flags"].iloc[0] == "overloaded"
    assert math.isinf(lat.summary.p99_response_s.iloc[0])


def test_wrong_answer_type():
    with pytest.raises(TypeError, match="per_pod"):
        service_latency(object())
