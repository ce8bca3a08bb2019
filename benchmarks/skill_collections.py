"""Public skill collections as an independent evaluation set for skill matching.

    .venv/bin/python benchmarks/skill_collections.py --check            # validate the data
    .venv/bin/python benchmarks/skill_collections.py --stats            # README figures
    .venv/bin/python benchmarks/skill_collections.py --materialise DIR  # skill folders
    .venv/bin/python benchmarks/skill_collections.py --extract GIT_DIR OWNER/REPO LICENSE

Only metadata of the public skills is committed (tests/data/skill_collections/skills.jsonl:
name, description, body size, headings), never their bodies. `materialise` rebuilds
scannable folders with synthetic bodies of the recorded size, so the app can load them as
real skills. requests_held_out.jsonl is for the final measurement only: tuning code calls
`load_requests("tune")` and never reads the held-out part.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "skill_collections"
SKILLS = DATA / "skills.jsonl"
PARTS = {"tune": DATA / "requests_tune.jsonl", "held_out": DATA / "requests_held_out.jsonl"}
SKILL_FIELDS = ("collection", "commit", "path", "license", "name", "description",
                "body_tokens", "headings")
MAX_HEADINGS = 40
FILLER = ("This section describes the steps, options and caveats that apply here, with "
          "examples of typical inputs and the expected results, so that the assistant "
          "can follow it without guessing. ")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file; a bad line is an error naming file and line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected an object")
        rows.append(row)
    return rows


def skill_id(skill: dict[str, Any]) -> str:
    """The label form of a skill: owner/repo/name."""
    return f"{skill['collection']}/{skill['name']}"


def load_skills() -> list[dict[str, Any]]:
    """Every recorded skill's metadata, in file order."""
    return _read_jsonl(SKILLS)


def canonical() -> dict[str, str]:
    """Skill id -> the id its labels use: a byte-identical copy in another collection
    (field `same_as`) counts as the skill it copies, so choosing either is right."""
    return {skill_id(s): s.get("same_as") or skill_id(s) for s in load_skills()}


def load_requests(part: str) -> list[dict[str, Any]]:
    """The labelled requests of one part: "tune" or "held_out" (final measurement only)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {sorted(PARTS)}, not {part!r}")
    return _read_jsonl(PARTS[part])


def check() -> list[str]:
    """Problems in the data set (empty when valid): fields, unique ids, known labels."""
    problems: list[str] = []
    skills = load_skills()
    ids: Counter[str] = Counter()
    for number, skill in enumerate(skills, 1):
        missing = [f for f in SKILL_FIELDS if f not in skill]
        if missing:
            problems.append(f"{SKILLS.name}:{number}: missing {', '.join(missing)}")
            continue
        if not str(skill["name"]).strip() or not str(skill["description"]).strip():
            problems.append(f"{SKILLS.name}:{number}: empty name or description")
        if not isinstance(skill["body_tokens"], int) or skill["body_tokens"] < 0:
            problems.append(f"{SKILLS.name}:{number}: body_tokens must be an int >= 0")
        if not isinstance(skill["headings"], list) or len(skill["headings"]) > MAX_HEADINGS:
            problems.append(f"{SKILLS.name}:{number}: headings must be a list of <= 40")
        ids[skill_id(skill)] += 1
    problems += [f"{SKILLS.name}: duplicate skill {i}" for i, n in ids.items() if n > 1]
    same = {skill_id(s): s["same_as"] for s in skills if s.get("same_as")}
    problems += [f"{SKILLS.name}: {i} same_as unknown skill {t!r}" for i, t in same.items()
                 if t not in ids]
    seen: dict[str, str] = {}
    for part, path in PARTS.items():
        for number, row in enumerate(_read_jsonl(path), 1):
            where = f"{path.name}:{number}"
            text = row.get("request")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: request must be non-empty text")
                continue
            labels = row.get("skills")
            if not isinstance(labels, list):
                problems.append(f"{where}: skills must be a list (empty for none)")
                continue
            also = row.get("also_ok", [])
            if not isinstance(also, list):
                problems.append(f"{where}: also_ok must be a list")
                also = []
            problems += [f"{where}: unknown skill {s!r}" for s in labels + also if s not in ids]
            problems += [f"{where}: {s!r} is a copy; label {same[s]!r}" for s in labels
                         if s in same]
            if len(set(labels)) != len(labels):
                problems.append(f"{where}: a skill is listed twice")
            key = text.strip().lower()
            if key in seen:
                problems.append(f"{where}: same request as {seen[key]}")
            seen[key] = f"{part}:{number}"
    return problems


def slug(collection: str) -> str:
    """A folder name for a collection: owner/repo -> owner--repo."""
    return collection.replace("/", "--")


def synthetic_body(skill: dict[str, Any]) -> str:
    """A body of about body_tokens tokens (chars/4): the headings, each with filler."""
    target = int(skill["body_tokens"]) * 4
    headings = list(skill["headings"]) or [skill["name"]]
    per = max(1, target // len(headings))
    parts = []
    for heading in headings:
        text = (FILLER * (per // len(FILLER) + 1))[: max(0, per - len(heading) - 8)]
        parts.append(f"## {heading}\n\n{text.strip()}\n")
    return "\n".join(parts)


def materialise(dest: Path) -> None:
    """Write dest/<collection-slug>/<name>/SKILL.md for every skill (synthetic bodies)."""
    for skill in load_skills():
        folder = dest / slug(skill["collection"]) / skill["name"]
        folder.mkdir(parents=True, exist_ok=True)
        front = yaml.safe_dump({"name": skill["name"], "description": skill["description"]},
                               sort_keys=False, allow_unicode=True, width=10_000)
        (folder / "SKILL.md").write_text(f"---\n{front}---\n\n{synthetic_body(skill)}",
                                         encoding="utf-8")


# --- regeneration from a fetched snapshot (not needed to use the data) -------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def split_skill(text: str) -> tuple[dict[str, Any], str]:
    """Front matter (YAML between the first two --- lines) and the body after it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            front = yaml.safe_load("\n".join(lines[1:end])) or {}
            return (front if isinstance(front, dict) else {}), "\n".join(lines[end + 1:])
    return {}, text


def headings(body: str) -> list[str]:
    """The body's markdown headings outside code fences, text only, at most 40."""
    found, fenced = [], False
    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match and match.group(2):
            found.append(re.sub(r"[*`_]", "", match.group(2)).strip())
    return found[:MAX_HEADINGS]


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(git_dir), *args], check=True,
                          capture_output=True, text=True).stdout


def _skill_license(git_dir: Path, path: str, default: str) -> str:
    """The skill's own LICENSE.txt when it has one, else the repo's licence. (A front-matter
    `license` often names the wrapped library's licence, not the skill text's.)"""
    folder = path.rsplit("/", 1)[0]
    try:
        own = _git(git_dir, "show", f"HEAD:{folder}/LICENSE.txt")[:400]
    except subprocess.CalledProcessError:
        own = ""
    if "Apache License" in own:
        return "Apache-2.0"
    if "All rights reserved" in own:
        return "Proprietary (source-available)"
    return default


def extract(git_dir: Path, collection: str, default_license: str) -> list[dict[str, Any]]:
    """One metadata row per SKILL.md in a snapshot (template/ folders skipped)."""
    commit = _git(git_dir, "rev-parse", "HEAD").strip()
    rows = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD").splitlines():
        if not path.endswith("SKILL.md") or path.startswith("template/"):
            continue
        front, body = split_skill(_git(git_dir, "show", f"HEAD:{path}"))
        rows.append({
            "collection": collection, "commit": commit, "path": path,
            "license": _skill_license(git_dir, path, default_license),
            "name": str(front.get("name", "")), "description": str(front.get("description", "")),
            "body_tokens": round(len(body) / 4), "headings": headings(body),
            "folder": path.rsplit("/", 2)[-2] if "/" in path else "",
            "fields": sorted(_field_paths(front)),
        })
    return rows


def _field_paths(front: dict[str, Any], prefix: str = "") -> set[str]:
    """Front-matter keys as dotted paths (metadata.openclaw.requires), two levels deep."""
    paths = set()
    for key, value in front.items():
        path = f"{prefix}{key}"
        paths.add(path)
        if isinstance(value, dict) and path.count(".") < 2:
            paths |= _field_paths(value, path + ".")
    return paths


# --- figures for the README ---------------------------------------------------------------

def stats() -> dict[str, Any]:
    """Counts and body-size figures over skills.jsonl and the two request parts."""
    skills = load_skills()
    sizes = sorted(int(s["body_tokens"]) for s in skills)

    def pct(p: float) -> int:
        return sizes[min(len(sizes) - 1, round(p * (len(sizes) - 1)))]

    out: dict[str, Any] = {
        "skills": len(skills), "per_collection": Counter(s["collection"] for s in skills),
        "body_median": statistics.median(sizes), "body_p75": pct(0.75),
        "body_p90": pct(0.90), "body_max": sizes[-1],
        "share_under_2000": round(sum(s < 2000 for s in sizes) / len(sizes), 3),
        "descriptions_over_1024": sum(len(s["description"]) > 1024 for s in skills),
        "description_chars_median": statistics.median(len(s["description"]) for s in skills),
    }
    for part in PARTS:
        rows = load_requests(part)
        out[part] = Counter(min(len(r["skills"]), 2) for r in rows)
    labelled = Counter(s for part in PARTS for r in load_requests(part) for s in r["skills"])
    out["skills_labelled"] = len(labelled)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--stats", action="store_true")
    parser.add_argument("--materialise", type=Path, metavar="DIR")
    parser.add_argument("--extract", nargs=3, metavar=("GIT_DIR", "OWNER/REPO", "LICENSE"))
    args = parser.parse_args(argv)
    if args.extract:
        for row in extract(Path(args.extract[0]), args.extract[1], args.extract[2]):
            print(json.dumps(row, ensure_ascii=False))
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"ok: {len(load_skills())} skills, "
              + ", ".join(f"{len(load_requests(p))} {p}" for p in PARTS))
    if args.stats:
        print(json.dumps(stats(), indent=1, default=dict))
    if args.materialise:
        materialise(args.materialise)
        print(f"wrote {len(load_skills())} skills under {args.materialise}")
    return 0


def split_held_out(rows: list[dict[str, Any]], seed: int = 14,
                   share: float = 0.4) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tune and held-out parts: per stratum (none / one / two skills) a seeded shuffle of
    the row numbers, the first round(share * n) held out; both parts keep the original
    order. Run once when the set was made."""
    rng = random.Random(seed)
    held_ids: set[int] = set()
    for stratum in (0, 1, 2):
        group = [i for i, r in enumerate(rows) if min(len(r["skills"]), 2) == stratum]
        rng.shuffle(group)
        held_ids |= set(group[:round(share * len(group))])
    tune = [r for i, r in enumerate(rows) if i not in held_ids]
    return tune, [r for i, r in enumerate(rows) if i in held_ids]


if __name__ == "__main__":
    raise SystemExit(main())
