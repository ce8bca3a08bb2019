"""Whether a skill can work here: OpenClaw's `metadata.openclaw` load-time gating.

OpenClaw skills declare what they need (`requires.bins`: executables on PATH,
`requires.anyBins`: at least one of them, `requires.env`: environment variables,
`os`: `sys.platform` values such as "darwin", "linux", "win32"). A skill whose needs
are not met is kept in the registry (listed as "unavailable: needs X") but never offered
to the matcher: its runbook would tell the model to run tools this machine lacks.
Malformed gating is reported as a warning, never a reason to skip the skill.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Requirements:
    """What a skill needs to be offered (all empty: it works anywhere)."""

    bins: tuple[str, ...] = ()
    any_bins: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    os: tuple[str, ...] = ()

    def missing(self, environ: Mapping[str, str] | None = None,
                platform: str | None = None,
                which: Callable[[str], str | None] = shutil.which) -> tuple[str, ...]:
        """What is lacking here, in words for "unavailable: needs …" (empty: available).
        Read when scanning: a binary installed later counts after the next rescan."""
        environ = os.environ if environ is None else environ
        platform = sys.platform if platform is None else platform
        lacking: list[str] = []
        if self.os and not any(platform.startswith(p) for p in self.os):
            lacking.append("os " + " or ".join(self.os))
        lacking += [b for b in self.bins if which(b) is None]
        if self.any_bins and all(which(b) is None for b in self.any_bins):
            lacking.append("one of " + ", ".join(self.any_bins))
        lacking += [f"${v}" for v in self.env if not environ.get(v)]
        return tuple(lacking)


#: A skill with no gating: available anywhere.
NO_REQUIREMENTS = Requirements()


def _names(value: Any, field: str, problems: list[str]) -> tuple[str, ...]:
    """A list of names (a single string is one name); anything else is a warning."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"field '{field}' must be a list of names; ignored")
        return ()
    return tuple(v.strip() for v in value)


def openclaw_block(metadata: Mapping[str, Any], problems: list[str]) -> Mapping[str, Any]:
    """`metadata.openclaw` as a mapping. OpenClaw writes it as one line of JSON, which
    YAML reads as a mapping; a JSON string is accepted too."""
    block = metadata.get("openclaw")
    if block is None:
        return {}
    if isinstance(block, str):
        try:
            block = json.loads(block)
        except ValueError:
            problems.append("field 'metadata.openclaw' is not a mapping (or JSON); ignored")
            return {}
    if not isinstance(block, dict):
        problems.append("field 'metadata.openclaw' is not a mapping; ignored")
        return {}
    return block


def requirements(metadata: Mapping[str, Any], problems: list[str]) -> Requirements:
    """The gating declared in `metadata.openclaw`; malformed parts are appended to
    `problems` (as warnings) and ignored."""
    block = openclaw_block(metadata, problems)
    if not block:
        return NO_REQUIREMENTS
    requires = block.get("requires") or {}
    if not isinstance(requires, dict):
        problems.append("field 'metadata.openclaw.requires' is not a mapping; ignored")
        requires = {}
    prefix = "metadata.openclaw."
    return Requirements(
        bins=_names(requires.get("bins"), prefix + "requires.bins", problems),
        any_bins=_names(requires.get("anyBins"), prefix + "requires.anyBins", problems),
        env=_names(requires.get("env"), prefix + "requires.env", problems),
        os=_names(block.get("os"), prefix + "os", problems))
