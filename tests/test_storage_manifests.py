"""Manifest loading and attach limits.

StatefulSet claim names follow pkg/controller/statefulset/stateful_set_utils.go
(getPersistentVolumeClaimName: <template>-<statefulset>-<ordinal>). Attach-limit
values are the figures in the CSI drivers' sources listed in data/SOURCES.md.
"""

import json

import pytest

from k8smodel.storage import attach_limit, attach_limits, bind, from_manifest

GI = 2**30

CLUSTER = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: gp3
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-small
  labels: {tier: gold}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-big}
spec:
  capacity: {storage: 1Ti}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  volumeMode: Block
  storageClassName: manual
  claimRef: {namespace: db, name: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: db}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  volumeMode: Block
  resources: {requests: {storage: 500Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: logs}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1.5Gi}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
  - metadata: {name: cache}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: manual
      resources: {requests: {storage: 2Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: ignored}
"""


def test_multi_document_yaml():
    m = from_manifest(CLUSTER)
    assert m.volumes.name.tolist() == ["pv-small", "pv-big"]
    big = m.volumes.set_index("name").loc["pv-big"]
    assert big.capacity_bytes == 2**40 and big.volume_mode == "Block"
    assert big.claim_ref_namespace == "db" and big.claim_ref_name == "data"
    assert big.access_modes == ("ReadWriteOnce", "ReadOnlyMany")
    c = m.claims.set_index("name")
    assert c.loc["logs", "request_bytes"] == 3 * 2**29
    assert c.loc["logs", "storage_class"] == "gp3"  # default class filled in
    # StatefulSet: replicas x templates, ordinal order, controller naming
    sts = m.claims[m.claims.source == "StatefulSet/web"]
    assert sts.name.tolist() == [
        "www-web-0",
        "cache-web-0",
        "www-web-1",
        "cache-web-1",
        "www-web-2",
        "cache-web-2",
    ]
    assert sts.pod.tolist()[:2] == ["web-0", "web-0"] and set(sts.namespace) == {"shop"}
    assert len(m.statefulsets) == 2 and m.statefulsets.replicas.tolist() == [3, 3]
    assert m.storage_classes.loc[0, "volume_binding_mode"] == "WaitForFirstConsumer"


def test_list_and_json_forms(tmp_path):
    items = [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"pv{i}"},
            "spec": {"capacity": {"storage": f"{i + 1}Gi"}, "accessModes": ["ReadWriteOnce"]},
        }
        for i in range(3)
    ]
    as_list = {"apiVersion": "v1", "kind": "List", "items": items}
    path = tmp_path / "pvs.json"
    path.write_text(json.dumps(as_list))
    assert from_manifest(path).volumes.capacity_bytes.tolist() == [GI, 2 * GI, 3 * GI]
    typed = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeList",
        "items": [{k: v for k, v in it.items() if k != "kind"} for it in items],
    }
    assert len(from_manifest(typed).volumes) == 3
    assert len(from_manifest(str(path)).volumes) == 3


def test_end_to_end_bind():
    m = from_manifest(CLUSTER)
    r = bind(m.claims, m.volumes, storage_classes=m.storage_classes, rng=1)
    b = r.bindings.set_index("claim")
    assert b.loc["data", "volume"] == "pv-big" and b.loc["data", "how"] == "prebound"
    # cache claims (class manual, Immediate since 'manual' is not a loaded class): only
    # pv-small (10Gi) is free, so the first one takes it and the rest stay pending
    assert b.loc["cache-web-0", "volume"] == "pv-small"
    # 'logs' has the WaitForFirstConsumer class gp3 and no pod uses it: the controller leaves
    # it Pending (pv_controller.go syncUnboundClaim -> emitEventForUnboundDelayBindingClaim)
    p = r.pending.set_index("claim").reason.to_dict()
    assert p == {
        "cache-web-1": "class_not_found",
        "cache-web-2": "class_not_found",
        "logs": "waiting_for_first_consumer",
    }
    # once a pod uses it, the scheduler path provisions it, rounded up to whole GiB by EBS CSI
    claims = m.claims.copy()
    claims.loc[claims.name == "logs", "pod"] = "app-0"
    b = bind(claims, m.volumes, storage_classes=m.storage_classes, rng=1).bindings
    row = b.set_index("claim").loc["logs"]
    assert row.how == "provisioned" and row.capacity_bytes == 2 * GI and row.path == "scheduler"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "kind: PersistentVolume\nmetadata: {name: a}\nspec: {capacity: {storage: 10 Gi}}\n",
            "PersistentVolume a: field 'spec.capacity.storage'",
        ),
        (
            "kind: PersistentVolumeClaim\nmetadata: {name: c, namespace: ns}\nspec: {}\n",
            "PersistentVolumeClaim ns/c: required field 'spec.resources.requests.storage'",
        ),
        (
            "kind: PersistentVolume\nmetadata: {name: a}\nspec:\n  capacity: {storage: 1Gi}\n"
            "  accessModes: [ReadWriteAlways]\n",
            "unknown access mode",
        ),
        (
            "kind: StorageClass\nmetadata: {name: s}\n",
            "StorageClass s: required field 'provisioner'",
        ),
        ("kind: PersistentVolume\nmetadata: {name: a\nspec: [\n", "malformed YAML"),
        (
            "kind: PersistentVolume\nmetadata: {name: a}\nspec: {capacity: {storage: -1Gi}}\n",
            "PersistentVolume a: field 'spec.capacity.storage' must be >= 0; got '-1Gi'",
        ),
        (
            "kind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: true}\n",
            "StatefulSet s: field 'spec.replicas' must be an int; got bool True",
        ),
        (
            "kind: PersistentVolumeClaim\nmetadata: {name: c}\nspec:\n"
            "  resources: {requests: {storage: 1Gi}}\n"
            "  selector: {matchExpressions: [{key: tier, operator: In}]}\n",
            "PersistentVolumeClaim c: field 'spec.selector'.matchExpressions[0]: "
            "for 'In', 'NotIn' operators, values can't be empty",
        ),
        (
            "kind: PersistentVolumeClaim\nmetadata: {name: c}\nspec:\n"
            "  resources: {requests: {storage: 1Gi}}\n"
            "  selector: {matchExpressions: [{key: size, operator: Gt, values: ['1']}]}\n",
            "'Gt' is not a valid label selector operator; allowed: In, NotIn, Exists, DoesNotExist",
        ),
        (
            "metadata: {name: orphan}\nspec: {capacity: {storage: 1Gi}}\n",
            "document 1 has no kind",
        ),
    ],
)
def test_malformed_objects_name_object_and_field(text, needle):
    with pytest.raises(ValueError, match=None) as info:
        from_manifest(text)
    assert needle in str(info.value)


def test_safe_loading_refuses_python_tags():
    with pytest.raises(ValueError, match="malformed YAML"):
        from_manifest("kind: !!python/object/apply:os.system ['true']\n")


@pytest.mark.parametrize("replicas", [2**31, 10**18])
def test_statefulset_replicas_are_int32(replicas):
    text = f"kind: StatefulSet\nmetadata: {{name: s}}\nspec: {{replicas: {replicas}}}\n"
    with pytest.raises(ValueError, match=r"StatefulSet s: field 'spec.replicas' must be an int32"):
        from_manifest(text)


def test_statefulset_expansion_refused_before_it_is_built():
    # 10**8 replicas is a valid int32 but would build 10**8 claims (the 4 GiB blow-up)
    text = (
        "kind: StatefulSet\nmetadata: {name: s}\nspec:\n  replicas: 100000000\n"
        "  volumeClaimTemplates:\n  - metadata: {name: d}\n"
        "    spec: {resources: {requests: {storage: 1Gi}}}\n"
    )
    with pytest.raises(ValueError, match=r"100,000,000 replicas x 1 volumeClaimTemplates.*fit"):
        from_manifest(text)
    small = text.replace("100000000", "3")
    assert len(from_manifest(small, max_memory_bytes=2**20).claims) == 3
    with pytest.raises(ValueError, match="max_memory_bytes"):
        from_manifest(small, max_memory_bytes=1000)


def test_storage_loader_refuses_duplicate_keys():
    text = (
        "kind: PersistentVolume\nmetadata: {name: a}\nspec:\n"
        "  capacity:\n    storage: 1Gi\n    storage: 100Ti\n"
    )
    with pytest.raises(ValueError, match="duplicate key 'storage'"):
        from_manifest(text)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        from_manifest("no-such-file.yaml")


@pytest.mark.parametrize(
    ("provider", "itype", "expected"),
    [
        ("gce", "e2-medium", 15),  # shared-core: volumeLimitSmall
        ("gce", "n2-standard-8", 127),  # volumeLimitBig
        ("azure", "Standard_D2s_v3", 4),  # maxDataDiskCountMap
        ("azure", "standard_d16s_v5", 32),
        # aws-ebs-csi-driver pkg/driver/node.go getVolumesLimit: minus the root volume, and
        # on a shared limit minus the ENIs beyond the first (issue 12 item 2.3: 26, not 25)
        ("aws", "m5.large", 27 - 1),  # not in volume_limits_table.go: default 27 shared
        ("aws", "m5d.large", 26 - 1),  # table: {26, "shared"}
        ("aws", "m5.metal", 31 - 1),  # table: {31, "shared"}
        ("aws", "g5.48xlarge", 9 - 1),  # table: {9, "shared"}
        ("aws", "m7i.large", 32 - 1),  # dedicated: minus root volume only
        ("aws", "m4.large", 39 - 1),  # nonNitroInstanceTypes: 39
    ],
)
def test_attach_limits(provider, itype, expected):
    assert attach_limit(provider, itype) == expected


def test_attach_limit_options_and_errors():
    # 27 - 2 reserved - (3 - 1) ENIs beyond the first
    assert attach_limit("aws", "m5.large", network_interfaces=3, reserved_volumes=2) == 23
    assert attach_limit("aws", "m7i.large", network_interfaces=3) == 31  # dedicated: ENIs free
    assert attach_limit("aws", "g5.48xlarge", network_interfaces=20) == 1  # never below 1
    # azuredisk-csi-driver nodeserver_test.go TestGetMaxDataDiskCount: "NOT_EXISTING" and ""
    # get defaultAzureVolumeLimit (16)
    for size in ("NOT_EXISTING", ""):
        with pytest.warns(UserWarning, match="defaultAzureVolumeLimit"):
            assert attach_limit("azure", size) == 16
    with pytest.raises(ValueError, match="known: aws, gce, azure"):
        attach_limit("oracle", "x")
    with pytest.raises(ValueError, match="e2-medium"):
        attach_limit("gce", "e2-gigantic")
    t = attach_limits()
    assert set(t.provider) == {"aws", "gce", "azure"} and t.source.str.len().min() > 10


def _sc(name, annotations, created=None):
    meta = {"name": name, "annotations": annotations}
    if created is not None:
        meta["creationTimestamp"] = created
    return {"kind": "StorageClass", "metadata": meta, "provisioner": "x"}


PVC = {
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "c"},
    "spec": {"resources": {"requests": {"storage": "1Gi"}}},
}
GA = "storageclass.kubernetes.io/is-default-class"
BETA = "storageclass.beta.kubernetes.io/is-default-class"


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        # GetDefaultClass (pkg/volume/util/storageclass.go): newest creationTimestamp first
        (
            [
                _sc("old", {GA: "true"}, "2023-01-01T00:00:00Z"),
                _sc("new", {GA: "true"}, "2024-06-01T00:00:00Z"),
                _sc("mid", {GA: "true"}, "2023-06-01T00:00:00Z"),
            ],
            "new",
        ),
        # equal timestamps: name in ascending order
        (
            [
                _sc("zeta", {GA: "true"}, "2024-01-01T00:00:00Z"),
                _sc("alpha", {GA: "true"}, "2024-01-01T00:00:00Z"),
            ],
            "alpha",
        ),
        # IsDefaultAnnotation: the value must be exactly "true"; the beta key counts too
        ([_sc("a", {GA: "True"}), _sc("b", {GA: "yes"})], None),
        ([_sc("a", {GA: "True"}), _sc("b", {BETA: "true"})], "b"),
    ],
)
def test_default_storage_class_choice(classes, expected):
    m = from_manifest([*classes, PVC])
    assert m.claims.storage_class.iloc[0] == expected or (
        expected is None and m.claims.storage_class.iloc[0] is None
    )


def test_statefulset_claims_that_exist_are_not_counted_twice():
    # The controller creates data-db-0 only if it is missing (stateful_pod_control.go,
    # createPersistentVolumeClaims creates on NotFound): a dump holding both the StatefulSet
    # and its first claim has two claims for two replicas, not three.
    text = """
kind: StatefulSet
metadata: {name: db, namespace: prod}
spec:
  replicas: 2
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: prod}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""
    claims = from_manifest(text).claims
    assert sorted(claims.name) == ["data-db-0", "data-db-1"]
