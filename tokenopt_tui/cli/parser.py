"""The command line's parser: one sub-command per module of this package."""

from __future__ import annotations

import argparse

from tokenopt_tui.config import SESSION_TYPES

DESCRIPTION = ("tokenopt: a terminal chat that sends each request to the cheapest model "
               "that can answer it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokenopt", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command")

    def session_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--session-type", choices=SESSION_TYPES, default="direct_chat")
        p.add_argument("--tier", type=int, metavar="N",
                       help="pin the session to tier N of the configured chain")

    def resume_options(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--resume", type=int, metavar="ID", help="continue session ID")
        group.add_argument("--continue", dest="continue_last", action="store_true",
                           help="continue the most recent session")

    chat = sub.add_parser("chat", help="open the chat (the default command)")
    session_options(chat)
    resume_options(chat)
    ask = sub.add_parser("ask", help="one request, answered on stdout")
    session_options(ask)
    resume_options(ask)
    ask.add_argument("--seed-from", type=int, metavar="ID",
                     help="start a new session seeded with session ID's summary")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead")
    ask.add_argument("--retry-up", action="store_true",
                     help="with --continue/--resume: ask the session's last request again one "
                          "tier up (no request argument)")
    ask.add_argument("--skill", action="append", default=[], metavar="NAME[#SECTION]",
                     dest="skills", help="send this skill (or one section of it) with the "
                                         "request, whatever it matches (repeatable)")
    ask.add_argument("--no-cache", action="store_true",
                     help="ask the model even if the result cache holds an answer")
    ask.add_argument("prompt", nargs="?", help="the request ('-' reads standard input)")
    sub.add_parser("doctor", help="paths, OpenBLAS, and each tier's availability")
    from tokenopt_tui.cli import skills as skills_cli

    skills_cli.add_parser(sub)
    from tokenopt_tui.cli import history as history_cli

    history_cli.add_parsers(sub)
    from tokenopt_tui.cli import bench as bench_cli

    bench_cli.add_parser(sub)
    from tokenopt_tui.cli import agents as agents_cli

    agents_cli.add_parser(sub)
    from tokenopt_tui.cli import cache as cache_cli

    cache_cli.add_parser(sub)
    from tokenopt_tui.cli import concierge as concierge_cli

    concierge_cli.add_parser(sub)
    from tokenopt_tui.cli import swarm as swarm_cli

    swarm_cli.add_parser(sub)
    model = sub.add_parser("model", help="manage the local model")
    model.add_argument("action", choices=["prepare"])
    return parser
