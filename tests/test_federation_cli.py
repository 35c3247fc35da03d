"""``k8smodel federation``: assumptions printed, --provider honoured, users selectable, formats."""

import json

import pytest

from k8smodel import federation as fed
from k8smodel.cli import main


def run(argv, capsys):
    status = main(["federation", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_table_states_its_assumptions(capsys):
    status, out, _ = run(["us-east-1", "eu-west-1"], capsys)
    assert status == 0
    assert "note: users: 113 urban agglomerations" in out
    assert "beta_binomial(rho=0.05)" in out and "DNS failover: 3 probes x 30 s" in out


def test_json_matches_evaluate_and_is_correlated(capsys):
    status, out, _ = run(["us-east-1", "eu-west-1", "--format", "json"], capsys)
    payload = json.loads(out)
    row = payload["summary"][0]
    ref = fed.evaluate(["us-east-1", "eu-west-1"]).summary.iloc[0]
    assert status == 0 and row["method"] == "beta_binomial"
    assert row["unavailability"] == pytest.approx(ref.unavailability, rel=1e-12)
    assert row["p95_rtt_ms"] == pytest.approx(ref.p95_rtt_ms, rel=1e-12)
    assert any("users:" in n for n in payload["notes"])


def test_provider_is_honoured_with_named_regions(capsys):
    status, _, err = run(["us-east-1", "--provider", "gcp"], capsys)
    assert status == 2 and "not gcp regions" in err
    status, _, _ = run(["us-east1", "--provider", "gcp"], capsys)
    assert status == 0


def test_population_is_selectable_and_place_uses_it(capsys):
    argv = ["--place", "3", "--provider", "gcp", "--objective", "p95", "--format", "csv"]
    argv += [
        "--continent",
        "Europe",
        "--country",
        "United States of America",
        "--country",
        "Turkey",
    ]
    status, out, _ = run(argv, capsys)
    assert status == 0
    assert "# note: users: 20 urban agglomerations" in out
    users = fed.users(continent="Europe", country=["United States of America", "Turkey"])
    best = fed.place(k=3, candidates=fed.regions("gcp"), users=users, objective="p95")
    assert best.summary.clusters.iloc[0] in out


def test_bad_population_exits_2(capsys):
    status, _, err = run(["us-east-1", "--continent", "Atlantis"], capsys)
    assert status == 2 and "continent must be among" in err
