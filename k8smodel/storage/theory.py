"""How many nodes volumes need: every heuristic, the exact optimum and the lower bounds.

:func:`nodes_needed` runs :func:`~k8smodel.storage.pack` with each heuristic and the
exact arc-flow optimum, beside the Martello-Toth L2 bound, L1 and the count bound
``ceil(volumes / attach limit)``, and returns them as one table (one row per method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from k8smodel._validate import check_real
from k8smodel.result import Result
from k8smodel.storage.packing import lower_bound, pack
from k8smodel.storage.spec import Node

__all__ = ["nodes_needed"]


def nodes_needed(
    sizes: Any,
    node: Node,
    *,
    methods: Sequence[str] = ("nf", "ffd", "bfd", "wfd"),
    optimal: bool = True,
    time_limit_s: float = 10.0,
    unit: Any = None,
) -> Result:
    """Nodes needed to host volumes, by heuristic, exact optimum and lower bound.

    Parameters
    ----------
    sizes : array_like of int
        Volume sizes, in the unit of ``node.capacity_bytes`` (bytes, or whole units
        such as GiB when the node's capacity is given in them).
    node : Node
        Capacity and attach limit of every node.
    methods : sequence of str, keyword-only
        Heuristics to run.
    optimal : bool, keyword-only
        Also run ``method="optimal"``.
    time_limit_s : float, keyword-only
        Time limit of the exact solver.
    unit : number or "auto", optional, keyword-only
        Passed to the exact solver (see :func:`~k8smodel.storage.pack`).

    Returns
    -------
    Result
        ``summary``: one row per method with ``method``, ``n_bins`` and ``exact``
        (True for a heuristic's own count and a proven optimum), ``optimal`` (proven),
        then rows ``lower_bound`` (L2 with the count bound, raised by the solver's dual
        bound), ``l1`` and ``count_bound`` whose ``exact`` is False (bounds).

    Examples
    --------
    >>> r = nodes_needed([7, 6, 4, 3], Node(capacity_bytes=10, attach_limit=2))
    >>> r.summary.set_index("method").n_bins.to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'nf': 3, 'ffd': 2, 'bfd': 2, 'wfd': 2, 'optimal': 2,
     'lower_bound': 2, 'l1': 2, 'count_bound': 2}
    """
    if not isinstance(node, Node):
        raise TypeError(f"node must be a storage.Node; got {type(node).__name__}")
    time_limit_s = check_real(time_limit_s, "time_limit_s", minimum=0, lower_open=True)
    cap, limit = node.capacity_bytes, node.attach_limit
    rows = []
    for m in methods:
        p = pack(sizes, cap, method=m, max_items_per_bin=limit)
        rows.append({"method": m, "n_bins": p.n_bins, "exact": True, "optimal": p.optimal})
    bound = lower_bound(sizes, cap, max_items_per_bin=limit).value
    notes: tuple[str, ...] = ()
    if optimal:
        p = pack(
            sizes,
            cap,
            method="optimal",
            max_items_per_bin=limit,
            time_limit_s=time_limit_s,
            unit=unit,
        )
        rows.append(
            {"method": "optimal", "n_bins": p.n_bins, "exact": p.optimal, "optimal": p.optimal}
        )
        bound = max(bound, p.lower_bound)
        notes = p.notes
    n = len(pack(sizes, cap, method="nf").sizes)
    for name, value in (
        ("lower_bound", bound),
        ("l1", lower_bound(sizes, cap, kind="L1").value),
        ("count_bound", -(-n // limit) if limit else 0),
    ):
        rows.append({"method": name, "n_bins": int(value), "exact": False, "optimal": False})
    params = {"node": node, "methods": tuple(methods), "time_limit_s": time_limit_s, "items": n}
    return Result(summary=pd.DataFrame(rows), params=params, notes=notes)
