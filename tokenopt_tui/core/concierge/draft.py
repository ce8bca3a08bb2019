"""A suggestion written out as a draft SKILL.md in the user's skills folder.

Never over an existing folder (a skill of that name, or an earlier draft); the front
matter is written by a YAML dumper, so request text quoted as examples cannot break it.
The body says it is a draft: the steps are for the user to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SKILL_FILE = "SKILL.md"
MAX_EXAMPLES = 6


class DraftError(ValueError):
    """The draft cannot be written; the message names the path."""


def skill_text(name: str, description: str, tags: tuple[str, ...],
               examples: list[str], evidence: str) -> str:
    """The SKILL.md text: front matter, then a body to fill in."""
    import yaml

    front = yaml.safe_dump({
        "name": name, "description": description, "tags": list(tags),
        "metadata": {"version": "0.1", "draft": True, "drafted_by": "tokenopt concierge",
                     "examples": [" ".join(e.split())[:200] for e in examples[:MAX_EXAMPLES]]},
    }, sort_keys=False, allow_unicode=True, width=88)
    listed = "\n".join(f"- {' '.join(e.split())[:200]}" for e in examples[:MAX_EXAMPLES])
    return (f"---\n{front}---\n# {name}\n\nDrafted by the concierge: {evidence}. "
            "Write the guidance below before relying on it.\n\n"
            f"## Requests it is for\n\n{listed}\n\n## Steps\n\n"
            "1. (what to check first)\n2. (the usual fix, with the exact commands)\n")


def write_draft(skills_dir: Path, suggestion: dict[str, Any]) -> Path:
    """Write `suggestion` (a report's gap or escalation entry) as
    `skills_dir/NAME/SKILL.md`; return the file's path."""
    name = str(suggestion["name"])
    folder = skills_dir / name
    if folder.exists():
        raise DraftError(f"{folder} already exists: not overwriting a skill")
    examples = [str(e["text"]) for e in suggestion.get("evidence", [])]
    evidence = (f"{suggestion.get('count', len(examples))} requests between "
                f"{suggestion.get('first', '?')} and {suggestion.get('last', '?')}, "
                f"≈ {suggestion.get('tokens', 0):,} tokens")
    text = skill_text(name, str(suggestion["description"]), tuple(suggestion["tags"]),
                      examples, evidence)
    try:
        folder.mkdir(parents=True)
        path = folder / SKILL_FILE
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DraftError(f"cannot write {folder / SKILL_FILE}: {exc}") from exc
    return path
