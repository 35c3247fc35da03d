"""House plotting style and a figure writer that ``make reproduce`` collects.

Figures go to the folder named by the ``K8SMODEL_FIGURES`` environment
variable (``k8smodel reproduce`` sets it to ``build/figures/<notebook>``), or
to ``./figures`` when it is unset. They are written without dates or other
run-dependent metadata, so the same inputs give the same bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["STYLE", "use_style", "figures_dir", "savefig"]

STYLE = str(resources.files("k8smodel") / "styles" / "k8smodel.mplstyle")
FIGURES_ENV = "K8SMODEL_FIGURES"

# Metadata that would otherwise carry the run's date or change between runs.
_STABLE_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {"Software": None},
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def use_style() -> None:
    """Apply the k8smodel style to every later figure (``plt.style.use``)."""
    plt.style.use(STYLE)


def figures_dir() -> Path:
    """The folder figures are written to: ``$K8SMODEL_FIGURES`` or ``./figures``."""
    return Path(os.environ.get(FIGURES_ENV) or "figures")


def savefig(fig: mpl.figure.Figure, name: str, *, formats: Sequence[str] = ("svg", "png")) -> None:
    """Write ``fig`` as ``<figures_dir>/<name>.<format>`` for each format.

    It returns nothing, so a notebook cell ending with it prints nothing: the
    figure itself is shown inline by the notebook (matplotlib's inline backend
    shows every figure a cell made), and the saved files are what
    ``make reproduce`` collects under ``build/figures/<notebook>/``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    name : str
        File stem: letters, digits, ``.``, ``_`` and ``-`` only, so names are
        portable and cannot escape the folder.
    formats : sequence of str, default ("svg", "png")
        Any of ``svg``, ``png``, ``pdf``.

    Raises
    ------
    ValueError
        For a name that is not a plain file stem or an unknown format.

    Notes
    -----
    The files carry no date or software stamp (``metadata``), and SVG element
    ids come from a fixed hash salt (the house style's ``svg.hashsalt``), so
    the same figure gives the same bytes on every run.

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib.pyplot as plt
    >>> from k8smodel import plotting
    >>> folder = tempfile.mkdtemp()
    >>> os.environ[plotting.FIGURES_ENV] = folder
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> plotting.savefig(fig, "diagonal")
    >>> sorted(os.listdir(folder))
    ['diagonal.png', 'diagonal.svg']
    >>> plt.close(fig); del os.environ[plotting.FIGURES_ENV]
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name must be a file stem of letters, digits, '.', '_' or '-'; got {name!r}"
        )
    unknown = [f for f in formats if f not in _STABLE_METADATA]
    if unknown or not formats:
        raise ValueError(f"formats must be among {sorted(_STABLE_METADATA)}; got {list(formats)!r}")
    folder = figures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        with mpl.rc_context({"svg.hashsalt": "k8smodel"}):
            fig.savefig(folder / f"{name}.{fmt}", format=fmt, metadata=_STABLE_METADATA[fmt])
