"""Quiet hours: a daily window in the user's own time zone when alerts are held.

A window may cross midnight (22:00-07:00). Times are local wall-clock times, so the
window follows daylight saving: 22:00 stays 22:00 in summer and winter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def contains(self, now: datetime) -> bool:
        """Whether `now` (aware) falls in the window."""
        local = now.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime) -> datetime:
        """The next end of the window after `now`, in UTC (when held alerts go out)."""
        local = now.astimezone(self.zone)
        for days in (0, 1):
            day = local.date() + timedelta(days=days)
            end = datetime.combine(day, self.end, tzinfo=self.zone)
            if end > local:
                return end.astimezone(UTC)
        raise AssertionError("an end time falls within two days")  # pragma: no cover
