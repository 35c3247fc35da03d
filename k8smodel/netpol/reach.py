"""The reachability relation for a whole cluster, by boolean algebra over equivalence classes.

Three reductions make 10^5 pods cheap:

1. **Label classes.** Pods (workloads) with the same namespace, labels and container ports
   are indistinguishable to every policy; selectors are evaluated once per class, vectorized
   over classes (one numpy comparison per selector requirement on a column of label codes).
2. **Signatures.** What a class does as a *source* depends only on which ingress-rule peers
   match it and which egress policies select it; as a *destination*, on which ingress
   policies select it, which egress-rule peers match it, and how the rules' named ports
   resolve on it. Classes with equal bit rows are merged (``numpy.unique`` on packed bits).
3. **Port atoms.** The ports of every protocol are cut at each rule's range ends (and at
   resolved named ports); a connection is a bit set over these atoms, packed in ``uint64``
   words, so union and intersection are ``|`` and ``&``.

For each group of rules sharing a port pattern, "some rule of a policy selecting the
destination matches the source" is a sparse boolean product (``scipy.sparse``):
``peer_match.T @ policy_selects``. Ingress at the destination and egress at the source are
combined with ``&``; an unselected pod gets all ports (default allow). External addresses are
the elementary IPv4 intervals cut at every ``ipBlock`` edge (netpol-analyzer's
``GetIPBlockPeersLists``: sources from ingress rules, destinations from egress rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
import scipy.sparse as sp

from k8smodel._validate import DEFAULT_MEMORY_BYTES, check_budget
from k8smodel.netpol import semantics as sem
from k8smodel.netpol.spec import PROTOCOLS, Cluster, LabelSelector, NetworkPolicy, Peer, Rule

__all__ = ["Relation", "compute_relation"]


@dataclass(frozen=True, eq=False)
class Relation:
    """The computed relation (internal arrays; read it through :mod:`k8smodel.netpol.analysis`).

    ``pod_conn[s, d]`` is the atom bit set source signature ``s`` may open to destination
    signature ``d``; ``ip_to_pod[e, d]`` from source address interval ``e``; ``pod_to_ip[s, e]``
    to destination interval ``e``. ``src_sig``/``dst_sig`` map each workload to its signature.
    """

    cluster: Cluster
    atoms: np.ndarray  # (K, 3): protocol index, lo, hi
    src_sig: np.ndarray
    dst_sig: np.ndarray
    pod_conn: np.ndarray
    src_ips: np.ndarray  # (E_s, 2)
    ip_to_pod: np.ndarray
    dst_ips: np.ndarray  # (E_d, 2)
    pod_to_ip: np.ndarray
    ingress_isolated: np.ndarray  # per workload
    egress_isolated: np.ndarray
    classes: int
    namespace_labels: dict

    @property
    def all_mask(self) -> np.ndarray:
        """The bit set of every atom (all protocols, all ports)."""
        return _full_mask(len(self.atoms))

    def describe(self, mask: np.ndarray) -> dict[str, list[tuple[int, int]]]:
        """An atom bit set as protocol -> port ranges."""
        out: dict[str, list[tuple[int, int]]] = {}
        for k in np.flatnonzero(_unpack(mask[None, :], len(self.atoms))[0]):
            proto, lo, hi = self.atoms[k]
            out.setdefault(PROTOCOLS[proto], []).append((int(lo), int(hi)))
        return out


def _full_mask(k: int) -> np.ndarray:
    bits = np.ones(k, dtype=bool)
    return _pack(bits[None, :])[0]


def _pack(bits: np.ndarray) -> np.ndarray:
    """(n, K) bool -> (n, W) uint64, atom k at word k // 64, bit k % 64."""
    n, k = bits.shape
    words = max(1, -(-k // 64))
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :k] = bits
    return (
        np.packbits(padded.reshape(n, words, 64), axis=2, bitorder="little")
        .view(np.uint64)
        .reshape(n, words)
    )


def _unpack(masks: np.ndarray, k: int) -> np.ndarray:
    n, words = masks.shape
    as_bytes = np.ascontiguousarray(masks).view(np.uint8).reshape(n, words, 8)
    return np.unpackbits(as_bytes, axis=2, bitorder="little").reshape(n, words * 64)[:, :k]


class _LabelTable:
    """Labels of n items as one code column per key, for vectorized selector evaluation."""

    def __init__(self, labels: Sequence[dict[str, str]]):
        self.labels = labels
        self.n = len(labels)
        self._columns: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        self._cache: dict[LabelSelector, np.ndarray] = {}

    def _column(self, key: str) -> tuple[np.ndarray, dict[str, int]]:
        if key not in self._columns:
            vocab: dict[str, int] = {}
            codes = np.fromiter(
                (vocab.setdefault(d[key], len(vocab)) if key in d else -1 for d in self.labels),
                dtype=np.int32,
                count=self.n,
            )
            self._columns[key] = (codes, vocab)
        return self._columns[key]

    def matches(self, selector: LabelSelector) -> np.ndarray:
        if selector not in self._cache:
            out = np.ones(self.n, dtype=bool)
            for key, value in selector.match_labels:
                codes, vocab = self._column(key)
                out &= codes == vocab.get(value, -2)
            for req in selector.match_expressions:
                codes, vocab = self._column(req.key)
                if req.operator in ("In", "NotIn"):
                    hit = np.isin(codes, [vocab[v] for v in req.values if v in vocab])
                    out &= hit if req.operator == "In" else ~hit
                else:
                    out &= (codes >= 0) if req.operator == "Exists" else (codes < 0)
            self._cache[selector] = out
        return self._cache[selector]


@dataclass
class _Rules:
    """One direction's rules, flattened: owning policy, peer match over classes and IPs."""

    policy: np.ndarray
    peer_pods: np.ndarray  # (R, C) bool
    peer_ips: np.ndarray  # (R, E) bool
    group: np.ndarray  # port-pattern group per rule
    patterns: list[tuple[bytes, tuple[tuple[str, str], ...]]]


def compute_relation(
    cluster: Cluster,
    *,
    extra_ip_blocks: Sequence = (),
    max_memory_bytes: float = DEFAULT_MEMORY_BYTES,
) -> Relation:
    """Compute the relation for ``cluster`` (see the module docstring for the method).

    ``extra_ip_blocks`` adds IPBlocks to cut the address intervals at (used by a diff so two
    policy sets share one partition).
    """
    wls = cluster.workloads
    ns_labels = cluster.namespace_labels()
    ns_names = sorted(ns_labels)
    ns_index = {n: i for i, n in enumerate(ns_names)}
    ns_table = _LabelTable([ns_labels[n] for n in ns_names])

    # map/dict.fromkeys keep the per-pod work in C: 10^5 pods take a few tens of ms
    all_keys = list(map(attrgetter("class_key"), wls))
    class_of = {k: i for i, k in enumerate(dict.fromkeys(all_keys))}
    wl_class = np.fromiter(map(class_of.__getitem__, all_keys), np.int64, len(wls))
    first_wl = np.zeros(len(class_of), dtype=np.int64)
    first_wl[wl_class[::-1]] = np.arange(len(wls))[::-1]
    reps = [
        (ns_index[k[0]], k[1], wls[int(i)].ports) for k, i in zip(class_of, first_wl, strict=True)
    ]
    n_cls = len(reps)
    cls_ns = np.array([r[0] for r in reps], dtype=np.int64)
    pod_table = _LabelTable([dict(r[1]) for r in reps])
    check_budget(
        n_cls * (len(cluster.policies) * 4 + 64),
        f"{n_cls} label classes x {len(cluster.policies)} policies",
        limit_bytes=max_memory_bytes,
    )

    pols = cluster.policies
    pol_ns = np.array([ns_index[p.namespace] for p in pols], dtype=np.int64)
    selects = np.zeros((len(pols), n_cls), dtype=bool)
    for i, pol in enumerate(pols):
        selects[i] = pod_table.matches(pol.pod_selector) & (cls_ns == pol_ns[i])
    aff_in = np.array([sem.policy_affects(p, "Ingress") for p in pols], dtype=bool)
    aff_eg = np.array([sem.policy_affects(p, "Egress") for p in pols], dtype=bool)
    sel_in = selects & aff_in[:, None]
    sel_eg = selects & aff_eg[:, None]

    src_iv, dst_iv = _ip_cuts(pols, extra_ip_blocks)
    src_ips = np.array(sem.elementary_intervals(src_iv), dtype=np.int64).reshape(-1, 2)
    dst_ips = np.array(sem.elementary_intervals(dst_iv), dtype=np.int64).reshape(-1, 2)

    def peer_rows(direction: str, ips: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
        flat = [
            (i, r)
            for i, p in enumerate(pols)
            for r in (p.ingress if direction == "Ingress" else p.egress)
            if (aff_in if direction == "Ingress" else aff_eg)[i]
        ]
        pods = np.zeros((len(flat), n_cls), dtype=bool)
        addr = np.zeros((len(flat), len(ips)), dtype=bool)
        for j, (i, rule) in enumerate(flat):
            pods[j], addr[j] = _rule_peers(
                rule, pols[i], pod_table, ns_table, cls_ns, pol_ns[i], ips
            )
        return flat, pods, addr

    flat_in, peer_in, peer_in_ip = peer_rows("Ingress", src_ips)
    flat_eg, peer_eg, peer_eg_ip = peer_rows("Egress", dst_ips)

    # port atoms and named-port resolution per class
    named = sorted(
        {
            (q.port, q.protocol)
            for _, r in flat_in + flat_eg
            for q in r.ports
            if isinstance(q.port, str)
        }
    )
    resolved = np.full((len(named), n_cls), -1, dtype=np.int64)
    for a, (name, proto) in enumerate(named):
        for c, rep in enumerate(reps):
            num = sem.resolve_named_port(name, proto, rep[2])
            resolved[a, c] = -1 if num is None else num
    atoms = _atoms([r for _, r in flat_in + flat_eg], named, resolved)
    n_atoms = len(atoms)
    rules_in = _group(flat_in, peer_in, peer_in_ip, atoms)
    rules_eg = _group(flat_eg, peer_eg, peer_eg_ip, atoms)
    named_atom = np.full(resolved.shape, -1, dtype=np.int64)
    for a, (_, proto) in enumerate(named):
        ok = resolved[a] >= 0
        named_atom[a, ok] = _atom_index(atoms, PROTOCOLS.index(proto), resolved[a, ok])
    named_pos = {nm: a for a, nm in enumerate(named)}

    # signatures
    src_feat = np.concatenate([peer_in.T, sel_eg.T], axis=1)
    dst_feat = np.concatenate([sel_in.T, peer_eg.T], axis=1)
    src_sig_c, src_rep = _signatures(src_feat, None)
    dst_sig_c, dst_rep = _signatures(dst_feat, named_atom.T)
    n_s, n_d, words = len(src_rep), len(dst_rep), max(1, -(-n_atoms // 64))
    check_budget(
        8.0 * words * (4 * n_s * n_d + n_s * len(dst_ips) + len(src_ips) * n_d),
        f"a relation of {n_s} source x {n_d} destination signatures x {n_atoms} port atoms",
        limit_bytes=max_memory_bytes,
    )
    full = _full_mask(n_atoms)

    def port_masks(rules: _Rules, dst_cls: np.ndarray | None) -> np.ndarray:
        """(G, D, W) masks of each group on each destination (or (G, 1, W) for addresses)."""
        n_dst = 1 if dst_cls is None else len(dst_cls)
        out = np.zeros((len(rules.patterns), n_dst, words), dtype=np.uint64)
        for g, (static, names) in enumerate(rules.patterns):
            out[g] = np.frombuffer(static, dtype=np.uint64)[None, :]
            if dst_cls is None:
                continue
            for nm in names:
                at = named_atom[named_pos[nm], dst_cls]
                ok = at >= 0
                bits = np.zeros((n_dst, n_atoms), dtype=bool)
                bits[np.flatnonzero(ok), at[ok]] = True
                out[g] |= _pack(bits)
        return out

    def combine(
        left: np.ndarray, right: np.ndarray, rules: _Rules, masks: np.ndarray
    ) -> np.ndarray:
        """OR over groups of (some rule of the group links row and column) & group mask."""
        res = np.zeros((left.shape[1], right.shape[1], words), dtype=np.uint64)
        for g in range(len(rules.patterns)):
            idx = np.flatnonzero(rules.group == g)
            linked = (
                sp.csr_matrix(left[idx].T.astype(np.float32))
                @ sp.csr_matrix(right[idx].astype(np.float32))
            ).toarray() > 0
            res |= np.where(linked[:, :, None], masks[g][None], np.uint64(0))
        return res

    in_iso_d = sel_in[:, dst_rep].any(axis=0)
    eg_iso_s = sel_eg[:, src_rep].any(axis=0)
    masks_in = port_masks(rules_in, dst_rep)
    masks_eg_pod = port_masks(rules_eg, dst_rep)
    masks_eg_ip = port_masks(rules_eg, None)
    pol_in = np.array([i for i, _ in flat_in], dtype=np.int64)
    pol_eg = np.array([i for i, _ in flat_eg], dtype=np.int64)

    ingress = combine(
        rules_in.peer_pods[:, src_rep], sel_in[pol_in][:, dst_rep], rules_in, masks_in
    )
    ingress[:, ~in_iso_d] = full
    egress = combine(
        sel_eg[pol_eg][:, src_rep], rules_eg.peer_pods[:, dst_rep], rules_eg, masks_eg_pod
    )
    egress[~eg_iso_s] = full
    pod_conn = ingress & egress
    del ingress, egress
    ip_to_pod = combine(rules_in.peer_ips, sel_in[pol_in][:, dst_rep], rules_in, masks_in)
    ip_to_pod[:, ~in_iso_d] = full
    pod_to_ip = combine(sel_eg[pol_eg][:, src_rep], rules_eg.peer_ips, rules_eg, masks_eg_ip)
    pod_to_ip[~eg_iso_s] = full

    return Relation(
        cluster=cluster,
        atoms=atoms,
        src_sig=src_sig_c[wl_class],
        dst_sig=dst_sig_c[wl_class],
        pod_conn=pod_conn,
        src_ips=src_ips,
        ip_to_pod=ip_to_pod,
        dst_ips=dst_ips,
        pod_to_ip=pod_to_ip,
        ingress_isolated=sel_in.any(axis=0)[wl_class],
        egress_isolated=sel_eg.any(axis=0)[wl_class],
        classes=n_cls,
        namespace_labels=ns_labels,
    )


def _ip_cuts(policies: Sequence[NetworkPolicy], extra: Sequence) -> tuple[list, list]:
    src: list[tuple[int, int]] = []
    dst: list[tuple[int, int]] = []
    for pol in policies:
        for rules, out in ((pol.ingress, src), (pol.egress, dst)):
            for rule in rules:
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        out.extend(sem.ip_block_intervals(peer.ip_block))
    for block in extra:
        iv = sem.ip_block_intervals(block)
        src.extend(iv)
        dst.extend(iv)
    return src, dst


def _rule_peers(
    rule: Rule,
    policy: NetworkPolicy,
    pods: _LabelTable,
    namespaces: _LabelTable,
    cls_ns: np.ndarray,
    policy_ns: int,
    ips: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which classes and which address intervals one rule's peers match (empty = all)."""
    if not rule.peers:
        return np.ones(pods.n, dtype=bool), np.ones(len(ips), dtype=bool)
    on_pods = np.zeros(pods.n, dtype=bool)
    on_ips = np.zeros(len(ips), dtype=bool)
    for peer in rule.peers:
        if peer.ip_block is not None:
            on_ips |= _covered(peer, ips)
            continue
        if peer.namespace_selector is None:
            ns_ok = cls_ns == policy_ns
        else:
            ns_ok = namespaces.matches(peer.namespace_selector)[cls_ns]
        pod_ok = True if peer.pod_selector is None else pods.matches(peer.pod_selector)
        on_pods |= ns_ok & pod_ok
    return on_pods, on_ips


def _covered(peer: Peer, ips: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ips), dtype=bool)
    assert peer.ip_block is not None
    for lo, hi in sem.ip_block_intervals(peer.ip_block):
        out |= (ips[:, 0] >= lo) & (ips[:, 1] <= hi)
    return out


def _atoms(rules: list[Rule], named: list, resolved: np.ndarray) -> np.ndarray:
    cuts: list[set[int]] = [{sem.MIN_PORT, sem.MAX_PORT + 1} for _ in PROTOCOLS]
    for rule in rules:
        for q in rule.ports:
            rng = sem.port_range(q, ())
            if rng is not None:
                cuts[PROTOCOLS.index(q.protocol)].update((rng[0], rng[1] + 1))
    for a, (_, proto) in enumerate(named):
        vals = resolved[a][resolved[a] >= 0]
        cuts[PROTOCOLS.index(proto)].update(vals.tolist())
        cuts[PROTOCOLS.index(proto)].update((vals + 1).tolist())
    rows = []
    for p, c in enumerate(cuts):
        edges = sorted(c)
        rows += [(p, lo, hi - 1) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return np.array(rows, dtype=np.int64)


def _atom_index(atoms: np.ndarray, proto: int, ports: np.ndarray) -> np.ndarray:
    """Index of the atom of ``proto`` holding each port (atoms are sorted by protocol, lo)."""
    keys = atoms[:, 0] * 100_000 + atoms[:, 1]
    return np.searchsorted(keys, proto * 100_000 + np.asarray(ports), side="right") - 1


def _group(flat: list, peer_pods: np.ndarray, peer_ips: np.ndarray, atoms: np.ndarray) -> _Rules:
    """Group rules by port pattern: the static atom mask and the named ports they use."""
    patterns: dict[tuple[bytes, tuple], int] = {}
    group = np.zeros(len(flat), dtype=np.int64)
    for j, (_, rule) in enumerate(flat):
        bits = np.zeros(len(atoms), dtype=bool)
        names = []
        if not rule.ports:
            bits[:] = True
        for q in rule.ports:
            if isinstance(q.port, str):
                names.append((q.port, q.protocol))
                continue
            lo, hi = sem.port_range(q, ()) or (0, -1)
            p = PROTOCOLS.index(q.protocol)
            bits |= (atoms[:, 0] == p) & (atoms[:, 1] >= lo) & (atoms[:, 2] <= hi)
        key = (_pack(bits[None, :])[0].tobytes(), tuple(sorted(set(names))))
        group[j] = patterns.setdefault(key, len(patterns))
    return _Rules(np.array([i for i, _ in flat]), peer_pods, peer_ips, group, list(patterns))


def _signatures(features: np.ndarray, extra: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Merge classes with equal feature rows: (signature per class, one class per signature)."""
    packed = np.packbits(features, axis=1)
    if extra is not None and extra.shape[1]:
        packed = np.concatenate(
            [packed, np.ascontiguousarray(extra, dtype=np.int64).view(np.uint8)], axis=1
        )
    packed = np.ascontiguousarray(packed)
    seen: dict[bytes, int] = {}
    sig = np.fromiter(
        (seen.setdefault(row.tobytes(), len(seen)) for row in packed), np.int64, len(packed)
    )
    first = np.zeros(len(seen), dtype=np.int64)
    first[sig[::-1]] = np.arange(len(sig))[::-1]
    return sig, first
