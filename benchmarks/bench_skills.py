"""Lazy skills: registry scan, body loads, matching, select() and tokens saved per request.

Everything reads real SKILL.md files on disk: the 26 bundled skills in `skills/`, and
1,000 generated skills written to a temp dir (names, descriptions and tags recombined
from the bundled skills' real ones with a numeric suffix, bodies copied from bundled
bodies, so the front matter parses like the real thing). The OS page cache is warm for
both (the files were just written or read), so "cold" below means not yet in the
registry's body cache, not a disk read. The tokenizer is loaded before any timing.

  scan       a fresh `SkillRegistry(...).scan()` each run: reads and validates every
             skill's front matter (yaml.safe_load), never a body. The first run over the
             bundled skills is reported on its own (it imports yaml); then median/min of
             the rest, and the median over the 1,000.
  body       `registry.body(name)`: cold (the first read after a fresh scan: reads the
             file, parses its front matter again, counts the body's tokens) for all 26
             bundled after each scan and for 200 of the 1,000 after each scan; warm (cached,
             only an mtime check) for the same skills. Target: p99 < 5 ms.
  match      `SkillMatcher` built over the 1,000 (build time), then
             `rank(prompt, threshold=<the default>)` for every labelled prompt
             (tests/data/skill_prompts/*.jsonl). Target: < 10 ms.
  select     `SkillLibrary.select(prompt)` with the bundled skills and default
             SkillSettings, the whole path from prompt to bodies in context, over every
             labelled prompt: cold (a fresh library per prompt, built untimed, so every
             body it loads is read from the file) and warm (one library, bodies cached).
             Target: < 100 ms.
  tokens     skill text sent per request over the labelled prompts: eager (every bundled
             body in every request) against lazy (`selection.tokens`), and the saving.

Prints figures only (no asserts).

    .venv/bin/python benchmarks/bench_skills.py [-n 7] [--large 1000] [--large-runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from tokenopt_tui.config import SkillSettings  # noqa: E402
from tokenopt_tui.core.skills.library import SkillLibrary  # noqa: E402
from tokenopt_tui.core.skills.match import SkillMatcher  # noqa: E402
from tokenopt_tui.core.skills.registry import SKILL_FILE, Skill, SkillRegistry, Source  # noqa: E402
from tokenopt_tui.core.tokens import count_tokens  # noqa: E402

BUNDLED = REPO / "skills"
PROMPTS = REPO / "tests" / "data" / "skill_prompts"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


def row(name: str, ms: list[float]) -> str:
    return (f"{name:<36} {len(ms):>6} {statistics.median(ms):9.3f} {pct(ms, 0.99):9.3f} "
            f"{max(ms):9.3f}")


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"{'':<36} {'calls':>6} {'p50':>9} {'p99':>9} {'max':>9}   (ms)")


def labelled_prompts() -> list[dict]:
    out = []
    for path in sorted(PROMPTS.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def bundled_sources() -> list[Source]:
    return [Source("bundled", BUNDLED)]


def timed_scan(sources: list[Source]) -> tuple[SkillRegistry, float]:
    registry = SkillRegistry(sources)
    t0 = time.perf_counter()
    registry.scan()
    return registry, (time.perf_counter() - t0) * 1000


def body_times(registry: SkillRegistry, names: list[str]) -> list[float]:
    out = []
    for name in names:
        t0 = time.perf_counter()
        registry.body(name)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def generate(root: Path, bundled: list[Skill], bodies: dict[str, str], count: int,
             seed: int = 11) -> None:
    """`count` skill folders recombining the bundled skills' descriptions, tags and bodies."""
    import yaml

    rng = random.Random(seed)
    sentences = {s.name: [x for x in re.split(r"(?<=\.)\s+", s.description) if x]
                 for s in bundled}
    for i in range(count):
        a, b = rng.sample(bundled, 2)
        name = f"{a.name.removeprefix('aria-')}-{b.name.removeprefix('aria-')}-{i:04d}"
        description = (f"{rng.choice(sentences[a.name])} {rng.choice(sentences[b.name])} "
                       f"(variant {i})")[:1_000]
        tags = rng.sample(a.tags, min(len(a.tags), rng.randint(6, 14)))
        tags += [t for t in rng.sample(b.tags, min(len(b.tags), rng.randint(2, 6)))
                 if t not in tags]
        front = yaml.safe_dump({"name": name, "description": description, "tags": tags,
                                "metadata": {"agent": a.agent, "version": f"1.{i}"}},
                               sort_keys=False, width=100, allow_unicode=True)
        folder = root / name
        folder.mkdir()
        (folder / SKILL_FILE).write_text(f"---\n{front}---\n{bodies[a.name]}\n",
                                         encoding="utf-8")


def bench_scan_and_bodies(large_root: Path, args: argparse.Namespace) -> list[str]:
    yaml_loaded = "yaml" in sys.modules
    first, first_ms = timed_scan(bundled_sources())
    names = sorted(first.skills)
    scans: list[float] = []
    cold: list[float] = body_times(first, names)
    for _ in range(args.n):
        registry, ms = timed_scan(bundled_sources())
        scans.append(ms)
        cold += body_times(registry, names)
    warm: list[float] = []
    for _ in range(args.warm_repeats):
        warm += body_times(registry, names)

    bodies = {n: registry.body(n)[0] for n in names}
    t0 = time.perf_counter()
    generate(large_root, [registry.skills[n] for n in names], bodies, args.large)
    written_s = time.perf_counter() - t0
    large_sources = [Source("generated", large_root)]
    rng = random.Random(5)
    large_scans: list[float] = []
    large_cold: list[float] = []
    for _ in range(args.large_runs):
        big, ms = timed_scan(large_sources)
        large_scans.append(ms)
        sample = rng.sample(sorted(big.skills), min(args.large_bodies, len(big.skills)))
        large_cold += body_times(big, sample)
    large_warm: list[float] = []
    for _ in range(args.warm_repeats):
        large_warm += body_times(big, sample)

    print(f"registry scan (front matter only), fresh SkillRegistry each run; "
          f"{len(names)} bundled skills, {len(big.skills):,} generated "
          f"(written in {written_s:.1f} s, {len(big.problems)} problems)")
    print(f"  bundled, first run{'' if yaml_loaded else ' (imports yaml)'}: {first_ms:.1f} ms")
    print(f"  bundled, next {args.n} runs: median {statistics.median(scans):.1f} ms, "
          f"min {min(scans):.1f} ms, max {max(scans):.1f} ms")
    print(f"  {len(big.skills):,} generated, {args.large_runs} runs: median "
          f"{statistics.median(large_scans):.0f} ms, min {min(large_scans):.0f} ms, "
          f"max {max(large_scans):.0f} ms ({statistics.median(large_scans) / len(big.skills):.3f}"
          f" ms per skill)")

    header("registry.body(name) (target p99 < 5 ms)")
    print(row(f"bundled {len(names)}, cold (x{args.n + 1} scans)", cold))
    print(row(f"bundled {len(names)}, warm (x{args.warm_repeats})", warm))
    print(row(f"{len(sample)} of {len(big.skills):,}, cold (x{args.large_runs} scans)",
              large_cold))
    print(row(f"{len(sample)} of {len(big.skills):,}, warm (x{args.warm_repeats})", large_warm))
    sizes = [count_tokens(b) for b in bodies.values()]
    print(f"  bundled bodies: {min(sizes):,}-{max(sizes):,} tokens, "
          f"mean {statistics.mean(sizes):,.0f}")
    return sorted(big.skills)


def bench_match(large_root: Path, prompts: list[dict], args: argparse.Namespace) -> None:
    registry = SkillRegistry([Source("generated", large_root)])
    registry.scan()
    skills = list(registry.skills.values())
    builds = []
    for _ in range(args.large_runs):
        t0 = time.perf_counter()
        matcher = SkillMatcher(skills)
        builds.append((time.perf_counter() - t0) * 1000)
    times: list[float] = []
    hits: list[int] = []
    for _ in range(args.match_repeats):
        for p in prompts:
            t0 = time.perf_counter()
            found = matcher.rank(p["prompt"], threshold=SkillSettings().threshold)
            times.append((time.perf_counter() - t0) * 1000)
            hits.append(len(found))
    header(f"SkillMatcher over {len(skills):,} skills ({len(matcher.keywords):,} keywords, "
           f"{len(matcher._fuzzy_choices):,} fuzzy candidates)")
    print(f"{'build':<36} {len(builds):>6} {statistics.median(builds):9.1f} "
          f"{pct(builds, 0.99):9.1f} {max(builds):9.1f}")
    print(row(f"rank(threshold={SkillSettings().threshold}), x{args.match_repeats} (< 10)",
              times))
    print(f"  skills at or above the threshold per prompt: mean {statistics.mean(hits):.0f}, "
          f"max {max(hits)}")


def bench_select(prompts: list[dict], args: argparse.Namespace) -> None:
    settings = SkillSettings()
    cold: list[float] = []
    cold_reported: list[float] = []
    for p in prompts:
        library = SkillLibrary.from_sources(settings, bundled_sources())  # untimed
        t0 = time.perf_counter()
        selection = library.select(p["prompt"])
        cold.append((time.perf_counter() - t0) * 1000)
        cold_reported.append(selection.elapsed_ms)
    library = SkillLibrary.from_sources(settings, bundled_sources())
    for p in prompts:
        library.select(p["prompt"])  # fills the body cache
    warm: list[float] = []
    selections = []
    for _ in range(args.select_repeats):
        for p in prompts:
            t0 = time.perf_counter()
            selection = library.select(p["prompt"])
            warm.append((time.perf_counter() - t0) * 1000)
            selections.append(selection)
    header(f"library.select(prompt), {len(library.registry.skills)} bundled skills, "
           f"{len(prompts)} labelled prompts (target < 100 ms)")
    print(row("cold bodies (fresh library per prompt)", cold))
    print(row(f"warm bodies, x{args.select_repeats}", warm))
    print(f"  Selection.elapsed_ms, cold: p50 {statistics.median(cold_reported):.3f}, "
          f"max {max(cold_reported):.3f} ms")

    per_request = [s.tokens for s in selections[:len(prompts)]]
    loads = [len(s.loaded) for s in selections[:len(prompts)]]
    eager = sum(library.registry.body(n)[1] for n in library.registry.skills)
    lazy = statistics.mean(per_request)
    nothing = sum(1 for n in loads if n == 0) / len(loads)
    print(f"\nskill text per request over {len(prompts)} labelled prompts "
          f"(threshold {settings.threshold}, at most {settings.max_per_request} skills, "
          f"{settings.allowance_tokens:,}-token allowance)")
    print(f"  eager (all {len(library.registry.skills)} bodies, every request): "
          f"{eager:,} tokens")
    print(f"  lazy: mean {lazy:,.0f} tokens, max {max(per_request):,}, "
          f"{statistics.mean(loads):.2f} skills loaded on average, "
          f"{nothing:.0%} of requests load nothing")
    print(f"  saving: {1 - lazy / eager:.1%} of skill tokens per request "
          f"({eager - lazy:,.0f} tokens)")


def main(args: argparse.Namespace) -> None:
    count_tokens("warm up")  # the one-time encoding load is not part of any figure
    prompts = labelled_prompts()
    with tempfile.TemporaryDirectory(prefix="tokenopt-skills-") as tmp:
        large_root = Path(tmp)
        bench_scan_and_bodies(large_root, args)
        bench_match(large_root, prompts, args)
    bench_select(prompts, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=7, help="timed scans of the bundled skills")
    parser.add_argument("--large", type=int, default=1_000, help="generated skills")
    parser.add_argument("--large-runs", type=int, default=3, help="scans of the generated")
    parser.add_argument("--large-bodies", type=int, default=200,
                        help="cold body reads per scan of the generated")
    parser.add_argument("--warm-repeats", type=int, default=5, help="cached body reads")
    parser.add_argument("--match-repeats", type=int, default=5, help="passes over the prompts")
    parser.add_argument("--select-repeats", type=int, default=5, help="warm select() passes")
    main(parser.parse_args())
