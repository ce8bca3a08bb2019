-- Schema v7: each `tokenopt bench` run's report (the same JSON as `--json`), so the
-- dashboard can show the latest one and runs can be compared later.

CREATE TABLE bench_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('replay', 'live')),
    seconds     REAL NOT NULL,
    report      TEXT NOT NULL
);
