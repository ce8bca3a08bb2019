"""`tokenopt doctor`: where things are and which tiers can answer, without calling a model."""

from __future__ import annotations

from typing import TextIO

from tokenopt_tui import blas
from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths
from tokenopt_tui.services import db_path, make_services


async def _db_state(config: Config, paths: Paths) -> str:
    from tokenopt_tui.store import Store, StoreError

    path = db_path(config, paths)
    if not path.exists():
        return "not created yet (made on first use)"
    try:
        store = await Store.open(path)
    except StoreError as exc:
        return f"ERROR: {exc}"
    try:
        return f"ok, schema v{await store.schema_version()}"
    finally:
        await store.close()


async def doctor(config: Config, paths: Paths, out: TextIO) -> int:
    services = make_services(config, paths)
    config_state = "in use" if paths.config_file.exists() else "not found: defaults in use"
    rows = [
        ("config", f"{paths.config_file} ({config_state})"),
        ("database", f"{db_path(config, paths)} ({await _db_state(config, paths)})"),
        ("cache", str(paths.cache_dir)),
        ("openblas", blas.status()),
    ]
    for label, value in rows:
        out.write(f"{label:<9} {value}\n")
    out.write("tiers:\n")
    for tier in config.tiers:
        for index, _endpoint in enumerate(tier.endpoints):
            provider = services.provider(tier.number, index)
            ok, why = provider.availability()
            if tier.paid and not config.paid_enabled:
                ok, why = False, "paid use is off (set paid.enabled = true to allow it)"
            name = f"{tier.name}{' (paid)' if tier.paid else ''}" if index == 0 else ""
            number = str(tier.number) if index == 0 else ""
            state = "available" if ok else "unavailable"
            out.write(f"  {number:<2}{name:<14}{provider.model:<38}{state}: {why}\n")
    return 0
