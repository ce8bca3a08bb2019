"""Skills (Agent Skills format): a registry that reads only front matter, lazy bodies.

A skill is a folder holding `SKILL.md`: YAML front matter (`name`, `description`,
`tags`, optional `metadata`) between `---` lines, then a Markdown body. At start only
the front matter is read; a body is read the first time a request needs it and cached
until the file's mtime changes. Skill files are data: YAML is parsed with
a safe loader, nothing in a skill is ever executed, and a bad skill is skipped with a
warning that names its file while every other skill loads.

Sources in precedence order: the user's folder, extra folders from config, then the
bundled `skills/`. A name defined twice: the first source wins, and the loser is
reported as shadowed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1_024
MAX_SKILL_BYTES = 1_000_000  # a SKILL.md larger than this is not a skill but a dump
MAX_FRONT_MATTER_BYTES = 16_384
SKILL_FILE = "SKILL.md"


class SkillError(ValueError):
    """A skill that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Skill:
    """A skill's front matter (the body is read on demand by the registry)."""

    name: str
    description: str
    tags: tuple[str, ...]
    path: Path
    source: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def agent(self) -> str:
        return str(self.metadata.get("agent", ""))


@dataclass(frozen=True)
class Problem:
    """A skill that was skipped (or shadowed), and why."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A folder of skills and what to call it in warnings and the panel."""

    label: str
    path: Path


def _split_front_matter(head: str, path: Path) -> tuple[str, int]:
    """The YAML text between the opening and closing `---`, and where the body starts."""
    if not head.startswith("---"):
        raise SkillError(f"{path}: no YAML front matter (the file must start with '---')")
    first_newline = head.find("\n")
    if first_newline < 0 or head[:first_newline].strip() != "---":
        raise SkillError(f"{path}: the first line must be exactly '---'")
    match = re.search(r"^---[ \t]*$", head[first_newline + 1:], re.MULTILINE)
    if match is None:
        raise SkillError(f"{path}: the front matter is not closed by a '---' line "
                         f"within {MAX_FRONT_MATTER_BYTES:,} bytes")
    start = first_newline + 1
    end = start + match.start()
    body_start = start + match.end()
    return head[start:end], body_start


def _read_head(path: Path) -> str:
    with path.open("rb") as handle:
        raw = handle.read(MAX_FRONT_MATTER_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a multi-byte character cut by the read limit
            return raw[:exc.start].decode("utf-8")
        raise SkillError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def parse_front_matter(text: str, path: Path) -> dict[str, Any]:
    """Validate front matter text into a dict; raises SkillError naming the file/field."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader: plain data, no tags run
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise SkillError(f"{path}: invalid YAML front matter{where}: "
                         f"{getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SkillError(f"{path}: the front matter must be a mapping of fields")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SkillError(f"{path}: field 'name' is missing")
    if len(name) > MAX_NAME or not NAME_RE.match(name):
        raise SkillError(f"{path}: field 'name' {name!r} must be lowercase letters, digits "
                         f"and single hyphens (at most {MAX_NAME} characters)")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SkillError(f"{path}: field 'description' is missing")
    if len(description) > MAX_DESCRIPTION:
        raise SkillError(f"{path}: field 'description' has {len(description):,} characters "
                         f"(at most {MAX_DESCRIPTION:,})")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str | int | float) for t in tags):
        raise SkillError(f"{path}: field 'tags' must be a list of words")
    metadata = data.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise SkillError(f"{path}: field 'metadata' must be a mapping")
    return {"name": name, "description": " ".join(description.split()),
            "tags": tuple(str(t).strip().lower() for t in tags if str(t).strip()),
            "metadata": metadata}


def read_skill(folder: Path, source: Source) -> Skill:
    """Read and check one skill folder's front matter (never its body)."""
    path = folder / SKILL_FILE
    root = source.path.resolve()
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise SkillError(f"{path}: missing (a skill folder needs a {SKILL_FILE})") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise SkillError(f"{path}: cannot be resolved ({exc})") from None
    if not resolved.is_relative_to(root):
        raise SkillError(f"{path}: links outside its skills folder ({resolved}); skipped")
    if not resolved.is_file():
        raise SkillError(f"{path}: not a regular file")
    size = resolved.stat().st_size
    if size > MAX_SKILL_BYTES:
        raise SkillError(f"{path}: {size:,} bytes is over the {MAX_SKILL_BYTES:,}-byte "
                         "limit for a skill")
    head = _read_head(resolved)
    yaml_text, _ = _split_front_matter(head, path)
    fields = parse_front_matter(yaml_text, path)
    if fields["name"] != folder.name:
        raise SkillError(f"{path}: field 'name' is {fields['name']!r} but the folder is "
                         f"{folder.name!r}; they must be equal")
    return Skill(fields["name"], fields["description"], fields["tags"], resolved,
                 source.label, fields["metadata"])


@dataclass
class _Body:
    mtime_ns: int
    text: str
    tokens: int


@dataclass
class ScanResult:
    skills: dict[str, Skill]
    problems: list[Problem]
    shadowed: list[Problem]
    elapsed_ms: float


class SkillRegistry:
    """Every usable skill's front matter, and bodies read on first use (mtime-checked)."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)
        self.skills: dict[str, Skill] = {}
        self.problems: list[Problem] = []
        self.shadowed: list[Problem] = []
        self.scan_ms = 0.0
        self._bodies: dict[str, _Body] = {}

    def scan(self) -> ScanResult:
        """(Re)read every source's front matter; bodies are not read."""
        started = time.perf_counter()
        skills: dict[str, Skill] = {}
        problems: list[Problem] = []
        shadowed: list[Problem] = []
        for source in self.sources:
            for folder in _folders(source, problems):
                try:
                    skill = read_skill(folder, source)
                except SkillError as exc:
                    problems.append(Problem(folder / SKILL_FILE, str(exc).split(": ", 1)[-1]))
                    continue
                except OSError as exc:
                    problems.append(Problem(folder / SKILL_FILE, f"cannot be read: {exc}"))
                    continue
                if skill.name in skills:
                    winner = skills[skill.name]
                    shadowed.append(Problem(skill.path, f"'{skill.name}' is also defined in "
                                                        f"{winner.source} ({winner.path}), "
                                                        "which wins"))
                    continue
                skills[skill.name] = skill
        self.skills, self.problems, self.shadowed = skills, problems, shadowed
        self.scan_ms = (time.perf_counter() - started) * 1000
        self._bodies = {k: v for k, v in self._bodies.items() if k in skills}
        return ScanResult(skills, problems, shadowed, self.scan_ms)

    def body(self, name: str) -> tuple[str, int]:
        """A skill's Markdown body and its token count, read on first use and again only
        when the file changed (an edited SKILL.md is picked up without a restart)."""
        from tokenopt_tui.core.tokens import count_tokens

        skill = self.skills[name]
        try:
            stat = skill.path.stat()
        except OSError as exc:
            raise SkillError(f"{skill.path}: cannot be read: {exc}") from None
        cached = self._bodies.get(name)
        if cached is not None and cached.mtime_ns == stat.st_mtime_ns:
            return cached.text, cached.tokens
        if stat.st_size > MAX_SKILL_BYTES:
            raise SkillError(f"{skill.path}: grew to {stat.st_size:,} bytes, over the limit")
        try:
            text = skill.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SkillError(f"{skill.path}: not UTF-8 text (byte {exc.start})") from None
        # The front matter was checked at scan; an edit to it triggers a rescan (see
        # SkillLibrary.refresh_if_changed), so only the body is taken here.
        _, body_start = _split_front_matter(text[:MAX_FRONT_MATTER_BYTES], skill.path)
        body = text[body_start:].strip()
        cached = _Body(stat.st_mtime_ns, body, count_tokens(body))
        self._bodies[name] = cached
        return cached.text, cached.tokens


def _folders(source: Source, problems: list[Problem]) -> Iterable[Path]:
    """The skill folders directly inside a source, sorted; unreadable ones reported."""
    try:
        entries = sorted(os.scandir(source.path), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(Problem(source.path, f"cannot be listed: {exc}"))
        return []
    folders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()  # follows links; a loop raises
        except OSError as exc:
            problems.append(Problem(Path(entry.path), f"cannot be read: {exc}"))
            continue
        if is_dir:
            folders.append(Path(entry.path))
    return folders


def default_sources(user_dir: Path, extra: Sequence[Path], bundled: Path) -> list[Source]:
    """User folder, then config's extra folders, then the bundled skills."""
    sources = [Source("user", user_dir)]
    sources += [Source(f"extra folder {p}", p) for p in extra]
    sources.append(Source("bundled", bundled))
    return sources
