"""Reading a 10 MB cluster dump: k8smodel's loader against PyYAML, json and libyaml's parser.

The example cluster grown to about 10 MB (``example_dump(workers_per_zone=330,
filler_deployments=900)``: 15,700 objects) is written three ways, as ``kubectl`` prints it: one
YAML ``List``, YAML documents separated by ``---``, and indented JSON. For each,
``k8smodel.manifests.load_objects`` (every check on: duplicate keys, aliases, depth, size) is
timed beside the peer a user would otherwise call (``yaml.load_all`` with PyYAML's
C-accelerated ``CSafeLoader``; ``json.loads``) and, for YAML, the floor: libyaml's event parser
alone, which any Python YAML reader built on it must pay. The sides alternate, ``--repeat``
times; medians (and the range of the ratios) are printed, and whether the objects are equal.

Target (issue 19): a 10 MB dump of ordinary objects loads in under 5 s.

Run: python benchmarks/bench_manifests.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from k8smodel.cluster.example import example_dump
from k8smodel.manifests import load_objects

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """kubectl never writes anchors; PyYAML would for objects the generator shares."""

    def ignore_aliases(self, data):
        return True


def write_dumps(folder: Path) -> dict[str, Path]:
    dump = example_dump(workers_per_zone=330, filler_deployments=900)
    texts = {
        "YAML List": yaml.dump(dump, Dumper=_NoAliases, sort_keys=False),
        "YAML documents": yaml.dump_all(dump["items"], Dumper=_NoAliases, sort_keys=False),
        "JSON List": json.dumps(dump, indent=4),
    }
    paths = {}
    for label, text in texts.items():
        paths[label] = folder / (
            label.replace(" ", "_") + (".json" if "JSON" in label else ".yaml")
        )
        paths[label].write_text(text)
    return paths


def peer(path: Path) -> list:
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)["items"]
    docs = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    return docs[0]["items"] if len(docs) == 1 else docs


def floor(path: Path) -> None:
    parser = _Loader(path.read_text())
    while not isinstance(parser.get_event(), yaml.StreamEndEvent):
        pass


def ours(path: Path) -> list:
    return load_objects(path, max_bytes=2**27)


def timed(fn, path):
    t0 = time.perf_counter()
    out = fn(path)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_dumps(Path(tmp))
        print(
            f"== load_objects on a ~10 MB dump, median of {args.repeat} alternating runs "
            "[range of the ratios to the peer] =="
        )
        print(f"{'input':15s} {'MiB':>5s} {'objects':>8s} {'k8smodel s':>11s} {'peer':>22s} "
              f"{'x peer':>7s} {'range':>13s} {'libyaml events s':>17s} {'equal':>6s}")  # fmt: skip
        for label, path in paths.items():
            sides = {"ours": ours, "peer": peer}
            if path.suffix == ".yaml":
                sides["floor"] = floor
            times: dict[str, list[float]] = {name: [] for name in sides}
            results = {}
            for i in range(args.repeat):
                order = list(sides) if i % 2 == 0 else list(sides)[::-1]
                for name in order:
                    elapsed, results[name] = timed(sides[name], path)
                    times[name].append(elapsed)
            ratios = [a / b for a, b in zip(times["ours"], times["peer"], strict=True)]
            med = {name: statistics.median(t) for name, t in times.items()}
            peer_name = "json.loads" if path.suffix == ".json" else "PyYAML CSafeLoader"
            floor_s = f"{med['floor']:17.2f}" if "floor" in med else f"{'-':>17s}"
            print(
                f"{label:15s} {os.path.getsize(path) / 2**20:5.1f} {len(results['ours']):8,d} "
                f"{med['ours']:11.2f} {peer_name:>15s} {med['peer']:6.2f} "
                f"{med['ours'] / med['peer']:7.2f} [{min(ratios):5.2f}, {max(ratios):5.2f}] "
                f"{floor_s} {results['ours'] == results['peer']!s:>6s}"
            )


if __name__ == "__main__":
    main()
