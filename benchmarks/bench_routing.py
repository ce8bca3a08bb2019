"""Routing decision: latency per prompt size and agreement with the labelled set.

Prints figures only (no asserts). Latency is measured with perf_counter_ns over many
repetitions; the issue's target is p99 < 1 ms for prompts up to 10k tokens. Agreement
is reported for the whole set and for its held-out tail (never used for tuning), with
the resulting tier shares next to the plan's 80/15/4/1.

    .venv/bin/python benchmarks/bench_routing.py [-n 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from tokenopt_tui.core.routing.classify import classify, estimate_tokens
from tokenopt_tui.core.tokens import count_tokens

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "routing_prompts.jsonl"
PLAN_SHARE = {1: 80, 2: 15, 3: 4, 4: 1}

_PASTE = (
    "Mar 14 02:13:07 api-prod-2 gunicorn[4121]: [WARNING] Worker with pid 4123 was "
    "terminated due to signal 9\n"
    "def handle(request):\n    user = load_user(request.user_id)\n    return render(user)\n"
    "The team agreed to move the release to Tuesday and to review the rollout plan again. "
)


def synthetic(tokens: int) -> str:
    """A multi-step ask followed by mixed pasted material of about `tokens` tokens."""
    ask = "Analyse this step by step and tell me what broke and how to fix it:\n\n"
    text = ask
    while count_tokens(text) < tokens:
        text += _PASTE * max(1, (tokens - count_tokens(text)) // 60)
    return text


def percentiles(ns: list[int]) -> tuple[float, float, float]:
    """p50, p99, max in microseconds."""
    s = sorted(ns)
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return statistics.median(s) / 1e3, p99 / 1e3, s[-1] / 1e3


def time_calls(prompts: list[str], reps: int) -> list[int]:
    out: list[int] = []
    for _ in range(reps):
        for p in prompts:
            t0 = time.perf_counter_ns()
            classify(p)
            out.append(time.perf_counter_ns() - t0)
    return out


def agreement(rows: list[dict]) -> tuple[float, float]:
    tier = sum(classify(r["prompt"]).tier == r["tier"] for r in rows) / len(rows)
    task = sum(classify(r["prompt"]).task_type == r["task_type"] for r in rows) / len(rows)
    return tier, task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200, help="repetitions per synthetic size")
    args = ap.parse_args()
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    held = [r for r in rows if r.get("held_out")]
    dev = [r for r in rows if not r.get("held_out")]
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at start")

    prompts = [r["prompt"] for r in rows]
    time_calls(prompts, 2)  # warm-up (regex caches, branch paths)
    p50, p99, mx = percentiles(time_calls(prompts, 20))
    print(
        f"labelled set ({len(rows)} prompts x 20): p50 {p50:.1f} us  p99 {p99:.1f} us"
        f"  max {mx:.1f} us"
    )

    print(f"synthetic prompts (exact tokens / estimate), 3 blocks of {args.n} calls:")
    for size in (100, 1_000, 5_000, 10_000):
        text = synthetic(size)
        exact, est = count_tokens(text), estimate_tokens(text)
        blocks = [percentiles(time_calls([text], args.n)) for _ in range(3)]
        p50 = statistics.median(b[0] for b in blocks)
        p99s = sorted(b[1] for b in blocks)
        mx = max(b[2] for b in blocks)
        d = classify(text)
        print(
            f"  {size:>6,} tok ({exact:,} / est {est:,}): p50 {p50:6.1f} us  p99 per block"
            f" {' / '.join(f'{v:.0f}' for v in p99s)} us  max {mx:7.1f} us  -> tier {d.tier}"
        )

    for name, part in (("whole set", rows), ("tuning part", dev), ("held-out part", held)):
        tier, task = agreement(part)
        print(f"agreement, {name} ({len(part)}): tier {tier:.1%}  task type {task:.1%}")

    predicted = Counter(classify(r["prompt"]).tier for r in rows)
    labelled = Counter(r["tier"] for r in rows)
    print("tier share on the labelled set (predicted | labelled | plan):")
    for tier in (1, 2, 3, 4):
        print(
            f"  tier {tier}: {predicted[tier] / len(rows):6.1%} | "
            f"{labelled[tier] / len(rows):6.1%} | {PLAN_SHARE[tier]:>3}%"
        )
    confusion = Counter((r["tier"], classify(r["prompt"]).tier) for r in held)
    print(
        "held-out tier confusion (label -> predicted):",
        {f"{a}->{b}": n for (a, b), n in sorted(confusion.items())},
    )


if __name__ == "__main__":
    main()
