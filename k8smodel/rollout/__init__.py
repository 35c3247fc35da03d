"""StatefulSet and Deployment rollout timing: how long operations take, and what they risk.

Three faces:

* semantics (:mod:`k8smodel.rollout.semantics`): the controllers' rules, read off
  ``pkg/controller/statefulset`` and ``pkg/controller/deployment``;
* theory (:func:`completion_time`): the completion-time distribution by convolution (sums),
  products of CDFs (maxima) and their composition (maxUnavailable batches);
* simulation (:func:`simulate`): vectorized Monte Carlo across runs.
"""

from k8smodel.rollout.semantics import (
    Deployment,
    StatefulSet,
    deployment_fenceposts,
    max_unavailable_gate_default,
    scaled_value,
    slow_start_batches,
    statefulset_max_unavailable,
    update_targets,
)
from k8smodel.rollout.simulate import OPERATIONS, RolloutResult, model, simulate
from k8smodel.rollout.theory import CompletionTime, completion_time, deterministic_completion
from k8smodel.rollout.timing import PodTiming, backoff_delays, probe_delay

__all__ = [
    "StatefulSet",
    "Deployment",
    "PodTiming",
    "simulate",
    "RolloutResult",
    "model",
    "completion_time",
    "CompletionTime",
    "deterministic_completion",
    "OPERATIONS",
    "scaled_value",
    "statefulset_max_unavailable",
    "deployment_fenceposts",
    "slow_start_batches",
    "max_unavailable_gate_default",
    "update_targets",
    "probe_delay",
    "backoff_delays",
]
