"""Execute the project's notebooks into a reproducible build (what ``k8smodel reproduce`` does).

Each notebook runs in a fresh kernel with its own folder as the working
directory, ``K8SMODEL_QUICK`` set for quick mode, ``K8SMODEL_FIGURES`` pointing
at ``<out>/figures/<notebook>`` and matplotlib's inline backend, so every plot
is both shown in the notebook and saved by :func:`k8smodel.plotting.savefig`.
The kernel talks over IPC sockets in a private temporary folder (no TCP port is
opened, so ipykernel has nothing to warn about).

The executed notebook is normalised (:func:`normalise`) before it is written to
``<out>/notebooks``: no timestamps, no widget state, no progress bars, no
absolute paths, streams merged, so the same seeds give the same bytes. The site
under ``<out>/site`` is then built from those files by :mod:`k8smodel._site`.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import signal
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from k8smodel.plotting import FIGURES_ENV

QUICK_ENV = "K8SMODEL_QUICK"
DEFAULT_TIMEOUT_S = 3600
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
HEARTBEAT_S = 60.0

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# Notebook metadata worth keeping; everything else (widget state, papermill, ...) is run noise.
_NOTEBOOK_METADATA = ("kernelspec", "language_info", "k8smodel")
_CELL_METADATA_NOISE = ("execution", "ExecuteTime", "collapsed", "scrolled", "widgets")
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A tqdm bar as it reaches a plain stream: "desc: 40%|####      | 4/10 [00:01<00:02, 3.1run/s]".
_PROGRESS_BAR = re.compile(r"^\s*([^|]*:\s*)?\d+%\|.*\|\s*\d+/\d+\s*\[.*\]\s*$")
_TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")

Log = Callable[[str], None]


def _print(line: str) -> None:
    """Print a progress line at once, even when stdout is a file or a pipe."""
    print(line, flush=True)


class NotebookFailure(Exception):
    """A notebook failed; names the notebook, the failing cell and the error."""

    def __init__(self, notebook: str, cell: int | None, source: str, error: str):
        super().__init__(notebook, cell, source, error)
        self.notebook, self.cell, self.source = notebook, cell, source
        self.error = _ANSI_ESCAPE.sub("", error)

    def __str__(self) -> str:
        if self.cell is None and not self.source:
            return f"notebook {self.notebook}: {self.error}"
        where = f"cell {self.cell}" if self.cell is not None else "before any cell ran"
        snippet = "\n".join(self.source.splitlines()[:6])
        return (
            f"notebook {self.notebook} failed at {where}:\n{snippet}\n--- error ---\n{self.error}"
        )


def find_checkout(start: Path | None = None) -> Path | None:
    """The k8smodel checkout holding ``start`` (default: the working directory), or None.

    A checkout is a folder with a ``notebooks/`` folder and a ``pyproject.toml``
    naming the ``k8smodel`` project; ``start`` and each of its parents are tried.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if (folder / "notebooks").is_dir() and pyproject.is_file():
            if re.search(r'^name\s*=\s*"k8smodel"', pyproject.read_text("utf-8"), re.M):
                return folder
    return None


def find_notebooks(folder: Path, only: str | None = None) -> list[Path]:
    """The notebooks in ``folder`` in name order; ``only`` keeps those whose name contains it.

    Raises
    ------
    ValueError
        When ``only`` matches none; the message lists the valid names.
    """
    paths = sorted(p for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))
    if only is not None:
        selected = [p for p in paths if only in p.stem]
        if not selected:
            names = ", ".join(p.stem for p in paths) or "(none)"
            raise ValueError(
                f"--only must be part of a notebook name in {folder}; got {only!r}. "
                f"Valid names: {names}"
            )
        paths = selected
    return paths


def read_notebook(path: Path):
    """Read ``path`` as an nbformat v4 node; a file that is not a notebook is named."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises NotJSONError, ValidationError, KeyError, ...
        raise NotebookFailure(
            Path(path).name, None, "", f"{Path(path).name} is not a readable notebook: {exc}"
        ) from None


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


class _Heartbeat:
    """Logs the cell a notebook has reached every ``every_s`` seconds while it runs.

    A thread, so a single long cell still shows signs of life; nbclient's
    ``on_cell_start`` hook tells it which cell runs.
    """

    def __init__(self, name: str, n_cells: int, log: Log, every_s: float):
        self.name, self.n_cells, self.log, self.every_s = name, n_cells, log, every_s
        self.cell = 0
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def on_cell_start(self, cell=None, cell_index: int = 0, **_) -> None:
        self.cell = cell_index + 1

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            elapsed = time.monotonic() - self._started
            where = f"cell {self.cell}/{self.n_cells}" if self.cell else "starting its kernel"
            self.log(f"    {self.name}: {where}, {elapsed:.0f} s so far")

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Stopped(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM (``signum``) while a notebook executed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _record_signals(client: Any, stopped: list[int]) -> Callable[..., None]:
    """An ``on_notebook_start`` hook taking over nbclient's SIGINT/SIGTERM handlers.

    nbclient (``async_setup_kernel``) shuts the kernel down on these signals and the run
    then ends in ``DeadKernelError`` and an ``AssertionError`` from its second cleanup;
    recording the signal lets :func:`execute` report a clean :class:`Stopped` instead.
    """

    def hook(**_: Any) -> None:
        loop = asyncio.get_event_loop()

        def on_signal(signum: int) -> None:
            stopped.append(signum)
            # what nbclient's own handler does (shut the kernel down, drop the atexit
            # cleanup), but at once: a graceful shutdown of a busy kernel prints its tracebacks
            client.shutdown_kernel = "immediate"
            atexit.unregister(client._cleanup_kernel)
            client._async_cleanup_kernel_future = asyncio.ensure_future(
                client._async_cleanup_kernel()
            )

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)

    return hook


def execute(
    path: Path,
    out: Path,
    *,
    quick: bool,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    log: Log | None = None,
):
    """Execute one notebook; return the executed notebook node (not yet normalised).

    Figures saved by the notebook land in ``<out>/figures/<stem>``, which is
    emptied first so it holds exactly what this run saved.

    Raises
    ------
    NotebookFailure
        Naming the notebook and its failing cell, or the file when it is not a notebook.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    path = Path(path).resolve()
    nb = read_notebook(path)
    figures = (Path(out) / "figures" / path.stem).resolve()
    shutil.rmtree(figures, ignore_errors=True)
    env = {
        QUICK_ENV: "1" if quick else "0",
        FIGURES_ENV: str(figures),
        "MPLBACKEND": INLINE_BACKEND,
    }
    heartbeat = _Heartbeat(path.stem, len(nb.cells), log or (lambda line: None), HEARTBEAT_S)
    with (
        tempfile.TemporaryDirectory(prefix="k8smodel-kernel-") as sockets,
        _environment(**env),
        heartbeat if log is not None else nullcontext(),
    ):
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "k")}})
        client = NotebookClient(
            nb,
            config=ipc,
            timeout=timeout_s,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_start=heartbeat.on_cell_start,
        )
        stopped: list[int] = []
        if threading.current_thread() is threading.main_thread():
            client.on_notebook_start = _record_signals(client, stopped)
        try:
            client.execute()
        except BaseException as exc:
            if stopped:
                raise Stopped(stopped[0]) from None
            if not isinstance(exc, CellExecutionError | CellTimeoutError | DeadKernelError):
                raise
            cell, source = _failing_cell(nb)
            raise NotebookFailure(path.name, cell, source, str(exc).strip()[-4000:]) from None
    nb.metadata["k8smodel"] = {"quick": bool(quick)}
    return nb


def path_replacements(checkout: Path | None = None) -> list[tuple[str, str]]:
    """Absolute paths a published notebook must not show, each with what replaces it.

    The interpreter's library folders become ``<site-packages>`` and
    ``<python>``, the checkout becomes ``.`` and the home folder ``~``; the
    longest path is replaced first.
    """
    pairs = {
        sysconfig.get_paths()["purelib"]: "<site-packages>",
        sysconfig.get_paths()["platlib"]: "<site-packages>",
        sys.prefix: "<python>",
        sys.base_prefix: "<python>",
        str(Path.home()): "~",
    }
    if checkout is not None:
        pairs[str(Path(checkout).resolve())] = "."
    return sorted(((k, v) for k, v in pairs.items() if len(k) > 1), key=lambda kv: -len(kv[0]))


def _scrub(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def _without_progress_bars(text: str) -> str:
    """``text`` minus tqdm progress-bar segments (their timings differ on every run)."""
    segments = re.split(r"[\r\n]", text)
    kept = [s for s in segments if s.strip() and not _PROGRESS_BAR.match(s)]
    if len(kept) == len([s for s in segments if s.strip()]):
        return text
    return "".join(f"{s}\n" for s in kept)


def _merged_streams(outputs: list) -> list:
    """Consecutive outputs of the same stream as one (their split depends on flush timing)."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def _normalise_outputs(outputs: list, replacements: list[tuple[str, str]]) -> list:
    kept: list = []
    for output in _merged_streams(outputs):
        kind = output.get("output_type")
        if kind == "stream":
            text = _scrub(output["text"], replacements)
            if output.get("name") == "stderr":
                text = _without_progress_bars(text)
            if not text:
                continue
            output["text"] = text
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            if _WIDGET_VIEW in data:  # a widget view without its (dropped) state shows nothing
                continue
            for mime in _TEXT_MIMES:
                if isinstance(data.get(mime), str):
                    data[mime] = _scrub(data[mime], replacements)
        elif kind == "error":
            output["traceback"] = [_scrub(line, replacements) for line in output["traceback"]]
            output["evalue"] = _scrub(output["evalue"], replacements)
        kept.append(output)
    return kept


def normalise(nb, replacements: list[tuple[str, str]] | None = None):
    """Strip what differs between two runs of the same notebook; return ``nb`` (changed in place).

    Removes notebook metadata other than the kernel, language and k8smodel
    entries (so widget state goes), per-cell execution timestamps, widget-view
    outputs and tqdm progress bars (their timings differ on every run); merges
    consecutive outputs of the same stream (their split depends on flush
    timing); and replaces absolute paths by the placeholders in
    ``replacements`` (default :func:`path_replacements`).
    """
    replacements = path_replacements() if replacements is None else replacements
    nb.metadata = type(nb.metadata)(
        {k: nb.metadata[k] for k in _NOTEBOOK_METADATA if k in nb.metadata}
    )
    for cell in nb.cells:
        for key in _CELL_METADATA_NOISE:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _normalise_outputs(cell.outputs, replacements)
    return nb


def write_notebook(nb, path: Path) -> Path:
    """Write ``nb`` to ``path`` (nbformat's sorted-key JSON with a final newline)."""
    import nbformat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def stderr_cells(nb) -> list[int]:
    """1-based numbers of the cells that wrote to stderr (a warning a reader would see)."""
    return [
        number
        for number, cell in enumerate(nb.cells, start=1)
        if any(
            o.get("output_type") == "stream" and o.get("name") == "stderr"
            for o in cell.get("outputs", [])
        )
    ]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def reproduce(
    folder: Path,
    out: Path,
    *,
    quick: bool = False,
    only: str | None = None,
    site: bool = True,
    log: Log = _print,
) -> int:
    """Execute every notebook in ``folder`` into ``out`` and build the site; return failures.

    Logs each notebook's name when it starts and its time when it ends, a
    line every minute while a long notebook runs, and the total at the end.
    """
    folder, out = Path(folder).resolve(), Path(out).resolve()
    notebooks = find_notebooks(folder, only)
    if not notebooks:
        raise ValueError(f"no notebooks (*.ipynb) found in {folder}")
    replacements = path_replacements(folder.parent)
    failures: dict[str, str] = {}
    started = time.monotonic()
    for number, path in enumerate(notebooks, start=1):
        tag = f"[{number}/{len(notebooks)}] {path.stem}"
        log(f"{tag}: running{' (quick mode)' if quick else ''}")
        target = out / "notebooks" / path.name
        target.unlink(missing_ok=True)
        t0 = time.monotonic()
        try:
            nb = execute(path, out, quick=quick, log=log)
        except NotebookFailure as failure:
            failures[path.name] = str(failure)
            log(f"{tag}: FAILED after {_duration(time.monotonic() - t0)}\n{failure}")
            continue
        write_notebook(normalise(nb, replacements), target)
        noisy = stderr_cells(nb)
        log(f"{tag}: done in {_duration(time.monotonic() - t0)}")
        if noisy:
            log(f"    {path.stem}: cells {noisy} wrote to stderr; the page shows it")
    log(
        f"notebooks: {len(notebooks) - len(failures)} ran, {len(failures)} failed, "
        f"{_duration(time.monotonic() - started)}"
    )
    if site:
        build_site_logged(folder, out, failures, log)
    log(f"total {_duration(time.monotonic() - started)}")
    return len(failures)


def build_site_logged(folder: Path, out: Path, failures: dict[str, str], log: Log = _print) -> bool:
    """Build ``<out>/site`` from the executed notebooks, logging where it went; False on failure."""
    from k8smodel import _site

    t0 = time.monotonic()
    try:
        index = _site.build_site(folder, out, failures=failures, log=log)
    except _site.SiteError as exc:
        log(f"site: not built: {exc}")
        return False
    log(f"site: {index} ({_duration(time.monotonic() - t0)})")
    return True
