"""The MailerLite webhook that tells the studio about unsubscribes, bounces, deletes and edits: registered (or
repaired) in one click, and its state in plain words.

Registering looks for a webhook of the account with the studio's URL (``SYNC_STUDIO_PUBLIC_URL`` +
``/webhooks/mailerlite``): when there is one it is repaired (``PUT``: enabled, every event the studio reads, the
URL), otherwise one is created (``POST``, batchable). The signing secret MailerLite answers with is stored
encrypted at once, so the studio verifies the deliveries without anyone copying it; it is never shown or printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sync_core.domain.access import Permission
from sync_core.domain.events import MAILERLITE, parse_timestamp
from sync_core.domain.sources.mailerlite import MAILERLITE_EVENT_TYPES, MAILERLITE_WEBHOOK_PATH
from sync_core.mailerlite import MailerLiteClient, Webhook
from sync_core.mailerlite.errors import MailerLiteError, NotFound
from sync_core.settings import get_settings

WEBHOOK_NAME = "MailerLite sync studio"


class WebhookSetupError(RuntimeError):
    """Registration could not be done; the message says why and what to do, in plain words."""


def mailerlite_webhook_url(public_base_url: str) -> str:
    """Where MailerLite should send its deliveries, given the studio's public address."""
    return public_base_url.rstrip("/") + MAILERLITE_WEBHOOK_PATH


def configured_webhook_url() -> str | None:
    """The webhook URL from ``SYNC_STUDIO_PUBLIC_URL`` (``None`` when it is not set)."""
    base = get_settings().public_url
    return mailerlite_webhook_url(base) if base else None


def _same_url(one: str, other: str) -> bool:
    return one.strip().rstrip("/").lower() == other.strip().rstrip("/").lower()


def find_webhook(client: MailerLiteClient, url: str) -> Webhook | None:
    """The account's webhook that sends to ``url``, if any."""
    return next((hook for hook in client.list_webhooks() if _same_url(hook.url, url)), None)


@dataclass(slots=True)
class WebhookState:
    """What the account says about the studio's webhook (``webhook`` None: not registered)."""

    url: str
    webhook: Webhook | None
    missing_events: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        hook = self.webhook
        return hook is not None and hook.enabled and not hook.is_blocked and not self.missing_events

    def sentences(self) -> list[str]:
        """The state in plain words, one sentence each."""
        hook = self.webhook
        if hook is None:
            return [
                f"No MailerLite webhook sends to {self.url} yet, so unsubscribes, bounces and deletes made in "
                "MailerLite are not known here. Register it."
            ]
        out = []
        if hook.is_blocked:
            out.append(
                "MailerLite has blocked the webhook after deliveries the studio did not accept; check that the "
                "studio is reachable at its URL, then register it again."
            )
        elif hook.enabled:
            out.append(
                "Enabled: MailerLite tells the studio when subscribers unsubscribe, bounce, are deleted or edited."
            )
        else:
            out.append("Disabled: MailerLite sends nothing. Register it again to enable it.")
        if self.missing_events:
            out.append(f"It does not send {', '.join(self.missing_events)}; register it again to repair it.")
        fired = parse_timestamp(hook.last_fired_at) if hook.last_fired_at else None
        if fired is None:
            out.append("It has not sent anything yet.")
        else:
            answer = ""
            if hook.response_code is not None:
                verdict = "accepted" if 200 <= hook.response_code < 300 else "not accepted"
                answer = f"; the studio answered {hook.response_code} ({verdict})"
            out.append(f"Last sent {fired:%Y-%m-%d %H:%M} UTC{answer}.")
        return out

    def details(self) -> dict[str, Any]:
        """The raw webhook for the Advanced view: everything but the secret."""
        if self.webhook is None:
            return {"url": self.url, "registered": False}
        return self.webhook.model_dump(exclude={"secret"})


def webhook_state(client: MailerLiteClient, url: str) -> WebhookState:
    """The studio's webhook as the account has it (``MailerLiteError`` when the account cannot be asked)."""
    return _state(url, find_webhook(client, url))


def _state(url: str, hook: Webhook | None) -> WebhookState:
    """The state to keep and show: without the secret, which stays in the secret store only."""
    if hook is None:
        return WebhookState(url, None)
    missing = [name for name in MAILERLITE_EVENT_TYPES if name not in hook.events]
    return WebhookState(url, hook.model_copy(update={"secret": None}), missing)


@dataclass(slots=True)
class Registration:
    action: Literal["created", "repaired"]
    state: WebhookState
    secret_stored: bool
    environment_secret: bool  # MAILERLITE_WEBHOOK_SECRET is set: it wins over the stored one

    def summary(self) -> str:
        done = (
            "The MailerLite webhook is registered"
            if self.action == "created"
            else "The MailerLite webhook already existed and is repaired"
        )
        text = f"{done}: MailerLite sends its subscriber events to {self.state.url}."
        if self.secret_stored:
            text += " Its signing secret is saved, encrypted."
        else:
            text += (
                " MailerLite did not give its signing secret; the one saved before is kept (if none is, paste it "
                "on the Connection page)."
            )
        if self.environment_secret:
            text += (
                " Note: MAILERLITE_WEBHOOK_SECRET is set in the environment and wins over the saved secret; "
                "remove it, or set it to this webhook's secret."
            )
        return text


def register_mailerlite_webhook(workspace, client: MailerLiteClient, url: str) -> Registration:  # noqa: ANN001
    """Create the studio's webhook, or repair the one with this URL, and store its secret encrypted."""
    workspace.require(Permission.MANAGE_SECRETS)
    if not url.lower().startswith(("http://", "https://")):
        raise WebhookSetupError(
            f"{url!r} is not a web address; set SYNC_STUDIO_PUBLIC_URL to the address MailerLite can reach the "
            "studio at (e.g. https://studio.example.com)"
        )
    try:
        existing = find_webhook(client, url)
        if existing is None:
            hook = client.create_webhook(url, MAILERLITE_EVENT_TYPES, name=WEBHOOK_NAME, enabled=True, batchable=True)
            action: Literal["created", "repaired"] = "created"
        else:
            hook = client.update_webhook(existing.id, url=url, events=MAILERLITE_EVENT_TYPES, enabled=True)
            hook.secret = hook.secret or existing.secret
            action = "repaired"
    except NotFound:
        raise WebhookSetupError(
            "this account does not answer webhook requests (GET /webhooks was not found); the studio cannot "
            "register a webhook with it"
        ) from None
    except MailerLiteError as exc:
        raise WebhookSetupError(f"MailerLite did not register the webhook: {exc}") from None
    stored = bool(hook.secret and hook.secret.strip())
    if stored:
        workspace.set_webhook_secret(MAILERLITE, hook.secret)
    workspace.audit("mailerlite_webhook_registered", url, done=action)
    return Registration(
        action,
        _state(url, hook),
        stored,
        get_settings().mailerlite_webhook_secret is not None,
    )


__all__ = [
    "Registration",
    "WebhookSetupError",
    "WebhookState",
    "configured_webhook_url",
    "find_webhook",
    "mailerlite_webhook_url",
    "register_mailerlite_webhook",
    "webhook_state",
]
