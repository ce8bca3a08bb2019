"""What the session asks of skills: scan once, then per request pick bodies to send.

`select(request)` ranks skills, keeps those above the threshold (at most
`max_per_request`, within `allowance_tokens` of body text), reads their bodies
(lazily, cached by mtime) and reports what it loaded and what it left out and why.
A body too big for what is left of the allowance goes in part (core/skills/partial.py):
its outline and best sections, with a note on how to load the rest (`/skill NAME#section`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokenopt_tui.config import SkillSettings
from tokenopt_tui.core.embedding import Embed, VectorCache
from tokenopt_tui.core.skills.match import Match, SkillMatcher
from tokenopt_tui.core.skills.partial import Part, check_request, for_match, for_request
from tokenopt_tui.core.skills.registry import SkillError, SkillRegistry, Source, default_sources

SKILL_HEADER = "[Skill: {name}] Guidance loaded for this request because it {reason}."
#: How often a request may look for added, removed or edited skills (a few stat calls).
REFRESH_INTERVAL_S = 2.0


def _embedder() -> Embed | None:
    """The shared sentence embedding, or None (keywords alone) when it cannot load."""
    try:
        from tokenopt_tui.core.embedding import embedder

        return embedder()
    except Exception:  # a broken install must not stop skills from matching
        return None


@dataclass(frozen=True)
class LoadedSkill:
    """A skill's text as sent: the whole body, or (`whole` False) its outline, the
    `sections` named (slugs, document order) and a note on what was left out."""

    name: str
    body: str
    tokens: int
    score: float
    reason: str
    latency_ms: float
    whole: bool = True
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    loaded: tuple[LoadedSkill, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (skill, why it was left out)
    elapsed_ms: float = 0.0

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.loaded)

    def system_text(self) -> str:
        """The one system message that carries the loaded bodies to the model."""
        return "\n\n".join(SKILL_HEADER.format(name=s.name, reason=s.reason) + "\n" + s.body
                           for s in self.loaded)


@dataclass
class SkillLibrary:
    settings: SkillSettings
    registry: SkillRegistry
    #: Description embeddings kept between runs (none: computed each start).
    vectors: VectorCache = field(default_factory=lambda: VectorCache(None))
    matcher: SkillMatcher = field(init=False)
    #: Skills loaded only when invoked by name (`disable-model-invocation: true`).
    by_name: SkillMatcher = field(init=False)
    _signature: tuple[int, ...] = field(init=False, default=())
    _checked_at: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.rescan()

    @classmethod
    def from_folders(cls, settings: SkillSettings, user_dir: Path, bundled: Path, *,
                     home: Path | None = None, cwd: Path | None = None,
                     cache_dir: Path | None = None) -> SkillLibrary:
        """The usual places (see `default_sources`; HOME and the working directory);
        description embeddings are kept in `cache_dir` between runs."""
        return cls(settings, SkillRegistry(default_sources(
            user_dir, settings.dirs, bundled, home=home, cwd=cwd)),
            vectors=VectorCache(cache_dir / "skill-vectors.npz" if cache_dir else None))

    @classmethod
    def from_sources(cls, settings: SkillSettings, sources: list[Source]) -> SkillLibrary:
        return cls(settings, SkillRegistry(sources))

    def rescan(self) -> None:
        """Read every source's front matter again (bodies stay lazy)."""
        self.registry.scan()
        # Gating: a skill whose binaries, variables or os are missing is never offered.
        usable = [s for s in self.registry.skills.values() if s.available]
        self.matcher = SkillMatcher((s for s in usable if s.model_invocable), _embedder(),
                                    self.vectors)
        self.by_name = SkillMatcher(s for s in usable if not s.model_invocable)
        self._signature = self._current_signature()
        self._checked_at = time.monotonic()

    def _current_signature(self) -> tuple[int, ...]:
        """mtimes of the source folders (a skill added or removed) and of every known
        SKILL.md (front matter edited)."""
        stamps = []
        for path in [s.path for s in self.registry.sources] + [
                s.path for s in self.registry.skills.values()]:
            try:
                stamps.append(os.stat(path).st_mtime_ns)
            except OSError:
                stamps.append(-1)
        return tuple(stamps)

    def refresh_if_changed(self) -> bool:
        """Rescan when a skill was added, removed or edited (checked every few seconds)."""
        now = time.monotonic()
        if now - self._checked_at < REFRESH_INTERVAL_S:
            return False
        self._checked_at = now
        if self._current_signature() == self._signature:
            return False
        self.rescan()
        return True

    def eager_tokens(self) -> int:
        """Tokens of every body together: what each request would carry if skills were
        all in the prompt (reads every body: for the dashboard, never at start)."""
        total = 0
        for name in self.registry.skills:
            try:
                total += self.registry.body(name)[1]
            except (SkillError, OSError):
                continue
        return total

    def rank(self, request: str, threshold: float | None = None) -> list[Match]:
        """What this request is offered: available skills by score (above `threshold`,
        the config's by default); a by-name-only skill only when invoked by name."""
        threshold = self.settings.threshold if threshold is None else threshold
        ranked = self.matcher.rank(request, threshold=threshold)
        if not self.by_name.names:
            return ranked
        invoked = [m for m in self.by_name.rank(request) if m.invoked]
        if not invoked:
            return ranked
        text = request.lower()
        first = [m for m in ranked if m.invoked] + invoked
        first.sort(key=lambda m: min(i for i in (text.find("/" + m.name),
                                                  text.find("$" + m.name)) if i >= 0))
        return first + [m for m in ranked if not m.invoked]

    def select(self, request: str, requested: Sequence[str] = ()) -> Selection:
        """The skills this request loads, within the count and token allowance: first
        those the user asked for (`requested`: "NAME" or "NAME#section", from `/skill`),
        then the matched ones; a body that does not fit is sent in part."""
        started = time.perf_counter()
        self.refresh_if_changed()
        settings = self.settings
        loaded: list[LoadedSkill] = []
        skipped: list[tuple[str, str]] = []
        spent = 0
        asked: dict[str, list[str] | None] = {}  # name: section slugs (None: whole)
        for spec in requested:
            try:
                wanted = check_request(self.registry, spec)
            except (SkillError, OSError) as exc:
                skipped.append((spec, str(exc)))
                continue
            sections = asked.get(wanted.name, [])
            if wanted.section is None or sections is None:
                asked[wanted.name] = None
            else:
                asked[wanted.name] = [*sections, wanted.section]
        for name, slugs in asked.items():
            t0 = time.perf_counter()
            try:
                body, tokens = self.registry.body(name)
            except (SkillError, OSError) as exc:
                skipped.append((name, str(exc)))
                continue
            left = settings.allowance_tokens - spent
            part: Part | None = None
            if slugs is not None or tokens > left:
                part = for_request(name, body, tokens, slugs, left)
                if part is None or not part.sections:
                    skipped.append((name, f"asked for, but not even one section fits the "
                                          f"{left:,} tokens left of the "
                                          f"{settings.allowance_tokens:,}-token allowance"))
                    continue
            loaded.append(self._loaded(name, body, tokens, part, 0.0,
                                       "was asked for by the user (/skill)", t0))
            spent += loaded[-1].tokens
        matches = [m for m in self.rank(request) if m.name not in asked]
        for index, match in enumerate(matches):
            if index >= settings.max_per_request:  # bodies below the top K are never read
                skipped.append((match.name, f"over {settings.max_per_request} per request"))
                continue
            t0 = time.perf_counter()
            try:
                body, tokens = self.registry.body(match.name)
            except (SkillError, OSError) as exc:
                skipped.append((match.name, str(exc)))
                continue
            part = None
            if spent + tokens > settings.allowance_tokens:
                part = for_match(match.name, body, tokens, request,
                                 settings.allowance_tokens - spent)
                if part is None or not part.sections:
                    skipped.append((match.name, f"{tokens:,} tokens would pass the "
                                                f"{settings.allowance_tokens:,}-token "
                                                "allowance, and no section of it fits"))
                    continue
            loaded.append(self._loaded(match.name, body, tokens, part, match.score,
                                       match.reason, t0))
            spent += loaded[-1].tokens
        return Selection(tuple(loaded), tuple(skipped), (time.perf_counter() - started) * 1000)

    @staticmethod
    def _loaded(name: str, body: str, tokens: int, part: Part | None, score: float,
                reason: str, t0: float) -> LoadedSkill:
        """The whole body, or the part that fits."""
        latency = (time.perf_counter() - t0) * 1000
        if part is None:
            return LoadedSkill(name, body, tokens, score, reason, latency)
        return LoadedSkill(name, part.text, part.tokens, score, reason, latency,
                           whole=False, sections=part.sections)
