"""Public verbs: analyze a cluster, list its connections, blast radius, and diff two policy sets.

Every verb returns a :class:`k8smodel.Result` subclass whose ``summary`` has ``method`` and
``exact`` columns; the per-item tables are attributes (``connections``, ``isolation``,
``coverage``, ``per_hop``, ``changes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import pandas as pd

from k8smodel._validate import DEFAULT_MEMORY_BYTES, check_int, check_real, describe
from k8smodel.netpol import semantics as sem
from k8smodel.netpol.reach import Relation, compute_relation
from k8smodel.netpol.spec import Cluster, IPBlock
from k8smodel.result import Result

__all__ = [
    "NetpolResult",
    "BlastResult",
    "DiffResult",
    "analyze",
    "connlist",
    "blast_radius",
    "diff",
]

METHOD = "label_class_boolean_algebra"
_CONN_COLUMNS = ["src", "dst", "src_type", "dst_type", "connection", "all_connections"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class NetpolResult(Result):
    """What :func:`analyze` returns.

    Attributes
    ----------
    connections : DataFrame
        Allowed connections between workloads and external address ranges (``src``, ``dst``,
        ``src_type``/``dst_type`` = ``workload``/``external``, ``connection`` in
        netpol-analyzer's text, ``all_connections``); self connections excluded.
    isolation : DataFrame
        Per workload: ``pods`` and whether it is isolated for ingress and for egress.
    coverage : DataFrame
        Per namespace: pods, fractions isolated per direction and whether a default-deny
        policy (empty podSelector, no rules) exists per direction.
    relation : Relation
        The computed relation (signature-level arrays) for further queries.
    """

    connections: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_CONN_COLUMNS))
    isolation: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    relation: Relation | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class BlastResult(Result):
    """What :func:`blast_radius` returns; ``per_hop`` has pods newly reached at each hop."""

    per_hop: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DiffResult(Result):
    """What :func:`diff` returns; ``changes`` lists each pair whose connection changed."""

    changes: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyze(
    cluster: Cluster,
    *,
    max_listed_pairs: int = 4_000_000,
    max_memory_bytes: float = DEFAULT_MEMORY_BYTES,
    _extra_ip_blocks: Sequence[IPBlock] = (),
) -> NetpolResult:
    """Who can reach whom in ``cluster``, on which protocols and ports.

    Parameters
    ----------
    cluster : Cluster
        From :func:`k8smodel.netpol.from_manifest` or built from the spec classes.
    max_listed_pairs : int
        Build the ``connections`` table only when workloads^2 is at most this (the summary,
        isolation and coverage are always computed).
    max_memory_bytes : float
        Refuse (before allocating) a relation estimated above this.

    Returns
    -------
    NetpolResult
        ``summary`` (one row): workloads, pods, ``fraction_pairs_allowed`` (ordered pairs of
        distinct pods with any allowed port), pods isolated per direction, sizes of the
        reduction (label classes, signatures, port atoms); ``method`` and ``exact`` (True: the
        relation is exact for the model's semantics).

    Examples
    --------
    >>> from k8smodel.netpol import Cluster, Workload, NetworkPolicy
    >>> c = Cluster(workloads=(Workload("a", labels={"app": "a"}), Workload("b")),
    ...             policies=(NetworkPolicy("deny", policy_types=("Ingress",)),))
    >>> float(analyze(c).summary["fraction_pairs_allowed"].iloc[0])
    0.0
    """
    if not isinstance(cluster, Cluster):
        raise TypeError(f"cluster must be a netpol.Cluster; got {type(cluster).__name__}")
    check_int(max_listed_pairs, "max_listed_pairs", minimum=0)
    check_real(max_memory_bytes, "max_memory_bytes", minimum=0, lower_open=True, allow_inf=True)
    rel = compute_relation(
        cluster, extra_ip_blocks=_extra_ip_blocks, max_memory_bytes=max_memory_bytes
    )
    wls = cluster.workloads
    pods = np.fromiter(map(attrgetter("replicas"), wls), np.float64, len(wls))
    nonempty = (rel.pod_conn != 0).any(axis=2)
    n_s = np.bincount(rel.src_sig, weights=pods, minlength=nonempty.shape[0])
    n_d = np.bincount(rel.dst_sig, weights=pods, minlength=nonempty.shape[1])
    total_pods = pods.sum()
    allowed = float(n_s @ nonempty.astype(np.float64) @ n_d) - float(
        (pods * nonempty[rel.src_sig, rel.dst_sig]).sum()
    )
    pairs = total_pods * (total_pods - 1)
    notes = [
        "Pods of one workload share its template; pairs of distinct pods are counted, "
        "self connections are not listed.",
        "External addresses are IPv4 ranges cut at every ipBlock edge; ipBlocks never match "
        "pods (as in netpol-analyzer).",
    ]
    if not wls:
        notes.append("no workloads (Pods or pod templates) were found")
    listed = len(wls) ** 2 <= max_listed_pairs
    if not listed:
        notes.append(
            f"connections table not built: {len(wls)} workloads squared exceeds "
            f"max_listed_pairs={max_listed_pairs}"
        )
    if any(
        not p.ip_block.is_ipv4
        for pol in cluster.policies
        for r in (*pol.ingress, *pol.egress)
        for p in r.peers
        if p.ip_block is not None
    ):
        notes.append("IPv6 ipBlocks were ignored (the external space modelled is IPv4).")
    summary = pd.DataFrame(
        [
            {
                "workloads": len(wls),
                "pods": int(total_pods),
                "namespaces": len(rel.namespace_labels),
                "policies": len(cluster.policies),
                "pod_pairs": int(pairs),
                "fraction_pairs_allowed": allowed / pairs if pairs > 0 else float("nan"),
                "pods_ingress_isolated": int(pods[rel.ingress_isolated].sum()),
                "pods_egress_isolated": int(pods[rel.egress_isolated].sum()),
                "label_classes": rel.classes,
                "source_signatures": nonempty.shape[0],
                "destination_signatures": nonempty.shape[1],
                "port_atoms": len(rel.atoms),
                "method": METHOD,
                "exact": True,
            }
        ]
    )
    isolation = _isolation(rel)
    return NetpolResult(
        summary=summary,
        params={
            "workloads": len(wls),
            "policies": len(cluster.policies),
            "max_listed_pairs": max_listed_pairs,
        },
        notes=tuple(notes),
        connections=_connections(rel) if listed else pd.DataFrame(columns=_CONN_COLUMNS),
        isolation=isolation,
        coverage=_coverage(rel, isolation),
        relation=rel,
    )


def _mask_text(rel: Relation, masks: np.ndarray) -> list[str]:
    """netpol-analyzer text for each mask row ("" for empty), computed once per distinct mask."""
    if len(masks) == 0:
        return []
    uniq, inverse = np.unique(masks, axis=0, return_inverse=True)
    texts = ["" if not row.any() else sem.format_ports(rel.describe(row)) for row in uniq]
    return [texts[i] for i in inverse.reshape(-1)]


def _connections(rel: Relation) -> pd.DataFrame:
    refs = np.array([w.ref for w in rel.cluster.workloads], dtype=object)
    n = len(refs)
    frames = []
    if n:
        grid_i, grid_j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        i, j = grid_i.ravel(), grid_j.ravel()
        keep = refs[i] != refs[j]
        i, j = i[keep], j[keep]
        masks = rel.pod_conn[rel.src_sig[i], rel.dst_sig[j]]
        frames.append(_frame(rel, refs[i], refs[j], "workload", "workload", masks))
        src_ip = np.array(
            [sem.format_ip_range(tuple(r)) + "[External]" for r in rel.src_ips], dtype=object
        )
        dst_ip = np.array(
            [sem.format_ip_range(tuple(r)) + "[External]" for r in rel.dst_ips], dtype=object
        )
        e, d = np.meshgrid(np.arange(len(src_ip)), np.arange(n), indexing="ij")
        frames.append(
            _frame(
                rel,
                src_ip[e.ravel()],
                refs[d.ravel()],
                "external",
                "workload",
                rel.ip_to_pod[e.ravel(), rel.dst_sig[d.ravel()]],
            )
        )
        s, e = np.meshgrid(np.arange(n), np.arange(len(dst_ip)), indexing="ij")
        frames.append(
            _frame(
                rel,
                refs[s.ravel()],
                dst_ip[e.ravel()],
                "workload",
                "external",
                rel.pod_to_ip[rel.src_sig[s.ravel()], e.ravel()],
            )
        )
    if not frames:
        return pd.DataFrame(columns=_CONN_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates(["src", "dst"])  # workloads listed twice under one name
    return table.sort_values(["src", "dst"], kind="stable").reset_index(drop=True)


def _frame(rel, src, dst, src_type, dst_type, masks) -> pd.DataFrame:
    keep = (masks != 0).any(axis=1)
    texts = _mask_text(rel, masks[keep])
    return pd.DataFrame(
        {
            "src": src[keep],
            "dst": dst[keep],
            "src_type": src_type,
            "dst_type": dst_type,
            "connection": texts,
            "all_connections": [t == "All Connections" for t in texts],
        }
    )


def _isolation(rel: Relation) -> pd.DataFrame:
    wls = rel.cluster.workloads
    cols = [list(map(attrgetter(a), wls)) for a in ("ref", "namespace", "name", "kind", "replicas")]
    return pd.DataFrame(
        {
            "workload": pd.Series(cols[0], dtype=object),
            "namespace": pd.Categorical(cols[1]),
            "name": pd.Series(cols[2], dtype=object),
            "kind": pd.Categorical(cols[3]),
            "pods": np.array(cols[4], dtype=np.int64),
            "ingress_isolated": rel.ingress_isolated,
            "egress_isolated": rel.egress_isolated,
        }
    )


def _coverage(rel: Relation, isolation: pd.DataFrame) -> pd.DataFrame:
    iso = isolation[["namespace", "pods", "ingress_isolated", "egress_isolated"]].copy()
    iso["pods_in"] = iso["pods"] * iso["ingress_isolated"]
    iso["pods_eg"] = iso["pods"] * iso["egress_isolated"]
    by = iso.groupby("namespace").agg(
        workloads=("pods", "size"),
        pods=("pods", "sum"),
        pods_in=("pods_in", "sum"),
        pods_eg=("pods_eg", "sum"),
    )
    out = pd.DataFrame({"namespace": sorted(rel.namespace_labels)})
    out = out.merge(by.reset_index(), on="namespace", how="left").fillna(0)
    pods = out["pods"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fraction_ingress_isolated"] = np.where(pods > 0, out["pods_in"] / pods, np.nan)
        out["fraction_egress_isolated"] = np.where(pods > 0, out["pods_eg"] / pods, np.nan)
    deny = {
        ("Ingress", p.namespace)
        for p in rel.cluster.policies
        if p.pod_selector.is_empty and sem.policy_affects(p, "Ingress") and not p.ingress
    }
    deny |= {
        ("Egress", p.namespace)
        for p in rel.cluster.policies
        if p.pod_selector.is_empty and sem.policy_affects(p, "Egress") and not p.egress
    }
    out["default_deny_ingress"] = [("Ingress", n) in deny for n in out["namespace"]]
    out["default_deny_egress"] = [("Egress", n) in deny for n in out["namespace"]]
    out[["workloads", "pods"]] = out[["workloads", "pods"]].astype(int)
    return out.drop(columns=["pods_in", "pods_eg"])


def connlist(result: NetpolResult, *, source: str | None = None) -> str:
    """The allowed connections in netpol-analyzer's text format.

    One ``src => dst : conn`` line each, sorted by source then destination; ``source``
    keeps the lines from or to that workload.

    Examples
    --------
    >>> from k8smodel.netpol import Cluster, Workload
    >>> print(connlist(analyze(Cluster(workloads=(Workload("a"), Workload("b"))))))
    0.0.0.0-255.255.255.255[External] => default/a[Pod] : All Connections
    0.0.0.0-255.255.255.255[External] => default/b[Pod] : All Connections
    default/a[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections
    default/a[Pod] => default/b[Pod] : All Connections
    default/b[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections
    default/b[Pod] => default/a[Pod] : All Connections
    """
    if source is not None and not _names_match(result.isolation["workload"], source).any():
        raise ValueError(
            f"source must name a workload as name, ns/name or ns/name[Kind]; got {source!r}"
        )
    table = _focus(result.connections, source)
    return "\n".join(
        f"{s} => {d} : {c}"
        for s, d, c in zip(table["src"], table["dst"], table["connection"], strict=True)
    )


def _focus(table: pd.DataFrame, source: str | None) -> pd.DataFrame:
    if source is None:
        return table
    keep = _names_match(table["src"], source) | _names_match(table["dst"], source)
    return table[keep]


def _names_match(refs: pd.Series, name: str) -> pd.Series:
    """netpol-analyzer's focus rule: the workload's name or ``ns/name`` (or its full ref)."""
    nsname = refs.str.replace(r"\[[^\]]*\]$", "", regex=True)
    bare = nsname.str.split("/", n=1).str[-1]
    return (refs == name) | (nsname == name) | (bare == name)


def blast_radius(result: NetpolResult, sources: Sequence[str] | None = None) -> BlastResult:
    """Pods reachable from a compromised pod, transitively, hop by hop.

    A hop follows any allowed connection (any port) from a pod reached so far. ``sources``
    names workloads (``ns/name[Kind]``); default: every workload.

    Returns
    -------
    BlastResult
        ``summary``: one row per source with ``pods_reachable``, ``fraction_reachable`` (of
        the other pods) and ``hops`` (to the closure); ``per_hop``: ``source``, ``hop``,
        ``new_pods``, ``cumulative_pods``.

    Examples
    --------
    >>> from k8smodel.netpol import Cluster, LabelSelector, NetworkPolicy, Peer, Rule, Workload
    >>> only_from_a = NetworkPolicy("p", pod_selector=LabelSelector({"app": "c"}),
    ...     ingress=(Rule((Peer(LabelSelector({"app": "b"})),)),))
    >>> chain = Cluster((Workload("a", labels={"app": "a"}), Workload("b", labels={"app": "b"}),
    ...                  Workload("c", labels={"app": "c"})), (only_from_a,))
    >>> blast_radius(analyze(chain), ["default/a"]).per_hop[["hop", "new_pods"]].values.tolist()
    [[1, 1], [2, 1]]
    """
    if not isinstance(result, NetpolResult):
        raise TypeError(f"result must be a NetpolResult; got {type(result).__name__}")
    if isinstance(sources, str):  # "ns/name" would otherwise be read letter by letter
        raise TypeError(f"sources must be a list of workloads; got str {sources!r}")
    rel = result.relation
    if rel is None:
        raise ValueError("result must come from netpol.analyze; got one without a relation")
    wls = rel.cluster.workloads
    refs = [w.ref for w in wls]
    chosen = range(len(wls)) if sources is None else [_workload_index(refs, s) for s in sources]
    pods = np.array([w.replicas for w in wls], dtype=np.float64)
    joint = np.stack([rel.src_sig, rel.dst_sig], axis=1)
    uniq, jid = np.unique(joint, axis=0, return_inverse=True)
    jid = jid.reshape(-1)
    counts = np.bincount(jid, weights=pods, minlength=len(uniq))
    adj = (rel.pod_conn != 0).any(axis=2).astype(np.float64)
    total = pods.sum()
    rows, hops_rows = [], []
    for w in chosen:
        j0 = jid[w]
        own = counts.copy()
        own[j0] -= 1  # the compromised pod itself
        reached = np.zeros(len(uniq), dtype=bool)
        active = np.zeros(adj.shape[0])
        active[uniq[j0, 0]] = 1
        hop, cum = 0, 0.0
        while True:
            hop += 1
            reach_d = (active @ adj) > 0
            new = reach_d[uniq[:, 1]] & ~reached & (own > 0)
            if not new.any():
                break
            reached |= new
            gained = float(own[new].sum())
            cum += gained
            hops_rows.append(
                {
                    "source": refs[w],
                    "hop": hop,
                    "new_pods": int(gained),
                    "cumulative_pods": int(cum),
                }
            )
            active = np.zeros(adj.shape[0])
            active[np.unique(uniq[reached, 0])] = 1
            active[uniq[j0, 0]] = 1
        others = total - 1
        rows.append(
            {
                "source": refs[w],
                "pods_reachable": int(cum),
                "fraction_reachable": cum / others if others > 0 else float("nan"),
                "hops": hop - 1,
                "method": "bfs_over_signatures",
                "exact": True,
            }
        )
    return BlastResult(
        summary=pd.DataFrame(
            rows,
            columns=["source", "pods_reachable", "fraction_reachable", "hops", "method", "exact"],
        ),
        params={"sources": None if sources is None else list(sources)},
        notes=(
            "A hop is any allowed connection on any port; pods of one workload count separately.",
        ),
        per_hop=pd.DataFrame(hops_rows, columns=["source", "hop", "new_pods", "cumulative_pods"]),
    )


def _workload_index(refs: list[str], name: str) -> int:
    for i, ref in enumerate(refs):
        if ref == name or ref.rsplit("[", 1)[0] == name:
            return i
    raise ValueError(f"source must be a workload as ns/name or ns/name[Kind]; got {describe(name)}")


def diff(before: Cluster, after: Cluster) -> DiffResult:
    """What a change of policies (or workloads) opens and closes.

    Both sides are computed on one partition of the external addresses (cut at the ipBlocks
    of both), and compared pair by pair.

    Returns
    -------
    DiffResult
        ``summary``: counts of pairs ``opened``/``closed``/``changed``; ``changes``: ``src``,
        ``dst``, ``before``, ``after``, ``opened`` and ``closed`` (connection texts) and
        ``change`` (``added``, ``removed`` or ``changed``).

    Examples
    --------
    >>> from k8smodel.netpol import Cluster, NetworkPolicy, Workload
    >>> pods = (Workload("a"), Workload("b"))
    >>> d = diff(Cluster(pods), Cluster(pods, (NetworkPolicy("deny", policy_types=("Ingress",)),)))
    >>> d.changes[["src", "dst", "closed"]].values.tolist()[-1]
    ['default/b[Pod]', 'default/a[Pod]', 'All Connections']
    """
    for name, value in (("before", before), ("after", after)):
        if not isinstance(value, Cluster):
            raise TypeError(f"{name} must be a netpol.Cluster; got {type(value).__name__}")
    blocks_a = _blocks(before)
    blocks_b = _blocks(after)
    ra = analyze(before, _extra_ip_blocks=blocks_b)
    rb = analyze(after, _extra_ip_blocks=blocks_a)
    a = {
        (s, d): c
        for s, d, c in ra.connections[["src", "dst", "connection"]].itertuples(index=False)
    }
    b = {
        (s, d): c
        for s, d, c in rb.connections[["src", "dst", "connection"]].itertuples(index=False)
    }
    rows = []
    for key in sorted(set(a) | set(b)):
        ca, cb = a.get(key, ""), b.get(key, "")
        if ca == cb:
            continue
        pa, pb = _parse(ca), _parse(cb)
        opened, closed = _minus(pb, pa), _minus(pa, pb)
        rows.append(
            {
                "src": key[0],
                "dst": key[1],
                "before": ca or "No Connections",
                "after": cb or "No Connections",
                "opened": sem.format_ports(opened) if opened else "",
                "closed": sem.format_ports(closed) if closed else "",
                "change": "added" if not ca else ("removed" if not cb else "changed"),
            }
        )
    changes = pd.DataFrame(
        rows, columns=["src", "dst", "before", "after", "opened", "closed", "change"]
    )
    summary = pd.DataFrame(
        [
            {
                "pairs_opened": int((changes["opened"] != "").sum()),
                "pairs_closed": int((changes["closed"] != "").sum()),
                "pairs_changed": len(changes),
                "method": METHOD,
                "exact": True,
            }
        ]
    )
    return DiffResult(summary=summary, params={}, notes=ra.notes[:2], changes=changes)


def _blocks(cluster: Cluster) -> list[IPBlock]:
    return [
        p.ip_block
        for pol in cluster.policies
        for r in (*pol.ingress, *pol.egress)
        for p in r.peers
        if p.ip_block is not None
    ]


def _parse(text: str) -> sem.Connection:
    """Inverse of :func:`semantics.format_ports`."""
    if not text:
        return {}
    if text == "All Connections":
        return {p: list(v) for p, v in sem.ALL.items()}
    out: sem.Connection = {}
    proto = ""
    for item in text.split(","):
        if " " in item:
            proto, item = item.split(" ", 1)
        lo, _, hi = item.partition("-")
        out.setdefault(proto, []).append((int(lo), int(hi or lo)))
    return out


def _minus(a: sem.Connection, b: sem.Connection) -> sem.Connection:
    out: sem.Connection = {}
    for proto, ranges in a.items():
        keep = list(ranges)
        for lo2, hi2 in b.get(proto, []):
            nxt = []
            for lo, hi in keep:
                if hi < lo2 or lo > hi2:
                    nxt.append((lo, hi))
                    continue
                if lo < lo2:
                    nxt.append((lo, lo2 - 1))
                if hi > hi2:
                    nxt.append((hi2 + 1, hi))
            keep = nxt
        if keep:
            out[proto] = keep
    return out
