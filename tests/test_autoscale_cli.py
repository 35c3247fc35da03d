"""``k8smodel autoscale``: formats, assumptions printed, bad input exits 2."""

import json

from k8smodel.cli import main

SMALL = ["--duration-s", "120", "--at-s", "30", "--replications", "2"]


def test_step_table_states_assumptions(capsys):
    assert main(["autoscale", "step", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "HPA facing 30 -> 90 req/s" in out and "note: assumed spec: HpaSpec(" in out
    assert "simulation" in out and "fluid" in out and "recovery_s_se" in out


def test_step_json_and_kpa(capsys):
    args = [
        "autoscale",
        "step",
        "--controller",
        "kpa",
        "--target",
        "10",
        "--pod-concurrency",
        "10",
        "--format",
        "json",
        *SMALL,
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in data["summary"]] == ["simulation", "fluid"]
    assert data["summary"][0]["controller"] == "kpa"
    assert any(n.startswith("assumed spec: KpaSpec(") for n in data["notes"])


def test_step_from_manifest_and_trace(tmp_path, capsys):
    hpa = tmp_path / "hpa.yaml"
    hpa.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: w}\n"
        "spec:\n  maxReplicas: 20\n  metrics:\n  - type: Pods\n    pods:\n"
        "      metric: {name: rps}\n      target: {type: AverageValue, averageValue: '7'}\n"
    )
    trace = tmp_path / "rates.csv"
    trace.write_text("rate_per_s\n" + "\n".join(["20"] * 30 + ["60"] * 60) + "\n")
    args = [
        "autoscale",
        "step",
        "--manifest",
        str(hpa),
        "--trace",
        str(trace),
        "--at-s",
        "30",
        "--replications",
        "2",
        "--format",
        "csv",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("# note: HPA facing 20 -> 60 req/s")
    assert "target=7.0" in out


def test_keepalive(capsys):
    args = ["autoscale", "keepalive", "--duration-s", "86400", "--replications", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "histogram" in out and "poisson_renewal" in out and "fraction_cold_se" in out


def test_bad_input_exits_2(capsys):
    assert main(["autoscale", "step", "--slo-s", "0", *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("k8smodel autoscale: slo_s must be") and err.count("\n") == 1
    assert main(["autoscale", "step", "--metric", "Memory", *SMALL]) == 2
    assert "metric type must be one of" in capsys.readouterr().err
