"""What a new user meets first, in a 140×42 terminal: side bar lines that are whole, a
cost plot that starts at $0, one notice saying how to turn the hosted tiers on, and
/why listing the tiers a request passed over."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from ui_helpers import (
    FakeProvider,
    build_services,
    ready,
    screen_text,
    send,
    wait_idle,
    wait_until,
)

from tokenopt_tui.core.events import ContextCompacted, SkillLoaded
from tokenopt_tui.core.routing.classify import classify
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.dashboard import DashboardScreen, cost_axis
from tokenopt_tui.ui.widgets.message import NoticeMessage
from tokenopt_tui.ui.widgets.panels import FitText, fit, shorten
from tokenopt_tui.ui.widgets.reply import AssistantMessage

SIZE = (140, 42)
#: The classifier starts this at tier 2 (long multi-step analysis).
TIER2_ASK = ("set up a cron job that runs my backup every night at 2am and explain step by "
             "step how to analyse failures, compare the logs and write a report on the "
             "root cause")
LONG_SKILL = "kubernetes-deployment-troubleshooting-guide-for-production"
BROKEN = "/home/user/.claude/skills/broken-skill/SKILL.md"


async def fill_side_bar(pilot: Pilot) -> None:
    """A realistic side bar after a while: a budget with an estimate, skill loads (one
    with a long name and a long list of matched words), a compaction, a scan warning."""
    chat = pilot.app.chat
    chat.budget_panel.set_usage(5_512, 10_000)
    chat.skills_panel.set_warnings([f"{BROKEN}: field 'description' is missing"])
    chat.compression_panel.add_event(ContextCompacted(
        "budget at 90% (≥ 90%)", 9_000, 2_500, ("decisions", "file names"),
        cost_tokens=1_234, cost_usd=0.0012))
    loads = [
        SkillLoaded("aria-cron", 1_244, 0.87, "matched 'set', 'cron', 'job', 'runs', "
                    "'every', 'night', '2am', 'explain'"),
        SkillLoaded("database-migration-planner", 3_321, 0.64, "invoked by name"),
        SkillLoaded(LONG_SKILL, 2_050, 0.51, "matched 'pod'"),
        SkillLoaded("aria-cron", 1_244, 0.92, "matched 'crontab'"),
    ]
    for minute, event in enumerate(loads):
        chat.skills_panel.add_event(event, at=f"10:0{minute}:00")
    chat.prompt.value = "how do I rotate the nightly backup logs after the job has run?"
    await wait_idle(pilot)


def side_bar_lines(app: TokenoptApp) -> list[str]:
    """The side bar's text as a user reads it: what is right of its left border."""
    rows = screen_text(app.export_screenshot()).splitlines()
    column = next(row.index("│ Budget") for row in rows if "│ Budget" in row)
    return [row[column + 1:].strip() for row in rows if len(row) > column]


def test_fit_breaks_between_pieces_and_shortens_on_purpose() -> None:
    pieces = ["next request ≈ 1,289 tokens", " → 112%"]
    assert fit(pieces, 40) == ["next request ≈ 1,289 tokens → 112%"]
    assert fit(pieces, 31) == ["next request ≈ 1,289 tokens", "  → 112%"]
    assert shorten("matched 'a', 'bb', 'ccc', 'dddd'", 25) == "matched 'a', 'bb' +2 more"
    assert shorten(BROKEN + ":", 26) == "…/broken-skill/SKILL.md:"
    assert shorten("a rather long sentence of words", 20) == "a rather long…"


async def test_side_bar_lines_are_whole_at_140x42(tmp_path: Path) -> None:
    async with TokenoptApp(build_services(tmp_path)).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await fill_side_bar(pilot)
        budget = app.chat.budget_panel
        assert budget.estimate is not None
        lines = side_bar_lines(app)
        text = "\n".join(lines)
        whole = [
            "5,512 / 10,000 tokens (55%)",
            f"next request ≈ {budget.estimate} tokens → 55%",
            "today $0.00 of $0.50 cap",
            "session: direct_chat",
            "▶ budget at 90% (≥ 90%):",
            "9,000 → 2,500 tokens",
            "cost 1,234 tokens, $0.0012",
            "⚠ …/broken-skill/SKILL.md: field",
            "10:00:00 aria-cron",
            "1,244 tokens · score 0.87",
            "matched 'set', 'cron' +6 more",
            "database-migration-planner",
            "3,321 tokens · score 0.64",
            "invoked by name",
            "kubernetes-deployment-trouble…",
            "2,050 tokens · score 0.51",
        ]
        for piece in whole:
            assert any(piece in line for line in lines), f"{piece!r} is not whole in:\n{text}"
        # Nothing ends on a dangling separator, as a line cut by the edge would.
        for line in lines:
            assert not line.endswith(("·", "(→", "→", ",", "(")), f"cut line: {line!r}"
        # Every panel line is drawn as laid out (Textual did not wrap it again) ...
        for view in app.chat.query("#sidebar .fit").results(FitText):
            if view.has_class("compaction-details"):
                continue  # collapsed: checked below
            if not view.display:
                continue  # the free-quota line, hidden while no free hosted tier is usable
            assert view.content_size.width == 32
            for shown in view.shown.splitlines():
                assert shown.strip() in text, f"{shown!r} was re-wrapped"
        # ... and the long skill name, shortened on screen, is whole in its tooltip.
        [long_view] = [v for v in app.chat.query(".panel-line").results(FitText)
                       if LONG_SKILL in v.text]
        assert LONG_SKILL not in long_view.shown and "kubernetes-deployment" in long_view.shown
        assert LONG_SKILL in str(long_view.tooltip)
        assert app.chat.skills_panel.lines[2].endswith(
            f"{LONG_SKILL} · 2,050 tokens · score 0.51 · matched 'pod'")

        # The compaction's details, expanded, are laid out for their own (narrower) width.
        await pilot.click("CompressionPanel CollapsibleTitle")
        await wait_idle(pilot)
        details = app.chat.query_one(".compaction-details", FitText)
        assert 0 < details.content_size.width <= 32
        lines = side_bar_lines(app)
        for shown in details.shown.splitlines():
            assert shown.strip() in lines, f"{shown!r} was re-wrapped"
        assert "· file names" in lines and "method: extractive" in lines


async def test_dashboard_cost_axis_starts_at_zero(tmp_path: Path) -> None:
    assert cost_axis([])[0] == cost_axis([0.0, 0.0])[0] == 0.01
    assert cost_axis([0.0031]) == (0.01, [0.0, 0.005, 0.01], ["$0", "$0.005", "$0.01"])
    assert cost_axis([0.3])[2] == ["$0", "$0.25", "$0.50"]
    services = build_services(tmp_path, FakeProvider("free answer"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        for calls in (0, 1):  # a new user: no call yet, then one free call ($0 spend)
            if calls:
                await send(pilot, "hi")
            screen = DashboardScreen(app.services)
            await app.push_screen(screen)
            await wait_until(pilot, lambda s=screen: s.stats is not None, what="stats")
            await wait_idle(pilot)
            assert screen.stats is not None
            assert [c for _, c in screen.stats.cost_by_day] == [0.0] * calls
            assert screen.cost_ylim == (0.0, 0.01)
            rows = screen_text(app.export_screenshot()).splitlines()
            labels = [row[:row.index("┤")].strip() for row in rows
                      if "┤" in row and row.index("┤") < 12]
            assert labels == ["$0.01", "$0.005", "$0"], labels
            await pilot.press("escape")
            await wait_idle(pilot)


async def test_a_missing_key_is_explained_once_and_why_lists_skipped_tiers(
        tmp_path: Path) -> None:
    assert classify(TIER2_ASK, history_turns=0).tier == 2
    # The default chain: tiers 2 and 3 are on OpenRouter and read OPENROUTER_API_KEY,
    # which is not in the (empty) environment the services were built with.
    services = build_services(tmp_path, FakeProvider("local answer"))
    assert services.config.tier(2).name == "trinity"
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, TIER2_ASK)
        await send(pilot, TIER2_ASK + " Thanks.")
        assert [r.source for r in app.chat.query(AssistantMessage)] == ["local answer"] * 2
        said = [n.text for n in app.chat.query(NoticeMessage)]
        keys = [text for text in said if "OPENROUTER_API_KEY" in text]
        assert keys == [
            "T2 trinity and T3 qwen3-coder are off: OPENROUTER_API_KEY is not set. To turn "
            "them on, set it before starting tokenopt (README, \"Tiers and keys\"):\n\n"
            "    export OPENROUTER_API_KEY=…"], said
        children = list(app.chat.messages.children)
        notice = next(c for c in children if isinstance(c, NoticeMessage))
        first_reply = next(c for c in children if isinstance(c, AssistantMessage))
        assert children.index(notice) < children.index(first_reply), "above the reply"

        app.chat.prompt.value = "/why"
        await pilot.press("enter")
        await wait_idle(pilot)
        why = app.chat.query(NoticeMessage).last().text.splitlines()
        key = "skipped: key missing: set OPENROUTER_API_KEY"
        assert why[:4] == [
            "Routing of the last request:",
            f"  T2 trinity (arcee-ai/trinity-mini:free) {key}",
            f"  T3 qwen3-coder (qwen/qwen3-coder:free) {key}",
            f"  T3 qwen3-coder (tngtech/deepseek-r1t2-chimera:free) {key}",
        ], why
        # A hard request asks the paid tier before the weaker local one; paid use is off.
        assert why[4] == ("  T4 kimi (moonshotai/kimi-k2) skipped: paid use is off "
                          "(set paid.enabled = true in the config)"), why
        assert why[5].startswith("  T1 local (fake-model): ") and len(why) == 7
        # The second request repeats the first one's prompt, then adds the answer.
        assert why[6].startswith("  prompt: the first ") and "differs in message 2 " \
            "(assistant)" in why[6] and why[6].endswith("no prompt tokens were served from cache")


async def test_why_before_any_request_and_after_a_new_session(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider("local answer"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        assert app.chat.explain_route() == "No request has been routed in this session yet."
        await send(pilot, TIER2_ASK)
        assert "T2 trinity" in app.chat.explain_route()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.chat.query(AssistantMessage), what="new")
        await wait_idle(pilot)
        assert app.chat.explain_route() == "No request has been routed in this session yet."
        await send(pilot, TIER2_ASK)  # a new session: the notice is said once more
        assert sum("OPENROUTER_API_KEY is not set" in n.text
                   for n in app.chat.query(NoticeMessage)) == 1
