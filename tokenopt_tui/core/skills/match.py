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

from rapidfuzz import fuzz, process

from tokenopt_tui.core.skills.registry import Skill

#: A skill needs this many distinct matched words, unless one of them is in its name:
#: one shared everyday word ("price", "share", "wait") is not evidence enough.
MIN_WORDS = 2
#: A second or third skill loads only if it scores this share of the best one.
RELATIVE_CUTOFF = 0.6
TAG_WEIGHT = 1.0
NAME_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.35
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

    @property
    def reason(self) -> str:
        if self.invoked:
            return "invoked by name"
        return "matched " + ", ".join(f"'{w}'" for w in self.matched)


class SkillMatcher:
    """Ranks skills for a request (see the module docstring)."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self.names = set()
        self.name_words: dict[str, set[str]] = {}
        raw: dict[str, dict[str, float]] = defaultdict(dict)  # keyword → skill → weight
        for skill in skills:
            self.names.add(skill.name)
            weighted: dict[str, float] = {}
            for word in words(skill.description):
                weighted[word] = max(weighted.get(word, 0.0), DESCRIPTION_WEIGHT)
            examples = skill.metadata.get("examples", [])
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
        best = max(scores.values(), default=0.0)
        keep = [
            Match(n, round(s, 3), tuple(matched[n])) for n, s in scores.items()
            if n not in invoked and s >= threshold and s >= relative * best
            and (len(matched[n]) >= min_words or self.name_words[n] & set(matched_keys[n]))
        ]
        ranked = [Match(n, 1_000.0, (), invoked=True) for n in invoked]
        ranked += sorted(keep, key=lambda m: (-m.score, m.name))
        return ranked[:limit] if limit is not None else ranked
