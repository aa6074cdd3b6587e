"""What the command line says when something goes wrong: one plain sentence, what happened and what to do.

Sub-commands of ``python -m sync_core`` live one module per command group; each module has
``register(subparsers)``, which adds its commands and sets ``handler`` on each; a handler returns the exit code.
``CommandError`` carries a message meant for the user. Whatever the failure, the user reads ``plain_message``:
the error's own ``plain`` sentence (MailerLite errors have one), else its text cleaned of what only a developer
reads (exception class names, ``[Errno …]``, ``(500 on POST /api/…)``, "after 5 attempt(s)").
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO


class CommandError(Exception):
    """A problem the user can fix; its text is shown as one sentence, without a traceback."""


_METHOD = r"(?:GET|POST|PUT|PATCH|DELETE)"
#: Pieces of a developer's message that a user cannot act on, removed from a message before it is shown.
_NOISE = [
    re.compile(rf"\s*\(\d{{3}} on {_METHOD} [^)]*\)"),  # (500 on POST /api/subscribers)
    re.compile(rf"\s+(?:for|on) {_METHOD} /[^\s(),]*(?:\([^()]*\))?"),  # for GET /subscribers/(a forgotten …)
    re.compile(r"\s*\([^()]*(?:Error|Exception|Errno|Timeout|attempt)[^()]*\)", re.IGNORECASE),  # (ConnectError: …)
    re.compile(r"\s*\[Errno -?\d+\]\s*"),
    re.compile(r",?\s*after \d+ attempt\(s\)"),
    re.compile(r"\s*\(attempt \d+ of \d+\)"),
    re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Timeout|Refused|Failure)\b:?\s*"),  # ConnectError: …
]


def clean_text(text: str) -> str:
    """The text without exception names, error numbers, request paths and attempt counts."""
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    text = re.sub(r"([.;:,])(?:\s*[.;:,])+", r"\1", text)
    text = re.sub(r"[.;:,]\)", ")", text)
    return text.strip(" ;:,")


def as_sentence(text: str) -> str:
    """A capital first letter and a full stop: how a sentence is shown on its own line."""
    text = text.strip()
    if not text:
        return text
    if text.split(" ", 1)[0].rstrip(":,;").isalpha():  # not a file name or a path: "h4.csv: …" stays as it is
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def plain_message(exc: BaseException | str) -> str:
    """What a user reads about this failure: one sentence, no exception text."""
    if isinstance(exc, str):
        return as_sentence(clean_text(exc))
    plain = getattr(exc, "plain", None)
    if isinstance(plain, str) and plain.strip():
        return as_sentence(plain)
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename:
            return as_sentence(f"{exc.filename} cannot be used ({exc.strerror.lower()}): check the path and its rights")
        return as_sentence(f"{exc.strerror}: check the connection and try again")
    text = clean_text(str(exc))
    if not text:
        return "The command stopped on a problem it did not expect; run it again, and tell support if it happens again."
    return as_sentence(text)


def print_error(exc: BaseException | str, *, file: TextIO | None = None) -> None:
    """Print the plain message of a failure on standard error."""
    print(plain_message(exc), file=file or sys.stderr)


class PlainLogHandler(logging.Handler):
    """Warnings of the studio's own modules while a command runs, in words, each said once (MailerLite's
    retries become one line saying the studio keeps trying)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.said: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "retrying in" in message or "no request for" in message:
            message = (
                "MailerLite does not answer at the moment; the studio keeps trying for a few minutes (Ctrl+C stops it)"
            )
        text = plain_message(message)
        if text not in self.said:
            self.said.add(text)
            print(f"  {text}", file=sys.stderr)


def use_plain_logging() -> PlainLogHandler:
    """For commands that do not log like a server: the studio's warnings in words, nothing below a warning.
    Returns the handler, for ``logging.getLogger("sync_core").removeHandler`` when the command is done."""
    handler = PlainLogHandler()
    logging.getLogger("sync_core").addHandler(handler)
    return handler
