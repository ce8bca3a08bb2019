"""Per-endpoint cooldowns and the rate-limit hints that set them.

Split from the router so the timing rules (1 → 5 → 25 → 60 min steps, Retry-After,
OpenRouter's X-RateLimit-Reset in epoch milliseconds) can be read and tested alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from tokenopt_tui.config import Endpoint

DEFAULT_COOLDOWN_STEPS_S: tuple[float, ...] = (60.0, 300.0, 1500.0, 3600.0)
MAX_HINT_S = 24 * 3600.0  # a bogus Retry-After must not disable an endpoint for a year

EndpointKey = tuple[str, str, str]  # (kind, base_url, model)


def endpoint_key(endpoint: Endpoint) -> EndpointKey:
    return (endpoint.kind, (endpoint.base_url or "").rstrip("/").lower(), endpoint.model)


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


class Cooldowns:
    """Consecutive failures of an endpoint cool it down for the next step (1→5→25→60 min)."""

    def __init__(self, steps_s: Sequence[float], clock: Callable[[], float]) -> None:
        if not steps_s:
            raise ValueError("cooldown steps must not be empty")
        self.steps_s = tuple(steps_s)
        self._clock = clock
        self._state: dict[EndpointKey, _Cooling] = {}

    def failed(self, key: EndpointKey, hint_s: float | None = None) -> float:
        """Record a failure; returns the monotonic time the cooldown ends."""
        state = self._state.setdefault(key, _Cooling())
        state.failures += 1
        now = self._clock()
        step = self.steps_s[min(state.failures, len(self.steps_s)) - 1]
        state.until = max(now + step, now + hint_s if hint_s is not None else 0.0)
        return state.until

    def succeeded(self, key: EndpointKey) -> None:
        self._state.pop(key, None)

    def remaining(self, key: EndpointKey) -> float:
        state = self._state.get(key)
        return max(0.0, state.until - self._clock()) if state else 0.0
