"""k8smodel.rollout against a straightforward SimPy model of the same StatefulSet controller.

The scenario: a rolling update of a 100-replica OrderedReady StatefulSet (issue 4). Per pod:
schedule 0.5 s, volume attach lognormal(sigma 0.5, median 15 s), container start 2 s, warm-up
gamma(2, scale 5 s) observed on a 10 s readiness-probe grid, minReadySeconds 5, termination
uniform(0, 10) s under a 30 s grace period.

The SimPy model is written the way one would write it by hand: a controller process walks the
ordinals from the highest down, deletes the pod, waits for termination, starts a pod process
(phases as timeouts, then a probe loop every period until the application is up), waits for the
Ready event and minReadySeconds, and moves on. It runs fewer operations (it is slow); the
comparison is per-run throughput, and the quantiles of both against the theory.

Usage: python benchmarks/bench_rollout.py [--replications 1000000] [--simpy-replications 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.stats as st
import simpy

from k8smodel import rollout

REPLICAS = 100
TIMING = rollout.PodTiming(
    schedule=0.5,
    attach=st.lognorm(0.5, scale=15),
    start=2,
    warmup=st.gamma(2, scale=5),
    probe_period_s=10,
    min_ready_seconds=5,
    termination=st.uniform(0, 10),
    termination_grace_s=30,
)


def simpy_rolling_update(replicas: int, gen: np.random.Generator) -> float:
    """One OrderedReady rolling update in SimPy; returns its completion time."""
    env = simpy.Environment()
    done = {}
    # the run's variates are drawn up front in three calls (fair to SimPy: no per-event rvs)
    attach = TIMING.attach.rvs(size=replicas, random_state=gen).tolist()
    warmup = TIMING.warmup.rvs(size=replicas, random_state=gen).tolist()
    term = TIMING.termination.rvs(size=replicas, random_state=gen).tolist()

    def pod(env, ready, i):
        yield env.timeout(0.5)  # schedule
        yield env.timeout(attach[i])
        yield env.timeout(2.0)  # container start
        app_up = env.now + warmup[i]
        yield env.timeout(TIMING.probe_initial_delay_s)
        while env.now < app_up:  # kubelet probes every period until one passes
            yield env.timeout(TIMING.probe_period_s)
        ready.succeed()

    def controller(env):
        for ordinal in range(replicas - 1, -1, -1):
            yield env.timeout(min(term[ordinal], TIMING.termination_grace_s))
            ready = env.event()
            env.process(pod(env, ready, ordinal))
            yield ready
            yield env.timeout(TIMING.min_ready_seconds)
        done["t"] = env.now

    env.process(controller(env))
    env.run()
    return done["t"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=1_000_000)
    ap.add_argument("--simpy-replications", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args(argv)
    sts = rollout.StatefulSet(replicas=REPLICAS, pod_management="OrderedReady")

    t0 = time.perf_counter()
    res = rollout.simulate(
        sts, "rolling_update", TIMING, replications=args.replications, rng=args.seed
    )
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    theory = rollout.completion_time(sts, "rolling_update", TIMING)
    t_theory = time.perf_counter() - t0

    gen = np.random.default_rng(args.seed + 1)
    t0 = time.perf_counter()
    peer = np.array([simpy_rolling_update(REPLICAS, gen) for _ in range(args.simpy_replications)])
    t_peer = time.perf_counter() - t0

    per_ours, per_peer = t_ours / args.replications, t_peer / args.simpy_replications
    print(f"scenario: rolling update, {REPLICAS} replicas, OrderedReady")
    print(
        f"k8smodel.rollout.simulate : {args.replications:>9,d} replications in "
        f"{t_ours:8.2f} s "
        f"({per_ours * 1e6:9.2f} us/replication)"
    )
    print(
        f"SimPy                     : {args.simpy_replications:>9,d} replications in "
        f"{t_peer:8.2f} s "
        f"({per_peer * 1e6:9.2f} us/replication)"
    )
    print(f"completion_time (theory)  : {t_theory:8.2f} s")
    print(f"per-replication speed-up vs SimPy : {per_peer / per_ours:8.1f}x")
    print()
    print(f"{'quantile':>8} {'theory':>10} {'k8smodel':>10} {'SimPy':>10} {'SimPy tol':>10}")
    ok = True
    width = 2.0
    for q in (0.1, 0.5, 0.9, 0.99):
        x = float(theory.ppf(q))
        dens = float(theory.cdf(x + width) - theory.cdf(x - width)) / (2 * width)
        tol_peer = 4 * math.sqrt(q * (1 - q) / args.simpy_replications) / dens
        tol_ours = 4 * math.sqrt(q * (1 - q) / args.replications) / dens + 0.1
        ours, theirs = np.quantile(res.samples, q), np.quantile(peer, q)
        ok &= abs(ours - x) < tol_ours and abs(theirs - x) < tol_peer
        print(f"{q:>8} {x:10.1f} {ours:10.1f} {theirs:10.1f} {tol_peer:10.1f}")
    print(f"{'mean':>8} {theory.mean():10.1f} {res.samples.mean():10.1f} {peer.mean():10.1f}")
    ks = st.ks_2samp(res.samples[:200_000], peer)
    print(f"two-sample KS (k8smodel vs SimPy): D = {ks.statistic:.4f}, p = {ks.pvalue:.3f}")
    print("agreement within 4 standard errors:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
