"""Agents' weights over time as text: one sparkline of τ per agent × task type, read from
agent_quality_history (the dashboard draws it; no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence

from tokenopt_tui.store.agents import AgentTauRow

BARS = "▁▂▃▄▅▆▇█"
#: Points drawn per line: the latest updates.
WIDTH = 24


def sparkline(values: Sequence[float], width: int = WIDTH) -> str:
    """The last `width` values as bars on a fixed 0..1 scale (τ is a probability), so
    lines can be compared with each other."""
    top = len(BARS) - 1
    return "".join(BARS[min(top, max(0, round(v * top)))] for v in values[-width:])


def weights_text(rows: Sequence[AgentTauRow], width: int = WIDTH) -> str:
    """"Agent weights over time" lines, or "" when no outcome was recorded yet."""
    series: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        series.setdefault((row.agent, row.task_type), []).append(row.tau)
    if not series:
        return ""
    lines = ["agent weights over time (τ per agent and task type, 0..1, oldest first)"]
    for (agent, task_type), taus in sorted(series.items()):
        lines.append(f"  {agent:<10} {task_type:<9} {sparkline(taus, width):<{width}} "
                     f"τ {taus[-1]:.2f} ({len(taus)} updates)")
    return "\n".join(lines)
