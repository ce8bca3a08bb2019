"""The concierge on a recorded usage log replayed into a real store: the labelled
recurring needs are found, the held-out part agrees with the labels, the unused and the
never-useful skills are named, and a draft skill passes `tokenopt skills check`."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from concierge_log import NOW, held_out, labels, load_log, read_log
from conftest import run_cli

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.concierge.draft import DraftError, write_draft
from tokenopt_tui.core.concierge.gaps import group_texts
from tokenopt_tui.core.concierge.report import Settings, build_report, render_text, suggestion
from tokenopt_tui.core.skills.library import SkillLibrary
from tokenopt_tui.core.skills.registry import Source
from tokenopt_tui.store import Store

SKILLS = {
    "git-helper": ("Git: commits, branches, rebase, merge conflicts, stash, bisect, blame.",
                   ["git", "commit", "branch", "rebase", "merge", "stash"]),
    "sql-helper": ("SQL queries for postgres, mysql and sqlite: joins, indexes, windows.",
                   ["sql", "postgres", "mysql", "sqlite", "join", "index"]),
    "docker-helper": ("Docker containers, images, compose files and volumes.",
                      ["docker", "container", "compose", "image", "volume"]),
    "aria-moltbook": ("Posting to the Moltbook social network for agents.",
                      ["moltbook", "molt", "agent social"]),
    "weather-report": ("Weather forecasts for a city: rain, wind, temperature.",
                       ["weather", "forecast", "rain", "temperature"]),
}
NOW_AT = datetime.fromisoformat(NOW).replace(tzinfo=UTC)


def write_library(folder: Path) -> SkillLibrary:
    for name, (description, tags) in SKILLS.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {json.dumps(description)}\n"
            f"tags: {json.dumps(tags)}\n---\n"
            f"# {name}\n\nSteps.\n", encoding="utf-8")
    return SkillLibrary.from_sources(SkillSettings(), [Source("test", folder)])


async def report_for(tmp_path: Path, **settings: int) -> dict:
    library = write_library(tmp_path / "skills")
    async with await Store.open(tmp_path / "t.db") as store:
        await load_log(store, tmp_path / "t.db")
        return await build_report(store, library, Settings(**settings), now=NOW_AT)


def pairwise_f1(groups: list[list[int]], gold: list[str]) -> float:
    """Agreement of a grouping with the labels: F1 over pairs put together."""
    label = {i: g for g, members in enumerate(groups) for i in members}
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(gold)), 2):
        together, same = label[i] == label[j], gold[i] == gold[j]
        tp += together and same
        fp += together and not same
        fn += same and not together
    return 2 * tp / max(2 * tp + fp + fn, 1)


async def test_finds_the_labelled_needs_and_the_unused_skills(tmp_path: Path) -> None:
    report = await report_for(tmp_path)
    need = labels()
    rows = {r["id"]: r for r in read_log()}
    by_text = {r["text"]: need[i] for i, r in rows.items()}
    found = {}
    for entry in report["gaps"]:
        members = [by_text[e["text"]] for e in entry["evidence"]]
        top = max(set(members), key=members.count)
        found[top] = entry
        assert members.count(top) / len(members) >= 0.75, (entry["name"], members)
    assert {"tls", "cron", "regex", "nginx-proxy", "pandas"} <= set(found)
    assert not any(k.startswith("one-off") for k in found)
    tls = found["tls"]
    assert tls["count"] >= 9 and "cert" in tls["name"]
    expected = sum(sum(r["tokens"]) for r in rows.values()
                   if need[r["id"]] == "tls" and r["text"] in
                   {e["text"] for e in tls["evidence"]})
    assert tls["tokens"] >= expected > 0  # escalated ones were answered twice
    assert tls["evidence"][0]["message_id"] > 0 and tls["first"] <= tls["last"]
    # requests found wanting: the docker skill's answers and the TLS ones
    wanting = {max(set(ms := [by_text[e["text"]] for e in w["evidence"]]), key=ms.count)
               for w in report["wanting"]}
    assert "docker" in wanting
    assert [u["name"] for u in report["never_useful"]] == ["docker-helper"]
    assert report["never_useful"][0]["loads"] == 5
    assert [u["name"] for u in report["unused"]] == ["aria-moltbook", "weather-report"]
    text = render_text(report)
    assert "aria-moltbook: loaded 0 times in 30 days" in text
    assert f"{tls['count']} requests matched nothing" in text


async def test_day_window_makes_an_old_skill_unused(tmp_path: Path) -> None:
    report = await report_for(tmp_path, days=5)  # since 10-31 noon: only git loads
    since = "2026-10-31T12"
    assert report["requests"] == sum(r["at"] >= since for r in read_log())
    names = [u["name"] for u in report["unused"]]
    assert names == ["aria-moltbook", "docker-helper", "sql-helper", "weather-report"]
    docker = next(u for u in report["unused"] if u["name"] == "docker-helper")
    assert docker["last_loaded"].startswith("2026-10-27") and docker["days"] == 5


def test_grouping_agrees_with_the_labels_on_the_held_out_part() -> None:
    need = labels()
    rows = [r for r in read_log() if not r.get("skills") and held_out(r["id"])]
    gold = [need[r["id"]] for r in rows]
    embedding = pairwise_f1(group_texts([r["text"] for r in rows], "embedding"), gold)
    fuzzy = pairwise_f1(group_texts([r["text"] for r in rows], "fuzzy"), gold)
    print(f"held out: {len(rows)} requests, pairwise F1 embedding {embedding:.3f}, "
          f"rapidfuzz {fuzzy:.3f}")
    assert embedding >= 0.7 and embedding > fuzzy


async def test_untrusted_request_text_is_made_safe(tmp_path: Path) -> None:
    rows = read_log()[:0] + [
        {"id": f"x{i}", "session": 1, "at": "2026-11-01T10:00:00Z", "skills": [],
         "text": f"kubernetes ingress \x1b[31mred\x1b]8;;http://x\x07 question {i}",
         "tokens": [100, 50], "after": []} for i in range(4)]
    async with await Store.open(tmp_path / "t.db") as store:
        await load_log(store, tmp_path / "t.db", rows)
        report = await build_report(store, None, Settings(), now=NOW_AT)
    text = render_text(report)
    assert "\x1b" not in text and "\x07" not in text and "kubernetes" in text


async def test_empty_store_reports_nothing(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "t.db") as store:
        report = await build_report(store, None, Settings(), now=NOW_AT)
    assert report["requests"] == 0 and report["gaps"] == [] and report["unused"] == []
    assert "none" in render_text(report)


async def test_draft_passes_skills_check_and_never_overwrites(
        tmp_path: Path, xdg_env: dict[str, str]) -> None:
    report = await report_for(tmp_path)
    entry = suggestion(report, "1")
    assert entry is not None and suggestion(report, entry["name"]) == entry
    skills_dir = tmp_path / "data" / "tokenopt" / "skills"
    path = write_draft(skills_dir, entry)
    assert path == skills_dir / entry["name"] / "SKILL.md"
    checked = run_cli(["skills", "check", str(skills_dir), "--json"], xdg_env, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["ok"] == [entry["name"]]
    before = path.read_text(encoding="utf-8")
    with pytest.raises(DraftError, match="already exists"):
        write_draft(skills_dir, entry)
    assert path.read_text(encoding="utf-8") == before


async def test_cli_report_json_and_draft(tmp_path: Path, xdg_env: dict[str, str]) -> None:
    """The real command on a store of the log, with the bundled skills as the library:
    what a bundled skill now covers is no longer a gap; a draft is written once."""
    db = tmp_path / "data" / "tokenopt" / "tokenopt.db"
    db.parent.mkdir(parents=True)
    async with await Store.open(db) as store:
        await load_log(store, db)
    days = (datetime.now(UTC) - datetime(2026, 10, 1, tzinfo=UTC)).days
    shown = run_cli(["concierge", "--json", "--days", str(days)], xdg_env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["requests"] == len(read_log())
    assert "aria-cron" in report["covered_now"]  # the cron requests match it today
    assert any("regex" in g["name"] for g in report["gaps"])
    assert "aria-moltbook" in {u["name"] for u in report["unused"]}
    text = run_cli(["concierge", "--days", str(days)], xdg_env, timeout=120)
    assert "aria-moltbook: loaded 0 times in" in text.stdout
    drafted = run_cli(["concierge", "draft", "1", "--days", str(days)], xdg_env, timeout=120)
    assert drafted.returncode == 0, drafted.stderr
    name = report["gaps"][0]["name"]
    path = tmp_path / "data" / "tokenopt" / "skills" / name / "SKILL.md"
    assert str(path) in drafted.stdout and path.is_file()
    checked = run_cli(["skills", "check", str(path.parent)], xdg_env, timeout=120)
    assert checked.returncode == 0 and "1 skill(s) OK" in checked.stdout, checked.stdout
    after = run_cli(["concierge", "--json", "--days", str(days)], xdg_env, timeout=120)
    assert name in json.loads(after.stdout)["covered_now"]  # the draft now matches them
    again = run_cli(["concierge", "--draft", name, "--days", str(days)], xdg_env, timeout=120)
    assert again.returncode == 2 and "no suggestion" in again.stderr
    assert path.read_text(encoding="utf-8").startswith("---\nname: " + name)


def test_config_sets_the_window_and_a_bad_value_is_named(tmp_path: Path,
                                                         xdg_env: dict[str, str]) -> None:
    config = tmp_path / "config" / "tokenopt" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[concierge]\nunused_days = 45\nmin_group = 4\n", encoding="utf-8")
    shown = run_cli(["concierge", "--json"], xdg_env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert (report["days"], report["min_group"]) == (45, 4)
    config.write_text("[concierge]\nunused_days = 0\n", encoding="utf-8")
    bad = run_cli(["concierge"], xdg_env, timeout=120)
    assert bad.returncode == 2 and "concierge.unused_days" in bad.stderr
    assert str(config) in bad.stderr


async def test_a_store_younger_than_the_window_names_no_skill_unused(tmp_path: Path) -> None:
    """A week of use cannot show a skill unused for 30 days: the verdict waits."""
    rows = [r for r in read_log() if r["at"] >= "2026-10-29"]
    library = write_library(tmp_path / "skills")
    async with await Store.open(tmp_path / "young.db") as store:
        await load_log(store, tmp_path / "young.db", rows)
        with sqlite3.connect(tmp_path / "young.db") as conn:  # no earlier first session
            conn.execute("DELETE FROM messages WHERE content = 'hello'")
        report = await build_report(store, library, Settings(), now=NOW_AT)
    assert report["unused"] == [] and not report["unused_judged"]
    assert 0 < report["history_days"] < 30
    assert "not judged yet" in render_text(report)
    judged = await report_for(tmp_path / "old")  # the whole log, first session long before
    assert judged["unused_judged"] and judged["unused"]
