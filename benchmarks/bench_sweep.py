"""A sweep of lb points, serial against two local Dask workers (issue 13).

The same :func:`k8smodel.sweep` of :func:`k8smodel.lb.simulate` over policies x pods x
utilizations runs serially in this process and on a ``distributed.LocalCluster`` of two
single-threaded worker processes (``client.get_executor()``), alternating the two sides
``--repeat`` times. Prints the median wall time of each side, the speedup (serial over
Dask; target >= 1.8 on two workers when the machine is otherwise idle), the range of the
paired ratios, the load average before and after (the machine is shared: a busy machine
cannot give two workers two cores), and whether both sides gave the same numbers (each
task has its own child seed, so they must). The workers are warmed up (imports, numba's
cached kernels) before any timing. Needs the ``dask`` extra.

Run: python benchmarks/bench_sweep.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pandas as pd

import k8smodel
from k8smodel import lb

POLICIES = ["least_connections", "power_of_two", "ewma", "round_robin"]


def grid(quick: bool) -> dict:
    """The swept points: every policy, pod count and utilization, one replication each."""
    return {
        "policy": POLICIES,
        "pods": [4, 64],
        "utilization": [0.5, 0.7, 0.8, 0.9] if quick else [0.3, 0.5, 0.6, 0.7, 0.8, 0.9],
        "requests": 1_000_000 if quick else 4_000_000,
        "replications": 1,
    }


def run(points: dict, executor=None) -> pd.DataFrame:
    """One sweep (serial when ``executor`` is None)."""
    return k8smodel.sweep(lb.simulate, points, rng=2026, executor=executor, progress=False)


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter points")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per side")
    args = parser.parse_args()
    points = grid(args.quick)
    n_points = len(POLICIES) * len(points["pods"]) * len(points["utilization"])
    load_before = os.getloadavg()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        executor = client.get_executor(pure=False)  # every run computes, none reuses a result
        warm = {**points, "requests": 2_000, "utilization": [0.5, 0.6]}
        run(warm, executor)  # imports and numba's cached kernels on both workers
        run(warm)
        times: dict[str, list[float]] = {"serial": [], "dask": []}
        outputs = {}
        for i in range(args.repeat):
            order = ["serial", "dask"] if i % 2 == 0 else ["dask", "serial"]
            for side in order:
                t0 = time.perf_counter()
                outputs[side] = run(points, executor if side == "dask" else None)
                times[side].append(time.perf_counter() - t0)
    load_after = os.getloadavg()
    ratios = [s / d for s, d in zip(times["serial"], times["dask"], strict=True)]
    serial, dask = statistics.median(times["serial"]), statistics.median(times["dask"])
    same = outputs["serial"].equals(outputs["dask"])
    print(
        f"== sweep of {n_points} lb points ({points['requests']:,d} requests each), serial vs "
        f"two local Dask workers, median of {args.repeat} alternating runs =="
    )
    print(f"{'serial s':>9s} {'dask s':>8s} {'speedup':>8s} {'range':>14s} {'same numbers':>13s}")
    print(
        f"{serial:9.2f} {dask:8.2f} {serial / dask:8.2f} [{min(ratios):5.2f}, {max(ratios):5.2f}] "
        f"{same!s:>13s}"
    )
    print(
        f"load average (1, 5, 15 min) before {tuple(round(x, 2) for x in load_before)}, after "
        f"{tuple(round(x, 2) for x in load_after)} on {os.cpu_count()} CPUs; target >= 1.8 "
        "needs the machine otherwise idle"
    )


if __name__ == "__main__":
    main()
