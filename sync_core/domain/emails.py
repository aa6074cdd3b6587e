"""Contact identity: an email address trimmed, lower-cased and validated (RFC 5321/5322 syntax, no DNS).

``email-validator`` is the judge, but it costs about 30 µs a call, more than the whole budget of one event in a
bulk import. Most addresses are plain ASCII ``local@domain.tld``; a strict pattern accepts exactly those (a subset
of what email-validator accepts, which a property test checks) and everything else goes to email-validator.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# Dot-atom local part of ASCII "atext", labels of letters/digits/hyphens, an alphabetic TLD of 2+ letters.
_PLAIN_ADDRESS = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
# Special-use names (RFC 6761 and friends) that email-validator refuses; the fast path must refuse them too.
_SPECIAL_USE_SUFFIXES = (".arpa", ".invalid", ".local", ".localhost", ".onion", ".test", ".internal", ".alt")
_MAX_LENGTH = 254
_MAX_LOCAL_LENGTH = 64


class InvalidEmail(ValueError):
    """The address cannot be a MailerLite subscriber; the message says why in plain words."""


def normalize_email(raw: object) -> str:
    """Return the contact's identity for ``raw`` or raise ``InvalidEmail`` with a plain reason."""
    if raw is None:
        raise InvalidEmail("there is no email address")
    if not isinstance(raw, str):
        raise InvalidEmail(f"the email address should be text, not {type(raw).__name__} ({raw!r})")
    text = raw.strip().lower()
    if not text:
        raise InvalidEmail("the email address is empty")
    if _is_plain_address(text):
        return text
    return _validate_with_library(text)


def _is_plain_address(text: str) -> bool:
    if len(text) > _MAX_LENGTH or _PLAIN_ADDRESS.fullmatch(text) is None:
        return False
    local, _, domain = text.partition("@")
    # "--" inside a label is reserved by IDNA (xn--...); leave those rare domains to the library.
    return len(local) <= _MAX_LOCAL_LENGTH and "--" not in domain and not domain.endswith(_SPECIAL_USE_SUFFIXES)


@lru_cache(maxsize=4096)
def _validate_with_library(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{text!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()
