"""OpenRouter's response cache: with `[cache] provider_response_cache = true`, a request
the result cache may keep (marked cacheable or deterministic) asks the hosted tier for
its own response cache (`X-OpenRouter-Cache: true`); nothing else carries the header.
Tier 2 is a real HTTP server on loopback (the fault server) that records the headers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openai  # noqa: F401 - imported up front so its first import eats no timeout
from fault_server import FaultServer
from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import CacheSettings, Endpoint, Tier
from tokenopt_tui.core.events import ReplyCompleted
from tokenopt_tui.core.session import ChatSession


async def _asks(tmp_path: Path, server: FaultServer, *, enabled: bool,
                cacheable: list[bool]) -> list[str | None]:
    services = build_services(tmp_path, FakeProvider("local"))
    tiers = (services.config.tiers[0],
             Tier(2, "loopback", False, (Endpoint("openai", "ok/remote", server.url,
                                                  timeout_s=5),)))
    services.config = replace(services.config, tiers=tiers,
                              cache=CacheSettings(provider_response_cache=enabled))
    await services.open_store()
    try:
        session = await ChatSession.start(services, tier=2)
        for index, mark in enumerate(cacheable):
            session.cacheable_once = mark
            events = [e async for e in session.send(f"Summarise RFC {9000 + index}.")]
            assert any(isinstance(e, ReplyCompleted) and e.tier == 2 for e in events)
            # the compaction summary and later calls must not inherit the wish
    finally:
        await services.aclose()
    return [h.get("x-openrouter-cache") for h in server.headers_seen]


async def test_a_cacheable_request_asks_the_hosted_tier_for_its_response_cache(
        tmp_path) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        seen = await _asks(tmp_path, server, enabled=True, cacheable=[True, False, True])
    assert seen == ["true", None, "true"]


async def test_off_by_default_no_request_carries_the_header(tmp_path) -> None:
    assert CacheSettings().provider_response_cache is False
    async with FaultServer(lifetime_s=60.0) as server:
        seen = await _asks(tmp_path, server, enabled=False, cacheable=[True, False])
    assert seen == [None, None]
