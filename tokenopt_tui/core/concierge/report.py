"""The concierge's report: gaps, requests found wanting, skills never useful, skills
unused; each entry with its evidence and its tokens. One dict form (`--json`, the
screen) and one text form (the CLI), both from `build_report`.

Grouping and re-matching run in a thread (`asyncio.to_thread`): embedding and the n²
matrix must never block an event loop (the screen's).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tokenopt_tui.core.concierge.gaps import (
    DEFAULT_METHOD,
    MAX_GROUPED,
    Method,
    group_texts,
    name_group,
)
from tokenopt_tui.core.concierge.unused import unused_skills, useless_skills
from tokenopt_tui.core.concierge.usage import Request, load_requests
from tokenopt_tui.core.text import terminal_safe
from tokenopt_tui.store.concierge import first_request_at, skill_uses
from tokenopt_tui.store.queries import parse_utc_timestamp, utc_timestamp

UNUSED_DAYS = 30
MIN_GROUP = 3
MAX_EVIDENCE = 12


@dataclass(frozen=True)
class Settings:
    """The report's window and how big a recurring need must be."""

    days: int = UNUSED_DAYS
    min_group: int = MIN_GROUP
    method: Method = DEFAULT_METHOD


def _suggestions(requests: Sequence[Request], min_group: int, method: Method,
                 taken: set[str]) -> list[dict[str, Any]]:
    """Groups of ≥ min_group requests, each named as a skill, dearest first."""
    requests = list(requests)[-MAX_GROUPED:]
    out = []
    for members in group_texts([r.text for r in requests], method):
        if len(members) < min_group:
            continue
        group = [requests[i] for i in members]
        naming = name_group([r.text for r in group], taken)
        taken.add(naming.name)
        dates = sorted(r.created_at[:10] for r in group)
        out.append({"name": naming.name, "description": naming.description,
                    "tags": list(naming.tags), "count": len(group),
                    "tokens": sum(r.tokens for r in group), "first": dates[0],
                    "last": dates[-1], "sessions": sorted({r.session_id for r in group}),
                    "evidence": [r.evidence() for r in group[:MAX_EVIDENCE]]})
    return sorted(out, key=lambda s: (-s["tokens"], s["name"]))


def _rematch(library: Any, gaps: list[Request]) -> tuple[list[Request], dict[str, int]]:
    """Gaps that the current library still does not cover, and how many it now does
    (by skill): a skill added since answers them, so they are no longer missing."""
    if library is None:
        return gaps, {}
    still, covered = [], dict[str, int]()
    for request in gaps:
        ranked = library.rank(request.text)
        if ranked:
            covered[ranked[0].name] = covered.get(ranked[0].name, 0) + 1
        else:
            still.append(request)
    return still, covered


def _body_tokens(library: Any) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in library.registry.skills:
        try:
            out[name] = int(library.registry.body(name)[1])
        except Exception:  # an unreadable body is the skills check's business
            out[name] = None
    return out


def _analyse(requests: list[Request], library: Any, settings: Settings,
             uses: Any, judge_unused: bool = True) -> dict[str, Any]:
    """The CPU part (embedding, clustering, matching), run in a thread."""
    gaps = [r for r in requests if not r.skills and r.source == "chat"]
    gaps, covered = _rematch(library, gaps)
    taken = set(library.registry.skills) if library is not None else set()
    wanting = [r for r in requests if r.went_wrong]
    skills = list(library.registry.skills.values()) if library is not None else []
    unused = (unused_skills(skills, uses, _body_tokens(library) if library else {})
              if judge_unused else [])
    return {
        "gaps": _suggestions(gaps, settings.min_group, settings.method, taken),
        "wanting": _suggestions(wanting, settings.min_group, settings.method, taken),
        "never_useful": [u.to_dict() for u in useless_skills(requests)],
        "unused": [u.to_dict(settings.days) for u in unused],
        "covered_now": covered,
        "requests": len(requests), "unmatched": len(gaps),
    }


async def build_report(store: Any, library: Any, settings: Settings = Settings(),
                       now: datetime | None = None) -> dict[str, Any]:
    """The report over the last `settings.days` days before `now`."""
    started = time.perf_counter()
    moment = now or datetime.now(UTC)
    since = utc_timestamp(moment - timedelta(days=settings.days))
    requests = await load_requests(store, since)
    uses = await skill_uses(store, since)
    first = await first_request_at(store)
    # A fresh install has not left any skill unused for N days: name none until the
    # recorded usage covers the whole window.
    history_days = (moment - parse_utc_timestamp(first)).days if first else 0
    body = await asyncio.to_thread(_analyse, requests, library, settings, uses,
                                   history_days >= settings.days)
    return {"since": since, "days": settings.days, "min_group": settings.min_group,
            "method": settings.method, "history_days": history_days,
            "unused_judged": history_days >= settings.days, **body,
            "seconds": round(time.perf_counter() - started, 3)}


def _quote(text: str, limit: int = 90) -> str:
    from tokenopt_tui.core.text import one_line

    return terminal_safe(one_line(text, limit))


def render_text(report: dict[str, Any]) -> str:
    """The report as plain text; request text is untrusted (terminal_safe)."""
    lines = [f"Concierge: {report['requests']} requests in the last {report['days']} days "
             f"({report['unmatched']} matched no skill)."]

    def groups(title: str, entries: list[dict[str, Any]], why: str, start: int) -> None:
        lines.append(f"\n{title}")
        if not entries:
            lines.append("  none")
        for n, s in enumerate(entries, start):
            lines.append(f"  [{n}] {s['name']}: {s['count']} requests {why}: "
                         f"≈ {s['tokens']:,} tokens ({s['first']} – {s['last']}, "
                         f"{len(s['sessions'])} sessions)")
            lines.append(f"      tags: {_quote(', '.join(s['tags']))}")
            for e in s["evidence"][:3]:
                lines.append(f"      #{e['message_id']} {e['date']}: \"{_quote(e['text'])}\"")

    groups("Missing skills (recurring requests that matched none)", report["gaps"],
           "matched nothing", 1)
    groups("Found wanting (escalated, rated bad or failed validation)", report["wanting"],
           "were found wanting", len(report["gaps"]) + 1)
    lines.append("\nLoaded but never useful")
    lines.extend(f"  {_quote(u['name'])}: loaded {u['loads']} times, every answer escalated "
                 f"or rated bad: ≈ {u['tokens']:,} tokens" for u in report["never_useful"])
    if not report["never_useful"]:
        lines.append("  none")
    lines.append(f"\nUnused (deprecation candidates, 0 loads in {report['days']} days)")
    if not report["unused_judged"]:
        lines.append(f"  not judged yet: usage recorded for {report['history_days']} of "
                     f"{report['days']} days")
    lines.extend(f"  {_quote(u['name'])}: loaded 0 times in {report['days']} days"
                 + (f" (body {u['body_tokens']:,} tokens)" if u["body_tokens"] else "")
                 for u in report["unused"])
    if not report["unused"] and report["unused_judged"]:
        lines.append("  none")
    for name, count in sorted(report["covered_now"].items()):
        lines.append(f"\n{count} earlier unmatched requests now match {_quote(name)}.")
    if report["gaps"] or report["wanting"]:
        lines.append("\nWrite one as a draft skill: tokenopt concierge draft N")
    return "\n".join(lines) + "\n"


def suggestion(report: dict[str, Any], choice: str) -> dict[str, Any] | None:
    """The gap or wanting entry named `choice`, or numbered so in the text (gaps first)."""
    entries = report["gaps"] + report["wanting"]
    if choice.isdigit():
        index = int(choice) - 1
        return entries[index] if 0 <= index < len(entries) else None
    return next((s for s in entries if s["name"] == choice), None)
