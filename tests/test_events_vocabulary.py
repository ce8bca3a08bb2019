"""One event vocabulary: every event type has words (or is declared silent), one stored
form that decodes back to the same event, and no isinstance ladder over events lives
outside the presenter and the ask --json fold."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from tokenopt_tui.core import events as events_module
from tokenopt_tui.core.events import (
    EVENT_TYPES,
    ContextCompacted,
    Event,
    ReplyCompleted,
    SessionHalted,
    TierFailed,
    decode_event,
)
from tokenopt_tui.core.presenter import (
    SILENT,
    TIMELINE_KINDS,
    Audience,
    describe,
    stored_timeline_line,
    timeline_line,
)
from tokenopt_tui.core.reply_summary import ReplySummary
from tokenopt_tui.store import Store

PACKAGE = Path(__file__).resolve().parents[1] / "tokenopt_tui"
#: Where a dispatch over event types may be written out: the words and the fold.
PRESENTERS = {PACKAGE / "core" / "presenter.py", PACKAGE / "core" / "reply_summary.py"}

EVENT_CLASSES = sorted(
    (cls for cls in vars(events_module).values()
     if inspect.isclass(cls) and issubclass(cls, Event) and cls is not Event),
    key=lambda cls: cls.__name__)
SAMPLE = {int: 7, float: 1.5, str: "text ☃", bool: True}


def sample(cls: type[Event]) -> Event:
    """An instance with a value in every field (tuples with two items), built from the
    class's own type hints so a new event needs no entry here."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) is tuple:
            values[f.name] = ("first", "second")
        elif typing.get_origin(hint) is typing.Literal:  # a closed vocabulary: its last word
            values[f.name] = typing.get_args(hint)[-1]
        else:
            values[f.name] = SAMPLE[hint]
    return cls(**values)


def test_the_module_defines_the_registered_events() -> None:
    assert len(EVENT_CLASSES) >= 15
    assert {cls.__name__ for cls in EVENT_CLASSES} <= set(EVENT_TYPES)
    assert all(EVENT_TYPES[cls.__name__] is cls for cls in EVENT_CLASSES)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_event_has_words_or_is_declared_silent(cls: type[Event]) -> None:
    event = sample(cls)
    chat, cli = describe(event, Audience("chat", 4, "direct_chat")), describe(event)
    line = timeline_line(event)
    if cls.__name__ in SILENT:
        assert (chat, cli, line) == (None, None, None)
        assert cls.__name__ not in TIMELINE_KINDS
        return
    assert chat or cli or line, f"{cls.__name__} has no words and is not declared silent"
    for text in (chat, cli, line):
        assert text is None or (text.strip() and "{" not in text), text
    assert (line is not None) == (cls.__name__ in TIMELINE_KINDS)


def test_surfaces_share_the_facts_and_differ_in_what_to_do_next() -> None:
    halted = SessionHalted(used=1_200, limit=1_000, summary="s", pending="and now?")
    cli = describe(halted, Audience("cli", 9, "cron_job"))
    chat = describe(halted, Audience("chat", 9, "direct_chat"))
    assert cli == ("session 9 (cron_job) has used its budget: 1,200 of 1,000 tokens and this "
                   "request was not sent. Continue in a new session seeded with its summary: "
                   "tokenopt ask --seed-from 9 …")
    assert chat is not None and chat.startswith(
        "session 9 (direct_chat) has used its budget: 1,200 of 1,000 tokens")
    assert "Ctrl+N" in chat and "--seed-from" not in chat
    failed = TierFailed(1, "m", "http://x/v1", "timeout", "no answer in 30 s")
    assert describe(failed, partial=True) == (
        "tier 1 (m) failed: timeout: no answer in 30 s (at http://x/v1); the text above is "
        "incomplete; trying the next tier")
    assert describe(failed, Audience("chat")) == describe(failed)
    assert describe(TierFailed(2, "m", "", "unavailable", "key missing", skipped=True)) is None


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
async def test_every_event_round_trips_through_the_store(cls: type[Event],
                                                         tmp_path: Path) -> None:
    event = sample(cls)
    store = await Store.open(tmp_path / "tokenopt.db")
    try:
        session_id = await store.create_session("direct_chat", "round trip")
        await store.add_event(session_id, event.kind, event.stored_dict())
        [row] = await store.session_events(session_id)
    finally:
        await store.close()
    assert row.kind == cls.__name__
    decoded = decode_event(row.kind, row.payload)
    expected = dataclasses.replace(event, **{name: type(getattr(event, name))()
                                             for name in cls.not_stored})
    assert decoded == expected
    assert type(decoded) is cls
    assert decoded.stored_dict() == event.stored_dict()  # encode ∘ decode is the identity


def test_rows_this_version_cannot_use_decode_to_none() -> None:
    assert decode_event("EventFromTheFuture", {"x": 1}) is None
    assert decode_event("TierFailed", {"tier": 1}) is None  # required fields missing
    assert decode_event("BudgetWarned", {"used": "lots", "limit": 10}) is None
    assert decode_event("ContextCompacted", {"trigger": "auto", "tokens_before": 9,
                                             "tokens_after": 3, "kept": "not a list"}) is None
    assert decode_event("SkillLoaded", ["not", "a", "dict"]) is None  # type: ignore[arg-type]
    assert stored_timeline_line("BudgetWarned", {"used": None, "limit": 1}) is None


def test_rows_stored_today_still_decode() -> None:
    """Shapes written by earlier versions: the kind key inside the payload, a reply's text
    (stored before it moved to the message row), fields added later left out."""
    reply = decode_event("ReplyCompleted", {"kind": "ReplyCompleted", "message_id": 3,
                                            "text": "old", "interrupted": False, "tier": 1,
                                            "model": "m"})
    assert reply == ReplyCompleted(3, "old", False, 1, "m")
    compacted = decode_event("ContextCompacted", json.loads(
        '{"kind": "ContextCompacted", "trigger": "/compact", "tokens_before": 900,'
        ' "tokens_after": 300, "kept": ["a"], "compressed": [], "dropped": ["b", "c"]}'))
    assert compacted == ContextCompacted("/compact", 900, 300, kept=("a",), dropped=("b", "c"))
    assert stored_timeline_line("ContextCompacted", {"trigger": "auto", "tokens_before": 1200,
                                                     "tokens_after": 400}) == (
        "context compacted (auto): 1,200 → 400 tokens")
    assert stored_timeline_line("UsageRecorded", {}) is None  # not a timeline kind


def test_the_ask_fold_keeps_the_json_shape() -> None:
    from tokenopt_tui.core.events import TierChosen, TokenReceived, UsageRecorded

    summary = ReplySummary(5)
    for event in (TierChosen(1, "local", "mlx", "m1", ("short",)), TokenReceived("hi"),
                  TierFailed(1, "m1", "e", "timeout", "slow"),
                  TierChosen(2, "remote", "api", "m2", ("fallback",)),
                  UsageRecorded(2, "m2", 10, 4, 0.25, 80.0, False, 14),
                  ReplyCompleted(8, "answer", False, 2, "m2")):
        summary.add(event)
    summary.set_budget(14, 1000, "ok")
    result = summary.as_dict()
    assert list(result) == ["answer", "session_id", "tier", "tier_name", "model",
                            "prompt_tokens", "completion_tokens", "cost_usd", "estimated",
                            "interrupted", "cut", "reasons", "attempts", "error", "halted",
                            "budget", "events"]
    assert result["answer"] == "answer" and result["session_id"] == 5
    assert (result["tier"], result["model"], result["reasons"]) == (2, "m2", ["short"])
    assert [(a["tier"], a["ok"], a["fault"]) for a in result["attempts"]] == [
        (1, False, "timeout"), (2, True, None)]
    assert (result["prompt_tokens"], result["completion_tokens"]) == (10, 4)
    assert "TokenReceived" not in [e["kind"] for e in result["events"]]
    assert result["budget"] == {"used": 14, "limit": 1000, "level": "ok"}


# --- no isinstance ladder over events outside the presenter ---------------------------------


def _event_isinstance_counts(tree: ast.AST) -> dict[str, int]:
    """Per function: how many isinstance(x, <Event subclass or tuple/union of them>)."""
    names = set(EVENT_TYPES)
    counts: dict[str, int] = {}

    def mentions_event(node: ast.expr) -> bool:
        return any((isinstance(n, ast.Name) and n.id in names)
                   or (isinstance(n, ast.Attribute) and n.attr in names)
                   for n in ast.walk(node))

    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        count = sum(1 for call in ast.walk(func)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == "isinstance" and len(call.args) == 2
                    and mentions_event(call.args[1]))
        counts[f"{func.name}:{func.lineno}"] = count
    return counts


def test_the_checker_sees_a_ladder() -> None:
    ladder = ast.parse("def show(e):\n"
                       "    if isinstance(e, TierChosen): pass\n"
                       "    elif isinstance(e, TierFailed): pass\n"
                       "    elif isinstance(e, events.BudgetWarned): pass\n")
    assert _event_isinstance_counts(ladder) == {"show:1": 3}


def test_no_isinstance_ladder_over_events_outside_the_presenter() -> None:
    files = [f for f in PACKAGE.rglob("*.py") if f not in PRESENTERS]
    assert len(files) > 30
    ladders = {f"{f.relative_to(PACKAGE)}:{where}": n for f in files
               for where, n in _event_isinstance_counts(ast.parse(f.read_text())).items()
               if n >= 3}
    assert ladders == {}, "put the words in core/presenter.py, or dispatch on the type"


def test_a_word_outside_a_closed_vocabulary_does_not_decode() -> None:
    """TierFailed.fault and BudgetWarned.level are Literal types: a stored word they do
    not admit (a row from a future version) gives None, not an event with a stray word."""
    failed = sample(EVENT_TYPES["TierFailed"])
    payload = failed.stored_dict()
    assert decode_event("TierFailed", payload) == failed
    assert decode_event("TierFailed", {**payload, "fault": "gremlins"}) is None
    warned = sample(EVENT_TYPES["BudgetWarned"])
    assert decode_event("BudgetWarned", {**warned.stored_dict(), "level": "panic"}) is None
