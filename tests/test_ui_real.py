"""The real app, the real embedded model, and a headless `tokenopt ask` on the same DB."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import REPO, loopback_tiers, write_config
from test_ui_chat import SIZE
from ui_helpers import wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.reply import AssistantMessage
from tokenopt_tui.wiring import make_services

pytestmark = [pytest.mark.model, pytest.mark.server]


async def test_chat_with_the_embedded_model_while_a_headless_ask_writes_the_same_db(
        xdg_env, paths, prepared_model, mlx_server) -> None:
    write_config(xdg_env, loopback_tiers(mlx_server, str(prepared_model)))
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and not app.chat.prompt.disabled,
                         what="the session to open", timeout=60)
        await wait_idle(pilot, timeout=120)  # the model warm-up (load) runs in a worker
        headless = subprocess.Popen(
            [sys.executable, "-m", "tokenopt_tui", "ask", "--json", "--tier", "2",
             "Name three rivers."], env=xdg_env, cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            await pilot.press(*"What is the capital of France?", "enter")
            await wait_until(pilot, lambda: app.chat.status.state in ("done", "failed"),
                             what="the local model's reply", timeout=180)
            await wait_idle(pilot)
            out, err = headless.communicate(timeout=180)
        finally:
            if headless.poll() is None:
                headless.kill()
        assert app.chat.status.state == "done"
        reply = app.chat.query_one(AssistantMessage)
        assert reply.source.strip() and not reply.interrupted
        session_id = app.session.session_id
        rows = await services.store.session_messages(session_id)
    assert headless.returncode == 0, err
    answer = json.loads(out)
    assert answer["session_id"] != session_id and answer["completion_tokens"] > 0

    db = paths.db_file
    with sqlite3.connect(db) as conn:
        per_session = dict(conn.execute(
            "SELECT session_id, COUNT(*) FROM messages GROUP BY session_id").fetchall())
        tokens = conn.execute("SELECT SUM(completion_tokens) FROM model_calls "
                              "WHERE session_id = ?", (session_id,)).fetchone()[0]
    assert [r.role for r in rows] == ["user", "assistant"] and rows[1].completion_tokens > 0
    assert tokens == rows[1].completion_tokens
    assert len(per_session) == 2 and sorted(per_session.values()) == [2, 2]  # nothing lost
