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
def test_reproduce_writes_notebooks_and_figures(tmp_path, capsys):
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
    assert (out / "figures" / "01_ok" / "line.svg").exists()
    executed = json.loads((out / "notebooks" / "01_ok.ipynb").read_text())
    assert executed["cells"][0]["execution_count"] == 1
    # The figure cell shows the figure and nothing else (savefig returns None).
    shown = executed["cells"][1]["outputs"]
    assert [sorted(o["data"]) for o in shown] == [["image/png", "text/plain"]]
    log = capsys.readouterr().out
    assert "[1/1] 01_ok: running (quick mode)" in log and "[1/1] 01_ok: done in" in log
    # No docs/ beside this folder: the site is skipped with a reason, not a crash.
    assert "site: not built: no docs/conf.py" in log


@pytest.mark.notebook
def test_reproduce_names_failing_notebook_and_cell(tmp_path, capsys):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "02_bad.ipynb", "x = 1", "raise RuntimeError('deliberate failure')")
    _notebook(books / "03_good.ipynb", "y = 2")
    (books / "04_broken.ipynb").write_text("{ not a notebook", encoding="utf-8")
    status = main(["reproduce", "--notebooks", str(books), "--out", str(tmp_path / "b")])
    captured = capsys.readouterr()
    assert status == 1
    assert "notebook 02_bad.ipynb failed at cell 2" in captured.out
    assert "deliberate failure" in captured.out
    assert "04_broken.ipynb is not a readable notebook" in captured.out
    assert "2 notebook(s) failed" in captured.err
    assert (tmp_path / "b" / "notebooks" / "03_good.ipynb").exists()  # the others still run


def test_reproduce_when_every_notebook_fails(tmp_path, capsys):
    books = tmp_path / "nb"
    books.mkdir()
    (books / "01_broken.ipynb").write_text("[]", encoding="utf-8")
    status = main(["reproduce", "--notebooks", str(books), "--out", str(tmp_path / "b")])
    captured = capsys.readouterr()
    assert status == 1
    assert "01_broken.ipynb is not a readable notebook" in captured.out
    assert "notebooks: 0 ran, 1 failed" in captured.out


def test_reproduce_only_matching_nothing_lists_names(tmp_path, capsys):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "01_a.ipynb", "pass")
    _notebook(books / "02_b.ipynb", "pass")
    assert (
        main(["reproduce", "--only", "zzz", "--notebooks", str(books), "--out", str(tmp_path)]) == 2
    )
    assert "Valid names: 01_a, 02_b" in capsys.readouterr().err


def test_reproduce_finds_the_checkout_from_a_subfolder(monkeypatch, capsys):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root / "k8smodel" / "lb")
    # An unknown name stops before anything runs, and lists the checkout's notebooks.
    assert main(["reproduce", "--only", "zzz"]) == 2
    assert "00_quickstart" in capsys.readouterr().err


def test_reproduce_outside_a_checkout_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce"]) == 2
    assert "pass --notebooks DIR" in capsys.readouterr().err


def test_reproduce_missing_folder(tmp_path, capsys):
    assert main(["reproduce", "--notebooks", str(tmp_path / "nope")]) == 2
    assert "--notebooks must be a folder" in capsys.readouterr().err
