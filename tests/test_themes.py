"""Bundled themes (a light one, a high-contrast one) and the remembered theme choice.

A broken user theme file is covered in test_ui_app.py
(test_a_broken_theme_file_warns_once_and_bundled_themes_stay).
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.color import Color
from textual.theme import Theme
from ui_helpers import build_services, ready, wait_until

from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.themes import bundled_theme_dir, load_themes, ui_state_file

SIZE = (120, 40)
BUNDLED = {"tokenopt-dark", "tokenopt-light", "tokenopt-high-contrast"}


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    parsed = Color.parse(colour)

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(parsed.r) + 0.7152 * linear(parsed.g) + 0.0722 * linear(parsed.b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, from 1 (same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert round(contrast_ratio("#000000", "#FFFFFF"), 2) == 21.0
    assert round(contrast_ratio("#777777", "#FFFFFF"), 2) == 4.48


def test_bundled_themes_load_cleanly_with_a_light_and_a_high_contrast_one() -> None:
    loaded = load_themes([bundled_theme_dir()])
    assert loaded.warnings == []
    themes = {theme.name: theme for theme in loaded.themes}
    assert set(themes) >= BUNDLED
    assert all(isinstance(theme, Theme) for theme in themes.values())
    assert themes["tokenopt-light"].dark is False
    high = themes["tokenopt-high-contrast"]
    assert high.background is not None and high.foreground is not None
    assert contrast_ratio(high.foreground, high.background) >= 7
    # The colours that carry text (accents, status colours) are AAA too.
    for colour in (high.primary, high.secondary, high.accent, high.warning, high.error,
                   high.success):
        assert colour is not None
        assert contrast_ratio(colour, high.background) >= 7, colour
    # The variables Textual would otherwise derive with transparency are set opaque.
    generated = high.to_color_system().generate()
    for key in ("text", "text-muted", "text-primary", "text-error", "text-warning"):
        assert contrast_ratio(generated[key], high.background) >= 7, key


async def test_a_theme_picked_at_run_time_is_remembered(tmp_path: Path) -> None:
    state = ui_state_file(build_services(tmp_path).paths.data_dir)
    app = TokenoptApp(build_services(tmp_path))
    assert not state.exists()  # choosing the configured theme at start-up writes nothing
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.theme == "tokenopt-dark"
        assert not state.exists()
        app.theme = "tokenopt-light"
        await pilot.pause()
        assert json.loads(state.read_text()) == {"theme": "tokenopt-light"}
        assert app.is_running
    assert not list(state.parent.glob("*.tmp"))  # the atomic write left no temp file

    second = TokenoptApp(build_services(tmp_path))
    assert second.theme == "tokenopt-light"
    assert second.theme_warnings == []
    async with second.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert second.theme == "tokenopt-light"
        assert not second.current_theme.dark


async def test_a_saved_theme_that_is_no_longer_installed_falls_back_to_config(
        tmp_path: Path) -> None:
    services = build_services(tmp_path)
    state = ui_state_file(services.paths.data_dir)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"theme": "a-deleted-user-theme"}')
    app = TokenoptApp(services)
    assert app.theme == "tokenopt-dark"
    assert app.theme_warnings == []


async def test_a_corrupt_state_file_warns_and_the_config_theme_is_used(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    state = ui_state_file(services.paths.data_dir)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json")
    app = TokenoptApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.is_running
        assert app.theme == services.config.theme == "tokenopt-dark"
        assert len(app.theme_warnings) == 1
        assert str(state) in app.theme_warnings[0]
        await wait_until(pilot, lambda: any(str(state) in str(n.message)
                                            for n in app._notifications),
                         what="the warning to be shown")
        # A new choice replaces the corrupt file with a valid one.
        app.theme = "tokenopt-high-contrast"
        await pilot.pause()
    assert json.loads(state.read_text()) == {"theme": "tokenopt-high-contrast"}


async def test_a_state_file_that_cannot_be_written_warns_and_the_app_runs(
        tmp_path: Path) -> None:
    services = build_services(tmp_path)
    state = ui_state_file(services.paths.data_dir)
    app = TokenoptApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        state.mkdir()  # a folder where the file should be: os.replace fails
        app.theme = "tokenopt-light"
        await pilot.pause()
        assert app.is_running and app.theme == "tokenopt-light"
        assert any("not remembered" in str(n.message) for n in app._notifications)
    assert not list(state.parent.glob("*.tmp"))
