"""Reading Kubernetes objects from users' files: the project's one front door for YAML and JSON.

Every family's ``from_manifest`` and the cluster-dump reader load through :func:`load_objects`,
which accepts what ``kubectl get -o yaml|json`` prints (one object, several documents, a ``List``
with ``items``, or a list of these) and refuses hostile or malformed input quickly, with an error
that names the file (and the document and field where there is one):

* at most ``max_bytes`` are read (``/dev/zero`` and huge files are refused, not slurped);
* text must be UTF-8;
* duplicate keys in one mapping are an error, as the API server's strict field validation
  makes them (``storage: 1Gi`` then ``storage: 100Ti`` is refused, not last-wins);
* YAML aliases are limited (each key a ``<<`` merge copies counts as an alias, checked before
  it is copied), and so is the size of the object tree they expand to (an alias "billion
  laughs" is refused in milliseconds);
* nesting deeper than ``max_depth`` is refused with a message rather than a ``RecursionError``;
* YAML 1.1 timestamps are not resolved: ``2024-13-45`` stays the string it is in Kubernetes,
  whose YAML reader converts to JSON (sigs.k8s.io/yaml) and knows no timestamp type.

YAML is read as YAML 1.1 (PyYAML's resolution: ``on`` is true, ``0x1f`` is 31) except as
above; tags other than the JSON types (``!!binary``, ``!!set``, ``!Ref``...) are refused, as
Kubernetes objects cannot hold them. Objects are built straight from libyaml's event parser
(through PyYAML) and JSON text goes to ``json``, so a 10 MB dump of ordinary objects loads in
about 3 s (``benchmarks/bench_manifests.py``: 4-5x faster than PyYAML's own loader).

The limits are keyword arguments with documented defaults; raise them explicitly for larger
dumps.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from k8smodel._validate import check_int

__all__ = [
    "DEFAULT_MAX_ALIASES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "INT32_MAX",
    "ManifestError",
    "load_objects",
    "object_name",
    "read_documents",
]

#: Largest input read by default (bytes).
DEFAULT_MAX_BYTES = 64 * 2**20
#: Most YAML alias references accepted in one input (each key a ``<<`` merge copies counts as one).
DEFAULT_MAX_ALIASES = 1_000
#: Most values (mappings, lists and scalars, counted as expanded) in one input.
DEFAULT_MAX_NODES = 20_000_000
#: Deepest nesting of mappings and lists.
DEFAULT_MAX_DEPTH = 200
#: Kubernetes counts such as ``spec.replicas`` are int32.
INT32_MAX = 2**31 - 1


class ManifestError(ValueError):
    """A manifest cannot be read; the message names the file, and the object and field if known."""


# --------------------------------------------------------------------------------------------
# YAML: objects built straight from libyaml's event stream
#
# PyYAML's loader composes a node tree (a Python object and two marks per value) and then walks
# it again with a generator per mapping: about 90 % of the time of a large dump. Building dicts
# and lists from the parser's events in one flat loop does the same work about 4x faster, and
# checks duplicate keys, aliases and depth on the way, without recursion.

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
#: Plain-scalar resolvers of YAML 1.1 (PyYAML's), by first character, without the timestamp
#: (sigs.k8s.io/yaml goes through JSON, which has no timestamp type) and without the ``=`` and
#: ``!&*`` tags that no constructor takes (in Kubernetes' reader they are strings).
_RESOLVERS = {
    first: tuple(
        (tag, rx)
        for tag, rx in resolvers
        if tag not in (_TAG + "timestamp", _TAG + "value", _TAG + "yaml")
    )
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_SCALARS = yaml.constructor.SafeConstructor()
_CONSTRUCT = {
    _TAG + "str": lambda text: text,
    _TAG + "null": lambda text: None,
    _TAG + "bool": lambda text: _SCALARS.bool_values[text.lower()],
    _TAG + "int": lambda text: _SCALARS.construct_yaml_int(yaml.ScalarNode(_TAG + "int", text)),
    _TAG + "float": lambda text: _SCALARS.construct_yaml_float(
        yaml.ScalarNode(_TAG + "float", text)
    ),
}


class _Merge:
    """The plain key ``<<`` (YAML 1.1 merge): its mappings fill keys the mapping lacks."""


_NO_KEY = object()


def _unsupported_tag(tag: str, line: int) -> ManifestError:
    return ManifestError(
        f"invalid YAML at line {line}: tag {tag!r} is not supported (Kubernetes objects hold "
        "only strings, numbers, booleans, null, lists and mappings)"
    )


def _plain_scalar(text: str, cache: dict, event: Any) -> Any:
    """An untagged, unquoted scalar resolved as YAML 1.1 does (``on`` is True, ``0x1f`` 31)."""
    try:
        return cache[text]
    except KeyError:
        pass
    value: Any = text
    for tag, rx in _RESOLVERS[text[:1]]:
        if rx.match(text):
            if tag == _TAG + "merge":
                value = _Merge
            elif tag in _CONSTRUCT:
                try:
                    value = _CONSTRUCT[tag](text)
                except (ValueError, KeyError, IndexError):  # e.g. 0x_ matches the int pattern
                    line = event.start_mark.line + 1
                    raise ManifestError(
                        f"invalid YAML at line {line}: {text!r} is not a {tag}"
                    ) from None
            else:
                raise _unsupported_tag(tag, event.start_mark.line + 1)
            break
    cache[text] = value
    return value


def _tagged_scalar(event: Any) -> Any:
    tag = event.tag
    line = event.start_mark.line + 1
    if tag == "!":
        return event.value
    if tag not in _CONSTRUCT:
        raise _unsupported_tag(tag, line)
    try:
        return _CONSTRUCT[tag](event.value)
    except (ValueError, KeyError, IndexError):  # e.g. !!int '' (PyYAML reads value[0])
        raise ManifestError(
            f"invalid YAML at line {line}: {event.value!r} is not a {tag}"
        ) from None


class _Frame:
    """An open mapping or list while its events arrive."""

    __slots__ = ("value", "is_map", "key", "key_line", "lines", "merges")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.is_map = isinstance(value, dict)
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.lines: dict[Any, int] = {}
        self.merges: list[dict] = []


def _merged(frame: _Frame) -> dict:
    """The mapping with its ``<<`` mappings under it: explicit keys win, then earlier merges.

    Earlier mappings of a ``<<: [*a, *b]`` list win, as the merge key's definition says
    (https://yaml.org/type/merge.html) and go-yaml does; PyYAML lets the later one win.
    """
    if not frame.merges:
        return frame.value
    out: dict = {}
    for source in frame.merges:
        for key, value in source.items():
            out.setdefault(key, value)
    for key, value in frame.value.items():
        out[key] = value
    frame.value.clear()
    frame.value.update(out)
    return frame.value


def _add_merge(frame: _Frame, value: Any, line: int) -> None:
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise ManifestError(f"the merge key '<<' at line {line} must name a mapping or mappings")
    frame.merges.extend(sources)


def _set_key(frame: _Frame, key: Any, line: int) -> None:
    """Open a mapping entry: ``key`` must be a scalar not seen before in this mapping."""
    if isinstance(key, dict | list):
        raise ManifestError(f"a mapping key at line {line} is a collection; keys are scalars")
    if key is not _Merge and key in frame.value:
        raise ManifestError(
            f"duplicate key {key!r} at line {line} (first at line {frame.lines[key]}); "
            "Kubernetes' strict field validation refuses duplicate fields"
        )
    frame.key, frame.key_line = key, line
    frame.lines[key] = line


def _too_many_aliases(max_aliases: int, event: Any) -> ManifestError:
    return ManifestError(
        f"more than {max_aliases} YAML aliases (max_aliases; each key a '<<' merge copies counts "
        f"as one) by line {event.start_mark.line + 1}; an alias bomb expands to more objects "
        "than any cluster holds"
    )


def _yaml_documents(text: str, max_aliases: int, max_depth: int) -> list:
    """Every document of ``text``, built from the parser's events in one loop."""
    parser = _BaseLoader(text)
    docs: list = []
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    open_anchored: set[int] = set()  # ids of anchored collections still open
    cache: dict[str, Any] = {}
    aliases = 0
    scalar, mapping, sequence, alias = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
        yaml.AliasEvent,
    )
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is scalar:
            if event.tag is None:
                value = event.value
                if event.implicit[0] and value[:1] in _RESOLVERS:
                    value = _plain_scalar(value, cache, event)
                    if value is _Merge and not (
                        stack and stack[-1].is_map and stack[-1].key is _NO_KEY
                    ):
                        value = "<<"  # merges only as a mapping's key; elsewhere a string
            else:
                value = _tagged_scalar(event)
        elif kind in ends:
            frame = stack.pop()
            if frame.merges:  # each key a merge copies counts as an alias, before copying
                aliases += sum(len(source) for source in frame.merges)
                if aliases > max_aliases:
                    raise _too_many_aliases(max_aliases, event)
            value = _merged(frame) if frame.is_map else frame.value
            open_anchored.discard(id(frame.value))
        elif kind is mapping or kind is sequence:
            if event.tag not in (None, "!", _TAG + ("map" if kind is mapping else "seq")):
                raise _unsupported_tag(event.tag, event.start_mark.line + 1)
            if len(stack) >= max_depth:
                line = event.start_mark.line + 1
                raise ManifestError(
                    f"nesting deeper than {max_depth} levels (max_depth) at line {line}"
                )
            container: Any = {} if kind is mapping else []
            stack.append(_Frame(container))
            if event.anchor is not None:
                anchors[event.anchor] = container
                open_anchored.add(id(container))
            continue
        elif kind is alias:
            aliases += 1
            if aliases > max_aliases:
                raise _too_many_aliases(max_aliases, event)
            if event.anchor not in anchors:
                line = event.start_mark.line + 1
                raise ManifestError(
                    f"invalid YAML at line {line}: alias *{event.anchor} names no anchor"
                )
            if id(anchors[event.anchor]) in open_anchored:
                line = event.start_mark.line + 1
                raise ManifestError(
                    f"invalid YAML at line {line}: alias *{event.anchor} refers to a value that "
                    "contains it (a Kubernetes object cannot contain itself)"
                )
            value = anchors[event.anchor]
        elif kind is yaml.StreamEndEvent:
            return docs
        else:  # stream and document start and end: anchors hold within one document
            anchors.clear()
            continue
        if kind is scalar and event.anchor is not None:
            anchors[event.anchor] = "<<" if value is _Merge else value  # *m never merges
        if not stack:
            docs.append(value)
            continue
        # the finished value goes into its open parent: a list item, a key, or a key's value
        frame = stack[-1]
        key = frame.key
        if not frame.is_map:
            frame.value.append(value)
        elif key is _NO_KEY:
            _set_key(frame, value, event.start_mark.line + 1)
        else:
            if key is _Merge:
                _add_merge(frame, value, frame.key_line)
            else:
                frame.value[key] = value
            frame.key = _NO_KEY


# --------------------------------------------------------------------------------------------
# Walking the loaded tree: expanded size and depth, without following shared nodes twice


def _bracket_depth(text: str, limit: int) -> int:
    """Deepest nesting of JSON brackets, exact whenever it matters (above ``limit``).

    Brackets are counted over the raw text first (fast; brackets inside strings can only
    over-count); above ``limit`` they are counted again with the string literals removed.
    """
    depth = _raw_bracket_depth(text)
    if depth > limit:
        depth = _raw_bracket_depth(_JSON_STRING.sub('""', text))
    return depth


def _raw_bracket_depth(text: str) -> int:
    codes = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    return int(np.cumsum(_BRACKET_STEP[codes], dtype=np.int32).max(initial=0))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[[ord("["), ord("{")]] = 1
_BRACKET_STEP[[ord("]"), ord("}")]] = -1


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large tree is built.

    A 10 MB dump makes millions of dicts and lists; each allocation batch would start a
    collection that walks all of them again (about half of json.loads' time on such a dump).
    The tree holds no cycles (an alias to an enclosing value is refused), so nothing is lost.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_tree(docs: list, max_nodes: int, max_depth: int) -> None:
    """Refuse a tree whose expanded size or height is over the limits.

    Sizes and heights are memoized by object identity, so a tree built from shared YAML
    aliases is measured in time proportional to its distinct nodes, not its expansion.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    total = 0
    for doc in docs:
        stack: list[tuple[Any, bool]] = [(doc, False)]
        while stack:
            node, ready = stack.pop()
            if not isinstance(node, dict | list) or id(node) in measured:
                continue
            values = list(node.values()) if isinstance(node, dict) else node
            inner = [v for v in values if isinstance(v, dict | list)]
            if not ready:
                stack.append((node, True))
                stack.extend((v, False) for v in inner)
                continue
            size = 1 + len(values) - len(inner) + sum(measured[id(v)][0] for v in inner)
            height = 1 + max((measured[id(v)][1] for v in inner), default=0)
            if size > max_nodes:
                raise ManifestError(
                    f"the input expands to more than {max_nodes:,} values (max_nodes); "
                    "YAML aliases may multiply a small file"
                )
            if height > max_depth:
                raise ManifestError(f"nesting deeper than {max_depth} levels (max_depth)")
            measured[id(node)] = (size, height)
        total += measured[id(doc)][0] if isinstance(doc, dict | list) else 1
        if total > max_nodes:
            raise ManifestError(f"the input expands to more than {max_nodes:,} values (max_nodes)")


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ManifestError(
                f"duplicate key {key!r}; Kubernetes' strict field validation refuses "
                "duplicate fields"
            )
        out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# Reading


def _read_text(source: Any, max_bytes: int) -> tuple[str, str]:
    """The text of ``source`` (a path, bytes, text or a file object) and a name for messages."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        if not path.exists():
            raise ManifestError(f"{path}: no such file")
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        name = str(path)
    elif isinstance(source, bytes):
        data, name = source, "<bytes>"
    elif isinstance(source, str):
        return source, "<text>"
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        name = getattr(source, "name", "<stream>")
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(
            "source must be a path, YAML/JSON text, bytes or a file object; "
            f"got {type(source).__name__}"
        )
    if len(data) > max_bytes:
        raise ManifestError(
            f"{name}: larger than {max_bytes:,} bytes (max_bytes); raise max_bytes to read it"
        )
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as err:
        raise ManifestError(
            f"{name}: not UTF-8 text (byte {err.start}: {data[err.start : err.start + 1]!r})"
        ) from None


def _looks_like_path(text: str) -> bool:
    """A one-line string that is not JSON or ``key: value`` YAML is taken for a path."""
    stripped = text.strip()
    return (
        bool(stripped)
        and "\n" not in stripped
        and not stripped.startswith(("{", "["))
        and ": " not in stripped
        and len(stripped) < 4096
    )


def _parse(text: str, name: str, max_aliases: int, max_depth: int) -> list:
    stripped = text.lstrip()
    json_error: json.JSONDecodeError | None = None
    try:
        if stripped.startswith(("{", "[")):
            # json recurses in C: refuse deep nesting before it starts (YAML checks as it goes)
            if _bracket_depth(text, max_depth) > max_depth:
                raise ManifestError(f"nesting deeper than {max_depth} levels (max_depth)")
            try:
                with _gc_paused():
                    return [json.loads(text, object_pairs_hook=_json_pairs)]
            except json.JSONDecodeError as err:
                # YAML flow style or several documents: YAML (a superset of JSON) decides, and
                # if it fails too, the JSON error is the one a JSON author can act on.
                json_error = err
        with _gc_paused():
            return [d for d in _yaml_documents(text, max_aliases, max_depth) if d is not None]
    except ManifestError as err:
        raise ManifestError(f"{name}: {err}") from None
    except yaml.YAMLError as err:
        if json_error is not None:
            raise ManifestError(
                f"{name}: invalid JSON at line {json_error.lineno}, column {json_error.colno}: "
                f"{json_error.msg}"
            ) from None
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ManifestError(f"{name}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise ManifestError(f"{name}: nesting too deep to read") from None
    except ValueError as err:  # a scalar the safe constructor cannot build
        raise ManifestError(f"{name}: {err}") from None


def _flatten(value: Any, name: str, where: str) -> Iterator[dict]:
    """Objects from a document: itself, or the ``items`` of a List, or each entry of a list."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _flatten(item, name, f"{where}[{i}]")
    elif isinstance(value, dict):
        kind = value.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in value:
            items = value["items"] or []
            if not isinstance(items, list):
                raise ManifestError(f"{name}: {where}.items must be a list")
            for i, item in enumerate(items):
                yield from _flatten(item, name, f"{where}.items[{i}]")
        else:
            if not isinstance(kind, str) or not kind:
                raise ManifestError(f"{name}: {where} has no kind (a string)")
            yield value
    else:
        raise ManifestError(
            f"{name}: {where} must be a Kubernetes object (a mapping); got {type(value).__name__}"
        )


def read_documents(
    source: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[Any]:
    """The parsed documents of one source (a path, text, bytes or a file), after every check.

    The families' ``from_manifest`` readers parse through this and then interpret the
    documents their own way; :func:`load_objects` also flattens Lists into objects.

    Raises
    ------
    ManifestError
        (a ``ValueError``) naming the file and the problem.
    """
    limits = _check_limits(max_bytes, max_aliases, max_nodes, max_depth)
    text, name = _read_text(source, limits["max_bytes"])
    docs = _parse(text, name, limits["max_aliases"], limits["max_depth"])
    if "*" in text:  # without aliases the tree is no larger than the text that was read
        try:
            _check_tree(docs, limits["max_nodes"], limits["max_depth"])
        except ManifestError as err:
            raise ManifestError(f"{name}: {err}") from None
    return docs


def _check_limits(max_bytes: Any, max_aliases: Any, max_nodes: Any, max_depth: Any) -> dict:
    return {
        "max_bytes": check_int(max_bytes, "max_bytes", minimum=1),
        "max_aliases": check_int(max_aliases, "max_aliases", minimum=0),
        "max_nodes": check_int(max_nodes, "max_nodes", minimum=1),
        "max_depth": check_int(max_depth, "max_depth", minimum=1),
    }


def load_objects(
    source: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[dict]:
    r"""Every Kubernetes object in ``source``, flattened out of documents, Lists and lists.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file object
        A path, YAML or JSON text, bytes, or an open file; a list/tuple of these is read in
        order.
    max_bytes, max_aliases, max_nodes, max_depth : int
        Limits (see the module docstring); raise them explicitly for larger dumps.

    Returns
    -------
    list of dict
        The objects, each with a ``kind``.

    Raises
    ------
    ManifestError
        (a ``ValueError``) naming the file and the problem.

    Examples
    --------
    >>> objs = load_objects("kind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n")
    >>> [o["metadata"]["name"] for o in objs]
    ['a']
    >>> load_objects("kind: Pod\nkind: Node\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    k8smodel.manifests.ManifestError: <text>: duplicate key 'kind' at line 2 (first at line 1); ...
    """
    limits = _check_limits(max_bytes, max_aliases, max_nodes, max_depth)
    if isinstance(source, list | tuple):
        return [obj for item in source for obj in load_objects(item, **limits)]
    name = _source_name(source)
    docs = read_documents(source, **limits)
    return [obj for i, doc in enumerate(docs) for obj in _flatten(doc, name, f"document {i + 1}")]


def _source_name(source: Any) -> str:
    """The name :func:`_read_text` gives ``source`` in messages."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        return str(Path(source))
    if isinstance(source, bytes):
        return "<bytes>"
    if isinstance(source, str):
        return "<text>"
    return str(getattr(source, "name", "<stream>"))


def object_name(obj: dict) -> str:
    """``Kind namespace/name`` (or ``Kind name``) for messages."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name", "<unnamed>")
    namespace = meta.get("namespace")
    kind = obj.get("kind", "<no kind>")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
