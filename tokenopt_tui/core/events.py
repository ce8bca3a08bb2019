"""Typed events: what happened during a request, named as facts in the past tense.

The orchestrator yields them, the store persists them (except per-token ones),
the UI and the CLI render them, and tests assert on them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """Base class; `persist` says whether the store keeps a row for it."""

    persist: ClassVar[bool] = True
    #: Fields left out of the stored row because the store already has them elsewhere.
    not_stored: ClassVar[tuple[str, ...]] = ()

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    def stored_dict(self) -> dict[str, Any]:
        """The payload of the event's row in the store."""
        return {k: v for k, v in self.to_dict().items() if k not in self.not_stored}


@dataclass(frozen=True)
class SessionStarted(Event):
    session_id: int
    session_type: str


@dataclass(frozen=True)
class ModelPreparing(Event):
    """Progress while the embedded model is prepared (assemble, convert, write, load)."""

    persist: ClassVar[bool] = False
    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class TierChosen(Event):
    tier: int
    tier_name: str
    provider: str
    model: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenReceived(Event):
    persist: ClassVar[bool] = False
    text: str


@dataclass(frozen=True)
class UsageRecorded(Event):
    """One model call's usage, and the session's running total after it."""

    tier: int
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    estimated: bool
    session_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class ReplyCompleted(Event):
    """A reply ended; its text is stored once, in its message row (`message_id`)."""

    not_stored: ClassVar[tuple[str, ...]] = ("text",)
    message_id: int
    text: str
    interrupted: bool
    tier: int
    model: str


@dataclass(frozen=True)
class ErrorOccurred(Event):
    """A failure the user should read; `where` names the endpoint, file or step."""

    message: str
    where: str = ""


@dataclass(frozen=True)
class BudgetWarned(Event):
    """The session crossed a threshold: `level` "warn" (suggest /compact) or "compress"
    (compression runs before the next call)."""

    used: int
    limit: int
    percent: int = 0
    level: str = "warn"


@dataclass(frozen=True)
class ContextCompacted(Event):
    """The context sent to models was compacted; the originals stay in the store.

    `upto` messages of the session's history are replaced by `summary` in what is
    sent; `method` says who wrote it and `cost_tokens`/`cost_usd` what it cost.
    """

    trigger: str
    tokens_before: int
    tokens_after: int
    kept: tuple[str, ...] = field(default_factory=tuple)
    compressed: tuple[str, ...] = field(default_factory=tuple)
    dropped: tuple[str, ...] = field(default_factory=tuple)
    method: str = "extractive"
    cost_tokens: int = 0
    cost_usd: float = 0.0
    upto: int = 0
    summary: str = ""


@dataclass(frozen=True)
class ContentReferenced(Event):
    """A message too long to send whole: the model sees `view_tokens` of excerpt and
    identifiers; the full text stays in the store as message `message_id`."""

    message_id: int
    role: str
    tokens: int
    view_tokens: int


@dataclass(frozen=True)
class SessionHalted(Event):
    """The budget is used up: no further model call in this session.

    `summary` seeds a new session; `pending` is the request that was refused (not
    stored in this session, handed back to the user)."""

    used: int
    limit: int
    summary: str
    pending: str = ""


@dataclass(frozen=True)
class SkillLoaded(Event):
    """A skill's body goes to the model with this request: why, and what it costs."""

    skill_name: str
    tokens: int
    score: float
    reason: str = ""
    latency_ms: float = 0.0


@dataclass(frozen=True)
class TierFailed(Event):
    """An attempt failed (the router moves down the chain) or an endpoint was skipped."""

    tier: int
    model: str
    endpoint: str
    fault: str  # connection, timeout, rate_limit, server, …; unavailable/cooldown when skipped
    error: str
    skipped: bool = False


@dataclass(frozen=True)
class PaidEscalated(Event):
    """A paid model is about to be called: announced, never silent."""

    tier: int
    model: str
    reason: str


@dataclass(frozen=True)
class ReplyCut(Event):
    """A client-side limit ended the reply early; the text so far is the answer.

    `limit` names the setting ("max_tokens" or "request_timeout_s"); `detail` says
    what happened in words."""

    limit: str
    detail: str
