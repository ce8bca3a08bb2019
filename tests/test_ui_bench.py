"""The dashboard's Benchmark section, driven by Pilot on a real store: no run yet (the
hint), the latest run's pipeline rows and targets, and a broken report (a one-line
notice, the screen still working)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.containers import VerticalScroll
from ui_helpers import FakeProvider, build_services, ready, screen_text, wait_idle, wait_until

from tokenopt_tui.core.bench.pipelines import PIPELINES
from tokenopt_tui.core.bench.report import build_report
from tokenopt_tui.core.bench.runner import Call, RequestRecord, RunResult, TaskRecord
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.dashboard import DashboardScreen
from tokenopt_tui.ui.widgets.bench_panel import BenchPanel

SIZE = (140, 44)
PIPELINE = {p.name: p for p in PIPELINES}


def _request(task: str, turn: int, need: int, answered: int, call: Call, *,
             skills: tuple[str, ...] = (), loaded: tuple[str, ...] = ()) -> RequestRecord:
    return RequestRecord(task, False, "direct_chat", turn, need, "chat", skills,
                         first_tier=answered, answered_tier=answered, calls=[call],
                         skills_loaded=loaded)


def sample_report() -> dict[str, object]:
    """Two pipelines by hand: the optimized one spends $0.60 on the paid tier (a missed
    daily cost) and answers one request below its need."""
    baseline = RunResult(PIPELINE["baseline"], [
        _request("a", 0, 1, 4, Call(4, 40_000, 1_000, 0, 0.45), skills=("aria-logs",),
                 loaded=("aria-logs", "aria-sql")),
        _request("a", 1, 3, 4, Call(4, 50_000, 2_000, 0, 0.45)),
    ], [TaskRecord("a", False, "direct_chat", [93_000], probes=2, probes_kept=2)], 1.0)
    optimized = RunResult(PIPELINE["optimized"], [
        _request("a", 0, 2, 1, Call(1, 3_000, 300, 0, 0.0), skills=("aria-logs",),
                 loaded=("aria-logs",)),
        _request("a", 1, 3, 4, Call(4, 6_000, 700, 0, 0.60)),
    ], [TaskRecord("a", False, "direct_chat", [10_000], probes=2, probes_kept=1)], 1.0)
    workload = {"mode": "replay", "tasks": 1, "held_out_tasks": 0, "requests": 2,
                "free_per_minute": 20, "free_per_day": 50}
    report = build_report([baseline, optimized], workload).to_json()
    report["seconds"] = 3.2
    return report


async def open_dashboard(pilot) -> DashboardScreen:
    """Ctrl+T, as a user opens it; wait for the figures and the Benchmark section."""
    app = await ready(pilot)
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dashboard")
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    panel = screen.query_one(BenchPanel)
    await wait_until(pilot, lambda: screen.stats is not None and panel.state != "loading",
                     what="the dashboard to load")
    await wait_idle(pilot)
    return screen


def on_screen(pilot) -> str:
    return screen_text(pilot.app.export_screenshot())


async def test_no_run_shows_the_command_that_makes_one(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider())
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        panel = screen.query_one(BenchPanel)
        assert panel.state == "none"
        assert panel.has_class("-none")
        await pilot.press("b")
        await wait_idle(pilot)
        assert "Benchmark: no run yet. Make one with `tokenopt bench`." in on_screen(pilot)


async def test_the_latest_run_shows_pipelines_and_a_missed_target(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider())
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        old = dict(sample_report(), pipelines={})  # an older run: not the one shown
        await app.services.store.save_bench_run("replay", 9.9, json.dumps(old))
        report = sample_report()
        pipelines = report["pipelines"]
        assert isinstance(pipelines, dict)
        pipelines["[b]odd[/b]\x1b"] = pipelines["optimized"]  # stored text is never markup
        await app.services.store.save_bench_run("replay", 3.2, json.dumps(report))
        screen = await open_dashboard(pilot)
        panel = screen.query_one(BenchPanel)
        assert panel.state == "shown", panel.text
        await pilot.press("b")  # keyboard: scroll the figures to the section
        await wait_idle(pilot)
        figures = screen.query_one("#dashboard-figures", VerticalScroll)
        assert screen.focused is figures
        assert figures.scroll_y > 0  # the section is below the first page of figures
        shown = on_screen(pilot)
        lines = shown.splitlines()
        head = next(line for line in lines if "Benchmark · latest run" in line)
        assert "UTC · replay · 3.2 s" in head
        row = {line.split()[0]: line.split()[1:] for line in lines
               if line.strip().startswith(("baseline", "optimized"))}
        # tokens in, out, $/day, free share, answered below need, skill recall, probes kept
        assert row["baseline"] == ["90,000", "3,000", "0.900", "0%", "0.0%", "100%", "2/2"]
        assert row["optimized"] == ["9,000", "1,000", "0.600", "50%", "50.0%", "100%",
                                    "1/2"]
        assert any(line.strip().startswith("[b]odd[/b]␛") for line in lines), lines
        missed = [line for line in lines if "MISSED" in line]
        assert any("daily cost" in line and "< $0.50" in line and "$0.600" in line
                   and "(paid tier took 50.0% of requests)" in line for line in missed), missed
        assert any(line.split()[:3] == ["met", "tokens", "vs"] for line in lines), lines
        # Whole in the panel's text too (a long reason may wrap on screen).
        assert "lost" in panel.text and "MISSED no loss of task success" in panel.text


async def test_a_broken_report_is_one_line_and_the_screen_still_works(
        tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider())
    lacking = sample_report()
    figures = lacking["pipelines"]
    assert isinstance(figures, dict)
    del figures["optimized"]["skill_recall"]
    cases = [
        ("{not json", "not valid JSON"),
        (json.dumps({"workload": {"tasks": 1, "requests": 2}}), "report lacks 'pipelines'"),
        (json.dumps(lacking), "pipelines.optimized lacks 'skill_recall'"),
        (json.dumps(["a", "list"]), "report is not an object"),
        (json.dumps(dict(sample_report(), targets=[{"name": "[b]x[/b]", "met": "yes"}])),
         "targets[0] lacks 'goal'"),
    ]
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        for stored, fault in cases:
            await app.services.store.save_bench_run("live", 1.0, stored)
            screen = await open_dashboard(pilot)
            panel = screen.query_one(BenchPanel)
            assert panel.state == "fault", panel.text
            assert panel.has_class("-fault")
            assert "\n" not in panel.text and fault in panel.text, panel.text
            assert panel.text.startswith("Benchmark: the run of ")
            await pilot.press("b")
            await wait_idle(pilot)
            assert fault in on_screen(pilot)
            await pilot.press("w")  # the rest of the screen still answers its keys
            await wait_until(pilot, lambda s=screen: s.stats is not None
                             and s.stats.period == "week", what="the week's figures")
            await wait_idle(pilot)
            assert "Dashboard · last 7 days" in on_screen(pilot)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, DashboardScreen),
                             what="back to the chat")
