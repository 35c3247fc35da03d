"""Kubernetes resource quantities (``10Gi``, ``500M``, ``1.5Ti``, ``100m``, ``1e3``).

This module re-implements, in Python and with exact rational arithmetic, the
parsing and canonical formatting of ``k8s.io/apimachinery/pkg/api/resource``
(``quantity.go``, ``suffix.go``, ``amount.go``). The rules it follows, all read
off that source:

* Grammar: an optional sign, digits with at most one decimal point, then a
  suffix that is a binary SI suffix (``Ki Mi Gi Ti Pi Ei``), a decimal SI
  suffix (``n u m "" k M G T P E``) or a decimal exponent (``e3``, ``E-6``,
  ``E+6``). The scanner is ``parseQuantityString``; suffixes are looked up by
  ``suffixer.interpret`` (decimal table first, then binary, then ``e``/``E``
  followed by a signed integer). No whitespace is allowed.
* The value is kept exactly; a non-zero magnitude is rounded *up* to the next
  multiple of 10^-9 ("if you want some resources, you should get some").
  Binary-SI values are capped at 2^63 - 1.
* The quantity remembers its format (the suffix family). A binary-SI value
  with 0 < ``|v|`` < 1 switches to decimal SI at parse time.
* Canonical form (``CanonicalizeBytes``): binary SI is printed with the
  largest power of 1024 that leaves an integer mantissa, unless
  ``|v|`` < 1024 or v is not an integer, in which case it is printed as decimal
  SI. Decimal SI and decimal exponent use the largest exponent that is a
  multiple of 3 and leaves an integer mantissa (``1.5`` -> ``1500m``).

References
----------
kubernetes/kubernetes, ``staging/src/k8s.io/apimachinery/pkg/api/resource/
quantity.go`` (ParseQuantity, parseQuantityString, CanonicalizeBytes),
``suffix.go`` (newSuffixer, interpret), ``amount.go`` (AsCanonicalBytes,
AsCanonicalBase1024Bytes). Test cases in ``tests/test_storage_quantity.py``
are taken from ``quantity_test.go`` in the same directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import numpy as np

__all__ = ["Quantity", "parse_quantity", "format_quantity", "readable_bytes", "to_bytes"]

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"
_FORMATS = (BINARY_SI, DECIMAL_SI, DECIMAL_EXPONENT)

# suffix.go newSuffixer: decimal table, then binary table.
_DECIMAL_SUFFIX_EXP = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}
_DECIMAL_SUFFIX_EXP.update({"P": 15, "E": 18})
_BINARY_SUFFIX_EXP = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_EXP_TO_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL_SUFFIX_EXP.items()}
_EXP_TO_BINARY_SUFFIX = {v: k for k, v in _BINARY_SUFFIX_EXP.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = Fraction(1, 10**9)
_MAX_ALLOWED = 2**63 - 1  # quantity.go maxAllowed (int64 max)
# A guard of ours, not Kubernetes': exponents beyond this would build huge integers.
_MAX_ABS_EXPONENT = 4000


def _round_away(f: Fraction) -> int:
    """``f`` rounded away from zero to an integer (1.5 -> 2, -1.5 -> -2).

    Go's ``Quantity.Value()``/``ScaledValue``: ``negativeScaleInt64`` in
    ``staging/src/k8s.io/apimachinery/pkg/api/resource/math.go`` returns an
    inexact result "rounded away from zero", so ``-100m`` has the value -1.
    """
    magnitude = -((-abs(f.numerator)) // f.denominator)
    return magnitude if f >= 0 else -magnitude


class Quantity(Fraction):
    """An exact Kubernetes quantity: a :class:`fractions.Fraction` that remembers its format.

    Behaves as a number (compare, add, ``float()``); ``int()`` rounds away
    from zero like Go's ``Value()``; ``str()`` gives the canonical Kubernetes spelling.
    Arithmetic returns plain ``Fraction``.

    Parameters
    ----------
    value : int, Fraction or str
        The exact value (strings are parsed as :class:`fractions.Fraction` does;
        use :func:`parse_quantity` for Kubernetes spellings).
    format : {"BinarySI", "DecimalSI", "DecimalExponent"}
        The suffix family used when printing.
    """

    __slots__ = ("format",)
    format: str

    def __new__(cls, value=0, format: str = DECIMAL_SI):  # noqa: A002 - mirrors the Go field
        """Create a quantity with an exact ``value`` and a ``format``."""
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {_FORMATS}; got {format!r}")
        self = super().__new__(cls, value)
        self.format = format
        return self

    def __int__(self) -> int:  # type: ignore[override]
        """``int(q)`` is ``q.value``: rounded away from zero, as Go's ``Quantity.Value()``."""
        return self.value

    @property
    def value(self) -> int:
        """The value as an integer, rounded away from zero (``Quantity.Value()`` in Go)."""
        return _round_away(self)

    @property
    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (``Quantity.MilliValue()`` in Go)."""
        return _round_away(self * 1000)

    def __str__(self) -> str:
        return format_quantity(self, format=self.format)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __reduce__(self):
        return (Quantity, (Fraction(self.numerator, self.denominator), self.format))


def _scan(text: str) -> tuple[bool, str, str, str]:
    """Split ``text`` into sign, integer digits, fraction digits and suffix.

    Follows ``parseQuantityString`` step by step: sign, leading zeros, integer
    digits, optional ``.`` and fraction digits, then a run of suffix letters,
    an optional sign and digits. Anything left over is a format error.
    """
    positive = True
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(
            f"invalid quantity {text!r}: quantities must match "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    return positive, num, denom, text[suffix_start:]


def _interpret_suffix(text: str, suffix: str) -> tuple[int, int, str]:
    """Return (base, exponent, format) for ``suffix`` (``suffixer.interpret``)."""
    if suffix in _DECIMAL_SUFFIX_EXP:
        return 10, _DECIMAL_SUFFIX_EXP[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIX_EXP:
        return 2, _BINARY_SUFFIX_EXP[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        rest = suffix[1:]
        body = rest[1:] if rest[0] in "+-" else rest
        if body and all(c in _DIGITS for c in body):
            exponent = int(rest)
            if abs(exponent) > _MAX_ABS_EXPONENT:
                raise ValueError(
                    f"invalid quantity {text!r}: exponent {exponent} is outside the range "
                    f"+-{_MAX_ABS_EXPONENT} this model supports"
                )
            return 10, exponent, DECIMAL_EXPONENT
    raise ValueError(f"invalid quantity {text!r}: unable to parse quantity's suffix {suffix!r}")


def parse_quantity(text: str) -> Quantity:
    """Parse a Kubernetes quantity exactly as ``resource.ParseQuantity`` does.

    Parameters
    ----------
    text : str
        A quantity such as ``"10Gi"``, ``"500M"``, ``"1.5Ti"``, ``"100m"``,
        ``"1e3"`` or ``"-2.5E-3"``. No surrounding whitespace.

    Returns
    -------
    Quantity
        The exact value (a Fraction), with the format the suffix implies.

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        If ``text`` is not a valid quantity; the message names the string.

    Notes
    -----
    Non-zero magnitudes are rounded up to a multiple of 10^-9 and binary-SI
    values are capped at 2^63 - 1, as in ``ParseQuantity``. One guard is ours:
    decimal exponents beyond +-4000 are rejected rather than expanded.

    References
    ----------
    kubernetes/kubernetes ``staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go``
    (ParseQuantity, parseQuantityString) and ``suffix.go`` (interpret).

    Examples
    --------
    >>> int(parse_quantity("1.5Gi"))
    1610612736
    >>> str(parse_quantity("1.5Gi"))
    '1536Mi'
    """
    if not isinstance(text, str):
        raise TypeError(f"quantity must be a str; got {type(text).__name__} {text!r}")
    if text == "":
        raise ValueError("invalid quantity '': an empty string is not a quantity")
    positive, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret_suffix(text, suffix)
    amount = Fraction(int(num + denom), 10 ** len(denom))
    amount *= Fraction(base) ** exponent
    if amount != 0:
        scaled = amount / _NANO
        amount = -((-scaled.numerator) // scaled.denominator) * _NANO  # round magnitude up
    if fmt == BINARY_SI and amount > _MAX_ALLOWED:
        amount = Fraction(_MAX_ALLOWED)
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI
    if not positive:
        amount = -amount
    return Quantity(amount, fmt)


def _decimal_canonical(value: Fraction) -> tuple[int, int]:
    """Mantissa and exponent (a multiple of 3, as large as possible), ``AsCanonicalBytes``."""
    # Every parsed quantity is a multiple of 10^-9, so value * 10^9 is an integer.
    mantissa, exponent = value.numerator * (10**9 // value.denominator), -9
    if (10**9) % value.denominator:
        raise ValueError(f"{value} is not a multiple of 10^-9 and has no canonical form")
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def format_quantity(value, *, format: str = BINARY_SI) -> str:  # noqa: A002
    """Format a number as the canonical Kubernetes quantity string.

    Parameters
    ----------
    value : int, Fraction, Quantity or str
        The value; a string is parsed with :func:`parse_quantity` first. Must be
        a multiple of 10^-9 (every parsed quantity is).
    format : {"BinarySI", "DecimalSI", "DecimalExponent"}, keyword-only
        The suffix family, as ``Quantity.Format`` in Go. Default ``BinarySI``,
        the family storage sizes use.

    Returns
    -------
    str
        For example ``"1536Mi"``, ``"1500m"``, ``"1G"``, ``"80e-3"``, ``"0"``.

    Notes
    -----
    ``CanonicalizeBytes``: binary SI falls back to decimal SI for ``|v|`` < 1024 or
    a non-integer v. Decimal forms use exponents that are multiples of 3. The
    suffix tables stop at ``E`` (10^18) and ``Ei`` (2^60); a canonical exponent
    beyond them has no suffix, and apimachinery then prints the decimal-exponent
    form (``10**21`` in DecimalSI is ``"1e21"``; ``2**70`` in BinarySI is the
    exact integer ``"1180591620717411303424"``). Before that fix the suffix
    lookup's failure was ignored and the exponent was dropped (``"1"``).

    References
    ----------
    kubernetes/kubernetes ``staging/src/k8s.io/apimachinery/pkg/api/resource/``
    ``quantity.go`` (CanonicalizeBytes), ``suffix.go`` (constructBytes: the
    decimal table ends at E, the binary one at Ei) and ``amount.go``
    (AsCanonicalBytes, AsCanonicalBase1024Bytes); the fallback to the exponent
    form for exponents past the tables is kubernetes/kubernetes pull request
    #140459 ("Fix Quantity.String() dropping the suffix for DecimalSI values
    above 10^18", merged 2026).
    """
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}; got {format!r}")
    if isinstance(value, str):
        value = parse_quantity(value)
    if isinstance(value, float):
        raise TypeError("format_quantity needs an exact value (int, Fraction or str), not a float")
    value = Fraction(value)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mag = abs(value)
    fmt = format
    if fmt == BINARY_SI and (mag < 1024 or mag.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        mantissa, exp2 = int(mag), 0
        while mantissa % 1024 == 0:
            mantissa //= 1024
            exp2 += 10
        if exp2 in _EXP_TO_BINARY_SUFFIX or exp2 == 0:
            return f"{sign}{mantissa}{_EXP_TO_BINARY_SUFFIX.get(exp2, '')}"
        fmt = DECIMAL_EXPONENT  # past Ei: no binary suffix (kubernetes/kubernetes#140459)
    mantissa, exponent = _decimal_canonical(mag)
    if fmt == DECIMAL_SI and exponent in _EXP_TO_DECIMAL_SUFFIX:
        return f"{sign}{mantissa}{_EXP_TO_DECIMAL_SUFFIX[exponent]}"
    # DecimalExponent, and DecimalSI past E (10^18): the decimal-exponent form
    return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")


def to_bytes(values: Iterable | str | int) -> np.ndarray:
    """Parse many quantities into an int64 array of whole units (rounded away from zero).

    Parameters
    ----------
    values : iterable of str or numbers, or a single one
        Strings are parsed with :func:`parse_quantity`; numbers are taken as
        they are (a float must be a whole number).

    Returns
    -------
    numpy.ndarray of int64
        ``Quantity.Value()`` of each entry: the value rounded away from zero to
        an integer (``-100m`` gives -1, as in Go).

    Raises
    ------
    ValueError
        On an invalid string, a fractional float, or a value beyond int64.
    """
    if isinstance(values, (str, int, Fraction)):
        values = [values]
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        if values.dtype.kind == "u" and values.size and values.max() > _MAX_ALLOWED:
            raise ValueError("values do not fit in int64")
        return values.astype(np.int64).ravel()  # whole numbers already: nothing to parse
    out = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            q = parse_quantity(v)
            out.append(q.value)
        elif isinstance(v, (bool, np.bool_)):
            raise TypeError(f"values[{i}] must be a quantity string or a number; got {v!r}")
        elif isinstance(v, (int, np.integer, Fraction)):
            out.append(_round_away(Fraction(int(v)) if isinstance(v, np.integer) else Fraction(v)))
        elif isinstance(v, (float, np.floating)):
            if not float(v).is_integer():
                raise ValueError(f"values[{i}] = {v!r} is not a whole number of bytes")
            out.append(int(v))
        else:
            raise TypeError(f"values[{i}] must be a quantity string or a number; got {v!r}")
        if abs(out[-1]) > _MAX_ALLOWED:
            raise ValueError(f"values[{i}] = {v!r} does not fit in int64")
    return np.asarray(out, dtype=np.int64)


def readable_bytes(value: int | float) -> str:
    """A byte count as a person reads it: two significant digits and a binary suffix.

    Unlike :func:`format_quantity` this rounds (``4144843345 * 1024`` bytes is
    ``"3.9Ti"``, not ``"4144843345Ki"``), so it is for display only.

    Examples
    --------
    >>> readable_bytes(4144843345 * 1024), readable_bytes(700 * 2**30), readable_bytes(512)
    ('3.9Ti', '700Gi', '512')
    """
    mag, sign = abs(float(value)), "-" if value < 0 else ""
    suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    k = 0
    while mag >= 1024 and k < len(suffixes) - 1:
        mag /= 1024
        k += 1
    text = f"{mag:.1f}" if mag < 10 else f"{mag:.0f}"
    return sign + text.removesuffix(".0") + suffixes[k]
