"""The history screen, driven by Pilot on a real store: search, open, rename, delete,
export and resume, all from the keyboard."""

from __future__ import annotations

import json

from test_history import make_history
from textual.widgets import DataTable, Input, TextArea
from ui_helpers import FakeProvider, ready, wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.paths import Paths
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.history import (
    ConfirmScreen,
    HistoryScreen,
    PromptScreen,
    SessionViewScreen,
)
from tokenopt_tui.ui.widgets.message import UserMessage
from tokenopt_tui.wiring import make_services

SIZE = (140, 44)


async def test_find_open_rename_delete_export_and_resume(xdg_env) -> None:
    ids = await make_history(xdg_env)
    paths = Paths.from_env(xdg_env)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    services.set_provider(1, FakeProvider())
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen), what="history")
        history = app.screen
        await wait_idle(pilot)
        table = history.query_one("#sessions", DataTable)
        assert table.row_count == 3  # the chat's own new session is empty: not listed

        history.query_one("#search", Input).focus()
        await pilot.press(*"zambezi", "enter")
        await wait_until(pilot, lambda: history.searched == "zambezi", what="search")
        assert [r.id for r in history.shown] == [ids[2]]
        await pilot.press("enter")  # the table has the focus: open the session
        await wait_until(pilot, lambda: isinstance(app.screen, SessionViewScreen),
                         what="session view")
        await wait_idle(pilot)
        view = app.screen
        transcript = view.query_one("#transcript", TextArea).text
        assert "step 4: note the zambezi flow for /srv/river/4" in transcript
        assert "context compacted (/compact)" in view.query_one("#timeline", TextArea).text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is history, what="back to history")

        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="rename")
        app.screen.query_one(Input).value = "Zambezi flow notes"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(r.title == "Zambezi flow notes"
                                            for r in history.rows), what="renamed")
        assert (await services.store.get_session(ids[2])).title == "Zambezi flow notes"

        history.query_one("#search", Input).value = ""
        await pilot.pause()
        history.table.focus()
        history.table.move_cursor(row=[r.id for r in history.shown].index(ids[1]))
        await pilot.press("ctrl+e")
        exported = paths.data_dir / "exports" / f"session-{ids[1]}.md"
        await wait_until(pilot, exported.exists, what="export")
        assert exported.read_text().startswith("# refactor this python function")
        await pilot.press("ctrl+j")
        as_json = paths.data_dir / "exports" / f"session-{ids[1]}.json"
        await wait_until(pilot, as_json.exists, what="json export")
        assert json.loads(as_json.read_text())["session"]["id"] == ids[1]

        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")  # the default answer keeps it
        await pilot.pause()
        assert await services.store.get_session(ids[1]) is not None
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: ids[1] not in [r.id for r in history.rows],
                         what="deleted")
        assert await services.store.get_session(ids[1]) is None

        history.table.move_cursor(row=[r.id for r in history.shown].index(ids[0]))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.session.session_id == ids[0], what="resume")
        await wait_idle(pilot)
        assert app.screen is app.chat
        texts = [m.text for m in app.chat.query(UserMessage)]
        assert texts == ["my crontab job never runs at night, the okavango report"]
        assert app.chat.skills_panel.lines and "aria-cron" in app.chat.skills_panel.lines[0]


async def test_long_lists_page_in_and_long_sessions_open_on_their_end(tmp_path) -> None:
    from ui_helpers import build_services

    services = build_services(tmp_path)
    store = await services.open_store()
    for n in range(120):
        sid = await store.create_session("direct_chat", f"session number {n}")
        await store.add_message(sid, "user", f"question {n}")
    for n in range(350):
        await store.add_message(sid, "user" if n % 2 == 0 else "assistant", f"line {n}")
    await services.aclose()
    async with TokenoptApp(services, resume_session_id=-1).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen), what="history")
        history = app.screen
        await wait_until(pilot, lambda: len(history.rows) == 50, what="first page")
        assert history.more
        await pilot.press("ctrl+end")  # the last row: the next page loads
        await wait_until(pilot, lambda: len(history.rows) == 100, what="second page")
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: len(history.rows) == 120, what="third page")
        assert not history.more and history.table.row_count == 120

        await pilot.press("ctrl+home", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionViewScreen),
                         what="session view")
        view = app.screen
        area = view.query_one("#transcript", TextArea)
        await wait_until(pilot, lambda: area.text, what="transcript")
        assert area.text.startswith("[251 earlier messages not shown: F4 shows all]")
        assert "line 349" in area.text and "\nline 249\n" not in area.text
        assert "\nline 250\n" in area.text
        await pilot.press("f4")
        await wait_until(pilot, lambda: view.shown_all and "\nline 0\n" in area.text,
                         what="all messages")
