"""Parameter sweeps over any :class:`concurrent.futures.Executor`.

A sweep runs ``model(**point, rng=child)`` for every point of a grid and every
replication, and gathers the outputs into one tidy DataFrame. Each
(point, replication) gets its own child :class:`numpy.random.SeedSequence`,
spawned in a fixed order from the root seed before any work is handed out, so
the numbers are bit-identical whether the sweep runs serially, in a process
pool or on a Dask cluster (``client.get_executor()``).
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, as_completed
from concurrent.futures import TimeoutError as futures_timeout
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, spawn_seeds
from k8smodel._validate import check_budget, check_int, check_real
from k8smodel.result import Result

__all__ = ["sweep", "SweepError"]

# How many batches each worker should get: enough to balance uneven points,
# few enough that per-task overhead stays small for fast models.
_BATCHES_PER_WORKER = 8
#: Bytes one (point, replication) task holds before it runs: its seed, point and output row.
_TASK_BYTES = 2048


class SweepError(RuntimeError):
    """A sweep point failed; the message names the point, the replication and the cause."""


@dataclass(frozen=True)
class _Task:
    index: int
    point: dict
    replication: int
    seed: np.random.SeedSequence


def _grid_points(grid) -> list[dict]:
    """Expand ``grid`` (a dict of lists, or a DataFrame of rows) into a list of points."""
    if isinstance(grid, pd.DataFrame):
        if grid.empty:
            raise ValueError("grid is an empty DataFrame; give at least one row of parameters")
        return grid.to_dict(orient="records")
    if not isinstance(grid, Mapping):
        raise TypeError(
            f"grid must be a dict of lists or a pandas DataFrame; got {type(grid).__name__}"
        )
    if not grid:
        raise ValueError("grid is empty; give at least one parameter, e.g. {'pods': [2, 4]}")
    names, axes = [], []
    for name, values in grid.items():
        if not isinstance(name, str):
            raise TypeError(f"grid keys must be parameter names (str); got {name!r}")
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            values = [values]  # a scalar is a parameter held fixed
        values = list(values)
        if not values:
            raise ValueError(f"grid[{name!r}] is empty; give at least one value")
        names.append(name)
        axes.append(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]


def _is_scalar(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    return value is None or isinstance(value, numbers.Number | str | bool | np.generic)


def _check_output(output, task: _Task) -> list[dict]:
    """The model's output as rows: a dict of scalars is one row, a Result or DataFrame its rows."""
    where = f"point {task.point}, replication {task.replication}"
    if isinstance(output, Result):
        output = output.summary
    if isinstance(output, pd.Series):
        output = output.to_dict()
    rows = output.to_dict(orient="records") if isinstance(output, pd.DataFrame) else [output]
    if not rows or not all(isinstance(row, Mapping) for row in rows):
        raise SweepError(
            "model must return a dict of scalars, a k8smodel Result or a DataFrame; "
            f"at {where} it returned {type(output).__name__}"
        )
    checked = []
    for row in rows:
        bad = {k: type(v).__name__ for k, v in row.items() if not _is_scalar(v)}
        if bad:
            raise SweepError(
                f"model returned non-scalar outputs at {where}: {bad}; return scalars only"
            )
        checked.append(
            {k: (v.item() if isinstance(v, np.ndarray | np.generic) else v) for k, v in row.items()}
        )
    return checked


def _run_batch(
    model: Callable[..., Mapping], tasks: list[_Task]
) -> list[tuple[int, list[dict] | None, str | None]]:
    """Run a batch of tasks in a worker; errors come back as text (tracebacks do not pickle)."""
    results: list[tuple[int, list[dict] | None, str | None]] = []
    for task in tasks:
        try:
            rng = np.random.default_rng(task.seed)
            output = _check_output(model(**task.point, rng=rng), task)
        except SweepError as exc:
            return results + [(task.index, None, str(exc))]
        except Exception:  # noqa: BLE001 -- any model failure is reported with its point
            message = (
                f"model {getattr(model, '__name__', model)!s} failed at point {task.point}, "
                f"replication {task.replication}:\n{traceback.format_exc()}"
            )
            return results + [(task.index, None, message)]
        results.append((task.index, output, None))
    return results


def _worker_count(executor: Executor | None) -> int:
    if executor is None:
        return 1
    return getattr(executor, "_max_workers", None) or os.cpu_count() or 1


def _batches(tasks: list[_Task], size: int) -> list[list[_Task]]:
    """Batches of at most ``size`` tasks, dealt out in turn.

    Neighbouring grid points (often of similar cost, e.g. one slow policy at every
    utilization) land in different batches, so batches cost about the same and no worker
    is left with the slow tail.
    """
    count = math.ceil(len(tasks) / size)
    return [tasks[i::count] for i in range(count)]


def sweep(
    model: Callable[..., Mapping],
    grid: Mapping[str, Any] | pd.DataFrame,
    *,
    replications: int = 1,
    rng: RngLike = None,
    executor: Executor | None = None,
    progress: bool = True,
    batch_size: int | None = None,
    timeout_s: float | None = None,
) -> pd.DataFrame:
    """Run ``model`` over a parameter grid and return one tidy DataFrame.

    Parameters
    ----------
    model : callable
        ``model(**point, rng=generator)`` returning a dict of scalars, a
        :class:`k8smodel.Result` (its summary rows) or a DataFrame. ``rng``
        receives a fresh :class:`numpy.random.Generator` built from the task's
        own child seed, so ``rng.random()`` works in a user's model and no two
        tasks share a stream. For a process pool or Dask, ``model`` must be
        importable (a module-level function, not one defined in a notebook).
    grid : dict or pandas.DataFrame
        A dict of parameter name to list of values (the Cartesian product is
        swept; a scalar value is held fixed), or a DataFrame whose rows are
        the points.
    replications : int, default 1
        Independent replications per point, each with its own seed.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Root seed; child ``i`` goes to task ``i`` in (point, replication) order.
    executor : concurrent.futures.Executor or None
        ``None`` runs serially in this process; any Executor works, e.g.
        :class:`~concurrent.futures.ProcessPoolExecutor` or a Dask
        ``client.get_executor()``.
    progress : bool, default True
        Show a progress bar (tqdm, notebook-aware) when the sweep takes longer
        than two seconds.
    batch_size : int, optional
        Tasks per submitted batch; by default about eight batches per worker.
    timeout_s : float, optional
        Give up when the whole sweep has not finished after this many seconds: the
        batches not started are cancelled and :class:`SweepError` says how many runs
        finished. With an executor the wait itself times out (a lost Dask worker or a
        hung pool fails loudly instead of blocking); run serially, the deadline is
        checked between runs.

    Returns
    -------
    pandas.DataFrame
        One row per (point, replication, output row) in grid order: the parameter
        columns, ``replication``, then the model's outputs.

    Raises
    ------
    ValueError
        For an empty grid, ``replications < 1`` or an output named like a parameter.
    SweepError
        When the model raises or returns something other than a dict of
        scalars (the message names the point and the replication; batches not yet
        started are cancelled), when an executor fails (e.g. Dask's ``KilledWorker``)
        or when ``timeout_s`` passes.
    """
    replications = check_int(replications, "replications", minimum=1)
    if not callable(model):
        raise TypeError(f"model must be callable; got {type(model).__name__}")
    points = _grid_points(grid)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
    if timeout_s is not None:
        timeout_s = check_real(timeout_s, "timeout_s", minimum=0, lower_open=True)
    check_budget(
        float(len(points)) * replications * _TASK_BYTES,
        f"{len(points)} points x replications={replications}",
        remedy="use fewer replications per point (or sweep in parts)",
    )
    seeds = spawn_seeds(rng, len(points) * replications)
    tasks = [
        _Task(
            index=i * replications + r, point=point, replication=r, seed=seeds[i * replications + r]
        )
        for i, point in enumerate(points)
        for r in range(replications)
    ]
    if batch_size is None:
        batch_size = max(1, math.ceil(len(tasks) / (_worker_count(executor) * _BATCHES_PER_WORKER)))
        if executor is None:
            batch_size = 1  # serial: per-task overhead is nil, and progress stays fine-grained
    outputs = _execute(
        model, _batches(tasks, batch_size), len(tasks), executor, progress, timeout_s
    )
    return _tidy(tasks, outputs)


def _serial(model, batches, deadline: float | None, state: dict) -> Iterator[list]:
    for batch in batches:
        if deadline is not None and time.monotonic() > deadline:
            raise futures_timeout()
        yield _run_batch(model, batch)


def _pooled(executor, model, batches, timeout_s, state: dict) -> Iterator[list]:
    futures = [executor.submit(_run_batch, model, batch) for batch in batches]
    state["futures"] = futures
    for future in as_completed(futures, timeout=timeout_s):
        try:
            yield future.result()
        except Exception as exc:  # noqa: BLE001 -- a worker lost (KilledWorker), a broken pool
            raise SweepError(
                f"the executor failed: {type(exc).__name__}: {exc}; the sweep was stopped"
            ) from exc


def _execute(model, batches, n_tasks, executor, progress, timeout_s=None) -> list[list[dict]]:
    from tqdm.auto import tqdm

    outputs: list[list[dict] | None] = [None] * n_tasks
    bar = tqdm(total=n_tasks, desc="sweep", unit="run", disable=not progress, delay=2.0)
    state: dict[str, Any] = {"futures": []}
    done = 0
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        if executor is None:
            finished = _serial(model, batches, deadline, state)
        else:
            finished = _pooled(executor, model, batches, timeout_s, state)
        for batch_results in finished:
            for index, output, error in batch_results:
                if error is not None:
                    raise SweepError(error)
                outputs[index] = output
            done += len(batch_results)
            bar.update(len(batch_results))
    except futures_timeout:
        raise SweepError(
            f"the sweep did not finish within timeout_s={timeout_s}: {done} of {n_tasks} runs "
            "done; the rest were cancelled (a worker may be lost or a model may hang)"
        ) from None
    finally:
        # stop what has not started: after a failure the queued points must not run
        for future in state["futures"]:
            future.cancel()
        bar.close()
    return [output or [] for output in outputs]


def _tidy(tasks: list[_Task], outputs: list[list[dict]]) -> pd.DataFrame:
    rows = []
    for task, output in zip(tasks, outputs, strict=True):
        for row in output:
            clash = {
                k
                for k in set(row) & (set(task.point) | {"replication"})
                if row[k] != task.point.get(k)
            }
            if clash:
                raise ValueError(
                    f"model outputs {sorted(clash)} have the names of parameters; rename them"
                )
            rows.append({**row, **task.point, "replication": task.replication})
    columns = list(tasks[0].point) + ["replication"]
    table = pd.DataFrame(rows)
    return table[columns + [c for c in table.columns if c not in columns]]
