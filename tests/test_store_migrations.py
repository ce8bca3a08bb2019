"""Schema migrations: each step tested from the previous schema, atomic on failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from tokenopt_tui.store import Store, StoreError
from tokenopt_tui.store.accounting import CallFigures
from tokenopt_tui.store.migrations import (
    Step,
    latest_version,
    load_steps,
    migrate,
    split_statements,
    user_version,
)


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {row[0] for row in rows}


async def _db_at(path: Path, version: int) -> None:
    """Build a database at an older schema version, the way an old tokenopt left it."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, target_version=version) == version


def test_steps_are_numbered_and_shipped() -> None:
    steps = load_steps()
    assert [step.version for step in steps] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert latest_version() == 11
    assert steps[0].name == "0001_initial.sql"
    assert steps[1].name == "0002_fts.sql"
    assert steps[2].name == "0003_cooldowns.sql"
    assert steps[3].name == "0004_task_types.sql"
    assert steps[4].name == "0005_history_indexes.sql"
    assert steps[5].name == "0006_calls_in_flight.sql"
    assert steps[6].name == "0007_bench_runs.sql"
    assert steps[7].name == "0008_free_quota.sql"
    assert steps[8].name == "0009_agents.sql"
    assert steps[9].name == "0010_result_cache.sql"
    assert steps[10].name == "0011_swarm.sql"


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    sql = (
        "-- leading comment; with a semicolon\n"
        "CREATE TABLE t (a TEXT DEFAULT 'x;y');\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
        "  INSERT INTO t VALUES ('a'); INSERT INTO t VALUES ('b');\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (a); CREATE TABLE u (b)")


@pytest.mark.asyncio
async def test_step_1_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    await _db_at(path, 1)
    tables = _tables(path)
    assert {"sessions", "messages", "model_calls", "events", "skill_invocations"} <= tables
    assert "messages_fts" not in tables
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


@pytest.mark.asyncio
async def test_step_2_from_v1_keeps_data_and_indexes_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    await _db_at(path, 1)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (id, type, title, created_at, model, tokens_used, cost_usd) "
            "VALUES (1, 'direct_chat', 'old chat', '2026-11-01T09:00:00.000Z', 'm1', 42, 0.5)"
        )
        conn.executemany(
            "INSERT INTO messages (session_id, role, content, created_at, tier, model) "
            "VALUES (1, ?, ?, '2026-11-01T09:00:01.000Z', ?, ?)",
            [
                ("user", "tell me about the zanzibar archipelago", None, None),
                ("assistant", "Zanzibar is off the coast of Tanzania. Café culture…", 1, "m1"),
            ],
        )
    conn.close()

    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        session = await store.get_session(1)
        assert session is not None
        assert (session.title, session.model, session.tokens_used, session.cost_usd) == (
            "old chat",
            "m1",
            42,
            0.5,
        )
        messages = await store.session_messages(1)
        assert [m.content for m in messages] == [
            "tell me about the zanzibar archipelago",
            "Zanzibar is off the coast of Tanzania. Café culture…",
        ]
        hits = await store.search_messages("zanzibar")
        assert sorted(m.id for m in hits) == [m.id for m in messages]
        assert [m.role for m in await store.search_messages("cafe")] == ["assistant"]
        # Rows written after the upgrade are indexed by the new triggers.
        new_id = await store.add_message(1, "user", "and pemba island?")
        assert [m.id for m in await store.search_messages("pemba")] == [new_id]


@pytest.mark.asyncio
async def test_step_3_from_v2_keeps_data_and_adds_cooldowns(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    await _db_at(path, 2)
    assert "endpoint_cooldowns" not in _tables(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (id, type, title, created_at, model, tokens_used, cost_usd) "
            "VALUES (1, 'direct_chat', 'v2 chat', '2026-11-02T09:00:00.000Z', 'm2', 7, 0.25)"
        )
        conn.execute(
            "INSERT INTO messages (session_id, role, content, created_at) "
            "VALUES (1, 'user', 'remember the okavango delta', '2026-11-02T09:00:01.000Z')"
        )
        conn.execute(
            "INSERT INTO events (session_id, created_at, kind, payload) "
            "VALUES (1, '2026-11-02T09:00:02.000Z', 'TierChosen', '{\"tier\": 2}')"
        )
    conn.close()

    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        session = await store.get_session(1)
        assert session is not None
        assert (session.title, session.model, session.tokens_used, session.cost_usd) == (
            "v2 chat",
            "m2",
            7,
            0.25,
        )
        [message] = await store.session_messages(1)
        assert message.content == "remember the okavango delta"
        assert [m.id for m in await store.search_messages("okavango")] == [message.id]
        assert [(e.kind, e.payload) for e in await store.session_events(1)] == [
            ("TierChosen", {"tier": 2})
        ]
        # The new table starts empty and works: upsert, read back, clear.
        assert await store.load_cooldowns() == {}
        await store.save_cooldown("k", 1, 1_750_000_060.0, "server: HTTP 500")
        await store.save_cooldown("k", 2, 1_750_000_300.5, None)
        assert await store.load_cooldowns() == {"k": (2, 1_750_000_300.5, None)}
        await store.clear_cooldown("k")
        await store.clear_cooldown("k")  # no row: fine
        assert await store.load_cooldowns() == {}


@pytest.mark.asyncio
async def test_step_4_from_v3_adds_task_types_to_model_calls(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    await _db_at(path, 3)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO sessions (id, type, created_at) "
                     "VALUES (1, 'cron_job', '2026-11-03T09:00:00.000Z')")
        conn.execute("INSERT INTO model_calls (session_id, provider, model, started_at, "
                     "prompt_tokens, completion_tokens) VALUES (1, 'mlx', 'm', "
                     "'2026-11-03T09:00:01.000Z', 30, 5)")
    conn.close()
    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        rows = await store._fetchall("t", "SELECT task_type, prompt_tokens FROM model_calls")
        assert [tuple(r) for r in rows] == [(None, 30)]
        await store.record_model_call(1, message_id=None, tier=1, provider="mlx",
                                      endpoint=None, model="m", started_at="2026-11-03T10:00:00Z",
                                      latency_ms=1.0, prompt_tokens=1, completion_tokens=1,
                                      task_type="coding")
        rows = await store._fetchall("t", "SELECT task_type FROM model_calls ORDER BY id")
        assert [r[0] for r in rows] == [None, "coding"]
    indexes = {r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "sessions_created_at" in indexes
    assert {"events_kind_created_at", "messages_created_at"} <= indexes  # v5


async def test_step_6_from_v5_marks_old_calls_settled_and_charges_in_flight(
        tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    await _db_at(path, 5)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO sessions (id, type, created_at, tokens_used) "
                     "VALUES (1, 'cron_job', '2026-11-03T09:00:00.000Z', 35)")
        conn.execute("INSERT INTO model_calls (session_id, provider, model, started_at, "
                     "prompt_tokens, completion_tokens) VALUES (1, 'mlx', 'm', "
                     "'2026-11-03T09:00:01.000Z', 30, 5)")
    conn.close()
    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        rows = await store._fetchall("t", "SELECT in_flight FROM model_calls")
        assert [r[0] for r in rows] == [0]
        call = await store.start_model_call(1, tier=2, provider="openai", endpoint="u",
                                            model="m2", started_at="2026-11-03T10:00:00Z",
                                            prompt_tokens=100, cost_usd=0.01)
        assert await store.session_tokens(1) == 135  # charged as soon as it was sent
        await store.model_call_progress(call, prompt_tokens=100, completion_tokens=40,
                                        cost_usd=0.02)
        assert await store.session_tokens(1) == 175
        await store.settle_model_call(call, CallFigures(message_id=None, latency_ms=5.0,
                                                        prompt_tokens=90, completion_tokens=44,
                                                        cost_usd=0.015))
        assert await store.session_tokens(1) == 35 + 134
        row = await store.get_session(1)
        assert row is not None and row.model == "m2" and abs(row.cost_usd - 0.015) < 1e-9
        rows = await store._fetchall("t", "SELECT in_flight, estimated FROM model_calls "
                                          "ORDER BY id")
        assert [tuple(r) for r in rows] == [(0, 0), (0, 0)]


@pytest.mark.asyncio
async def test_migrate_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn) == latest_version()
        assert await migrate(conn) == latest_version()
        assert await migrate(conn, target_version=1) == latest_version()  # never goes down


@pytest.mark.asyncio
async def test_failed_step_rolls_back_to_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    steps = [
        load_steps()[0],
        Step(2, "0002_broken.sql", "CREATE TABLE half_done (a);\nSELECT * FROM no_such_table;\n"),
    ]
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await migrate(conn, steps=steps)
        assert not conn.in_transaction
        assert await user_version(conn) == 1
    tables = _tables(path)
    assert "sessions" in tables
    assert "half_done" not in tables


@pytest.mark.asyncio
async def test_target_version_out_of_range(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "db.sqlite", isolation_level=None) as conn:
        with pytest.raises(ValueError):
            await migrate(conn, target_version=latest_version() + 1)


@pytest.mark.asyncio
async def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer") as info:
        await Store.open(path)
    assert str(path) in str(info.value)
    assert f"schema v99, we know v{latest_version()}" in str(info.value)
    assert path.read_bytes() == before
    assert not (tmp_path / "future.db-wal").exists()


@pytest.mark.asyncio
async def test_two_processes_opening_a_fresh_file_migrate_once(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "race.db"
    stores = await asyncio.gather(*(Store.open(path) for _ in range(4)))
    try:
        assert [await s.schema_version() for s in stores] == [latest_version()] * 4
    finally:
        for store in stores:
            await store.close()


@pytest.mark.asyncio
async def test_step_7_keeps_benchmark_reports_on_a_v6_database(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    await _db_at(path, 6)
    async with await Store.open(path) as store:
        assert await store.latest_bench_run() is None
        await store.save_bench_run("replay", 12.5, '{"old": true}')
        await store.save_bench_run("live", 80.0, '{"new": true}')
        latest = await store.latest_bench_run()
        assert latest is not None and latest[1:] == ("live", 80.0, '{"new": true}')
        with pytest.raises(StoreError, match="save_bench_run"):
            await store.save_bench_run("dream", 1.0, "{}")  # the CHECK names the mode


async def test_step_8_counts_free_requests_on_a_v7_database(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    await _db_at(path, 7)
    assert "free_requests" not in _tables(path)
    async with await Store.open(path) as store:
        assert await store.free_requests_since(0) == 0 and await store.free_quota_reports() == {}
        await store.record_free_request(2, "https://openrouter.ai/api/v1", 1_000.0)
        await store.record_free_request(3, "https://openrouter.ai/api/v1", 2_000.0)
        assert await store.free_requests_since(1_500.0) == 1
        assert await store.free_requests_by_tier(0) == {2: 1, 3: 1}
        await store.save_free_quota_report("day", 50, 40, None, 2_000.0)
        await store.save_free_quota_report("day", 50, 39, 9_000.0, 2_100.0)  # replaces
        assert await store.free_quota_reports() == {"day": (50, 39, 9_000.0, 2_100.0)}
        with pytest.raises(StoreError, match="save_free_quota_report"):  # CHECK on scope
            await store.save_free_quota_report("hour", 1, 1, None, 0.0)
    assert {"free_requests", "free_quota_reports"} <= _tables(path)


async def test_step_9_adds_agent_pheromone_to_a_v8_database(tmp_path: Path) -> None:
    from tokenopt_tui.store.agents import AgentQualityRow

    path = tmp_path / "v8.db"
    await _db_at(path, 8)
    assert "agent_quality" not in _tables(path)
    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        assert await store.agent_qualities() == [] and await store.agent_health() == {}
        row = AgentQualityRow("analyst", "analysis", 2.0, 1.0, "2026-11-20T12:00:00.000Z")
        await store.save_agent_quality(row, 0.6667, "rating")
        await store.save_agent_quality(AgentQualityRow("analyst", "analysis", 2.5, 1.0,
                                                       "2026-11-21T12:00:00.000Z"), 0.71,
                                       "rating")
        assert await store.agent_qualities() == [AgentQualityRow(
            "analyst", "analysis", 2.5, 1.0, "2026-11-21T12:00:00.000Z")]
        assert [r.tau for r in await store.agent_quality_history()] == [0.6667, 0.71]
        await store.record_agent_error("analyst")
        assert (await store.agent_health())["analyst"][0] == 1
        with pytest.raises(StoreError, match="save_agent_quality"):  # CHECK alpha > 0
            await store.save_agent_quality(AgentQualityRow("x", "chat", 0.0, 1.0, "t"), 0, "s")
        assert await store.agent_quality("x", "chat") is None  # rolled back whole
    assert {"agent_quality", "agent_quality_history", "agent_health"} <= _tables(path)


async def test_step_11_links_swarm_sessions_on_a_v10_database(tmp_path: Path) -> None:
    path = tmp_path / "v10.db"
    await _db_at(path, 10)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("INSERT INTO sessions (type, title, created_at) VALUES "
                           "('direct_chat', 'old', '2026-12-01T10:00:00.000Z')")
    assert "swarms" not in _tables(path)
    async with await Store.open(path) as store:
        assert await store.schema_version() == latest_version()
        parent = 1
        assert (await store.get_session(parent)) is not None  # the old row kept
        swarm = await store.create_swarm(parent, "write a script", 9_000)
        child = await store.create_session("sub_agent", "worker")
        await store.link_session(child, parent, "worker")
        assert [(c.session_id, c.role) for c in await store.child_sessions(parent)] == [
            (child, "worker")]
        await store.finish_swarm(swarm, "pass", 4_200, 2)
        row = await store.get_swarm(swarm)
        assert row is not None and (row.verdict, row.used_tokens, row.attempts, row.status) == (
            "pass", 4_200, 2, "ended")
        with pytest.raises(StoreError, match="link_session"):  # CHECK names the role
            await store.link_session(child, parent, "boss")
        with pytest.raises(StoreError, match="finish_swarm"):
            await store.finish_swarm(swarm, "great", 1, 1)
    assert "swarms" in _tables(path)
