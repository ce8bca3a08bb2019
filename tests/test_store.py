"""The SQLite store on real files: opening safely, queries, search, concurrency, durability."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

import tokenopt_tui
from tokenopt_tui.store import (
    DAILY_TOKENS_BY_MODEL_SQL,
    SKILL_USAGE_SQL,
    Store,
    StoreError,
    utc_timestamp,
)
from tokenopt_tui.store.migrations import latest_version

REPO_ROOT = Path(tokenopt_tui.__file__).resolve().parents[1]


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "data" / "tokenopt.db")
    yield opened
    await opened.close()


def _raw(path: Path) -> sqlite3.Connection:
    """A second, independent connection, as another process would have."""
    return sqlite3.connect(path, timeout=10, isolation_level=None)


async def _call(store: Store, session_id: int, model: str, prompt: int, completion: int) -> int:
    return await store.record_model_call(
        session_id,
        message_id=None,
        tier=1,
        provider="test",
        endpoint="http://127.0.0.1",
        model=model,
        started_at=datetime.now(UTC),
        latency_ms=12.5,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=0.001,
    )


# -- opening -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fresh_open_settings(store: Store) -> None:
    assert store.path.parent.is_dir()  # parent folders created
    assert await store.schema_version() == latest_version()
    assert (await store._fetchall("t", "PRAGMA journal_mode"))[0][0] == "wal"
    assert (await store._fetchall("t", "PRAGMA busy_timeout"))[0][0] == 10_000
    assert (await store._fetchall("t", "PRAGMA foreign_keys"))[0][0] == 1
    assert (await store._fetchall("t", "PRAGMA synchronous"))[0][0] == 1  # NORMAL
    with _raw(store.path) as other:
        assert other.execute("PRAGMA user_version").fetchone()[0] == latest_version()


@pytest.mark.asyncio
async def test_async_with_and_closed_store(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "a.db") as store:
        assert await store.create_session("direct_chat") == 1
    await store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        await store.create_session("direct_chat")


@pytest.mark.asyncio
@pytest.mark.parametrize("content", [b"hello, not a database\n" * 100, b"tiny"])
async def test_non_sqlite_file_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tokenopt.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    assert str(info.value) == (
        f"{path} is not a tokenopt database (not a SQLite file); it was left untouched"
    )
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenopt.db"]


@pytest.mark.asyncio
async def test_other_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "someone_else.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"not a tokenopt one .*recipes"):
        await Store.open(path)
    assert path.read_bytes() == before


@pytest.mark.asyncio
async def test_directory_and_empty_file(tmp_path: Path) -> None:
    folder = tmp_path / "is_a_dir.db"
    folder.mkdir()
    with pytest.raises(StoreError, match=re.escape(str(folder))):
        await Store.open(folder)
    empty = tmp_path / "empty.db"
    empty.touch()  # a zero-byte file is what `touch` or a crashed create leaves: use it
    async with await Store.open(empty) as store:
        assert await store.schema_version() == latest_version()


@pytest.mark.asyncio
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
async def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    path.write_bytes(b"")
    path.chmod(0)
    try:
        with pytest.raises(StoreError, match=re.escape(str(path))):
            await Store.open(path)
    finally:
        path.chmod(0o600)


def test_store_never_imports_textual() -> None:
    import subprocess

    code = "import sys, tokenopt_tui.store; assert 'textual' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=30)


def test_timestamps_are_utc_iso_with_millis() -> None:
    stamp = utc_timestamp(datetime(2026, 11, 24, 10, 15, 30, 123456, tzinfo=UTC))
    assert stamp == "2026-11-24T10:15:30.123Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", utc_timestamp())
    with sqlite3.connect(":memory:") as conn:
        assert conn.execute("SELECT DATE(?)", (stamp,)).fetchone()[0] == "2026-11-24"


# -- sessions, messages, accounting ----------------------------------------------------


@pytest.mark.asyncio
async def test_session_lifecycle(store: Store) -> None:
    sid = await store.create_session("cron_job", "nightly digest")
    session = await store.get_session(sid)
    assert session is not None
    assert (session.type, session.title, session.status, session.ended_at) == (
        "cron_job",
        "nightly digest",
        "active",
        None,
    )
    assert (session.model, session.tokens_used, session.cost_usd) == (None, 0, 0.0)
    await store.end_session(sid, status="halted")
    ended = await store.get_session(sid)
    assert ended is not None and ended.status == "halted" and ended.ended_at is not None
    assert await store.get_session(999) is None
    assert [s.id for s in await store.list_sessions()] == [sid]
    with pytest.raises(StoreError, match="no such session"):
        await store.end_session(999)
    with pytest.raises(StoreError, match="create_session") as info:
        await store.create_session("chitchat")
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)


@pytest.mark.asyncio
async def test_messages_stream_and_finish(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    user_id = await store.add_message(sid, "user", "hi")
    reply_id = await store.add_message(sid, "assistant", "", tier=1, model="local")
    await store.update_message_content(reply_id, "Hel")
    await store.finish_message(
        reply_id,
        "Hello!",
        tier=2,
        model="remote",
        prompt_tokens=10,
        completion_tokens=3,
        cost_usd=0.0,
        estimated=True,
        interrupted=False,
    )
    user, reply = await store.session_messages(sid)
    assert (user.id, user.role, user.content, user.tier) == (user_id, "user", "hi", None)
    assert (reply.content, reply.tier, reply.model) == ("Hello!", 2, "remote")
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cost_usd) == (10, 3, 0.0)
    assert reply.estimated is True and reply.interrupted is False
    assert await store.search_messages("hel") == []  # old streaming text left the index
    assert [m.id for m in await store.search_messages("hello")] == [reply_id]
    with pytest.raises(StoreError, match="add_message") as info:
        await store.add_message(12345, "user", "orphan")
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)  # foreign keys are on
    with pytest.raises(StoreError, match="no such message"):
        await store.update_message_content(12345, "x")


@pytest.mark.asyncio
async def test_record_model_call_updates_session(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    mid = await store.add_message(sid, "assistant", "answer")
    await store.record_model_call(
        sid,
        message_id=mid,
        tier=1,
        provider="mlx_local",
        endpoint=None,
        model="gemma",
        started_at="2026-11-24T10:15:30.123Z",
        latency_ms=850.0,
        prompt_tokens=100,
        completion_tokens=40,
        cached_tokens=20,
        reasoning_tokens=5,
        cost_usd=0.0,
        estimated=True,
    )
    await _call(store, sid, "kimi", 200, 60)
    failed = await store.record_model_call(
        sid,
        message_id=None,
        tier=3,
        provider="openrouter",
        endpoint="https://openrouter.ai/api/v1",
        model="broken-model",
        started_at=datetime.now(UTC),
        latency_ms=None,
        prompt_tokens=7,
        completion_tokens=0,
        error="HTTP 500",
    )
    session = await store.get_session(sid)
    assert session is not None
    assert session.tokens_used == 100 + 40 + 200 + 60 + 7
    assert session.model == "kimi"  # the failed call does not take over the model
    assert session.cost_usd == pytest.approx(0.001)
    assert await store.session_tokens(sid) == 407
    with _raw(store.path) as other:
        row = other.execute(
            "SELECT message_id, cached_tokens, reasoning_tokens, estimated, started_at "
            "FROM model_calls ORDER BY id LIMIT 1"
        ).fetchone()
        assert row == (mid, 20, 5, 1, "2026-11-24T10:15:30.123Z")
        assert other.execute(
            "SELECT error FROM model_calls WHERE id = ?", (failed,)
        ).fetchone() == ("HTTP 500",)
    with pytest.raises(StoreError, match="no such session"):
        await store.session_tokens(999)


@pytest.mark.asyncio
async def test_record_model_call_is_atomic(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    with _raw(store.path) as other:  # make the second statement fail after the insert
        other.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE OF tokens_used ON sessions "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        )
    with pytest.raises(StoreError, match="refused by test"):
        await _call(store, sid, "kimi", 1, 1)
    with _raw(store.path) as other:
        assert other.execute("SELECT COUNT(*) FROM model_calls").fetchone() == (0,)
        assert other.execute("SELECT model, tokens_used FROM sessions").fetchone() == (None, 0)
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        await _call(store, 999, "kimi", 1, 1)
    assert not store._connection().in_transaction


@pytest.mark.asyncio
async def test_transactions_roll_back_and_isolate_tasks(store: Store) -> None:
    sid = await store.create_session("direct_chat")

    async def other_task_writes() -> int:
        return await store.add_message(sid, "user", "from another task")

    with pytest.raises(RuntimeError):
        async with store.transaction("test"):
            await store.add_message(sid, "user", "rolled back")
            async with store.transaction("nested"):  # joins the outer one
                await store.add_message(sid, "user", "also rolled back")
            pending = asyncio.create_task(other_task_writes())
            await asyncio.sleep(0.05)
            assert not pending.done()  # waits for our transaction instead of joining it
            raise RuntimeError("boom")
    await pending
    assert [m.content for m in await store.session_messages(sid)] == ["from another task"]


@pytest.mark.asyncio
async def test_events(store: Store) -> None:
    sid = await store.create_session("sub_agent")
    await store.add_event(sid, "TierChosen", {"tier": 1, "reason": "short ✓"})
    await store.add_event(sid, "UsageRecorded", {"tokens": 12, "nested": {"a": [1, 2]}})
    await store.add_event(None, "AppStarted", {})
    events = await store.session_events(sid)
    assert [(e.kind, e.payload) for e in events] == [
        ("TierChosen", {"tier": 1, "reason": "short ✓"}),
        ("UsageRecorded", {"tokens": 12, "nested": {"a": [1, 2]}}),
    ]
    assert [e.kind for e in await store.session_events(None)] == ["AppStarted"]
    with pytest.raises(StoreError, match="JSON"):
        await store.add_event(sid, "Bad", {"when": datetime.now(UTC)})


@pytest.mark.asyncio
async def test_plan_queries_on_seeded_data(store: Store) -> None:
    assert DAILY_TOKENS_BY_MODEL_SQL == (
        "SELECT DATE(created_at) AS day, model, SUM(tokens_used) AS tokens FROM sessions "
        "GROUP BY day, model ORDER BY day DESC, tokens DESC"
    )
    assert SKILL_USAGE_SQL == (
        "SELECT skill_name, COUNT(*) AS invocations, SUM(tokens_used) AS tokens "
        "FROM skill_invocations GROUP BY skill_name ORDER BY invocations DESC"
    )
    seed = [  # (created_at, [(model, prompt, completion)])
        ("2026-11-20T08:00:00.000Z", [("a", 100, 50), ("a", 30, 20)]),
        ("2026-11-20T12:30:00.000Z", [("b", 400, 100)]),
        ("2026-11-20T23:59:59.999Z", [("a", 6, 4)]),
        ("2026-11-21T00:00:00.000Z", [("a", 5, 2)]),
        ("2026-11-21T09:00:00.000Z", []),
    ]
    for created_at, calls in seed:
        sid = await store.create_session("direct_chat")
        for model, prompt, completion in calls:
            await _call(store, sid, model, prompt, completion)
        with _raw(store.path) as other:
            other.execute("UPDATE sessions SET created_at = ? WHERE id = ?", (created_at, sid))
    assert await store.daily_tokens_by_model() == [
        ("2026-11-21", "a", 7),
        ("2026-11-21", None, 0),
        ("2026-11-20", "b", 500),
        ("2026-11-20", "a", 150 + 50 + 10),
    ]
    for name, tokens in [("web", 10), ("code", 100), ("web", 20), ("sum", 5), ("web", 30)]:
        await store.record_skill_invocation(sid, name, tokens, 0.9, 3.0)
    await store.record_skill_invocation(None, "code", 1, None, None)
    assert await store.skill_usage() == [("web", 3, 60), ("code", 2, 101), ("sum", 1, 5)]


# -- search ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_one_megabyte_message_round_trips_and_is_searchable(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    line = "Lorem ipsum dolor sit amet, émoji 🚀 and tabs\t\n"
    body = (line * (1_048_576 // len(line) + 1))[:1_048_576]
    body = body[:500_000] + " xylophonequartz " + body[500_017:]
    assert len(body) == 1_048_576
    mid = await store.add_message(sid, "assistant", body)
    (message,) = await store.session_messages(sid)
    assert message.content == body
    assert [m.id for m in await store.search_messages("xylophonequartz")] == [mid]
    assert [m.id for m in await store.search_messages("XYLOPHONE*")] == [mid]


@pytest.mark.asyncio
async def test_search_quotes_hostile_input(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    mid = await store.add_message(sid, "user", 'what does foo" OR ( mean near the résumé?')
    hostile = ['"', "OR (", "*", "NEAR(", 'foo" OR (', "AND", "-x", "col:foo", "^", "''", ")", ""]
    for text in hostile:
        assert isinstance(await store.search_messages(text), list), text
    assert [m.id for m in await store.search_messages('foo" OR (')] == [mid]
    assert [m.id for m in await store.search_messages("resume NEAR(")] == [mid]
    assert await store.search_messages("foo absent") == []  # words are ANDed
    assert await store.search_messages("   ") == []


@pytest.mark.asyncio
async def test_deleted_session_leaves_the_index(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    await store.add_message(sid, "user", "ephemeral words")
    with _raw(store.path) as other:
        other.execute("PRAGMA foreign_keys = ON")
        other.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    assert await store.search_messages("ephemeral") == []


# -- concurrency and durability ------------------------------------------------------


@pytest.mark.asyncio
async def test_streamed_update_is_durable_for_other_connections(store: Store) -> None:
    sid = await store.create_session("direct_chat")
    mid = await store.add_message(sid, "assistant", "")
    other = _raw(store.path)
    try:
        for text in ["The", "The answer", "The answer is 42."]:
            await store.update_message_content(mid, text)
            row = other.execute("SELECT content FROM messages WHERE id = ?", (mid,)).fetchone()
            assert row == (text,)
    finally:
        other.close()


async def _write_many(store: Store, session_id: int, label: str, count: int) -> None:
    for i in range(count):
        mid = await store.add_message(session_id, "assistant", "")
        await store.update_message_content(mid, f"{label} {i}")
        if i % 10 == 0:
            await _call(store, session_id, label, 1, 1)
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_two_stores_on_one_file_interleave(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first, second = await asyncio.gather(Store.open(path), Store.open(path))
    try:
        s1 = await first.create_session("direct_chat")
        s2 = await second.create_session("sub_agent")
        await asyncio.gather(
            _write_many(first, s1, "first", 200), _write_many(second, s2, "second", 200)
        )
        assert len(await first.session_messages(s1)) == 200
        assert len(await first.session_messages(s2)) == 200
        assert await second.session_tokens(s1) == await second.session_tokens(s2) == 40
    finally:
        await first.close()
        await second.close()


_CHILD = """
import asyncio, sys
from tokenopt_tui.store.migrations import latest_version
from tokenopt_tui.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1])
    session_id = int(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(200):
        mid = await store.add_message(session_id, "assistant", "")
        await store.update_message_content(mid, f"child {i}")
        if i % 10 == 0:
            await store.record_model_call(
                session_id, message_id=mid, tier=1, provider="p", endpoint=None,
                model="child", started_at="2026-11-24T00:00:00.000Z", latency_ms=1.0,
                prompt_tokens=1, completion_tokens=1)
    await store.close()

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_second_process_writes_while_we_write(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with await Store.open(path) as store:
        ours = await store.create_session("direct_chat")
        theirs = await store.create_session("cron_job")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            str(path),
            str(theirs),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 15) == b"ready\n"
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        await _write_many(store, ours, "parent", 200)
        _, stderr = await asyncio.wait_for(child.communicate(), 30)
        assert child.returncode == 0, stderr.decode()
        assert b"locked" not in stderr
        mine = await store.session_messages(ours)
        child_rows = await store.session_messages(theirs)
        assert [m.content for m in mine] == [f"parent {i}" for i in range(200)]
        assert [m.content for m in child_rows] == [f"child {i}" for i in range(200)]
        assert await store.session_tokens(theirs) == 40
        ids = sorted((m.id, m.session_id) for m in mine + child_rows)
        switches = sum(a[1] != b[1] for a, b in itertools.pairwise(ids))
        assert switches > 0, "the two processes did not actually write at the same time"
        assert len(await store.search_messages("child")) == 50  # default limit
        assert len(await store.search_messages("child", limit=500)) == 200


async def test_a_swarm_role_session_is_neither_the_latest_nor_listed(store: Store) -> None:
    """`chat --continue` and the history list mean the user's conversations: a swarm
    role's sub_agent session (linked to its parent) is found only when asked for by id."""
    parent = await store.create_session("direct_chat", "design the migration")
    await store.add_message(parent, "user", "design the migration")
    child = await store.create_session("sub_agent", "worker")
    await store.add_message(child, "user", "brief")
    await store.link_session(child, parent, "worker")
    assert await store.latest_session_id() == parent
    assert [r.id for r in await store.history()] == [parent]
    assert [r.id for r in await store.history(include_empty=False)] == [parent]
    assert [r.id for r in await store.history(session_ids=[child])] == [child]
