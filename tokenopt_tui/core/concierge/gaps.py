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
    """Indices grouped by average similarity to a group's members (see module doc).

    Each group's column sums are kept, so a request's average similarity to every
    group is one vector operation (3,000 requests: well under a second)."""
    import numpy as np

    sim = np.asarray(matrix, dtype=np.float32)
    n = len(sim)
    sums = np.zeros((n, n), dtype=np.float32)  # sums[:, g]: similarity to g's members
    counts = np.zeros(n, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    used = 0
    for _pass in range(2):
        for i in range(n):
            own = int(labels[i])
            target = -1
            if used:
                total = sums[i, :used].copy()
                sizes = counts[:used].copy()
                if own >= 0:
                    total[own] -= sim[i, i]
                    sizes[own] -= 1
                scores = np.where(sizes > 0, total / np.maximum(sizes, 1), -np.inf)
                best = int(np.argmax(scores))
                if scores[best] >= threshold:
                    target = best
            if target < 0:
                if own >= 0 and counts[own] == 1:
                    continue  # alone already
                target, used = used, used + 1
            if target == own:
                continue
            if own >= 0:
                sums[:, own] -= sim[:, i]
                counts[own] -= 1
            sums[:, target] += sim[:, i]
            counts[target] += 1
            labels[i] = target
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


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
