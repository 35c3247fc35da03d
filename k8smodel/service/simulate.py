"""Vectorized Monte Carlo of a Service's traffic: connections, clients, affinity, kube-proxy.

Per replication, ``connections`` arrive as a Poisson stream at
``request_rate_per_s / requests_per_connection``; each belongs to one of ``clients``
clients (or to a client of its own when ``clients`` is None) and enters on a node:

* internal traffic: the client's home node, drawn once per client from the entry weights;
* a LoadBalancer in node mode or a NodePort: a node per connection (the balancer hashes the
  connection's 5-tuple), among the nodes passing the health check;
* a LoadBalancer in IP mode: a ready pod per connection, kube-proxy bypassed.

kube-proxy on the entry node picks uniformly among its endpoint list. With
``sessionAffinity: ClientIP`` it remembers, per node (the iptables ``recent`` list, the
nftables/IPVS affinity maps are node-local), the pod a client IP last used and reuses it
while the client's previous connection through that node is less than the timeout old
(``-m recent --rcheck --seconds <timeout> --reap`` in pkg/proxy/iptables/proxier.go: the
timer restarts on every use). Each connection carries a geometric number of requests
(mean ``requests_per_connection``), all to the same pod.

Everything is drawn as ``(replications, connections)`` arrays; the affinity sessions come
from one sort by (client, node, time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from k8smodel import metrics
from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_budget, check_int, check_real
from k8smodel.service._plan import Plan, make_plan
from k8smodel.service.spec import Layout, Service
from k8smodel.service.theory import (
    Load,
    ServiceResult,
    cost_and_load,
    flags_and_notes,
    flow_metrics,
    params_of,
    summary_row,
    tables,
)

__all__ = ["simulate"]

_BYTES_PER_CONNECTION = 96  # about a dozen (replications x connections) arrays of 8 bytes


def _routes(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Per node: how many endpoints kube-proxy keeps and their pod indices (padded)."""
    keep = plan.matrix > 0
    counts = keep.sum(axis=1)
    table = np.zeros((len(counts), max(int(counts.max(initial=0)), 1)), dtype=np.int64)
    for i, row in enumerate(keep):
        idx = np.flatnonzero(row)
        table[i, : idx.size] = idx
    return counts, table


def _session_uniforms(
    rng: np.random.Generator, key: np.ndarray, times: np.ndarray, timeout_s: float
) -> np.ndarray:
    """One uniform per affinity session: a key's run of connections with gaps <= timeout."""
    flat_key, flat_t = key.ravel(), times.ravel()
    # Times increase along each row and keys carry the replication, so a stable sort by key
    # alone already orders each key's connections in time (and is a radix sort for ints).
    order = np.argsort(flat_key, kind="stable")
    k, t = flat_key[order], flat_t[order]
    new = np.ones(k.size, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (np.diff(t) > timeout_s)
    session = np.cumsum(new) - 1
    draws = rng.random(int(session[-1]) + 1 if session.size else 0)
    out = np.empty(k.size)
    out[order] = draws[session]
    return out.reshape(key.shape)


def _entry_and_uniform(
    rng: np.random.Generator,
    plan: Plan,
    service: Service,
    reps: int,
    conns: int,
    clients: int | None,
    rate_per_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Entry node (or pod in IP mode) and the uniform that picks the endpoint, per connection."""
    size = (reps, conns)
    n_entry = plan.entry.size
    if clients is None:
        # every connection its own client: no stickiness, entry drawn per connection
        return rng.choice(n_entry, size=size, p=plan.entry), rng.random(size)
    times = np.cumsum(rng.exponential(1.0 / max(rate_per_s, 1e-300), size), axis=1)
    client = rng.integers(0, clients, size)
    if plan.source == "internal":
        home = rng.choice(n_entry, size=(reps, clients), p=plan.entry)
        entry = np.take_along_axis(home, client, axis=1)
    else:
        entry = rng.choice(n_entry, size=size, p=plan.entry)
    if service.session_affinity != "ClientIP" or plan.ip_mode or rate_per_s == 0:
        return entry, rng.random(size)
    key = (np.arange(reps)[:, None] * clients + client) * n_entry + entry
    return entry, _session_uniforms(rng, key, times, service.affinity_timeout_s)


def simulate(
    service: Service,
    layout: Layout,
    *,
    connections: int = 20_000,
    replications: int = 8,
    clients: int | None = None,
    requests_per_connection: float = 1.0,
    source: str | None = None,
    client_weights: Mapping[str, float] | None = None,
    failed_zones: Iterable[str] = (),
    failed_nodes: Iterable[str] = (),
    request_rate_per_s: float = 100.0,
    mean_service_s: float = 0.02,
    pod_concurrency: int = 1,
    bytes_per_request: float = 10_000.0,
    usd_per_gb: float = 0.01,
    rng: RngLike = None,
    max_memory_bytes: float = 4 * 2**30,
) -> ServiceResult:
    """Simulate connections through the Service and count what each pod receives.

    Parameters
    ----------
    service, layout, source, client_weights, failed_zones, failed_nodes
        As in :func:`k8smodel.service.theory`.
    connections : int, default 20000
        Connections per replication.
    replications : int, default 8
        Independent repeats; standard errors are across them.
    clients : int or None
        Distinct client IPs; None gives every connection its own client (no stickiness).
    requests_per_connection : float, default 1
        Mean requests per connection (geometric; exactly 1 when 1).
    request_rate_per_s, mean_service_s, pod_concurrency, bytes_per_request, usd_per_gb
        As in :func:`k8smodel.service.theory`; the rate also sets the time line on which
        the affinity timeout acts.
    rng : int, Generator, SeedSequence or None
    max_memory_bytes : float
        Refuse runs estimated above this.

    Returns
    -------
    ServiceResult
        The columns of :func:`~k8smodel.service.theory` (means over replications) plus
        ``_se`` columns; ``method="simulation"``, ``exact=False``. ``jain_requests`` and
        ``max_share`` are means of the realized values, which sit below (above) those of
        the exact shares by O(pods / connections), and much more so with few sticky clients.

    Examples
    --------
    >>> from k8smodel.service import Service, Layout, simulate
    >>> r = simulate(Service(), Layout.uniform(zones=2), connections=2000, replications=2, rng=1)
    >>> str(r.summary["method"].iloc[0]), bool(r.summary["exact"].iloc[0])
    ('simulation', False)
    """
    conns = check_int(connections, "connections", minimum=1)
    reps = check_int(replications, "replications", minimum=2)
    n_clients = None if clients is None else check_int(clients, "clients", minimum=1)
    mean_requests = check_real(requests_per_connection, "requests_per_connection", minimum=1)
    load = Load.check(
        request_rate_per_s=request_rate_per_s,
        mean_service_s=mean_service_s,
        pod_concurrency=pod_concurrency,
        bytes_per_request=bytes_per_request,
        usd_per_gb=usd_per_gb,
    )
    check_budget(
        reps * conns * _BYTES_PER_CONNECTION,
        f"connections={conns} x replications={reps}",
        limit_bytes=max_memory_bytes,
        remedy="use fewer connections or replications",
    )
    plan = make_plan(
        service,
        layout,
        source=source,
        client_weights=client_weights,
        failed_zones=failed_zones,
        failed_nodes=failed_nodes,
    )
    if plan.entry.sum() == 0:
        raise ValueError(
            "no node (or pod) can take this Service's traffic: every connection would be "
            "dropped; theory() reports that case exactly"
        )
    gen = as_generator(rng)
    pods, nodes = len(plan.layout.pods), len(plan.layout.nodes)
    entry, u = _entry_and_uniform(
        gen, plan, service, reps, conns, n_clients, load.request_rate_per_s / mean_requests
    )
    reqs = (
        np.ones((reps, conns))
        if mean_requests == 1
        else gen.geometric(1.0 / mean_requests, (reps, conns)).astype(float)
    )
    if plan.ip_mode:
        pod, node, ok = entry, plan.pod_node[entry], np.ones(entry.shape, dtype=bool)
    else:
        counts, table = _routes(plan)
        k = counts[entry]
        ok = k > 0
        pick = np.minimum((u * np.maximum(k, 1)).astype(np.int64), np.maximum(k - 1, 0))
        pod, node = table[entry, pick], entry
    flow_req = _count(reps, nodes, pods, node, pod, ok, reqs)
    flow_conn = _count(reps, nodes, pods, node, pod, ok, np.ones_like(reqs))
    total_req = reqs.sum(axis=1)
    m = flow_metrics(plan, flow_req)
    delivered = m["delivered"] / total_req
    conn_shares = flow_conn.sum(axis=1) / flow_conn.sum(axis=(1, 2))[:, None]
    return _result(plan, load, m, delivered, conn_shares, failed_zones, failed_nodes, n_clients)


def _count(reps, nodes, pods, node, pod, ok, weights) -> np.ndarray:
    """``(replications, nodes, pods)`` counts of delivered weight."""
    cell = (np.arange(reps)[:, None] * nodes + node) * pods + pod
    return np.bincount(cell[ok], weights=weights[ok], minlength=reps * nodes * pods).reshape(
        reps, nodes, pods
    )


def _mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    return np.nanmean(x, axis=0), np.nanstd(x, axis=0, ddof=1) / np.sqrt(x.shape[0])


def _result(plan, load, m, delivered, conn_shares, failed_zones, failed_nodes, clients):
    shares = np.nan_to_num(m["shares"])
    share_mean, share_se = _mean_se(shares)
    conn_mean, conn_se = _mean_se(np.nan_to_num(conn_shares))
    some = shares.sum(axis=1) > 0
    jain = np.where(some, metrics.jain(np.where(some[:, None], shares, 1.0)), np.nan)
    top = np.where(some, metrics.max_share(np.where(some[:, None], shares, 1.0)), np.nan)
    est = {
        "jain_requests": jain,
        "max_share": top,
        "fraction_cross_zone": np.nan_to_num(m["fraction_cross_zone"]),
        "fraction_extra_hop": np.nan_to_num(m["fraction_extra_hop"]),
        "fraction_dropped": 1 - delivered,
    }
    means = {k: _mean_se(v) for k, v in est.items()}
    dropped = float(means["fraction_dropped"][0])
    money = cost_and_load(
        load, plan, share_mean, 1 - dropped, float(means["fraction_cross_zone"][0])
    )
    flags, notes = flags_and_notes(plan, money["max_utilization"], dropped)
    row = summary_row(
        plan,
        share_mean,
        float(means["fraction_cross_zone"][0]),
        float(means["fraction_extra_hop"][0]),
        dropped,
        money,
        flags,
    )
    for name, (mean, se) in means.items():
        row[name], row[f"{name}_se"] = float(mean), float(se)
    row["cross_zone_usd_per_day_se"] = (
        money["cross_zone_usd_per_day"] * row["fraction_cross_zone_se"] / row["fraction_cross_zone"]
        if row["fraction_cross_zone"] > 0
        else 0.0
    )
    row.update(method="simulation", exact=False)
    if clients is not None and plan.service.session_affinity == "ClientIP":
        notes.append(f"{clients} clients with ClientIP affinity: shares are lumpy per replication")
    per_pod, per_node, per_zone = tables(plan, share_mean, money["utilization"], conn_mean)
    per_pod.insert(per_pod.columns.get_loc("share_requests") + 1, "share_requests_se", share_se)
    per_pod.insert(
        per_pod.columns.get_loc("share_connections") + 1, "share_connections_se", conn_se
    )
    params = params_of(plan, load, failed_zones, failed_nodes)
    params.update(clients=clients, replications=m["shares"].shape[0])
    return ServiceResult(
        summary=pd.DataFrame([row]),
        params=params,
        notes=tuple(notes),
        per_pod=per_pod,
        per_node=per_node,
        per_zone=per_zone,
    )
