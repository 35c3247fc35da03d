"""Federation speed: exact placement, brute force, and Karmada's Webster division.

Prints ratios measured in one run (CPU time; the two sides alternate and repeat, median and
range):

* ``place(method="optimal")`` (Lagrangian bounds, then enumeration or the MILP on the
  candidates left) against the ReVelle-Swain MILP (``p_median_milp``) and brute force over
  every subset, for k <= 5 of 40 candidates x 1000 user locations; all three must agree;
* the p95 placement (bisection over a maximal-covering MILP) against brute force;
* ``webster`` (divisor bulk + exact heap) against a seat-by-seat Python loop of the same rule.

Run:

    PYTHONPATH=. python benchmarks/bench_federation.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

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


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def alternate(sides: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """CPU seconds of each side, the sides alternating, ``repeats`` rounds."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, fn in sides.items():
            times[name].append(cpu(fn)[0])
    return times


def show(label: str, times: dict[str, list[float]], base: str) -> None:
    ref = statistics.median(times[base])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"  {label:<28} {name:<22} median {med:8.3f} s  range {min(ts):.3f}-{max(ts):.3f} s"
            f"  x{med / ref:7.1f} of {base}"
        )


def webster_loop(seats: int, votes: list[int]) -> list[int]:
    s = [0] * len(votes)
    for _ in range(seats):
        best = 0
        for j in range(1, len(votes)):
            if votes[j] * (2 * s[best] + 1) > votes[best] * (2 * s[j] + 1):
                best = j
        s[best] += 1
    return s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one repeat, k <= 3")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    ks = (3,) if args.quick else (3, 4, 5)
    rng = np.random.default_rng(SEED)
    users = user_points(N_USERS, rng)
    candidates = list(fed.regions("aws").region) + list(fed.regions("gcp").region)[:11]
    d = fed.latency_matrix(users, candidates)
    w = users.weight.to_numpy()
    names = [str(c) for c in candidates]
    print(f"{len(candidates)} candidate regions x {len(users)} user locations (CPU time)")
    for k in ks:
        sides = {
            "place(optimal)": lambda k=k: (
                fed.place(k=k, candidates=names, users=users, latency_ms=d).mean_rtt_ms
            ),
            "p_median_milp": lambda k=k: fed.p_median_milp(d, w, k)[1],
        }
        if k <= 3 or not args.quick:
            sides["brute force"] = lambda k=k: fed.brute_force_placement(d, w, k)[1]
        values = {name: fn() for name, fn in sides.items()}
        spread = max(values.values()) - min(values.values())
        method = fed.place(k=k, candidates=names, users=users, latency_ms=d).summary.method[0]
        print(
            f"mean RTT, k={k}: {values['place(optimal)']:.4f} ms by {method}; "
            f"max difference between methods {spread:.1e} ms"
        )
        show(f"k={k}", alternate(sides, repeats), "place(optimal)")

    every = list(fed.regions().region)
    d_all = fed.latency_matrix(users, every)
    big = {
        "place(optimal)": lambda: fed.place(k=6, candidates=every, users=users, latency_ms=d_all)
    }
    if not args.quick:
        big["p_median_milp"] = lambda: fed.p_median_milp(d_all, w, 6)
    t_place, res = cpu(big["place(optimal)"])
    how = res.summary.method[0]
    line = f"k=6 of all {len(every)} regions: place(optimal) {t_place:.2f} s by {how}"
    if "p_median_milp" in big:
        t_milp, (_, val) = cpu(big["p_median_milp"])
        line += (
            f"; p_median_milp {t_milp:.2f} s (same mean RTT: {abs(val - res.mean_rtt_ms) < 1e-9})"
        )
    print(line)

    k = 3
    sides = {
        "quantile MILP": lambda: fed.quantile_placement_milp(d, w, k, level=0.95)[1],
        "brute force": lambda: fed.brute_force_placement(d, w, k, objective="p95")[1],
    }
    values = {name: fn() for name, fn in sides.items()}
    q, b = values["quantile MILP"], values["brute force"]
    print(f"p95 RTT, k={k}: {q:.4f} ms (brute force {b:.4f})")
    show("p95, k=3", alternate(sides, repeats), "quantile MILP")

    seats, votes = 100_000, list(range(1, 51))
    sides = {
        "webster": lambda: fed.webster(seats, votes).tolist(),
        "seat-by-seat loop": lambda: webster_loop(seats, votes),
    }
    assert sides["webster"]() == sides["seat-by-seat loop"]()
    print(f"Webster, {seats} seats over {len(votes)} parties (same seats)")
    show("webster", alternate(sides, repeats), "webster")

    try:
        fed.all_placements(np.ones((2, 100)), [1, 1], 6)
    except ValueError as exc:
        print(f"all_placements(k=6 of 100) refused before allocating: {exc}")


if __name__ == "__main__":
    main()
