"""`tokenopt ask`: one request, one answer on stdout, notices on stderr."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from tokenopt_tui.cli.progress import Progress
from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    try:
        prompt = read_prompt(args.prompt, sys.stdin)
    except BadInput as exc:
        return _refuse_input(str(exc), args.json)
    try:
        return asyncio.run(_ask(config, paths, prompt, args))
    except KeyboardInterrupt:
        return 130
    except asyncio.CancelledError:  # SIGTERM (e.g. `timeout`): the call is settled
        return 143


class BadInput(ValueError):
    """The request cannot be used as text (not UTF-8): nothing is stored or sent."""


def read_prompt(arg: str, stdin: TextIO) -> str:
    """The request from argv, or from standard input for '-', as strict UTF-8.

    Python hands undecodable argv bytes over as lone surrogates; such text cannot be
    stored or sent, so it is refused with the offending byte named, before any
    session row exists (decoding with replacement would send something else than
    what the user typed)."""
    if arg == "-":
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"standard input is not valid UTF-8 (byte 0x{data[exc.start]:02x} "
                           f"at offset {exc.start}); nothing was sent") from None
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(arg[exc.start])
        byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        raise BadInput(f"the request is not valid UTF-8 ({byte} at character {exc.start}); "
                       "nothing was sent") from None
    return arg


def _refuse_input(message: str, as_json: bool) -> int:
    if as_json:
        from tokenopt_tui.core.text import json_dumps_safe

        print(json_dumps_safe({"answer": "", "session_id": None, "error": message,
                               "bad_input": True}, indent=None))
    else:
        print(f"tokenopt: {message}", file=sys.stderr)
    return 2


async def _ask(config: Config, paths: Paths, prompt: str, args: argparse.Namespace) -> int:
    """One request, one answer on stdout; every notice on stderr.

    On a terminal the reply streams as it comes (a failed attempt's partial text is
    followed by a notice that the answer comes next); otherwise stdout gets only the
    final answer, printed once it is complete. SIGTERM cancels the request the way
    Ctrl+C does, so the call is settled and charged before the process ends."""
    import signal

    from tokenopt_tui.core.events import (
        BudgetWarned,
        ContentReferenced,
        ContextCompacted,
        ErrorOccurred,
        ModelPreparing,
        PaidEscalated,
        ReplyCompleted,
        ReplyCut,
        SessionHalted,
        SkillLoaded,
        TierChosen,
        TierFailed,
        TokenReceived,
        UsageRecorded,
    )
    from tokenopt_tui.core.text import json_dumps_safe, terminal_safe
    from tokenopt_tui.store import StoreError
    from tokenopt_tui.wiring import make_services

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    services = make_services(config, paths)
    try:
        await services.open_store()
    except StoreError as exc:
        print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    progress = Progress(sys.stderr)
    stream_live = not args.json and sys.stdout.isatty()
    printed = False  # live text on stdout since the last attempt started
    result: dict[str, Any] = {"answer": "", "session_id": None, "tier": None, "tier_name": None,
                              "model": None, "prompt_tokens": 0, "completion_tokens": 0,
                              "cost_usd": 0.0, "estimated": False, "interrupted": False,
                              "cut": None, "reasons": [], "attempts": [], "error": None,
                              "halted": False, "budget": None, "events": []}

    scrub = services.secrets.scrub

    def say(text: str) -> None:
        if not args.json:
            if printed:
                sys.stdout.write("\n")
                sys.stdout.flush()
            print(f"tokenopt: {terminal_safe(scrub(text))}", file=sys.stderr)

    try:
        try:
            session = await _ask_session(services, args)
        except LookupError as exc:
            print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
            return 2
        result["session_id"] = session.session_id
        async for event in session.send(prompt):
            if isinstance(event, TokenReceived):
                if stream_live:
                    sys.stdout.write(terminal_safe(event.text))
                    sys.stdout.flush()
                    printed = True
                continue
            if isinstance(event, ModelPreparing):
                progress.show(event.stage, event.done, event.total)
                continue
            result["events"].append(event.to_dict())
            if isinstance(event, TierChosen):
                result.update(tier=event.tier, tier_name=event.tier_name, model=event.model)
                if not result["reasons"]:
                    result["reasons"] = list(event.reasons)
                result["attempts"].append({"tier": event.tier, "model": event.model,
                                           "ok": True, "fault": None, "error": None})
            elif isinstance(event, TierFailed):
                if event.skipped:
                    result["attempts"].append({"tier": event.tier, "model": event.model,
                                               "ok": False, "skipped": True,
                                               "fault": event.fault, "error": event.error})
                else:
                    result["attempts"][-1].update(ok=False, fault=event.fault, error=event.error)
                    partial = " (the text above is incomplete)" if printed else ""
                    say(f"tier {event.tier} ({event.model}) failed: {event.fault}{partial}; "
                        "trying the next tier")
                    printed = False
            elif isinstance(event, PaidEscalated):
                say(f"escalating to the paid tier {event.tier} ({event.model}): {event.reason}")
            elif isinstance(event, UsageRecorded):
                result["prompt_tokens"] += event.prompt_tokens
                result["completion_tokens"] += event.completion_tokens
                result["cost_usd"] += event.cost_usd
                result["estimated"] = result["estimated"] or event.estimated
            elif isinstance(event, ReplyCompleted):
                result.update(answer=event.text, interrupted=event.interrupted)
            elif isinstance(event, ReplyCut):
                result["cut"] = {"limit": event.limit, "detail": event.detail}
                say(event.detail)
            elif isinstance(event, ErrorOccurred):
                result["error"] = event.message
                say(event.message)
            elif isinstance(event, BudgetWarned):
                say(f"budget {event.used:,} of {event.limit:,} tokens ({event.percent}% reached)"
                    + ("; the context is compressed before the next request"
                       if event.level == "compress" else "; consider compacting"))
            elif isinstance(event, ContextCompacted):
                say(f"context compacted ({event.trigger}): {event.tokens_before:,} → "
                    f"{event.tokens_after:,} tokens")
            elif isinstance(event, SkillLoaded):
                say(f"skill {event.skill_name} loaded ({event.tokens:,} tokens): "
                    f"{event.reason}")
            elif isinstance(event, ContentReferenced):
                say(f"a long text ({event.tokens:,} tokens) is stored as message "
                    f"#{event.message_id}; the model gets an excerpt")
            elif isinstance(event, SessionHalted):
                result["halted"] = True
                refused = " and this request was not sent" if event.pending else ""
                say(f"session {session.session_id} ({session.session_type}) has used its budget: "
                    f"{event.used:,} of {event.limit:,} tokens{refused}. Continue in a new "
                    f"session seeded with its summary: tokenopt ask --seed-from "
                    f"{session.session_id} …")
        result["budget"] = {"used": session.tokens_used, "limit": session.budget,
                            "level": session.budget_state.level(session.tokens_used)}
    finally:
        if task is not None:
            loop.remove_signal_handler(signal.SIGTERM)
        await services.aclose()
    if args.json:
        print(json_dumps_safe(result, indent=None))
    elif stream_live:
        if printed:
            print()
    elif result["answer"] and not result["error"]:
        print(terminal_safe(result["answer"]))
    if result["error"]:
        return 1
    return 3 if result["halted"] and not result["answer"] else 0


async def _ask_session(services: Any, args: argparse.Namespace) -> Any:
    """A new session, or the one named by --resume/--continue (for cron jobs)."""
    from tokenopt_tui.core.session import ChatSession

    if args.seed_from is not None:
        if args.resume is not None or args.continue_last:
            raise LookupError("--seed-from starts a new session: drop --resume/--continue")
        return await ChatSession.continue_from(
            services, await ChatSession.resume(services, args.seed_from))
    resume = args.resume
    if args.continue_last:
        latest = await services.store.list_sessions(limit=1)
        if not latest:
            raise LookupError("--continue: there is no session yet")
        resume = latest[0].id
    if resume is None:
        return await ChatSession.start(services, args.session_type, tier=args.tier)
    return await ChatSession.resume(services, resume, tier=args.tier)
