"""Flattening of nested JSON into dotted paths, the vocabulary of mappings and rules."""

from __future__ import annotations

from typing import Any


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"data": {"customer": {"name": "A"}}}`` → ``{"data.customer.name": "A"}``.

    Keys whose value is ``None`` are kept (present but empty is not the same as absent). A list of plain values
    stays one list value; a list containing objects is spread by index (``items.0.id``).
    """
    if out is None:
        out = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = None
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(item, (dict, list)):
                flatten(item, path, out)
            else:
                out[path] = item
    elif isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            for index, item in enumerate(value):
                path = f"{prefix}.{index}"
                if isinstance(item, (dict, list)):
                    flatten(item, path, out)
                else:
                    out[path] = item
        else:
            out[prefix] = value
    else:
        out[prefix] = value
    return out
