"""Tiers 2-4: any OpenAI-compatible server (OpenRouter, mlx_lm.server, vLLM, ...).

Streams with `stream_options={"include_usage": True}` and reads the final usage
chunk, keeping OpenRouter's `usage.cost` when present. The SDK is imported lazily.

The response's X-RateLimit-* headers (OpenRouter's free quota), on a stream or a 429,
are kept as `rate_limit`: the SDK's stream object carries its HTTP response, so no
second request and no raw-response wrapper are needed.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tokenopt_tui.config import Endpoint
from tokenopt_tui.core.events import ModelPreparing
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
from tokenopt_tui.core.providers.call_options import response_cache_headers
from tokenopt_tui.core.routing.quota import RateLimitReading, reading_from_headers
from tokenopt_tui.core.secrets import Secrets
from tokenopt_tui.core.text import terminal_safe
from tokenopt_tui.core.tokens import count_tokens

#: How much of a provider's error message is kept (after the secrets are scrubbed).
MAX_ERROR_CHARS = 300


def _extra(obj: Any, name: str) -> Any:
    """Read a field the SDK's models don't declare (e.g. OpenRouter's `cost`)."""
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def usage_from_chunk(usage: Any) -> Usage:
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    cost = _extra(usage, "cost")
    return Usage(
        prompt_tokens=int(usage.prompt_tokens or 0),
        completion_tokens=int(usage.completion_tokens or 0),
        cached_tokens=int(getattr(prompt_details, "cached_tokens", 0) or 0),
        reasoning_tokens=int(getattr(completion_details, "reasoning_tokens", 0) or 0),
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
    )


class OpenAICompatProvider:
    """Every ProviderError it raises has its text scrubbed of `secrets` (by default, the
    key of its own endpoint; a provider may quote the key back in an error) and made
    terminal-safe (a provider may put escape sequences in it)."""

    kind = "openai"

    def __init__(self, endpoint: Endpoint, env: Mapping[str, str] | None = None,
                 secrets: Secrets | None = None) -> None:
        self._endpoint = endpoint
        self._env = os.environ if env is None else env
        self._secrets = secrets if secrets is not None else Secrets.from_vars(
            [endpoint.api_key_env], self._env)
        self.model = endpoint.model
        self.endpoint = endpoint.base_url or ""
        self._client: Any = None
        #: The latest X-RateLimit-* figures this endpoint sent (None until it sends some).
        self.rate_limit: RateLimitReading | None = None

    def _note_rate_limit(self, http_response: Any) -> None:
        headers = getattr(http_response, "headers", None)
        if headers is not None:
            reading = reading_from_headers(headers, time.time())
            if reading is not None:
                self.rate_limit = reading

    def availability(self) -> tuple[bool, str]:
        var = self._endpoint.api_key_env
        if var and not self._env.get(var):
            return False, f"key missing: set {var}"
        return True, "available"

    async def prepare(self) -> AsyncIterator[ModelPreparing]:
        return
        yield  # pragma: no cover - makes this an async generator

    def _api(self) -> Any:
        if self._client is None:
            from openai import AsyncOpenAI

            var = self._endpoint.api_key_env
            self._client = AsyncOpenAI(
                base_url=self._endpoint.base_url,
                api_key=(self._env.get(var) if var else None) or "not-needed",
                timeout=self._endpoint.timeout_s,
                max_retries=0,  # retries and fallback are the router's job
            )
        return self._client

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        import openai

        ok, why = self.availability()
        if not ok:
            raise self._error(why, retryable=False)
        payload = [{"role": m.role, "content": m.content} for m in messages]
        text_parts: list[str] = []
        usage: Usage | None = None
        response: Any = None
        try:
            response = await self._api().chat.completions.create(
                model=self.model, messages=payload, max_tokens=max_tokens, stream=True,
                stream_options={"include_usage": True},
                extra_headers=response_cache_headers() or None,
            )
            self._note_rate_limit(getattr(response, "response", None))
            async for chunk in response:
                if chunk.usage is not None:
                    usage = usage_from_chunk(chunk.usage)
                for choice in chunk.choices or ():
                    content = choice.delta.content if choice.delta else None
                    if content:
                        text_parts.append(content)
                        yield content
        except GeneratorExit:
            # The caller stopped reading (a client-side cut, a cancel): close the HTTP
            # response now, or the SDK's stream is finalised later, noisily, by the loop.
            if response is not None:
                await response.close()
            raise
        except openai.APIStatusError as exc:
            self._note_rate_limit(exc.response)
            raise self._error(
                f"{self.endpoint} answered HTTP {exc.status_code} for {self.model}: "
                f"{self._clip(_message(exc))}", status=exc.status_code,
            ) from exc  # the router reads Retry-After from the SDK error, with its own clock
        except openai.APITimeoutError as exc:
            raise self._error(f"{self.endpoint} timed out after {self._endpoint.timeout_s:g} s",
                              kind="timeout") from exc
        except openai.APIConnectionError as exc:
            raise self._error(f"cannot reach {self.endpoint}: {exc.__cause__ or exc}",
                              kind="connection") from exc
        except openai.APIError as exc:  # an error object sent inside the stream
            raise self._error(f"{self.endpoint} reported an error mid-stream: "
                              f"{self._clip(str(exc))}", kind="server") from exc
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: invalid JSON in SSE
            raise self._error(f"{self.endpoint} sent a malformed stream: {self._clip(str(exc))}",
                              kind="malformed") from exc
        if usage is None:
            prompt = sum(count_tokens(m.content) for m in messages)
            usage = Usage(prompt, count_tokens("".join(text_parts)), estimated=True)
        yield usage

    def _clean(self, text: str) -> str:
        """Provider text without our secrets and without control characters: an error
        goes to the store, stderr, logs and `doctor`, and needs no escape sequence."""
        return terminal_safe(self._secrets.scrub(text))

    def _clip(self, text: str) -> str:
        """Clean, then cut: cutting first could leave half a key that no longer matches."""
        return self._clean(text)[:MAX_ERROR_CHARS]

    def _error(self, message: str, **options: Any) -> ProviderError:
        """The one way this provider builds an error: its text cleaned (`_clean`)."""
        return ProviderError(self._clean(message), self.endpoint, **options)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(getattr(exc, "message", exc))
