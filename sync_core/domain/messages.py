"""An exception as words a marketer can act on: its ``plain`` words when it has them (MailerLite's errors do),
else its own message without what only a developer reads (exception class names, ``[Errno …]``, ``(500 on POST
/api/…)``, "after 5 attempt(s)", SQL). Pages and the CLI say every error through ``plain_message``."""

from __future__ import annotations

import re

_METHOD = r"(?:GET|POST|PUT|PATCH|DELETE)"
#: Pieces of a developer's message that a user cannot act on, removed from a message before it is shown.
_NOISE = [
    re.compile(r"\s*\(Background on this error at:[^)]*\)"),  # SQLAlchemy's link
    re.compile(r"\s*\[SQL:.*", re.DOTALL),  # SQLAlchemy's statement and parameters
    re.compile(rf"\s*\(\d{{3}} on {_METHOD} [^)]*\)"),  # (500 on POST /api/subscribers)
    re.compile(rf"\s+(?:for|on) {_METHOD} /[^\s(),]*(?:\([^()]*\))?"),  # for GET /subscribers/(a forgotten …)
    re.compile(r"\s*\([^()]*(?:Error|Exception|Errno|Timeout|attempt)[^()]*\)", re.IGNORECASE),  # (ConnectError: …)
    re.compile(r"\s*\[Errno -?\d+\]\s*"),
    re.compile(r",?\s*after \d+ attempt\(s\)"),
    re.compile(r"\s*\(attempt \d+ of \d+\)"),
    re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Timeout|Refused|Failure)\b:?\s*"),  # ConnectError: …
]
UNEXPECTED = "something went wrong that the studio did not expect; try again in a moment"


def clean_text(text: str) -> str:
    """The text without exception names, error numbers, request paths, attempt counts and SQL."""
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    text = re.sub(r"([.;:,])(?:\s*[.;:,])+", r"\1", text)
    text = re.sub(r"[.;:,]\)", ")", text)
    return text.strip(" ;:,")


def as_sentence(text: str) -> str:
    """A capital first letter and a full stop: how a message is shown on its own line."""
    text = text.strip()
    if not text:
        return text
    if text.split(" ", 1)[0].rstrip(":,;").isalpha():  # not a file name or a path: "h4.csv: …" stays as it is
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def plain_message(exc: BaseException | str, fallback: str = UNEXPECTED) -> str:
    """What a person reads about ``exc``, as a clause to put in a sentence (no full stop at the end);
    ``fallback`` when nothing readable is left."""
    return _words(exc).removesuffix(".") or fallback


def _words(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return clean_text(exc)
    plain = getattr(exc, "plain", None)
    if isinstance(plain, str) and plain.strip():
        return plain.strip()
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename:
            return f"{exc.filename} cannot be used ({exc.strerror.lower()}): check the path and its rights"
        return f"{exc.strerror}: check the connection and try again"
    return clean_text(str(exc))
