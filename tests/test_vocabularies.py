"""The Literal types that name the bare-string vocabularies agree with what enforces them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from tokenopt_tui.core import faults
from tokenopt_tui.core.providers.base import ROLES, Role, as_role
from tokenopt_tui.core.routing import router

SCHEMA = Path(__file__).resolve().parents[1] / "tokenopt_tui/store/migrations/0001_initial.sql"


def test_message_roles_are_the_ones_the_schema_accepts() -> None:
    check = re.search(r"role\s+TEXT NOT NULL CHECK \(role IN \(([^)]*)\)\)", SCHEMA.read_text())
    assert check is not None
    allowed = {name.strip().strip("'") for name in check.group(1).split(",")}
    assert set(ROLES) == set(get_args(Role)) == allowed


def test_a_stored_role_narrows_and_an_unknown_one_is_refused() -> None:
    assert [as_role(r) for r in ("user", "assistant", "system")] == ["user", "assistant", "system"]
    with pytest.raises(ValueError, match="'robot'"):
        as_role("robot")


def test_the_router_classifies_faults_into_the_fault_kind_words() -> None:
    assert set(router.FAULT_KINDS) == faults.FAULT_KINDS == set(get_args(faults.FaultKind))
    skips_only = faults.FAILURE_KINDS - faults.FAULT_KINDS
    assert skips_only == {"cooldown", "paid_blocked", "quota"}
    assert router.classify_fault(RuntimeError("?"))[0] in faults.FAULT_KINDS
