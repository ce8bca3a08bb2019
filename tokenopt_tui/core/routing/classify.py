"""Routing decision: pick the starting tier for a prompt without a model call.

A deterministic keyword/structure classifier. It must cost well under a millisecond
even for a 10k-token paste, so it never tokenizes: it reads only a bounded "ask
window" (the prose around any pasted material) with precompiled regexes, and uses
C-speed `str` scans over the full text. Thresholds live in `Thresholds`, whose
defaults are the module constants below, so config can override them later.
See docs/routing.md for the labelling guide the rules were tuned against.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tokenopt_tui.core.routing.neighbours import Neighbours

TaskType = Literal["chat", "code", "analysis", "research", "ops"]
Complexity = Literal["low", "medium", "high"]

TASK_TYPES: tuple[TaskType, ...] = ("code", "ops", "research", "analysis", "chat")
"""Also the tie-break order: specific types beat the chat fallback."""

TIER_LOCAL, TIER_GENERAL, TIER_CODER = 1, 2, 3

# --- thresholds (defaults; a config may override them through Thresholds) ---
LONG_INPUT_TOKENS = 3_000  # above this the local model's prefill is too slow: tier >= 2
ASK_WINDOW_CHARS = 1_500  # prompts longer than this are read as head + tail paragraphs
ASK_HEAD_CHARS = 800
ASK_TAIL_CHARS = 300
LONG_ASK_WORDS = 30  # an ask this long earns a complexity point, twice that two
SHORT_ASK_WORDS = 6
COMPARE_MIN_WORDS = 12  # "x vs y" in a short question is a quick answer, not an analysis
MEDIUM_POINTS = 2
HIGH_POINTS = 4
LONG_SESSION_TURNS = 20
LONG_SESSION_TOKENS = 8_000
LOG_LINES_FOR_OPS = 5
SAMPLE_CHARS = 2_000  # token estimate samples 3 slices of this size on long texts
NEIGHBOUR_MIN_WORDS = 8  # shorter asks (follow-ups, "thx") are left to the rules
NEIGHBOUR_MAX_LINES = 6  # more lines than this is a paste, not a typed ask


@dataclass(frozen=True)
class Thresholds:
    """Tunable limits; defaults mirror the module constants."""

    long_input_tokens: int = LONG_INPUT_TOKENS
    long_ask_words: int = LONG_ASK_WORDS
    short_ask_words: int = SHORT_ASK_WORDS
    compare_min_words: int = COMPARE_MIN_WORDS
    medium_points: int = MEDIUM_POINTS
    high_points: int = HIGH_POINTS
    long_session_turns: int = LONG_SESSION_TURNS
    long_session_tokens: int = LONG_SESSION_TOKENS


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class RoutingDecision:
    """The classifier's answer; `reasons` are shown to the user on demand."""

    task_type: TaskType
    complexity: Complexity
    tier: int
    reasons: tuple[str, ...]
    scores: dict[str, int] = field(default_factory=dict, hash=False)


def _phrases(spec: str) -> frozenset[str]:
    """A '|'-separated phrase list; phrases are matched on whole lower-case words."""
    return frozenset(p.strip() for p in spec.split("|") if p.strip())


# Task-type vocabulary, matched on the word n-grams of the ask window. Strong hits
# weigh 3, weak ones 1. Word lookups in one dict keep the cost linear in the ask
# (alternation regexes cost ~50 us per 1,000 chars each: too slow for ten of them).
_STRONG = {
    "code": _phrases(
        "python|javascript|typescript|rust|golang|in go|java|kotlin|ruby|php|sql|regex|git|commit"
        "|commits|rebase|stash|cherry-pick|bash|vim|pytest|traceback|typeerror|syntaxerror"
        "|modulenotfounderror|indexerror|keyerror|f-string|list comprehension|venv|pip|npm|jq"
        "|mutex|dependency injection|unit test|unit tests"
    ),
    "ops": _phrases(
        "kubectl|kubernetes|k8s|pod|pods|systemctl|systemd|journalctl|docker|container|compose"
        "|cron|crontab|nginx|ssh|certbot|deploy|deployment|deploys|restart|restarting|disk|ubuntu"
        "|debian|linux|server|vm|vms|crashloopbackoff|imagepullbackoff|oomkilled|node pool|cluster"
        "|firewall|dns|mx record|mx records|backup|backups|disaster recovery|datacenter"
    ),
    "research": _phrases(
        "sources|paper|papers|literature|research|researching|state of the art|citation|citations"
        "|cite|latest|newest|maintained|maintains|license|lts"
    ),
    "analysis": _phrases(
        "compare|comparison|trade-off|trade-offs|tradeoff|tradeoffs|pros and cons|analyse|analyze"
        "|analysis|architecture|estimate|back of the envelope|rfc|postmortem|proposal|strategy"
        "|sanity check|theorem|bottleneck|bottlenecks|design|designing|plan|worth"
    ),
    "chat": _phrases(
        "email|slack|linkedin|tweet|haiku|poem|joke|rephrase|reword|proofread|grammar|translate"
        "|synonym|birthday|podcast|weather|pronounce|out-of-office|icebreaker|thank-you|meeting"
        "|todo list|summarise|summarize"
    ),
}
_WEAK = {
    "code": _phrases(
        "code|function|method|class|variable|list|dict|tuple|array|string|str|syntax|error"
        "|exception|async|await|import|module|package|library|json|parse|test|tests|bug|debug"
        "|refactor|script|branch|operator|lambda|loop|type|timestamp"
    ),
    "ops": _phrases(
        "log|logs|service|port|memory|ram|process|upgrade|scale|replica|replicas|rollback"
        "|roll back|pipeline|ci|aws|s3|monitoring|hardening|tls|ssl|cert|curl|ping|folder"
        "|directory|zip|chmod|user|group|readiness|migrate|migration|postgres"
    ),
    "research": _phrases(
        "version|release|book|fork|who created|invented|is there a|is there an|overview|links"
        "|options for|current options|benchmark|benchmarks|vulnerable|paper|support"
    ),
    "analysis": _phrases(
        "vs|versus|should i|should we|recommend|recommendation|evaluate|risk|risks|decide|deciding"
        "|explain|reasonable|enough|big deal|tradeoff|data model|availability|bandwidth|storage"
        "|interview|review|options|phases|cost|costs"
    ),
    "chat": _phrases(
        "hi|hello|hey|yo|thanks|thank you|thx|cheers|ok|okay|lol|nice|message|note|title|formal"
        "|friendlier|shorter|bullet|bullets|notes|ideas|name for|mean|means|capital|recipe|day off"
        "|manager|word|translate"
    ),
}
_RAW_CODE = ("c++", "__init__.py")  # vocabulary that word splitting would break
_RAW_OPS = ("/var", "/etc")
_LIB_NOUNS = frozenset({"library", "tool", "package", "crate", "module"})


def _lexicon() -> dict[str, tuple[tuple[str, int], ...]]:
    lex: dict[str, list[tuple[str, int]]] = {}
    for weight, table in ((3, _STRONG), (1, _WEAK)):
        for task, phrases in table.items():
            for p in phrases:
                lex.setdefault(p, []).append((task, weight))
    return {p: tuple(v) for p, v in lex.items()}


_LEXICON = _lexicon()
_SMALL_TALK = _phrases(
    "hi|hello|hey|yo|thanks|thank you|thx|cheers|ok|okay|lol|nice|bye|perfect|good morning"
    "|good night|good evening|good afternoon|how are you"
)

# Complexity signals (phrases on the same n-grams).
_MULTI_STEP = _phrases(
    "step by step|step-by-step|walk through|walk me through|plan|planning|phase|phases|analyse"
    "|analyze|design|checklist|timeline|action items|in order of|migration plan|propose a plan"
)
_DEPTH = _phrases(
    "in detail|detailed|thorough|thoroughly|deep dive|deep-dive|in depth|in-depth|comprehensive"
    "|be thorough|explain why|with your reasoning|explanation|explanations|reasoning|root cause"
    "|walk me through why|all the ways"
)
_COMPARE = _phrases(
    "compare|comparison|trade-off|trade-offs|tradeoff|tradeoffs|pros and cons|deciding between|vs"
    "|versus|decide between|choose between|pick between|help me decide|help me choose"
    "|which is better"
)
_LONG_FORM_VERB = _phrases("write|draft|prepare|create|produce|plan|together")
_LONG_FORM = _phrases(
    "rfc|postmortem|post-mortem|proposal|design doc|report|learning path|roadmap|whitepaper"
)
_SOURCES = _phrases(
    "sources|paper|papers|literature|citation|citations|cite|state of the art|research"
    "|references|by whom|according to|recommended today|current guidance|best practices today"
)
_BRIEF = _phrases(
    "short answer|one sentence|one-sentence|one line|one-line|one-liner|one line each"
    "|two sentences|briefly|tldr|quick|in a sentence|one-line answer|bullet points"
)

# Coding work: a verb of producing/changing code near a code object, or next to code.
_CODE_VERB = _phrases(
    "write|implement|create|generate|refactor|fix|debug|port|rewrite|add|review|make|build"
    "|code|develop|convert|translate|migrate|scaffold|set up"
)
_CODE_OBJECT = _phrases(
    "script|scripts|function|functions|class|classes|module|method|program|cli|middleware|endpoint"
    "|test|tests|test suite|parser|cache|decorator|code|diff|pull request|handler|implementation"
    "|bot|client|server|service|api|app|library|worker|pool|queue|migration|migrations|query"
    "|queries|playbook|manifest|manifests|dockerfile|helm|chart|terraform|workflow|pipeline"
    "|unit|timer|crate|package|algorithm|type hints|docstrings|schema|component|hook|plugin"
    "|extension|tool|limiter|scraper|crawler|wrapper|sdk|struct|interface"
)
#: Languages and code formats: a code verb with one of these in the ask is coding work
#: ("implement dijkstra in python", "go: write a worker pool").
_LANGUAGES = _phrases(
    "python|golang|in go|rust|java|javascript|typescript|kotlin|swift|ruby|php|scala|elixir"
    "|haskell|lua|perl|bash|powershell|sql|yaml|terraform|ansible|helm|react|vue|django|flask"
    "|fastapi|nodejs"
)
#: A choice put as a question: "should i use x or y", "x or y for z?" (tier 2 by the guide).
_CHOICE_OPENERS = _phrases("should i|should we|would you|is it better|better to|which")
_WORD = re.compile(r"[\w-]+")
_FENCE_LANG = re.compile(
    r"```(python|py|js|javascript|ts|typescript|go|rust|java|c|cpp|ruby|php|bash|sh|diff"
    r"|sql|yaml|yml|toml|json|dockerfile)?\b"
)
_TRACE_MARKERS = ("Traceback (most recent call last)", "\npanic: ", "\n\tat ")
_PY_FRAME = re.compile(r'^\s*File ".+", line \d+', re.M)
_LOG_LINE = re.compile(
    r"\S.{0,40}?\b\d{2}:\d{2}:\d{2}\b|\S*\s*\[?(?:ERROR|WARN|WARNING|INFO|DEBUG|FATAL)\]?\b"
)
_INLINE_CODE = re.compile(r"`([^`\n]{1,80})`")
_SHELL_CMD = re.compile(
    r"(?:sudo )?(?:ls|df|du|free|ps|top|grep|find|chmod|chown|tar|ssh|scp|rsync|curl|dig|ip"
    r"|ss|netstat|systemctl|journalctl|kubectl|docker|crontab|mount|kill|tail|cat)\b"
)
_PUNCT = b".,:;/-_=()[]{}\"'<>|@#$%*+`\\"
_DIGITS = b"0123456789"
_PROBE_HEAD, _PROBE_TAIL = 8_000, 2_000  # where pasted traces/fences are looked for


def estimate_tokens(text: str) -> int:
    """Cheap cl100k estimate from chars, punctuation and digits (no tokenizer: speed).

    Fitted on system source, logs and docs (median error ~5%, p95 ~18%); logs and
    code tokenize denser than prose, which chars/4 alone misses by up to 2x.
    """
    n = len(text)
    if n > 3 * SAMPLE_CHARS * 2:
        mid = n // 2 - SAMPLE_CHARS // 2
        sample = text[:SAMPLE_CHARS] + text[mid : mid + SAMPLE_CHARS] + text[-SAMPLE_CHARS:]
        scale = n / len(sample)
    else:
        sample, scale = text, 1.0
    raw = sample.encode("utf-8", "replace")
    punct = len(raw) - len(raw.translate(None, _PUNCT))
    digits = len(raw) - len(raw.translate(None, _DIGITS))
    return int((0.19 * len(sample) + 0.35 * punct + 1.0 * digits) * scale)


def _outside_fences(text: str, starts_inside: bool = False) -> str:
    parts = text.split("```")
    return " ".join(parts[1::2] if starts_inside else parts[0::2])


def _ask_window(text: str, fences: int) -> str:
    """The prose a person typed around any paste: whole if short, else head + tail."""
    if not fences and len(text) <= ASK_WINDOW_CHARS:
        return text
    if len(text) <= ASK_WINDOW_CHARS:
        return _outside_fences(text)
    head = text[:ASK_HEAD_CHARS]
    cut = head.find("\n\n")
    head = _outside_fences(head[:cut] if cut > 0 else head)
    tail_start = len(text) - ASK_TAIL_CHARS
    tail = text[tail_start:]
    inside = (fences - tail.count("```")) % 2 == 1
    tail = _outside_fences(tail, inside)
    cut = tail.rfind("\n\n")
    if cut >= 0:
        tail = tail[cut:]
    return head + "\n" + tail


_PHRASE_TABLES = (_LEXICON, _SMALL_TALK, _MULTI_STEP, _DEPTH, _COMPARE, _LONG_FORM, _SOURCES,
                  _CODE_OBJECT, _LANGUAGES, _CHOICE_OPENERS)
_LONG_PHRASES = tuple(p for t in _PHRASE_TABLES for p in t if p.count(" ") >= 3)  # substring


def _grams(words: list[str], ask: str) -> list[str]:
    """Words, their 2- and 3-grams, and the few 4-word phrases present in the ask."""
    grams = list(words)
    grams.extend(map(" ".join, pairwise(words)))
    grams.extend(map(" ".join, zip(words, words[1:], words[2:], strict=False)))
    grams.extend(p for p in _LONG_PHRASES if p in ask)
    return grams


def _near(
    words: list[str], gset: set[str], verbs: frozenset[str], objects: frozenset[str], span: int
) -> bool:
    """A verb followed within `span` words by an object (single or two-word)."""
    for verb in gset & verbs:
        i = -1
        while True:
            try:
                i = words.index(verb, i + 1)
            except ValueError:
                break
            window = words[i + 1 : i + 1 + span]
            if not objects.isdisjoint(window) or not objects.isdisjoint(
                map(" ".join, pairwise(window))
            ):
                return True
    return False


def _type_scores(ask: str, words: list[str], grams: list[str]) -> dict[str, int]:
    scores: dict[str, int] = {t: 0 for t in TASK_TYPES}
    counts = Counter(grams)
    for g in counts.keys() & _LEXICON.keys():
        for task, weight in _LEXICON[g]:
            scores[task] += weight * counts[g]
    scores["code"] += 3 * sum(ask.count(r) for r in _RAW_CODE)
    scores["ops"] += 3 * sum(ask.count(r) for r in _RAW_OPS)
    if "is there" in ask and _near(words, set(words), frozenset({"there"}), _LIB_NOUNS, 3):
        scores["research"] += 3
    if "`" in ask:
        for snippet in _INLINE_CODE.findall(ask):
            scores["ops" if _SHELL_CMD.match(snippet.strip()) else "code"] += 2
    return scores


def _is_brief(words: list[str], gset: set[str]) -> bool:
    if gset & _BRIEF or "tl dr" in gset:
        return True
    return ("bullets" in gset or "bullet" in gset) and any(
        w.isdigit() and i + 1 < len(words) and words[i + 1] in ("bullets", "bullet")
        for i, w in enumerate(words)
    )


def _pasted_structure(text: str, marks: int, scores: dict[str, int], reasons: list[str]) -> bool:
    """Score fences, stack traces and logs (bounded scans); True if code is pasted."""
    n = len(text)
    probe = text if n <= _PROBE_HEAD + _PROBE_TAIL else text[:_PROBE_HEAD] + text[-_PROBE_TAIL:]
    traceback = any(m in probe for m in _TRACE_MARKERS) or (
        'File "' in probe and bool(_PY_FRAME.search(probe))
    )
    if marks >= 2:
        langs = {m for m in _FENCE_LANG.findall(probe) if m}
        kind = "ops" if langs & {"yaml", "yml", "toml", "dockerfile"} else "code"
        scores[kind] += 3 if langs else 1
        reasons.append("code block" + (f" ({', '.join(sorted(langs))})" if langs else ""))
    if traceback:
        scores["code"] += 3
        reasons.append("stack trace")
    if n > ASK_WINDOW_CHARS and marks < 2:
        lines = text[:4_000].splitlines()[:30]
        if sum(1 for line in lines if _LOG_LINE.match(line)) >= LOG_LINES_FOR_OPS:
            scores["ops"] += 4
            reasons.append("pasted log")
    return marks >= 2 or traceback


def _complexity_points(
    words: list[str], gset: set[str], th: Thresholds, scores: dict[str, int], reasons: list[str]
) -> int:
    """Points for multi-step, depth, comparison, long-form, sources, length, brevity."""
    points = 0
    steps = gset & _MULTI_STEP
    if "design doc" in gset:
        steps.discard("design")
    if steps:
        points += 3 if len(steps) >= 2 else 2
        reasons.append("asks for step-by-step analysis" if len(steps) >= 2 else "asks to plan")
    if gset & _DEPTH:
        points += 3
        reasons.append("asks for depth")
    if gset & _COMPARE:
        points += 3 if len(words) >= th.compare_min_words else 1
        reasons.append("compares options")
    elif "or" in gset and not gset.isdisjoint(_CHOICE_OPENERS):
        points += 3
        reasons.append("weighs a choice")
    if _near(words, gset, _LONG_FORM_VERB, _LONG_FORM, 4):
        points += 3
        reasons.append("long-form document")
    srcs = gset & _SOURCES
    if srcs:
        points += 4 if len(srcs) >= 2 else 2
        scores["research"] += 3
        reasons.append("asks for sources")
    if "explain" in gset or ("how" in gset and "works" in gset):
        points += 1
    if len(words) > th.long_ask_words:
        points += 2 if len(words) > 2 * th.long_ask_words else 1
    if _is_brief(words, gset):
        points -= 3
        reasons.append("asks for a brief answer")
    return points


def _typed_ask(text: str, n_words: int) -> bool:
    """A request a person typed in a few lines, with no paste, of at least
    `NEIGHBOUR_MIN_WORDS` words: what the neighbours were labelled on. Tool output, logs
    and one-word follow-ups are left to the rules (their neighbours are noise)."""
    return (n_words >= NEIGHBOUR_MIN_WORDS and len(text) <= ASK_WINDOW_CHARS
            and "```" not in text and text.count("\n") <= NEIGHBOUR_MAX_LINES)


def ask_text(prompt: str) -> str:
    """The part of a prompt that says what is asked, lower-cased (what both the rules
    and the neighbours read)."""
    text = prompt.strip()
    return _ask_window(text, text.count("```")).lower()


def classify(
    prompt: str,
    *,
    history_turns: int = 0,
    history_tokens: int = 0,
    matched_skills: Sequence[str] = (),
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    neighbours: Neighbours | None = None,
    lift_share: float | None = None,
) -> RoutingDecision:
    """Pick task type, complexity and starting tier (1-3) for `prompt`.

    Never returns the paid tier: tier 4 is only a fallback the router may reach. With
    `neighbours`, a tier-1 decision is lifted when the most similar labelled examples
    mostly needed more (`lift_share` of their weighted vote; default the tuned one).
    """
    th = thresholds
    text = prompt.strip()
    fence_marks = text.count("```")
    ask = _ask_window(text, fence_marks).lower()
    words = _WORD.findall(ask)
    grams = _grams(words, ask)
    gset = set(grams)
    n_words = len(words)
    reasons: list[str] = []

    scores = _type_scores(ask, words, grams)
    small_talk = 0 < n_words <= th.short_ask_words and any(
        " ".join(words[:k]) in _SMALL_TALK for k in (1, 2, 3)
    )
    if small_talk:
        scores["chat"] += 3
    code_pasted = _pasted_structure(text, fence_marks, scores, reasons)
    code_work = _near(words, gset, _CODE_VERB, _CODE_OBJECT, 5) or (
        (code_pasted or not gset.isdisjoint(_LANGUAGES)) and not gset.isdisjoint(_CODE_VERB)
        and words[:1] != ["explain"]
    )
    if code_work:
        scores["code"] += 4
        reasons.append("asks for code to be written or changed")
    for skill in matched_skills:
        skill_words = _WORD.findall(skill.lower().replace("_", " ").replace("-", " "))
        hint = _type_scores(skill.lower(), skill_words, _grams(skill_words, skill.lower()))
        best = max(TASK_TYPES, key=lambda t: hint[t])
        if hint[best]:
            scores[best] += 3
            reasons.append(f"skill hint: {skill} → {best}")

    points = _complexity_points(words, gset, th, scores, reasons)
    if history_turns >= th.long_session_turns or history_tokens >= th.long_session_tokens:
        points += 1
        reasons.append(f"long session: {history_turns} turns, {history_tokens:,} tokens")
    tokens = estimate_tokens(text) if len(text) > ASK_WINDOW_CHARS else len(text) // 4
    if tokens > th.long_input_tokens:
        points = max(points, th.high_points)
        reasons.append(f"long prompt: ~{tokens:,} tokens")

    task: TaskType = max(TASK_TYPES, key=lambda t: scores[t])  # first wins ties
    if code_work:
        task = "code"
    elif scores[task] == 0:
        task = "chat"
    complexity: Complexity = (
        "high" if points >= th.high_points else "medium" if points >= th.medium_points else "low"
    )
    tier = TIER_CODER if code_work else TIER_GENERAL if complexity == "high" else TIER_LOCAL
    if tier == TIER_LOCAL and neighbours is not None and _typed_ask(text, n_words):
        from tokenopt_tui.core.routing.neighbours import LIFT_SHARE

        vote = neighbours.vote(ask)
        if vote.upper_share >= (LIFT_SHARE if lift_share is None else lift_share):
            tier = vote.upper_tier
            complexity = "high"
            if tier == TIER_CODER:
                task = "code"
            reasons.append(f"similar asks needed tier {tier} ({vote.upper_share:.0%} of the "
                           f"{len(vote.nearest)} nearest labelled examples needed more)")
    if tier == TIER_LOCAL:
        if small_talk:
            reasons.append("small talk, short")
        elif n_words <= th.short_ask_words or (n_words <= 15 and ask.rstrip().endswith("?")):
            reasons.append("short question")
        elif not reasons:
            reasons.append("simple request")
    reasons.insert(0, f"task: {task}")
    return RoutingDecision(task, complexity, tier, tuple(reasons), scores)
