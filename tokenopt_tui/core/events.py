"""Typed events: what happened during a request, named as facts in the past tense.

The orchestrator yields them, the store persists them (except per-token ones),
the UI and the CLI render them (through `core.presenter`, the one place that puts
them into words), and tests assert on them.

The stored form and its inverse live here together: `Event.stored_dict()` is the
JSON payload of an event's row, `decode_event(kind, payload)` rebuilds the event
from it. Every subclass registers itself by name, so a new event needs no entry in
any list to be decoded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from tokenopt_tui.core.faults import FailureKind

#: Every Event subclass by name (its `kind`), filled in as the classes are defined.
EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    """Base class; `persist` says whether the store keeps a row for it."""

    persist: ClassVar[bool] = True
    #: Fields left out of the stored row because the store already has them elsewhere.
    not_stored: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.__name__] = cls

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
class PromptCompared(Event):
    """How much of this request's prompt repeats the last one from the start: what a
    provider's (or the local tier's) prefix cache can reuse. Shown by /why only."""

    persist: ClassVar[bool] = False
    same_chars: int
    total_chars: int
    first_changed: int  # index of the first message that differs; -1: none does
    changed_role: str = ""


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
    level: Literal["warn", "compress"] = "warn"


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
    """A skill's body goes to the model with this request: why, and what it costs;
    `sections` names the parts sent when the body did not fit whole (empty: all of it)."""

    skill_name: str
    tokens: int
    score: float
    reason: str = ""
    latency_ms: float = 0.0
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class TierFailed(Event):
    """An attempt failed (the router moves down the chain) or an endpoint was skipped."""

    tier: int
    model: str
    endpoint: str
    fault: FailureKind  # connection, timeout, …; unavailable/cooldown/paid_blocked when skipped
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


@dataclass(frozen=True)
class EscalationRequested(Event):
    """The user asked for the last request again, one tier up (the chat's key, /retry up,
    `ask --retry-up`); `message_id` is the answer found wanting, which stays stored."""

    message_id: int
    from_tier: int
    to_tier: int


@dataclass(frozen=True)
class ReplyRated(Event):
    """The user rated a reply (message `message_id`) good or bad."""

    message_id: int
    good: bool


@dataclass(frozen=True)
class AgentChosen(Event):
    """An agent was drawn for this request: its system prompt goes first. `tau` is its
    quality for `task_type` from `samples` outcomes, `weight` its chance in the draw over
    `candidates` agents, each of which kept at least `floor`."""

    agent: str
    task_type: str
    tau: float
    samples: int
    floor: float
    candidates: int
    weight: float


@dataclass(frozen=True)
class CacheHit(Event):
    """The request was answered from the result cache: no model was called. The saved
    tokens are the original call's; `age_s` is how old the stored answer is."""

    key_prefix: str
    saved_prompt_tokens: int
    saved_completion_tokens: int
    age_s: float


#: The three roles of the Explorer → Worker → Validator cycle (core/swarm).
Role = Literal["explorer", "worker", "validator"]


@dataclass(frozen=True)
class SwarmPlanned(Event):
    """A swarm cycle's plan, before anything is sent: the envelope reserved out of the
    parent session's budget and each role's share of it."""

    swarm_id: int
    task: str
    reserved_tokens: int
    explorer_tokens: int
    worker_tokens: int
    validator_tokens: int
    estimate: str


@dataclass(frozen=True)
class SwarmPhaseStarted(Event):
    """One role of a swarm cycle started, in its own sub_agent session `session_id`
    with `budget` tokens (what is left of its share)."""

    swarm_id: int
    role: Role
    attempt: int
    agent: str
    tier: int
    session_id: int
    budget: int


@dataclass(frozen=True)
class SwarmPhaseToken(Event):
    """Streamed text of the running phase (not stored: the phase's session has it)."""

    persist: ClassVar[bool] = False
    swarm_id: int
    role: Role
    attempt: int
    text: str


@dataclass(frozen=True)
class SwarmPhaseEnded(Event):
    """One role finished: its tokens, cost and verdict; `reasons` are the validator's
    reasons, the mechanical checks' results or the error."""

    swarm_id: int
    role: Role
    attempt: int
    agent: str
    tier: int
    tokens: int
    cost_usd: float
    verdict: Literal["done", "pass", "retry", "failed", "cancelled"]
    reasons: str


@dataclass(frozen=True)
class SwarmEnded(Event):
    """A swarm cycle ended: its verdict, the tokens it used of its reservation (what the
    parent's budget is charged) and the Worker's last output."""

    swarm_id: int
    verdict: Literal["pass", "failed", "stalled", "cancelled", "over_budget"]
    reserved_tokens: int
    used_tokens: int
    attempts: int
    result: str


def decode_event(kind: str, payload: dict[str, Any]) -> Event | None:
    """The event a stored row holds (`kind` and its JSON `payload`), or None.

    None, never an exception, for a kind this version does not know or a payload it
    cannot use (a required field missing or of the wrong type: rows written by an
    older or newer version). Keys that are not fields (the payload's own "kind", an
    export's "created_at", a field since removed) are ignored; lists come back as
    tuples; a `not_stored` field the row lacks gets its empty value."""
    cls = EVENT_TYPES.get(kind)
    if cls is None or not isinstance(payload, dict):
        return None
    values: dict[str, Any] = {}
    for f, hint in _fields(cls):
        if f.name not in payload:
            if f.name in cls.not_stored:
                values[f.name] = _EMPTY.get(hint, "")
            continue  # the dataclass default, or a TypeError below
        value = _coerce(payload[f.name], hint)
        if value is _INVALID:
            return None
        values[f.name] = value
    try:
        return cls(**values)
    except TypeError:  # a required field is missing
        return None


_INVALID = object()
_EMPTY: dict[Any, Any] = {str: "", int: 0, float: 0.0, bool: False}
_FIELDS: dict[type[Event], list[tuple[dataclasses.Field[Any], Any]]] = {}


def _fields(cls: type[Event]) -> list[tuple[dataclasses.Field[Any], Any]]:
    """The dataclass fields of `cls` with their resolved type hints (cached)."""
    cached = _FIELDS.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls)
        cached = _FIELDS[cls] = [(f, hints[f.name]) for f in dataclasses.fields(cls)]
    return cached


def _literal_words(hint: Any) -> set[Any]:
    """Every word a (possibly nested) Literal type admits."""
    words: set[Any] = set()
    for arg in typing.get_args(hint):
        words |= _literal_words(arg) if typing.get_origin(arg) is Literal else {arg}
    return words


def _coerce(value: Any, hint: Any) -> Any:
    """`value` as read from JSON, checked against the field's type (`_INVALID` when it
    does not fit): JSON has no tuples and writes 1.0 as 1 only by hand."""
    if hint is bool:
        return value if isinstance(value, bool) else _INVALID
    if typing.get_origin(hint) is Literal:  # a closed vocabulary: a word it lacks is unusable
        return value if value in _literal_words(hint) else _INVALID
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _INVALID
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _INVALID
    if hint is str:
        return value if isinstance(value, str) else _INVALID
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list | tuple):
            return _INVALID
        args = typing.get_args(hint)
        item = args[0] if args else Any
        items = [_coerce(v, item) for v in value]
        return _INVALID if any(v is _INVALID for v in items) else tuple(items)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for option in typing.get_args(hint):
            if option is type(None) and value is None:
                return None
            coerced = _coerce(value, option)
            if coerced is not _INVALID:
                return coerced
        return _INVALID
    return value  # a type this decoder does not check (Any, …)
