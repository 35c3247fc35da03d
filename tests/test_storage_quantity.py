"""Quantity parsing and formatting against cases from Kubernetes apimachinery.

Every expected value below is copied from
kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go
(TestQuantityParse, TestQuantityString, TestQuantityParseEmit), where
decQuantity(m, e, fmt) is the exact value m * 10**e in format fmt. The rounding cases at the
end are worked by hand from math.go (negativeScaleInt64), as the docstrings there say.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from k8smodel.storage import Quantity, format_quantity, parse_quantity, to_bytes

B, D, X = "BinarySI", "DecimalSI", "DecimalExponent"
KI = 1024


def dec(m, e):
    return Fraction(m) * Fraction(10) ** e


# (input, mantissa, exponent, format) from TestQuantityParse
PARSE_CASES = [
    ("0", 0, 0, D),
    ("0n", 0, 0, D),
    ("0u", 0, 0, D),
    ("0m", 0, 0, D),
    ("0Ki", 0, 0, B),
    ("0k", 0, 0, D),
    ("0Mi", 0, 0, B),
    ("0M", 0, 0, D),
    ("0Gi", 0, 0, B),
    ("0G", 0, 0, D),
    ("0Ti", 0, 0, B),
    ("0T", 0, 0, D),
    ("1", 1, 0, D),
    ("1Ki", KI, 0, B),
    ("8Ki", 8 * KI, 0, B),
    ("7Mi", 7 * KI**2, 0, B),
    ("6Gi", 6 * KI**3, 0, B),
    ("5Ti", 5 * KI**4, 0, B),
    ("4Pi", 4 * KI**5, 0, B),
    ("3Ei", 3 * KI**6, 0, B),
    ("10Ti", 10 * KI**4, 0, B),
    ("100Ti", 100 * KI**4, 0, B),
    ("5n", 5, -9, D),
    ("4u", 4, -6, D),
    ("3m", 3, -3, D),
    ("9", 9, 0, D),
    ("8k", 8, 3, D),
    ("50k", 5, 4, D),
    ("7M", 7, 6, D),
    ("6G", 6, 9, D),
    ("5T", 5, 12, D),
    ("40T", 4, 13, D),
    ("300T", 3, 14, D),
    ("2P", 2, 15, D),
    ("1E", 1, 18, D),
    ("1E-3", 1, -3, X),
    ("1e3", 1, 3, X),
    ("1E6", 1, 6, X),
    ("1e9", 1, 9, X),
    ("1E12", 1, 12, X),
    ("1e15", 1, 15, X),
    ("1E18", 1, 18, X),
    ("1e14", 1, 14, X),
    ("1e13", 1, 13, X),
    ("100.035k", 100035, 0, D),
    ("0.001", 1, -3, D),
    ("0.0005k", 5, -1, D),
    ("0.005", 5, -3, D),
    ("0.05", 5, -2, D),
    ("0.5", 5, -1, D),
    ("0.00050k", 5, -1, D),
    ("0.00500", 5, -3, D),
    ("0.05000", 5, -2, D),
    ("0.50000", 5, -1, D),
    ("0.5e0", 5, -1, X),
    ("0.5e-1", 5, -2, X),
    ("0.5e-2", 5, -3, X),
    ("10.035M", 10035, 3, D),
    ("1.2e3", 12, 2, X),
    ("1.3E+6", 13, 5, X),
    ("1.40e9", 14, 8, X),
    ("1.53E12", 153, 10, X),
    ("1.6e15", 16, 14, X),
    ("1.7E18", 17, 17, X),
    ("9.01", 901, -2, D),
    ("8.1k", 81, 2, D),
    ("7.123456M", 7123456, 0, D),
    ("6.987654321G", 6987654321, 0, D),
    ("5.444T", 5444, 9, D),
    ("40.1T", 401, 11, D),
    ("300.2T", 3002, 11, D),
    ("2.5P", 25, 14, D),
    ("1.01E", 101, 16, D),
    # things that saturate/round
    ("3.001n", 4, -9, D),
    ("1.1E-9", 2, -9, X),
    ("0.0000000001", 1, -9, D),
    ("0.0000000005", 1, -9, D),
    ("0.00000000050", 1, -9, D),
    ("0.5e-9", 1, -9, X),
    ("0.9n", 1, -9, D),
    ("0.00000012345", 124, -9, D),
    ("0.00000012354", 124, -9, D),
    ("9Ei", 2**63 - 1, 0, B),
    ("9223372036854775807Ki", 2**63 - 1, 0, B),
    ("12E", 12, 18, D),
    # fractional binary
    ("100.035Ki", 10243584, -2, B),
    ("0.5Mi", KI * KI // 2, 0, B),
    ("0.05Gi", 536870912, -1, B),
    ("0.025Ti", 274877906944, -1, B),
    # "things written by trolls"
    ("0.000000000001Ki", 2, -9, D),
    (".001", 1, -3, D),
    (".0001k", 100, -3, D),
    ("1.", 1, 0, D),
    ("1.G", 1, 9, D),
]

INVALID = ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01e-", " 1", "1 ", ""]

# (mantissa, exponent, format, canonical string) from TestQuantityString
STRING_CASES = [
    (KI**3, 0, B, "1Gi"),
    (300 * KI**2, 0, B, "300Mi"),
    (6 * KI, 0, B, "6Ki"),
    (1001 * KI**3, 0, B, "1001Gi"),
    (KI**4, 0, B, "1Ti"),
    (5, 0, B, "5"),
    (500, -3, B, "500m"),
    (1, 9, D, "1G"),
    (1000, 6, D, "1G"),
    (1000000, 3, D, "1G"),
    (1000000000, 0, D, "1G"),
    (1, -3, D, "1m"),
    (80, -3, D, "80m"),
    (1080, -3, D, "1080m"),
    (108, -2, D, "1080m"),
    (10800, -4, D, "1080m"),
    (300, 6, D, "300M"),
    (1, 12, D, "1T"),
    (1234567, 6, D, "1234567M"),
    (1234567, -3, B, "1234567m"),
    (3, 3, D, "3k"),
    (1025, 0, B, "1025"),
    (0, 0, D, "0"),
    (0, 0, B, "0"),
    (1, 9, X, "1e9"),
    (1, -3, X, "1e-3"),
    (1, -9, X, "1e-9"),
    (80, -3, X, "80e-3"),
    (300, 6, X, "300e6"),
    (1, 12, X, "1e12"),
    (1, 3, X, "1e3"),
    (3, 3, X, "3e3"),
    (3, 3, D, "3k"),
    (0, 0, X, "0"),
    (1, -9, D, "1n"),
    (80, -9, D, "80n"),
    (1080, -9, D, "1080n"),
    (108, -8, D, "1080n"),
    (10800, -10, D, "1080n"),
    (1, -6, D, "1u"),
    (80, -6, D, "80u"),
    (1080, -6, D, "1080u"),
]
# (alternate spelling, canonical) from the same table's "alternate" column
ALTERNATES = [
    ("1024Mi", "1Gi"),
    ("307200Ki", "300Mi"),
    ("1001Gi", "1001Gi"),
    ("1024Gi", "1Ti"),
    ("5000m", "5"),
    ("0.5", "500m"),
    ("1000M", "1G"),
    ("0.001T", "1G"),
    ("1000u", "1m"),
    ("1.08", "1080m"),
    ("1080000000n", "1080m"),
    (".001e12", "1e9"),
    ("0.001e0", "1e-3"),
    ("1000e-12", "1e-9"),
    ("00", "0"),
]
# TestQuantityParseEmit
EMIT = [
    ("1Ki", "1Ki"),
    ("1Mi", "1Mi"),
    ("1Gi", "1Gi"),
    ("1024Mi", "1Gi"),
    ("1000M", "1G"),
    (".001Ki", "1024m"),
    (".000001Ki", "1024u"),
    (".000000001Ki", "1024n"),
    (".000000000001Ki", "2n"),
]


@pytest.mark.parametrize(("text", "m", "e", "fmt"), PARSE_CASES)
def test_parse_matches_apimachinery(text, m, e, fmt):
    for prefix, sign in (("", 1), ("+", 1), ("-", -1)):
        q = parse_quantity(prefix + text)
        assert q == sign * dec(m, e), prefix + text
        assert q.format == fmt, prefix + text


@pytest.mark.parametrize("text", INVALID)
def test_invalid_strings_raise_naming_the_string(text):
    with pytest.raises(ValueError, match="invalid quantity"):
        parse_quantity(text)
    if text:
        with pytest.raises(ValueError) as info:
            parse_quantity(text)
        assert repr(text) in str(info.value)


@pytest.mark.parametrize(("m", "e", "fmt", "expect"), STRING_CASES)
def test_canonical_string(m, e, fmt, expect):
    assert format_quantity(dec(m, e), format=fmt) == expect
    if m:
        assert format_quantity(-dec(m, e), format=fmt) == "-" + expect
    # the canonical string parses back to the same value
    assert parse_quantity(expect) == dec(m, e)


@pytest.mark.parametrize(("alt", "canonical"), ALTERNATES)
def test_alternate_spellings_print_canonically(alt, canonical):
    assert str(parse_quantity(alt)) == canonical


@pytest.mark.parametrize(("text", "expect"), EMIT)
def test_parse_emit(text, expect):
    assert str(parse_quantity(text)) == expect
    assert str(parse_quantity("-" + text)) == "-" + expect


def test_value_rounds_up_like_go():
    # Quantity.Value() rounds up (ScaledValue(0)); "1.5" -> 2, "100m" -> 1
    assert parse_quantity("1.5").value == 2
    assert parse_quantity("100m").value == 1
    assert parse_quantity("100m").milli_value == 100
    assert int(parse_quantity("1.5Gi")) == 3 * 2**29


def test_type_errors_and_quantity_object():
    with pytest.raises(TypeError):
        parse_quantity(10)
    q = parse_quantity("10Gi")
    assert isinstance(q, Quantity) and q == 10 * 2**30 and repr(q) == "Quantity('10Gi')"
    with pytest.raises(TypeError):
        format_quantity(1.5)
    with pytest.raises(ValueError, match="format"):
        format_quantity(1, format="Binary")


def test_to_bytes_vectorises_and_validates():
    out = to_bytes(["1Gi", "500M", 7, "1.5"])
    assert out.dtype == np.int64
    assert out.tolist() == [2**30, 500_000_000, 7, 2]
    with pytest.raises(ValueError, match="whole number"):
        to_bytes([1.5])
    with pytest.raises(ValueError, match="invalid quantity"):
        to_bytes(["10 Gi"])


@given(st.integers(min_value=-(2**62), max_value=2**62), st.sampled_from([B, D, X]))
def test_format_then_parse_round_trips(n, fmt):
    # canonical strings are exact: parsing one gives back the same number
    assert parse_quantity(format_quantity(n, format=fmt)) == n


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=-9, max_value=9))
def test_decimal_round_trip_with_exponents(m, e):
    value = dec(m, e)
    for fmt in (D, X):
        assert parse_quantity(format_quantity(value, format=fmt)) == value


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        # negativeScaleInt64 (apimachinery pkg/api/resource/math.go) rounds an inexact result
        # away from zero: -100m has value -1 (not 0), -1.5 has -2 (not -1); by hand.
        ("-100m", -1, -100),
        ("-1.5", -2, -1500),
        ("1.5", 2, 1500),
        ("-1n", -1, -1),
        ("1n", 1, 1),
        ("-2", -2, -2000),
    ],
)
def test_negative_values_round_away_from_zero(text, value, milli):
    q = parse_quantity(text)
    assert q.value == value and int(q) == value and q.milli_value == milli
    assert to_bytes([text]).tolist() == [value]


def test_to_bytes_rounds_fractions_away_from_zero():
    assert to_bytes([Fraction(-3, 2), Fraction(3, 2), Fraction(-1, 3)]).tolist() == [-2, 2, -1]


@pytest.mark.parametrize("text", ["Gi", "-", ".", "+", "-.", "Ki", "m", "-0"])
def test_empty_numerators_parse_to_zero_like_go(text):
    # apimachinery quantity.go parseQuantityString: a string of only a sign returns num "0"
    # ("strip leading zeros" runs off the end), and "if we stripped all numerator positions,
    # always return 0" covers "." and a bare suffix such as "Gi".
    assert parse_quantity(text) == 0


# Canonical forms past the suffix tables. The first rows are transcribed from
# staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go (TestQuantityAsInt64...,
# the "canonical" column, kubernetes/apimachinery eed236ce); the rows past E and Ei are the
# examples of kubernetes/kubernetes pull request #140459, which makes String() fall back to
# the decimal-exponent form where no suffix exists (before it, "1000E" printed as "1").
@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1000000000000000000", "1E"),
        ("1.0E", "1E"),
        ("10000000000000000000", "10E"),
        ("10000000000000000000000m", "10E"),
        ("9223372036854775808.1", "9223372036854775808100m"),
        ("-10000000000000000000.0", "-10E"),
        ("1000E", "1e21"),
        ("5000E", "5e21"),
        ("1000000E", "1e24"),
    ],
)
def test_canonical_past_the_suffix_tables(text, canonical):
    assert str(parse_quantity(text)) == canonical


def test_format_past_e_and_ei_uses_the_exponent_form():
    # issue 12 item 2.4: apimachinery prints 10^21 in DecimalSI as "1e21", not "1000E"
    assert format_quantity(10**21, format="DecimalSI") == "1e21"
    assert format_quantity(10**20, format="DecimalSI") == "100E"
    # PR #140459's BinarySI regression: 2^70 has no binary suffix and no trailing decimal
    # zeros, so it prints as the exact integer
    assert format_quantity(2**70) == "1180591620717411303424"
    assert format_quantity(3 * 2**60) == "3Ei"
