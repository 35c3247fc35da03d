"""StatefulSet, Deployment and DaemonSet rollouts: how long operations take, what they risk.

The family follows ``docs/architecture.md``:

* spec (:mod:`k8smodel.rollout.spec`): :class:`StatefulSet`, :class:`Deployment`,
  :class:`DaemonSet` and :class:`PodTiming`, frozen and validated;
* semantics (:mod:`k8smodel.rollout.semantics`): the controllers' and the kubelet's rules,
  read off ``pkg/controller/statefulset``, ``pkg/controller/deployment`` and
  ``pkg/kubelet``, with the DaemonSet controller's in
  :mod:`k8smodel.rollout.semantics_daemonset`, and the public operation plan
  (:func:`plan_operation`) that theory and simulation share;
* theory (:func:`completion_time`): the completion-time law by convolution (sums), products
  of CDFs (maxima) and their composition (maxUnavailable batches), a :class:`CompletionTime`
  result with ``cdf``/``sf``/``ppf``/``mean``/``var``; point masses are carried exactly
  (:mod:`k8smodel.rollout.grid`, :mod:`k8smodel.rollout.timing`);
* simulation (:func:`simulate`): vectorized Monte Carlo across replications, a
  :class:`RolloutResult` with the same summary columns plus standard errors;
* manifests (:func:`from_manifest`): a workload read from the user's own objects;
* history (:func:`fit_timing`): pod timing fitted to a ``kubectl get pods -o json`` dump;
* the command line ``k8smodel rollout`` (:mod:`k8smodel.rollout.cli`).
"""

from k8smodel.rollout.history import FitResult, fit_timing, pod_phase_durations
from k8smodel.rollout.manifest import Workload, from_manifest, load_objects
from k8smodel.rollout.semantics import (
    MODES,
    OPERATIONS,
    OperationPlan,
    backoff_delays,
    deployment_fenceposts,
    max_unavailable_gate_default,
    plan_operation,
    probe_delay,
    scaled_value,
    slow_start_batches,
    slow_start_offsets,
    statefulset_max_unavailable,
    update_targets,
)
from k8smodel.rollout.semantics_daemonset import (
    DAEMON_TOLERATIONS,
    daemonset_budgets,
    desired_number_scheduled,
    node_should_run_daemon_pod,
    toleration_tolerates,
)
from k8smodel.rollout.simulate import RolloutResult, simulate
from k8smodel.rollout.spec import DaemonSet, Deployment, PodTiming, StatefulSet
from k8smodel.rollout.theory import CompletionTime, completion_time, deterministic_completion

__all__ = [
    "StatefulSet",
    "Deployment",
    "DaemonSet",
    "PodTiming",
    "simulate",
    "RolloutResult",
    "completion_time",
    "CompletionTime",
    "deterministic_completion",
    "plan_operation",
    "OperationPlan",
    "OPERATIONS",
    "MODES",
    "scaled_value",
    "statefulset_max_unavailable",
    "deployment_fenceposts",
    "slow_start_batches",
    "slow_start_offsets",
    "max_unavailable_gate_default",
    "update_targets",
    "probe_delay",
    "backoff_delays",
    "daemonset_budgets",
    "from_manifest",
    "fit_timing",
    "FitResult",
    "pod_phase_durations",
    "Workload",
    "load_objects",
    "node_should_run_daemon_pod",
    "desired_number_scheduled",
    "toleration_tolerates",
    "DAEMON_TOLERATIONS",
]
