"""Recurring needs: requests grouped by their words, each big group named as a skill.

Two similarity measures were compared on a hand-labelled usage log (docs/concierge.md):
WordLlama sentence embeddings (cosine) and rapidfuzz token sets over the matcher's
content words. Both feed the same clustering: each request joins the group whose
members it is most similar to on average, if that is at least the threshold, else it
starts a group; a second pass lets every request move to its best group.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tokenopt_tui.core.skills.match import STOPWORDS, words

Method = Literal["embedding", "fuzzy"]
#: Chosen on the labelled log's tuning part (docs/concierge.md has the figures).
THRESHOLDS: dict[Method, float] = {"embedding": 0.2, "fuzzy": 0.4}
DEFAULT_METHOD: Method = "embedding"
#: At most this many requests are grouped (the newest): the matrix is n².
MAX_GROUPED = 3_000
#: Words that say nothing about the need, left out of names and tags.
_VAGUE = frozenset(["how", "what", "why", "get", "fix", "use", "work", "want", "way",
                    "does", "did", "error", "problem", "question", "again", "doe", "wrong"])


def similarity(texts: Sequence[str], method: Method = DEFAULT_METHOD) -> Any:
    """The n×n similarity matrix (0..1) of `texts` by `method`."""
    import numpy as np

    if method == "embedding":
        from tokenopt_tui.core.embedding import embedder, normalised

        vectors = normalised(embedder(), list(texts))
        return np.clip(vectors @ vectors.T, 0.0, 1.0)
    from rapidfuzz import fuzz, process

    bags = [" ".join(sorted(set(words(t)))) for t in texts]
    return np.asarray(process.cdist(bags, bags, scorer=fuzz.token_set_ratio,
                                    workers=1), dtype=np.float32) / 100.0


def cluster(matrix: Any, threshold: float) -> list[list[int]]:
    """Indices grouped by average similarity to a group's members (see module doc)."""
    n = len(matrix)
    labels = [-1] * n
    groups: list[list[int]] = []
    for _pass in range(2):
        for i in range(n):
            best, best_score = -1, threshold
            for g, members in enumerate(groups):
                others = [m for m in members if m != i]
                if not others:
                    continue
                score = float(matrix[i, others].mean())
                if score >= best_score:
                    best, best_score = g, score
            if labels[i] >= 0:
                groups[labels[i]].remove(i)
            if best < 0:
                best = len(groups)
                groups.append([])
            groups[best].append(i)
            labels[i] = best
    return sorted((sorted(g) for g in groups if g), key=lambda g: (-len(g), g[0]))


def group_texts(texts: Sequence[str], method: Method = DEFAULT_METHOD,
                threshold: float | None = None) -> list[list[int]]:
    """Groups of indices into `texts`, largest first."""
    if not texts:
        return []
    limit = THRESHOLDS[method] if threshold is None else threshold
    return cluster(similarity(texts, method), limit)


@dataclass(frozen=True)
class Naming:
    """A suggested skill's name, description and tags, from its requests' words."""

    name: str
    description: str
    tags: tuple[str, ...]


_RAW_WORD = re.compile(r"[a-z][a-z0-9+#.]*[a-z0-9+#]|[a-z]")


def name_group(texts: Sequence[str], taken: Collection[str] = ()) -> Naming:
    """Kebab-case name from the words most requests share; tags are the next ones."""
    counts: Counter[str] = Counter()
    for text in texts:
        seen = {w for w in _RAW_WORD.findall(text.lower())
                if len(w) > 2 and w not in STOPWORDS and w not in _VAGUE and not w.isdigit()}
        counts.update(seen)
    top = [w for w, _ in counts.most_common(8)]
    pair = top[:1] + [w for w in top[1:] if top and w[:4] != top[0][:4]][:1]
    slug = [re.sub(r"[^a-z0-9]+", "-", w).strip("-") for w in pair]
    base = "-".join(s for s in slug if s) or "recurring-need"
    name, n = base[:60], 2
    while name in taken:
        name, n = f"{base[:56]}-{n}", n + 1
    about = ", ".join(top[:4]) or "these requests"
    description = (f"Recurring requests about {about} that no skill covered "
                   f"({len(texts)} seen). Use when someone asks about {about}.")
    return Naming(name, description, tuple(top[:8]))
