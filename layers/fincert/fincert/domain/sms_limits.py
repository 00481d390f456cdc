"""SMS pumping costs real money: every flow that texts a code counts it against the same
hourly limits per phone number and per institution."""

from __future__ import annotations

from datetime import datetime

from fincert.domain.rate_limits import RateLimit
from fincert.settings import Settings


def sms_limits(settings: Settings, now: datetime, phone_index: str, institution_id: str) -> list[RateLimit]:
    window = now.replace(minute=0, second=0, microsecond=0)
    return [
        RateLimit("sms-phone", phone_index, window, 3600, settings.sms_per_phone_per_hour),
        RateLimit("sms-institution", institution_id, window, 3600, settings.sms_per_institution_per_hour),
    ]
