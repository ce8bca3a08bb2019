"""Headless faults: a bad DB file is named and left untouched; no traceback reaches the user."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def test_ask_refuses_a_db_path_that_is_not_sqlite(xdg_env) -> None:
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    db.parent.mkdir(parents=True)
    original = b"my notes, not a database\n" * 200
    db.write_bytes(original)
    result = run_cli(["ask", "hello"], xdg_env, timeout=60)
    assert result.returncode == 2
    assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == original
    doctor = run_cli(["doctor"], xdg_env, timeout=60)
    assert doctor.returncode == 0 and f"{db} (ERROR" in doctor.stdout


def test_paid_tier_is_refused_unless_enabled(xdg_env) -> None:
    env = {**xdg_env, "OPENROUTER_API_KEY": "sk-test-not-used"}
    result = run_cli(["ask", "--json", "--tier", "4", "hello"], env, timeout=60)
    assert result.returncode == 1
    assert "paid use is off" in result.stdout and "sk-test" not in result.stdout
