"""Escalation and rating by the user in the chat: Ctrl+Up (/retry up) asks the last request
again one tier up, Ctrl+Y / Ctrl+F (/good, /bad) rate the last reply. Real app (Pilot),
real store; a fake model per tier."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_ui_chat import SIZE
from test_ui_routing import send_command
from ui_helpers import (
    FakeProvider,
    build_services,
    ready,
    send,
    temp_paths,
    wait_idle,
    wait_until,
)

from tokenopt_tui.config import load_config
from tokenopt_tui.core.events import EscalationRequested, ReplyRated, decode_event
from tokenopt_tui.core.session import ChatSession, escalation_tier
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.message import ErrorMessage, NoticeMessage
from tokenopt_tui.ui.widgets.reply import AssistantMessage, RatingMark


@pytest.fixture
def feedback(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool, str]]:
    """Every call of the session's feedback hook (the pheromone's input), in order."""
    calls: list[tuple[int, bool, str]] = []

    async def spy(self: ChatSession, message_id: int, good: bool, source: str) -> None:
        calls.append((message_id, good, source))

    monkeypatch.setattr(ChatSession, "_feedback", spy)
    return calls


async def _events(app: TokenoptApp, kind: str) -> list[object]:
    rows = await app.services.store.session_events(app.session.session_id, kinds=(kind,))
    return [decode_event(row.kind, row.payload) for row in rows]


async def _press_and_wait(pilot, key: str, replies: int) -> None:
    """Press `key` and wait until `replies` answers are on screen and nothing streams."""
    app = pilot.app
    await pilot.press(key)
    await wait_until(pilot, lambda: len(app.chat.query(AssistantMessage)) == replies
                     and not app.chat.replying, what=f"{replies} replies after {key}")
    await wait_idle(pilot)


def _mark(reply: AssistantMessage) -> str:
    marks = reply.header.query(RatingMark)
    return str(marks.first().render()) if marks else ""


async def test_keys_rate_and_retry_one_tier_up(tmp_path: Path,
                                               feedback: list[tuple[int, bool, str]]) -> None:
    local = FakeProvider("The [bold]local[/bold] answer.")
    services = build_services(tmp_path, local)
    remote = FakeProvider("The tier two answer.", model="remote-model")
    services.set_provider(2, remote)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        keys = ("retry_up", "rate_good", "rate_bad")
        assert [app.chat.check_action(k, ()) for k in keys] == [False] * 3  # nothing to rate
        await send(pilot, "hi")
        assert [app.chat.check_action(k, ()) for k in keys] == [True] * 3
        [first] = app.chat.query(AssistantMessage)
        assert first.message_id is not None and "T1" in str(first.header.query(".msg-badge")
                                                            .first().render())

        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: first.rating is True, what="the good mark")
        await pilot.pause()
        assert _mark(first) == "✓ good"
        assert await _events(app, "ReplyRated") == [ReplyRated(first.message_id, True)]

        await _press_and_wait(pilot, "ctrl+up", replies=2)
        one, two = app.chat.query(AssistantMessage)
        assert (one.source, two.source) == ("The [bold]local[/bold] answer.",
                                            "The tier two answer.")
        assert "T2 remote-model" in str(two.header.query(".msg-badge").first().render())
        assert one.message_id == first.message_id and two.message_id != one.message_id
        notices = [n.text for n in app.chat.query(NoticeMessage)]
        assert any("tier 1 → tier 2" in n for n in notices), notices
        assert await _events(app, "EscalationRequested") == [
            EscalationRequested(first.message_id, 1, 2)]
        # The request was sent again without its first answer, and not stored twice.
        assert [(m.role, m.content) for m in remote.calls[-1]] == [("user", "hi")]
        rows = await services.store.session_messages(app.session.session_id)
        assert [(r.role, r.tier) for r in rows] == [("user", None), ("assistant", 1),
                                                    ("assistant", 2)]

        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: two.rating is False, what="the bad mark")
        await pilot.pause()
        assert (_mark(one), _mark(two)) == ("✓ good", "✗ bad")
        assert await _events(app, "ReplyRated") == [ReplyRated(one.message_id, True),
                                                    ReplyRated(two.message_id, False)]
        assert feedback == [(one.message_id, True, "rating"),
                            (one.message_id, False, "escalation"),
                            (two.message_id, False, "rating")]

        await send_command(pilot, "/why")
        why = list(app.chat.query(NoticeMessage))[-1].text.splitlines()
        assert why[0] == "Routing of the last request:"
        assert why[1] == (f"  asked again one tier up by you: T1 local → T2 trinity (the first "
                          f"answer, #{one.message_id}, is kept)")
        assert why[2].startswith("  T2 ") and "asked again one tier up" in why[2]


async def test_commands_and_the_cap_at_the_highest_free_tier(
        tmp_path: Path, feedback: list[tuple[int, bool, str]]) -> None:
    services = build_services(tmp_path, FakeProvider("local"))
    services.set_provider(3, FakeProvider("coder answer", model="coder-model"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send_command(pilot, "/good")  # no reply yet: said, nothing stored
        assert "There is no reply to rate yet." in [e.message for e in
                                                    app.chat.query(ErrorMessage)]
        await send_command(pilot, "/tier 3")
        await send(pilot, "write a python function that parses a date")
        await send_command(pilot, "/retry up")  # tier 4 is paid and paid use is off
        await wait_until(pilot, lambda: len(app.chat.query(AssistantMessage)) == 2
                         and not app.chat.replying, what="the second answer")
        await wait_idle(pilot)
        answers = list(app.chat.query(AssistantMessage))
        assert [a.source for a in answers] == ["coder answer", "coder answer"]
        [escalation] = await _events(app, "EscalationRequested")
        assert (escalation.from_tier, escalation.to_tier) == (3, 3)
        assert any("no higher tier can be used" in n.text
                   for n in app.chat.query(NoticeMessage))
        await send_command(pilot, "/bad")
        assert answers[1].rating is False
        assert await _events(app, "ReplyRated") == [ReplyRated(answers[1].message_id, False)]
        assert app.session.tier == 3  # the retry pinned one request, not the session
        assert feedback[-1] == (answers[1].message_id, False, "rating")


def test_escalation_tier_follows_the_chain_and_the_paid_switch(tmp_path: Path) -> None:
    config = load_config(temp_paths(tmp_path), env={})
    assert [(t.number, t.paid) for t in config.tiers] == [(1, False), (2, False), (3, False),
                                                          (4, True)]
    assert [escalation_tier(config, n) for n in (1, 2, 3, 4)] == [2, 3, 3, 3]
    paid = dataclasses.replace(config, paid_enabled=True)
    assert [escalation_tier(paid, n) for n in (1, 2, 3, 4)] == [2, 3, 4, 4]
