"""Validation shared by the simulator and the theory (errors name the parameter)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Service:
    """A service-time law: ``kind`` is ``"exponential"``, ``"deterministic"`` or ``"scipy"``."""

    kind: str
    mean: float
    second_moment: float
    dist: object = None

    @property
    def scv(self) -> float:
        """Squared coefficient of variation ``Var[S] / E[S]^2``."""
        return self.second_moment / self.mean**2 - 1.0

    def draw(self, gen: np.random.Generator, size) -> np.ndarray:
        """Draw service requirements of shape ``size`` in bulk."""
        if self.kind == "exponential":
            return gen.standard_exponential(size) * self.mean
        if self.kind == "deterministic":
            return np.full(size, self.mean)
        return np.asarray(self.dist.rvs(size=size, random_state=gen), dtype=float)


def check_service(service) -> Service:
    """Turn ``service`` (None, a number, or a frozen scipy.stats distribution) into a Service."""
    if service is None:
        return Service("exponential", 1.0, 2.0)
    if isinstance(service, numbers.Real) and not isinstance(service, bool):
        value = float(service)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"service must be a positive finite number (deterministic time); got {service!r}"
            )
        return Service("deterministic", value, value * value)
    if hasattr(service, "rvs") and hasattr(service, "mean") and hasattr(service, "dist"):
        mean = float(service.mean())
        if not math.isfinite(mean) or mean <= 0:
            raise ValueError(
                f"service must have a finite positive mean; got a distribution with mean {mean!r}"
            )
        if float(service.support()[0]) < 0:
            raise ValueError("service must be a distribution of non-negative times")
        second = float(service.moment(2))
        name = getattr(service.dist, "name", "")
        if name == "expon" and float(service.support()[0]) == 0:
            return Service("exponential", mean, 2 * mean * mean)
        return Service("scipy", mean, second, service)
    raise TypeError(
        "service must be None (exponential, mean 1), a positive number (deterministic) or a "
        f"frozen scipy.stats distribution; got {type(service).__name__} {service!r}"
    )


def check_int(value, name: str, minimum: int) -> int:
    """Whole number >= minimum, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}")
    return int(value)


def check_positive(value, name: str, *, allow_inf: bool = False) -> float:
    """Positive real number, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    value = float(value)
    if not value > 0 or (not allow_inf and not math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return value


def check_vector(values, name: str, pods: int, *, integer: bool = False) -> np.ndarray:
    """Per-pod positive values of length ``pods`` (default all ones)."""
    if values is None:
        return np.ones(pods)
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size != pods:
        raise ValueError(f"{name} must have one value per pod ({pods}); got {values!r}")
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(f"{name} must be positive finite numbers; got {values!r}")
    if integer and (arr != np.round(arr)).any():
        raise ValueError(f"{name} must be whole numbers (as in nginx 'weight='); got {values!r}")
    return arr
