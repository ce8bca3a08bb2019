"""The public-collection skill set (tests/data/skill_collections) is valid and usable.

Validation only: this reads both request parts to check their labels, it tunes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import skill_collections as sc


def test_every_label_names_a_recorded_skill() -> None:
    assert sc.check() == []


def test_set_has_the_promised_shape() -> None:
    skills = sc.load_skills()
    assert len(skills) >= 100
    assert len({s["collection"] for s in skills}) == 2
    rows = sc.load_requests("tune") + sc.load_requests("held_out")
    sizes = [len(r["skills"]) for r in rows]
    assert len(rows) >= 150
    assert sizes.count(0) >= 25
    assert sizes.count(2) >= 12
    held = len(sc.load_requests("held_out"))
    assert held == pytest.approx(0.4 * len(rows), abs=3)


def test_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError, match="part must be one of"):
        sc.load_requests("all")


def test_copies_count_as_the_skill_they_copy() -> None:
    ids = sc.canonical()
    assert ids["K-Dense-AI/claude-scientific-skills/pptx"] == "anthropics/skills/pptx"
    assert ids["K-Dense-AI/claude-scientific-skills/scanpy"].endswith("/scanpy")


def test_materialised_folders_match_the_metadata(tmp_path: Path) -> None:
    sc.materialise(tmp_path)
    files = sorted(tmp_path.glob("*/*/SKILL.md"))
    skills = {(sc.slug(s["collection"]), s["name"]): s for s in sc.load_skills()}
    assert len(files) == len(skills)
    for path in files:
        skill = skills[(path.parts[-3], path.parts[-2])]
        front, body = sc.split_skill(path.read_text(encoding="utf-8"))
        assert front == {"name": skill["name"], "description": skill["description"]}
        assert sc.headings(body) == (skill["headings"] or [skill["name"]])
        assert abs(len(body) / 4 - skill["body_tokens"]) <= 0.02 * skill["body_tokens"] + 5


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"request": "hi", "skills": []}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.jsonl:2: not JSON"):
        sc._read_jsonl(bad)


def _sent_figures(tmp_path: Path, part: str, with_bundled: bool) -> dict[str, float]:
    """Recall, precision and false picks of what is actually sent to the model (the
    session's ask window through `SkillLibrary.select`) on one part of the requests."""
    import time

    from tokenopt_tui.config import SkillSettings
    from tokenopt_tui.core.session import ask_window
    from tokenopt_tui.core.skills.library import SkillLibrary
    from tokenopt_tui.core.skills.registry import Source

    sc.materialise(tmp_path)
    sources = [Source("wild", folder) for folder in sorted(tmp_path.iterdir())]
    if with_bundled:
        sources.append(Source("bundled", sc.REPO / "skills"))
    library = SkillLibrary.from_sources(SkillSettings(), sources)
    tp = fp = fn = false_picks = nones = 0
    elapsed = []
    for row in sc.load_requests(part):
        want = {label.split("/")[-1] for label in row["skills"]}
        started = time.perf_counter()
        got = {s.name for s in library.select(ask_window(row["request"])).loaded}
        elapsed.append(time.perf_counter() - started)
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        if not want:
            nones += 1
            false_picks += bool(got)
    elapsed.sort()
    return {"recall": tp / (tp + fn), "precision": tp / (tp + fp),
            "false_picks": false_picks / nones, "p95_ms": 1000 * elapsed[int(0.95 * len(elapsed))]}


def test_the_untouched_part_holds_its_floor(tmp_path: Path) -> None:
    """Regression floors at the figures measured on the held-out requests (docs/skills.md:
    0.785 / 0.861 / 7.7% alone, 0.759 / 0.706 / 23.1% next to the bundled skills); the
    issue's targets (0.90 / 0.85 / 5%) are not met yet."""
    alone = _sent_figures(tmp_path / "alone", "held_out", with_bundled=False)
    assert alone["recall"] >= 0.77 and alone["precision"] >= 0.84, alone
    assert alone["false_picks"] <= 0.08, alone
    mixed = _sent_figures(tmp_path / "mixed", "held_out", with_bundled=True)
    assert mixed["recall"] >= 0.74 and mixed["precision"] >= 0.69, mixed
