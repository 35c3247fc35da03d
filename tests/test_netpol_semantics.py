"""Each NetworkPolicy rule on its own, with cases from the API comments and the docs.

Sources of the cases: ``k8s.io/api`` ``networking/v1/types.go`` comments (quoted beside each
test), https://kubernetes.io/docs/concepts/services-networking/network-policies/ (the
``user: alice`` / ``role: client`` AND-vs-OR example, the ``172.17.0.0/16`` except
``172.17.1.0/24`` ipBlock, the ``32000``-``32768`` endPort example), and strings copied from
netpol-analyzer's expected outputs for the text format.
"""

from __future__ import annotations

import ipaddress

import pytest

from k8smodel.netpol import semantics as sem
from k8smodel.netpol.spec import (
    Cluster,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Workload,
)

ALL = "All Connections"


def ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def conn(policies, src, dst, ns_labels=None, ports=()):
    labels = ns_labels or {}
    names = {p[0] for p in (src, dst) if isinstance(p[0], str)} | {p.namespace for p in policies}
    full = {n: labels.get(n, {"kubernetes.io/metadata.name": n}) for n in names}
    return sem.format_ports(sem.naive_connection(policies, full, src, dst, ports))


# -- label selectors (apimachinery pkg/labels/selector.go Requirement.Matches) ------------------


@pytest.mark.parametrize(
    ("req", "labels", "expected"),
    [
        (Requirement("env", "In", ("prod", "qa")), {"env": "qa"}, True),
        (Requirement("env", "In", ("prod",)), {}, False),
        (Requirement("env", "NotIn", ("prod",)), {"env": "dev"}, True),
        (Requirement("env", "NotIn", ("prod",)), {}, True),  # NotIn matches a missing key
        (Requirement("env", "NotIn", ("prod",)), {"env": "prod"}, False),
        (Requirement("env", "Exists"), {"env": ""}, True),
        (Requirement("env", "Exists"), {}, False),
        (Requirement("env", "DoesNotExist"), {}, True),
        (Requirement("env", "DoesNotExist"), {"env": "x"}, False),
    ],
)
def test_requirement_operators(req, labels, expected):
    assert sem.requirement_matches(req, labels) is expected


def test_empty_selector_selects_everything_and_requirements_are_anded():
    assert sem.selector_matches(LabelSelector(), {})
    both = LabelSelector({"app": "db"}, (Requirement("tier", "Exists"),))
    assert sem.selector_matches(both, {"app": "db", "tier": "1"})
    assert not sem.selector_matches(both, {"app": "db"})


def test_malformed_requirements_are_refused():
    with pytest.raises(ValueError, match="operator"):
        Requirement("a", "Equals", ("b",))
    with pytest.raises(ValueError, match="non-empty"):
        Requirement("a", "In", ())
    with pytest.raises(ValueError, match="must be empty"):
        Requirement("a", "Exists", ("b",))


# -- policyTypes defaults ----------------------------------------------------------------------


def test_policy_types_default():
    """types.go: 'policies that contain an egress section are assumed to affect egress, and all
    policies (whether or not they contain an ingress section) are assumed to affect ingress'."""
    plain = NetworkPolicy("p")
    with_egress = NetworkPolicy("p", egress=(Rule(),))
    egress_only = NetworkPolicy("p", policy_types=("Egress",))
    assert sem.policy_affects(plain, "Ingress") and not sem.policy_affects(plain, "Egress")
    assert sem.policy_affects(with_egress, "Egress") and sem.policy_affects(with_egress, "Ingress")
    assert sem.policy_affects(egress_only, "Egress") and not sem.policy_affects(
        egress_only, "Ingress"
    )


def test_a_policy_without_egress_rules_needs_policy_types_to_deny_egress():
    """types.go: 'if you want to write a policy that specifies that no egress is allowed, you
    must specify a policyTypes value that include Egress'."""
    a, b = ("default", {"app": "a"}), ("default", {"app": "b"})
    no_types = NetworkPolicy("p", pod_selector=LabelSelector({"app": "a"}), ingress=(Rule(),))
    assert conn([no_types], a, b) == ALL
    deny_eg = NetworkPolicy(
        "p",
        pod_selector=LabelSelector({"app": "a"}),
        ingress=(Rule(),),
        policy_types=("Ingress", "Egress"),
    )
    assert conn([deny_eg], a, b) == "No Connections"


# -- empty vs absent ---------------------------------------------------------------------------


def test_empty_ingress_list_isolates_and_allows_nothing():
    """types.go: 'If this field is empty then this NetworkPolicy does not allow any traffic'."""
    a, b = ("default", {"app": "a"}), ("default", {"app": "b"})
    deny = NetworkPolicy("deny", pod_selector=LabelSelector(), ingress=())
    assert conn([deny], a, b) == "No Connections"
    assert conn([deny], (0, 10), b) == "No Connections"


def test_a_rule_without_from_and_ports_allows_everything():
    """types.go: 'If this field is empty or missing, this rule matches all sources'; ports:
    'this rule matches all ports'."""
    a, b = ("default", {"app": "a"}), ("other", {"app": "b"})
    allow_all = NetworkPolicy("allow", namespace="other", ingress=(Rule(),))
    assert conn([allow_all], a, b) == ALL
    assert conn([allow_all], (ip("8.8.8.8"), ip("8.8.8.8")), b) == ALL


def test_policies_are_additive():
    """docs: policies do not conflict; they are additive (union of allowed)."""
    a, b = ("default", {"app": "a"}), ("default", {"app": "b"})
    p80 = NetworkPolicy("p80", ingress=(Rule(ports=(PolicyPort(port=80),)),))
    p53 = NetworkPolicy("p53", ingress=(Rule(ports=(PolicyPort("UDP", 53),)),))
    assert conn([p80, p53], a, b) == "TCP 80,UDP 53"


def test_egress_at_the_source_and_ingress_at_the_destination_are_both_needed():
    a, b = ("default", {"app": "a"}), ("default", {"app": "b"})
    ingress_80 = NetworkPolicy(
        "in",
        pod_selector=LabelSelector({"app": "b"}),
        ingress=(Rule(ports=(PolicyPort(port=80, end_port=90),)),),
    )
    egress_85 = NetworkPolicy(
        "eg",
        pod_selector=LabelSelector({"app": "a"}),
        egress=(Rule(ports=(PolicyPort(port=85, end_port=100),)),),
    )
    assert conn([ingress_80, egress_85], a, b) == "TCP 85-90"


# -- peers -------------------------------------------------------------------------------------

ALICE = {"user": "alice"}
CLIENT = {"role": "client"}


def _docs_policy(*peers: Peer) -> NetworkPolicy:
    return NetworkPolicy(
        "db",
        namespace="default",
        pod_selector=LabelSelector({"role": "db"}),
        ingress=(Rule(peers=peers),),
    )


@pytest.mark.parametrize(
    ("src", "and_expected", "or_expected"),
    [
        (("alice", CLIENT), ALL, ALL),
        (("alice", {"role": "other"}), "No Connections", ALL),
        (("bob", CLIENT), "No Connections", "No Connections"),
        (("default", CLIENT), "No Connections", ALL),
    ],
)
def test_pod_and_namespace_selector_in_one_peer_is_and_in_two_peers_is_or(
    src, and_expected, or_expected
):
    """The docs' example: one element with both selectors = clients in alice's namespaces;
    two elements = all pods in alice's namespaces OR clients in the policy's namespace."""
    ns_labels = {"alice": {"user": "alice"}, "bob": {"user": "bob"}}
    dst = ("default", {"role": "db"})
    one = _docs_policy(
        Peer(pod_selector=LabelSelector(CLIENT), namespace_selector=LabelSelector(ALICE))
    )
    two = _docs_policy(
        Peer(namespace_selector=LabelSelector(ALICE)), Peer(pod_selector=LabelSelector(CLIENT))
    )
    assert conn([one], src, dst, ns_labels) == and_expected
    assert conn([two], src, dst, ns_labels) == or_expected


def test_pod_selector_alone_means_the_policys_namespace():
    peer = Peer(pod_selector=LabelSelector({"app": "x"}))
    assert sem.peer_selects_pod(peer, "default", {"app": "x"}, "default", {})
    assert not sem.peer_selects_pod(peer, "default", {"app": "x"}, "other", {})


def test_namespace_label_kubernetes_io_metadata_name():
    """docs: the control plane sets kubernetes.io/metadata.name on every namespace."""
    assert dict(Namespace("prod").labels)["kubernetes.io/metadata.name"] == "prod"
    assert Cluster(workloads=(Workload("w", "prod"),)).namespace_labels() == {
        "prod": {"kubernetes.io/metadata.name": "prod"}
    }
    peer = Peer(namespace_selector=LabelSelector({"kubernetes.io/metadata.name": "prod"}))
    assert sem.peer_selects_pod(
        peer, "default", {}, "prod", {"kubernetes.io/metadata.name": "prod"}
    )


def test_a_peer_needs_exactly_one_kind():
    with pytest.raises(ValueError, match="either ipBlock"):
        Peer(pod_selector=LabelSelector(), ip_block=IPBlock("10.0.0.0/8"))
    with pytest.raises(ValueError, match="one of"):
        Peer()


# -- ipBlock -----------------------------------------------------------------------------------


def test_ip_block_except_from_the_docs():
    """docs: cidr 172.17.0.0/16 except 172.17.1.0/24."""
    block = IPBlock("172.17.0.0/16", ("172.17.1.0/24",))
    assert sem.ip_block_intervals(block) == [
        (ip("172.17.0.0"), ip("172.17.0.255")),
        (ip("172.17.2.0"), ip("172.17.255.255")),
    ]
    peer = Peer(ip_block=block)
    assert sem.peer_selects_address(peer, (ip("172.17.2.0"), ip("172.17.2.9")))
    assert not sem.peer_selects_address(peer, (ip("172.17.1.5"), ip("172.17.1.5")))
    assert not sem.peer_selects_pod(peer, "default", {}, "default", {})


def test_ip_block_errors():
    """types.go: 'Except values will be rejected if they are outside the cidr range'."""
    with pytest.raises(ValueError, match="inside cidr"):
        IPBlock("10.0.0.0/16", ("10.1.0.0/24",))
    with pytest.raises(ValueError, match="valid CIDR"):
        IPBlock("10.0.0.300/8")
    with pytest.raises(ValueError, match="CIDR"):
        IPBlock("10.0.0.1")


def test_elementary_intervals_cut_at_every_block_edge():
    """As in ipblockstest's expected output: 0.0.0.0-9.255.255.255, 10.0.0.0-10.255.255.255,
    11.0.0.0-255.255.255.255 for one 10.0.0.0/8 block."""
    parts = sem.elementary_intervals([(ip("10.0.0.0"), ip("10.255.255.255"))])
    assert [sem.format_ip_range(p) for p in parts] == [
        "0.0.0.0-9.255.255.255",
        "10.0.0.0-10.255.255.255",
        "11.0.0.0-255.255.255.255",
    ]


# -- ports -------------------------------------------------------------------------------------


def test_protocol_defaults_to_tcp():
    """types.go: 'If not specified, this field defaults to TCP'."""
    assert PolicyPort(port=80).protocol == "TCP"


def test_port_absent_matches_all_ports_of_the_protocol():
    """types.go: 'If this field is not provided, this matches all port names and numbers'."""
    assert sem.port_range(PolicyPort("UDP"), ()) == (1, 65535)


def test_end_port_from_the_docs():
    """docs: port 32000, endPort 32768 allows 32000-32768 inclusive."""
    assert sem.port_range(PolicyPort("TCP", 32000, 32768), ()) == (32000, 32768)
    with pytest.raises(ValueError, match="endPort must be >= port"):
        PolicyPort("TCP", 32000, 31000)
    with pytest.raises(ValueError, match="named port"):
        PolicyPort("TCP", "http", 9000)
    with pytest.raises(ValueError, match="port is absent"):
        PolicyPort("TCP", None, 9000)


def test_named_ports_resolve_on_each_destination():
    web = (ContainerPort(80, "http"),)
    alt = (ContainerPort(8080, "http"),)
    udp = (ContainerPort(80, "http", "UDP"),)
    rule_port = PolicyPort("TCP", "http")
    assert sem.port_range(rule_port, web) == (80, 80)
    assert sem.port_range(rule_port, alt) == (8080, 8080)
    assert sem.port_range(rule_port, udp) is None  # same name, other protocol
    assert sem.port_range(rule_port, ()) is None
    assert sem.port_range(rule_port, None) is None  # an address has no named ports
    pol = NetworkPolicy("p", ingress=(Rule(ports=(rule_port,)),))
    a = ("default", {})
    assert conn([pol], a, ("default", {"x": "1"}), ports=alt) == "TCP 8080"


def test_port_numbers_and_names_are_validated():
    with pytest.raises(ValueError, match="1 and <= 65535|<= 65535"):
        PolicyPort("TCP", 70000)
    with pytest.raises(ValueError, match="port name"):
        PolicyPort("TCP", "Not_A_Name")
    with pytest.raises(ValueError, match="protocol"):
        PolicyPort("ICMP", 1)


# -- the text format ---------------------------------------------------------------------------


def test_format_ports_matches_the_analyzers_strings():
    """Strings copied from netpol-analyzer's test_outputs/connlist files."""
    every = [(1, 65535)]
    assert sem.format_ports({"SCTP": every, "TCP": every, "UDP": every}) == ALL
    assert sem.format_ports({"SCTP": every, "TCP": every, "UDP": [(1, 5352), (5354, 65535)]}) == (
        "SCTP 1-65535,TCP 1-65535,UDP 1-5352,5354-65535"
    )
    assert sem.format_ports({"UDP": [(10053, 10053)], "TCP": [(10053, 10054)]}) == (
        "TCP 10053-10054,UDP 10053"
    )
    assert sem.format_ports({"TCP": [(8000, 8000), (8090, 8090)]}) == "TCP 8000,8090"
    assert sem.format_ports({"TCP": [(1, 65535)]}) == "TCP 1-65535"
