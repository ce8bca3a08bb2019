"""The one factory that builds everything a session needs (used by CLI, TUI and tests)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tokenopt_tui.config import Config, Endpoint
from tokenopt_tui.core.secrets import Secrets
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:  # imported on first use: the chat paints before any of them is needed
    from tokenopt_tui.core.agents.picker import AgentPicker
    from tokenopt_tui.core.providers.base import Provider
    from tokenopt_tui.core.routing.router import Router
    from tokenopt_tui.core.skills.library import SkillLibrary
    from tokenopt_tui.store import Store


@dataclass
class Services:
    """Config, paths, the store and the providers of one process.

    Built synchronously (so the App can take it in its constructor); the store is
    opened with `await open_store()` inside the event loop that will use it.
    """

    config: Config
    paths: Paths
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _store: Store | None = None
    _providers: dict[tuple[int, int], Provider] = field(default_factory=dict)
    _router: Router | None = None
    _skills: SkillLibrary | None = None
    _agents: AgentPicker | None = None

    @property
    def router(self) -> Router:
        """One router per process, so cooldowns carry over from request to request;
        they are also kept in the store, shared with other processes (and doctor)."""
        if self._router is None:
            from tokenopt_tui.core.routing.cooldown import StoreCooldowns
            from tokenopt_tui.core.routing.quota import FreeQuota
            from tokenopt_tui.core.routing.router import Router

            self._router = Router(self.config, self.provider,
                                  spent_today_usd=lambda: self.store.spent_today_usd(),
                                  cooldown_store=StoreCooldowns(lambda: self.store),
                                  scrub=self.secrets.scrub,
                                  free_quota=FreeQuota(self.config.quota, lambda: self.store))
        return self._router

    @property
    def agents(self) -> AgentPicker | None:
        """The agent picker (pheromone kept in the store), None unless `agents_enabled`."""
        if not self.config.agents_enabled:
            return None
        if self._agents is None:
            from tokenopt_tui.core.agents.picker import AgentPicker

            self._agents = AgentPicker(self.config.agents, lambda: self.store)
        return self._agents

    def set_agents(self, picker: AgentPicker | None) -> None:
        """Use this picker (tests: a seeded RNG or a fixed clock)."""
        self._agents = picker

    @property
    def secrets(self) -> Secrets:
        """The configured API keys (from `env`), for scrubbing text before it is kept or
        shown. Built on each call: cheap, and never stale when tests swap the config."""
        return Secrets.from_config(self.config, self.env)

    @property
    def skills(self) -> SkillLibrary | None:
        """The skill library (front matter scanned on first use), None when disabled."""
        if not self.config.skills.enabled:
            return None
        if self._skills is None:
            from tokenopt_tui.core.skills.library import SkillLibrary
            from tokenopt_tui.resources import bundled_dir

            self._skills = SkillLibrary.from_folders(
                self.config.skills, self.paths.data_dir / "skills", bundled_dir("skills"),
                cache_dir=self.paths.cache_dir)
        return self._skills

    @property
    def scanned_skills(self) -> SkillLibrary | None:
        """The library if it was already scanned (never scans: safe on the UI loop)."""
        return self._skills if self.config.skills.enabled else None

    def set_skills(self, library: SkillLibrary | None) -> None:
        """Use this library (tests, benchmarks)."""
        self._skills = library

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is not open: await services.open_store() first")
        return self._store

    async def open_store(self) -> Store:
        """Open (and migrate) the DB; raises StoreError naming the path on failure."""
        if self._store is None:
            from tokenopt_tui.store import Store

            self._store = await Store.open(self.db_path)
        return self._store

    def set_provider(self, tier: int, provider: Provider, index: int = 0) -> None:
        """Use `provider` for that endpoint (tests, benchmarks, custom back ends)."""
        self._providers[(tier, index)] = provider

    @property
    def db_path(self) -> Path:
        return db_path(self.config, self.paths)

    def provider(self, tier: int, index: int = 0) -> Provider:
        """The provider for endpoint `index` of `tier`, built once and reused."""
        key = (tier, index)
        if key not in self._providers:
            self._providers[key] = build_provider(
                self.config.tier(tier).endpoints[index], self.config, self.paths, self.env,
                self.secrets)
        return self._providers[key]

    async def aclose(self) -> None:
        for provider in self._providers.values():
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()
            elif hasattr(provider, "close"):
                provider.close()
        if self._store is not None:
            await self._store.close()
            self._store = None


def db_path(config: Config, paths: Paths) -> Path:
    return config.db_path or paths.db_file


def build_provider(endpoint: Endpoint, config: Config, paths: Paths,
                   env: Mapping[str, str], secrets: Secrets | None = None) -> Provider:
    """The provider for one endpoint; its errors are scrubbed of `secrets` (by default
    every key the config names)."""
    if endpoint.kind == "mlx":
        from tokenopt_tui.core.providers.mlx_local import MlxLocalProvider

        return MlxLocalProvider(endpoint.model, config.local, paths.models_dir)
    from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(
        endpoint, env, secrets if secrets is not None else Secrets.from_config(config, env))


def make_services(config: Config, paths: Paths, env: Mapping[str, str] | None = None) -> Services:
    return Services(config=config, paths=paths, env=os.environ if env is None else env)
