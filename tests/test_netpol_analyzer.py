"""k8smodel.netpol against an independent implementation: np-guard/netpol-analyzer.

The expected connection lists are netpol-analyzer's own test outputs (commit e54a334, read from
``k8smodel.shared_data_dir() / "netpol-analyzer"``, never copied here). Every scenario with a
whole-cluster list is run; those that hold objects the model does not include (admin policies,
user-defined and secondary networks, virtual machines) are skipped with the reason, and those
with Ingress/Route objects are compared without the analyzer's ``{ingress-controller}`` lines.
``scripts/netpol_analyzer_check.py`` prints the same classification with counts.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

import k8smodel
from k8smodel import netpol

ROOT = k8smodel.shared_data_dir() / "netpol-analyzer"
HAVE_DATA = (ROOT / "tests").is_dir() and (ROOT / "test_outputs" / "connlist").is_dir()
pytestmark = pytest.mark.skipif(not HAVE_DATA, reason=f"netpol-analyzer data absent at {ROOT}")


def _checker():
    path = Path(__file__).resolve().parents[1] / "scripts" / "netpol_analyzer_check.py"
    spec = importlib.util.spec_from_file_location("netpol_analyzer_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CHECK = _checker()
SCENARIOS = CHECK.scenarios(ROOT) if HAVE_DATA else []


@functools.cache
def _check(name: str):
    return CHECK.check(name, ROOT)


@pytest.mark.parametrize("name", SCENARIOS or ["<no data>"])
def test_scenario_connlist_matches_netpol_analyzer(name):
    if not SCENARIOS:
        pytest.skip("netpol-analyzer data absent")
    status, reason, want, got = _check(name)
    if status == "out_of_scope":
        pytest.skip(f"out of scope: {reason}")
    assert status != "fail", f"{name}: {reason}"
    assert got == want


def test_most_in_scope_scenarios_are_run():
    """Guard against the scope rule silently skipping everything."""
    statuses = [_check(n)[0] for n in SCENARIOS]
    assert statuses.count("match") >= 40
    assert "fail" not in statuses


# (scenario, focus workload as given to --focusworkload, expected output file); transcribed
# from the file names in test_outputs/connlist (netpol-analyzer pkg/netpol/connlist tests).
FOCUS = [
    (
        "onlineboutique_workloads",
        "emailservice",
        "onlineboutique_workloads_focus_workload_emailservice_connlist_output.txt",
    ),
    (
        "k8s_ingress_test",
        "details-v1-79f774bdb9",
        "k8s_ingress_test_focus_workload_details-v1-79f774bdb9_connlist_output.txt",
    ),
]


@pytest.mark.parametrize(("scenario", "focus", "output"), FOCUS)
def test_focus_workload_matches(scenario, focus, output):
    want = (ROOT / "test_outputs" / "connlist" / output).read_text().strip()
    want = "\n".join(x for x in want.splitlines() if not x.startswith(CHECK.INGRESS_PREFIX))
    result = netpol.analyze(netpol.from_manifest(ROOT / "tests" / scenario))
    assert netpol.connlist(result, source=focus) == want


def _pairs(text: str) -> dict[tuple[str, str], str]:
    out = {}
    for line in text.splitlines():
        left, conn = line.split(" : ", 1)
        src, dst = left.split(" => ")
        if "[External]" not in src and "[External]" not in dst and "{" not in src:
            out[(src, dst)] = conn
    return out


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("semanticDiff-same-topologies-old1", "semanticDiff-same-topologies-new1"),
        ("semanticDiff-same-topologies-old2", "semanticDiff-same-topologies-new2"),
        ("semanticDiff-same-topologies-old3", "semanticDiff-same-topologies-new3"),
        ("semanticDiff-orig-topologies-no-policy", "semanticDiff-orig-topologies-policy-a"),
    ],
)
def test_diff_agrees_with_the_difference_of_the_analyzers_lists(before, after):
    """The pairs our diff reports as changed are exactly those whose expected lines differ."""
    a, b = _pairs(CHECK.expected(before, ROOT)), _pairs(CHECK.expected(after, ROOT))
    want = {
        k: (a.get(k, "No Connections"), b.get(k, "No Connections"))
        for k in set(a) | set(b)
        if a.get(k) != b.get(k)
    }
    result = netpol.diff(
        netpol.from_manifest(ROOT / "tests" / before), netpol.from_manifest(ROOT / "tests" / after)
    )
    ch = result.changes
    external = ch["src"].str.contains(r"\[External\]") | ch["dst"].str.contains(r"\[External\]")
    ch = ch[~external]
    got = {
        (s, d): (x, y)
        for s, d, x, y in ch[["src", "dst", "before", "after"]].itertuples(index=False)
    }
    assert got == want
