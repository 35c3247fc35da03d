"""Exact shares of the layered dispatch against closed forms written here."""

import numpy as np
import pytest

from k8smodel.service import Layout, Node, Pod, Service, cluster_shares, local_lb_shares, theory

LB_LOCAL = Service(type="LoadBalancer", external_traffic_policy="Local")


def test_worked_example_two_nodes_two_plus_one_pods():
    # Kubernetes docs (create-external-load-balancer, preserving the client source IP): with a
    # node-level LB, eTP Local and 2 + 1 pods the pods get 25 %, 25 %, 50 %.
    r = theory(LB_LOCAL, Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1]))
    assert r.per_pod.share_requests.tolist() == pytest.approx([0.25, 0.25, 0.5])
    row = r.summary.iloc[0]
    assert row.fraction_extra_hop == 0 and row.max_share == pytest.approx(0.5)
    # Jain of (1/4, 1/4, 1/2): (1)^2 / (3 x 6/16) = 8/9
    assert row.jain_requests == pytest.approx(8 / 9)


@pytest.mark.parametrize("counts", [[3, 1, 0, 2], [1, 1, 1, 1], [5, 0, 0, 1]])
def test_local_lb_closed_form(counts):
    # share = 1 / (K x n_node), K = nodes with at least one pod (written out here)
    k = sum(c > 0 for c in counts)
    expected = [1 / (k * c) for c in counts for _ in range(c)]
    lay = Layout.uniform(zones=1, nodes_per_zone=len(counts), pods_per_node=counts)
    r = theory(LB_LOCAL, lay)
    assert r.per_pod.share_requests.tolist() == pytest.approx(expected)
    assert local_lb_shares(counts).tolist() == pytest.approx(expected)
    # nodes without a pod fail healthCheckNodePort and get nothing
    assert (r.per_node.share_entry[np.array(counts) == 0] == 0).all()
    assert r.summary.fraction_dropped.iloc[0] == 0


@pytest.mark.parametrize("zones,per_zone,pods", [(3, 2, 1), (2, 3, 2), (4, 1, 3)])
def test_cluster_uniform_closed_forms(zones, per_zone, pods):
    # eTP Cluster, no hints: every pod 1/P; off-node 1 - 1/N; cross-zone 1 - 1/Z.
    lay = Layout.uniform(zones=zones, nodes_per_zone=per_zone, pods_per_node=pods)
    r = theory(Service(type="LoadBalancer"), lay)
    n_nodes, n_pods = zones * per_zone, zones * per_zone * pods
    assert r.per_pod.share_requests.to_numpy() == pytest.approx(np.full(n_pods, 1 / n_pods))
    row = r.summary.iloc[0]
    assert row.fraction_extra_hop == pytest.approx(1 - 1 / n_nodes)
    assert row.fraction_cross_zone == pytest.approx(1 - 1 / zones)
    assert row.jain_requests == pytest.approx(1.0)
    shares, hop = cluster_shares(n_pods, n_nodes)
    assert hop == pytest.approx(1 - 1 / n_nodes) and shares.sum() == pytest.approx(1)


def test_cross_zone_cost():
    # 100 req/s x 10 kB x 86400 s = 86.4 GB/day; 2/3 of it crosses zones at $0.01/GB
    lay = Layout.uniform(zones=3, nodes_per_zone=1)
    row = theory(Service(), lay, request_rate_per_s=100, bytes_per_request=10_000).summary.iloc[0]
    assert row.cross_zone_gb_per_day == pytest.approx(86.4 * 2 / 3)
    assert row.cross_zone_usd_per_day == pytest.approx(0.864 * 2 / 3)


def test_prefer_close_keeps_traffic_in_zone():
    lay = Layout.uniform(zones=3, nodes_per_zone=2, pods_per_node=[2, 1, 1, 1, 1, 1])
    r = theory(Service(traffic_distribution="PreferClose"), lay)
    row = r.summary.iloc[0]
    assert row.fraction_cross_zone == 0
    # zone-a's 1/3 is split over its 3 pods; the other zones' 1/3 over 2 pods each
    assert r.per_pod.share_requests.tolist() == pytest.approx([1 / 9] * 3 + [1 / 6] * 4)


def test_topology_auto_cpu_proportional():
    # Equal CPU per zone, 5 + 2 + 2 pods: desired 3 each, zone-a donates one to b and one to c,
    # so each zone's kube-proxies see 3 endpoints and every pod gets 1/9; nothing crosses a zone
    # except the two donated endpoints' share: 2 x 1/9.
    lay = Layout.uniform(zones=3, nodes_per_zone=1, pods_per_node=[5, 2, 2])
    r = theory(Service(topology_mode="Auto"), lay)
    assert r.per_pod.share_requests.to_numpy() == pytest.approx(np.full(9, 1 / 9))
    assert r.summary.fraction_cross_zone.iloc[0] == pytest.approx(2 / 9)


def test_topology_auto_refused_with_too_few_endpoints():
    # getAllocations: more zones than endpoints -> no hints -> plain Cluster spreading
    lay = Layout.uniform(zones=3, nodes_per_zone=1, pods_per_node=[1, 1, 0])
    r = theory(Service(topology_mode="Auto"), lay)
    assert "insufficient number of endpoints" in " ".join(r.notes)
    assert r.summary.fraction_cross_zone.iloc[0] == pytest.approx(2 / 3)


def test_internal_local_drops_where_no_pod():
    lay = Layout.uniform(zones=1, nodes_per_zone=4, pods_per_node=[1, 1, 0, 0])
    row = theory(Service(internal_traffic_policy="Local"), lay).summary.iloc[0]
    assert row.fraction_dropped == pytest.approx(0.5)
    assert "dropped" in row["flags"]


def test_nodeport_local_drops_on_nodes_without_pods():
    # A bare NodePort has no health check: clients hitting an empty node are dropped.
    lay = Layout.uniform(zones=1, nodes_per_zone=3, pods_per_node=[2, 1, 0])
    r = theory(Service(type="NodePort", external_traffic_policy="Local"), lay)
    assert r.summary.fraction_dropped.iloc[0] == pytest.approx(1 / 3)
    assert r.per_pod.share_requests.tolist() == pytest.approx([0.25, 0.25, 0.5])


def test_ip_mode_spreads_evenly_over_pods():
    svc = Service(type="LoadBalancer", external_traffic_policy="Local", lb_mode="pods")
    r = theory(svc, Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1]))
    assert r.per_pod.share_requests.tolist() == pytest.approx([1 / 3] * 3)
    assert r.summary.fraction_extra_hop.iloc[0] == 0


def test_cluster_nodes_without_pods_forward_everything():
    lay = Layout.uniform(zones=1, nodes_per_zone=4, pods_per_node=[1, 1, 0, 0])
    row = theory(Service(type="LoadBalancer"), lay).summary.iloc[0]
    assert row.nodes_no_local_pod == 2
    # each entry node forwards with probability 1/2 (own pod) or 1 (no pod): 0.5 x 0.5 + 0.5 x 1
    assert row.fraction_extra_hop == pytest.approx(0.75)


def test_terminating_endpoints_used_only_as_fallback():
    nodes = (Node("n1", "a"), Node("n2", "a"))
    both = Layout(nodes, (Pod("p1", "n1"), Pod("p2", "n2", ready=False, terminating=True)))
    r = theory(Service(), both)
    assert r.per_pod.share_requests.tolist() == pytest.approx([1.0, 0.0])
    only = Layout(nodes, (Pod("p2", "n2", ready=False, serving=True, terminating=True),))
    assert theory(Service(), only).per_pod.share_requests.tolist() == pytest.approx([1.0])


def test_zone_failure_moves_traffic_to_survivors():
    lay = Layout.uniform(zones=3, nodes_per_zone=2, pods_per_node=1)
    before = theory(Service(type="LoadBalancer"), lay, request_rate_per_s=150)
    after = theory(
        Service(type="LoadBalancer"), lay, request_rate_per_s=150, failed_zones=["zone-a"]
    )
    # 150 req/s x 0.02 s over 6 pods = 0.5 each; over the 4 survivors 0.75 each
    assert before.summary.max_utilization.iloc[0] == pytest.approx(0.5)
    assert after.per_pod.utilization.tolist() == pytest.approx([0.75] * 4)
    assert after.summary.live_pods.iloc[0] == 4


def test_bad_inputs_name_the_parameter():
    lay = Layout.uniform()
    with pytest.raises(ValueError, match="external_traffic_policy must be one of"):
        Service(external_traffic_policy="local")
    with pytest.raises(ValueError, match="affinity_timeout_s must be"):
        Service(affinity_timeout_s=0)
    with pytest.raises(ValueError, match="source must be 'internal'"):
        theory(Service(), lay, source="external")
    with pytest.raises(TypeError, match="pod_concurrency must be a whole number"):
        theory(Service(), lay, pod_concurrency=1.5)
    with pytest.raises(ValueError, match="Pod p: node must be one of"):
        Layout((Node("n1"),), (Pod("p", "n9"),))
    with pytest.raises(ValueError, match="failed zones/nodes must exist"):
        theory(Service(), lay, failed_zones=["zone-z"])


def test_client_weights_place_internal_callers():
    # All callers on zone-a's node with PreferClose: every request stays in zone-a's 2 pods.
    lay = Layout.uniform(zones=2, nodes_per_zone=1, pods_per_node=[2, 3])
    r = theory(Service(traffic_distribution="PreferClose"), lay,
               client_weights={"zone-a-node-0": 1.0})  # fmt: skip
    assert r.per_pod.share_requests.tolist() == pytest.approx([0.5, 0.5, 0, 0, 0])
    with pytest.raises(ValueError, match=r"client_weights\['zone-a-node-0'\] must be"):
        theory(Service(), lay, client_weights={"zone-a-node-0": -1.0})


def test_nothing_reachable_is_reported_not_hidden():
    lay = Layout.uniform(zones=2, pods_per_node=0)
    row = theory(Service(type="LoadBalancer", external_traffic_policy="Local"), lay).summary.iloc[0]
    assert row.fraction_dropped == 1 and "no_pods" in row["flags"]


def test_failed_zones_as_a_bare_string_is_a_type_error():
    # Regression: "zone-a" was iterated into the one-letter "zones" '-', 'a', 'e', ...
    with pytest.raises(TypeError, match="failed_zones must be a list of names; got str"):
        theory(Service(), Layout.uniform(zones=2), failed_zones="zone-a")
    with pytest.raises(TypeError, match="failed_nodes must be a list of names"):
        theory(Service(), Layout.uniform(zones=2), failed_nodes="zone-a-node-0")


def test_oversized_layout_refused_before_the_dense_dispatch():
    # Regression: nothing bounded the dense node-by-pod matrices. 10,400 nodes x 104,000 pods
    # is 1.0816e9 cells: 48 bytes each (six float64 arrays) is 5.19e10 bytes = 48.4 GiB.
    # Layout.uniform refuses it (over Kubernetes' 5,000 nodes); a layout built by hand still
    # reaches theory(), whose budget check refuses it before allocating.
    with pytest.raises(ValueError, match="nodes_per_zone must be"):
        Layout.uniform(zones=26, nodes_per_zone=400, pods_per_node=10)
    nodes = tuple(
        Node(f"zone-{chr(97 + z)}-node-{i}", zone=f"zone-{chr(97 + z)}")
        for z in range(26)
        for i in range(400)
    )
    pods = tuple(Pod(f"{n.name}-pod-{k}", n.name) for n in nodes for k in range(10))
    with pytest.raises(ValueError, match="10400 nodes x 104000 pods needs about 48.4 GiB"):
        theory(Service(), Layout(nodes, pods))
