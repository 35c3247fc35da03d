"""Where k8smodel finds its own data files and the shared public measurements.

The project's ``data/`` folder sits at the top of the repository. A wheel built
from it carries the same files inside the package as ``k8smodel/_data`` (see
``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml), so both
a checkout and an installed package find them.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
SHARED_DATA_ENV = "K8SMODEL_SHARED_DATA"


def data_dir() -> Path:
    """The folder holding the project's data files (installed copy first, then the checkout's)."""
    for candidate in (_PACKAGE / "_data", _PACKAGE.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"k8smodel's data folder is missing (looked in {_PACKAGE / '_data'} and "
        f"{_PACKAGE.parent / 'data'}); reinstall k8smodel"
    )


def shared_data_dir() -> Path:
    """The folder of shared public measurements: ``$K8SMODEL_SHARED_DATA`` or ``../shared/data``.

    It lies beside the repository (``<repo>/../shared/data``); it may be absent,
    and callers that use it must say so or skip.
    """
    return Path(os.environ.get(SHARED_DATA_ENV) or _PACKAGE.parent.parent / "shared" / "data")
