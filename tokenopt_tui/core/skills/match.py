"""Which skills a request needs: keyword ranking with rapidfuzz, plus explicit invocation.

Every skill contributes keywords: the words of its name and tags (strong), of its
example requests (`metadata.examples`, medium) and of its description (weak), each
weighted by how rare it is across the skills (a word every skill has tells nothing).
A request's words are stemmed and looked up exactly, then, for longer words, fuzzily
(typos, plurals) with rapidfuzz. A skill's score is the sum of its matched keywords'
weights; it counts above a threshold, on two matched words or one of its name's. `/name` or `$name`
invokes a skill outright. Built once per registry scan; a lookup is O(request words).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from tokenopt_tui.core.skills.registry import Skill

if TYPE_CHECKING:
    from tokenopt_tui.core.embedding import Embed, VectorCache

#: A skill needs this many distinct matched words, unless one of them is in its name:
#: one shared everyday word ("price", "share", "wait") is not evidence enough.
MIN_WORDS = 2
#: A second or third skill loads only if it scores this share of the best one.
RELATIVE_CUTOFF = 0.6
TAG_WEIGHT = 1.0
NAME_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.35
#: A skill with no tags and no examples (most skills in the wild) has only its name and
#: description to go on, so their words weigh more.
DESCRIPTION_ALONE_WEIGHT = 0.5
#: Meaning, not just words (core.embedding: the cosine between the request and a skill's
#: name and description). A keyword match needs at least KEYWORD_MIN_SIMILARITY, so a
#: shared word in an unrelated request loads nothing; and the skill closest in meaning
#: loads on its own when its cosine is SEMANTIC_ALONE or more and SEMANTIC_MARGIN above
#: the next one's. Tuned on tests/data/skill_collections' tuning part (docs/skills.md).
KEYWORD_MIN_SIMILARITY = 0.2
SEMANTIC_ALONE = 0.4
SEMANTIC_MARGIN = 0.03
EXAMPLE_WEIGHT = 0.5  # words of `metadata.examples`: requests written as users phrase them
FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 88.0

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")
_INVOKE_RE = re.compile(r"(?:^|\s)[/$]([a-z0-9]+(?:-[a-z0-9]+)*)\b")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "s", "ly")
_STOPWORD_TEXT = """
a an and are as at be been but by can could do does did for from get got has have how i if
in into is it its it's me my of on or our please should so some than that the their them then
there these they this to up us use used uses using was we what when where which who why will
with would you your yours about after again all also any because before being both each few
more most no not now only other over own same she he just very too here out off once under
until while whom during through above below down further let lets need needs want wants make
like thing things one two new help tell give show something anything know think see look
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    """A light suffix stripper: 'backups' → 'backup', 'deploying' → 'deploy'."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                word += "y"
            break
    return word


def words(text: str) -> list[str]:
    """Content words of `text`, lowercased and stemmed, stopwords left out."""
    out = []
    for raw in _WORD_RE.findall(text.lower()):
        raw = raw.strip(".")
        if len(raw) < 2 or raw in STOPWORDS or raw.isdigit():
            continue
        out.append(stem(raw))
    return out


@dataclass(frozen=True)
class Match:
    """A skill that a request matched: how strongly, on which words, and why."""

    name: str
    score: float
    matched: tuple[str, ...]
    invoked: bool = False

    similarity: float = 0.0  # cosine of request and description, when embedded

    @property
    def reason(self) -> str:
        if self.invoked:
            return "invoked by name"
        if not self.matched:
            return f"similar in meaning ({self.similarity:.2f})"
        return "matched " + ", ".join(f"'{w}'" for w in self.matched)


class SkillMatcher:
    """Ranks skills for a request (see the module docstring)."""

    def __init__(self, skills: Iterable[Skill], embed: Embed | None = None,
                 vectors: VectorCache | None = None) -> None:
        skills = list(skills)
        self.names = set()
        self.name_words: dict[str, set[str]] = {}
        raw: dict[str, dict[str, float]] = defaultdict(dict)  # keyword → skill → weight
        for skill in skills:
            self.names.add(skill.name)
            weighted: dict[str, float] = {}
            examples = skill.metadata.get("examples", [])
            described = (DESCRIPTION_ALONE_WEIGHT if not skill.tags and not examples
                         else DESCRIPTION_WEIGHT)
            for word in words(skill.description):
                weighted[word] = max(weighted.get(word, 0.0), described)
            if isinstance(examples, list):
                for example in examples:
                    for word in words(str(example)):
                        weighted[word] = max(weighted.get(word, 0.0), EXAMPLE_WEIGHT)
            for tag in skill.tags:
                for word in words(tag.replace("-", " ")):
                    weighted[word] = TAG_WEIGHT
            own = set(words(skill.name.replace("-", " ")))
            self.name_words[skill.name] = own
            for word in own:
                weighted[word] = max(weighted.get(word, 0.0), NAME_WEIGHT)
            for word, weight in weighted.items():
                raw[word][skill.name] = weight
        count = max(len(self.names), 1)
        # A name word most skills share (a prefix such as "aria") names none of them.
        name_df: dict[str, int] = defaultdict(int)
        for own in self.name_words.values():
            for word in own:
                name_df[word] += 1
        for name, own in self.name_words.items():
            self.name_words[name] = {w for w in own if name_df[w] <= max(1, count // 5)}
        self.keywords: dict[str, dict[str, float]] = {}
        for word, per_skill in raw.items():
            rarity = math.log(1 + count / len(per_skill)) / math.log(1 + count)
            self.keywords[word] = {name: w * rarity for name, w in per_skill.items()}
        self._fuzzy_choices = [w for w in self.keywords if len(w) >= FUZZY_MIN_LENGTH]
        self._embed = embed
        self._order = [skill.name for skill in skills]
        self._matrix: Any = None
        if embed is not None and skills:
            from tokenopt_tui.core.embedding import VectorCache

            self._matrix = (vectors or VectorCache(None)).normalised(embed, [
                f"{skill.name.replace('-', ' ')}: {skill.description}" for skill in skills])

    def similarities(self, request: str) -> dict[str, float]:
        """Cosine of the request with each skill's name and description ({} unembedded)."""
        if self._matrix is None or self._embed is None:
            return {}
        from tokenopt_tui.core.embedding import normalised

        pieces = ask_pieces(request)
        cosines = (self._matrix @ normalised(self._embed, pieces).T).max(axis=1)
        return dict(zip(self._order, (float(c) for c in cosines), strict=True))

    def _lookup(self, word: str) -> tuple[str, dict[str, float]] | None:
        found = self.keywords.get(word)
        if found is not None:
            return word, found
        if len(word) < FUZZY_MIN_LENGTH or not self._fuzzy_choices:
            return None
        best = process.extractOne(word, self._fuzzy_choices, scorer=fuzz.ratio,
                                  score_cutoff=FUZZY_CUTOFF)
        if best is None:
            return None
        return best[0], self.keywords[best[0]]

    def rank(self, request: str, *, threshold: float = 0.0, limit: int | None = None,
             min_words: int = MIN_WORDS, relative: float = RELATIVE_CUTOFF) -> list[Match]:
        """Skills scoring at least `threshold` (and `relative` × the best score) on at
        least `min_words` words or a word of their name, best first; invoked lead."""
        invoked = [n for n in dict.fromkeys(_INVOKE_RE.findall(request.lower()))
                   if n in self.names]
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, list[str]] = defaultdict(list)
        matched_keys: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        for word in words(request):
            hit = self._lookup(word)
            if hit is None or hit[0] in seen:
                continue
            keyword, per_skill = hit
            seen.add(keyword)
            for name, weight in per_skill.items():
                scores[name] += weight
                matched[name].append(word)
                matched_keys[name].append(keyword)
        similar = self.similarities(request)
        best = max(scores.values(), default=0.0)
        keep = [
            Match(n, round(s, 3), tuple(matched[n]), similarity=round(similar.get(n, 0.0), 3))
            for n, s in scores.items()
            if n not in invoked and s >= threshold and s >= relative * best
            and (len(matched[n]) >= min_words or self.name_words[n] & set(matched_keys[n]))
            and (not similar or similar.get(n, 0.0) >= KEYWORD_MIN_SIMILARITY)
        ]
        ranked = [Match(n, 1_000.0, (), invoked=True) for n in invoked]
        ranked += sorted(keep, key=lambda m: (-m.score, m.name))
        closest = _closest(similar)
        if closest is not None and closest not in invoked and all(
                m.name != closest for m in keep):
            ranked.append(Match(closest, round(similar[closest], 3), (),
                                similarity=round(similar[closest], 3)))
        return ranked[:limit] if limit is not None else ranked


def ask_pieces(request: str, most: int = 4) -> list[str]:
    """The request whole, and its first and last paragraphs when it has several: a
    question typed above or below a paste is compared on its own, not diluted by it."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n…\n", request) if p.strip()]
    pieces = [request]
    if len(paragraphs) > 1:
        pieces += [paragraphs[0], paragraphs[-1]]
    return pieces[:most]


def _closest(similar: dict[str, float]) -> str | None:
    """The skill closest in meaning, when it is close enough and clearly the closest."""
    ordered = sorted(similar.items(), key=lambda kv: -kv[1])
    if not ordered:
        return None
    name, cosine = ordered[0]
    runner_up = ordered[1][1] if len(ordered) > 1 else -1.0
    if cosine >= SEMANTIC_ALONE and cosine - runner_up >= SEMANTIC_MARGIN:
        return name
    return None
