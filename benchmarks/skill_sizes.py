"""How big real skills are, whole and by section: the figures behind the default
`skills.allowance_tokens` (docs/skills.md, "Big skills").

    .venv/bin/python benchmarks/skill_sizes.py skills GIT_DIR[:PREFIX] ...

A folder argument is read from disk (the bundled `skills/`); a git directory (a bare
mirror, e.g. from `git clone --mirror`) is read at HEAD with `git show`, nothing is
written out. For every SKILL.md: whole-body tokens, section tokens (headings # to ####,
fences respected), outline tokens, and what `partial.for_match` sends for the skill's own
description as the request under a grid of allowances.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tokenopt_tui.core.skills.partial import for_match  # noqa: E402
from tokenopt_tui.core.skills.registry import (  # noqa: E402
    MAX_FRONT_MATTER_BYTES,
    SkillError,
    _split_front_matter,
)
from tokenopt_tui.core.skills.sections import outline, parse_sections  # noqa: E402
from tokenopt_tui.core.tokens import count_tokens  # noqa: E402

GRID = (1_000, 1_500, 2_000, 2_500, 3_000, 4_000)


def _texts(arg: str) -> list[str]:
    """Every SKILL.md text under a folder, or in a git directory's HEAD (under PREFIX)."""
    path, _, prefix = arg.partition(":")
    root = Path(path)
    if not (root / "HEAD").is_file():
        return [p.read_text(encoding="utf-8") for p in sorted(root.glob("*/SKILL.md"))]
    names = subprocess.run(["git", "-C", path, "ls-tree", "-r", "--name-only", "HEAD"],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    texts = []
    for name in names:
        if name.endswith("SKILL.md") and name.startswith(prefix):
            shown = subprocess.run(["git", "-C", path, "show", f"HEAD:{name}"],
                                   capture_output=True)
            texts.append(shown.stdout.decode("utf-8", "replace"))
    return texts


def _body(text: str) -> str | None:
    try:
        _, start = _split_front_matter(text[:MAX_FRONT_MATTER_BYTES], Path("SKILL.md"))
    except SkillError:
        return None
    return text[start:].strip()


def _description(text: str) -> str:
    for line in text.split("\n")[1:40]:
        if line.startswith("description:"):
            return line.partition(":")[2].strip(" >-|\"'")
    return ""


def pct(values: list[int] | list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(label: str, texts: list[str]) -> None:
    bodies = [(b, _description(t)) for t in texts if (b := _body(t))]
    whole = [count_tokens(b) for b, _ in bodies]
    section_tokens: list[int] = []
    outlines: list[int] = []
    counts: list[int] = []
    best3: list[int] = []
    for body, _ in bodies:
        sections = parse_sections(body)
        section_tokens += [s.tokens for s in sections]
        counts.append(len(sections))
        outlines.append(count_tokens(outline(sections)))
        sizes = sorted(s.tokens for s in sections)
        median = sizes[len(sizes) // 2] if sizes else 0
        best3.append(count_tokens(outline(sections)) + 110 + 3 * median)
    print(f"\n{label}: {len(bodies)} skills with a body")
    print(f"  whole body tokens  p25 {pct(whole, .25):,.0f}  median {statistics.median(whole):,.0f}"
          f"  p75 {pct(whole, .75):,.0f}  p90 {pct(whole, .9):,.0f}  max {max(whole):,}")
    for limit in GRID:
        share = sum(w <= limit for w in whole) / len(whole)
        print(f"    fits whole in {limit:,}: {share:.0%}")
    print(f"  sections per skill median {statistics.median(counts):.0f}  p90 {pct(counts, .9):.0f}")
    print(f"  section tokens     median {statistics.median(section_tokens):.0f}  p75 "
          f"{pct(section_tokens, .75):.0f}  p90 {pct(section_tokens, .9):.0f}  max "
          f"{max(section_tokens):,}")
    print(f"  outline tokens     median {statistics.median(outlines):.0f}  p90 "
          f"{pct(outlines, .9):.0f}")
    print(f"  outline + note + 3 median sections: median {statistics.median(best3):,.0f}  "
          f"p75 {pct(best3, .75):,.0f}")
    big = [(b, d, w) for (b, d), w in zip(bodies, whole, strict=True)]
    for limit in GRID:
        sent, two = [], 0
        whole_fit = 0
        for body, description, tokens in big:
            if tokens <= limit:
                whole_fit += 1
                continue
            part = for_match("x", body, tokens, description, limit)
            got = len(part.sections) if part else 0
            two += got >= 2
            sent.append(part.tokens if part else 0)
        over = len(big) - whole_fit
        print(f"    allowance {limit:,}: {whole_fit / len(big):.0%} whole; of the {over} too "
              f"big, {two / max(over, 1):.0%} get outline + 2-3 sections, median "
              f"{statistics.median(sent) if sent else 0:,.0f} tokens sent")


def main(argv: list[str]) -> int:
    for arg in argv:
        report(arg, _texts(arg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
