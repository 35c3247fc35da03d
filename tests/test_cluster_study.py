"""k8smodel.studies.cluster_study: each section equals its family called on the same specs."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pandas as pd
import pytest

from k8smodel.cluster import read_dump
from k8smodel.cluster.example import example_dump
from k8smodel.studies import cluster_study as cs
from k8smodel.studies.cluster_study import Assumptions, cluster_study

SEED = 7
REPS = 8


@pytest.fixture(scope="module")
def inv():
    return read_dump(example_dump())


@pytest.fixture(scope="module")
def study(inv):
    return cluster_study(inv, replications=REPS, seed=SEED)


def _ok(study, topic, workload):
    section = study.section(topic, workload)
    assert section.status == "ok", section.message
    return section.result


def _same(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


# -- service -----------------------------------------------------------------------------------


def test_service_rate_is_utilization_on_ready_pods(study):
    params = _ok(study, "service traffic (web)", "shop/web").params
    assert params["request_rate_per_s_today"] == pytest.approx(0.4 * 6 / 0.02)  # 6 ready pods


def test_service_traffic_equals_family(study, inv):
    from k8smodel import service

    result = _ok(study, "service traffic (api)", "shop/api")
    spec = service.from_manifest(cs.service_objects(inv, "shop", "api"), service="api")
    a = Assumptions()
    for factor, part in zip((1.0, 2.0), result.parts, strict=True):
        direct = service.theory(
            spec.service, spec.layout, **cs.service_load_kwargs(a, 0.4 * 4 / 0.02 * factor)
        )
        _same(part.summary, direct.summary)
        _same(part.per_pod, direct.per_pod)
    _same(
        result.summary.drop(columns="load_factor"),
        pd.concat([p.summary for p in result.parts], ignore_index=True),
    )


def test_latency_equals_service_latency(study):
    from k8smodel.studies.service_latency import service_latency

    traffic = _ok(study, "service traffic (web)", "shop/web")
    latency = _ok(study, "latency (web)", "shop/web")
    for k, part in enumerate(traffic.parts):
        _same(latency.summary.iloc[[k]].drop(columns="load_factor"), service_latency(part).summary)


def test_latency_at_today_matches_mm1_closed_form(study):
    # Each web pod gets 1/6 of 120/s = 20/s at mean 20 ms: M/M/1, p99 = ln(100) / (mu - lambda).
    latency = _ok(study, "latency (web)", "shop/web").summary
    assert latency.p99_response_s.iloc[0] == pytest.approx(np.log(100) / (50 - 20), rel=1e-9)


def test_headless_service_is_not_applicable(study):
    assert study.section("service traffic", "data/postgres").status == "not applicable"


# -- netpol ------------------------------------------------------------------------------------


def test_netpol_equals_family(study, inv):
    from k8smodel import netpol

    analysis = netpol.analyze(netpol.from_manifest(cs.netpol_objects(inv)))
    _same(_ok(study, "reachability", "cluster").summary, analysis.summary)
    blast = netpol.blast_radius(analysis)
    row = blast.summary[blast.summary.source == "shop/web[Deployment]"]
    exposure = _ok(study, "exposure", "shop/web").summary
    _same(exposure[row.columns], row)


def test_default_deny_isolates_shop_not_logging(study):
    # shop and data carry a default-deny ingress policy in the dump; logging has none.
    assert bool(_ok(study, "exposure", "shop/web").summary.ingress_isolated.iloc[0])
    assert bool(_ok(study, "exposure", "data/postgres").summary.ingress_isolated.iloc[0])
    assert not bool(_ok(study, "exposure", "logging/fluent-bit").summary.ingress_isolated.iloc[0])


# -- storage -----------------------------------------------------------------------------------


def test_storage_binding_equals_family(study, inv):
    from k8smodel import storage

    m, claims = cs_sections().storage_claims(storage, inv)
    direct = storage.bind(claims, m.volumes, storage_classes=m.storage_classes, rng=SEED)
    result = _ok(study, "storage: pending claims", "cluster")
    _same(result.summary, direct.summary)
    # The dump: three claims pre-bound to their PVs, one WaitForFirstConsumer claim without a pod.
    assert (int(result.summary.bound.iloc[0]), result.pending.claim.tolist()) == (
        3,
        ["restore-scratch"],
    )


def test_attach_packing_equals_family(study):
    from k8smodel import storage

    result = _ok(study, "storage: nodes under attach limits", "cluster")
    direct = storage.pack(
        np.array([1000, 1000, 1000]), 3920, method="optimal", max_items_per_bin=26
    )
    _same(result.summary, direct.summary)
    assert int(result.summary.n_bins.iloc[0]) == 1  # ceil(3 x 1000m / 3920m) = 1, 3 <= 26 volumes


# -- autoscale ---------------------------------------------------------------------------------


def test_autoscale_equals_family(study, inv):
    autoscale = pytest.importorskip("k8smodel.autoscale")
    hpa = [o for o in inv.objects_of("HorizontalPodAutoscaler") if o["metadata"]["name"] == "web"]
    spec = autoscale.from_manifest(hpa, name="web")
    rate = 0.4 * 6 / 0.02
    direct = autoscale.simulate(
        spec,
        autoscale.Trace.step(rate, 3 * rate, at_s=60.0, duration_s=960.0),
        capacity_per_s=50.0,
        pod_concurrency=1,
        startup_s=30.0,
        slo_s=0.25,
        initial_replicas=6,
        replications=REPS,
        rng=SEED,
    )
    result = _ok(study, "autoscaling (web, 3x step)", "shop/web")
    _same(result.summary, direct.summary)


# -- a family missing or failing never stops the study ------------------------------------------


def cs_sections():
    return importlib.import_module("k8smodel.studies.cluster_sections")


def test_missing_family_is_reported(monkeypatch, inv):
    real = importlib.import_module

    def fake(name, *args):
        if name == "k8smodel.storage":
            raise ImportError("No module named 'k8smodel.storage'")
        return real(name, *args)

    monkeypatch.setattr(cs.importlib, "import_module", fake)
    monkeypatch.setattr(cs_sections(), "SECTION_BUILDERS", [])
    st = cluster_study(inv, max_workloads=1, replications=REPS)
    section = st.section("storage: pending claims", "cluster")
    assert section.status == "family missing" and "k8smodel.storage" in section.message
    assert any("storage: pending claims / cluster: family missing" in n for n in st.notes)


def test_failing_section_is_reported(monkeypatch, inv):
    def broken(inv, wl, a):
        def build(module):
            raise RuntimeError("boom")

        return [cs.run_section("broken", f"{wl.namespace}/{wl.name}", "service", build)]

    monkeypatch.setattr(cs_sections(), "SECTION_BUILDERS", [broken])
    st = cluster_study(inv, max_workloads=2, replications=REPS)
    broken_rows = st.summary[st.summary.topic == "broken"]
    assert len(broken_rows) == 2 and set(broken_rows.status) == {"failed"}
    assert set(broken_rows.message) == {"RuntimeError: boom"}
    assert (st.summary.status == "ok").sum() > 0


def test_bad_assumption_is_refused(inv):
    with pytest.raises(ValueError, match="utilization_today must be"):
        cluster_study(inv, utilization_today=-1.0)


# -- command line --------------------------------------------------------------------------------


def _cli(*args):
    from k8smodel.cli import main

    return main(list(args))


def test_cli_html_and_json(tmp_path, capsys):
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(example_dump()))
    assert (
        _cli(
            "study",
            str(dump),
            "--out",
            str(tmp_path / "r"),
            "--replications",
            "4",
            "--max-workloads",
            "2",
        )
        == 0
    )
    page = (tmp_path / "r" / "report.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page
    assert "Assumed values" in page and "utilization_today" in page and "layered_dispatch" in page
    assert (
        _cli(
            "study",
            str(dump),
            "--out",
            str(tmp_path / "j"),
            "--format",
            "json",
            "--replications",
            "4",
            "--max-workloads",
            "2",
        )
        == 0
    )
    data = json.loads((tmp_path / "j" / "study.json").read_text())
    assert {s["status"] for s in data["sections"]} <= {
        "ok",
        "not applicable",
        "family missing",
        "failed",
    }
    assert data["inventory"]["skipped"]


def test_cli_bad_dump_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "List", "items": [')
    assert _cli("study", str(bad), "--out", str(tmp_path / "r")) == 2
    assert "invalid JSON" in capsys.readouterr().err


# -- federation ----------------------------------------------------------------------------------


def test_federation_equals_family(study):
    from k8smodel import federation

    result = _ok(study, "multi-region", "cluster")
    capacity = 27 * 140.16  # 27 workers in the dump at the assumed m5.xlarge month
    regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]  # the nodes' region label comes first
    for k, part in enumerate(result.parts, start=1):
        _same(part.summary, federation.evaluate(regions[:k], capacity_usd=capacity).summary)
    assert result.summary["k"].tolist() == [1, 2, 3]


# -- rollout and lb ------------------------------------------------------------------------------


def test_rollout_equals_family(study, inv):
    from k8smodel import rollout

    sts = [o for o in inv.objects_of("StatefulSet") if o["metadata"]["name"] == "postgres"][0]
    w = rollout.from_manifest(sts, warmup_mean_s=27.0)  # pod_start_s 30 = 1 + 2 + 27
    direct = rollout.simulate(
        w.spec, "rolling_update", w.timing, deadline_s=3600.0, quorum=2, replications=REPS, rng=SEED
    )
    result = _ok(study, "rollout", "data/postgres")
    _same(result.summary, direct.summary)
    np.testing.assert_array_equal(result.samples, direct.samples)


def test_daemonset_rollout_counts_the_dump_nodes(study):
    result = _ok(study, "rollout", "logging/fluent-bit")
    # 27 untainted workers; the 3 control-plane nodes' NoSchedule taint is not tolerated.
    assert int(result.summary["replicas"].iloc[0]) == 27


def test_lb_equals_family(study):
    from scipy import stats

    from k8smodel import lb

    result = _ok(study, "balancing (api)", "shop/api")
    assert result.params["load_balance"] == "round_robin"  # the Ingress annotation wins
    for factor, part in zip((1.0, 2.0), result.parts, strict=True):
        direct = lb.simulate(
            "round_robin",
            pods=4,
            utilization=0.4 * factor,
            dispatchers=3,
            service=stats.expon(scale=0.02),
            replications=min(REPS, 16),
            requests=50_000,
            rng=SEED,
        )
        _same(part.summary[direct.summary.columns], direct.summary)


# -- a sparse or odd dump still gives a report --------------------------------------------


def test_sparse_dump_gives_statuses_not_crashes(tmp_path):
    node = {
        "kind": "Node",
        "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "a"}},
        "status": {"allocatable": {"cpu": "2"}},
    }
    svc = {
        "kind": "Service",
        "metadata": {"name": "lonely", "namespace": "x"},
        "spec": {"selector": {"app": "lonely"}},
    }
    dep = {
        "kind": "Deployment",
        "metadata": {"name": "lonely", "namespace": "x"},
        "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "lonely"}}}},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "lonely", "namespace": "x"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "lonely"}, "maxReplicas": 4},
    }
    st = cluster_study(
        read_dump({"kind": "List", "items": [node, svc, dep, hpa]}), replications=REPS
    )
    assert set(st.summary.status) <= {"ok", "not applicable", "failed", "family missing"}
    # No pods and no claims: the storage sections say so instead of inventing numbers.
    assert st.section("storage: pending claims", "cluster").status == "not applicable"
    assert st.section("autoscaling (lonely, 3x step)", "x/lonely").status == "not applicable"
    # A Deployment without containers: the rollout family's own error, naming object and field.
    rollout = st.section("rollout", "x/lonely")
    assert rollout.status == "failed"
    assert "Deployment x/lonely: spec.template.spec.containers" in rollout.message
    page = cs_report().write_html(st, tmp_path)
    assert page.read_text().count("<h2>") >= 5


def cs_report():
    return importlib.import_module("k8smodel.studies.cluster_report")
