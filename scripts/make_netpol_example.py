"""Write the synthetic multi-tenant cluster of notebook 08 as Kubernetes manifests.

The cluster is ``k8smodel.netpol.examples.synthetic_cluster`` (tenant namespaces running
frontend/api/db/cache/worker apps, shared ingress-nginx, monitoring and kube-system namespaces,
and NetworkPolicies adopted to different degrees). The output is one YAML file per namespace,
which the command line reads back:

    python scripts/make_netpol_example.py --out build/netpol-example
    k8smodel netpol build/netpol-example --from team-0000/frontend

Nothing is written into the repository unless ``--out`` points there.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import yaml

from k8smodel.netpol.examples import synthetic_cluster
from k8smodel.netpol.manifest import to_manifest


def main() -> int:
    """Write the manifests."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/netpol-example"))
    parser.add_argument("--namespaces", type=int, default=40)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=160)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    cluster = synthetic_cluster(args.namespaces, args.pods, args.policies, rng=args.seed)
    by_ns: dict[str, list[dict]] = defaultdict(list)
    for obj in to_manifest(cluster):
        meta = obj["metadata"]
        by_ns[meta.get("namespace") or meta["name"]].append(obj)
    args.out.mkdir(parents=True, exist_ok=True)
    for ns, objs in sorted(by_ns.items()):
        (args.out / f"{ns}.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
    print(
        f"wrote {len(by_ns)} files for {len(cluster.workloads)} workloads and "
        f"{len(cluster.policies)} policies to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
