"""A configured API key never leaves the process through a provider's error: a server
that quotes the Authorization header back (fault server `echo_key`) gets its text
scrubbed before it is stored (every table, every byte of the database file) or shown
(doctor, export). Rows stored before the fix are scrubbed when shown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openai  # noqa: F401 - imported up front so its first import eats no timeout
import pytest
from conftest import write_config
from fault_server import FaultServer
from test_hostile_output import cli_bytes, one_tier, run_session

from tokenopt_tui.config import Config, Endpoint, Tier, load_config
from tokenopt_tui.core.events import ErrorOccurred, TierFailed
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider
from tokenopt_tui.core.routing.cooldown import endpoint_key, key_text
from tokenopt_tui.core.secrets import Secrets
from tokenopt_tui.paths import Paths
from tokenopt_tui.wiring import make_services

KEY = "sk-or-v1-" + "3f9a0c7e5b1d2468" * 4  # long and unlike any other text
VAR = "OPENROUTER_API_KEY"
REDACTED = f"[redacted: {VAR}]"


# --- unit ------------------------------------------------------------------------------


def test_scrub_replaces_each_configured_value_with_its_variable_name() -> None:
    secrets = Secrets({VAR: KEY, "OTHER_KEY": "abcdefgh12345678"})
    text = f"Invalid credentials: 'Bearer {KEY}' and x-api-key=abcdefgh12345678."
    assert secrets.scrub(text) == (f"Invalid credentials: 'Bearer {REDACTED}' and "
                                   "x-api-key=[redacted: OTHER_KEY].")
    assert KEY not in repr(secrets) and repr(secrets) == "Secrets(OPENROUTER_API_KEY, OTHER_KEY)"


def test_scrub_catches_a_bearer_token_it_does_not_know() -> None:
    secrets = Secrets({VAR: KEY})
    cut = KEY[:20]  # a provider that quotes only the start of the key
    assert secrets.scrub(f"Authorization: Bearer {cut}…") == "Authorization: Bearer [redacted]…"
    assert secrets.scrub(f'{{"auth": "bearer {cut}"}}') == '{"auth": "bearer [redacted]"}'
    assert secrets.scrub("Bearer tokens are fine") == "Bearer tokens are fine"  # short word


def test_short_and_empty_values_are_not_secrets() -> None:
    secrets = Secrets.from_vars(["SHORT", "EMPTY", "UNSET", None],
                                {"SHORT": "test", "EMPTY": ""})
    assert secrets.names == ()
    assert secrets.scrub("a test of the test suite") == "a test of the test suite"


def test_a_longer_key_containing_a_shorter_one_is_replaced_whole() -> None:
    secrets = Secrets({"A": "abcdefgh", "B": "abcdefgh-ijklmnop"})
    assert secrets.scrub("x abcdefgh-ijklmnop y abcdefgh") == "x [redacted: B] y [redacted: A]"


def test_from_config_reads_every_tier_key_variable() -> None:
    config = Config(tiers=(
        Tier(1, "a", False, (Endpoint("openai", "m1", "http://127.0.0.1:9/v1",
                                      api_key_env="KEY_ONE"),)),
        Tier(2, "b", False, (Endpoint("openai", "m2", "http://127.0.0.1:9/v1"),
                             Endpoint("openai", "m3", "http://127.0.0.1:9/v1",
                                      api_key_env="KEY_TWO"))),
    ))
    env = {"KEY_ONE": "one-1234567890", "KEY_TWO": "two-1234567890", "KEY_THREE": "x" * 20}
    secrets = Secrets.from_config(config, env)
    assert secrets.names == ("KEY_ONE", "KEY_TWO")
    assert secrets.scrub("one-1234567890 two-1234567890 " + "x" * 20) == (
        "[redacted: KEY_ONE] [redacted: KEY_TWO] " + "x" * 20)


async def test_provider_errors_are_scrubbed_also_without_services() -> None:
    """A provider built alone scrubs at least its own key, in every error it builds:
    an HTTP error quoting the header, and a connection error naming the URL."""
    env = {VAR: KEY}
    async with FaultServer(lifetime_s=30.0) as server:
        provider = OpenAICompatProvider(
            Endpoint("openai", "echo_key/m", server.url, api_key_env=VAR, timeout_s=5), env)
        try:
            with pytest.raises(ProviderError) as caught:
                async for _ in provider.stream([ChatMessage("user", "hi")], 8):
                    pass
        finally:
            await provider.aclose()
    assert caught.value.status == 401 and KEY not in str(caught.value)
    assert f"'Bearer {REDACTED}'" in str(caught.value)
    unreachable = OpenAICompatProvider(
        Endpoint("openai", "m", f"http://127.0.0.1:9/{KEY}/v1", api_key_env=VAR, timeout_s=2),
        env)
    try:
        with pytest.raises(ProviderError) as refused:
            async for _ in unreachable.stream([ChatMessage("user", "hi")], 8):
                pass
    finally:
        await unreachable.aclose()
    assert refused.value.kind == "connection" and KEY not in str(refused.value)
    assert REDACTED in str(refused.value)


# --- a real session against a server that echoes the key -------------------------------


def every_value(db: Path) -> list[tuple[str, object]]:
    """(table, value) for every column of every row of every table in the database."""
    found: list[tuple[str, object]] = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [(table, value) for value in row]
    return found


async def test_an_echoed_key_is_never_stored_nor_shown(xdg_env: dict[str, str]) -> None:
    xdg_env[VAR] = KEY
    async with FaultServer(lifetime_s=60.0) as server:
        session_id, events = await run_session(xdg_env, server.url, "echo_key/m", "hi",
                                               key_env=VAR)
        assert server.requests, "the request reached the server"
    [failed] = [e for e in events if isinstance(e, TierFailed)]
    assert "HTTP 401" in failed.error
    assert REDACTED in failed.error and KEY not in failed.error
    assert all(KEY not in e.message for e in events if isinstance(e, ErrorOccurred))

    db = Paths.from_env(xdg_env).db_file
    values = every_value(db)
    assert any(isinstance(v, str) and REDACTED in v for _t, v in values)  # the error is kept
    leaks = [(t, v) for t, v in values
             if (isinstance(v, str) and KEY in v) or (isinstance(v, bytes) and KEY.encode() in v)]
    assert leaks == []
    for file in db.parent.glob(db.name + "*"):  # the file, its WAL and shared memory
        assert KEY.encode() not in file.read_bytes(), file

    for args in (["doctor"], ["export", str(session_id)],
                 ["export", str(session_id), "--format", "json"], ["history", "--json"]):
        result = cli_bytes(args, xdg_env)
        assert result.returncode == 0, result.stderr
        assert KEY.encode() not in result.stdout + result.stderr, args
    exported = json.loads(cli_bytes(["export", str(session_id), "--format", "json"],
                                    xdg_env).stdout)
    assert any(REDACTED in json.dumps(e) for e in exported["events"])


async def test_rows_stored_before_the_fix_are_scrubbed_when_shown(
        xdg_env: dict[str, str]) -> None:
    """Rows written before providers' errors were scrubbed hold the key (in an event, a
    message, a cooldown): doctor and export hide it when they show them."""
    xdg_env[VAR] = KEY
    write_config(xdg_env, one_tier("http://127.0.0.1:9/v1", "remote/m", key_env=VAR))
    paths = Paths.from_env(xdg_env)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    store = await services.open_store()
    try:
        session_id = await store.create_session("direct_chat", "hi")
        await store.add_message(session_id, "user", f"my key is {KEY}")
        await store.add_event(session_id, "TierFailed", {
            "tier": 1, "model": "remote/m", "endpoint": "http://127.0.0.1:9/v1",
            "fault": "auth", "error": f"HTTP 401: {KEY} refused", "skipped": False})
        await store.add_event(session_id, "ErrorOccurred", {
            "message": f"every tier failed: 'Bearer {KEY}'", "where": "x"})
        key = key_text(endpoint_key(services.config.tier(1).endpoints[0]))
        await store.save_cooldown(key, 1, 4_102_444_800.0, f"auth: quoted {KEY}")
    finally:
        await services.aclose()
    assert any(KEY.encode() in f.read_bytes() for f in paths.db_file.parent.glob("*.db*"))

    doctor = cli_bytes(["doctor"], xdg_env)
    assert doctor.returncode == 0, doctor.stderr
    assert f"quoted {REDACTED}".encode() in doctor.stdout, doctor.stdout
    assert KEY.encode() not in doctor.stdout
    for fmt in ("md", "json"):
        result = cli_bytes(["export", str(session_id), "--format", fmt], xdg_env)
        assert result.returncode == 0, result.stderr
        assert KEY.encode() not in result.stdout, fmt
        assert REDACTED.encode() in result.stdout, fmt
