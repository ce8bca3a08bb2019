"""The app's own secrets (configured API keys), to scrub from text before it is kept or shown.

Some providers quote the request's `Authorization` header in an error (a 401 that
says which key was refused). That text would reach `model_calls.error`, events,
cooldowns, logs, `doctor` and exports. `Secrets.scrub` replaces every configured
key value with `[redacted: VARNAME]`, and any long token after "Bearer " (a key cut
short by a provider, or one this process does not know) with `[redacted]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenopt_tui.config import Config

#: Values shorter than this are not treated as secrets: a variable set to "test" or
#: "none" would otherwise redact ordinary words all over the text.
MIN_SECRET_CHARS = 8
# A bearer token as RFC 6750 spells it (b64token), long enough to be a credential.
_BEARER = re.compile(r"(\bbearer\s+)(?!\[redacted)([A-Za-z0-9._~+/-]{"
                     + str(MIN_SECRET_CHARS) + ",}=*)", re.IGNORECASE)


class Secrets:
    """Key values by variable name; `scrub(text)` redacts them. Its repr names the
    variables only, so logging or printing it leaks nothing."""

    def __init__(self, values: Mapping[str, str]) -> None:
        # Longest first, so a key that contains another is replaced whole.
        self._pairs = sorted(((value, var) for var, value in values.items()
                              if value and len(value.strip()) >= MIN_SECRET_CHARS),
                             key=lambda pair: -len(pair[0]))

    @classmethod
    def from_vars(cls, names: Iterable[str | None], env: Mapping[str, str]) -> Secrets:
        """The values of these environment variables (unset, empty or short ones skipped)."""
        return cls({name: env[name] for name in names if name and env.get(name)})

    @classmethod
    def from_config(cls, config: Config, env: Mapping[str, str]) -> Secrets:
        """Every `api_key_env` named by an endpoint of the config's tiers."""
        return cls.from_vars((e.api_key_env for t in config.tiers for e in t.endpoints), env)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({var for _value, var in self._pairs}))

    def scrub(self, text: str) -> str:
        """`text` with every known key value and every bearer token redacted."""
        for value, var in self._pairs:
            if value in text:
                text = text.replace(value, f"[redacted: {var}]")
            stripped = value.strip()
            if stripped != value and stripped in text:
                text = text.replace(stripped, f"[redacted: {var}]")
        return _BEARER.sub(r"\1[redacted]", text)

    def __repr__(self) -> str:
        return f"Secrets({', '.join(self.names)})"
