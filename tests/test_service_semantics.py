"""Kubernetes' rules, checked on cases transcribed from the upstream unit tests."""

import pytest

from k8smodel.service import (
    Endpoint,
    Layout,
    Node,
    Pod,
    Service,
    allocate_zone_hints,
    categorize_endpoints,
    endpoint_hints,
    giving_and_receiving_zones,
    hints_enabled,
    passes_lb_health_check,
    redistribute_hints,
    service_overloaded,
    topology_mode_from_hints,
    traffic_distribution_hints,
    zone_allocations,
    zone_cpu_ratios,
)

# --- staging/src/k8s.io/endpointslice/topologycache/topologycache_test.go, TestSetNodes ------
# (zone, cpu cores, ready, control-plane) per node -> expected ratios (None = insufficient)
SET_NODES = [
    ("empty", [], None),
    ("single node", [("zone-a", 1, True, False)], None),
    ("single zone", [("zone-a", 1, True, False), ("zone-a", 1, True, False)], None),
    ("2 zones", [("zone-a", 1, True, False), ("zone-b", 1, True, False)],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("2 zones, unready node in 1, ready node in 1",
     [("zone-a", 1, False, False), ("zone-b", 1, True, False)], None),
    ("2 zones, control plane node in 1, ready node in 1",
     [("zone-a", 1, True, False), ("zone-b", 1, True, True)], None),
    ("2 zones, unready node in 1, ready node in 2",
     [("zone-a", 1, True, False), ("zone-b", 1, True, False), ("zone-b", 1, False, False)],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("2 zones, control plane node in 1, ready node in 2",
     [("zone-a", 1, True, False), ("zone-b", 1, True, False), ("zone-b", 1, True, True)],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("3 zones, 4 nodes in 1, 2 nodes in 1, 1 node in 1",
     [("zone-a", 1, True, False), ("zone-a", 1, True, False), ("zone-a", 1, True, False),
      ("zone-a", 2, True, False), ("zone-b", 3, True, False), ("zone-b", 1.5, True, False),
      ("zone-c", 0.5, True, False)],
     {"zone-a": 0.5, "zone-b": 0.45, "zone-c": 0.05}),
]  # fmt: skip


@pytest.mark.parametrize("name,nodes,expected", SET_NODES, ids=[c[0] for c in SET_NODES])
def test_set_nodes_table(name, nodes, expected):
    objs = [
        Node(f"n{i}", zone=z, cpu=c, ready=r, control_plane=cp)
        for i, (z, c, r, cp) in enumerate(nodes)
    ]
    ratios, reason = zone_cpu_ratios(objs)
    if expected is None:
        assert ratios is None and reason
    else:
        assert ratios == pytest.approx(expected, abs=1e-12)


def test_node_without_zone_disables_hints_for_everyone():
    # SetNodes: one counted node without a zone label makes the node info insufficient.
    ratios, reason = zone_cpu_ratios([Node("a", "zone-a"), Node("b", "zone-b"), Node("c", "")])
    assert ratios is None and "no zone" in reason


# --- topologycache_test.go, TestAddHints (all slices fresh: ToCreate then ToUpdate order) ----
def _add_hints(ratios, endpoints):
    zones = [z for z, _ in endpoints]
    ready = [r for _, r in endpoints]
    return allocate_zone_hints(zones, ready, ratios)


def test_add_hints_no_zone_ratios():
    hints, reason = _add_hints(None, [("zone-a", True)])
    assert hints is None and "insufficient node info" in reason


def test_add_hints_two_endpoints_three_zones_refused():
    ratios = {"zone-a": 0.3, "zone-b": 0.4, "zone-c": 0.3}
    hints, reason = _add_hints(ratios, [("zone-a", True), ("zone-b", True)])
    assert hints is None and "insufficient number of endpoints" in reason


def test_add_hints_two_endpoints_two_zones():
    hints, _ = _add_hints({"zone-a": 0.45, "zone-b": 0.55}, [("zone-a", True), ("zone-b", True)])
    assert hints == ["zone-a", "zone-b"]


def test_add_hints_unready_endpoints_get_no_hint():
    # "slice to create with 2 ready, 1 unready, 1 unknown endpoints" (unknown Ready = not ready)
    eps = [("zone-a", True), ("zone-b", True), ("zone-b", False), ("zone-b", False)]
    hints, _ = _add_hints({"zone-a": 0.45, "zone-b": 0.55}, eps)
    assert hints == ["zone-a", "zone-b", None, None]


def test_add_hints_within_three_zone_threshold():
    # "slices to create and update within 3 zone threshold": 10.1.2.3 (zone-a) is re-hinted
    # for zone-b; allocation a=4, b=3, c=3.
    eps = ["zone-a", "zone-b", "zone-c", "zone-c", "zone-a", "zone-a", "zone-a", "zone-b",
           "zone-c", "zone-a"]  # fmt: skip
    hints, _ = _add_hints(
        {"zone-a": 0.35, "zone-b": 0.35, "zone-c": 0.30}, [(z, True) for z in eps]
    )
    assert hints == ["zone-b", "zone-b", "zone-c", "zone-c", "zone-a", "zone-a", "zone-a",
                     "zone-b", "zone-c", "zone-a"]  # fmt: skip
    assert {z: hints.count(z) for z in set(hints)} == {"zone-a": 4, "zone-b": 3, "zone-c": 3}


# --- topologycache/utils_test.go, Test_getGivingAndReceivingZones ----------------------------
GIVING = [
    ("empty", {}, {}, {}, {}),
    ("simple allocation with no need for rebalancing",
     {"zone-a": 1.2, "zone-b": 1.1, "zone-c": 1.0}, {"zone-a": 1, "zone-b": 1, "zone-c": 1},
     {}, {}),
    ("preference for same zone even when giving an extra endpoint would result in slightly "
     "better distribution",
     {"zone-a": 5.1, "zone-b": 5.1, "zone-c": 5.8}, {"zone-a": 16},
     {"zone-a": 10}, {"zone-b": 5, "zone-c": 5}),
    ("when 2 zones need < 1 endpoint, give to zone that needs endpoint most",
     {"zone-a": 5.0, "zone-b": 5.6, "zone-c": 5.4}, {"zone-a": 16},
     {"zone-a": 11}, {"zone-b": 6, "zone-c": 5}),
    ("when 2 zones have extra endpoints, give from zone with most extra",
     {"zone-a": 5.0, "zone-b": 5.6, "zone-c": 5.4}, {"zone-b": 8, "zone-c": 8},
     {"zone-b": 2, "zone-c": 3}, {"zone-a": 5}),
    ("ensure function can handle unexpected data (more allocated than allocations)",
     {"zone-a": 5.0, "zone-b": 5.0, "zone-c": 5.0}, {"zone-a": 6, "zone-b": 6, "zone-c": 6},
     {}, {}),
    ("ensure function can handle unexpected data (negative allocations)",
     {"zone-a": -5.0, "zone-b": -5.0, "zone-c": -5.0}, {"zone-a": 6, "zone-b": 6, "zone-c": 6},
     {}, {}),
    ("ensure function can handle unexpected data (negative allocated)",
     {"zone-a": 5.0, "zone-b": 5.0, "zone-c": 5.0}, {"zone-a": -4, "zone-b": -3, "zone-c": -2},
     {}, {}),
    ("ensure function can handle unexpected data (negative for 1 zone)",
     {"zone-a": 5.0, "zone-b": 5.0, "zone-c": 5.0}, {"zone-a": -40, "zone-b": 20, "zone-c": 20},
     {"zone-b": 15, "zone-c": 15}, {"zone-a": 30}),
]  # fmt: skip


@pytest.mark.parametrize(
    "name,desired,allocated,giving,receiving", GIVING, ids=[c[0] for c in GIVING]
)
def test_giving_and_receiving_table(name, desired, allocated, giving, receiving):
    assert giving_and_receiving_zones(desired, allocated) == (giving, receiving)


def test_allocations_overload_threshold():
    # getAllocations: minimum = ceil(desired / 1.2); refused when minima exceed the endpoints.
    alloc, _ = zone_allocations({"a": 0.5, "b": 0.5}, 10)
    assert (alloc["a"].minimum, alloc["a"].maximum, alloc["a"].desired) == (5, 5, 5.0)
    # ratios 0.05/0.95 with 3 endpoints: ceil(0.15/1.2)=1, ceil(2.85/1.2)=3 -> 4 > 3, refused
    alloc, reason = zone_allocations({"a": 0.05, "b": 0.95}, 3)
    assert alloc is None and "overload" in reason


def test_service_overloaded():
    # serviceOverloaded: zone b needs ceil(10 x 0.5 / 1.2) = 5 endpoints; 4 is overloaded.
    assert service_overloaded({"a": 6, "b": 4}, {"a": 0.5, "b": 0.5})
    assert not service_overloaded({"a": 5, "b": 5}, {"a": 0.5, "b": 0.5})
    assert service_overloaded({"a": 10}, {"a": 0.5, "b": 0.5})


def test_hints_enabled_annotation_values():
    # reconciler.go hintsEnabled: only "Auto" and "auto"
    assert hints_enabled("Auto") and hints_enabled("auto")
    assert not hints_enabled("aUto") and not hints_enabled("disabled") and not hints_enabled(None)


# --- trafficdist/trafficdist.go ---------------------------------------------------------------
def test_traffic_distribution_hints_prefer_same_node():
    out = traffic_distribution_hints(
        "PreferSameNode", ["a", "b"], ["n1", "n2"], [True, False], prefer_same_gate=True
    )
    assert out == [(frozenset({"a"}), frozenset({"n1"})), (frozenset(), frozenset())]
    # without the gate PreferSameNode is not a valid value: no hints
    off = traffic_distribution_hints(
        "PreferSameNode", ["a"], ["n1"], [True], prefer_same_gate=False
    )
    assert off == [(frozenset(), frozenset())]


def test_annotation_wins_over_traffic_distribution():
    # reconciler.go: canUseTrafficDistribution requires !hintsEnabled(annotations)
    lay = Layout.uniform(zones=2, nodes_per_zone=1, pods_per_node=[3, 1])
    _, how = endpoint_hints(Service(topology_mode="Auto", traffic_distribution="PreferClose"), lay)
    assert how.startswith("topology hints")


# --- pkg/proxy/topology_test.go, TestCategorizeEndpoints (cases whose outcome is the same at
# HEAD, where the TopologyAwareHints and ProxyTerminatingEndpoints gates are GA and kube-proxy
# reads hints regardless of the annotation) --------------------------------------------------
def E(name, zones=(), ready=True, local=False, serving=None, terminating=False):  # noqa: N802
    return Endpoint(
        name,
        ready=ready,
        serving=ready if serving is None else serving,
        terminating=terminating,
        is_local=local,
        zone_hints=frozenset(zones),
    )


FOUR = [E("10.1.2.3:80", ["zone-a"]), E("10.1.2.4:80", ["zone-b"]),
        E("10.1.2.5:80", ["zone-c"]), E("10.1.2.6:80", ["zone-a"])]  # fmt: skip

CATEGORIZE = [
    ("hints enabled, hints annotation == auto", dict(zone="zone-a"), FOUR,
     {"10.1.2.3:80", "10.1.2.6:80"}, None),
    ("externalTrafficPolicy: Local, topology ignored for Local endpoints",
     dict(zone="zone-a", external_local=True, externally_accessible=True),
     [E("10.1.2.3:80", ["zone-a"], local=True), E("10.1.2.4:80", ["zone-b"], local=True),
      E("10.1.2.5:80", ["zone-c"]), E("10.1.2.6:80", ["zone-a"])],
     {"10.1.2.3:80", "10.1.2.6:80"}, {"10.1.2.3:80", "10.1.2.4:80"}),
    ("internalTrafficPolicy: Local, topology ignored for Local endpoints",
     dict(zone="zone-a", internal_local=True, externally_accessible=True),
     [E("10.1.2.3:80", ["zone-a"], local=True), E("10.1.2.4:80", ["zone-b"], local=True),
      E("10.1.2.5:80", ["zone-c"]), E("10.1.2.6:80", ["zone-a"])],
     {"10.1.2.3:80", "10.1.2.6:80"}, {"10.1.2.3:80", "10.1.2.4:80"}),
    ("empty node labels", dict(zone=""), [E("10.1.2.3:80", ["zone-a"])], {"10.1.2.3:80"}, None),
    ("node in different zone, no endpoint filtering", dict(zone="zone-b"),
     [E("10.1.2.3:80", ["zone-a"])], {"10.1.2.3:80"}, None),
    ("unready endpoint", dict(zone="zone-a"),
     FOUR[:3] + [E("10.1.2.6:80", ["zone-a"], ready=False)], {"10.1.2.3:80"}, None),
    ("only unready endpoints in same zone (should not filter)", dict(zone="zone-a"),
     [E("10.1.2.3:80", ["zone-a"], ready=False), FOUR[1], FOUR[2],
      E("10.1.2.6:80", ["zone-a"], ready=False)], {"10.1.2.4:80", "10.1.2.5:80"}, None),
    ("missing hints, no filtering applied", dict(zone="zone-a"),
     [FOUR[0], FOUR[1], E("10.1.2.5:80"), FOUR[3]],
     {"10.1.2.3:80", "10.1.2.4:80", "10.1.2.5:80", "10.1.2.6:80"}, None),
    ("multiple hints per endpoint, filtering includes any endpoint with zone included",
     dict(zone="zone-c"),
     [E("10.1.2.3:80", ["zone-a", "zone-b", "zone-c"]), E("10.1.2.4:80", ["zone-b", "zone-c"]),
      E("10.1.2.5:80", ["zone-b", "zone-d"]), E("10.1.2.6:80", ["zone-c"])],
     {"10.1.2.3:80", "10.1.2.4:80", "10.1.2.6:80"}, None),
    ("conflicting topology and localness require merging allEndpoints",
     dict(zone="zone-a", external_local=True, externally_accessible=True),
     [E("10.0.0.0:80", ["zone-a"], local=True), E("10.0.0.1:80", ["zone-b"], local=True),
      E("10.0.0.2:80", ["zone-a"]), E("10.0.0.3:80", ["zone-b"])],
     {"10.0.0.0:80", "10.0.0.2:80"}, {"10.0.0.0:80", "10.0.0.1:80"}),
    ("internalTrafficPolicy: Local, with empty endpoints", dict(internal_local=True), [],
     None, set()),
    ("internalTrafficPolicy: Local, but all endpoints are remote", dict(internal_local=True),
     [E("10.0.0.0:80"), E("10.0.0.1:80")], None, set()),
    ("internalTrafficPolicy: Local, all endpoints are local", dict(internal_local=True),
     [E("10.0.0.0:80", local=True), E("10.0.0.1:80", local=True)],
     None, {"10.0.0.0:80", "10.0.0.1:80"}),
    ("internalTrafficPolicy: Local, some endpoints are local", dict(internal_local=True),
     [E("10.0.0.0:80", local=True), E("10.0.0.1:80")], None, {"10.0.0.0:80"}),
    ("Cluster traffic policy, endpoints not Ready", {},
     [E("10.0.0.0:80", ready=False), E("10.0.0.1:80", ready=False)], set(), None),
    ("Cluster traffic policy, some endpoints are Ready", {},
     [E("10.0.0.0:80", ready=False), E("10.0.0.1:80")], {"10.0.0.1:80"}, None),
    ("Cluster traffic policy, PTE enabled, all endpoints are terminating", {},
     [E("10.0.0.0:80", ready=False, serving=True, terminating=True, local=True),
      E("10.0.0.1:80", ready=False, serving=True, terminating=True)],
     {"10.0.0.0:80", "10.0.0.1:80"}, None),
    ("iTP: Local, eTP: Cluster, some endpoints local",
     dict(internal_local=True, externally_accessible=True),
     [E("10.0.0.0:80", local=True), E("10.0.0.1:80")],
     {"10.0.0.0:80", "10.0.0.1:80"}, {"10.0.0.0:80"}),
    ("iTP: Cluster, eTP: Local, some endpoints local",
     dict(external_local=True, externally_accessible=True),
     [E("10.0.0.0:80", local=True), E("10.0.0.1:80")],
     {"10.0.0.0:80", "10.0.0.1:80"}, {"10.0.0.0:80"}),
    ("iTP: Local, eTP: Local, all endpoints remote",
     dict(internal_local=True, external_local=True, externally_accessible=True),
     [E("10.0.0.0:80"), E("10.0.0.1:80")], {"10.0.0.0:80", "10.0.0.1:80"}, set()),
    ("iTP: Local, eTP: Local, PTE enabled, all endpoints remote and terminating",
     dict(internal_local=True, external_local=True, externally_accessible=True),
     [E("10.0.0.0:80", ready=False, serving=True, terminating=True),
      E("10.0.0.1:80", ready=False, serving=True, terminating=True)],
     {"10.0.0.0:80", "10.0.0.1:80"}, set()),
    ("iTP: Cluster, eTP: Local, PTE enabled, with terminating endpoints",
     dict(external_local=True, externally_accessible=True),
     [E("10.0.0.0:80"), E("10.0.0.1:80", ready=False, serving=False, local=True),
      E("10.0.0.2:80", ready=False, serving=True, terminating=True, local=True),
      E("10.0.0.3:80", ready=False, serving=True, terminating=True)],
     {"10.0.0.0:80"}, {"10.0.0.2:80"}),
    ("externalTrafficPolicy ignored if not externally accessible", dict(external_local=True),
     [E("10.0.0.0:80"), E("10.0.0.1:80", local=True)], {"10.0.0.0:80", "10.0.0.1:80"}, None),
    ("no cluster endpoints for iTP:Local internal-only service", dict(internal_local=True),
     [E("10.0.0.0:80"), E("10.0.0.1:80", local=True)], None, {"10.0.0.1:80"}),
]  # fmt: skip


@pytest.mark.parametrize(
    "name,kw,endpoints,cluster,local", CATEGORIZE, ids=[c[0] for c in CATEGORIZE]
)
def test_categorize_endpoints_table(name, kw, endpoints, cluster, local):
    got_cluster, got_local = categorize_endpoints(endpoints, **kw)
    assert (None if got_cluster is None else set(got_cluster)) == cluster
    assert (None if got_local is None else set(got_local)) == local


def test_prefer_same_node_mode():
    # topologyModeFromHints: every ready endpoint has a node hint and one names this node.
    eps = [
        Endpoint("a", zone_hints=frozenset({"z1"}), node_hints=frozenset({"n1"})),
        Endpoint("b", zone_hints=frozenset({"z1"}), node_hints=frozenset({"n2"})),
    ]
    assert topology_mode_from_hints(eps, "n1", "z1") == "PreferSameNode"
    assert topology_mode_from_hints(eps, "n3", "z1") == "PreferSameZone"
    assert topology_mode_from_hints(eps, "n1", "z1", prefer_same_gate=False) == "PreferSameZone"
    assert topology_mode_from_hints(eps, "n3", "z9") == ""


def test_health_check_counts_only_ready_local_endpoints():
    # LocalReadyEndpoints: a node with only a terminating pod fails the eTP Local check.
    lay = Layout(
        (Node("n1", "a"), Node("n2", "a"), Node("n3", "a", ready=False)),
        (Pod("p1", "n1"), Pod("p2", "n2", ready=False, serving=True, terminating=True),
         Pod("p3", "n3")),
    )  # fmt: skip
    local = Service(type="LoadBalancer", external_traffic_policy="Local")
    assert [passes_lb_health_check(local, lay, n) for n in lay.nodes] == [True, False, False]
    cluster = Service(type="LoadBalancer")
    assert [passes_lb_health_check(cluster, lay, n) for n in lay.nodes] == [True, True, False]


# --- topologycache/utils_test.go, Test_redistributeHints ------------------------------------
@pytest.mark.parametrize(
    "zones,giving,receiving,expected",
    [
        ([], {}, {}, {}),  # empty
        (["zone-a"], {"zone-a": 1}, {"zone-b": 1}, {"zone-a": -1, "zone-b": 1}),  # single endpoint
        # endpoints from 1 zone redistributed to 2 other zones
        (["zone-a"] * 3, {"zone-a": 2}, {"zone-b": 1, "zone-c": 1},
         {"zone-a": -2, "zone-b": 1, "zone-c": 1}),
    ],
    ids=["empty", "single endpoint", "endpoints from 1 zone redistributed to 2 other zones"],
)  # fmt: skip
def test_redistribute_hints_table(zones, giving, receiving, expected):
    hints, moved = redistribute_hints(list(zones), zones, giving, receiving)
    assert moved == expected
    assert sum(h != z for h, z in zip(hints, zones, strict=True)) == sum(receiving.values())


# --- staging/src/k8s.io/endpointslice/trafficdist/trafficdist_test.go, TestReconcileHints ----
def test_trafficdist_zone_and_node_hints_prefer_same_node():
    # "should set zone and node hints with PreferSameNode" (first slice)
    out = traffic_distribution_hints(
        "PreferSameNode", ["zone-a", "zone-b"], ["node-1", "node-2"], [True, True]
    )
    assert out == [
        (frozenset({"zone-a"}), frozenset({"node-1"})),
        (frozenset({"zone-b"}), frozenset({"node-2"})),
    ]


def test_trafficdist_without_zones():
    # "should not create hints with PreferClose if there are no zones"
    assert (
        traffic_distribution_hints("PreferClose", ["", ""], ["n1", "n2"], [True, True])
        == [(frozenset(), frozenset())] * 2
    )
    # "should create only node hints with PreferSameNode if there are no zones"
    assert traffic_distribution_hints("PreferSameNode", [""], ["node-1"], [True]) == [
        (frozenset(), frozenset({"node-1"}))
    ]


@pytest.mark.parametrize("value", [None, "Unrecognized"])
def test_trafficdist_removes_hints_when_unset_or_unrecognized(value):
    # "should remove hints when trafficDistribution is unset/unrecognized"
    assert traffic_distribution_hints(value, ["zone-a"], ["n1"], [True]) == [
        (frozenset(), frozenset())
    ]
