"""`tokenopt ask --continue --retry-up`: the session's last request asked again one tier
up, end to end: the embedded model (tier 1) answers first, a real mlx_lm.server on
loopback (tier 2) answers the retry, and the store keeps both answers and the
EscalationRequested."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import loopback_tiers, run_cli, write_config


def _db(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"


@pytest.mark.server
def test_retry_up_goes_from_the_local_model_to_the_server(xdg_env, mlx_server,
                                                          prepared_model) -> None:
    write_config(xdg_env, loopback_tiers(mlx_server, str(prepared_model)))
    first = run_cli(["ask", "--json", "hi"], xdg_env)
    assert first.returncode == 0, first.stderr
    asked = json.loads(first.stdout)
    assert asked["tier"] == 1 and asked["tier_name"] == "local" and asked["answer"]
    [first_reply] = [e["message_id"] for e in asked["events"] if e["kind"] == "ReplyCompleted"]

    second = run_cli(["ask", "--json", "--continue", "--retry-up"], xdg_env)
    assert second.returncode == 0, second.stderr
    retried = json.loads(second.stdout)
    assert retried["session_id"] == asked["session_id"]
    assert (retried["tier"], retried["tier_name"]) == (2, "loopback")
    assert [a["tier"] for a in retried["attempts"]] == [2]  # pinned: tier 1 not asked again
    assert retried["answer"] and retried["completion_tokens"] > 0 and not retried["estimated"]
    assert retried["reasons"] == ["asked again one tier up (the answer came from tier 1)"]
    [escalation] = [e for e in retried["events"] if e["kind"] == "EscalationRequested"]
    assert (escalation["message_id"], escalation["from_tier"], escalation["to_tier"]) == (
        first_reply, 1, 2)

    with sqlite3.connect(_db(xdg_env)) as conn:
        stored = conn.execute("SELECT payload FROM events WHERE kind = 'EscalationRequested'"
                              " AND session_id = ?", (asked["session_id"],)).fetchall()
        messages = conn.execute("SELECT id, role, tier FROM messages WHERE session_id = ? "
                                "ORDER BY id", (asked["session_id"],)).fetchall()
        calls = conn.execute("SELECT tier, endpoint FROM model_calls WHERE session_id = ? "
                             "ORDER BY id", (asked["session_id"],)).fetchall()
    assert [json.loads(p) for (p,) in stored] == [
        {"kind": "EscalationRequested", "message_id": first_reply, "from_tier": 1, "to_tier": 2}]
    # The request is stored once; both answers stay, the second from the server.
    assert [(role, tier) for _, role, tier in messages] == [
        ("user", None), ("assistant", 1), ("assistant", 2)]
    assert messages[1][0] == first_reply
    assert [tier for tier, _ in calls] == [1, 2] and calls[1][1] == mlx_server


def test_retry_up_arguments_are_checked_before_anything_runs(xdg_env) -> None:
    cases = {
        ("ask", "--retry-up"): "--retry-up needs the session: add --continue or --resume ID",
        ("ask", "--continue", "--retry-up", "hi"): "--retry-up asks the session's last "
                                                   "request again: give no request",
        ("ask",): "the request is missing",
    }
    for argv, message in cases.items():
        result = run_cli(list(argv), xdg_env, timeout=60)
        assert result.returncode == 2 and message in result.stderr, (argv, result.stderr)
        assert result.stdout == ""
    assert not _db(xdg_env).exists()  # refused before the store was opened


async def test_retry_up_on_a_request_without_an_answer_is_refused(xdg_env) -> None:
    from tokenopt_tui.store import Store

    store = await Store.open(_db(xdg_env))
    try:
        session_id = await store.create_session("direct_chat", "failed")
        await store.add_message(session_id, "user", "a request no tier answered")
    finally:
        await store.close()
    result = run_cli(["ask", "--continue", "--retry-up"], xdg_env, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert "the last request has no answer to improve on" in result.stderr
    with sqlite3.connect(_db(xdg_env)) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events WHERE session_id = ?",
                                            (session_id,))]
        calls = conn.execute("SELECT COUNT(*) FROM model_calls").fetchone()[0]
    assert "EscalationRequested" not in kinds and "ErrorOccurred" in kinds and calls == 0
