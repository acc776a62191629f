"""The deployment's own settings, loaded from the data bundle (SPEC §6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PricingMode(StrEnum):
    STANDARD = "STANDARD"
    RTP = "RTP"


@dataclass(frozen=True)
class TenantSettings:
    pricing_mode: PricingMode = PricingMode.STANDARD
    pricing_url: str | None = None
    cpq_url: str | None = None
    currency: str = "EUR"
    operations_enabled: bool = True

    @property
    def real_time_pricing(self) -> bool:
        return self.pricing_mode is PricingMode.RTP
