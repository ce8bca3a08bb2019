"""Skills: the bundled set, the registry's bad-input handling, lazy bodies, matching."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_cli

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.skills.library import SkillLibrary
from tokenopt_tui.core.skills.match import SkillMatcher, stem, words
from tokenopt_tui.core.skills.registry import (
    MAX_FRONT_MATTER_BYTES,
    SkillError,
    SkillRegistry,
    Source,
    default_sources,
)
from tokenopt_tui.core.tokens import count_tokens

BUNDLED = REPO / "skills"


def write_skill(root: Path, folder: str, *, name: str | None = None,
                description: str = "Checks things when asked to check things.",
                tags: str = "[check, things]", body: str = "# Body\n\nDo the thing.\n",
                raw: bytes | None = None) -> Path:
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_bytes(raw)
        return path
    text = (f"---\nname: {name or folder}\ndescription: {json.dumps(description)}\n"
            f"tags: {tags}\n---\n{body}")
    path.write_text(text, encoding="utf-8")
    return path


def registry_of(*roots: Path) -> SkillRegistry:
    registry = SkillRegistry([Source(f"src{i}", r) for i, r in enumerate(roots)])
    registry.scan()
    return registry


# -- The bundled skills ----------------------------------------------------------------

def test_the_26_bundled_skills_follow_the_format() -> None:
    registry = registry_of(BUNDLED)
    assert registry.problems == [] and registry.shadowed == []
    assert len(registry.skills) == 26
    for name in ("aria-database", "aria-health", "aria-marketdata", "aria-moltbook"):
        assert name in registry.skills
    agents = {s.agent for s in registry.skills.values()}
    assert agents == {"devops", "analyst", "creator", "memory"}
    for skill in registry.skills.values():
        front = skill.path.read_text(encoding="utf-8").split("---", 2)[1]
        data = yaml.safe_load(front)
        assert data["name"] == skill.path.parent.name == skill.name
        assert 0 < len(data["description"]) <= 1_024 and isinstance(data["tags"], list)
        body, tokens = registry.body(skill.name)
        assert 500 <= tokens <= 2_000, (skill.name, tokens)
        assert tokens == count_tokens(body) and body.startswith("#")


def test_scan_reads_front_matter_only(tmp_path: Path) -> None:
    head = "---\nname: big\ndescription: A big skill.\ntags: [big]\n---\n# Big\n"
    filler = "x" * (MAX_FRONT_MATTER_BYTES * 2)
    write_skill(tmp_path, "big", raw=(head + filler).encode() + b"\xff\xfe broken tail")
    registry = registry_of(tmp_path)
    assert "big" in registry.skills and registry.problems == []  # the tail was never read
    with pytest.raises(SkillError, match=r"big/SKILL.md: not UTF-8 text"):
        registry.body("big")


# -- Bad input: skipped with a warning naming the file, the rest loads -------------------

BAD = {
    "no-front-matter": (b"# Just markdown\n", "no YAML front matter"),
    "bad-yaml": (b"---\nname: bad-yaml\ndescription: [unclosed\n---\nbody", "invalid YAML"),
    "no-name": (b"---\ndescription: x\n---\nbody", "field 'name' is missing"),
    "no-description": (b"---\nname: no-description\n---\nbody", "field 'description' is missing"),
    "not-utf8": (b"---\nname: not-utf8\ndescription: caf\xe9\n---\nbody", "not UTF-8 text"),
    "unclosed": (b"---\nname: unclosed\ndescription: x\n", "not closed by a '---' line"),
}
#: Rules a skill can live with (issue 14): it loads, with a warning naming its file.
WARNED = {
    "other-folder": (b"---\nname: another-name\ndescription: x\n---\nbody",
                     "field 'name' is 'another-name' but the folder is 'other-folder'",
                     "another-name"),
    "long-description": (("---\nname: long-description\ndescription: " + "d" * 1_025
                          + "\n---\nbody").encode(), "1,025 characters (at most 1,024)",
                         "long-description"),
    "dot-dot-name": (b"---\nname: ../x\ndescription: x\n---\nbody", "is not lowercase",
                     "dot-dot-name"),
    "tags-mapping": (b"---\nname: tags-mapping\ndescription: x\ntags: {a: 1}\n---\nb",
                     "field 'tags' must be a list", "tags-mapping"),
}


def test_every_bad_skill_is_skipped_with_its_file_named(tmp_path: Path) -> None:
    for folder, (raw, _) in BAD.items():
        write_skill(tmp_path, folder, raw=raw)
    for folder, (raw, _, _) in WARNED.items():
        write_skill(tmp_path, folder, raw=raw)
    write_skill(tmp_path, "good")
    huge = write_skill(tmp_path, "huge")
    with huge.open("a") as handle:
        handle.write("y" * 10_000_000)
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop" / "SKILL.md", tmp_path / "loop" / "SKILL.md")
    outside = write_skill(tmp_path.parent / f"{tmp_path.name}-outside", "escape")
    os.symlink(outside.parent, tmp_path / "escape")
    (tmp_path / "empty-folder").mkdir()

    registry = registry_of(tmp_path)
    assert sorted(registry.skills) == sorted(["good", *(w[2] for w in WARNED.values())])
    warned = {w.path.parent.name: w.message for w in registry.warnings}
    for folder, (_, expected, _) in WARNED.items():
        assert expected in warned[folder], (folder, warned[folder])
    messages = {p.path.parent.name: p.message for p in registry.problems}
    for folder, (_, expected) in BAD.items():
        assert expected in messages[folder], (folder, messages[folder])
    assert "bytes is over the 1,000,000-byte limit" in messages["huge"]
    assert "cannot be resolved" in messages["loop"] or "Symlink loop" in messages["loop"]
    assert "links outside its skills folder" in messages["escape"]
    assert "missing (a skill folder needs a SKILL.md)" in messages["empty-folder"]
    assert all(str(p).startswith(str(tmp_path)) for p in registry.problems)


def test_precedence_user_then_extra_then_bundled(tmp_path: Path) -> None:
    user, extra = tmp_path / "user", tmp_path / "extra"
    write_skill(user, "aria-health", description="My own health checks.")
    write_skill(extra, "aria-health", description="Another agent's health checks.")
    write_skill(extra, "only-extra")
    registry = SkillRegistry(default_sources(user, [extra], BUNDLED))
    registry.scan()
    assert registry.skills["aria-health"].description == "My own health checks."
    assert registry.skills["aria-health"].source == "user"
    assert registry.skills["only-extra"].source == f"extra folder {extra}"
    shadowed = [str(p) for p in registry.shadowed]
    assert len(shadowed) == 2 and all("'aria-health' is also defined in user" in s
                                      for s in shadowed)
    assert len(registry.skills) == 27


def test_an_edited_body_is_picked_up_without_restart(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "edit-me", body="# One\n\nfirst version\n")
    registry = registry_of(tmp_path)
    assert "first version" in registry.body("edit-me")[0]
    assert registry.body("edit-me") is not None  # cached read
    path.write_text(path.read_text().replace("first version", "second version"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "second version" in registry.body("edit-me")[0]


# -- Matching ---------------------------------------------------------------------------

def test_words_and_stems() -> None:
    assert stem("backups") == "backup" and stem("deploying") == "deploy"
    assert stem("queries") == "query" and stem("css") == "css"
    assert words("Please check the Backups, then deploy!") == ["check", "backup", "deploy"]


def test_explicit_invocation_and_fuzzy_words() -> None:
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", BUNDLED)])
    ranked = library.matcher.rank("use $aria-moltbook for this", threshold=1.0)
    assert ranked[0].name == "aria-moltbook" and ranked[0].invoked
    assert library.matcher.rank("/aria-cron what now")[0].reason == "invoked by name"
    typo = library.matcher.rank("the crontabb schedule never fires", threshold=1.0)
    assert typo and typo[0].name == "aria-cron" and "crontabb" in typo[0].matched
    assert library.select("what is 2 + 2?").loaded == ()


def test_selection_respects_count_and_allowance(tmp_path: Path) -> None:
    for n in range(4):
        write_skill(tmp_path, f"deploy-{n}", description="Deploy services safely.",
                    tags="[deploy, rollout, release]",
                    body="# Deploy\n\n" + "Ship it carefully. " * (60 + 20 * n))
    settings = SkillSettings(threshold=0.1, max_per_request=2, allowance_tokens=100_000)
    library = SkillLibrary.from_sources(settings, [Source("t", tmp_path)])
    chosen = library.select("deploy the release with a rollout")
    assert len(chosen.loaded) == 2 and len(chosen.skipped) == 2
    assert all("over 2 per request" in why for _, why in chosen.skipped)
    tight = SkillLibrary.from_sources(SkillSettings(threshold=0.1, allowance_tokens=400),
                                      [Source("t", tmp_path)])
    picked = tight.select("deploy the release with a rollout")
    assert picked.tokens <= 400 and picked.loaded
    assert any("400-token allowance" in why for _, why in picked.skipped)
    text = picked.system_text()
    assert text.startswith(f"[Skill: {picked.loaded[0].name}]") and "Ship it carefully" in text


def test_matcher_handles_an_empty_registry() -> None:
    assert SkillMatcher([]).rank("anything at all") == []


# -- CLI --------------------------------------------------------------------------------

def test_cli_list_show_match_and_check(xdg_env, tmp_path: Path) -> None:
    listed = run_cli(["skills", "list", "--json"], xdg_env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert len(data["skills"]) == 26 and data["problems"] == []

    shown = run_cli(["skills", "show", "aria-cron"], xdg_env)
    assert shown.returncode == 0 and "aria-cron (devops, bundled" in shown.stdout
    missing = run_cli(["skills", "show", "aria-crn"], xdg_env)
    assert missing.returncode == 2 and "did you mean aria-cron?" in missing.stderr

    matched = run_cli(["skills", "match", "--json", "crontab job never runs at night"],
                      xdg_env)
    result = json.loads(matched.stdout)
    assert result["loaded"][0]["name"] == "aria-cron" and result["loaded"][0]["tokens"] > 0

    bad = tmp_path / "bad-skills"
    write_skill(bad, "good")
    write_skill(bad, "no-name", raw=b"---\ndescription: x\n---\nbody")
    write_skill(bad, "binary", raw=b"---\nname: binary\ndescription: \xff\n---\n")
    checked = run_cli(["skills", "check", str(bad)], xdg_env)
    assert checked.returncode == 1
    assert f"{bad / 'no-name' / 'SKILL.md'}: field 'name' is missing" in checked.stdout
    assert f"{bad / 'binary' / 'SKILL.md'}: not UTF-8 text" in checked.stdout
    assert "1 skill(s) OK, 2 problem(s)" in checked.stdout
    assert run_cli(["skills", "check", str(BUNDLED)], xdg_env).returncode == 0
    one = run_cli(["skills", "check", str(bad / "good")], xdg_env)
    assert one.returncode == 0 and "1 skill(s) OK, 0 problem(s)" in one.stdout


def test_yaml_tags_never_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_skill(tmp_path, "evil", raw=(
        "---\nname: evil\ndescription: !!python/object/apply:os.system "
        f"['touch {marker}']\n---\nbody").encode())
    registry = registry_of(tmp_path)
    assert "evil" not in registry.skills and not marker.exists()
    assert "invalid YAML front matter" in registry.problems[0].message


def test_added_and_edited_skills_are_picked_up_while_running(tmp_path: Path,
                                                             monkeypatch) -> None:
    import tokenopt_tui.core.skills.library as skill_library

    monkeypatch.setattr(skill_library, "REFRESH_INTERVAL_S", 0.0)
    write_skill(tmp_path, "first", tags="[alpha, beta]")
    library = SkillLibrary.from_sources(SkillSettings(threshold=0.1), [Source("t", tmp_path)])
    assert library.select("gamma delta").loaded == ()
    path = write_skill(tmp_path, "second", tags="[gamma, delta]",
                       description="Works on gamma and delta.")
    assert [s.name for s in library.select("gamma delta").loaded] == ["second"]
    path.write_text(path.read_text().replace("[gamma, delta]", "[epsilon, zeta]")
                    .replace("gamma and delta", "epsilon and zeta"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert library.select("gamma delta").loaded == ()
    assert [s.name for s in library.select("epsilon zeta").loaded] == ["second"]


def test_description_vectors_are_cached_and_redone_when_a_description_changes(
        tmp_path: Path) -> None:
    """The matcher's embeddings live in a file keyed by each description's hash: a warm
    start embeds nothing, an edited skill is embedded again, a broken file is rebuilt."""
    import numpy as np

    from tokenopt_tui.core.embedding import VectorCache
    from tokenopt_tui.core.skills.match import SkillMatcher
    from tokenopt_tui.core.skills.registry import SkillRegistry

    embedded: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return np.array([[len(t), 1.0, 2.0] for t in texts], dtype=np.float32)

    write_skill(tmp_path / "skills", "first", description="Checks disks for space.")
    path = write_skill(tmp_path / "skills", "second", description="Rotates old logs.")
    cache = tmp_path / "cache" / "vectors.npz"

    def build() -> SkillMatcher:
        registry = SkillRegistry([Source("t", tmp_path / "skills")])
        registry.scan()
        return SkillMatcher(registry.skills.values(), embed, VectorCache(cache))

    build()
    assert len(embedded) == 2 and cache.exists()
    build()
    assert len(embedded) == 2  # warm: nothing embedded again
    path.write_text(path.read_text().replace("Rotates old logs.", "Compresses old logs."))
    build()
    assert embedded[2:] == ["second: Compresses old logs."]
    cache.write_bytes(b"not an npz file")
    build()
    assert len(embedded) == 5  # rebuilt from scratch, no crash
