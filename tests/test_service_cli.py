"""`k8smodel service`: options, --from FILE, formats and bad input."""

import json

import pytest

from k8smodel.cli import main


def test_worked_example_as_json(capsys):
    status = main(["service", "--type", "LoadBalancer", "--etp", "Local", "--zones", "1",
                   "--nodes-per-zone", "2", "--pods-per-node", "2,1", "--show", "pods",
                   "--format", "json"])  # fmt: skip
    assert status == 0
    out = json.loads(capsys.readouterr().out)
    # 1 / (2 nodes x 2 pods) and 1 / (2 nodes x 1 pod)
    assert [r["share_requests"] for r in out["summary"]] == pytest.approx([0.25, 0.25, 0.5])
    assert any("assumed" in n for n in out["notes"])


def test_simulation_csv_has_standard_errors(capsys):
    assert main(["service", "--simulate", "--connections", "2000", "--replications", "3",
                 "--format", "csv"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if not line.startswith("#"))
    assert "fraction_cross_zone_se" in header and "simulation" in text


def test_from_file_and_zone_failure(tmp_path, capsys):
    path = tmp_path / "svc.yaml"
    path.write_text(
        "kind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n---\n"
        "kind: EndpointSlice\nmetadata: {name: s-1, labels: {kubernetes.io/service-name: s}}\n"
        "endpoints:\n- {addresses: [a], nodeName: n1, zone: z1}\n"
        "- {addresses: [b], nodeName: n2, zone: z2}\n"
    )
    assert main(["service", "--from", str(path), "--fail-zone", "z1", "--show", "zones"]) == 0
    out = capsys.readouterr().out
    assert "z2" in out and "skipped: Node n1" in out


def test_bad_input_exits_2_with_one_line(capsys):
    assert main(["service", "--zones", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["k8smodel service: zones must be a whole number >= 1 and <= 26; got 0"]


_TWO_PLUS_ONE = (
    "kind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n---\n"
    "kind: EndpointSlice\nmetadata: {name: s-1, labels: {kubernetes.io/service-name: s}}\n"
    "endpoints:\n- {addresses: [a], nodeName: n1, zone: z1}\n"
    "- {addresses: [c], nodeName: n1, zone: z1}\n"
    "- {addresses: [b], nodeName: n2, zone: z2}\n"
)


def test_from_file_honours_service_options(tmp_path, capsys):
    # Regression: --etp was silently ignored with --from. Under eTP Local behind a node-level
    # LB, 2 + 1 pods on two nodes get 1/(2x2), 1/(2x2), 1/(2x1) (Kubernetes docs, "Create an
    # External Load Balancer", caveats of preserving the client source IP).
    path = tmp_path / "svc.yaml"
    path.write_text(_TWO_PLUS_ONE)
    assert main(["service", "--from", str(path), "--etp", "Local", "--show", "pods",
                 "--format", "json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert [r["share_requests"] for r in out["summary"]] == pytest.approx([0.25, 0.25, 0.5])
    assert any("override" in n for n in out["notes"])


def test_from_file_refuses_layout_options(tmp_path, capsys):
    path = tmp_path / "svc.yaml"
    path.write_text(_TWO_PLUS_ONE)
    assert main(["service", "--from", str(path), "--zones", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--zones must be absent with --from" in err[0]
