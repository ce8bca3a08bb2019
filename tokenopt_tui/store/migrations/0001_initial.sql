-- Schema v1: sessions, messages, model calls, events, skill invocations.
-- Timestamps are UTC ISO-8601 strings written by Python ('2026-11-24T10:15:30.123Z'),
-- so SQLite's DATE()/datetime() functions understand them.
-- The plan's dashboard queries read sessions(created_at, model, tokens_used) and
-- skill_invocations(skill_name, tokens_used) as written: keep those names.

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    type        TEXT NOT NULL CHECK (type IN ('direct_chat', 'cron_job', 'sub_agent')),
    title       TEXT,
    created_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL DEFAULT 'active',
    model       TEXT,                               -- last model that answered
    tokens_used INTEGER NOT NULL DEFAULT 0,         -- sum of prompt+completion over model_calls
    cost_usd    REAL NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content           TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    tier              INTEGER,
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost_usd          REAL,
    estimated         INTEGER NOT NULL DEFAULT 0,
    interrupted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_session_id ON messages(session_id, id);

CREATE TABLE model_calls (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    message_id        INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    tier              INTEGER,
    provider          TEXT NOT NULL,
    endpoint          TEXT,
    model             TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    latency_ms        REAL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens     INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd          REAL NOT NULL DEFAULT 0,
    estimated         INTEGER NOT NULL DEFAULT 0,
    error             TEXT
);
CREATE INDEX model_calls_started_at ON model_calls(started_at);
CREATE INDEX model_calls_session_id ON model_calls(session_id);
-- Lets ON DELETE SET NULL from messages find its rows without a table scan.
CREATE INDEX model_calls_message_id ON model_calls(message_id);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL                        -- JSON object
);
CREATE INDEX events_session_id ON events(session_id, id);

CREATE TABLE skill_invocations (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
    skill_name  TEXT NOT NULL,
    tokens_used INTEGER NOT NULL DEFAULT 0,
    score       REAL,
    latency_ms  REAL,
    created_at  TEXT NOT NULL
);
CREATE INDEX skill_invocations_session_id ON skill_invocations(session_id);
