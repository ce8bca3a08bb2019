"""Per-call wishes that travel from the session to the provider without widening the
Provider protocol (every provider, and every fake in the tests, keeps `stream(messages,
max_tokens)`): a context variable the session sets before each route.

A context variable follows the task that iterates the router, so a wish set for one
request never reaches another chat's or a concurrent `ask`'s calls. It is set, not set
and reset around a block: the session's `send` is an async generator that yields while
the route runs, and a reset from a different context (a generator closed by the loop)
would fail.
"""

from __future__ import annotations

from contextvars import ContextVar

#: OpenRouter's opt-in header for its response cache (a repeat costs 0 tokens, $0).
RESPONSE_CACHE_HEADER = "X-OpenRouter-Cache"
_response_cache_wanted: ContextVar[bool] = ContextVar("response_cache_wanted",
                                                      default=False)


def want_response_cache(wanted: bool) -> None:
    """From now on in this task, hosted calls ask for their response cache if `wanted`."""
    _response_cache_wanted.set(wanted)


def response_cache_headers() -> dict[str, str]:
    """The headers a hosted call adds now: the response-cache opt-in, or none."""
    return {RESPONSE_CACHE_HEADER: "true"} if _response_cache_wanted.get() else {}
