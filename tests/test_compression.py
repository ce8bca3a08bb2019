"""Extractive compression: retention of planted probes, ratio, fences, confirmations."""

from __future__ import annotations

import copy
import json
import statistics
from functools import cache
from pathlib import Path

import pytest

from tokenopt_tui.core.compression.compress import (
    CompressionResult,
    compress,
    extract_identifiers,
    is_confirmation,
)
from tokenopt_tui.core.providers.base import ChatMessage

DATA = Path(__file__).parent / "data" / "conversations"
FILES = sorted(DATA.glob("*.json"))


def _load(path: Path) -> tuple[dict, list[ChatMessage]]:
    conv = json.loads(path.read_text())
    return conv, [ChatMessage(m["role"], m["content"]) for m in conv["messages"]]


@cache
def _compressed(path: Path) -> CompressionResult:
    return compress(_load(path)[1], keep_last=6)


def _text(messages) -> str:
    return "\n".join(m.content for m in messages)


def test_the_set_is_big_and_realistic_enough() -> None:
    assert len(FILES) >= 30
    lengths = [len(_load(f)[1]) for f in FILES]
    assert min(lengths) >= 22
    assert sum(n > 40 for n in lengths) >= 4
    titles = {_load(f)[0]["title"] for f in FILES}
    assert len(titles) == len(FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_probe_survives_compression(path: Path) -> None:
    conv, messages = _load(path)
    first_third = _text(messages[: len(messages) // 3 + 1])
    result = _compressed(path)
    out = _text(result.messages)
    for kind, value in conv["probes"].items():
        assert value in first_third, f"probe {kind} is not planted early"
        assert value in out, f"{path.stem}: probe {kind}={value!r} lost"
    # the probes must survive in the summary itself, not only in the verbatim tail
    summary = result.messages[0].content
    for kind in ("path", "url", "number", "action_item", "owner", "goal", "decision"):
        assert conv["probes"][kind] in summary, f"{path.stem}: {kind} not in summary"


def test_every_identifier_of_the_older_messages_is_kept_verbatim() -> None:
    for path in FILES:
        _, messages = _load(path)
        result = _compressed(path)
        summary = result.messages[0].content
        for msg in messages[:-6]:
            for ident in extract_identifiers(msg.content):
                assert ident in summary, f"{path.stem}: {ident!r} missing"


def test_mean_ratio_is_at_least_three_on_long_conversations() -> None:
    ratios = []
    for path in FILES:
        _, messages = _load(path)
        if len(messages) > 20:
            result = _compressed(path)
            assert result.tokens_after < result.tokens_before
            ratios.append(result.tokens_before / result.tokens_after)
    mean = statistics.mean(ratios)
    print(
        f"compression ratio over {len(ratios)} conversations: "
        f"mean {mean:.2f}, min {min(ratios):.2f}"
    )
    assert mean >= 3.0


def test_view_shape_and_originals_unchanged() -> None:
    _, messages = _load(FILES[0])
    snapshot = copy.deepcopy(messages)
    result = compress(messages, keep_last=6)
    assert messages == snapshot
    assert result.messages[0].role == "system"
    assert list(result.messages[1:]) == messages[-6:]
    assert result.kept and result.compressed and result.dropped


def test_code_fences_stay_balanced() -> None:
    long_block = "```python\n" + "\n".join(f"x_{i} = {i}" for i in range(60)) + "\n```"
    short_block = "```sql\nselect 1;\n```"
    unclosed = "Here is the start:\n```bash\nrm -rf /tmp/build\necho done"
    messages = [
        ChatMessage("user", f"Please fix this module.\n{long_block}\nAnd this:\n{short_block}"),
        ChatMessage("assistant", f"Looked at it. Output:\n{long_block}\nDone."),
        ChatMessage("user", unclosed),
        *[ChatMessage("assistant", f"turn {i}") for i in range(6)],
    ]
    result = compress(messages, keep_last=6)
    for path in FILES:
        result_messages = _compressed(path).messages
        for msg in (*result.messages, *result_messages):
            fences = [ln for ln in msg.content.splitlines() if ln.strip().startswith("```")]
            assert len(fences) % 2 == 0, msg.content
    summary = result.messages[0].content
    assert "[code block: 60 lines of python]" in summary
    assert short_block in summary
    assert "/tmp/build" in summary


def test_confirmations_and_duplicates_are_dropped() -> None:
    for path in FILES:
        _, messages = _load(path)
        assert any(m.content == "thanks!" for m in messages[:-6])
        result = _compressed(path)
        assert "thanks!" not in result.messages[0].content
        assert any("confirmation 'thanks!'" in d for d in result.dropped)
    for text in ("ok", "Thanks!", "sounds good 👍", "👍", "great, thanks", "LGTM"):
        assert is_confirmation(text), text
    for text in ("ok, but use port 8443", "thanks, now deploy it", "no"):
        assert not is_confirmation(text), text
    dup = [ChatMessage("assistant", "Restarted the pod api-7f9c.") for _ in range(3)]
    result = compress([*dup, *[ChatMessage("user", f"q{i}") for i in range(6)]])
    assert result.messages[0].content.count("Restarted the pod") == 1


def test_requests_decisions_and_actions_kept_verbatim() -> None:
    messages = [
        ChatMessage("user", "Why is the queue slow? Also please check /var/log/app.log for 502s."),
        ChatMessage("assistant", "It is slow because consumers are starved. " + "Detail. " * 200),
        ChatMessage("user", "We agreed to go with Redis streams because Kafka is overkill here."),
        ChatMessage("assistant", "TODO: @maria to benchmark consumer throughput on v1.4.2."),
        *[ChatMessage("user", f"later {i}") for i in range(6)],
    ]
    summary = compress(messages).messages[0].content
    assert "Why is the queue slow?" in summary
    assert "please check /var/log/app.log for 502s." in summary
    assert "We agreed to go with Redis streams because Kafka is overkill here." in summary
    assert "TODO: @maria to benchmark consumer throughput on v1.4.2." in summary
    assert "Detail. Detail." not in summary


def test_identifier_extraction() -> None:
    text = (
        "See https://x.example.com/a?b=1, mail ops@acme.io, file src/app/main.py and "
        "./run.sh, commit 9c1e7b2, INC-4821, PR #482, v2.15.0, 512 MiB, 30 s, 95%, $4,200."
    )
    ids = extract_identifiers(text)
    for want in (
        "https://x.example.com/a?b=1",
        "ops@acme.io",
        "src/app/main.py",
        "./run.sh",
        "9c1e7b2",
        "INC-4821",
        "#482",
        "v2.15.0",
        "512 MiB",
        "30 s",
        "95%",
        "$4,200",
    ):
        assert want in ids, (want, ids)
    assert "and/or" not in extract_identifiers("read and/or write")
    more = extract_identifiers("claim HM-2024-0297 on sg-0c41d9e2a7f3b1185 in 10.42.16.0/20, "
                               "db at 10.0.0.5:5432, volume vol-0a1b2c3d")
    for want in ("HM-2024-0297", "sg-0c41d9e2a7f3b1185", "10.42.16.0/20", "10.0.0.5:5432",
                 "vol-0a1b2c3d"):
        assert want in more, (want, more)


def test_a_traceback_underline_is_not_a_fence_and_code_only_items_stay_balanced() -> None:
    traceback = ("Traceback (most recent call last):\n  File \"sync.py\", line 88, in run\n"
                 "    code = row[\"CurrencyCode\"]\n           ~~~^^^^^^^^^^^^^^^^\n"
                 "KeyError: 'CurrencyCode'\nConnection to broker lost")
    code_only = "We agreed on this mapping:\n```csv\nid,resolution\nch_1,refund\n```"
    messages = [ChatMessage("tool", traceback), ChatMessage("assistant", code_only),
                *[ChatMessage("user", f"next {i}") for i in range(6)]]
    summary = compress(messages).messages[0].content
    assert "KeyError: 'CurrencyCode'" in summary and "[code block" not in summary
    fences = [ln for ln in summary.splitlines() if ln.strip().startswith("```")]
    assert len(fences) % 2 == 0 and "- ```" not in summary, summary
    assert "ch_1,refund" in summary


def test_deterministic_and_short_histories_untouched() -> None:
    _, messages = _load(FILES[1])
    assert compress(messages) == compress(messages)
    short = messages[:5]
    result = compress(short, keep_last=6)
    assert list(result.messages) == short
    assert result.tokens_before == result.tokens_after
    under = compress(messages, target_tokens=10**9)
    assert list(under.messages) == messages
    tight = compress(messages, target_tokens=1)
    assert tight.tokens_after <= compress(messages).tokens_after
