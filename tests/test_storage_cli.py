"""``k8smodel storage``: answers from the models, readable sizes, formats, exit 2 on bad input."""

import json

import numpy as np
import pytest

from k8smodel.cli import main


def _json(argv, capsys):
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_storage_packs_by_hand_example(capsys):
    # 700+300 fill one 1000Gi node exactly; 600+400 the other: two nodes, and the bound says 2.
    out = _json(["storage", "700Gi", "600Gi", "400Gi", "300Gi", "--capacity", "1000Gi"], capsys)
    row = out["summary"][0]
    assert (row["method"], row["nodes"], row["lower_bound"]) == ("ffd", 2, 2)
    assert row["total_bytes"] == 2000 * 2**30
    assert any("no attach limit" in n for n in out["notes"])


def test_sizes_print_as_a_person_reads_them(capsys):
    # 4144843345Ki is 3.86 TiB: printed "3.9Ti" (issue 12 item 2.11), not the exact quantity
    assert main(["storage", "4144843345Ki", "--capacity", "4Ti"]) == 0
    text = capsys.readouterr().out
    assert "3.9Ti" in text and "4144843345Ki" not in text


def test_csv_carries_notes_as_comments(capsys):
    assert main(["storage", "1Gi", "2Gi", "--capacity", "2Gi", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# note:") and any(line.startswith("method,") for line in lines)


def test_optimal_on_an_ordinary_mix_of_sizes(capsys):
    # Before: "--method optimal" failed, asking for a unit= the CLI lacked. 60 sizes in MiB on
    # 1 TiB nodes with 8 volumes per node: at least ceil(60 / 8) = 8 nodes, and no more than
    # first-fit decreasing needs.
    rng = np.random.default_rng(1)
    sizes = [f"{int(x)}Mi" for x in rng.integers(1000, 500_000, 60)]
    base = ["storage", *sizes, "--capacity", "1Ti", "--max-per-node", "8"]
    opt = _json([*base, "--method", "optimal", "--time-limit-s", "20"], capsys)["summary"][0]
    ffd = _json(base, capsys)["summary"][0]
    assert 8 <= opt["lower_bound"] <= opt["nodes"] <= ffd["nodes"]


def test_node_type_takes_the_drivers_attach_limit(capsys):
    # five 1Gi volumes, a GCE shared-core e2-medium attaches 15: one node
    out = _json(
        ["storage", *["1Gi"] * 5, "--capacity", "1Ti", "--node-type", "gce:e2-medium"], capsys
    )
    assert out["summary"][0]["attach_limit"] == 15 and out["summary"][0]["nodes"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["storage", "10Qi", "--capacity", "1Ti"], "10Qi"),
        (["storage", "2Ti", "--capacity", "1Ti"], "do not fit"),
        (["storage", "1Gi", "--capacity", "1Ti", "--method", "best"], "method must be one of"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
