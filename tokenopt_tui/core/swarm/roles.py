"""Who plays each role and on which tier: the Explorer is the analyst on a free tier
(tier 2 when it is free, else the first free one), the Worker is devops or creator drawn
by pheromone, the Validator is analyst or memory on the cheapest tier."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenopt_tui.config import AgentSpec, Config
from tokenopt_tui.core.events import Role
from tokenopt_tui.core.ports import agents_of

if TYPE_CHECKING:
    from tokenopt_tui.core.agents.picker import AgentPicker
    from tokenopt_tui.core.ports import SessionDeps

WORKERS = ("devops", "creator")
VALIDATORS = ("analyst", "memory")
EXPLORER = "analyst"


@dataclass(frozen=True)
class Cast:
    """An agent for a role: its name, its system prompt and its pinned tier."""

    agent: str
    prompt: str
    tier: int


def free_tiers(config: Config) -> list[int]:
    return sorted(t.number for t in config.tiers if not t.paid)


def _known(config: Config, number: int) -> bool:
    return any(t.number == number for t in config.tiers)


def _tier(config: Config, configured: int, preferred: Sequence[int]) -> int:
    """`configured` when set (0: not), else the first preferred free tier, else the
    first free tier (the lowest tier when none is free)."""
    if configured:
        return configured
    free = free_tiers(config)
    for number in preferred:
        if number in free:
            return number
    if free:
        return free[0]
    return min((t.number for t in config.tiers), default=1)


def _spec(config: Config, name: str) -> AgentSpec:
    found = next((spec for spec in config.agents if spec.name == name), None)
    return found or AgentSpec(name, "")


def explorer(config: Config) -> Cast:
    spec = _spec(config, EXPLORER)
    return Cast(spec.name, spec.system_prompt,
                _tier(config, config.swarm.explorer_tier, (2,)))


def explorer_casts(config: Config, first: Cast) -> list[Cast]:
    """The Explorer, then the same on the first free tier when that is another tier
    (tried only if the first call fails)."""
    fallback = _tier(config, 0, ())
    return [first] if fallback == first.tier else [first, Cast(first.agent, first.prompt,
                                                               fallback)]


def validator(config: Config, task_type: str) -> Cast:
    """Analyst or memory, whichever fits the task type better (analyst on a tie), on
    the cheapest (first free) tier."""
    specs = [_spec(config, name) for name in VALIDATORS]
    spec = max(specs, key=lambda s: (s.fit.get(task_type, 0.0), s.name == "analyst"))
    return Cast(spec.name, spec.system_prompt, _tier(config, config.swarm.validator_tier, ()))


def worker_picker(services: SessionDeps) -> AgentPicker:
    """A picker over devops and creator only, sharing the pheromone in the store (and
    the chat's picker's random source and clock when agents are on)."""
    from tokenopt_tui.core.agents.picker import AgentPicker

    config = services.config
    specs = [spec for spec in config.agents if spec.name in WORKERS] or [
        AgentSpec(name, "", fit={"code": 1.0, "ops": 1.0, "chat": 1.0}) for name in WORKERS]
    chat = agents_of(services)
    if isinstance(chat, AgentPicker):
        return AgentPicker(specs, lambda: services.store, rng=chat.rng, clock=chat.clock,
                           params=chat.params, floor=chat.floor)
    return AgentPicker(specs, lambda: services.store)


async def worker(config: Config, picker: AgentPicker, task_type: str, floor: int = 1,
                 usable: Collection[int] | None = None) -> Cast:
    """The Worker drawn by pheromone for `task_type` (the better fit when neither fits),
    on a free tier at least as strong as `floor`, the classifier's tier for the task: a
    Worker below it loses capability whatever the Validator says (the bench measured
    0/10 needs met with the Worker on the agents' first preferred tier, the local one)."""
    choice = await picker.choose(task_type)
    spec = choice.spec if choice is not None else max(
        picker.specs.values(), key=lambda s: (s.fit.get(task_type, 0.0), s.name))
    if config.swarm.worker_tier:
        return Cast(spec.name, spec.system_prompt, config.swarm.worker_tier)
    return Cast(spec.name, spec.system_prompt,
                worker_tier(config, spec.preferred_tiers, floor, usable))


def worker_tier(config: Config, preferred: Sequence[int], floor: int,
                usable: Collection[int] | None = None) -> int:
    """The first preferred free tier at or above `floor`, else the lowest free tier at
    or above it, else the strongest free tier below it; among the `usable` ones (an
    endpoint available, not cooling down) when any free tier is, since a pinned role
    gets no fallback. Never a paid tier: the cycle never pays silently."""
    free = free_tiers(config)
    if usable is not None:
        free = [t for t in free if t in usable] or free
    up = [t for t in free if t >= floor]
    for number in preferred:
        if number in up:
            return number
    if up:
        return up[0]
    return free[-1] if free else min((t.number for t in config.tiers), default=1)


def is_free(config: Config, tier: int) -> bool:
    return tier in free_tiers(config) or not _known(config, tier)


def role_estimate(config: Config, reserved: int, casts: dict[Role, Cast]) -> str:
    """The plan in words: "3 roles ≈ 9k tokens, free tiers"."""
    paid = sorted({c.tier for c in casts.values() if not is_free(config, c.tier)})
    where = "free tiers" if not paid else f"paid tier {', '.join(map(str, paid))} used"
    size = f"{reserved / 1000:.0f}k" if reserved >= 1000 else f"{reserved}"
    return f"3 roles ≈ {size} tokens, {where}"
