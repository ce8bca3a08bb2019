"""Matcher quality on the labelled prompts (tests/data/skill_prompts/*.jsonl).

Targets from the issue: recall >= 90 %, precision >= 80 %. Measured (docs/skills.md):
ranking recall 0.783 / precision 0.857 over all 126 prompts, 0.732 / 0.857 on the 44
held-out ones (before the matcher learned meaning for skills in the wild, issue 14:
0.878 / 0.802 and 0.829 / 0.791), so recall is NOT at target. The assertions below are
regression floors just under today's figures, not the targets; they fail if the matcher
or the skills' tags and examples get worse. The public collections' floors are in
tests/test_skill_collections.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.skills.library import SkillLibrary
from tokenopt_tui.core.skills.registry import Source

PROMPTS = sorted((Path(__file__).parent / "data" / "skill_prompts").glob("*.jsonl"))


def rows() -> list[dict]:
    return [json.loads(line) for f in PROMPTS for line in f.read_text().splitlines() if line]


def score(library: SkillLibrary, data: list[dict]) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in data:
        got = {m.name for m in library.matcher.rank(row["prompt"],
                                                    threshold=library.settings.threshold,
                                                    limit=library.settings.max_per_request)}
        want = set(row["skills"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    return tp / (tp + fn), tp / (tp + fp)


def test_the_labelled_set_covers_every_skill() -> None:
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", REPO / "skills")])
    data = rows()
    assert len(data) >= 100
    counts = {name: 0 for name in library.registry.skills}
    for row in data:
        for name in row["skills"]:
            counts[name] += 1  # a KeyError here is a label naming no skill
    assert min(counts.values()) >= 3, counts
    assert sum(not r["skills"] for r in data) >= 20
    assert sum(len(r["skills"]) == 2 for r in data) >= 10


def test_recall_and_precision_floors() -> None:
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", REPO / "skills")])
    recall, precision = score(library, rows())
    print(f"skill matcher: recall {recall:.3f}, precision {precision:.3f}")
    assert recall >= 0.77 and precision >= 0.84
    held = [json.loads(line) for line in (PROMPTS[0].parent / "creator.jsonl").read_text()
            .splitlines() if line]
    recall, precision = score(library, held)
    assert recall >= 0.72 and precision >= 0.84


def test_requests_that_need_no_skill_load_none() -> None:
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", REPO / "skills")])
    empty = [r["prompt"] for r in rows() if not r["skills"]]
    loaded = [p for p in empty if library.select(p).loaded]
    assert len(loaded) <= len(empty) // 10, loaded
