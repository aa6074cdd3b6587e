"""Signature checks on their own: the reference test vectors, then every way a request can fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from sync_core.live.verify import DodoVerifier, PartneroVerifier, SecretError, SignatureError, verifier
from tests.reference import SIGNATURE_VECTORS_FILE, read_json
from tests.webhooks.helpers import (
    DODO_SECRET,
    DODO_SECRET_NEXT,
    PARTNERO_SECRET,
    dodo_body,
    dodo_headers,
    minutes_ago,
    partnero_headers,
)

VECTORS_DOCUMENT = read_json(SIGNATURE_VECTORS_FILE)  # tests/fixtures/README.md says where they come from
STANDARD = VECTORS_DOCUMENT["standard_webhooks"]
VECTOR_SECRET = STANDARD["secret"]
VECTORS = [(vector["msg_id"], vector["body"], vector["signature"]) for vector in STANDARD["vectors"]]
PARTNERO_VECTOR = (VECTORS_DOCUMENT["partnero"]["body"].encode(), VECTORS_DOCUMENT["partnero"]["signature"])


@pytest.mark.parametrize("msg_id, body, signature", VECTORS)
def test_the_signing_helper_reproduces_the_reference_vectors(msg_id, body, signature):
    when = datetime.fromtimestamp(STANDARD["timestamp"], tz=UTC)
    assert Webhook(VECTOR_SECRET).sign(msg_id, when, body) == signature


def test_a_vector_signed_by_the_reference_is_verified_when_its_timestamp_is_fresh():
    # The vectors' timestamp is too old for verify(), so re-sign the same message at "now" with the same secret.
    msg_id, body, _ = VECTORS[-1]
    headers = dodo_headers(body.encode(), msg_id=msg_id, secrets=(VECTOR_SECRET,))
    DodoVerifier(VECTOR_SECRET).verify(body.encode(), headers)


def test_partnero_reference_vector():
    body, expected = PARTNERO_VECTOR
    assert VECTORS_DOCUMENT["partnero"]["secret"] == PARTNERO_SECRET
    PartneroVerifier(PARTNERO_SECRET).verify(body, {"Signature": expected})
    with pytest.raises(SignatureError):
        PartneroVerifier("another-secret").verify(body, {"Signature": expected})


# --- Dodo Payments: Standard Webhooks ------------------------------------------------------------------------------


def test_dodo_valid():
    body = dodo_body(1)
    DodoVerifier(DODO_SECRET).verify(body, dodo_headers(body, msg_id="msg_1"))


def test_dodo_header_names_are_case_insensitive():
    body = dodo_body(1)
    headers = {name.title(): value for name, value in dodo_headers(body, msg_id="msg_1").items()}
    DodoVerifier(DODO_SECRET).verify(body, headers)


def test_dodo_wrong_secret():
    body = dodo_body(1)
    with pytest.raises(SignatureError, match="does not match"):
        DodoVerifier(DODO_SECRET).verify(body, dodo_headers(body, msg_id="msg_1", secrets=(DODO_SECRET_NEXT,)))


def test_dodo_tampered_body():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    with pytest.raises(SignatureError, match="does not match"):
        DodoVerifier(DODO_SECRET).verify(body.replace(b'"total_amount":400', b'"total_amount":900'), headers)


def test_dodo_changed_id_or_timestamp_breaks_the_signature():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    with pytest.raises(SignatureError):
        DodoVerifier(DODO_SECRET).verify(body, {**headers, "webhook-id": "msg_2"})
    with pytest.raises(SignatureError):
        earlier = str(int(headers["webhook-timestamp"]) - 1)
        DodoVerifier(DODO_SECRET).verify(body, {**headers, "webhook-timestamp": earlier})


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_dodo_missing_header(missing):
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    del headers[missing]
    with pytest.raises(SignatureError, match=missing):
        DodoVerifier(DODO_SECRET).verify(body, headers)


@pytest.mark.parametrize("minutes, word", [(5.5, "old"), (-5.5, "future"), (60 * 24, "old")])
def test_dodo_timestamp_outside_five_minutes(minutes, word):
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1", timestamp=minutes_ago(minutes))
    with pytest.raises(SignatureError, match=word):
        DodoVerifier(DODO_SECRET).verify(body, headers)


@pytest.mark.parametrize("minutes", [4.5, -4.5])
def test_dodo_timestamp_inside_five_minutes(minutes):
    body = dodo_body(1)
    DodoVerifier(DODO_SECRET).verify(body, dodo_headers(body, msg_id="msg_1", timestamp=minutes_ago(minutes)))


def test_dodo_rotation_two_signatures_either_secret_verifies():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1", secrets=(DODO_SECRET, DODO_SECRET_NEXT))
    assert len(headers["webhook-signature"].split(" ")) == 2
    DodoVerifier(DODO_SECRET).verify(body, headers)
    DodoVerifier(DODO_SECRET_NEXT).verify(body, headers)
    third = "whsec_" + base64.b64encode(b"a third secret, neither of the two").decode()
    with pytest.raises(SignatureError):
        DodoVerifier(third).verify(body, headers)


def test_dodo_malformed_entries_are_skipped_not_fatal():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    good = headers["webhook-signature"]
    DodoVerifier(DODO_SECRET).verify(body, {**headers, "webhook-signature": f"garbage v1a,abc== ,,  {good}"})
    with pytest.raises(SignatureError, match="no signature"):
        DodoVerifier(DODO_SECRET).verify(body, {**headers, "webhook-signature": "garbage, and more"})


def test_dodo_asymmetric_entries_alone_do_not_verify():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    v1a = headers["webhook-signature"].replace("v1,", "v1a,")
    with pytest.raises(SignatureError):
        DodoVerifier(DODO_SECRET).verify(body, {**headers, "webhook-signature": v1a})


def bytes_headers(body: bytes, *, msg_id: str = "msg_1", stamp: int | None = None) -> dict[str, str]:
    """Standard Webhooks over raw bytes, as the specification defines it (the library signs text only)."""
    stamp = int(datetime.now(UTC).timestamp()) if stamp is None else stamp
    key = base64.b64decode(DODO_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_a_dodo_body_that_is_not_utf8_is_verified_on_its_bytes():
    """Signed: verified (the receiver then answers 400, not UTF-8); not signed for these bytes: refused."""
    body = b'{"type": "payment.succeeded", "data": {"name": "\xff\xfe"}}'
    DodoVerifier(DODO_SECRET).verify(body, bytes_headers(body))
    with pytest.raises(SignatureError, match="does not match"):
        DodoVerifier(DODO_SECRET).verify(b"\xff\xfe{}", dodo_headers(b"{}", msg_id="msg_1"))
    with pytest.raises(SignatureError, match="does not match"):
        DodoVerifier(DODO_SECRET).verify(body + b" ", bytes_headers(body))
    with pytest.raises(SignatureError, match="5 minutes old"):
        DodoVerifier(DODO_SECRET).verify(body, bytes_headers(body, stamp=int(datetime.now(UTC).timestamp()) - 600))


@pytest.mark.parametrize("secret", ["", "   ", "whsec_"])
def test_dodo_unusable_secret(secret):
    with pytest.raises(SecretError) as caught:
        verifier("dodo_payments", secret)
    assert "empty" in str(caught.value)


def test_dodo_secret_that_is_not_base64():
    with pytest.raises(SecretError, match="not a valid whsec_ secret"):
        verifier("dodo_payments", "whsec_a")


def test_dodo_raw_secret_without_prefix_is_base64_as_in_the_library():
    raw = DODO_SECRET.removeprefix("whsec_")
    body = dodo_body(1)
    DodoVerifier(raw).verify(body, dodo_headers(body, msg_id="msg_1"))


# --- Partnero ------------------------------------------------------------------------------------------------------


def test_partnero_valid_and_upper_case_hex():
    body = b'{"event":"partner.created","data":{"email":"a@example.com"}}'
    headers = partnero_headers(body)
    PartneroVerifier(PARTNERO_SECRET).verify(body, headers)
    PartneroVerifier(PARTNERO_SECRET).verify(body, {"signature": headers["Signature"].upper()})


def test_partnero_older_header_name_is_accepted():
    body = b'{"event":"partner.created","data":{}}'
    PartneroVerifier(PARTNERO_SECRET).verify(body, {"X-Partnero-Signature": partnero_headers(body)["Signature"]})


def test_partnero_wrong_secret_tampered_missing_and_garbage():
    body = b'{"event":"partner.created","data":{"email":"a@example.com"}}'
    check = PartneroVerifier(PARTNERO_SECRET)
    with pytest.raises(SignatureError, match="does not match"):
        check.verify(body, partnero_headers(body, secret="wrong"))
    with pytest.raises(SignatureError, match="does not match"):
        check.verify(body + b" ", partnero_headers(body))
    with pytest.raises(SignatureError, match="no Signature"):
        check.verify(body, {"content-type": "application/json"})
    with pytest.raises(SignatureError, match="hex"):
        check.verify(body, {"Signature": "sha256=" + partnero_headers(body)["Signature"]})


def test_partnero_signs_the_raw_bytes_not_reserialized_json():
    body = b'{"event": "partner.created",   "data": {}}'
    headers = partnero_headers(body)
    PartneroVerifier(PARTNERO_SECRET).verify(body, headers)
    with pytest.raises(SignatureError):
        PartneroVerifier(PARTNERO_SECRET).verify(b'{"event":"partner.created","data":{}}', headers)


def test_failure_reasons_never_hold_the_secret_or_the_expected_signature():
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1", secrets=(DODO_SECRET_NEXT,))
    expected = dodo_headers(
        body, msg_id="msg_1", timestamp=datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    )["webhook-signature"].split(",")[1]
    with pytest.raises(SignatureError) as caught:
        DodoVerifier(DODO_SECRET).verify(body, headers)
    text = str(caught.value) + repr(caught.value)
    assert DODO_SECRET.removeprefix("whsec_") not in text and expected not in text
    with pytest.raises(SignatureError) as caught:
        PartneroVerifier(PARTNERO_SECRET).verify(body, {"Signature": "0" * 64})
    assert PARTNERO_SECRET not in str(caught.value)


def test_mailerlite_signature_is_the_hex_hmac_of_the_raw_body_in_signature():
    import hashlib
    import hmac

    from sync_core.live.verify import MailerLiteVerifier, SignatureError

    body = b'{"events":[{"type":"subscriber.unsubscribed"}]}'
    good = hmac.new(b"ml-secret-1234", body, hashlib.sha256).hexdigest()
    check = MailerLiteVerifier("ml-secret-1234")
    check.verify(body, {"Signature": good})
    check.verify(body, {"signature": good.upper()})
    for headers in ({}, {"Signature": "0" * 64}, {"X-Partnero-Signature": good}, {"Signature": "not hex"}):
        with pytest.raises(SignatureError) as refused:
            check.verify(body, headers)
        assert "ml-secret-1234" not in str(refused.value) and good not in str(refused.value)
    with pytest.raises(SignatureError, match="MailerLite"):
        check.verify(body, {})
