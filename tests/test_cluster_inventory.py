"""k8smodel.cluster: dumps into an inventory; malformed dumps give errors or listed skips."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from k8smodel.cluster import parse_bytes, parse_cpu, read_dump
from k8smodel.cluster.example import example_dump
from k8smodel.manifests import ManifestError, load_objects


@pytest.fixture(scope="module")
def dump():
    return example_dump()


@pytest.fixture(scope="module")
def inv(dump):
    return read_dump(dump)


def _list(*items):
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def _node(name, zone="a", cpu="4"):
    return {
        "kind": "Node",
        "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
        "status": {
            "allocatable": {"cpu": cpu},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


# -- quantities: values from the apimachinery grammar (suffix tables in quantity.go) ----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10Gi", 10 * 2**30),
        ("100Mi", 100 * 2**20),
        ("1.5k", 1500.0),
        ("1e3", 1000.0),
        ("2", 2.0),
        ("500M", 5e8),
    ],
)
def test_bytes(text, expected):
    assert parse_bytes(text, "x") == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("3500m", 3.5), ("250m", 0.25), ("4", 4.0), (2, 2.0)]
)
def test_cpu(text, expected):
    assert parse_cpu(text, "x") == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["10Gb", "ten", "", "1.2.3"])
def test_bad_quantity_names_the_field(bad):
    with pytest.raises(ValueError, match="spec.x must be a Kubernetes quantity"):
        parse_bytes(bad, "spec.x")


# -- the example dump -------------------------------------------------------------------------


def test_every_object_is_kept_or_listed(dump, inv):
    assert sum(len(v) for v in inv.objects.values()) + len(inv.skipped) == len(dump["items"])


def test_nodes_table(dump, inv):
    nodes = inv.nodes
    assert len(nodes) == 30
    assert nodes.groupby("zone").size().to_dict() == {
        "us-east-1a": 10,
        "us-east-1b": 10,
        "us-east-1c": 10,
    }
    assert set(nodes.cpu_allocatable) == {3.92}  # "3920m"
    cp = nodes[nodes.control_plane]
    assert len(cp) == 3
    assert set(cp.taints) == {"node-role.kubernetes.io/control-plane:NoSchedule"}


def test_workloads_link_pods_services_hpa_ingress(inv):
    wl = inv.workloads().set_index(["namespace", "name"])
    web = wl.loc[("shop", "web")]
    assert (web.kind, web.pods, web.services, web.hpa, web.ingresses) == (
        "Deployment",
        6,
        ("web",),
        "web",
        ("web",),
    )
    assert wl.loc[("data", "postgres")].pods == 3
    assert wl.loc[("logging", "fluent-bit")].pods == 27  # one per worker


def test_balancing_method_annotation_over_configmap(inv):
    ing = inv.ingresses.set_index("name")
    assert (ing.loc["web", "load_balance"], ing.loc["web", "load_balance_source"]) == (
        "ewma",
        "configmap",
    )
    assert (ing.loc["api", "load_balance"], ing.loc["api", "load_balance_source"]) == (
        "round_robin",
        "annotation",
    )


def test_balancing_default_without_configmap(dump):
    items = [
        o
        for o in dump["items"]
        if not (o["kind"] == "ConfigMap" and "ingress-nginx" in o["metadata"]["name"])
    ]
    ing = read_dump(_list(*items)).ingresses.set_index("name")
    # ingress-nginx's default load-balance is round_robin (REFERENCE.md, ingress-nginx row).
    assert (ing.loc["web", "load_balance"], ing.loc["web", "load_balance_source"]) == (
        "round_robin",
        "default",
    )


def test_storage_tables(inv):
    pvcs = inv.pvcs.set_index("name")
    assert pvcs.loc["data-postgres-0", "request_bytes"] == 100 * 2**30
    assert pvcs.loc["restore-scratch", "phase"] == "Pending"
    assert inv.pvs.zones.map(len).tolist() == [1, 1, 1]
    assert inv.storageclasses.iloc[0].volume_binding_mode == "WaitForFirstConsumer"
    assert set(inv.csinodes.allocatable_counts) == {(26.0,)}


def test_hpa_defaults(inv):
    hpa = inv.hpas.iloc[0]
    # autoscaling/v2 defaults: scale-up window 0 s, scale-down 300 s.
    assert (hpa.min_replicas, hpa.max_replicas, hpa.target_cpu_utilization) == (3, 30, 60.0)
    assert (hpa.scale_up_stabilization_s, hpa.scale_down_stabilization_s) == (0.0, 300.0)


def test_pods_without_replicaset_objects_still_find_their_deployment(dump):
    items = [o for o in dump["items"] if o["kind"] != "ReplicaSet"]
    pods = read_dump(_list(*items)).pods
    web = pods[(pods.namespace == "shop") & (pods.owner_name.str.startswith("web-"))]
    assert set(web.workload) == {"web"} and set(web.workload_kind) == {"Deployment"}


def test_yaml_files_and_folder_read_like_json(tmp_path, dump):
    half = len(dump["items"]) // 2
    (tmp_path / "a.yaml").write_text(yaml.safe_dump_all(dump["items"][:half]))
    (tmp_path / "b.json").write_text(json.dumps(_list(*dump["items"][half:])))
    from_folder = read_dump(tmp_path)
    from_one = read_dump(dump)
    assert from_folder.counts().equals(from_one.counts())
    assert from_folder.nodes.equals(from_one.nodes)


# -- malformed dumps: clear errors or listed skips, never a crash -------------------------------


def test_truncated_json_is_a_clear_error(tmp_path, dump):
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump)[:5000])
    with pytest.raises(ManifestError, match=r"dump.json: invalid JSON at line"):
        read_dump(path)


def test_duplicate_key_is_an_error():
    with pytest.raises(ManifestError, match="duplicate key"):
        read_dump('{"kind": "Node", "metadata": {"name": "a", "name": "b"}}')


def test_unknown_kind_and_missing_name_are_listed():
    inv = read_dump(
        _list(
            _node("n1"),
            {"kind": "Widget", "metadata": {"name": "w"}},
            {"kind": "Node", "metadata": {}},
            {"kind": "Pod"},
        )
    )
    reasons = inv.skipped.reason.tolist()
    assert reasons == [
        "kind 'Widget' is not read by the cluster inventory",
        "metadata.name is missing",
        "metadata is missing or not a mapping",
    ]
    assert inv.nodes.name.tolist() == ["n1"]


def test_missing_and_malformed_fields_are_listed_with_the_field():
    pvc = {"kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "x"}, "spec": {}}
    dep = {
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "x"},
        "spec": {"replicas": "three"},
    }
    node = _node("n2", cpu="lots")
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}, "spec": {"maxReplicas": 3}}
    skipped = read_dump(_list(pvc, dep, node, hpa)).skipped.set_index("name").reason
    assert skipped["c"] == "spec.resources.requests.storage is missing"
    assert skipped["d"] == "spec.replicas must be int; got 'three'"
    assert "status.allocatable.cpu must be a Kubernetes quantity" in skipped["n2"]
    assert skipped["h"] == "spec.scaleTargetRef is missing"


def test_bool_is_not_a_count():
    dep = {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": True}}
    assert read_dump(dep).skipped.reason.tolist() == ["spec.replicas must be int; got True"]


def test_duplicates_keep_the_first_and_list_the_rest():
    first, same, other = _node("n1", cpu="4"), _node("n1", cpu="4"), _node("n1", cpu="8")
    inv = read_dump(_list(first, same, other))
    assert inv.nodes.cpu_allocatable.tolist() == [4.0]
    assert inv.skipped.reason.tolist() == [
        "duplicate of an identical object read earlier",
        "another object of this kind and name was read earlier; the first is kept",
    ]


def test_same_name_in_two_namespaces_is_not_a_duplicate():
    a = {"kind": "Service", "metadata": {"name": "web", "namespace": "a"}}
    b = copy.deepcopy(a)
    b["metadata"]["namespace"] = "b"
    assert read_dump(_list(a, b)).services.namespace.tolist() == ["a", "b"]


def test_strict_raises_on_the_first_skip():
    with pytest.raises(ManifestError, match=r"Widget w: kind 'Widget' is not read"):
        read_dump({"kind": "Widget", "metadata": {"name": "w"}}, strict=True)


def test_non_object_item_is_an_error():
    with pytest.raises(ManifestError, match=r"items\[1\] must be a Kubernetes object"):
        read_dump('{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "a"}}, 3]}')


def test_empty_dump_gives_empty_tables():
    inv = read_dump('{"kind": "List", "items": []}')
    assert all(len(t) == 0 for t in inv.tables.values())
    assert len(inv.workloads()) == 0


def test_loads_through_the_hardened_loader(monkeypatch, tmp_path):
    calls = []
    import k8smodel.cluster.inventory as module

    def spy(source, **kw):
        calls.append(kw)
        return load_objects(source, **kw)

    monkeypatch.setattr(module, "load_objects", spy)
    read_dump(_node("n1"), max_bytes=10_000)
    assert calls == [{"max_bytes": 10_000}]
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_list(*[_node(f"n{i}") for i in range(200)])))
    with pytest.raises(ManifestError, match="max_bytes"):
        read_dump(big, max_bytes=1000)


def test_no_source_is_a_type_error():
    with pytest.raises(TypeError, match="at least one source"):
        read_dump()
