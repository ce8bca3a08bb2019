"""Why an endpoint gave no answer: the words providers, the router, its events and /why share.

A leaf module (it imports nothing from tokenopt) so that the providers, the router and the
event vocabulary can all import it at run time without a cycle: `core.events` decodes stored
events by their resolved type hints, so a Literal it uses must be importable there.
"""

from __future__ import annotations

from typing import Literal, get_args

#: A call that failed: set by a provider on ProviderError, or found by the router's
#: classify_fault for any other exception ("error" when nothing fits).
FaultKind = Literal["connection", "timeout", "rate_limit", "server", "not_found", "rejected",
                    "empty", "malformed", "unavailable", "error"]

#: An endpoint passed over without a call ("quota": the free hosted requests of the day or
#: minute are used up, or only the reserve for hard requests is left; core/routing/quota.py).
SkipKind = Literal["unavailable", "cooldown", "paid_blocked", "quota"]

#: Any reason a tier's endpoint gave no answer (AttemptFailed.kind, TierFailed.fault).
FailureKind = Literal[FaultKind, SkipKind]

FAULT_KINDS: frozenset[FaultKind] = frozenset(get_args(FaultKind))
FAILURE_KINDS: frozenset[FailureKind] = frozenset(get_args(FailureKind))
