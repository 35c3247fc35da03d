"""from_manifest on Service, EndpointSlice and Node objects as kubectl prints them."""

import json

import pytest

from k8smodel.service import from_manifest, theory

DOC = """
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {service.kubernetes.io/topology-mode: Auto}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  internalTrafficPolicy: Cluster
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  trafficDistribution: PreferClose
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
endpoints:
- addresses: [10.0.0.1]
  nodeName: n1
  zone: zone-a
  conditions: {ready: true, serving: true, terminating: false}
  targetRef: {kind: Pod, name: web-1}
- addresses: [10.0.0.2]
  nodeName: n1
  zone: zone-a
  targetRef: {kind: Pod, name: web-2}
- addresses: [10.0.0.3]
  nodeName: n2
  zone: zone-b
  conditions: {ready: false, serving: true, terminating: true}
  targetRef: {kind: Pod, name: web-3}
- addresses: [10.0.0.4]
  zone: zone-b
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: n1
    labels: {topology.kubernetes.io/zone: zone-a}
  status:
    allocatable: {cpu: 3500m}
    conditions: [{type: Ready, status: "True"}]
- apiVersion: v1
  kind: Node
  metadata:
    name: n2
    labels: {topology.kubernetes.io/zone: zone-b, node-role.kubernetes.io/control-plane: ""}
  status:
    allocatable: {cpu: "4"}
    conditions: [{type: Ready, status: "False"}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: other, namespace: shop}
"""


def test_reads_every_field(tmp_path):
    path = tmp_path / "dump.yaml"
    path.write_text(DOC)
    spec = from_manifest(path)
    svc = spec.service
    assert (svc.type, svc.external_traffic_policy, svc.session_affinity) == (
        "LoadBalancer", "Local", "ClientIP"
    )  # fmt: skip
    assert svc.affinity_timeout_s == 600 and svc.topology_mode == "Auto"
    assert svc.traffic_distribution == "PreferClose"
    nodes = {n.name: n for n in spec.layout.nodes}
    assert nodes["n1"].cpu == 3.5 and nodes["n1"].zone == "zone-a" and nodes["n1"].ready
    assert nodes["n2"].control_plane and not nodes["n2"].ready
    pods = {p.name: p for p in spec.layout.pods}
    assert set(pods) == {"web-1", "web-2", "web-3"}
    assert pods["web-3"].terminating and pods["web-3"].serving and not pods["web-3"].ready
    # the endpoint without nodeName and the ConfigMap are listed, not dropped silently
    assert any("no nodeName" in s for s in spec.skipped)
    assert any("ConfigMap shop/other" in s for s in spec.skipped)
    # eTP Local: n2 has only a terminating pod and fails the health check
    r = theory(spec.service, spec.layout)
    assert r.per_pod.share_requests.tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_json_list_and_hints_kept():
    objs = {
        "kind": "List",
        "items": [
            {"kind": "Service", "metadata": {"name": "api"}, "spec": {}},
            {
                "kind": "EndpointSlice",
                "metadata": {"name": "api-1", "labels": {"kubernetes.io/service-name": "api"}},
                "endpoints": [
                    {"addresses": ["a"], "nodeName": "n1", "zone": "z1",
                     "hints": {"forZones": [{"name": "z2"}]}},
                    {"addresses": ["b"], "nodeName": "n2", "zone": "z2",
                     "hints": {"forZones": [{"name": "z2"}]}},
                ],
            },
        ],
    }  # fmt: skip
    spec = from_manifest(json.dumps(objs))
    assert [p.zone_hints for p in spec.layout.pods] == [("z2",), ("z2",)]
    # kube-proxy on n1 (zone z1) finds no endpoint for z1 and falls back to all of them
    r = theory(spec.service, spec.layout)
    assert "as written" in " ".join(r.notes)


def test_errors_name_object_and_field():
    bad = DOC.replace("cpu: 3500m", "cpu: lots")
    with pytest.raises(ValueError, match=r"Node n1: status.allocatable.cpu must be a CPU quantity"):
        from_manifest(bad)
    bad = DOC.replace("externalTrafficPolicy: Local", "externalTrafficPolicy: Locale")
    with pytest.raises(
        ValueError, match=r"Service shop/web: external_traffic_policy must be one of"
    ):
        from_manifest(bad)
    bad = DOC.replace("type: LoadBalancer", "type: [LoadBalancer]")
    with pytest.raises(ValueError, match=r"Service shop/web: spec.type must be str"):
        from_manifest(bad)
    with pytest.raises(ValueError, match="exactly one Service"):
        from_manifest(DOC, service="nope")
    with pytest.raises(ValueError, match="existing file"):
        from_manifest("/no/such/file.yaml")


def test_slices_of_a_same_named_service_in_another_namespace_are_skipped():
    # Regression: an EndpointSlice labelled for Service "s" in namespace "other" was read as
    # an endpoint of ns/s; the service-name label only names a Service of the slice's own
    # namespace (discovery/v1 LabelServiceName, types.go).
    docs = [
        {"kind": "Service", "metadata": {"name": "s", "namespace": "ns"}, "spec": {}},
        {"kind": "EndpointSlice",
         "metadata": {"name": "s-1", "namespace": "ns",
                      "labels": {"kubernetes.io/service-name": "s"}},
         "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": "n1", "zone": "z1"}]},
        {"kind": "EndpointSlice",
         "metadata": {"name": "s-x", "namespace": "other",
                      "labels": {"kubernetes.io/service-name": "s"}},
         "endpoints": [{"addresses": ["10.9.0.1"], "nodeName": "n2", "zone": "z2"}]},
    ]  # fmt: skip
    spec = from_manifest(docs)
    assert [p.name for p in spec.layout.pods] == ["10.0.0.1"]
    assert any("EndpointSlice other/s-x" in s for s in spec.skipped)


def test_dual_stack_reads_the_primary_family_only():
    # Regression: a dual-stack Service's IPv4 and IPv6 slices name the same pods, and the
    # reader refused the dump ("pod names must be unique"). kube-proxy proxies each family on
    # its own, so with the primary family alone two pods on two nodes get 1/2 each.
    def ep(addr, pod, node):
        return {"addresses": [addr], "nodeName": node, "zone": "z1",
                "targetRef": {"kind": "Pod", "name": pod, "namespace": "ns"}}  # fmt: skip

    def eps(name, family, addrs):
        return {"kind": "EndpointSlice", "addressType": family,
                "metadata": {"name": name, "namespace": "ns",
                             "labels": {"kubernetes.io/service-name": "s"}},
                "endpoints": [ep(addrs[0], "p1", "n1"), ep(addrs[1], "p2", "n2")]}  # fmt: skip

    svc = {"kind": "Service", "metadata": {"name": "s", "namespace": "ns"},
           "spec": {"ipFamilies": ["IPv6", "IPv4"]}}  # fmt: skip
    docs = [
        svc,
        eps("s-4", "IPv4", ["10.0.0.1", "10.0.0.2"]),
        eps("s-6", "IPv6", ["fd::1", "fd::2"]),
    ]
    spec = from_manifest(docs)
    assert [p.name for p in spec.layout.pods] == ["p1", "p2"]
    assert any("EndpointSlice ns/s-4: addressType IPv4" in s for s in spec.skipped)
    shares = theory(spec.service, spec.layout).per_pod.share_requests
    assert list(shares) == pytest.approx([0.5, 0.5])
