-- Schema v8: the free hosted tiers' per-account quota (OpenRouter ":free": 20 a minute,
-- 50 a day). Every request sent to a free hosted endpoint is a row, so today's use
-- survives restarts and is shared by every tokenopt process; at_epoch is wall-clock
-- epoch seconds (the day is the UTC day, as the provider counts it).
-- free_quota_reports keeps the latest X-RateLimit-* figures a provider sent, one row
-- per scope ('day' or 'minute'); reset_epoch is when that window starts over.

CREATE TABLE free_requests (
    id        INTEGER PRIMARY KEY,
    tier      INTEGER NOT NULL,
    endpoint  TEXT NOT NULL,
    at_epoch  REAL NOT NULL
);

CREATE INDEX free_requests_at ON free_requests (at_epoch);

CREATE TABLE free_quota_reports (
    scope        TEXT PRIMARY KEY CHECK (scope IN ('day', 'minute')),
    limit_count  INTEGER NOT NULL CHECK (limit_count >= 0),
    remaining    INTEGER NOT NULL CHECK (remaining >= 0),
    reset_epoch  REAL,
    seen_epoch   REAL NOT NULL
);
