"""ChatSession: the only way a request is made. The TUI and the CLI both drive it.

`send(text)` stores the user's message, picks a tier, streams the reply while
flushing it to the DB at least every `flush_interval` seconds (so a crash loses at
most that much), records the call's usage and yields typed events throughout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from tokenopt_tui.core.events import (
    ErrorOccurred,
    Event,
    ReplyCompleted,
    SessionStarted,
    TierChosen,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.pricing import call_cost
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
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
        """Ask for a reply to `text`; yields events until the reply ends or fails."""
        store = self.services.store
        config = self.services.config
        await store.add_message(self.session_id, "user", text)
        if len(self.history) == 0:
            await store.set_session_title(self.session_id, _title(text))
        self.history.append(ChatMessage("user", text))

        tier_number = self.tier or config.default_tier
        tier = config.tier(tier_number)
        provider = self.services.provider(tier_number)
        available, why = provider.availability()
        if tier.paid and not config.paid_enabled:
            available, why = False, "paid use is off (set paid.enabled = true in the config)"
        if not available:
            event = ErrorOccurred(f"tier {tier_number} ({tier.name}) is unavailable: {why}",
                                  where=provider.endpoint)
            await self._persist(event)
            yield event
            return
        chosen = TierChosen(tier_number, tier.name, provider.kind, provider.model,
                            ("pinned" if self.tier else "default tier",))
        await self._persist(chosen)
        yield chosen

        reply_id: int | None = None
        parts: list[str] = []
        started = time.perf_counter()
        started_at = utc_now()
        usage: Usage | None = None
        try:
            async for prep in provider.prepare():
                yield prep
            started = time.perf_counter()
            last_flush = time.monotonic()
            flushed = 0
            async for item in provider.stream(list(self.history), config.max_tokens):
                if isinstance(item, Usage):
                    usage = item
                    continue
                parts.append(item)
                if reply_id is None:  # the row exists from the first fragment on
                    reply_id = await store.add_message(
                        self.session_id, "assistant", item, tier=tier_number,
                        model=provider.model, interrupted=True)
                    last_flush, flushed = time.monotonic(), 1
                yield TokenReceived(item)
                if time.monotonic() - last_flush >= self.flush_interval and len(parts) != flushed:
                    await store.update_message_content(reply_id, "".join(parts))
                    last_flush, flushed = time.monotonic(), len(parts)
        except ProviderError as exc:
            for event in await self._finish(reply_id, parts, None, tier_number, provider,
                                            started, started_at, error=str(exc)):
                yield event
            event = ErrorOccurred(str(exc), where=exc.endpoint)
            await self._persist(event)
            yield event
            return
        except (asyncio.CancelledError, GeneratorExit):
            await asyncio.shield(self._finish(reply_id, parts, None, tier_number, provider,
                                              started, started_at, error="cancelled"))
            raise
        for event in await self._finish(reply_id, parts, usage, tier_number, provider, started,
                                        started_at, error=None):
            yield event

    async def _finish(self, reply_id: int | None, parts: list[str], usage: Usage | None,
                      tier: int, provider, started: float, started_at: str,
                      error: str | None) -> list[Event]:
        """Store the reply (complete or interrupted) and the call's usage."""
        store = self.services.store
        text = "".join(parts)
        interrupted = error is not None
        if usage is None:  # the stream died before usage arrived: estimate, and say so
            prompt = sum(count_tokens(m.content) for m in self.history)
            usage = Usage(prompt if parts else 0, count_tokens(text), estimated=True)
        cost = call_cost(provider.model, usage.prompt_tokens, usage.completion_tokens,
                         usage.cost_usd, local=provider.kind == "mlx")
        latency_ms = (time.perf_counter() - started) * 1000
        if reply_id is None and error is None:  # a complete, empty reply is still a reply
            reply_id = await store.add_message(self.session_id, "assistant", "", tier=tier,
                                               model=provider.model)
        if reply_id is not None:
            await store.finish_message(
                reply_id, text, tier=tier, model=provider.model,
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                cost_usd=cost, estimated=usage.estimated, interrupted=interrupted)
        await store.record_model_call(
            self.session_id, message_id=reply_id, tier=tier, provider=provider.kind,
            endpoint=provider.endpoint, model=provider.model, started_at=started_at,
            latency_ms=latency_ms, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, cached_tokens=usage.cached_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost_usd=cost, estimated=usage.estimated,
            error=error)
        self.tokens_used += usage.prompt_tokens + usage.completion_tokens
        if text:
            self.history.append(ChatMessage("assistant", text))
        events: list[Event] = [
            UsageRecorded(tier, provider.model, usage.prompt_tokens, usage.completion_tokens,
                          cost, round(latency_ms, 1), usage.estimated, self.tokens_used,
                          usage.cached_tokens, usage.reasoning_tokens),
        ]
        if reply_id is not None:
            events.append(ReplyCompleted(reply_id, text, interrupted, tier, provider.model))
        for event in events:
            await self._persist(event)
        return events


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line[:60] + ("…" if len(line) > 60 else "")
