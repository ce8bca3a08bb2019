"""Headless budgets through the real embedded model: `ask --session-type cron_job` halts.

The first request overshoots the cron_job budget (the request in flight may); it is
answered, and the session is halted. The next request in that session is refused with
exit code 3 and a message saying how to continue, and no model call is made.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.model

LONG_PROMPT = ("Nightly job report: the backup to /srv/backup/nightly.tar failed at 02:10 UTC "
               "with 'disk quota exceeded' on volume vol-0a1b2c3d. Yesterday it used 412 GB. "
               "Decide whether to raise the quota or prune old snapshots, and say why. ") * 3


def model_calls(env: dict[str, str]) -> int:
    db = Path(env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM model_calls").fetchone()[0]


def test_a_cron_job_session_halts_and_refuses_the_next_request(xdg_env, prepared_model) -> None:
    env = {**xdg_env, "TOKENOPT__BUDGETS__CRON_JOB": "100"}
    first = run_cli(["ask", "--session-type", "cron_job", "--json", LONG_PROMPT], env)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["answer"] and answer["halted"] is True
    assert answer["budget"]["limit"] == 100 and answer["budget"]["used"] >= 100
    assert answer["budget"]["level"] == "halt"
    kinds = [e["kind"] for e in answer["events"]]
    # the backup skill's body went to the real model with this request, and was logged
    skills = [e for e in answer["events"] if e["kind"] == "SkillLoaded"]
    assert [e["skill_name"] for e in skills] == ["aria-backup"] and skills[0]["tokens"] > 500
    assert kinds.index("ReplyCompleted") < kinds.index("SessionHalted")
    calls = model_calls(env)
    session = str(answer["session_id"])

    second = run_cli(["ask", "--session-type", "cron_job", "--resume", session, "and now?"], env)
    assert second.returncode == 3
    assert second.stdout == ""
    assert (f"session {session} (cron_job) has used its budget: "
            f"{answer['budget']['used']:,} of 100 tokens and this request was not sent"
            in second.stderr)
    assert f"tokenopt ask --seed-from {session}" in second.stderr
    assert "Traceback" not in second.stderr
    assert model_calls(env) == calls, "a halted session made a model call"

    seeded = run_cli(["ask", "--json", "--seed-from", session, "hello again"], env)
    assert seeded.returncode == 0, seeded.stderr
    fresh = json.loads(seeded.stdout)
    assert fresh["session_id"] != answer["session_id"] and fresh["answer"]
    db = Path(env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        role, content = conn.execute(
            "SELECT role, content FROM messages WHERE session_id = ? ORDER BY id LIMIT 1",
            (fresh["session_id"],)).fetchone()
        status = conn.execute("SELECT status FROM sessions WHERE id = ?",
                              (answer["session_id"],)).fetchone()[0]
        logged = conn.execute("SELECT skill_name, tokens_used FROM skill_invocations "
                              "WHERE session_id = ?", (answer["session_id"],)).fetchall()
    assert role == "system" and "/srv/backup/nightly.tar" in content
    assert status == "halted"
    assert logged == [("aria-backup", skills[0]["tokens"])]
