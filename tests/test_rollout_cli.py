"""``k8smodel rollout``: answers from the models, every assumption stated, bad input exits 2."""

import json

import pytest

from k8smodel.cli import main


def _json(argv, capsys):
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_rollout_deterministic_is_exact(capsys):
    # No warm-up and a 1 s probe period: each pod is Ready on the first probe after a 2 s start,
    # so an OrderedReady scale-up of 5 pods from 0 takes 5 x 2 s = 10 s (REFERENCE.md section 2).
    argv = ["rollout", "--replicas", "5", "--operation", "scale_up", "--warmup-s", "0"]
    argv += ["--probe-period-s", "1", "--replications", "100"]
    data = _json(argv, capsys)
    assert [row["mean_s"] for row in data["summary"]] == pytest.approx([10.0, 10.0])
    assert [row["method"] for row in data["summary"]] == ["closed_form", "simulation"]
    assert data["summary"][0]["exact"] is True


def test_scale_down_states_and_takes_the_termination(capsys):
    # issue 12 item 11: 10 pods deleted one by one; with no --termination-s each takes the full
    # 30 s grace period (300 s), and the table says so; an app that exits in 5 s takes 50 s.
    argv = ["rollout", "--replicas", "10", "--operation", "scale_down", "--replications", "200"]
    data = _json(argv, capsys)
    assert data["summary"][1]["mean_s"] == pytest.approx(300.0)
    assert any("full grace period of 30 s" in note for note in data["notes"])
    data = _json([*argv, "--termination-s", "5"], capsys)
    assert data["summary"][1]["mean_s"] == pytest.approx(50.0)
    assert any("exits 5 s after SIGTERM" in note for note in data["notes"])


def test_deployment_and_csv(capsys):
    # 8 replicas, 25 %/25 %: surge 2, unavailable 2 -> 4 new pods at a time, 2 rounds of
    # 2 s start + 0 s warm-up on a 1 s probe grid = 4 s (ResolveFenceposts, rolling.go)
    argv = ["rollout", "--kind", "Deployment", "--replicas", "8", "--warmup-s", "0"]
    argv += ["--probe-period-s", "1", "--replications", "50", "--format", "csv"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "# note: Deployment maxSurge 25% -> 2 pods, maxUnavailable 25% -> 2 pods" in out
    rows = [line for line in out.splitlines() if line.startswith(("closed_form", "simulation"))]
    assert [float(r.split(",")[2]) for r in rows] == [4.0, 4.0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rollout", "--replicas", "-1"], "replicas must be a whole number >= 0"),
        (["rollout", "--probe-period-s", "0"], "probe_period_s must be"),
        (["rollout", "--operation", "scale_up", "--from-replicas", "20"], "from_replicas"),
        (["rollout", "--max-unavailable", "0", "--max-unavailable-gate"], "max_unavailable"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}
  template:
    spec:
      terminationGracePeriodSeconds: 4
      containers: [{name: agent, readinessProbe: {periodSeconds: 1}}]
status: {desiredNumberScheduled: 6}
"""


def test_from_manifest_file(tmp_path, capsys):
    # 6 nodes, 2 at a time: 3 rounds of (4 s grace + 2 s start + 0 s warm-up on a 1 s grid)
    path = tmp_path / "ds.yaml"
    path.write_text(DAEMONSET)
    argv = ["rollout", "--from", str(path), "--warmup-s", "0", "--schedule-s", "0"]
    data = _json([*argv, "--replications", "20"], capsys)
    assert [row["mean_s"] for row in data["summary"]] == pytest.approx([18.0, 18.0])
    assert any("read from DaemonSet kube-system/agent" in n for n in data["notes"])
    assert any("full grace period of 4 s" in n for n in data["notes"])


def test_pods_dump_replaces_the_phase_options(capsys):
    from k8smodel import data_dir

    argv = ["rollout", "--kind", "DaemonSet", "--nodes", "20", "--max-unavailable", "5"]
    argv += ["--pods", str(data_dir() / "example_pods.json"), "--replications", "200"]
    data = _json(argv, capsys)
    assert any("pod timing fitted to" in n for n in data["notes"])
    assert data["summary"][0]["method"] == "renewal_approximation"


def test_bad_manifest_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(DAEMONSET.replace("periodSeconds: 1", "periodSeconds: 0"))
    assert main(["rollout", "--from", str(path)]) == 2
    assert (
        "DaemonSet kube-system/agent: spec.template.spec.containers[0]" in capsys.readouterr().err
    )
