"""The one place that puts events into words, for every surface.

The CLI's notices on stderr, the chat's notices, the history timeline, the exported
Markdown timeline and /why all take their text from here, so that a fact is told
the same way wherever it is read. Three shapes:

- `describe(event, audience)`: the notice told as it happens (None when there is
  nothing to tell a person, e.g. a token or a usage row). The facts are worded the
  same on every surface; only what the reader can do next differs (a chat has
  /compact and Ctrl+N, a shell has `tokenopt ask --seed-from`), so `Audience` says
  who reads it.
- `timeline_line(event)`: one short line for a stored event on a timeline, for the
  kinds in `TIMELINE_KINDS` (per-reply bookkeeping stays off it).
- `explain_route(...)`: the last request's routing, for /why.

Texts are returned raw: callers make them terminal-safe (and scrub keys) where
they print, since only they know whether the text reaches a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tokenopt_tui.core.events import (
    AgentChosen,
    BudgetWarned,
    CacheHit,
    ContentReferenced,
    ContextCompacted,
    ErrorOccurred,
    EscalationRequested,
    Event,
    PaidEscalated,
    PromptCompared,
    ReplyCut,
    ReplyRated,
    SessionHalted,
    SkillLoaded,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPlanned,
    TierChosen,
    TierFailed,
    decode_event,
)

Surface = Literal["chat", "cli"]


@dataclass(frozen=True)
class Audience:
    """Who reads a notice: the surface decides what advice follows the facts; the
    session is named where the advice needs it (continuing a halted session)."""

    surface: Surface = "cli"
    session_id: int | None = None
    session_type: str = ""


CLI = Audience("cli")

#: Kinds with nothing to say to a person anywhere (drawn as text, a bar or a panel).
SILENT: frozenset[str] = frozenset({"SessionStarted", "ModelPreparing", "TokenReceived",
                                    "UsageRecorded", "ReplyCompleted", "PromptCompared",
                                    "SwarmPhaseToken"})

#: Kinds shown on a session's timeline (history screen, exported Markdown), in the
#: order a request makes them.
TIMELINE_KINDS: tuple[str, ...] = ("AgentChosen", "TierChosen", "TierFailed", "PaidEscalated",
                                   "BudgetWarned", "ContextCompacted", "SkillLoaded",
                                   "SessionHalted", "ErrorOccurred", "ContentReferenced",
                                   "EscalationRequested", "ReplyRated", "CacheHit",
                                   "SwarmPlanned", "SwarmPhaseStarted", "SwarmPhaseEnded",
                                   "SwarmEnded")


# -- notices ----------------------------------------------------------------------------


def describe(event: Event, audience: Audience = CLI, *, partial: bool = False) -> str | None:
    """The notice for `event` as it happens, or None when a person need not read one.

    `partial`: the reader already saw part of a failed attempt's text (a terminal
    that streamed it), which the notice then says is incomplete."""
    notice = _NOTICES.get(type(event))
    return None if notice is None else notice(event, audience, partial)


def _tier_failed(event: TierFailed, _audience: Audience, partial: bool) -> str | None:
    if event.skipped:  # no call was made: /why and the timeline say why
        return None
    incomplete = "; the text above is incomplete" if partial else ""
    return (f"tier {event.tier} ({event.model}) failed: {event.fault}: {event.error} "
            f"(at {event.endpoint}){incomplete}; trying the next tier")


def _paid(event: PaidEscalated, _audience: Audience, _partial: bool) -> str:
    return f"escalating to the paid tier {event.tier} ({event.model}): {event.reason}"


def _budget(event: BudgetWarned, audience: Audience, _partial: bool) -> str:
    if event.level == "compress":
        advice = "the context will be compressed before the next request"
    elif audience.surface == "chat":
        advice = "type /compact to compress the context now"
    else:
        advice = "consider compacting"
    return (f"Budget {event.percent}% reached: {event.used:,} of {event.limit:,} tokens "
            f"used; {advice}.")


def _compacted(event: ContextCompacted, audience: Audience, _partial: bool) -> str:
    where = (" The Compression panel lists what was kept, compressed and dropped."
             if audience.surface == "chat" else "")
    return (f"Context compacted ({event.trigger}): {event.tokens_before:,} → "
            f"{event.tokens_after:,} tokens. The originals are kept.{where}")


def _referenced(event: ContentReferenced, audience: Audience, _partial: bool) -> str:
    read = f" /show {event.message_id} reads it whole." if audience.surface == "chat" else ""
    return (f"Long {event.role} text ({event.tokens:,} tokens) stored as message "
            f"#{event.message_id}; the model gets a {event.view_tokens:,}-token excerpt.{read}")


def _halted(event: SessionHalted, audience: Audience, _partial: bool) -> str:
    who = (f"session {audience.session_id} ({audience.session_type})"
           if audience.session_id is not None else "this session")
    if audience.surface == "chat":
        refused = " and your message was not sent (it is back in the prompt)"
        then = ("No further model call will be made in it. Ctrl+N continues in a new "
                "session seeded with its summary.")
    else:
        refused = " and this request was not sent"
        then = ("Continue in a new session seeded with its summary: tokenopt ask "
                f"--seed-from {audience.session_id if audience.session_id is not None else 'ID'}"
                " …")
    return (f"{who} has used its budget: {event.used:,} of {event.limit:,} tokens"
            f"{refused if event.pending else ''}. {then}")


def _skill(event: SkillLoaded, _audience: Audience, _partial: bool) -> str:
    if event.sections:
        return (f"skill {event.skill_name} loaded in part, {_sections(event)} "
                f"({event.tokens:,} tokens; /skill {event.skill_name}#section loads "
                f"another): {event.reason}")
    return f"skill {event.skill_name} loaded ({event.tokens:,} tokens): {event.reason}"


def _sections(event: SkillLoaded) -> str:
    """The sections a partly loaded skill sent, as their `#slug`s."""
    return ", ".join(f"#{slug}" for slug in event.sections)


def _cut(event: ReplyCut, _audience: Audience, _partial: bool) -> str:
    return f"{event.detail[:1].upper()}{event.detail[1:]} (setting: {event.limit})."


def _error(event: ErrorOccurred, _audience: Audience, _partial: bool) -> str:
    return event.message


def _escalation(event: EscalationRequested, _audience: Audience, _partial: bool) -> str:
    kept = f"reply #{event.message_id} is kept"
    if event.to_tier <= event.from_tier:
        return (f"Asking the last request again on tier {event.to_tier}: no higher tier can "
                f"be used (paid use is off, or this is the top tier); {kept}.")
    return (f"Asking the last request again one tier up: tier {event.from_tier} → tier "
            f"{event.to_tier}; {kept}.")


def _rated(event: ReplyRated, _audience: Audience, _partial: bool) -> str:
    return f"Reply #{event.message_id} rated {'good' if event.good else 'bad'}."


def _age(seconds: float) -> str:
    """An answer's age in the largest whole unit: "40 s", "12 min", "5 h", "2 days"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3_600:
        return f"{seconds // 60:.0f} min"
    if seconds < 86_400:
        return f"{seconds // 3_600:.0f} h"
    return f"{seconds // 86_400:.0f} days"


def _cache_hit(event: CacheHit, audience: Audience, _partial: bool) -> str:
    again = "/nocache asks the model" if audience.surface == "chat" else "--no-cache asks it"
    return (f"Answered from the result cache (stored {_age(event.age_s)} ago, key "
            f"{event.key_prefix}): no model was called, 0 tokens and $0 this time; the "
            f"original call took {event.saved_prompt_tokens:,} prompt + "
            f"{event.saved_completion_tokens:,} completion tokens. {again} again.")


def _swarm_planned(event: SwarmPlanned, _audience: Audience, _partial: bool) -> str:
    return (f"Swarm #{event.swarm_id} planned: {event.estimate}; reserved "
            f"{event.reserved_tokens:,} tokens (explorer {event.explorer_tokens:,}, worker "
            f"{event.worker_tokens:,}, validator {event.validator_tokens:,}).")


def _swarm_started(event: SwarmPhaseStarted, _audience: Audience, _partial: bool) -> str:
    return (f"{event.role} (attempt {event.attempt}): {event.agent} on tier {event.tier}, "
            f"session {event.session_id}, up to {event.budget:,} tokens")


def _swarm_phase(event: SwarmPhaseEnded, _audience: Audience, _partial: bool) -> str:
    why = f": {event.reasons}" if event.reasons else ""
    return (f"{event.role} (attempt {event.attempt}) {event.verdict}, {event.tokens:,} "
            f"tokens, ${event.cost_usd:.4f}{why}")


def _swarm_ended(event: SwarmEnded, _audience: Audience, _partial: bool) -> str:
    return (f"Swarm #{event.swarm_id} ended: {event.verdict} after {event.attempts} "
            f"attempt(s); {event.used_tokens:,} of {event.reserved_tokens:,} reserved "
            "tokens used (the parent's budget is charged what was used).")


_NOTICES: dict[type[Event], Callable[[Any, Audience, bool], str | None]] = {
    TierFailed: _tier_failed, PaidEscalated: _paid, BudgetWarned: _budget,
    ContextCompacted: _compacted, ContentReferenced: _referenced, SessionHalted: _halted,
    SkillLoaded: _skill, ReplyCut: _cut, ErrorOccurred: _error,
    EscalationRequested: _escalation, ReplyRated: _rated, CacheHit: _cache_hit,
    SwarmPlanned: _swarm_planned, SwarmPhaseStarted: _swarm_started,
    SwarmPhaseEnded: _swarm_phase, SwarmEnded: _swarm_ended,
}


# -- timeline ---------------------------------------------------------------------------


def timeline_line(event: Event) -> str | None:
    """One short timeline line for `event` (None for kinds not on a timeline)."""
    line = _LINES.get(type(event))
    return None if line is None else line(event)


def stored_timeline_line(kind: str, payload: Mapping[str, Any]) -> str | None:
    """`timeline_line` for a stored row; None for a row this version cannot decode."""
    if kind not in TIMELINE_KINDS:
        return None
    event = decode_event(kind, dict(payload))
    return None if event is None else timeline_line(event)


def agent_line(event: AgentChosen) -> str:
    """The agent drawn for a request and why ("analyst: τ 0.71 (23 outcomes), …"): the
    timeline, /why, `ask --json` and `tokenopt agents` word it the same way."""
    return (f"{event.agent}: τ {event.tau:.2f} ({event.samples} outcomes), floor "
            f"{event.floor:.2f}, drawn from {event.candidates} with chance {event.weight:.0%} "
            f"for {event.task_type}")


def _line_agent(event: AgentChosen) -> str:
    return f"agent {agent_line(event)}"


def _line_chosen(event: TierChosen) -> str:
    return f"tier {event.tier} ({event.model}): {'; '.join(event.reasons)}"


def _line_failed(event: TierFailed) -> str:
    where = f"tier {event.tier} ({event.model})"
    if event.skipped:  # no call was made: say why (key missing, cooldown, …)
        return f"{where} skipped: {event.error or event.fault}"
    return f"{where} failed: {event.fault}"


def _line_paid(event: PaidEscalated) -> str:
    return f"escalated to the paid tier {event.tier} ({event.model}): {event.reason}"


def _line_budget(event: BudgetWarned) -> str:
    return f"budget {event.percent}% reached ({event.used:,} of {event.limit:,})"


def _line_compacted(event: ContextCompacted) -> str:
    return (f"context compacted ({event.trigger}): {event.tokens_before:,} → "
            f"{event.tokens_after:,} tokens")


def _line_skill(event: SkillLoaded) -> str:
    if event.sections:
        return (f"skill {event.skill_name} loaded in part, {_sections(event)} "
                f"({event.tokens:,} tokens)")
    return f"skill {event.skill_name} loaded ({event.tokens:,} tokens)"


def _line_halted(event: SessionHalted) -> str:
    return f"session halted at {event.used:,} of {event.limit:,} tokens"


def _line_error(event: ErrorOccurred) -> str:
    return f"error: {event.message}"


def _line_referenced(event: ContentReferenced) -> str:
    return (f"long {event.role} text ({event.tokens:,} tokens) stored as message "
            f"#{event.message_id}")


def _line_escalation(event: EscalationRequested) -> str:
    return (f"asked again one tier up: tier {event.from_tier} → tier {event.to_tier} "
            f"(after reply #{event.message_id})")


def _line_rated(event: ReplyRated) -> str:
    return f"reply #{event.message_id} rated {'good' if event.good else 'bad'}"


def _line_cache_hit(event: CacheHit) -> str:
    saved = event.saved_prompt_tokens + event.saved_completion_tokens
    return f"answered from the cache ({_age(event.age_s)} old, {saved:,} tokens saved)"


def _line_swarm_planned(event: SwarmPlanned) -> str:
    return f"swarm #{event.swarm_id} planned: {event.reserved_tokens:,} tokens reserved"


def _line_swarm_started(event: SwarmPhaseStarted) -> str:
    return (f"swarm #{event.swarm_id} {event.role} (attempt {event.attempt}): "
            f"{event.agent}, tier {event.tier}, session {event.session_id}")


def _line_swarm_phase(event: SwarmPhaseEnded) -> str:
    return (f"swarm #{event.swarm_id} {event.role} (attempt {event.attempt}) "
            f"{event.verdict} ({event.tokens:,} tokens)")


def _line_swarm_ended(event: SwarmEnded) -> str:
    return (f"swarm #{event.swarm_id} {event.verdict}: {event.used_tokens:,} of "
            f"{event.reserved_tokens:,} tokens, {event.attempts} attempt(s)")


_LINES: dict[type[Event], Callable[[Any], str]] = {
    AgentChosen: _line_agent,
    TierChosen: _line_chosen, TierFailed: _line_failed, PaidEscalated: _line_paid,
    BudgetWarned: _line_budget, ContextCompacted: _line_compacted, SkillLoaded: _line_skill,
    SessionHalted: _line_halted, ErrorOccurred: _line_error,
    ContentReferenced: _line_referenced, EscalationRequested: _line_escalation,
    ReplyRated: _line_rated, CacheHit: _line_cache_hit,
    SwarmPlanned: _line_swarm_planned, SwarmPhaseStarted: _line_swarm_started,
    SwarmPhaseEnded: _line_swarm_phase, SwarmEnded: _line_swarm_ended,
}


# -- /why -------------------------------------------------------------------------------


def prompt_line(prompt: PromptCompared, cached_tokens: int) -> str:
    """How much of the prompt repeated the last one, and what the provider reused."""
    if prompt.first_changed < 0:
        same = "the same as the last request's"
    elif prompt.same_chars == 0:
        same = (f"new from the start (message {prompt.first_changed + 1}, "
                f"{prompt.changed_role or '?'}, changed)")
    else:
        same = (f"the first {prompt.same_chars / max(prompt.total_chars, 1):.0%} "
                f"({prompt.same_chars:,} of {prompt.total_chars:,} characters) repeats the "
                f"last request's; it first differs in message {prompt.first_changed + 1} "
                f"({prompt.changed_role or '?'})")
    reused = (f"; {cached_tokens:,} prompt tokens were served from cache" if cached_tokens
              else "; no prompt tokens were served from cache")
    return f"  prompt: {same}{reused}"


def explain_route(route_log: Sequence[AgentChosen | TierChosen | TierFailed], requests: int,
                  tier_label: Callable[[int], str],
                  escalation: EscalationRequested | None = None,
                  prompt: PromptCompared | None = None, cached_tokens: int = 0) -> str:
    """The last request's routing in order (/why): tiers skipped or failed, and why each
    tried tier was chosen. `tier_label` names a tier as configured ("T2 trinity");
    `requests` says whether any request was made in the session yet; `escalation`, when
    the last request was the previous one asked again one tier up."""
    retry = ("" if escalation is None else
             f"  asked again one tier up by you: {tier_label(escalation.from_tier)} → "
             f"{tier_label(escalation.to_tier)} (the first answer, #{escalation.message_id}, "
             "is kept)")
    if not route_log:
        if requests:
            made = "The last request made no model call (see the notices above)."
            return f"{made}\n{retry}" if retry else made
        return "No request has been routed in this session yet."
    lines = ["Routing of the last request:", *([retry] if retry else [])]
    for event in route_log:
        if isinstance(event, AgentChosen):
            lines.append(f"  agent {agent_line(event)}")
        elif isinstance(event, TierChosen):
            lines.append(f"  T{event.tier} {event.tier_name} ({event.model}): "
                         + "; ".join(event.reasons))
        elif event.skipped:
            lines.append(f"  {tier_label(event.tier)} ({event.model}) skipped: {event.error}")
        else:
            lines.append(f"  {tier_label(event.tier)} ({event.model}) failed "
                         f"({event.fault}): {event.error}")
    if prompt is not None:
        lines.append(prompt_line(prompt, cached_tokens))
    return "\n".join(lines)
