"""Big skills sent in part: sections (fences respected), outline, best sections within the
allowance, the left-out note, `/skill NAME#section` in the chat and `ask --skill`."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli
from test_skills import write_skill
from ui_helpers import FakeProvider, build_services, ready, send, wait_until

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.events import SkillLoaded, decode_event
from tokenopt_tui.core.presenter import describe, timeline_line
from tokenopt_tui.core.skills.library import SkillLibrary
from tokenopt_tui.core.skills.partial import check_request, for_match, for_request
from tokenopt_tui.core.skills.registry import SkillError, Source
from tokenopt_tui.core.skills.sections import outline, parse_sections, rank_sections
from tokenopt_tui.core.tokens import count_tokens
from tokenopt_tui.ui.app import TokenoptApp

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "skills"
NAME = "long-runbook"
#: A sentence found only in the `rollback-a-release` section of the long skill.
MARKER = "Rollback marker: restore the previous image tag kestrel-417 first."


def long_body(seed: int = 7, sections: int = 14) -> str:
    """A skill body of ~4,000 tokens: headings 1-4, ``` and ~~~ blocks holding `#` lines,
    a four-backtick block holding a ``` line, and one distinctive section."""
    rng = random.Random(seed)
    vocabulary = ["deploy", "service", "database", "backup", "restore", "latency", "cache",
                  "queue", "worker", "metric", "alert", "rotate", "secret", "token", "schema",
                  "migrate", "index", "replica", "shard", "cluster", "node", "volume",
                  "snapshot", "certificate", "ingress"]
    parts = [f"# Long runbook\n\nIntroduction text about {' '.join(rng.sample(vocabulary, 6))}."]
    for n in range(sections):
        level = 2 + n % 3
        topic = " ".join(rng.sample(vocabulary, 2))
        prose = " ".join(rng.choice(vocabulary) for _ in range(200))
        parts.append(f"{'#' * level} Step {n}: {topic}\n\n{prose}.\n\n"
                     f"```bash\n# comment: not a heading {n}\nkubectl get pods -n ns{n}\n"
                     f"## also not a heading\n```\n\n~~~text\n# tilde comment {n}\n~~~")
    parts.append("## Rollback a release\n\n" + MARKER + "\n\n````markdown\n```\n# inner\n"
                 "```\n````\n\nThen check the health endpoint.")
    parts.append("#### Deep detail\n\n##### level five stays inside\n\nA note.")
    return "\n\n".join(parts) + "\n"


def fences_balanced(text: str) -> bool:
    """Every ``` / ~~~ block opened in `text` is closed (CommonMark's rules, simplified)."""
    fence: tuple[str, int] | None = None
    for line in text.split("\n"):
        match = re.match(r"^ {0,3}(`{3,}|~{3,})(.*)$", line)
        if fence is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = (match.group(1)[0], len(match.group(1)))
        elif match and set(line.strip()) == {fence[0]} and len(line.strip()) >= fence[1]:
            fence = None
    return fence is None


def long_library(root: Path, allowance: int) -> SkillLibrary:
    write_skill(root, NAME, description="Deploy, back up and roll back the service cluster.",
                tags="[deploy, rollback, cluster, runbook]", body=long_body())
    return SkillLibrary.from_sources(SkillSettings(threshold=0.1, allowance_tokens=allowance),
                                     [Source("t", root)])


# -- parsing ----------------------------------------------------------------------------

def test_a_hash_line_inside_a_fence_is_not_a_heading() -> None:
    body = ("Intro line.\n\n# Title\n\ntext\n\n```bash\n# comment\necho hi\n```\n\n"
            "## Second\n\n~~~\n## tilde comment\n~~~\n\n"
            "````md\n```\n# inside four backticks\n```\n````\n\n"
            "### Third ###\n\n#### Fourth\n\n##### Five is not a section\n\n#no-space\n")
    sections = parse_sections(body)
    assert [(s.level, s.title, s.slug) for s in sections] == [
        (0, "", "intro"), (1, "Title", "title"), (2, "Second", "second"),
        (3, "Third", "third"), (4, "Fourth", "fourth")]
    assert "# comment" in sections[1].text and "## tilde comment" in sections[2].text
    assert "# inside four backticks" in sections[2].text
    assert "##### Five" in sections[4].text and "#no-space" in sections[4].text
    assert all(fences_balanced(s.text) for s in sections)
    assert "".join(s.text for s in sections).count("echo hi") == 1


def test_an_unclosed_fence_is_closed_and_repeated_titles_get_numbered() -> None:
    sections = parse_sections("## Setup\n\n~~~~sh\n# run\n## still code\n\n## Setup\n")
    assert [s.slug for s in sections] == ["setup"]  # the second "## Setup" is code
    assert sections[0].text.endswith("\n~~~~") and fences_balanced(sections[0].text)
    twice = parse_sections("## Notes\n\na\n\n## Notes\n\nb\n\n## Notes\n")
    assert [s.slug for s in twice] == ["notes", "notes-1", "notes-2"]


def test_the_outline_lists_every_heading() -> None:
    bodies = [path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
              for path in sorted(BUNDLED.glob("*/SKILL.md"))] + [long_body()]
    for body in bodies:
        sections = parse_sections(body)
        text = outline(sections)
        headed = [s for s in sections if s.level > 0]
        assert len(text.splitlines()) == len(sections)
        for section in headed:
            assert f"- {section.title} (#{section.slug})" in text
        heading_lines = [line for line in body.split("\n")
                         if re.match(r"^#{1,4} ", line)]
        assert len(headed) <= len(heading_lines)  # a '# comment' in code is not counted
    long_sections = parse_sections(long_body())
    assert len([s for s in long_sections if s.level > 0]) == 17  # title, 14 steps, 2 more


def test_sections_are_ranked_by_shared_words_headings_first() -> None:
    sections = parse_sections(long_body())
    ranked = rank_sections("how do I roll back the release after a bad rollback?", sections)
    assert ranked[0][1].slug == "rollback-a-release"
    assert rank_sections("", sections) == [] and rank_sections("zzz qqq", sections) == []


# -- loading within the allowance --------------------------------------------------------

def test_parts_keep_fences_balanced_and_never_pass_the_allowance() -> None:
    rng = random.Random(20240611)
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", BUNDLED)])
    bodies = {name: library.registry.body(name) for name in library.registry.skills}
    bodies[NAME] = (long_body(), count_tokens(long_body()))
    assert bodies[NAME][1] > 3_000
    checked = 0
    for _ in range(300):
        name = rng.choice(sorted(bodies))
        body, tokens = bodies[name]
        budget = rng.randint(40, tokens + 200)
        sections = parse_sections(body)
        words = re.findall(r"[a-z]{4,}", body.lower())
        request = " ".join(rng.sample(words, 4))
        wanted = [s.slug for s in rng.sample(sections, min(3, len(sections)))]
        for part in (for_match(name, body, tokens, request, budget),
                     for_request(name, body, tokens, None, budget),
                     for_request(name, body, tokens, wanted, budget)):
            if part is None:
                continue
            checked += 1
            assert part.tokens == count_tokens(part.text) <= budget, (name, budget)
            assert fences_balanced(part.text), (name, budget, part.sections)
            assert list(part.sections) == [s.slug for s in sections if s.slug in part.sections]
    assert checked > 500


def test_select_never_passes_the_allowance(tmp_path: Path) -> None:
    rng = random.Random(11)
    long_library(tmp_path, 2_000)
    for _ in range(60):
        allowance = rng.randint(100, 6_000)
        library = SkillLibrary.from_sources(
            SkillSettings(threshold=0.1, allowance_tokens=allowance),
            [Source("t", tmp_path), Source("bundled", BUNDLED)])
        asked = rng.sample([NAME, f"{NAME}#rollback-a-release", "aria-cron",
                            "aria-sql#output", f"{NAME}#deep-detail"], 2)
        selection = library.select("deploy the cluster and roll back the release "
                                   "when the crontab backup fails", asked)
        assert selection.tokens <= allowance
        for skill in selection.loaded:
            assert skill.tokens == count_tokens(skill.body)
            assert fences_balanced(skill.body)
            assert skill.whole == (not skill.sections)


def test_a_matched_skill_too_big_goes_in_part_with_a_note(tmp_path: Path) -> None:
    library = long_library(tmp_path, 2_000)
    selection = library.select("roll back the release of the cluster")
    [skill] = selection.loaded
    assert not skill.whole and "rollback-a-release" in skill.sections
    assert len(skill.sections) <= 3 and selection.skipped == ()
    assert skill.tokens <= 2_000 and MARKER in skill.body
    assert "(#rollback-a-release, below)" in skill.body  # the outline marks what follows
    assert "(#step-0-" in skill.body  # and lists what did not
    assert f"/skill {NAME}#section" in skill.body
    left_out = next(s.slug for s in parse_sections(long_body()) if s.slug not in skill.sections)
    assert f"`/skill {NAME}#{left_out}`" in skill.body
    text = selection.system_text()
    assert text.startswith(f"[Skill: {NAME}]") and "Part of this skill:" in text


def test_asking_for_a_skill_or_a_section(tmp_path: Path) -> None:
    library = long_library(tmp_path, 2_000)
    picked = library.select("what time is it", [f"{NAME}#Rollback a release"])
    [skill] = picked.loaded
    assert skill.sections == ("rollback-a-release",) and MARKER in skill.body
    assert skill.reason == "was asked for by the user (/skill)"
    whole = library.select("what time is it", [NAME])
    [partial] = whole.loaded
    order = [s.slug for s in parse_sections(long_body())]
    assert list(partial.sections) == order[:len(partial.sections)]  # in order, while they fit
    roomy = long_library(tmp_path, 10_000).select("what time is it", [NAME])
    assert roomy.loaded[0].whole and roomy.loaded[0].body == long_body().strip()
    merged = library.select("x", [f"{NAME}#deep-detail", f"{NAME}#rollback"])
    assert merged.loaded[0].sections == ("rollback-a-release", "deep-detail")
    bad = library.select("x", [f"{NAME}#nowhere", "no-such-skill"])
    assert bad.loaded == () and len(bad.skipped) == 2
    assert "has no section 'nowhere'; its sections: #long-runbook, #step-0-" in bad.skipped[0][1]
    with pytest.raises(SkillError, match="no skill named 'nope'"):
        check_request(library.registry, "nope#x")
    with pytest.raises(SkillError, match="name a skill"):
        check_request(library.registry, "#x")


def test_the_event_names_the_sections_and_old_rows_still_decode() -> None:
    event = SkillLoaded("big", 812, 2.5, "matched 'x'", 1.0, ("setup", "rollback"))
    assert describe(event) == ("skill big loaded in part, #setup, #rollback (812 tokens; "
                               "/skill big#section loads another): matched 'x'")
    assert timeline_line(event) == "skill big loaded in part, #setup, #rollback (812 tokens)"
    assert decode_event("SkillLoaded", event.stored_dict()) == event
    old = decode_event("SkillLoaded", {"kind": "SkillLoaded", "skill_name": "a", "tokens": 9,
                                       "score": 1.0, "reason": "r", "latency_ms": 0.5})
    assert old == SkillLoaded("a", 9, 1.0, "r", 0.5) and old.sections == ()
    assert describe(old) == "skill a loaded (9 tokens): r"


# -- the chat and the command line --------------------------------------------------------

async def test_slash_skill_sends_that_section_with_the_next_request(tmp_path: Path) -> None:
    provider = FakeProvider()
    services = build_services(tmp_path, provider, skills=True)
    write_skill(services.paths.data_dir / "skills", NAME, description="A long runbook.",
                tags="[runbook]", body=long_body())
    async with TokenoptApp(services).run_test(size=(140, 44)) as pilot:
        app = await ready(pilot)
        await wait_until(pilot, lambda: services.scanned_skills is not None, what="skills")
        app.chat.prompt.value = f"/skill {NAME}#rollback-a-release"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.queued_skills, what="the queue")
        assert app.session.queued_skills == [f"{NAME}#rollback-a-release"]
        await send(pilot, "what is 2 + 2?")
        system = provider.calls[-1][-2]  # right before the request
        assert system.role == "system" and system.content.startswith(f"[Skill: {NAME}]")
        assert MARKER in system.content and "kubectl get pods -n ns3" not in system.content
        assert app.session.queued_skills == []
        await send(pilot, "and 3 + 3?")  # the next request carries it no more
        assert all(m.role != "system" for m in provider.calls[-1])
        app.chat.prompt.value = f"/skill {NAME}#nowhere"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.queued_skills == []
        rows = await services.store._fetchall(
            "t", "SELECT skill_name FROM skill_invocations")
        assert [r[0] for r in rows] == [NAME]


def test_ask_refuses_an_unknown_skill_before_any_session(xdg_env) -> None:
    result = run_cli(["ask", "--skill", "aria-cron#nowhere", "hi"], xdg_env, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert "--skill: skill 'aria-cron' has no section 'nowhere'; its sections:" in result.stderr
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (0,)


@pytest.mark.model
def test_ask_skill_section_reaches_the_real_model(xdg_env, prepared_model: Path) -> None:
    """The embedded model's own prompt count equals the tokens of the exact prompt that
    holds the section: the section text is what the model read."""
    from transformers import AutoTokenizer

    from tokenopt_tui.core.providers.base import ChatMessage
    from tokenopt_tui.core.providers.mlx_local import transcript_prompt

    user_skills = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "skills"
    write_skill(user_skills, NAME, description="A long runbook.", tags="[runbook]",
                body=long_body())
    result = run_cli(["ask", "--skill", f"{NAME}#rollback-a-release", "--json", "hi"], xdg_env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [loaded] = [e for e in answer["events"] if e["kind"] == "SkillLoaded"]
    assert loaded["skill_name"] == NAME and loaded["sections"] == ["rollback-a-release"]

    library = SkillLibrary.from_sources(SkillSettings(), [Source("user", user_skills)])
    expected = library.select("hi", [f"{NAME}#rollback-a-release"])
    assert expected.loaded[0].tokens == loaded["tokens"]
    system = expected.system_text()
    assert MARKER in system
    tokenizer = AutoTokenizer.from_pretrained(str(prepared_model))
    prompt = transcript_prompt([ChatMessage("system", system), ChatMessage("user", "hi")])
    without = transcript_prompt([ChatMessage("user", "hi")])
    assert answer["prompt_tokens"] == len(tokenizer.encode(prompt))
    assert answer["prompt_tokens"] > len(tokenizer.encode(without)) + 100
    with sqlite3.connect(Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db") as conn:
        calls = conn.execute("SELECT prompt_tokens, provider FROM model_calls").fetchall()
    assert calls == [(answer["prompt_tokens"], "mlx")]



def test_section_scores_do_not_depend_on_the_hash_seed() -> None:
    """Scores are summed in a fixed order: with a set's order (which follows the
    process's hash seed) float sums differed in the last bits and broke ties apart
    differently from one run to the next (seen as 17 tokens in `tokenopt bench`)."""
    import os
    import subprocess
    import sys

    code = (
        "from pathlib import Path\n"
        "from tokenopt_tui.core.skills.sections import parse_sections, rank_sections\n"
        "body = Path('skills/aria-logs/SKILL.md').read_text().split('---', 2)[2]\n"
        "ranked = rank_sections('find errors in the nginx access log and count the "
        "request ids per pod with grep awk jq kubectl logs', parse_sections(body))\n"
        "print([(repr(score), s.slug) for score, s in ranked])\n")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                              cwd=Path(__file__).resolve().parents[1]).stdout
               for seed in ("0", "1", "2", "3")}
    assert len(outputs) == 1 and "[]" not in outputs, outputs
