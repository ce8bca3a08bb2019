"""The dashboard's Benchmark section: the latest `tokenopt bench` run at a glance.

The store keeps each run's report as the JSON of `Report.to_json()` (plus "seconds");
it is decoded here as plain dicts and checked key by key, so a report that is not JSON
or lacks a key becomes one line naming the fault, never an exception. Nothing stored
is read as markup: the text is shown as Content, through `terminal_safe`.
"""

from __future__ import annotations

import json
from typing import Literal

from textual.content import Content
from textual.widgets import Static

from tokenopt_tui.core.text import terminal_safe

#: (started_at, mode, seconds, report JSON), as `Store.latest_bench_run()` returns it.
BenchRun = tuple[str, str, float, str]
State = Literal["loading", "none", "shown", "fault"]

NO_RUN = "Benchmark: no run yet. Make one with `tokenopt bench`."
#: The figures each pipeline row shows (all must be in the report).
ROW_KEYS = ("input_tokens", "output_tokens", "cost_usd", "free_share", "answered_below_need",
            "skill_recall", "probes", "probes_kept")
TARGET_KEYS = ("name", "goal", "value", "met", "why")
NAME_WIDTH = 15


class ReportFault(Exception):
    """What is wrong with a stored report, in a few words."""


def _field(obj: object, key: str, where: str) -> object:
    if not isinstance(obj, dict):
        raise ReportFault(f"{where} is not an object")
    if key not in obj:
        raise ReportFault(f"{where} lacks {key!r}")
    return obj[key]


def _number(obj: object, key: str, where: str) -> float:
    value = _field(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFault(f"{where}.{key} is not a number")
    return float(value)


def _text(obj: object, key: str, where: str) -> str:
    value = _field(obj, key, where)
    if not isinstance(value, str):
        raise ReportFault(f"{where}.{key} is not text")
    return " ".join(value.split())


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    return name if len(name) <= NAME_WIDTH else name[:NAME_WIDTH - 1] + "…"


def pipeline_line(name: str, figures: object) -> str:
    where = f"pipelines.{_name(name)}"
    n = {key: _number(figures, key, where) for key in ROW_KEYS}
    probes = f"{n['probes_kept']:,.0f}/{n['probes']:,.0f}"
    return (f"  {_name(name):<{NAME_WIDTH}}{n['input_tokens']:>12,.0f}{n['output_tokens']:>10,.0f}"
            f"{n['cost_usd']:>9.3f}{n['free_share']:>7.0%}{n['answered_below_need']:>10.1%}"
            f"{n['skill_recall']:>9.0%}{probes:>12}")


def target_line(index: int, target: object) -> str:
    where = f"targets[{index}]"
    name, goal, value, why = (_text(target, k, where) for k in ("name", "goal", "value", "why"))
    met = _field(target, "met", where)
    if not isinstance(met, bool):
        raise ReportFault(f"{where}.met is not true/false")
    mark = "met   " if met else "MISSED"
    reason = f"  ({why})" if why and not met else ""
    return f"  {mark} {name:<24} {goal:<20} {value}{reason}"


def _count(n: float, noun: str) -> str:
    return f"{n:,.0f} {noun}{'' if n == 1 else 's'}"


def report_lines(report: object) -> list[str]:
    """The table and the targets of one decoded report; ReportFault names a fault."""
    workload = _field(report, "workload", "report")
    tasks = _number(workload, "tasks", "workload")
    requests = _number(workload, "requests", "workload")
    pipelines = _field(report, "pipelines", "report")
    if not isinstance(pipelines, dict):
        raise ReportFault("report.pipelines is not an object")
    if not pipelines:
        raise ReportFault("report.pipelines is empty")
    targets = _field(report, "targets", "report")
    if not isinstance(targets, list):
        raise ReportFault("report.targets is not a list")
    lines = [f"  workload: {_count(tasks, 'task')}, {_count(requests, 'request')}", "",
             f"  {'pipeline':<{NAME_WIDTH}}{'tokens in':>12}{'out':>10}{'$/day':>9}"
             f"{'free':>7}{'ans<need':>10}{'skill R':>9}{'probes kept':>12}"]
    lines += [pipeline_line(str(name), figures) for name, figures in pipelines.items()]
    lines += ["", "  The plan's targets (optimized pipeline):"]
    lines += [target_line(i, t) for i, t in enumerate(targets)] or ["  none in this run"]
    return lines


def bench_view(run: BenchRun | None) -> tuple[State, str]:
    """What the section says about the latest run: (state, plain text)."""
    if run is None:
        return "none", NO_RUN
    started, mode, seconds, raw = run
    when = started[:16].replace("T", " ")
    head = f"Benchmark · latest run {when} UTC · {mode} · {seconds:.1f} s"
    try:
        report = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return "fault", f"Benchmark: the run of {when} UTC can't be shown: not valid JSON ({exc})"
    try:
        lines = report_lines(report)
    except ReportFault as exc:
        return "fault", f"Benchmark: the run of {when} UTC can't be shown: {exc}"
    return "shown", "\n".join([head, *lines])


class BenchPanel(Static):
    """The latest run's table, a one-line hint when there is none, or a one-line fault."""

    def __init__(self) -> None:
        super().__init__(Content(""), id="bench", markup=False)
        self.state: State = "loading"
        self.text = ""

    def show(self, state: State, text: str) -> None:
        self.state, self.text = state, terminal_safe(text)
        self.set_class(state == "fault", "-fault")
        self.set_class(state == "none", "-none")
        self.update(Content(self.text))
