"""The one canonical cache key: a sha256 over everything that changes the answer.

Two requests share a key only when the same endpoint would get the same messages (the
skills' and agents' system texts included, in order), the same skills, the same tools
and the same sampling parameters. Anything left out here would let a cached answer
stand in for a different request, so the key is built in one place only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tokenopt_tui.config import Config, Endpoint, LocalSettings, endpoint_key
from tokenopt_tui.core.providers.base import ChatMessage

#: Bump when the key's shape changes: every earlier entry then misses.
KEY_VERSION = 1


@dataclass(frozen=True)
class SkillRef:
    """A loaded skill as the key sees it: its name and a hash of the body sent."""

    name: str
    body_sha256: str

    @classmethod
    def of(cls, name: str, body: str) -> SkillRef:
        return cls(name, hashlib.sha256(body.encode("utf-8")).hexdigest())


@dataclass(frozen=True)
class KeyParts:
    """Everything a cache key covers. `sampling` holds every parameter the endpoint is
    sent (None for one it is not sent: an omitted temperature is not a zero one)."""

    endpoint: Endpoint
    messages: Sequence[ChatMessage]
    sampling: Mapping[str, Any]
    skills: Sequence[SkillRef] = ()
    tools: Sequence[Mapping[str, Any]] = ()
    extras: Mapping[str, Any] = field(default_factory=dict)


def sampling_for(endpoint: Endpoint, config: Config) -> dict[str, Any]:
    """The sampling parameters `endpoint` is actually sent by its provider.

    The in-process model (core/providers/mlx_local.py) samples with the `[local]`
    settings and stops at the smaller of both max_tokens; the OpenAI-compatible
    provider sends only max_tokens (no temperature, top_p, stop or seed: the server's
    defaults apply, so its answers are not deterministic)."""
    none: dict[str, Any] = {"temperature": None, "top_p": None, "stop": None, "seed": None,
                            "repetition_penalty": None, "reasoning_effort": None}
    if endpoint.kind == "mlx":
        local: LocalSettings = config.local
        return {**none, "temperature": local.temperature, "top_p": local.top_p,
                "repetition_penalty": local.repetition_penalty,
                "max_tokens": min(config.max_tokens, local.max_tokens),
                "prompt_format": local.prompt_format}
    return {**none, "max_tokens": config.max_tokens}


def is_deterministic(sampling: Mapping[str, Any]) -> bool:
    """Only a temperature explicitly 0 is deterministic; an omitted one never is."""
    temperature = sampling.get("temperature")
    return temperature is not None and float(temperature) == 0.0


def canonical(parts: KeyParts) -> str:
    """The canonical JSON the key hashes: sorted keys, no spaces, UTF-8 kept."""
    kind, base_url, model = endpoint_key(parts.endpoint)
    document = {
        "v": KEY_VERSION,
        "endpoint": {"kind": kind, "base_url": base_url, "model": model},
        "messages": [[m.role, m.content] for m in parts.messages],
        "skills": [[s.name, s.body_sha256] for s in parts.skills],
        "tools": list(parts.tools),
        "sampling": dict(parts.sampling),
        "extras": dict(parts.extras),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def cache_key(parts: KeyParts) -> str:
    """The sha256 (hex) of the canonical JSON of `parts`."""
    return hashlib.sha256(canonical(parts).encode("utf-8")).hexdigest()
