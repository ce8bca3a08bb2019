"""The one exception type the store raises, so callers can show a clear message."""

from __future__ import annotations


class StoreError(Exception):
    """A database operation failed; the message names the file and the operation.

    The underlying sqlite3/OS error, when there is one, is kept as `__cause__`.
    """
