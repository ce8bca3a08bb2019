"""Routing in the chat: a fallback is announced and labelled, /why explains, /tier pins."""

from __future__ import annotations

from pathlib import Path

from test_ui_chat import SIZE
from ui_helpers import FakeProvider, build_services, ready, send, wait_idle

from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.message import ErrorMessage, NoticeMessage
from tokenopt_tui.ui.widgets.reply import AssistantMessage


async def test_fallback_is_shown_and_why_explains_it(tmp_path: Path) -> None:
    broken = FakeProvider("Half an ans", chunk_size=4, fail_after=4, error="model crashed")
    services = build_services(tmp_path, broken)
    services.set_provider(2, FakeProvider("The full answer.", model="remote-model"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "hi")
        replies = list(app.chat.query(AssistantMessage))
        assert [(r.source, r.interrupted) for r in replies] == [("Half", True),
                                                                ("The full answer.", False)]
        [notice] = app.chat.query(NoticeMessage)
        assert "tier 1" in notice.text and "model crashed" in notice.text
        assert app.chat.status.state == "done"

        await send_command(pilot, "/why")
        why = list(app.chat.query(NoticeMessage))[-1].text.splitlines()
        assert why[0] == "Routing of the last request:"
        assert why[1].startswith("  T1 local (fake-model): ")  # the classifier's reasons
        assert why[2].startswith("  T1 local (fake-model) failed (")
        assert why[2].endswith("): model crashed")
        assert why[3].startswith("  T2 ") and "fallback to tier 2" in why[3]


async def test_tier_command_pins_and_unpins(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider("local answer"))
    services.set_provider(2, FakeProvider("tier two answer", model="remote-model"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send_command(pilot, "/tier 2")
        assert app.session.tier == 2
        await send(pilot, "hello")
        assert app.chat.query(AssistantMessage).last().source == "tier two answer"
        await send_command(pilot, "/tier auto")
        assert app.session.tier is None
        await send_command(pilot, "/tier 9")
        await send_command(pilot, "/nonsense")
        errors = [e.message for e in app.chat.query(ErrorMessage)]
        assert any("/tier takes a number from 1 to 4" in e for e in errors)
        assert any("Unknown command '/nonsense'" in e for e in errors)


async def send_command(pilot, text: str) -> None:
    pilot.app.chat.prompt.value = text
    await pilot.press("enter")
    await wait_idle(pilot)
