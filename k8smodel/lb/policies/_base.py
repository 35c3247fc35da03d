"""The hooks every balancing policy provides (see the package docstring for how to add one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from k8smodel.lb.kernels import BufferFn, FastSegments, LoopState
    from k8smodel.lb.queueing import TheoryContext
    from k8smodel.lb.spec import LbSpec

__all__ = ["Policy"]


class Policy:
    """A balancing policy: its semantics, its simulation hooks and its theory hook.

    Subclasses set the class attributes and override the hooks that apply: a
    *static* policy (``state_dependent = False``) assigns every request's pod at
    once (:meth:`assign`, optionally :meth:`fast_segments`); a *state-dependent*
    one picks per request inside the event loop (:meth:`draw_candidates`,
    :meth:`pick`, :meth:`on_complete`). Every policy gives :meth:`theory_row`.
    Each module also defines a plain reference ``choose`` rule for one decision,
    cited to its source, against which the tests check the simulator.
    """

    #: Canonical name.
    name: ClassVar[str] = ""
    #: Alias (the real mechanism, lower case with ``-``) -> options it implies.
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: Values of ``choices``/``distinct``/``shared_state`` when neither caller nor alias sets them.
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: Optional parameters this policy reads.
    options: ClassVar[frozenset[str]] = frozenset()
    #: Whether integer balancer weights apply.
    weighted: ClassVar[bool] = False
    #: Why weights are refused, when ``weighted`` is False.
    why_no_weights: ClassVar[str] = ""
    #: Whether the choice depends on the state (the event loop) or not (assigned in bulk).
    state_dependent: ClassVar[bool] = False
    #: Whether the loop keeps in-flight request counts per pod.
    counts_in_flight: ClassVar[bool] = False
    #: Whether the loop feeds finished responses back to the policy (:meth:`on_complete`).
    learns_responses: ClassVar[bool] = False
    #: The rule of the compiled loop (:mod:`k8smodel.lb._compiled`) that does what :meth:`pick`
    #: does, or None to step with :meth:`pick` (numpy across replications).
    compiled_rule: ClassVar[int | None] = None

    def uses(self, key: str, value: Any) -> bool:
        """Whether the caller may set option ``key`` to ``value`` for this policy."""
        return key in self.options

    def check_spec(self, spec: LbSpec) -> None:
        """Refuse combinations the policy does not model (default: none)."""

    # -- simulation hooks: static policies ------------------------------------------------
    def expected_share(self, spec: LbSpec) -> np.ndarray:
        """Long-run share of requests per pod (static policies; decides overload)."""
        raise NotImplementedError

    def fast_ok(self, spec: LbSpec, requests: int) -> bool:
        """Whether :meth:`fast_segments` applies (single-thread pods, one decision per request)."""
        return False

    def fast_segments(
        self,
        gen: np.random.Generator,
        spec: LbSpec,
        rows: int,
        requests: int,
        warmup: float,
        buf: BufferFn,
    ) -> FastSegments:
        """Arrivals laid out pod after pod, for the sort-free FIFO kernel.

        ``buf(key, shape)`` returns a work array reused across chunks of replications.
        """
        raise NotImplementedError

    def assign(
        self,
        gen: np.random.Generator,
        spec: LbSpec,
        shape: tuple[int, int],
        dispatcher: np.ndarray | None,
        conn: tuple[np.ndarray, np.ndarray, int] | None,
    ) -> np.ndarray:
        """The pod of every request, shape ``(replications, requests)`` (static policies)."""
        raise NotImplementedError

    # -- simulation hooks: state-dependent policies --------------------------------------
    def forced_overload(self, spec: LbSpec) -> np.ndarray:
        """Pods offered at least their capacity whatever the state (default: when rho >= 1)."""
        return np.full(spec.pods, float(spec.utilization or 0.0) >= 1)

    def draw_candidates(
        self, gen: np.random.Generator, spec: LbSpec, n: int, reps: int
    ) -> np.ndarray | None:
        """Random candidates for every step, drawn in bulk before the loop: ``(n, reps, d)``."""
        return None

    def init_state(self, state: LoopState) -> None:
        """Allocate policy-specific state (default: nothing)."""

    def pick(self, state: LoopState, j: int, t: np.ndarray, view: np.ndarray) -> np.ndarray:
        """The pod chosen for step ``j`` in every replication."""
        raise NotImplementedError

    def on_complete(self, state: LoopState, due: np.ndarray) -> None:
        """Release the finished requests ``due`` (a mask over the pending slots)."""
        gone = np.flatnonzero(due)
        state.counts -= np.bincount(state.pend_key.reshape(-1)[gone], minlength=state.counts.size)
        state.pend_t.reshape(-1)[gone] = np.inf

    # -- theory hook -------------------------------------------------------------------------
    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        """The policy's closed form as one row (:func:`k8smodel.lb.queueing.theory_row`)."""
        raise NotImplementedError
