"""The one result type every model family returns.

A :class:`Result` carries

* ``summary``: a :class:`pandas.DataFrame` with one row per parameter point (and policy,
  operation, ... where a call covers several), unit-suffixed columns, and always the two
  columns ``method`` (what produced the row's numbers: ``"simulation"``, ``"erlang_c"``,
  ``"exact_ctmc"``, ``"pv_controller"``, ...) and ``exact`` (True when the numbers are the
  model's exact values, False for estimates: simulation, approximations, bounds);
* ``params``: the resolved inputs, after defaults and validation;
* ``notes``: sentences a reader must see next to the numbers (assumed values, flags such
  as "pod 3 runs at 97 % of capacity", the validity range of an approximation).

A family subclasses it to add raw samples (numpy arrays) and per-item tables
(DataFrames) as named attributes; the notebook view lists them.
``theory(...)`` and ``simulate(...)`` of a family return the same columns where both
exist, so ``pd.concat([theory(...).summary, simulate(...).summary])`` puts them side by
side.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "REQUIRED_COLUMNS"]

#: Columns every summary carries.
REQUIRED_COLUMNS = ("method", "exact")


@dataclass(frozen=True, kw_only=True, eq=False)
class Result:
    """What every ``theory``, ``simulate`` and rule-set function of a family returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per parameter point; always has ``method`` (str) and ``exact`` (bool).
    params : dict
        The resolved inputs (after defaults and validation).
    notes : tuple of str
        Assumptions and warnings to read beside the numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> r = Result(summary=pd.DataFrame({"mean_s": [1.5], "method": ["closed_form"],
    ...                                  "exact": [True]}), params={"pods": 2})
    >>> float(r.summary["mean_s"].iloc[0])
    1.5
    """

    summary: pd.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.summary, pd.DataFrame):
            raise TypeError(
                f"summary must be a pandas DataFrame; got {type(self.summary).__name__}"
            )
        missing = [c for c in REQUIRED_COLUMNS if c not in self.summary.columns]
        if missing:
            raise ValueError(
                f"a Result summary needs the columns {list(REQUIRED_COLUMNS)}; missing {missing}"
            )
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))

    # -- extra attributes -------------------------------------------------------------------
    def _extras(self) -> dict[str, Any]:
        base = {f.name for f in fields(Result)}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in base}

    # -- views ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: ``summary`` as records, ``params`` and ``notes``.

        Non-finite floats become ``None``; arrays and tables are left out (they are
        attributes to read directly).
        """
        return {
            "summary": [_jsonable(r) for r in self.summary.to_dict(orient="records")],
            "params": _jsonable(self.params),
            "notes": list(self.notes),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ({len(self.summary)} row(s))"]
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            lines.append(self.summary.to_string(index=False))
        lines += [f"note: {n}" for n in self.notes]
        extras = self._extras()
        if extras:
            lines.append("attributes: " + ", ".join(f"{k} {_shape(v)}" for k, v in extras.items()))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            f"<div class='k8smodel-result'><strong>{html.escape(type(self).__name__)}</strong>"
        ]
        if self.params:
            shown = ", ".join(
                f"{html.escape(str(k))}={html.escape(_short(v))}" for k, v in self.params.items()
            )
            parts.append(f"<div><em>params:</em> {shown}</div>")
        parts.append(self.summary.to_html(index=False, float_format=lambda x: f"{x:.4g}"))
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<div><em>notes:</em><ul>{items}</ul></div>")
        extras = self._extras()
        if extras:
            shown = ", ".join(
                f"<code>{html.escape(k)}</code> {html.escape(_shape(v))}" for k, v in extras.items()
            )
            parts.append(f"<div><em>attributes:</em> {shown}</div>")
        parts.append("</div>")
        return "".join(parts)


def _shape(value: Any) -> str:
    if isinstance(value, pd.DataFrame):
        return f"(table {value.shape[0]}x{value.shape[1]})"
    if isinstance(value, np.ndarray):
        return f"(array {'x'.join(map(str, value.shape))})"
    return f"({type(value).__name__})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return repr(value)
