"""NetworkPolicy reachability at 10^5 pods: k8smodel.netpol against a naive per-pair evaluation.

The cluster is ``k8smodel.netpol.examples.synthetic_cluster`` with 10^5 pods listed one by one
(as a cluster dump lists them), 10^3 tenant namespaces and 10^3 NetworkPolicies. The vectorized
relation (``netpol.analyze``: every pod pair, every protocol and port, plus the summary and the
per-pod and per-namespace tables) is timed against ``semantics.naive_connection``, the rules
evaluated one pair at a time, on a random sample of pod pairs; the naive time for all 10^10
ordered pairs is extrapolated from the sample. Both answers are compared on the sample. Peak
memory is tracked with ``tracemalloc`` (numpy allocations included).

Dong et al. (ICDCS 2024) report that Kano-class verifiers need over 10 s at 10^5 pods.

Wall times on a shared machine vary with its load, so CPU time (``time.process_time``) and the
load average are printed too.

Run:  PYTHONPATH=. python benchmarks/bench_netpol.py [--quick]
"""

from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc

import numpy as np

from k8smodel import netpol
from k8smodel.netpol import semantics as sem
from k8smodel.netpol.examples import synthetic_cluster

QUICK = "--quick" in sys.argv


def timed(fn, repeat=3):
    """Best wall and CPU time of ``repeat`` runs, and the last result."""
    best_wall = best_cpu = np.inf
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, out


def naive_sample(cluster, pairs):
    """The per-pair rules on each (source, destination) workload pair; seconds and texts."""
    ns_labels = cluster.namespace_labels()
    wls = cluster.workloads
    start = time.perf_counter()
    texts = []
    for i, j in pairs:
        a, b = wls[i], wls[j]
        conn = sem.naive_connection(
            cluster.policies,
            ns_labels,
            (a.namespace, dict(a.labels)),
            (b.namespace, dict(b.labels)),
            b.ports,
        )
        texts.append(sem.format_ports(conn) if conn else "")
    return time.perf_counter() - start, texts


def vectorized_texts(result, pairs):
    rel = result.relation
    masks = rel.pod_conn[rel.src_sig[pairs[:, 0]], rel.dst_sig[pairs[:, 1]]]
    return ["" if not m.any() else sem.format_ports(rel.describe(m)) for m in masks]


def run(namespaces, pods, policies, sample, rng):
    cluster = synthetic_cluster(namespaces, pods, policies, pods_as_objects=True, rng=rng)
    wall, cpu, result = timed(lambda: netpol.analyze(cluster, max_listed_pairs=0), repeat=3)
    tracemalloc.start()  # a separate run: tracing slows every allocation
    netpol.analyze(cluster, max_listed_pairs=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = len(cluster.workloads)
    gen = np.random.default_rng(rng)
    pairs = gen.integers(0, n, size=(sample, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    naive_s, naive = naive_sample(cluster, pairs)
    agree = np.mean([a == b for a, b in zip(naive, vectorized_texts(result, pairs), strict=True)])
    per_pair = naive_s / len(pairs)
    all_pairs = n * (n - 1)
    row = result.summary.iloc[0]
    print(f"== {n} pods, {namespaces} namespaces, {policies} policies ==")
    print(
        f"reduction: {row['label_classes']} label classes -> {row['source_signatures']} source x "
        f"{row['destination_signatures']} destination signatures x {row['port_atoms']} port atoms"
    )
    print(
        f"k8smodel.netpol.analyze (all {all_pairs:.3g} ordered pod pairs): {wall:.3f} s wall, "
        f"{cpu:.3f} s CPU, peak traced memory {peak / 2**20:.0f} MiB (process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB)"
    )
    print(
        f"naive per-pair evaluation: {per_pair * 1e3:.3f} ms per pair on {len(pairs)} sampled "
        f"pairs -> {per_pair * all_pairs / 3600:.1f} h for all pairs (extrapolated)"
    )
    print(
        f"ratio naive/vectorized for the whole relation: {per_pair * all_pairs / wall:.3g} "
        f"(CPU: {per_pair * all_pairs / cpu:.3g}); "
        f"sampled pairs whose connection agrees: {agree:.1%}"
    )
    print(
        f"fraction of pod pairs that may connect: {row['fraction_pairs_allowed']:.4f}; pods "
        f"isolated for ingress {row['pods_ingress_isolated']}, egress {row['pods_egress_isolated']}"
    )
    return wall, agree


def main():
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load:.1f}")
    print("times are the best of 3; CPU time approximates the wall time on an idle machine")
    if QUICK:
        run(100, 10_000, 100, 300, 20261130)
    else:
        run(1_000, 100_000, 1_000, 2_000, 20261130)


if __name__ == "__main__":
    main()
