"""The benchmark's figures: tokens and dollars beside what they cost in capability.

Pure arithmetic over the pipelines' records, so a test can check it against totals
worked out by hand. The text table and the JSON carry the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tokenopt_tui.core.bench.pipelines import PIPELINES
from tokenopt_tui.core.bench.runner import RequestRecord, RunResult, TaskRecord
from tokenopt_tui.core.bench.swarm import SwarmTaskRecord

#: The plan's figures (its "current state" and its success criteria).
PLAN_BASELINE_USD = 2.0
TARGET_USD = 0.50
TARGET_FREE_SHARE = 0.80
TARGET_SESSION_TOKENS = 30_000
TARGET_SKILL_MS = 100.0
TARGET_REDUCTION = 0.80
PAID_TIER = 4


@dataclass(frozen=True)
class Figures:
    """One pipeline over one part of the workload (all tasks, or the held-out ones)."""

    pipeline: str
    part: str
    tasks: int
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    paid_tokens: int
    cost_usd: float
    tier_share: dict[int, float]  # answered requests per plan tier / all requests
    free_share: float  # requests answered on a free tier / all requests
    session_avg: float
    session_p95: float
    sessions: int
    skill_p50_ms: float
    skill_p95_ms: float
    started_below_need: float
    answered_below_need: float
    escalated: float  # requests the simulated user asked again one tier up
    finally_below_need: float  # still below need after those retries
    failed: int
    skill_recall: float
    skill_precision: float
    skills_needed: int
    skills_loaded: int
    probes: int
    probes_kept: int
    tasks_compacted: int
    tasks_halted: int
    quota_spill: int  # requests that met a free-quota 429 on the way
    cache_hits: int  # requests answered from the result cache
    seconds: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def probe_retention(self) -> float:
        return self.probes_kept / self.probes if self.probes else 1.0

    @property
    def skills_missed(self) -> int:
        return self.skills_needed - round(self.skill_recall * self.skills_needed)

    @property
    def capability_lost(self) -> int:
        """Requests answered below the tier they need or not at all, needed skills not
        loaded, and probe facts no longer sent: each one a way an answer gets worse."""
        below = round(self.answered_below_need * self.requests)
        return below + self.failed + self.skills_missed + (self.probes - self.probes_kept)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def figures(result: RunResult, part: str = "all") -> Figures:
    keep = (lambda held_out: True) if part == "all" else (lambda held_out: held_out)
    requests = [r for r in result.requests if keep(r.held_out)]
    tasks = [t for t in result.tasks if keep(t.held_out)]
    return _figures(result.pipeline.name, part, requests, tasks, result.seconds)


def _figures(name: str, part: str, requests: list[RequestRecord], tasks: list[TaskRecord],
             seconds: float) -> Figures:
    calls = [c for r in requests for c in r.calls]
    n = len(requests) or 1
    answered = [r.answered_tier for r in requests if r.answered_tier is not None]
    tier_share = {tier: answered.count(tier) / n for tier in sorted(set(answered))}
    sessions = [tokens for t in tasks for tokens in t.session_tokens]
    selects = [r.skill_select_ms for r in requests if r.skill_select_ms > 0]
    needed = sum(len(r.skills_needed) for r in requests)
    loaded = sum(len(r.skills_loaded) for r in requests)
    hits = sum(len(set(r.skills_needed) & set(r.skills_loaded)) for r in requests)
    return Figures(
        pipeline=name, part=part, tasks=len(tasks), requests=len(requests),
        input_tokens=sum(c.prompt_tokens for c in calls),
        output_tokens=sum(c.completion_tokens for c in calls),
        cached_tokens=sum(c.cached_tokens for c in calls),
        paid_tokens=sum(c.prompt_tokens + c.completion_tokens for c in calls
                        if c.tier == PAID_TIER),
        cost_usd=sum(c.cost_usd for c in calls),
        tier_share=tier_share,
        free_share=sum(1 for t in answered if t != PAID_TIER) / n,
        session_avg=sum(sessions) / len(sessions) if sessions else 0.0,
        session_p95=percentile(sessions, 95), sessions=len(sessions),
        skill_p50_ms=percentile(selects, 50), skill_p95_ms=percentile(selects, 95),
        started_below_need=sum(r.started_below_need for r in requests) / n,
        answered_below_need=sum(r.answered_below_need for r in requests) / n,
        escalated=sum(1 for r in requests if r.escalations) / n,
        finally_below_need=sum(r.finally_below_need for r in requests) / n,
        failed=sum(1 for r in requests if r.answered_tier is None),
        skill_recall=hits / needed if needed else 1.0,
        skill_precision=hits / loaded if loaded else 1.0,
        skills_needed=needed, skills_loaded=loaded,
        probes=sum(t.probes for t in tasks), probes_kept=sum(t.probes_kept for t in tasks),
        tasks_compacted=sum(1 for t in tasks if t.compactions),
        tasks_halted=sum(1 for t in tasks if t.halts),
        quota_spill=sum(1 for r in requests if r.quota_refusals),
        cache_hits=sum(1 for r in requests if r.cache_hit),
        seconds=seconds,
    )


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    value: str
    met: bool
    why: str  # the reason when missed, empty when met


@dataclass(frozen=True)
class Saving:
    """What one mechanism saves: its ablation minus the optimized pipeline."""

    mechanism: str
    tokens: int
    cost_usd: float
    capability_lost_without: int  # capability lost with the mechanism off
    capability_lost_with: int


@dataclass(frozen=True)
class SwarmFigures:
    """The complex tasks of one part: the cycle against the single call."""

    part: str
    tasks: int
    single_tokens: int
    cycle_tokens: int
    single_cost_usd: float
    cycle_cost_usd: float
    reserved: int
    used: int
    max_share_used: float  # the largest used / reserved of any cycle (≤ 1 by design)
    passed_first: int  # the Validator passed the first Worker result
    passed: int  # passed in the end (after retries)
    retries: int
    stalled: int
    over_budget: int
    refused: int  # cycles that could not start for want of budget
    checks_failed: int  # Worker results sent back by the mechanical checks
    validator_model_calls: int
    cycle_meets_need: int  # accepted, on the tier needed, mechanical checks passing
    single_meets_need: int
    tokens_by_role: dict[str, int]

    @property
    def ratio(self) -> float:
        """What the cycle costs in tokens, in single calls."""
        return self.cycle_tokens / self.single_tokens if self.single_tokens else 0.0


def swarm_figures(records: Sequence[SwarmTaskRecord], part: str = "all") -> SwarmFigures:
    rows = [r for r in records if part == "all" or r.held_out]
    roles: dict[str, int] = {}
    for r in rows:
        for role, tokens in r.tokens_by_role.items():
            roles[role] = roles.get(role, 0) + tokens
    return SwarmFigures(
        part=part, tasks=len(rows), single_tokens=sum(r.single_tokens for r in rows),
        cycle_tokens=sum(r.call_tokens for r in rows),
        single_cost_usd=sum(r.single_cost_usd for r in rows),
        cycle_cost_usd=sum(r.cost_usd for r in rows),
        reserved=sum(r.reserved for r in rows), used=sum(r.used for r in rows),
        max_share_used=max((r.share_used for r in rows), default=0.0),
        passed_first=sum(r.first_pass for r in rows), passed=sum(r.passed for r in rows),
        retries=sum(r.retries for r in rows),
        stalled=sum(r.verdict == "stalled" for r in rows),
        over_budget=sum(r.verdict == "over_budget" for r in rows),
        refused=sum(bool(r.refused) for r in rows),
        checks_failed=sum(r.checks_failed for r in rows),
        validator_model_calls=sum(r.validator_model_calls for r in rows),
        cycle_meets_need=sum(r.cycle_meets_need for r in rows),
        single_meets_need=sum(r.single_meets_need for r in rows),
        tokens_by_role={k: roles[k] for k in sorted(roles)})


@dataclass(frozen=True)
class SwarmSection:
    all: SwarmFigures
    held_out: SwarmFigures
    tasks: list[SwarmTaskRecord]

    def to_json(self) -> dict[str, object]:
        def fig(f: SwarmFigures) -> dict[str, object]:
            return {**asdict(f), "ratio": f.ratio}

        return {"all": fig(self.all), "held_out": fig(self.held_out), "tasks": [
            {"task_id": r.task_id, "held_out": r.held_out, "needed_tier": r.needed_tier,
             "single_tokens": r.single_tokens, "single_tier": r.single_tier,
             "single_meets_need": r.single_meets_need, "cycle_tokens": r.call_tokens,
             "ratio": r.ratio, "reserved": r.reserved, "used": r.used,
             "share_used": r.share_used, "verdict": r.verdict, "attempts": r.attempts,
             "first_pass": r.first_pass, "worker_tier": r.worker_tier,
             "checks_ok": r.checks_ok, "cycle_meets_need": r.cycle_meets_need,
             "tokens_by_role": r.tokens_by_role, "cost_usd": r.cost_usd,
             "seconds_by_role": {k: round(v, 3) for k, v in r.seconds_by_role.items()},
             "wall_s": round(r.wall_s, 3), "refused": r.refused} for r in self.tasks]}


def swarm_section(results: Iterable[RunResult]) -> SwarmSection | None:
    records = next((r.swarm for r in results if r.swarm), None)
    if not records:
        return None
    return SwarmSection(swarm_figures(records), swarm_figures(records, "held_out"),
                        list(records))


@dataclass(frozen=True)
class Report:
    figures: dict[str, Figures]  # every pipeline, all tasks
    held_out: dict[str, Figures]  # every pipeline, held-out tasks only
    targets: list[Target]
    savings: list[Saving]
    workload: dict[str, Any]
    swarm: SwarmSection | None = None

    def to_json(self) -> dict[str, object]:
        def fig(f: Figures) -> dict[str, object]:
            d = asdict(f)
            d["tier_share"] = {str(k): v for k, v in f.tier_share.items()}
            d.update(tokens=f.tokens, probe_retention=f.probe_retention,
                     skills_missed=f.skills_missed, capability_lost=f.capability_lost)
            return d

        return {
            "workload": self.workload, "plan_baseline_usd": PLAN_BASELINE_USD,
            "pipelines": {k: fig(v) for k, v in self.figures.items()},
            "held_out": {k: fig(v) for k, v in self.held_out.items()},
            "targets": [asdict(t) for t in self.targets],
            "savings": [asdict(s) for s in self.savings],
            "swarm": self.swarm.to_json() if self.swarm is not None else None,
        }


def build_report(results: Iterable[RunResult], workload: dict[str, Any]) -> Report:
    results = list(results)
    all_figures = {r.pipeline.name: figures(r) for r in results}
    held = {r.pipeline.name: figures(r, "held_out") for r in results}
    section = swarm_section(results)
    return Report(all_figures, held, targets(all_figures, held),
                  savings(all_figures, section.all if section else None), workload, section)


def savings(by_name: dict[str, Figures], swarm: SwarmFigures | None = None) -> list[Saving]:
    """Each ablation minus optimized; the swarm's line is the single calls minus the
    cycles on the complex tasks (its row also carries the whole day, as optimized)."""
    optimized = by_name.get("optimized")
    if optimized is None:
        return []
    out = []
    for pipeline in PIPELINES:
        if pipeline.name not in by_name:
            continue
        variant = by_name[pipeline.name]
        if pipeline.swarm:
            if swarm is not None:
                base_lost = optimized.capability_lost
                out.append(Saving("swarm", swarm.single_tokens - swarm.cycle_tokens,
                                  swarm.single_cost_usd - swarm.cycle_cost_usd,
                                  base_lost + swarm.tasks - swarm.single_meets_need,
                                  base_lost + swarm.tasks - swarm.cycle_meets_need))
            continue
        if (off := pipeline.mechanism_off) is not None:
            out.append(Saving(off, variant.tokens - optimized.tokens,
                              variant.cost_usd - optimized.cost_usd,
                              variant.capability_lost, optimized.capability_lost))
        elif (on := pipeline.mechanism_on) is not None:  # a saving < 0: what it costs
            out.append(Saving(on, optimized.tokens - variant.tokens,
                              optimized.cost_usd - variant.cost_usd,
                              optimized.capability_lost, variant.capability_lost))
    return out


def targets(by_name: dict[str, Figures], held: dict[str, Figures]) -> list[Target]:
    """The plan's success criteria, each met or missed by the optimized pipeline."""
    o, base = by_name.get("optimized"), by_name.get("baseline")
    if o is None:
        return []
    out = [
        _target("daily cost", f"< ${TARGET_USD:.2f}", f"${o.cost_usd:.3f}",
                o.cost_usd < TARGET_USD, _cost_why(o)),
        _target("tasks on free models", f">= {TARGET_FREE_SHARE:.0%}", f"{o.free_share:.1%}",
                o.free_share >= TARGET_FREE_SHARE,
                f"{1 - o.free_share:.1%} paid or failed"),
        _target("average session", f"< {TARGET_SESSION_TOKENS:,} tokens",
                f"{o.session_avg:,.0f} tokens", o.session_avg < TARGET_SESSION_TOKENS,
                f"p95 {o.session_p95:,.0f}"),
        _target("skill load (p95)", f"< {TARGET_SKILL_MS:.0f} ms", f"{o.skill_p95_ms:.1f} ms",
                o.skill_p95_ms < TARGET_SKILL_MS, "matching and reading bodies is slow"),
    ]
    if base is not None and base.tokens:
        reduction = 1 - o.tokens / base.tokens
        out.append(_target("tokens vs baseline", f"-{TARGET_REDUCTION:.0%}", f"{-reduction:+.1%}",
                           reduction >= TARGET_REDUCTION,
                           "the local tier still reads every prompt in full"))
        lost, base_lost = o.capability_lost, base.capability_lost
        h = held.get("optimized")
        held_note = (f"; held-out part: {h.answered_below_need:.1%} answered below need, "
                     f"{h.failed} failed, {h.skills_missed} of {h.skills_needed} skills "
                     f"missed, {h.probes - h.probes_kept} probes lost"
                     if h is not None else "")
        out.append(_target(
            "no loss of task success", f"<= baseline ({base_lost})", str(lost), lost <= base_lost,
            f"{o.answered_below_need:.1%} of requests answered below the tier they need, "
            f"{o.failed} not answered, {o.skills_missed} of {o.skills_needed} needed skills "
            f"not loaded, {o.probes - o.probes_kept} of {o.probes} probe facts "
            f"lost{held_note}"))
    return out


def _cost_why(o: Figures) -> str:
    return f"paid tier took {o.tier_share.get(PAID_TIER, 0.0):.1%} of requests"


def _target(name: str, goal: str, value: str, met: bool, why: str) -> Target:
    return Target(name, goal, value, met, "" if met else why)


# -- the text table ------------------------------------------------------------------

def render(report: Report) -> str:
    """The report as plain text (callers sanitise nothing: no model text is in it)."""
    lines: list[str] = []
    w = report.workload
    quota = (f"free quota {w.get('free_per_minute', 0)}/min, {w.get('free_per_day', 0)}/day"
             if w.get("mode", "replay") == "replay" else "generated by the real models, "
             "free quota not simulated")
    lines.append(f"Workload: {w.get('tasks', 0)} tasks ({w.get('held_out_tasks', 0)} held out), "
                 f"{w.get('requests', 0)} requests, {w.get('mode', 'replay')}: {quota}"
                 + (f"; {w['complex_tasks']} complex tasks ({w.get('complex_held_out', 0)} "
                    "held out) for the swarm rows" if w.get("complex_tasks") else ""))
    lines.append("")
    header = (f"{'pipeline':<15}{'in tok':>11}{'out tok':>10}{'cached in':>11}{'$/day':>9}"
              f"{'vs base':>9}{'free':>7}{'tiers 1/2/3/4 %':>17}{'sess avg':>10}{'p95':>9}"
              f"{'skill p50/p95 ms':>18}")
    lines.append(header)
    base = report.figures.get("baseline")
    for name, f in report.figures.items():
        vs = f"{f.tokens / base.tokens - 1:+.0%}" if base and base.tokens else "-"
        tiers = "/".join(f"{100 * f.tier_share.get(t, 0.0):.0f}" for t in (1, 2, 3, PAID_TIER))
        skill = f"{f.skill_p50_ms:.1f}/{f.skill_p95_ms:.1f}"
        lines.append(f"{name:<15}{f.input_tokens:>11,}{f.output_tokens:>10,}"
                     f"{f.cached_tokens:>11,}{f.cost_usd:>9.3f}{vs:>9}{f.free_share:>7.0%}"
                     f"{tiers:>17}{f.session_avg:>10,.0f}{f.session_p95:>9,.0f}{skill:>18}")
    lines.append("")
    lines.append("Capability (all tasks | held-out tasks):")
    cap = (f"{'pipeline':<15}{'start<need':>11}{'answer<need':>12}{'escal':>7}{'final<need':>11}"
           f"{'failed':>7}"
           f"{'skill R':>8}{'skill P':>8}{'probes':>10}{'halted':>7}{'spill':>6}{'hits':>6}")
    lines.append(cap)
    for name, f in report.figures.items():
        h = report.held_out.get(name)
        lines.append(_capability_line(name, f))
        if h is not None:
            lines.append(_capability_line("  held out", h))
    if report.savings:
        lines.append("")
        lines.append("What each mechanism saves (optimized without it, minus optimized; "
                     "negative: what it costs):")
        for s in report.savings:
            lines.append(f"  {s.mechanism:<12} {s.tokens:>+12,} tokens  {s.cost_usd:>+8.3f} $/day"
                         f"   capability lost without it {s.capability_lost_without}, "
                         f"with it {s.capability_lost_with}")
    if base is not None:
        lines.append("")
        lines.append(f"Baseline check: ${base.cost_usd:.2f}/day here against the plan's "
                     f"~${PLAN_BASELINE_USD:.2f}/day.")
    if report.swarm is not None:
        lines.append("")
        lines.extend(render_swarm(report.swarm))
    if report.targets:
        lines.append("")
        lines.append("The plan's targets (optimized pipeline):")
        for t in report.targets:
            mark = "met   " if t.met else "MISSED"
            why = f"  ({t.why})" if t.why else ""
            lines.append(f"  {mark} {t.name:<24} {t.goal:<20} {t.value}{why}")
    return "\n".join(lines)


def _capability_line(name: str, f: Figures) -> str:
    probes = f"{f.probes_kept}/{f.probes}"
    return (f"{name:<15}{f.started_below_need:>11.1%}{f.answered_below_need:>12.1%}"
            f"{f.escalated:>7.1%}{f.finally_below_need:>11.1%}{f.failed:>7}{f.skill_recall:>8.0%}{f.skill_precision:>8.0%}{probes:>10}"
            f"{f.tasks_halted:>7}{f.quota_spill:>6}{f.cache_hits:>6}")


def render_swarm(section: SwarmSection) -> list[str]:
    """The swarm section: per complex task, then the totals of each part."""
    lines = ["Swarm (complex tasks: Explorer -> Worker -> Validator cycle vs one call of "
             "the optimized pipeline):",
             f"{'task':<14}{'need':>5}{'single':>8}{'cycle':>8}{'x':>6}{'used/resv':>14}"
             f"{'share':>7}{'verdict':>12}{'tries':>6}{'1st':>5}{'wkr tier':>9}"
             f"{'checks':>7}{'need met s/c':>14}"]
    for r in section.tasks:
        held = "*" if r.held_out else ""
        lines.append(
            f"{r.task_id + held:<14}{r.needed_tier:>5}{r.single_tokens:>8,}{r.call_tokens:>8,}"
            f"{r.ratio:>6.1f}{f'{r.used:,}/{r.reserved:,}':>14}{r.share_used:>7.0%}"
            f"{r.verdict or 'refused':>12}{r.attempts:>6}{'yes' if r.first_pass else 'no':>5}"
            f"{r.worker_tier or '-':>9}{'ok' if r.checks_ok else 'fail':>7}"
            f"{_yes(r.single_meets_need) + '/' + _yes(r.cycle_meets_need):>14}")
    lines.append("  (* held out)")
    for f in (section.all, section.held_out):
        if not f.tasks:
            continue
        name = "all" if f.part == "all" else "held out"
        roles = ", ".join(f"{k} {v:,}" for k, v in f.tokens_by_role.items())
        lines.append(
            f"  {name}: {f.tasks} tasks; tokens cycle {f.cycle_tokens:,} vs single "
            f"{f.single_tokens:,} (x{f.ratio:.2f}), ${f.cycle_cost_usd:.4f} vs "
            f"${f.single_cost_usd:.4f}; reservation used max {f.max_share_used:.0%} "
            f"({f.used:,} of {f.reserved:,})")
        lines.append(
            f"    validator pass {f.passed_first}/{f.tasks} first attempt, {f.passed}/{f.tasks} "
            f"after retries; {f.retries} retries ({f.checks_failed} sent back by the "
            f"mechanical checks, {f.validator_model_calls} validator model calls); "
            f"{f.stalled} stalled, {f.over_budget} over budget, {f.refused} refused")
        lines.append(
            f"    need met (tier and checks): cycle {f.cycle_meets_need}/{f.tasks}, single "
            f"call {f.single_meets_need}/{f.tasks}; tokens by role: {roles}")
    return lines


def _yes(value: bool) -> str:
    return "yes" if value else "no"
