"""Widgets in detail: long replies in chunks, parking, side bar panels, warm-up errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from ui_helpers import (
    FakeProvider,
    build_services,
    play_events,
    ready,
    screen_text,
    wait_idle,
    wait_until,
)

from tokenopt_tui.config import BudgetThresholds
from tokenopt_tui.core.budget import Budget
from tokenopt_tui.core.events import (
    ContextCompacted,
    ModelPreparing,
    ReplyCompleted,
    SkillLoaded,
    TierChosen,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.providers.base import ProviderError
from tokenopt_tui.store import Store
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.markdown_split import split_chunks, split_point
from tokenopt_tui.ui.widgets.message import ErrorMessage
from tokenopt_tui.ui.widgets.panels import LEVEL_BANDS, budget_band
from tokenopt_tui.ui.widgets.reply import AssistantMessage

SIZE = (100, 30)


def long_reply(sections: int = 30) -> str:
    parts = []
    for n in range(sections):
        parts.append(f"## Part {n}\n\nParagraph {n} " + "lorem ipsum " * 30 + "\n\n"
                     f"- item {n}a\n- item {n}b\n\n```python\nx = {n}\n\nprint(x)\n```\n\n")
    return "".join(parts)


def test_split_points_respect_fences_and_lists() -> None:
    text = "intro\n\n- a\n- b\n\nafter the list\n\n```\ncode\n\nmore code\n```\n\nend\n"
    cut = split_point(text)
    assert text[cut:].startswith("after the list")
    assert split_point("```\nx\n\ny\n") is None, "never inside an open fence"
    assert split_point("1. one\n\n2. two\n") is None, "never between list items"
    pieces = split_chunks(long_reply(10), 500)
    assert "".join(pieces) == long_reply(10) and len(pieces) > 3
    assert all(piece.count("```") % 2 == 0 for piece in pieces)


async def test_a_long_reply_streams_in_chunks_and_parks_what_is_far_above(
        tmp_path: Path) -> None:
    text = long_reply()
    services = build_services(tmp_path, FakeProvider(text, chunk_size=40))
    # Room for the whole reply: the router cuts a reply past max_tokens.
    services.config = dataclasses.replace(services.config, max_tokens=100_000)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        app.chat.prompt.value = "a long answer please"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat.status.state == "done", what="the reply")
        await wait_idle(pilot)
        reply = app.chat.query_one(AssistantMessage)
        assert reply.source == text
        assert len(reply.chunks) > 5
        assert "".join(chunk.source for chunk in reply.chunks) == text

        messages = app.chat.messages
        first, last = reply.slots[0], reply.slots[-1]
        await wait_until(pilot, lambda: first.parked, what="the top chunk to be parked")
        assert not last.parked
        height = messages.virtual_size.height
        assert "Part 29" in screen_text(app.export_screenshot())

        messages.scroll_home(animate=False)
        await wait_until(pilot, lambda: not first.parked and last.parked,
                         what="parking to follow the viewport")
        await wait_idle(pilot)
        assert messages.virtual_size.height == height, "parking keeps the height"
        assert "Part 0" in screen_text(app.export_screenshot())

        messages.scroll_end(animate=False)
        await wait_until(pilot, lambda: first.parked and not last.parked,
                         what="parking to follow back")
        await wait_idle(pilot)
        assert "Part 29" in screen_text(app.export_screenshot())
        assert messages.virtual_size.height == height


async def test_side_bar_panels_render_core_events(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    async with TokenoptApp(services).run_test(size=(120, 40)) as pilot:
        app = await ready(pilot)
        assert "none yet" in screen_text(app.export_screenshot())
        assert "none loaded" in screen_text(app.export_screenshot())
        await play_events(pilot, [
            SkillLoaded("git-helper", 321, 0.87, "matched 'rebase'"),
            ContextCompacted("budget", 9_000, 2_500, ("decisions", "file names")),
            TierChosen(1, "local", "fake", "fake-model"),
            TokenReceived("ok"),
            UsageRecorded(1, "fake-model", 40, 2, 0.0, 5.0, False, 9_500),
            ReplyCompleted(7, "ok", False, 1, "fake-model"),
        ])
        screen = screen_text(app.export_screenshot())
        [line] = app.chat.skills_panel.lines
        assert line.endswith(" git-helper · 321 tokens · score 0.87 · matched 'rebase'")
        assert app.chat.compression_panel.lines == ["budget: 9,000 → 2,500 tokens · cost free"]
        assert "git-helper · 321 tokens" in screen and "budget: 9,000 → 2,500" in screen
        assert "none yet" not in screen and "none loaded" not in screen
        budget = app.chat.budget_panel
        assert budget.figures == "9,500 / 10,000 tokens (95%)"
        assert budget.has_class("-red") and not budget.has_class("-green")


def test_budget_bands() -> None:
    budget = Budget(1_000)
    assert [budget_band(budget, used) for used in (0, 799, 800, 899, 900, 1_500)] == [
        "-green", "-green", "-yellow", "-yellow", "-red", "-red"]
    # The colour follows the session's own level: its thresholds, and a zero limit
    # (used up, as the session treats it) is red.
    custom = Budget(1_000, BudgetThresholds(warn_percent=50, compress_percent=60))
    assert [budget_band(custom, used) for used in (499, 500, 600)] == [
        "-green", "-yellow", "-red"]
    assert budget_band(Budget(0), 0) == "-red" == LEVEL_BANDS[Budget(0).level(0)]


class BrokenPrep(FakeProvider):
    """A provider whose model cannot be loaded."""

    async def prepare(self) -> AsyncIterator[ModelPreparing]:
        yield ModelPreparing("load", 0, 1)
        raise ProviderError("cannot load model: file is truncated", self.endpoint)


async def test_a_failing_warm_up_is_reported_once_and_the_app_runs_on(tmp_path: Path) -> None:
    services = build_services(tmp_path, BrokenPrep(endpoint="in-process"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.chat.query(ErrorMessage), what="the error")
        await wait_idle(pilot)
        errors = app.chat.query(ErrorMessage)
        assert len(errors) == 1
        assert errors.first().where == "in-process"
        assert "file is truncated" in errors.first().message
        assert not app.chat.prep_bar.active
        assert not app.chat.prompt.disabled


async def test_resume_latest_session(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    store = await Store.open(services.db_path)
    try:
        await store.create_session("direct_chat", "older")
        latest = await store.create_session("cron_job", "newer")
    finally:
        await store.close()
    async with TokenoptApp(services, resume_session_id=-1).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        assert app.session is not None and app.session.session_id == latest
        assert app.chat.budget_panel.session_type == "cron_job"
        assert app.chat.budget_panel.budget == 20_000


def test_importing_the_ui_loads_nothing_heavy() -> None:
    """Nor what is only needed after the first paint: the session, router, store, events."""
    later = ("mlx", "mlx_lm", "openai", "tiktoken", "markdown_it", "tokenopt_tui.core.session",
             "tokenopt_tui.core.routing.router", "tokenopt_tui.store.db",
             "tokenopt_tui.core.events", "tokenopt_tui.core.providers.discovery")
    code = ("import sys, tokenopt_tui.cli, tokenopt_tui.cli.chat, tokenopt_tui.ui.app, "
            "tokenopt_tui.wiring\n"
            f"print(sorted(m for m in {later!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_config_theme_that_is_missing_falls_back(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    services.config = dataclasses.replace(services.config, theme="no-such-theme")
    app = TokenoptApp(services)
    assert app.theme == "tokenopt-dark"
    assert any("no-such-theme" in w for w in app.theme_warnings)
