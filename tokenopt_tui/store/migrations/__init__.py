"""Schema migrations: one SQL file per `PRAGMA user_version` step.

Files are named `NNNN_name.sql` and read with importlib.resources so they ship in
the wheel. Step N moves the schema from version N-1 to N; each step runs in its own
`BEGIN IMMEDIATE` transaction together with `PRAGMA user_version = N`, so a crash or
a bad statement leaves the database at the previous version, never half-migrated.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import aiosqlite

_STEP_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Step:
    """One migration step: the SQL that moves the schema to `version`."""

    version: int
    name: str
    sql: str


@cache
def load_steps() -> tuple[Step, ...]:
    """Read the shipped steps, checking they are numbered 1..N with no gap."""
    steps: list[Step] = []
    for entry in resources.files(__name__).iterdir():
        match = _STEP_NAME.match(entry.name)
        if match:
            steps.append(Step(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    steps.sort(key=lambda step: step.version)
    versions = [step.version for step in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"migration files are not numbered 1..N: {versions}")
    return tuple(steps)


def latest_version() -> int:
    """The schema version this code writes."""
    return len(load_steps())


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (trigger bodies included) for execute().

    executescript() would COMMIT any open transaction first, which is exactly
    what a step must not do, so statements are run one by one instead.
    """
    statements: list[str] = []
    buffer = ""
    pieces = sql.split(";")
    for piece in pieces[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    tail = buffer + pieces[-1]
    leftover = [
        line for line in tail.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if leftover:
        raise ValueError(f"incomplete SQL statement at end of script: {tail.strip()[:80]!r}")
    return statements


async def user_version(conn: aiosqlite.Connection) -> int:
    """Read `PRAGMA user_version` (0 for a new, empty database)."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(
    conn: aiosqlite.Connection,
    *,
    target_version: int | None = None,
    steps: Sequence[Step] | None = None,
) -> int:
    """Apply the missing steps up to `target_version` (default: latest); return the version.

    `conn` must be in autocommit mode (isolation_level=None). The version is read
    again inside each step's write lock, so two processes opening a fresh database
    at the same time apply every step exactly once. `steps` lets tests inject a
    failing step; sqlite3 errors propagate unchanged for the caller to wrap.
    """
    all_steps = tuple(steps) if steps is not None else load_steps()
    target = len(all_steps) if target_version is None else target_version
    if not 0 <= target <= len(all_steps):
        raise ValueError(f"target_version {target} outside 0..{len(all_steps)}")
    for step in all_steps[:target]:
        if await user_version(conn) >= step.version:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            if await user_version(conn) < step.version:  # another process may have won
                for statement in split_statements(step.sql):
                    await conn.execute(statement)
                # PRAGMA takes no bound parameters; version is an int we produced.
                await conn.execute(f"PRAGMA user_version = {int(step.version)}")
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
    return await user_version(conn)
