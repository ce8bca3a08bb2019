-- Schema v5: indexes for the dashboard's per-period figures over long histories
-- (events by kind and time for compaction savings, messages by time for requests and
-- completed replies), found by benchmarks/bench_history.py on 10,000 sessions.

CREATE INDEX events_kind_created_at ON events(kind, created_at);
CREATE INDEX messages_created_at ON messages(created_at, role);
