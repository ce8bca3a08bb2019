"""The swarm cycle in the chat (issue 16 item 4): /swarm streams each phase into its own
collapsible part, Esc cancels and keeps the parts, model text is shown literally, the
budget meter shows the reservation, and history and exports show the cycle as one unit.

Real Textual app (Pilot), real services and SQLite; the cycle is scripted here (a fake
with `run()` and `cancel()`, as core/swarm/cycle.py offers) so the view is tested on
exact event sequences.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from textual.widgets import TextArea
from ui_helpers import FakeProvider, build_services, ready, screen_text, wait_idle, wait_until

from tokenopt_tui.core.events import (
    Event,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPhaseToken,
    SwarmPlanned,
)
from tokenopt_tui.core.reporting.export import session_data, to_json, to_markdown
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.history import SessionViewScreen
from tokenopt_tui.ui.widgets.message import ErrorMessage, NoticeMessage
from tokenopt_tui.ui.widgets.swarm import SwarmPart, SwarmView

SIZE = (120, 40)
HOSTILE = "Use [bold]x[/] here \x1b[31mred\x1b[0m and [link=http://e.vil]y[/link]."


def plan(swarm_id: int = 1, task: str = "write a backup script") -> SwarmPlanned:
    return SwarmPlanned(swarm_id, task, 9_000, 2_700, 4_050, 2_250,
                        "3 roles ≈ 9k tokens, free tiers")


def phase(role: str, agent: str, tier: int, text: str, tokens: int, verdict: str,
          attempt: int = 1, reasons: str = "") -> list[Event]:
    """A whole phase: start, its text in small fragments, its end."""
    events: list[Event] = [SwarmPhaseStarted(1, role, attempt, agent, tier,  # type: ignore[arg-type]
                                             100 + attempt, 3_000)]
    events += [SwarmPhaseToken(1, role, attempt, text[i:i + 5])  # type: ignore[arg-type]
               for i in range(0, len(text), 5)]
    events.append(SwarmPhaseEnded(1, role, attempt, agent, tier,  # type: ignore[arg-type]
                                  tokens, 0.0, verdict, reasons))  # type: ignore[arg-type]
    return events


def full_cycle() -> list[Event]:
    return [plan(),
            *phase("explorer", "analyst", 1, "Option A: rsync. Option B: tar.", 310, "done"),
            *phase("worker", "devops", 1, "```sh\nrsync -a ~/notes /backup\n```", 420, "done"),
            *phase("validator", "analyst", 1, "PASS: the command parses.", 60, "pass"),
            SwarmEnded(1, "pass", 9_000, 790, 1, "rsync -a ~/notes /backup")]


class ScriptedCycle:
    """A swarm cycle that yields `events`; with `gate`, it waits after the plan; with
    `endless`, the last phase streams until cancel() and then ends as cancelled (unless
    `ignore_cancel`, a cycle that never stops by itself)."""

    def __init__(self, events: Sequence[Event], *, gate: asyncio.Event | None = None,
                 endless: tuple[str, str, int] | None = None,
                 ignore_cancel: bool = False, store_in: tuple[object, int] | None = None
                 ) -> None:
        self.events = list(events)
        self.gate = gate
        self.endless = endless
        self.ignore_cancel = ignore_cancel
        self.store_in = store_in
        self.cancels = 0
        self.finished = False

    def cancel(self) -> None:
        self.cancels += 1

    async def _emit(self, event: Event) -> Event:
        if self.store_in is not None and event.persist:
            store, session_id = self.store_in
            await store.add_event(session_id, event.kind, event.stored_dict())  # type: ignore[attr-defined]
        return event

    async def run(self) -> AsyncIterator[Event]:
        try:
            for event in self.events:
                yield await self._emit(event)
                await asyncio.sleep(0)
                if isinstance(event, SwarmPlanned) and self.gate is not None:
                    await self.gate.wait()
            if self.endless is not None:
                role, agent, tier = self.endless
                yield await self._emit(SwarmPhaseStarted(1, role, 1, agent, tier, 102, 4_000))  # type: ignore[arg-type]
                while not self.cancels or self.ignore_cancel:
                    yield SwarmPhaseToken(1, role, 1, "step ")  # type: ignore[arg-type]
                    await asyncio.sleep(0.01)
                yield await self._emit(SwarmPhaseEnded(1, role, 1, agent, tier, 55, 0.0,  # type: ignore[arg-type]
                                                       "cancelled", "cancelled by the user"))
                yield await self._emit(SwarmEnded(1, "cancelled", 9_000, 365, 1, ""))
        finally:
            self.finished = True


def with_cycle(app: TokenoptApp, cycle: ScriptedCycle) -> list[str]:
    """Make /swarm use `cycle`; the tasks it was asked for are returned as they come."""
    tasks: list[str] = []

    def factory(_session: object, task: str) -> ScriptedCycle:
        tasks.append(task)
        return cycle

    app.swarm_factory = factory  # type: ignore[assignment]
    return tasks


async def swarm(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    app.chat.prompt.value = text
    app.chat.prompt.focus()
    await pilot.press("enter")


async def test_three_phases_render_as_parts_with_titles_and_verdicts(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(full_cycle())
        tasks = with_cycle(app, cycle)
        await swarm(pilot, "/swarm write a backup script")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)

        assert tasks == ["write a backup script"]
        view = app.chat.query_one(SwarmView)
        assert "3 roles ≈ 9k tokens, free tiers" in view.plan_text
        assert "reserved 9,000 tokens" in view.plan_text
        titles = [part.title_text for part in view.query(SwarmPart)]
        assert titles == [
            "explorer · analyst · T1 local · 310 tokens · done",
            "worker · devops · T1 local · 420 tokens · done",
            "validator · analyst · T1 local · 60 tokens · pass",
        ]
        parts = list(view.query(SwarmPart))
        assert parts[1].source == "```sh\nrsync -a ~/notes /backup\n```"
        assert not parts[1].collapsed  # the result is left open
        assert parts[0].collapsed  # earlier phases fold away as the next one starts
        assert view.summary_text == "pass · 790 of 9,000 reserved tokens used · 1 attempt"
        assert app.chat.status.state == "pass"
        shown = screen_text(app.export_screenshot())
        assert "validator · analyst · T1 local · 60 tokens · pass" in shown


async def test_a_retry_is_a_further_part(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    events = [plan(),
              *phase("explorer", "analyst", 1, "Options.", 100, "done"),
              *phase("worker", "devops", 1, "first try", 200, "done"),
              *phase("validator", "analyst", 1, "RETRY", 40, "retry", reasons="no shebang"),
              *phase("worker", "creator", 1, "second try", 210, "done", attempt=2),
              *phase("validator", "analyst", 1, "PASS", 30, "pass", attempt=2),
              SwarmEnded(1, "pass", 9_000, 580, 2, "second try")]
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(events)
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm do it")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)
        titles = [p.title_text for p in app.chat.query(SwarmPart)]
        assert len(titles) == 5
        assert titles[2] == "validator · analyst · T1 local · 40 tokens · retry"
        assert titles[3] == "worker · attempt 2 · creator · T1 local · 210 tokens · done"
        assert app.chat.query(SwarmPart)[2].has_class("-retry")


async def test_escape_cancels_the_cycle_and_keeps_the_parts(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    events = [plan(), *phase("explorer", "analyst", 1, "Option A, option B.", 310, "done")]
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(events, endless=("worker", "devops", 1))
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm write a long report")
        await wait_until(pilot, lambda: len(app.chat.query(SwarmPart)) == 2
                         and len(app.chat.query(SwarmPart)[1].source) >= 20,
                         what="the worker streaming")
        assert "reserved 9,000" in app.chat.budget_panel.figures
        await pilot.press("escape")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle to stop")
        await wait_idle(pilot)

        assert cycle.cancels == 1
        parts = list(app.chat.query(SwarmPart))
        assert [p.verdict for p in parts] == ["done", "cancelled"]
        assert parts[1].source.startswith("step step step")  # what it wrote is kept
        assert parts[1].has_class("-cancelled")
        view = app.chat.query_one(SwarmView)
        assert view.interrupted and view.verdict == "cancelled"
        assert "reserved" not in app.chat.budget_panel.figures  # settled


async def test_a_cycle_that_ignores_cancel_is_stopped_by_a_second_escape(
        tmp_path: Path) -> None:
    services = build_services(tmp_path)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle([plan()], endless=("explorer", "analyst", 1),
                              ignore_cancel=True)
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm anything")
        await wait_until(pilot, lambda: app.chat.query(SwarmPart)
                         and app.chat.query(SwarmPart)[0].source, what="streaming")
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert app.chat.replying and cycle.cancels == 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the worker to be cancelled")
        await wait_idle(pilot)
        [part] = app.chat.query(SwarmPart)
        assert part.verdict == "cancelled" and part.source  # kept, marked
        assert app.chat.query_one(SwarmView).summary_text.startswith("cancelled")


async def test_model_text_is_shown_literally(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    events = [plan(), *phase("explorer", "analyst[red]", 1, HOSTILE, 40, "done"),
              SwarmEnded(1, "failed", 9_000, 40, 1, "")]
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(events)
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm [bold]task[/]")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)
        part = app.chat.query_one(SwarmPart)
        assert "\x1b" not in part.source
        assert "[bold]x[/]" in part.source and "␛[31m" in part.source
        shown = screen_text(app.export_screenshot())
        assert "Use [bold]x[/] here ␛[31mred␛[0m" in shown
        assert "explorer · analyst[red] · T1 local" in shown
        assert "[bold]task[/]" in shown  # the task in the header, as typed


async def test_the_meter_shows_the_reservation_while_the_cycle_runs(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    gate = asyncio.Event()
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(full_cycle(), gate=gate)
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm write a backup script")
        panel = app.chat.budget_panel
        await wait_until(pilot, lambda: panel.reserved == 9_000, what="the reservation")
        assert "reserved 9,000" in panel.figures
        shown = screen_text(app.export_screenshot())
        assert "reserved 9,000" in shown
        assert "plan: 3 roles ≈ 9k tokens, free tiers" in shown  # before any phase ran
        assert not app.chat.query(SwarmPart)
        gate.set()
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)
        assert panel.reserved is None and "reserved" not in panel.figures
        session = app.session
        assert session is not None and panel.used == session.tokens_used


async def test_history_and_exports_show_the_cycle_as_one_unit(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    async with TokenoptApp(services).run_test(size=(140, 44)) as pilot:
        app = await ready(pilot)
        session = app.session
        assert session is not None
        cycle = ScriptedCycle(full_cycle(), store_in=(services.store, session.session_id))
        with_cycle(app, cycle)
        await swarm(pilot, "/swarm write a backup script")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)

        [row] = await services.store.history(session_ids=[session.session_id])
        await app.push_screen(SessionViewScreen(services, row))
        await wait_idle(pilot)
        timeline = app.screen.query_one("#timeline", TextArea).text
        unit = ('swarm #1 pass: "write a backup script" · 790 of 9,000 reserved tokens · '
                "1 attempt")
        assert unit in timeline
        assert "explorer · analyst · T1 · 310 tokens · done" in timeline
        assert "validator · analyst · T1 · 60 tokens · pass" in timeline
        assert timeline.count("swarm #1") == 1  # one unit, not a line per event

        data = await session_data(services.store, session.session_id)
        [swarm_unit] = data["swarms"]
        assert (swarm_unit["task"], swarm_unit["verdict"], swarm_unit["used_tokens"],
                swarm_unit["reserved_tokens"]) == ("write a backup script", "pass", 790, 9_000)
        assert [(p["role"], p["agent"], p["tier"], p["tokens"], p["verdict"])
                for p in swarm_unit["phases"]] == [("explorer", "analyst", 1, 310, "done"),
                                                   ("worker", "devops", 1, 420, "done"),
                                                   ("validator", "analyst", 1, 60, "pass")]
        assert json.loads(to_json(data))["swarms"][0]["phases"][1]["agent"] == "devops"
        markdown = to_markdown(data)
        assert f": {unit}\n  - explorer · analyst · T1 · 310 tokens · done\n" in markdown


async def test_a_complex_request_offers_the_swarm_and_ctrl_s_takes_it(tmp_path: Path) -> None:
    fake = FakeProvider("A short answer.")
    services = build_services(tmp_path, fake)
    services.set_provider(2, fake)  # the classifier sends complex requests to tier 2
    task = ("design a multi-region architecture and plan the migration step by step, "
            "compare trade-offs, then evaluate the risks in detail")
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        cycle = ScriptedCycle(full_cycle())
        tasks = with_cycle(app, cycle)
        await swarm(pilot, "hi")
        await wait_until(pilot, lambda: app.chat.status.state == "done"
                         and not app.chat.replying, what="the easy reply")
        assert app.chat.swarm_offer is None  # an easy request is not offered
        await swarm(pilot, task)
        await wait_until(pilot, lambda: app.chat.swarm_offer == task, what="the offer")
        await wait_idle(pilot)
        offers = [n for n in app.chat.query(NoticeMessage) if "/swarm it?" in n.text]
        assert len(offers) == 1 and "\n" not in offers[0].text
        assert offers[0].text.startswith("complex task: /swarm it? Ctrl+S")
        assert tasks == [] and not app.chat.query(SwarmView)  # offered, never run silently
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: cycle.finished and not app.chat.replying,
                         what="the cycle")
        await wait_idle(pilot)
        assert tasks == [task]
        assert app.chat.query_one(SwarmView).verdict == "pass"


async def test_swarm_without_a_task_says_how(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await swarm(pilot, "/swarm")
        await wait_idle(pilot)
        shown = screen_text(app.export_screenshot())
        assert "/swarm takes a task: /swarm TASK" in shown
        assert not app.chat.query(SwarmView)


# --- the real cycle (core/swarm/cycle.py) with the fake provider ---------------------------


def pinned_services(root: Path, fake: FakeProvider, budget: int | None = None):  # type: ignore[no-untyped-def]
    """Real services whose three roles all run on tier 1 (the fake model)."""
    config = root / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    text = "[swarm]\nexplorer_tier = 1\nworker_tier = 1\nvalidator_tier = 1\n"
    if budget is not None:
        text += f"\n[budgets]\ndirect_chat = {budget}\n"
    config.write_text(text)
    return build_services(root, fake)


async def test_swarm_runs_the_real_cycle_in_the_chat(tmp_path: Path) -> None:
    fake = FakeProvider("PASS: the plan covers the task.", chunk_size=4, delay=0.001)
    services = pinned_services(tmp_path, fake)
    async with TokenoptApp(services).run_test(size=(140, 44)) as pilot:
        app = await ready(pilot)
        session = app.session
        assert session is not None
        before = session.tokens_used
        await swarm(pilot, "/swarm summarise why backups need a restore test")
        await wait_until(pilot, lambda: app.chat.query(SwarmView)
                         and app.chat.query_one(SwarmView).verdict is not None
                         and not app.chat.replying, what="the real cycle", timeout=30)
        await wait_idle(pilot, timeout=30)

        view = app.chat.query_one(SwarmView)
        assert view.verdict == "pass", view.summary_text
        parts = list(view.query(SwarmPart))
        assert [p.role for p in parts] == ["explorer", "worker", "validator"]
        assert all(p.verdict in ("done", "pass") and (p.tokens or 0) > 0 for p in parts)
        assert parts[1].source == fake.reply  # streamed from the fake model
        assert "T1" in parts[0].title_text
        used = session.tokens_used - before
        assert 0 < used <= view.reserved  # settled inside the reservation
        assert app.chat.budget_panel.used == session.tokens_used
        assert app.chat.budget_panel.reserved is None
        assert len(fake.calls) == 3  # one call per role, nothing hidden

        rows = await services.store.session_events(session.session_id)
        kinds = [r.kind for r in rows if r.kind.startswith("Swarm")]
        assert kinds[0] == "SwarmPlanned" and kinds[-1] == "SwarmEnded"
        assert "SwarmPhaseToken" not in kinds


async def test_swarm_refused_for_want_of_budget_says_so(tmp_path: Path) -> None:
    services = pinned_services(tmp_path, FakeProvider(), budget=1_000)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await swarm(pilot, "/swarm anything at all")
        await wait_until(pilot, lambda: not app.chat.replying and any(
            "/swarm:" in e.message for e in app.chat.query(ErrorMessage)), what="the refusal")
        await wait_idle(pilot)
        [error] = [e for e in app.chat.query(ErrorMessage) if "/swarm:" in e.message]
        assert "budget" in error.message, error.message
        assert not app.chat.query(SwarmView)  # nothing was planned, nothing is shown
        assert app.chat.budget_panel.reserved is None


async def test_escape_stops_the_real_cycle_and_keeps_what_it_wrote(tmp_path: Path) -> None:
    fake = FakeProvider("word " * 300, chunk_size=5, delay=0.01)
    services = pinned_services(tmp_path, fake)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        session = app.session
        assert session is not None
        await swarm(pilot, "/swarm describe the options for a home backup")
        await wait_until(pilot, lambda: app.chat.query(SwarmPart)
                         and len(app.chat.query(SwarmPart)[0].source) >= 40,
                         what="the explorer streaming", timeout=20)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.chat.replying, what="the cycle to stop",
                         timeout=20)
        await wait_idle(pilot)
        view = app.chat.query_one(SwarmView)
        assert view.verdict == "cancelled"
        [part] = view.query(SwarmPart)  # the worker never started
        assert part.verdict == "cancelled" and part.source.startswith("word word")
        assert len(fake.calls) == 1
        ended = [r for r in await services.store.session_events(session.session_id)
                 if r.kind == "SwarmEnded"]
        assert ended[0].payload["verdict"] == "cancelled"
        assert session.tokens_used == ended[0].payload["used_tokens"] > 0  # charged, settled
