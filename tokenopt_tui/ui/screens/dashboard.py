"""Dashboard: the plan's metrics and success criteria at a glance, with plots.

All figures come from `core.metrics.collect` (the same as `tokenopt stats`), read in a
worker; d / w / m switch the period. Plots (textual-plotext) are used where a picture
reads better: cost per day, tier distribution, top skills. Below the figures, the latest
`tokenopt bench` run (widgets/bench_panel.py); b scrolls to it. Last, agents' weights
over time (a sparkline of τ per agent and task type), shown once an outcome exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual_plotext import PlotextPlot

from tokenopt_tui.core.text import terminal_safe
from tokenopt_tui.ui.widgets.bench_panel import BenchPanel, bench_view

if TYPE_CHECKING:
    from datetime import datetime

    from tokenopt_tui.core.reporting.metrics import Criterion, Stats
    from tokenopt_tui.wiring import Services

PERIOD_NAMES = {"day": "today", "week": "last 7 days", "month": "last 30 days"}
#: The least top of the cost axis: with no spend the plot still shows a $0 floor.
MIN_COST_TOP = 0.01


def cost_axis(costs: Sequence[float]) -> tuple[float, list[float], list[str]]:
    """The cost plot's y axis: (top, ticks, labels). It starts at $0 (spend is never
    negative; plotext would centre an all-zero series on 0) and ends at the smallest
    1/2/5 step at or above the dearest day, so small amounts still fill the plot."""
    highest = max((c for c in costs if math.isfinite(c)), default=0.0)
    top = MIN_COST_TOP
    for exponent in range(-2, 7):
        steps = [round(m * 10.0 ** exponent, 6) for m in (1, 2, 5)]
        candidates = [v for v in steps if v >= highest]
        if candidates:
            top = candidates[0]
            break
    else:
        top = highest
    ticks = [0.0, round(top / 2, 6), top]
    return top, ticks, [_dollars(t) for t in ticks]


def _dollars(value: float) -> str:
    """An axis label: "$0", "$0.005", "$0.25", "$2"."""
    if value == 0:
        return "$0"
    if value < 0.01:
        return f"${value:.3f}"
    return f"${value:,.2f}".removesuffix(".00")


def criterion_text(c: Criterion) -> str:
    value = "no data yet" if c.value is None else (
        f"${c.value:.4f}" if c.unit == "$" else f"{c.value:.0%}" if c.unit == "share"
        else f"{c.value:,.0f} {c.unit}" if c.unit == "tokens" else f"{c.value:.2f} {c.unit}")
    target = (f"< ${c.target:.2f}" if c.unit == "$" else f"≥ {c.target:.0%}"
              if c.unit == "share" else f"< {c.target:,.0f} {c.unit}")
    mark = {True: "✔", False: "✘", None: "–"}[c.ok]
    return f"{mark} {c.name}\n{value}\ntarget {target}"


class DashboardScreen(Screen[None]):
    """Metrics for a period (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("d", "period('day')", "Today"),
        Binding("w", "period('week')", "7 days"),
        Binding("m", "period('month')", "30 days"),
        Binding("b", "bench", "Benchmark"),
    ]

    def __init__(self, services: Services, period: str = "day",
                 now: datetime | None = None) -> None:
        """`now` fixes the clock (snapshot tests); by default it is the current time."""
        super().__init__(id="dashboard")
        self.services = services
        self.period = period
        self.now = now
        self.stats: Stats | None = None
        self.cost_ylim: tuple[float, float] | None = None  # as last given to the cost plot

    def compose(self) -> ComposeResult:
        yield Label(Content("Dashboard"), id="dashboard-title", classes="dialog-title")
        with Grid(id="criteria"):
            for i in range(4):
                yield Static("", id=f"criterion-{i}", classes="criterion")
        with Horizontal(id="plots"):
            yield PlotextPlot(id="plot-cost")
            yield PlotextPlot(id="plot-tiers")
            yield PlotextPlot(id="plot-skills")
        with VerticalScroll(id="dashboard-figures"):
            yield Static("loading…", id="figures")
            yield BenchPanel()
            yield Static("", id="agent-weights")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.load_bench()
        self.load_agents()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_period(self, period: str) -> None:
        self.period = period
        self.load()

    def action_bench(self) -> None:
        """Scroll the figures to the Benchmark section (and let the keys scroll on)."""
        figures = self.query_one("#dashboard-figures", VerticalScroll)
        figures.focus()
        figures.scroll_to_widget(self.query_one(BenchPanel), top=True, animate=False)

    @work(exclusive=True, group="dashboard-bench", exit_on_error=False)
    async def load_bench(self) -> None:
        import asyncio

        from tokenopt_tui.store.errors import StoreError

        panel = self.query_one(BenchPanel)
        try:
            run = await self.services.store.latest_bench_run()
        except StoreError as exc:
            panel.show("fault", f"Benchmark: the runs can't be read: {exc}")
            return
        panel.show(*await asyncio.to_thread(bench_view, run))

    @work(exclusive=True, group="dashboard-agents", exit_on_error=False)
    async def load_agents(self) -> None:
        """Agents' τ over time; hidden while no outcome was recorded."""
        from tokenopt_tui.core.agents.trend import weights_text
        from tokenopt_tui.store.errors import StoreError

        widget = self.query_one("#agent-weights", Static)
        try:
            text = weights_text(await self.services.store.agent_quality_history())
        except StoreError as exc:
            text = f"Agents: the weights can't be read: {exc}"
        widget.display = bool(text)
        widget.update(Content(terminal_safe(text)))

    @work(exclusive=True, group="dashboard", exit_on_error=False)
    async def load(self) -> None:
        import asyncio

        from tokenopt_tui.core.reporting.metrics import collect

        config = self.services.config
        paid = {t.number for t in config.tiers if t.paid}
        library = self.services.scanned_skills
        eager = await asyncio.to_thread(library.eager_tokens) if library is not None else None
        self.stats = await collect(self.services.store, self.period, paid_tiers=paid,
                                   now=self.now, eager_skill_tokens=eager)
        self.render_stats(self.stats)

    def render_stats(self, stats: Stats) -> None:
        self.query_one("#dashboard-title", Label).update(Content(
            f"Dashboard · {PERIOD_NAMES[stats.period]} (d / w / m to switch)"))
        for i, c in enumerate(stats.criteria):
            card = self.query_one(f"#criterion-{i}", Static)
            card.update(Content(criterion_text(c)))
            card.set_class(c.ok is True, "-ok")
            card.set_class(c.ok is False, "-miss")
        self._plot_cost(stats)
        self._plot_tiers(stats)
        self._plot_skills(stats)
        self.query_one("#figures", Static).update(Content(terminal_safe(figures_text(stats))))

    def _plot_cost(self, stats: Stats) -> None:
        widget = self.query_one("#plot-cost", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.title("cost per day, last 30 days ($)")
        costs = [c for _, c in stats.cost_by_day]
        top, ticks, labels = cost_axis(costs)
        # No call in 30 days: one empty bar, so the axes (from $0) still show.
        plt.bar([d[5:] for d, _ in stats.cost_by_day] or ["no calls yet"], costs or [0.0])
        self.cost_ylim = (0.0, top)
        plt.ylim(*self.cost_ylim)
        plt.yticks(ticks, labels)
        widget.refresh()

    def _plot_tiers(self, stats: Stats) -> None:
        widget = self.query_one("#plot-tiers", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.title("calls per tier")
        calls: dict[str, int] = {}
        for tier, _, n, _ in stats.tier_distribution:
            key = f"T{tier}" if tier is not None else "?"
            calls[key] = calls.get(key, 0) + n
        if calls:
            plt.bar(list(calls), list(calls.values()))
        widget.refresh()

    def _plot_skills(self, stats: Stats) -> None:
        widget = self.query_one("#plot-skills", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.title("top skills (loads)")
        top = stats.skill_usage[:6]
        if top:
            plt.bar([n.removeprefix("aria-") for n, _, _ in top], [c for _, c, _ in top],
                    orientation="horizontal")
        widget.refresh()


def _figure(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _cache_hits(hits: int | None) -> str:
    """The result cache's hits in the period; "no cache yet" while it holds nothing."""
    return "no cache yet" if hits is None else f"{hits:,}"


def figures_text(stats: Stats) -> str:
    lines = [f"cost: today ${stats.cost_today:.4f} · 7 days ${stats.cost_week:.4f} · "
             f"30 days ${stats.cost_month:.4f}",
             f"sessions {stats.sessions:,} · tokens {stats.tokens:,} · completed replies "
             f"{stats.completed_replies:,} · tokens per completed task "
             f"{stats.tokens_per_completed_task or '-'}",
             f"saved by compression {stats.tokens_saved_by_compression:,} tokens · by lazy "
             f"skills {_figure(stats.tokens_saved_by_lazy_skills)} tokens "
             f"({stats.skill_tokens_loaded:,} loaded over {stats.requests:,} requests) · "
             f"cache hits: {_cache_hits(stats.cache_hits)}",
             "", "tokens per task type"]
    lines += [f"  {t:<12} {tokens:>10,} tokens {calls:>6} calls"
              for t, tokens, calls in stats.tokens_by_task_type] or ["  none yet"]
    lines += ["", "models"]
    lines += [f"  T{tier if tier is not None else '?'} {model:<36} {calls:>6} calls "
              f"{tokens:>10,} tokens" for tier, model, calls, tokens in stats.tier_distribution
              ] or ["  none yet"]
    return "\n".join(lines)
