"""k8smodel: quantitative models of Kubernetes traffic, placement, rollouts and storage.

Submodules are imported on first use (``k8smodel.lb``, ``k8smodel.metrics``,
...), so ``import k8smodel`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "autoscale",
    "cluster",
    "federation",
    "lab",
    "lb",
    "metrics",
    "netpol",
    "plotting",
    "rollout",
    "service",
    "storage",
    "studies",
}

__all__ = [
    "__version__",
    "sweep",
    "SweepError",
    "Result",
    "data_dir",
    "shared_data_dir",
    *sorted(_SUBMODULES),
]


def __getattr__(name: str):
    if name in {"sweep", "SweepError"}:
        from k8smodel import _sweep

        return getattr(_sweep, name)
    if name == "Result":
        from k8smodel.result import Result

        return Result
    if name in {"data_dir", "shared_data_dir"}:
        from k8smodel import _data

        return getattr(_data, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"k8smodel.{name}")
    raise AttributeError(f"module 'k8smodel' has no attribute {name!r}")
