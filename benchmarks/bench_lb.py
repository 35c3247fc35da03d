"""k8smodel.lb against ciw (least connections) and against the random-number floor.

1. The same least-connections M/M/1 model (4 pods, utilization 0.8, exponential
   service of mean 1) in k8smodel and in ciw (PyPI), one after the other in this
   process: events per second (an arrival and a departure per request), their
   ratio and both mean response times, beside the exact mean from the
   join-the-shortest-queue Markov chain. ciw routes with
   ``ciw.routing.LoadBalancing`` (fewest customers present, queued or in
   service, ties to the first pod), which is least connections.
   Target: k8smodel >= 100x ciw's events per second, means within 3 %.
2. ``random`` and ``round_robin``: simulated requests per second against the
   cost of just drawing two standard exponentials per request (the floor).
   Target: within 3x of the floor.

Run: python benchmarks/bench_lb.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from k8smodel import lb
from k8smodel.lb import simulation as sim

PODS, RHO = 4, 0.8


def best_of(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run_ciw(max_time, warmup_time, seed):
    import ciw

    lam = RHO * PODS
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam)] + [None] * PODS,
        service_distributions=[ciw.dists.Deterministic(0.0)]
        + [ciw.dists.Exponential(1.0) for _ in range(PODS)],
        number_of_servers=[float("inf")] + [1] * PODS,
        routing=ciw.routing.NetworkRouting(
            routers=[
                ciw.routing.LoadBalancing(destinations=list(range(2, PODS + 2)), tie_break="order")
            ]
            + [ciw.routing.Leave() for _ in range(PODS)]
        ),
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    t0 = time.perf_counter()
    sim.simulate_until_max_time(max_time)
    elapsed = time.perf_counter() - t0
    records = [r for r in sim.get_all_records() if r.node > 1]
    resp = np.array(
        [r.waiting_time + r.service_time for r in records if r.arrival_date > warmup_time]
    )
    # batch means over 20 consecutive batches for a standard error despite autocorrelation
    batches = np.array_split(resp, 20)
    se = np.std([b.mean() for b in batches], ddof=1) / math.sqrt(len(batches))
    return elapsed, len(records), float(resp.mean()), float(se)


def bench_least_connections(quick):
    print("== least connections, M/M/1 pods: k8smodel vs ciw ==")
    max_time = 4_000 if quick else 40_000
    ciw_s, ciw_requests, ciw_mean, ciw_se = run_ciw(max_time, 0.1 * max_time, seed=1)
    ciw_eps = 2 * ciw_requests / ciw_s
    print(
        f"ciw       : {ciw_requests:>10,d} requests in {ciw_s:7.2f} s"
        f" -> {ciw_eps:>12,.0f} events/s; mean response {ciw_mean:.4f} +- {ciw_se:.4f}"
    )

    reps, n = (256, 5_000) if quick else (1024, 10_000)
    k8_s, res = best_of(
        lambda: lb.simulate(
            "least_connections", pods=PODS, utilization=RHO, requests=n, replications=reps, rng=1
        ),
        1 if quick else 2,
    )
    row = res.summary.iloc[0]
    k8_eps = 2 * n * reps / k8_s
    print(f"k8smodel  : {n * reps:>10,d} requests in {k8_s:7.2f} s -> {k8_eps:>12,.0f} events/s;"
          f" mean response {row.mean_response:.4f} +- {row.mean_response_se:.4f}")  # fmt: skip
    diff = abs(row.mean_response - ciw_mean) / ciw_mean
    print(f"ratio (k8smodel / ciw events per second): {k8_eps / ciw_eps:,.0f}x (target >= 100x)")
    exact = lb.jsq_mean_response(PODS, RHO, max_states=40_000)
    print(f"exact mean (join-the-shortest-queue Markov chain, lb.jsq_mean_response): {exact:.4f}")
    z = abs(row.mean_response - ciw_mean) / math.hypot(ciw_se, row.mean_response_se)
    print(f"means differ by {100 * diff:.2f} % (target < 3 %); difference / combined SE = {z:.1f}")


def bench_static(quick):
    print("\n== random and round robin against the random-number floor ==")
    reps, n = (8, 100_000) if quick else (16, 200_000)
    pods = 8
    gen = np.random.default_rng(0)
    chunk = max(1, (1 << 18) // n)

    def floor():
        for r0 in range(0, reps, chunk):
            rc = min(chunk, reps - r0)
            gen.standard_exponential((rc, n))
            gen.standard_exponential((rc, n))

    floor_s, _ = best_of(floor, 5)
    print(f"floor (two exponentials per request, {reps * n:,d} requests): {floor_s * 1e3:7.1f} ms"
          f" -> {reps * n / floor_s:>13,.0f} requests/s")  # fmt: skip
    for policy in ("random", "round_robin"):
        sim_s, res = best_of(
            lambda p=policy: lb.simulate(
                p, pods=pods, utilization=RHO, requests=n, replications=reps, rng=2
            ),
            3,
        )
        row = res.summary.iloc[0]
        th = lb.theory(policy, pods=pods, utilization=RHO).iloc[0]
        print(f"{policy:12s}: {sim_s * 1e3:7.1f} ms -> {reps * n / sim_s:>13,.0f} requests/s;"
              f" {sim_s / floor_s:4.1f}x the floor (target <= 3x);"
              f" mean {row.mean_response:.4f} +- {row.mean_response_se:.4f} vs theory"
              f" {th.mean_response:.4f} ({th.model})")  # fmt: skip
    # where the time goes: the exact pooled quantiles alone (one in-place partition)
    resp = np.random.default_rng(3).exponential(size=int(0.9 * reps * n))
    copy_s, _ = best_of(lambda: resp.copy(), 3)
    q_s, _ = best_of(lambda: sim._quantiles_inplace(resp.copy(), (0.5, 0.95, 0.99)), 3)
    q_s = max(q_s - copy_s, 0.0)
    print(f"of which the exact pooled quantiles (p50, p95, p99) cost about {q_s * 1e3:.1f} ms"
          f" ({q_s / floor_s:.1f}x the floor)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    bench_least_connections(args.quick)
    bench_static(args.quick)


if __name__ == "__main__":
    main()
