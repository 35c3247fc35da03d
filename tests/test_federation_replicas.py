"""Replica division against the worked examples in Karmada's and KubeFed's own tests."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8smodel import federation as fed
from k8smodel.federation.semantics import fnv32

# karmada-io/karmada pkg/util/helper/webstermethod_test.go, TestAllocateWebsterSeats: the
# Wikipedia Sainte-Lague example, seats after each round, in the version of the test that goes
# with the "fewer seats wins a tie" rule of webstermethod.go (round 6 is a tie A 100000/5 = D
# 20000/1, which D wins). An earlier version broke ties by votes and expected A there.
CLASSIC = [100000, 80000, 30000, 20000]
ROUNDS = {
    1: [1, 0, 0, 0],
    2: [1, 1, 0, 0],
    3: [2, 1, 0, 0],
    4: [2, 1, 1, 0],
    5: [2, 2, 1, 0],
    6: [2, 2, 1, 1],
    7: [3, 2, 1, 1],
    8: [3, 3, 1, 1],
}


@pytest.mark.parametrize("seats", sorted(ROUNDS))
def test_karmada_webster_classic_rounds(seats):
    assert fed.webster(seats, CLASSIC).tolist() == ROUNDS[seats]


def test_karmada_webster_examples_and_ties():
    # ExampleAllocateWebsterSeats: Alpha 1200, Beta 900, Gamma 400, 4 seats -> 2, 1, 1.
    assert fed.webster(4, [1200, 900, 400]).tolist() == [2, 1, 1]
    # Ties: by seats (fewer wins), then by name ("tie-breaker is nil, expect break tie by ...").
    assert fed.webster(1, [3, 1], initial=[1, 0], names=["PartyA", "PartyB"]).tolist() == [1, 1]
    assert fed.webster(1, [0, 0], initial=[2, 1], names=["PartyA", "PartyB"]).tolist() == [2, 2]
    assert fed.webster(1, [1, 1], names=["PartyA", "PartyB"]).tolist() == [1, 0]
    # "both new and old parties compete": OldParty holds 1 seat, 2 new seats -> NewParty 2.
    assert fed.webster(2, [1, 1], initial=[1, 0], names=["OldParty", "NewParty"]).tolist() == [1, 2]
    assert fed.webster(0, [100, 200]).tolist() == [0, 0]


def test_karmada_legacy_issue_6424():
    # karmada-io/karmada issue #6424: weights a=2, b=1, 2 replicas -> a gets 2, b gets 0
    # (floor then remainder by weight order, as the maintainer's reply walks through).
    assert fed.karmada_legacy(2, [2, 1]).tolist() == [2, 0]
    out = fed.divide_replicas(2, weights=[2, 1], method="karmada-static", names=["a", "b"])
    assert out.tolist() == [1, 1]  # Webster gives the small cluster its replica


# karmada-io/karmada pkg/scheduler/core/division_algorithm_test.go (read at commit
# 08887eea8adc5a076565b97e02b823fd862f299b, before the Webster migration):
# Test_divideReplicasByPreference and Test_divideReplicasByResource, 12 replicas each,
# member1..member3 in order. "dynamic weight" cases divide by available replicas with the old
# dispenser (floor, then the remainder by decreasing weight), i.e. karmada_legacy.
KARMADA_DYNAMIC_LEGACY = [
    ([18, 12, 6], [6, 4, 2]),
    ([20, 12, 6], [7, 4, 1]),
    ([6, 12, 6], [3, 6, 3]),
    ([6, 8, 10], [3, 4, 5]),
    ([8, 8, 10], [4, 3, 5]),
]
# "aggregated" cases: fewest clusters by available replicas, then divided among them.
KARMADA_AGGREGATED = [
    ([6, 8, 10], [0, 5, 7]),
    ([6, 6, 6], [6, 6, 0]),
    ([12, 8, 10], [12, 0, 0]),
    ([6, 12, 6], [0, 12, 0]),  # "aggregated 12:6:6", listed member2 first
]


@pytest.mark.parametrize("available, expected", KARMADA_DYNAMIC_LEGACY)
def test_karmada_legacy_dynamic_vectors(available, expected):
    names = ["member1", "member2", "member3"]
    assert fed.karmada_legacy(12, available, names=names).tolist() == expected


@pytest.mark.parametrize("available, expected", KARMADA_AGGREGATED)
def test_karmada_aggregated_vectors(available, expected):
    names = ["member1", "member2", "member3"]
    out = fed.divide_replicas(12, available=available, method="karmada-aggregated", names=names)
    assert out.tolist() == expected


def test_webster_and_legacy_differ():
    # 20:12:6 and 12 replicas: quotas 6.32, 3.79, 1.89. The old dispenser floors to 6, 3, 1 and
    # gives the two left over to the heaviest clusters: 7, 4, 1. Webster (divisors 1, 3, 5, ...)
    # hands out seats by 20/1, 12/1, 20/3, 6/1, 12/3, 20/5, 20/7, 12/5, 20/9, 6/3, 20/11, 12/7:
    # 6, 4, 2 - the small cluster keeps the second replica its quota rounds to.
    assert fed.karmada_legacy(12, [20, 12, 6]).tolist() == [7, 4, 1]
    dynamic = fed.divide_replicas(12, available=[20, 12, 6], method="karmada-dynamic")
    assert dynamic.tolist() == [6, 4, 2]
    with pytest.raises(ValueError, match="unschedulable"):
        fed.divide_replicas(12, available=[3, 3, 3], method="karmada-dynamic")
    with pytest.raises(ValueError, match="unschedulable"):
        fed.divide_replicas(12, available=[3, 3, 3], method="karmada-aggregated")


def test_static_all_zero_weights_count_one_each():
    assert fed.divide_replicas(6, weights=[0, 0, 0]).tolist() == [2, 2, 2]


@settings(deadline=None)
@given(st.integers(0, 60), st.lists(st.integers(0, 50), min_size=1, max_size=6))
def test_webster_sums_and_house_monotone(seats, votes):
    if sum(votes) == 0:
        votes[0] = 1
    a = fed.webster(seats, votes)
    b = fed.webster(seats + 1, votes)
    assert a.sum() == seats and b.sum() == seats + 1
    assert (b >= a).all()  # divisor methods never take a seat away as the house grows


def test_fnv32_known_vectors():
    # FNV-1 32-bit test vectors (draft-eastlake-fnv): "" -> 0x811c9dc5, "a" -> 0x050c5d7e.
    assert fnv32(b"") == 0x811C9DC5
    assert fnv32(b"a") == 0x050C5D7E


def plan(total, clusters, prefs, **kw):
    return fed.kubefed_plan(total, clusters, prefs, **kw)


# kubernetes-retired/kubefed pkg/controller/util/planner/planner_test.go
@pytest.mark.parametrize(
    "total, clusters, prefs, expected",
    [
        (50, "ABC", {"*": {"weight": 1}}, {"A": 16, "B": 17, "C": 17}),  # hash dependent
        (50, "AB", {"*": {"weight": 1}}, {"A": 25, "B": 25}),
        (1, "AB", {"*": {"weight": 1}}, {"A": 0, "B": 1}),
        (1, "ABCD", {"*": {"weight": 1}}, {"A": 0, "B": 0, "C": 0, "D": 1}),
        (1, "A", {"*": {"weight": 1}}, {"A": 1}),
        (50, "ABC", {"*": {"min_replicas": 2, "weight": 0}}, {"A": 2, "B": 2, "C": 2}),
        (50, "ABC", {"*": {"min_replicas": 20, "weight": 0}}, {"A": 10, "B": 20, "C": 20}),
        (
            50,
            "ABC",
            {"*": {"min_replicas": 20, "weight": 0}, "A": {"min_replicas": 100, "weight": 1}},
            {"A": 50, "B": 0, "C": 0},
        ),
        (
            50,
            "ABC",
            {"*": {"min_replicas": 10, "weight": 1, "max_replicas": 12}},
            {"A": 12, "B": 12, "C": 12},
        ),
        (50, "ABC", {"*": {"weight": 1, "max_replicas": 2}}, {"A": 2, "B": 2, "C": 2}),
        (50, "ABC", {"*": {"weight": 0, "max_replicas": 2}}, {"A": 0, "B": 0, "C": 0}),
        (60, "ABC", {"A": {"weight": 1}, "B": {"weight": 2}}, {"A": 20, "B": 40, "C": 0}),
        (50, "ABC", {"A": {"weight": 10000}, "B": {"weight": 1}}, {"A": 50, "B": 0, "C": 0}),
        (50, "BC", {"A": {"weight": 10000}, "B": {"weight": 1}}, {"B": 50, "C": 0}),
        (
            50,
            "ABC",
            {"A": {"weight": 10000, "max_replicas": 10}, "B": {"weight": 1}, "C": {"weight": 1}},
            {"A": 10, "B": 20, "C": 20},
        ),
        (
            71,
            "ABCD",
            {
                "A": {"weight": 10000, "max_replicas": 10},
                "B": {"weight": 1},
                "C": {"weight": 1, "max_replicas": 21},
                "D": {"weight": 1, "max_replicas": 10},
            },
            {"A": 10, "B": 30, "C": 21, "D": 10},
        ),
        (
            91,
            "ABCDE",
            {
                "A": {"weight": 10000, "max_replicas": 10},
                "B": {"weight": 1},
                "C": {"weight": 1, "max_replicas": 21},
                "D": {"weight": 1, "max_replicas": 10},
                "E": {"weight": 1},
            },
            {"A": 10, "B": 25, "C": 21, "D": 10, "E": 25},
        ),
    ],
)
def test_kubefed_planner_cases(total, clusters, prefs, expected):
    got, overflow = plan(total, list(clusters), prefs)
    assert got == expected and overflow == {}


@pytest.mark.parametrize(
    "total, existing, expected",
    [
        (50, {"C": 30}, {"A": 10, "B": 10, "C": 30}),
        (15, {"A": 0, "B": 8}, {"A": 7, "B": 8}),
        (15, {"A": 6, "B": 8}, {"A": 7, "B": 8}),
        (500000, {"A": 300000}, {"A": 300000, "B": 200000}),
        (50, {"A": 10}, {"A": 25, "B": 25}),
        (50, {"A": 10, "B": 70}, {"A": 0, "B": 50}),  # hash dependent (kubefed TODO #31816)
        (1, {"A": 30}, {"A": 1, "B": 0}),
        (50, {"A": 10, "B": 20}, {"A": 25, "B": 25}),
    ],
)
def test_kubefed_rebalance_false_keeps_running_replicas(total, existing, expected):
    clusters = sorted(set("AB") | set(expected))
    got, _ = plan(total, clusters, {"*": {"weight": 1}}, current=existing)
    assert got == expected


@pytest.mark.parametrize(
    "rebalance, total, clusters, prefs, capacity, expected, overflow",
    [
        (True, 50, "ABC", {"*": {"weight": 1}}, {"C": 10}, {"A": 20, "B": 20, "C": 10}, {"C": 7}),
        (
            True,
            60,
            "ABC",
            {"A": {"weight": 1}, "B": {"weight": 2}},
            {"B": 10},
            {"A": 50, "B": 10, "C": 0},
            {"B": 30},
        ),
        (
            False,
            60,
            "ABC",
            {"A": {"weight": 1}, "B": {"weight": 5}},
            {"B": 10},
            {"A": 50, "B": 10, "C": 0},
            {},
        ),
        (
            True,
            60,
            "AB",
            {"*": {"min_replicas": 20, "weight": 1}},
            {"B": 10},
            {"A": 50, "B": 10},
            {"B": 15},
        ),
    ],
)
def test_kubefed_capacity_and_overflow(
    rebalance, total, clusters, prefs, capacity, expected, overflow
):
    got, over = plan(total, list(clusters), prefs, capacity=capacity, rebalance=rebalance)
    assert got == expected and over == overflow


def test_divide_replicas_kubefed_front_door():
    out = fed.divide_replicas(60, weights=[1, 2, 0], method="kubefed", names=["A", "B", "C"])
    assert out.to_dict() == {"A": 20, "B": 40, "C": 0}


def test_bad_method():
    with pytest.raises(ValueError, match="method must be one of"):
        fed.divide_replicas(3, weights=[1, 1], method="round-robin")


# karmada-io/karmada pkg/util/helper/binding_test.go (at f8fdd02df3760fd9521624f284877fa84e7be6ef),
# Test_dispenser_AllocateByWeight: (new replicas, initial A/B/C, weights, UID, desired).
EMPTY_UID = ""
EVEN_UID = "4858ca61-3ff8-4095-8267-f3d059d8074c"
ODD_UID = "d43fdeeb-d750-4e2b-bee3-64eb94534f4c"
KARMADA_DISPENSER = [
    (6, [1, 2, 3], [1, 2, 3], EMPTY_UID, [2, 4, 6]),  # Scale up 6 replicas
    (3, [1, 2, 3], [1, 2, 3], EMPTY_UID, [2, 3, 4]),  # Scale up 3 replicas
    (2, [1, 2, 3], [1, 2, 3], EMPTY_UID, [1, 3, 4]),  # Scale up 2 replicas
    (1, [0, 0], [2, 1], EMPTY_UID, [1, 0]),  # HA scenario with weight 2:1
    (2, [0, 0], [2, 1], EMPTY_UID, [1, 1]),
    (3, [0, 0], [2, 1], EMPTY_UID, [2, 1]),
    (5, [0, 0, 0], [170, 110, 60], EMPTY_UID, [2, 2, 1]),  # brand new assign 5 replicas
    (6, [0, 0, 0], [170, 110, 60], EMPTY_UID, [3, 2, 1]),
    (5, [0, 0], [1, 1], ODD_UID, [2, 3]),  # brand new assign 5 replicas with odd uuid
    (5, [0, 0], [1, 1], EVEN_UID, [3, 2]),  # ... with even uuid
]


@pytest.mark.parametrize(("seats", "initial", "votes", "uid", "desired"), KARMADA_DISPENSER)
def test_karmada_dispenser_cases_with_uid(seats, initial, votes, uid, desired):
    names = ["A", "B", "C"][: len(votes)]
    got = fed.webster(seats, votes, initial=initial, names=names, uid=uid)
    assert got.tolist() == desired


def test_karmada_uid_tie_order_and_divide_replicas():
    # tieBreakerByUID: FNV-1a of the UID, odd -> names descending. FNV-1a of "a" is
    # 0xe40c292c (the FNV reference test vectors, draft-eastlake-fnv, "a" -> 0xe40c292c).
    assert fed.karmada_tie_order(ODD_UID) == "descending"
    assert fed.karmada_tie_order(EVEN_UID) == "ascending"
    assert fed.karmada_tie_order(None) == fed.karmada_tie_order("") == "ascending"
    from k8smodel.federation.semantics import fnv32a

    assert fnv32a(b"a") == 0xE40C292C and fnv32a(b"") == 0x811C9DC5
    odd = fed.divide_replicas(5, weights=[1, 1], names=["A", "B"], uid=ODD_UID)
    assert odd.tolist() == [2, 3]
    assert fed.divide_replicas(5, weights=[1, 1], names=["A", "B"]).tolist() == [3, 2]


def webster_seat_by_seat(seats, votes, initial, rank):
    # A separate reference: hand out seats one at a time, comparing v/(2s+1) exactly by
    # cross-multiplication, ties to fewer seats then to the smaller rank.
    s = list(initial)
    for _ in range(seats):
        best = 0
        for j in range(1, len(votes)):
            lhs, rhs = votes[j] * (2 * s[best] + 1), votes[best] * (2 * s[j] + 1)
            if lhs > rhs or (lhs == rhs and (s[j], rank[j]) < (s[best], rank[best])):
                best = j
        s[best] += 1
    return s


@settings(deadline=None, max_examples=200)
@given(
    st.integers(0, 300),
    st.lists(st.integers(0, 50), min_size=1, max_size=8),
    st.data(),
)
def test_webster_equals_seat_by_seat_reference(seats, votes, data):
    initial = data.draw(st.lists(st.integers(0, 5), min_size=len(votes), max_size=len(votes)))
    names = [f"c{i}" for i in range(len(votes))]
    got = fed.webster(seats, votes, initial=initial, names=names)
    assert got.tolist() == webster_seat_by_seat(seats, votes, initial, list(range(len(votes))))
    mirrored = fed.webster(seats, votes, initial=initial, names=names, uid=ODD_UID)
    rank = list(range(len(votes)))[::-1]
    assert mirrored.tolist() == webster_seat_by_seat(seats, votes, initial, rank)
