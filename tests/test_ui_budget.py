"""The budget meter, compaction and halt in the chat (real app and store, scripted model).

Token counts here are exact (CountingProvider), so every band is hit on purpose; the
same flow with the real embedded model is in test_budget_real.py.
"""

from __future__ import annotations

from pathlib import Path

from test_budget import CountingProvider, services_with
from textual import events
from textual.widgets import Collapsible, TextArea
from ui_helpers import ready, screen_text, send, wait_idle, wait_until

from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.dialogs import HaltScreen, TextViewScreen
from tokenopt_tui.ui.widgets.message import NoticeMessage

SIZE = (120, 40)


def notices(app: TokenoptApp) -> list[str]:
    return [n.text for n in app.chat.query(NoticeMessage)]


async def test_the_prompt_shows_the_next_requests_estimate(tmp_path: Path) -> None:
    services = services_with(tmp_path, CountingProvider(prompt_tokens=50, completion_tokens=5))
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "first question about /etc/hosts")
        app.chat.prompt.focus()
        await pilot.press(*"how many tokens is this")
        await pilot.pause()
        expected = app.session.estimate_next("how many tokens is this")
        panel = app.chat.budget_panel
        assert panel.estimate == expected
        assert app.chat.prompt.border_subtitle == f"next ≈ {expected:,} tokens"
        assert f"next request ≈ {expected:,} tokens" in screen_text(app.export_screenshot())
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.pause()
        assert panel.estimate == app.session.estimate_next("how many tokens is")
        assert panel.spend_text == "today $0.00 of $0.50 cap"


async def test_warn_compress_halt_and_continue_in_a_new_session(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=140, completion_tokens=10)  # 150 per call
    services = services_with(tmp_path, provider, budget=1_000)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        panel = app.chat.budget_panel
        bands = []
        for n in range(6):  # 150 … 900 tokens
            await send(pilot, f"step {n}: deploy build 41{n} to /srv/app/{n}")
            bands.append(panel.band)
        assert bands == ["-green"] * 5 + ["-red"]
        assert panel.figures == "900 / 1,000 tokens (90%)"
        said = "\n".join(notices(app))
        assert "Budget 80% reached: 900 of 1,000 tokens used; type /compact" in said
        assert "Budget 90% reached" in said
        assert any("Budget 80% reached" in str(n.message)
                   for n in app._notifications), "no toast"
        calls = len(provider.calls)

        await send(pilot, "step 6")  # compaction first, then the call: 1,050 → halted
        assert len(provider.calls) == calls + 1
        assert provider.calls[-1][0].role == "system"
        compression = app.chat.compression_panel
        assert len(compression.events) == 1
        assert compression.lines[0].startswith("budget at 90% (≥ 90%): ")
        await wait_until(pilot, lambda: isinstance(app.screen, HaltScreen), what="halt offer")
        assert "used 1,050 of its 1,000 tokens" in screen_text(app.export_screenshot())
        await pilot.press("escape")  # stay: the session refuses further requests
        await pilot.pause()
        assert panel.halted and "halted: Ctrl+N" in panel.estimate_text

        await send(pilot, "please continue with step 7")
        assert len(provider.calls) == calls + 1, "a halted session made a model call"
        assert app.chat.prompt.value == "please continue with step 7"  # handed back
        await wait_until(pilot, lambda: isinstance(app.screen, HaltScreen), what="halt offer")
        old_id = app.session.session_id
        await pilot.press("enter")  # "Continue in a new session" has the focus
        await wait_until(pilot, lambda: app.session.session_id != old_id, what="new session")
        await wait_idle(pilot)
        assert not panel.halted and panel.used == 0 and panel.band == "-green"
        assert compression.events == []
        assert "New session seeded with the summary" in notices(app)[0]
        assert "step 0: deploy build 410 to /srv/app/0" in notices(app)[0]
        await send(pilot, app.chat.prompt.value)
        assert provider.calls[-1][0].role == "system"
        assert "/srv/app/0" in provider.calls[-1][0].content
        assert provider.calls[-1][-1].content == "please continue with step 7"


async def test_compact_command_and_expandable_panel_entry(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    services = services_with(tmp_path, provider, budget=100_000)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "hello")
        app.chat.prompt.value = "/compact"
        await pilot.press("enter")
        await wait_idle(pilot)
        assert "Nothing to compact yet" in notices(app)[-1]
        for n in range(4):
            await send(pilot, f"ok, now we decided to ship v2.{n}.0 because tests pass")
        app.chat.prompt.value = "/compact"
        await pilot.press("enter")
        await wait_idle(pilot)
        compression = app.chat.compression_panel
        assert len(compression.events) == 1 and compression.events[0].trigger == "/compact"
        entry = compression.query_one(Collapsible)
        assert entry.collapsed
        entry.query_one("CollapsibleTitle").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert not entry.collapsed
        shown = screen_text(app.export_screenshot())
        assert "method: extractive" in shown and "kept:" in shown
        stored = await services.store.last_event(app.session.session_id, "ContextCompacted")
        assert stored is not None and "v2.0.0" in stored.payload["summary"]


async def test_a_multiline_paste_is_attached_and_a_huge_one_sent_by_reference(
        tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    services = services_with(tmp_path, provider, budget=10_000_000)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        chat = app.chat
        chat.prompt.focus()
        chat.prompt.post_message(events.Paste("line one\nline two\n"))
        await wait_until(pilot, lambda: chat.attachment_tokens > 0, what="attachment count")
        assert "Pasted text: 3 lines" in screen_text(app.export_screenshot())
        await pilot.press("ctrl+r")
        assert chat.attachment is None

        line = "2026-11-24 10:00:01 worker-3 WARN retrying upload of part 88 to s3://logs\n"
        big = "Why does the upload keep retrying?\n" + line * (5_000_000 // len(line))
        chat.prompt.post_message(events.Paste(big))
        await wait_until(pilot, lambda: chat.attachment_tokens > 0, what="attachment count",
                         timeout=30)
        assert chat.budget_panel.estimate > 1_000_000
        await pilot.press(*"see the log", "enter")
        await wait_until(pilot, lambda: chat.status.state == "done", timeout=60,
                         what="the reply")
        await wait_idle(pilot)
        sent = provider.calls[-1][-1].content
        assert len(sent) < 10_000 and sent.startswith("[Long user text")
        assert "see the log" in sent
        rows = await services.store.session_messages(app.session.session_id)
        assert rows[0].content == "see the log\n\n" + big
        said = [n for n in notices(app) if "stored as message" in n]
        assert said and f"/show {rows[0].id}" in said[0]
        chat.prompt.value = f"/show {rows[0].id}"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TextViewScreen), what="viewer")
        area = app.screen.query_one(TextArea)
        assert area.text.startswith("see the log\n\nWhy does the upload keep retrying?")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TextViewScreen)
