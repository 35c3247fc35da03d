"""Bin packing speed and quality: k8smodel.storage.pack against the `binpacking` package.

`binpacking.to_constant_volume` is worst-fit decreasing implemented with a Python scan
over all open bins per item (O(n * bins)), so it is run on inputs small enough to finish;
k8smodel's FFD (segment tree) and WFD (sorted list) run on the same inputs and on 10^5
volumes. OR-Tools (optional in the issue) is not benchmarked.

Run:  PYTHONPATH=. python benchmarks/bench_storage.py [--quick]
"""

import sys
import time

import numpy as np

from k8smodel.storage import lower_bound, pack

QUICK = "--quick" in sys.argv
GI = 2**30


def volume_sizes_gib(rng, n):
    """Realistic PVC sizes in GiB: log-normal around 20 GiB, rounded up, 1 GiB .. 1 TiB."""
    return np.clip(np.ceil(rng.lognormal(np.log(20), 1.2, n)), 1, 1024).astype(np.int64)


def timed(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    rng = np.random.default_rng(20261127)
    cap = 1024  # GiB per node (e.g. a 1 TiB local-disk budget)
    print("== FFD on 10^5 volumes (sizes in GiB, capacity 1024 GiB) ==")
    sizes = volume_sizes_gib(rng, 100_000)
    t_ffd, p = timed(lambda: pack(sizes, cap, method="ffd"))
    t_wfd, pw = timed(lambda: pack(sizes, cap, method="wfd"))
    lb = lower_bound(sizes, cap).value
    print(
        f"k8smodel FFD: {p.n_bins} bins in {t_ffd:.3f} s; WFD: {pw.n_bins} bins in {t_wfd:.3f} s; "
        f"L2 lower bound {lb}"
    )
    cont = rng.uniform(0.0, 1.0, 100_000)
    t_cont, pc = timed(lambda: pack(cont, 1.0, method="ffd"))
    print(
        f"k8smodel FFD on 10^5 distinct uniform(0,1) sizes, capacity 1: {pc.n_bins} bins in "
        f"{t_cont:.3f} s (L2 {lower_bound(cont, 1.0).value})"
    )
    p39 = pack(sizes, cap, method="ffd", max_items_per_bin=39)
    print(
        f"k8smodel FFD with at most 39 volumes per node: {p39.n_bins} bins "
        f"(bound {p39.lower_bound})"
    )

    try:
        import binpacking
    except ImportError:
        binpacking = None
        print("binpacking not installed: pip install k8smodel[bench]")
    if binpacking is not None:
        print("\n== side by side with binpacking.to_constant_volume (WFD) ==")
        print(
            f"{'n':>6} {'binpacking s':>13} {'k8s FFD s':>10} {'ratio':>7} {'k8s WFD s':>10} "
            f"{'ratio':>7} {'bp bins':>8} {'FFD bins':>9} {'WFD bins':>9} {'WFD==bp':>8}"
        )
        for n in [1000, 3000] if QUICK else [1000, 3000, 10000, 100_000]:
            s = volume_sizes_gib(rng, n)
            t_bp, bins_bp = timed(lambda s=s: binpacking.to_constant_volume(s.tolist(), cap), 1)
            t_k, pf = timed(lambda s=s: pack(s, cap, method="ffd"))
            t_w, pw = timed(lambda s=s: pack(s, cap, method="wfd"))
            agree = pw.n_bins == len(bins_bp) and sorted(pw.bins.used) == sorted(
                int(sum(b)) for b in bins_bp
            )
            print(
                f"{n:>6} {t_bp:>13.3f} {t_k:>10.4f} {t_bp / t_k:>6.0f}x {t_w:>10.4f} "
                f"{t_bp / t_w:>6.0f}x {len(bins_bp):>8} {pf.n_bins:>9} {pw.n_bins:>9} "
                f"{str(agree):>8}"
            )
            assert pf.n_bins <= len(bins_bp), "FFD used more bins than binpacking"

    print("\n== exact arc-flow MILP on 120-item uniform instances (sizes 20..100, capacity 150) ==")
    for seed in range(2 if QUICK else 5):
        s = np.random.default_rng(seed).integers(20, 101, 120)
        t, po = timed(lambda s=s: pack(s, 150, method="optimal", time_limit_s=60), 1)
        ffd = pack(s, 150, method="ffd").n_bins
        print(
            f"seed {seed}: optimum {po.n_bins} (proven: {po.optimal}, bound {po.lower_bound}), "
            f"FFD {ffd}, L2 {lower_bound(s, 150).value}, {t:.2f} s"
        )


if __name__ == "__main__":
    main()
