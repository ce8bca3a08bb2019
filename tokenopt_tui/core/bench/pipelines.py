"""The pipelines `tokenopt bench` compares: switches over the app's mechanisms.

The optimized pipeline is the app as shipped; each ablation turns one mechanism off;
the baseline turns them all off (the plan's "current state": local model first, the
paid model whenever the task needs more, every skill body in every prompt, no
compression, no budgets). Kept apart from the runner so the CLI's parser can list
them without importing the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Routing = Literal["classifier", "local_then_paid", "paid_only"]


@dataclass(frozen=True)
class Pipeline:
    name: str
    routing: Routing
    lazy_skills: bool
    compression: bool
    budgets: bool
    about: str
    agents: bool = False  # off in the app by default (`agents_enabled`)
    cache: bool = False  # the local tier at temperature 0, so its answers are cached
    #: Also plays the workload's complex tasks through the swarm cycle (and, for the
    #: swarm section, as single calls of the optimized pipeline).
    swarm: bool = False

    @property
    def mechanism_off(self) -> str | None:
        """The one mechanism an ablation turns off (None for the other pipelines)."""
        return self.name.removeprefix("no_") if self.name.startswith("no_") else None

    @property
    def mechanism_on(self) -> str | None:
        """The one mechanism a `with_` variant adds to the optimized pipeline."""
        return self.name.removeprefix("with_") if self.name.startswith("with_") else None


PIPELINES: tuple[Pipeline, ...] = (
    Pipeline("baseline", "local_then_paid", False, False, False,
             "local first, paid when the task needs more; all skills; no compression, "
             "budgets or cap"),
    Pipeline("always_paid", "paid_only", False, False, False,
             "every request to the paid tier, all skills, no compression (the ceiling)"),
    Pipeline("optimized", "classifier", True, True, True, "the app as shipped"),
    Pipeline("no_router", "local_then_paid", True, True, True,
             "optimized, but local first and paid when the task needs more"),
    Pipeline("no_lazy_skills", "classifier", False, True, True,
             "optimized, but every skill body in every prompt"),
    Pipeline("no_compression", "classifier", True, False, True,
             "optimized, but the context is never compacted"),
    Pipeline("no_budgets", "classifier", True, True, False,
             "optimized, but no session budgets and no daily cap"),
    Pipeline("with_agents", "classifier", True, True, True,
             "optimized plus an agent drawn by pheromone for each request (its system "
             "prompt sent with it)", agents=True),
    Pipeline("with_cache", "classifier", True, True, True,
             "optimized with the local tier at temperature 0, so the result cache answers "
             "a request asked before", cache=True),
    Pipeline("with_swarm", "classifier", True, True, True,
             "optimized, plus the complex tasks through the Explorer -> Worker -> Validator "
             "cycle (compared with the same tasks as single calls)", swarm=True),
)
PIPELINE_NAMES = tuple(p.name for p in PIPELINES)
