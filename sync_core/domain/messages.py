"""An exception as one sentence a marketer can act on: its ``plain`` words when it has them (MailerLite's
errors do), else its own message without the parts only a developer reads (status codes and request lines,
``[Errno …]``, retry counts, class names). Pages and the CLI say errors through this one function."""

from __future__ import annotations

import re

_NOISE = (
    re.compile(r"\s*\((?:\d{3}|[\w.]*Error|[\w.]*Exception)\b[^)]*\)"),  # "(500 on POST /api/…)", "(ConnectError: …)"
    re.compile(r"\s*\(Background on this error at:[^)]*\)"),  # SQLAlchemy's link
    re.compile(r"\s*\[SQL:.*", re.DOTALL),  # SQLAlchemy's statement and parameters
    re.compile(r"\s*\[Errno [^\]]*\][^;.]*"),
    re.compile(r"\s*after \d+ attempt\(s\)"),
    re.compile(r"\b[A-Z]\w*(?:Error|Exception):\s*"),
    re.compile(r"\s+for (?:GET|POST|PUT|PATCH|DELETE) /\S+"),
)


def plain_message(exc: BaseException, fallback: str = "something went wrong; try again in a moment") -> str:
    """The sentence to show for ``exc``; ``fallback`` when nothing readable is left."""
    plain = getattr(exc, "plain", None)
    if isinstance(plain, str) and plain.strip():
        return plain.strip()
    text = str(exc).strip()
    for pattern in _NOISE:
        text = pattern.sub("", text)
    text = text.strip(" :;,")
    return text or fallback
