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
    if (usage := _usage_error(args)) is not None:
        print(f"tokenopt: ask: {usage}", file=sys.stderr)
        return 2
    try:
        prompt = "" if args.retry_up else read_prompt(args.prompt, sys.stdin)
    except BadInput as exc:
        return _refuse_input(str(exc), args.json)
    try:
        return asyncio.run(_ask(config, paths, prompt, args))
    except KeyboardInterrupt:
        return 130
    except asyncio.CancelledError:  # SIGTERM (e.g. `timeout`): the call is settled
        return 143


def _usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the request arguments: a request, or --retry-up on a session."""
    if not args.retry_up:
        return None if args.prompt is not None else "the request is missing (or '-' for stdin)"
    if args.prompt is not None:
        return "--retry-up asks the session's last request again: give no request"
    if args.resume is None and not args.continue_last:
        return "--retry-up needs the session: add --continue or --resume ID"
    return None


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
    Ctrl+C does, so the call is settled and charged before the process ends.
    The words come from `core.presenter`, the `--json` object from `ReplySummary`."""
    import signal

    from tokenopt_tui.core.events import ModelPreparing, TokenReceived
    from tokenopt_tui.core.presenter import Audience, describe
    from tokenopt_tui.core.reply_summary import ReplySummary
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
    printed = False  # live text on stdout since the last notice (the line is open)
    summary = ReplySummary()
    scrub = services.secrets.scrub

    try:
        try:
            skills = _asked_skills(services, args.skills)  # checked before a session exists
            session = await _ask_session(services, args)
        except LookupError as exc:
            print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
            return 2
        session.queued_skills.extend(skills)
        session.skip_cache_once = args.no_cache
        summary = ReplySummary(session.session_id)
        audience = Audience("cli", session.session_id, session.session_type)
        escalated = False  # --retry-up: the session found a request to ask again
        async for event in session.retry_up() if args.retry_up else session.send(prompt):
            escalated = escalated or event.kind == "EscalationRequested"
            if isinstance(event, TokenReceived):
                if stream_live:
                    sys.stdout.write(terminal_safe(event.text))
                    sys.stdout.flush()
                    printed = True
                continue
            if isinstance(event, ModelPreparing):
                progress.show(event.stage, event.done, event.total)
                continue
            summary.add(event)
            notice = describe(event, audience, partial=printed)
            if notice is not None and not args.json:
                if printed:  # end the streamed line: the notice is not part of the answer
                    sys.stdout.write("\n")
                    sys.stdout.flush()
                    printed = False
                print(f"tokenopt: {terminal_safe(scrub(notice))}", file=sys.stderr)
        summary.set_budget(session.tokens_used, session.budget,
                           session.budget_state.level(session.tokens_used))
    finally:
        if task is not None:
            loop.remove_signal_handler(signal.SIGTERM)
        await services.aclose()
    if args.json:
        print(json_dumps_safe(summary.as_dict(), indent=None))
    elif stream_live:
        if printed:
            print()
    elif summary.answer and not summary.error:
        print(terminal_safe(summary.answer))
    if summary.error:  # --retry-up with nothing to ask again is bad input, not a failure
        return 2 if args.retry_up and not escalated else 1
    return 3 if summary.halted and not summary.answer else 0


def _asked_skills(services: Any, specs: list[str]) -> list[str]:
    """`--skill NAME[#section]` checked against the skills: LookupError names the one
    that does not exist (and what does)."""
    if not specs:
        return []
    from tokenopt_tui.core.skills.partial import check_request
    from tokenopt_tui.core.skills.registry import SkillError

    library = services.skills
    if library is None:
        raise LookupError("--skill: skills are off (config key 'skills.enabled')")
    try:
        return [str(check_request(library.registry, spec)) for spec in specs]
    except (SkillError, OSError) as exc:
        raise LookupError(f"--skill: {exc}") from None


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
        resume = await services.store.latest_session_id()
        if resume is None:
            raise LookupError("--continue: there is no session yet")
    if resume is None:
        return await ChatSession.start(services, args.session_type, tier=args.tier)
    return await ChatSession.resume(services, resume, tier=args.tier)
