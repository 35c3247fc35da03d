"""Balancing policies: one module per policy, and this registry, the only place that knows them all.

Each module holds one policy's

* **semantics**: its docstring cites the real mechanism's source, and a plain
  ``choose(...)`` function applies the rule to one decision (the tests check the
  simulator against it request by request);
* **simulation hooks**: a :class:`Policy` subclass. A static policy assigns every
  request at once (``assign``; optionally ``fast_ok``/``fast_segments`` for the
  sort-free path and ``expected_share`` for overload). A state-dependent one sets
  ``state_dependent = True`` and gives ``draw_candidates`` (all randomness, drawn
  before the loop), ``pick`` (one step, numpy across replications) and, if it
  learns from responses, ``on_complete``;
* **theory hook**: ``theory_row(ctx)`` returning
  :func:`k8smodel.lb.queueing.theory_row` (``method``, ``exact``, times in seconds).

Adding a policy is one new module plus its tests::

    # k8smodel/lb/policies/first_free.py
    class FirstFreePolicy(Policy):
        name = "first_free"
        aliases = {"some-proxy-first": {}}
        state_dependent = True
        counts_in_flight = True

        def pick(self, state, j, t, view):
            counts, _ = state.view_block(state.counts, view)
            return (counts == 0).argmax(axis=0)

        def theory_row(self, ctx):
            return theory_row("none", False, ctx.utilization < 1)

and one line in :data:`_MODULES` below.

The policies (names and aliases, case-insensitive, ``-`` and ``_`` alike):

``random`` (``iptables``, ``nftables``), ``round_robin`` (``ipvs-rr``, ``userspace``),
``least_connections`` (``nginx-least-conn``, ``haproxy-leastconn``), ``power_of_two``
(``envoy-least-request``, ``nginx-random-two``, ``haproxy-random``), ``ewma``
(``ingress-nginx-ewma``).

Connection-level balancing (``requests_per_connection > 1``) applies the same policy
per new connection; least connections and power of d then count open connections
per pod, as an L4 balancer (IPVS ``lc``, nginx ``stream``) does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k8smodel._validate import describe
from k8smodel.lb.policies import ewma, least_connections, power_of_two, random, round_robin
from k8smodel.lb.policies._base import Policy

__all__ = ["ALIASES", "POLICIES", "Policy", "option_users", "resolve"]

_MODULES = (random, round_robin, least_connections, power_of_two, ewma)


def _policy_of(module: Any) -> Policy:
    classes = [
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Policy) and v is not Policy
    ]  # fmt: skip
    return classes[0]()


#: Canonical name -> the policy (its hooks).
POLICIES: Mapping[str, Policy] = {p.name: p for p in map(_policy_of, _MODULES)}

#: Alias -> (canonical name, options it implies).
ALIASES: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    alias: (p.name, dict(implied))
    for p in POLICIES.values()
    for alias, implied in p.aliases.items()
}


def option_users(key: str) -> list[str]:
    """The policies that read option ``key``."""
    return sorted(name for name, p in POLICIES.items() if key in p.options)


def resolve(policy: Any) -> tuple[Policy, str, dict[str, Any]]:
    """A policy name or alias -> (policy, alias as normalized, options the alias implies).

    Raises
    ------
    TypeError
        If ``policy`` is not a string.
    ValueError
        For an unknown name; the message lists the policies and aliases.

    Examples
    --------
    >>> rule, alias, implied = resolve("HAProxy_leastconn")
    >>> rule.name, alias, implied
    ('least_connections', 'haproxy-leastconn', {'shared_state': True})
    """
    known = f"one of {list(POLICIES)} or an alias {sorted(ALIASES)}"
    if not isinstance(policy, str):
        raise TypeError(f"policy must be {known}; got {type(policy).__name__} {describe(policy)}")
    key = policy.strip().lower()
    if key.replace("-", "_") in POLICIES:
        name = key.replace("-", "_")
        return POLICIES[name], name, {}
    alias = key.replace("_", "-")
    if alias in ALIASES:
        name, implied = ALIASES[alias]
        return POLICIES[name], alias, dict(implied)
    raise ValueError(f"policy must be {known}; got {describe(policy)}")
