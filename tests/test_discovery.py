"""Local server discovery: a real mlx_lm.server is found, doctor lists it, the chat offers it."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import free_port, loopback_tiers, run_cli, write_config
from ui_helpers import build_services, ready, temp_paths, wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.core.providers.discovery import (
    DEFAULT_PORTS,
    PORTS_ENV,
    LocalServer,
    discover,
    parse_models,
    ports_from_env,
)
from tokenopt_tui.ui.app import LocalServerFinder, TokenoptApp
from tokenopt_tui.ui.screens.dialogs import LocalServerScreen

SIZE = (120, 40)
HOSTILE_ID = "evil\x1b[2J\x1b]52;c;cHduZWQ=\x07\r\x9b31m-model"


def _port(url: str) -> int:
    port = urlparse(url).port
    assert port is not None
    return port


# -- a real server --------------------------------------------------------------------

async def test_a_real_mlx_lm_server_is_found_with_its_model(
        mlx_server: str, prepared_model: Path) -> None:
    closed = free_port()  # nothing listens there
    servers = await discover([(closed, "nobody"), (_port(mlx_server), "mlx_lm.server")])
    assert [s.base_url for s in servers] == [mlx_server]
    assert str(prepared_model.resolve()) in servers[0].models
    assert servers[0].name == "mlx_lm.server"


def test_doctor_lists_a_real_local_server_and_the_config_to_use_it(
        xdg_env: dict[str, str], mlx_server: str, prepared_model: Path) -> None:
    env = {**xdg_env, PORTS_ENV: f"{free_port()},{_port(mlx_server)}"}
    result = run_cli(["doctor"], env, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    section = out[out.index("local servers"):]
    model = str(prepared_model.resolve())
    assert f"at {mlx_server}: {model}" in section
    assert "[[local_servers]]" in section
    assert f'base_url = "{mlx_server}"' in section and f'model = "{model}"' in section
    # The snippet is real config: pasted into the file, tier 1 gains the endpoint.
    snippet = "\n".join(line.strip() for line in section.splitlines()
                        if line.strip().startswith(("[[local_servers]]", "base_url", "model")))
    write_config(xdg_env, snippet + "\n")
    config = run_cli(["doctor"], env, timeout=60)
    assert config.returncode == 0, config.stderr
    assert "in the chain already" in config.stdout
    # Once configured, doctor's tier list shows it as tier 1's second endpoint.
    tiers = config.stdout[config.stdout.index("tiers:"):config.stdout.index("local servers")]
    lines = tiers.splitlines()
    assert lines[1].lstrip().startswith("1 local") and model[:30] in lines[2]


def test_doctor_says_when_no_server_is_found(xdg_env: dict[str, str]) -> None:
    port = free_port()
    result = run_cli(["doctor"], {**xdg_env, PORTS_ENV: str(port)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"local servers (GET /v1/models on 127.0.0.1 ports {port}):\n  none found" \
        in result.stdout


# -- servers that answer oddly --------------------------------------------------------

@asynccontextmanager
async def canned_server(response: bytes, *, hang: bool = False) -> AsyncIterator[int]:
    """A loopback server that reads a request and answers `response` (or never)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if hang:
            await asyncio.sleep(30)
        writer.write(response)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _http(status: str, body: bytes) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\r\n".encode() + body


async def test_answers_are_read_as_untrusted() -> None:
    models = json.dumps({"object": "list", "data": [
        {"id": "llama3", "owned_by": "library"}, {"id": 5}, "junk", {"id": "llama3"},
        {"id": "qwen"}]}).encode()
    async with (canned_server(_http("200 OK", models)) as ollama,
                canned_server(_http("200 OK", b"")) as empty,
                canned_server(_http("404 Not Found", b"{}")) as missing,
                canned_server(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as not_http,
                canned_server(_http("200 OK", b"x" * 2_000_000)) as huge):
        found = await discover([(ollama, "LM Studio"), (empty, "vLLM"), (missing, "a"),
                                (not_http, "b"), (huge, "c")])
    assert [(s.name, s.models) for s in found] == [
        ("Ollama", ("llama3", "qwen")),  # named by owned_by; bad items skipped, no repeat
        ("vLLM", ()),  # a 200 without a list: a server whose model must be named by hand
    ]
    assert parse_models(b"not json") is None and parse_models(b"[1]") is None


async def test_probes_run_at_once_and_give_up_quickly() -> None:
    async with (canned_server(b"", hang=True) as one, canned_server(b"", hang=True) as two,
                canned_server(b"", hang=True) as three):
        started = time.monotonic()
        found = await discover([(one, "a"), (two, "b"), (three, "c"), (free_port(), "d")],
                               answer_timeout=0.3)
        elapsed = time.monotonic() - started
    assert found == []
    assert elapsed < 0.8  # concurrent: about one timeout, not four


def test_ports_come_from_the_environment_variable_when_set() -> None:
    assert ports_from_env({}) == DEFAULT_PORTS
    assert [p for p, _ in DEFAULT_PORTS] == [11434, 1234, 8080, 8000]
    assert ports_from_env({PORTS_ENV: "8080, 9999"}) == (
        (8080, "llama.cpp or mlx_lm.server"), (9999, "OpenAI-compatible server"))
    assert ports_from_env({PORTS_ENV: "off"}) == ()
    with pytest.raises(ValueError, match=f"{PORTS_ENV}: 'http' is not a port"):
        ports_from_env({PORTS_ENV: "8080,http"})


async def test_doctor_shows_hostile_model_names_safely(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tokenopt_tui.cli.doctor import doctor

    body = json.dumps({"data": [{"id": HOSTILE_ID}]}).encode()
    async with canned_server(_http("200 OK", body)) as port:
        monkeypatch.setenv(PORTS_ENV, str(port))
        paths = temp_paths(tmp_path)
        out = io.StringIO()
        assert await doctor(load_config(paths, {}), paths, out) == 0
    text = out.getvalue()
    section = text[text.index("local servers"):]
    assert "evil" in section and "-model" in section
    assert not any(c in section for c in "\x1b\x07\r\x9b")


# -- the first-start offer in the chat ------------------------------------------------

def finder(*servers: LocalServer) -> tuple[list[int], LocalServerFinder]:
    calls: list[int] = []

    async def find() -> list[LocalServer]:
        calls.append(1)
        return list(servers)

    return calls, find


FOUND = LocalServer("mlx_lm.server", "http://127.0.0.1:8080/v1", ("qwen3-4b", "other"))


async def _offer(pilot) -> LocalServerScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, LocalServerScreen),
                     what="the local server offer")
    await pilot.pause()
    return app.screen


async def test_first_start_offers_a_found_server_and_enter_saves_it(tmp_path: Path) -> None:
    paths = temp_paths(tmp_path)
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text('theme = "tokenopt-light"\n')
    calls, find = finder(FOUND)
    app = TokenoptApp(build_services(tmp_path), find_local_servers=find)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _offer(pilot)
        text = str(screen.query_one("#local-server-text").render())
        assert "Found mlx_lm.server at http://127.0.0.1:8080/v1 (model qwen3-4b)" in text
        assert "Use it as a tier?" in text and "from the next start" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, LocalServerScreen),
                         what="the offer to close")
        await wait_idle(pilot)
    assert calls == [1]
    saved = paths.config_file.read_text()
    assert saved.startswith('theme = "tokenopt-light"\n')  # the user's file is kept
    config = load_config(paths, {})
    assert config.theme == "tokenopt-light"
    endpoints = config.tiers[0].endpoints
    assert endpoints[0].model == "embedded"  # the embedded model stays the default
    assert (endpoints[-1].kind, endpoints[-1].base_url, endpoints[-1].model) == (
        "openai", "http://127.0.0.1:8080/v1", "qwen3-4b")


async def test_esc_declines_and_writes_nothing(tmp_path: Path) -> None:
    paths = temp_paths(tmp_path)
    _calls, find = finder(FOUND)
    app = TokenoptApp(build_services(tmp_path), find_local_servers=find)
    async with app.run_test(size=SIZE) as pilot:
        await _offer(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LocalServerScreen),
                         what="the offer to close")
        await wait_idle(pilot)
        assert app.is_running
    assert not paths.config_file.exists()


async def test_the_offer_is_made_at_first_start_only(tmp_path: Path) -> None:
    first = TokenoptApp(build_services(tmp_path))  # creates the database
    async with first.run_test(size=SIZE) as pilot:
        await ready(pilot)
    calls, find = finder(FOUND)
    again = TokenoptApp(build_services(tmp_path), find_local_servers=find)
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause(0.2)
        assert not isinstance(again.screen, LocalServerScreen)
    assert calls == []


async def test_a_server_already_configured_is_not_offered(tmp_path: Path) -> None:
    paths = temp_paths(tmp_path)
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(loopback_tiers(FOUND.base_url, FOUND.models[0]))
    calls, find = finder(FOUND)
    app = TokenoptApp(build_services(tmp_path), find_local_servers=find)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: calls == [1], what="discovery")
        await wait_idle(pilot)
        assert not isinstance(app.screen, LocalServerScreen)
