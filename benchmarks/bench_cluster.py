"""The cluster study end to end: the example dump, and a 5,000-node, 50,000-pod dump.

For each dump: ``read_dump`` (inventory) and ``cluster_study`` plus the HTML report, timed in
wall and CPU seconds, against the physical floor measured in the same run: ``json.loads`` of the
same file (reading the dump cannot be faster than parsing it). Peak memory is the process's
maximum resident set size (``resource.getrusage``), which includes numpy and numba.

Targets (issue 18): the example dump in under 60 s; the synthetic 5,000-node, 50,000-pod dump
(written by ``scripts/make_cluster_example.py``'s generator, ``example_dump(workers_per_zone=1666,
filler_deployments=4500)``) in under 5 minutes and 4 GB.

Run:  PYTHONPATH=. python benchmarks/bench_cluster.py            # example dump only
      PYTHONPATH=. python benchmarks/bench_cluster.py --big      # and the large dump
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from k8smodel.cluster import read_dump
from k8smodel.cluster.example import example_dump, example_path
from k8smodel.studies.cluster_report import write_html
from k8smodel.studies.cluster_study import cluster_study


def timed(fn):
    """Wall and CPU seconds of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def run(path: Path, label: str, out: Path, replications: int) -> None:
    size = path.stat().st_size
    floor_wall, floor_cpu, _ = timed(lambda: json.loads(path.read_bytes()))
    read_wall, read_cpu, inv = timed(lambda: read_dump(path, max_bytes=max(size + 1, 64 * 2**20)))
    study_wall, study_cpu, study = timed(lambda: cluster_study(inv, replications=replications))
    report_wall, report_cpu, _ = timed(lambda: write_html(study, out / label))
    nodes, pods = len(inv.nodes), len(inv.pods)
    total_wall = read_wall + study_wall + report_wall
    total_cpu = read_cpu + study_cpu + report_cpu
    ok = (study.summary.status == "ok").sum()
    print(
        f"\n{label}: {size / 2**20:.1f} MiB, {nodes:,} nodes, {pods:,} pods, "
        f"{len(study.sections)} sections ({ok} ok)"
    )
    print(f"  json.loads (floor)   {floor_wall:7.2f} s wall {floor_cpu:7.2f} s CPU")
    print(
        f"  read_dump            {read_wall:7.2f} s wall {read_cpu:7.2f} s CPU "
        f"({read_cpu / max(floor_cpu, 1e-9):.1f}x the floor)"
    )
    print(f"  cluster_study        {study_wall:7.2f} s wall {study_cpu:7.2f} s CPU")
    print(f"  HTML report          {report_wall:7.2f} s wall {report_cpu:7.2f} s CPU")
    print(
        f"  total                {total_wall:7.2f} s wall {total_cpu:7.2f} s CPU; "
        f"peak RSS so far {peak_rss_gib():.2f} GiB"
    )
    for s in study.sections:
        if s.status in ("failed", "family missing"):
            print(f"  ! {s.topic} / {s.workload}: {s.status}: {s.message}")


def main() -> int:
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times vary with it)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        run(example_path(), "example", out, replications=64)
        if "--big" in sys.argv:
            wall, cpu, dump = timed(
                lambda: example_dump(workers_per_zone=1666, filler_deployments=4500)
            )
            big = out / "big.json"
            big.write_text(json.dumps(dump))
            del dump
            print(f"\n(generated the large dump in {wall:.1f} s)")
            run(big, "5000-nodes-50000-pods", out, replications=64)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
