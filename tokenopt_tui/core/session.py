"""ChatSession: the only way a request is made. The TUI and the CLI both drive it.

`send(text)` stores the user's message, picks a tier, streams the reply while
flushing it to the DB at least every `flush_interval` seconds (so a crash loses at
most that much), records the call's usage and yields typed events throughout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tokenopt_tui.core.classify import classify
from tokenopt_tui.core.events import (
    ErrorOccurred,
    Event,
    ModelPreparing,
    PaidEscalated,
    ReplyCompleted,
    SessionStarted,
    TierChosen,
    TierFailed,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.pricing import call_cost
from tokenopt_tui.core.providers.base import ChatMessage, Provider, Usage
from tokenopt_tui.core.router import AttemptFailed, AttemptStarted, PaidEscalation, RouteFinished
from tokenopt_tui.core.tokens import count_tokens
from tokenopt_tui.services import Services

FLUSH_INTERVAL_S = 0.5


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChatSession:
    def __init__(self, services: Services, session_id: int, session_type: str,
                 history: list[ChatMessage] | None = None, tier: int | None = None) -> None:
        self.services = services
        self.session_id = session_id
        self.session_type = session_type
        self.history: list[ChatMessage] = history or []
        self.tier = tier
        self.tokens_used = 0
        self.flush_interval = FLUSH_INTERVAL_S

    @classmethod
    async def start(cls, services: Services, session_type: str = "direct_chat",
                    title: str | None = None, tier: int | None = None) -> ChatSession:
        session_id = await services.store.create_session(session_type, title)
        session = cls(services, session_id, session_type, tier=tier)
        await session._persist(SessionStarted(session_id, session_type))
        return session

    @classmethod
    async def resume(cls, services: Services, session_id: int,
                     tier: int | None = None) -> ChatSession:
        row = await services.store.get_session(session_id)
        if row is None:
            raise LookupError(f"no session {session_id} in {services.db_path}")
        messages = await services.store.session_messages(session_id)
        history = [ChatMessage(m.role, m.content) for m in messages if m.content]
        session = cls(services, session_id, row.type, history, tier=tier)
        session.tokens_used = row.tokens_used
        return session

    @property
    def budget(self) -> int:
        return self.services.config.budgets[self.session_type]

    async def _persist(self, event: Event) -> None:
        if event.persist:
            await self.services.store.add_event(self.session_id, event.kind, event.to_dict())

    async def send(self, text: str) -> AsyncIterator[Event]:
        """Ask for a reply to `text`; yields events until the reply ends or fails.

        The classifier picks the starting tier (unless the session is pinned), the
        router walks the chain; each attempt's text is stored as it streams, and an
        attempt that fails midway stays in the history as an interrupted message.
        """
        store = self.services.store
        config = self.services.config
        await store.add_message(self.session_id, "user", text)
        if len(self.history) == 0:
            await store.set_session_title(self.session_id, _title(text))
        self.history.append(ChatMessage("user", text))

        if self.tier is not None:
            start, reasons = self.tier, (f"pinned to tier {self.tier}",)
        else:
            decision = classify(text, history_turns=len(self.history) // 2)
            start = min(decision.tier, len(config.tiers))
            reasons = (f"{decision.task_type}, {decision.complexity} complexity",
                       *decision.reasons)
        attempt: _Attempt | None = None
        usage: Usage | None = None
        last_endpoint = ""
        first = True
        try:
            async for item in self.services.router.route(
                    list(self.history), start_tier=start, max_tokens=config.max_tokens,
                    pinned=self.tier is not None):
                if isinstance(item, str) and attempt is not None:  # the hot path first
                    attempt.parts.append(item)
                    if attempt.reply_id is None:  # the row exists from the first fragment on
                        attempt.reply_id = await store.add_message(
                            self.session_id, "assistant", item, tier=attempt.tier,
                            model=attempt.provider.model, interrupted=True)
                        attempt.flushed_at, attempt.flushed = time.monotonic(), 1
                    yield TokenReceived(item)
                    if (time.monotonic() - attempt.flushed_at >= self.flush_interval
                            and len(attempt.parts) != attempt.flushed):
                        await store.update_message_content(attempt.reply_id,
                                                           "".join(attempt.parts))
                        attempt.flushed_at, attempt.flushed = time.monotonic(), len(attempt.parts)
                elif isinstance(item, ModelPreparing):
                    if attempt is not None:
                        attempt.started = time.perf_counter()  # latency excludes preparation
                    yield item
                elif isinstance(item, AttemptStarted):
                    provider = self.services.provider(item.tier, item.endpoint_index)
                    attempt = _Attempt(item.tier, provider)
                    last_endpoint = provider.endpoint
                    why = reasons if first else (f"fallback to tier {item.tier}",)
                    first = False
                    yield await self._emit(TierChosen(item.tier, item.tier_name, provider.kind,
                                                      item.model, why))
                elif isinstance(item, AttemptFailed):
                    if not item.skipped and attempt is not None:
                        for event in await self._finish(attempt, None, error=item.error):
                            yield event
                        attempt = None
                    yield await self._emit(TierFailed(item.tier, item.model, item.endpoint,
                                                      item.kind, item.error, item.skipped))
                elif isinstance(item, PaidEscalation):
                    yield await self._emit(PaidEscalated(item.tier, item.model, item.reason))
                elif isinstance(item, Usage):
                    usage = item
                elif isinstance(item, RouteFinished):
                    if item.ok and attempt is not None:
                        for event in await self._finish(attempt, usage, error=None):
                            yield event
                        attempt = None
                    elif not item.ok:
                        yield await self._emit(ErrorOccurred(
                            item.error or "no tier could answer", where=last_endpoint))
        except (asyncio.CancelledError, GeneratorExit):
            if attempt is not None:
                await asyncio.shield(self._finish(attempt, None, error="cancelled"))
            raise

    async def _emit(self, event: Event) -> Event:
        await self._persist(event)
        return event

    async def _finish(self, attempt: _Attempt, usage: Usage | None,
                      error: str | None) -> list[Event]:
        """Store one attempt's reply (complete or interrupted) and the call's usage."""
        store = self.services.store
        provider = attempt.provider
        text = "".join(attempt.parts)
        interrupted = error is not None
        if usage is None:  # the stream died before usage arrived: estimate, and say so
            prompt = sum(count_tokens(m.content) for m in self.history)
            usage = Usage(prompt if attempt.parts else 0, count_tokens(text), estimated=True)
        cost = call_cost(provider.model, usage.prompt_tokens, usage.completion_tokens,
                         usage.cost_usd, local=provider.kind == "mlx",
                         prices=self.services.config.prices)
        latency_ms = (time.perf_counter() - attempt.started) * 1000
        if attempt.reply_id is None and error is None:  # a complete, empty reply is a reply
            attempt.reply_id = await store.add_message(
                self.session_id, "assistant", "", tier=attempt.tier, model=provider.model)
        if attempt.reply_id is not None:
            await store.finish_message(
                attempt.reply_id, text, tier=attempt.tier, model=provider.model,
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                cost_usd=cost, estimated=usage.estimated, interrupted=interrupted)
        await store.record_model_call(
            self.session_id, message_id=attempt.reply_id, tier=attempt.tier,
            provider=provider.kind, endpoint=provider.endpoint, model=provider.model,
            started_at=attempt.started_at, latency_ms=latency_ms,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens, reasoning_tokens=usage.reasoning_tokens,
            cost_usd=cost, estimated=usage.estimated, error=error)
        self.tokens_used += usage.prompt_tokens + usage.completion_tokens
        if text:
            self.history.append(ChatMessage("assistant", text))
        events: list[Event] = [
            UsageRecorded(attempt.tier, provider.model, usage.prompt_tokens,
                          usage.completion_tokens, cost, round(latency_ms, 1), usage.estimated,
                          self.tokens_used, usage.cached_tokens, usage.reasoning_tokens),
        ]
        if attempt.reply_id is not None:
            events.append(ReplyCompleted(attempt.reply_id, text, interrupted, attempt.tier,
                                         provider.model))
        for event in events:
            await self._persist(event)
        return events


@dataclass
class _Attempt:
    """One call to one endpoint within a request: its text so far and its DB row."""

    tier: int
    provider: Provider
    parts: list[str] = field(default_factory=list)
    reply_id: int | None = None
    started: float = field(default_factory=time.perf_counter)
    started_at: str = field(default_factory=utc_now)
    flushed_at: float = 0.0
    flushed: int = 0


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line[:60] + ("…" if len(line) > 60 else "")
