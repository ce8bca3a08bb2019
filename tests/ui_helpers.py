"""Helpers for the UI tests: a scriptable provider, real services in a temp dir, waits.

The services are the real ones (make_services + SQLite in tmp_path); only the
model behind tier 1 is replaced, through `services.set_provider`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from textual.pilot import Pilot

from tokenopt_tui.config import load_config
from tokenopt_tui.core.events import Event, ModelPreparing
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
from tokenopt_tui.paths import Paths
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.wiring import Services, make_services


class FakeProvider:
    """Implements the Provider protocol with a canned reply.

    `delay` is the pause before each chunk; `fail_after` raises ProviderError once
    that many characters were sent (0 = before the first); `prep_stages` are
    (stage, total) pairs yielded as ModelPreparing by the first `prepare()`; with a
    `prep_gate`, preparation pauses after its first step until the gate is set.
    """

    kind = "fake"

    def __init__(self, reply: str = "Hello **world**, from the fake model.", *,
                 chunk_size: int = 4, delay: float = 0.0, fail_after: int | None = None,
                 error: str = "connection refused", model: str = "fake-model",
                 endpoint: str = "http://127.0.0.1:9/v1",
                 prep_stages: Sequence[tuple[str, int]] = (),
                 prep_gate: asyncio.Event | None = None) -> None:
        self.reply = reply
        self.chunk_size = chunk_size
        self.delay = delay
        self.fail_after = fail_after
        self.error = error
        self.model = model
        self.endpoint = endpoint
        self.prep_stages = tuple(prep_stages)
        self.prep_gate = prep_gate
        self.prepared = False
        self.sent = 0
        self.calls: list[list[ChatMessage]] = []
        self._lock = asyncio.Lock()

    def availability(self) -> tuple[bool, str]:
        return True, "ready"

    async def prepare(self) -> AsyncIterator[ModelPreparing]:
        async with self._lock:
            if self.prepared:
                return
            steps = [(stage, done, total) for stage, total in self.prep_stages
                     for done in range(total + 1)]
            for index, (stage, done, total) in enumerate(steps):
                if index == 1 and self.prep_gate is not None:
                    await self.prep_gate.wait()
                yield ModelPreparing(stage, done, total)
                await asyncio.sleep(0)
            self.prepared = True

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        self.calls.append(list(messages))
        chunks = 0
        for start in range(0, len(self.reply), self.chunk_size):
            if self.fail_after is not None and start >= self.fail_after:
                raise ProviderError(self.error, self.endpoint)
            await asyncio.sleep(self.delay)
            chunk = self.reply[start:start + self.chunk_size]
            self.sent += len(chunk)
            chunks += 1
            yield chunk
        if self.fail_after is not None:
            raise ProviderError(self.error, self.endpoint)
        prompt = sum(len(m.content) for m in messages) // 4 + 1
        yield Usage(prompt_tokens=prompt, completion_tokens=chunks)


def temp_paths(root: Path) -> Paths:
    """Config, data and cache folders all inside `root`."""
    return Paths(config_file=root / "config" / "config.toml", data_dir=root / "data",
                 cache_dir=root / "cache")


def build_services(root: Path, provider: FakeProvider | None = None, *,
                   db_path: Path | None = None, skills: bool = False) -> Services:
    """Real services on a temp dir, with `provider` (default FakeProvider) as tier 1.

    Skills are off unless asked for, so a request's messages are exactly the chat's."""
    paths = temp_paths(root)
    config = load_config(paths, env={})
    config = dataclasses.replace(config, skills=dataclasses.replace(config.skills,
                                                                    enabled=skills))
    if db_path is not None:
        config = dataclasses.replace(config, db_path=db_path)
    services = make_services(config, paths, env={})
    services.set_provider(1, provider or FakeProvider())
    return services


_SVG_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?'
                       r'clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>')


def screen_text(svg: str) -> str:
    """The characters on screen, line by line, from `App.export_screenshot()`.

    Styled runs are separate SVG <text> elements placed by pixel offset; putting
    each back at its column gives what a user reads (SVG escapes undone).
    """
    lines: dict[int, dict[int, str]] = {}
    for x, length, number, raw in _SVG_TEXT.findall(svg):
        text = html.unescape(raw).replace("\xa0", " ")
        cell = float(length) / max(len(text), 1)
        lines.setdefault(int(number), {})[round(float(x) / cell)] = text
    rendered = []
    for number in sorted(lines):
        row = ""
        for column, text in sorted(lines[number].items()):
            row = row.ljust(column) + text
        rendered.append(row.rstrip())
    return "\n".join(rendered)


async def wait_until(pilot: Pilot, predicate: Callable[[], object], *, timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Let the app run until `predicate()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.01)


async def wait_idle(pilot: Pilot, *, timeout: float = 10.0) -> None:
    """Wait until no worker of the app is running, then let the screen settle."""
    app = pilot.app
    await wait_until(pilot, lambda: all(w.is_finished for w in app.workers),
                     timeout=timeout, what="workers to finish")
    await pilot.pause()


async def play_events(pilot: Pilot, events: Sequence[Event]) -> None:
    """Render `events` through the chat's reply path, as a reply worker would."""
    app = pilot.app

    async def stream() -> AsyncIterator[Event]:
        for event in events:
            yield event
            await asyncio.sleep(0)

    worker = app.run_worker(app.chat.play_reply(app.session, stream()), group="reply",
                            exclusive=True, exit_on_error=False)
    await worker.wait()
    await pilot.pause()


async def ready(pilot) -> TokenoptApp:
    """Wait until the session is open and the prompt accepts input."""
    app = pilot.app
    await wait_until(pilot, lambda: app.session is not None and not app.chat.prompt.disabled,
                     what="the session to open")
    await wait_idle(pilot)
    return app


async def send(pilot, text: str, timeout: float = 10.0) -> None:
    """Type `text` into the prompt and press Enter, then wait for the reply to end."""
    app = pilot.app
    app.chat.prompt.value = text
    app.chat.prompt.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.chat.status.state in ("done", "interrupted", "failed")
                     and not app.chat.replying, what="the reply to end", timeout=timeout)
    await wait_idle(pilot, timeout=timeout)
