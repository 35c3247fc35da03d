"""k8smodel.lb against the random-number floor, and least connections against ciw and SimPy.

1. One table: policy x pods x replications -> simulated requests per second and the ratio to
   the floor, the cost of drawing two standard exponentials per request with numpy (arrival
   and service) for the same number of requests. Each cell times the floor and the model
   alternately, ``--repeat`` times, and reports the median ratio and its range.
   Targets (issue 13): every policy within 10x of the floor, random and round robin within 3x.
2. The same least-connections model (4 pods, M/M/1, utilization 0.8, one replication, ties
   to the first pod) in k8smodel, ciw (``ciw.routing.LoadBalancing``) and SimPy (a process
   per request and a ``simpy.Resource`` per pod), alternating the three and repeating:
   requests per second (median, range) and the mean response beside the exact
   join-the-shortest-queue value (``lb.jsq_mean_response``). ciw and SimPy are in the
   ``bench`` extra.
3. (not with ``--quick``) 10^7 requests on 1,024 pods with least connections: wall time and
   peak memory. Targets (issue 13): under 10 s and 2 GB.

Run: python benchmarks/bench_lb.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time

import numpy as np

from k8smodel import lb

POLICIES = ["random", "round_robin", "least_connections", "power_of_two", "ewma"]
RHO = 0.8


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def floor_fn(reps, n, seed=0):
    gen = np.random.default_rng(seed)

    def floor():
        gen.standard_exponential((reps, n))
        gen.standard_exponential((reps, n))

    return floor


def table(quick, repeat):
    total = 300_000 if quick else 1_000_000
    pods_list = [4, 64, 1024]
    reps_list = [1, 16] if quick else [1, 16, 256]
    for policy in POLICIES:  # compile (numba caches to disk) outside the timings
        lb.simulate(policy, pods=4, utilization=RHO, requests=200, replications=2, rng=0)
    print(
        f"== requests per second against the floor ({total:,d} requests per cell, utilization "
        f"{RHO}; x floor = median time / median floor time over {repeat} alternating runs, "
        "[range of the paired ratios]) =="
    )
    print(f"{'policy':18s} {'pods':>5s} {'reps':>5s} {'requests/s':>12s} {'x floor':>8s} "
          f"{'range':>13s}")  # fmt: skip
    for policy in POLICIES:
        for pods in pods_list:
            for reps in reps_list:
                n = total // reps
                floor = floor_fn(reps, n)
                ratios, rates, floors, models = [], [], [], []
                for i in range(repeat):
                    order = [0, 1] if i % 2 == 0 else [1, 0]
                    times = [0.0, 0.0]
                    for side in order:
                        if side == 0:
                            times[0], _ = _timed(floor)
                        else:
                            times[1], _ = _timed(
                                lambda p=policy, k=pods, r=reps, m=n, s=i: lb.simulate(
                                    p, pods=k, utilization=RHO, requests=m, replications=r, rng=s
                                )
                            )
                    ratios.append(times[1] / times[0])
                    rates.append(reps * n / times[1])
                    floors.append(times[0])
                    models.append(times[1])
                ratio = statistics.median(models) / statistics.median(floors)
                print(
                    f"{policy:18s} {pods:5d} {reps:5d} {statistics.median(rates):12,.0f} "
                    f"{ratio:8.1f} [{min(ratios):5.1f}, {max(ratios):5.1f}]"
                )


def run_ciw(pods, requests, seed):
    import ciw

    lam = RHO * pods
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam)] + [None] * pods,
        service_distributions=[ciw.dists.Deterministic(0.0)]
        + [ciw.dists.Exponential(1.0) for _ in range(pods)],
        number_of_servers=[float("inf")] + [1] * pods,
        routing=ciw.routing.NetworkRouting(
            routers=[
                ciw.routing.LoadBalancing(destinations=list(range(2, pods + 2)), tie_break="order")
            ]
            + [ciw.routing.Leave() for _ in range(pods)]
        ),
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(requests / lam)
    records = [r for r in sim.get_all_records() if r.node > 1]
    resp = np.array([r.waiting_time + r.service_time for r in records])
    return len(records), float(resp[len(resp) // 10 :].mean())


def run_simpy(pods, requests, seed):
    import simpy

    rng = np.random.default_rng(seed)
    inter = rng.standard_exponential(requests) / (RHO * pods)
    work = rng.standard_exponential(requests)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=1) for _ in range(pods)]
    present = [0] * pods
    resp = np.empty(requests)

    def request(i):
        t0 = env.now
        p = min(range(pods), key=lambda q: (present[q], q))  # fewest present, first on ties
        present[p] += 1
        with servers[p].request() as slot:
            yield slot
            yield env.timeout(work[i])
        present[p] -= 1
        resp[i] = env.now - t0

    def source():
        for i in range(requests):
            yield env.timeout(inter[i])
            env.process(request(i))

    env.process(source())
    env.run()
    return requests, float(resp[requests // 10 :].mean())


def _mean_text(values):
    finite = [v for v in values if math.isfinite(v)]
    return f"{statistics.fmean(finite):.4f}" if finite else "-"


def peers(quick, repeat):
    pods = 4
    requests = 20_000 if quick else 200_000
    print(
        f"\n== least connections, {pods} M/M/1 pods at {RHO}, one run of {requests:,d} "
        f"requests: k8smodel, ciw, SimPy (alternating, median of {repeat} [range]) =="
    )
    floor = floor_fn(1, requests)
    sides = {
        "floor": lambda s: (floor(), (requests, math.nan))[1],
        "k8smodel": lambda s: (
            requests,
            float(
                lb.simulate(
                    "least_connections",
                    pods=pods,
                    utilization=RHO,
                    requests=requests,
                    replications=1,
                    rng=s,
                ).summary.mean_response_s[0]
            ),
        ),  # fmt: skip
        "ciw": lambda s: run_ciw(pods, requests, s),
        "simpy": lambda s: run_simpy(pods, requests, s),
    }
    rates = {k: [] for k in sides}
    means = {k: [] for k in sides}
    names = list(sides)
    for i in range(repeat):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order
            elapsed, (done, mean) = _timed(lambda f=sides[name], s=i + 1: f(s))
            rates[name].append(done / elapsed)
            means[name].append(mean)
    floor_rate = statistics.median(rates["floor"])
    exact = lb.jsq_mean_response(pods, RHO, max_states=40_000)
    print(f"{'':10s} {'requests/s':>12s} {'range':>25s} {'x floor':>8s} {'mean response':>14s}")
    for name in names:
        r = rates[name]
        print(
            f"{name:10s} {statistics.median(r):12,.0f} [{min(r):11,.0f}, {max(r):11,.0f}] "
            f"{floor_rate / statistics.median(r):8.1f} {_mean_text(means[name]):>14s}"
        )
    print(f"exact mean (join-the-shortest-queue chain, lb.jsq_mean_response): {exact:.4f}")


def big_run():
    """10^7 requests on 1,024 pods with least connections, one replication.

    Prints the wall time and the peak memory (the process's maximum resident set, numpy and
    numba included).
    """
    requests = 10_000_000
    floor_s, _ = _timed(floor_fn(1, requests))
    wall, res = _timed(
        lambda: lb.simulate(
            "least_connections",
            pods=1024,
            utilization=RHO,
            requests=requests,
            replications=1,
            rng=1,
        )  # fmt: skip
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        f"\n== least connections, 1,024 pods, {requests:,d} requests, one replication ==\n"
        f"{wall:.1f} s wall ({wall / floor_s:.1f}x the floor's {floor_s:.2f} s), peak memory "
        f"{peak_mib:,.0f} MiB; mean response {res.summary.mean_response_s.iloc[0]:.4f} s "
        "(targets: under 10 s, under 2 GB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, no 10^7 run")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per cell")
    args = parser.parse_args()
    table(args.quick, args.repeat)
    peers(args.quick, args.repeat)
    if not args.quick:
        big_run()


if __name__ == "__main__":
    main()
