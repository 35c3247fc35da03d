"""Compiled control loops: the HPA and the KPA driving a pool of pods, one tick at a time.

Both kernels run over replications in an outer loop and over ticks of ``dt`` seconds inside;
every random input (arrival counts, start-up delays, controller phases) arrives as an array.
The queue is a fluid FIFO shared by the ready pods (capacity ``mu`` requests per second
each); the per-request waiting time comes from the cumulative arrival and departure curves.
Rules come from :mod:`k8smodel.autoscale.semantics`, the same functions the tests check.

Numba's on-disk cache keys a kernel on this file only: after editing a rule in
``semantics.py`` in a development checkout, delete ``k8smodel/autoscale/__pycache__/*.nb?``
so the kernels recompile with it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from k8smodel.autoscale.semantics import (
    _convert_with_rate,
    _down_limit,
    _histogram_windows,
    _kpa_scale,
    _legacy_convert,
    _legacy_stabilize,
    _stabilize,
    _up_limit,
    uniform_replica_count,
)

NOT_READY = 1e18


@njit(cache=True)
def _count_ready(ready_t, n, t):
    c = 0
    for i in range(n):
        if ready_t[i] <= t:
            c += 1
    return c


@njit(cache=True)
def _resize(ready_t, n, want, t, startup, draw):
    """Add pods (ready after a start-up draw) or remove the least ready ones first."""
    if want > n:
        for i in range(n, want):
            ready_t[i] = t + startup[draw[0] % startup.size]
            draw[0] += 1
    elif want < n:
        ready_t[:n] = np.sort(ready_t[:n])
    return want


@njit(cache=True)
def _queue_tick(backlog, arrivals, ready, mu, dt):
    """Serve up to ``ready x mu x dt`` of the backlog; return (backlog, served)."""
    backlog += arrivals
    served = min(backlog, ready * mu * dt)
    return backlog - served, served


@njit(cache=True)
def tail_rate(rho, mu, slots):
    """Rate of the exponential in-pod response: min(mu / slots, mu (1 - rho)).

    One slot gives the M/M/1 response; many slots give the plain service time until heavy
    traffic, where the M/M/c wait takes over with the same rate mu (1 - rho).
    """
    return min(mu / slots, mu * (1.0 - min(rho, 0.95)))


@njit(cache=True)
def _in_pods(served, ready, mu, dt, slots):
    """Requests inside the pods by Little's law: arrival rate x mean in-pod response."""
    if ready <= 0:
        return 0.0
    rho = served / (ready * mu * dt)
    return ready * rho * mu / tail_rate(rho, mu, slots)


@njit(cache=True)
def _window_sum(x, k_from, k_to):
    s = 0.0
    for j in range(max(k_from, 0), k_to):
        s += x[j]
    return s


@njit(cache=True)
def hpa_kernel(
    arrivals,
    startup,
    phases,
    control_from,
    dt,
    mu,
    initial,
    min_r,
    max_r,
    metric_code,
    target,
    tol_down,
    tol_up,
    sync_s,
    resolution_s,
    busy_percent,
    behavior,
    up_ptype,
    up_pvalue,
    up_pperiod,
    up_select,
    up_window,
    dn_ptype,
    dn_pvalue,
    dn_pperiod,
    dn_select,
    dn_window,
    legacy_window,
):
    """HPA loop. metric_code: 0 resource (utilization %), 1 Pods (value per pod), 2 total value.

    Returns pods, ready, served, backlog (each R x T) and the start-up draws used per run.
    """
    n_rep, n_t = arrivals.shape
    pods = np.zeros((n_rep, n_t), np.int64)
    ready_out = np.zeros((n_rep, n_t), np.int64)
    served_out = np.zeros((n_rep, n_t))
    backlog_out = np.zeros((n_rep, n_t))
    draws_used = np.zeros(n_rep, np.int64)
    hist = int(math.ceil(max(up_window, dn_window, legacy_window) / sync_s)) + 2
    longest = 0.0
    for p in up_pperiod:
        longest = max(longest, p)
    for p in dn_pperiod:
        longest = max(longest, p)
    n_ev_max = int(math.ceil(longest / sync_s)) + 2
    for r in range(n_rep):
        ready_t = np.full(max_r + 1, NOT_READY)
        ready_t[:initial] = -1e9
        n = initial
        draw = np.zeros(1, np.int64)
        rec_t = np.zeros(hist)
        rec_v = np.zeros(hist, np.int64)
        # recordInitialRecommendation: the current scale is the first recommendation
        rec_t[0] = control_from
        rec_v[0] = initial
        n_rec = 1
        up_t = np.zeros(n_ev_max)
        up_c = np.zeros(n_ev_max, np.int64)
        dn_t = np.zeros(n_ev_max)
        dn_c = np.zeros(n_ev_max, np.int64)
        n_up = 0
        n_dn = 0
        next_sync = phases[r, 0]
        next_scrape = phases[r, 1]
        sample = -1.0
        sample_ts = -1e9
        backlog = 0.0
        for k in range(n_t):
            t = k * dt
            # metrics-server scrape: the rate over the last resolution window
            while next_scrape <= t:
                k0 = int(math.floor((next_scrape - resolution_s) / dt + 1e-9))
                k1 = int(math.floor(next_scrape / dt + 1e-9))
                pod_s = _window_sum_int(ready_out[r], k0, k1) * dt
                if metric_code == 0:
                    sample = (
                        100.0
                        * busy_percent
                        / 100.0
                        * _window_sum(served_out[r], k0, k1)
                        / (mu * pod_s)
                        if pod_s > 0
                        else -1.0
                    )
                elif metric_code == 1:
                    sample = _window_sum(arrivals[r], k0, k1) / pod_s if pod_s > 0 else -1.0
                else:
                    sample = _window_sum(arrivals[r], k0, k1) / resolution_s
                sample_ts = next_scrape
                next_scrape += resolution_s
            # controller sync
            while next_sync <= t:
                now = next_sync
                next_sync += sync_s
                if now < control_from or sample < 0 or (n == 0 and min_r != 0):
                    continue
                if metric_code == 2:
                    proposal = _total_value_replicas(n, sample, target, tol_down, tol_up)
                else:
                    counted = 0
                    late = 0
                    pending = 0
                    for i in range(n):
                        if ready_t[i] <= sample_ts - resolution_s:
                            counted += 1
                        elif ready_t[i] <= now:
                            late += 1
                        else:
                            pending += 1
                    if metric_code == 0:  # late pods: inside the CPU initialization period
                        proposal = uniform_replica_count(
                            n, sample, counted, pending + late, 0, target, True, tol_down, tol_up
                        )
                    else:  # late pods have no full sample yet: missing
                        proposal = uniform_replica_count(
                            n, sample, counted, pending, late, target, False, tol_down, tol_up
                        )
                    if proposal < 0:
                        continue
                if n > max_r:
                    desired = max_r
                elif n < min_r:
                    desired = min_r
                elif behavior:
                    if n_rec == hist:
                        rec_t[:-1] = rec_t[1:]
                        rec_v[:-1] = rec_v[1:]
                        n_rec -= 1
                    stab = _stabilize(now, n, proposal, rec_t, rec_v, n_rec, up_window, dn_window)
                    rec_t[n_rec] = now
                    rec_v[n_rec] = proposal
                    n_rec += 1
                    ul = _up_limit(
                        n,
                        now,
                        up_t,
                        up_c,
                        n_up,
                        dn_t,
                        dn_c,
                        n_dn,
                        up_ptype,
                        up_pvalue,
                        up_pperiod,
                        up_select,
                    )
                    dl = _down_limit(
                        n,
                        now,
                        up_t,
                        up_c,
                        n_up,
                        dn_t,
                        dn_c,
                        n_dn,
                        dn_ptype,
                        dn_pvalue,
                        dn_pperiod,
                        dn_select,
                    )
                    desired, _code = _convert_with_rate(n, stab, min_r, max_r, ul, dl)
                else:
                    if n_rec == hist:
                        rec_t[:-1] = rec_t[1:]
                        rec_v[:-1] = rec_v[1:]
                        n_rec -= 1
                    stab = _legacy_stabilize(now, proposal, rec_t, rec_v, n_rec, legacy_window)
                    rec_t[n_rec] = now
                    rec_v[n_rec] = proposal
                    n_rec += 1
                    desired = _legacy_convert(n, stab, min_r, max_r)
                if desired != n:
                    if behavior and desired > n:
                        n_up = _push(up_t, up_c, n_up, now, desired - n)
                    elif behavior:
                        n_dn = _push(dn_t, dn_c, n_dn, now, n - desired)
                    n = _resize(ready_t, n, desired, now, startup[r], draw)
            ready = _count_ready(ready_t, n, t)
            backlog, served = _queue_tick(backlog, arrivals[r, k], ready, mu, dt)
            pods[r, k] = n
            ready_out[r, k] = ready
            served_out[r, k] = served
            backlog_out[r, k] = backlog
        draws_used[r] = draw[0]
    return pods, ready_out, served_out, backlog_out, draws_used


@njit(cache=True)
def _window_sum_int(x, k_from, k_to):
    s = 0
    for j in range(max(k_from, 0), k_to):
        s += x[j]
    return s


@njit(cache=True)
def _push(times, changes, count, now, change):
    """Append a scale event, dropping the oldest when the buffer (longest period) is full."""
    if count == times.size:
        times[:-1] = times[1:]
        changes[:-1] = changes[1:]
        count -= 1
    times[count] = now
    changes[count] = change
    return count + 1


@njit(cache=True)
def _total_value_replicas(current, usage, target_per_pod, tol_down, tol_up):
    """``GetExternalPerPodMetricReplicas``/``GetObjectPerPodMetricReplicas``."""
    if current == 0:
        return int(math.ceil(usage / target_per_pod))
    ratio = usage / (target_per_pod * current)
    if (1.0 - tol_down) <= ratio <= (1.0 + tol_up):
        return current
    return int(math.ceil(usage / target_per_pod))


@njit(cache=True)
def kpa_kernel(
    arrivals,
    startup,
    phases,
    control_from,
    dt,
    mu,
    initial,
    min_s,
    max_s,
    use_rps,
    target_value,
    panic_threshold,
    up_rate,
    down_rate,
    activation_scale,
    stable_window,
    panic_window,
    tick_s,
    zero_enabled,
    zero_delay,
    delay_window,
    slots,
):
    """KPA loop with the activator: requests wait in the backlog while no pod is ready."""
    n_rep, n_t = arrivals.shape
    pods = np.zeros((n_rep, n_t), np.int64)
    ready_out = np.zeros((n_rep, n_t), np.int64)
    served_out = np.zeros((n_rep, n_t))
    backlog_out = np.zeros((n_rep, n_t))
    draws_used = np.zeros(n_rep, np.int64)
    k_stable = max(1, int(round(stable_window / dt)))
    k_panic = max(1, int(round(panic_window / dt)))
    n_delay = int(math.ceil(delay_window / tick_s)) + 1
    for r in range(n_rep):
        ready_t = np.full(max_s + 1, NOT_READY)
        ready_t[:initial] = -1e9
        n = initial
        draw = np.zeros(1, np.int64)
        conc = np.zeros(n_t)
        next_tick = phases[r, 0]
        panic_time = -1.0
        max_panic = 0
        inactive_since = -1.0
        active_since = -1e9
        delay_v = np.zeros(n_delay, np.int64)
        delay_t = np.full(n_delay, -1e18)
        backlog = 0.0
        for k in range(n_t):
            t = k * dt
            poke = n == 0 and arrivals[r, k] > 0 and t >= control_from
            while next_tick <= t or poke:
                now = t if poke else next_tick
                if not poke:
                    next_tick += tick_s
                if now < control_from:
                    continue
                obs = conc if not use_rps else arrivals[r]
                stable = _window_sum(obs, k - k_stable, k) / (
                    k_stable * (1.0 if not use_rps else dt)
                )
                panic = _window_sum(obs, k - k_panic, k) / (k_panic * (1.0 if not use_rps else dt))
                if poke:  # the activator's stat: what it holds now counts at once
                    extra = backlog + arrivals[r, k]
                    panic = max(panic, extra)
                    stable = max(stable, extra / k_stable)
                ready = _count_ready(ready_t, n, now)
                desired, panic_time, max_panic = _kpa_scale(
                    now,
                    ready,
                    stable,
                    panic,
                    target_value,
                    panic_threshold,
                    up_rate,
                    down_rate,
                    True,
                    activation_scale,
                    stable_window,
                    panic_time,
                    max_panic,
                )
                if delay_window > 0:
                    delay_v[:-1] = delay_v[1:]
                    delay_t[:-1] = delay_t[1:]
                    delay_v[-1] = desired
                    delay_t[-1] = now
                    for i in range(n_delay):
                        if delay_t[i] > now - delay_window and delay_v[i] > desired:
                            desired = delay_v[i]
                if poke:
                    desired = max(desired, 1)
                desired = max(desired, min_s)
                desired = min(desired, max_s)
                poke = False
                if desired == 0:
                    if not zero_enabled:
                        desired = max(n, 1)
                    elif now - active_since < stable_window:
                        desired = max(1, min(n, 1))
                    else:
                        if inactive_since < 0:
                            inactive_since = now
                        if now - inactive_since < zero_delay:
                            continue
                else:
                    inactive_since = -1.0
                if n == 0 and desired > 0:
                    active_since = now
                if desired != n:
                    n = _resize(ready_t, n, desired, now, startup[r], draw)
            ready = _count_ready(ready_t, n, t)
            backlog, served = _queue_tick(backlog, arrivals[r, k], ready, mu, dt)
            conc[k] = backlog + _in_pods(served, ready, mu, dt, slots)
            pods[r, k] = n
            ready_out[r, k] = ready
            served_out[r, k] = served
            backlog_out[r, k] = backlog
        draws_used[r] = draw[0]
    return pods, ready_out, served_out, backlog_out, draws_used


@njit(cache=True)
def fifo_waits(arrivals, served, dt):
    """Fluid FIFO wait of the middle request of each tick (0 when the tick has none).

    The request at cumulative position m arrived at the time the arrival curve reached m and
    leaves when the departure curve does; both curves are linear inside a tick. A request
    still queued at the end gets ``inf``.
    """
    n_rep, n_t = arrivals.shape
    out = np.zeros((n_rep, n_t))
    for r in range(n_rep):
        a_cum = 0.0
        d_cum = 0.0
        j = 0
        for k in range(n_t):
            a = arrivals[r, k]
            if a <= 0:
                continue
            m = a_cum + 0.5 * a
            a_cum += a
            t_arr = (k + 0.5) * dt
            # advance the departure pointer until the departures pass m
            while j < n_t and d_cum + served[r, j] < m - 1e-12:
                d_cum += served[r, j]
                j += 1
            if j >= n_t:
                out[r, k] = np.inf
                continue
            s = served[r, j]
            frac = (m - d_cum) / s if s > 0 else 0.0
            out[r, k] = max(0.0, (j + frac) * dt - t_arr)
    return out


@njit(cache=True)
def keepalive_kernel(
    arrival_t,
    n_arr,
    cold_s,
    fixed_keep_s,
    use_histogram,
    bin_s,
    range_s,
    head_q,
    tail_q,
    margin,
    cv_threshold,
):
    """One application instance per run, requests of zero duration (Shahrad et al. 2020).

    Returns per run: cold starts, delayed requests (arrived while loading), total added
    latency, loaded pod-seconds.
    """
    n_rep = arrival_t.shape[0]
    nbins = int(math.ceil(range_s / bin_s))
    cold = np.zeros(n_rep, np.int64)
    delayed = np.zeros(n_rep, np.int64)
    added = np.zeros(n_rep)
    loaded = np.zeros(n_rep)
    for r in range(n_rep):
        counts = np.zeros(nbins)
        last_end = -1e18
        pre = 0.0
        keep = fixed_keep_s
        ready_at = -1e18
        for i in range(n_arr[r]):
            a = arrival_t[r, i]
            if a < ready_at:  # the instance is still loading: wait for it
                delayed[r] += 1
                added[r] += ready_at - a
                continue
            if last_end < -1e17:
                is_cold = True
            else:
                idle = a - last_end
                if idle < range_s:
                    counts[min(int(idle // bin_s), nbins - 1)] += 1.0
                is_cold = idle < pre or idle > pre + keep
                # memory held since the last request ended: up to the unload, or from the
                # pre-warm load to now
                if not is_cold:
                    loaded[r] += idle - pre
                elif pre == 0.0:
                    loaded[r] += keep
                elif idle > pre + keep:
                    loaded[r] += keep
            if is_cold:
                cold[r] += 1
                added[r] += cold_s
                loaded[r] += cold_s
                ready_at = a + cold_s
                last_end = ready_at
            else:
                last_end = a
            if use_histogram:
                pre, keep = _histogram_windows(
                    counts, bin_s, head_q, tail_q, margin, cv_threshold, range_s
                )
    return cold, delayed, added, loaded
