"""Tier 1: an MLX model run in-process (embedded Gemma 3 270M by default).

MLX is imported lazily and all model work happens on one dedicated thread: MLX
streams are per thread, and the event loop must never block on a forward pass.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tokenopt_tui.config import EMBEDDED, LocalSettings
from tokenopt_tui.core.events import ModelPreparing
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
from tokenopt_tui.core.providers.model_prep import (
    EMBEDDED_MODEL_NAME,
    ModelPrepareError,
    PrepareProgress,
    is_prepared,
    prepare_embedded_model,
    quiet_transformers,
)
from tokenopt_tui.core.providers.prefix_cache import DEFAULT_CAP_TOKENS, PrefixCache

STOP = "\nUser:"
PREAMBLE = "A conversation between a User and a helpful, concise Assistant.\n\n"
_DONE = object()


def transcript_prompt(messages: list[ChatMessage]) -> str:
    """A plain transcript: what a base (not instruction-tuned) model continues best."""
    parts = [PREAMBLE]
    for message in messages:
        if message.role == "system":
            parts.append(f"{message.content.strip()}\n\n")
        else:
            speaker = "User" if message.role == "user" else "Assistant"
            parts.append(f"{speaker}: {message.content.strip()}\n")
    parts.append("Assistant:")
    return "".join(parts)


#: Tokens the repetition penalty looks back over (mlx-lm's default, passed explicitly).
REPETITION_CONTEXT = 20


def template_messages(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Messages for a chat template: a system message after the first position (the
    session puts per-request text, skills or an agent prompt, just before the last
    request so the history stays a stable prefix) is folded into the next user
    message, since many templates (Gemma's) accept a system message only first."""
    out: list[dict[str, str]] = []
    pending: list[str] = []
    for index, message in enumerate(messages):
        if message.role == "system" and index > 0:
            pending.append(message.content.strip())
            continue
        content = message.content
        if pending and message.role == "user":
            content, pending = "\n\n".join([*pending, content]), []
        out.append({"role": message.role, "content": content})
    if pending:
        out.append({"role": "user", "content": "\n\n".join(pending)})
    return out


class StopScanner:
    """Cuts a stream at the first stop string, holding back a possible partial match."""

    def __init__(self, stop: str = STOP) -> None:
        self.stop = stop
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        self.pending += text
        index = self.pending.find(self.stop)
        if index >= 0:
            self.stopped = True
            out, self.pending = self.pending[:index], ""
            return out
        keep = 0
        for size in range(min(len(self.stop) - 1, len(self.pending)), 0, -1):
            if self.stop.startswith(self.pending[-size:]):
                keep = size
                break
        out = self.pending[: len(self.pending) - keep]
        self.pending = self.pending[len(self.pending) - keep :]
        return out

    def flush(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out


class MlxLocalProvider:
    kind = "mlx"

    def __init__(self, model: str, settings: LocalSettings, models_dir: Path, *,
                 reuse_prefix: bool = True, cache_cap_tokens: int = DEFAULT_CAP_TOKENS
                 ) -> None:
        self.model = EMBEDDED_MODEL_NAME if model == EMBEDDED else model
        self._ref = model
        self.endpoint = "in-process"
        self._settings = settings
        self._models_dir = models_dir
        self._executor: ThreadPoolExecutor | None = None
        self._loaded: tuple[Any, Any] | None = None
        self._lock = asyncio.Lock()
        self._generate_lock = asyncio.Lock()
        # Touched only on the model thread (one worker; calls serialised by the lock).
        self._prefix = PrefixCache(cache_cap_tokens) if reuse_prefix else None

    @property
    def model_folder(self) -> Path:
        if self._ref == EMBEDDED:
            return self._models_dir / EMBEDDED_MODEL_NAME
        return Path(self._ref).expanduser()

    @property
    def needs_preparation(self) -> bool:
        return self._ref == EMBEDDED and not is_prepared(self.model_folder)

    def availability(self) -> tuple[bool, str]:
        if self._ref == EMBEDDED:
            return True, "ready" if not self.needs_preparation else "prepared on first use"
        if "/" in self._ref and not self.model_folder.exists() and self._ref.count("/") == 1:
            return True, "hub id (loaded through mlx-lm's cache)"
        if not self.model_folder.exists():
            return False, f"model folder {self.model_folder} does not exist"
        return True, "ready"

    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlx")
        return self._executor

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread(), fn, *args)

    async def prepare(self) -> AsyncIterator[ModelPreparing]:
        async with self._lock:
            if self._loaded is not None:
                return
            if self.needs_preparation:
                async for event in self._prepare_embedded():
                    yield event
            yield ModelPreparing("load", 0, 1)
            try:
                self._loaded = await self._run(self._load)
            except Exception as exc:
                raise ProviderError(f"cannot load model {self._ref}: {exc}", self.endpoint,
                                    retryable=False) from exc
            yield ModelPreparing("load", 1, 1)

    async def _prepare_embedded(self) -> AsyncIterator[ModelPreparing]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def report(p: PrepareProgress) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ModelPreparing(p.stage, p.done, p.total))

        cancel = threading.Event()
        future = loop.run_in_executor(self._thread(), prepare_embedded_model,
                                      self.model_folder, report, cancel)
        future.add_done_callback(lambda _f: loop.call_soon_threadsafe(queue.put_nowait, _DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                yield item
        finally:
            cancel.set()  # no-op when done; stops the thread if our consumer went away
        try:
            future.result()
        except ModelPrepareError as exc:
            raise ProviderError(str(exc), self.endpoint, retryable=False) from exc

    def _load(self) -> tuple[Any, Any]:
        quiet_transformers()
        if self._ref == EMBEDDED:
            os.environ["HF_HUB_OFFLINE"] = "1"  # the embedded model never touches a hub
        from mlx_lm import load

        loaded = load(str(self.model_folder) if self.model_folder.exists() else self._ref)
        return loaded[0], loaded[1]  # (model, tokenizer); a third item only with return_config

    def _prompt(self, tokenizer: Any, messages: list[ChatMessage]) -> str:
        fmt = self._settings.prompt_format
        template = getattr(tokenizer, "chat_template", None)
        if fmt == "chat_template" or (fmt == "auto" and template):
            prompt: str = tokenizer.apply_chat_template(
                template_messages(messages),
                add_generation_prompt=True, tokenize=False,
            )
            return prompt
        return transcript_prompt(messages)

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        async for _ in self.prepare():
            pass
        assert self._loaded is not None
        model, tokenizer = self._loaded
        prompt = self._prompt(tokenizer, messages)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()
        limit = min(max_tokens, self._settings.max_tokens)

        def put(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def generate() -> None:
            try:
                put(self._generate(model, tokenizer, prompt, limit, put, cancel))
            except BaseException as exc:
                put(exc)

        async with self._generate_lock:
            scanner = StopScanner()
            future = loop.run_in_executor(self._thread(), generate)
            started = False
            try:
                while True:
                    item = await queue.get()
                    if isinstance(item, Usage):
                        tail = scanner.flush()
                        if tail:
                            yield tail
                        yield item
                        return
                    if isinstance(item, BaseException):
                        raise ProviderError(f"local model failed: {item}", self.endpoint) from item
                    text = scanner.feed(item)
                    if not started:
                        text = text.lstrip()
                        started = bool(text)
                    if text:
                        yield text
                    if scanner.stopped:
                        cancel.set()
            finally:
                cancel.set()
                await asyncio.wait([future])

    def _generate(self, model: Any, tokenizer: Any, prompt: str, limit: int,
                  put: Callable[[Any], None], cancel: threading.Event) -> Usage:
        from mlx_lm import stream_generate
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        settings = self._settings
        sampler = make_sampler(temp=settings.temperature, top_p=settings.top_p)
        tokens = self._encode(tokenizer, prompt)
        cache: list[Any] | None = None
        reused = 0
        if self._prefix is not None:
            cache, reused = self._prefix.take(model, tokens)
        processors = with_context(
            make_logits_processors(repetition_penalty=settings.repetition_penalty,
                                   repetition_context_size=REPETITION_CONTEXT),
            tokens[max(0, reused - REPETITION_CONTEXT):reused])
        completion_tokens = 0
        generated: list[int] = []
        special = self._special_ids(tokenizer)
        responses = stream_generate(model, tokenizer, tokens[reused:], max_tokens=limit,
                                    sampler=sampler, logits_processors=processors,
                                    prompt_cache=cache)
        try:
            for response in responses:
                generated.append(response.token)
                completion_tokens = response.generation_tokens
                if response.token in special:  # e.g. <start_of_image>: the turn is over
                    break
                if response.text:
                    put(response.text)
                if cancel.is_set():
                    break
        except BaseException:
            if self._prefix is not None:
                self._prefix.drop()  # half-written: what it holds is unknown
            raise
        finally:
            responses.close()
        if self._prefix is not None:
            self._prefix.commit([*tokens, *generated])
        return Usage(prompt_tokens=len(tokens), completion_tokens=completion_tokens,
                     cached_tokens=reused, cost_usd=0.0)

    @staticmethod
    def _encode(tokenizer: Any, prompt: str) -> list[int]:
        """The prompt's tokens as stream_generate would encode the text (BOS added
        unless the text, e.g. from a chat template, already starts with it)."""
        bos = getattr(tokenizer, "bos_token", None)
        add_special = bos is None or not prompt.startswith(bos)
        return list(tokenizer.encode(prompt, add_special_tokens=add_special))

    def drop_prefix_cache(self) -> None:
        """Forget the held conversation (e.g. the model is about to change)."""
        if self._prefix is not None:
            self._prefix.drop()

    @staticmethod
    def _special_ids(tokenizer: Any) -> frozenset[int]:
        """Control tokens a base model may emit mid-text; none belongs in a reply."""
        return frozenset(getattr(tokenizer, "all_special_ids", ()) or ())

    def close(self) -> None:
        """Join the model thread now: MLX's per-thread state must not be torn down by
        a thread exiting while the interpreter finalises (a rare abort at exit)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.drop_prefix_cache()


def with_context(processors: list[Any], prefix: list[int]) -> list[Any]:
    """Logits processors (the repetition penalty) that still see the reused prefix:
    mlx-lm hands them only the tokens fed in this call, which with a cache is the
    suffix, so without this a cached turn could decode differently. The penalty reads
    only the last REPETITION_CONTEXT tokens, so that is all of the prefix it is given:
    the per-token concatenation stays small however long the conversation."""
    if not processors or not prefix:
        return processors
    import mlx.core as mx

    head = mx.array(prefix)

    def wrap(processor: Any) -> Any:
        return lambda tokens, logits: processor(mx.concatenate([head, tokens]), logits)

    return [wrap(p) for p in processors]
