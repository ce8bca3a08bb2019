"""`tokenopt bench`: its arithmetic by hand, the replay through the real session, the
workload's determinism and held-out part, the CLI and live mode on real models."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli, write_config
from tokenopt_tui.config import Config
from tokenopt_tui.core.bench.pipelines import PIPELINES
from tokenopt_tui.core.bench.report import build_report, figures, percentile, render
from tokenopt_tui.core.bench.runner import (
    Call,
    PipelineRun,
    RequestRecord,
    RunResult,
    TaskRecord,
    run_pipelines,
)
from tokenopt_tui.core.bench.workload import Task, WorkloadError, load_workload, read_tasks
from tokenopt_tui.core.routing.classify import RoutingDecision
from tokenopt_tui.core.tokens import count_tokens

PIPELINE = {p.name: p for p in PIPELINES}
KIMI_IN, KIMI_OUT = 0.57, 2.30  # $ per million tokens, the default price table


def _request(task: str, turn: int, need: int, answered: int | None, calls: list[Call], *,
             first: int | None = None, skills_needed: tuple[str, ...] = (),
             skills_loaded: tuple[str, ...] = (), ms: float = 0.0, refusals: int = 0,
             held_out: bool = False) -> RequestRecord:
    return RequestRecord(task, held_out, "direct_chat", turn, need, "chat", skills_needed,
                         first_tier=first if first is not None else answered,
                         answered_tier=answered, calls=calls, skills_loaded=skills_loaded,
                         skill_select_ms=ms, quota_refusals=refusals)


def test_report_arithmetic_matches_totals_worked_out_by_hand() -> None:
    requests = [
        # a: local answer, right skill loaded
        _request("a", 0, 1, 1, [Call(1, 1000, 100, 0, 0.0)], skills_needed=("aria-logs",),
                 skills_loaded=("aria-logs",), ms=2.0),
        # a: needs tier 2, answered locally (under-routed), a wrong skill loaded
        _request("a", 1, 2, 1, [Call(1, 2000, 200, 0, 0.0)], skills_loaded=("aria-sql",),
                 ms=4.0),
        # b: needs tier 3, quota refused on the way, paid answered
        _request("b", 0, 3, 4, [Call(4, 3000, 300, 500, 0.00240)], first=4,
                 skills_needed=("aria-deploy",), ms=6.0, refusals=2, held_out=True),
        # b: nobody answered
        _request("b", 1, 1, None, [], held_out=True),
    ]
    tasks = [TaskRecord("a", False, "direct_chat", [1300, 1700], compactions=1, probes=3,
                        probes_kept=2),
             TaskRecord("b", True, "direct_chat", [3300], halts=1, probes=1, probes_kept=1)]
    result = RunResult(PIPELINE["optimized"], requests, tasks, 1.5)
    f = figures(result)
    assert (f.input_tokens, f.output_tokens, f.cached_tokens) == (6000, 600, 500)
    assert f.tokens == 6600 and f.paid_tokens == 3300
    assert f.cost_usd == pytest.approx(0.00240)
    assert f.tier_share == {1: 0.5, 4: 0.25}
    assert f.free_share == 0.5  # 2 of 4 requests answered on a free tier
    assert f.started_below_need == 0.25 and f.answered_below_need == 0.25
    assert f.failed == 1
    assert (f.skill_recall, f.skill_precision) == (0.5, 0.5)  # 1 hit of 2 needed, 2 loaded
    assert (f.session_avg, f.session_p95, f.sessions) == (2100.0, 3300.0, 3)
    assert (f.skill_p50_ms, f.skill_p95_ms) == (4.0, 6.0)
    assert (f.probes, f.probes_kept, f.probe_retention) == (4, 3, 0.75)
    assert (f.tasks_compacted, f.tasks_halted, f.quota_spill) == (1, 1, 1)
    assert f.skills_missed == 1  # aria-deploy was needed and not loaded
    assert f.capability_lost == 1 + 1 + 1 + 1  # under-routed, unanswered, skill, probe
    held = figures(result, "held_out")
    assert (held.requests, held.tasks, held.input_tokens, held.failed) == (2, 1, 3000, 1)
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([], 95) == 0.0


def test_savings_are_each_ablation_minus_optimized_and_targets_say_why() -> None:
    def run(name: str, prompt: int, cost: float, answered: int) -> RunResult:
        return RunResult(PIPELINE[name], [_request("t", 0, 2, answered,
                                                   [Call(answered, prompt, 10, 0, cost)])],
                         [TaskRecord("t", False, "direct_chat", [prompt + 10])], 0.1)

    report = build_report([run("baseline", 10_000, 1.20, 4), run("optimized", 900, 0.0, 1),
                           run("no_router", 1_200, 0.60, 4)], {"tasks": 1, "requests": 1})
    (saving,) = report.savings
    assert (saving.mechanism, saving.tokens, saving.cost_usd) == ("router", 300, 0.60)
    assert (saving.capability_lost_without, saving.capability_lost_with) == (0, 1)
    by_name = {t.name: t for t in report.targets}
    assert by_name["tokens vs baseline"].met  # 910 of 10,010
    lost = by_name["no loss of task success"]
    assert not lost.met and "100.0% of requests answered below the tier they need" in lost.why
    text = render(report)
    assert "MISSED no loss of task success" in text and "router" in text
    assert json.loads(json.dumps(report.to_json()))["savings"][0]["tokens"] == 300


def _write_workload(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    long_log = "2026-12-04T02:00:01Z backup[311]: copied /srv/db/part-{n:04d} ok\n"
    tasks = [
        {"id": "direct_chat-1", "session_type": "direct_chat", "start_s": 30_000,
         "held_out": False, "title": "disk",
         "turns": [{"user": "how do i see disk usage", "reply": "Run `df -h`.", "tier": 1,
                    "task_type": "ops", "skills": []},
                   {"user": "and per folder?", "reply": "Use `du -sh *`.", "tier": 1,
                    "task_type": "ops", "skills": []}],
         "probes": [{"fact": "disk usage", "turn": 0}]},
        {"id": "cron_job-1", "session_type": "cron_job", "start_s": 7_200, "held_out": True,
         "title": "backup",
         "turns": [{"user": "Summarise the backup log below.\n" + "".join(
             long_log.format(n=n) for n in range(40)), "reply": "All 40 parts copied.",
             "tier": 1, "task_type": "ops", "skills": ["aria-backup"]}],
         "probes": []},
    ]
    for name, held in (("day.jsonl", False), ("held_out.jsonl", True)):
        (folder / name).write_text("".join(json.dumps(t) + "\n" for t in tasks
                                           if t["held_out"] is held))


def test_replay_charges_what_a_hand_count_of_the_messages_says(tmp_path: Path) -> None:
    """always_paid without skills: each request sends the whole history; priced by hand."""
    _write_workload(tmp_path / "wl")
    tasks = load_workload(tmp_path / "wl")
    assert [t.id for t in tasks] == ["cron_job-1", "direct_chat-1"]  # by start time
    (result,) = asyncio.run(run_pipelines(tasks, Config(), None, ("always_paid",)))
    c = count_tokens
    backup = tasks[0].turns[0]
    disk0, disk1 = tasks[1].turns
    prompts = [c(backup.user) + 4,
               c(disk0.user) + 4,
               c(disk0.user) + 4 + c(disk0.reply) + 4 + c(disk1.user) + 4]
    completions = [c(backup.reply), c(disk0.reply), c(disk1.reply)]
    calls = [call for r in result.requests for call in r.calls]
    assert [call.prompt_tokens for call in calls] == prompts
    assert [call.completion_tokens for call in calls] == completions
    assert all(call.tier == 4 for call in calls)
    f = figures(result)
    assert f.cost_usd == pytest.approx((sum(prompts) * KIMI_IN + sum(completions) * KIMI_OUT)
                                       / 1e6)
    assert f.probes_kept == f.probes == 1 and f.failed == 0


def test_the_baseline_pays_again_when_the_local_answer_falls_short(tmp_path: Path) -> None:
    _write_workload(tmp_path / "wl")
    tasks = load_workload(tmp_path / "wl")
    hard = tasks[1].turns[1]
    tasks[1] = type(tasks[1])(**{**tasks[1].__dict__, "turns": (
        tasks[1].turns[0], type(hard)(hard.user, hard.reply, 2, "ops", ()))})
    (base,) = asyncio.run(run_pipelines(tasks, Config(), None, ("baseline",)))
    last = base.requests[-1]
    assert [call.tier for call in last.calls] == [1, 4]  # local, judged short, then paid
    assert last.answered_tier == 4 and last.started_below_need and not last.answered_below_need
    assert last.calls[1].cost_usd > 0 and last.calls[0].cost_usd == 0


def test_a_small_free_quota_spills_over_as_the_router_would(tmp_path: Path) -> None:
    """With one free request a day, the app's quota policy passes over the free hosted
    tiers for the second hard request (before the server would refuse it), and the
    router takes it to the paid tier (enabled in the bench, capped) rather than to the
    weaker local one."""
    _write_workload(tmp_path / "wl")
    tasks = load_workload(tmp_path / "wl")
    turns = tuple(type(t)(t.user, t.reply, 2, "analysis", ()) for t in tasks[1].turns)
    task = type(tasks[1])(**{**tasks[1].__dict__, "turns": turns})
    run = PipelineRun(PIPELINE["optimized"], Config(), None, tmp_path, quota=(20, 1))
    result = asyncio.run(_run_pinned(run, [task]))
    first, second = result.requests
    assert first.answered_tier == 2 and first.quota_refusals == 0
    # tier 2 and both tier-3 endpoints are passed over; paid answers, nothing below need
    assert second.quota_refusals == 3 and second.answered_tier == 4
    assert not second.answered_below_need and second.calls[-1].cost_usd > 0
    assert run.quota.used == 1 and run.quota.refused == 0  # the server never said 429
    assert figures(result).quota_spill == 1


async def _run_pinned(run: PipelineRun, tasks: list[Task]) -> RunResult:
    """Run with every request starting on tier 2 (the classifier is not under test)."""
    from tokenopt_tui.core import session as session_module

    original = session_module.classify

    def tier_two(text: str, **kwargs: Any) -> RoutingDecision:
        return dataclasses.replace(original(text, **kwargs), tier=2)

    session_module.classify = tier_two
    try:
        return await run.run(tasks)
    finally:
        session_module.classify = original


def test_a_malformed_workload_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "day.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(WorkloadError, match=r"day\.jsonl:1: missing key 'turns'"):
        read_tasks(bad)
    bad.write_text(json.dumps({"id": "x", "session_type": "direct_chat", "start_s": 1,
                               "held_out": False, "turns": [{"user": "u", "reply": "r",
                               "tier": 7, "task_type": "chat", "skills": []}],
                               "probes": []}) + "\n")
    with pytest.raises(WorkloadError, match="tier 7"):
        read_tasks(bad)
    with pytest.raises(WorkloadError, match="cannot read"):
        read_tasks(tmp_path / "missing.jsonl")


# -- the checked-in workload ------------------------------------------------------------

def test_the_generator_is_deterministic_and_the_files_are_its_output() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "generate", REPO / "benchmarks" / "workload" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = module.build(), module.build()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert module.main(["--check"]) == 0  # the checked-in files are byte for byte its output


def test_the_day_has_the_shape_the_issue_asks_for() -> None:
    tasks = load_workload()
    kinds = [t.session_type for t in tasks]
    assert kinds.count("direct_chat") >= 60
    assert kinds.count("cron_job") >= 20 and kinds.count("sub_agent") >= 20
    assert sum(1 for t in tasks if len(t.turns) > 20) >= 1
    assert sum(1 for t in tasks if sum(len(x.user) + len(x.reply) for x in t.turns) / 4
               > 50_000) >= 1
    assert 0 < sum(t.held_out for t in tasks) < len(tasks)
    for task in tasks:
        for probe in task.probes:
            turn = task.turns[probe.turn]
            assert probe.fact in turn.user + turn.reply, (task.id, probe.fact)


def test_no_tuning_code_reads_the_held_out_part() -> None:
    """Only the benchmark's loader and the routing floor test name a held-out file
    (and the generator writes one); classifier, matcher and compression code and their
    tuning scripts never do."""
    allowed = {REPO / "tokenopt_tui" / "core" / "bench" / "workload.py",
               REPO / "benchmarks" / "workload" / "generate.py",
               REPO / "tests" / "test_classify.py",  # the routing set's floor, not tuning
               REPO / "benchmarks" / "skill_collections.py",  # the skill set's loader
               Path(__file__).resolve()}
    sources = [*REPO.glob("tokenopt_tui/**/*.py"), *REPO.glob("benchmarks/**/*.py"),
               *REPO.glob("tests/*.py")]
    readers = [str(p.relative_to(REPO)) for p in sources
               if p.resolve() not in allowed and "held_out.jsonl" in p.read_text()]
    assert readers == []
    tuning = [*REPO.glob("tokenopt_tui/core/routing/*.py"),
              *REPO.glob("tokenopt_tui/core/skills/*.py"),
              *REPO.glob("tokenopt_tui/core/compression/*.py"),
              REPO / "benchmarks" / "bench_routing.py", REPO / "benchmarks" / "bench_skills.py",
              REPO / "benchmarks" / "routing_examples.py"]
    assert [str(p) for p in tuning if "core.bench" in p.read_text()
            or "held_out.jsonl" in p.read_text()] == []
    # The classifier's neighbours are built from tuning parts only: no held-out prompt
    # of either routing set is among its examples.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "routing_examples", REPO / "benchmarks" / "routing_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tuning_rows = {row["prompt"] for row in module.tuning_prompts()}
    data = REPO / "tests" / "data"
    independent = [json.loads(line) for line in
                   (data / "routing_independent" / "held_out.jsonl").read_text().splitlines()]
    original = [json.loads(line) for line in
                (data / "routing_prompts.jsonl").read_text().splitlines() if line.strip()]
    held = [r["prompt"] for r in independent] + [r["prompt"] for r in original
                                                 if r.get("held_out")]
    assert len(held) > 100 and tuning_rows.isdisjoint(held)


# -- the command ------------------------------------------------------------------------

def test_bench_command_prints_the_table_and_the_same_figures_as_json(
        tmp_path: Path, xdg_env: dict[str, str]) -> None:
    _write_workload(tmp_path / "wl")
    args = ["bench", "--workload", str(tmp_path / "wl")]
    table = run_cli(args, xdg_env, timeout=240)
    assert table.returncode == 0, table.stderr
    as_json = run_cli([*args, "--json"], xdg_env, timeout=240)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert set(data["pipelines"]) == {p.name for p in PIPELINES}
    for name, f in data["pipelines"].items():
        row = re.search(rf"^{name}\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)", table.stdout,
                        re.M)
        assert row is not None, name
        assert [int(row.group(i).replace(",", "")) for i in (1, 2, 3)] == [
            f["input_tokens"], f["output_tokens"], f["cached_tokens"]]
        assert float(row.group(4)) == pytest.approx(f["cost_usd"], abs=0.0005)
    assert "The plan's targets" in table.stdout and "held out" in table.stdout
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT mode, report FROM bench_runs ORDER BY id").fetchall()
    assert [mode for mode, _ in kept] == ["replay", "replay"]
    assert json.loads(kept[-1][1])["pipelines"] == data["pipelines"]


def test_bench_command_rejects_bad_options_clearly(tmp_path: Path,
                                                  xdg_env: dict[str, str]) -> None:
    result = run_cli(["bench", "--pipelines", "optimized,turbo"], xdg_env, timeout=60)
    assert result.returncode == 2 and "unknown turbo" in result.stderr
    result = run_cli(["bench", "--workload", str(tmp_path / "none")], xdg_env, timeout=60)
    assert result.returncode == 2 and "day.jsonl" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_live_runs_two_tasks_on_the_real_models(
        tmp_path: Path, xdg_env: dict[str, str], prepared_model: Path) -> None:
    """The embedded model in process for tier 1, two mlx_lm.server processes on loopback
    for the hosted tiers; every turn is answered and timed."""
    _write_workload(tmp_path / "wl")
    result = run_cli(["bench", "--live", "2", "--workload", str(tmp_path / "wl"), "--json"],
                     xdg_env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    live = data["live"]
    assert len(live["tasks"]) == 2 and len(live["wall_s_per_turn"]) == 3
    assert all(w > 0 for w in live["wall_s_per_turn"])
    assert all(t is not None and t > 0 for t in live["first_token_s_per_turn"])
    optimized = data["pipelines"]["optimized"]
    assert optimized["failed"] == 0 and optimized["output_tokens"] > 0
    assert optimized["requests"] == 3


# -- the swarm rows ---------------------------------------------------------------------

GOOD_PY = "`tidy.py`:\n\n```python\ndef tidy(text: str) -> str:\n    return text.strip()\n```"
BROKEN_PY = "`tidy.py`:\n\n```python\ndef tidy(text: str) -> str\n    return text.strip()\n```"


def _complex(task_id: str, held_out: bool, workers: list[str], verdicts: list[str],
             start_s: int = 40_000) -> dict[str, Any]:
    return {"id": task_id, "session_type": "direct_chat", "start_s": start_s,
            "held_out": held_out, "title": task_id, "probes": [],
            "turns": [{"user": "Write a Python script `tidy.py` with a function `tidy` that "
                       "strips text, and a test.", "reply": GOOD_PY, "tier": 3,
                       "task_type": "code", "skills": []}],
            "swarm": {"explorer": "1. strip(): pro: short; con: none.\nRecommend option 1.",
                      "workers": workers, "verdicts": verdicts}}


def _write_complex(folder: Path, first_worker: str = BROKEN_PY,
                   verdicts: tuple[str, ...] = ("PASS",)) -> None:
    """The small workload plus two complex tasks: one in each part."""
    _write_workload(folder)
    tasks = {"day.jsonl": _complex("complex-a", False, [first_worker, GOOD_PY], list(verdicts)),
             "held_out.jsonl": _complex("complex-b", True, [GOOD_PY],
                                        ["RETRY: no test", "PASS"], 41_000)}
    for name, task in tasks.items():
        with (folder / name).open("a") as fh:
            fh.write(json.dumps(task) + "\n")


def _swarm_run(folder: Path, config: Config | None = None) -> RunResult:
    from tokenopt_tui.core.bench.workload import split_complex

    day, complex_tasks = split_complex(load_workload(folder))
    assert [t.id for t in complex_tasks] == ["complex-a", "complex-b"]
    (result,) = asyncio.run(run_pipelines(day, config or Config(), None, ("with_swarm",),
                                          complex_tasks=complex_tasks))
    return result


def test_the_swarm_section_comes_from_the_run_and_the_held_out_part_apart(
        tmp_path: Path) -> None:
    """Replayed Worker texts go through the cycle's real checks and verdict parser:
    a broken first result is sent back (a retry), a good one passes first time; the
    figures follow the workload, and the held-out task is reported on its own."""
    from tokenopt_tui.core.bench.report import swarm_section

    _write_complex(tmp_path / "broken")
    result = _swarm_run(tmp_path / "broken")
    a, b = result.swarm
    assert (a.verdict, a.attempts, a.checks_failed, a.first_pass) == ("pass", 2, 1, False)
    assert (b.verdict, b.attempts, b.checks_failed, b.validator_model_calls) == (
        "pass", 2, 0, 2)  # the replayed verdict said RETRY once
    assert a.single_tokens > 0 and a.call_tokens == sum(a.tokens_by_role.values())
    assert set(a.tokens_by_role) == {"explorer", "worker", "validator"}
    assert a.checks_ok and a.single_checks_ok
    assert a.worker_tier is not None and a.cycle_meets_need == (a.worker_tier >= 3)
    section = swarm_section([result])
    assert section is not None
    assert section.all.tasks == 2 and section.held_out.tasks == 1
    assert section.held_out.cycle_tokens == b.call_tokens
    assert section.all.cycle_tokens == a.call_tokens + b.call_tokens
    assert (section.all.passed_first, section.all.passed, section.all.retries) == (0, 2, 2)
    # The with_swarm row carries the day and one request per cycle, every role's calls.
    cycle_rows = [r for r in result.requests if r.task_id.startswith("complex")]
    assert sum(c.prompt_tokens + c.completion_tokens for r in cycle_rows for c in r.calls) == (
        section.all.cycle_tokens)

    _write_complex(tmp_path / "good", first_worker=GOOD_PY)
    a2, b2 = _swarm_run(tmp_path / "good").swarm
    assert (a2.attempts, a2.first_pass, a2.checks_failed) == (1, True, 0)
    assert a2.call_tokens < a.call_tokens  # no second Worker call
    assert b2.call_tokens == b.call_tokens  # the other task did not move
    _write_complex(tmp_path / "unclear", first_worker=GOOD_PY, verdicts=("Looks fine.",))
    a3, _ = _swarm_run(tmp_path / "unclear").swarm
    assert a3.verdict == "stalled" and not a3.passed  # never passed on an unclear verdict


def test_a_cycle_never_spends_more_than_its_reservation(tmp_path: Path) -> None:
    """With a parent budget of 1,600 tokens the envelope is 1,600; a Worker result far
    bigger than its share is never sent whole and nothing passes the reservation."""
    _write_complex(tmp_path / "wl", first_worker="```python\n" + "x = 1\n" * 900 + "```")
    base = Config()
    config = dataclasses.replace(base, budgets={**base.budgets, "direct_chat": 1_600})
    result = _swarm_run(tmp_path / "wl", config)
    for record in result.swarm:
        assert 0 < record.reserved <= 1_600
        assert record.used <= record.reserved and record.share_used <= 1.0
    assert result.swarm[0].verdict in ("over_budget", "failed", "stalled", "pass")


def test_bench_command_carries_the_swarm_section_in_the_table_and_the_json(
        tmp_path: Path, xdg_env: dict[str, str]) -> None:
    _write_complex(tmp_path / "wl")
    args = ["bench", "--workload", str(tmp_path / "wl"), "--pipelines", "optimized,with_swarm"]
    table = run_cli(args, xdg_env, timeout=240)
    assert table.returncode == 0, table.stderr
    data = json.loads(run_cli([*args, "--json"], xdg_env, timeout=240).stdout)
    swarm = data["swarm"]
    for task in swarm["tasks"]:
        row = re.search(rf"^{task['task_id']}\*?\s+(\d)\s+([\d,]+)\s+([\d,]+)\s+[\d.]+\s+"
                        rf"([\d,]+)/([\d,]+)\s+\d+%\s+(\w+)\s+(\d+)", table.stdout, re.M)
        assert row is not None, task["task_id"]
        numbers = [int(row.group(i).replace(",", "")) for i in (1, 2, 3, 4, 5, 7)]
        assert numbers == [task["needed_tier"], task["single_tokens"], task["cycle_tokens"],
                           task["used"], task["reserved"], task["attempts"]]
        assert row.group(6) == task["verdict"]
    totals = swarm["all"]
    assert (f"tokens cycle {totals['cycle_tokens']:,} vs single {totals['single_tokens']:,}"
            in table.stdout)
    assert (f"validator pass {totals['passed_first']}/2 first attempt, "
            f"{totals['passed']}/2 after retries") in table.stdout
    assert swarm["held_out"]["tasks"] == 1 and "held out: 1 tasks" in table.stdout
    assert totals["max_share_used"] <= 1.0
    assert data["workload"]["complex_tasks"] == 2 and data["workload"]["tasks"] == 2


def test_bench_live_runs_a_complex_task_through_the_real_cycle(
        tmp_path: Path, xdg_env: dict[str, str], prepared_model: Path) -> None:
    """--live 1 also runs one complex task through the real cycle (embedded model, a
    loopback mlx_lm.server as the free tier) with small role caps: wall time and tokens
    per role are reported; nothing is claimed about the 270M model's quality."""
    _write_complex(tmp_path / "wl")
    write_config(xdg_env, "[swarm]\nexplorer_max_tokens = 24\nworker_max_tokens = 32\n"
                          "validator_max_tokens = 8\nmax_retries = 1\n"
                          "[local]\ntemperature = 0\nmax_tokens = 24\n")
    result = run_cli(["bench", "--live", "1", "--workload", str(tmp_path / "wl"), "--json"],
                     xdg_env, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    (swarm,) = data["live"]["swarm"]
    assert swarm["task_id"] == "complex-a" and swarm["wall_s"] > 0
    assert swarm["verdict"] in ("pass", "failed", "stalled", "over_budget")
    assert swarm["tokens_by_role"]["explorer"] > 0 and swarm["tokens_by_role"]["worker"] > 0
    seconds = swarm["seconds_by_role"]  # a validator sent back by the checks takes ~0 s
    assert seconds["explorer"] > 0 and seconds["worker"] > 0
    (task,) = data["swarm"]["tasks"]
    assert task["used"] <= task["reserved"] and task["single_tokens"] > 0
