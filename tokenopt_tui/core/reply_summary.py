"""One request's outcome folded from its events: what `tokenopt ask --json` prints.

The CLI feeds every event of a request to `ReplySummary.add` and prints `as_dict()`;
the shape (keys and their order) is the JSON contract of `ask --json`, so scripts and
cron jobs can rely on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokenopt_tui.core.events import (
    AgentChosen,
    CacheHit,
    ErrorOccurred,
    Event,
    ReplyCompleted,
    ReplyCut,
    SessionHalted,
    TierChosen,
    TierFailed,
    UsageRecorded,
)


class ReplySummary:
    """The answer, the tier that gave it, every attempt, usage and cost, and the events
    (all but per-token progress) of one request."""

    def __init__(self, session_id: int | None = None) -> None:
        self.result: dict[str, Any] = {
            "answer": "", "session_id": session_id, "tier": None, "tier_name": None,
            "model": None, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0,
            "estimated": False, "interrupted": False, "cut": None, "reasons": [],
            "attempts": [], "error": None, "halted": False, "budget": None, "events": []}

    @property
    def answer(self) -> str:
        return str(self.result["answer"])

    @property
    def error(self) -> str | None:
        error = self.result["error"]
        return None if error is None else str(error)

    @property
    def halted(self) -> bool:
        return bool(self.result["halted"])

    def add(self, event: Event) -> None:
        """Fold one event in; tokens and model preparation are progress, not outcome."""
        if not event.persist:
            return
        self.result["events"].append(event.to_dict())
        fold = _FOLDS.get(type(event))
        if fold is not None:
            fold(self.result, event)

    def set_budget(self, used: int, limit: int, level: str) -> None:
        """The session's budget after the request (read from the session, not events)."""
        self.result["budget"] = {"used": used, "limit": limit, "level": level}

    def as_dict(self) -> dict[str, Any]:
        return self.result


def _agent(result: dict[str, Any], event: AgentChosen) -> None:
    """The agent drawn for the request: an "agent" key, present only when agents are on
    (the keys before it keep their order)."""
    from tokenopt_tui.core.presenter import agent_line

    result["agent"] = {"name": event.agent, "task_type": event.task_type, "tau": event.tau,
                       "samples": event.samples, "floor": event.floor,
                       "candidates": event.candidates, "weight": event.weight,
                       "line": agent_line(event)}


def _cache_hit(result: dict[str, Any], _event: CacheHit) -> None:
    """Answered from the result cache: a "cached" key, present only then (the keys
    before it keep their order); its tokens and cost are the 0 and $0 of this time."""
    result["cached"] = True


def _chosen(result: dict[str, Any], event: TierChosen) -> None:
    result.update(tier=event.tier, tier_name=event.tier_name, model=event.model)
    if not result["reasons"]:  # why the first choice was made
        result["reasons"] = list(event.reasons)
    result["attempts"].append({"tier": event.tier, "model": event.model, "ok": True,
                               "fault": None, "error": None})


def _failed(result: dict[str, Any], event: TierFailed) -> None:
    if event.skipped:
        result["attempts"].append({"tier": event.tier, "model": event.model, "ok": False,
                                   "skipped": True, "fault": event.fault,
                                   "error": event.error})
    elif result["attempts"]:
        result["attempts"][-1].update(ok=False, fault=event.fault, error=event.error)


def _usage(result: dict[str, Any], event: UsageRecorded) -> None:
    result["prompt_tokens"] += event.prompt_tokens
    result["completion_tokens"] += event.completion_tokens
    result["cost_usd"] += event.cost_usd
    result["estimated"] = result["estimated"] or event.estimated


def _completed(result: dict[str, Any], event: ReplyCompleted) -> None:
    result.update(answer=event.text, interrupted=event.interrupted)


def _cut(result: dict[str, Any], event: ReplyCut) -> None:
    result["cut"] = {"limit": event.limit, "detail": event.detail}


def _error(result: dict[str, Any], event: ErrorOccurred) -> None:
    result["error"] = event.message


def _halted(result: dict[str, Any], _event: SessionHalted) -> None:
    result["halted"] = True


_FOLDS: dict[type[Event], Callable[[dict[str, Any], Any], None]] = {
    AgentChosen: _agent, TierChosen: _chosen, TierFailed: _failed, UsageRecorded: _usage,
    ReplyCompleted: _completed, ReplyCut: _cut, ErrorOccurred: _error,
    SessionHalted: _halted, CacheHit: _cache_hit,
}
