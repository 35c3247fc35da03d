"""k8smodel.autoscale's compiled HPA loop against a plain-Python loop of the same controller.

The scenario: an HPA on a Pods metric (requests per second per pod, target 14), no behavior
(the legacy limit max(2 x current, 4) and the 300 s downscale stabilization), metrics-server
samples every 15 s, pods ready after a gamma start-up of mean 30 s, a 3x step from 300 to
900 req/s at t = 60 s over 15 minutes in 1 s ticks. The Python loop is written the way one
would write it by hand (lists, one tick at a time) and is given the same arrivals, start-up
draws and clock phases, so both must produce the same pod counts; the benchmark checks that
and prints the per-replication throughput of each and their ratio.

Usage: python benchmarks/bench_autoscale.py [--replications 2000] [--python-replications 20]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.stats as st

from k8smodel.autoscale import HpaSpec, Trace
from k8smodel.autoscale.simulate import run_controller

SPEC = HpaSpec(max_replicas=100, min_replicas=2, metric_type="Pods", target=14.0)
TRACE = Trace.step(300.0, 900.0, at_s=60, duration_s=900)
CAPACITY = 20.0
STARTUP = st.gamma(4, scale=7.5)
INITIAL = 22


def python_hpa(arrivals, startup, phases, control_from, dt):
    """One hand-written HPA loop over ticks (legacy normalization, Pods metric)."""
    n_t = len(arrivals)
    ready_at = [-1e9] * INITIAL
    draw = 0
    recs = [(control_from, INITIAL)]
    next_sync, next_scrape = phases
    sample, sample_ts = -1.0, -1e9
    ready_hist, pods_hist = [], []
    backlog = 0.0
    res = SPEC.metric_resolution_s
    for k in range(n_t):
        t = k * dt
        while next_scrape <= t:
            k0 = max(int(math.floor((next_scrape - res) / dt + 1e-9)), 0)
            k1 = int(math.floor(next_scrape / dt + 1e-9))
            pod_s = sum(ready_hist[k0:k1]) * dt
            sample = sum(arrivals[k0:k1]) / pod_s if pod_s > 0 else -1.0
            sample_ts = next_scrape
            next_scrape += res
        while next_sync <= t:
            now = next_sync
            next_sync += SPEC.sync_period_s
            if now < control_from or sample < 0:
                continue
            n = len(ready_at)
            counted = sum(1 for r in ready_at if r <= sample_ts - res)
            late = sum(1 for r in ready_at if sample_ts - res < r <= now)
            pending = n - counted - late
            if counted == 0:
                continue
            usage = sample / SPEC.target
            total, count = sample * counted, counted
            if late and usage < 1:
                total, count = total + SPEC.target * late, count + late
            elif late and usage > 1:
                count += late
            if pending and usage > 1:
                count += pending
            if not pending or usage <= 1:
                if not late:
                    within = 0.9 <= usage <= 1.1
                    proposal = n if within else math.ceil(usage * counted)
                else:
                    proposal = _filled(n, usage, total / count / SPEC.target, count)
            else:
                proposal = _filled(n, usage, total / count / SPEC.target, count)
            stab = max([proposal] + [v for (ts, v) in recs if ts >= now - 300])
            recs = [(ts, v) for (ts, v) in recs if ts >= now - 300] + [(now, proposal)]
            desired = min(max(stab, SPEC.min_replicas), SPEC.max_replicas, max(2 * n, 4))
            if desired > n:
                for _ in range(desired - n):
                    ready_at.append(now + startup[draw % len(startup)])
                    draw += 1
            elif desired < n:
                ready_at = sorted(ready_at)[:desired]
        ready = sum(1 for r in ready_at if r <= t)
        backlog += arrivals[k]
        backlog -= min(backlog, ready * CAPACITY * dt)
        ready_hist.append(ready)
        pods_hist.append(len(ready_at))
    return pods_hist


def _filled(n, usage, new_usage, count):
    if 0.9 <= new_usage <= 1.1 or (usage < 1 < new_usage) or (usage > 1 > new_usage):
        return n
    new = math.ceil(new_usage * count)
    if (new_usage < 1 and new > n) or (new_usage > 1 and new < n):
        return n
    return new


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=2000)
    parser.add_argument("--python-replications", type=int, default=20)
    args = parser.parse_args()
    gen = np.random.default_rng(20261130)
    warm = 31  # run_controller's warm-up: ceil((15 + 15) / 1) + 1 ticks
    reps = args.python_replications
    rates = np.concatenate([np.full(warm, TRACE.rates_per_s[0]), TRACE.rates_per_s])
    arrivals = gen.poisson(rates, size=(reps, rates.size)).astype(float)
    startup = STARTUP.rvs(size=(reps, 4 * SPEC.max_replicas + 64), random_state=gen)
    phases = np.zeros((reps, 2))
    # the compiled kernel on exactly these inputs (also compiles it once before timing)
    from k8smodel.autoscale import _kernels
    from k8smodel.autoscale.simulate import _rules_arrays

    up = _rules_arrays(SPEC.effective_scale_up)
    down = _rules_arrays(SPEC.effective_scale_down)
    ph = phases + np.array([warm, warm - 15 * math.floor(warm / 15)])

    def kernel(arr, sup, phs):
        return _kernels.hpa_kernel(
            arr,
            sup,
            phs,
            float(warm),
            1.0,
            CAPACITY,
            INITIAL,
            SPEC.min_replicas,
            SPEC.max_replicas,
            1,
            SPEC.target,
            0.1,
            0.1,
            15.0,
            15.0,
            100.0,
            False,
            *up,
            *down,
            300.0,
        )[0]

    pods_k = kernel(arrivals, startup, ph)
    t0 = time.perf_counter()
    pods_p = [
        python_hpa(arrivals[r].tolist(), startup[r].tolist(), tuple(ph[r]), float(warm), 1.0)
        for r in range(reps)
    ]
    t_py = (time.perf_counter() - t0) / reps
    agree = all(np.array_equal(pods_k[r], pods_p[r]) for r in range(reps))
    # throughput of the public path (draws included) at scale
    big = args.replications
    t0 = time.perf_counter()
    run_controller(
        SPEC,
        TRACE,
        capacity_per_s=CAPACITY,
        startup_s=STARTUP,
        initial_replicas=INITIAL,
        replications=big,
        poisson=True,
        gen=np.random.default_rng(1),
        max_pods=SPEC.max_replicas,
    )
    t_k = (time.perf_counter() - t0) / big
    print(
        f"HPA, 3x step, {TRACE.rates_per_s.size} ticks: pod counts identical in {reps} "
        f"replications: {agree}"
    )
    print(f"plain Python loop: {t_py * 1e3:.2f} ms per replication ({reps} replications)")
    print(f"k8smodel (draws, kernel, waits): {t_k * 1e3:.3f} ms per replication ({big})")
    print(f"ratio: {t_py / t_k:.0f}x faster")


if __name__ == "__main__":
    main()
