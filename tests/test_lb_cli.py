"""`k8smodel lb`: assumptions stated, standard errors shown, every output format."""

import json

import pytest

from k8smodel.cli import main

ARGS = ["lb", "random", "round_robin", "--pods", "2", "--utilization", "0.5", "--requests",
        "4000", "--replications", "3"]  # fmt: skip


def test_json_has_standard_errors_assumptions_and_the_closed_forms(capsys):
    assert main([*ARGS, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["policy"]: r for r in out["summary"]}
    # M/M/1 per pod at rho = 0.5: E[T] = 1 / (1 - 0.5) = 2 s with the default 1 s service
    assert rows["random"]["theory_mean_response_s"] == pytest.approx(2.0, rel=1e-12)
    # E_2/M/1: sigma = (3 - sqrt 5) / 2 (REFERENCE.md), E[T] = 1 / (1 - sigma)
    sigma = (3 - 5**0.5) / 2
    assert rows["round_robin"]["theory_mean_response_s"] == pytest.approx(1 / (1 - sigma))
    assert all(r["mean_response_s_se"] > 0 for r in rows.values())
    notes = " ".join(out["notes"])
    assert "exponential service times, mean 1 s" in notes and "warm-up" in notes


def test_table_and_csv_state_the_assumptions(capsys):
    assert main([*ARGS, "--service-mean-s", "0.02"]) == 0
    table = capsys.readouterr().out
    assert "mean_response_s_se" in table and "mean 0.02 s" in table
    assert main([*ARGS, "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.startswith("# note:") and "mean_response_s_se" in csv
