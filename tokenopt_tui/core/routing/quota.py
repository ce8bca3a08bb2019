"""The free hosted tiers' per-account quota, known before the provider's 429.

OpenRouter's ":free" models share one allowance per account: 20 requests a minute and
50 a day (1,000 after buying credits), the day being the UTC day. Every request the
router sends to a free hosted endpoint — a free tier's OpenAI-compatible endpoint on a
non-loopback host; the in-process model and servers on this machine cost nothing — is
counted in the store (`free_requests`), so the day's use survives restarts and other
processes see it. When a provider reports its own figures (`X-RateLimit-Limit`,
`-Remaining`, `-Reset`), those win over the count.

The policy: once the day's remaining free requests fall to `reserve_for_hard`, an *easy*
request (one that starts at a tier with no free hosted endpoint, i.e. reaches the hosted
tiers only as a fallback from the local one) is no longer sent there; a request that
starts at a free hosted tier (the classifier judged it hard, or the user pinned it) may
use the reserve. With none left, or with the minute's allowance used, every free hosted
endpoint is skipped with the reason in words.

Pure functions do the arithmetic; `FreeQuota` holds the state the router consults and
never raises for a store fault (it logs and falls back to what this process counted).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol
from urllib.parse import urlsplit

from tokenopt_tui.config import Endpoint, QuotaSettings, Tier

logger = logging.getLogger(__name__)

DAY_S = 86_400.0
MINUTE_S = 60.0
#: Host names that always mean this machine.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                            "ip6-loopback"})
#: A report whose window ends further away than this is the day's; nearer, the minute's.
MINUTE_WINDOW_MAX_S = 120.0

Scope = Literal["day", "minute"]


# --- which endpoints count ---------------------------------------------------------------

def is_loopback_url(base_url: str | None) -> bool:
    """Whether `base_url` points at this machine (no host at all counts as local)."""
    host = (urlsplit(base_url or "").hostname or "").lower().rstrip(".")
    if not host or host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def counts_against_quota(tier: Tier, endpoint: Endpoint) -> bool:
    """A free tier's OpenAI-compatible endpoint on another host: the account's quota."""
    return not tier.paid and endpoint.kind == "openai" and not is_loopback_url(endpoint.base_url)


def free_hosted(tiers: Iterable[Tier]) -> list[tuple[Tier, int, Endpoint]]:
    """Every (tier, index, endpoint) the quota applies to, in chain order."""
    return [(tier, index, endpoint) for tier in tiers
            for index, endpoint in enumerate(tier.endpoints)
            if counts_against_quota(tier, endpoint)]


def is_easy(tiers: Iterable[Tier], start_tier: int) -> bool:
    """A request is easy when its start tier has no free hosted endpoint: it reaches
    those only as a fallback (from the local tier), so it may not use the reserve."""
    for tier in tiers:
        if tier.number == start_tier:
            return not any(counts_against_quota(tier, e) for e in tier.endpoints)
    return True


# --- the provider's figures --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RateLimitReading:
    """One response's X-RateLimit-* figures; epochs are wall-clock seconds."""

    limit: int
    remaining: int
    reset_epoch: float | None
    seen_epoch: float


def _reset_epoch(value: str, now: float) -> float | None:
    """X-RateLimit-Reset as epoch seconds: epoch ms (OpenRouter), epoch s or a delta."""
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number >= 1e11:
        return number / 1000
    if number >= 1e9:
        return number
    return now + max(number, 0.0)


def reading_from_headers(headers: Mapping[str, str], now: float) -> RateLimitReading | None:
    """The X-RateLimit-* figures of a response, or None when it sent no usable pair."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        limit = int(float(lowered["x-ratelimit-limit"].strip()))
        remaining = int(float(lowered["x-ratelimit-remaining"].strip()))
    except (KeyError, ValueError):
        return None
    if limit < 0 or remaining < 0:
        return None
    reset = lowered.get("x-ratelimit-reset")
    return RateLimitReading(limit, min(remaining, limit), None if reset is None
                            else _reset_epoch(reset, now), now)


def scope_of(reading: RateLimitReading, settings: QuotaSettings) -> Scope:
    """Which window a report describes: by when it resets, else by the size of its limit
    (OpenRouter does not say which of its two limits the headers are about)."""
    if reading.reset_epoch is not None:
        far = reading.reset_epoch - reading.seen_epoch > MINUTE_WINDOW_MAX_S
        return "day" if far else "minute"
    return "day" if reading.limit > settings.free_per_minute else "minute"


# --- arithmetic (pure) ---------------------------------------------------------------------

def day_start(now: float) -> float:
    """00:00 UTC of `now`'s day, as epoch seconds (the providers' day)."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def current(reading: RateLimitReading | None, scope: Scope, now: float) -> bool:
    """Whether a report still describes the window `now` is in."""
    if reading is None:
        return False
    if reading.reset_epoch is not None:
        return reading.reset_epoch > now
    window = MINUTE_S if scope == "minute" else now - day_start(now)
    return reading.seen_epoch >= now - window


def left_today(settings: QuotaSettings, used_today: int,
               report: RateLimitReading | None = None, used_since_report: int = 0) -> int:
    """Free requests left today: the provider's remaining minus what was sent after it
    said so, else the configured day's limit minus today's count."""
    if report is not None:
        return max(0, report.remaining - used_since_report)
    return max(0, settings.free_per_day - used_today)


def left_this_minute(settings: QuotaSettings, used_last_minute: int,
                     report: RateLimitReading | None = None, used_since_report: int = 0) -> int:
    """Free requests left in the sliding minute: the count's figure, lowered by the
    provider's when it reported a current minute window."""
    left = settings.free_per_minute - used_last_minute
    if report is not None:
        left = min(left, report.remaining - used_since_report)
    return max(0, left)


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """The account's free requests now. `day_limit` is the provider's when it reported
    one; `resets_at` is when the day's (or, at the minute's limit, the minute's)
    allowance starts over."""

    left_today: int
    day_limit: int
    left_this_minute: int
    per_minute: int
    day_resets_at: float
    minute_resets_at: float


@dataclass(frozen=True, slots=True)
class QuotaRefusal:
    """Why free hosted endpoints are skipped now, and until when (epoch seconds)."""

    reason: str
    until: float


def utc_clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


def refusal(status: QuotaStatus, settings: QuotaSettings, *, easy: bool,
            now: float) -> QuotaRefusal | None:
    """The policy: none left today, or the minute's used, skips every request; at the
    reserve only easy ones are skipped."""
    if status.left_today <= 0:
        return QuotaRefusal(f"free quota used: {status.day_limit} of {status.day_limit} "
                            f"today, resets {utc_clock(status.day_resets_at)}",
                            status.day_resets_at)
    if status.left_this_minute <= 0:
        wait = max(1.0, status.minute_resets_at - now)
        return QuotaRefusal(f"free quota: {status.per_minute} requests in the last minute "
                            f"(limit {status.per_minute} a minute); free again in {wait:.0f} s",
                            now + wait)
    if easy and status.left_today <= settings.reserve_for_hard:
        return QuotaRefusal(f"free quota at the reserve: {status.left_today} of "
                            f"{status.day_limit} left today, kept for hard requests "
                            f"(resets {utc_clock(status.day_resets_at)})",
                            status.day_resets_at)
    return None


def free_line(status: QuotaStatus) -> str:
    """The Budget panel's and doctor's line."""
    return f"free requests: {status.left_today} of {status.day_limit} left today"


# --- the state the router consults -------------------------------------------------------

class QuotaStore(Protocol):
    """The store's free-quota queries (store/accounting.py)."""

    async def record_free_request(self, tier: int, endpoint: str, at: float) -> int: ...

    async def free_requests_since(self, since: float) -> int: ...

    async def save_free_quota_report(self, scope: str, limit: int, remaining: int,
                                     reset_epoch: float | None, seen_epoch: float) -> None: ...

    async def free_quota_reports(self) -> dict[str, tuple[int, int, float | None, float]]: ...


class FreeQuota:
    """Counts free hosted requests and keeps the provider's latest figures.

    With a store (`store` is called on each use, so this can be built before the
    database opens) the counts and reports are the store's, shared by every process;
    a store fault is logged and this process's own figures are used instead.
    """

    def __init__(self, settings: QuotaSettings, store: Callable[[], QuotaStore] | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._store = store
        self._wall = wall_clock
        self._sent: list[float] = []  # this process's requests (today's, oldest first)
        self._reports: dict[Scope, RateLimitReading] = {}

    def _count_local(self, since: float) -> int:
        return sum(1 for at in self._sent if at >= since)

    async def _count(self, since: float) -> int:
        if self._store is not None:
            try:
                return await self._store().free_requests_since(since)
            except Exception as exc:
                logger.warning("could not count the free requests: %s", exc or type(exc).__name__)
        return self._count_local(since)

    async def _latest_reports(self) -> dict[Scope, RateLimitReading]:
        reports = dict(self._reports)
        if self._store is None:
            return reports
        try:
            stored = await self._store().free_quota_reports()
        except Exception as exc:
            logger.warning("could not read the free quota reports: %s",
                           exc or type(exc).__name__)
            return reports
        for scope in ("day", "minute"):
            if scope in stored:
                limit, remaining, reset, seen = stored[scope]
                known = reports.get(scope)
                if known is None or seen > known.seen_epoch:
                    reports[scope] = RateLimitReading(limit, remaining, reset, seen)
        return reports

    async def status(self) -> QuotaStatus:
        """Today's and this minute's free requests left, from reports and counts."""
        now = self._wall()
        midnight = day_start(now)
        reports = await self._latest_reports()
        day = reports.get("day") if current(reports.get("day"), "day", now) else None
        minute = reports.get("minute") if current(reports.get("minute"), "minute", now) else None
        used_today = await self._count(midnight)
        used_minute = await self._count(now - MINUTE_S)
        since_day = await self._count(day.seen_epoch) if day is not None else 0
        since_minute = await self._count(minute.seen_epoch) if minute is not None else 0
        day_resets = (day.reset_epoch if day is not None and day.reset_epoch is not None
                      else midnight + DAY_S)
        minute_resets = (minute.reset_epoch if minute is not None
                         and minute.reset_epoch is not None else now + MINUTE_S)
        if minute is None and used_minute:
            oldest = self._oldest_in_minute(now)
            minute_resets = oldest + MINUTE_S if oldest is not None else minute_resets
        return QuotaStatus(
            left_today(self.settings, used_today, day, since_day),
            day.limit if day is not None else self.settings.free_per_day,
            left_this_minute(self.settings, used_minute, minute, since_minute),
            self.settings.free_per_minute, day_resets, minute_resets)

    def _oldest_in_minute(self, now: float) -> float | None:
        """When the sliding minute frees a request: this process's oldest in it (other
        processes' requests make this a lower bound; a retry then is refused again)."""
        recent = [at for at in self._sent if at >= now - MINUTE_S]
        return recent[0] if recent else None

    async def refusal(self, *, easy: bool) -> QuotaRefusal | None:
        """Why a free hosted endpoint is not to be tried now, or None."""
        return refusal(await self.status(), self.settings, easy=easy, now=self._wall())

    async def record(self, tier: int, endpoint: str) -> None:
        """Count one request about to be sent to a free hosted endpoint."""
        now = self._wall()
        midnight = day_start(now)
        self._sent = [at for at in self._sent if at >= midnight] + [now]
        if self._store is None:
            return
        try:
            await self._store().record_free_request(tier, endpoint, now)
        except Exception as exc:
            logger.warning("could not count a free request to %s: %s", endpoint,
                           exc or type(exc).__name__)

    async def observe(self, reading: RateLimitReading | None) -> None:
        """Keep a provider's X-RateLimit-* figures (older or repeated ones are ignored)."""
        if reading is None:
            return
        scope = scope_of(reading, self.settings)
        known = self._reports.get(scope)
        if known is not None and known.seen_epoch >= reading.seen_epoch:
            return
        self._reports[scope] = reading
        if self._store is None:
            return
        try:
            await self._store().save_free_quota_report(
                scope, reading.limit, reading.remaining, reading.reset_epoch,
                reading.seen_epoch)
        except Exception as exc:
            logger.warning("could not keep the free quota report: %s", exc or type(exc).__name__)

