"""Pod timing fitted from a pods dump: durations by hand, the timestamp model, the known truth."""

import json
import math

import numpy as np
import pytest
import scipy.stats as st

from k8smodel import data_dir, rollout


def _pod(name, created, scheduled, initialized, ready, restarts=0):
    stamp = "2026-11-30T10:{:02d}:{:02d}Z".format
    return {
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "creationTimestamp": stamp(*divmod(created, 60)),
        },
        "status": {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastTransitionTime": stamp(*divmod(scheduled, 60)),
                },
                {
                    "type": "Initialized",
                    "status": "True",
                    "lastTransitionTime": stamp(*divmod(initialized, 60)),
                },
                {
                    "type": "ContainersReady",
                    "status": "True",
                    "lastTransitionTime": stamp(*divmod(ready, 60)),
                },
                {
                    "type": "Ready",
                    "status": "True",
                    "lastTransitionTime": stamp(*divmod(ready, 60)),
                },
            ],
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        },
    }


DUMP = {
    "kind": "List",
    "items": [
        _pod("a", 0, 1, 5, 25),
        _pod("b", 10, 12, 15, 45, restarts=2),
        _pod("c", 20, 20, 24, 40),
        {"kind": "Pod", "metadata": {"name": "pending"}, "status": {"conditions": []}},
    ],
}


def test_phase_durations_by_hand():
    table = rollout.pod_phase_durations(json.dumps(DUMP))
    assert list(table.pod) == ["Pod ns/a", "Pod ns/b", "Pod ns/c"]  # the pending pod is left out
    assert list(table.schedule_s) == [1, 2, 0]
    assert list(table.attach_s) == [4, 3, 4]
    assert list(table.warmup_s) == [20, 30, 16]
    assert list(table.restarts) == [0, 2, 0]


def test_crash_probability_is_the_geometric_mle():
    fit = rollout.fit_timing(DUMP)
    r = 2 / 3  # mean restarts
    assert fit.timing.failure_p == pytest.approx(r / (1 + r))
    # the pod that restarted is left out of the warm-up fit: 2 pods, 20 and 16 s
    row = fit.summary.set_index("phase").loc["warmup"]
    assert row.pods == 2 and row.mean_s == 18.0


def test_observed_cdf_matches_second_resolution_timestamps():
    # independent check: draw X and a uniform phase, record floor(u + X) as two truncated stamps
    gen = np.random.default_rng(4)
    law = st.gamma(2, scale=1.5)
    x = law.rvs(size=400_000, random_state=gen)
    u = gen.uniform(size=x.size)
    recorded = np.floor(u + x)
    k = np.arange(0, 10)
    empirical = np.array([(recorded <= kk).mean() for kk in k])
    assert np.abs(rollout.history.observed_cdf(law.cdf, k) - empirical).max() < 5e-3


def test_example_dump_recovers_the_generator_truth():
    # scripts/make_example_pods.py: schedule gamma(2, 0.5 s) (mean 1 s, sd 0.71 s), attach
    # lognormal median 3 s; crash probability 0.1
    fit = rollout.fit_timing(data_dir() / "example_pods.json")
    n = fit.params["pods"]
    assert n == 120
    assert abs(fit.timing.schedule.mean() - 1.0) < 5 * 0.71 / math.sqrt(n) + 0.1
    assert abs(fit.timing.attach.median() - 3.0) < 0.5
    # crashes: restarts ~ geometric, p = 0.1 -> SE of p-hat about sqrt(p (1-p)^2 / n)
    assert abs(fit.timing.failure_p - 0.1) < 5 * math.sqrt(0.1 * 0.81 / n)
    assert (fit.summary.ks_pvalue > 0.01).all()
    empirical = rollout.fit_timing(data_dir() / "example_pods.json", family="empirical")
    assert set(empirical.summary.method) == {"empirical"}
    # the fitted timing runs: a 120-node DaemonSet, 10 at a time
    res = rollout.simulate(
        rollout.DaemonSet(nodes=120, max_unavailable=10),
        "rolling_update",
        fit.timing,
        replications=200,
        rng=1,
    )
    assert np.isfinite(res.summary.mean_s[0])


def test_bad_dumps_are_named():
    bad = {"kind": "List", "items": [_pod("a", 0, 5, 3, 9), _pod("b", 0, 1, 2, 3)]}
    with pytest.raises(ValueError, match="Pod ns/a: its conditions are out of order"):
        rollout.fit_timing(bad)
    with pytest.raises(ValueError, match="at least 2 pods"):
        rollout.fit_timing({"kind": "List", "items": [_pod("a", 0, 1, 2, 3)]})
    with pytest.raises(ValueError, match="family"):
        rollout.fit_timing(DUMP, family="normal")
