-- Schema v3: per-endpoint cooldowns, shared by every tokenopt process on this database.
-- endpoint_key is the router's stable text form of (kind, base_url, model); until_epoch
-- is wall-clock epoch seconds (each process maps it onto its own monotonic clock).
-- failures is the count of consecutive failures, kept after the cooldown ends so the
-- next failure takes the next, longer step; a success deletes the row.

CREATE TABLE endpoint_cooldowns (
    endpoint_key TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    until_epoch  REAL NOT NULL,
    last_error   TEXT,
    updated_at   TEXT NOT NULL
);
