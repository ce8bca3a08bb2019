"""Untrusted text (model replies, titles, provider errors) never reaches a terminal as
escape sequences: export md/json, history, stats, doctor and logs, with real sessions
made against the fault server (escape_text, escape_error) and real `tokenopt`
processes. Also the timeline's words for a skipped tier."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import openai  # noqa: F401 - imported up front so its first import eats no timeout
import pytest
from conftest import REPO, write_config
from fault_server import HOSTILE, FaultServer
from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import load_config
from tokenopt_tui.core.events import TierFailed
from tokenopt_tui.core.reporting.export import event_line, session_data, to_json, to_markdown
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.text import (
    SafeWriter,
    install_safe_logging,
    json_dumps_safe,
    terminal_safe,
)
from tokenopt_tui.paths import Paths
from tokenopt_tui.wiring import make_services

#: Characters a terminal acts on (ESC, BEL, CR, C1 CSI and ST); none may be printed raw.
RAW = ("\x1b", "\x07", "\r", "\x9b", "\x9c")


def one_tier(url: str, model: str, key_env: str | None = None) -> str:
    """Config text: a single tier, an OpenAI-compatible endpoint at `url`."""
    key = f', api_key_env = "{key_env}"' if key_env else ""
    return ('[[tiers]]\nname = "remote"\nendpoints = [{kind = "openai", '
            f'base_url = "{url}", model = "{model}", timeout_s = 5{key}}}]\n')


async def run_session(env: dict[str, str], url: str, model: str, text: str,
                      key_env: str | None = None) -> tuple[int, list[object]]:
    """One real request through ChatSession; returns (session id, its events)."""
    env["TOKENOPT__MAX_TOKENS"] = "512"  # the hostile reply is long in tokens: keep it whole
    write_config(env, one_tier(url, model, key_env))
    paths = Paths.from_env(env)
    services = make_services(load_config(paths, env), paths, env)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send(text)]
        return session.session_id, events
    finally:
        await services.aclose()


def cli_bytes(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """`tokenopt ARGS` with stdout/stderr as bytes: text mode would turn a bare CR into a
    newline and hide it."""
    return subprocess.run([sys.executable, "-m", "tokenopt_tui", *args], env=env,
                          capture_output=True, timeout=120, cwd=REPO)


def assert_no_raw_controls(data: bytes, what: str) -> str:
    """Decoded output, after checking no terminal control is in it raw."""
    text = data.decode("utf-8")
    for char in RAW:
        assert char not in text, f"{what}: raw {char!r} in {text!r}"
    return text


# --- unit: the sanitiser and the JSON writer ----------------------------------------------


@pytest.mark.parametrize(("raw", "safe"), [
    ("a\x1b[2Jb", "a␛[2Jb"),
    ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),  # OSC 52 ended by BEL
    ("\x1b]0;title\x1b\\", "␛]0;title␛\\"),  # OSC ended by ST (ESC \)
    ("\x9d0;title\x9c", "\\x9d0;title\\x9c"),  # the C1 forms of OSC and ST
    ("\x9b31mred", "\\x9b31mred"),  # C1 CSI
    ("line one\r\nline two\r\n", "line one\nline two\n"),  # CRLF reads as a newline
    ("secret\rX", "secret␍X"),  # a bare CR is shown, never returns the cursor
    ("ends with CR\r", "ends with CR"),  # half a CRLF cut by a stream: dropped
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("\x00\x08\x7f", "␀␈\\x7f"),
    ("café ünïcode → ✓", "café ünïcode → ✓"),
])
def test_terminal_safe_makes_controls_visible(raw: str, safe: str) -> None:
    assert terminal_safe(raw) == safe
    assert terminal_safe(safe) == safe  # idempotent: applying it twice changes nothing


def test_json_dumps_safe_escapes_c1_and_line_separators_and_round_trips() -> None:
    data = {"text": HOSTILE + "\x7f\u2028\u2029 café", "k\x9b": ["\x85"]}
    out = json_dumps_safe(data)
    for char in (*RAW, "\x7f", "\x85", "\u2028", "\u2029"):
        assert char not in out
    assert "\\u009b" in out and "\\u2028" in out and "\\u001b" in out
    assert "café" in out  # other non-ASCII stays readable
    assert json.loads(out) == data
    lone = json_dumps_safe(["\ud800"], indent=None)
    assert lone == '["\\ud800"]' and json.loads(lone) == ["\ud800"]
    lone.encode("utf-8")  # a lone surrogate written raw could not even be encoded


def test_safe_writer_cleans_and_scrubs_everything_written() -> None:
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lambda text: text.replace("hunter22", "[redacted]"))
    writer.write(f"last error: {HOSTILE} hunter22\n")
    assert buffer.getvalue() == "last error: ␛[2J␛]52;c;cHduZWQ=␇␍X\\x9b31m [redacted]\n"


def test_install_safe_logging_cleans_records_of_child_loggers() -> None:
    stream = io.StringIO()
    caught: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    root_handler = Keep()
    logging.getLogger().addHandler(root_handler)
    handler = install_safe_logging(lambda text: text.replace("hunter22", "[redacted]"),
                                   stream=stream)
    try:
        log = logging.getLogger("tokenopt_tui.core.routing.router")
        log.warning("provider said %s with key %s", HOSTILE, "hunter22")
        try:
            raise RuntimeError(f"boom {HOSTILE} hunter22")
        except RuntimeError:
            log.exception("request failed")
        again = install_safe_logging(stream=stream)  # replaces, never doubles
        assert again is not handler
        log.warning("once")
    finally:
        logger = logging.getLogger("tokenopt_tui")
        for h in [h for h in logger.handlers if getattr(h, "tokenopt_safe", False)]:
            logger.removeHandler(h)
        logging.getLogger().removeHandler(root_handler)
    text = stream.getvalue()
    for char in RAW:
        assert char not in text
    assert "hunter22" not in text
    assert "provider said ␛[2J␛]52;c;cHduZWQ=␇␍X\\x9b31m with key [redacted]" in text
    assert "RuntimeError: boom ␛[2J" in text and text.count("once") == 1
    # Handlers after it (here the root's) get the cleaned record too.
    assert all("hunter22" not in r.getMessage() and "\x1b" not in r.getMessage()
               for r in caught) and len(caught) == 3
    assert caught[1].exc_text is not None and "\x1b" not in caught[1].exc_text


# --- a real session with a hostile reply ---------------------------------------------------


async def test_hostile_reply_is_inert_in_export_history_and_stats(xdg_env) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        session_id, _ = await run_session(xdg_env, server.url, "escape_text/m",
                                          f"title {HOSTILE} end")
    reply = f"[escape_text/m]{HOSTILE} done"

    markdown = cli_bytes(["export", str(session_id), "--format", "md"], xdg_env)
    assert markdown.returncode == 0, markdown.stderr
    text = assert_no_raw_controls(markdown.stdout, "export md")
    assert "␛[2J␛]52;c;cHduZWQ=␇␍X\\x9b31m done" in text  # shown, as data
    assert text.startswith("# title ␛[2J")

    exported = cli_bytes(["export", str(session_id), "--format", "json"], xdg_env)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(assert_no_raw_controls(exported.stdout, "export json"))
    assert [m["content"] for m in data["messages"]] == [f"title {HOSTILE} end", reply]
    assert b"\\u009b" in exported.stdout

    listing = cli_bytes(["history"], xdg_env)
    assert listing.returncode == 0, listing.stderr
    assert "title ␛[2J" in assert_no_raw_controls(listing.stdout, "history")
    as_json = cli_bytes(["history", "--json"], xdg_env)
    [row] = json.loads(assert_no_raw_controls(as_json.stdout, "history --json"))
    assert row["title"].startswith(f"title {HOSTILE}"[:20])

    for args in (["stats"], ["stats", "--json"]):
        result = cli_bytes(args, xdg_env)
        assert result.returncode == 0, result.stderr
        assert_no_raw_controls(result.stdout, " ".join(args))


async def test_history_screen_export_files_are_inert(xdg_env) -> None:
    """The history screen writes files with the same functions: check their text."""
    async with FaultServer(lifetime_s=60.0) as server:
        session_id, _ = await run_session(xdg_env, server.url, "escape_text/m", "hi")
    paths = Paths.from_env(xdg_env)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    store = await services.open_store()
    try:
        data = await session_data(store, session_id)
    finally:
        await services.aclose()
    for text in (to_markdown(data), to_json(data)):
        assert not any(char in text for char in RAW)
    assert json.loads(to_json(data))["messages"][1]["content"].endswith(f"{HOSTILE} done")


# --- a provider error with escapes, shown by doctor ----------------------------------------


async def test_hostile_provider_error_is_inert_in_store_and_doctor(xdg_env) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        session_id, events = await run_session(xdg_env, server.url, "escape_error/m", "hi")
        [failed] = [e for e in events if isinstance(e, TierFailed)]
        assert "upstream␛[2J" in failed.error and "\x1b" not in failed.error
        paths = Paths.from_env(xdg_env)
        services = make_services(load_config(paths, xdg_env), paths, xdg_env)
        store = await services.open_store()
        try:
            cooldowns = await store.load_cooldowns()
            [(_failures, _until, last_error)] = cooldowns.values()
            assert last_error is not None and "upstream␛[2J" in last_error
            assert not any(char in last_error for char in RAW)
            # A row stored before errors were cleaned: doctor must still print it inert.
            [key] = cooldowns
            await store.save_cooldown(key, 1, _until, f"server: old {HOSTILE} row")
        finally:
            await services.aclose()
        doctor = cli_bytes(["doctor"], xdg_env)
    assert doctor.returncode == 0, doctor.stderr
    text = assert_no_raw_controls(doctor.stdout, "doctor")
    assert "(last error: server: old ␛[2J␛]52;c;cHduZWQ=␇␍X\\x9b31m row)" in text
    markdown = cli_bytes(["export", str(session_id)], xdg_env)
    assert_no_raw_controls(markdown.stdout, "export md")


# --- the timeline's words for a skipped tier -----------------------------------------------


def test_event_line_says_why_a_tier_was_skipped() -> None:
    skipped = {"kind": "TierFailed", "tier": 2, "model": "arcee-ai/trinity-mini:free",
               "endpoint": "", "fault": "unavailable", "skipped": True,
               "error": "key missing: set OPENROUTER_API_KEY"}
    assert event_line(skipped) == ("tier 2 (arcee-ai/trinity-mini:free) skipped: "
                                   "key missing: set OPENROUTER_API_KEY")
    failed = {**skipped, "skipped": False, "fault": "rate_limit", "error": "HTTP 429"}
    assert event_line(failed) == "tier 2 (arcee-ai/trinity-mini:free) failed: rate_limit"
    hostile = {**failed, "model": f"m{HOSTILE}"}
    assert "\x1b" not in (event_line(hostile) or "")


async def test_export_timeline_of_a_session_that_skipped_a_keyless_tier(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider("x", fail_after=0, error="model crashed"))
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send("hi")]
        assert any(isinstance(e, TierFailed) and e.skipped for e in events)
        markdown = to_markdown(await session_data(services.store, session.session_id))
    finally:
        await services.aclose()
    model = services.config.tier(2).endpoints[0].model
    assert f"tier 2 ({model}) skipped: key missing: set OPENROUTER_API_KEY" in markdown
    assert "failed: unavailable" not in markdown


def test_a_hostile_skill_file_is_inert_in_the_skills_commands(xdg_env) -> None:
    """Skills come from public collections: their front matter and body are untrusted."""
    folder = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "skills" / "evil-skill"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: evil-skill\ndescription: \"Deploy helper\\e]52;c;cHduZWQ=\\a\\e[2J "
        "for staging\"\n---\n# Body\n" + HOSTILE + "\n", encoding="utf-8")
    for args in (["skills", "list"], ["skills", "list", "--json"],
                 ["skills", "show", "evil-skill"], ["skills", "match", "/evil-skill deploy it"]):
        result = cli_bytes(args, xdg_env)
        assert result.returncode == 0, result.stderr
        text = assert_no_raw_controls(result.stdout, " ".join(args))
        assert_no_raw_controls(result.stderr, " ".join(args))
        assert "evil-skill" in text
        if "--json" in args:
            [row] = [r for r in json.loads(text)["skills"] if r["name"] == "evil-skill"]
            assert "\x1b]52;c;" in row["description"]  # kept as data, escaped on output
