"""The Concierge screen, driven by Pilot on a real store: F6 opens it (Ctrl+K is the
prompt's delete-to-end-of-line), an empty store gets its explanation, a recorded usage
log lists the needs with their evidence, `d` writes a draft (a toast names the path;
never twice), Esc closes."""

from __future__ import annotations

from pathlib import Path

from concierge_log import load_log, read_log, recent
from test_concierge import write_library
from textual.widgets import OptionList, Static
from ui_helpers import FakeProvider, ready, wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.paths import Paths
from tokenopt_tui.store import Store
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.concierge import ConciergeScreen
from tokenopt_tui.wiring import Services, make_services

SIZE = (130, 44)


def services_for(xdg_env: dict[str, str], tmp_path: Path) -> Services:
    paths = Paths.from_env(xdg_env)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    services.set_provider(1, FakeProvider())
    services.set_skills(write_library(tmp_path / "library"))
    return services


def static_text(screen: ConciergeScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_concierge(pilot) -> ConciergeScreen:  # type: ignore[no-untyped-def]
    app = await ready(pilot)
    await pilot.press("f6")
    await wait_until(pilot, lambda: isinstance(app.screen, ConciergeScreen), what="concierge")
    screen = app.screen
    assert isinstance(screen, ConciergeScreen)
    await wait_until(pilot, lambda: screen.report is not None, what="report", timeout=30)
    await wait_idle(pilot)
    return screen


async def test_empty_store_explains_itself(xdg_env: dict[str, str], tmp_path: Path) -> None:
    async with TokenoptApp(services_for(xdg_env, tmp_path)).run_test(size=SIZE) as pilot:
        screen = await open_concierge(pilot)
        assert "Nothing to suggest yet" in static_text(screen, "#concierge-detail")
        skills = static_text(screen, "#concierge-skills")  # a fresh install: no verdict
        assert "not judged yet: usage recorded for 0 of 30 days" in skills
        assert "aria-moltbook" not in skills
        assert not screen.query_one(OptionList).display
        await pilot.press("d")
        await pilot.pause()
        assert any("No suggestion" in n.message for n in pilot.app._notifications)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ConciergeScreen),
                         what="closed")


async def test_recorded_usage_lists_needs_and_drafts_one(xdg_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    services = services_for(xdg_env, tmp_path)
    db = services.paths.db_file
    db.parent.mkdir(parents=True, exist_ok=True)
    async with await Store.open(db) as store:
        await load_log(store, db, recent(read_log()))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        screen = await open_concierge(pilot)
        report = screen.report
        assert report is not None and report["requests"] == len(read_log())
        options = screen.query_one(OptionList)
        assert options.option_count == len(report["gaps"]) + len(report["wanting"]) >= 6
        first = report["gaps"][0]
        detail = static_text(screen, "#concierge-detail")
        assert first["name"] in detail and first["evidence"][0]["text"][:40] in detail
        skills = static_text(screen, "#concierge-skills")
        assert "docker-helper: loaded 5 times" in skills and "weather-report" in skills
        await pilot.press("down")
        await pilot.pause()
        second = report["gaps"][1]
        assert second["name"] in static_text(screen, "#concierge-detail")
        await pilot.press("d")
        path = services.paths.data_dir / "skills" / second["name"] / "SKILL.md"
        await wait_until(pilot, path.exists, what="draft written")
        await wait_until(pilot, lambda: any(str(path) in n.message
                                            for n in pilot.app._notifications), what="toast")
        before = path.read_text(encoding="utf-8")
        await pilot.press("d")  # the same one again: refused, named, untouched
        await wait_until(pilot, lambda: any("already exists" in n.message
                                            for n in pilot.app._notifications), what="refusal")
        assert path.read_text(encoding="utf-8") == before
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ConciergeScreen),
                         what="closed")
