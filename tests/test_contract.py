"""The shared contract: the Result type, the validation rules, the CLI writer and sweep's inputs."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from k8smodel import Result, sweep
from k8smodel._output import emit
from k8smodel._validate import (
    check_budget,
    check_choice,
    check_int,
    check_probability,
    check_real,
    check_vector,
)


def _result(**extra):
    summary = pd.DataFrame(
        {"mean_s": [1.5, math.inf], "method": ["a", "b"], "exact": [True, False]}
    )
    return Result(summary=summary, params={"pods": 2}, notes=("assumed x",), **extra)


def test_result_requires_method_and_exact():
    with pytest.raises(ValueError, match="missing \\['exact'\\]"):
        Result(summary=pd.DataFrame({"method": ["x"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        Result(summary={"method": "x", "exact": True})


def test_result_views_are_machine_readable():
    res = _result()
    data = json.loads(res.to_json())
    assert data["summary"][0] == {"mean_s": 1.5, "method": "a", "exact": True}
    assert data["summary"][1]["mean_s"] is None  # inf is not JSON
    assert data["params"] == {"pods": 2} and data["notes"] == ["assumed x"]
    assert "assumed x" in res._repr_html_() and "assumed x" in repr(res)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: check_int(2.0, "pods", minimum=1), TypeError),
        (lambda: check_int(True, "pods", minimum=1), TypeError),
        (lambda: check_int("3", "pods", minimum=1), TypeError),
        (lambda: check_int(0, "pods", minimum=1), ValueError),
        (lambda: check_int(5, "pods", maximum=4), ValueError),
        (lambda: check_real("0.5", "utilization"), TypeError),
        (lambda: check_real(True, "utilization"), TypeError),
        (lambda: check_real(math.nan, "utilization"), ValueError),
        (lambda: check_real(math.inf, "utilization"), ValueError),
        (lambda: check_real(1.0, "utilization", maximum=1, upper_open=True), ValueError),
        (lambda: check_real(0.0, "rate", minimum=0, lower_open=True), ValueError),
        (lambda: check_probability(1.2, "p"), ValueError),
        (lambda: check_choice("x", "policy", ["a", "b"]), ValueError),
        (lambda: check_choice(1, "policy", ["a", "b"]), TypeError),
        (lambda: check_vector("ab", "weights"), TypeError),
        (lambda: check_vector([True, False], "weights"), TypeError),
        (lambda: check_vector([[1, 2]], "weights"), ValueError),
        (lambda: check_vector([1, 2], "weights", size=3), ValueError),
        (lambda: check_vector([], "weights"), ValueError),
        (lambda: check_vector([1, math.nan], "weights"), ValueError),
        (lambda: check_vector([-1, 1], "weights", minimum=0), ValueError),
        (lambda: check_vector([0, 1], "weights", minimum=0, lower_open=True), ValueError),
        (lambda: check_vector([1.5], "weights", integer=True), ValueError),
        (lambda: check_budget(2**33, "x", limit_bytes=2**32), ValueError),
    ],
)
def test_validation_kind_and_message(call, error):
    with pytest.raises(error) as info:
        call()
    text = str(info.value)
    assert any(
        word in text for word in ("pods", "utilization", "rate", "p ", "policy", "weights", "x")
    )
    assert "must" in text or "needs" in text


def test_validation_accepts_and_converts():
    assert check_int(np.int64(3), "pods", minimum=1) == 3
    assert check_real(np.float32(0.5), "u") == 0.5
    assert check_real(math.inf, "t", minimum=0, allow_inf=True) == math.inf
    np.testing.assert_array_equal(check_vector(np.array([1, 2]), "w"), [1.0, 2.0])


def test_emit_formats_carry_notes():
    res = _result()
    for fmt, needle in [
        ("table", "note: assumed x"),
        ("csv", "# note: assumed x"),
        ("json", '"assumed x"'),
    ]:
        out = io.StringIO()
        emit(res, fmt=fmt, notes=["extra"], out=out)
        assert needle in out.getvalue() and "extra" in out.getvalue()
    out = io.StringIO()
    emit(res, fmt="csv", out=out)
    body = pd.read_csv(io.StringIO(out.getvalue()), comment="#")
    assert list(body["method"]) == ["a", "b"]


def _model_result(pods, rng):
    value = rng.random()  # a user's model may use the Generator directly
    return Result(
        summary=pd.DataFrame(
            {
                "pods": [pods, pods],
                "kind": ["x", "y"],
                "value": [value, 2 * value],
                "method": "m",
                "exact": False,
            }
        )
    )


def test_sweep_takes_results_and_gives_generators():
    table = sweep(_model_result, {"pods": [2, 4]}, replications=2, rng=7, progress=False)
    assert len(table) == 8 and list(table.columns[:2]) == ["pods", "replication"]
    again = sweep(_model_result, {"pods": [2, 4]}, replications=2, rng=7, progress=False)
    pd.testing.assert_frame_equal(table, again)
    # every (point, rep) has its own stream
    assert table.groupby(["pods", "replication"])["value"].first().nunique() == 4
