"""ChatSession + router: the classifier picks the start, a failed attempt's partial
text is kept as an interrupted message, and the reply that completes it is labelled
with the tier that gave it. Tier 2 is a real HTTP server (the fault server)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openai  # noqa: F401 - imported up front so its first import eats no timeout
from fault_server import FaultServer
from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import Endpoint, Tier
from tokenopt_tui.core.events import (
    ErrorOccurred,
    ReplyCompleted,
    TierChosen,
    TierFailed,
    UsageRecorded,
)
from tokenopt_tui.core.session import ChatSession


async def _session(tmp_path: Path, tier1: FakeProvider, server: FaultServer, model: str):
    services = build_services(tmp_path, tier1)
    tiers = (services.config.tiers[0],
             Tier(2, "loopback", False, (Endpoint("openai", model, server.url, timeout_s=5),)))
    services.config = replace(services.config, tiers=tiers)
    await services.open_store()
    return services, await ChatSession.start(services)


async def test_fallback_keeps_the_partial_reply_and_labels_the_next_tier(tmp_path) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        broken = FakeProvider("Partial answer that never ends", chunk_size=4, fail_after=8)
        services, session = await _session(tmp_path, broken, server, "ok/remote")
        try:
            events = [e async for e in session.send("hi")]
            chosen = [e for e in events if isinstance(e, TierChosen)]
            assert [c.tier for c in chosen] == [1, 2]
            assert chosen[1].reasons == ("fallback to tier 2",)
            [failed] = [e for e in events if isinstance(e, TierFailed)]
            assert failed.tier == 1 and not failed.skipped
            replies = [e for e in events if isinstance(e, ReplyCompleted)]
            assert [(r.tier, r.interrupted) for r in replies] == [(1, True), (2, False)]
            assert replies[0].text == "Partial "
            rows = await services.store.session_messages(session.session_id)
            assert [(r.role, r.tier, r.interrupted) for r in rows] == [
                ("user", None, False), ("assistant", 1, True), ("assistant", 2, False)]
            assert rows[1].content == "Partial " and rows[2].content == replies[1].text
            usage = [e for e in events if isinstance(e, UsageRecorded)]
            assert usage[0].estimated and not usage[1].estimated
        finally:
            await services.aclose()


async def test_every_tier_failing_ends_in_one_clear_error(tmp_path) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        broken = FakeProvider("x", fail_after=0, error="model crashed")
        services, session = await _session(tmp_path, broken, server, "server_error/remote")
        try:
            events = [e async for e in session.send("hi")]
            errors = [e for e in events if isinstance(e, ErrorOccurred)]
            assert len(errors) == 1 and "model crashed" in errors[0].message
            assert errors[0].where == server.url
            assert len([e for e in events if isinstance(e, TierFailed)]) == 2
            # Both endpoints now cool down; the next request still tries rather than refuse.
            again = [e async for e in session.send("hi again")]
            assert [e.tier for e in again if isinstance(e, TierChosen)] == [1, 2]
        finally:
            await services.aclose()
