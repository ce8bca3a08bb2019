"""Time to first token over a 20-turn chat on the embedded model, with and without
the local prefix (KV) cache. Not a timed test: run by hand, OpenBLAS preloaded:

  LD_PRELOAD=$(ls /usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3|head -1) \
      .venv/bin/python benchmarks/bench_prefix_cache.py [--turns 20] [--max-tokens 8]

Both runs go through MlxLocalProvider.stream exactly as the session calls it (greedy,
so both conversations should be the same text); prints per-turn prompt tokens, reused
tokens, time to the first token the model produced (mlx-lm's stream_generate is
wrapped to see it: the provider streams text, and a leading space token yields none)
and to the first streamed text, and the turn-N / turn-2 ratios. `--repeat R` plays the
cached chat R times, each on a fresh provider, and keeps each turn's fastest time, so
a busy second core inflates fewer turns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import mlx_lm

from tokenopt_tui.config import LocalSettings
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.providers.mlx_local import MlxLocalProvider
from tokenopt_tui.core.providers.model_prep import (
    EMBEDDED_MODEL_NAME,
    prepare_embedded_model,
    quiet_transformers,
)
from tokenopt_tui.paths import Paths

TOPICS = ["the moon", "rivers", "bread", "bicycles", "owls", "glass", "tea", "maps",
          "volcanoes", "violins", "salt", "bridges", "bees", "clocks", "paper",
          "snow", "copper", "ferns", "lighthouses", "chess"]


_FIRST_TOKEN: list[float] = []  # perf_counter of the first token of the current call
_stream_generate = mlx_lm.stream_generate


def _timed_stream_generate(*args: Any, **kwargs: Any) -> Iterator[Any]:
    for response in _stream_generate(*args, **kwargs):
        if not _FIRST_TOKEN:
            _FIRST_TOKEN.append(time.perf_counter())
        yield response


mlx_lm.stream_generate = _timed_stream_generate  # the provider imports it per call


def question(turn: int) -> str:
    topic = TOPICS[turn % len(TOPICS)]
    return (f"Turn {turn + 1}. I am writing a short school note about {topic}. "
            f"Give me one plain fact about {topic} in a single short sentence, "
            "nothing else, please.")


async def chat(provider: MlxLocalProvider, turns: int, max_tokens: int) -> list[dict]:
    messages: list[ChatMessage] = []
    rows = []
    for turn in range(turns):
        messages.append(ChatMessage("user", question(turn)))
        _FIRST_TOKEN.clear()
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        usage: Usage | None = None
        async for item in provider.stream(messages, max_tokens):
            if first is None:
                first = time.perf_counter() - started
            if isinstance(item, Usage):
                usage = item
            else:
                parts.append(item)
        assert usage is not None and first is not None
        reply = "".join(parts)
        messages.append(ChatMessage("assistant", reply))
        rows.append({"turn": turn + 1, "ttft_s": round(_FIRST_TOKEN[0] - started, 3),
                     "first_text_s": round(first, 3),
                     "prompt_tokens": usage.prompt_tokens,
                     "cached_tokens": usage.cached_tokens, "reply": reply})
    return rows


async def play(folder: Any, settings: LocalSettings, reuse: bool, turns: int,
               max_tokens: int) -> list[dict]:
    provider = MlxLocalProvider("embedded", settings, folder.parent, reuse_prefix=reuse)
    async for _ in provider.prepare():
        pass
    try:
        return await chat(provider, turns, max_tokens)
    finally:
        provider.close()


def fastest(runs: list[list[dict]]) -> list[dict]:
    """Each turn's row from the run where its first token came soonest."""
    return [min(rows, key=lambda r: r["ttft_s"]) for rows in zip(*runs, strict=True)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    quiet_transformers()
    folder = prepare_embedded_model(Paths.from_env().models_dir / EMBEDDED_MODEL_NAME)
    settings = LocalSettings(max_tokens=args.max_tokens, temperature=0.0)
    runs = [await play(folder, settings, True, args.turns, args.max_tokens)
            for _ in range(args.repeat)]
    with_cache = fastest(runs)
    without = await play(folder, settings, False, args.turns, args.max_tokens)
    print("turn  prompt  reused  first token (cache)  first text (cache)  first token (none)")
    for a, b in zip(with_cache, without, strict=True):
        print(f"{a['turn']:>4}  {a['prompt_tokens']:>6}  {a['cached_tokens']:>6}"
              f"  {a['ttft_s']:>18.3f}s  {a['first_text_s']:>17.3f}s  {b['ttft_s']:>17.3f}s")
    last = len(with_cache) - 1
    summary = {
        "repeat": args.repeat,
        "turn_last_over_turn_2_cache": round(with_cache[last]["ttft_s"]
                                             / with_cache[1]["ttft_s"], 2),
        "turn_last_over_turn_2_cache_first_text": round(
            with_cache[last]["first_text_s"] / with_cache[1]["first_text_s"], 2),
        "turn_last_over_turn_2_no_cache": round(without[last]["ttft_s"]
                                                / without[1]["ttft_s"], 2),
        "same_replies": all([a["reply"] for a in run] == [b["reply"] for b in without]
                            for run in runs),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
