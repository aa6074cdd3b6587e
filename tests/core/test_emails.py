"""Contact identity: the fast path must never accept an address email-validator refuses."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sync_core.domain.emails import InvalidEmail, _is_plain_address, normalize_email

atext = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.", min_size=1, max_size=70)
label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=65)
candidate = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    atext,
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(["com", "io", "test", "local", "c", "co1", "example", "onion", "arpa"]),
)


@settings(max_examples=500)
@given(candidate)
@example("a@b.co")
@example("user.name+tag@sub-domain.example.com")
@example("x@localhost.localhost")
@example("0@00--0.com")
def test_fast_path_is_a_subset_of_email_validator(address):
    if _is_plain_address(address):
        validate_email(address, check_deliverability=False)  # must not raise
        assert normalize_email(address) == address


@given(candidate)
def test_normalize_agrees_with_email_validator(address):
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        with pytest.raises(InvalidEmail):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected


def test_unicode_addresses_go_through_the_library():
    assert normalize_email("Jörg@Exämple.com") == "jörg@exämple.com"


@pytest.mark.parametrize("raw", ["plainaddress", "@example.com", "a@b", "a b@example.com", "a..b@example.com"])
def test_invalid_addresses_explain_themselves(raw):
    with pytest.raises(InvalidEmail, match="not a valid email address"):
        normalize_email(raw)
