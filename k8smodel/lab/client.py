"""An open-loop Poisson client for loopback HTTP: bounded requests, bounded connections."""

from __future__ import annotations

import asyncio
import concurrent.futures
import numbers
import time

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_real

__all__ = ["poisson_arrivals", "run_client", "CLIENT_COLUMNS"]

#: Columns of the DataFrame :func:`run_client` returns.
CLIENT_COLUMNS = (
    "request",  # index in arrival order
    "scheduled_s",  # planned send time from the start of the run
    "lag_s",  # how late the client actually started it
    "latency_s",  # connect + request + full response, at the client
    "pod",  # which pod answered (X-Pod), -1 on failure
    "sojourn_s",  # time the request spent in the pod (X-Sojourn-Us)
    "wait_s",  # of which waiting in the pod's queue
    "service_s",  # of which in service (as the pod measured it)
    "status",  # "ok", "shed" (in-flight limit), "error", "timeout"
)


def poisson_arrivals(rate_per_s: float, requests: int, *, rng: RngLike = None) -> np.ndarray:
    """Arrival times (seconds from 0) of ``requests`` Poisson arrivals at ``rate_per_s``.

    Exponential gaps with mean ``1 / rate_per_s``, drawn in one call and cumulated.

    Parameters
    ----------
    rate_per_s : float
        Arrival rate (requests per second), positive.
    requests : int
        Number of arrivals, ``>= 1``.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    numpy.ndarray
        Non-decreasing arrival times in seconds, length ``requests``.
    """
    if not (np.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError(f"rate_per_s must be a positive finite rate; got {rate_per_s!r}")
    if not isinstance(requests, numbers.Integral) or requests < 1:
        raise ValueError(f"requests must be an integer >= 1; got {requests!r}")
    return np.cumsum(as_generator(rng).exponential(1.0 / rate_per_s, size=int(requests)))


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


async def _one(port: int, timeout_s: float, row: dict) -> None:
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.0\r\nHost: lab\r\nUser-Agent: k8smodel-lab\r\n\r\n")
            await writer.drain()
            data = await reader.read()
        row["latency_s"] = time.perf_counter() - started
        head = data.partition(b"\r\n\r\n")[0]
        pod = _header(head, b"x-pod")
        status_line = head.split(b"\r\n", 1)[0]
        if not status_line.startswith(b"HTTP/1.") or b" 200 " not in status_line or pod is None:
            row["status"] = "error"
            return
        micros = [_header(head, key) for key in (b"x-sojourn-us", b"x-wait-us", b"x-service-us")]
        sojourn, wait, service = (int(v) if v is not None else -1 for v in micros)
        if min(sojourn, wait, service) < 0:  # a pod always sends all three
            row["status"] = "error"
            return
        row["pod"] = int(pod)
        row["sojourn_s"] = sojourn / 1e6
        row["wait_s"] = wait / 1e6
        row["service_s"] = service / 1e6
        row["status"] = "ok"
    except TimeoutError:
        row["status"] = "timeout"
    except (OSError, ValueError, TypeError):
        row["status"] = "error"
    finally:
        if writer is not None:
            writer.close()


def _empty_row(i: int, at: float) -> dict:
    return {
        "request": i,
        "scheduled_s": float(at),
        "lag_s": np.nan,
        "latency_s": np.nan,
        "pod": -1,
        "sojourn_s": np.nan,
        "wait_s": np.nan,
        "service_s": np.nan,
        "status": "shed",
    }


async def _drive(port, arrivals, max_in_flight, timeout_s, max_duration_s) -> list[dict]:
    rows = []
    tasks = set()
    in_flight = 0
    t0 = time.perf_counter()

    async def tracked(row):
        nonlocal in_flight
        try:
            await _one(port, timeout_s, row)
        finally:
            in_flight -= 1

    for i, at in enumerate(arrivals):
        row = _empty_row(i, at)
        rows.append(row)
        # never sleep past the deadline: the rest of the schedule is not waited for
        delay = min(at, max_duration_s) - (time.perf_counter() - t0)
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter() - t0
        if now > max_duration_s or at > max_duration_s:
            row["status"] = "timeout"
            rows.extend(
                {**_empty_row(j, later), "status": "timeout"}
                for j, later in enumerate(arrivals[i + 1 :], start=i + 1)
            )
            break
        row["lag_s"] = now - at
        if in_flight >= max_in_flight:
            continue  # open loop: a request over the limit is shed, never delayed
        in_flight += 1
        task = asyncio.create_task(tracked(row))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        remaining = max(0.1, max_duration_s - (time.perf_counter() - t0))
        done, pending = await asyncio.wait(set(tasks), timeout=remaining)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return rows


def run_client(
    port: int,
    *,
    rate_per_s: float,
    requests: int,
    max_in_flight: int = 256,
    timeout_s: float = 30.0,
    max_duration_s: float | None = None,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Send ``requests`` GET requests to 127.0.0.1:``port`` at Poisson times; record each.

    Open loop: each request is sent at its planned time whatever happened to the earlier
    ones (a new TCP connection each, HTTP/1.0). Requests that would exceed
    ``max_in_flight`` open connections are shed and recorded as such, never delayed.

    Parameters
    ----------
    port : int
        The balancer's port on 127.0.0.1.
    rate_per_s : float
        Arrival rate.
    requests : int
        Number of requests (the run is bounded by it).
    max_in_flight : int, default 256
        Bound on open connections.
    timeout_s : float, default 30
        Per-request timeout.
    max_duration_s : float, optional
        Hard bound on the run; default ``2 * requests / rate_per_s + timeout_s``.
    rng : int, Generator, SeedSequence or None
        Randomness for the arrival times.

    Returns
    -------
    pandas.DataFrame
        One row per request, columns :data:`CLIENT_COLUMNS` (times in seconds).
    """
    if not isinstance(port, numbers.Integral) or not 0 < port < 65536:
        raise ValueError(f"port must be an integer in 1..65535; got {port!r}")
    if not isinstance(max_in_flight, numbers.Integral) or max_in_flight < 1:
        raise ValueError(f"max_in_flight must be an integer >= 1; got {max_in_flight!r}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive; got {timeout_s!r}")
    if max_duration_s is not None:
        max_duration_s = check_real(max_duration_s, "max_duration_s", minimum=0, lower_open=True)
    arrivals = poisson_arrivals(rate_per_s, requests, rng=rng)
    if max_duration_s is None:
        max_duration_s = 2.0 * requests / rate_per_s + timeout_s
    coro = _drive(int(port), arrivals, int(max_in_flight), float(timeout_s), float(max_duration_s))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        rows = asyncio.run(coro)
    else:  # called from a running loop (a notebook): run in a thread of its own
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            rows = pool.submit(asyncio.run, coro).result()
    frame = pd.DataFrame(rows, columns=list(CLIENT_COLUMNS))
    frame["pod"] = frame["pod"].astype(int)
    return frame
