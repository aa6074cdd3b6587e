"""Transforms and MailerLite field types, with properties checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.transforms import (
    TRANSFORMS,
    ValueProblem,
    apply_transform,
    cents_to_decimal,
    first_word,
    fit_value,
    last_word,
    to_date,
    to_datetime,
    to_iso_datetime,
    to_number,
)

aware_datetimes = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_cents_to_decimal_is_exact_with_two_places(cents):
    text = cents_to_decimal(cents)
    assert Decimal(text) * 100 == cents
    assert len(text.split(".")[1]) == 2
    assert cents_to_decimal(str(cents)) == text


@pytest.mark.parametrize(
    "value,expected",
    [(400, "4.00"), (10000, "100.00"), (1999, "19.99"), (5, "0.05"), (-250, "-2.50"), (400.0, "4.00"), ("0", "0.00")],
)
def test_cents_to_decimal_examples(value, expected):
    assert cents_to_decimal(value) == expected


@pytest.mark.parametrize("value", ["abc", "4.5", 4.5, True, None, [400]])
def test_cents_to_decimal_refuses_what_is_not_whole_cents(value):
    with pytest.raises(ValueProblem, match="not an amount in cents"):
        cents_to_decimal(value)


@given(aware_datetimes)
def test_date_and_datetime_formats_round_trip(moment):
    assert to_date(moment) == moment.strftime("%Y-%m-%d")
    assert to_date(moment.isoformat()) == to_date(moment)
    assert to_date(to_date(moment)) == to_date(moment)  # idempotent
    assert datetime.strptime(to_datetime(moment.isoformat()), "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=UTC
    ) == moment.replace(microsecond=0)
    assert to_iso_datetime(moment).endswith("Z") and to_iso_datetime(moment)[:19] == moment.strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


def test_dates_are_converted_to_utc():
    assert to_date("2025-08-04T23:30:00-02:00") == "2025-08-05"
    assert to_datetime("2025-08-04T05:30:45.182629Z") == "2025-08-04 05:30:45"
    assert to_iso_datetime("2025-08-04T05:30:45.182629Z") == "2025-08-04T05:30:45.182Z"
    assert to_date(1754285445) == "2025-08-04"


def test_not_a_date_says_what_is_expected():
    with pytest.raises(ValueProblem, match="not a date or time"):
        to_date("next tuesday")


words = st.lists(st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=8), min_size=1, max_size=5)


@given(words)
def test_first_and_last_word(parts):
    name = "  " + "   ".join(parts) + " "
    assert first_word(name) == parts[0]
    assert last_word(name) == (parts[-1] if len(parts) > 1 else "")


@given(st.text(max_size=40))
def test_text_transforms_are_idempotent(text):
    for name in ("trim", "lower", "upper"):
        once = apply_transform(name, text)
        assert apply_transform(name, once) == once


@given(
    st.one_of(
        st.integers(min_value=-(10**9), max_value=10**9),
        st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    )
)
def test_number_parses_what_fit_value_accepts_as_number(number):
    text = str(number)
    assert fit_value(text, "number") == text
    assert Decimal(str(to_number(text))) == Decimal(text)


@pytest.mark.parametrize(
    "value,field_type,expected",
    [
        ("Test user", "text", "Test user"),
        (25, "text", "25"),
        (["a", "b"], "text", "a, b"),
        (True, "text", "true"),
        (25, "number", 25),
        ("750.00", "number", "750.00"),
        (1.5, "number", 1.5),
        ("2025-08-04", "date", "2025-08-04"),
        (datetime(2025, 8, 4, 5, tzinfo=UTC), "date", "2025-08-04"),
        ("2025-08-04 05:30:45", "datetime", "2025-08-04 05:30:45"),
        ("1.1.1.1", "ip", "1.1.1.1"),
    ],
)
def test_values_that_fit(value, field_type, expected):
    assert fit_value(value, field_type) == expected


@pytest.mark.parametrize(
    "value,field_type,hint",
    [
        ("abc", "number", "does not fit a number field"),
        (True, "number", "does not fit a number field"),
        ("2025-08-04T05:30:45Z", "date", 'use the "date" transform'),
        ("2025-02-30", "date", "takes YYYY-MM-DD"),
        ("04/08/2025", "date", "takes YYYY-MM-DD"),
        ({"a": 1}, "text", "map one of its inner fields"),
        ("2025-08-04", "datetime", "YYYY-MM-DD HH:MM:SS"),
        ("not-an-ip", "ip", "not an IP address"),
    ],
)
def test_values_that_do_not_fit_say_how_to_fix_them(value, field_type, hint):
    with pytest.raises(ValueProblem, match=hint.replace("(", r"\(")):
        fit_value(value, field_type)


def test_every_transform_has_a_label():
    assert all(label and callable(function) for label, function in TRANSFORMS.values())
