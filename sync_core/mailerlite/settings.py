"""Connection settings for one MailerLite account.

A plain pydantic model: the environment's part (``MAILERLITE_API_KEY``, ``MAILERLITE_BASE_URL``) comes from the
studio's settings, through ``from_env``. The key is a ``SecretStr`` so that a repr, a log line or a
``model_dump`` of the settings never shows it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sync_core.settings import get_settings

DEFAULT_BASE_URL = "https://connect.mailerlite.com/api"


class MailerLiteSettings(BaseModel):
    """Where the account is, how to authenticate, and how patient to be with it."""

    # hide_input_in_errors: a rejected key must not be echoed back inside the validation error text.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Retries of 429, 5xx, timeouts and connection errors: attempts in all, first one included.
    max_attempts: int = Field(default=5, ge=1, le=20)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)
    # The account's budget: MailerLite allows 120 requests per 60 s and 5 all-upsert batches per 60 s.
    rate_limit: int = Field(default=120, ge=1)
    rate_window_seconds: float = Field(default=60.0, gt=0)
    import_limit: int = Field(default=5, ge=1)
    # Extra time added to the window so that latency jitter cannot push two windows' worth into one.
    rate_margin_seconds: float | None = Field(default=None, ge=0)
    # Longest the client waits for the budget before giving up with RateLimited instead of blocking.
    max_rate_wait_seconds: float = Field(default=300.0, ge=0)

    @field_validator("api_key", mode="before")
    @classmethod
    def _clean_key(cls, value: object) -> object:
        """Trim pasted keys; refuse control characters, which would otherwise end up in an error text."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("the API key must be text")
        value = value.strip()
        if not value:
            return None
        if any(ord(ch) < 33 or ord(ch) == 127 for ch in value):
            raise ValueError("the API key contains spaces or control characters; copy it again")
        return SecretStr(value)

    @field_validator("base_url")
    @classmethod
    def _clean_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("the base URL must start with http:// or https://")
        return value

    @property
    def margin_seconds(self) -> float:
        if self.rate_margin_seconds is not None:
            return self.rate_margin_seconds
        return min(2.0, 0.05 * self.rate_window_seconds)

    @property
    def has_key(self) -> bool:
        return self.api_key is not None

    @classmethod
    def from_env(cls, **overrides: object) -> MailerLiteSettings:
        """Settings from ``MAILERLITE_API_KEY`` / ``MAILERLITE_BASE_URL``; explicit overrides win."""
        studio = get_settings()
        values: dict[str, object] = {"api_key": studio.mailerlite_api_key, "base_url": studio.mailerlite_base_url}
        values.update(overrides)
        return cls(**{name: value for name, value in values.items() if value is not None})
