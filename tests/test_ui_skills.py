"""Skills in the chat: what the model receives, the panel, the skills screen, warnings."""

from __future__ import annotations

from pathlib import Path

from test_skills import write_skill
from textual.widgets import Input, OptionList, TextArea
from ui_helpers import FakeProvider, build_services, ready, screen_text, send, wait_until

from tokenopt_tui.core.events import SkillLoaded
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.skills import SkillsScreen

SIZE = (140, 44)


async def test_only_the_matched_skill_body_reaches_the_model(tmp_path: Path) -> None:
    provider = FakeProvider()
    services = build_services(tmp_path, provider, skills=True)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send("my crontab job never runs at night, why?")]
        loaded = [e for e in events if isinstance(e, SkillLoaded)]
        assert [e.skill_name for e in loaded] == ["aria-cron"]
        sent = provider.calls[-1]
        # right before the request, after the history (a stable prefix for caches)
        assert [m.role for m in sent] == ["system", "user"]  # not kept in the context
        skill = sent[-2]
        assert skill.content.startswith("[Skill: aria-cron]")
        body, tokens = services.skills.registry.body("aria-cron")
        assert body in skill.content and loaded[0].tokens == tokens
        others = [n for n in services.skills.registry.skills if n != "aria-cron"]
        assert not any(f"[Skill: {n}]" in skill.content for n in others)
        rows = await services.store._fetchall(
            "t", "SELECT skill_name, tokens_used, score FROM skill_invocations")
        assert [(r[0], r[1]) for r in rows] == [("aria-cron", tokens)] and rows[0][2] > 1

        events = [e async for e in session.send("what is 2 + 2?")]
        assert not [e for e in events if isinstance(e, SkillLoaded)]
        assert all(m.role != "system" for m in provider.calls[-1])
    finally:
        await services.aclose()


async def test_panel_screen_and_warnings(tmp_path: Path) -> None:
    services = build_services(tmp_path, FakeProvider(), skills=True)
    user_skills = services.paths.data_dir / "skills"
    write_skill(user_skills, "broken", raw=b"---\nname: broken\n---\nno description")
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        panel = app.chat.skills_panel
        await wait_until(pilot, lambda: panel.warnings, what="scan warnings")
        assert panel.warnings == [f"{user_skills / 'broken' / 'SKILL.md'}: field "
                                  "'description' is missing"]
        assert "⚠" in screen_text(app.export_screenshot())
        await send(pilot, "my crontab job never runs at night, why?")
        [line] = panel.lines
        assert " aria-cron · " in line and "tokens · score" in line and "matched '" in line

        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, SkillsScreen), what="screen")
        screen = app.screen
        options = screen.query_one("#skill-list", OptionList)
        assert options.option_count == 26
        screen.query_one("#skill-filter", Input).value = "moltbook"
        await pilot.pause()
        assert options.get_option_at_index(0).id == "aria-moltbook"
        assert screen.query_one("#skill-body", TextArea).text == ""  # not read yet
        await pilot.press("enter")
        await pilot.pause()
        body = screen.query_one("#skill-body", TextArea).text
        assert body.startswith("aria-moltbook: ") and "tokens" in body.splitlines()[0]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SkillsScreen)
