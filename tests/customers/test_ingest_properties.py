"""Properties of the ingest validators, over values Hypothesis makes up.

Whatever JSON an upstream system sends, validation either cleans the value or
raises `Invalid` with a message (never another exception, which would be a 500),
and what it keeps can be stored as JSON and read back unchanged.
"""

import json
import math
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from customers.ingest import (
    VALUE_CLEANERS,
    Invalid,
    clean_attribute_item,
    clean_attribute_value,
    clean_customer,
    clean_text,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What json.loads can hand us: infinities included (a JSON number like 1e400 becomes inf).
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_types = st.sampled_from(sorted(VALUE_CLEANERS))


def cleaned_or_invalid(clean, *args):
    try:
        return clean(*args)
    except Invalid as invalid:
        assert isinstance(invalid.field, str) and invalid.message
        return Invalid


@FAST
@example(field_type="numeric", value="1e400")  # a finite Decimal, an infinite float
@example(field_type="array", value=[[math.inf]])  # json.loads("[[1e400]]")
@example(field_type="array", value='[{"a": 1e999}]')
@given(field_type=field_types, value=json_values | st.from_regex(r"\s*-?[0-9.eE+]{1,12}\s*"))
def test_any_json_value_is_cleaned_or_refused_with_a_message(field_type, value):
    cleaned = cleaned_or_invalid(clean_attribute_value, field_type, value)

    if cleaned is not Invalid:
        stored = json.dumps(cleaned, allow_nan=False)  # PostgreSQL's jsonb has no Infinity
        assert json.loads(stored) == cleaned


@FAST
@given(item=json_values)
def test_any_json_item_is_a_customer_or_refused_with_a_message(item):
    cleaned_or_invalid(clean_customer, item)


@FAST
@given(
    item=st.fixed_dictionaries(
        {},
        optional={
            "lms_lead_id": json_values,
            "customer_id": json_values,
            "field_name": st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True),
            "field_type": field_types,
            "field_value": json_values,
        },
    )
)
@example(item={"customer_id": math.inf, "field_name": "a", "field_type": "numeric"})
def test_any_attribute_item_is_cleaned_or_refused_with_a_message(item):
    cleaned_or_invalid(clean_attribute_item, item)


@FAST
@example(number=Decimal("-1E+309"), padding="")
@given(
    number=st.decimals(allow_nan=False, allow_infinity=False),
    padding=st.sampled_from(["", " ", "\t"]),
)
def test_numeric_strings_parse_like_decimal(number, padding):
    cleaned = cleaned_or_invalid(clean_attribute_value, "numeric", f"{padding}{number}{padding}")

    if not math.isfinite(float(number)):
        assert cleaned is Invalid  # too large for a JSON number anyone can read
    elif isinstance(cleaned, int):
        assert Decimal(cleaned) == number
    else:
        assert cleaned == float(number)


@FAST
@given(number=st.integers(min_value=-(10**17), max_value=10**17))
def test_whole_numbers_stay_exact_integers_whether_sent_as_numbers_or_text(number):
    assert clean_attribute_value("numeric", number) == number
    assert clean_attribute_value("numeric", str(number)) == number
    assert type(clean_attribute_value("numeric", str(number))) is int


@FAST
@given(text=st.text(max_size=300))
def test_text_is_trimmed_and_limited_or_refused(text):
    cleaned = cleaned_or_invalid(clean_text, text, "first_name")

    if cleaned is not Invalid:
        assert cleaned is None or (cleaned == text.strip() and len(cleaned) <= 255)
        assert "\x00" not in (cleaned or "")
