-- Schema v10: the result cache (issue 15). A deterministic request's answer, keyed by a
-- sha256 over everything that changes it (core/cache/key.py), kept until expires_at
-- (unix seconds; its TTL class says how long). Lookups read one row by primary key with
-- the expiry in the same WHERE; the expires_at index serves the purge.

CREATE TABLE result_cache (
    key                TEXT PRIMARY KEY,
    created_at         REAL NOT NULL,
    expires_at         REAL NOT NULL,
    ttl_class          TEXT NOT NULL,
    endpoint           TEXT NOT NULL,
    model              TEXT NOT NULL,
    reply              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    hits               INTEGER NOT NULL DEFAULT 0,
    last_hit_at        REAL
) WITHOUT ROWID;

CREATE INDEX result_cache_expires_at ON result_cache (expires_at);
