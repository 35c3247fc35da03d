"""The hardened manifest loader: ordinary dumps load, hostile ones are refused clearly."""

import json

import pytest

from k8smodel.manifests import ManifestError, load_objects, object_name

POD = "kind: Pod\nmetadata: {name: a, namespace: ns}\n"


def test_documents_lists_and_json_flatten_in_order(tmp_path):
    text = POD + "---\nkind: List\nitems:\n- {kind: Node, metadata: {name: n1}}\n---\n"
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.json").write_text(json.dumps({"kind": "PodList", "items": [{"kind": "Pod"}]}))
    objs = load_objects([tmp_path / "a.yaml", str(tmp_path / "b.json")])
    assert [o["kind"] for o in objs] == ["Pod", "Node", "Pod"]
    assert object_name(objs[0]) == "Pod ns/a" and object_name(objs[1]) == "Node n1"


def test_dates_stay_strings_as_in_kubernetes():
    # sigs.k8s.io/yaml goes through JSON, which has no timestamp type
    (obj,) = load_objects("kind: Pod\nmetadata: {labels: {day: 2024-13-45, ok: 2024-01-02}}\n")
    assert obj["metadata"]["labels"] == {"day": "2024-13-45", "ok": "2024-01-02"}


@pytest.mark.parametrize(
    "text",
    [
        "kind: PersistentVolumeClaim\nspec:\n  resources:\n    requests:\n      storage: 1Gi\n"
        "      storage: 100Ti\n",
        "kind: Pod\nkind: Node\n",
        '{"kind": "Pod", "kind": "Node"}',
    ],
)
def test_duplicate_keys_are_errors(text):
    with pytest.raises(ManifestError, match="duplicate key"):
        load_objects(text)


def _bomb(leaf: str, levels: int = 20) -> str:
    lines = [f"l0: &l0 [{leaf}, {leaf}]"]
    lines += [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, levels)]
    return "kind: List\nitems: []\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("leaf", ["null", "{kind: Pod}"])
def test_alias_bomb_is_refused(leaf):
    with pytest.raises(ManifestError, match="max_nodes"):
        load_objects(_bomb(leaf))


def test_many_aliases_are_refused():
    text = "kind: Pod\na: &a 1\nb: [" + ", ".join(["*a"] * 2000) + "]\n"
    with pytest.raises(ManifestError, match="max_aliases"):
        load_objects(text)
    assert load_objects(text, max_aliases=5000)[0]["b"][0] == 1


@pytest.mark.parametrize(
    "text",
    [
        "kind: Pod\nx: " + "[" * 100_000 + "]" * 100_000 + "\n",
        '{"kind": "Pod", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_deep_nesting_is_refused(text):
    with pytest.raises(ManifestError, match="nesting"):
        load_objects(text)


def test_non_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"kind: Pod\nmetadata: {name: caf\xe9}\n")
    with pytest.raises(ManifestError, match="latin1.yaml: not UTF-8"):
        load_objects(path)


def test_size_limit_reads_no_further(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(POD * 1000)
    with pytest.raises(ManifestError, match="max_bytes"):
        load_objects(path, max_bytes=1000)
    with pytest.raises(ManifestError, match="max_bytes"):
        load_objects("/dev/zero", max_bytes=10_000)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"kind": "Pod", ', "invalid JSON"),
        ("kind: Pod\n  bad: [", "invalid YAML"),
        ("- 1\n- 2\n", "must be a Kubernetes object"),
        ("metadata: {name: x}\n", "has no kind"),
        ("kind: List\nitems: 3\n", "items must be a list"),
    ],
)
def test_malformed_input_names_the_problem(text, needle):
    with pytest.raises(ManifestError, match=needle):
        load_objects(text)


def test_missing_file_and_bad_types():
    with pytest.raises(ManifestError, match="no such file"):
        load_objects("/nonexistent/dump.yaml")
    with pytest.raises(TypeError, match="source must be"):
        load_objects(3.5)
    with pytest.raises(TypeError, match="max_bytes"):
        load_objects(POD, max_bytes=1e6)


@pytest.mark.parametrize("family", ["netpol", "service", "autoscale", "rollout", "storage"])
def test_every_family_reader_goes_through_the_hardened_loader(family, tmp_path):
    import importlib

    reader = importlib.import_module(f"k8smodel.{family}").from_manifest
    dup = tmp_path / "dup.yaml"
    dup.write_text("kind: Service\nmetadata: {name: a}\nmetadata: {name: b}\n")
    with pytest.raises(ValueError, match="duplicate key 'metadata'"):
        reader(dup)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_bomb("{kind: Pod}"))
    with pytest.raises(ValueError, match="max_nodes"):
        reader(bomb)
