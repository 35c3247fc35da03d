"""Kubernetes resource quantities as numbers: CPU in cores, sizes in bytes.

The grammar is apimachinery's ``resource.Quantity`` (``staging/src/k8s.io/apimachinery/pkg/api/
resource/quantity.go``, ``ParseQuantity``): a signed decimal number, then a binary suffix (``Ki``
... ``Ei``), a decimal suffix (``n u m k M G T P E``) or a decimal exponent (``e3``/``E3``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["parse_bytes", "parse_cpu", "parse_quantity"]

_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse_quantity(value: Any, where: str) -> float:
    """A quantity (``"3500m"``, ``"10Gi"``, ``"1e3"``, or a plain number) as a float.

    Raises
    ------
    ValueError
        Naming ``where`` (object and field) and the value.

    Examples
    --------
    >>> parse_quantity("10Gi", "PVC a: spec.resources.requests.storage")
    10737418240.0
    >>> parse_quantity("250m", "Pod p: cpu")
    0.25
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(value.strip()) if isinstance(value, str) else None
    if match is None or (match.group(2)[:1] not in "eE" and match.group(2) not in _SUFFIX):
        raise ValueError(
            f"{where} must be a Kubernetes quantity such as '4', '3500m' or '10Gi'; got {value!r}"
        )
    number, suffix = float(match.group(1)), match.group(2)
    if suffix[:1] in ("e", "E"):
        return number * 10.0 ** int(suffix[1:])
    return number * _SUFFIX[suffix]


def parse_cpu(value: Any, where: str) -> float:
    """A CPU quantity in cores (``"3500m"`` -> 3.5)."""
    return parse_quantity(value, where)


def parse_bytes(value: Any, where: str) -> float:
    """A memory or storage quantity in bytes (``"1Gi"`` -> 1073741824)."""
    return parse_quantity(value, where)
