"""Inputs → normalized events: Dodo Payments webhooks, Partnero webhooks and bulk records (CSV, JSON Lines).

Every function here is pure and never raises on bad input: it returns a ``RejectedInput`` with the reason.
``normalize_input`` is the way in for one input; the ``iter_*`` readers go through a file.
"""

from sync_core.domain.sources.dodo import DODO_EVENT_TYPES
from sync_core.domain.sources.inputs import detect_source, normalize_input
from sync_core.domain.sources.partnero import PARTNERO_EVENT_TYPES
from sync_core.domain.sources.records import iter_csv_records, iter_jsonl_records

__all__ = [
    "DODO_EVENT_TYPES",
    "PARTNERO_EVENT_TYPES",
    "detect_source",
    "iter_csv_records",
    "iter_jsonl_records",
    "normalize_input",
]
