"""Hostile-testing regressions for `tokenopt ask` against a misbehaving server on loopback:
killed and timed-out calls are charged, failed attempts never reach stdout, a drip
stream is cut by max_tokens and by the request's wall-clock limit, and non-UTF-8
input is refused before anything is stored."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_config
from fault_server import ServerThread


def one_tier(url: str, model: str, *, extra: str = "") -> str:
    """Config text: a single free tier, an OpenAI-compatible server at `url`."""
    return (f"{extra}\n[[tiers]]\nname = \"loopback\"\nendpoints = [{{kind = \"openai\", "
            f"base_url = \"{url}\", model = \"{model}\", timeout_s = 5}}]\n")


def two_tiers(url: str, first: str, second: str) -> str:
    return (f"[[tiers]]\nname = \"first\"\nendpoints = [{{kind = \"openai\", base_url = "
            f"\"{url}\", model = \"{first}\", timeout_s = 5}}]\n"
            f"[[tiers]]\nname = \"second\"\nendpoints = [{{kind = \"openai\", base_url = "
            f"\"{url}\", model = \"{second}\", timeout_s = 5}}]\n")


def query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not created or migrated yet


def ask(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tokenopt_tui", "ask", *args], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_charge(db: Path, proc: subprocess.Popen[str], completion: int) -> None:
    """Until the in-flight call row has been charged at least `completion` tokens."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        rows = query(db, "SELECT completion_tokens FROM model_calls WHERE in_flight = 1")
        if rows and rows[0][0] >= completion:
            return
        time.sleep(0.05)
    raise AssertionError(f"no in-flight charge of {completion} tokens: {proc.poll()!r} "
                         f"{proc.stderr.read() if proc.poll() is not None else ''}")


@pytest.mark.parametrize("how", ["kill -9", "SIGTERM"])
def test_a_killed_call_is_charged_and_the_next_request_is_refused(xdg_env, paths, how) -> None:
    """Before: `timeout 4 tokenopt ask --continue …` six times left the session at 18
    tokens with one call row; now each killed call is charged what it streamed."""
    with ServerThread(default_mode="drip", drip_interval_s=0.02, lifetime_s=120) as server:
        write_config(xdg_env, one_tier(server.url, "drip/m",
                                       extra="max_tokens = 100000\n[budgets]\ncron_job = 100"))
        env = {k: v for k, v in xdg_env.items() if k != "TOKENOPT__MAX_TOKENS"}
        db = paths.db_file
        proc = ask(["--session-type", "cron_job", "hello"], env)
        try:
            wait_for_charge(db, proc, completion=120)
            proc.send_signal(signal.SIGKILL if how == "kill -9" else signal.SIGTERM)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        [(tokens,)] = query(db, "SELECT tokens_used FROM sessions")
        [(prompt, completion, in_flight, error)] = query(
            db, "SELECT prompt_tokens, completion_tokens, in_flight, error FROM model_calls")
        assert prompt > 0 and completion >= 120 and tokens == prompt + completion
        if how == "kill -9":
            assert proc.returncode == -signal.SIGKILL and in_flight == 1  # charged unsettled
        else:
            assert proc.returncode == 143 and in_flight == 0 and error == "cancelled"
        requests_before = len(server.server.requests)
        result = run_cli(["ask", "--continue", "--json", "again?"], env, timeout=60)
        assert result.returncode == 3, result.stderr
        assert json.loads(result.stdout)["halted"] is True
        assert len(server.server.requests) == requests_before  # nothing was sent
        assert len(query(db, "SELECT id FROM model_calls")) == 1


def test_a_failed_attempts_text_never_reaches_stdout(xdg_env) -> None:
    """Before: stdout read `[drop_mid_stream/a] part1[ok/b] part1 part2` (glued)."""
    with ServerThread(lifetime_s=60) as server:
        write_config(xdg_env, two_tiers(server.url, "drop_mid_stream/a", "ok/b"))
        result = run_cli(["ask", "hello"], xdg_env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "[ok/b] part1 part2\n"
        assert "tier 1 (drop_mid_stream/a) failed" in result.stderr
        as_json = json.loads(run_cli(["ask", "--json", "hello"], xdg_env,
                                     timeout=60).stdout)
        assert as_json["answer"] == "[ok/b] part1 part2"


def test_a_drip_stream_is_cut_at_max_tokens(xdg_env, paths) -> None:
    """Before: a server sending a token every 200 ms kept `ask` running ~10 minutes."""
    with ServerThread(default_mode="drip", drip_interval_s=0.01, lifetime_s=60) as server:
        write_config(xdg_env, one_tier(server.url, "drip/m", extra="max_tokens = 40"))
        env = {k: v for k, v in xdg_env.items() if k != "TOKENOPT__MAX_TOKENS"}
        started = time.monotonic()
        result = run_cli(["ask", "--json", "hello"], env, timeout=60)
        elapsed = time.monotonic() - started
    out = json.loads(result.stdout)
    assert result.returncode == 0 and out["cut"]["limit"] == "max_tokens", result.stderr
    assert 72 < out["completion_tokens"] <= 76 and not out["interrupted"]  # 40 + margin
    assert elapsed < 30
    [(content, interrupted)] = query(paths.db_file, "SELECT content, interrupted FROM messages "
                                                    "WHERE role = 'assistant'")
    assert content == out["answer"] and content.startswith(" w0 w1") and interrupted == 0


def test_a_drip_stream_is_cut_by_the_request_time_limit(xdg_env) -> None:
    with ServerThread(default_mode="drip", drip_interval_s=0.1, lifetime_s=60) as server:
        write_config(xdg_env, one_tier(server.url, "drip/m",
                                       extra="max_tokens = 100000\nrequest_timeout_s = 2"))
        env = {k: v for k, v in xdg_env.items() if k != "TOKENOPT__MAX_TOKENS"}
        started = time.monotonic()
        result = run_cli(["ask", "hello"], env, timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "request_timeout_s" in result.stderr
    assert result.stdout.startswith(" w0 w1")
    assert elapsed < 20  # 2 s of stream plus start-up


def test_a_silent_server_past_the_time_limit_is_a_clear_failure(xdg_env) -> None:
    with ServerThread(default_mode="hang", hang_s=30, lifetime_s=60) as server:
        write_config(xdg_env, one_tier(server.url, "hang/m", extra="request_timeout_s = 1.5"))
        result = run_cli(["ask", "--json", "hello"], xdg_env, timeout=60)
    out = json.loads(result.stdout)
    assert result.returncode == 1 and "request_timeout_s" in out["error"]


@pytest.mark.parametrize("source", ["argv", "stdin"])
def test_non_utf8_input_is_refused_and_nothing_is_stored(xdg_env, paths, source) -> None:
    """Before: a traceback, exit 1, no JSON, and an empty session row."""
    args = ["ask", "--json", "-"] if source == "stdin" else ["ask", "--json", b"caf\xe9"]
    env = {**xdg_env, "PYTHONIOENCODING": "utf-8"}
    argv = [os.fsencode(sys.executable), b"-m", b"tokenopt_tui",
            *[a if isinstance(a, bytes) else a.encode() for a in args]]
    result = subprocess.run(argv, env=env, cwd=REPO, input=b"caf\xe9 au lait",
                            capture_output=True, timeout=60)
    assert result.returncode == 2, result.stderr
    out = json.loads(result.stdout)
    assert "not valid UTF-8" in out["error"] and "0xe9" in out["error"]
    assert out["session_id"] is None
    assert query(paths.db_file, "SELECT id FROM sessions") == []
    plain = subprocess.run([*argv[:3], b"ask", argv[-1]], env=env, cwd=REPO,
                           input=b"caf\xe9", capture_output=True, timeout=60)
    assert plain.returncode == 2 and b"Traceback" not in plain.stderr
    assert b"not valid UTF-8" in plain.stderr and plain.stdout == b""


def test_escapes_from_a_model_or_a_provider_never_reach_the_terminal(xdg_env) -> None:
    """Before: a provider's error text carrying OSC 52 was printed raw on ask's stderr."""
    raw = (b"\x1b", b"\x07", b"\r", "\x9b".encode())  # U+009B (CSI) as a terminal gets it
    outputs = []
    with ServerThread(lifetime_s=60) as server:
        for model, code in (("escape_error/a", 1), ("escape_text/b", 0)):
            write_config(xdg_env, one_tier(server.url, model))
            result = subprocess.run([sys.executable, "-m", "tokenopt_tui", "ask", "hello"],
                                    env=xdg_env, cwd=REPO, capture_output=True, timeout=60)
            assert result.returncode == code, result.stderr
            outputs.append(result)
    failed, answered = outputs
    assert b"upstream" in failed.stderr and b"[escape_text/b]" in answered.stdout
    for stream in (failed.stdout, failed.stderr, answered.stdout, answered.stderr):
        assert not any(byte in stream for byte in raw), stream
    shown = "␛]52;c;".encode()  # made visible, not obeyed
    assert shown in failed.stderr and shown in answered.stdout
