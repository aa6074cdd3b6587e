"""What the command line says when something goes wrong: one plain sentence, what happened and what to do.

Sub-commands of ``python -m sync_core`` live one module per command group; each module has
``register(subparsers)``, which adds its commands and sets ``handler`` on each; a handler returns the exit code.
``CommandError`` carries a message meant for the user. Whatever the failure, the user reads ``plain_message``:
the error's own ``plain`` sentence (MailerLite errors have one), else its text cleaned of what only a developer
reads (exception class names, ``[Errno …]``, ``(500 on POST /api/…)``, "after 5 attempt(s)").
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from sync_core.domain.messages import as_sentence
from sync_core.domain.messages import plain_message as domain_plain_message


class CommandError(Exception):
    """A problem the user can fix; its text is shown as one sentence, without a traceback."""


def plain_message(exc: BaseException | str) -> str:
    """What a user reads about this failure: one sentence, no exception text."""
    return as_sentence(
        domain_plain_message(
            exc,
            "The command stopped on a problem it did not expect; run it again, and tell support if it happens again",
        )
    )


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
