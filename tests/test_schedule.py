"""Schedule cadence: AWS cron semantics (day-of-week 1 = Sunday, ?, L, W, #) and the gaps rules use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backupguard.resolve.schedule import ScheduleError, cadence


@pytest.mark.parametrize(
    ("expression", "max_gap_hours", "min_gap_minutes"),
    [
        ("cron(0 5 ? * * *)", 24, 1440),  # daily: AWS's default schedule
        ("cron(0 5 ? * MON-FRI *)", 72, 1440),  # the weekend makes a 72-hour gap
        ("cron(0 5 ? * 1 *)", 168, 10080),  # 1 is Sunday in AWS cron: weekly
        ("cron(0 */12 ? * * *)", 12, 720),
        ("cron(0 0,6 ? * * *)", 18, 360),  # uneven times of day: 6 h and 18 h
        ("cron(30 23 ? * * *)", 24, 1440),
        ("cron(0 5 1 * ? *)", 744, 40320),  # monthly: 28 to 31 days
        ("cron(0 5 L * ? *)", 744, 40320),  # last day of the month
        ("cron(0 5 ? * 6#3 *)", 840, 40320),  # third Friday: 4 or 5 weeks apart
        ("cron(0 5 1 1,7 ? *)", 4416, 260640),  # January and July: 181 and 184 days
        ("cron(0 5 15W * ? *)", 768, 40320),  # nearest weekday to the 15th: Feb 14 2026 is a Saturday
    ],
)
def test_gaps(expression, max_gap_hours, min_gap_minutes):
    found = cadence(expression)
    assert found.max_gap_hours == max_gap_hours
    assert found.min_gap_minutes == min_gap_minutes


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 day)", "only cron()"),
        ("cron(0 5 * * *)", "6 fields"),
        ("0 5 ? * * *", r"must be cron\("),
        ("cron(0 5 * * * *)", "day-of-month"),  # both day fields set
        ("cron(0 24 ? * * *)", "hour"),
        ("cron(0 5 ? * 8 *)", "day-of-week"),
    ],
)
def test_invalid_schedules_are_rejected(expression, message):
    with pytest.raises(ScheduleError, match=message):
        cadence(expression)


def test_cadence_does_not_depend_on_the_day_it_runs():
    assert cadence.__wrapped__("cron(0 5 ? * MON-FRI *)") == cadence.__wrapped__("cron(0 5 ? * MON-FRI *)")


def outcome(expression):
    """An expression's cadence (uncached), or the error it raises, for comparing two ways of computing it."""
    from backupguard.resolve import schedule

    try:
        return schedule.cadence.__wrapped__(expression)
    except ValueError as exc:
        return type(exc).__name__, str(exc)


def test_the_daily_shortcut_answers_as_aws_croniter_does(monkeypatch):
    """One time of day on every day is answered without aws-croniter: the same Cadence, and any
    expression the shortcut does not cover (or that AWS rejects) still goes to aws-croniter."""
    from backupguard.resolve import schedule

    minutes = ["0", "00", "5", "05", "30", "59", "60", "007", "*", "0/5", "1,2", "-1"]
    hours = ["0", "00", "5", "09", "12", "19", "23", "24", "*", "0/6", "1-2", "1.5"]
    days = ["? * * *", "* * ? *", "* * * *", "? * ? *", "? * MON *", "1 * ? *", "? * * 2027", "? JAN * *"]
    expressions = [f"cron({m} {h} {d})" for m in minutes for h in hours for d in days]
    shortcut = {e: outcome(e) for e in expressions}
    monkeypatch.setattr(schedule, "_EVERY_DAY", frozenset())
    monkeypatch.setattr(schedule, "_plain_fires", lambda *args: None)  # aws-croniter itself
    schedule._fires.cache_clear()
    assert {e: outcome(e) for e in expressions} == shortcut
    schedule._fires.cache_clear()
    assert shortcut["cron(05 09 ? * * *)"] == schedule.Cadence(timedelta(days=1), timedelta(days=1), 1)


def test_a_schedules_halves_are_evaluated_once_per_process():
    from backupguard.resolve import schedule

    schedule._fires.cache_clear()
    for expression in ("cron(0 1 ? * SUN *)", "cron(0 6 ? * SUN *)", "cron(0 6 1 * ? *)"):
        cadence.__wrapped__(expression)
    info = schedule._fires.cache_info()
    assert (info.misses, info.hits) == (4, 2)  # the days of SUN and of the 1st, the times 0 1 and 0 6


DAYS_OF_WEEK = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "1", "4", "7", "MON-FRI", "2-6", "SAT-SUN", "7-1",
                "2,3,4,5,6,7,1", "MON,WED,FRI", "1,7", "MON-WED,FRI", "mon", "Fri", "*-MON", "FRI-*", "3-3",
                "1-7", "SUN,SUN", "8", "0", "MON-", "6L", "L", "6#3", "2#5"]


def test_days_of_week_alone_are_walked_for_two_weeks_with_the_gaps_of_a_year(monkeypatch):
    """A day-of-week schedule repeats weekly: 15 days give the gaps the 400-day walk gives (L and #
    schedules, which depend on the month, still walk the year)."""
    from backupguard.resolve import schedule

    expressions = [f"cron({time} ? * {dow} *)" for time in ("0 5", "0 0,12", "30 23", "0 */7") for dow in DAYS_OF_WEEK]
    short = {e: outcome(e) for e in expressions}
    monkeypatch.setattr(schedule, "_WEEKS", schedule._HORIZON)
    schedule._fires.cache_clear()
    assert {e: outcome(e) for e in expressions} == short
    assert short["cron(0 5 ? * MON-FRI *)"].max_gap_hours == 72


def test_plain_fields_are_walked_without_aws_croniter_as_it_would_walk_them(monkeypatch):
    """Plain fields (numbers, names, ranges, steps, lists) are evaluated without aws-croniter: on a grid
    of times of day and calendar fields, valid and invalid, the cadence (or the error) is the same as
    when every expression goes to aws-croniter, and so are the fire times of the halves."""
    from backupguard.resolve import schedule

    times = ["0 5", "30 23", "0 0,12", "0 */6", "15 8-17", "0/20 1", "5-10/5 3", "007 5", "0 24", "60 1", "0 1-", "* 2"]
    calendars = [
        "? * MON *", "? * MON-FRI *", "? * SUN,SAT *", "? * 2-6/2 *", "? * mon *", "? * 8 *", "? * FRI-MON *",
        "1 * ? *", "1,15 * ? *", "*/10 * ? *", "31 * ? *", "29 FEB ? *", "30 FEB ? *", "1 JAN,JUL ? *", "1 */3 ? *",
        "1-7 * ? *", "15 * ? 2027", "1 1 ? 2026-2027", "? * * *", "* * ? *", "1 * MON *", "? * ? *", "L * ? *",
        "? * 6#3 *", "15W * ? *", "1 13 ? *", "0 * ? *", "? * * 2199", "1 JAN ? 2199", "1 * ? 1969", "? JUNE * *",
        "? * 1-7 *", "? * SUN-SAT *", "? * 7,1 *", "1-31/2 * ? *", "5/10 * ? *", "? 2-11/3 MON *", "1 * ? 2026/2",
        "? * MON-FRI/2 *", "0 JAN ? *", "1 0 ? *", "? * SUN#1 *", "? * 1-8 *", "32 * ? *", "1 JAN-MAR ? *",
    ]
    expressions = [f"cron({t} {c})" for t in times for c in calendars]
    plain = {e: outcome(e) for e in expressions}
    schedule._fires.cache_clear()
    monkeypatch.setattr(schedule, "_plain_fires", lambda *args: None)
    assert {e: outcome(e) for e in expressions} == plain
    schedule._fires.cache_clear()
    assert plain["cron(0 5 ? * MON-FRI *)"].max_gap_hours == 72
    assert plain["cron(0 5 1,15 * ? *)"].max_gap_hours == 17 * 24


def test_plain_fire_times_are_aws_croniters():
    from backupguard.resolve import schedule

    start = schedule._REFERENCE
    for expression, until, limit in [("0,30 */4 * * ? *", start + timedelta(days=2), 100),
                                     ("0 0 ? * TUE,THU *", start + timedelta(days=60), 5),
                                     ("15 6 29 FEB ? *", schedule._FAR_FUTURE, 2),
                                     ("0 12 1 */2 ? 2026-2030", start + timedelta(days=1000), 450)]:
        plain = schedule._plain_fires(expression, start, until, limit)
        assert plain, expression
        schedule._fires.cache_clear()
        from aws_croniter import AwsCroniter

        cron, cursor, expected = AwsCroniter(expression), start - timedelta(seconds=1), []
        while len(expected) < limit:
            moment = cron.get_next(cursor, n=1)[0]
            if moment is None or moment >= until:
                break
            expected.append(moment)
            cursor = moment
        assert list(plain) == expected, expression
