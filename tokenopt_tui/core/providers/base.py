"""The one interface every provider implements: stream text, then report usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from tokenopt_tui.core.events import ModelPreparing
from tokenopt_tui.core.faults import FaultKind

#: Who wrote a message: the roles the messages table accepts (store migration 0001).
Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = get_args(Role)


def as_role(value: str) -> Role:
    """A role read back from the store, narrowed (the schema admits only ROLES)."""
    for role in ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown message role {value!r}")


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None  # as reported by the server (OpenRouter), else None
    estimated: bool = False


class ProviderError(RuntimeError):
    """A call failed; `endpoint` says where, the message says what.

    `kind` (connection, timeout, malformed, …), `status` (HTTP) and `retry_after_s`
    let the router pick the fallback and the cooldown without knowing the SDK.
    """

    def __init__(self, message: str, endpoint: str, *, retryable: bool = True,
                 kind: FaultKind | None = None, status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.retryable = retryable
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s


class Provider(Protocol):
    kind: str
    model: str
    endpoint: str

    def availability(self) -> tuple[bool, str]:
        """(usable now, why not) without any network or model I/O."""
        ...

    def prepare(self) -> AsyncIterator[ModelPreparing]:
        """Get ready (e.g. convert and load a local model), reporting progress."""
        ...

    def stream(self, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str | Usage]:
        """Yield text fragments as they arrive, then exactly one Usage."""
        ...
