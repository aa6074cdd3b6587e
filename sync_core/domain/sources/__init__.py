"""Inputs → normalized events: Dodo Payments webhooks, Partnero webhooks and bulk records (CSV, JSON Lines).

Every function here is pure and never raises on bad input: it returns a ``RejectedInput`` with the reason.
"""

from sync_core.domain.sources.detect import detect_source, normalize_webhook
from sync_core.domain.sources.dodo import DODO_EVENT_TYPES, normalize_dodo
from sync_core.domain.sources.partnero import PARTNERO_EVENT_TYPES, normalize_partnero
from sync_core.domain.sources.records import iter_csv_records, iter_jsonl_records

__all__ = [
    "DODO_EVENT_TYPES",
    "PARTNERO_EVENT_TYPES",
    "detect_source",
    "iter_csv_records",
    "iter_jsonl_records",
    "normalize_dodo",
    "normalize_partnero",
    "normalize_webhook",
]
