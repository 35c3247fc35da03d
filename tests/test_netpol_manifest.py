"""Reading manifests: kinds, Lists, JSON, pod templates, owners, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from k8smodel import netpol
from k8smodel.cli import main


def policy(spec: dict, name: str = "p", namespace: str = "shop") -> dict:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def deployment(kind="Deployment", replicas=None, **extra) -> dict:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
    }
    spec = (
        {"template": template}
        if kind != "CronJob"
        else {"jobTemplate": {"spec": {"template": template}}}
    )
    if replicas is not None:
        spec["replicas" if kind != "Job" else "parallelism"] = replicas
    return {"kind": kind, "metadata": {"name": "web", "namespace": "shop"}, "spec": spec, **extra}


@pytest.mark.parametrize(
    ("kind", "replicas", "pods"),
    [
        ("Deployment", 3, 3),
        ("StatefulSet", None, 1),
        ("DaemonSet", 5, 1),
        ("ReplicaSet", 2, 2),
        ("Job", 4, 4),
        ("CronJob", None, 1),
    ],
)
def test_workloads_become_their_pod_templates(kind, replicas, pods):
    cluster = netpol.from_manifest(deployment(kind, replicas))
    (wl,) = cluster.workloads
    assert wl.ref == f"shop/web[{kind}]"
    assert dict(wl.labels) == {"app": "web"}
    assert wl.ports[0].name == "http" and wl.ports[0].port == 8080
    assert wl.replicas == pods


def test_pods_with_a_controller_are_listed_under_it():
    pods = [
        {
            "kind": "Pod",
            "metadata": {
                "name": f"web-{i}",
                "namespace": "shop",
                "labels": {"app": "web"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d", "controller": True}],
            },
        }
        for i in range(3)
    ]
    pods.append({"kind": "Pod", "metadata": {"name": "solo"}})
    cluster = netpol.from_manifest({"kind": "List", "items": pods})
    refs = {w.ref: w.replicas for w in cluster.workloads}
    assert refs == {"shop/web-5d[ReplicaSet]": 3, "default/solo[Pod]": 1}


def test_yaml_json_lists_and_folders(tmp_path):
    (tmp_path / "a.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {team: x}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicyList
        items:
        - metadata: {name: deny, namespace: shop}
          spec: {podSelector: {}}
        """)
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "b.json").write_text(json.dumps(deployment()))
    (sub / "svc.yml").write_text("kind: Service\nmetadata: {name: web, namespace: shop}\n")
    cluster = netpol.from_manifest(tmp_path)
    assert [p.ref for p in cluster.policies] == ["shop/deny"]
    assert dict(cluster.namespaces[0].labels) == {
        "team": "x",
        "kubernetes.io/metadata.name": "shop",
    }
    assert [w.ref for w in cluster.workloads] == ["shop/web[Deployment]"]
    assert cluster.ignored == (
        ("Service", "shop/web", "Services do not change which pods may connect"),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
            r"NetworkPolicy shop/p: spec.ingress\[0\].from\[0\].ipBlock: .*valid CIDR",
        ),
        (
            {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.2.0.0/24"]}}]}]},
            r"spec.egress\[0\].to\[0\].ipBlock: .*inside cidr",
        ),
        (
            {"ingress": [{"ports": [{"port": 9000, "endPort": 8000}]}]},
            r"spec.ingress\[0\].ports\[0\]: .*endPort must be >= port",
        ),
        (
            {"ingress": [{"ports": [{"port": "http", "endPort": 8000}]}]},
            r"spec.ingress\[0\].ports\[0\]: .*named port",
        ),
        (
            {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}},
            r"spec.podSelector.matchExpressions\[0\]: .*operator",
        ),
        (
            {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
            r"spec.podSelector.matchExpressions\[0\]: .*non-empty",
        ),
        (
            {"ingress": [{"from": [{"podSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
            r"spec.ingress\[0\].from\[0\]: .*either ipBlock",
        ),
        ({"ingress": [{"ports": [{"protocol": "ICMP"}]}]}, r"ports\[0\]: .*protocol"),
        ({"policyTypes": ["Sideways"]}, "spec.policyTypes: policyTypes must be one of"),
    ],
)
def test_malformed_policies_name_the_object_and_field(spec, message):
    with pytest.raises((ValueError, TypeError), match=message):
        netpol.from_manifest(policy(spec))


def test_bad_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: [unclosed\n")
    with pytest.raises(ValueError, match="bad.yaml: invalid YAML at line 3"):
        netpol.from_manifest(bad)


def test_unsafe_yaml_tags_are_refused(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("kind: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ValueError, match="invalid YAML"):
        netpol.from_manifest(evil)


# -- the command line --------------------------------------------------------------------------


def _write(tmp_path, objs, name="m.yaml"):
    path = tmp_path / name
    path.write_text("\n---\n".join(json.dumps(o) for o in objs))
    return path


WEB = {"kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}}}
DB = {"kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}}}
DB_POLICY = policy(
    {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}
        ],
    }
)


def test_cli_prints_the_connlist_format(tmp_path, capsys):
    path = _write(tmp_path, [WEB, DB, DB_POLICY])
    assert main(["netpol", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "0.0.0.0-255.255.255.255[External] => shop/web[Pod] : All Connections",
        "shop/db[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections",
        "shop/db[Pod] => shop/web[Pod] : All Connections",
        "shop/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections",
        "shop/web[Pod] => shop/db[Pod] : TCP 5432",
    ]


def test_cli_formats_focus_and_diff(tmp_path, capsys):
    before = _write(tmp_path, [WEB, DB], "before.yaml")
    after = _write(tmp_path, [WEB, DB, DB_POLICY], "after.yaml")
    assert main(["netpol", str(after), "--format", "csv", "--from", "shop/db"]) == 0
    out = capsys.readouterr().out
    assert "src,dst,connection" in out and "shop/web[Pod],shop/db[Pod],TCP 5432" in out
    assert main(["netpol", str(after), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"src": "shop/web[Pod]", "dst": "shop/db[Pod]", "connection": "TCP 5432"} in payload[
        "summary"
    ]
    assert main(["netpol", str(before), "--diff", str(after)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Connectivity diff:"
    assert (
        "diff-type: changed, source: shop/web[Pod], destination: shop/db[Pod], "
        "before: All Connections, after: TCP 5432"
    ) in out


def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys):
    path = _write(tmp_path, [policy({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]})])
    assert main(["netpol", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NetworkPolicy shop/p" in err[0] and "endPort" in err[0]


def test_cli_runs_as_a_program(tmp_path):
    path = _write(tmp_path, [WEB, DB, DB_POLICY])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from k8smodel.cli import main; sys.exit(main(sys.argv[1:]))",
            "netpol",
            str(path),
            "--from",
            "web",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "shop/web[Pod] => shop/db[Pod] : TCP 5432" in done.stdout


def test_to_manifest_round_trips_the_synthetic_cluster(tmp_path):
    from k8smodel.netpol.examples import synthetic_cluster
    from k8smodel.netpol.manifest import to_manifest

    cluster = synthetic_cluster(namespaces=4, pods=40, policies=20, rng=3)
    path = tmp_path / "cluster.yaml"
    import yaml

    path.write_text(yaml.safe_dump_all(to_manifest(cluster)))
    back = netpol.from_manifest(path)
    assert back.workloads == cluster.workloads
    assert back.policies == cluster.policies
    assert back.namespaces == cluster.namespaces


def test_objects_given_twice():
    first = deployment(replicas=2)
    second = deployment(replicas=5)
    p1 = policy({"podSelector": {}}, name="x")
    p2 = policy({"podSelector": {"matchLabels": {"app": "web"}}}, name="x")
    cluster = netpol.from_manifest([first, second, p1, p1])
    assert [w.replicas for w in cluster.workloads] == [5]
    assert [w for _, _, w in cluster.ignored] == ["defined again; the last definition is used"]
    assert len(cluster.policies) == 1
    with pytest.raises(ValueError, match="NetworkPolicy shop/x: metadata.name must be unique"):
        netpol.from_manifest([p1, p2])


def test_cli_from_an_unknown_workload_is_an_error(tmp_path, capsys):
    path = _write(tmp_path, [WEB, DB])
    assert main(["netpol", str(path), "--from", "shop/nothing"]) == 2
    assert "source must name a workload" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--format", "csv"], ["--format", "json"], ["--diff", None]])
def test_cli_from_an_unknown_workload_is_an_error_in_every_output(tmp_path, capsys, extra):
    # Regression: only the connlist output checked --from; csv/json and --diff printed an
    # empty answer for a workload that does not exist.
    path = _write(tmp_path, [WEB, DB])
    extra = [str(path) if e is None else e for e in extra]
    assert main(["netpol", str(path), "--from", "shop/nothing", *extra]) == 2
    assert "source must name a workload" in capsys.readouterr().err
    # a workload that exists but has no change in the diff is not an error
    assert main(["netpol", str(path), "--from", "shop/db", *extra]) == 0
