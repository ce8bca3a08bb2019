"""The fault server itself, read with a raw socket: its faults must be real on the wire."""

from __future__ import annotations

import asyncio
import json

from fault_server import FaultServer


async def raw_post(server: FaultServer, model: str, timeout: float = 2.0) -> bytes:
    """POST a chat request and read until the server closes (or `timeout`)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = json.dumps({"model": model, "stream": True, "messages": []}).encode()
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), timeout)
    except TimeoutError:
        return b"<timeout>"
    finally:
        writer.close()


async def test_ok_stream_is_chunked_sse_with_usage_and_done() -> None:
    async with FaultServer(cost=0.5) as server:
        raw = await raw_post(server, "ok/x")
    assert raw.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in raw
    assert b'"content": "[ok/x]"' in raw and b'"cost": 0.5' in raw
    assert raw.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
    assert server.counts == {"ok/x": 1} and server.requests[0]["model"] == "ok/x"


async def test_rate_limit_carries_both_headers() -> None:
    async with FaultServer(retry_after="7", ratelimit_reset_ms=1_900_000_000_000) as server:
        raw = await raw_post(server, "rate_limit/x")
    assert raw.startswith(b"HTTP/1.1 429")
    assert b"Retry-After: 7\r\n" in raw and b"X-RateLimit-Reset: 1900000000000\r\n" in raw


async def test_drop_mid_stream_leaves_the_chunked_body_unterminated() -> None:
    async with FaultServer() as server:
        raw = await raw_post(server, "drop_mid_stream/x")
    assert b"part1" in raw and b"part2" not in raw and not raw.endswith(b"0\r\n\r\n")


async def test_modes_by_table_and_error_statuses() -> None:
    async with FaultServer(modes={"plain-name": "server_error"}) as server:
        assert (await raw_post(server, "plain-name")).startswith(b"HTTP/1.1 500")
        assert (await raw_post(server, "not_found/x")).startswith(b"HTTP/1.1 404")
        assert b"[DONE]" in await raw_post(server, "empty/x")
        assert b"broken" in await raw_post(server, "malformed/x")


async def test_hang_sends_nothing_and_the_server_stops_by_itself() -> None:
    server = FaultServer(hang_s=30, lifetime_s=0.5)
    async with server:
        assert await raw_post(server, "hang/x", timeout=0.2) == b"<timeout>"
        await asyncio.sleep(0.8)  # past lifetime_s: closed, hanging handlers cancelled
        assert server._server is None and not server._tasks
