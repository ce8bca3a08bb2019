"""Routing classifier: concrete behaviours and agreement with the labelled prompt set."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tokenopt_tui.core.routing.classify import (
    TASK_TYPES,
    RoutingDecision,
    Thresholds,
    classify,
    estimate_tokens,
)

DATA = Path(__file__).parent / "data" / "routing_prompts.jsonl"


def _load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def _multi_step_analysis(tokens: int) -> str:
    """A long incident analysis ask: a request up front, then pasted notes."""
    ask = (
        "Analyse these incident notes step by step: find the root cause, compare the two "
        "remediation options, and propose a rollout plan with risks.\n\n"
    )
    note = "At 14:05 the checkout service latency rose while the queue depth kept growing. "
    body = note * (tokens * 4 // len(note) + 1)
    return ask + body


def test_code_block_goes_to_coder_tier() -> None:
    prompt = "fix this, it returns None:\n```python\ndef add(a, b):\n    a + b\n```"
    d = classify(prompt)
    assert (d.tier, d.task_type) == (3, "code")
    assert any("code block" in r for r in d.reasons)


def test_hi_is_local_and_short() -> None:
    d = classify("hi")
    assert (d.tier, d.task_type, d.complexity) == (1, "chat", "low")
    assert any("short" in r for r in d.reasons)


def test_long_multi_step_analysis_goes_to_tier_2() -> None:
    prompt = _multi_step_analysis(3_000)
    assert 2_500 < estimate_tokens(prompt) < 4_500
    d = classify(prompt)
    assert (d.tier, d.complexity) == (2, "high")
    assert d.task_type == "analysis"
    assert any(r.startswith("long prompt") for r in d.reasons)
    assert any("step-by-step" in r for r in d.reasons)


def test_trivial_code_question_stays_local() -> None:
    assert classify("what does `ls -la` do").tier == 1
    assert classify("how do I reverse a list in python").tier == 1


def test_brief_answer_keeps_a_comparison_local() -> None:
    d = classify("pros and cons of kafka vs rabbitmq for a job queue, one line each")
    assert d.tier == 1
    assert "asks for a brief answer" in d.reasons


def test_matched_skill_is_a_hint() -> None:
    plain = classify("look at this for me please")
    hinted = classify("look at this for me please", matched_skills=["kubernetes-debug"])
    assert plain.task_type == "chat"
    assert hinted.task_type == "ops"
    assert any("skill hint: kubernetes-debug" in r for r in hinted.reasons)


def test_long_session_nudges_complexity_up() -> None:
    prompt = "Compare Redis and Memcached for our session store and recommend one for a small team."
    fresh = classify(prompt)
    long_run = classify(prompt, history_turns=40, history_tokens=20_000)
    assert (fresh.tier, fresh.complexity) == (1, "medium")
    assert (long_run.tier, long_run.complexity) == (2, "high")
    assert any(r.startswith("long session") for r in long_run.reasons)


def test_thresholds_can_be_overridden() -> None:
    note = "Tom will send the deck on Friday and Mei books the room for the offsite. "
    prompt = "summarise these notes:\n\n" + note * 90  # ~1,500 tokens
    assert classify(prompt).tier == 1
    strict = Thresholds(long_input_tokens=1_000)
    assert classify(prompt, thresholds=strict).tier == 2


def test_never_picks_paid_tier_and_reasons_are_non_empty() -> None:
    for row in _load():
        d = classify(row["prompt"])
        assert d.tier in (1, 2, 3)
        assert d.reasons and all(isinstance(r, str) and r for r in d.reasons)
        assert set(d.scores) == set(TASK_TYPES)


def test_deterministic() -> None:
    prompt = _load()[150]["prompt"]
    first = classify(prompt, history_turns=3, matched_skills=["python"])
    assert all(
        classify(prompt, history_turns=3, matched_skills=["python"]) == first for _ in range(5)
    )
    assert isinstance(first, RoutingDecision)
    with pytest.raises(AttributeError):
        first.tier = 4  # type: ignore[misc]


def test_empty_and_whitespace_prompts() -> None:
    for prompt in ("", "   \n"):
        d = classify(prompt)
        assert d.tier == 1 and d.reasons


def test_labelled_set_is_valid() -> None:
    rows = _load()
    assert len(rows) >= 200
    for row in rows:
        assert row["prompt"].strip()
        assert row["task_type"] in TASK_TYPES
        assert row["tier"] in (1, 2, 3)
    held = [r for r in rows if r.get("held_out")]
    assert 0.2 * len(rows) <= len(held) <= 0.3 * len(rows)
    assert all(r.get("held_out") for r in rows[-len(held) :]), "held-out part is the file's tail"


def test_agreement_with_labels() -> None:
    rows = _load()
    confusion: Counter[tuple[int, int]] = Counter()
    type_ok = 0
    misses: list[str] = []
    for i, row in enumerate(rows):
        d = classify(row["prompt"])
        confusion[(row["tier"], d.tier)] += 1
        type_ok += d.task_type == row["task_type"]
        if d.tier != row["tier"]:
            misses.append(f"  #{i} want {row['tier']} got {d.tier}: {row['prompt'][:70]!r}")
    tier_ok = sum(n for (want, got), n in confusion.items() if want == got)
    table = "\n".join(
        f"  label {want}: " + ", ".join(f"->{got}: {confusion[(want, got)]}" for got in (1, 2, 3))
        for want in (1, 2, 3)
    )
    report = f"tier confusion (label -> predicted):\n{table}\nmisses:\n" + "\n".join(misses)
    assert tier_ok / len(rows) >= 0.90, report
    assert type_ok / len(rows) >= 0.80, report


INDEPENDENT = Path(__file__).parent / "data" / "routing_independent"


def _independent(part: str) -> list[dict]:
    path = INDEPENDENT / f"{part}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_the_independent_untouched_part_holds_its_floor() -> None:
    """The set written by someone who never read these rules, its held-out part never
    used while tuning, as a regression floor at the measured figures (docs/routing.md:
    agreement 0.819, under-routing 7.2%; the issue's targets are 0.90 and 5%). Decision
    time is a benchmark's job (docs/routing.md §4b), not this test's."""
    from tokenopt_tui.core.routing import neighbours

    near = neighbours.load()
    assert near is not None, neighbours.load_error()
    rows = _independent("held_out")
    assert len(rows) >= 80
    tiers = [classify(row["prompt"], neighbours=near).tier for row in rows]
    agree = sum(t == r["tier"] for t, r in zip(tiers, rows, strict=True)) / len(rows)
    under = sum(t < r["tier"] for t, r in zip(tiers, rows, strict=True)) / len(rows)
    assert under <= 0.075, f"under-routing {under:.3f}"
    assert agree >= 0.81, f"agreement {agree:.3f}"


def test_neighbours_only_ever_raise_the_rules_tier() -> None:
    from tokenopt_tui.core.routing import neighbours

    near = neighbours.load()
    assert near is not None
    rows = _independent("tune") + _load()[:40]
    lifted = 0
    for row in rows:
        alone = classify(row["prompt"]).tier
        with_near = classify(row["prompt"], neighbours=near)
        assert with_near.tier >= alone
        if with_near.tier > alone:
            lifted += 1
            assert any("similar asks needed tier" in r for r in with_near.reasons)
    assert lifted > 0


def test_a_broken_embedding_leaves_the_rules_to_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokenopt_tui.core.routing import neighbours

    def broken() -> None:
        raise OSError("wordllama weights missing")

    monkeypatch.setattr(neighbours, "_loaded", None)
    monkeypatch.setattr(neighbours, "_failed", None)
    monkeypatch.setattr(neighbours, "wordllama_embedder", broken)
    assert neighbours.load() is None
    assert "wordllama weights missing" in (neighbours.load_error() or "")
    assert classify("compare postgres and mysql in detail for my startup").tier == 2
