"""SQLite store: sessions, messages, model calls, events, full-text search.

Plain asyncio on aiosqlite; never imports textual, so the CLI, cron jobs and tests
use it exactly as the TUI does.
"""

from __future__ import annotations

from tokenopt_tui.store.accounting import DAILY_TOKENS_BY_MODEL_SQL, SKILL_USAGE_SQL
from tokenopt_tui.store.db import Store
from tokenopt_tui.store.errors import StoreError
from tokenopt_tui.store.queries import (
    EventRow,
    HistoryRow,
    MessageRow,
    SessionRow,
    utc_timestamp,
)

__all__ = [
    "DAILY_TOKENS_BY_MODEL_SQL",
    "SKILL_USAGE_SQL",
    "EventRow",
    "HistoryRow",
    "MessageRow",
    "SessionRow",
    "Store",
    "StoreError",
    "utc_timestamp",
]
