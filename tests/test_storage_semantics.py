"""Each binding rule of k8smodel.storage.semantics on its own.

Cases cite the upstream test or function they are read from (kubernetes/kubernetes):
pkg/controller/volume/persistentvolume/index_test.go (TestFindingVolumeWithDifferentAccessModes,
TestMatchingWithBoundVolumes, TestAllPossibleAccessModes),
staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go (FindMatchingVolume,
IsVolumeBoundToClaim, CheckVolumeModeMismatches, CheckAccessModes, IsDelayBindingMode),
pkg/controller/volume/persistentvolume/pv_controller.go (checkVolumeSatisfyClaim) and
pkg/scheduler/framework/plugins/volumebinding/binder.go (byPVCSize, checkVolumeProvisions).
"""

import numpy as np
import pytest

from k8smodel.storage import semantics as sem

G = 10**9
RWO, ROX, RWX = "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"


def _find(request, caps, masks, requested, *, refs=None, **overrides):
    """findByClaim over volumes described by capacity, mode mask and claimRef (None: unbound)."""
    n = len(caps)
    refs = refs or [None] * n
    checks = {
        "bound_to_claim": [r == "me" for r in refs],
        "bound_elsewhere": [r not in (None, "me") for r in refs],
        "mode_mismatch": [False] * n,
        "deleting": [False] * n,
        "available": [True] * n,
        "class_matches": [True] * n,
    }
    checks.update(overrides)
    return sem.find_by_claim(
        request, caps, volume_masks=masks, requested_mask=sem.access_mode_mask(requested), **checks
    )


def test_finding_volume_with_different_access_modes():
    # index_test.go TestFindingVolumeWithDifferentAccessModes: three 10G volumes, gce (RWO+ROX),
    # ebs (RWO) and nfs (RWO+ROX+RWX); a 1G claim.
    names = ["gce", "ebs", "nfs"]
    caps = [10 * G] * 3
    masks = [sem.access_mode_mask(m) for m in ([RWO, ROX], [RWO], [RWO, ROX, RWX])]

    def pick(modes, refs=None):
        j, _ = _find(1 * G, caps, masks, modes, refs=refs)
        return names[j]

    assert pick([RWO]) == "ebs"
    assert pick([RWO, ROX]) == "gce"
    assert pick([RWX, RWO, ROX]) == "nfs"  # order of the requested modes does not matter
    assert pick([RWX]) == "nfs"  # fewer modes requested still match
    # the exact match is bound: the next level up of modes
    assert pick([RWO], refs=[None, "other", None]) == "gce"
    assert pick([RWO], refs=["other", "other", None]) == "nfs"  # continue up the levels
    assert pick([ROX], refs=[None, "other", None]) == "gce"  # partial mode request


def test_matching_skips_bound_volumes():
    # index_test.go TestMatchingWithBoundVolumes: two 1G RWO+ROX volumes, gce001 bound to
    # another claim; a 1G RWO+ROX claim gets gce002.
    mask = sem.access_mode_mask([RWO, ROX])
    j, pre = _find(1 * G, [G, G], [mask, mask], [ROX, RWO], refs=["other", None])
    assert (j, pre) == (1, False)


def test_all_possible_matching_access_modes():
    # index_test.go TestAllPossibleAccessModes: with RWO+ROX and RWO+ROX+RWX volumes indexed
    # (plus an RWO-only set here), every set matching RWO contains RWO, fewest modes first;
    # only the RWO+ROX+RWX set matches RWX.
    sets = [sem.access_mode_mask(m) for m in ([RWO, ROX], [RWO, ROX, RWX], [RWO])]
    rwo = sem.matching_access_mode_sets(sets, sem.access_mode_mask([RWO]))
    assert rwo == [sets[2], sets[0], sets[1]]
    assert sem.matching_access_mode_sets(sets, sem.access_mode_mask([RWX])) == [sets[1]]
    # equal numbers of modes: tie keys (Go's unstable sort over map keys) decide the order
    a, b = sem.access_mode_mask([RWO, ROX]), sem.access_mode_mask([RWO, RWX])
    keys = np.zeros(16)
    keys[a], keys[b] = 0.9, 0.1
    assert sem.matching_access_mode_sets([a, b], 1, keys) == [b, a]


def test_find_matching_volume_prebound_and_delay_binding():
    # pv_helpers.go FindMatchingVolume: a pre-bound volume too small is skipped, one large
    # enough wins over a smaller unbound one; with delayBinding and no node only it binds.
    no = [False] * 3
    common = dict(bound_elsewhere=no, mode_mismatch=no, deleting=no, available=[True] * 3)
    common["class_matches"] = [True] * 3
    pre = [True, False, True]
    assert sem.find_matching_volume(5, [4, 6, 50], bound_to_claim=pre, **common) == (2, True)
    assert sem.find_matching_volume(60, [4, 6, 50], bound_to_claim=pre, **common) == (-1, False)
    unbound = [False] * 3
    delayed = sem.find_matching_volume(
        5, [4, 6, 50], bound_to_claim=unbound, delay_binding=True, **common
    )
    assert delayed == (-1, False)
    # the scheduler path (node) checks access modes; the controller's does not
    modes_ok = [True, False, True]
    node = sem.find_matching_volume(
        5, [4, 6, 50], bound_to_claim=unbound, node=True, delay_binding=True,
        access_modes_ok=modes_ok, **common,
    )  # fmt: skip
    assert node == (2, False)
    assert sem.find_matching_volume(
        5, [4, 6, 50], bound_to_claim=unbound, access_modes_ok=modes_ok, **common
    ) == (1, False)


@pytest.mark.parametrize(
    ("field", "value"),
    [("deleting", [True, False]), ("available", [False, True]), ("class_matches", [False, True]),
     ("mode_mismatch", [True, False]), ("excluded", [True, False]),
     ("selector_ok", [False, True])],
)  # fmt: skip
def test_each_filter_skips_the_smaller_volume(field, value):
    # FindMatchingVolume's filters, one at a time: the 10 G volume fails it, so 20 G wins.
    base = dict(
        bound_to_claim=[False, False], bound_elsewhere=[False, False],
        mode_mismatch=[False, False], deleting=[False, False], available=[True, True],
        class_matches=[True, True],
    )  # fmt: skip
    base[field] = value
    assert sem.find_matching_volume(5 * G, [10 * G, 20 * G], **base) == (1, False)


def test_is_volume_bound_to_claim():
    # pv_helpers.go IsVolumeBoundToClaim: name and namespace equal; UID only when set
    assert sem.is_volume_bound_to_claim(("ns", "c", ""), ("ns", "c", "u"))
    assert not sem.is_volume_bound_to_claim(("other", "c", ""), ("ns", "c", "u"))
    assert not sem.is_volume_bound_to_claim(("ns", "c", "u0"), ("ns", "c", "u1"))
    assert not sem.is_volume_bound_to_claim(("", "", ""), ("default", "c", ""))


def test_volume_mode_and_access_mode_checks():
    # CheckVolumeModeMismatches defaults nil to Filesystem; CheckAccessModes wants all modes
    assert sem.volume_mode_mismatch("", ["Filesystem", "Block"]).tolist() == [False, True]
    claim = sem.access_mode_mask([RWO, ROX])
    vols = [sem.access_mode_mask(m) for m in ([RWO], [RWO, ROX], [ROX, RWX, RWO])]
    assert sem.check_access_modes(claim, vols).tolist() == [False, True, True]


def test_check_volume_satisfy_claim_lists_every_problem_in_order():
    # pv_controller.go checkVolumeSatisfyClaim: deletion, size, class, volumeMode, accessMode
    problems = sem.check_volume_satisfy_claim(
        deleting=True, capacity_bytes=1, request_bytes=2, class_matches=False,
        mode_mismatch=True, access_modes_ok=False,
    )  # fmt: skip
    assert problems == [
        "the volume is marked for deletion",
        "requested PV is too small",
        "storageClassName does not match",
        "incompatible volumeMode",
        "incompatible accessMode",
    ]


def test_delay_binding_provisioning_and_sizes():
    classes = {
        "wffc": {"provisioner": "ebs.csi.aws.com", "volume_binding_mode": "WaitForFirstConsumer"},
        "local": {"provisioner": sem.NO_PROVISIONER, "volume_binding_mode": "Immediate"},
    }
    # IsDelayBindingMode: no class or an unknown class means Immediate
    assert [sem.is_delay_binding_mode(c, classes) for c in ("wffc", "local", "", "x")] == [
        True, False, False, False,
    ]  # fmt: skip
    # checkVolumeProvisions / syncUnboundClaim: no class, missing class, no-provisioner
    assert sem.provisioning_blocker("wffc", classes) is None
    assert sem.provisioning_blocker("local", classes)[0] == "no_matching_volume"
    assert sem.provisioning_blocker("x", classes)[0] == "class_not_found"
    assert sem.provisioning_blocker("", classes)[0] == "no_matching_volume"
    # binder.go byPVCSize: increasing request
    assert sem.claims_by_size([20 * G, 5 * G, 10 * G]).tolist() == [1, 2, 0]
    # util.RoundUpGiB: 1.5e9 bytes -> 2 GiB; an exact GiB stays
    assert sem.provisioned_bytes(1_500_000_000, 2**30) == 2 * 2**30
    assert sem.provisioned_bytes(2**30, 2**30) == 2**30
