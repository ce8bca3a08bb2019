"""Find OpenAI-compatible servers already running on this machine's usual ports.

A short `GET /v1/models` on 127.0.0.1 per port, all at once, over asyncio streams:
nothing here blocks an event loop. Connecting gets 0.3 s (a free loopback port
refuses at once); a server that accepted gets longer to answer, because a cold
mlx_lm.server took 2.2 s over its first /v1/models (measured here, 2 cores). What a server
reports (its model ids) is untrusted text: callers make it safe before showing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenopt_tui.config import Config
from tokenopt_tui.config_edit import local_server_snippet
from tokenopt_tui.core.text import terminal_safe

#: The ports local servers listen on by default, and who usually listens there.
DEFAULT_PORTS: tuple[tuple[int, str], ...] = (
    (11434, "Ollama"),
    (1234, "LM Studio"),
    (8080, "llama.cpp or mlx_lm.server"),
    (8000, "vLLM"),
)
#: Overrides the ports tried (comma-separated, or "off"); for tests and unusual set-ups.
PORTS_ENV = "TOKENOPT_DISCOVERY_PORTS"
HOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 0.3
ANSWER_TIMEOUT_S = 3.0
#: A model list larger than this is not a local server's (or is hostile): stop reading.
MAX_BODY = 1_000_000
MAX_MODELS = 50
MAX_ID_CHARS = 300

#: What `owned_by` says about the server behind a port that several servers use.
_OWNERS = {"llamacpp": "llama.cpp", "vllm": "vLLM", "library": "Ollama"}


@dataclass(frozen=True)
class LocalServer:
    """One server that answered; `models` as it listed them (possibly none)."""

    name: str
    base_url: str
    models: tuple[str, ...]


def ports_from_env(env: Mapping[str, str]) -> tuple[tuple[int, str], ...]:
    """The ports to try: `TOKENOPT_DISCOVERY_PORTS` if set, else the usual ones.

    Raises ValueError naming the variable when it holds something other than ports.
    """
    text = env.get(PORTS_ENV)
    if text is None:
        return DEFAULT_PORTS
    if text.strip().lower() in ("", "off", "none"):
        return ()
    known = dict(DEFAULT_PORTS)
    ports = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 < int(part) < 65536:
            raise ValueError(f"environment variable {PORTS_ENV}: {part!r} is not a port "
                             "(expected e.g. 8080,11434, or off)")
        port = int(part)
        ports.append((port, known.get(port, "OpenAI-compatible server")))
    return tuple(ports)


def parse_models(body: bytes) -> tuple[tuple[str, ...], str | None] | None:
    """Model ids and the first `owned_by` from a /v1/models body; None if not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    ids: list[str] = []
    owner = None
    for item in data["data"]:
        if not isinstance(item, dict):
            continue
        model = item.get("id")
        if isinstance(model, str) and model.strip() and model not in ids:
            ids.append(model[:MAX_ID_CHARS])
        if owner is None and isinstance(item.get("owned_by"), str):
            owner = item["owned_by"]
        if len(ids) >= MAX_MODELS:
            break
    return tuple(ids), owner


async def _get(host: str, port: int, path: str, connect_timeout: float,
               answer_timeout: float) -> tuple[int, bytes] | None:
    """A plain HTTP/1.0 GET over asyncio streams: (status, body), None if unusable.

    HTTP/1.0 with `Connection: close` means no chunked encoding and a body that ends
    when the server closes: enough for one small JSON document on loopback, with no
    HTTP client dependency.
    """
    async with asyncio.timeout(connect_timeout):
        reader, writer = await asyncio.open_connection(host, port)
    try:
        async with asyncio.timeout(answer_timeout):
            data = await _exchange(reader, writer, host, port, path)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if len(data) > MAX_BODY:
        return None
    head, separator, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if not separator or len(status) < 2 or not status[0].startswith(b"HTTP/"):
        return None
    if not status[1].isdigit():
        return None
    return int(status[1]), body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                    port: int, path: str) -> bytes:
    """Send the request; read the answer until the server closes (or MAX_BODY + 1)."""
    writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
                 "Accept: application/json\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read(MAX_BODY + 1)
    while len(data) <= MAX_BODY:
        more = await reader.read(MAX_BODY + 1 - len(data))
        if not more:
            break
        data += more
    return data


async def probe(port: int, name: str, *, host: str = HOST,
                connect_timeout: float = CONNECT_TIMEOUT_S,
                answer_timeout: float = ANSWER_TIMEOUT_S) -> LocalServer | None:
    """The server on `port` if it answers /v1/models like an OpenAI-compatible one.

    A 200 with a body that lists no model still counts (mlx_lm.server answers so when
    it has no hub cache to scan): the server is there, its model must be named by hand.
    """
    try:
        answer = await _get(host, port, "/v1/models", connect_timeout, answer_timeout)
    except (TimeoutError, OSError):
        return None
    if answer is None or answer[0] != 200:
        return None
    parsed = parse_models(answer[1])
    models, owner = parsed if parsed is not None else ((), None)
    return LocalServer(_OWNERS.get(owner or "", name), f"http://{host}:{port}/v1", models)


async def discover(ports: Sequence[tuple[int, str]] = DEFAULT_PORTS, *, host: str = HOST,
                   connect_timeout: float = CONNECT_TIMEOUT_S,
                   answer_timeout: float = ANSWER_TIMEOUT_S) -> list[LocalServer]:
    """Every server found on `ports`, probed concurrently, in the order of `ports`."""
    found = await asyncio.gather(*(probe(port, name, host=host,
                                         connect_timeout=connect_timeout,
                                         answer_timeout=answer_timeout)
                                   for port, name in ports))
    return [server for server in found if server is not None]


async def doctor_section(config: Config, env: Mapping[str, str], config_file: Path) -> list[str]:
    """`tokenopt doctor`'s "local servers" lines: each server found, its models, and the
    config text that makes it tier 1's fallback (or that it is in the chain already)."""
    try:
        ports = ports_from_env(env)
    except ValueError as exc:
        return [f"local servers: {exc}"]
    if not ports:
        return [f"local servers: not looked for ({PORTS_ENV} is off)"]
    listed = ", ".join(str(port) for port, _name in ports)
    lines = [f"local servers (GET /v1/models on {HOST} ports {listed}):"]
    servers = await discover(ports)
    if not servers:
        lines.append("  none found")
    known = {((e.base_url or "").rstrip("/").lower(), e.model)
             for tier in config.tiers for e in tier.endpoints}
    for server in servers:
        models = ", ".join(terminal_safe(m) for m in server.models) or "(lists no model)"
        lines.append(f"  {terminal_safe(server.name)} at {server.base_url}: {models}")
        model = server.models[0] if server.models else "MODEL-NAME"
        if (server.base_url.lower(), model) in known:
            lines.append("    in the chain already")
            continue
        lines.append(f"    to add it to tier 1 (after its own endpoints), put in {config_file}:")
        snippet = local_server_snippet(server.base_url, model)
        lines.extend(f"      {terminal_safe(line)}" for line in snippet.splitlines())
    return lines
