"""Binding cases derived from the Kubernetes source.

Each case cites the function whose behaviour it checks:
FindMatchingVolume, CheckVolumeModeMismatches, CheckAccessModes, IsVolumeBoundToClaim
(staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go); findByClaim and
allPossibleMatchingAccessModes (pkg/controller/volume/persistentvolume/index.go);
syncUnboundClaim (pkg/controller/volume/persistentvolume/pv_controller.go);
findMatchingVolumes (pkg/scheduler/framework/plugins/volumebinding/binder.go).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8smodel.storage import bind, make_claims, make_volumes

GI = 2**30
RWO, ROX, RWX = "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"


def vols(*rows):
    """rows: (name, capacity_gi, extra-dict)."""
    recs = []
    for name, gi, extra in rows:
        recs.append({"name": name, "capacity_bytes": gi * GI, **extra})
    return pd.DataFrame(recs)


def claims(*rows):
    recs = []
    for name, gi, extra in rows:
        recs.append({"name": name, "request_bytes": gi * GI, **extra})
    return pd.DataFrame(recs)


def bound_to(result, claim):
    b = result.bindings.set_index("claim")
    return b.loc[claim, "volume"] if claim in b.index else None


def test_smallest_fitting_volume_wins():
    # FindMatchingVolume keeps the smallest volume with capacity >= request
    v = vols(("big", 100, {}), ("small", 5, {}), ("fit", 10, {}), ("fit2", 20, {}))
    r = bind(claims(("c", 8, {})), v, rng=0)
    assert bound_to(r, "c") == "fit"
    assert r.bindings.wasted_bytes.iloc[0] == 2 * GI


def test_capacity_below_request_never_binds():
    r = bind(claims(("c", 50, {})), vols(("a", 10, {}), ("b", 49, {})), rng=0)
    assert r.bindings.empty
    assert r.pending.reason.tolist() == ["no_matching_volume"]


def test_prebound_volume_wins_over_smaller_one():
    # IsVolumeBoundToClaim: a PV whose claimRef names the claim is returned at once
    v = vols(
        ("tight", 10, {}),
        ("mine", 500, {"claim_ref_namespace": "default", "claim_ref_name": "c"}),
    )
    r = bind(claims(("c", 10, {})), v, rng=0)
    assert bound_to(r, "c") == "mine"
    assert r.bindings.how.iloc[0] == "prebound"


def test_prebound_to_other_claim_is_skipped_and_uid_must_match():
    v = vols(
        ("other", 10, {"claim_ref_namespace": "default", "claim_ref_name": "x"}),
        (
            "uidref",
            10,
            {"claim_ref_namespace": "default", "claim_ref_name": "c", "claim_ref_uid": "u-old"},
        ),
        ("free", 30, {}),
    )
    r = bind(claims(("c", 10, {"uid": "u-new"})), v, rng=0)
    # claimRef.UID set and different from the claim's UID -> not bound to it
    assert bound_to(r, "c") == "free"


def test_prebound_too_small_is_not_used():
    # current pv_helpers.go checks capacity before the pre-bound test
    v = vols(("mine", 5, {"claim_ref_namespace": "default", "claim_ref_name": "c"}), ("ok", 20, {}))
    assert bound_to(bind(claims(("c", 10, {})), v, rng=0), "c") == "ok"


def test_storage_class_must_match_exactly():
    v = vols(("fast", 10, {"storage_class": "fast"}), ("plain", 50, {}))
    r = bind(claims(("c1", 5, {"storage_class": "fast"}), ("c2", 5, {})), v, rng=0)
    assert bound_to(r, "c1") == "fast"
    assert bound_to(r, "c2") == "plain"  # "" only matches class-less PVs


def test_volume_mode_mismatch_is_filtered():
    # CheckVolumeModeMismatches: unset means Filesystem on both sides
    v = vols(("blk", 10, {"volume_mode": "Block"}), ("fs", 40, {}))
    r = bind(claims(("c-fs", 5, {}), ("c-blk", 5, {"volume_mode": "Block"})), v, rng=0)
    assert bound_to(r, "c-fs") == "fs"
    assert bound_to(r, "c-blk") == "blk"


def test_label_selector_filters():
    v = vols(
        ("a", 10, {"labels": {"tier": "gold"}}),
        ("b", 20, {"labels": {"tier": "silver", "zone": "z1"}}),
        ("c", 30, {"labels": {"tier": "gold", "zone": "z1"}}),
    )
    sel = {
        "matchLabels": {"tier": "gold"},
        "matchExpressions": [{"key": "zone", "operator": "Exists"}],
    }
    r = bind(claims(("x", 5, {"selector": sel})), v, rng=0)
    assert bound_to(r, "x") == "c"
    sel2 = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}
    r2 = bind(claims(("y", 5, {"selector": sel2})), v, rng=0)
    assert bound_to(r2, "y") == "b"


def test_non_available_phase_is_skipped():
    v = vols(("released", 10, {"phase": "Released"}), ("ok", 20, {}))
    assert bound_to(bind(claims(("c", 5, {})), v, rng=0), "c") == "ok"


def test_deleting_volume_is_skipped():
    v = vols(("dying", 10, {"deleting": True}), ("ok", 20, {}))
    assert bound_to(bind(claims(("c", 5, {})), v, rng=0), "c") == "ok"


def test_access_mode_groups_fewest_modes_first():
    # index.go findByClaim / allPossibleMatchingAccessModes: a RWO claim searches the
    # {RWO} set before the {RWO,ROX} set, so it takes the larger RWO-only PV first.
    v = vols(
        ("gcepd-small", 10, {"access_modes": (RWO, ROX)}),
        ("rwo-big", 100, {"access_modes": (RWO,)}),
    )
    assert bound_to(bind(claims(("c", 5, {"access_modes": (RWO,)})), v, rng=0), "c") == "rwo-big"
    # once the RWO-only set has no fit, the next set is searched
    v2 = vols(
        ("gcepd-small", 10, {"access_modes": (RWO, ROX)}),
        ("rwo-tiny", 1, {"access_modes": (RWO,)}),
    )
    r = bind(claims(("c", 5, {"access_modes": (RWO,)})), v2, rng=0)
    assert bound_to(r, "c") == "gcepd-small"
    # a RWX claim can only use sets containing RWX
    v3 = vols(("rwo", 10, {"access_modes": (RWO,)}), ("nfs", 90, {"access_modes": (RWO, ROX, RWX)}))
    assert bound_to(bind(claims(("c", 5, {"access_modes": (RWX,)})), v3, rng=0), "c") == "nfs"


def test_scheduler_path_checks_modes_without_grouping():
    # binder.go findMatchingVolumes -> FindMatchingVolume(node != nil): CheckAccessModes only,
    # so the globally smallest PV with every requested mode wins.
    v = vols(
        ("gcepd-small", 10, {"access_modes": (RWO, ROX)}),
        ("rwo-big", 100, {"access_modes": (RWO,)}),
    )
    c = claims(("c", 5, {"access_modes": (RWO,), "pod": "p"}))
    r = bind(c, v, mode="WaitForFirstConsumer", rng=0)
    assert bound_to(r, "c") == "gcepd-small"
    assert r.bindings.path.iloc[0] == "scheduler"


def test_claims_bind_in_arrival_order_greedily():
    # online best fit: the first claim takes the 10Gi PV, the second must take 100Gi
    v = vols(("ten", 10, {}), ("hundred", 100, {}))
    r = bind(claims(("first", 5, {}), ("second", 10, {})), v, rng=0)
    assert bound_to(r, "first") == "ten"
    assert bound_to(r, "second") == "hundred"
    assert r.summary.wasted_bytes.iloc[0] == 5 * GI + 90 * GI


def test_wffc_sorts_a_pods_claims_by_size():
    # binder.go: sort.Sort(byPVCSize(claimsToBind)) -> smallest claim chooses first
    v = vols(("ten", 10, {}), ("hundred", 100, {}))
    c = claims(("big", 10, {"pod": "p-0"}), ("small", 5, {"pod": "p-0"}))
    immediate = bind(c, v, mode="Immediate", rng=0)
    assert bound_to(immediate, "big") == "ten" and bound_to(immediate, "small") == "hundred"
    delayed = bind(c, v, mode="WaitForFirstConsumer", rng=0)
    assert bound_to(delayed, "small") == "ten" and bound_to(delayed, "big") == "hundred"


def test_wffc_pod_all_or_nothing():
    v = vols(("ten", 10, {}))
    c = claims(("a", 5, {"pod": "p"}), ("b", 50, {"pod": "p"}))
    r = bind(c, v, mode="WaitForFirstConsumer", rng=0)
    assert r.bindings.empty
    assert set(r.pending.reason) == {"pod_unschedulable"}


LOCAL_WFFC = pd.DataFrame(
    [
        {
            "name": "local",
            "provisioner": "kubernetes.io/no-provisioner",
            "volume_binding_mode": "WaitForFirstConsumer",
        }
    ]
)


def test_wffc_claim_prebound_by_claim_ref_is_bound_by_the_controller():
    # pv_controller.go syncUnboundClaim calls findBestMatchForClaim(claim, delayBinding=true);
    # pv_helpers.go FindMatchingVolume returns a PV with IsVolumeBoundToClaim before its
    # "node == nil && delayBinding -> continue", so the controller binds claim-0 to pv-0 with
    # no pod scheduled. claim-1 (50Gi) has no PV and no provisioner: the pod stays unschedulable
    # (binder.go findMatchingVolumes), which leaves only claim-1 Pending.
    c = make_claims(["1Gi", "50Gi"], storage_class="local", pod=["p", "p"])
    v = make_volumes(["10Gi"], storage_class="local")
    v.loc[0, ["claim_ref_namespace", "claim_ref_name"]] = ["default", "claim-0"]
    r = bind(c, v, storage_classes=LOCAL_WFFC, rng=0)
    assert r.bindings[["claim", "volume", "how", "path"]].values.tolist() == [
        ["claim-0", "pv-0", "prebound", "controller"]
    ]
    assert r.pending[["claim", "reason"]].values.tolist() == [["claim-1", "pod_unschedulable"]]
    # the same pre-bound claim with no pod at all is bound too
    r = bind(c.iloc[:1].assign(pod=""), v, storage_classes=LOCAL_WFFC, rng=0)
    assert r.bindings.claim.tolist() == ["claim-0"] and r.pending.empty


def test_wffc_claim_without_a_pod_waits_for_its_first_consumer():
    # pv_controller.go syncUnboundClaim: no pre-bound PV, delayBinding and no selected node ->
    # emitEventForUnboundDelayBindingClaim("waiting for first consumer to be created before
    # binding") and the claim stays Pending, even though a 10Gi PV would fit.
    r = bind(make_claims(["5Gi"]), make_volumes(["10Gi"]), mode="WaitForFirstConsumer", rng=0)
    assert r.bindings.empty
    assert r.pending.reason.tolist() == ["waiting_for_first_consumer"]
    assert r.pending.detail.iloc[0] == "waiting for first consumer to be created before binding"


def test_auto_mode_reads_class_binding_mode_and_provisions():
    classes = pd.DataFrame(
        [
            {
                "name": "gp3",
                "provisioner": "ebs.csi.aws.com",
                "volume_binding_mode": "WaitForFirstConsumer",
            },
            {
                "name": "local",
                "provisioner": "kubernetes.io/no-provisioner",
                "volume_binding_mode": "WaitForFirstConsumer",
            },
        ]
    )
    c = claims(
        ("dyn", 0, {"storage_class": "gp3", "request_bytes": 1_500_000_000, "pod": "p-dyn"}),
        ("loc", 5, {"storage_class": "local", "pod": "p-loc"}),
        ("nocls", 5, {"storage_class": "missing"}),
    )
    r = bind(c, vols(("x", 1, {"storage_class": "local"})), storage_classes=classes, rng=0)
    row = r.bindings.set_index("claim").loc["dyn"]
    # EBS CSI rounds up to whole GiB: 1.5e9 bytes -> 2 GiB
    assert row.how == "provisioned" and row.capacity_bytes == 2 * GI
    assert row.wasted_bytes == 2 * GI - 1_500_000_000
    p = r.pending.set_index("claim")
    assert p.loc["loc", "reason"] == "pod_unschedulable"
    assert p.loc["nocls", "reason"] == "class_not_found"


def test_named_volume_path():
    # syncUnboundClaim with spec.volumeName: checkVolumeSatisfyClaim or pending
    v = vols(
        ("pv-a", 10, {}),
        ("pv-b", 1, {}),
        ("pv-c", 10, {"claim_ref_namespace": "default", "claim_ref_name": "zzz"}),
    )
    c = claims(
        ("ok", 5, {"volume_name": "pv-a"}),
        ("small", 5, {"volume_name": "pv-b"}),
        ("taken", 5, {"volume_name": "pv-c"}),
        ("gone", 5, {"volume_name": "pv-z"}),
    )
    r = bind(c, v, rng=0)
    assert bound_to(r, "ok") == "pv-a"
    p = r.pending.set_index("claim").reason.to_dict()
    assert p == {
        "small": "volume_does_not_satisfy_claim",
        "taken": "volume_bound_elsewhere",
        "gone": "volume_not_found",
    }


def test_named_volume_deleting_or_already_bound():
    # pv_controller.go syncUnboundClaim, claim.Spec.VolumeName set:
    # - volume.Spec.ClaimRef == nil -> checkVolumeSatisfyClaim, whose first test is the PV's
    #   DeletionTimestamp ("the volume is marked for deletion"): pv-del stays unbound;
    # - IsVolumeBoundToClaim -> ctrl.bind with no satisfy check: pv-mine is 1Gi against a 5Gi
    #   request, in another class, and still binds.
    v = vols(
        ("pv-del", 10, {"deleting": True}),
        (
            "pv-mine",
            1,
            {"storage_class": "other", "claim_ref_namespace": "default", "claim_ref_name": "m"},
        ),
    )
    c = claims(("d", 5, {"volume_name": "pv-del"}), ("m", 5, {"volume_name": "pv-mine"}))
    r = bind(c, v, rng=0)
    assert r.bindings[["claim", "volume", "how"]].values.tolist() == [["m", "pv-mine", "prebound"]]
    row = r.pending.set_index("claim").loc["d"]
    assert row.reason == "volume_does_not_satisfy_claim"
    assert "marked for deletion" in row.detail


def test_ties_are_random_but_reproducible():
    v = make_volumes([10 * GI] * 8)
    c = make_claims([GI])
    picks = {bound_to(bind(c, v, rng=s), "claim-0") for s in range(40)}
    assert len(picks) > 3  # ties broken by rng, not always the first
    assert bound_to(bind(c, v, rng=7), "claim-0") == bound_to(bind(c, v, rng=7), "claim-0")


def test_bad_input():
    with pytest.raises(ValueError, match="request_bytes"):
        bind(pd.DataFrame({"x": [1]}), make_volumes([GI]))
    with pytest.raises(ValueError, match="mode"):
        bind(make_claims([GI]), make_volumes([GI]), mode="Lazy")
    with pytest.raises(ValueError, match="negative"):
        bind(make_claims([GI]), pd.DataFrame({"capacity_bytes": [-1]}))
    with pytest.raises(ValueError, match="access mode"):
        make_claims([GI], access_modes=("ReadWriteSometimes",))


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        # volume modes are case-sensitive: "block" is not "Block" (CheckVolumeModeMismatches)
        (lambda: make_claims([GI], volume_mode="Blok"), "volume_mode must be one of"),
        (lambda: make_volumes([GI], volume_mode="block"), "volume_mode must be one of"),
        (
            lambda: bind(make_claims([GI]), make_volumes([GI]).assign(volume_mode="block")),
            "volumes.volume_mode[0] must be one of ('Filesystem', 'Block'); got 'block'",
        ),
        (
            lambda: bind(make_claims([GI]), make_volumes([GI]).assign(phase="available")),
            "volumes.phase[0] must be one of ('Pending', 'Available', 'Bound', 'Released', "
            "'Failed'); got 'available'",
        ),
        # LabelSelectorAsSelector: only In, NotIn, Exists, DoesNotExist
        (
            lambda: bind(
                make_claims([GI]).assign(
                    selector=[
                        {"matchExpressions": [{"key": "s", "operator": "Gt", "values": ["1"]}]}
                    ]
                ),
                make_volumes([GI]),
            ),
            "claims.selector[0].matchExpressions[0]: 'Gt' is not a valid label selector operator",
        ),
        (
            lambda: bind(
                make_claims([GI]).assign(selector=[{"matchExpressions": [{"operator": "Exists"}]}]),
                make_volumes([GI]),
            ),
            "claims.selector[0].matchExpressions[0]: 'key' must be a non-empty string",
        ),
        (lambda: make_claims([GI, GI], pod=["p"]), "pod must have one entry per item (2); got 1"),
        (lambda: make_volumes([GI], labels=[{}, {}]), "labels must have one entry per item (1)"),
        (
            lambda: bind(pd.DataFrame({"request_bytes": [float("nan")]}), make_volumes([GI])),
            "claims.request_bytes[0] = nan",
        ),
        (lambda: make_claims([GI, 1.5]), "request_bytes[1] = 1.5"),
    ],
)
def test_bad_input_names_the_parameter_and_value(call, needle):
    with pytest.raises(ValueError) as info:
        call()
    assert needle in str(info.value)


def brute_smallest(req, caps, taken):
    """Independent re-statement of best fit for plain claims: smallest free capacity >= req."""
    best = None
    for j, cap in enumerate(caps):
        if not taken[j] and cap >= req and (best is None or cap < caps[best]):
            best = j
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=15),
    st.lists(st.integers(1, 40), min_size=0, max_size=15),
)
def test_plain_claims_follow_online_best_fit(reqs, caps):
    r = bind(make_claims(reqs), make_volumes(caps), rng=1)
    taken = [False] * len(caps)
    b = r.bindings.set_index("claim")
    bound, requested, wasted = 0, 0, 0
    for i, req in enumerate(reqs):
        j = brute_smallest(req, caps, taken)
        name = f"claim-{i}"
        if j is None:
            assert name not in b.index
        else:
            got = int(b.loc[name, "volume"].split("-")[1])
            assert caps[got] == caps[j]  # same capacity (ties are random)
            taken[got] = True
            bound, requested, wasted = bound + 1, requested + req, wasted + caps[j] - req
    # totals from the brute-force walk, not from the bindings table
    s = r.summary.iloc[0]
    assert (s.bound, s.pending) == (bound, len(reqs) - bound)
    assert (s.request_bytes, s.wasted_bytes) == (requested, wasted)
    assert s.provisioned_bytes == requested + wasted


def reference_controller(reqs, req_modes, caps, vol_modes):
    """Immediate binding restated from the rule functions: findByClaim claim by claim."""
    from k8smodel.storage import semantics as sem

    n = len(caps)
    taken = np.zeros(n, bool)
    masks = [sem.access_mode_mask(m) for m in vol_modes]
    out = []
    for req, modes in zip(reqs, req_modes, strict=True):
        j, _ = sem.find_by_claim(
            req, caps, volume_masks=masks, requested_mask=sem.access_mode_mask(modes),
            bound_to_claim=[False] * n, bound_elsewhere=taken, mode_mismatch=[False] * n,
            deleting=[False] * n, available=~taken, class_matches=[True] * n,
        )  # fmt: skip
        if j >= 0:
            taken[j] = True
        out.append(None if j < 0 else (caps[j], masks[j]))
    return out


MODE_SETS = [(RWO,), (RWO, ROX), (RWO, ROX, RWX), (RWX,)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.sampled_from(MODE_SETS[:2] + [(RWX,)])), max_size=12),
    st.lists(st.tuples(st.integers(1, 30), st.sampled_from(MODE_SETS)), max_size=12),
)
def test_indexed_controller_path_matches_the_rule_functions(claim_rows, volume_rows):
    # bind answers plain controller claims from a sorted index of free volumes; the
    # reference calls semantics.find_by_claim over every volume for each claim. Volumes with
    # the same (capacity, modes) are interchangeable, so compare that pair for each claim (no
    # two mode sets a claim can use have as many modes here, so set order has no ties).
    reqs = [r for r, _ in claim_rows]
    cmodes = [m for _, m in claim_rows]
    caps = [c for c, _ in volume_rows]
    vmodes = [m for _, m in volume_rows]
    from k8smodel.storage import semantics as sem

    claims_df = pd.DataFrame({"request_bytes": reqs, "access_modes": cmodes}, dtype=object)
    claims_df["request_bytes"] = claims_df["request_bytes"].astype("int64")
    vols_df = pd.DataFrame({"capacity_bytes": caps, "access_modes": vmodes}, dtype=object)
    vols_df["capacity_bytes"] = vols_df["capacity_bytes"].astype("int64")
    r = bind(claims_df, vols_df, mode="Immediate", rng=2)
    got = dict(zip(r.bindings.claim, r.bindings.volume, strict=True))
    expected = reference_controller(reqs, cmodes, caps, vmodes)
    for i, exp in enumerate(expected):
        name = f"claim-{i}"
        if exp is None:
            assert name not in got
        else:
            j = int(got[name].split("-")[1])
            assert (caps[j], sem.access_mode_mask(vmodes[j])) == exp
