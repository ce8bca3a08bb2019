"""Configuration: TOML file + environment overrides, validated into frozen dataclasses.

Every error names the file (or environment variable) and the dotted key, so a user
can fix it without reading a traceback. Secrets never live here: an endpoint names
the environment variable that holds its key, never the key itself.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from tokenopt_tui.paths import Paths

#: The kinds of session, each with its own budget (`[budgets]`).
SessionType = Literal["direct_chat", "cron_job", "sub_agent"]
SESSION_TYPES: tuple[SessionType, ...] = get_args(SessionType)


def as_session_type(value: str) -> SessionType:
    """Narrow a stored or typed session type; anything else is a caller's bug."""
    for known in SESSION_TYPES:
        if value == known:
            return known
    raise ValueError(f"unknown session type {value!r}; expected one of {SESSION_TYPES}")
OPENROUTER_URL = "https://openrouter.ai/api/v1"
EMBEDDED = "embedded"
ENV_PREFIX = "TOKENOPT__"
#: Each session type's token budget unless `[budgets]` sets it.
DEFAULT_BUDGETS: Mapping[str, int] = MappingProxyType(
    {"direct_chat": 10_000, "cron_job": 20_000, "sub_agent": 30_000})
#: Top-level config keys that map one-to-one onto a `Config` field.
_PLAIN_KEYS = ("max_tokens", "request_timeout_s", "theme", "agents_enabled")
#: `[paid]` keys and the `Config` fields they set.
_PAID_FIELDS = {"enabled": "paid_enabled", "daily_cap_usd": "daily_cap_usd"}


class ConfigError(ValueError):
    """Invalid configuration; the message names the source and the key.

    `keys` lists the dotted keys a cross-field check involved, so `load_config` can
    tell whether the file or an environment variable set the offending value.
    """

    def __init__(self, message: str, keys: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.keys = keys


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "mlx" (in-process) or "openai" (any OpenAI-compatible server)
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: float = 60.0


#: An endpoint's identity: (kind, base_url without a trailing slash, lower-cased, model).
EndpointKey = tuple[str, str, str]


def endpoint_key(endpoint: Endpoint) -> EndpointKey:
    """What makes two endpoints the same one: the config rejects a chain listing one
    twice (a fallback cycle) and the router keys cooldowns by it (stored, so changing
    it forgets every stored cooldown)."""
    return endpoint.kind, (endpoint.base_url or "").rstrip("/").lower(), endpoint.model


@dataclass(frozen=True)
class Tier:
    number: int
    name: str
    paid: bool
    endpoints: tuple[Endpoint, ...]


@dataclass(frozen=True)
class LocalSettings:
    max_tokens: int = 200
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.3
    prompt_format: str = "auto"  # auto | transcript | chat_template
    openblas: bool = True


@dataclass(frozen=True)
class BudgetThresholds:
    """Percent of a session's budget at which it warns, forces compression, halts."""

    warn_percent: int = 80
    compress_percent: int = 90
    halt_percent: int = 100


@dataclass(frozen=True)
class CompressionSettings:
    """When the context sent to a model is compacted, and how (defaults from the plan)."""

    summarize_over_tokens: int = 50_000
    compress_over_turns: int = 20
    reference_over_tokens: int = 5_000
    keep_last: int = 6
    summarizer: str = "extractive"  # extractive | llm (falls back to extractive)
    summarizer_max_tokens: int = 512


@dataclass(frozen=True)
class SkillSettings:
    """Lazy skills: where they come from and how many a request may load."""

    enabled: bool = True
    dirs: tuple[Path, ...] = ()  # extra folders (e.g. ~/.claude/skills), after the user's
    threshold: float = 1.2
    max_per_request: int = 3
    allowance_tokens: int = 2_000


@dataclass(frozen=True)
class QuotaSettings:
    """The free hosted tiers' per-account request limits (OpenRouter ":free": 20 a
    minute, 50 a day, 1,000 a day after buying credits) and how many of the day's last
    requests are kept for hard requests (core/routing/quota.py)."""

    free_per_minute: int = 20
    free_per_day: int = 50
    reserve_for_hard: int = 10


@dataclass(frozen=True)
class CacheSettings:
    """The result cache (core/cache): on or off, and how long each TTL class keeps an
    answer (analysis-like answers a day, market-like ones, e.g. prices, an hour)."""

    enabled: bool = True
    analysis_ttl_s: int = 86_400
    market_ttl_s: int = 3_600
    #: Ask hosted tiers to answer a cacheable request from their own response cache
    #: (OpenRouter's `X-OpenRouter-Cache: true`: a repeat is served at 0 tokens, $0).
    provider_response_cache: bool = False


@dataclass(frozen=True)
class ConciergeSettings:
    """The concierge (core/concierge): the days a skill may go unloaded before it is a
    deprecation candidate (also the report's window), and the fewest requests that make
    a recurring need."""

    unused_days: int = 30
    min_group: int = 3


@dataclass(frozen=True)
class SwarmSettings:
    """The Explorer → Worker → Validator cycle (core/swarm): the envelope it reserves out
    of the parent session's budget (refused below `floor_tokens`), each role's share of
    it, each role's reply cap, the retries allowed, the tier each role is pinned to (0:
    chosen by the cycle) and when consecutive outputs count as a stall."""

    reserve_tokens: int = 9_000
    floor_tokens: int = 1_500
    explorer_share: float = 0.30
    worker_share: float = 0.45
    validator_share: float = 0.25
    explorer_max_tokens: int = 400
    worker_max_tokens: int = 800
    validator_max_tokens: int = 120
    max_retries: int = 2
    explorer_tier: int = 0
    worker_tier: int = 0
    validator_tier: int = 0
    stall_ratio: float = 0.9


#: The classifier's task types (core.routing.classify.TaskType): what an agent's fit is keyed by.
AGENT_TASK_TYPES: tuple[str, ...] = ("chat", "code", "analysis", "research", "ops")


@dataclass(frozen=True)
class AgentSpec:
    """An agent (`[[agents]]`): its system prompt, the tiers it prefers, its skill tags and
    how well it fits each task type (0..1; a type it lacks is 0: never drawn for it)."""

    name: str
    system_prompt: str
    preferred_tiers: tuple[int, ...] = ()
    skill_tags: tuple[str, ...] = ()
    fit: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    source: str = "defaults"
    tiers: tuple[Tier, ...] = ()
    paid_enabled: bool = False
    daily_cap_usd: float = 0.50
    max_tokens: int = 1024
    #: Wall-clock limit of one request over every tier it tries (model preparation not
    #: counted); 0 turns it off. A server that drips tokens forever is cut here.
    request_timeout_s: float = 600.0
    budgets: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    local: LocalSettings = field(default_factory=LocalSettings)
    thresholds: BudgetThresholds = field(default_factory=BudgetThresholds)
    compression: CompressionSettings = field(default_factory=CompressionSettings)
    skills: SkillSettings = field(default_factory=SkillSettings)
    quota: QuotaSettings = field(default_factory=QuotaSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    swarm: SwarmSettings = field(default_factory=SwarmSettings)
    concierge: ConciergeSettings = field(default_factory=ConciergeSettings)
    db_path: Path | None = None
    theme: str = "tokenopt-dark"
    #: $ per million tokens (input, output) for models whose server reports no cost.
    prices: Mapping[str, tuple[float, ...]] = field(
        default_factory=lambda: {"moonshotai/kimi-k2": (0.57, 2.30)})
    #: Agents chosen by pheromone per request (`agents_enabled = true`); off by default.
    agents_enabled: bool = False
    agents: tuple[AgentSpec, ...] = field(default_factory=lambda: _agents(default_agents()))

    def tier(self, number: int) -> Tier:
        for tier in self.tiers:
            if tier.number == number:
                return tier
        raise KeyError(number)


def default_tiers() -> list[dict[str, Any]]:
    """The plan's chain: local first, free hosted next, paid last."""

    def openrouter(model: str) -> dict[str, Any]:
        return {"kind": "openai", "base_url": OPENROUTER_URL, "model": model,
                "api_key_env": "OPENROUTER_API_KEY"}

    return [
        {"name": "local", "paid": False, "endpoints": [{"kind": "mlx", "model": EMBEDDED}]},
        {"name": "trinity", "paid": False,
         "endpoints": [openrouter("arcee-ai/trinity-mini:free")]},
        {"name": "qwen3-coder", "paid": False,
         "endpoints": [openrouter("qwen/qwen3-coder:free"),
                       openrouter("tngtech/deepseek-r1t2-chimera:free")]},
        {"name": "kimi", "paid": True, "endpoints": [openrouter("moonshotai/kimi-k2")]},
    ]


def default_agents() -> list[dict[str, Any]]:
    """The plan's four agents (phase 2); `[[agents]]` in the config replaces them all."""
    return [
        {"name": "devops", "preferred_tiers": [1, 3], "skill_tags": ["ops", "shell"],
         "fit": {"ops": 1.0, "code": 0.5, "analysis": 0.2, "research": 0.1, "chat": 0.1},
         "system_prompt": "You are a careful DevOps engineer. Give exact commands and "
                          "config, say what each changes and how to undo it; never guess "
                          "at paths or flags."},
        {"name": "analyst", "preferred_tiers": [2, 3], "skill_tags": ["analysis", "data"],
         "fit": {"analysis": 1.0, "research": 0.8, "code": 0.2, "ops": 0.2, "chat": 0.2},
         "system_prompt": "You are an analyst. Separate facts from assumptions, compare "
                          "options with their trade-offs, and end with a short conclusion."},
        {"name": "creator", "preferred_tiers": [1, 2], "skill_tags": ["writing", "code"],
         "fit": {"chat": 0.9, "code": 0.8, "research": 0.3, "analysis": 0.2, "ops": 0.1},
         "system_prompt": "You are a concise writer and programmer. Answer directly; "
                          "write clear prose and working code in the user's style."},
        {"name": "memory", "preferred_tiers": [1], "skill_tags": ["recall", "notes"],
         "fit": {"chat": 0.4, "research": 0.5, "analysis": 0.2, "code": 0.1, "ops": 0.1},
         "system_prompt": "You keep track of what was said in past sessions and notes. "
                          "Recall the relevant facts first, say where they came from, and "
                          "say plainly when you do not know."},
    ]


def plan_tiers() -> tuple[Tier, ...]:
    """The plan's chain as tiers (what `tokenopt bench` measures, whatever the config)."""
    return _tiers(default_tiers())


# --- validation -------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def check_int(lo: int, hi: int) -> Check:
    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"key '{key}': expected an integer, got {value!r}")
        if not lo <= value <= hi:
            raise ConfigError(f"key '{key}': {value} is out of range ({lo}..{hi})")
        return value
    return check


def check_number(lo: float, hi: float) -> Check:
    def check(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"key '{key}': expected a number, got {value!r}")
        if not lo <= value <= hi:
            raise ConfigError(f"key '{key}': {value} is out of range ({lo}..{hi})")
        return float(value)
    return check


def check_bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"key '{key}': expected true or false, got {value!r}")
    return value


def check_text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"key '{key}': expected a non-empty string, got {value!r}")
    return value


def check_paths(value: Any, key: str) -> tuple[Path, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"key '{key}': expected a list of folder paths, got {value!r}")
    return tuple(Path(v).expanduser() for v in value)


def _choice(*options: str) -> Check:
    def check(value: Any, key: str) -> str:
        if value not in options:
            raise ConfigError(f"key '{key}': expected one of {', '.join(options)}, got {value!r}")
        return str(value)  # one of `options`, all strings
    return check


SCHEMA: dict[str, Any] = {
    "max_tokens": check_int(1, 200_000),
    "request_timeout_s": check_number(0, 86_400),
    "theme": check_text,
    "paid": {"enabled": check_bool, "daily_cap_usd": check_number(0, 1_000)},
    "budgets": {name: check_int(100, 10_000_000) for name in SESSION_TYPES},
    "local": {
        "model": check_text,
        "max_tokens": check_int(1, 32_768),
        "temperature": check_number(0, 2),
        "top_p": check_number(0, 1),
        "repetition_penalty": check_number(1, 3),
        "prompt_format": _choice("auto", "transcript", "chat_template"),
        "openblas": check_bool,
    },
    "thresholds": {
        "warn_percent": check_int(1, 100),
        "compress_percent": check_int(1, 100),
        "halt_percent": check_int(1, 1_000),
    },
    "compression": {
        "summarize_over_tokens": check_int(500, 10_000_000),
        "compress_over_turns": check_int(2, 10_000),
        "reference_over_tokens": check_int(100, 10_000_000),
        "keep_last": check_int(2, 200),
        "summarizer": _choice("extractive", "llm"),
        "summarizer_max_tokens": check_int(16, 32_768),
    },
    "skills": {
        "enabled": check_bool,
        "dirs": check_paths,
        "threshold": check_number(0, 100),
        "max_per_request": check_int(0, 50),
        "allowance_tokens": check_int(0, 1_000_000),
    },
    "quota": {
        "free_per_minute": check_int(1, 100_000),
        "free_per_day": check_int(1, 1_000_000),
        "reserve_for_hard": check_int(0, 1_000_000),
    },
    "cache": {
        "enabled": check_bool,
        "analysis_ttl_s": check_int(1, 31_536_000),
        "market_ttl_s": check_int(1, 31_536_000),
        "provider_response_cache": check_bool,
    },
    "swarm": {
        "reserve_tokens": check_int(100, 10_000_000),
        "floor_tokens": check_int(1, 10_000_000),
        "explorer_share": check_number(0.01, 1),
        "worker_share": check_number(0.01, 1),
        "validator_share": check_number(0.01, 1),
        "explorer_max_tokens": check_int(1, 200_000),
        "worker_max_tokens": check_int(1, 200_000),
        "validator_max_tokens": check_int(1, 200_000),
        "max_retries": check_int(0, 20),
        "explorer_tier": check_int(0, 100),
        "worker_tier": check_int(0, 100),
        "validator_tier": check_int(0, 100),
        "stall_ratio": check_number(0.5, 1),
    },
    "concierge": {
        "unused_days": check_int(1, 3_650),
        "min_group": check_int(2, 1_000),
    },
    "paths": {"db": check_text},
    "agents_enabled": check_bool,
    "agents": None,  # validated by _agents
    "tiers": None,  # validated by _tiers
    "prices": None,  # validated by _prices
    "local_servers": None,  # validated by _local_servers
}
ENDPOINT_SCHEMA: dict[str, Check] = {
    "kind": _choice("mlx", "openai"),
    "model": check_text,
    "base_url": check_text,
    "api_key_env": check_text,
    "timeout_s": check_number(0.1, 3_600),
}


def _walk(data: Mapping[str, Any], schema: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            raise ConfigError(f"unknown key '{dotted}'")
        rule = schema[key]
        if rule is None:
            out[key] = value
        elif isinstance(rule, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"key '{dotted}': expected a table")
            out[key] = _walk(value, rule, dotted + ".")
        else:
            out[key] = rule(value, dotted)
    return out


def _endpoint(raw: Any, key: str) -> Endpoint:
    if not isinstance(raw, dict):
        raise ConfigError(f"key '{key}': expected a table")
    values = _walk(raw, ENDPOINT_SCHEMA, key + ".")
    for required in ("kind", "model"):
        if required not in values:
            raise ConfigError(f"key '{key}.{required}' is required")
    if values["kind"] == "openai" and "base_url" not in values:
        raise ConfigError(f"key '{key}.base_url' is required for an openai endpoint")
    return Endpoint(**values)


def _tiers(raw: Any) -> tuple[Tier, ...]:
    try:
        return _parse_tiers(raw)
    except ConfigError as exc:
        raise ConfigError(str(exc), ("tiers",)) from None


def _parse_tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("key 'tiers': expected a non-empty array of tables ([[tiers]])")
    tiers = []
    for index, item in enumerate(raw):
        key = f"tiers[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"key '{key}': expected a table")
        unknown = set(item) - {"name", "paid", "endpoints"}
        if unknown:
            raise ConfigError(f"unknown key '{key}.{sorted(unknown)[0]}'")
        name = check_text(item.get("name"), f"{key}.name")
        paid = check_bool(item.get("paid", False), f"{key}.paid")
        endpoints = item.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints:
            raise ConfigError(f"key '{key}.endpoints': expected a non-empty array of tables")
        parsed = tuple(_endpoint(e, f"{key}.endpoints[{i}]") for i, e in enumerate(endpoints))
        tiers.append(Tier(index + 1, name, paid, parsed))
    return tuple(tiers)


def _agents(raw: Any) -> tuple[AgentSpec, ...]:
    """`[[agents]]`: each with a unique name, a system prompt and a fit per task type."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError("key 'agents': expected a non-empty array of tables ([[agents]])",
                          ("agents",))
    agents: list[AgentSpec] = []
    for index, item in enumerate(raw):
        key = f"agents[{index}]"
        try:
            agents.append(_agent(item, key, {a.name for a in agents}))
        except ConfigError as exc:
            raise ConfigError(str(exc), ("agents",)) from None
    return tuple(agents)


def _agent(item: Any, key: str, taken: set[str]) -> AgentSpec:
    if not isinstance(item, dict):
        raise ConfigError(f"key '{key}': expected a table")
    unknown = set(item) - {"name", "system_prompt", "preferred_tiers", "skill_tags", "fit"}
    if unknown:
        raise ConfigError(f"unknown key '{key}.{sorted(unknown)[0]}'")
    name = check_text(item.get("name"), f"{key}.name")
    if name in taken:
        raise ConfigError(f"key '{key}.name': {name!r} is already an agent's name")
    prompt = check_text(item.get("system_prompt"), f"{key}.system_prompt")
    tiers = item.get("preferred_tiers", [])
    if not isinstance(tiers, list):
        raise ConfigError(f"key '{key}.preferred_tiers': expected a list of tier numbers")
    tier_numbers = tuple(check_int(1, 99)(t, f"{key}.preferred_tiers[{i}]")
                         for i, t in enumerate(tiers))
    tags = item.get("skill_tags", [])
    if not isinstance(tags, list):
        raise ConfigError(f"key '{key}.skill_tags': expected a list of strings")
    tag_names = tuple(check_text(t, f"{key}.skill_tags[{i}]") for i, t in enumerate(tags))
    fit = item.get("fit")
    if not isinstance(fit, dict) or not fit:
        raise ConfigError(f"key '{key}.fit': expected a table of task type = weight (0..1)")
    for task_type in fit:
        if task_type not in AGENT_TASK_TYPES:
            raise ConfigError(f"unknown key '{key}.fit.{task_type}' (task types: "
                              f"{', '.join(AGENT_TASK_TYPES)})")
    weights = {t: check_number(0, 1)(w, f"{key}.fit.{t}") for t, w in fit.items()}
    return AgentSpec(name, prompt, tier_numbers, tag_names, MappingProxyType(weights))


def _is_paid_openrouter(endpoint: Endpoint) -> bool:
    return (endpoint.kind == "openai" and "openrouter" in (endpoint.base_url or "").lower()
            and not endpoint.model.endswith(":free"))


def _local_servers(raw: Any, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """`[[local_servers]]` (base_url, model): extra endpoints at the end of tier 1.

    Tier 1's own endpoints stay first, so the configured model remains the default
    and a local server is its fallback. An entry already in the chain is skipped,
    so accepting a server that is also configured by hand never breaks the config.
    """
    if not isinstance(raw, list):
        raise ConfigError("key 'local_servers': expected an array of tables "
                          "([[local_servers]] with base_url and model)", ("local_servers",))
    first = tiers[0]
    seen = {endpoint_key(e) for tier in tiers for e in tier.endpoints}
    added = []
    for index, item in enumerate(raw):
        key = f"local_servers[{index}]"
        try:
            if not isinstance(item, dict):
                raise ConfigError(f"key '{key}': expected a table")
            if "kind" in item:
                raise ConfigError(f"unknown key '{key}.kind' (a local server is always an "
                                  "OpenAI-compatible endpoint)")
            endpoint = _endpoint({"kind": "openai", **item}, key)
            if not first.paid and _is_paid_openrouter(endpoint):
                raise ConfigError(f"key '{key}.model': {endpoint.model!r} is a paid model; "
                                  "local servers join the free tier 1")
        except ConfigError as exc:
            raise ConfigError(str(exc), ("local_servers",)) from None
        if endpoint_key(endpoint) not in seen:
            seen.add(endpoint_key(endpoint))
            added.append(endpoint)
    if not added:
        return tiers
    return (replace(first, endpoints=(*first.endpoints, *added)), *tiers[1:])


def _prices(raw: Any) -> dict[str, tuple[float, ...]]:
    """`[prices]` maps a model id to [input, output] or [input, output, cached input]
    dollars per million tokens."""
    if not isinstance(raw, dict):
        raise ConfigError("key 'prices': expected a table of model = [input, output]",
                          ("prices",))
    prices = {}
    for model, pair in raw.items():
        key = f'prices."{model}"'
        if (not isinstance(pair, list) or len(pair) not in (2, 3)
                or not all(isinstance(p, int | float) and not isinstance(p, bool) and p >= 0
                           for p in pair)):
            raise ConfigError(f"key '{key}': expected [input, output] or [input, output, "
                              f"cached input] dollars per million tokens (numbers >= 0), "
                              f"got {pair!r}", ("prices",))
        prices[model] = tuple(float(p) for p in pair)
    return prices


def _env_overrides(env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """`TOKENOPT__LOCAL__MAX_TOKENS=64` becomes {'local': {'max_tokens': 64}}."""
    found = []
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word is a string
        tree: dict[str, Any] = {parts[-1]: value}
        for part in reversed(parts[:-1]):
            tree = {part: tree}
        found.append((name, tree))
    return found


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _build(data: dict[str, Any], source: str) -> Config:
    local = dict(data.get("local", {}))
    model = local.pop("model", EMBEDDED)
    tiers = _tiers(data.get("tiers", default_tiers()))
    # `local.model` is the shortcut for pointing tier 1 at another MLX model.
    if model != EMBEDDED and tiers[0].endpoints[0].kind == "mlx":
        first = tiers[0]
        endpoints = (Endpoint("mlx", model), *first.endpoints[1:])
        tiers = (Tier(first.number, first.name, first.paid, endpoints), *tiers[1:])
    if "local_servers" in data:
        tiers = _local_servers(data["local_servers"], tiers)
    paid = data.get("paid", {})
    db = data.get("paths", {}).get("db")
    # Only the keys the file or the environment set are passed: every default is the
    # dataclasses' own, written once.
    plain: dict[str, Any] = {key: data[key] for key in _PLAIN_KEYS if key in data}
    plain.update({name: paid[key] for key, name in _PAID_FIELDS.items() if key in paid})
    config = Config(
        source=source,
        tiers=tiers,
        budgets={**DEFAULT_BUDGETS, **data.get("budgets", {})},
        local=LocalSettings(**local),
        thresholds=_thresholds(data.get("thresholds", {})),
        compression=_compression(data.get("compression", {})),
        skills=SkillSettings(**data.get("skills", {})),
        quota=_quota(data.get("quota", {})),
        cache=CacheSettings(**data.get("cache", {})),
        swarm=_swarm(data.get("swarm", {})),
        concierge=ConciergeSettings(**data.get("concierge", {})),
        db_path=Path(db).expanduser() if db else None,
        **plain,
    )
    if "prices" in data:
        config = replace(config, prices={**config.prices, **_prices(data["prices"])})
    if "agents" in data:
        config = replace(config, agents=_agents(data["agents"]))
    validate_chain(config)
    return config


def _thresholds(values: Mapping[str, int]) -> BudgetThresholds:
    """Each threshold must come after the one before: warn < compress <= halt."""
    thresholds = BudgetThresholds(**values)
    if thresholds.warn_percent >= thresholds.compress_percent:
        raise ConfigError(f"key 'thresholds.warn_percent': {thresholds.warn_percent} must be "
                          f"below 'thresholds.compress_percent' ({thresholds.compress_percent})",
                          ("thresholds.warn_percent", "thresholds.compress_percent"))
    if thresholds.compress_percent > thresholds.halt_percent:
        raise ConfigError(f"key 'thresholds.compress_percent': {thresholds.compress_percent} "
                          f"must not exceed 'thresholds.halt_percent' "
                          f"({thresholds.halt_percent})",
                          ("thresholds.compress_percent", "thresholds.halt_percent"))
    return thresholds


def _compression(values: Mapping[str, Any]) -> CompressionSettings:
    settings = CompressionSettings(**values)
    if settings.keep_last >= 2 * settings.compress_over_turns:
        raise ConfigError(f"key 'compression.keep_last': {settings.keep_last} messages would "
                          f"keep every turn of 'compression.compress_over_turns' "
                          f"({settings.compress_over_turns}); use fewer than "
                          f"{2 * settings.compress_over_turns}",
                          ("compression.keep_last", "compression.compress_over_turns"))
    return settings


def _swarm(values: Mapping[str, Any]) -> SwarmSettings:
    """The three shares split one envelope: they must add up to 1."""
    swarm = SwarmSettings(**values)
    total = swarm.explorer_share + swarm.worker_share + swarm.validator_share
    if abs(total - 1.0) > 0.001:
        keys = ("swarm.explorer_share", "swarm.worker_share", "swarm.validator_share")
        raise ConfigError(f"keys {', '.join(repr(k) for k in keys)}: the shares add up to "
                          f"{total:g}, not 1", keys)
    return swarm


def _quota(values: Mapping[str, int]) -> QuotaSettings:
    """The reserve must leave some of the day's free requests to easy ones."""
    quota = QuotaSettings(**values)
    if quota.reserve_for_hard >= quota.free_per_day:
        raise ConfigError(f"key 'quota.reserve_for_hard': {quota.reserve_for_hard} must be "
                          f"below 'quota.free_per_day' ({quota.free_per_day})",
                          ("quota.reserve_for_hard", "quota.free_per_day"))
    return quota


def validate_chain(config: Config) -> None:
    """Reject a paid OpenRouter model inside a free tier and endpoints listed twice.

    A duplicate is how a fallback cycle would arise; a paid id in a free tier would
    bill a request the user believes free. Keys use the config file's indexing.
    """
    seen: dict[EndpointKey, str] = {}
    for i, tier in enumerate(config.tiers):
        for j, endpoint in enumerate(tier.endpoints):
            key = f"tiers[{i}].endpoints[{j}]"
            if not tier.paid and _is_paid_openrouter(endpoint):
                raise ConfigError(
                    f"key '{key}.model': {endpoint.model!r} is a paid model inside a free tier "
                    f"('tiers[{i}].paid' is false); use its ':free' id or mark the tier paid",
                    ("tiers",))
            ident = endpoint_key(endpoint)
            if ident in seen:
                raise ConfigError(
                    f"key '{key}': same endpoint as '{seen[ident]}' ({endpoint.model} at "
                    f"{endpoint.base_url or endpoint.kind}); each endpoint may appear once "
                    "in the chain", ("tiers",))
            seen[ident] = key


def read_toml(path: Any, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """Parse a TOML file (a Path or a package resource); `error` names the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read: {exc}") from None


def load_config(paths: Paths | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if any), apply environment overrides, validate.

    An error names where the bad value came from: the file, or the environment
    variable that set it (cross-field checks included).
    """
    env = os.environ if env is None else env
    paths = paths or Paths.from_env(dict(env))
    file = paths.config_file
    if paths.config_from_env and not file.is_file():
        what = "is a folder, not a file" if file.is_dir() else "does not exist"
        raise ConfigError(f"environment variable TOKENOPT_CONFIG: {file} {what}")
    data: dict[str, Any] = {}
    if file.exists():
        raw = read_toml(file)
        try:
            data = _walk(raw, SCHEMA, "")
        except ConfigError as exc:
            raise ConfigError(f"{file}: {exc}") from None
    file_data = copy.deepcopy(data)
    overrides = []
    for var, tree in _env_overrides(env):
        try:
            walked = _walk(tree, SCHEMA, "")
        except ConfigError as exc:
            raise ConfigError(f"environment variable {var}: {exc}") from None
        _merge(data, copy.deepcopy(walked))
        overrides.append((var, walked))
    source = str(file) if file.exists() else "defaults"
    try:
        return _build(data, source)
    except ConfigError as exc:
        raise ConfigError(f"{_blame(exc, file, file_data, overrides)}: {exc}") from None


def _dotted(data: Mapping[str, Any], schema: Mapping[str, Any], prefix: str = "") -> set[str]:
    """The dotted keys a (validated) config tree sets: {'thresholds.warn_percent', …}."""
    keys = set()
    for key, value in data.items():
        rule = schema.get(key)
        if isinstance(rule, dict) and isinstance(value, dict):
            keys |= _dotted(value, rule, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def _involves(set_keys: set[str], error_keys: tuple[str, ...]) -> bool:
    """Whether a source that set `set_keys` set a key the error is about."""
    return any(e == s or e.startswith((s + ".", s + "[")) for s in set_keys for e in error_keys)


def _builds(data: dict[str, Any]) -> bool:
    try:
        _build(copy.deepcopy(data), "check")
    except ConfigError:
        return False
    return True


def _blame(exc: ConfigError, file: Path, file_data: dict[str, Any],
           overrides: list[tuple[str, dict[str, Any]]]) -> str:
    """Name the source of a value rejected by a cross-field check in `_build`.

    The environment variables that set a key the check involved are named. When the
    check names no key they set (e.g. `TOKENOPT__LOCAL__MODEL` rewriting tier 1 into a
    duplicate endpoint) but the file alone builds, the variables that break it on
    their own are named, or all of them if only together they do.
    """
    culprits = [var for var, tree in overrides
                if _involves(_dotted(tree, SCHEMA), exc.keys)]
    if not culprits and overrides and _builds(file_data):
        for var, tree in overrides:
            alone = copy.deepcopy(file_data)
            _merge(alone, copy.deepcopy(tree))
            if not _builds(alone):
                culprits.append(var)
        culprits = culprits or [var for var, _tree in overrides]
    if not culprits:
        return str(file)
    where = ("environment variable " if len(culprits) == 1 else "environment variables ")
    where += ", ".join(culprits)
    if file.exists() and _involves(_dotted(file_data, SCHEMA), exc.keys):
        where += f" (with {file})"
    return where
