"""Reading Kubernetes objects from users' files: the project's one front door for YAML and JSON.

Every family's ``from_manifest`` and the cluster-dump reader load through :func:`load_objects`,
which accepts what ``kubectl get -o yaml|json`` prints (one object, several documents, a ``List``
with ``items``, or a list of these) and refuses hostile or malformed input quickly, with an error
that names the file (and the document and field where there is one):

* at most ``max_bytes`` are read (``/dev/zero`` and huge files are refused, not slurped);
* text must be UTF-8;
* duplicate keys in one mapping are an error, as the API server's strict field validation
  makes them (``storage: 1Gi`` then ``storage: 100Ti`` is refused, not last-wins);
* YAML aliases are limited, and so is the size of the object tree they expand to (an alias
  "billion laughs" is refused in milliseconds);
* nesting deeper than ``max_depth`` is refused with a message rather than a ``RecursionError``;
* YAML 1.1 timestamps are not resolved: ``2024-13-45`` stays the string it is in Kubernetes,
  whose YAML reader converts to JSON (sigs.k8s.io/yaml) and knows no timestamp type.

The limits are keyword arguments with documented defaults; raise them explicitly for larger
dumps. The C-accelerated libyaml loader is used when PyYAML has it, and ``json`` for JSON text,
so a 10 MB dump of ordinary objects loads in seconds.
"""

from __future__ import annotations

import io
import json
import os
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
#: Most YAML alias references accepted in one input.
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
# YAML: a safe loader with strict mappings, no timestamps and counted aliases

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """Safe loader: duplicate keys refused, timestamps left as strings."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            # Compare scalar keys by their resolved tag and text (no second construction).
            if isinstance(key_node, yaml.ScalarNode):
                key: tuple[str, Any] = (key_node.tag, key_node.value)
            else:
                key = ("complex", repr(self.construct_object(key_node, deep=True)))
            if key in seen:
                shown = key[1]
                line = key_node.start_mark.line + 1
                raise ManifestError(
                    f"duplicate key {shown!r} at line {line} (first at line {seen[key]}); "
                    "Kubernetes' strict field validation refuses duplicate fields"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _count_yaml_aliases(text: str, limit: int) -> None:
    """Count alias events with the fast event parser (the C composer cannot be hooked)."""
    count = 0
    for event in yaml.parse(io.StringIO(text), Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            count += 1
            if count > limit:
                raise ManifestError(
                    f"more than {limit} YAML aliases (max_aliases); an alias bomb expands to "
                    "more objects than any cluster holds"
                )


# --------------------------------------------------------------------------------------------
# Walking the loaded tree: expanded size and depth, without following shared nodes twice


def _bracket_depth(text: str) -> int:
    """Deepest nesting of flow brackets (quotes ignored: it can only over-count)."""
    codes = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    step = np.isin(codes, _OPENERS).astype(np.int64) - np.isin(codes, _CLOSERS)
    return int(np.cumsum(step).max(initial=0))


_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)


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
    if _bracket_depth(text) > max_depth:
        raise ManifestError(f"{name}: nesting deeper than {max_depth} levels (max_depth)")
    try:
        if stripped.startswith(("{", "[")):
            try:
                return [json.loads(text, object_pairs_hook=_json_pairs)]
            except json.JSONDecodeError as err:
                # YAML flow style or several documents: YAML (a superset of JSON) decides, and
                # if it fails too, the JSON error is the one a JSON author can act on.
                json_error = err
        if "*" in text:  # an alias needs a '*'; without one nothing is shared or multiplied
            _count_yaml_aliases(text, max_aliases)
        return [d for d in yaml.load_all(text, Loader=_StrictLoader) if d is not None]
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
