"""Autoscaling: how fast the HPA and Knative's KPA catch a traffic change, and scale to zero.

It also says what scale to zero costs in cold starts.

What it answers, for a step, a ramp or a given arrival-rate trace: replicas over time,
latency over time (pods join as queues after their start-up delay), the time until p99 is
back under an SLO, requests served over the SLO and pod-seconds used; for scale to zero, the
cold-start fraction and added latency against loaded pod-seconds, for a fixed keep-alive and
for the hybrid histogram policy of Shahrad et al. (USENIX ATC 2020).

Public names
------------
Specs (:mod:`~k8smodel.autoscale.spec`): :class:`HpaSpec`, :class:`ScalingRules`,
:class:`ScalingPolicy`, :class:`KpaSpec`, :class:`Trace`.
Semantics (:mod:`~k8smodel.autoscale.semantics`): the controllers' rules, cited.
Theory: :func:`fluid` (the deterministic limit), :func:`keepalive` (closed form).
Simulation: :func:`simulate`, :func:`simulate_keepalive`; results :class:`AutoscaleResult`,
:class:`KeepaliveResult`.
Manifests: :func:`from_manifest` (HPA autoscaling/v2, Knative Service annotations and the
``config-autoscaler`` ConfigMap).

The family imports no other family: pod start-up delays arrive as a number or a frozen
``scipy.stats`` law (for instance drawn from ``rollout.PodTiming`` by the caller).
"""

from k8smodel.autoscale.manifest import from_manifest
from k8smodel.autoscale.simulate import (
    AutoscaleResult,
    KeepaliveResult,
    simulate,
    simulate_keepalive,
)
from k8smodel.autoscale.spec import HpaSpec, KpaSpec, ScalingPolicy, ScalingRules, Trace
from k8smodel.autoscale.theory import fluid, keepalive

__all__ = [
    "HpaSpec",
    "KpaSpec",
    "ScalingPolicy",
    "ScalingRules",
    "Trace",
    "simulate",
    "simulate_keepalive",
    "fluid",
    "keepalive",
    "AutoscaleResult",
    "KeepaliveResult",
    "from_manifest",
]
