"""Skills (Agent Skills format): a registry that reads only front matter, lazy bodies.

A skill is a folder holding `SKILL.md`: YAML front matter between `---` lines, then a
Markdown body. The front matter is read as found in the wild: Agent Skills (`name`,
`description`, `license`, `allowed-tools`, `metadata`), Claude Code (`model`,
`disable-model-invocation`) and OpenClaw (`metadata.openclaw` gating, core/skills/gating.py);
tokenopt's own `tags`; other keys are ignored. At start only the front matter is read;
a body is read the first time a request needs it and cached until the file's mtime
changes. Skill files are data: YAML is parsed with a safe loader, nothing in a skill is
ever executed. A file that cannot be read as a skill (no front matter, bad YAML, no
name or description) is skipped with a problem naming its file; a skill that breaks a
rule it can live with (a long description, a name unlike its folder) loads with a
warning.

Sources in precedence order (`default_sources`): the user's folder, the project's
`.claude/skills`, `~/.claude/skills`, `~/.agents/skills`, `~/.openclaw/skills`, the
OpenClaw workspace's `skills/`, extra folders from config, then the bundled `skills/`.
A name defined twice: the first source wins, and the loser is reported as shadowed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenopt_tui.core.skills.gating import NO_REQUIREMENTS, Requirements, requirements

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
    license: str = ""
    allowed_tools: tuple[str, ...] = ()
    model: str = ""
    #: Claude Code's `disable-model-invocation: true`: loaded only when invoked by name.
    model_invocable: bool = True
    requirements: Requirements = NO_REQUIREMENTS
    #: What this machine lacks for it (gating, checked at scan); empty when available.
    missing: tuple[str, ...] = ()
    #: Rules it breaks but can live with (shown as warnings; the skill loads).
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def agent(self) -> str:
        return str(self.metadata.get("agent", ""))

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def status(self) -> str:
        """One phrase for lists: whether the matcher may offer it, and if not why."""
        if self.missing:
            return "unavailable: needs " + ", ".join(self.missing)
        return "ok" if self.model_invocable else "by name only"


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


def _flag(value: Any, key: str, warnings: list[str]) -> bool | None:
    """A YAML boolean (or the strings true/false); anything else is a warning."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    warnings.append(f"field '{key}' must be true or false; ignored")
    return None


def _tools(value: Any, warnings: list[str]) -> tuple[str, ...]:
    """`allowed-tools`: a list, or one string (Agent Skills separate by spaces, Claude
    Code by commas; a space inside parentheses, as in `Bash(git log:*)`, is kept)."""
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return tuple(t.strip() for t in value if t.strip())
    if isinstance(value, str):
        tools, depth, current = [], 0, ""
        for char in value:
            depth += (char == "(") - (char == ")")
            if depth <= 0 and (char == "," or char.isspace()):
                if current.strip():
                    tools.append(current.strip())
                current = ""
            else:
                current += char
        if current.strip():
            tools.append(current.strip())
        return tuple(tools)
    warnings.append("field 'allowed-tools' must be a list or a string of tool names; ignored")
    return ()


def parse_front_matter(text: str, path: Path, folder: str | None = None) -> dict[str, Any]:
    """Front matter text into fields. Raises SkillError (naming the file and field) only
    when it cannot be a skill; rules a skill can live with go to `fields["warnings"]`.
    Unknown keys are ignored."""
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
    warnings: list[str] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SkillError(f"{path}: field 'name' is missing")
    rule = f"lowercase letters, digits and single hyphens (at most {MAX_NAME} characters)"
    if len(name) > MAX_NAME or not NAME_RE.match(name):
        if folder is None or len(folder) > MAX_NAME or not NAME_RE.match(folder):
            raise SkillError(f"{path}: field 'name' {name!r} must be {rule}")
        warnings.append(f"field 'name' {name!r} is not {rule}; known by its folder's "
                        f"name {folder!r}")
        name = folder
    elif folder is not None and name != folder:
        warnings.append(f"field 'name' is {name!r} but the folder is {folder!r} (the "
                        "format wants them equal); known as " + repr(name))
    description = data.get("description")
    if description is None or (isinstance(description, str) and not description.strip()):
        raise SkillError(f"{path}: field 'description' is missing")
    if not isinstance(description, str):
        raise SkillError(f"{path}: field 'description' must be text")
    if len(description) > MAX_DESCRIPTION:
        warnings.append(f"field 'description' has {len(description):,} characters (at "
                        f"most {MAX_DESCRIPTION:,}); loaded anyway")
    tags = data.get("tags", [])
    if tags is None:
        tags = []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str | int | float) for t in tags):
        warnings.append("field 'tags' must be a list of words; ignored")
        tags = []
    metadata = data.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        warnings.append("field 'metadata' must be a mapping; ignored")
        metadata = {}
    extra: dict[str, Any] = {}
    for key, out in (("license", "license"), ("model", "model")):
        value = data.get(key)
        if isinstance(value, str):
            extra[out] = value.strip()
        elif value is not None:
            warnings.append(f"field '{key}' must be text; ignored")
    if data.get("allowed-tools") is not None:
        extra["allowed_tools"] = _tools(data["allowed-tools"], warnings)
    if data.get("disable-model-invocation") is not None:
        flag = _flag(data["disable-model-invocation"], "disable-model-invocation", warnings)
        extra["model_invocable"] = not flag if flag is not None else True
    gating = requirements(metadata, warnings)
    return {"name": name, "description": " ".join(description.split()),
            "tags": tuple(str(t).strip().lower() for t in tags if str(t).strip()),
            "metadata": metadata, "requirements": gating, "warnings": tuple(warnings),
            **extra}


def read_skill(folder: Path, source: Source) -> Skill:
    """Read and check one skill folder's front matter (never its body), and whether
    this machine has what it needs (gating)."""
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
    fields = parse_front_matter(yaml_text, path, folder.name)
    gating: Requirements = fields["requirements"]
    return Skill(fields["name"], fields["description"], fields["tags"], resolved,
                 source.label, fields["metadata"], license=fields.get("license", ""),
                 allowed_tools=fields.get("allowed_tools", ()),
                 model=fields.get("model", ""),
                 model_invocable=fields.get("model_invocable", True),
                 requirements=gating, missing=gating.missing(), warnings=fields["warnings"])


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
    warnings: list[Problem] = field(default_factory=list)


class SkillRegistry:
    """Every usable skill's front matter, and bodies read on first use (mtime-checked).

    `problems`: files skipped (not skills); `warnings`: skills loaded despite a broken
    rule, and source folders that cannot be listed; `shadowed`: a name's later
    definitions (`shadowed_skills` pairs each with the one that wins)."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)
        self.skills: dict[str, Skill] = {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.shadowed: list[Problem] = []
        self.shadowed_skills: list[tuple[Skill, Skill]] = []
        self.scan_ms = 0.0
        self._bodies: dict[str, _Body] = {}

    def scan(self) -> ScanResult:
        """(Re)read every source's front matter; bodies are not read."""
        started = time.perf_counter()
        skills: dict[str, Skill] = {}
        problems: list[Problem] = []
        warnings: list[Problem] = []
        shadowed: list[Problem] = []
        pairs: list[tuple[Skill, Skill]] = []
        for source in self.sources:
            for folder in _folders(source, problems, warnings):
                try:
                    skill = read_skill(folder, source)
                except SkillError as exc:
                    problems.append(Problem(folder / SKILL_FILE, str(exc).split(": ", 1)[-1]))
                    continue
                except OSError as exc:
                    problems.append(Problem(folder / SKILL_FILE, f"cannot be read: {exc}"))
                    continue
                warnings += [Problem(folder / SKILL_FILE, w) for w in skill.warnings]
                if skill.name in skills:
                    winner = skills[skill.name]
                    shadowed.append(Problem(skill.path, f"'{skill.name}' is also defined in "
                                                        f"{winner.source} ({winner.path}), "
                                                        "which wins"))
                    pairs.append((skill, winner))
                    continue
                skills[skill.name] = skill
        self.skills, self.problems, self.shadowed = skills, problems, shadowed
        self.warnings, self.shadowed_skills = warnings, pairs
        self.scan_ms = (time.perf_counter() - started) * 1000
        self._bodies = {k: v for k, v in self._bodies.items() if k in skills}
        return ScanResult(skills, problems, shadowed, self.scan_ms, warnings)

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


def _folders(source: Source, problems: list[Problem],
             warnings: list[Problem]) -> Iterable[Path]:
    """The skill folders directly inside a source, sorted. A missing source is nothing
    to report (most of the usual places are absent); one that cannot be listed is a
    warning, an entry in it that cannot be read a problem."""
    try:
        entries = sorted(os.scandir(source.path), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        warnings.append(Problem(source.path, f"cannot be listed: {exc}"))
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


def default_sources(user_dir: Path, extra: Sequence[Path], bundled: Path, *,
                    home: Path | None = None, cwd: Path | None = None) -> list[Source]:
    """Where people keep skills, first wins: the user's tokenopt folder, the project's
    `.claude/skills`, `~/.claude/skills`, `~/.agents/skills`, `~/.openclaw/skills`, the
    OpenClaw workspace's `skills/`, config's extra folders, then the bundled skills.
    `home`/`cwd` default to the environment's (HOME). A folder reached twice (a config
    folder that is also a usual place, HOME as the project) is listed once, first."""
    home = Path.home() if home is None else home
    cwd = Path.cwd() if cwd is None else cwd
    candidates = [
        Source("user", user_dir),
        Source("project .claude", cwd / ".claude" / "skills"),
        Source("~/.claude", home / ".claude" / "skills"),
        Source("~/.agents", home / ".agents" / "skills"),
        Source("~/.openclaw", home / ".openclaw" / "skills"),
        Source("openclaw workspace", home / ".openclaw" / "workspace" / "skills"),
        *(Source(f"extra folder {p}", p) for p in extra),
        Source("bundled", bundled),
    ]
    sources: list[Source] = []
    seen: set[Path] = set()
    for source in candidates:
        try:
            key = source.path.expanduser().resolve()
        except (OSError, RuntimeError):
            key = source.path
        if key not in seen:
            seen.add(key)
            sources.append(source)
    return sources
