"""Execute the project's notebooks and collect their outputs (what ``k8smodel reproduce`` does).

Each notebook runs in a fresh kernel with its own folder as the working
directory, ``K8SMODEL_QUICK`` set for quick mode and ``K8SMODEL_FIGURES``
pointing at ``<out>/figures/<notebook>``. The executed notebook, an HTML page
and the figures land under ``<out>``, with ``<out>/index.html`` linking them.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from k8smodel.plotting import FIGURES_ENV

QUICK_ENV = "K8SMODEL_QUICK"
DEFAULT_TIMEOUT_S = 3600


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailure(Exception):
    """A notebook failed; names the notebook, the failing cell and the error."""

    def __init__(self, notebook: str, cell: int | None, source: str, error: str):
        super().__init__(notebook, cell, source, error)
        self.notebook, self.cell, self.source = notebook, cell, source
        self.error = _ANSI_ESCAPE.sub("", error)

    def __str__(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "before any cell ran"
        snippet = "\n".join(self.source.splitlines()[:6])
        return (
            f"notebook {self.notebook} failed at {where}:\n{snippet}\n--- error ---\n{self.error}"
        )


def find_notebooks(folder: Path, only: str | None = None) -> list[Path]:
    """The notebooks in ``folder`` in name order; ``only`` keeps those whose name contains it."""
    paths = sorted(p for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))
    if only is not None:
        paths = [p for p in paths if only in p.stem]
        if not paths:
            raise ValueError(f"--only {only!r} matches no notebook in {folder}")
    return paths


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the kernel (it inherits ours), restoring them after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _failing_cell(nb) -> tuple[int | None, str]:
    """Index (1-based, code cells counted with the rest) and source of the cell that errored."""
    for number, cell in enumerate(nb.cells, start=1):
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            return number, cell.source
    return None, ""


def execute(path: Path, out: Path, *, quick: bool, timeout_s: int = DEFAULT_TIMEOUT_S):
    """Execute one notebook; return the executed notebook node.

    Raises
    ------
    NotebookFailure
        Naming the notebook and its failing cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    figures = (Path(out) / "figures" / path.stem).resolve()
    env = {QUICK_ENV: "1" if quick else "0", FIGURES_ENV: str(figures), "MPLBACKEND": "Agg"}
    client = NotebookClient(
        nb,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    with _environment(**env):
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            cell, source = _failing_cell(nb)
            raise NotebookFailure(path.name, cell, source, str(exc).strip()[-4000:]) from None
    return nb


def _write_outputs(nb, path: Path, out: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    (out / "html").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "notebooks" / path.name)
    body, _ = HTMLExporter().from_notebook_node(nb)
    page = out / "html" / f"{path.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page


def write_index(out: Path, notebooks: list[Path], failures: dict[str, str]) -> Path:
    """Write ``<out>/index.html`` linking every notebook page and figure."""
    items = []
    for path in notebooks:
        name = html.escape(path.stem)
        if path.name in failures:
            items.append(
                f"<li><b>{name}</b>: failed<pre>{html.escape(failures[path.name])}</pre></li>"
            )
            continue
        figures = sorted((out / "figures" / path.stem).glob("*.svg"))
        links = "".join(
            f'<li><a href="figures/{name}/{html.escape(f.name)}">{html.escape(f.stem)}</a></li>'
            for f in figures
        )
        items.append(
            f'<li><a href="html/{name}.html">{name}</a> '
            f'(<a href="notebooks/{name}.ipynb">executed notebook</a>)<ul>{links}</ul></li>'
        )
    index = out / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>k8smodel studies</title></head>"
        "<body><h1>k8smodel studies</h1><ul>" + "".join(items) + "</ul></body></html>\n",
        encoding="utf-8",
    )
    return index


def reproduce(
    folder: Path, out: Path, *, quick: bool = False, only: str | None = None, log=print
) -> int:
    """Execute every notebook in ``folder`` into ``out``; return the number that failed."""
    out = Path(out).resolve()
    notebooks = find_notebooks(Path(folder), only)
    if not notebooks:
        raise ValueError(f"no notebooks found in {folder}")
    failures: dict[str, str] = {}
    for path in notebooks:
        log(f"executing {path.name}{' (quick)' if quick else ''} ...")
        try:
            nb = execute(path, out, quick=quick)
        except NotebookFailure as failure:
            failures[path.name] = str(failure)
            log(str(failure))
            continue
        log(f"  wrote {_write_outputs(nb, path, out)}")
    log(f"index: {write_index(out, notebooks, failures)}")
    return len(failures)
