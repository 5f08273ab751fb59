from datetime import UTC, datetime

import pytest

from automations.scheduling import (
    CronError,
    advanced_state,
    builder_state,
    describe_cron,
    expression_from_builder,
    next_runs,
    schedule_slot,
    validate_cron,
)

# The table, plus the shapes each builder control produces.
ROUND_TRIP = [
    ("*/15 * * * *", "preset"),
    ("0 9 * * 1-5", "preset"),
    ("30 8 1,15 * *", "advanced"),
    ("0 0 1 1 *", "advanced"),
    ("5 4 * * sun", "advanced"),
    ("0 */2 * * *", "advanced"),
    ("0 9-17 * * MON-FRI", "advanced"),
    ("30 * * * *", "preset"),
    ("0 9 * * *", "preset"),
    ("0 9 * * 1,3,5", "preset"),
    ("0 9 * * 0,6", "preset"),
    ("45 6 15 * *", "preset"),
    ("* * * * *", "advanced"),
    ("*/1 * * * *", "preset"),
    ("0 9 * * 1-2", "advanced"),
    ("15 10 * Jan-Mar Mon", "advanced"),
    ("0 12 * jun,dec sun,sat", "advanced"),
    ("0 0 */3 * *", "advanced"),
    ("0 6 * 1-6 *", "advanced"),
]

INVALID = [
    ("", "five fields"),
    ("* * * *", "this one has 4"),
    ("0 0 1 1 * *", "this one has 6"),
    ("@daily", "0 0 * * *"),
    ("61 * * * *", "Minute: 61 is out of range 0-59"),
    ("0 24 * * *", "Hour: 24 is out of range 0-23"),
    ("0 0 0 * *", "Day of month: 0 is out of range 1-31"),
    ("0 0 * 13 *", "Month: 13 is out of range 1-12"),
    ("0 0 * * 8", "Day of week: 8 is out of range 0-7"),
    ("*/0 * * * *", "step '0'"),
    ("0 5-1 * * *", "runs backwards"),
    ("5/15 * * * *", "write 5-59/15"),
    ("0 0 ? * *", "'?' is not a value"),
    ("0 0 L * *", "'L' is not a number"),
    ("0 0 * * funday", "not a weekday name"),
    ("0 0 * smarch *", "not a month name"),
    ("0 0 31 2 *", "none of these days exists"),
    ("0 0 31 4,6,9,11 *", "none of these days exists"),
    ("0 0 30 2 */2", "none of these days exists"),
    ("0 ٣ * * *", "not a value"),
]


@pytest.mark.parametrize(("expression", "mode"), ROUND_TRIP)
def test_the_builder_gives_back_the_same_expression(expression, mode):
    state = builder_state(expression)

    assert state["mode"] == mode
    assert expression_from_builder(state) == expression


@pytest.mark.parametrize(("expression", "reason"), INVALID)
def test_it_refuses_what_cron_cannot_run_with_the_reason(expression, reason):
    with pytest.raises(CronError, match=reason.replace("*", r"\*").replace("?", r"\?")):
        validate_cron(expression)


@pytest.mark.parametrize(
    "expression",
    ["0 0 29 2 *", "0 0 31 2 mon", "0 0 * * 7", "0 0 * * 0-7", "0 0 30 2,4 *", "0-59/70 * * * *"],
)
def test_it_accepts_what_cron_runs(expression):
    assert validate_cron(expression) == expression


def test_it_normalises_whitespace():
    assert validate_cron("  0   9 *\t* 1-5 ") == "0 9 * * 1-5"


@pytest.mark.parametrize(
    "expression", ["0 0 * * 7", "05 4 * * *", "1-5,7 * * * *", "0 9 * * 1,WED", "0 9 * * sat,sun"]
)
def test_expressions_the_builder_cannot_reproduce_stay_custom(expression):
    assert builder_state(expression) == {"mode": "custom"}


def test_invalid_expressions_stay_custom_in_the_builder():
    assert builder_state("61 * * * *") == {"mode": "custom"}


@pytest.mark.parametrize(
    ("state", "expression"),
    [
        ({"mode": "preset", "preset": "minutes", "interval": 5}, "*/5 * * * *"),
        ({"mode": "preset", "preset": "hourly", "minute": "7"}, "7 * * * *"),
        ({"mode": "preset", "preset": "daily", "hour": 18, "minute": 30}, "30 18 * * *"),
        (
            {
                "mode": "preset",
                "preset": "weekly",
                "weekdays": [5, 1, 2, 3, 4],
                "hour": 9,
                "minute": 0,
            },
            "0 9 * * 1-5",
        ),
        ({"mode": "preset", "preset": "monthly", "day": 1, "hour": 8, "minute": 0}, "0 8 1 * *"),
    ],
)
def test_presets_produce_their_expression(state, expression):
    assert expression_from_builder(state) == expression


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (
            {"mode": "preset", "preset": "weekly", "weekdays": [], "hour": 9, "minute": 0},
            "at least one day",
        ),
        ({"mode": "preset", "preset": "daily", "hour": 25, "minute": 0}, "out of range"),
        ({"mode": "preset", "preset": "daily", "minute": 0}, "incomplete"),
        ({"mode": "preset", "preset": "hourly", "minute": "x"}, "not a whole number"),
        (
            {"mode": "preset", "preset": "monthly", "day": 31, "hour": 9, "minute": True},
            "whole number",
        ),
        ({"mode": "custom"}, "Type the expression"),
        (
            {
                "mode": "advanced",
                "fields": {
                    "minute": {"kind": "values", "values": []},
                    "hour": {"kind": "every"},
                    "day": {"kind": "every"},
                    "month": {"kind": "every"},
                    "weekday": {"kind": "every"},
                },
            },
            "Minute: choose at least one value",
        ),
        (
            {
                "mode": "advanced",
                "fields": {
                    "minute": {"kind": "every"},
                    "hour": {"kind": "range", "start": 17, "end": 9},
                    "day": {"kind": "every"},
                    "month": {"kind": "every"},
                    "weekday": {"kind": "every"},
                },
            },
            "Hour: the range must run from a lower to a higher value",
        ),
    ],
)
def test_an_incomplete_builder_is_refused_with_the_reason(state, reason):
    with pytest.raises(CronError, match=reason):
        expression_from_builder(state)


def test_it_describes_the_schedule_in_words():
    assert describe_cron("0 9 * * 1-5") == "At 09:00, Monday through Friday"
    assert describe_cron("*/15 * * * *") == "Every 15 minutes"


def test_next_runs_are_in_the_server_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    now = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 09:30 in Kolkata

    runs = next_runs("0 9 * * 1-5", now=now, count=3)

    assert [run.isoformat() for run in runs] == [
        "2026-11-25T09:00:00+05:30",
        "2026-11-26T09:00:00+05:30",
        "2026-11-27T09:00:00+05:30",
    ]


def test_next_runs_keep_the_local_time_across_daylight_saving(settings):
    settings.TIME_ZONE = "Europe/London"  # clocks go back on 25 October 2026
    now = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)

    runs = next_runs("0 9 * * *", now=now, count=3)

    assert [run.isoformat() for run in runs] == [
        "2026-10-24T09:00:00+01:00",
        "2026-10-25T09:00:00+00:00",
        "2026-10-26T09:00:00+00:00",
    ]


def test_a_day_of_month_step_is_anded_with_the_weekday_like_cron_does():
    runs = next_runs("0 0 */2 * 1", now=datetime(2026, 11, 1, tzinfo=UTC), count=3)

    assert [run.day for run in runs] == [9, 23, 7]
    assert all(run.weekday() == 0 for run in runs)


def test_the_slot_is_the_tick_at_or_before_the_moment():
    tick = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    assert schedule_slot("0 9 * * *", now=tick) == tick
    assert schedule_slot("0 9 * * *", now=tick.replace(second=59, minute=14)) == tick
    assert schedule_slot("0 9 * * *", now=tick.replace(hour=8)) == tick.replace(day=23)


def test_the_advanced_controls_can_show_preset_expressions_too():
    state = advanced_state("0 9 * * 1-5")

    assert state["fields"]["weekday"] == {"kind": "range", "start": 1, "end": 5, "names": "numbers"}
    assert expression_from_builder(state) == "0 9 * * 1-5"
    assert advanced_state("0 9 * * 1-3,5") is None
    assert advanced_state("not cron") is None
