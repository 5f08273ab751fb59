"""Cron schedules: validate, describe, next runs, slots, and the builder form.

The only module that imports the cron libraries (croniter, cron-descriptor).
The rules follow the cron that runs the lines (Debian's Vixie cron): five
fields, lists, ranges, steps, and three-letter month and weekday names in any
case. What that cron would refuse, or would accept but never run, is refused
here with the reason.

The builder state is a JSON-shaped dict shared with `static/automations/cron_builder.js`:

    {"mode": "preset", "preset": "minutes", "interval": 15}
    {"mode": "preset", "preset": "hourly", "minute": 30}
    {"mode": "preset", "preset": "daily", "hour": 9, "minute": 0}
    {"mode": "preset", "preset": "weekly", "weekdays": [1, 2, 3, 4, 5], "hour": 9, "minute": 0}
    {"mode": "preset", "preset": "monthly", "day": 1, "hour": 9, "minute": 0}
    {"mode": "advanced", "fields": {"minute": FIELD, "hour": FIELD, "day": FIELD,
                                    "month": FIELD, "weekday": FIELD}}
    FIELD = {"kind": "every"} | {"kind": "step", "step": 2}
          | {"kind": "values", "values": [1, 15]} | {"kind": "range", "start": 9, "end": 17}
          plus, for month and weekday, "names": "numbers" | "upper" | "lower" | "title"
    {"mode": "custom"}   (an expression the builder cannot reproduce exactly)

`builder_state` only returns a preset or advanced state when
`expression_from_builder` gives back exactly the same expression, so the round
trip expression → form → expression holds by construction.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cron_descriptor import Options, get_description
from croniter import croniter
from django.conf import settings

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class CronError(ValueError):
    """An expression cron cannot run; the message says why, for the marketer."""


@dataclass(frozen=True)
class Field:
    key: str  # the builder's name for the field
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def number(self, token: str) -> int:
        """One value of the field, by number or (month, weekday) by name."""
        if _digits(token):
            value = int(token)
        elif token.lower() in self.names:
            value = self.names.index(token.lower()) + self.low
        elif token.isalpha() and self.names:
            raise CronError(f"{self.label}: {token!r} is not a {self.key} name ({self.hint()})")
        else:
            raise CronError(f"{self.label}: {token!r} is not a number")
        if not self.low <= value <= self.high:
            raise CronError(f"{self.label}: {value} is out of range {self.low}-{self.high}")
        return value

    def hint(self) -> str:
        return f"{self.names[0]}, {self.names[1]}, … {self.names[-1]}"


FIELDS = (
    Field("minute", "Minute", 0, 59),
    Field("hour", "Hour", 0, 23),
    Field("day", "Day of month", 1, 31),
    Field("month", "Month", 1, 12, MONTH_NAMES),
    Field("weekday", "Day of week", 0, 7, WEEKDAY_NAMES),  # 0 and 7 are both Sunday
)
MINUTE, HOUR, DAY, MONTH, WEEKDAY = FIELDS
ITEM = re.compile(r"(?P<base>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[A-Za-z0-9]+))?")


def validate_cron(expression: str) -> str:
    """The expression with its whitespace normalised, or CronError with the reason."""
    parts = expression.split()
    if expression.strip().startswith("@"):
        raise CronError("Write the schedule as five fields (for @daily: 0 0 * * *).")
    if len(parts) != 5:
        raise CronError(
            f"A cron expression has five fields (minute hour day-of-month month day-of-week); "
            f"this one has {len(parts)}."
        )
    values = [parse_field(text, field) for text, field in zip(parts, FIELDS, strict=True)]
    # Like Vixie cron: a day-of-week field starting with "*" does not widen the days.
    day_only = not parts[2].startswith("*") and parts[4].startswith("*")
    if day_only and not _some_day_exists(values[2], values[3]):
        raise CronError("Day of month: none of these days exists in the chosen months.")
    normalised = " ".join(parts)
    if not croniter.is_valid(normalised):
        raise CronError("This expression is not supported.")
    return normalised


def parse_field(text: str, field: Field) -> set[int]:
    """The values one field stands for; CronError names the field and the fault."""
    values: set[int] = set()
    for item in text.split(","):
        values |= _parse_item(item, field)
    return values


def _parse_item(item: str, field: Field) -> set[int]:
    match = ITEM.fullmatch(item)
    if not match:
        raise CronError(f"{field.label}: {item!r} is not a value, range or step")
    base, step_text = match["base"], match["step"]
    if base == "*":
        start, end = field.low, field.high
    elif "-" in base:
        start, end = (field.number(token) for token in base.split("-"))
        if start > end:
            raise CronError(f"{field.label}: the range {base} runs backwards, so it never runs")
    elif step_text is not None:
        # Vixie cron reads 5/15 as "5 only"; other tools as 5-59/15. Refuse the ambiguity.
        raise CronError(f"{field.label}: write {base}-{field.high}/{step_text}, not {item}")
    else:
        start = end = field.number(base)
    step = _step(step_text, field) if step_text is not None else 1
    return {value % 7 if field is WEEKDAY else value for value in range(start, end + 1, step)}


def _step(text: str, field: Field) -> int:
    if not _digits(text) or int(text) == 0:
        raise CronError(f"{field.label}: the step {text!r} must be a whole number above 0")
    return int(text)


def _some_day_exists(days: set[int], months: set[int]) -> bool:
    # With only day-of-month restricted, cron runs on those days; 29 February counts.
    return any(day <= calendar.monthrange(2024, month)[1] for day in days for month in months)


def describe_cron(expression: str) -> str:
    """The schedule in words, e.g. "At 09:00, Monday through Friday"."""
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    return get_description(validate_cron(expression), options)


def server_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def next_runs(expression: str, *, now: datetime, count: int = 5) -> list[datetime]:
    """The next `count` run times after `now`, in the server's time zone."""
    ticks = _ticks(expression, now.astimezone(server_zone()))
    return [ticks.get_next(datetime) for _ in range(count)]


def schedule_slot(expression: str, *, now: datetime) -> datetime:
    """The latest tick at or before `now` (the slot a run started at `now` belongs to)."""
    minute = now.astimezone(server_zone()).replace(second=0, microsecond=0)
    return _ticks(expression, minute + timedelta(minutes=1)).get_prev(datetime)


def _ticks(expression: str, start: datetime) -> croniter:
    # implement_cron_bug: like Vixie cron, a day field starting with "*" (e.g. */2)
    # is ANDed with the other day field instead of ORed.
    return croniter(validate_cron(expression), start, implement_cron_bug=True)


# -- The builder form ---------------------------------------------------------------------------


def expression_from_builder(state: dict) -> str:
    """The expression the builder state produces; CronError when it is incomplete."""
    try:
        if state.get("mode") == "preset":
            expression = _preset_expression(state)
        elif state.get("mode") == "advanced":
            fields = state["fields"]
            expression = " ".join(_field_text(fields[f.key], f) for f in FIELDS)
        else:
            raise CronError("Type the expression: the builder cannot express it.")
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, CronError):
            raise
        raise CronError("The schedule builder is incomplete.") from None
    return validate_cron(expression)


def _preset_expression(state: dict) -> str:
    preset = state["preset"]
    if preset == "minutes":
        return f"*/{_whole(state['interval'], 1, 59)} * * * *"
    minute = _whole(state["minute"], 0, 59)
    if preset == "hourly":
        return f"{minute} * * * *"
    hour = _whole(state["hour"], 0, 23)
    if preset == "daily":
        return f"{minute} {hour} * * *"
    if preset == "weekly":
        days = sorted({_whole(day, 0, 6) for day in state["weekdays"]})
        if not days:
            raise CronError("Choose at least one day of the week.")
        return f"{minute} {hour} * * {_compress(days)}"
    if preset == "monthly":
        return f"{minute} {hour} {_whole(state['day'], 1, 31)} * *"
    raise CronError(f"Unknown schedule preset {preset!r}.")


def _whole(value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CronError(f"{value!r} is not a whole number")
    if isinstance(value, str) and not _digits(value):
        raise CronError(f"{value!r} is not a whole number")
    number = int(value)
    if not low <= number <= high:
        raise CronError(f"{number} is out of range {low}-{high}")
    return number


def _compress(days: list[int]) -> str:
    """Sorted weekdays as cron text: runs of three or more become ranges (1-5)."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)) for run in runs
    )


def _field_text(spec: dict, field: Field) -> str:
    kind = spec["kind"]
    if kind == "every":
        return "*"
    if kind == "step":
        return f"*/{_whole(spec['step'], 1, field.high)}"
    top = field.high if field is not WEEKDAY else 6
    if kind == "values":
        values = sorted({_whole(value, field.low, top) for value in spec["values"]})
        if not values:
            raise CronError(f"{field.label}: choose at least one value.")
        return ",".join(_spell(value, field, spec) for value in values)
    if kind == "range":
        start, end = _whole(spec["start"], field.low, top), _whole(spec["end"], field.low, top)
        if start >= end:
            raise CronError(f"{field.label}: the range must run from a lower to a higher value.")
        return f"{_spell(start, field, spec)}-{_spell(end, field, spec)}"
    raise CronError(f"{field.label}: unknown choice {kind!r}.")


def _spell(value: int, field: Field, spec: dict) -> str:
    style = spec.get("names", "numbers") if field.names else "numbers"
    if style == "numbers":
        return str(value)
    name = field.names[value - field.low]
    return {"upper": name.upper(), "lower": name, "title": name.title()}[style]


def builder_state(expression: str) -> dict:
    """The builder state that produces exactly `expression` ({"mode": "custom"} if none).

    A preset when one fits, else the advanced controls.
    """
    try:
        expression = validate_cron(expression)
    except CronError:
        return {"mode": "custom"}
    for state in (*_preset_candidates(expression.split()), _advanced_candidate(expression)):
        if state and _produces(state, expression):
            return state
    return {"mode": "custom"}


def advanced_state(expression: str) -> dict | None:
    """The advanced controls that produce exactly `expression`, or None."""
    try:
        state = _advanced_candidate(validate_cron(expression))
    except CronError:
        return None
    return state if state and _produces(state, expression) else None


def _produces(state: dict, expression: str) -> bool:
    try:
        return expression_from_builder(state) == expression
    except CronError:
        return False


def _preset_candidates(parts: list[str]) -> list[dict]:
    minute, hour, day, month, weekday = parts
    if hour == "*" and day == month == weekday == "*":
        if match := re.fullmatch(r"\*/([0-9]+)", minute):
            return [{"mode": "preset", "preset": "minutes", "interval": int(match[1])}]
        if _digits(minute):
            return [{"mode": "preset", "preset": "hourly", "minute": int(minute)}]
        return []
    if not (_digits(minute) and _digits(hour)):
        return []
    time = {"mode": "preset", "hour": int(hour), "minute": int(minute)}
    if day == month == weekday == "*":
        return [time | {"preset": "daily"}]
    if day == month == "*" and re.fullmatch(r"[0-9,-]+", weekday):
        return [time | {"preset": "weekly", "weekdays": sorted(parse_field(weekday, WEEKDAY))}]
    if _digits(day) and month == weekday == "*":
        return [time | {"preset": "monthly", "day": int(day)}]
    return []


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _advanced_candidate(expression: str) -> dict | None:
    fields = {}
    for text, field in zip(expression.split(), FIELDS, strict=True):
        spec = _field_spec(text, field)
        if spec is None:
            return None
        fields[field.key] = spec
    return {"mode": "advanced", "fields": fields}


def _field_spec(text: str, field: Field) -> dict | None:
    if text == "*":
        return {"kind": "every"}
    if match := re.fullmatch(r"\*/([0-9]+)", text):
        return {"kind": "step", "step": int(match[1])}
    style = _name_style(re.split(r"[,-]", text), field)
    if style is None:
        return None
    named = {"names": style} if field.names else {}
    if re.fullmatch(r"[A-Za-z0-9]+-[A-Za-z0-9]+", text):
        start, end = (field.number(token) for token in text.split("-"))
        return {"kind": "range", "start": start, "end": end} | named
    if re.fullmatch(r"[A-Za-z0-9]+(,[A-Za-z0-9]+)*", text):
        return {"kind": "values", "values": [field.number(t) for t in text.split(",")]} | named
    return None


def _name_style(tokens: list[str], field: Field) -> str | None:
    """How the tokens spell values: all numbers, or all names in one case; else None."""
    if all(_digits(token) for token in tokens):
        return "numbers"
    for style, spell in (("upper", str.upper), ("lower", str.lower), ("title", str.title)):
        if field.names and all(
            token.isascii() and token.isalpha() and token == spell(token) for token in tokens
        ):
            return style
    return None
