"""Write a realistic tokenopt history database: many sessions, messages and their accounting.

For the history, search and dashboard benchmarks (bench_history.py), which need a
database the size of a heavy user's, not a test's. The file is first created and
migrated by `Store.open`, so the schema, indexes and FTS5 triggers are the real ones;
then every row is written with `executemany` inside one transaction (the triggers fill
the full-text index as the messages go in, as they do in the app).

What goes in (seeded: the same arguments give the same rows; only the times move with
today's date):

  sessions      N (default 10,000), ids in order of `created_at`, spread over the last
                90 days; a type (mostly direct_chat, some cron_job and sub_agent), a
                topic (ops, analysis or writing), the title the app gives (the first
                request's first 60 characters), tokens_used and cost_usd summed over
                the session's model calls, status ended, halted (over the type's
                default budget) or active (the newest few).
  messages      M (default 200,000) in user/assistant turns; one session holds exactly
                2,000 of them, the others a skewed share (most short, a few long).
                Text is composed from a few hundred words and sentence templates about
                ops, analysis and writing (services, metrics, errors, people, customers,
                code names, ticket numbers), with word choices skewed as in real text,
                so a search for a common word matches most sessions and one for a code
                name a handful. Replies are longer than requests and sometimes carry a
                list or a code block. Rows of all sessions interleave in time order.
  model_calls   one per assistant message (tiers 1-3 free; tier 4, the paid one, some
                7 % of calls, priced as the config's default [prices]), task_type from
                the topic; plus a failed attempt before some replies and an LLM summary
                call for some compactions.
  events        what the app persists: SessionStarted, per reply TierChosen,
                UsageRecorded and ReplyCompleted (without the reply's text, which the
                app stores once, in messages), TierFailed / PaidEscalated where they
                apply, BudgetWarned at 80 % and 90 % of the type's budget,
                ContextCompacted every 20 turns (JSON with tokens_before /
                tokens_after), SkillLoaded and SessionHalted.
  skill_invocations  for some requests, 1-2 of the bundled skills' names (skills/).

Not reproduced: the app also rewrites a reply while it streams (an FTS delete and insert
per flush), which leaves the index in more, smaller segments until FTS5's automerge
folds them; here each message is indexed once.

    .venv/bin/python benchmarks/gen_history.py OUT.db [--sessions N --messages M --seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from tokenopt_tui.config import Config, default_tiers  # noqa: E402
from tokenopt_tui.core.providers.model_prep import EMBEDDED_MODEL_NAME  # noqa: E402
from tokenopt_tui.store import Store  # noqa: E402

BIG_SESSION = 2_000
DAYS = 90
TURNS_PER_COMPACTION = 20  # CompressionSettings.compress_over_turns
KEEP_LAST = 6

# -- vocabulary ---------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


# Each list is most-used first: `pool` repeats the head more than the tail.

SERVICES = words(
    "payments-api billing-worker auth-gateway search-indexer export-job checkout-web "
    "notification-service user-profile invoice-sync reporting-api ledger-service webhook-relay "
    "image-resizer session-store feature-flags email-sender inventory-api pricing-engine "
    "fraud-scorer audit-log")
ENVS = words("production staging canary eu-west us-east ap-south")
TOOLS = words(
    "kubectl grafana postgres redis terraform kafka prometheus sentry airflow dbt pandas bigquery "
    "helm nginx pgbouncer vault argocd elasticsearch jupyter looker")
METRICS = ["p99 latency", "error rate", "CPU usage", "memory", "queue depth", "disk usage",
           "connection count", "throughput", "5xx rate", "replication lag", "GC pauses",
           "cache hit ratio", "open file handles", "consumer lag"]
ERRORS = ["connection pool exhausted", "timeout after 30 s", "OOMKilled",
          "deadlock detected", "TLS handshake failed", "HTTP 502 from upstream",
          "disk quota exceeded", "certificate expired", "too many open files",
          "segmentation fault", "KeyError: 'customer_id'", "permission denied",
          "readiness probe failed", "rate limited by the provider", "schema mismatch",
          "checksum mismatch", "DNS resolution failed", "lock wait timeout"]
OPS_VERBS = ["rolled back", "restarted", "scaled up", "drained", "patched", "redeployed",
             "paused", "throttled", "failed over", "resized", "cordoned", "rotated the keys of"]
KPIS = ["churn", "retention", "conversion", "activation", "revenue", "ARPU", "LTV", "NPS",
        "MRR", "trial starts", "refunds", "basket size", "session length", "signups"]
DIMENSIONS = ["cohort", "region", "plan tier", "acquisition channel", "device", "signup month",
              "country", "company size", "pricing page variant", "referral source"]
METHODS = ["a t-test", "a chi-squared test", "bootstrap intervals", "a logistic regression",
           "a cohort table", "a funnel breakdown", "a moving average", "a difference in "
           "differences", "a survival curve", "quantile regression", "a pivot table"]
DOCS = ["launch post", "release notes", "onboarding email", "landing page", "newsletter",
        "press release", "case study", "FAQ", "changelog", "webinar invite", "job posting",
        "product brief", "help article", "investor update", "blog outline", "tweet thread"]
TONES = ["concise", "friendly", "formal", "punchy", "warm", "plain", "confident", "playful",
         "neutral", "upbeat", "direct", "technical"]
AUDIENCES = ["developers", "finance teams", "new customers", "enterprise buyers",
             "the sales team", "existing users", "partners", "journalists", "students",
             "small businesses", "engineering managers", "analysts"]
TOPICS = ["pricing", "the new dashboard", "the migration", "security", "reliability",
          "the API", "onboarding", "the mobile app", "data export", "single sign-on",
          "the free tier", "billing", "performance", "integrations", "the roadmap"]
TEAMS = ["platform", "data", "growth", "security", "billing", "support", "marketing",
         "mobile", "infra", "finance", "sales", "design"]
DAYS_OF_WEEK = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
PEOPLE = words(
    "Priya Marco Lena Tomás Aisha Jonas Mei Oluwaseun Sven Camille Ravi Hana Diego Ingrid Kofi "
    "Yuki Mateo Anya Farid Greta Nikhil Sofia Bram Leila Tariq Elena Hugo Noor Pavel Chloe Emeka "
    "Astrid Joaquín Mira Dmitri Zanele Felix Ines Kwame Saoirse Arjun Beatriz Lars Amara Rafael "
    "Hilde Kenji Paloma Viktor Rosalind Idris Marta Bjorn Nadia Caspian Oksana Thiago Wren Mehmet "
    "Ottilie")
CUSTOMERS = words(
    "Acme Globex Initech Umbrella Hooli Vandelay Wayfarer Northwind Contoso Tyrell Cyberdyne "
    "Soylent Stark Wonka Gringotts Monarch Aperture Oscorp Massive Piper Prestige Sirius Veridian "
    "Zenith Halcyon Lumina Borealis Quantica Argent Solace Meridian Fjordline Cobalt Tessellate "
    "Brightwater Juniper Redwood Sable Tundra Kinetic Orchard Harbor Granite Ember Lattice Nimbus "
    "Osprey Polaris Quarry Riverbend Summit Trellis Upland Verdant Willow Yarrow")
# Code names of projects and incidents: each turns up in a handful of messages.
CODENAMES = words(
    "kestrel ptarmigan tanager obsidian feldspar andesite vega altair marigold wisteria cormorant "
    "basalt heliotrope nightjar quetzal larkspur kingfisher tamarack saffron juniperus meerkat "
    "ocelot pangolin narwhal axolotl chinchilla bittern plover curlew dunlin godwit whimbrel "
    "sandpiper avocet gannet petrel fulmar shearwater skua tern grebe merganser goldeneye "
    "bufflehead scaup eider garganey shoveler pintail wigeon teal gadwall smew pochard canvasback "
    "redhead cinnabar malachite azurite rhodonite lapis jasper agate onyx peridot spinel "
    "tourmaline zircon beryl chrysoberyl topaz garnet olivine galena pyrite bauxite cassiterite "
    "wolframite scheelite fluorite barite calcite dolomite gypsum halite sylvite kyanite "
    "sillimanite staurolite cordierite epidote vesuvianite antares betelgeuse rigel deneb capella "
    "arcturus aldebaran procyon pollux castor regulus spica fomalhaut achernar canopus mirach "
    "alnilam bellatrix mintaka saiph alioth dubhe merak phecda megrez alkaid mizar thuban kochab "
    "schedar caph ruchbah navi segin hamal sheratan mesarthim almach mirfak algol elnath alhena "
    "wasat mebsuta tejat propus alphard zosma denebola chertan vindemiatrix porrima zaniah heze "
    "syrma zubenelgenubi zubeneschamali")

COMMON = {
    "svc": SERVICES, "env": ENVS, "tool": TOOLS, "metric": METRICS, "err": ERRORS,
    "opverb": OPS_VERBS, "kpi": KPIS, "dim": DIMENSIONS, "method": METHODS, "doc": DOCS,
    "tone": TONES, "aud": AUDIENCES, "topic": TOPICS, "team": TEAMS, "dow": DAYS_OF_WEEK,
    "who": PEOPLE, "cust": CUSTOMERS,
}

TEMPLATES = {
    "ops": {
        "ask": [
            "Why does {svc} keep returning errors in {env} since the last deploy?",
            "The {metric} of {svc} doubled after {time}; what changed?",
            "{who} says {svc} is failing with {err}. Where do I start?",
            "Can you check the {tool} dashboard for {svc} and tell me if {metric} looks off?",
            "Write a runbook step for when {svc} hits {err}.",
            "We {opverb} {svc} in {env} but the {metric} is still climbing.",
            "How do I safely drain the nodes behind {svc} before the {dow} maintenance?",
            "Is it safe to bump the replicas of {svc} from {n} to {n2}?",
            "Summarise incident {ticket} for the {team} team.",
            "Draft the postmortem timeline for {ticket}: {svc}, {err}, about {n} minutes.",
            "Give me a {tool} command to see why {svc} pods restart.",
            "Project {code} needs {svc} moved to {env}; what is the rollout plan?",
            "The nightly job on {svc} failed again with {err}.",
            "Compare the {metric} of {svc} between {env} and {env}.",
            "Alert fired: {metric} above {pct} on {svc}. Real or noise?",
        ],
        "say": [
            "The {err} errors on {svc} started at {time}, right after version {ver} went out.",
            "{metric} on {svc} is {pct} higher than last {dow}, so this is not just noise.",
            "The quickest fix is to roll back {svc} to {ver} and keep the change behind a flag.",
            "I would check the {tool} logs for {svc} first, then the {metric} panel.",
            "Each pod of {svc} holds {n} connections, and the pool allows {n2} in total.",
            "After the rollback the {metric} dropped from {pct} to {pct2} within {n} minutes.",
            "The {team} team owns {svc}; {who} is on call this week.",
            "This matches incident {ticket}, where {svc} failed with {err} for {n} minutes.",
            "Set the readiness probe of {svc} to wait {n} seconds before taking traffic.",
            "Scaling {svc} to {n2} replicas costs about {money} a month in {env}.",
            "The retry storm from {svc} made {metric} worse, so add jitter to the backoff.",
            "Keep the {code} rollout on canary until the {metric} stays flat for a day.",
            "The {tool} alert is right: {svc} has been over its error budget since {dow}.",
            "Drain one node at a time and watch {metric} on {svc} between each step.",
            "The root cause was {err} in {svc}, triggered by a config change in {env}.",
            "{who} already {opverb} {svc} in {env}, which bought us about {n} minutes.",
        ],
        "list": [
            "check {metric} on {svc}", "{opverb} {svc} in {env}", "page {who} if {err} returns",
            "open a ticket for the {team} team", "add an alert on {metric} above {pct}",
            "pin {svc} to {ver}", "watch the {tool} dashboard for {n} minutes",
        ],
        "code": [
            "kubectl -n {env} rollout undo deploy/{svc}",
            "kubectl -n {env} logs deploy/{svc} --since=30m | grep -i error",
            "kubectl -n {env} top pods -l app={svc}",
            "helm upgrade {svc} charts/{svc} --set replicas={n2}",
            "psql -c \"select state, count(*) from pg_stat_activity group by 1\"",
        ],
    },
    "analysis": {
        "ask": [
            "Why did {kpi} drop in {month} for the {dim} breakdown?",
            "Can you split {kpi} by {dim} and tell me what stands out?",
            "Is the {pct} lift in {kpi} from the pricing test significant?",
            "{who} thinks {kpi} fell because of {topic}. Does the data agree?",
            "Build a query for weekly {kpi} by {dim} over the last {n} weeks.",
            "What sample size do we need to detect a {pct} change in {kpi}?",
            "Forecast {kpi} for next quarter; {cust} churned last month.",
            "Compare {kpi} for {cust} and {cust} over the year.",
            "The {code} experiment ended on {dow}. Summarise the result.",
            "Explain this pivot: {kpi} by {dim} looks flat but revenue moved.",
            "Which {dim} drives most of the change in {kpi}?",
            "Clean up this spreadsheet of {kpi} per {dim}; the totals do not add up.",
        ],
        "say": [
            "{kpi} fell {pct} in {month}, and almost all of it comes from one {dim}.",
            "With {method} the lift in {kpi} is {pct} and the interval excludes zero.",
            "The drop in {kpi} lines up with the change to {topic} in {month}.",
            "Split by {dim}, the two largest groups move in opposite directions.",
            "I would use {method} here, because {kpi} is skewed by a few large accounts.",
            "{cust} alone accounts for {pct} of {kpi}, so report it with and without them.",
            "You need about {count} users per arm to detect a {pct} change in {kpi}.",
            "The forecast puts {kpi} at {count} next quarter, give or take {pct}.",
            "The totals differ because {n} rows have no {dim}; they fall out of the pivot.",
            "Week over week, {kpi} is noisy; a {n}-week moving average shows the trend.",
            "The {code} variant won on {kpi} but lost on refunds, so the net is close to zero.",
            "{who} is right that {topic} matters, but {dim} explains more of the variance.",
            "Seasonality explains most of it: {kpi} dips every {month}.",
            "Cohorts that started in {month} retain {pct} better than the year before.",
        ],
        "list": [
            "filter out test accounts", "group {kpi} by {dim}", "use {method}",
            "check {cust} separately", "compare with {month}", "plot a {n}-week average",
            "report the interval, not just the point estimate",
        ],
        "code": [
            "select date_trunc('week', created_at) as week, {dimcol}, count(*) from events "
            "group by 1, 2 order by 1",
            "df.groupby('{dimcol}')['{kpicol}'].agg(['mean', 'count']).sort_values('mean')",
            "select {dimcol}, avg({kpicol}) from accounts where plan <> 'test' group by 1",
        ],
    },
    "writing": {
        "ask": [
            "Write a {tone} {doc} about {topic} for {aud}.",
            "Make this {doc} shorter and more {tone}; it is for {aud}.",
            "Give me three headlines for the {doc} on {topic}.",
            "Edit the intro of the {doc}: {who} thinks it buries the news about {topic}.",
            "Draft the {doc} announcing {code}; keep it under {n} words.",
            "Rewrite this paragraph about {topic} so {aud} get it in one read.",
            "What should the {doc} for {cust} say about {topic}?",
            "Turn these notes from {who} into a {tone} {doc}.",
            "Proofread the {doc} and flag anything that sounds like marketing fluff.",
            "Suggest a call to action for the {doc} aimed at {aud}.",
            "Outline a {doc} on {topic} with {n} sections.",
        ],
        "say": [
            "Here is a {tone} draft of the {doc}, aimed at {aud} and focused on {topic}.",
            "I moved the news about {topic} into the first sentence and cut the warm-up.",
            "For {aud}, lead with what changes for them, then link to the details.",
            "The headline works better as a promise than a feature list.",
            "I cut the {doc} from {count} to {n2} words without losing the key points.",
            "A {tone} voice fits {aud}; the jargon about {topic} can go.",
            "{who} asked for a shorter version, so the second paragraph is now one line.",
            "The call to action should name one next step, not three.",
            "This version of the {doc} mentions {cust} by name, so check with them first.",
            "Project {code} gets its own section, with the date and who to contact.",
            "I kept the structure but replaced the passive sentences.",
            "The FAQ answers the three questions {aud} ask most about {topic}.",
        ],
        "list": [
            "lead with the news", "cut the jargon about {topic}", "one call to action",
            "keep it {tone}", "name {who} as the contact", "add a date", "link the {doc}",
        ],
        "code": [],
    },
}
OPENERS = {
    "ops": ["Short answer: it is the deploy.", "Here is what I found.", "Let's narrow it down.",
            "Good catch, this is worth a look.", "Here is a plan."],
    "analysis": ["Here is what the numbers say.", "Short version: it is real.",
                 "I ran the breakdown.", "Two things stand out.", "Here is the analysis."],
    "writing": ["Here is a draft.", "Sure, here it is.", "Here is a tighter version.",
                "A few edits below.", "Try this."],
}
CLOSERS = ["Want me to turn this into a ticket?", "Shall I write the summary for the channel?",
           "Tell me if you want a shorter version.", "I can draft the follow-up too.",
           "Let me know what you decide.", "Happy to go deeper on any of these."]
FOLLOW_UPS = ["Thanks, that worked.", "Shorter please.", "Can you expand on the second point?",
              "Good, now the next one.", "That is not quite it, try again.", "Perfect.",
              "And what about {svc}?", "Do the same for {cust}.", "Ok, what next?"]

MONTHS = words(
    "January February March April May June July August September October November December")
TASK_TYPES = {"ops": (("ops", 60), ("code", 25), ("chat", 15)),
              "analysis": (("analysis", 55), ("research", 20), ("code", 15), ("chat", 10)),
              "writing": (("chat", 55), ("research", 30), ("analysis", 15))}
SKILLS_FOR = {"ops": ("deploy incident logs metrics database backup cron health security"),
              "analysis": ("sql spreadsheet forecast experiments metrics marketdata research"),
              "writing": ("writing docs newsletter presentation social summarize notes")}
FAILURES = [("rate_limit", "HTTP 429: rate limited by the provider"),
            ("timeout", "no first token after 30 s"), ("server", "HTTP 502 from upstream"),
            ("connection", "connection reset by peer")]


def pool(items: list[str], steepness: float = 1.0, head: int = 24) -> list[str]:
    """`items` repeated so a uniform pick from the result follows a Zipf-like curve."""
    return [w for i, w in enumerate(items)
            for _ in range(max(1, round(head / (i + 1) ** steepness)))]


class Writer:
    """Composes requests, replies and titles from the templates with a seeded rng."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        pick = rng.choice
        pools = {key: pool(list(items)) for key, items in COMMON.items()}
        codenames = pool(CODENAMES, 1.3, 1_000)  # a steep tail: the last few are rare
        numbers: dict[str, Callable[[], str]] = {
            "n": lambda: str(rng.randint(2, 60)),
            "n2": lambda: str(rng.randint(60, 400)),
            "pct": lambda: f"{rng.uniform(0.5, 40):.1f}%",
            "pct2": lambda: f"{rng.uniform(0.01, 2):.2f}%",
            "count": lambda: f"{rng.randint(1_000, 90_000):,}",
            "money": lambda: f"${rng.randint(40, 4_000):,}",
            "ver": lambda: f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            "time": lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} UTC",
            "ticket": lambda: f"INC-{rng.randint(1_000, 99_999)}",
            "month": lambda: pick(MONTHS),
            "code": lambda: pick(codenames).capitalize(),
            "dimcol": lambda: pick(DIMENSIONS).replace(" ", "_"),
            "kpicol": lambda: pick(KPIS).lower().replace(" ", "_"),
        }

        class Fill(dict):
            def __missing__(self, key: str) -> str:
                make = numbers.get(key)
                return make() if make is not None else pick(pools[key])

        self.fill = Fill()

    def line(self, template: str) -> str:
        return template.format_map(self.fill)

    def sentences(self, templates: list[str], k: int) -> str:
        return " ".join(self.line(t) for t in self.rng.sample(templates, min(k, len(templates))))

    def request(self, topic: str, first: bool) -> str:
        rng = self.rng
        t = TEMPLATES[topic]
        if not first and rng.random() < 0.25:
            return self.line(rng.choice(FOLLOW_UPS))
        text = self.sentences(t["ask"], rng.choice((1, 1, 1, 2, 2, 3)))
        if rng.random() < 0.2:
            text += " " + self.sentences(t["say"], rng.randint(1, 3))  # context they give
        if rng.random() < 0.04 and t["code"]:
            text += "\n\n" + "\n".join(self.line(rng.choice(t["code"])) for _ in range(3))
        return text

    def reply(self, topic: str) -> str:
        rng = self.rng
        t = TEMPLATES[topic]
        parts = [rng.choice(OPENERS[topic]) + " " + self.sentences(t["say"], rng.randint(2, 5))]
        if rng.random() < 0.35:
            parts.append("\n".join(f"- {self.line(item).capitalize()}"
                                   for item in rng.sample(t["list"], rng.randint(3, 5))))
        if t["code"] and rng.random() < 0.25:
            lang = "sql" if topic == "analysis" else "bash"
            parts.append(f"```{lang}\n{self.line(rng.choice(t['code']))}\n```")
        if rng.random() < 0.5:
            parts.append(self.sentences(t["say"], rng.randint(1, 3)))
        if rng.random() < 0.4:
            parts.append(rng.choice(CLOSERS))
        return "\n\n".join(parts)

    def summary(self, topic: str) -> str:
        return "Summary so far: " + self.sentences(TEMPLATES[topic]["say"], 3)


# -- sizes and times ------------------------------------------------------------------

def plan_sizes(rng: random.Random, sessions: int, messages: int, big: int) -> list[int]:
    """Messages per session, the one of `big` first: the others share what is left,
    skewed (most a few turns, a few many), at least one user/assistant pair each."""
    rest = messages - big
    if sessions < 2 or rest < 2 * (sessions - 1):
        raise SystemExit(f"{messages:,} messages cannot fill {sessions:,} sessions when one "
                         f"holds {big:,} and each other at least 2")
    pairs, lone = divmod(rest, 2)
    weights = [rng.lognormvariate(0, 0.9) for _ in range(sessions - 1)]
    spare = pairs - (sessions - 1)
    total = sum(weights)
    extra = [int(spare * w / total) for w in weights]
    for i in rng.sample(range(sessions - 1), spare - sum(extra)):
        extra[i] += 1
    sizes = [2 * (1 + e) for e in extra]
    if lone:  # an odd total: one request that never got its reply
        sizes[rng.randrange(len(sizes))] += 1
    return [big, *sizes]


def iso(epoch: float) -> str:
    """'2026-11-24T10:15:30.123Z', as store.utc_timestamp writes it."""
    ms = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{ms:03d}Z"


def pick_weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


def bundled_skills() -> list[str]:
    return sorted(p.name for p in (REPO / "skills").iterdir() if (p / "SKILL.md").is_file())


# -- the generator --------------------------------------------------------------------

class History:
    """Rows for every table, built session by session, sorted by time when written."""

    def __init__(self, rng: random.Random, now: float) -> None:
        self.rng = rng
        self.now = now
        self.writer = Writer(rng)
        config = Config(tiers=())
        self.budgets = dict(config.budgets)
        self.price_in, self.price_out = config.prices["moonshotai/kimi-k2"]
        self.chain = self._chain()
        skills = bundled_skills()
        self.skills = {topic: [s for s in skills if s.removeprefix("aria-") in names.split()]
                       or skills for topic, names in SKILLS_FOR.items()}
        self.sessions: list[tuple] = []
        self.messages: list[tuple] = []  # (t, session, role, content, tier, ..., call|None)
        self.calls: list[tuple] = []  # (t, session, message index or None, ...)
        self.events: list[tuple] = []  # (t, session, kind, payload, message index)
        self.skill_rows: list[tuple] = []

    @staticmethod
    def _chain() -> list[tuple[int, str, str, str, str]]:
        """(tier, tier name, provider kind, endpoint, model) of the default tiers."""
        out = []
        for number, tier in enumerate(default_tiers(), start=1):
            for ep in tier["endpoints"]:
                model = EMBEDDED_MODEL_NAME if ep["model"] == "embedded" else ep["model"]
                endpoint = ep.get("base_url", "in-process")
                out.append((number, tier["name"], ep["kind"], endpoint, model))
        return out

    def endpoint(self, tier: int) -> tuple[int, str, str, str, str]:
        options = [e for e in self.chain if e[0] == tier]
        return options[0] if len(options) == 1 or self.rng.random() < 0.85 else options[1]

    def event(self, t: float, sid: int, kind: str, message: int | None = None,
              **payload: object) -> None:
        """`message`: index in self.messages whose final id goes in `message_id`."""
        self.events.append((t, sid, kind, {"kind": kind, **payload}, message))

    def session(self, sid: int, size: int, start: float) -> float:
        """Append one session's rows; returns the time of its last message."""
        rng, w = self.rng, self.writer
        topic = rng.choices(("ops", "analysis", "writing"), (45, 35, 20))[0]
        stype = rng.choices(("direct_chat", "cron_job", "sub_agent"), (80, 12, 8))[0]
        budget = self.budgets[stype]
        t = start
        self.event(t, sid, "SessionStarted", session_id=sid, session_type=stype)
        used = cost = 0
        context = 0  # tokens sent with the next request
        turns_since = 0
        skill_tokens = 0  # skill bodies sent with the next request only
        warned = set()
        model = title = None
        for index in range(size):
            if index % 2 == 0:  # a request
                if index:
                    t += rng.uniform(15, 900)
                text = w.request(topic, first=index == 0)
                if title is None:
                    line = " ".join(text.split())
                    title = line[:60] + ("…" if len(line) > 60 else "")
                self.messages.append((min(t, self.now), sid, "user", text, None, None, None,
                                      None, None, 0, 0, None))
                context += tokens_of(text)
                turns_since += 1
                if turns_since > TURNS_PER_COMPACTION:
                    t += 0.05
                    before, after = context + 40, int(context * rng.uniform(0.15, 0.3)) + 40
                    method, c_tokens = "extractive", 0
                    if rng.random() < 0.3:  # the LLM summariser, on a free tier
                        tier, _, kind, ep, mdl = self.endpoint(rng.choice((1, 2)))
                        c_tokens = before + 300
                        self.calls.append((t, sid, None, tier, kind, ep, mdl, rng.uniform(
                            900, 6000), before, 300, 0, 0, 0.0, 0, None, "compaction"))
                        used += c_tokens
                        method = f"llm ({mdl})"
                    self.event(t, sid, "ContextCompacted",
                               trigger=f"{turns_since} turns (> {TURNS_PER_COMPACTION})",
                               tokens_before=before, tokens_after=after,
                               kept=[f"message {index - k}: kept whole" for k in
                                     range(KEEP_LAST)], compressed=[
                                   f"message {k}: {rng.randint(1, 4)} sentences kept"
                                   for k in range(3)], dropped=["confirmation 'Thanks'"],
                               method=method, cost_tokens=c_tokens, cost_usd=0.0,
                               upto=index - KEEP_LAST, summary=w.summary(topic))
                    context, turns_since = after, KEEP_LAST // 2
                if rng.random() < 0.12:
                    for name in rng.sample(self.skills[topic], rng.choice((1, 1, 2))):
                        tokens = rng.randint(250, 1_800)
                        score = round(rng.uniform(1.2, 4.5), 3)
                        latency = round(rng.lognormvariate(1.5, 1.0), 3)
                        self.skill_rows.append((t + 0.01, sid, name, tokens, score, latency))
                        self.event(t + 0.01, sid, "SkillLoaded", skill_name=name, tokens=tokens,
                                   score=score, reason="matched the request", latency_ms=latency)
                        skill_tokens += tokens
                continue
            # a reply
            task = pick_weighted(rng, TASK_TYPES[topic])
            tier = rng.choices((1, 2, 3, 4), (55, 22, 16, 7))[0]
            t += 0.2
            if tier > 1 and rng.random() < 0.04:  # one tier failed, the next answered
                failed = self.endpoint(tier - 1)
                fault, error = rng.choice(FAILURES)
                self.event(t, sid, "TierChosen", tier=failed[0], tier_name=failed[1],
                           provider=failed[2], model=failed[4], reasons=[f"{task}, normal "
                                                                         "complexity"])
                self.calls.append((t, sid, None, failed[0], failed[2], failed[3], failed[4],
                                   rng.uniform(200, 30_000), 0, 0, 0, 0, 0.0, 1, error, task))
                self.event(t + 0.1, sid, "TierFailed", tier=failed[0], model=failed[4],
                           endpoint=failed[3], fault=fault, error=error, skipped=False)
                t += 0.2
            number, name, kind, ep, mdl = self.endpoint(tier)
            self.event(t, sid, "TierChosen", tier=number, tier_name=name, provider=kind,
                       model=mdl, reasons=[f"{task}, {rng.choice(('low', 'normal', 'high'))} "
                                           "complexity"])
            if tier == 4:
                self.event(t, sid, "PaidEscalated", tier=4, model=mdl,
                           reason="free tiers could not take this request")
            text = w.reply(topic)
            interrupted = rng.random() < 0.015
            if interrupted:  # Esc mid-stream: cut where a token ended
                text = text[:max(1, text.rfind(" ", 0, rng.randint(20, max(21, len(text) // 2))))]
            prompt, completion = context + skill_tokens + 30, tokens_of(text)
            skill_tokens = 0
            price = 0.0
            if tier == 4:
                price = round((prompt * self.price_in + completion * self.price_out) / 1e6, 8)
            latency = rng.uniform(700, 6_000) if tier == 1 else rng.uniform(1_500, 20_000)
            t += latency / 1000
            call = (tier, kind, ep, mdl, latency, prompt, completion,
                    rng.choice((0, 0, prompt // 2)) if tier == 4 else 0,
                    rng.randint(50, 400) if "r1t2" in mdl else 0, price, int(interrupted),
                    "cancelled" if interrupted else None, task)
            self.messages.append((min(t, self.now), sid, "assistant", text, number, mdl, prompt,
                                  completion, price, int(interrupted), int(interrupted), call))
            used += prompt + completion
            cost += price
            context += completion
            model = mdl
            self.event(t, sid, "UsageRecorded", tier=number, model=mdl, prompt_tokens=prompt,
                       completion_tokens=completion, cost_usd=price, latency_ms=round(latency, 1),
                       estimated=interrupted, session_tokens=used, cached_tokens=call[7],
                       reasoning_tokens=call[8])
            self.event(t, sid, "ReplyCompleted", len(self.messages) - 1, message_id=0,
                       interrupted=interrupted, tier=number, model=mdl)
            for level, percent in (("warn", 80), ("compress", 90)):
                if level not in warned and used >= budget * percent / 100:
                    warned.add(level)
                    self.event(t + 0.01, sid, "BudgetWarned", used=used, limit=budget,
                               percent=percent, level=level)
        end = min(t, self.now)
        status = "ended"
        if used >= budget:
            status = "halted"
            self.event(end + 0.01, sid, "SessionHalted", used=used, limit=budget,
                       summary=w.summary(topic), pending="")
        elif self.now - end < 1_800:
            status = "active"
        self.sessions.append((sid, stype, title, iso(start),
                              None if status == "active" else iso(end + 1), status, model,
                              used, round(cost, 8)))
        return end

    def write(self, conn: sqlite3.Connection) -> dict[str, int]:
        """Insert everything (messages in time order, so sessions interleave)."""
        order = sorted(range(len(self.messages)), key=lambda i: self.messages[i][0])
        ids = [0] * len(self.messages)
        rows, calls = [], []
        for new_id, i in enumerate(order, start=1):
            ids[i] = new_id
            t, sid, role, text, tier, mdl, pt, ct, price, est, intr, _ = self.messages[i]
            rows.append((new_id, sid, role, text, iso(t), tier, mdl, pt, ct, price, est, intr))
        for i, m in enumerate(self.messages):
            call = m[11]
            if call is not None:
                tier, kind, ep, mdl, lat, pt, ct, cached, reasoning, price, est, err, task = call
                calls.append((m[0] - lat / 1000, m[1], ids[i], tier, kind, ep, mdl, lat, pt,
                              ct, cached, reasoning, price, est, err, task))
        calls += self.calls
        calls.sort(key=lambda c: c[0])
        self.events.sort(key=lambda e: e[0])
        self.skill_rows.sort(key=lambda s: s[0])
        conn.executemany(
            "INSERT INTO sessions (id, type, title, created_at, ended_at, status, model, "
            "tokens_used, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.sessions)
        conn.executemany(
            "INSERT INTO messages (id, session_id, role, content, created_at, tier, model, "
            "prompt_tokens, completion_tokens, cost_usd, estimated, interrupted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO model_calls (session_id, message_id, tier, provider, endpoint, model, "
            "started_at, latency_ms, prompt_tokens, completion_tokens, cached_tokens, "
            "reasoning_tokens, cost_usd, estimated, error, task_type) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((sid, mid, tier, kind, ep, mdl, iso(t), round(lat, 1), pt, ct, cached, reasoning,
              price, est, err, task)
             for t, sid, mid, tier, kind, ep, mdl, lat, pt, ct, cached, reasoning, price, est,
             err, task in calls))
        conn.executemany(
            "INSERT INTO events (session_id, created_at, kind, payload) VALUES (?, ?, ?, ?)",
            ((sid, iso(t), kind, json.dumps(
                payload if index is None else {**payload, "message_id": ids[index]},
                ensure_ascii=False)) for t, sid, kind, payload, index in self.events))
        conn.executemany(
            "INSERT INTO skill_invocations (session_id, skill_name, tokens_used, score, "
            "latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((sid, name, tokens, score, lat, iso(t))
             for t, sid, name, tokens, score, lat in self.skill_rows))
        return {"sessions": len(self.sessions), "messages": len(rows),
                "model_calls": len(calls), "events": len(self.events),
                "skill_invocations": len(self.skill_rows)}


def generate(path: Path, sessions: int = 10_000, messages: int = 200_000, seed: int = 1,
             big: int = BIG_SESSION) -> tuple[dict[str, int], dict[str, float]]:
    """Create `path` with `Store.open` (schema, indexes, FTS triggers) and fill it.

    Returns the row count of each table and the seconds spent composing the rows and
    inserting them (the FTS index included). Refuses an existing file."""
    path = Path(path)
    if path.exists():
        raise SystemExit(f"{path} exists; give a new file name")

    async def create() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(create())
    t0 = time.perf_counter()
    rng = random.Random(seed)
    now = time.time()
    history = History(rng, now)
    sizes = plan_sizes(rng, sessions, messages, big)
    # The big session in the middle (started some 45 days ago: its turns span days).
    sizes = [*sizes[1:sessions // 2 + 1], sizes[0], *sizes[sessions // 2 + 1:]]
    # Session starts: over the window, denser on weekdays and in the day. Their own rng:
    # which draws are kept depends on today's date, and the rows must not.
    when = random.Random(f"starts-{seed}")
    starts: list[float] = []
    while len(starts) < sessions:
        t = now - when.uniform(0, DAYS * 86_400)
        hour, weekday = time.gmtime(t).tm_hour, time.gmtime(t).tm_wday
        if when.random() < (0.35 if weekday >= 5 else 1.0) * (0.3 if hour < 7 else 1.0):
            starts.append(t)
    starts.sort()
    for sid, (size, start) in enumerate(zip(sizes, starts, strict=True), start=1):
        history.session(sid, size, start)
    composed = time.perf_counter() - t0
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # a bulk load of a throw-away file
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        counts = history.write(conn)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return counts, {"compose": composed, "insert": time.perf_counter() - t0 - composed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the database file to create")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    t0 = time.perf_counter()
    counts, phases = generate(args.out, args.sessions, args.messages, args.seed)
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in args.out.parent.glob(args.out.name + "*"))
    print(", ".join(f"{n:,} {table}" for table, n in counts.items()))
    print(f"wrote {args.out} ({size / 1e6:.0f} MB) in {seconds:.1f} s (composing rows "
          f"{phases['compose']:.1f} s, inserting them with the FTS index "
          f"{phases['insert']:.1f} s)")


if __name__ == "__main__":
    main()
