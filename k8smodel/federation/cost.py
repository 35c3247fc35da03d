"""What a federation costs: clusters, headroom, and data moved between regions.

Three terms, per month:

* **fixed**: per-cluster fixed cost (control plane, system nodes, monitoring), times
  the number of clusters;
* **capacity**: the cost of the serving capacity, scaled by the capacity multiplier
  (capacity bought, including headroom to absorb failed neighbours, over capacity
  used when healthy);
* **transfer**: replication traffic between regions at per-GB prices, plus
  internet egress of responses.

Transfer prices come from ``data/federation_transfer_prices.csv`` (AWS list
prices, the 2023 snapshot of REFERENCE.md §4: see ``data/SOURCES.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_real, check_vector
from k8smodel.federation.geo import DATA_DIR, catalog_row
from k8smodel.federation.results import FederationResult

__all__ = [
    "transfer_prices",
    "transfer_price_usd_per_gb",
    "monthly_cost",
    "EKS_CONTROL_PLANE_USD_MONTH",
]

#: EKS control plane, $0.10 per hour x 730 h (aws.amazon.com/eks/pricing, 2023).
EKS_CONTROL_PLANE_USD_MONTH = 73.0


@lru_cache(maxsize=1)
def transfer_prices() -> pd.DataFrame:
    """The transfer price table (``data/federation_transfer_prices.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``provider``, ``kind`` (``inter_region`` or ``internet_egress``),
        ``src``, ``dst`` (a region id, ``area:<area>`` or ``*``), ``usd_per_gb``, ``note``.
    """
    return pd.read_csv(DATA_DIR / "federation_transfer_prices.csv")


def _catalog_row(name: Any) -> pd.Series:
    if not isinstance(name, str):
        raise ValueError(
            f"transfer prices need catalog region names; got {name!r} (a point has no price: "
            "pass region names, or leave replication_gb and egress_gb at 0)"
        )
    return catalog_row(name)


def _area(name: str) -> str:
    return str(_catalog_row(name).area)


def _region_id(name: str) -> str:
    return str(_catalog_row(name).region)


def transfer_price_usd_per_gb(src: str, dst: str | None = None) -> float:
    """Per-GB price of moving data out of region ``src`` (to ``dst``, or to the internet).

    Parameters
    ----------
    src : str
        Source region name (a catalog region).
    dst : str, optional
        Destination region; ``None`` prices internet egress.

    Returns
    -------
    float
        USD per GB, billed at the source.

    Raises
    ------
    ValueError
        ``src`` or ``dst`` is not a catalog region name (close matches are suggested).

    Notes
    -----
    The first matching row wins: an explicit region pair, then the source's
    area (US and Canada, Europe at $0.02/GB), then the catch-all (other source
    regions, at the upper end of the published range, about $0.15/GB). AWS bills
    inter-region transfer at the source only. GCP and Azure regions are priced
    with the same table by their area: an approximation, not their price lists.
    """
    table = transfer_prices()
    _region_id(src)  # raises for an unknown name
    if dst is None:
        return float(table[table.kind == "internet_egress"].usd_per_gb.iloc[0])
    if _region_id(src) == _region_id(dst):
        return 0.0
    s, area = _region_id(src), _area(src)
    rows = table[table.kind == "inter_region"]
    for row in rows.itertuples():
        src_ok = row.src == s or row.src == f"area:{area}" or row.src == "*"
        dst_ok = row.dst == "*" or row.dst == _region_id(dst)
        if src_ok and dst_ok:
            return float(str(row.usd_per_gb))
    raise ValueError(f"no transfer price for {src!r} -> {dst!r}")


def monthly_cost(
    clusters: Sequence[Any],
    *,
    traffic_share: Any,
    capacity_multiplier: float = 1.0,
    fixed_usd_per_cluster: float = EKS_CONTROL_PLANE_USD_MONTH,
    capacity_usd: float = 0.0,
    replication_gb: float = 0.0,
    egress_gb: float = 0.0,
) -> FederationResult:
    """Monthly cost of running a service on ``clusters``.

    Parameters
    ----------
    clusters : sequence of str
        Region names of the clusters. Transfer prices are looked up by catalog
        region, so with ``replication_gb`` or ``egress_gb`` above 0 every entry
        must be a catalog region name (``(lat, lon)`` points raise ValueError).
    traffic_share : sequence of float
        Fraction of traffic (and of writes) originating at each cluster.
    capacity_multiplier : float, default 1
        Capacity bought over capacity used, ``>= 1`` (see :func:`k8smodel.federation.headroom`).
    fixed_usd_per_cluster : float, default 73
        Fixed cost per cluster and month (default: the EKS control plane alone).
    capacity_usd : float, default 0
        What serving the whole load costs per month with no headroom.
    replication_gb : float, default 0
        GB written per month that every other cluster must receive.
    egress_gb : float, default 0
        GB of responses sent to users per month.

    Returns
    -------
    FederationResult
        One row: ``fixed_usd``, ``capacity_usd``, ``headroom_usd`` (the part of capacity
        spent on headroom), ``replication_usd``, ``egress_usd``, ``total_usd`` (all per
        month), ``method`` (``"list_prices"``) and ``exact``.

    Notes
    -----
    Replication: each cluster ``i`` sends its writes (``traffic_share[i] *
    replication_gb``) to every other cluster, at the price from ``i``:
    ``sum_i share_i * GB * sum_{j != i} price(i, j)``. Cost grows like ``k - 1``.

    Examples
    --------
    >>> monthly_cost(["us-east-1", "eu-west-1"], traffic_share=[0.5, 0.5]).value("total_usd")
    146.0
    """
    names = list(clusters)
    repeated = sorted({str(c) for c in names if names.count(c) > 1})
    if repeated:
        raise ValueError(f"clusters must be distinct; {repeated} repeat")
    share = check_vector(traffic_share, "traffic_share", size=len(names), minimum=0)
    # capacity bought over capacity used: below 1 the load would not fit (negative headroom)
    capacity_multiplier = check_real(capacity_multiplier, "capacity_multiplier", minimum=1.0)
    fixed_usd_per_cluster = check_real(fixed_usd_per_cluster, "fixed_usd_per_cluster", minimum=0.0)
    capacity_usd = check_real(capacity_usd, "capacity_usd", minimum=0.0)
    replication_gb = check_real(replication_gb, "replication_gb", minimum=0.0)
    egress_gb = check_real(egress_gb, "egress_gb", minimum=0.0)
    replication = egress = 0.0
    if replication_gb > 0:
        price = np.array([[transfer_price_usd_per_gb(a, b) for b in names] for a in names])
        replication = float(replication_gb * (share * price.sum(axis=1)).sum())
    if egress_gb > 0:
        egress = float(
            egress_gb
            * sum(s * transfer_price_usd_per_gb(n) for n, s in zip(names, share, strict=True))
        )
    fixed = fixed_usd_per_cluster * len(names)
    capacity = capacity_usd * capacity_multiplier
    total = fixed + capacity + replication + egress
    row = {
        "fixed_usd": float(fixed),
        "capacity_usd": float(capacity),
        "headroom_usd": float(capacity_usd * (capacity_multiplier - 1)),
        "replication_usd": replication,
        "egress_usd": egress,
        "total_usd": float(total),
        "method": "list_prices",
        "exact": True,
    }
    return FederationResult(summary=pd.DataFrame([row]), params={"clusters": len(names)})
