"""A second opinion on the tier: the nearest labelled examples, by an offline embedding.

The keyword rules in `classify` know the words their author thought of; people phrase
the same ask in many other ways. The labelled examples in `examples.jsonl` (written to
the guide in docs/routing.md, tuning parts only) are embedded once with WordLlama (256
dimensions, weights inside its wheel, no network), and a request's ask is compared with
them by cosine. The vote only ever raises the rules' tier: uncertainty goes to the
stronger free tier, never the weaker one.

Loading takes ~0.3 s, so it happens once, in a worker thread (`ready()`); until then the
rules decide alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenopt_tui.core.embedding import Embed, embedder, normalised

EXAMPLES = Path(__file__).with_name("examples.jsonl")
#: How many neighbours vote, and how much of their (similarity-weighted) vote for tiers
#: 2-3 lifts a tier-1 decision (tuned on the tuning parts only: docs/routing.md).
K = 11
LIFT_SHARE = 0.5
#: Neighbours less similar than this do not vote, and fewer than MIN_VOTERS do not
#: lift (an unusual ask gets the rules alone).
MIN_SIMILARITY = 0.2
MIN_VOTERS = 3


@dataclass(frozen=True)
class Example:
    text: str
    tier: int


@dataclass(frozen=True)
class Vote:
    """The neighbours' weighted vote per tier (shares summing to 1) and who voted."""

    shares: dict[int, float]
    nearest: tuple[tuple[float, int], ...]  # (similarity, tier), most similar first

    @property
    def upper_share(self) -> float:
        """The share of the vote for tiers 2-3; 0 when too few examples were similar."""
        if len(self.nearest) < MIN_VOTERS:
            return 0.0
        return self.shares.get(2, 0.0) + self.shares.get(3, 0.0)

    @property
    def upper_tier(self) -> int:
        return 3 if self.shares.get(3, 0.0) > self.shares.get(2, 0.0) else 2


def read_examples(path: Path = EXAMPLES) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Example(str(row["text"]), int(row["tier"])))
    return out


class Neighbours:
    """Labelled examples, embedded and normalised, ready to vote on a new ask."""

    def __init__(self, examples: Sequence[Example], embed: Embed) -> None:
        import numpy as np

        self.examples = list(examples)
        self._embed = embed
        self._tiers = np.array([e.tier for e in self.examples])
        self._matrix = normalised(embed, [e.text for e in self.examples])

    def vote(self, ask: str, k: int = K, exclude: int | None = None) -> Vote:
        """The k most similar examples' vote; `exclude` leaves one out (tuning)."""
        import numpy as np

        sims = self._matrix @ normalised(self._embed, [ask])[0]
        if exclude is not None:
            sims[exclude] = -1.0
        order = np.argsort(-sims)[:k]
        nearest = tuple((float(sims[i]), int(self._tiers[i])) for i in order
                        if sims[i] >= MIN_SIMILARITY)
        weights: dict[int, float] = {}
        for similarity, tier in nearest:
            weights[tier] = weights.get(tier, 0.0) + similarity
        total = sum(weights.values())
        shares = {t: w / total for t, w in weights.items()} if total else {}
        return Vote(shares, nearest)


def wordllama_embedder() -> Embed:
    """WordLlama's 256-d embedding (core.embedding), shared with skill matching."""
    return embedder()


_lock = threading.Lock()
_loaded: Neighbours | None = None
_failed: str | None = None


def loaded() -> Neighbours | None:
    """The neighbours if already loaded (never blocks)."""
    return _loaded


def load() -> Neighbours | None:
    """Load once (blocking: call it from a worker thread); None if it cannot load, and
    the rules then decide alone (the reason is kept in `load_error()`)."""
    global _loaded, _failed
    with _lock:
        if _loaded is None and _failed is None:
            try:
                _loaded = Neighbours(read_examples(), wordllama_embedder())
            except Exception as exc:  # a broken install must not stop routing
                _failed = f"{type(exc).__name__}: {exc}"
        return _loaded


def load_error() -> str | None:
    return _failed
