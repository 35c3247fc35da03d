"""Rolling updates against an event-driven replay of the StatefulSet controller's sync loop.

The reference below is written independently of ``k8smodel.rollout.simulate`` (which uses
closed recursions over pods): it advances a clock from event to event and, at each instant,
runs the rules of ``updateStatefulSet`` in ``pkg/controller/statefulset/stateful_set_control.go``
(kubernetes/kubernetes, commit 0004b149 in the search index):

* ``processReplica``: a missing pod is created (OrderedReady stops the pass after a creation
  and at the first pod that is terminating or not available);
* gate off: from the highest ordinal down to the partition, delete the first pod still on the
  old revision, and stop at a pod that ``isUnavailable(pod, minReadySeconds)``;
* gate on (``updateStatefulSetAfterInvariantEstablished``): count unavailable replicas; if at
  most ``maxUnavailable``, delete up to ``maxUnavailable - unavailable`` old pods from the top.

Per-pod times are drawn here with scipy, the probe grid applied by hand.
"""

import math

import numpy as np
import pytest
import scipy.stats as st

from k8smodel import rollout

WARMUP = st.gamma(2, scale=5)
TERMINATION = st.uniform(0, 10)
PERIOD, MRS = 2.0, 5.0
TIMING = rollout.PodTiming(
    warmup=WARMUP, probe_period_s=PERIOD, termination=TERMINATION, min_ready_seconds=MRS
)


def replay(n, partition, ordered, gate, k, ready, term, mrs):
    """Completion time of one rolling update; ``ready[o]``/``term[o]`` per ordinal."""
    exists = [True] * n
    new = [False] * n
    term_end = [None] * n  # set while the old pod terminates
    avail_at = [-math.inf] * n
    t = 0.0

    def available(o):
        return exists[o] and term_end[o] is None and t >= avail_at[o] - 1e-9

    for _ in range(10_000):
        for o in range(n):
            if term_end[o] is not None and t >= term_end[o] - 1e-9:
                exists[o], term_end[o] = False, None
        blocked = False
        for o in range(n):  # processReplica, ascending ordinals
            if not exists[o]:
                exists[o], new[o] = True, o >= partition
                avail_at[o] = t + ready[o] + mrs
                if ordered:
                    blocked = True
                    break
                continue
            if ordered and not available(o):
                blocked = True
                break
        if not blocked:
            if not gate:
                for o in range(n - 1, partition - 1, -1):
                    if not new[o] and term_end[o] is None:
                        term_end[o] = t + term[o]
                        break
                    if not available(o):
                        break
            else:
                unavailable = sum(not available(o) for o in range(n))
                budget = k - unavailable
                for o in range(n - 1, partition - 1, -1):
                    if budget <= 0:
                        break
                    if not new[o] and term_end[o] is None:
                        term_end[o] = t + term[o]
                        budget -= 1
        if all(new[o] and available(o) for o in range(partition, n)):
            return t
        pending = [x for x in term_end if x is not None and x > t + 1e-9]
        pending += [x for x in avail_at if x > t + 1e-9]
        t = min(pending)
    raise AssertionError("the replay made no progress")


def replay_many(runs, n, partition, ordered, gate, k, rng):
    gen = np.random.default_rng(rng)
    w = WARMUP.rvs(size=(runs, n), random_state=gen)
    ready = PERIOD * np.ceil(w / PERIOD - 1e-12)
    term = TERMINATION.rvs(size=(runs, n), random_state=gen)
    return np.array(
        [replay(n, partition, ordered, gate, k, ready[r], term[r], MRS) for r in range(runs)]
    )


CASES = [
    # (policy, gate, maxUnavailable, partition)
    ("Parallel", False, 1, 0),  # finding: Parallel waits for minReadySeconds at every step
    ("Parallel", True, 3, 0),  # the window counts unavailable (not just unready) pods
    ("Parallel", True, 3, 2),
    ("OrderedReady", False, 1, 0),
    ("OrderedReady", True, 3, 1),
]


@pytest.mark.parametrize(("policy", "gate", "k", "partition"), CASES)
def test_rolling_update_mean_matches_event_replay(policy, gate, k, partition):
    n, runs_ref, runs_sim = 8, 1500, 20_000
    ref = replay_many(runs_ref, n, partition, policy == "OrderedReady", gate, k, rng=3)
    sts = rollout.StatefulSet(
        replicas=n,
        pod_management=policy,
        partition=partition,
        max_unavailable=k,
        max_unavailable_gate=gate,
    )
    sim = rollout.simulate(sts, "rolling_update", TIMING, replications=runs_sim, rng=4).samples
    se = math.sqrt(ref.var(ddof=1) / runs_ref + sim.var(ddof=1) / runs_sim)
    assert abs(sim.mean() - ref.mean()) < 5 * se, (sim.mean(), ref.mean(), se)
    for q in (0.1, 0.5, 0.9):
        # quantiles: 5 SE of the reference's sample quantile (normal approximation)
        x = np.quantile(ref, q)
        dens = np.mean(np.abs(ref - x) < 5.0) / 10.0
        tol = 5 * math.sqrt(q * (1 - q) * (1 / runs_ref + 1 / runs_sim)) / dens
        assert abs(np.quantile(sim, q) - x) < tol, (q, np.quantile(sim, q), x, tol)


def test_parallel_one_at_a_time_pays_min_ready_at_every_step():
    # deterministic: each step waits D + S + minReady; 8 pods -> 8 (D + S + 5) exactly,
    # 35 s more than the older controllers (isHealthy only), which paid minReady once.
    timing = rollout.PodTiming(warmup=10, termination=3, min_ready_seconds=5)
    sts = rollout.StatefulSet(replicas=8, pod_management="Parallel")
    expected = 8 * (3 + 10 + 5)
    got = rollout.simulate(sts, "rolling_update", timing, replications=2, rng=0).samples
    np.testing.assert_allclose(got, expected)
    ref = replay(8, 0, False, False, 1, [10.0] * 8, [3.0] * 8, 5.0)
    assert ref == pytest.approx(expected)
    assert rollout.completion_time(sts, "rolling_update", timing).mean() == pytest.approx(expected)
