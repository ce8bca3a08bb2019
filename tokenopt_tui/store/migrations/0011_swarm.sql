-- Schema v11: the Explorer → Worker → Validator cycle (issue 16). Each role runs in a
-- sub_agent session of its own, linked to the session that started the cycle
-- (parent_id) with its role; a swarm row is the cycle as one unit: its envelope
-- (reserved_tokens), what it used, its verdict and how many Worker attempts it made.

ALTER TABLE sessions ADD COLUMN parent_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN swarm_role TEXT
    CHECK (swarm_role IS NULL OR swarm_role IN ('explorer', 'worker', 'validator'));

CREATE INDEX sessions_parent_id ON sessions (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE swarms (
    id                 INTEGER PRIMARY KEY,
    parent_session_id  INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
    task               TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'running'
                       CHECK (status IN ('running', 'ended')),
    reserved_tokens    INTEGER NOT NULL CHECK (reserved_tokens >= 0),
    used_tokens        INTEGER NOT NULL DEFAULT 0,
    verdict            TEXT CHECK (verdict IS NULL OR verdict IN
                       ('pass', 'failed', 'stalled', 'cancelled', 'over_budget')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    ended_at           TEXT
);

CREATE INDEX swarms_parent ON swarms (parent_session_id);
