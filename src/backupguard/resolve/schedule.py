"""What an AWS Backup schedule expression means: how often it fires.

AWS Backup takes EventBridge-style ``cron(Minutes Hours Day-of-month Month
Day-of-week Year)``. Parsing and the calendar semantics (``?``, ``L``, ``W``,
``#``, day-of-week 1 = Sunday) come from aws-croniter, which the library survey
measured as the only package that gets all of them right; this module turns
its fire times into the two numbers rules need:

* ``max_gap``: the longest time between two backups (a MON-FRI schedule has a
  72-hour gap, so it is not "daily");
* ``min_gap``: the shortest (AWS rejects schedules that fire less than 60
  minutes apart).

Time of day and calendar days are independent in cron, so the gaps come from
the fire times within one day and the matching days over one year from a fixed
reference date (deterministic output, whatever day the scan runs). Gaps are in
the schedule's own wall-clock time; a daylight-saving shift can move one gap by
an hour, which no frequency threshold here is sensitive to.

Speed: a plain daily schedule (one time of day, every day: AWS's default and most
templates' choice) is answered without aws-croniter, whose first use compiles its
validation patterns (tens of milliseconds, once per process). Any other expression is
evaluated by aws-croniter, and each of its two halves (the times of a day, the
days of the horizon) once per process: many plans share the days (``? * SUN *``)
or the time (``0 5``), and walking the calendar is the costly part (aws-croniter
takes about 0.2 ms per day-of-week fire): days chosen by day of week alone repeat
weekly, so two weeks show all their gaps, not 400 days.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

_REFERENCE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_HORIZON = dt.timedelta(days=400)  # long enough to see a yearly schedule fire twice
# Days chosen by day-of-week alone (every month and year, no L or #) repeat every 7 days: 15 days hold
# each gap between two of them (the last day of a week to the first of the next one included).
_WEEKS = dt.timedelta(days=15)
_FAR_FUTURE = dt.datetime(2199, 12, 31, tzinfo=dt.timezone.utc)  # the last year AWS cron accepts
_CRON = re.compile(r"^\s*cron\((.*)\)\s*$", re.IGNORECASE)


class ScheduleError(ValueError):
    """A schedule expression AWS Backup would reject."""


class ScheduleUnsupported(ValueError):
    """A schedule the cron library cannot evaluate (not necessarily invalid): its facts are unknown."""


@dataclass(frozen=True, slots=True)
class Cadence:
    max_gap: dt.timedelta  # longest time between two backups
    min_gap: dt.timedelta  # shortest time between two backups
    fires_per_day: int

    @property
    def max_gap_hours(self) -> float:
        return round(self.max_gap.total_seconds() / 3600, 2)

    @property
    def min_gap_minutes(self) -> float:
        return round(self.min_gap.total_seconds() / 60, 2)


def _fields(expression: str) -> list[str]:
    match = _CRON.match(expression)
    if not match:
        if expression.strip().lower().startswith("rate("):
            raise ScheduleError("AWS Backup accepts only cron() schedules, not rate()")
        raise ScheduleError("a schedule must be cron(minutes hours day-of-month month day-of-week year)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(f"cron() needs 6 fields, found {len(fields)}")
    return fields


# One time of day (minute and hour as aws-croniter accepts a single value) on every day: day-of-month
# or day-of-week '?' and the other '*', every month and year. Such a schedule fires once a day.
_ONE_MINUTE = re.compile(r"[0-5]?[0-9]")
_ONE_HOUR = re.compile(r"[01]?[0-9]|2[0-3]")
_EVERY_DAY = frozenset({("?", "*", "*", "*"), ("*", "*", "?", "*")})


@lru_cache(maxsize=1024)
def _fires(expression: str, start: dt.datetime, until: dt.datetime, limit: int) -> tuple[dt.datetime, ...]:
    """The fire times of an aws-croniter expression from ``start`` until before ``until``, at most ``limit``."""
    from aws_croniter import AwsCroniter
    from aws_croniter.exceptions import AwsCroniterExpressionError

    try:
        cron = AwsCroniter(expression)
    except AwsCroniterExpressionError as exc:
        raise ScheduleError(str(exc).replace(".One", ". One")) from None
    except Exception as exc:  # noqa: BLE001 - a library gap, not a verdict on the expression
        raise ScheduleUnsupported(f"{type(exc).__name__}: {exc}") from None
    times: list[dt.datetime] = []
    cursor = start - dt.timedelta(seconds=1)
    while len(times) < limit:
        try:
            batch = [moment for moment in cron.get_next(cursor, n=min(64, limit - len(times))) if moment]
        except Exception as exc:  # noqa: BLE001
            raise ScheduleUnsupported(f"{type(exc).__name__}: {exc}") from None
        if not batch:
            break
        for moment in batch:
            if moment >= until:
                return tuple(times)
            times.append(moment)
        cursor = batch[-1]
    return tuple(times)


@lru_cache(maxsize=512)
def cadence(expression: str) -> Cadence:
    """The gaps between backups of a ``cron(...)`` expression; raises :class:`ScheduleError`."""
    minute, hour, dom, month, dow, year = _fields(expression)
    if (dom, month, dow, year) in _EVERY_DAY and _ONE_MINUTE.fullmatch(minute) and _ONE_HOUR.fullmatch(hour):
        return Cadence(dt.timedelta(days=1), dt.timedelta(days=1), 1)  # what the calendar walk below finds
    day_start = _REFERENCE
    # Times of day: the same on every matching day.
    times = _fires(f"{minute} {hour} * * ? *", day_start, day_start + dt.timedelta(days=1), 1441)
    offsets = [t - day_start for t in times]
    if not offsets:
        raise ScheduleError("the schedule never fires")
    if dom in ("*", "?") and dow in ("*", "?") and month == "*" and year == "*":
        _fires(f"0 0 {dom} {month} {dow} {year}", day_start, day_start + dt.timedelta(days=1), 1)  # validates
        days = (day_start, day_start + dt.timedelta(days=1))  # every day: the common case, no calendar walk
    else:
        weekly = dom == "?" and month == "*" and year == "*" and not any(c in dow.upper() for c in "L#")
        days = _fires(f"0 0 {dom} {month} {dow} {year}", day_start, day_start + (_WEEKS if weekly else _HORIZON), 450)
        if not days:  # a schedule for a later year: look beyond the horizon for its first fires
            days = _fires(f"0 0 {dom} {month} {dow} {year}", day_start, _FAR_FUTURE, 2)
    if not days:
        raise ScheduleError(f"the schedule never fires after {_REFERENCE.date().isoformat()}")
    within = [b - a for a, b in zip(offsets, offsets[1:])]
    across = [(d2 - d1) + offsets[0] - offsets[-1] for d1, d2 in zip(days, days[1:])]
    gaps = within + across
    if not gaps:  # fires once in the whole horizon (a fixed year)
        return Cadence(_HORIZON, _HORIZON, len(offsets))
    return Cadence(max(gaps), min(gaps), len(offsets))
