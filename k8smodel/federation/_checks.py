"""Input checks shared by the federation modules (private).

Each helper names the parameter, the value and what is allowed, raising
``TypeError`` for a value of the wrong kind and ``ValueError`` for one out of range.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd


def whole(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int, when it is a whole number (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}")
    return int(value)


def probability(value, name: str, *, open_upper: bool = False) -> float:
    """``value`` as a float in [0, 1] (or [0, 1) with ``open_upper``)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number in [0, 1]; got {value!r}")
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in [0, 1]; got {value!r}") from None
    upper_ok = p < 1 if open_upper else p <= 1
    if np.isnan(p) or not (0 <= p and upper_ok):
        allowed = "[0, 1)" if open_upper else "[0, 1]"
        raise ValueError(f"{name} must be in {allowed}; got {value!r}")
    return p


def nonnegative(value, name: str) -> float:
    """``value`` as a finite float >= 0."""
    if isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{name} must be a finite number >= 0; got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a finite number >= 0; got {value!r}") from None
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return v


def weight_vector(values, name: str, size: int | None = None) -> np.ndarray:
    """A 1-d float array of finite weights >= 0 with a positive sum (of length ``size``)."""
    try:
        w = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-d sequence of numbers; got {values!r}") from None
    if w.ndim != 1 or (size is not None and w.size != size):
        want = "a 1-d sequence" if size is None else f"{size} numbers"
        raise ValueError(f"{name} must be {want}; got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"{name} must be finite numbers >= 0 with a positive sum; got {values!r}")
    return w


def user_weights(users) -> np.ndarray:
    """The ``weight`` column of a user table, checked (the table needs lat, lon, weight)."""
    required = ("lat", "lon", "weight")
    if not isinstance(users, pd.DataFrame):
        raise TypeError(
            f"users must be a pandas DataFrame with columns {required}; got {type(users).__name__}"
        )
    missing = [c for c in required if c not in users.columns]
    if missing:
        raise ValueError(
            f"users must have columns {required}; missing {missing} "
            f"(k8smodel.federation.users() shows the layout)"
        )
    return weight_vector(users["weight"].to_numpy(dtype=float), "users['weight']")


def unique_names(names, name: str, size: int) -> list[str]:
    """``names`` as a list of ``size`` distinct strings."""
    out = [str(x) for x in names]
    if len(out) != size:
        raise ValueError(f"{name} must have one entry per cluster ({size}); got {len(out)}")
    if len(set(out)) != len(out):
        dup = sorted({x for x in out if out.count(x) > 1})
        raise ValueError(f"{name} must be distinct; {dup} repeat")
    return out
