"""Every notebook in notebooks/ runs in quick mode, shows what it saves, and is committed clean;
the notebook writer removes everything that differs between two runs."""

import base64
import io
import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from k8smodel._notebooks import (
    NotebookFailure,
    execute,
    find_checkout,
    find_notebooks,
    normalise,
    read_notebook,
    write_notebook,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = find_notebooks(ROOT / "notebooks")
# What a cell ending with a list of pathlib paths (or printing one) shows.
PATH_LIST = re.compile(r"PosixPath\(|WindowsPath\(|\[?'[^']*/figures/[^']*\.(svg|png|pdf)'")


def images_shown(nb) -> list[np.ndarray]:
    """The pixels of every PNG the notebook shows."""
    return [
        mpimg.imread(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]


def output_texts(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            texts.extend(v for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return texts


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


def _same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    """Same size and pixels, allowing anti-aliasing drift of a few levels on a few pixels.

    Agg can render edges a few levels (up to 5/255 seen) differently between the saved file and
    the inline display of the same figure (stacked bars, 0.2 % of pixels); another figure, or the
    same one changed after saving, differs far more.
    """
    if a.shape != b.shape:
        return False
    diff = np.abs(a.astype(float) - b.astype(float))
    return bool(diff.max() <= 8 / 255 and (diff > 0).mean() < 1e-2)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, tmp_path):
    try:
        nb = execute(path, tmp_path, quick=True, timeout_s=600)
    except NotebookFailure as failure:
        pytest.fail(str(failure), pytrace=False)
    shown = images_shown(nb)
    for saved in sorted((tmp_path / "figures" / path.stem).glob("*.png")):
        pixels = mpimg.imread(saved)
        assert any(_same_picture(pixels, s) for s in shown), (
            f"{path.name}: figure {saved.name} is saved but not shown as saved "
            "(a cell must show the figure it saves, unchanged after savefig)"
        )
    listed = [t for t in output_texts(nb) if PATH_LIST.search(t)]
    assert not listed, f"{path.name}: outputs list file paths: {listed[:2]}"


# --- the writer's normalisation ---------------------------------------------------------------


def _noisy_notebook():
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"a": 1}}}
    nb.metadata["papermill"] = {"start_time": "2026-11-30T10:00:00"}
    code = new_code_cell("work()", execution_count=1)
    code.metadata["execution"] = {"iopub.status.busy": "2026-11-30T10:00:01.5Z"}
    code.metadata["tags"] = ["keep-me"]
    code.outputs = [
        new_output("stream", name="stdout", text="first "),
        new_output("stream", name="stdout", text="second\n"),
        new_output("stream", name="stderr", text="\r  0%|          | 0/3 [00:00<?, ?it/s]"),
        new_output(
            "stream", name="stderr", text="\rsweep: 100%|██████████| 3/3 [00:02<00:00, 1.4run/s]"
        ),
        new_output("stream", name="stderr", text="\n"),
        new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "f00", "version_major": 2},
                "text/plain": "sweep:  33%|###       | 1/3",
            },
        ),
        new_output("stream", name="stderr", text="/opt/venv/lib/site.py:3: UserWarning: careful\n"),
        new_output(
            "execute_result",
            data={"text/plain": "'/home/someone/k8smodel/build/x'"},
            execution_count=1,
        ),
    ]
    nb.cells = [new_markdown_cell("# T", id="title"), code]
    code.id = "work"  # ids come from the committed notebook, the same in every run
    return nb


def test_normalise_removes_run_noise():
    replacements = [("/home/someone/k8smodel", "."), ("/opt/venv/lib", "<site-packages>")]
    nb = normalise(_noisy_notebook(), replacements)
    assert set(nb.metadata) == {"kernelspec"}
    code = nb.cells[1]
    assert code.metadata == {"tags": ["keep-me"]}
    assert [o["output_type"] for o in code.outputs] == ["stream", "stream", "execute_result"]
    assert code.outputs[0]["text"] == "first second\n"
    # The progress bars went; the warning stays, its path made relative.
    assert code.outputs[1]["text"] == "<site-packages>/site.py:3: UserWarning: careful\n"
    assert code.outputs[2]["data"]["text/plain"] == "'./build/x'"


def test_normalised_notebooks_of_two_runs_are_identical(tmp_path):
    first, second = _noisy_notebook(), _noisy_notebook()
    second.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-12-01T09:09:09Z"}
    second.cells[1].outputs[3]["text"] = "\rsweep: 100%|██████████| 3/3 [00:07<00:00, 0.4run/s]"
    second.cells[1].outputs[:2] = [new_output("stream", name="stdout", text="first second\n")]
    replacements = [("/home/someone/k8smodel", ".")]
    a = write_notebook(normalise(first, replacements), tmp_path / "a.ipynb")
    b = write_notebook(normalise(second, replacements), tmp_path / "b.ipynb")
    assert a.read_bytes() == b.read_bytes()
    assert b"2026" not in a.read_bytes()
    json.loads(a.read_text())  # still a notebook


def test_find_notebooks_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Valid names: .*00_quickstart"):
        find_notebooks(ROOT / "notebooks", only="no-such-study")


def test_malformed_notebook_is_named(tmp_path):
    bad = tmp_path / "07_broken.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(NotebookFailure, match="07_broken.ipynb is not a readable notebook"):
        read_notebook(bad)


def test_find_checkout_from_a_subfolder(tmp_path):
    assert find_checkout(ROOT / "k8smodel" / "lb") == ROOT
    assert find_checkout(tmp_path) is None
