"""Random-number handling shared by every stochastic model.

Every stochastic function in k8smodel takes ``rng`` and turns it into a
:class:`numpy.random.Generator` once, through :func:`as_generator`. Nothing
touches numpy's global state. Independent streams for replications or sweep
points come from :func:`spawn_seeds` / :func:`spawn`, which use
:meth:`numpy.random.SeedSequence.spawn`, so a stream depends only on the root
seed and its position, never on which process or thread consumes it.
"""

from __future__ import annotations

import numbers

import numpy as np

RngLike = int | np.integer | np.random.Generator | np.random.SeedSequence | None

_ALLOWED = "an int >= 0, a numpy.random.Generator, a numpy.random.SeedSequence or None"


def _root_seed_sequence(rng: RngLike) -> np.random.SeedSequence:
    """Return the SeedSequence that ``rng`` stands for (see :func:`as_generator`)."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        # Spawning (rather than drawing) leaves the caller's stream untouched.
        seed_seq = rng.bit_generator.seed_seq
        if not isinstance(seed_seq, np.random.SeedSequence):
            raise TypeError("rng must be a Generator seeded by a numpy SeedSequence")
        return seed_seq.spawn(1)[0]
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be {_ALLOWED}; got the negative integer {rng}")
        return np.random.SeedSequence(int(rng))
    raise TypeError(f"rng must be {_ALLOWED}; got {type(rng).__name__} {rng!r}")


def as_generator(rng: RngLike = None) -> np.random.Generator:
    """Turn ``rng`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        ``None`` seeds from fresh OS entropy; an int or a SeedSequence seeds
        deterministically; a Generator is not consumed: a child stream is
        spawned from it, so the caller's own stream is left as it was.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator.

    Raises
    ------
    TypeError
        If ``rng`` is of another type.
    ValueError
        If ``rng`` is a negative integer.
    """
    return np.random.Generator(np.random.PCG64(_root_seed_sequence(rng)))


def spawn_seeds(rng: RngLike, n: int) -> list[np.random.SeedSequence]:
    """Return ``n`` independent child seed sequences of ``rng``.

    Parameters
    ----------
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The root, interpreted as in :func:`as_generator`.
    n : int
        How many children, ``n >= 0``.

    Returns
    -------
    list of numpy.random.SeedSequence
        Child ``i`` depends only on the root and ``i``; children are small and
        picklable, so they can travel to worker processes.

    Notes
    -----
    Uses :meth:`numpy.random.SeedSequence.spawn`, whose children are designed
    to give non-overlapping streams (O'Neill, PCG report, 2014; numpy
    "Parallel random number generation" guide).
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a whole number >= 0; got {n!r}")
    return _root_seed_sequence(rng).spawn(int(n))


def spawn(rng: RngLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent Generators, children of ``rng`` (see :func:`spawn_seeds`)."""
    return [np.random.Generator(np.random.PCG64(s)) for s in spawn_seeds(rng, n)]
