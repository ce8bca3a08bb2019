"""Skills as found in the wild (issue 14): Claude Code / Agent Skills / OpenClaw front
matter, OpenClaw gating, discovery in the usual folders, and batch matching."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from textual.widgets import OptionList, Static
from ui_helpers import FakeProvider, build_services, ready, wait_until

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.session import ask_window
from tokenopt_tui.core.skills.gating import Requirements
from tokenopt_tui.core.skills.library import SkillLibrary
from tokenopt_tui.core.skills.registry import SkillRegistry, Source, default_sources
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.screens.skills import SkillsScreen

BUNDLED = REPO / "skills"
FAKE_TOOL = "tokenopt-wild-fake-tool"
FAKE_VAR = "TOKENOPT_WILD_TEST_TOKEN"


def skill(root: Path, folder: str, front: str, body: str = "# Runbook\n\nDo it.\n") -> Path:
    """A SKILL.md with `front` as its front matter, written as a person would."""
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n{body}", encoding="utf-8")
    return path


def gated(root: Path) -> None:
    """Two OpenClaw skills: one needs a binary, one a variable (one-line JSON, as
    OpenClaw writes `metadata`)."""
    skill(root, "needs-tool", f"""
name: needs-tool
description: Renders invoices with the invoice tool.
tags: [invoice, render]
metadata: {{"openclaw": {{"emoji": "🧾", "requires": {{"bins": ["{FAKE_TOOL}"]}},
  "install": [{{"kind": "brew", "formula": "x"}}]}}}}
""")
    skill(root, "needs-token", f"""
name: needs-token
description: Posts the weather report to the channel.
tags: [weather, report]
metadata:
  openclaw:
    requires:
      env: [{FAKE_VAR}]
    primaryEnv: {FAKE_VAR}
""")


# -- Gating -------------------------------------------------------------------------------

def test_gating_hides_a_skill_until_its_binary_and_variable_exist(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gated(tmp_path / "skills")
    monkeypatch.delenv(FAKE_VAR, raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    settings = SkillSettings(threshold=0.1)
    library = SkillLibrary.from_sources(settings, [Source("t", tmp_path / "skills")])
    skills = library.registry.skills
    assert skills["needs-tool"].status == f"unavailable: needs {FAKE_TOOL}"
    assert skills["needs-token"].status == f"unavailable: needs ${FAKE_VAR}"
    assert library.registry.problems == [] and library.registry.warnings == []
    # Not offered at all: not ranked, not loaded, not even when invoked by name.
    assert library.rank("render the invoice", threshold=0.0) == []
    assert library.select("render the invoice").loaded == ()
    assert library.select("/needs-tool please").loaded == ()
    assert library.select("weather report for the channel").loaded == ()

    tool = bin_dir / FAKE_TOOL
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(FAKE_VAR, "set")
    library.rescan()  # gating is checked when front matter is scanned
    assert skills is not library.registry.skills
    assert all(s.available for s in library.registry.skills.values())
    assert [s.name for s in library.select("render the invoice").loaded] == ["needs-tool"]
    assert [s.name for s in library.select("weather report please").loaded] == [
        "needs-token"]


def test_os_gating_uses_sys_platform_names() -> None:
    needs_mac = Requirements(os=("darwin",))
    assert needs_mac.missing(platform="linux") == ("os darwin",)
    assert needs_mac.missing(platform="darwin") == ()
    both = Requirements(os=("darwin", "win32"), any_bins=("nope-a", "nope-b"))
    assert both.missing(platform="linux", which=lambda _: None) == (
        "os darwin or win32", "one of nope-a, nope-b")
    assert both.missing(platform="win32", which=lambda b: b if b == "nope-b" else None) == ()


# -- Front matter as found ----------------------------------------------------------------

def test_long_description_and_name_mismatch_load_with_a_warning(tmp_path: Path) -> None:
    long_text = "Explains the quarterly figures in plain words. " * 25  # 1,174 once stripped
    long_path = skill(tmp_path, "long-one", f"name: long-one\ndescription: {long_text}")
    other_path = skill(tmp_path, "folder-name",
                       "name: front-name\ndescription: Handles front matter names.")
    registry = SkillRegistry([Source("t", tmp_path)])
    registry.scan()
    assert sorted(registry.skills) == ["front-name", "long-one"]
    assert registry.problems == []
    warnings = {str(w.path): w.message for w in registry.warnings}
    assert "1,174 characters (at most 1,024); loaded anyway" in warnings[str(long_path)]
    assert ("field 'name' is 'front-name' but the folder is 'folder-name'"
            in warnings[str(other_path)])
    assert registry.body("front-name")[0] == "# Runbook\n\nDo it."
    # Only what cannot be a skill is skipped.
    skill(tmp_path, "no-description", "name: no-description\nlicense: MIT")
    registry.scan()
    assert [p.message for p in registry.problems] == ["field 'description' is missing"]


def test_claude_code_and_agent_skills_fields_read_and_unknown_keys_ignored(
        tmp_path: Path) -> None:
    skill(tmp_path, "git-helper", """
name: git-helper
description: Explains a repository's recent history.
license: Apache-2.0
allowed-tools: Read, Grep, Bash(git log:*)
model: claude-sonnet-4-5
argument-hint: "[branch]"
user-invocable: true
context: fork
hooks:
  PreToolUse: [{matcher: Bash}]
compatibility: Requires git
some-future-key: {nested: [1, 2]}
metadata:
  author: someone
  version: "1.2"
""")
    skill(tmp_path, "pdf-tool", """
name: pdf-tool
description: Fills PDF forms.
allowed-tools: Bash(pdftk:*) Read
""")
    registry = SkillRegistry([Source("t", tmp_path)])
    registry.scan()
    assert registry.problems == [] and registry.warnings == []
    helper = registry.skills["git-helper"]
    assert helper.allowed_tools == ("Read", "Grep", "Bash(git log:*)")
    assert (helper.license, helper.model) == ("Apache-2.0", "claude-sonnet-4-5")
    assert helper.model_invocable and helper.available and helper.status == "ok"
    assert registry.skills["pdf-tool"].allowed_tools == ("Bash(pdftk:*)", "Read")


def test_disable_model_invocation_loads_only_by_name(tmp_path: Path) -> None:
    skill(tmp_path, "release-train", """
name: release-train
description: Deploys the release train to production.
tags: [deploy, release, production]
disable-model-invocation: true
""")
    skill(tmp_path, "deploy-check", """
name: deploy-check
description: Checks a deploy before production.
tags: [deploy, check]
""")
    library = SkillLibrary.from_sources(SkillSettings(threshold=0.1), [Source("t", tmp_path)])
    assert library.registry.skills["release-train"].status == "by name only"
    auto = library.select("deploy the release to production")
    assert [s.name for s in auto.loaded] == ["deploy-check"]
    assert "release-train" not in [m.name for m in library.rank("deploy release", 0.0)]
    named = library.select("/release-train deploy the release to production")
    assert [s.name for s in named.loaded] == ["release-train", "deploy-check"]
    assert named.loaded[0].reason == "invoked by name"
    assert [s.name for s in library.select("use $release-train now").loaded] == [
        "release-train"]


# -- Discovery ----------------------------------------------------------------------------

def test_discovery_order_and_project_folder(tmp_path: Path) -> None:
    home, project, user, extra = (tmp_path / n for n in ("home", "proj", "user", "extra"))
    skill(project / ".claude" / "skills", "shared", "name: shared\ndescription: Project's.")
    skill(home / ".claude" / "skills", "shared", "name: shared\ndescription: Home's.")
    skill(home / ".agents" / "skills", "from-agents", "name: from-agents\ndescription: A.")
    skill(home / ".openclaw" / "workspace" / "skills", "from-ws",
          "name: from-ws\ndescription: W.")
    # A config folder that is also a usual place is read once (no self-shadowing).
    sources = default_sources(user, [extra, home / ".claude" / "skills"], BUNDLED,
                              home=home, cwd=project)
    assert [s.label for s in sources] == [
        "user", "project .claude", "~/.claude", "~/.agents", "~/.openclaw",
        "openclaw workspace", f"extra folder {extra}", "bundled"]
    registry = SkillRegistry(sources)
    registry.scan()
    assert registry.skills["shared"].description == "Project's."
    assert registry.skills["shared"].source == "project .claude"
    assert registry.skills["from-agents"].source == "~/.agents"
    assert registry.skills["from-ws"].source == "openclaw workspace"
    [(loser, winner)] = registry.shadowed_skills
    assert (loser.source, winner.source) == ("~/.claude", "project .claude")
    assert registry.problems == [] and registry.warnings == []  # absent folders: silent


def test_cli_list_shows_sources_shadowing_gating_and_warnings(xdg_env, tmp_path: Path) -> None:
    home = tmp_path / "home"
    claude = home / ".claude" / "skills"
    openclaw = home / ".openclaw" / "skills"
    skill(claude, "shared", "name: shared\ndescription: Claude's copy of a shared skill.")
    skill(claude, "aria-cron", "name: aria-cron\ndescription: My own cron runbook.")
    skill(openclaw, "shared", "name: shared\ndescription: OpenClaw's copy.")
    skill(openclaw, "only-openclaw", "name: only-openclaw\ndescription: Just here.")
    gated(openclaw)
    skill(openclaw, "wrong-folder", "name: right-name\ndescription: Named unlike its folder.")
    (home / ".openclaw" / "workspace").mkdir()
    (home / ".openclaw" / "workspace" / "skills").write_text("not a folder")
    env = {**xdg_env, "HOME": str(home)}
    env.pop(FAKE_VAR, None)

    listed = run_cli(["skills", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [s["label"] for s in data["sources"]] == [
        "user", "project .claude", "~/.claude", "~/.agents", "~/.openclaw",
        "openclaw workspace", "bundled"]
    assert [s["skills"] for s in data["sources"]] == [0, 0, 2, 0, 4, 0, 25]
    rows = {r["name"]: r for r in data["skills"]}
    assert len(rows) == 26 - 1 + 2 + 4
    assert rows["shared"]["source"] == "~/.claude"
    assert rows["aria-cron"]["source"] == "~/.claude"
    assert rows["only-openclaw"]["source"] == "~/.openclaw"
    assert rows["needs-tool"]["status"] == f"unavailable: needs {FAKE_TOOL}"
    assert rows["needs-token"]["missing"] == [f"${FAKE_VAR}"]
    shadowed = {(r["name"], r["source"]): r["winner_source"] for r in data["shadowed_skills"]}
    assert shadowed == {("shared", "~/.openclaw"): "~/.claude",
                        ("aria-cron", "bundled"): "~/.claude"}
    assert data["problems"] == []
    warned = "\n".join(data["warnings"])
    assert "field 'name' is 'right-name' but the folder is 'wrong-folder'" in warned
    assert f"{home / '.openclaw' / 'workspace' / 'skills'}: cannot be listed" in warned
    assert ".agents" not in listed.stderr  # a missing folder is silently skipped

    text = run_cli(["skills", "list"], env)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert out.index("3. ~/.claude") < out.index("5. ~/.openclaw") < out.index("7. bundled")
    lines = {ln.split()[0] + " " + ln.split()[1]: ln for ln in out.splitlines()[8:-1]}
    assert lines["shared ~/.claude"].rstrip().endswith("ok")
    assert lines["shared ~/.openclaw"].rstrip().endswith("shadowed by ~/.claude")
    assert lines["needs-tool ~/.openclaw"].rstrip().endswith(
        f"unavailable: needs {FAKE_TOOL}")
    summary = "31 skills (29 offered to the matcher, 2 unavailable, 0 by name only), 2 shadowed"
    assert out.splitlines()[-1] == summary
    assert "tokenopt: skill warning: " in text.stderr and "wrong-folder" in text.stderr

    matched = run_cli(["skills", "match", "--json", "render the invoice please"], env)
    assert json.loads(matched.stdout)["loaded"] == []  # gated: never offered


# -- Batch matching -----------------------------------------------------------------------

def test_batch_match_prints_what_the_session_would_send(xdg_env, tmp_path: Path) -> None:
    requests = ["my crontab job never runs at night, why?", "what is 2 + 2?",
                "the postgres backup failed and the disk is full"]
    file = tmp_path / "requests.txt"
    file.write_bytes(("\n".join(requests[:2]) + "\n\n").encode()
                     + b"caf\xe9 broken line\n" + requests[2].encode() + b"\n")
    env = {**xdg_env, "HOME": str(tmp_path / "home")}
    done = run_cli(["skills", "match", "--file", str(file)], env)
    assert done.returncode == 1  # one line was not UTF-8; the others ran
    assert f"tokenopt: {file}:4: not UTF-8 text (byte 3); line skipped" in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["request"] for r in records] == requests
    assert [r["line"] for r in records] == [1, 2, 5]
    library = SkillLibrary.from_sources(SkillSettings(), [Source("bundled", BUNDLED)])
    for record in records:
        assert set(record) == {"request", "line", "loaded", "ranked", "skipped",
                               "elapsed_ms"}
        expected = library.select(ask_window(record["request"]))
        assert record["loaded"] == [s.name for s in expected.loaded]
        assert record["skipped"] == [list(s) for s in expected.skipped]
        assert len(record["ranked"]) <= 5 and record["elapsed_ms"] >= 0
        assert all(isinstance(n, str) and isinstance(s, float) for n, s in record["ranked"])
    assert records[0]["loaded"] == ["aria-cron"] and records[0]["ranked"][0][0] == "aria-cron"
    assert records[1]["loaded"] == [] and records[1]["ranked"] == []

    piped = run_cli(["skills", "match", "--file", "-"], env, input=requests[0] + "\n")
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["loaded"] == ["aria-cron"]
    missing = run_cli(["skills", "match", "--file", str(tmp_path / "nope.txt")], env)
    assert missing.returncode == 2 and f"{tmp_path / 'nope.txt'}: cannot be read" in \
        missing.stderr
    neither = run_cli(["skills", "match"], env)
    assert neither.returncode == 2 and "needs a PROMPT or --file FILE" in neither.stderr


# -- The chat: panel warnings and the skills screen ---------------------------------------

async def test_screen_and_panel_show_sources_gating_and_warnings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(FAKE_VAR, raising=False)
    gated(home / ".openclaw" / "skills")
    skill(home / ".claude" / "skills", "aria-cron", "name: aria-cron\ndescription: Mine.")
    services = build_services(tmp_path, FakeProvider(), skills=True)
    user_skills = services.paths.data_dir / "skills"
    skill(user_skills, "wordy", "name: wordy\ndescription: " + "Long words here. " * 70)
    async with TokenoptApp(services).run_test(size=(140, 44)) as pilot:
        app = await ready(pilot)
        panel = app.chat.skills_panel
        await wait_until(pilot, lambda: panel.warnings, what="scan warnings")
        assert any("wordy" in w and "(at most 1,024); loaded anyway" in w
                   for w in panel.warnings)
        assert any("'aria-cron' is also defined in ~/.claude" in w for w in panel.warnings)

        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, SkillsScreen), what="screen")
        screen = app.screen
        sources = str(screen.query_one("#skill-sources", Static).render())
        assert sources.index("user (1)") < sources.index("~/.claude (1)") \
            < sources.index("~/.openclaw (2)") < sources.index("bundled (25)")
        options = screen.query_one("#skill-list", OptionList)
        labels = {options.get_option_at_index(i).id: str(options.get_option_at_index(i).prompt)
                  for i in range(options.option_count)}
        assert options.option_count == 29
        assert labels["needs-tool"].endswith(f"~/.openclaw · unavailable: needs {FAKE_TOOL}")
        assert labels["aria-cron"].endswith("· ~/.claude")
        screen.show_summary("aria-cron")
        summary = str(screen.query_one("#skill-summary", Static).render())
        assert "shadows bundled" in summary
