"""Signature checks, one per sender. Pure functions over the raw body and the headers; no I/O.

- Dodo Payments signs with Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` (Unix seconds, accepted
  within ±5 minutes) and ``webhook-signature`` (space-separated ``v1,<base64>`` entries: several during a
  secret rotation); the secret is ``whsec_`` + base64. The official ``standardwebhooks`` library does the check.
- Partnero sends the hex HMAC-SHA256 of the raw body, keyed with the webhook's signing secret as UTF-8 text, in
  ``Signature`` (``X-Partnero-Signature`` is accepted too). It has no timestamp, so no replay window: a replayed
  body has the same hash, and the hash is the event id, so it is stored once.
- MailerLite signs like Partnero (hex HMAC-SHA256 of the raw body in ``Signature``) with the webhook's secret.

After a rotation the studio accepts a signature made with the new secret or, during the grace period, with the
one it replaced (``RotatingVerifier``): senders can be given the new secret without losing events.

A failed check raises ``SignatureError`` with a reason in plain words that is safe to send back: it never holds
the secret or the expected signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook, WebhookVerificationError

from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO

#: How far a Standard Webhooks timestamp may be from now (the library's fixed tolerance).
TOLERANCE_SECONDS = 5 * 60
PARTNERO_SIGNATURE_HEADERS = ("signature", "x-partnero-signature")
_SIGNATURE_ENTRY = re.compile(r"^[A-Za-z0-9]+,[A-Za-z0-9+/]+={0,2}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class SignatureError(Exception):
    """The request is not proven to come from the sender: answered 401, nothing stored."""


class SecretError(Exception):
    """The configured secret cannot be used (for example not valid base64 after ``whsec_``)."""


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(name).lower(): value for name, value in headers.items()}


class DodoVerifier:
    """Standard Webhooks verification with one secret (built once, used for many requests)."""

    def __init__(self, secret: str):
        secret = secret.strip()
        if not secret.removeprefix("whsec_"):
            raise SecretError(
                "the Dodo Payments signing secret is empty; copy it from Dodo Payments (it starts with whsec_)"
            )
        try:
            self._webhook = Webhook(secret)
            self._key = base64.b64decode(secret.removeprefix("whsec_") + "==")  # as the library reads it
        except (binascii.Error, ValueError, RuntimeError, TypeError):
            raise SecretError(
                "the Dodo Payments signing secret is not a valid whsec_ secret; copy it again from Dodo Payments"
            ) from None
        except Exception as exc:  # EmptyWebhookSecretError and anything the library adds later
            raise SecretError(f"the Dodo Payments signing secret cannot be used ({type(exc).__name__})") from None

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        lowered = _lower(headers)
        missing = [name for name in ("webhook-id", "webhook-timestamp", "webhook-signature") if not lowered.get(name)]
        if missing:
            raise SignatureError(
                f"the request has no {' or '.join(missing)} header; Dodo Payments signs every "
                "webhook with Standard Webhooks headers"
            )
        # Keep the well-formed entries only: the library fails on a malformed one instead of trying the others.
        entries = [entry for entry in lowered["webhook-signature"].split() if _SIGNATURE_ENTRY.match(entry)]
        if not entries:
            raise SignatureError("the webhook-signature header holds no signature of the form v1,<base64>")
        lowered["webhook-signature"] = " ".join(entries)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # The library checks text only; the signature is over bytes, and a signed body that is not UTF-8
            # is the sender's mistake to be told (400), not a forgery (401).
            self._verify_bytes(body, lowered)
            return
        try:
            self._webhook.verify(text, lowered, json_parse=False)
        except WebhookVerificationError as exc:
            raise SignatureError(_dodo_reason(str(exc))) from None
        except (ValueError, binascii.Error):
            raise SignatureError("the webhook-signature header is malformed") from None

    def _verify_bytes(self, body: bytes, lowered: Mapping[str, str]) -> None:
        """Standard Webhooks over raw bytes: ``base64(HMAC-SHA256(key, id.timestamp.body))`` and the timestamp
        within ``TOLERANCE_SECONDS``, as the library checks them for text."""
        stamp = lowered["webhook-timestamp"].strip()
        if not stamp.isascii() or not stamp.isdigit():
            raise SignatureError(_dodo_reason("Invalid Signature Headers"))
        age = time.time() - int(stamp)
        if age > TOLERANCE_SECONDS:
            raise SignatureError(_dodo_reason("too old"))
        if age < -TOLERANCE_SECONDS:
            raise SignatureError(_dodo_reason("too new"))
        signed = f"{lowered['webhook-id']}.{stamp}.".encode() + body
        expected = base64.b64encode(hmac.new(self._key, signed, hashlib.sha256).digest()).decode()
        given = [entry.split(",", 1)[1] for entry in lowered["webhook-signature"].split() if entry.startswith("v1,")]
        if not any(hmac.compare_digest(expected, signature) for signature in given):
            raise SignatureError(_dodo_reason("no match"))


def _dodo_reason(message: str) -> str:
    if "too old" in message:
        return (
            "the webhook-timestamp is more than 5 minutes old: the request is refused as a possible replay "
            "(check the sender's clock, or resend the event)"
        )
    if "too new" in message:
        return "the webhook-timestamp is more than 5 minutes in the future (check the sender's clock)"
    if "Invalid Signature Headers" in message:
        return "the webhook-timestamp header is not a Unix time in seconds"
    if "Missing" in message:
        return "the request lacks the webhook-id, webhook-timestamp or webhook-signature header"
    return (
        "the signature does not match: the body was changed on the way, or the Dodo Payments signing secret "
        "set here is not this endpoint's"
    )


class PartneroVerifier:
    """Hex HMAC-SHA256 of the raw body, keyed with the secret as UTF-8 text."""

    LABEL = "Partnero"
    HEADERS: tuple[str, ...] = PARTNERO_SIGNATURE_HEADERS

    def __init__(self, secret: str):
        secret = secret.strip()
        if not secret:
            raise SecretError(f"the {self.LABEL} signing secret is empty")
        self._key = secret.encode("utf-8")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        lowered = _lower(headers)
        given = next((lowered[name] for name in self.HEADERS if lowered.get(name)), None)
        if given is None:
            raise SignatureError(f"the request has no Signature header; {self.LABEL} signs every webhook with one")
        given = given.strip()
        if not _HEX.match(given):
            raise SignatureError("the Signature header is not a hex HMAC-SHA256 (64 hexadecimal characters)")
        expected = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            raise SignatureError(
                f"the signature does not match: the body was changed on the way, or the {self.LABEL} "
                "signing secret set here is not this webhook's"
            )


class MailerLiteVerifier(PartneroVerifier):
    """MailerLite signs the same way as Partnero (hex HMAC-SHA256 of the raw body in ``Signature``), keyed with
    the secret MailerLite gave when the webhook was created."""

    LABEL = "MailerLite"
    HEADERS = ("signature",)


VERIFIERS: dict[str, type[DodoVerifier] | type[PartneroVerifier]] = {
    DODO_PAYMENTS: DodoVerifier,
    PARTNERO: PartneroVerifier,
    MAILERLITE: MailerLiteVerifier,
}


class RotatingVerifier:
    """A signature made with the current secret, or with a previous one until its grace period ends: each is
    tried in turn. The ends are checked at each request (not when the verifier is built), so that a verifier
    kept in a cache refuses a previous secret as soon as its time is up."""

    def __init__(self, checks: Sequence[tuple[DodoVerifier | PartneroVerifier, datetime | None]]):
        self.checks = list(checks)

    def verify(self, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        refusal: SignatureError | None = None
        for check, valid_until in self.checks:
            if valid_until is not None and now >= valid_until:
                continue
            try:
                check.verify(body, headers)
                return
            except SignatureError as exc:
                refusal = refusal or exc  # the current secret's reason is the one to give
        raise refusal or SignatureError("no signing secret is valid now")


def verifier(source: str, secrets: str | Sequence[tuple[str, datetime | None]]) -> RotatingVerifier:
    """The verifier for ``source`` with its secret, or with several, each valid until its time (None: no end);
    the first is the current one (``SecretError`` when it cannot be used; a previous one that cannot is left
    out)."""
    entries = [(secrets, None)] if isinstance(secrets, str) else list(secrets)
    if not entries:
        raise SecretError("no signing secret is set")
    checks: list[tuple[DodoVerifier | PartneroVerifier, datetime | None]] = []
    for position, (secret, valid_until) in enumerate(entries):
        try:
            checks.append((VERIFIERS[source](secret), valid_until))
        except SecretError:
            if position == 0:
                raise
    return RotatingVerifier(checks)


def partnero_signature(secret: str, body: bytes) -> str:
    """What Partnero puts in ``Signature`` for ``body`` (for tests, benchmarks and the docs)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


__all__ = [
    "DodoVerifier",
    "MailerLiteVerifier",
    "PartneroVerifier",
    "RotatingVerifier",
    "SecretError",
    "SignatureError",
    "TOLERANCE_SECONDS",
    "partnero_signature",
    "verifier",
]
