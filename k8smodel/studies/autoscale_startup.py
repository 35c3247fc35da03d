"""Autoscaling with pods that start the way :mod:`k8smodel.rollout` says they do.

:mod:`k8smodel.autoscale` takes the pod start-up delay as a number or a frozen
``scipy.stats`` law and imports no other family; this study draws the creation-to-ready time
of a :class:`k8smodel.rollout.PodTiming` (scheduling, volume attach, image pull, start,
warm-up on the readiness-probe grid, crash-loop restarts) and hands it to the autoscaler as
an empirical law.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import scipy.stats as st

from k8smodel import autoscale, rollout
from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_int

__all__ = ["startup_law", "simulate_with_pod_timing"]


def _ready_times(timing: Any, size: int, gen: np.random.Generator) -> np.ndarray:
    sampler = getattr(timing, "sample_startup", None)
    if sampler is not None:
        return np.asarray(sampler(size, gen)[1], dtype=float)
    # the rollout API after its refactor: a module-level sampler
    module_sampler = importlib.import_module("k8smodel.rollout.timing").sample_startup
    return np.asarray(module_sampler(timing, size, gen)[1], dtype=float)


def startup_law(timing: Any, *, samples: int = 20_000, bins: int = 200, rng: RngLike = None):
    """The creation-to-ready time of ``timing`` as a frozen ``scipy.stats`` histogram law.

    Parameters
    ----------
    timing : rollout.PodTiming
        The pod's phase timings.
    samples, bins : int
        Draws from :mod:`k8smodel.rollout`'s start-up sampler and histogram bins.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    scipy.stats frozen distribution
        A point mass (as a number) when every draw is the same.

    Examples
    --------
    >>> law = startup_law(rollout.PodTiming(schedule=1, start=2, warmup=0), rng=1)
    >>> float(law)
    3.0
    """
    if not isinstance(timing, rollout.PodTiming):
        raise TypeError(f"timing must be a rollout.PodTiming; got {type(timing).__name__}")
    n = check_int(samples, "samples", minimum=100)
    ready = _ready_times(timing, n, as_generator(rng))
    if np.ptp(ready) == 0:
        return float(ready[0])
    return st.rv_histogram(np.histogram(ready, bins=check_int(bins, "bins", minimum=2)))()


def simulate_with_pod_timing(
    spec: autoscale.HpaSpec | autoscale.KpaSpec,
    trace: autoscale.Trace,
    timing: Any,
    *,
    rng: RngLike = None,
    **kwargs: Any,
) -> autoscale.AutoscaleResult:
    """:func:`k8smodel.autoscale.simulate` with pods that start like ``timing``.

    ``kwargs`` go to :func:`~k8smodel.autoscale.simulate` (``capacity_per_s`` is required).
    """
    gen = as_generator(rng)
    law = startup_law(timing, rng=gen)
    return autoscale.simulate(spec, trace, startup_s=law, rng=gen, **kwargs)
