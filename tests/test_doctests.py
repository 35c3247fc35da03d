"""The Examples sections of the package's docstrings run and print what they show (`make test`).

Each module of k8smodel is one test. Examples run with their own figures folder and working
directory, numbers compared with NORMALIZE_WHITESPACE and ELLIPSIS.
"""

import doctest
import importlib
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import k8smodel
from k8smodel.plotting import FIGURES_ENV

PACKAGE = Path(k8smodel.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# Modules whose source holds an example (found without importing them).
MODULES = sorted(
    _module_name(p) for p in PACKAGE.rglob("*.py") if ">>>" in p.read_text(encoding="utf-8")
)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    return [t for t in tests if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(FIGURES_ENV, str(tmp_path / "figures"))
    tests = _examples(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    plt.close("all")
    assert runner.failures == 0, "".join(report)
