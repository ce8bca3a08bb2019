"""`tokenopt doctor`: where things are and which tiers can answer, without calling a model.

Each endpoint's state comes from the router, with the cooldowns every tokenopt
process stored in the database: available, key missing, paid use off, or cooling
down until a local time, with the error that started the cooldown.

Stored errors came from providers: every line goes out through `SafeWriter`
(terminal-safe, configured keys scrubbed, also from rows written before providers'
errors were scrubbed). New sections write to the same `out`.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from tokenopt_tui import blas
from tokenopt_tui.config import Config
from tokenopt_tui.core.routing.router import EndpointState
from tokenopt_tui.core.text import SafeWriter, Writable
from tokenopt_tui.paths import Paths
from tokenopt_tui.wiring import Services, db_path, make_services


async def _open_db(services: Services) -> tuple[bool, str]:
    """Open the database if it exists (never create it): (opened, how it is)."""
    from tokenopt_tui.store import StoreError

    if not services.db_path.exists():
        return False, "not created yet (made on first use)"
    try:
        store = await services.open_store()
    except StoreError as exc:
        return False, f"ERROR: {exc}"
    return True, f"ok, schema v{await store.schema_version()}"


def local_time(epoch: float, now: float | None = None) -> str:
    """HH:MM:SS in local time, with the date in front when it is not today."""
    moment = datetime.fromtimestamp(epoch)
    today = datetime.fromtimestamp(now) if now is not None else datetime.now()
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def describe_state(state: EndpointState) -> str:
    """The doctor's words for one endpoint's state (the router decides the state, the
    paid switch included)."""
    if state.cooldown_until is not None and state.why == "cooling down":
        text = f"cooling down until {local_time(state.cooldown_until)}"
        return text + (f" (last error: {state.last_error})" if state.last_error else "")
    if state.available:
        return "available" if state.why == "available" else f"available: {state.why}"
    return f"unavailable: {state.why}"


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    import asyncio
    import sys

    return asyncio.run(doctor(config, paths, sys.stdout))


async def doctor(config: Config, paths: Paths, out: Writable) -> int:
    services = make_services(config, paths)
    out = SafeWriter(out, services.secrets.scrub)
    try:
        config_state = "in use" if paths.config_file.exists() else "not found: defaults in use"
        opened, db_state = await _open_db(services)
        rows = [
            ("config", f"{paths.config_file} ({config_state})"),
            ("database", f"{db_path(config, paths)} ({db_state})"),
            ("cache", str(paths.cache_dir)),
            ("openblas", blas.status(enabled=config.local.openblas)),
        ]
        for label, value in rows:
            out.write(f"{label:<9} {value}\n")
        router = services.router
        if opened:  # the cooldowns every tokenopt process stored
            await router.load_cooldowns()
        states = iter(router.endpoint_states())
        out.write("tiers:\n")
        for tier in config.tiers:
            for index, _endpoint in enumerate(tier.endpoints):
                state = next(states)
                name = f"{tier.name}{' (paid)' if tier.paid else ''}" if index == 0 else ""
                number = str(tier.number) if index == 0 else ""
                text = describe_state(state)
                model = services.provider(tier.number, index).model
                out.write(f"  {number:<2}{name:<14}{model:<38}{text}\n")
        await write_free_quota(config, services, opened, out)
        await write_local_servers(config, paths, services, out)
    finally:
        await services.aclose()
    return 0


async def write_free_quota(config: Config, services: Services, opened: bool,
                           out: Writable) -> None:
    """The Budget panel's free-requests line, from every process's stored count (the
    configured day's limit when nothing is stored); nothing when no tier is hosted free."""
    from tokenopt_tui.core.routing.quota import FreeQuota, free_hosted, free_line

    if not free_hosted(config.tiers):
        return
    quota = FreeQuota(config.quota, (lambda: services.store) if opened else None)
    out.write(f"{free_line(await quota.status())}\n")


async def write_local_servers(config: Config, paths: Paths, services: Services,
                              out: Writable) -> None:
    """The "local servers" section: OpenAI-compatible servers on the usual loopback
    ports (TOKENOPT_DISCOVERY_PORTS overrides them), with the config text to use one."""
    from tokenopt_tui.core.providers.discovery import doctor_section

    for line in await doctor_section(config, services.env, paths.config_file):
        out.write(line + "\n")
