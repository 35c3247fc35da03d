"""Unit tests of k8smodel.lab that need neither nginx nor HAProxy."""

import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from k8smodel import lab, lb
from k8smodel.lab import _procs, balancers
from k8smodel.lab.cli import validate

# --- HAProxy's hash ring ------------------------------------------------------------------


def _jenkins_full_hash(a: int) -> int:
    # Bob Jenkins' 32-bit full-avalanche hash, written out from
    # http://burtleburtle.net/bob/hash/integer.html with explicit 32-bit wrapping, followed
    # by HAProxy's final multiplication by 3221225473 (include/haproxy/tools.h).
    m = 0xFFFFFFFF
    a &= m
    a = ((a + 0x7ED55D16) + (a << 12)) & m
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & m
    a = ((a + 0x165667B1) + (a << 5)) & m
    a = ((a + 0xD3A2646C) ^ ((a << 9) & m)) & m
    a = ((a + 0xFD7046C5) + (a << 3)) & m
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & m
    return (a * 3221225473) & m


def test_full_hash_matches_scalar_reference():
    values = [0, 1, 2, 4096, 4097, 123456789, 2**32 - 1, 8191 * 4096 + 15]
    got = lab.haproxy_full_hash(values)
    assert [int(g) for g in got] == [_jenkins_full_hash(v) for v in values]


def test_ring_shares_against_brute_force_draws():
    # Independent check: draw uniform 32-bit hashes and give each to the point at the smallest
    # circular distance (the lower point on a tie), by brute force over all points.
    n = 3
    keys = np.array([_jenkins_full_hash((i + 1) * 4096 + k) for i in range(n) for k in range(16)])
    owner = np.repeat(np.arange(n), 16)
    rng = np.random.default_rng(7)
    h = rng.integers(0, 2**32, size=20_000, dtype=np.int64)
    forward = (keys[None, :] - h[:, None]) % 2**32  # distance to a point at or above h
    backward = (h[:, None] - keys[None, :]) % 2**32  # distance to a point below h
    nearest_up = forward.argmin(axis=1)
    nearest_down = backward.argmin(axis=1)
    pick = np.where(
        backward[np.arange(h.size), nearest_down] <= forward[np.arange(h.size), nearest_up],
        owner[nearest_down],
        owner[nearest_up],
    )
    empirical = np.bincount(pick, minlength=n) / h.size
    expected = lab.haproxy_ring_shares(n)
    se = np.sqrt(expected * (1 - expected) / h.size)
    assert np.all(np.abs(empirical - expected) < 4 * se)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=12))
def test_ring_shares_are_a_distribution(weights):
    shares = lab.haproxy_ring_shares(len(weights), weights=weights)
    assert shares.shape == (len(weights),)
    assert np.all(shares >= 0)
    assert shares.sum() == pytest.approx(1.0)


def test_ring_shares_bad_input():
    with pytest.raises(ValueError, match="servers"):
        lab.haproxy_ring_shares(0)
    with pytest.raises(ValueError, match="weights"):
        lab.haproxy_ring_shares(2, weights=[1, 0])


# --- configuration templates ------------------------------------------------------------


def test_nginx_config_directives(tmp_path):
    text = lab.nginx_config(
        "random_two_least_conn", listen_port=8080, backend_ports=[9001, 9002], workdir=tmp_path
    )
    assert "random two least_conn;" in text
    assert "listen 127.0.0.1:8080;" in text
    assert "server 127.0.0.1:9001;" in text and "server 127.0.0.1:9002;" in text
    assert "worker_processes 1;" in text and "zone" not in text
    assert "daemon off;" in text


def test_nginx_config_workers_and_zone(tmp_path):
    text = lab.nginx_config(
        "least_conn", listen_port=8080, backend_ports=[9001], workdir=tmp_path, workers=4, zone=True
    )
    assert "least_conn;" in text and "zone lab_pods" in text
    assert "worker_processes 4;" in text
    assert "listen 127.0.0.1:8080 reuseport;" in text
    rr = lab.nginx_config("round_robin", listen_port=1, backend_ports=[2], workdir=tmp_path)
    assert "least_conn" not in rr and "random" not in rr  # round robin has no directive


def test_haproxy_config_directives():
    text = lab.haproxy_config("random(2)", listen_port=8080, backend_ports=[9001, 9002])
    assert "balance random(2)" in text
    assert "bind 127.0.0.1:8080" in text
    assert "server pod0 127.0.0.1:9001" in text and "server pod1 127.0.0.1:9002" in text


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"policy": "least_time"}, "policy"),
        ({"backend_ports": []}, "backend_ports"),
        ({"listen_port": 70000}, "ports"),
        ({"workers": 0}, "workers"),
    ],
)
def test_nginx_config_bad_input(tmp_path, kwargs, match):
    args = {"policy": "random", "listen_port": 1, "backend_ports": [2], "workdir": tmp_path}
    args.update(kwargs)
    policy = args.pop("policy")
    with pytest.raises(ValueError, match=match):
        lab.nginx_config(policy, **args)
    with pytest.raises(ValueError, match="policy"):
        lab.haproxy_config("first", listen_port=1, backend_ports=[2])


def test_case_validation():
    assert lab.Case("nginx", "least_conn", workers=4, zone=True).label == "nginx least_conn x4 zone"
    with pytest.raises(ValueError, match="balancer"):
        lab.Case("envoy", "random")
    with pytest.raises(ValueError, match="policy"):
        lab.Case("haproxy", "least_conn")
    with pytest.raises(ValueError, match="nginx only"):
        lab.Case("haproxy", "leastconn", workers=2)


# --- model mapping and verdicts ------------------------------------------------------------


def test_model_spec_follows_the_sources():
    # nginx random two least_conn draws distinct peers (ngx_http_upstream_get_random2_peer);
    # without zone each of the workers counts only its own connections.
    name, opts, _ = lab.model_spec("nginx", "random_two_least_conn", pods=4, workers=4)
    assert name == "power_of_two" and opts["distinct"] is True and opts["choices"] == 2
    assert opts["dispatchers"] == 4 and opts["shared_state"] is False
    name, opts, _ = lab.model_spec("nginx", "least_conn", pods=4, workers=4, zone=True)
    assert name == "least_connections" and opts["dispatchers"] == 1 and opts["shared_state"]
    # HAProxy random(d) draws with replacement (get_server_rnd keeps prev when prev == curr).
    # Both draw from the consistent-hash ring (draw_weights), with unweighted counts.
    name, opts, _ = lab.model_spec("haproxy", "random(2)", pods=4)
    assert name == "power_of_two" and opts["distinct"] is False
    assert np.allclose(opts["draw_weights"], lab.haproxy_ring_shares(4)) and "weights" not in opts
    name, opts, description = lab.model_spec("haproxy", "random(1)", pods=4)
    assert opts["choices"] == 1 and np.allclose(opts["draw_weights"], lab.haproxy_ring_shares(4))
    assert "ring" in description
    with pytest.raises(ValueError, match="pods"):
        lab.model_spec("haproxy", "random(1)", pods=0)
    with pytest.raises(ValueError, match="policy"):
        lab.model_spec("haproxy", "least_conn", pods=2)


def _row(**kw):
    base = {
        "policy": "least_conn",
        "balancer": "nginx",
        "workers": 1,
        "zone": False,
        "measured_mean_ms": 50.0,
        "measured_mean_se_ms": 1.0,
        "predicted_mean_overhead_ms": 48.0,
        "measured_jain": 0.99,
        "predicted_jain": 0.995,
        "predicted_jain_lo": 0.98,
        "predicted_jain_hi": 0.999,
        "ok": 400,
        "share_0": 0.5,
        "share_1": 0.5,
    }
    base.update(kw)
    return pd.Series(base)


def test_verdict_tolerance_and_exact_round_robin():
    ok, text = lab.verdict(_row())
    assert ok and text.startswith("agrees")
    ok, text = lab.verdict(_row(measured_mean_ms=80.0))
    assert not ok and text.startswith("slower")
    ok, text = lab.verdict(_row(policy="round_robin"))
    assert ok and "exactly equal" in text
    ok, text = lab.verdict(_row(policy="round_robin", share_0=0.6, share_1=0.4))
    assert not ok and "NOT equal" in text
    ok, text = lab.verdict(_row(measured_jain=0.95))
    assert not ok and "OUTSIDE" in text
    ok, text = lab.verdict(_row(predicted_max_pod_utilization=0.95))
    assert not ok and text.startswith("unreliable")


# --- workload pieces ----------------------------------------------------------------------


def test_poisson_arrivals_are_exponential():
    t = lab.poisson_arrivals(50.0, 5000, rng=3)
    gaps = np.diff(np.r_[0.0, t])
    assert np.all(gaps > 0)
    assert stats.kstest(gaps, stats.expon(scale=1 / 50).cdf).pvalue > 0.01
    with pytest.raises(ValueError, match="rate_per_s"):
        lab.poisson_arrivals(0.0, 10)
    with pytest.raises(ValueError, match="requests"):
        lab.poisson_arrivals(1.0, 0)


def test_service_times():
    t = lab.draw_service_times(2, 40_000, mean_service_s=0.01, speeds=[1.0, 2.0], rng=1)
    assert t.shape == (2, 40_000)
    se = 0.01 / np.sqrt(40_000)
    assert abs(t[0].mean() - 0.01) < 4 * se
    assert abs(t[1].mean() - 0.005) < 4 * se / 2
    assert np.all(lab.draw_service_times(3, 5, service=0.02) == 0.02)
    logn = stats.lognorm(s=0.5, scale=0.01)
    t = lab.draw_service_times(1, 40_000, service=logn, rng=2)
    assert abs(t.mean() - logn.mean()) < 4 * logn.std() / np.sqrt(40_000)
    for kwargs, match in [
        ({"speeds": [1.0]}, "speeds"),
        ({"speeds": [1.0, -1.0]}, "speeds"),
        ({"service": -1.0}, "service"),
        ({"service": np.ones((3, 3))}, "shape"),
        ({"mean_service_s": 0.0}, "mean_service_s"),
    ]:
        with pytest.raises(ValueError, match=match):
            lab.draw_service_times(2, 5, **kwargs)


def test_summarize_requests_counts():
    rows = pd.DataFrame(
        {
            "request": range(6),
            "scheduled_s": np.arange(6.0),
            "lag_s": np.zeros(6),
            "latency_s": [0.01, 0.02, 0.03, 0.04, 0.05, np.nan],
            "pod": [0, 1, 1, 1, 0, -1],
            "sojourn_s": [0.009, 0.019, 0.029, 0.039, 0.049, np.nan],
            "wait_s": np.zeros(6),
            "service_s": [0.01] * 5 + [np.nan],
            "status": ["ok"] * 5 + ["shed"],
        }
    )
    s = lab.summarize_requests(rows, pods=3, warmup=0.0)
    assert s["ok"] == 5 and s["shed"] == 1 and s["failed"] == 0
    np.testing.assert_allclose(s["shares"], [2 / 5, 3 / 5, 0])
    assert s["jain"] == pytest.approx(25 / (3 * 13))  # (2+3)^2 / (3 * (4+9))
    assert s["mean_ms"] == pytest.approx(30.0)
    assert s["overhead_ms"] == pytest.approx(1.0)


# --- processes ----------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split()[2] != "Z"


def test_stop_escalates_to_the_process_group():
    # A leader that ignores SIGTERM, with a child of its own: both must be gone after stop.
    script = "import subprocess, signal, sys, time\n" \
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" \
        "c = subprocess.Popen(['sleep', '30'])\n" \
        "print(c.pid, flush=True)\n" \
        "time.sleep(30)\n"  # fmt: skip
    proc = _procs.start([sys.executable, "-c", script], stdout=subprocess.PIPE)
    child = int(proc.stdout.readline())
    assert proc.pid in _procs.live_pids()
    _procs.stop(proc, timeout_s=0.5)
    assert proc.returncode == -signal.SIGKILL
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.02)
    assert not _alive(child)
    assert proc.pid not in _procs.live_pids()


def test_backend_pods_queue_fifo():
    # One pod, one server, deterministic 30 ms: four simultaneous requests wait 0, 1, 2 and 3
    # service times, as the pod itself measures them.
    with lab.start_backends(1, service=0.03, rng=0) as be:
        rows = lab.run_client(be.ports[0], rate_per_s=1e6, requests=4, rng=1)
        assert be.proc.poll() is None
    assert be.proc.poll() is not None  # stopped on leaving the block
    assert list(rows.status) == ["ok"] * 4
    assert set(rows.pod) == {0}
    np.testing.assert_allclose(np.sort(rows.wait_s), [0.0, 0.03, 0.06, 0.09], atol=0.012)
    np.testing.assert_allclose(rows.service_s, 0.03, atol=0.01)


def test_backend_concurrency_serves_in_parallel():
    with lab.start_backends(1, service=0.03, concurrency=4, rng=0) as be:
        rows = lab.run_client(be.ports[0], rate_per_s=1e6, requests=4, rng=1)
    assert list(rows.status) == ["ok"] * 4
    assert rows.wait_s.max() < 0.012


def test_missing_binary_is_reported_and_nothing_starts(monkeypatch, capsys):
    monkeypatch.setattr(balancers.shutil, "which", lambda *a, **k: None)
    before = _procs.live_pids()
    with pytest.raises(lab.BalancerUnavailable, match="apt-get install"):
        lab.start_balancer("nginx", "round_robin", [1])
    assert validate(quick=True) == 2
    assert "not installed" in capsys.readouterr().err
    assert _procs.live_pids() == before


def test_compare_with_model_scales_the_lb_prediction():
    # A measured row for nginx random with 4 pods at realized load 0.5 and a 20 ms mean
    # service time: each pod is M/M/1, whose mean time in system is 1 / (mu - lambda) =
    # 20 ms / (1 - 0.5) = 40 ms (e.g. Kleinrock, Queueing Systems I, eq. 3.26).
    measured = pd.DataFrame(
        [
            {
                "case": "nginx random",
                "balancer": "nginx",
                "policy": "random",
                "workers": 1,
                "zone": False,
                "pods": 4,
                "utilization": 0.5,
                "utilization_realized": 0.5,
                "mean_service_ms": 20.0,
                "mean_ms": 42.0,
                "mean_se_ms": 1.5,
                "p95_ms": 125.0,
                "pod_mean_ms": 40.0,
                "overhead_mean_ms": 2.0,
                "overhead_p50_ms": 1.8,
                "jain": 0.999,
                "max_share": 0.26,
                "ok": 2000,
                **{f"share_{i}": 0.25 for i in range(4)},
            }
        ]
    )
    reps = 16
    out = lab.compare_with_model(measured, requests=40_000, replications=reps, rng=3)
    assert list(out.columns[: len(lab.COMPARISON_COLUMNS)]) == list(lab.COMPARISON_COLUMNS)
    row = out.iloc[0]
    # The SE comes from 16 replication means: Student's t with 15 degrees of freedom.
    t_crit = stats.t.ppf(0.9995, reps - 1)
    assert abs(row.predicted_mean_ms - 40.0) < t_crit * row.predicted_mean_se_ms
    assert row.predicted_mean_overhead_ms == pytest.approx(row.predicted_mean_ms + 2.0)
    # M/M/1 time in system is exponential: p95 = -ln(0.05) x 40 ms = 119.8 ms. The tolerance
    # is four standard errors of a pooled p95 of 16 x 40,000 requests, from the spread of the
    # p95 of independent single runs of that model (one replication each), times 20 ms.
    p95s = [
        lb.simulate(
            "random", pods=4, utilization=0.5, requests=40_000, replications=1, rng=seed
        ).summary.p95_response_s[0]
        * 20.0
        for seed in range(8)
    ]
    se_p95 = np.std(p95s, ddof=1) / math.sqrt(reps)
    assert abs(row.predicted_p95_ms + np.log(0.05) * 40.0) < 4 * se_p95
    # lb.theory's M/M/1 closed form, scaled the same way.
    assert row.theory_model == "M/M/1 per pod"
    assert row.theory_mean_ms == pytest.approx(40.0, rel=1e-9)
    assert 0.25 <= row.predicted_jain_lo <= row.predicted_jain <= row.predicted_jain_hi <= 1.0
    assert bool(row.agrees) and row.verdict.startswith("agrees")
    # A stored record splits back into its measured part, which compares the same way.
    from k8smodel.lab.cli import measured_part, validation_record

    record = validation_record(measured, out)
    back = measured_part(record)
    assert set(back.columns) == set(measured.columns)
    again = lab.compare_with_model(back, requests=40_000, replications=reps, rng=3)
    assert again.predicted_mean_ms.iloc[0] == row.predicted_mean_ms


def test_backend_process_ends_by_itself():
    be = lab.start_backends(1, service=0.001, lifetime_s=0.5, rng=0)
    try:
        be.proc.wait(timeout=10)
        assert be.proc.returncode == 0
    finally:
        be.stop()


def test_client_records_failures_without_raising():
    port = _procs.free_port()  # nothing listens there
    rows = lab.run_client(port, rate_per_s=200.0, requests=5, timeout_s=2.0, rng=0)
    assert list(rows.status) == ["error"] * 5
    assert (rows.pod == -1).all()
    s = lab.summarize_requests(rows, pods=2)
    assert s["ok"] == 0 and s["failed"] == 5 and np.isnan(s["jain"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"utilizations": ()}, "utilizations"),
        ({"requests": 0}, "requests"),
        ({"calibration_requests": 0}, "calibration_requests"),
        ({"pods": 0}, "pods"),
        ({"mean_service_s": -0.02}, "mean_service_s"),
        ({"warmup": 1.0}, "warmup"),
    ],
)
def test_run_validation_checks_input_before_starting_anything(monkeypatch, kwargs, match):
    import k8smodel.lab.harness as harness

    def started(*_a, **_k):
        raise AssertionError("something was started before the input was checked")

    monkeypatch.setattr(harness, "start_backends", started)
    monkeypatch.setattr(harness, "find_binary", started)
    with pytest.raises(ValueError, match=match):
        harness.run_validation(**kwargs)


def test_case_zone_must_be_a_bool():
    with pytest.raises(ValueError, match="zone"):
        lab.Case("nginx", "least_conn", workers=4, zone="yes")
