"""k8smodel.service.simulate against a plain-Python per-connection loop, and the theory.

The scenario: a LoadBalancer Service with ClientIP affinity (timeout 60 s) in front of 3 zones
x 4 nodes with uneven pods, 50 clients, connections at 100 per second. The plain-Python peer does
what one would write by hand: for each connection pick a node among the healthy ones, look up
the (client, node) affinity entry, reuse its pod if the entry is younger than the timeout, else
pick one of the node's endpoints at random and store it. Both count requests per pod; the ratio
printed is connections per second of each, and the largest deviation of each from the exact
shares in standard errors (affinity does not change the expected shares).

Usage: python benchmarks/bench_service.py [--connections 200000] [--python-connections 200000]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from k8smodel import service

LAYOUT = service.Layout.uniform(
    zones=3, nodes_per_zone=4, pods_per_node=[3, 1, 2, 0, 1, 1, 2, 2, 1, 0, 4, 1]
)
SVC = service.Service(type="LoadBalancer", session_affinity="ClientIP", affinity_timeout_s=60)
CLIENTS, RATE = 50, 100.0


def python_loop(connections: int, seed: int) -> np.ndarray:
    """Per-connection loop: returns the count per pod."""
    rnd = random.Random(seed)
    nodes = [n.name for n in LAYOUT.nodes]
    pods = [p.name for p in LAYOUT.pods]
    # eTP Cluster, no hints: every node keeps every ready endpoint
    endpoints = list(range(len(pods)))
    table: dict[tuple[int, int], tuple[float, int]] = {}
    counts = [0] * len(pods)
    t = 0.0
    for _ in range(connections):
        t += rnd.expovariate(RATE)
        client = rnd.randrange(CLIENTS)
        node = rnd.randrange(len(nodes))
        entry = table.get((client, node))
        if entry is not None and t - entry[0] <= SVC.affinity_timeout_s:
            pod = entry[1]
        else:
            pod = rnd.choice(endpoints)
        table[(client, node)] = (t, pod)
        counts[pod] += 1
    return np.array(counts, dtype=float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200_000)
    parser.add_argument("--python-connections", type=int, default=200_000)
    parser.add_argument("--replications", type=int, default=8)
    args = parser.parse_args()
    exact = service.theory(SVC, LAYOUT).per_pod.share_requests.to_numpy()

    start = time.perf_counter()
    sim = service.simulate(
        SVC, LAYOUT, connections=args.connections, replications=args.replications,
        clients=CLIENTS, request_rate_per_s=RATE, rng=1,
    )  # fmt: skip
    vec_rate = args.connections * args.replications / (time.perf_counter() - start)
    z_vec = np.max(np.abs(sim.per_pod.share_requests - exact) / sim.per_pod.share_requests_se)

    start = time.perf_counter()
    shares = np.array(
        [python_loop(args.python_connections, seed) for seed in range(args.replications)]
    )
    py_rate = args.python_connections * args.replications / (time.perf_counter() - start)
    shares /= shares.sum(axis=1, keepdims=True)
    se = shares.std(axis=0, ddof=1) / np.sqrt(len(shares))
    z_py = np.max(np.abs(shares.mean(axis=0) - exact) / se)

    print(f"k8smodel.service.simulate: {vec_rate:,.0f} connections/s, max |z| vs exact {z_vec:.1f}")
    print(f"plain Python loop:         {py_rate:,.0f} connections/s, max |z| vs exact {z_py:.1f}")
    print(f"speed-up: {vec_rate / py_rate:.1f}x")


if __name__ == "__main__":
    main()
