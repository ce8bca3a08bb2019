"""Checks before opinions: what a Worker's result can be checked for mechanically, with
no model call. Python blocks must parse (`ast`), JSON blocks must parse and match the
task's JSON Schema when it gave one, shell blocks must pass `bash -n` (syntax only,
never executed) and identifiers the task names in backticks must appear."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

BLOCK = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
IDENTIFIER = re.compile(r"`([A-Za-z_$][\w.$/:-]{0,60})`")
PYTHON = {"python", "py", "python3"}
SHELL = {"sh", "bash", "shell", "zsh"}
BASH_TIMEOUT_S = 5.0
#: JSON Schema keys that mark a block of the task as a schema rather than an example.
SCHEMA_KEYS = {"$schema", "properties", "required", "items"}


@dataclass(frozen=True)
class Check:
    """One mechanical check: what was checked, whether it held, and why not."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def summary(self) -> str:
        """The failures (or what passed) in one line, for the phase's reasons."""
        if not self.checks:
            return "no mechanical checks apply"
        failed = [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]
        if failed:
            return "; ".join(failed)
        return "checks passed: " + ", ".join(c.name for c in self.checks)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block in `text`, language lower-cased."""
    return [(m.group(1).lower(), m.group(2)) for m in BLOCK.finditer(text)]


def run_checks(task: str, result: str) -> CheckReport:
    """Every mechanical check that applies to `result` for `task` (blocking: run it in a
    worker thread; `bash -n` is a subprocess with a timeout)."""
    checks: list[Check] = []
    schema = task_schema(task)
    counts = {"python": 0, "json": 0, "shell": 0}
    for language, body in code_blocks(result):
        if language in PYTHON:
            counts["python"] += 1
            checks.append(_python(body, counts["python"]))
        elif language == "json":
            counts["json"] += 1
            checks.append(_json(body, counts["json"], schema))
        elif language in SHELL:
            counts["shell"] += 1
            checks.append(_shell(body, counts["shell"]))
    missing = [name for name in required_identifiers(task) if name not in result]
    if required_identifiers(task):
        checks.append(Check("identifiers", not missing,
                            f"missing {', '.join(missing)}" if missing else ""))
    return CheckReport(tuple(checks))


def required_identifiers(task: str) -> list[str]:
    """Names the task quotes in backticks (outside its code blocks), in order, once."""
    prose = BLOCK.sub(" ", task)
    return list(dict.fromkeys(IDENTIFIER.findall(prose)))


def task_schema(task: str) -> dict[str, Any] | None:
    """The first JSON block of the task that is a JSON Schema (None when none is)."""
    for language, body in code_blocks(task):
        if language not in ("json", ""):
            continue
        try:
            value = json.loads(body)
        except ValueError:
            continue
        if isinstance(value, dict) and SCHEMA_KEYS & set(value):
            return value
    return None


def _python(body: str, index: int) -> Check:
    name = f"python block {index}"
    try:
        ast.parse(body)
    except SyntaxError as exc:
        return Check(name, False, f"line {exc.lineno}: {exc.msg}")
    return Check(name, True)


def _json(body: str, index: int, schema: dict[str, Any] | None) -> Check:
    name = f"json block {index}"
    try:
        value = json.loads(body)
    except ValueError as exc:
        return Check(name, False, f"does not parse: {exc}")
    problems = schema_errors(value, schema) if schema is not None else []
    return Check(name, not problems, "; ".join(problems[:3]))


def _shell(body: str, index: int) -> Check:
    name = f"shell block {index}"
    bash = shutil.which("bash")
    if bash is None:
        return Check(name, True, "not checked: bash not found")
    try:
        done = subprocess.run([bash, "-n"], input=body, capture_output=True, text=True,
                              timeout=BASH_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return Check(name, False, f"bash -n did not finish in {BASH_TIMEOUT_S:g} s")
    error = done.stderr.strip().splitlines()
    return Check(name, done.returncode == 0, error[0][:200] if error else "")


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float), "null": (type(None),)}


def schema_errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What keeps `value` from matching `schema` (the common subset of JSON Schema:
    type, enum, required, properties, items), each error with its JSON path."""
    errors: list[str] = []
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    if kinds:
        allowed = tuple(t for k in kinds for t in _TYPES.get(k, ()))
        is_bool = isinstance(value, bool) and "boolean" not in kinds
        if not isinstance(value, allowed) or is_bool:
            return [f"{where}: expected {' or '.join(kinds)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: not one of {schema['enum']}")
    if isinstance(value, dict):
        errors += [f"{where}: missing {key!r}" for key in schema.get("required", [])
                   if key not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value and isinstance(sub, dict):
                errors += schema_errors(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    return errors
