"""Write the example cluster dump ``data/cluster_example.json`` (or a large synthetic one).

The dump is :func:`k8smodel.cluster.example.example_dump`: what ``kubectl get
nodes,pods,svc,endpointslices,ingress,deploy,rs,sts,ds,hpa,pvc,pv,sc,csinodes,netpol,ns,cm,events
-A -o json`` prints for a small 3-zone, 30-node production cluster. For the benchmark's
5,000-node, 50,000-pod dump:

    python scripts/make_cluster_example.py --workers-per-zone 1666 --filler-deployments 4500 \
        --out build/cluster_big.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from k8smodel.cluster.example import example_dump


def main() -> int:
    """Write the dump as JSON (two-space indent for the small one, compact for large ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/cluster_example.json"))
    parser.add_argument("--zones", type=int, default=3)
    parser.add_argument("--workers-per-zone", type=int, default=9)
    parser.add_argument("--filler-deployments", type=int, default=0)
    parser.add_argument("--filler-pods", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    dump = example_dump(
        zones=args.zones,
        workers_per_zone=args.workers_per_zone,
        filler_deployments=args.filler_deployments,
        filler_pods=args.filler_pods,
        rng=args.seed,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    indent = 1 if args.filler_deployments == 0 else None
    args.out.write_text(json.dumps(dump, indent=indent) + "\n")
    print(f"{args.out}: {len(dump['items'])} objects, {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
