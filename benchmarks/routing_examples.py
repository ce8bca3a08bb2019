"""Build and tune the classifier's labelled neighbours from the TUNING parts only.

    .venv/bin/python benchmarks/routing_examples.py build   # writes core/routing/examples.jsonl
    .venv/bin/python benchmarks/routing_examples.py tune    # leave-one-out grid over K, lift

Sources: the first 165 lines of tests/data/routing_prompts.jsonl (the original set's
tuning part) and tests/data/routing_independent/tune.jsonl. Their held-out parts are
never opened here (tests/test_classify.py checks this file names neither).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tokenopt_tui.core.routing import neighbours as nb  # noqa: E402
from tokenopt_tui.core.routing.classify import ask_text, classify  # noqa: E402

ORIGINAL = REPO / "tests" / "data" / "routing_prompts.jsonl"
INDEPENDENT = REPO / "tests" / "data" / "routing_independent" / "tune.jsonl"


def tuning_prompts() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in ORIGINAL.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not r.get("held_out")]
    if INDEPENDENT.exists():
        rows += [json.loads(line) for line in INDEPENDENT.read_text().splitlines()
                 if line.strip()]
    return rows


def build() -> None:
    rows = tuning_prompts()
    with nb.EXAMPLES.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"text": ask_text(row["prompt"]), "tier": row["tier"]},
                                 ensure_ascii=False) + "\n")
    print(f"{len(rows)} examples written to {nb.EXAMPLES.relative_to(REPO)}")


class LeaveOneOut:
    """The neighbours with example `index` left out (it is the prompt being asked)."""

    def __init__(self, base: nb.Neighbours, index: int, k: int) -> None:
        self.base, self.index, self.k = base, index, k

    def vote(self, ask: str) -> nb.Vote:
        return self.base.vote(ask, k=self.k, exclude=self.index)


def figures(rows: list[dict[str, Any]], decide: Any) -> tuple[float, float, float]:
    """(tier agreement, under-routing, over-routing) shares."""
    agree = under = over = 0
    for index, row in enumerate(rows):
        tier = decide(index, row["prompt"])
        agree += tier == row["tier"]
        under += tier < row["tier"]
        over += tier > row["tier"]
    n = len(rows)
    return agree / n, under / n, over / n


def tune() -> None:
    rows = tuning_prompts()
    base = nb.Neighbours(nb.read_examples(), nb.wordllama_embedder())
    assert len(base.examples) == len(rows), "run `build` first"
    rules = figures(rows, lambda i, p: classify(p).tier)
    print(f"rules alone          agreement {rules[0]:.3f} under {rules[1]:.3f} "
          f"over {rules[2]:.3f}")
    for k in (3, 5, 7, 9, 11):
        for lift in (0.3, 0.4, 0.5, 0.6):
            f = figures(rows, lambda i, p, k=k, lift=lift: classify(
                p, neighbours=LeaveOneOut(base, i, k), lift_share=lift).tier)  # type: ignore[arg-type]
            print(f"k={k:<2} lift={lift:.1f}     agreement {f[0]:.3f} under {f[1]:.3f} "
                  f"over {f[2]:.3f}")


if __name__ == "__main__":
    {"build": build, "tune": tune}[sys.argv[1]]()
