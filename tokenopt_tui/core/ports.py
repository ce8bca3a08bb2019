"""What the core needs from its collaborators, as small Protocols.

`ChatSession` is handed an object with these four members (the wiring module's
Services is one; tests and benchmarks may build their own); the core never imports
the wiring module, the CLI or the UI. The store is the concrete layer below the core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from tokenopt_tui.config import Config
    from tokenopt_tui.core.agents.picker import AgentChoice
    from tokenopt_tui.core.providers.base import ChatMessage
    from tokenopt_tui.core.routing.router import RouterItem
    from tokenopt_tui.core.skills.library import Selection
    from tokenopt_tui.store import Store


class RequestRouter(Protocol):
    """Streams a request through the tier chain (core.routing.router.Router)."""

    def route(self, messages: Sequence[ChatMessage], *, start_tier: int, max_tokens: int,
              pinned: bool = False, free_only: bool = False) -> AsyncIterator[RouterItem]: ...

    def usable_tiers(self) -> set[int]: ...


class SkillSource(Protocol):
    """Picks the skills a request needs (core.skills.library.SkillLibrary)."""

    def select(self, request: str, requested: Sequence[str] = ()) -> Selection: ...


class AgentChooser(Protocol):
    """Draws the agent for a request and learns from outcomes (core.agents.picker)."""

    async def choose(self, task_type: str) -> AgentChoice | None: ...

    async def feedback(self, agent: str, task_type: str, good: bool,
                       source: str) -> float: ...

    async def provider_failed(self, agent: str) -> None: ...


def agents_of(deps: object) -> AgentChooser | None:
    """The optional `agents` member of a SessionDeps (None when it has none: tests and
    benchmarks that build their own deps need not know about agents)."""
    return cast("AgentChooser | None", getattr(deps, "agents", None))


class SessionDeps(Protocol):
    """Everything a ChatSession uses: settings, the store, the router, the skills."""

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> Store: ...

    @property
    def router(self) -> RequestRouter: ...

    @property
    def skills(self) -> SkillSource | None: ...

    # Optional: `agents: AgentChooser | None` (read it with `agents_of`), so deps built
    # before agents existed still satisfy this protocol.
