"""Placement speed: every k <= 3 placement of 40 regions over 1000 user locations.

Vectorized (k8smodel.federation.all_placements) against a plain Python loop over the
same placements; then the exact MILP p-median (scipy.optimize.milp) for 40 candidates x
1000 users, checked against the best vectorized placement. Run:

    PYTHONPATH=. python benchmarks/bench_federation.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from k8smodel import federation as fed

SEED = 20261127
N_USERS = 1000


def user_points(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` user locations scattered around the default metros, in proportion to population."""
    metros = fed.users()
    pick = rng.choice(len(metros), n, p=metros.weight / metros.weight.sum())
    lat = np.clip(metros.lat.to_numpy()[pick] + rng.normal(0, 1.5, n), -89, 89)
    lon = (metros.lon.to_numpy()[pick] + rng.normal(0, 1.5, n) + 180) % 360 - 180
    return pd.DataFrame({"lat": lat, "lon": lon, "weight": rng.lognormal(0, 1, n)})


def loop_scores(d: list[list[float]], w: list[float], subsets) -> list[float]:
    total_w = sum(w)
    out = []
    for subset in subsets:
        acc = 0.0
        for i, row in enumerate(d):
            best = row[subset[0]]
            for j in subset[1:]:
                if row[j] < best:
                    best = row[j]
            acc += w[i] * best
        out.append(acc / total_w)
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    users = user_points(N_USERS, rng)
    candidates = list(fed.regions("aws").region) + list(fed.regions("gcp").region)[:11]
    d = fed.latency_matrix(users, candidates)
    w = users.weight.to_numpy()
    print(f"{len(candidates)} candidate regions x {len(users)} user locations")

    t0 = time.perf_counter()
    vec = {k: fed.all_placements(d, w, k) for k in (1, 2, 3)}
    t_vec = time.perf_counter() - t0
    n_place = sum(len(s) for s, _ in vec.values())

    t0 = time.perf_counter()
    for k in (1, 2, 3):
        fed.all_placements(d, w, k, method="gather")
    t_gather = time.perf_counter() - t0

    d_list, w_list = d.tolist(), w.tolist()
    t0 = time.perf_counter()
    loop = {k: loop_scores(d_list, w_list, vec[k][0].tolist()) for k in (1, 2, 3)}
    t_loop = time.perf_counter() - t0
    diff = max(np.max(np.abs(np.array(loop[k]) - vec[k][1])) for k in (1, 2, 3))
    print(f"all {n_place} placements with k <= 3:")
    print(f"  vectorized   {t_vec:8.3f} s   (gather variant {t_gather:.3f} s)")
    print(f"  Python loop  {t_loop:8.3f} s")
    print(f"  ratio        {t_loop / t_vec:8.1f}x   max |difference| {diff:.2e} ms")

    for k in (3, 5):
        t0 = time.perf_counter()
        idx, val = fed.p_median_milp(d, w, k)
        t_milp = time.perf_counter() - t0
        names = [candidates[i] for i in idx]
        print(f"MILP p-median k={k}: {t_milp:.2f} s, mean RTT {val:.3f} ms, {names}")
        if k == 3:
            best = int(np.argmin(vec[3][1]))
            print(
                f"  brute force k=3: mean RTT {vec[3][1][best]:.3f} ms "
                f"({'same' if sorted(vec[3][0][best]) == sorted(idx) else 'DIFFERENT'} placement)"
            )
        g_idx, g_val = fed.greedy_placement(d, w, k)
        print(f"  greedy k={k}: mean RTT {g_val:.3f} ms (+{100 * (g_val / val - 1):.2f} %)")


if __name__ == "__main__":
    main()
