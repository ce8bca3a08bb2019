"""Store: opening the database safely, connection settings, transactions, errors.

One aiosqlite connection per Store. Other Stores and other processes may use the
same file: WAL lets readers run beside one writer, busy_timeout makes writers
wait instead of failing with "database is locked", and multi-statement writes take
the write lock up front with BEGIN IMMEDIATE so two writers can never deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType

import aiosqlite

from tokenopt_tui.store import migrations
from tokenopt_tui.store.accounting import AccountingQueries
from tokenopt_tui.store.agents import AgentQueries
from tokenopt_tui.store.cache import CacheQueries
from tokenopt_tui.store.errors import StoreError
from tokenopt_tui.store.queries import SqlParam
from tokenopt_tui.store.swarm import SwarmQueries

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000

_PRAGMAS = (
    "PRAGMA synchronous = NORMAL",  # with WAL: durable against app crashes, fast commits
    "PRAGMA foreign_keys = ON",
)


def _check_is_sqlite_file(path: Path) -> None:
    """Refuse, without writing a byte, any existing non-empty file that is not SQLite."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a tokenopt database")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a tokenopt database (not a SQLite file); it was left untouched"
        )


#: Errors that mean "this place cannot be written", with the words a user needs.
_UNWRITABLE = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "read-only for this user: permission denied",
    errno.EPERM: "read-only: writes not permitted, e.g. an immutable folder",
}


def unwritable_reason(target: Path, error: OSError, *, folder: bool = True) -> str | None:
    """The user's words for `error` met writing `target`, if it means "not writable".

    None for any other error (disk full, I/O error…), whose own text is clearer.
    """
    why = _UNWRITABLE.get(error.errno or 0)
    if why is None:
        return None
    return f"the {'folder' if folder else 'file'} {target} is not writable ({why})"


def _nearest_existing(folder: Path) -> Path:
    """`folder` or its closest ancestor that exists (where a mkdir would write)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _probe_folder(folder: Path) -> OSError | None:
    """Try to create (and remove) a file in `folder`: the error a write there meets.

    A real attempt, because permission bits say nothing for root while a read-only
    mount or an immutable folder still refuses it. Only used once opening failed.
    """
    probe = folder / f".tokenopt-write-test-{os.getpid()}"
    try:
        handle = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return None
    except OSError as exc:
        return exc
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def _probe_file(path: Path) -> OSError | None:
    """Open an existing file for writing (nothing is written): the error, if any."""
    try:
        handle = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc
    os.close(handle)
    return None


def explain_open_failure(path: Path, exc: Exception) -> str:
    """Why the database at `path` could not be opened, in the user's terms.

    SQLite only says "unable to open database file" or "attempt to write a readonly
    database"; when the cause is a folder or file that cannot be written (the
    folder also holds the -wal and -shm files), say so and name it.
    """
    folder = path.parent
    problem = _probe_folder(folder) if folder.is_dir() else None
    if problem is not None:
        reason = unwritable_reason(folder, problem)
        if reason:
            return f"cannot open {path}: {reason}"
    problem = _probe_file(path) if path.is_file() else None
    if problem is not None:
        reason = unwritable_reason(path, problem, folder=False)
        if reason:
            return f"cannot open {path}: {reason}"
    return f"cannot open {path}: {exc}"


async def _enable_wal(conn: aiosqlite.Connection) -> None:
    """Switch the file to WAL, retrying while another opener holds a lock.

    SQLite returns SQLITE_BUSY for a journal-mode change without calling the busy
    handler, so two processes opening a fresh file at once need this loop.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


class Store(AccountingQueries, AgentQueries, CacheQueries, SwarmQueries):
    """The tokenopt database. Create with `await Store.open(path)`; close when done.

    Safe to share between asyncio tasks: an internal lock keeps one task's
    transaction from swallowing another task's statements.
    """

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        """Use Store.open(); this only wires up an already prepared connection."""
        self.path = path
        self._conn: aiosqlite.Connection | None = conn
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._in_transaction = False

    # -- lifecycle ------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) and migrate the database at `path`.

        Raises StoreError naming the path if it is not a SQLite file, cannot be
        opened, or was written by a newer tokenopt; such files are not modified.
        """
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = unwritable_reason(_nearest_existing(path.parent), exc)
            raise StoreError(f"cannot create the folder for {path}: {reason or exc}") from exc
        _check_is_sqlite_file(path)
        if not path.exists():
            # SQLite is about to create the file: check the folder takes it first. Its
            # own error would be "unable to open database file", and aiosqlite, whose
            # connect failed, leaves a thread that prints a traceback at exit.
            problem = _probe_folder(path.parent)
            reason = unwritable_reason(path.parent, problem) if problem else None
            if reason:
                raise StoreError(f"cannot create {path}: {reason}")
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(explain_open_failure(path, exc)) from exc
        try:
            await cls._prepare(path, conn)
        except BaseException:
            await conn.close()
            raise
        store = cls(path, conn)
        try:  # expired answers never outlive an open
            await store.cache_purge_expired(time.time())
        except BaseException:
            await store.close()
            raise
        return store

    @staticmethod
    async def _prepare(path: Path, conn: aiosqlite.Connection) -> None:
        """Check the file is ours, then set pragmas and migrate. Nothing is written
        (WAL switch included) until we know the file is ours and not from the future."""
        latest = migrations.latest_version()
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # One statement, so both values come from the same snapshot even while
            # another process is migrating this file.
            rows = list(await conn.execute_fetchall(
                "SELECT (SELECT user_version FROM pragma_user_version), "
                "(SELECT group_concat(name, ', ') FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%')"
            ))
            version, foreign = int(rows[0][0]), rows[0][1]
            if version > latest:
                raise StoreError(
                    f"{path} was written by a newer tokenopt (schema v{version}, "
                    f"we know v{latest}); it was left untouched"
                )
            if version == 0 and foreign:
                raise StoreError(
                    f"{path} is a SQLite database but not a tokenopt one (it holds "
                    f"{str(foreign)[:200]}); it was left untouched"
                )
            await _enable_wal(conn)
            for pragma in _PRAGMAS:
                await conn.execute(pragma)
            await migrations.migrate(conn)
        except sqlite3.Error as exc:
            raise StoreError(explain_open_failure(path, exc)) from exc
        except OSError as exc:  # e.g. migration files missing from a broken install
            raise StoreError(f"cannot open {path}: {exc}") from exc

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"closing {self.path} failed: {exc}") from exc

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        """The schema version recorded in the file (PRAGMA user_version)."""
        rows = await self._fetchall("schema_version", "PRAGMA user_version")
        return int(rows[0][0])

    # -- plumbing -------------------------------------------------------------------

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the store lock, re-entrant for the task that already holds it."""
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            yield self._connection()
            return
        async with self._lock:
            self._owner = task
            try:
                yield self._connection()
            finally:
                self._owner = None

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError(f"the store at {self.path} is closed")
        return self._conn

    @asynccontextmanager
    async def transaction(self, op: str = "transaction") -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT; ROLLBACK on any exception (cancellation too).

        Store methods called inside the block from the same task join it; a nested
        transaction() joins the outer one. Other tasks wait until it ends.
        """
        async with self._locked() as conn:
            if self._in_transaction:
                yield
                return
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{op}: BEGIN failed on {self.path}: {exc}") from exc
            self._in_transaction = True
            try:
                yield
                await conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback(conn)
                raise StoreError(f"{op} failed on {self.path}: {exc}") from exc
            except BaseException:
                await self._rollback(conn)
                raise
            finally:
                self._in_transaction = False

    async def _rollback(self, conn: aiosqlite.Connection) -> None:
        """Roll back if a transaction is still open; the original error wins."""
        if conn.in_transaction:
            # The first error is what the caller needs; when ROLLBACK itself fails
            # (e.g. after SQLITE_FULL) SQLite has already rolled back.
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")

    def _error(self, op: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{op} failed on {self.path}: {exc}")

    async def _write(self, op: str, sql: str,
                     params: Sequence[SqlParam]) -> tuple[int | None, int]:
        """Run one write statement; (lastrowid, rowcount), errors named by `op`."""
        async with self._locked() as conn:
            try:
                cursor = await conn.execute(sql, params)
                result = cursor.lastrowid, cursor.rowcount
                await cursor.close()
            except sqlite3.Error as exc:
                raise self._error(op, exc) from exc
        return result

    async def _insert(self, op: str, sql: str, params: Sequence[SqlParam] = ()) -> int:
        rowid, _ = await self._write(op, sql, params)
        if rowid is None:
            raise StoreError(f"{op}: SQLite returned no rowid")
        return rowid

    async def _update(self, op: str, sql: str, params: Sequence[SqlParam] = ()) -> int:
        return (await self._write(op, sql, params))[1]

    async def _fetchall(
        self, op: str, sql: str, params: Sequence[SqlParam] = ()
    ) -> list[sqlite3.Row]:
        async with self._locked() as conn:
            try:
                return list(await conn.execute_fetchall(sql, params))
            except sqlite3.Error as exc:
                raise self._error(op, exc) from exc
