"""The collaborator ChatSession asks for an agent (`choose`) and tells outcomes to
(`feedback`, `provider_failed`); it keeps the pheromone in the store, so every process
(the chat, `ask`, cron jobs) shares one trail.

Quality is read from the store on every draw and evaporated to the current time; a
feedback reads, updates and writes one row. Provider errors go to the health table only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tokenopt_tui.config import AgentSpec
from tokenopt_tui.core.agents.pheromone import DEFAULT_PARAMS, PheromoneParams, Quality
from tokenopt_tui.core.agents.select import EXPLORATION_FLOOR, Candidate, draw, probabilities
from tokenopt_tui.core.events import AgentChosen
from tokenopt_tui.store.agents import AgentQualityRow
from tokenopt_tui.store.queries import parse_utc_timestamp, utc_timestamp

if TYPE_CHECKING:
    from tokenopt_tui.store import Store

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AgentChoice:
    """The agent drawn for a request and the event that says so."""

    spec: AgentSpec
    event: AgentChosen


@dataclass(frozen=True)
class Standing:
    """One agent for one task type, as `tokenopt agents` lists it."""

    agent: str
    task_type: str
    fit: float
    tau: float
    samples: float
    chance: float


class AgentPicker:
    """Draws agents by τ × fit (see select.py) and keeps their pheromone in the store."""

    def __init__(self, specs: Sequence[AgentSpec], store: Callable[[], Store], *,
                 rng: random.Random | None = None, clock: Clock = _utc_now,
                 params: PheromoneParams = DEFAULT_PARAMS,
                 floor: float = EXPLORATION_FLOOR) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._store = store
        self.rng = rng or random.Random()
        self.clock = clock
        self.params = params
        self.floor = floor

    async def qualities(self) -> dict[tuple[str, str], Quality]:
        """Every stored (agent, task type) quality, evaporated to now."""
        now = self.clock()
        return {(r.agent, r.task_type):
                Quality(r.alpha, r.beta, parse_utc_timestamp(r.updated_at)).at(now, self.params)
                for r in await self._store().agent_qualities()}

    def _candidates(self, task_type: str,
                    known: dict[tuple[str, str], Quality]) -> list[Candidate]:
        now = self.clock()
        found = []
        for spec in self.specs.values():
            quality = known.get((spec.name, task_type)) or Quality.prior(now, self.params)
            found.append(Candidate(spec.name, quality.tau(self.params),
                                   spec.fit.get(task_type, 0.0), quality.samples(self.params)))
        return found

    async def choose(self, task_type: str) -> AgentChoice | None:
        """Draw the agent for a request of `task_type` (None when no agent fits it)."""
        result = draw(self._candidates(task_type, await self.qualities()), self.rng,
                      self.floor)
        if result is None:
            return None
        chosen = result.chosen
        return AgentChoice(self.specs[chosen.name], AgentChosen(
            chosen.name, task_type, round(chosen.tau, 4), round(chosen.samples),
            round(result.floor, 4), result.candidates, round(result.weight, 4)))

    async def feedback(self, agent: str, task_type: str, good: bool, source: str) -> float:
        """One outcome (a rating, an escalation, …) for `agent` on `task_type`; the new τ."""
        store = self._store()
        now = self.clock()
        row = await store.agent_quality(agent, task_type)
        before = (Quality(row.alpha, row.beta, parse_utc_timestamp(row.updated_at))
                  if row is not None else Quality.prior(now, self.params))
        after = before.record(good, now, self.params)
        tau = after.tau(self.params)
        await store.save_agent_quality(AgentQualityRow(
            agent, task_type, after.alpha, after.beta, utc_timestamp(after.updated_at)),
            round(tau, 4), source)
        return tau

    async def provider_failed(self, agent: str) -> None:
        """A provider error while `agent` answered: health only, quality untouched."""
        await self._store().record_agent_error(agent, utc_timestamp(self.clock()))

    async def standings(self) -> list[Standing]:
        """Every agent × task type with τ, samples and its chance in a draw now."""
        from tokenopt_tui.config import AGENT_TASK_TYPES

        known = await self.qualities()
        rows = []
        for task_type in AGENT_TASK_TYPES:
            candidates = self._candidates(task_type, known)
            chances, _floor = probabilities(candidates, self.floor)
            rows += [Standing(c.name, task_type, c.fit, c.tau, c.samples,
                              chances.get(c.name, 0.0)) for c in candidates]
        return rows
