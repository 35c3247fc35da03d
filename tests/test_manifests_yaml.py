"""The event-built YAML reader against PyYAML's own composer and constructor.

``k8smodel.manifests`` builds objects straight from libyaml's events; the reference here is
PyYAML's loader (its composer, resolver and SafeConstructor), with the three resolvers the
project drops (timestamps, ``=`` and ``!&*``) removed, on hand-written edge cases and on every
YAML file of the netpol-analyzer corpus in ``../shared/data``.
"""

import math
from pathlib import Path

import pytest
import yaml

from k8smodel.cluster.example import example_dump
from k8smodel.manifests import ManifestError, read_documents

_DROPPED = {"tag:yaml.org,2002:" + t for t in ("timestamp", "value", "yaml")}
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Reference(_Base):
    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


def _reference(text: str) -> list:
    return [d for d in yaml.load_all(text, Loader=_Reference) if d is not None]


CASES = {
    "scalars": "a: 1\nb: -0x1F\nc: 0o17\nd: 017\ne: 1_000\nf: 1:30\ng: 3.5e3\nh: .inf\n"
    "i: -.Inf\nj: yes\nk: Off\nl: ~\nm: null\nn:\no: 'yes'\np: \"0x10\"\nq: 0b101\n"
    "r: +12\ns: 1.\nt: True\nu: NO\nv: 2024-01-02\nw: '='\nx: 6.8523015e+5\ny: 190:20:30.15\n",
    "tags": "a: !!str 12\nb: !!int '7'\nc: !!float '1'\nd: !!bool 'true'\ne: !!null ''\n"
    "g: !!map {x: 1}\nh: !!seq [1]\n",
    "block scalars": "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\nc: |+\n  kept\n\n",
    "flow": "a: {b: [1, 2, {c: d}], e: []}\nf: [[], {}, 'x', \"y\"]\n",
    "anchors and merges": "base: &b {cpu: 1, mem: 2}\nextra: &e {gpu: 0}\n"
    "one:\n  <<: *b\n  mem: 4\nboth:\n  <<: [*b, *e]\n  disk: 1\nscalar: &s 5\nagain: *s\n"
    "list: &l [1, 2]\nshared: *l\n",
    "documents": "---\nkind: Pod\n---\n# only a comment\n---\nkind: Node\n...\n---\n- 1\n- 2\n",
    "keys": "1: int key\n1.5: float key\nfalse: bool key\n'x y': quoted\n? complex\n: value\n",
    "unicode": 'name: caf\u00e9 \u2603\nquoted: "\\u00e9\\t"\n',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_cases_match_pyyaml(name):
    assert read_documents(CASES[name]) == _reference(CASES[name])


def test_not_a_number_matches_pyyaml():
    (doc,) = read_documents("a: .nan\nb: .NaN\n")
    assert math.isnan(doc["a"]) and math.isnan(doc["b"])


def test_earlier_merged_mappings_win_as_the_merge_key_defines():
    # https://yaml.org/type/merge.html: "Keys in mapping nodes earlier in the sequence override
    # keys specified in later mapping nodes" (PyYAML lets the later one win; go-yaml does not)
    (doc,) = read_documents("a: &a {cpu: 1}\nb: &b {cpu: 9, gpu: 0}\nc: {<<: [*a, *b], d: 2}\n")
    assert doc["c"] == {"cpu": 1, "gpu": 0, "d": 2}


def test_non_specific_tag_makes_a_string():
    # YAML 1.2 section 6.9.2: a scalar with the non-specific tag "!" is a string
    assert read_documents("a: ! 12\n") == [{"a": "12"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: <<\n", {"a": "<<"}),  # a merge only as a key; PyYAML has no constructor elsewhere
        ("a: [<<, x]\n", {"a": ["<<", "x"]}),
        # YAML 1.2, 7.1: an alias names the most recent node with that anchor (PyYAML refuses
        # a second definition)
        ("a: &a [&a 1, *a]\n", {"a": [1, 1]}),
    ],
)
def test_merge_word_and_redefined_anchors(text, expected):
    assert read_documents(text) == [expected]


def test_aliases_share_one_object_as_in_pyyaml():
    (doc,) = read_documents("a: &x {k: 1}\nb: *x\n")
    assert doc["a"] is doc["b"]


def test_example_dump_as_yaml_matches_pyyaml():
    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    text = yaml.dump(example_dump(), Dumper=NoAliases, sort_keys=False)
    assert read_documents(text) == _reference(text)


_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "netpol-analyzer"


@pytest.mark.skipif(not _CORPUS.is_dir(), reason="../shared/data/netpol-analyzer not present")
def test_netpol_analyzer_corpus_matches_pyyaml():
    files = sorted(_CORPUS.rglob("*.yaml")) + sorted(_CORPUS.rglob("*.yml"))
    assert len(files) > 100
    compared = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            expected = _reference(text)
        except yaml.YAMLError:
            with pytest.raises(ManifestError):
                read_documents(text)
            continue
        assert read_documents(text) == expected, path
        compared += 1
    assert compared > 100


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &x [1, *x]\n", "refers to a value that contains it"),
        ("a: *nowhere\n", "invalid YAML at line 1: alias *nowhere names no anchor"),
        ("a: !!binary aGVsbG8=\n", "tag 'tag:yaml.org,2002:binary' is not supported"),
        ("a: !!set {x: null}\n", "tag 'tag:yaml.org,2002:set' is not supported"),
        ("a: !Ref other\n", "tag '!Ref' is not supported"),
        ("a: !!map [1]\n", "tag 'tag:yaml.org,2002:map' is not supported"),
        ("a: !!int twelve\n", "'twelve' is not a tag:yaml.org,2002:int"),
        ("? [a, b]\n: c\n", "keys are scalars"),
        ("a:\n  <<: 5\n", "merge key '<<' at line 2 must name a mapping"),
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' at line 3 (first at line 1)"),
        ("a: &x 1\n---\nb: *x\n", "alias *x names no anchor"),  # anchors end with a document
        ("a: 1\nb: !!int ''\n", "line 2: '' is not a tag:yaml.org,2002:int"),
        ("a: 1\nport: 0x_\n", "line 2: '0x_' is not a tag:yaml.org,2002:int"),
        ("a:\n  b:\n    - " + "[" * 300 + "]" * 300 + "\n", "(max_depth) at line 3"),
    ],
)
def test_what_kubernetes_cannot_hold_is_refused_with_its_line(text, needle):
    with pytest.raises(ManifestError, match=None) as info:
        read_documents(text)
    assert needle in str(info.value)


def test_an_anchored_merge_word_is_the_string_elsewhere():
    text = "base: &b {x: 1}\nobj:\n  &m <<: *b\nc: *m\nd: [*m]\n"
    (doc,) = read_documents(text)
    assert doc == {"base": {"x": 1}, "obj": {"x": 1}, "c": "<<", "d": ["<<"]}


def test_merge_copies_count_as_aliases_before_they_are_made():
    # 200 keys merged 10 times: 2,000 copies, over the default 1,000 aliases; a merge bomb
    # (a wide mapping merged many times) is refused before its copies are built.
    base = "{" + ", ".join(f"k{i}: {i}" for i in range(200)) + "}"
    text = f"base: &b {base}\n" + "".join(f"o{i}: {{<<: *b}}\n" for i in range(10))
    with pytest.raises(ManifestError, match="max_aliases; each key a '<<' merge copies"):
        read_documents(text)
    (doc,) = read_documents(text, max_aliases=2_100)
    assert doc["o9"]["k199"] == 199


def test_brackets_inside_json_strings_are_not_nesting():
    text = '{"kind": "Pod", "note": "' + "[" * 300 + '"}'
    assert read_documents(text) == [{"kind": "Pod", "note": "[" * 300}]
