"""The cron builder round trip, over expressions Hypothesis makes up.

For every expression the builder can express, expression → form → expression
gives back the same text; for any text at all, the form never breaks (it falls
back to "custom") and validation never raises anything but CronError.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from automations.scheduling import (
    FIELDS,
    WEEKDAY,
    CronError,
    advanced_state,
    builder_state,
    expression_from_builder,
    validate_cron,
)

FAST = settings(max_examples=200, deadline=None)


@st.composite
def builder_field(draw, field):
    """One field as the builder writes it: *, */n, a sorted value list or a range."""
    top = 6 if field is WEEKDAY else field.high
    style = (
        draw(st.sampled_from(["numbers", "upper", "lower", "title"])) if field.names else "numbers"
    )

    def spell(value: int) -> str:
        if style == "numbers":
            return str(value)
        name = field.names[value - field.low]
        return {"upper": name.upper(), "lower": name, "title": name.title()}[style]

    kind = draw(st.sampled_from(["every", "step", "values", "range"]))
    if kind == "every":
        return "*"
    if kind == "step":
        return f"*/{draw(st.integers(1, field.high))}"
    if kind == "values":
        values = draw(st.sets(st.integers(field.low, top), min_size=1, max_size=5))
        return ",".join(spell(value) for value in sorted(values))
    start = draw(st.integers(field.low, top - 1))
    return f"{spell(start)}-{spell(draw(st.integers(start + 1, top)))}"


@st.composite
def builder_expressions(draw):
    expression = " ".join(draw(builder_field(field)) for field in FIELDS)
    try:
        return validate_cron(expression)
    except CronError:  # e.g. only 30 February: valid fields, never runs
        return draw(st.nothing())


@FAST
@given(expression=builder_expressions())
def test_every_expression_the_builder_can_express_comes_back_from_its_form(expression):
    state = builder_state(expression)

    assert state["mode"] in {"preset", "advanced"}
    assert expression_from_builder(state) == expression


@FAST
@given(expression=builder_expressions())
def test_the_advanced_controls_reproduce_every_such_expression(expression):
    state = advanced_state(expression)

    assert state is not None
    assert expression_from_builder(state) == expression


cron_tokens = st.sampled_from(
    [
        "*",
        "*/5",
        "1",
        "0",
        "7",
        "59",
        "60",
        "1-5",
        "5-1",
        "mon",
        "MON",
        "Jan-Mar",
        "1,2",
        "x",
        "*/0",
    ]
)
cron_like = st.lists(cron_tokens, min_size=1, max_size=6).map(" ".join) | st.text(max_size=30)


@FAST
@given(text=cron_like)
def test_any_text_is_valid_or_refused_and_its_form_never_breaks(text):
    try:
        expression = validate_cron(text)
    except CronError as error:
        assert str(error)
        assert builder_state(text) == {"mode": "custom"}
        return
    state = builder_state(expression)
    assert state == {"mode": "custom"} or expression_from_builder(state) == expression
