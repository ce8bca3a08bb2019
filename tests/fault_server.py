"""A real OpenAI-compatible HTTP server on 127.0.0.1 that misbehaves on purpose.

The router is tested over real sockets with the real SDK, so faults must look on
the wire as they do in production: status codes with rate-limit headers, chunked
SSE bodies cut mid-stream, hangs, invalid JSON. Stdlib only (asyncio streams and
hand-written HTTP/1.1); loopback only; it stops itself after `lifetime_s`.

The mode is chosen per model id: an entry in `modes`, else the id's first path
segment when it names a mode ("server_error/2" → server_error), else `default_mode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MODES = ("ok", "rate_limit", "server_error", "hang", "stall", "drop_mid_stream", "malformed",
         "no_usage", "not_found", "empty", "zero_usage", "drip", "escape_text",
         "escape_error", "echo_key", "ratelimit_headers")
#: Terminal escapes a hostile model or provider might send: clear screen, an OSC 52
#: clipboard write, a bare CR and a C1 CSI byte.
HOSTILE = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\rX\x9b31m"
MAX_BODY = 1_000_000
READ_TIMEOUT_S = 5.0


@dataclass
class FaultServer:
    """`async with FaultServer() as server:` then point endpoints at `server.url`."""

    default_mode: str = "ok"
    modes: dict[str, str] = field(default_factory=dict)
    chunks: int = 3
    retry_after: str | None = "30"  # Retry-After header value for rate_limit
    ratelimit_reset_ms: int | None = None  # X-RateLimit-Reset (epoch ms); None → now + 60 s
    cost: float | None = None  # usage.cost in the final chunk (OpenRouter style)
    #: ratelimit_headers: an ok stream whose 200 carries X-RateLimit-* (limit, remaining;
    #: the reset is ratelimit_reset_ms, else next UTC midnight in epoch ms)
    ratelimit_limit: int = 50
    ratelimit_remaining: int = 37
    hang_s: float = 10.0  # how long hang/stall keep the socket open, silent
    drip_interval_s: float = 0.2  # drip: one token this often, below any stall timeout
    drip_count: int = 100_000  # drip: how many tokens before it ends (normally never)
    lifetime_s: float = 120.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)  # lower-cased names
    counts: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _watchdog: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def mode_for(self, model: str) -> str:
        if model in self.modes:
            return self.modes[model]
        head = model.split("/", 1)[0]
        return head if head in MODES else self.default_mode

    @staticmethod
    def answer(model: str, chunks: int = 3) -> list[str]:
        """The text fragments an ok stream sends for `model` (tests compare with it)."""
        return [f"[{model}]"] + [f" part{i}" for i in range(1, chunks)]

    async def __aenter__(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._watchdog = asyncio.create_task(self._expire())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _expire(self) -> None:
        await asyncio.sleep(self.lifetime_s)
        await self.close()

    async def close(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()

    # --- HTTP --------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        length = min(int(headers.get("content-length", "0")), MAX_BODY)
        body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT_S)
        if method != "POST" or not path.endswith("/chat/completions"):
            await self._json(writer, 404, {"error": {"message": f"no route {path}"}})
            return
        request = json.loads(body or b"{}")
        model = str(request.get("model", ""))
        self.requests.append(request)
        self.headers_seen.append(headers)
        self.counts[model] += 1
        await self._respond(self.mode_for(model), model, writer, headers)

    async def _respond(self, mode: str, model: str, writer: asyncio.StreamWriter,
                       headers: dict[str, str] | None = None) -> None:
        if mode == "echo_key":  # some providers quote the Authorization header back
            auth = (headers or {}).get("authorization", "")
            await self._json(writer, 401, {"error": {
                "message": f"Invalid credentials: {auth!r} was not accepted", "code": 401}})
        elif mode == "escape_error":
            await self._json(writer, 500, {"error": {"message": f"upstream{HOSTILE} failed",
                                                     "code": 500}})
        elif mode == "rate_limit":
            reset = self.ratelimit_reset_ms or int((time.time() + 60) * 1000)
            extra = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0",
                     "X-RateLimit-Reset": str(reset)}
            if self.retry_after is not None:
                extra["Retry-After"] = self.retry_after
            await self._json(writer, 429, {"error": {
                "message": "Rate limit exceeded: free-models-per-min", "code": 429}}, extra)
        elif mode == "server_error":
            await self._json(writer, 500, {"error": {"message": "Internal Server Error",
                                                     "code": 500}})
        elif mode == "not_found":
            await self._json(writer, 404, {"error": {
                "message": f"No endpoints found for {model}.", "code": 404}})
        elif mode == "hang":
            await asyncio.sleep(self.hang_s)
        else:
            await self._sse(mode, model, writer)

    async def _sse(self, mode: str, model: str, writer: asyncio.StreamWriter) -> None:
        extra = b""
        if mode == "ratelimit_headers":
            reset = self.ratelimit_reset_ms or int((time.time() // 86_400 + 1) * 86_400_000)
            extra = (f"X-RateLimit-Limit: {self.ratelimit_limit}\r\n"
                     f"X-RateLimit-Remaining: {self.ratelimit_remaining}\r\n"
                     f"X-RateLimit-Reset: {reset}\r\n").encode()
            mode = "ok"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
                     + extra + b"Connection: close\r\n\r\n")
        if mode == "drip":  # a token every drip_interval_s: never stalls, never ends
            for i in range(self.drip_count):
                await self._event(writer, _chunk(model, {"content": f" w{i}"}))
                await asyncio.sleep(self.drip_interval_s)
            mode = "ok"
            parts: list[str] = []
        else:
            parts = self.answer(model, self.chunks)
        if mode == "escape_text":
            parts = [f"[{model}]", HOSTILE, " done"]
            mode = "ok"
        if mode in ("empty", "zero_usage"):
            parts = []
        elif mode in ("drop_mid_stream", "stall", "malformed"):
            parts = parts[: 2 if mode == "drop_mid_stream" else 1]
        for part in parts:
            await self._event(writer, _chunk(model, {"role": "assistant", "content": part}))
        if mode == "drop_mid_stream":
            writer.transport.abort()  # no terminating chunk: an incomplete body
            return
        if mode == "stall":
            await asyncio.sleep(self.hang_s)
            return
        if mode == "malformed":
            await self._event(writer, '{"id": "x", "choices": [{"delta": {"content": "broken')
        if mode == "ok":
            await self._event(writer, _chunk(model, {}, finish="stop"))
        if mode in ("ok", "zero_usage", "malformed"):
            completion = 0 if mode == "zero_usage" else len(parts)
            usage: dict[str, Any] = {"prompt_tokens": 7, "completion_tokens": completion,
                                     "total_tokens": 7 + completion}
            if self.cost is not None:
                usage["cost"] = self.cost
            await self._event(writer, json.dumps({
                "id": "chatcmpl-fault", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model, "choices": [], "usage": usage}))
        await self._event(writer, "[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    async def _event(writer: asyncio.StreamWriter, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        await writer.drain()

    @staticmethod
    async def _json(writer: asyncio.StreamWriter, status: int, body: dict[str, Any],
                    extra: dict[str, str] | None = None) -> None:
        reason = {404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error"}.get(status, "Error")
        data = json.dumps(body).encode()
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", "Connection: close",
                *(f"{k}: {v}" for k, v in (extra or {}).items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({
        "id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


class ServerThread:
    """A FaultServer on its own event loop in a background thread, for tests that block
    (a `tokenopt` subprocess, a Pilot app): `with ServerThread(default_mode="drip") as s:`
    then `s.url`; `s.server` is the FaultServer (its requests and counts)."""

    def __init__(self, **options: Any) -> None:
        self.server = FaultServer(**options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: Any = None

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> ServerThread:
        import threading

        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.server.__aenter__())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.server.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
