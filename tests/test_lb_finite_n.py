"""Finite-n theory for least connections and power of d (k8smodel.lb.finite_n).

Expected values come from sources independent of the code under test: a brute-force
Markov chain over the sorted vector of queue lengths written here (it enumerates every
sample of ``d`` pods explicitly), closed forms (M/M/1, M/M/2, Mitzenmacher's fixed point)
and the project's event simulator.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import linalg

from k8smodel.lb import finite_n
from k8smodel.lb.finite_n import (
    finite_n_mean_response,
    pooled_floor_mean_response,
    qbd_mean_response,
    refined_mean_field_mean_response,
)

# --------------------------------------------------------------------------------------------
# An independent reference: the full sorted-state chain, truncated at a longest queue


def _samples(pods: int, choices: int, distinct: bool):
    """Every equally likely ordered sample of pod indices."""
    if distinct:
        return list(itertools.permutations(range(pods), choices))
    return list(itertools.product(range(pods), repeat=choices))


def brute_force_mean_response(pods, rho, choices, distinct, longest):
    """Mean response of sample-d-join-the-shortest, state = sorted queue lengths <= longest.

    An arrival whose chosen pod already holds ``longest`` requests is lost (the loss is
    negligible when ``rho**longest`` is tiny, and is accounted for by Little's law).
    """
    states = list(itertools.combinations_with_replacement(range(longest + 1), pods))
    index = {st: i for i, st in enumerate(states)}
    samples = _samples(pods, choices, distinct)
    lam = pods * rho
    rows, cols, rates = [], [], []
    lost = np.zeros(len(states))
    for i, st in enumerate(states):
        for sample in samples:  # the sampled pod with the fewest requests is joined
            target = min(sample, key=lambda k: st[k])
            if st[target] == longest:
                lost[i] += lam / len(samples)
                continue
            new = list(st)
            new[target] += 1
            rows.append(i)
            cols.append(index[tuple(sorted(new))])
            rates.append(lam / len(samples))
        for k in range(pods):  # every busy pod serves at rate 1
            if st[k] > 0:
                new = list(st)
                new[k] -= 1
                rows.append(i)
                cols.append(index[tuple(sorted(new))])
                rates.append(1.0)
    size = len(states)
    q = sparse.csr_matrix((rates, (rows, cols)), shape=(size, size))
    q = (q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())).T.tolil()
    q[0, :] = 1.0  # replace one balance equation by the normalisation
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = linalg.spsolve(q.tocsc(), rhs)
    jobs = pi @ np.array([sum(st) for st in states], dtype=float)
    return jobs / (lam - pi @ lost)


@pytest.mark.parametrize(
    ("pods", "rho", "choices", "distinct", "longest"),
    [
        (2, 0.5, 2, True, 40),  # least connections on two pods
        (2, 0.8, 2, True, 70),
        (3, 0.7, 3, True, 22),
        (3, 0.6, 2, True, 14),  # nginx random two: two distinct of three
        (3, 0.6, 2, False, 16),  # two with replacement
        (4, 0.5, 2, True, 10),
    ],
)
def test_qbd_matches_the_brute_force_chain(pods, rho, choices, distinct, longest):
    expected = brute_force_mean_response(pods, rho, choices, distinct, longest)
    got = qbd_mean_response(pods, rho, choices=choices, distinct=distinct, tol=1e-6)
    assert got.method == "qbd"
    assert got.mean_response == pytest.approx(expected, rel=2e-5)


def test_qbd_high_load_has_no_lost_work():
    # Least connections on two pods at rho = 0.99 lies between the pooled M/M/2 queue
    # 1 / (1 - rho^2) and two separate M/M/1 queues 1 / (1 - rho); truncations that drop
    # work fall far below the floor (about 7 instead of about 50 at an excess cap of 2).
    got = qbd_mean_response(2, 0.99)
    assert got.exact
    assert 1 / (1 - 0.99**2) < got.mean_response < 1 / (1 - 0.99)
    # The stated truncation error covers the distance to a much tighter solution.
    tight = qbd_mean_response(2, 0.99, tol=1e-7)
    assert abs(got.mean_response - tight.mean_response) <= got.error_estimate


def test_qbd_closed_forms():
    # One pod, and random dispatch (d = 1, with replacement): M/M/1 per pod.
    assert qbd_mean_response(1, 0.9).mean_response == pytest.approx(10.0)
    got = qbd_mean_response(2, 0.6, choices=1, distinct=False, tol=1e-6)
    assert got.mean_response == pytest.approx(1 / (1 - 0.6), rel=1e-4)


# --------------------------------------------------------------------------------------------
# The pooled floor


@pytest.mark.parametrize("rho", [0.3, 0.9, 0.99])
def test_pooled_floor_matches_mm2_closed_form(rho):
    assert pooled_floor_mean_response(2, rho) == pytest.approx(1 / (1 - rho**2))


def test_pooled_floor_at_four_pods_matches_the_audit():
    # Issue 12: the pooled M/M/4 floor at 0.95 is 5.46 (computed by the audit).
    assert pooled_floor_mean_response(4, 0.95) == pytest.approx(5.46, abs=0.005)


@pytest.mark.parametrize(("pods", "rho"), [(2, 0.9), (4, 0.95)])
def test_power_of_two_at_small_n_is_above_the_floor(pods, rho):
    ans = finite_n_mean_response(pods, rho, choices=2)
    assert ans.method == "qbd" and ans.exact and ans.error_estimate < 1e-3 * ans.mean_response
    assert ans.mean_response > pooled_floor_mean_response(pods, rho)


# --------------------------------------------------------------------------------------------
# The refined mean field


def _mitzenmacher_mean_response(rho, d):
    """Mean response of the supermarket limit: sum_i rho^((d^i - d)/(d - 1)), i >= 1."""
    return sum(rho ** ((d**i - d) / (d - 1)) for i in range(1, 40) if (d**i - d) < 1e6)


@pytest.mark.parametrize(("rho", "d"), [(0.5, 2), (0.9, 2), (0.95, 3)])
def test_refined_mean_field_tends_to_the_supermarket_limit(rho, d):
    got = refined_mean_field_mean_response(10**12, rho, choices=d, distinct=False)
    assert got.mean_response == pytest.approx(_mitzenmacher_mean_response(rho, d), rel=1e-9)


@pytest.mark.parametrize("distinct", [True, False])
def test_refined_mean_field_one_over_n_term_matches_the_exact_chain(distinct):
    # The 1/n coefficient of the refined mean field, V = n (refined - limit), against the
    # one Richardson-extrapolated from the brute-force chain at n = 3 and 4:
    # n (exact_n - limit) = V + c / n + O(1/n^2).
    rho, limit = 0.5, _mitzenmacher_mean_response(0.5, 2)
    slopes = {
        n: n * (brute_force_mean_response(n, rho, 2, distinct, 10 if n == 4 else 14) - limit)
        for n in (3, 4)
    }
    extrapolated = 4 * slopes[4] - 3 * slopes[3]
    coefficient = 100 * (
        refined_mean_field_mean_response(100, rho, distinct=distinct).mean_response - limit
    )
    assert coefficient == pytest.approx(extrapolated, rel=0.15)


# --------------------------------------------------------------------------------------------
# The chooser


def test_least_connections_beyond_the_chain_is_a_labelled_bound():
    ans = finite_n_mean_response(200, 0.9, max_phases=50)
    assert ans.method == "pooled_floor_lower_bound" and not ans.exact
    assert ans.mean_response == pooled_floor_mean_response(200, 0.9)


def test_power_of_d_beyond_the_chain_is_the_second_order_mean_field():
    ans = finite_n_mean_response(200, 0.9, choices=2)
    assert ans.method == "second_order_mean_field" and not ans.exact
    assert ans.mean_response >= pooled_floor_mean_response(200, 0.9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: qbd_mean_response(0, 0.5), "pods"),
        (lambda: qbd_mean_response(2, 1.0), "utilization"),
        (lambda: finite_n_mean_response(2, 0.5, choices=3), "choices"),
        (lambda: refined_mean_field_mean_response(2, -0.1), "utilization"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="pods"):
        qbd_mean_response(2.5, 0.5)


# --------------------------------------------------------------------------------------------
# Against the simulator (few, short runs; tolerance from the replications' standard error)


@pytest.mark.parametrize(
    ("policy", "pods", "rho", "options"),
    [
        ("least_connections", 3, 0.8, {}),
        ("power_of_two", 4, 0.8, {"distinct": True}),
    ],
)
def test_chain_agrees_with_the_simulator(policy, pods, rho, options):
    from k8smodel.lb import simulate

    choices = None if policy == "least_connections" else 2
    expected = finite_n_mean_response(pods, rho, choices=choices).mean_response
    sim = simulate(
        policy, pods=pods, utilization=rho, requests=20_000, replications=4, rng=7, **options
    )
    row = sim.summary.iloc[0]
    assert abs(row["mean_response_s"] - expected) < 4 * row["mean_response_s_se"]


def test_module_exports():
    assert set(finite_n.__all__) >= {"finite_n_mean_response", "qbd_mean_response"}


@pytest.mark.parametrize(("pods", "distinct"), [(4, True), (5, False)])
def test_second_order_mean_field_predicts_the_brute_force_chain(pods, distinct):
    # The 1/n^2 and 1/n^3 terms are fitted at n = 2, 3; the prediction at n = 4, 5 is checked
    # against the independent chain (the refined mean field alone is 1.2-2.5 % low here).
    expected = brute_force_mean_response(pods, 0.7, 2, distinct, 10)
    got = finite_n.second_order_mean_field_mean_response(pods, 0.7, distinct=distinct)
    refined = refined_mean_field_mean_response(pods, 0.7, distinct=distinct).mean_response
    assert got.mean_response == pytest.approx(expected, rel=1e-3)
    assert abs(refined / expected - 1) > 0.01


def test_truncated_chains_rise_towards_the_exact_value():
    # The chooser treats an unconverged chain as a lower bound: its values rise with the cap.
    expected = brute_force_mean_response(3, 0.7, 3, True, 22)
    values = [finite_n._qbd_once(3, 0.7, 3, True, cap) for cap in (2, 3, 4, 5)]
    assert values == sorted(values)
    assert values[-1] < expected < values[-1] + 1e-3


@pytest.mark.parametrize("choices", [None, 2])
@pytest.mark.parametrize(("pods", "rho"), [(2, 0.99), (7, 0.95), (30, 0.9), (1000, 0.99)])
def test_never_below_the_pooled_floor(pods, rho, choices):
    ans = finite_n_mean_response(pods, rho, choices=choices, max_phases=120)
    assert ans.mean_response >= pooled_floor_mean_response(pods, rho)
    assert ans.exact == (ans.method == "qbd")
