"""The one place for input checks: every public entry point validates through here.

The rule is the same everywhere: a value of the wrong *kind* raises :class:`TypeError`,
a value of the right kind outside what is allowed raises :class:`ValueError`, and both
messages read ``"<name> must be <what is allowed>; got <value>"`` so the user sees the
parameter (or the object and field), the value and the remedy in one line.

Counts are strict: a ``float`` where a whole number is needed is a wrong kind, even
``1e5`` (write ``100_000`` or ``int(1e5)``); ``bool`` is never a number. Reals reject NaN
always and infinity unless asked. Work that would not fit is refused by
:func:`check_budget` *before* anything is allocated.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_MEMORY_BYTES",
    "check_array",
    "check_budget",
    "check_choice",
    "check_distribution",
    "check_int",
    "check_probability",
    "check_real",
    "check_vector",
    "describe",
]

#: What one call may allocate unless the caller raises it (``max_memory_bytes=``).
DEFAULT_MEMORY_BYTES = 4 * 2**30


def describe(value: Any) -> str:
    """A short ``repr`` for error messages (long sequences are cut)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _range_text(minimum, maximum, lower_open: bool = False, upper_open: bool = False) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if lower_open else '>='} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if upper_open else '<='} {maximum}")
    return " and ".join(parts)


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int``: a whole number (not a bool, not a float) in range.

    Raises
    ------
    TypeError
        If ``value`` is not an integer type (``int`` or a numpy integer).
    ValueError
        If it is below ``minimum`` or above ``maximum``.

    Examples
    --------
    >>> check_int(4, "pods", minimum=1)
    4
    >>> check_int(0, "pods", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: pods must be a whole number >= 1; got 0
    """
    wanted = "a whole number" + (
        f" {_range_text(minimum, maximum)}" if minimum is not None or maximum is not None else ""
    )
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        hint = " (write it as an int, e.g. 100_000 rather than 1e5)" if _is_real(value) else ""
        raise TypeError(f"{name} must be {wanted}{hint}; got {describe(value)}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {wanted}; got {describe(value)}")
    return number


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    lower_open: bool = False,
    upper_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` as a ``float``: a real number (not a bool), not NaN, in range.

    ``lower_open``/``upper_open`` make the bounds strict; infinity passes only with
    ``allow_inf`` (and still has to lie in the range).

    Examples
    --------
    >>> check_real(0.8, "utilization", minimum=0, maximum=1, upper_open=True)
    0.8
    >>> check_real(float("nan"), "rtt_ms", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: rtt_ms must be a finite number >= 0; got nan
    """
    rng = _range_text(minimum, maximum, lower_open, upper_open)
    wanted = ("a number" if allow_inf else "a finite number") + (f" {rng}" if rng else "")
    if not _is_real(value):
        raise TypeError(f"{name} must be {wanted}; got {type(value).__name__} {describe(value)}")
    number = float(value)
    bad = math.isnan(number) or (not allow_inf and math.isinf(number))
    if minimum is not None:
        bad = bad or number < minimum or (lower_open and number == minimum)
    if maximum is not None:
        bad = bad or number > maximum or (upper_open and number == maximum)
    if bad:
        raise ValueError(f"{name} must be {wanted}; got {describe(value)}")
    return number


def check_probability(value: Any, name: str, *, open_upper: bool = False) -> float:
    """``value`` as a float in [0, 1] (or [0, 1) with ``open_upper``)."""
    return check_real(value, name, minimum=0.0, maximum=1.0, upper_open=open_upper)


def check_choice(value: Any, name: str, allowed: Iterable[str]) -> str:
    """``value`` when it is one of ``allowed`` (strings), else an error listing them."""
    options = list(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {describe(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {describe(value)}")
    return value


def check_vector(
    values: Any,
    name: str,
    *,
    size: int | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    lower_open: bool = False,
    integer: bool = False,
    nonempty: bool = True,
) -> np.ndarray:
    """A 1-d float array of finite numbers in range (of length ``size`` when given).

    Examples
    --------
    >>> check_vector([1, 2], "weights", size=2, minimum=0, lower_open=True)
    array([1., 2.])
    """
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers; got {describe(values)}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a sequence of numbers; got {describe(values)}")
    arr = arr.astype(float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} values; got {arr.size}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    rng = _range_text(minimum, maximum, lower_open)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite numbers; got {describe(values)}")
    below = minimum is not None and ((arr < minimum) | (lower_open & (arr == minimum))).any()
    above = maximum is not None and (arr > maximum).any()
    if below or above:
        raise ValueError(f"{name} must be numbers {rng}; got {describe(values)}")
    if integer and (arr != np.round(arr)).any():
        raise ValueError(f"{name} must be whole numbers; got {describe(values)}")
    return arr


def check_array(
    values: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_inf: bool = False,
) -> np.ndarray:
    """``values`` (a number or an array of any shape) as a float array: numbers, no NaN, in range.

    The companion of :func:`check_vector` for broadcasting arguments (coordinates, distances).
    Bools and strings are wrong types; infinity passes only with ``allow_inf``.

    Examples
    --------
    >>> check_array([[0.0, 45.0]], "lat", minimum=-90, maximum=90).shape
    (1, 2)
    >>> check_array(1e18, "lat", minimum=-90, maximum=90)
    Traceback (most recent call last):
    ...
    ValueError: lat must be finite numbers >= -90 and <= 90; got 1e+18
    """
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {describe(values)}"
        ) from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of numbers; got {describe(values)}")
    arr = arr.astype(float)
    wanted = ("numbers" if allow_inf else "finite numbers") + (
        f" {_range_text(minimum, maximum)}" if minimum is not None or maximum is not None else ""
    )
    bad = np.isnan(arr) | (np.isinf(arr) if not allow_inf else False)
    if minimum is not None:
        bad = bad | (arr < minimum)
    if maximum is not None:
        bad = bad | (arr > maximum)
    if np.any(bad):
        raise ValueError(f"{name} must be {wanted}; got {describe(values)}")
    return arr


def check_distribution(value: Any, name: str, *, allow_number: bool = True) -> Any:
    """A non-negative time law: a number (deterministic, when allowed) or a frozen scipy.stats law.

    Returns the value unchanged (a number as ``float``).
    """
    if allow_number and _is_real(value):
        return check_real(value, name, minimum=0.0)
    if hasattr(value, "rvs") and hasattr(value, "dist") and hasattr(value, "support"):
        if float(value.support()[0]) < 0:
            raise ValueError(f"{name} must be a distribution of non-negative times")
        return value
    kinds = "a number of seconds or a frozen scipy.stats distribution"
    if not allow_number:
        kinds = "a frozen scipy.stats distribution"
    raise TypeError(f"{name} must be {kinds}; got {type(value).__name__} {describe(value)}")


def check_budget(
    bytes_needed: float,
    what: str,
    *,
    limit_bytes: float = DEFAULT_MEMORY_BYTES,
    remedy: str = "",
) -> None:
    """Refuse work whose estimated memory exceeds ``limit_bytes``, before allocating it.

    ``what`` names the request (``"requests=10**9 x replications=16"``); ``remedy`` says
    what would fit or which parameter raises the limit.

    Raises
    ------
    ValueError
        With the estimate, the limit and the remedy.

    Examples
    --------
    >>> check_budget(2**20, "a small run")
    >>> check_budget(2**40, "requests=10**11", remedy="use fewer requests")
    Traceback (most recent call last):
    ...
    ValueError: requests=10**11 needs about 1024.0 GiB, over the 4.0 GiB limit; use fewer requests
    """
    if not bytes_needed <= limit_bytes:
        tail = f"; {remedy}" if remedy else ""
        raise ValueError(
            f"{what} needs about {bytes_needed / 2**30:.1f} GiB, over the "
            f"{limit_bytes / 2**30:.1f} GiB limit{tail}"
        )
