"""Replayed providers: the workload's own replies stand in for every model, so token
figures are deterministic, while the real router, session, skills and store run.

A `Script` says which turn is being asked; each tier's `ReplayProvider` answers it with
the labelled reply and reports usage counted with the same tokenizer the app uses.
Free hosted tiers share one `ServerQuota` (OpenRouter counts free requests per account)
on the simulated clock; past it they answer 429, as the real service does, and the
router falls over exactly as it would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tokenopt_tui.core.events import ModelPreparing
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
from tokenopt_tui.core.tokens import count_tokens

#: Tokens a chat template adds per message (role markers), as OpenAI documents for
#: its chat format; the same for every pipeline, so it cancels in comparisons.
PER_MESSAGE_TOKENS = 4


class SimClock:
    """Seconds since the simulated day's midnight; only ever moves forward."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance_to(self, seconds: float) -> None:
        self.now = max(self.now, seconds)

    def __call__(self) -> float:
        return self.now


@dataclass
class ServerQuota:
    """The provider's side of the free quota: requests per minute and per day across the
    free hosted models of one account, refused with a 429 past them (the app's own
    policy, core/routing/quota.py, normally stops short of that)."""

    clock: SimClock
    per_minute: int = 20
    per_day: int = 50
    _recent: deque[float] = field(default_factory=deque)
    used: int = 0
    refused: int = 0

    def take(self, endpoint: str) -> None:
        """Count one request, or raise the 429 the service would send."""
        now = self.clock()
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        if self.used >= self.per_day:
            self.refused += 1
            raise ProviderError(f"429 free-models-per-day: {self.per_day} requests a day used",
                                endpoint, kind="rate_limit", status=429,
                                retry_after_s=86_400 - now % 86_400)
        if len(self._recent) >= self.per_minute:
            self.refused += 1
            raise ProviderError(f"429 free-models-per-min: {self.per_minute} requests a minute",
                                endpoint, kind="rate_limit", status=429,
                                retry_after_s=60 - (now - self._recent[0]))
        self._recent.append(now)
        self.used += 1


@dataclass
class Script:
    """The turn being asked now, and what was sent for it (read after each request)."""

    reply: str = ""
    needed_tier: int = 1
    #: Set for the baseline's local tier: an answer to a task that needs more is judged
    #: insufficient after it streamed, and the next tier (paid) answers again.
    judge_local: bool = False
    sent: list[ChatMessage] = field(default_factory=list)
    calls: int = 0
    last_reply: str = ""  # the text of the last call (replayed or generated)

    def reply_for(self, messages: list[ChatMessage], max_tokens: int) -> str:
        """The text to replay for this request (the swarm's script answers by role and
        stops at `max_tokens`, as the models do; the day's replies are replayed whole)."""
        return self.reply

    def record(self, tier: int, kind: str, model: str, usage: Usage) -> None:
        """A call's usage on the plan's `tier`, for a script that needs it per call (the
        swarm's; none here)."""


class TokenCounter:
    """cl100k counts per distinct text: the history is resent every turn, counted once."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        count = self._counts.get(text)
        if count is None:
            count = self._counts[text] = count_tokens(text)
        return count

    def prompt(self, messages: list[ChatMessage]) -> int:
        return sum(self(m.content) + PER_MESSAGE_TOKENS for m in messages)


class ReplayProvider:
    """One endpoint of one tier, answering from the script."""

    def __init__(self, tier: int, kind: str, model: str, script: Script, counter: TokenCounter,
                 quota: ServerQuota | None = None) -> None:
        self.tier = tier
        self.kind = kind  # the endpoint's own kind: "mlx" is priced as local
        self.model = model
        self.endpoint = f"replay://tier{tier}/{model}"
        self.script = script
        self.counter = counter
        self.quota = quota
        #: The last conversation this endpoint saw (the local tier keeps its KV cache,
        #: core/providers/prefix_cache.py): what the next prompt can reuse.
        self._held: list[ChatMessage] = []

    def availability(self) -> tuple[bool, str]:
        return True, "replay"

    async def prepare(self) -> AsyncIterator[ModelPreparing]:
        return
        yield  # an async generator with nothing to prepare

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        script = self.script
        if self.quota is not None:
            self.quota.take(self.endpoint)
        script.sent = messages
        script.calls += 1
        reply = script.last_reply = script.reply_for(messages, max_tokens)
        yield reply
        if script.judge_local and self.tier == 1 and script.needed_tier > 1:
            raise ProviderError(f"answer judged insufficient: the task needs tier "
                                f"{script.needed_tier}", self.endpoint, kind="malformed")
        cached = self._reused(messages, reply)
        usage = Usage(self.counter.prompt(messages), self.counter(reply), cached_tokens=cached)
        script.record(self.tier, self.kind, self.model, usage)
        yield usage

    def _reused(self, messages: list[ChatMessage], reply: str) -> int:
        """Prompt tokens the local tier serves from its KV cache: the messages this
        prompt shares, from the start, with the last conversation (hosted tiers report
        none here: their caching is the provider's and is not simulated)."""
        if self.kind != "mlx":
            return 0
        same = 0
        for held, sent in zip(self._held, messages, strict=False):
            if held != sent:
                break
            same += self.counter(sent.content) + PER_MESSAGE_TOKENS
        self._held = [*messages, ChatMessage("assistant", reply)]
        return same
