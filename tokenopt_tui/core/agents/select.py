"""The draw: which agent answers a request of a given task type.

Each eligible agent (fit > 0 for the type) weighs τ × fit; the weights are normalised
and mixed with a uniform floor, p = floor + (1 − n·floor)·w/Σw, so every eligible agent
keeps at least `floor` of the draws (none starves; its τ can recover) while the order
of the weights is kept. The RNG is injected, so tests can seed it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

#: The least share of draws each eligible agent keeps.
EXPLORATION_FLOOR = 0.05


@dataclass(frozen=True)
class Candidate:
    """One agent as the draw sees it for one task type."""

    name: str
    tau: float
    fit: float
    samples: float = 0.0


@dataclass(frozen=True)
class Draw:
    """The agent drawn, its probability (`weight`) and what the draw was over."""

    chosen: Candidate
    weight: float
    floor: float
    candidates: int
    probabilities: dict[str, float]


def probabilities(candidates: Sequence[Candidate],
                  floor: float = EXPLORATION_FLOOR) -> tuple[dict[str, float], float]:
    """Each eligible agent's chance, and the floor actually applied (1/n when n·floor
    would exceed 1). Empty when no agent fits the type at all."""
    eligible = [c for c in candidates if c.fit > 0]
    if not eligible:
        return {}, floor
    floor = min(floor, 1.0 / len(eligible))
    weights = [c.tau * c.fit for c in eligible]
    total = sum(weights)
    spread = 1.0 - floor * len(eligible)
    return ({c.name: floor + spread * (w / total) for c, w in zip(eligible, weights, strict=True)},
            floor)


def draw(candidates: Sequence[Candidate], rng: random.Random,
         floor: float = EXPLORATION_FLOOR) -> Draw | None:
    """One weighted random draw (None when no candidate fits)."""
    chances, applied = probabilities(candidates, floor)
    if not chances:
        return None
    names = list(chances)
    [name] = rng.choices(names, weights=[chances[n] for n in names])
    chosen = next(c for c in candidates if c.name == name)
    return Draw(chosen, chances[name], applied, len(names), chances)
