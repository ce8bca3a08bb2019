-- Schema v9: agents chosen by pheromone (issue 13). Quality per (agent, task type) as
-- a Beta posterior (alpha, beta as of updated_at; evaporation is applied on read), each
-- update kept in a history so the weights can be plotted, and health (provider errors)
-- kept apart: it never changes quality.

CREATE TABLE agent_quality (
    agent       TEXT NOT NULL,
    task_type   TEXT NOT NULL,
    alpha       REAL NOT NULL CHECK (alpha > 0),
    beta        REAL NOT NULL CHECK (beta > 0),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (agent, task_type)
);

CREATE TABLE agent_quality_history (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    task_type   TEXT NOT NULL,
    tau         REAL NOT NULL,
    source      TEXT NOT NULL
);

CREATE INDEX agent_quality_history_time ON agent_quality_history (time);

CREATE TABLE agent_health (
    agent          TEXT PRIMARY KEY,
    errors         INTEGER NOT NULL DEFAULT 0,
    last_error_at  TEXT
);
