"""Per-endpoint cooldowns and the rate-limit hints that set them.

Split from the router so the timing rules (1 → 5 → 25 → 60 min steps, Retry-After,
OpenRouter's X-RateLimit-Reset in epoch milliseconds) can be read and tested alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol

# Endpoint identity belongs to the config (which also rejects duplicates by it);
# re-exported because cooldowns are keyed by it.
from tokenopt_tui.config import EndpointKey as EndpointKey
from tokenopt_tui.config import endpoint_key as endpoint_key

DEFAULT_COOLDOWN_STEPS_S: tuple[float, ...] = (60.0, 300.0, 1500.0, 3600.0)
MAX_HINT_S = 24 * 3600.0  # a bogus Retry-After must not disable an endpoint for a year


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (bounded), where the SDK's details live."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 6 and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _header_seconds(name: str, value: str, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        if name != "retry-after":
            return None
        try:
            return parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    if name == "retry-after":
        return number
    if number >= 1e11:  # epoch milliseconds (OpenRouter)
        return number / 1000 - now
    if number >= 1e9:  # epoch seconds
        return number - now
    return number  # seconds from now


def retry_after_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset.

    X-RateLimit-Reset may be epoch ms (OpenRouter), epoch s or a delta; the later
    of the two headers wins, clamped to [0, 24 h].
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    waits = [s for name in ("retry-after", "x-ratelimit-reset")
             if name in lowered and (s := _header_seconds(name, lowered[name], now)) is not None]
    return min(max(max(waits), 0.0), MAX_HINT_S) if waits else None


def retry_after_of(exc: BaseException, now: float) -> float | None:
    """A provider's `retry_after_s`, else the headers of the SDK error it wraps."""
    direct = getattr(exc, "retry_after_s", None)
    if isinstance(direct, int | float):
        return min(max(float(direct), 0.0), MAX_HINT_S)
    for e in exception_chain(exc):
        headers = getattr(getattr(e, "response", None), "headers", None)
        if headers is not None:
            return retry_after_from_headers(headers, now)
    return None


# --- cooldowns -------------------------------------------------------------------------

@dataclass
class _Cooling:
    failures: int = 0
    until: float = 0.0  # on the router's monotonic clock
    last_error: str | None = None


@dataclass(frozen=True)
class CooldownState:
    """One endpoint's cooldown as read back: `until` on the monotonic clock."""

    failures: int
    until: float
    last_error: str | None


class Cooldowns:
    """Consecutive failures of an endpoint cool it down for the next step (1→5→25→60 min)."""

    def __init__(self, steps_s: Sequence[float], clock: Callable[[], float]) -> None:
        if not steps_s:
            raise ValueError("cooldown steps must not be empty")
        self.steps_s = tuple(steps_s)
        self._clock = clock
        self._state: dict[EndpointKey, _Cooling] = {}

    def failed(self, key: EndpointKey, hint_s: float | None = None,
               error: str | None = None) -> float:
        """Record a failure; returns the monotonic time the cooldown ends."""
        state = self._state.setdefault(key, _Cooling())
        state.failures += 1
        state.last_error = error
        now = self._clock()
        step = self.steps_s[min(state.failures, len(self.steps_s)) - 1]
        state.until = max(now + step, now + hint_s if hint_s is not None else 0.0)
        return state.until

    def succeeded(self, key: EndpointKey) -> bool:
        """Forget the endpoint's failures; True if there were any to forget."""
        return self._state.pop(key, None) is not None

    def remaining(self, key: EndpointKey) -> float:
        state = self._state.get(key)
        return max(0.0, state.until - self._clock()) if state else 0.0

    def state(self, key: EndpointKey) -> CooldownState | None:
        """Failures, monotonic end and last error of the endpoint, or None if healthy."""
        state = self._state.get(key)
        return CooldownState(state.failures, state.until, state.last_error) if state else None

    def restore(self, key: EndpointKey, failures: int, until: float,
                last_error: str | None) -> None:
        """Adopt a cooldown read from elsewhere (the store); the later end wins."""
        if failures < 1:
            return
        current = self._state.get(key)
        if current is not None and current.until >= until:
            return
        self._state[key] = _Cooling(max(failures, current.failures if current else 0), until,
                                    last_error)


# --- persistence -------------------------------------------------------------------------

def key_text(key: EndpointKey) -> str:
    """The stable string form of an endpoint key, as stored (JSON: unambiguous, reversible)."""
    return json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))


def key_from_text(text: str) -> EndpointKey:
    """Inverse of `key_text`; ValueError for anything that is not one."""
    value = json.loads(text)
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise ValueError(f"not an endpoint key: {text[:120]!r}")
    return (value[0], value[1], value[2])


class CooldownStore(Protocol):
    """Where the router keeps cooldowns between processes; `until_epoch` is wall-clock."""

    async def load(self) -> dict[str, tuple[int, float, str | None]]: ...

    async def save(self, key: str, failures: int, until_epoch: float,
                   last_error: str | None) -> None: ...

    async def clear(self, key: str) -> None: ...


class _CooldownQueries(Protocol):
    async def load_cooldowns(self) -> dict[str, tuple[int, float, str | None]]: ...

    async def save_cooldown(self, key: str, failures: int, until_epoch: float,
                            last_error: str | None) -> None: ...

    async def clear_cooldown(self, key: str) -> None: ...


class StoreCooldowns:
    """A CooldownStore over the SQLite store's cooldown queries.

    `store` is called on every use, so a router can be built before the database is
    opened; using it before then raises (and the router logs a warning).
    """

    def __init__(self, store: Callable[[], _CooldownQueries]) -> None:
        self._store = store

    async def load(self) -> dict[str, tuple[int, float, str | None]]:
        return await self._store().load_cooldowns()

    async def save(self, key: str, failures: int, until_epoch: float,
                   last_error: str | None) -> None:
        await self._store().save_cooldown(key, failures, until_epoch, last_error)

    async def clear(self, key: str) -> None:
        await self._store().clear_cooldown(key)
