"""`kill -9` in the middle of a streamed reply loses at most the last 0.5 s."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from tokenopt_tui.config import load_config
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.wiring import make_services

pytestmark = pytest.mark.model


def _assistant_rows(db: Path) -> list[tuple[int, str, int]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT id, content, interrupted FROM messages "
                                "WHERE role = 'assistant'").fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet


def _read_all(fd: int) -> str:
    """Everything the process wrote to its terminal (it has exited)."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


async def test_kill_9_keeps_the_flushed_part_marked_interrupted(xdg_env, paths,
                                                                prepared_model) -> None:
    env = {**xdg_env, "TOKENOPT__LOCAL__MAX_TOKENS": "400"}
    db = paths.db_file
    # stdout is a terminal, as for a person: `ask` streams the reply as it comes there
    # (to a pipe it prints only the finished answer).
    screen, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenopt_tui", "ask", "Count from 1 to 200: 1, 2, 3,"],
        env=env, cwd=REPO, stdout=terminal, stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    first_seen = ""
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            rows = _assistant_rows(db)
            if rows and not first_seen:
                first_seen = rows[0][1]
            if rows and len(rows[0][1]) > len(first_seen):  # at least one periodic flush
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the reply ended before the kill: {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        printed = _read_all(screen).replace("\r\n", "\n")
    finally:
        os.close(screen)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    [(_message_id, content, interrupted)] = _assistant_rows(db)
    assert interrupted == 1 and len(content) > len(first_seen)
    assert printed.startswith(content)  # what was stored is what the user saw, up to a flush

    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    await services.open_store()
    try:
        [session_row] = await services.store.list_sessions()
        session = await ChatSession.resume(services, session_row.id)
        assert session.history[-1].content == content
    finally:
        await services.aclose()
