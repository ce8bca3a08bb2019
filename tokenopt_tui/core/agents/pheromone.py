"""Quality of an agent for a task type: a time-discounted Beta posterior (MAX-MIN style).

Successes add to α, failures to β. Evidence evaporates with elapsed time, not per call:
after `days` the evidence above the prior is multiplied by ρ^days, so a success 30 days
ago counts ρ^30 of one today and an agent nobody used for months drifts back to the
prior instead of keeping a stale reputation. τ = α/(α+β), clamped to [τmin, τmax] so
no agent's trail ever becomes certain (it could never lose the lead) or vanishes.
Health (errors, rate limits) is kept elsewhere and never touches these figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

#: Evidence left after one day (half-life ≈ 13.5 days).
RHO_PER_DAY = 0.95
PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0
TAU_MIN = 0.05
TAU_MAX = 0.95
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class PheromoneParams:
    """The evaporation rate, the prior and the MAX-MIN clamp."""

    rho: float = RHO_PER_DAY
    prior_alpha: float = PRIOR_ALPHA
    prior_beta: float = PRIOR_BETA
    tau_min: float = TAU_MIN
    tau_max: float = TAU_MAX


DEFAULT_PARAMS = PheromoneParams()


@dataclass(frozen=True)
class Quality:
    """α and β as of `updated_at` (aware UTC); read them through `at(now)`."""

    alpha: float
    beta: float
    updated_at: datetime

    @classmethod
    def prior(cls, now: datetime, params: PheromoneParams = DEFAULT_PARAMS) -> Quality:
        return cls(params.prior_alpha, params.prior_beta, now)

    def at(self, now: datetime, params: PheromoneParams = DEFAULT_PARAMS) -> Quality:
        """The posterior after evaporation up to `now` (a clock going back changes nothing)."""
        days = max(0.0, (now - self.updated_at).total_seconds() / SECONDS_PER_DAY)
        keep = params.rho ** days
        return Quality(params.prior_alpha + (self.alpha - params.prior_alpha) * keep,
                       params.prior_beta + (self.beta - params.prior_beta) * keep,
                       max(now, self.updated_at))

    def record(self, good: bool, now: datetime,
               params: PheromoneParams = DEFAULT_PARAMS) -> Quality:
        """One outcome at `now`, after evaporating what came before."""
        current = self.at(now, params)
        if good:
            return replace(current, alpha=current.alpha + 1.0)
        return replace(current, beta=current.beta + 1.0)

    def tau(self, params: PheromoneParams = DEFAULT_PARAMS) -> float:
        """α/(α+β) clamped to [τmin, τmax]."""
        raw = self.alpha / (self.alpha + self.beta)
        return min(params.tau_max, max(params.tau_min, raw))

    def samples(self, params: PheromoneParams = DEFAULT_PARAMS) -> float:
        """The (evaporated) number of outcomes behind τ."""
        return max(0.0, self.alpha + self.beta - params.prior_alpha - params.prior_beta)
