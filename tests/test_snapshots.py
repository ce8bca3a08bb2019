"""Snapshots (pytest-textual-snapshot) of the chat, history and dashboard screens at a
fixed terminal size. Every figure on screen is made deterministic first: fixed
timestamps, a fixed clock for the dashboard, a scripted model.

After an intended change to a screen: `pytest tests/test_snapshots.py --snapshot-update`,
then look at the new SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_history import make_history
from test_ui_newuser import fill_side_bar
from ui_helpers import FakeProvider, wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.paths import Paths
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.wiring import make_services

SIZE = (140, 44)
FIXED = "2026-11-20T10:00:00.000Z"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def history_env(xdg_env: dict[str, str]) -> dict[str, str]:
    """Three stored sessions with every timestamp and timing set to fixed values."""
    asyncio.run(make_history(xdg_env))
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET created_at = ?", (FIXED,))
        conn.execute("UPDATE messages SET created_at = ?", (FIXED,))
        conn.execute("UPDATE model_calls SET started_at = ?, latency_ms = 5", (FIXED,))
        conn.execute("UPDATE events SET created_at = ?", (FIXED,))
        conn.execute("UPDATE skill_invocations SET created_at = ?, latency_ms = 2.5", (FIXED,))
    return xdg_env


def app_for(env: dict[str, str], **kwargs) -> TokenoptApp:
    paths = Paths.from_env(env)
    services = make_services(load_config(paths, env), paths, env)
    services.set_provider(1, FakeProvider())
    return TokenoptApp(services, **kwargs)


def test_chat_screen(snap_compare, xdg_env) -> None:
    app = app_for({**xdg_env, "TOKENOPT__SKILLS__ENABLED": "false"})

    async def ready(pilot) -> None:
        await wait_until(pilot, lambda: app.session is not None and not app.chat.prompt.disabled)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_chat_side_bar_at_140x42(snap_compare, xdg_env) -> None:
    """The side bar after a while (budget with an estimate, a compaction, skill loads
    with a long name, a scan warning) at 140×42: every line whole, broken on purpose."""
    app = app_for({**xdg_env, "TOKENOPT__SKILLS__ENABLED": "false"})

    async def filled(pilot) -> None:
        await wait_until(pilot, lambda: app.session is not None and not app.chat.prompt.disabled)
        await wait_idle(pilot)
        await fill_side_bar(pilot)

    assert snap_compare(app, terminal_size=(140, 42), run_before=filled)


def test_history_screen(snap_compare, history_env) -> None:
    app = app_for(history_env, resume_session_id=-1)  # no new session: the list is fixed

    async def open_history(pilot) -> None:
        await wait_until(pilot, lambda: app.session is not None)
        await wait_idle(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: app.screen.id == "history" and app.screen.rows,
                         timeout=30)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_history)


def test_dashboard_screen(snap_compare, history_env) -> None:
    from tokenopt_tui.ui.screens.dashboard import DashboardScreen

    app = app_for(history_env, resume_session_id=-1)

    async def open_dashboard(pilot) -> None:
        await wait_until(pilot, lambda: app.session is not None)
        await wait_idle(pilot)
        screen = DashboardScreen(app.services, now=NOW)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.stats is not None, timeout=30)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_dashboard)
