"""One way for a command to use the database: open it, run, close it; a database
problem is one line on stderr and exit code 2 (the CLI's "bad setup")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tokenopt_tui.core.text import Writable

if TYPE_CHECKING:
    from tokenopt_tui.store import Store
    from tokenopt_tui.wiring import Services


async def with_store(services: Services, err: Writable,
                     work: Callable[[Store], Awaitable[int]]) -> int:
    """`work(store)`'s exit code, or 2 when the store cannot be opened or used."""
    from tokenopt_tui.store import StoreError

    try:
        store = await services.open_store()
        return await work(store)
    except StoreError as exc:
        err.write(f"tokenopt: {exc}\n")
        return 2
    finally:
        await services.aclose()
