"""`tokenopt skills list|show NAME|match PROMPT [--json]`, `skills match --file FILE`
and `tokenopt skills check DIR`.

Plain text for people, `--json` (or JSON Lines for `match --file`) for scripts. `list`
shows where each skill comes from (the sources in precedence order), which are
shadowed and which are unavailable here (gating). `check` exits 1 when any skill in the
folder has a problem (each listed with its file), 0 when all are usable; warnings
(a skill that loads anyway) are listed but do not fail it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tokenopt_tui.config import Config
from tokenopt_tui.core.text import Writable, json_dumps_safe, one_line, terminal_safe
from tokenopt_tui.paths import Paths


def add_parser(sub: Any) -> None:
    skills = sub.add_parser("skills", help="list, show, match or check skills")
    actions = skills.add_subparsers(dest="skills_command", required=True)
    listing = actions.add_parser("list", help="every skill (front matter only)")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one skill's front matter and body")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    match = actions.add_parser("match", help="which skills a request would load, and why")
    match.add_argument("prompt", nargs="?")
    match.add_argument("--json", action="store_true")
    match.add_argument("--file", metavar="FILE",
                       help="one request per line ('-' for stdin); prints JSON Lines")
    check = actions.add_parser("check", help="validate a folder of skills")
    check.add_argument("folder", type=Path)
    check.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, config: Config, paths: Paths,
        out: Writable = sys.stdout, err: Writable = sys.stderr) -> int:
    """Skill files come from anywhere (public collections): everything written goes
    through the sanitiser, as the history commands do."""
    from tokenopt_tui.core.skills.library import SkillLibrary
    from tokenopt_tui.core.text import SafeWriter
    from tokenopt_tui.resources import bundled_dir

    out, err = SafeWriter(out), SafeWriter(err)

    if args.skills_command == "check":
        return _check(args.folder, config, out, args.json)
    if args.skills_command == "match" and (args.file is None) == (args.prompt is None):
        err.write("tokenopt: skills match needs a PROMPT or --file FILE (one of them)\n")
        return 2
    library = SkillLibrary.from_folders(config.skills, paths.data_dir / "skills",
                                        bundled_dir("skills"))
    registry = library.registry
    if args.skills_command == "list":
        _list(library, out, args.json)
        _warn(registry, err)
        return 0
    if args.skills_command == "show":
        skill = registry.skills.get(args.name)
        if skill is None:
            _unknown(args.name, list(registry.skills), err)
            return 2
        body, tokens = registry.body(skill.name)
        if args.json:
            _dump({**_row(skill), "body": body, "body_tokens": tokens}, out)
        else:
            extras = "".join(f"{label}: {value}\n" for label, value in (
                ("allowed tools", ", ".join(skill.allowed_tools)), ("model", skill.model),
                ("license", skill.license)) if value)
            out.write(f"{skill.name} ({skill.agent or 'no agent'}, {skill.source}: "
                      f"{skill.path})\n{skill.description}\ntags: {', '.join(skill.tags)}\n"
                      f"status: {skill.status}\n{extras}"
                      f"body: {tokens:,} tokens\n\n{terminal_safe(body)}\n")
        return 0
    if args.file is not None:
        from tokenopt_tui.cli.skills_batch import match_file

        return match_file(library, args.file, out, err)
    selection = library.select(args.prompt)
    ranked = library.rank(args.prompt, threshold=0.0)
    loaded = {s.name for s in selection.loaded}
    if args.json:
        _dump({"loaded": [{"name": s.name, "score": s.score, "tokens": s.tokens,
                           "reason": s.reason} for s in selection.loaded],
               "skipped": [{"name": n, "why": why} for n, why in selection.skipped],
               "ranked": [{"name": m.name, "score": m.score, "matched": list(m.matched)}
                          for m in ranked[:10]],
               "threshold": config.skills.threshold,
               "elapsed_ms": round(selection.elapsed_ms, 3)}, out)
        return 0
    if not ranked:
        out.write("no skill matches\n")
    for m in ranked[:10]:
        mark = "load" if m.name in loaded else "    "
        out.write(f"{mark} {m.score:7.3f}  {m.name:<24} {m.reason}\n")
    for name, why in selection.skipped:
        out.write(f"skipped {name}: {why}\n")
    out.write(f"threshold {config.skills.threshold}; {selection.tokens:,} tokens of skill "
              f"text; {selection.elapsed_ms:.2f} ms\n")
    return 0


def _check(folder: Path, config: Config, out: Writable, as_json: bool) -> int:
    from tokenopt_tui.core.skills.registry import SKILL_FILE, SkillError, SkillRegistry, Source

    folder = folder.expanduser()
    if not folder.is_dir():
        out.write(f"{folder}: not a folder\n")
        return 2
    if (folder / SKILL_FILE).is_file():  # one skill's own folder
        source = Source(str(folder.parent), folder.parent)
        registry = SkillRegistry([source])
        registry.scan()
        problems = [p for p in registry.problems if p.path.parent == folder]
        names = [n for n, s in registry.skills.items() if s.path.parent == folder.resolve()]
        if not names and not problems:
            problems = registry.problems
        warnings = [w for w in registry.warnings if w.path.parent == folder]
    else:
        registry = SkillRegistry([Source(str(folder), folder)])
        registry.scan()
        problems = list(registry.problems)
        names = list(registry.skills)
        warnings = list(registry.warnings)
    good = []
    for name in names:
        try:
            registry.body(name)  # the whole file: UTF-8 to the end, front matter intact
        except SkillError as exc:
            problems.append(_problem(registry.skills[name].path, str(exc)))
            continue
        good.append(name)
    if as_json:
        _dump({"folder": str(folder), "ok": good,
               "problems": [{"file": str(p.path), "message": p.message} for p in problems],
               "warnings": [{"file": str(w.path), "message": w.message} for w in warnings]},
              out)
    else:
        for p in problems:
            out.write(f"{p.path}: {p.message}\n")
        for w in warnings:
            out.write(f"{w.path}: warning: {w.message}\n")
        out.write(f"{len(good)} skill(s) OK, {len(problems)} problem(s) in {folder}"
                  + (f", {len(warnings)} warning(s)\n" if warnings else "\n"))
    return 1 if problems else 0


def _problem(path: Path, message: str) -> Any:
    from tokenopt_tui.core.skills.registry import Problem

    return Problem(path, message.split(": ", 1)[-1] if message.startswith(str(path)) else message)


def _row(skill: Any) -> dict[str, Any]:
    return {"name": skill.name, "agent": skill.agent, "source": skill.source,
            "path": str(skill.path), "description": skill.description,
            "tags": list(skill.tags), "status": skill.status,
            "available": skill.available, "missing": list(skill.missing),
            "model_invocable": skill.model_invocable,
            "allowed_tools": list(skill.allowed_tools), "model": skill.model,
            "license": skill.license}


def _list(library: Any, out: Writable, as_json: bool) -> None:
    """Sources in precedence order, then every skill with its source and status;
    shadowed definitions are rows too, saying which source wins."""
    registry = library.registry
    won: dict[str, int] = {}
    for skill in registry.skills.values():
        won[skill.source] = won.get(skill.source, 0) + 1
    sources = [{"rank": i, "label": s.label, "path": str(s.path),
                "exists": s.path.is_dir(), "skills": won.get(s.label, 0)}
               for i, s in enumerate(registry.sources, start=1)]
    rows = [_row(s) for s in registry.skills.values()]
    shadowed = [{**_row(loser), "status": f"shadowed by {winner.source}",
                 "winner_source": winner.source, "winner_path": str(winner.path)}
                for loser, winner in registry.shadowed_skills]
    if as_json:
        _dump({"sources": sources, "skills": rows, "shadowed_skills": shadowed,
               "problems": [str(p) for p in registry.problems],
               "warnings": [str(w) for w in registry.warnings],
               "shadowed": [str(p) for p in registry.shadowed],
               "scan_ms": round(registry.scan_ms, 2)}, out)
        return
    out.write("sources, first wins:\n")
    for s in sources:
        count = f"{s['skills']} skill(s)" if s["exists"] else "absent"
        out.write(f"  {s['rank']}. {one_line(str(s['label']), 24):<24} {count:<12} "
                  f"{s['path']}\n")
    for row in rows + shadowed:
        out.write(f"{row['name']:<24} {one_line(row['source'], 18):<18} "
                  f"{one_line(row['description'], 50):<50} {row['status']}\n")
    unavailable = sum(not r["available"] for r in rows)
    by_name = sum(r["available"] and not r["model_invocable"] for r in rows)
    out.write(f"{len(rows)} skills ({len(rows) - unavailable - by_name} offered to the "
              f"matcher, {unavailable} unavailable, {by_name} by name only), "
              f"{len(shadowed)} shadowed\n")


def _dump(data: Any, out: Writable) -> None:
    out.write(json_dumps_safe(data, default=str) + "\n")


def _warn(registry: Any, err: Writable) -> None:
    for p in registry.problems:
        err.write(f"tokenopt: skill skipped: {p}\n")
    for w in registry.warnings:
        err.write(f"tokenopt: skill warning: {w}\n")
    for p in registry.shadowed:
        err.write(f"tokenopt: skill shadowed: {p}\n")


def _unknown(name: str, names: list[str], err: Writable) -> None:
    from rapidfuzz import process

    close = process.extractOne(name, names, score_cutoff=60) if names else None
    hint = f"; did you mean {close[0]}?" if close else ""
    err.write(f"tokenopt: no skill named {name!r}{hint}\n")
