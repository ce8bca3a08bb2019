"""Looking answers up and storing them: what ChatSession.send asks of the cache.

`plan` decides whether a request may use the cache at all (cache on, a deterministic
endpoint or a request marked cacheable) and builds its key for the endpoint that would
answer first; `get` serves a live entry and counts the hit; `put` keeps a complete
answer for its TTL class. The clock is injectable so tests can expire entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokenopt_tui.config import Config, Endpoint
from tokenopt_tui.core.cache.key import (
    KeyParts,
    SkillRef,
    cache_key,
    is_deterministic,
    sampling_for,
)
from tokenopt_tui.core.cache.ttl import TtlClass, ttl_class, ttl_seconds
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.store import Store
from tokenopt_tui.store.cache import CacheEntry

#: Characters of the key shown to people (notices, `cache stats`).
PREFIX_CHARS = 12


@dataclass(frozen=True)
class CachePlan:
    """One request's cache key, the endpoint it was built for and its TTL class."""

    key: str
    tier: int
    endpoint: Endpoint
    ttl_class: TtlClass


class ResultCache:
    """The session's view of the result cache (rows in the store's result_cache)."""

    def __init__(self, store: Store, config: Config,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def plan(self, tier: int, messages: Sequence[ChatMessage], request: str,
             task_type: str | None, skills: Sequence[SkillRef] = (),
             cacheable: bool = False) -> CachePlan | None:
        """The plan for a request starting at `tier`, or None when it may not be cached:
        the cache is off, the tier is unknown, or its first endpoint is not sent a
        temperature of exactly 0 and the request was not marked cacheable."""
        if not self.config.cache.enabled:
            return None
        try:
            endpoint = self.config.tier(tier).endpoints[0]
        except (KeyError, IndexError):
            return None
        sampling = sampling_for(endpoint, self.config)
        if not (cacheable or is_deterministic(sampling)):
            return None
        key = cache_key(KeyParts(endpoint, list(messages), sampling, skills))
        return CachePlan(key, tier, endpoint, ttl_class(task_type, request))

    async def get(self, plan: CachePlan) -> CacheEntry | None:
        """The live answer for `plan` (its hit counted), or None."""
        now = self.clock()
        entry = await self.store.cache_get(plan.key, now)
        if entry is not None:
            await self.store.cache_hit(plan.key, now)
        return entry

    async def put(self, plan: CachePlan, reply: str, prompt_tokens: int,
                  completion_tokens: int, model: str | None = None) -> CacheEntry:
        """Keep `reply` under `plan`'s key for its TTL class; `model` is the name the
        provider answered as (the config's may be an alias such as "embedded")."""
        now = self.clock()
        entry = CacheEntry(plan.key, now, now + ttl_seconds(self.config.cache, plan.ttl_class),
                           plan.ttl_class, plan.endpoint.base_url or plan.endpoint.kind,
                           model or plan.endpoint.model, reply, prompt_tokens,
                           completion_tokens)
        await self.store.cache_put(entry)
        return entry

    async def purge_expired(self) -> int:
        return await self.store.cache_purge_expired(self.clock())
