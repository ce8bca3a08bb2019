"""Agents in the chat (real Textual app via Pilot, real store): /why shows the agent
drawn for the last request, its prompt goes first to the model but not into the context,
and the dashboard plots agents' τ once an outcome exists."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from test_ui_chat import SIZE
from test_ui_routing import send_command
from ui_helpers import FakeProvider, build_services, ready, send, wait_until

from tokenopt_tui.core.agents.picker import AgentPicker
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.message import NoticeMessage


def agent_services(root: Path, provider: FakeProvider):
    services = build_services(root, provider)
    services.config = dataclasses.replace(services.config, agents_enabled=True)
    services.set_agents(AgentPicker(services.config.agents, lambda: services.store,
                                    rng=random.Random(5)))
    return services


async def test_why_shows_the_agent_line(tmp_path: Path) -> None:
    provider = FakeProvider("Restart the unit, then check the journal.")
    services = agent_services(tmp_path, provider)
    async with TokenoptApp(services).run_test(size=SIZE) as pilot:
        app = await ready(pilot)
        await send(pilot, "my crontab job never runs at night on the server")
        assert not app.chat.query(NoticeMessage)  # the pick is told by /why, not a notice
        await send_command(pilot, "/why")
        why = list(app.chat.query(NoticeMessage))[-1].text.splitlines()
        assert why[0] == "Routing of the last request:"
        assert why[1].startswith("  agent "), why
        name = why[1].split()[1].rstrip(":")
        assert f"{name}: τ 0.50 (0 outcomes), floor 0.05, drawn from " in why[1]
        assert why[2].startswith("  T1 local (fake-model): ")
        prompt = next(a.system_prompt for a in services.config.agents if a.name == name)
        sent = provider.calls[-1]
        # per-request text sits after the history, right before the request
        assert sent[-1].role == "user"
        at = [m.content for m in sent].index(prompt)
        assert sent[at].role == "system" and all(m.role == "system" for m in sent[at:-1])
        assert all(m.content != prompt for m in app.session.context.messages())

        # an outcome moves the agent's τ, which the dashboard then plots
        [chosen] = await services.store.session_events(app.session.session_id,
                                                       kinds=("AgentChosen",))
        await services.agents.feedback(name, chosen.payload["task_type"], True, "rating")
        from tokenopt_tui.ui.screens.dashboard import DashboardScreen

        screen = DashboardScreen(services)
        await app.push_screen(screen)
        weights = screen.query_one("#agent-weights")
        await wait_until(pilot, lambda: weights.display and "τ" in str(weights.render()),
                         timeout=30, what="the agent weights")
        text = str(weights.render())
        assert "agent weights over time" in text and name in text and "(1 updates)" in text
