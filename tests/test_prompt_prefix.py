"""Where a prompt first differs from the last one (for /why and prefix caching)."""

from __future__ import annotations

from tokenopt_tui.core.prompt_prefix import compare
from tokenopt_tui.core.providers.base import ChatMessage


def m(role: str, content: str) -> ChatMessage:
    return ChatMessage(role, content)  # type: ignore[arg-type]


def test_a_grown_conversation_repeats_everything_before_the_new_turn() -> None:
    first = [m("system", "rules"), m("user", "hi")]
    second = [*first, m("assistant", "hello"), m("user", "and now?")]
    diff = compare(first, second)
    assert diff.same_chars == len("system\nrules\n") + len("user\nhi\n")
    assert diff.first_changed == 2 and diff.changed_role == "assistant"
    assert diff.total_chars == diff.same_chars + len("assistant\nhello\n") + len(
        "user\nand now?\n")


def test_a_volatile_line_at_the_top_shows_where_reuse_stops() -> None:
    before = [m("system", "time 10:00\nrules"), m("user", "hi")]
    after = [m("system", "time 10:01\nrules"), m("user", "hi")]
    diff = compare(before, after)
    assert diff.first_changed == 0 and diff.same_chars == len("system\ntime 10:0")
    assert diff.same_share == 16 / 32  # half the prompt is lost to one changed digit


def test_the_same_prompt_and_the_first_prompt() -> None:
    same = [m("user", "x")]
    assert compare(same, same).first_changed is None and compare(same, same).same_share == 1
    first = compare([], same)
    assert first.same_chars == 0 and first.first_changed == 0


def test_why_says_how_much_repeated_and_what_came_from_cache() -> None:
    from tokenopt_tui.core.events import PromptCompared
    from tokenopt_tui.core.presenter import prompt_line

    grown = PromptCompared(9_500, 10_000, 4, "assistant")
    assert prompt_line(grown, 2_300) == (
        "  prompt: the first 95% (9,500 of 10,000 characters) repeats the last request's; "
        "it first differs in message 5 (assistant); 2,300 prompt tokens were served from "
        "cache")
    assert prompt_line(PromptCompared(0, 80, 0, "user"), 0).startswith(
        "  prompt: new from the start (message 1, user, changed)")
    assert "the same as the last request's" in prompt_line(PromptCompared(80, 80, -1), 0)
