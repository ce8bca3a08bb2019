"""Time to first token over a 20-turn chat on the embedded model, with and without
the local prefix (KV) cache. Not a timed test: run by hand, OpenBLAS preloaded:

  LD_PRELOAD=$(ls /usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3|head -1) \
      .venv/bin/python benchmarks/bench_prefix_cache.py [--turns 20] [--max-tokens 8]

Both runs go through MlxLocalProvider.stream exactly as the session calls it (greedy,
so both conversations should be the same text); prints per-turn prompt tokens, reused
tokens and time to the first streamed item, and the turn-N / turn-2 ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

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
        rows.append({"turn": turn + 1, "ttft_s": round(first, 3),
                     "prompt_tokens": usage.prompt_tokens,
                     "cached_tokens": usage.cached_tokens, "reply": reply})
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args()
    quiet_transformers()
    folder = prepare_embedded_model(Paths.from_env().models_dir / EMBEDDED_MODEL_NAME)
    settings = LocalSettings(max_tokens=args.max_tokens, temperature=0.0)
    results = {}
    for name, reuse in (("cache", True), ("no cache", False)):
        provider = MlxLocalProvider("embedded", settings, folder.parent, reuse_prefix=reuse)
        async for _ in provider.prepare():
            pass
        try:
            results[name] = await chat(provider, args.turns, args.max_tokens)
        finally:
            provider.close()
    with_cache, without = results["cache"], results["no cache"]
    print("turn  prompt  reused  ttft cache  ttft no cache")
    for a, b in zip(with_cache, without, strict=True):
        print(f"{a['turn']:>4}  {a['prompt_tokens']:>6}  {a['cached_tokens']:>6}"
              f"  {a['ttft_s']:>9.3f}s  {b['ttft_s']:>12.3f}s")
    last = len(with_cache) - 1
    summary = {
        "turn_last_over_turn_2_cache": round(with_cache[last]["ttft_s"]
                                             / with_cache[1]["ttft_s"], 2),
        "turn_last_over_turn_2_no_cache": round(without[last]["ttft_s"]
                                                / without[1]["ttft_s"], 2),
        "same_replies": [a["reply"] for a in with_cache] == [b["reply"] for b in without],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
