"""How the command line prints answers: a table for eyes, JSON or CSV for programs.

Every subcommand takes ``--format table|json|csv`` (:func:`add_format_option`) and prints
through :func:`emit`, so assumptions and warnings always travel with the numbers: in the
table format as ``note:`` lines after the table, in JSON under ``"notes"``, and in CSV as
``# note:`` comment lines before the header.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

import pandas as pd

from k8smodel.result import Result, _jsonable

FORMATS = ("table", "json", "csv")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--format table|json|csv`` to a subcommand's parser."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default) for reading, json or csv for programs",
    )


def emit(
    answer: Result | pd.DataFrame,
    *,
    fmt: str = "table",
    title: str = "",
    notes: Sequence[str] = (),
    out: TextIO | None = None,
) -> None:
    """Print ``answer`` in ``fmt`` with its title and notes (a Result's own notes included)."""
    out = out or sys.stdout
    table = answer.summary if isinstance(answer, Result) else answer
    all_notes = list(notes) + (list(answer.notes) if isinstance(answer, Result) else [])
    if fmt == "json":
        payload = {
            "title": title,
            "summary": [_jsonable(r) for r in table.to_dict(orient="records")],
            "notes": all_notes,
        }
        if isinstance(answer, Result):
            payload["params"] = _jsonable(answer.params)
        out.write(json.dumps(payload, indent=2) + "\n")
    elif fmt == "csv":
        for note in ([title] if title else []) + all_notes:
            out.write(f"# note: {note}\n")
        table.to_csv(out, index=False)
    else:
        if title:
            out.write(title + "\n")
        with pd.option_context(
            "display.width", 120, "display.max_columns", 30, "display.precision", 4
        ):
            out.write(table.to_string(index=False) + "\n")
        for note in all_notes:
            out.write(f"note: {note}\n")
