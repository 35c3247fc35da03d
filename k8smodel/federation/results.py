"""The federation family's result type: :class:`k8smodel.Result` with its tables and arrays.

One subclass for every federation verb, so ``evaluate``, ``place``, ``availability``,
``failover_time`` and the simulations all print and serialise the same way; attributes a
verb does not fill stay ``None`` (and are not listed in the notebook view).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from k8smodel.result import Result

__all__ = ["FederationResult"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FederationResult(Result):
    """A :class:`k8smodel.Result` with the federation's per-item tables and raw samples.

    Attributes
    ----------
    per_cluster : pandas.DataFrame or None
        One row per cluster (traffic share, required share, headroom).
    per_user : pandas.DataFrame or None
        The user table with the RTT each user sees and the cluster serving it.
    latency_ms : numpy.ndarray or None
        The ``(users, clusters)`` RTT matrix used.
    samples : numpy.ndarray or None
        Raw simulated values (e.g. failover times, s).
    regions : list or None
        Chosen regions (:func:`k8smodel.federation.place`), in candidate order.
    """

    per_cluster: pd.DataFrame | None = None
    per_user: pd.DataFrame | None = None
    latency_ms: np.ndarray | None = None
    samples: np.ndarray | None = None
    regions: list[Any] | None = None

    def _extras(self) -> dict[str, Any]:
        return {k: v for k, v in super()._extras().items() if v is not None}

    def value(self, column: str) -> Any:
        """The single value of ``column`` in a one-row summary (a convenience for scripts).

        Examples
        --------
        >>> from k8smodel import federation as fed
        >>> fed.failover_time(ttl_s=60).value("total_worst_s")
        180.0
        """
        if len(self.summary) != 1:
            raise ValueError(f"value() needs a one-row summary; this one has {len(self.summary)}")
        out = self.summary[column].iloc[0]
        return out.item() if isinstance(out, np.generic) else out

    @property
    def mean_rtt_ms(self) -> float:
        """The population-weighted mean RTT of a placement (``summary.mean_rtt_ms``)."""
        return float(self.value("mean_rtt_ms"))
