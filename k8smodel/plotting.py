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


def savefig(
    fig: mpl.figure.Figure, name: str, *, formats: Sequence[str] = ("svg", "png")
) -> list[Path]:
    """Write ``fig`` as ``<figures_dir>/<name>.<format>`` for each format.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    name : str
        File stem: letters, digits, ``.``, ``_`` and ``-`` only, so names are
        portable and cannot escape the folder.
    formats : sequence of str, default ("svg", "png")
        Any of ``svg``, ``png``, ``pdf``.

    Returns
    -------
    list of pathlib.Path
        The files written.
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
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        with mpl.rc_context({"svg.hashsalt": "k8smodel"}):
            fig.savefig(path, format=fmt, metadata=_STABLE_METADATA[fmt])
        paths.append(path)
    return paths
