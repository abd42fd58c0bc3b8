"""When a dispute is due: `working_days` working days after the day it was filed, at the end of
that day, China Standard Time (UTC+8, the time every region of the federation keeps).

Working days are Monday to Friday.  Public holidays and the weekend days worked in their place
(调休) are **not** modelled: the State Council publishes them once a year and no calendar of
them ships with the service, so a dispute filed before a holiday is due earlier than a clerk
counting by the official calendar would say — never later.  A holiday calendar would be one
more input here (`working_day`), not a change of the rule.

Why the end of the day: an organisation told "within five working days" answers during
office hours of the fifth day; due at 00:00 of the next day (UTC+8) is that day's end.  A
setting of 0 makes the dispute due the moment it is filed (demonstrations and tests of the
overdue list).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def working_day(day: date) -> bool:
    return day.weekday() < 5


def due_at(filed_at: datetime, working_days: int) -> datetime:
    """The instant (UTC) a dispute filed at `filed_at` is due."""
    if working_days <= 0:
        return filed_at.astimezone(timezone.utc)
    day = filed_at.astimezone(CST).date()
    left = working_days
    while left:
        day += timedelta(days=1)
        if working_day(day):
            left -= 1
    end = datetime.combine(day + timedelta(days=1), time(0), CST)
    return end.astimezone(timezone.utc)


def is_overdue(state: str, due: datetime, now: datetime) -> bool:
    """Overdue: not answered (still open, or not yet delivered) and the due instant passed."""
    return state in ("open", "pending-delivery") and now >= due
