"""Live tests: real nginx and HAProxy on 127.0.0.1 (skipped where they are not installed).

Every run is bounded (a few hundred requests, each with a timeout) and every process is
stopped by its id when the test ends. Together they take about 30 seconds.
"""

import numpy as np
import pytest

from k8smodel import lab
from k8smodel.lab import _procs


def _installed(kind: str) -> bool:
    try:
        lab.find_binary(kind)
    except lab.BalancerUnavailable:
        return False
    return True


needs_nginx = pytest.mark.skipif(not _installed("nginx"), reason="nginx is not installed")
needs_haproxy = pytest.mark.skipif(not _installed("haproxy"), reason="HAProxy is not installed")
pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def pods():
    # Three exponential single-server pods, mean 20 ms.
    with lab.start_backends(3, mean_service_s=0.02, rng=11) as backends:
        yield backends
    assert backends.proc.poll() is not None


@needs_nginx
@pytest.mark.parametrize("policy", sorted(lab.NGINX_POLICIES))
@pytest.mark.parametrize("workers, zone", [(1, False), (4, False), (4, True)])
def test_nginx_accepts_every_generated_config(policy, workers, zone):
    lab.check_config("nginx", policy, backend_ports=[9001, 9002], workers=workers, zone=zone)


@needs_haproxy
@pytest.mark.parametrize("policy", sorted(lab.HAPROXY_POLICIES))
def test_haproxy_accepts_every_generated_config(policy):
    lab.check_config("haproxy", policy, backend_ports=[9001, 9002])


def _shares(rows, n):
    ok = rows[rows.status == "ok"]
    return np.bincount(ok.pod, minlength=n) / len(ok)


@needs_nginx
@pytest.mark.slow
def test_nginx_smoke(pods):
    # Round robin with one worker: 300 requests on 3 pods are exactly 100 each.
    rr = lab.measure_case(
        lab.Case("nginx", "round_robin"),
        pods,
        utilization=0.5,
        requests=300,
        mean_service_s=0.02,
        rng=1,
    )
    assert rr["ok"] == 300
    np.testing.assert_array_equal(rr["shares"] * 300, [100, 100, 100])
    # least_conn against random at 85 % load: theory puts random at 1/(1 - 0.85) = 6.7 mean
    # service times (M/M/1 per pod) and join-the-shortest-queue near 2.5, far apart.
    results = {}
    for policy in ("least_conn", "random"):
        results[policy] = lab.measure_case(
            lab.Case("nginx", policy),
            pods,
            utilization=0.85,
            requests=600,
            mean_service_s=0.02,
            rng=2,
        )
        assert results[policy]["ok"] == 600
        assert results[policy]["shares"].sum() == pytest.approx(1.0)
    assert results["least_conn"]["mean_ms"] < results["random"]["mean_ms"]
    assert _procs.live_pids() == [pods.proc.pid]


@needs_haproxy
@pytest.mark.slow
def test_haproxy_round_robin_exact_and_random1_follows_the_ring():
    with lab.start_backends(4, service=0.002, rng=5) as be:
        with lab.start_balancer("haproxy", "roundrobin", be.ports) as hp:
            rows = lab.run_client(hp.port, rate_per_s=200, requests=400, rng=6)
        np.testing.assert_array_equal(_shares(rows, 4) * 400, [100] * 4)
        with lab.start_balancer("haproxy", "random(1)", be.ports) as hp:
            rows = lab.run_client(hp.port, rate_per_s=500, requests=3000, rng=7)
    measured = _shares(rows, 4)
    ring = lab.haproxy_ring_shares(4)
    # The ring's shares (0.29, 0.19, 0.24, 0.28) explain the skew far better than 1/4 each:
    # the standard error of a share here is about 0.008.
    assert np.abs(measured - ring).max() < 0.035
    assert ((measured - ring) ** 2).sum() < ((measured - 0.25) ** 2).sum() / 4


@needs_nginx
def test_balancer_stopped_on_error(pods):
    with pytest.raises(RuntimeError, match="boom"):
        with lab.start_balancer("nginx", "random", pods.ports) as nginx:
            pid = nginx.proc.pid
            raise RuntimeError("boom")
    assert nginx.proc.poll() is not None
    assert pid not in _procs.live_pids()
