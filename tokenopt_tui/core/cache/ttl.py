"""How long an answer is kept: its TTL class, from the task type and the request.

Answers that age quickly (prices, quotes, rates, the weather, the news, "today") are
"market" and kept `market_ttl_s`; everything else (analysis, research, code, chat) is
"analysis" and kept `analysis_ttl_s` (config `[cache]`).
"""

from __future__ import annotations

import re
from typing import Literal

from tokenopt_tui.config import CacheSettings

TtlClass = Literal["analysis", "market"]

#: Words that make a request's answer go stale within the hour.
MARKET_WORDS = re.compile(
    r"\b(price[sd]?|pricing|stocks?|quotes?|quoted|rates?|weather|news|today(?:'s)?)\b",
    re.IGNORECASE)

#: The default class per task type (core.routing.classify.TaskType).
TASK_CLASSES: dict[str, TtlClass] = {"analysis": "analysis", "research": "analysis",
                                     "code": "analysis", "chat": "analysis",
                                     "ops": "analysis"}


def ttl_class(task_type: str | None, request: str) -> TtlClass:
    """"market" when the request reads market-like, else its task type's class."""
    if MARKET_WORDS.search(request):
        return "market"
    return TASK_CLASSES.get(task_type or "", "analysis")


def ttl_seconds(settings: CacheSettings, klass: TtlClass) -> int:
    return settings.market_ttl_s if klass == "market" else settings.analysis_ttl_s
