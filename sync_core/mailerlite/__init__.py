"""Everything that talks to MailerLite: the client, its limits, its errors and the connection test.

    client = MailerLiteClient(MailerLiteSettings.from_env())
    result = client.upsert_subscriber("ann@example.com", fields={"name": "Ann"}, groups=["1659..."])
    report = test_connection(client)

For a sandbox account instead of the real one, see ``sync_core.sandbox``.
"""

from .client import MailerLiteClient
from .connection import ConnectionReport, test_connection
from .errors import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    InvalidBatch,
    MailerLiteError,
    NetworkError,
    NotFound,
    RateLimited,
    RequestRejected,
    RequestTimeout,
    ServerError,
    SubscriberSuppressed,
    ValidationError,
    error_for_response,
    explain_validation_errors,
)
from .models import (
    MAX_BATCH_REQUESTS,
    BatchItemResult,
    BatchRequest,
    BatchResult,
    FieldInfo,
    FieldPage,
    ForgetResult,
    Group,
    GroupPage,
    Subscriber,
    SubscriberPage,
    UpsertResult,
    Webhook,
    is_import_batch,
)
from .ratelimit import AccountBudget, BudgetSnapshot, account_fingerprint, forget_shared_budgets, shared_budget
from .session import ApiSession, Exchange, parse_retry_after
from .settings import DEFAULT_BASE_URL, MailerLiteSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_BATCH_REQUESTS",
    "AccountBudget",
    "ApiSession",
    "AuthError",
    "BatchItemResult",
    "BatchRequest",
    "BatchResult",
    "BudgetSnapshot",
    "ConfigurationError",
    "ConnectionReport",
    "Exchange",
    "FieldInfo",
    "FieldPage",
    "ForbiddenError",
    "ForgetResult",
    "Webhook",
    "Group",
    "GroupPage",
    "InvalidBatch",
    "MailerLiteClient",
    "MailerLiteError",
    "MailerLiteSettings",
    "NetworkError",
    "NotFound",
    "RateLimited",
    "RequestRejected",
    "RequestTimeout",
    "ServerError",
    "Subscriber",
    "SubscriberPage",
    "SubscriberSuppressed",
    "UpsertResult",
    "ValidationError",
    "account_fingerprint",
    "error_for_response",
    "explain_validation_errors",
    "forget_shared_budgets",
    "is_import_batch",
    "parse_retry_after",
    "shared_budget",
    "test_connection",
]
