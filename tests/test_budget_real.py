"""The budget in the chat with the real embedded model: warn at 80 %, compress at 90 %,
halt at 100 %, then continue in a new session seeded with the summary.

A request re-sends the whole context, so with a plain history each request costs more
than the last and a 10 %-wide band is easily jumped over. Compacting after every two
turns (`compression.compress_over_turns = 2`, `keep_last = 2`) keeps each request
near-constant; with the budget at 1,500 tokens and replies capped at 4 tokens a
request costs ~100 tokens, less than a band, so every band is entered by some request.
The test does not assume which one: it follows the meter.
"""

from __future__ import annotations

import pytest
from ui_helpers import send, wait_idle, wait_until

from tokenopt_tui.config import load_config
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.dialogs import HaltScreen
from tokenopt_tui.ui.widgets.message import NoticeMessage
from tokenopt_tui.wiring import make_services

pytestmark = pytest.mark.model

BUDGET = 1_500
MAX_REQUESTS = 40


async def test_real_model_chat_warns_compresses_and_halts(xdg_env, paths,
                                                          prepared_model) -> None:
    env = {**xdg_env, "TOKENOPT__BUDGETS__DIRECT_CHAT": str(BUDGET),
           "TOKENOPT__MAX_TOKENS": "4", "TOKENOPT__LOCAL__TEMPERATURE": "0",
           "TOKENOPT__COMPRESSION__COMPRESS_OVER_TURNS": "2",
           "TOKENOPT__COMPRESSION__KEEP_LAST": "2"}
    services = make_services(load_config(paths, env), paths, env)
    async with TokenoptApp(services, tier=1).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and not app.chat.prompt.disabled,
                         what="the session to open", timeout=60)
        await wait_idle(pilot, timeout=180)  # the model is loaded by the warm-up worker
        chat, panel = app.chat, app.chat.budget_panel
        session = app.session
        trail: list[tuple[int, str, int]] = []  # (tokens after the request, band, calls)
        halted_on = None
        for n in range(MAX_REQUESTS):
            await send(pilot, "Next tip?", timeout=120)
            calls = len([r for r in await services.store.session_messages(session.session_id)
                         if r.role == "assistant"])
            trail.append((panel.used, panel.band, calls))
            if isinstance(app.screen, HaltScreen) or session.halted:
                halted_on = n
                break
        assert halted_on is not None, f"never halted: {trail}"
        print("budget trail (tokens, band, replies):", trail)
        used = [t[0] for t in trail]
        assert all(u > 0 for u in used) and used == sorted(used)

        warn_at = next(i for i, u in enumerate(used) if u >= 0.8 * BUDGET)
        compress_at = next(i for i, u in enumerate(used) if u >= 0.9 * BUDGET)
        assert used[warn_at] < 0.9 * BUDGET, f"the 80-90 % band was jumped: {trail}"
        assert used[compress_at] < BUDGET, f"the 90-100 % band was jumped: {trail}"
        assert trail[warn_at][1] == "-yellow" and trail[compress_at][1] == "-red"
        assert used[-1] >= BUDGET and compress_at < halted_on

        notices = [n.text for n in chat.query(NoticeMessage)]
        assert any(t.startswith("Budget 80% reached") and "/compact" in t for t in notices)
        assert any(t.startswith("Budget 90% reached") and "compressed before the next request"
                   in t for t in notices)
        forced = [e for e in chat.compression_panel.events if e.trigger.startswith("budget at")]
        assert len(forced) >= 1, [e.trigger for e in chat.compression_panel.events]
        assert forced[0].tokens_after < forced[0].tokens_before
        stored = [e.kind for e in await services.store.session_events(session.session_id)]
        assert stored.count("BudgetWarned") == 2 and "SessionHalted" in stored
        assert stored.index("BudgetWarned") < stored.index("SessionHalted")

        # Halted: the offer is on screen; a request made anyway reaches no model.
        await wait_until(pilot, lambda: isinstance(app.screen, HaltScreen), what="halt offer")
        await pilot.press("escape")
        await pilot.pause()
        calls_before = trail[-1][2]
        await send(pilot, "One more?", timeout=60)
        rows = await services.store.session_messages(session.session_id)
        assert sum(r.role == "assistant" for r in rows) == calls_before
        assert chat.prompt.value == "One more?"

        await wait_until(pilot, lambda: isinstance(app.screen, HaltScreen), what="halt offer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.session_id != session.session_id,
                         what="the new session")
        await wait_idle(pilot)
        fresh = app.session
        seed = (await services.store.session_messages(fresh.session_id))[0]
        assert seed.role == "system" and "Next tip?" in seed.content
        assert panel.used == 0 and panel.band == "-green" and not panel.halted
        await send(pilot, chat.prompt.value, timeout=120)
        assert chat.status.state == "done"
        assert fresh.tokens_used > 0 and not fresh.halted


async def test_real_model_summary_is_judged_and_its_cost_counted(xdg_env, paths,
                                                                 prepared_model) -> None:
    """`summarizer = "llm"` with the embedded model: whatever it writes is judged; a
    rejected rewrite leaves the extractive summary, and the call is paid either way."""
    from tokenopt_tui.core.events import ContextCompacted
    from tokenopt_tui.core.session import ChatSession

    env = {**xdg_env, "TOKENOPT__MAX_TOKENS": "4", "TOKENOPT__LOCAL__TEMPERATURE": "0",
           "TOKENOPT__COMPRESSION__SUMMARIZER": "llm",
           "TOKENOPT__COMPRESSION__SUMMARIZER_MAX_TOKENS": "48"}
    services = make_services(load_config(paths, env), paths, env)
    await services.open_store()
    try:
        session = await ChatSession.start(services, tier=1)
        config = "\n".join(f"    ssl_option_{i} on;" for i in range(30))
        asks = ["Please rotate the key in /etc/ssl/api.pem by Friday. The server block:\n"
                f"```nginx\nserver {{\n{config}\n}}\n```",
                "We decided to use certbot because it renews on its own.",
                "Dana will check https://status.example.com after the rotation.",
                "Thanks!"]
        for text in asks:
            async for _ in session.send(text):
                pass
        before = session.tokens_used
        events = [e async for e in session.compact("/compact", keep_last=2)]
        compacted = [e for e in events if isinstance(e, ContextCompacted)]
        assert len(compacted) == 1
        event = compacted[0]
        assert event.cost_tokens > 0 and session.tokens_used == before + event.cost_tokens
        if event.method.startswith("llm"):  # accepted: it kept the identifiers
            assert "/etc/ssl/api.pem" in event.summary
            assert "https://status.example.com" in event.summary
        else:
            assert event.method.startswith("extractive (LLM summary discarded: ")
            assert "Please rotate the key in /etc/ssl/api.pem by Friday." in event.summary
            assert "[code block: 32 lines of nginx]" in event.summary
            for text in asks[1:3]:
                assert text in event.summary
        calls = await services.store._fetchall(
            "calls", "SELECT COUNT(*) FROM model_calls WHERE session_id = ? AND "
            "message_id IS NULL", (session.session_id,))
        assert calls[0][0] >= 1  # the summary call is on the books
        print("real-model summary:", event.method, event.cost_tokens, "tokens")
    finally:
        await services.aclose()
