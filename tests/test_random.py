import numpy as np
import pytest

from k8smodel._random import as_generator, spawn, spawn_seeds


def test_int_seed_is_deterministic():
    assert as_generator(7).random() == as_generator(7).random()
    assert as_generator(7).random() != as_generator(8).random()


def test_seed_sequence_and_int_agree():
    assert as_generator(np.random.SeedSequence(5)).random() == as_generator(5).random()


def test_generator_is_not_consumed_but_spawned():
    parent = np.random.default_rng(3)
    untouched = np.random.default_rng(3).random()
    child = as_generator(parent)
    assert child is not parent
    assert parent.random() == untouched  # spawning leaves the caller's stream as it was
    assert as_generator(parent).random() != child.random()  # each call spawns a new child


def test_spawned_children_are_distinct_and_reproducible():
    a = [g.random() for g in spawn(11, 4)]
    b = [g.random() for g in spawn(11, 4)]
    assert a == b
    assert len(set(a)) == 4
    assert len(spawn_seeds(11, 0)) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "seed", True])
def test_bad_rng_names_what_is_allowed(bad):
    with pytest.raises((TypeError, ValueError), match="rng must be"):
        as_generator(bad)


def test_bad_count():
    with pytest.raises(ValueError, match="n must be"):
        spawn_seeds(1, -2)
