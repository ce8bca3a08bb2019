"""The benchmark's simulated day: labelled tasks read from the checked-in JSONL files.

The files are written by `benchmarks/workload/generate.py` (seeded, deterministic).
`day.jsonl` is the part anyone may look at while tuning; `held_out.jsonl` is read only
by the benchmark's own run (`load_workload`), never by tuning code: a test says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tokenopt_tui.config import SessionType, as_session_type

Part = Literal["tuning", "held_out"]
PART_FILES: dict[Part, str] = {"tuning": "day.jsonl", "held_out": "held_out.jsonl"}
TIERS = (1, 2, 3)


class WorkloadError(ValueError):
    """A workload file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Turn:
    user: str
    reply: str
    tier: int  # the tier its answer needs, labelled by docs/routing.md's guide
    task_type: str
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    fact: str  # a literal string that must still be sent at the task's last turn
    turn: int


@dataclass(frozen=True)
class SwarmReplay:
    """What a complex task's Explorer → Worker → Validator cycle is replayed with: the
    Explorer's options, the Worker's result per attempt (the last repeats) and the
    Validator model's verdict text per model call (the last repeats). Written in the
    workload, never computed from the labels."""

    explorer: str
    workers: tuple[str, ...]
    verdicts: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    id: str
    session_type: SessionType
    start_s: int
    held_out: bool
    title: str
    turns: tuple[Turn, ...]
    probes: tuple[Probe, ...]
    #: Set on a complex task (one turn: the whole ask and its labelled single-call
    #: answer); only the swarm rows play these, so the day's rows stay as they were.
    swarm: SwarmReplay | None = None

    @property
    def part(self) -> Part:
        return "held_out" if self.held_out else "tuning"


def workload_dir() -> Path:
    """`tokenopt_tui/workload` in an installed wheel, else the checkout's
    `benchmarks/workload/`."""
    here = Path(__file__).resolve()
    packaged = here.parents[2] / "workload"
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "benchmarks" / "workload"


def load_workload(folder: Path | None = None,
                  parts: tuple[Part, ...] = ("tuning", "held_out")) -> list[Task]:
    """The tasks of `parts`, in order of start time."""
    folder = workload_dir() if folder is None else folder
    tasks: list[Task] = []
    for part in parts:
        tasks.extend(read_tasks(folder / PART_FILES[part]))
    return sorted(tasks, key=lambda t: (t.start_s, t.id))


def read_tasks(path: Path) -> list[Task]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WorkloadError(f"{path}: cannot read the workload: {exc.strerror or exc}") from exc
    tasks = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            tasks.append(_task(json.loads(line)))
        except KeyError as exc:
            raise WorkloadError(f"{path}:{number}: missing key {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise WorkloadError(f"{path}:{number}: {exc}") from exc
    return tasks


def _task(raw: dict[str, Any]) -> Task:
    turns = tuple(_turn(t) for t in _list(raw["turns"], "turns"))
    if not turns:
        raise ValueError("a task needs at least one turn")
    probes = tuple(Probe(str(p["fact"]), int(p["turn"])) for p in _list(raw["probes"], "probes"))
    for probe in probes:
        if not 0 <= probe.turn < len(turns):
            raise ValueError(f"probe {probe.fact!r} names turn {probe.turn} of {len(turns)}")
    start = int(str(raw["start_s"]))
    if not 0 <= start < 86_400:
        raise ValueError(f"start_s {start} is not within a day")
    swarm = _swarm(raw["swarm"]) if raw.get("swarm") is not None else None
    if swarm is not None and len(turns) != 1:
        raise ValueError("a complex task (with 'swarm') has exactly one turn")
    return Task(str(raw["id"]), as_session_type(str(raw["session_type"])), start,
                bool(raw["held_out"]), str(raw.get("title", "")), turns, probes, swarm)


def _swarm(raw: dict[str, Any]) -> SwarmReplay:
    if not isinstance(raw, dict):
        raise TypeError("'swarm' must be an object")
    workers = tuple(str(w) for w in _list(raw["workers"], "swarm.workers"))
    verdicts = tuple(str(v) for v in _list(raw["verdicts"], "swarm.verdicts"))
    if not workers or not verdicts:
        raise ValueError("'swarm' needs at least one worker result and one verdict")
    return SwarmReplay(str(raw["explorer"]), workers, verdicts)


def split_complex(tasks: list[Task]) -> tuple[list[Task], list[Task]]:
    """(the day's tasks, the complex tasks only the swarm rows play)."""
    return [t for t in tasks if t.swarm is None], [t for t in tasks if t.swarm is not None]


def _turn(raw: dict[str, Any]) -> Turn:
    tier = int(str(raw["tier"]))
    if tier not in TIERS:
        raise ValueError(f"tier {tier} is not one of {TIERS}")
    skills = tuple(str(s) for s in _list(raw["skills"], "skills"))
    return Turn(str(raw["user"]), str(raw["reply"]), tier, str(raw["task_type"]), skills)


def _list(value: object, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"'{key}' must be a list")
    return value
