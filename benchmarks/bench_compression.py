"""Extractive compression: time on a ~50k-token history, ratios and probe retention.

Prints figures only (no asserts). The history is the retention set's conversations
concatenated until it reaches ~50k tokens; the issue's target is < 200 ms per call.

    .venv/bin/python benchmarks/bench_compression.py [-n 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from tokenopt_tui.core.compression.compress import compress
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.core.tokens import count_tokens

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "conversations"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=50_000)
    args = parser.parse_args()
    convs = [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]
    count_tokens("warm up")

    history: list[ChatMessage] = []
    total = 0
    while total < args.tokens:
        for conv in convs:
            for m in conv["messages"]:
                history.append(ChatMessage(m["role"], m["content"]))
                total += count_tokens(m["content"])
            if total >= args.tokens:
                break
    times = []
    for _ in range(args.n):
        start = time.perf_counter()
        result = compress(history, keep_last=6)
        times.append((time.perf_counter() - start) * 1000)
    print(f"history: {len(history)} messages, {result.tokens_before} tokens")
    print(
        f"compress(): median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
        f"over {args.n} runs (target < 200 ms); {result.tokens_before} -> "
        f"{result.tokens_after} tokens ({result.ratio:.1f}x)"
    )

    ratios = []
    kept: dict[str, int] = defaultdict(int)
    for conv in convs:
        msgs = [ChatMessage(m["role"], m["content"]) for m in conv["messages"]]
        r = compress(msgs, keep_last=6)
        ratios.append(r.ratio)
        text = "\n".join(m.content for m in r.messages)
        for kind, value in conv["probes"].items():
            kept[kind] += value in text
    print(
        f"per conversation ({len(convs)}): ratio mean {statistics.mean(ratios):.2f}, "
        f"median {statistics.median(ratios):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}"
    )
    for kind in convs[0]["probes"]:
        print(f"  retention {kind:16} {100 * kept[kind] / len(convs):5.1f}%")


if __name__ == "__main__":
    main()
