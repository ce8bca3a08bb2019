"""The tier chain: fallback on faults, per-endpoint cooldowns and the paid guard.

`Router.route()` walks the chain from the starting tier down (every endpoint of a
tier in order), streaming the first endpoint that answers. The rules follow
LiteLLM's split between fallbacks and cooldowns: no retries of the same endpoint
within a request (each endpoint at most once, so the chain cannot loop), a hard cap
on attempts, an endpoint that failed is skipped until its cooldown ends, and paid
endpoints are dropped when paid use is off or today's spend reached the cap.

Skipped endpoints are reported as `AttemptFailed(skipped=True)` (kinds
"unavailable", "cooldown", "paid_blocked") but never count as attempts; they are
reported only when the chain reaches them, so a request answered early says
nothing about them. Provider faults never raise: a route always ends with
`RouteFinished`.

Cooldowns live in memory, one Router per process, and optionally in a
`CooldownStore` (the SQLite store) so that other processes — `tokenopt doctor`, the
next `tokenopt ask` — see them: the first route() loads them (wall-clock epoch ends
mapped onto this process's monotonic clock), each failure saves its endpoint's
cooldown and a success clears it. Persistence faults never break routing; they are
logged as warnings.

With a `FreeQuota` (core/routing/quota.py), each request sent to a free hosted
endpoint is counted and the provider's X-RateLimit-* figures kept; such an endpoint
is skipped (kind "quota") when the day's or the minute's free requests are used up,
or when only the reserve for hard requests is left and this request started at a
tier with no free hosted endpoint (it reached them only as a fallback).

Our OpenAI-compatible provider sends a single `model` and never OpenRouter's
`models` fallback list, so a request for a ":free" model can never be billed as a
paid one; fallback to a paid model only happens here, announced by
`PaidEscalation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from typing import cast

from tokenopt_tui.config import Config, Endpoint, Tier
from tokenopt_tui.core.events import ModelPreparing
from tokenopt_tui.core.faults import FAULT_KINDS, FailureKind, FaultKind
from tokenopt_tui.core.providers.base import ChatMessage, Provider, Usage
from tokenopt_tui.core.routing.cooldown import (
    DEFAULT_COOLDOWN_STEPS_S,
    Cooldowns,
    CooldownStore,
    EndpointKey,
    endpoint_key,
    exception_chain,
    key_from_text,
    key_text,
    retry_after_of,
)
from tokenopt_tui.core.routing.quota import FreeQuota, counts_against_quota, is_easy
from tokenopt_tui.core.text import one_line
from tokenopt_tui.core.tokens import count_tokens

logger = logging.getLogger(__name__)
#: An error quoted in a cooldown or the route's summary is cut to one line this long.
ERROR_CHARS = 160
#: Why a paid endpoint is passed over while the config's switch is off (route and doctor).
PAID_OFF = "paid use is off (set paid.enabled = true in the config)"


@dataclass(frozen=True)
class AttemptStarted:
    """A call is about to be sent to `provider` (the router's own: the session needs no
    other way to reach it)."""

    tier: int
    tier_name: str
    endpoint_index: int
    model: str
    endpoint: str
    paid: bool
    provider: Provider


@dataclass(frozen=True)
class AttemptFailed:
    """An attempt that failed, or (skipped=True) an endpoint passed over without a call.

    kind: connection, timeout, rate_limit, server, not_found, rejected (other 4xx),
    empty, malformed, error (unclassified), and for skips unavailable, cooldown,
    paid_blocked, quota. `cooldown_until` is wall-clock epoch seconds (for a quota
    skip, when the free requests start over).
    """

    tier: int
    model: str
    endpoint: str
    error: str
    kind: FailureKind
    partial_text: str = ""
    retry_after_s: float | None = None
    cooldown_until: float | None = None
    skipped: bool = False


@dataclass(frozen=True)
class PaidEscalation:
    """Emitted before a paid attempt so the chat can announce it: never silent."""

    tier: int
    model: str
    reason: str


@dataclass(frozen=True)
class AttemptCut:
    """The reply was stopped by a client-side limit and ends here, kept as the answer:
    `limit` is "max_tokens" (more text than was asked for) or "request_timeout_s" (the
    request's wall-clock limit); `detail` says it in words."""

    limit: str
    detail: str


@dataclass(frozen=True, slots=True)
class TextReceived:
    """A fragment of the attempt's reply text. The hot path: one small object per
    streamed chunk (slots, no dict), so typing the stream costs next to nothing."""

    text: str


@dataclass(frozen=True, slots=True)
class UsageReported:
    """The answering attempt's usage (as its provider reported or estimated it); comes
    just before `RouteFinished(ok=True)`."""

    usage: Usage


@dataclass(frozen=True)
class RouteFinished:
    ok: bool
    attempts: int
    error: str | None = None


@dataclass(frozen=True)
class EndpointState:
    """One endpoint as `tokenopt doctor` shows it; `cooldown_until` is epoch seconds.

    `last_error` is the error that started the current cooldown (None when healthy).
    """

    tier: int
    model: str
    endpoint: str
    available: bool
    why: str
    cooldown_until: float | None = None
    last_error: str | None = None


#: Everything `Router.route()` yields: typed items only, so a consumer matches on
#: classes and a new item type is a type error where it is not handled.
RouterItem = (AttemptStarted | AttemptFailed | AttemptCut | PaidEscalation | RouteFinished
              | TextReceived | UsageReported | ModelPreparing)


# --- fault classification -------------------------------------------------------------

def kind_for_status(status: int) -> FaultKind:
    if status == 429:
        return "rate_limit"
    if status == 404:
        return "not_found"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "server"
    return "rejected"


def classify_fault(exc: BaseException) -> tuple[FaultKind, int | None]:
    """(kind, HTTP status) of a provider fault, by duck typing: no SDK import here."""
    chain = exception_chain(exc)
    status = getattr(exc, "status", None)
    kind = getattr(exc, "kind", None)
    if kind in FAULT_KINDS:
        return cast(FaultKind, kind), status if isinstance(status, int) else None
    if not isinstance(status, int):
        status = next((s for e in chain if isinstance(s := getattr(e, "status_code", None), int)),
                      None)
    if status is not None:
        return kind_for_status(status), status
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    if any(isinstance(e, TimeoutError) for e in chain) or names & {"APITimeoutError",
                                                                   "TimeoutException"}:
        return "timeout", None
    if names & {"APIConnectionError", "NetworkError", "ConnectError", "RemoteProtocolError",
                "ProtocolError"} or any(isinstance(e, ConnectionError) for e in chain):
        return "connection", None
    if any(isinstance(e, ValueError) for e in chain) or (
            "OpenAIError" in names and "APIError" not in names):
        return "malformed", None
    if "APIError" in names:  # an error object inside the stream (OpenRouter does this)
        return "server", None
    if getattr(exc, "retryable", True) is False:
        return "unavailable", None
    return "error", None


# --- the router ------------------------------------------------------------------------

@dataclass
class _Outcome:
    parts: list[str]
    usage: Usage | None = None
    error: BaseException | None = None
    cut: AttemptCut | None = None
    tokens: int = 0  # completion tokens counted here, whatever the server says


class _Deadline:
    """The request's wall-clock limit on the event loop's clock; time spent preparing
    a model (a one-off conversion or load) is not counted."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        loop = asyncio.get_running_loop()
        self.at = loop.time() + seconds if seconds > 0 else None

    def left(self) -> float | None:
        if self.at is None:
            return None
        return self.at - asyncio.get_running_loop().time()

    def extend(self, seconds: float) -> None:
        if self.at is not None:
            self.at += seconds


class Router:
    """Streams a request through the tier chain; see the module docstring for the rules."""

    def __init__(self, config: Config, provider_for: Callable[[int, int], Provider], *,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 spent_today_usd: Callable[[], Awaitable[float]] | None = None,
                 max_attempts: int = 4,
                 cooldown_steps_s: Sequence[float] = DEFAULT_COOLDOWN_STEPS_S,
                 cooldown_store: CooldownStore | None = None,
                 scrub: Callable[[str], str] | None = None,
                 free_quota: FreeQuota | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.config = config
        self.max_attempts = max_attempts
        self._provider_for = provider_for
        self._clock = clock
        self._wall = wall_clock
        self._spent = spent_today_usd
        self.cooldowns = Cooldowns(cooldown_steps_s, clock)
        self._cooldown_store = cooldown_store
        self._cooldowns_loaded = False
        #: Removes configured key values from provider error text (some providers echo
        #: the Authorization header) before it is kept in a cooldown, event or row.
        self._scrub = scrub or (lambda text: text)
        #: Counts free hosted requests and refuses them past the quota (None: no policy).
        self.free_quota = free_quota

    def _chain(self, start_tier: int, pinned: bool) -> list[Tier]:
        """Free tiers from the start tier down; then, for a request that starts above
        the first tier (the classifier found it hard), the paid tiers before the weaker
        free ones: a weak answer to a hard task loses capability, and paid use is still
        off unless enabled, capped daily and announced. An easy request tries the free
        tiers before it (a local answer beats none) and paid tiers last of all."""
        tiers = sorted(self.config.tiers, key=lambda t: t.number)
        if pinned:
            return [t for t in tiers if t.number == start_tier]
        if not any(t.number == start_tier for t in tiers):
            return []
        free = [t for t in tiers if not t.paid]
        paid = [t for t in tiers if t.paid]
        after = [t for t in free if t.number >= start_tier]
        before = [t for t in free if t.number < start_tier]
        if before and after:  # a hard request: stronger (paid) help before weaker help
            return after + paid + before
        return after + before + paid

    # -- persisted cooldowns ----------------------------------------------------------

    async def load_cooldowns(self) -> None:
        """Adopt the stored cooldowns once (route() calls this; doctor calls it first).

        A failed load is logged and not retried: routing goes on with what it knows.
        """
        if self._cooldown_store is None or self._cooldowns_loaded:
            return
        self._cooldowns_loaded = True
        try:
            stored = await self._cooldown_store.load()
        except Exception as exc:
            logger.warning("could not load the endpoint cooldowns: %s", exc or type(exc).__name__,
                           exc_info=exc)
            return
        offset = self._clock() - self._wall()  # epoch → this process's monotonic clock
        for text, (failures, until_epoch, last_error) in stored.items():
            try:
                key = key_from_text(text)
            except ValueError as exc:
                logger.warning("ignoring a stored cooldown with a bad key %r: %s", text[:120], exc)
                continue
            self.cooldowns.restore(key, failures, until_epoch + offset, last_error)

    async def _save_cooldown(self, key: EndpointKey) -> None:
        state = self.cooldowns.state(key)
        if self._cooldown_store is None or state is None:
            return
        until_epoch = self._wall() + (state.until - self._clock())
        try:
            await self._cooldown_store.save(key_text(key), state.failures, until_epoch,
                                            state.last_error)
        except Exception as exc:
            logger.warning("could not save the cooldown of %s %s: %s", key[1] or key[0], key[2],
                           exc or type(exc).__name__, exc_info=exc)

    async def _clear_cooldown(self, key: EndpointKey) -> None:
        if self._cooldown_store is None:
            return
        try:
            await self._cooldown_store.clear(key_text(key))
        except Exception as exc:
            logger.warning("could not clear the cooldown of %s %s: %s", key[1] or key[0], key[2],
                           exc or type(exc).__name__, exc_info=exc)

    def _wall_until(self, key: EndpointKey) -> float | None:
        left = self.cooldowns.remaining(key)
        return self._wall() + left if left > 0 else None

    def paid_off_reason(self) -> str | None:
        """Why paid endpoints are off whatever today's spend, or None: the config's switch.
        The one place that reads it; `tokenopt doctor` shows it through `endpoint_states`."""
        return None if self.config.paid_enabled else PAID_OFF

    async def paid_block_reason(self) -> str | None:
        """Why paid endpoints are off now, or None. Fails closed without a spend source."""
        if (off := self.paid_off_reason()) is not None:
            return off
        if self._spent is None:
            return "today's spend is unknown, so the daily cap cannot be enforced"
        try:
            spent = await self._spent()
        except Exception as exc:
            return f"cannot read today's spend: {exc}"
        cap = self.config.daily_cap_usd
        if spent >= cap:
            return f"daily cap reached: ${spent:.4f} spent of ${cap:.2f}"
        return None

    def endpoint_states(self) -> list[EndpointState]:
        """Each endpoint's state for `tokenopt doctor`: paid switch, key, cooldown.

        A paid endpoint while paid use is off says so first (whatever its key), as a
        route would skip it. Shows the cooldowns this router knows: await
        `load_cooldowns()` first to see those other processes stored.
        """
        states = []
        paid_off = self.paid_off_reason()
        for tier in self.config.tiers:
            for index, endpoint in enumerate(tier.endpoints):
                provider = self._provider_for(tier.number, index)
                available, why = provider.availability()
                key = endpoint_key(endpoint)
                until = self._wall_until(key)
                cooling = self.cooldowns.state(key) if until is not None else None
                if tier.paid and paid_off is not None:
                    available, why = False, paid_off
                elif available and until is not None:
                    available, why = False, "cooling down"
                states.append(EndpointState(tier.number, endpoint.model, provider.endpoint,
                                            available, why, until,
                                            cooling.last_error if cooling else None))
        return states

    async def route(self, messages: Sequence[ChatMessage], *, start_tier: int, max_tokens: int,
                    pinned: bool = False, free_only: bool = False) -> AsyncIterator[RouterItem]:
        """Yield attempts, text, the winner's UsageReported and finally one RouteFinished.

        `free_only` leaves the paid tiers out (housekeeping calls such as summaries)."""
        await self.load_cooldowns()
        chain = [t for t in self._chain(start_tier, pinned) if not (free_only and t.paid)]
        if not chain:
            yield RouteFinished(False, 0, f"no tier {start_tier} is configured")
            return
        attempts = 0
        deadline = _Deadline(self.config.request_timeout_s)
        failures: list[AttemptFailed] = []
        seen: set[EndpointKey] = set()
        # When every usable free endpoint is cooling down, trying one beats refusing.
        ignore_cooldown = self._all_cooling(chain)
        easy = is_easy(self.config.tiers, start_tier)
        capped = False
        for tier in chain:
            if capped:
                break
            if tier.paid and (blocked := await self.paid_block_reason()):
                paid_skip = AttemptFailed(tier.number, ", ".join(e.model for e in tier.endpoints),
                                          "", blocked, "paid_blocked", skipped=True)
                failures.append(paid_skip)
                yield paid_skip
                continue
            for index, endpoint in enumerate(tier.endpoints):
                key = endpoint_key(endpoint)
                if key in seen:  # validate_chain rejects this; never loop regardless
                    continue
                if attempts >= self.max_attempts:
                    capped = True
                    break
                seen.add(key)
                provider = self._provider_for(tier.number, index)
                quota = (self.free_quota if self.free_quota is not None
                         and counts_against_quota(tier, endpoint) else None)
                if ((skip := self._skip(tier, provider, key, ignore_cooldown)) is not None
                        or (quota is not None
                            and (skip := await self._quota_skip(quota, tier, provider, easy)))):
                    failures.append(skip)
                    yield skip
                    continue
                if tier.paid:
                    yield PaidEscalation(tier.number, provider.model,
                                         self._escalation_reason(tier, start_tier, failures))
                attempts += 1
                yield AttemptStarted(tier.number, tier.name, index, provider.model,
                                     provider.endpoint, tier.paid, provider)
                if quota is not None:
                    await quota.record(tier.number, provider.endpoint)
                outcome = _Outcome(parts=[])
                async with contextlib.aclosing(self._attempt(
                        provider, endpoint, messages, max_tokens, outcome, deadline)) as run:
                    async for item in run:
                        yield item
                if quota is not None:
                    await quota.observe(getattr(provider, "rate_limit", None))
                if outcome.cut is not None and not outcome.parts:  # the time is up
                    timed_out = AttemptFailed(tier.number, provider.model, provider.endpoint,
                                              outcome.cut.detail, "timeout")
                    failures.append(timed_out)
                    yield timed_out
                    yield RouteFinished(False, attempts, outcome.cut.detail)
                    return
                failed = self._judge(tier, provider, endpoint, key, outcome)
                if failed is None:
                    if outcome.cut is not None:
                        yield outcome.cut
                    # Only an endpoint we knew to be failing has a row to clear, so a
                    # healthy answer costs no write.
                    if self.cooldowns.succeeded(key):
                        await self._clear_cooldown(key)
                    if outcome.usage is not None:
                        yield UsageReported(outcome.usage)
                    yield RouteFinished(True, attempts, None)
                    return
                await self._save_cooldown(key)
                failures.append(failed)
                yield failed
        yield RouteFinished(False, attempts, _summary(failures, attempts, capped, start_tier))

    def _available(self, tiers: Sequence[Tier]) -> Iterator[tuple[int, EndpointKey]]:
        """(tier number, endpoint key) of every endpoint of `tiers` that is available
        (key present, model folder there), cooling down or not."""
        for tier in tiers:
            for index, endpoint in enumerate(tier.endpoints):
                if self._provider_for(tier.number, index).availability()[0]:
                    yield tier.number, endpoint_key(endpoint)

    def usable_tiers(self) -> set[int]:
        """Tiers with an endpoint that could be called now (available, not cooling down):
        where a role pinned to one tier can expect an answer."""
        return {number for number, key in self._available(self.config.tiers)
                if self.cooldowns.remaining(key) <= 0}

    def _all_cooling(self, chain: list[Tier]) -> bool:
        usable = [key for _, key in self._available([t for t in chain if not t.paid])]
        return bool(usable) and all(self.cooldowns.remaining(key) > 0 for key in usable)

    def _skip(self, tier: Tier, provider: Provider, key: EndpointKey,
              ignore_cooldown: bool = False) -> AttemptFailed | None:
        available, why = provider.availability()
        if not available:
            return AttemptFailed(tier.number, provider.model, provider.endpoint, why,
                                 "unavailable", skipped=True)
        until = self._wall_until(key)
        if until is not None and not ignore_cooldown:
            left = self.cooldowns.remaining(key)
            return AttemptFailed(tier.number, provider.model, provider.endpoint,
                                 f"cooling down for another {left:.0f} s after a failure",
                                 "cooldown", cooldown_until=until, skipped=True)
        return None

    @staticmethod
    async def _quota_skip(quota: FreeQuota, tier: Tier, provider: Provider,
                          easy: bool) -> AttemptFailed | None:
        refused = await quota.refusal(easy=easy)
        if refused is None:
            return None
        return AttemptFailed(tier.number, provider.model, provider.endpoint, refused.reason,
                             "quota", cooldown_until=refused.until, skipped=True)

    @staticmethod
    def _escalation_reason(tier: Tier, start_tier: int, failures: list[AttemptFailed]) -> str:
        if tier.number == start_tier:
            return f"tier {tier.number} ({tier.name}) was chosen and is paid"
        why = ", ".join(f"tier {f.tier} {f.kind}" for f in failures[-4:]) or "no free answer"
        return f"free tiers could not answer ({why})"

    async def _attempt(self, provider: Provider, endpoint: Endpoint,
                       messages: Sequence[ChatMessage], max_tokens: int,
                       out: _Outcome, deadline: _Deadline
                       ) -> AsyncGenerator[TextReceived | ModelPreparing, None]:
        """One call: pass text through, keep the usage, store the fault in `out`.

        Two client-side limits end the reply early, whatever the server does: more
        than `max_tokens` of text (counted here), and the request's deadline."""
        loop = asyncio.get_running_loop()
        preparing_since = loop.time()
        try:
            async for event in provider.prepare():
                yield event
        except Exception as exc:
            out.error = exc
            return
        finally:
            deadline.extend(loop.time() - preparing_since)
        stream = provider.stream(list(messages), max_tokens)
        # An in-process model cannot hang on a socket, and its prefill may be slow.
        timeout_s = None if endpoint.kind == "mlx" else endpoint.timeout_s
        # The in-process model stops at max_tokens itself: only a server's text is counted,
        # so the local tier's per-token path does no tokenizing.
        client_limit = None if provider.kind == "mlx" else client_token_limit(max_tokens)
        try:
            async with contextlib.aclosing(
                    _guarded(stream, timeout_s, provider.endpoint, deadline)) as guarded:
                async for item in guarded:
                    if isinstance(item, Usage):
                        out.usage = item
                    elif item:
                        out.parts.append(item)
                        yield TextReceived(item)
                        if client_limit is None:
                            continue
                        out.tokens += count_tokens(item)
                        if out.tokens > client_limit:
                            out.cut = AttemptCut("max_tokens", (
                                f"reply cut at {out.tokens:,} tokens: {provider.endpoint} kept "
                                f"sending past max_tokens ({max_tokens:,})"))
                            break
        except RequestDeadline as exc:
            out.cut = AttemptCut("request_timeout_s", str(exc))
        except Exception as exc:  # every provider fault moves down the chain
            out.error = exc
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    def _judge(self, tier: Tier, provider: Provider, endpoint: Endpoint, key: EndpointKey,
               out: _Outcome) -> AttemptFailed | None:
        """None when the attempt answered; else the failure, with its cooldown applied."""
        hint = None
        if out.error is not None:
            kind, _status = classify_fault(out.error)
            error = self._scrub(str(out.error) or type(out.error).__name__)
            hint = retry_after_of(out.error, self._wall())
        elif not out.parts and (out.usage is None or out.usage.estimated
                                or out.usage.completion_tokens == 0):
            kind, error = "empty", f"{provider.endpoint} sent an empty reply for {provider.model}"
        else:
            return None
        self.cooldowns.failed(key, hint, f"{kind}: {one_line(error, ERROR_CHARS)}")
        return AttemptFailed(tier.number, provider.model, provider.endpoint, error, kind,
                             "".join(out.parts), hint, self._wall_until(key))


def client_token_limit(max_tokens: int) -> int:
    """Where the client cuts a reply, counted in cl100k tokens: past `max_tokens` with a
    margin, since the server counts with its own tokenizer (the same text is often a
    few tokens more in cl100k). A server that honours max_tokens never reaches it."""
    return max_tokens + max(32, max_tokens // 2)


class StreamStalled(TimeoutError):
    """No item arrived within the endpoint's timeout (a hang between chunks)."""


class RequestDeadline(TimeoutError):
    """The request's wall-clock limit (`request_timeout_s`) ran out."""


async def _guarded(stream: AsyncIterator[str | Usage], timeout_s: float | None,
                   where: str, deadline: _Deadline | None = None
                   ) -> AsyncGenerator[str | Usage, None]:
    """Re-yield `stream`, failing if any single item takes longer than `timeout_s` or
    the request's deadline passes."""
    iterator = aiter(stream)
    while True:
        left = deadline.left() if deadline is not None else None
        limit = timeout_s if left is None else max(0.0, left if timeout_s is None
                                                  else min(left, timeout_s))
        try:
            async with asyncio.timeout(limit):
                item = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            now_left = deadline.left() if deadline is not None else None
            if deadline is not None and now_left is not None and now_left <= 0:
                raise RequestDeadline(
                    f"stopped after {deadline.seconds:g} s, the request's time limit "
                    f"(request_timeout_s)") from exc
            raise StreamStalled(f"{where} sent nothing for {timeout_s:g} s") from exc
        yield item


def _summary(failures: list[AttemptFailed], attempts: int, capped: bool,
             start_tier: int) -> str:
    lines = [f"tier {f.tier} {f.model}: {f.kind} ({one_line(f.error, ERROR_CHARS)})"
             for f in failures]
    head = (f"gave up after {attempts} attempts (the cap)" if capped
            else f"no tier from {start_tier} on could answer")
    return head + (": " + "; ".join(lines) if lines else "")
