"""App-level behaviour: a bad database, broken themes, model preparation progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ui_helpers import FakeProvider, build_services, temp_paths, wait_idle, wait_until

from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.themes import ThemeFileError, load_theme_file
from tokenopt_tui.ui.widgets.message import ErrorMessage

SIZE = (120, 40)


async def test_a_non_sqlite_database_is_reported_and_left_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 50
    bad.write_bytes(content)
    services = build_services(tmp_path, db_path=bad)
    app = TokenoptApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.chat.query(ErrorMessage), what="the error")
        await wait_idle(pilot)
        error = app.chat.query_one(ErrorMessage)
        assert str(bad) in error.message
        assert error.where == str(bad)
        assert app.chat.prompt.disabled
        assert app.is_running
        assert app.session is None
    assert bad.read_bytes() == content


async def test_a_broken_theme_file_warns_once_and_bundled_themes_stay(tmp_path: Path) -> None:
    themes = temp_paths(tmp_path).config_file.parent / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#336699"\ndark = true\n')
    services = build_services(tmp_path)
    app = TokenoptApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.session is not None, what="the session")
        await wait_idle(pilot)
        assert len(app.theme_warnings) == 1
        warning = app.theme_warnings[0]
        assert str(themes / "broken.toml") in warning and "'primary'" in warning
        assert {"tokenopt-dark", "tokenopt-light", "mine"} <= set(app.available_themes)
        assert "broken" not in app.available_themes
        assert app.theme == "tokenopt-dark"
        assert app.is_running


def test_theme_errors_name_the_file_and_key(tmp_path: Path) -> None:
    file = tmp_path / "t.toml"
    for text, key in [('primary = "#fff"\n', "'name'"), ('name = "x"\nprimary = 3\n', "'primary'"),
                      ('name = "x"\nprimary = "#fff"\ncolour = "#000"\n', "'colour'"),
                      ('name = "x"\ndark = "yes"\nprimary = "#fff"\n', "'dark'")]:
        file.write_text(text)
        try:
            load_theme_file(file)
        except ThemeFileError as exc:
            assert str(file) in str(exc) and key in str(exc)
        else:
            raise AssertionError(f"{text!r} was accepted")


async def test_model_preparation_shows_progress_then_hides(tmp_path: Path) -> None:
    gate = asyncio.Event()
    fake = FakeProvider(prep_stages=[("convert", 3), ("load", 1)], prep_gate=gate)
    services = build_services(tmp_path, fake)
    app = TokenoptApp(services)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.chat.prep_bar
        await wait_until(pilot, lambda: bar.active, what="the preparation bar")
        await pilot.pause()
        assert bar.display and bar.region.height == 1
        assert "convert" in bar.stage
        gate.set()
        await wait_until(pilot, lambda: not bar.active, what="the bar to hide")
        await wait_idle(pilot)
        assert fake.prepared
        assert bar.region.height == 0
