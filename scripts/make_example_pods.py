"""Write data/example_pods.json: a small synthetic ``kubectl get pods -o json`` dump.

The dump holds 120 pods of a DaemonSet ``node-agent`` (namespace ``monitoring``) created during
one rolling update, with phase times drawn from known laws, so that
``k8smodel.rollout.fit_timing`` can be checked against the truth:

* schedule: gamma(shape 2, scale 0.5 s);
* attach (volume mount and one init container): lognormal, median 3 s, sigma 0.4;
* container: image pull lognormal (median 6 s, sigma 0.5) + 1 s start + warm-up gamma(2, 4 s),
  marked Ready on the next readiness probe (every 5 s from container start);
* a start crashes with probability 0.1; a crash restarts the container after the kubelet's
  back-off (10 s doubling, cap 300 s) with fresh start and warm-up draws.

Kubernetes stores times to the second, so every timestamp is truncated to whole seconds.
Run from the repository root: ``python scripts/make_example_pods.py`` (seed 20261130).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 20261130
PODS = 120
T0 = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def _stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=int(np.floor(seconds)))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pod(i: int, gen: np.random.Generator) -> dict:
    created = 30.0 * (i // 10) + gen.uniform(0, 20)  # ten nodes at a time, as maxUnavailable 10
    scheduled = created + gen.gamma(2.0, 0.5)
    initialized = scheduled + gen.lognormal(np.log(3.0), 0.4)
    pulled = initialized + gen.lognormal(np.log(6.0), 0.5)
    restarts = int(gen.geometric(0.9) - 1)
    t = pulled + 1.0
    backoff = 10.0
    for _ in range(restarts):  # crash at the end of the warm-up, back off, start again
        t += gen.gamma(2.0, 4.0) + backoff + 1.0
        backoff = min(2 * backoff, 300.0)
    started = t
    warm = gen.gamma(2.0, 4.0)
    ready = started + 5.0 * np.ceil(warm / 5.0)
    name = f"node-agent-{i:03d}"
    conditions = [
        ("PodReadyToStartContainers", initialized - 0.5),
        ("Initialized", initialized),
        ("Ready", ready),
        ("ContainersReady", ready),
        ("PodScheduled", scheduled),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "monitoring",
            "creationTimestamp": _stamp(created),
            "labels": {"app": "node-agent"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-agent"}
            ],
        },
        "spec": {
            "nodeName": f"node-{i:03d}",
            "containers": [
                {
                    "name": "agent",
                    "image": "example/agent:2.0",
                    "readinessProbe": {"periodSeconds": 5},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "startTime": _stamp(scheduled),
            "conditions": [
                {"type": kind, "status": "True", "lastTransitionTime": _stamp(at)}
                for kind, at in conditions
            ],
            "containerStatuses": [
                {"name": "agent", "ready": True, "started": True, "restartCount": restarts}
            ],
        },
    }


def main() -> None:
    """Write the dump."""
    gen = np.random.default_rng(SEED)
    dump = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [_pod(i, gen) for i in range(PODS)],
        "metadata": {"resourceVersion": ""},
    }
    out = Path(__file__).resolve().parents[1] / "data" / "example_pods.json"
    out.write_text(json.dumps(dump, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({PODS} pods)")


if __name__ == "__main__":
    main()
