"""Compositions across families (families never import each other; studies may).

* :mod:`k8smodel.studies.service_latency`: per-pod and overall response-time quantiles of a
  Service, from :mod:`k8smodel.service`'s per-pod arrival shares and :mod:`k8smodel.lb`'s
  queueing.
* :mod:`k8smodel.studies.autoscale_startup`: autoscaling with pod start-up times drawn from
  :mod:`k8smodel.rollout`'s ``PodTiming``.
* :mod:`k8smodel.studies.cluster_study`: every family on the workloads of a user's cluster dump
  (:mod:`k8smodel.cluster`), with :mod:`~k8smodel.studies.cluster_sections`,
  :mod:`~k8smodel.studies.cluster_figures` and :mod:`~k8smodel.studies.cluster_report` (HTML/JSON),
  and the ``k8smodel study`` command (:mod:`~k8smodel.studies.cli`).
"""
