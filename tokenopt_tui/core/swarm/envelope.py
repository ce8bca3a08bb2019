"""The swarm's envelope: tokens reserved out of the parent's remaining budget before
anything is sent, split between the roles; every call is paid out of its role's share
and nothing is ever spent beyond the reservation."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenopt_tui.config import SwarmSettings
from tokenopt_tui.core.events import Role

ROLES: tuple[Role, ...] = ("explorer", "worker", "validator")


class SwarmRefused(ValueError):
    """The cycle cannot start (too little budget left); the message says why."""


@dataclass(frozen=True)
class Plan:
    """The reservation and each role's share of it (the shares add up to it exactly)."""

    reserved: int
    shares: dict[Role, int]


def plan_envelope(settings: SwarmSettings, remaining: int) -> Plan:
    """Reserve min(`reserve_tokens`, `remaining`) and split it by the configured shares.

    Raises SwarmRefused when that is below `floor_tokens`: three roles cannot do useful
    work in less, and a cycle must never borrow beyond the parent's budget."""
    reserved = min(settings.reserve_tokens, max(remaining, 0))
    if reserved < settings.floor_tokens:
        raise SwarmRefused(
            f"the session has {max(remaining, 0):,} tokens of budget left; a swarm cycle needs "
            f"at least {settings.floor_tokens:,} (swarm.floor_tokens). Start a new session "
            "or raise its budget.")
    explorer = int(reserved * settings.explorer_share)
    worker = int(reserved * settings.worker_share)
    return Plan(reserved, {"explorer": explorer, "worker": worker,
                           "validator": reserved - explorer - worker})


@dataclass
class Envelope:
    """What each role has spent of its share; a retry draws on what is left of it."""

    plan: Plan
    used: dict[Role, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))

    def left(self, role: Role) -> int:
        return max(self.plan.shares[role] - self.used[role], 0)

    def charge(self, role: Role, tokens: int) -> None:
        self.used[role] += tokens

    @property
    def total_used(self) -> int:
        return sum(self.used.values())

    @property
    def overspent(self) -> bool:
        """True only if a provider sent more than it was allowed in one piece."""
        return self.total_used > self.plan.reserved or any(
            self.used[role] > self.plan.shares[role] for role in ROLES)
