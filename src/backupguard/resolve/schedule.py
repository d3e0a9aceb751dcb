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
validation patterns (tens of milliseconds, once per process); so is any expression of
plain fields (numbers, names, ranges, steps, lists, with one of the day fields ``?``),
by a walk over the calendar's days that a test compares with aws-croniter's. The rest
(``L``, ``W``, ``#``, wrapping ranges, every invalid expression, for its messages) is
evaluated by aws-croniter. Each of an expression's two halves (the times of a day, the
days of the horizon) is evaluated once per process: many plans share the days (``? * SUN *``)
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


_MONTH_NAMES = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_DAY_NAMES = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_PART = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")
_NAME = re.compile(r"[A-Za-z]+")


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None, digits: int = 2,
            steps: bool = True) -> frozenset[int] | None:
    """A field written with numbers (or names), ``a-b`` ranges, ``/n`` steps, ``*`` and commas, as its
    set of values; None for anything else (``L``, ``W``, ``#``, ``?``, a range that wraps around, a value
    out of range, an unknown name), which aws-croniter decides, with its error messages."""
    if names:
        field = _NAME.sub(lambda m: str(names.get(m.group().upper(), m.group())), field)
    found: set[int] = set()
    for part in field.split(","):
        match = _PART.fullmatch(part)
        if match is None or any(len(number) > digits for number in match.groups()[1:] if number):
            return None
        if match.group(4) is not None and not steps:  # AWS's day-of-week takes no / (nor does aws-croniter's year)
            return None
        star, first, last, step = match.group(1) == "*", match.group(2), match.group(3), match.group(4)
        start = low if star else int(first)
        end = high if star or (last is None and step) else int(last) if last is not None else start
        every = int(step) if step else 1
        if not low <= start <= end <= high or every < 1:
            return None
        found.update(range(start, end + 1, every))
    return frozenset(found)


def _plain_fires(expression: str, start: dt.datetime, until: dt.datetime, limit: int) -> tuple[dt.datetime, ...] | None:
    """:func:`_fires` for an expression of plain fields (see :func:`_values`) with exactly one of
    day-of-month and day-of-week ``?``: a walk over the calendar's days with no cron library (the first
    use of aws-croniter compiles its patterns, tens of milliseconds, and it walks fire by fire). None
    for any other expression. A test compares both on a grid of expressions."""
    minute, hour, dom, month, dow, year = expression.split()
    minutes, hours = _values(minute, 0, 59), _values(hour, 0, 23)
    months, years = _values(month, 1, 12, _MONTH_NAMES), _values(year, 1970, 2199, digits=4, steps=False)
    if minutes is None or hours is None or months is None or years is None or (dom == "?") == (dow == "?"):
        return None
    if dom == "?":
        weekdays = _values(dow, 1, 7, _DAY_NAMES, steps=False)  # 1 = Sunday: Python's weekday() is 0 on Monday
        if weekdays is None:
            return None
        matches = lambda day: (day.weekday() + 1) % 7 + 1 in weekdays  # noqa: E731
    else:
        days = _values(dom, 1, 31)
        if days is None:
            return None
        matches = lambda day: day.day in days  # noqa: E731
    moments = [(h, m) for h in sorted(hours) for m in sorted(minutes)]
    times: list[dt.datetime] = []
    day, last = start.date(), until.date()
    while day <= last:
        if day.year not in years:
            if day.year >= max(years):
                break
            day = dt.date(day.year + 1, 1, 1)
            continue
        if day.month in months and matches(day):
            for h, m in moments:
                moment = dt.datetime(day.year, day.month, day.day, h, m, tzinfo=start.tzinfo)
                if moment < start:
                    continue
                if moment >= until or len(times) >= limit:
                    return tuple(times)
                times.append(moment)
        day += dt.timedelta(days=1)
    return tuple(times)


@lru_cache(maxsize=1024)
def _fires(expression: str, start: dt.datetime, until: dt.datetime, limit: int) -> tuple[dt.datetime, ...]:
    """The fire times of an aws-croniter expression from ``start`` until before ``until``, at most ``limit``."""
    plain = _plain_fires(expression, start, until, limit)
    if plain is not None:
        return plain
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
