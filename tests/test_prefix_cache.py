"""Local prompt-prefix reuse: the pure reuse decision, the held cache, and the real
embedded model reusing a turn's KV cache for the next one with the same text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tokenopt_tui.config import LocalSettings
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.providers.mlx_local import (
    MlxLocalProvider,
    template_messages,
    transcript_prompt,
)
from tokenopt_tui.core.providers.prefix_cache import (
    PrefixCache,
    Reuse,
    common_prefix,
    plan_reuse,
)
from tokenopt_tui.core.session import _before_request

module_loop = pytest.mark.asyncio(loop_scope="module")


def test_common_prefix_counts_the_shared_leading_tokens() -> None:
    assert common_prefix([1, 2, 3, 4], [1, 2, 9]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0 and common_prefix([5], [6]) == 0


def test_plan_keeps_the_common_prefix_and_trims_the_rest() -> None:
    held = list(range(20))
    grown = [*held, 50, 51]  # the next turn: everything held plus new text
    assert plan_reuse(held, grown, trimmable=False, cap=100) == Reuse(20, 0)
    diverged = [*held[:12], 99, 98, 97]  # e.g. the reply was re-tokenized differently
    assert plan_reuse(held, diverged, trimmable=True, cap=100) == Reuse(12, 8)
    # the same prompt again: one token must still be read to get the next one
    assert plan_reuse(held, held, trimmable=True, cap=100) == Reuse(19, 1)


def test_plan_rebuilds_when_reuse_is_impossible_or_useless() -> None:
    held = list(range(20))
    diverged = [*held[:12], 99]
    assert plan_reuse(held, diverged, trimmable=False, cap=100).rebuild  # cannot trim
    assert plan_reuse(held, [0, 1, 2, 77], trimmable=True, cap=100).rebuild  # too little
    assert plan_reuse(held, [*held, 1], trimmable=True, cap=15).rebuild  # over the cap
    assert plan_reuse([], [1, 2, 3], trimmable=True, cap=100).rebuild  # nothing held


class _FakeModel:
    """Just enough of an mlx-lm model for make_prompt_cache: real KV caches."""

    def make_cache(self) -> list[Any]:
        from mlx_lm.models.cache import KVCache

        return [KVCache(), KVCache()]


def _feed(cache: list[Any], n: int) -> None:
    import mlx.core as mx

    for layer in cache:
        layer.update_and_fetch(mx.zeros((1, 1, n, 4)), mx.zeros((1, 1, n, 4)))


def test_held_cache_is_reused_trimmed_and_dropped_on_a_model_change() -> None:
    held = PrefixCache(cap_tokens=1000)
    model = _FakeModel()
    first = list(range(30))
    cache, reused = held.take(model, first)
    assert reused == 0
    _feed(cache, 30 + 5)  # the prompt, 4 reported tokens and an unreported end token
    held.commit([*first, 100, 101, 102, 103])
    assert held.tokens == [*first, 100, 101, 102, 103] and cache[0].offset == 34

    nxt = [*first, 100, 101, 7, 8]  # shares the prompt and two generated tokens
    again, reused = held.take(model, nxt)
    assert again is cache and reused == 32 and cache[0].offset == 32

    other, reused = held.take(_FakeModel(), nxt)  # another model: nothing carries over
    assert other is not cache and reused == 0 and held.tokens == []


def test_volatile_text_goes_right_before_the_request() -> None:
    history = [ChatMessage("system", "summary"), ChatMessage("user", "a"),
               ChatMessage("assistant", "b"), ChatMessage("user", "c")]
    skill, agent = ChatMessage("system", "[Skill: x]"), ChatMessage("system", "agent")
    sent = _before_request(history, [agent, skill])
    assert sent == [*history[:3], agent, skill, history[3]]
    assert _before_request(history, []) == history


def test_chat_template_messages_fold_a_late_system_message_into_the_request() -> None:
    messages = [ChatMessage("system", "be brief"), ChatMessage("user", "a"),
                ChatMessage("assistant", "b"), ChatMessage("system", "[Skill: x] body"),
                ChatMessage("user", "c")]
    assert template_messages(messages) == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "[Skill: x] body\n\nc"}]


# --- the real embedded model ------------------------------------------------------

def _settings() -> LocalSettings:
    return LocalSettings(max_tokens=16, temperature=0.0)  # greedy: comparable text


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def providers(prepared_model: Path):
    cached = MlxLocalProvider("embedded", _settings(), prepared_model.parent)
    plain = MlxLocalProvider("embedded", _settings(), prepared_model.parent,
                             reuse_prefix=False)
    for provider in (cached, plain):
        async for _ in provider.prepare():
            pass
    yield cached, plain
    cached.close()
    plain.close()


async def _ask(provider: MlxLocalProvider, messages: list[ChatMessage]) -> tuple[str, Usage]:
    items = [i async for i in provider.stream(messages, 16)]
    usage = items[-1]
    assert isinstance(usage, Usage)
    return "".join(i for i in items if isinstance(i, str)), usage


@pytest.mark.model
@module_loop
async def test_second_turn_reuses_the_first_and_says_the_same(providers) -> None:
    cached, plain = providers
    turn1 = [ChatMessage("user", "Name a colour.")]
    reply, usage = await _ask(cached, turn1)
    assert usage.cached_tokens == 0 and reply.strip()
    turn2 = [*turn1, ChatMessage("assistant", reply),
             ChatMessage("system", "[Skill: colours] Answer with one word."),
             ChatMessage("user", "And another one?")]
    text, usage = await _ask(cached, turn2)
    expected, plain_usage = await _ask(plain, turn2)
    assert plain_usage.cached_tokens == 0
    # at least the whole first prompt came from the cache, and the count is honest
    first_len = len(cached._encode(cached._loaded[1], transcript_prompt(turn1)))
    assert first_len - 1 <= usage.cached_tokens < usage.prompt_tokens
    assert usage.prompt_tokens == plain_usage.prompt_tokens
    assert text == expected and text.strip()


@pytest.mark.model
@module_loop
async def test_a_changed_early_message_reuses_only_the_common_part(providers) -> None:
    cached, plain = providers
    tokenizer = cached._loaded[1]
    before = [ChatMessage("user", "Name a colour."), ChatMessage("assistant", "Blue."),
              ChatMessage("user", "Why that one?")]
    await _ask(cached, before)
    after = [ChatMessage("system", "Summary: the user asked for colours."), *before[1:]]
    shared = common_prefix(cached._encode(tokenizer, transcript_prompt(before)),
                           cached._encode(tokenizer, transcript_prompt(after)))
    text, usage = await _ask(cached, after)  # as after a compaction: a new prefix
    assert usage.cached_tokens == shared and 0 < shared < usage.prompt_tokens // 2
    expected, _ = await _ask(plain, after)
    assert text == expected


@pytest.mark.model
@module_loop
async def test_windowed_layers_match_mlx_lms_own_cache_past_the_window(providers) -> None:
    """The sliding-window layers attend only over the window (so a long chat's first
    token does not slow down with the history) yet stay trimmable and exact: the same
    logits as mlx-lm's own (rotating) cache, before and after a trim past the window."""
    cached, _ = providers
    model = cached._loaded[0]

    def run() -> tuple[float, float, tuple[int, ...], int]:
        import mlx.core as mx
        from mlx_lm.models.cache import make_prompt_cache, trim_prompt_cache

        from tokenopt_tui.core.providers.prefix_cache import make_trimmable_cache

        ids = [(i * 7919) % 20000 + 100 for i in range(640)]
        upstream, ours = make_prompt_cache(model), make_trimmable_cache(model)
        for cache in (upstream, ours):
            model(mx.array([ids[:600]]), cache=cache)
        expected = model(mx.array([ids[600:]]), cache=upstream)[:, -1, :]
        got = model(mx.array([ids[600:]]), cache=ours)[:, -1, :]
        first = mx.abs(expected - got).max().item()
        trim_prompt_cache(ours, 40)  # what the prefix cache does every turn
        mask_shape = tuple(ours[0].make_mask(40, window_size=None).shape)
        again = model(mx.array([ids[600:]]), cache=ours)[:, -1, :]
        return first, mx.abs(expected - again).max().item(), mask_shape, ours[0].window

    first, after_trim, mask_shape, window = await cached._run(run)
    assert first < 1e-3 and after_trim < 1e-3
    assert mask_shape == (40, window + 39)  # 600 held, but only the window is read
