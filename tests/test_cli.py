import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import k8smodel
from k8smodel.cli import main


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)


def test_version():
    out = subprocess.run(
        [sys.executable, "-m", "k8smodel.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"k8smodel {k8smodel.__version__}"


@pytest.mark.notebook
def test_reproduce_writes_pages_figures_and_index(tmp_path):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(
        books / "01_ok.ipynb",
        "import os\nassert os.environ['K8SMODEL_QUICK'] == '1'",
        "import matplotlib.pyplot as plt\nfrom k8smodel import plotting\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2])\nplotting.savefig(fig, 'line')",
    )
    out = tmp_path / "build"
    assert main(["reproduce", "--quick", "--notebooks", str(books), "--out", str(out)]) == 0
    assert (out / "html" / "01_ok.html").exists()
    assert (out / "figures" / "01_ok" / "line.svg").exists()
    index = (out / "index.html").read_text()
    assert "html/01_ok.html" in index and "figures/01_ok/line.svg" in index
    executed = json.loads((out / "notebooks" / "01_ok.ipynb").read_text())
    assert executed["cells"][0]["execution_count"] == 1


@pytest.mark.notebook
def test_reproduce_names_failing_notebook_and_cell(tmp_path, capsys):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "02_bad.ipynb", "x = 1", "raise RuntimeError('deliberate failure')")
    _notebook(books / "03_good.ipynb", "y = 2")
    status = main(["reproduce", "--notebooks", str(books), "--out", str(tmp_path / "b")])
    captured = capsys.readouterr()
    assert status == 1
    assert "notebook 02_bad.ipynb failed at cell 2" in captured.out
    assert "deliberate failure" in captured.out
    assert (tmp_path / "b" / "html" / "03_good.html").exists()  # the others still run


def test_reproduce_only_matching_nothing(tmp_path, capsys):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "01_a.ipynb", "pass")
    assert (
        main(["reproduce", "--only", "zzz", "--notebooks", str(books), "--out", str(tmp_path)]) == 2
    )
    assert "matches no notebook" in capsys.readouterr().err


def test_reproduce_missing_folder(tmp_path, capsys):
    assert main(["reproduce", "--notebooks", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
