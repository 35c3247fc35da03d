"""Workloads read from manifests: fields, API defaults, stated assumptions, named errors."""

import json

import pytest

from k8smodel import rollout

STS_YAML = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: pg
  namespace: db
spec:
  replicas: 5
  podManagementPolicy: Parallel
  minReadySeconds: 7
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      partition: 2
      maxUnavailable: 2
  template:
    spec:
      terminationGracePeriodSeconds: 60
      containers:
      - name: pg
        readinessProbe:
          periodSeconds: 3
          initialDelaySeconds: 4
          successThreshold: 2
  volumeClaimTemplates:
  - metadata:
      name: data
"""


def _daemonset(**spec):
    base = {"template": {"spec": {"containers": [{"name": "agent"}]}}}
    base.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": base,
        "status": {"desiredNumberScheduled": 61},
    }


def test_statefulset_fields_are_read(tmp_path):
    path = tmp_path / "sts.yaml"
    path.write_text(STS_YAML)
    w = rollout.from_manifest(path, warmup_mean_s=0.0, start_s=2.0)
    assert (w.kind, w.namespace, w.name) == ("StatefulSet", "db", "pg")
    assert w.spec == rollout.StatefulSet(
        replicas=5, pod_management="Parallel", partition=2, max_unavailable=2
    )
    t = w.timing
    assert (t.probe_period_s, t.probe_initial_delay_s, t.min_ready_seconds) == (3.0, 4.0, 7.0)
    assert t.termination_grace_s == 60.0
    # successThreshold 2 adds one period (3 s) to the start; a claim template brings an attach
    assert t.start == 5.0 and hasattr(t.attach, "dist")
    assert any("volumeClaimTemplates" in a for a in w.assumed)
    assert any("full grace period of 60 s" in a for a in w.assumed)
    assert any("gate off, so maxUnavailable has no effect" in a for a in w.assumed)
    on = rollout.from_manifest(path, max_unavailable_gate=True)
    assert on.spec.effective_max_unavailable == 2


def test_json_list_and_api_defaults():
    obj = {
        "kind": "List",
        "items": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "web"}]}}},
            }
        ],
    }
    w = rollout.from_manifest(json.dumps(obj))
    # apps/v1 defaults: replicas 1, maxSurge and maxUnavailable 25 %, grace 30 s, namespace default
    assert w.spec == rollout.Deployment(replicas=1)
    assert w.namespace == "default" and w.timing.termination_grace_s == 30.0
    assert any("no readiness or startup probe" in a for a in w.assumed)


def test_daemonset_nodes_from_status_or_node_objects():
    w = rollout.from_manifest(
        _daemonset(updateStrategy={"rollingUpdate": {"maxUnavailable": "10%"}})
    )
    assert w.spec.nodes == 61 and w.spec.budgets == (0, 7)  # ceil(6.1)
    nodes = [
        {"metadata": {"name": f"n{i}", "labels": {"pool": "gpu" if i < 3 else "cpu"}}}
        for i in range(10)
    ]
    ds = _daemonset()
    ds["spec"]["template"]["spec"]["nodeSelector"] = {"pool": "gpu"}
    assert rollout.from_manifest(ds, nodes=nodes).spec.nodes == 3


def test_results_carry_the_assumptions():
    w = rollout.from_manifest(_daemonset(), termination_s=2.0)
    res = w.simulate(replications=50, rng=1)
    assert any("exits after 2 s" in n for n in res.notes)
    assert w.completion_time().notes[: len(w.assumed)] == w.assumed


@pytest.mark.parametrize(
    ("obj", "error", "match"),
    [
        (
            _daemonset(
                template={"spec": {"containers": [{"readinessProbe": {"periodSeconds": 0}}]}}
            ),
            ValueError,
            r"DaemonSet kube-system/agent: spec\.template\.spec\.containers\[0\]\.readinessProbe"
            r"\.periodSeconds must be a whole number >= 1; got 0",
        ),
        (_daemonset(minReadySeconds="10"), TypeError, "agent: spec.minReadySeconds"),
        (_daemonset(template={"spec": {}}), ValueError, "agent: spec.template.spec.containers"),
        (
            _daemonset(updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}),
            ValueError,
            "DaemonSet kube-system/agent: max_surge may not be set",
        ),
        ({"kind": "Job", "metadata": {"name": "j"}, "spec": {}}, ValueError, "Job default/j: kind"),
        ({"kind": "Deployment", "metadata": {"name": "d"}}, ValueError, "d: spec is missing"),
    ],
)
def test_bad_manifests_name_object_and_field(obj, error, match):
    with pytest.raises(error, match=match):
        rollout.from_manifest(obj)


def test_daemonset_without_status_needs_nodes():
    obj = _daemonset()
    del obj["status"]
    with pytest.raises(ValueError, match="status.desiredNumberScheduled is missing; pass nodes="):
        rollout.from_manifest(obj)
    assert rollout.from_manifest(obj, nodes=12).spec.nodes == 12
