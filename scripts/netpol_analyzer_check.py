"""Run k8smodel.netpol on every netpol-analyzer scenario and compare connection lists.

Reads ``k8smodel.shared_data_dir() / "netpol-analyzer"`` (never copied into the project):
``tests/<scenario>/`` holds the manifests and
``test_outputs/connlist/<scenario>_connlist_output.txt`` the analyzer's expected list.
Prints one line per scenario (matched, out of scope with the reason, or failed) and the
counts per group. ``tests/test_netpol_analyzer.py`` asserts the same matches.

Usage: ``python scripts/netpol_analyzer_check.py [-v]`` (``-v`` prints a diff for failures).
"""

from __future__ import annotations

import difflib
import sys
from collections import Counter
from pathlib import Path

import k8smodel
from k8smodel import netpol

#: Kinds whose semantics the model does not include; a scenario holding one is out of scope.
OUT_OF_SCOPE = {
    "AdminNetworkPolicy": "AdminNetworkPolicy/BaselineAdminNetworkPolicy (admin tiers)",
    "BaselineAdminNetworkPolicy": "AdminNetworkPolicy/BaselineAdminNetworkPolicy (admin tiers)",
    "UserDefinedNetwork": "(Cluster)UserDefinedNetworks (separate primary networks)",
    "ClusterUserDefinedNetwork": "(Cluster)UserDefinedNetworks (separate primary networks)",
    "NetworkAttachmentDefinition": "secondary networks (NAD, MultiNetworkPolicy)",
    "MultiNetworkPolicy": "secondary networks (NAD, MultiNetworkPolicy)",
    "VirtualMachine": "KubeVirt VirtualMachines",
}
#: Kinds that add ``{ingress-controller}`` lines, which the model leaves out: the rest of the
#: list must still match exactly.
INGRESS_KINDS = {"Ingress", "Route"}
INGRESS_PREFIX = "{ingress-controller} =>"


def data_root() -> Path:
    """Where the netpol-analyzer corpus lives (beside the repository)."""
    return k8smodel.shared_data_dir() / "netpol-analyzer"


def scenarios(root: Path | None = None) -> list[str]:
    """Scenarios that have a whole-cluster expected connection list."""
    root = root or data_root()
    out = root / "test_outputs" / "connlist"
    return sorted(
        d.name
        for d in (root / "tests").iterdir()
        if d.is_dir() and (out / f"{d.name}_connlist_output.txt").is_file()
    )


def expected(name: str, root: Path | None = None) -> str:
    """The analyzer's expected connection list for scenario ``name``."""
    root = root or data_root()
    return (root / "test_outputs" / "connlist" / f"{name}_connlist_output.txt").read_text().strip()


def check(name: str, root: Path | None = None) -> tuple[str, str, str, str]:
    """Compare one scenario: ``(status, reason, expected_text, got_text)``.

    ``status`` is ``match``, ``match_without_ingress_controller``, ``out_of_scope`` or ``fail``.
    """
    root = root or data_root()
    want = expected(name, root)
    try:
        cluster = netpol.from_manifest(root / "tests" / name)
    except (ValueError, TypeError) as exc:
        return "fail", f"not read: {exc}", want, ""
    kinds = {kind for kind, _, _ in cluster.ignored}
    scope = sorted({OUT_OF_SCOPE[k] for k in kinds if k in OUT_OF_SCOPE})
    if scope:
        return "out_of_scope", "; ".join(scope), want, ""
    got = netpol.connlist(netpol.analyze(cluster))
    status = "match"
    if kinds & INGRESS_KINDS:
        want = "\n".join(x for x in want.splitlines() if not x.startswith(INGRESS_PREFIX))
        status = "match_without_ingress_controller"
    if got == want:
        return status, "", want, got
    return "fail", "connection lists differ", want, got


def main(argv: list[str]) -> int:
    """Print every scenario's status and the counts."""
    root = data_root()
    if not (root / "tests").is_dir():
        print(f"no netpol-analyzer data at {root}")
        return 1
    counts: Counter = Counter()
    reasons: Counter = Counter()
    for name in scenarios(root):
        status, reason, want, got = check(name, root)
        counts[status] += 1
        if status == "out_of_scope":
            reasons[reason] += 1
        print(f"{status:34s} {name} {reason}")
        if status == "fail" and "-v" in argv:
            print("\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), lineterm="")))
    print()
    for status, n in counts.most_common():
        print(f"{n:4d} {status}")
    for reason, n in reasons.most_common():
        print(f"       {n:4d} out of scope: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
