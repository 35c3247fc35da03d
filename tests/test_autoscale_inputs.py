"""Specs, traces and manifests: validation and parsing of the autoscale family's inputs."""

import textwrap

import numpy as np
import pytest
import yaml

from k8smodel.autoscale import (
    HpaSpec,
    KpaSpec,
    ScalingPolicy,
    ScalingRules,
    Trace,
    from_manifest,
    simulate,
)
from k8smodel.autoscale.manifest import duration_s


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: HpaSpec(min_replicas=5, max_replicas=3), ValueError, "minReplicas"),
        (lambda: HpaSpec(metric_type="Memory"), ValueError, "metric type"),
        (lambda: HpaSpec(sync_period_s=0), ValueError, "sync_period_s"),
        (lambda: HpaSpec(metric_resolution_s=-1), ValueError, "metric_resolution_s"),
        (lambda: HpaSpec(max_replicas=2.0), TypeError, "maxReplicas"),
        (lambda: HpaSpec(min_replicas=0), ValueError, "HPAScaleToZero"),
        (lambda: ScalingPolicy("Pods", 4, 0), ValueError, "periodSeconds"),
        (lambda: ScalingPolicy("Replicas", 4, 15), ValueError, "policy type"),
        (lambda: ScalingRules((), "Max"), ValueError, "policies"),
        (
            lambda: ScalingRules((ScalingPolicy("Pods", 1, 15),), "Max", -1),
            ValueError,
            "stabilizationWindowSeconds",
        ),
        (lambda: KpaSpec(stable_window_s=0), ValueError, "stable-window"),
        (lambda: KpaSpec(panic_window_percentage=0), ValueError, "panic-window-percentage"),
        (lambda: KpaSpec(min_scale=5, max_scale=3), ValueError, "min-scale"),
        (lambda: KpaSpec(metric="cpu"), ValueError, "metric"),
        (lambda: KpaSpec(max_scale_up_rate=1.0), ValueError, "max-scale-up-rate"),
        (lambda: KpaSpec(tick_s=0), ValueError, "tick_s"),
        (lambda: Trace([1.0, -2.0]), ValueError, "rates_per_s"),
        (lambda: Trace([1.0], dt_s=0), ValueError, "dt_s"),
    ],
)
def test_bad_specs_are_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_defaults_are_upstream_defaults():
    hpa = HpaSpec()
    # pkg/controller/podautoscaler/config/v1alpha1/defaults.go
    assert (hpa.sync_period_s, hpa.tolerance, hpa.downscale_stabilization_s) == (15, 0.1, 300)
    assert (hpa.cpu_initialization_period_s, hpa.initial_readiness_delay_s) == (300, 30)
    up = hpa.effective_scale_up  # pkg/apis/autoscaling/v2/defaults.go
    assert [(p.type, p.value, p.period_s) for p in up.policies] == [
        ("Pods", 4, 15),
        ("Percent", 100, 15),
    ]
    assert hpa.effective_scale_down.stabilization_window_s == 300
    kpa = KpaSpec()  # knative/serving pkg/autoscaler/config/config.go defaultConfig
    assert (kpa.target_value, kpa.stable_window_s, kpa.panic_window_s) == (70.0, 60.0, 6.0)
    assert (kpa.panic_threshold, kpa.max_scale_up_rate, kpa.max_scale_down_rate) == (2, 1000, 2)
    assert kpa.scale_to_zero_grace_period_s == 30 and kpa.scales_to_zero


def test_traces(tmp_path):
    step = Trace.step(10, 30, at_s=5, duration_s=10)
    assert step.rates_per_s.tolist() == [10] * 5 + [30] * 5
    ramp = Trace.ramp(0, 10, start_s=2, end_s=7, duration_s=10)
    assert ramp.rates_per_s.tolist() == [0, 0, 0, 2, 4, 6, 8, 10, 10, 10]
    path = tmp_path / "rates.csv"
    path.write_text("t,rps\n0,1.5\n1,2.5\n")
    tr = Trace.from_csv(path, column="rps", dt_s=60)
    assert tr.rates_per_s.tolist() == [1.5, 2.5] and tr.duration_s == 120
    with pytest.raises(ValueError, match="column must be one of"):
        Trace.from_csv(path, column="rate")


def test_simulate_refuses_bad_input_and_oversized_work():
    tr = Trace.step(1, 2, at_s=1, duration_s=10)
    with pytest.raises(TypeError, match="spec"):
        simulate("hpa", tr, capacity_per_s=1)
    with pytest.raises(TypeError, match="replications"):
        simulate(HpaSpec(), tr, capacity_per_s=1, replications=2.0)
    with pytest.raises(ValueError, match="max_pods"):
        simulate(KpaSpec(), tr, capacity_per_s=1)
    with pytest.raises(ValueError, match="GiB"):
        simulate(HpaSpec(), Trace(np.ones(10**6)), capacity_per_s=1, replications=10**4)


HPA = textwrap.dedent("""
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web, namespace: shop}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 2
      maxReplicas: 30
      metrics:
      - type: Pods
        pods:
          metric: {name: http_requests_per_second}
          target: {type: AverageValue, averageValue: 1500m}
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 30
        scaleDown:
          policies:
          - {type: Pods, value: 2, periodSeconds: 60}
          selectPolicy: Min
""")


def test_hpa_manifest_with_partial_behavior():
    spec = from_manifest(HPA)
    assert (spec.min_replicas, spec.max_replicas, spec.metric_type) == (2, 30, "Pods")
    assert spec.target == pytest.approx(1.5)
    # copyHPAScalingRules: given fields over the defaults
    assert spec.scale_up.stabilization_window_s == 30
    assert len(spec.scale_up.policies) == 2 and spec.scale_up.select_policy == "Max"
    assert spec.scale_down.select_policy == "Min"
    assert spec.scale_down.stabilization_window_s == 300  # the controller's flag
    assert [(p.type, p.value, p.period_s) for p in spec.scale_down.policies] == [("Pods", 2, 60)]


def test_hpa_manifest_without_metrics_is_cpu_80():
    doc = yaml.safe_load(HPA)
    del doc["spec"]["metrics"], doc["spec"]["behavior"]
    spec = from_manifest(doc)
    assert (spec.metric_type, spec.target, spec.has_behavior) == ("Resource", 80.0, False)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda d: d["spec"]["metrics"][0].update(type="Custom"),
            r"HorizontalPodAutoscaler shop/web: spec.metrics\[0\].type",
        ),
        (lambda d: d["spec"].pop("maxReplicas"), "shop/web: spec.maxReplicas is required"),
        (lambda d: d["spec"].update(minReplicas=40), "shop/web: spec minReplicas"),
        (
            lambda d: d["spec"]["behavior"]["scaleDown"]["policies"][0].update(periodSeconds=0),
            r"shop/web: spec.behavior.scaleDown.policies",
        ),
        (
            lambda d: d["spec"]["metrics"][0]["pods"]["target"].update(averageValue="lots"),
            "averageValue must be a Kubernetes quantity",
        ),
    ],
)
def test_hpa_manifest_errors_name_object_and_field(edit, match):
    doc = yaml.safe_load(HPA)
    edit(doc)
    with pytest.raises(ValueError, match=match):
        from_manifest(doc)


KNATIVE = textwrap.dedent("""
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: config-autoscaler, namespace: knative-serving}
    data:
      stable-window: "2m"
      container-concurrency-target-percentage: "80"
      scale-to-zero-grace-period: "45s"
    ---
    apiVersion: serving.knative.dev/v1
    kind: Service
    metadata: {name: fn, namespace: demo}
    spec:
      template:
        metadata:
          annotations:
            autoscaling.knative.dev/target: "20"
            autoscaling.knative.dev/window: "90s"
            autoscaling.knative.dev/max-scale: "40"
        spec:
          containerConcurrency: 10
""")


def test_knative_annotations_over_config_map(tmp_path):
    path = tmp_path / "svc.yaml"
    path.write_text(KNATIVE)
    spec = from_manifest(path)
    assert spec.stable_window_s == 90.0  # the annotation wins over the ConfigMap
    assert spec.target_utilization == pytest.approx(0.8)
    assert spec.scale_to_zero_grace_period_s == 45.0
    assert spec.target == 10.0  # capped by containerConcurrency
    assert spec.max_scale == 40


def test_knative_errors_name_object_and_field():
    bad = KNATIVE.replace('"90s"', '"soon"')
    with pytest.raises(ValueError, match="Service demo/fn: .*autoscaling.knative.dev/window"):
        from_manifest(bad)
    hpa_class = KNATIVE.replace(
        'autoscaling.knative.dev/target: "20"',
        "autoscaling.knative.dev/class: hpa.autoscaling.knative.dev",
    )
    with pytest.raises(ValueError, match="class"):
        from_manifest(hpa_class)
    with pytest.raises(ValueError, match="exactly one"):
        from_manifest(HPA + "---\n" + KNATIVE)
    assert isinstance(from_manifest(HPA + "---\n" + KNATIVE, name="fn"), KpaSpec)


def test_go_durations():
    assert duration_s({}, "f", "1m30s") == 90 and duration_s({}, "f", "500ms") == 0.5
    with pytest.raises(ValueError, match="duration"):
        duration_s({"kind": "X"}, "f", "1 minute")
