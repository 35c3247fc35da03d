"""Every notebook in notebooks/ runs in quick mode, and none is committed with outputs."""

from pathlib import Path

import nbformat
import pytest

from k8smodel._notebooks import NotebookFailure, execute, find_notebooks

NOTEBOOKS = find_notebooks(Path(__file__).resolve().parents[1] / "notebooks")


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells, 1)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, tmp_path):
    try:
        execute(path, tmp_path, quick=True, timeout_s=600)
    except NotebookFailure as failure:
        pytest.fail(str(failure), pytrace=False)
