import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import k8smodel
from k8smodel.lb.connections import random_connections_summary


def _noisy_model(a, b, rng):
    gen = np.random.default_rng(rng)
    return {"total": a + b, "noise": gen.random()}


def _failing_model(a, rng):
    if a == 2:
        raise ZeroDivisionError("boom")
    return {"x": a}


def _array_model(a, rng):
    return {"x": np.arange(3)}


GRID = {"connections": [4, 16], "pods": [2, 8], "replications": 50}


def test_grid_product_and_columns():
    df = k8smodel.sweep(
        _noisy_model, {"a": [1, 2, 3], "b": [10, 20]}, replications=2, rng=0, progress=False
    )
    assert len(df) == 12
    assert list(df.columns[:3]) == ["a", "b", "replication"]
    assert (df.total == df.a + df.b).all()
    assert df.noise.nunique() == 12  # one independent stream per (point, rep)


def test_dataframe_grid():
    grid = pd.DataFrame({"a": [1, 5], "b": [2, 2]})
    df = k8smodel.sweep(_noisy_model, grid, rng=0, progress=False)
    assert df.total.tolist() == [3, 7]


def test_same_seed_same_result_and_thread_pool_equal():
    serial = k8smodel.sweep(random_connections_summary, GRID, replications=3, rng=5, progress=False)
    again = k8smodel.sweep(random_connections_summary, GRID, replications=3, rng=5, progress=False)
    pd.testing.assert_frame_equal(serial, again)
    with ThreadPoolExecutor(3) as pool:
        threaded = k8smodel.sweep(
            random_connections_summary,
            GRID,
            replications=3,
            rng=5,
            executor=pool,
            progress=False,
            batch_size=1,
        )
    pd.testing.assert_frame_equal(serial, threaded)


def test_process_pool_equals_serial():
    serial = k8smodel.sweep(random_connections_summary, GRID, replications=2, rng=9, progress=False)
    with ProcessPoolExecutor(2) as pool:
        parallel = k8smodel.sweep(
            random_connections_summary, GRID, replications=2, rng=9, executor=pool, progress=False
        )
    pd.testing.assert_frame_equal(serial, parallel)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial():
    distributed = pytest.importorskip("distributed")
    serial = k8smodel.sweep(
        random_connections_summary, GRID, replications=3, rng=21, progress=False
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = k8smodel.sweep(
            random_connections_summary,
            GRID,
            replications=3,
            rng=21,
            executor=client.get_executor(),
            progress=False,
        )
    pd.testing.assert_frame_equal(serial, on_dask)


def test_empty_grid_is_an_error():
    with pytest.raises(ValueError, match="grid is empty"):
        k8smodel.sweep(_noisy_model, {}, progress=False)
    with pytest.raises(ValueError, match=r"grid\['a'\] is empty"):
        k8smodel.sweep(_noisy_model, {"a": [], "b": [1]}, progress=False)
    with pytest.raises(ValueError, match="replications"):
        k8smodel.sweep(_noisy_model, {"a": [1], "b": [1]}, replications=0, progress=False)


def test_failing_model_names_the_point():
    with pytest.raises(
        k8smodel.SweepError, match=r"(?s)point \{'a': 2\}, replication 0.*ZeroDivisionError"
    ):
        k8smodel.sweep(_failing_model, {"a": [1, 2, 3]}, rng=0, progress=False)
    with ThreadPoolExecutor(2) as pool, pytest.raises(k8smodel.SweepError, match=r"'a': 2"):
        k8smodel.sweep(_failing_model, {"a": [1, 2, 3]}, rng=0, executor=pool, progress=False)


def test_non_scalar_output_names_the_point():
    with pytest.raises(
        k8smodel.SweepError, match=r"(?s)non-scalar outputs at point \{'a': 1\}.*'x'"
    ):
        k8smodel.sweep(_array_model, {"a": [1]}, progress=False)


_STARTED: list[int] = []


def _first_fails_then_slow(a, rng):
    _STARTED.append(a)
    if a == 0:
        raise ValueError("first point fails")
    time.sleep(0.05)
    return {"x": a}


def _sleepy_model(a, rng):
    time.sleep(0.3)
    return {"x": a}


def _dying_model(a, rng):
    os._exit(3)  # a lost worker, as a Dask KilledWorker or an OOM kill leaves it


def test_failure_cancels_queued_points():
    # the issue: after the model raised, 11 of 11 points still ran
    _STARTED.clear()
    with ThreadPoolExecutor(1) as pool, pytest.raises(k8smodel.SweepError, match="'a': 0"):
        k8smodel.sweep(
            _first_fails_then_slow,
            {"a": list(range(11))},
            rng=0,
            executor=pool,
            batch_size=1,
            progress=False,
        )
    assert len(_STARTED) <= 2  # the failing point and at most the one already running


def test_timeout_fails_loudly_and_cancels():
    _STARTED.clear()
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(k8smodel.SweepError, match=r"timeout_s=0.5: \d of 10 runs done"):
            k8smodel.sweep(
                _sleepy_model,
                {"a": list(range(10))},
                executor=pool,
                batch_size=1,
                timeout_s=0.5,
                progress=False,
            )
    with pytest.raises(k8smodel.SweepError, match="timeout_s"):
        k8smodel.sweep(_sleepy_model, {"a": list(range(10))}, timeout_s=0.5, progress=False)
    with pytest.raises(ValueError, match="timeout_s must be"):
        k8smodel.sweep(_sleepy_model, {"a": [1]}, timeout_s=0, progress=False)


def test_lost_worker_fails_loudly():
    with (
        ProcessPoolExecutor(1) as pool,
        pytest.raises(k8smodel.SweepError, match="executor failed"),
    ):
        k8smodel.sweep(_dying_model, {"a": [1, 2]}, executor=pool, timeout_s=60, progress=False)
