"""The chat screen end to end: real services and SQLite, a fake model behind tier 1."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label
from ui_helpers import (
    FakeProvider,
    build_services,
    ready,
    screen_text,
    send,
    wait_idle,
    wait_until,
)

from tokenopt_tui.store import Store
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.message import ErrorMessage, UserMessage
from tokenopt_tui.ui.widgets.reply import AssistantMessage

SIZE = (120, 40)


async def test_reply_streams_into_the_chat_and_is_stored(tmp_path: Path) -> None:
    fake = FakeProvider("Hello **world**.\n\n- one\n- two\n", chunk_size=3, delay=0.001)
    services = build_services(tmp_path, fake)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press(*"hi there", "enter")
        assert app.chat.query(UserMessage), "the user's message shows at once"
        await wait_until(pilot, lambda: app.chat.status.state == "done", what="the reply")
        await wait_idle(pilot)

        reply = app.chat.query_one(AssistantMessage)
        assert reply.source == fake.reply
        assert not reply.interrupted
        chunks = -(-len(fake.reply) // 3)
        assert f"{chunks:,} tokens" in app.chat.status.text
        assert "fake-model" in app.chat.status.text
        assert "free" in app.chat.status.text  # a $0 call says so
        session = app.session
        assert session is not None and session.tokens_used > 0
        assert app.chat.budget_panel.used == session.tokens_used
        assert f"{session.tokens_used:,} / 10,000 tokens" in app.chat.budget_panel.figures
        assert app.chat.budget_panel.has_class("-green")

        rows = await services.store.session_messages(session.session_id)
        assert [r.role for r in rows] == ["user", "assistant"]
        assert rows[0].content == "hi there"
        assert rows[1].content == fake.reply
        assert rows[1].interrupted is False
        assert (rows[1].completion_tokens or 0) > 0


async def test_escape_interrupts_a_slow_reply(tmp_path: Path) -> None:
    fake = FakeProvider("word " * 400, chunk_size=5, delay=0.02)
    services = build_services(tmp_path, fake)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        app.chat.prompt.value = "tell me a long story"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat.query(AssistantMessage)
                         and len(app.chat.query_one(AssistantMessage).source) >= 20,
                         what="some streamed text")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.status.state == "interrupted",
                         what="the interruption")
        await wait_idle(pilot)

        reply = app.chat.query_one(AssistantMessage)
        assert reply.interrupted
        assert reply.query_one(".msg-flag", Label).display
        assert 20 <= len(reply.source) < len(fake.reply)

        session = app.session
        assert session is not None
        rows = await services.store.session_messages(session.session_id)
        assert rows[-1].role == "assistant"
        assert rows[-1].interrupted is True
        assert rows[-1].content == fake.reply[:fake.sent]
        assert rows[-1].content.startswith(reply.source)
        assert len(rows[-1].content) < len(fake.reply)
        assert not app.chat.prompt.disabled, "the app stays usable"


async def test_provider_error_is_shown_and_the_app_stays_usable(tmp_path: Path) -> None:
    broken = FakeProvider(fail_after=0, endpoint="http://127.0.0.1:9/v1",
                          error="connection refused")
    services = build_services(tmp_path, broken)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "first try")
        error = app.chat.query_one(ErrorMessage)
        assert error.where == "http://127.0.0.1:9/v1"
        assert "connection refused" in error.message
        assert "http://127.0.0.1:9/v1" in screen_text(app.export_screenshot())
        assert not app.chat.query(AssistantMessage), "no empty reply is left behind"

        services.set_provider(1, FakeProvider("second reply works"))
        await send(pilot, "second try")
        reply = app.chat.query_one(AssistantMessage)
        assert reply.source == "second reply works"
        assert app.is_running


async def test_model_markup_and_escapes_are_shown_literally(tmp_path: Path) -> None:
    raw = "[bold]x[/bold] [link=https://e.com]y[/link] \x1b[31mred"
    services = build_services(tmp_path, FakeProvider(raw, chunk_size=4,
                                                     model="[bold]evil[/bold]"))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "show me markup")
        svg = app.export_screenshot()
        screen = screen_text(svg)
        assert "[bold]x[/bold]" in screen
        assert "[link=https://e.com]y[/link]" in screen
        assert "␛[31mred" in screen
        assert "[bold]evil[/bold]" in screen, "model names are not markup either"
        assert "\x1b" not in svg

        session = app.session
        assert session is not None
        rows = await services.store.session_messages(session.session_id)
        assert rows[-1].content == raw


async def test_resume_shows_stored_messages_with_the_interrupted_mark(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    store = await Store.open(services.db_path)
    try:
        session_id = await store.create_session("direct_chat", "earlier")
        await store.add_message(session_id, "user", "an earlier question")
        await store.add_message(session_id, "assistant", "a partial ans", tier=1,
                                model="fake-model", interrupted=True)
    finally:
        await store.close()

    async with TokenoptApp(services, resume_session_id=session_id).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        assert [m.text for m in app.chat.query(UserMessage)] == ["an earlier question"]
        reply = app.chat.query_one(AssistantMessage)
        assert reply.source == "a partial ans"
        assert reply.interrupted
        assert reply.query_one(".msg-flag", Label).display
        assert "interrupted" in screen_text(app.export_screenshot())
        session = app.session
        assert session is not None and session.session_id == session_id
        assert app.chat.budget_panel.used == session.tokens_used


async def test_a_one_megabyte_paste_is_accepted_and_stored(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider("got it"))
    big = ("lorem ipsum dolor sit amet " * 40_000)[:1_000_000]
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, big)
        assert app.chat.prompt.value == ""
        assert app.chat.query_one(AssistantMessage).source == "got it"
        session = app.session
        assert session is not None
        rows = await services.store.session_messages(session.session_id)
        assert rows[0].role == "user"
        assert len(rows[0].content) == 1_000_000
