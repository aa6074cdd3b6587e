"""A reader for the recorded MailerLite exchanges (VCR cassettes) without a YAML library.

It understands exactly the subset those files use: interactions with a request (method, uri, body) and a
response (status code, body string, header names); quoted scalars may span lines (YAML line folding).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# The recordings ship with the repository (tests/fixtures/README.md says where they come from).
RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mailerlite-recordings"


def _scalar(lines: list[str], start: int, column: int) -> tuple[Any, int]:
    first = lines[start][column:]
    if not first or first[0] not in "'\"":
        value = first.strip()
        return (None if value == "null" else value), start + 1
    quote, raw, index = first[0], first[1:], start
    while True:
        position, end = 0, None
        while position < len(raw):
            char = raw[position]
            if quote == "'" and char == "'":
                if raw[position + 1 : position + 2] == "'":
                    position += 2
                    continue
                end = position
                break
            if quote == '"' and char == "\\":
                position += 2
                continue
            if quote == '"' and char == '"':
                end = position
                break
            position += 1
        if end is not None:
            raw = raw[:end]
            break
        index += 1
        raw += "\n" + lines[index]
    folded = re.sub(r"[ \t]*\n[ \t]*", " ", raw)
    if quote == "'":
        return folded.replace("''", "'"), index + 1
    return json.loads('"' + folded + '"'), index + 1


def parse_cassette(path: Path) -> list[dict[str, Any]]:
    """Each interaction as {"request": {method, uri, body}, "response": {code, body, headers}}."""
    lines = path.read_text(encoding="utf-8").splitlines()
    interactions: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    section = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("- request:"):
            current = {"request": {}, "response": {"headers": []}}
            interactions.append(current)
            section = "request"
        elif line.startswith("  response:"):
            section = "response"
        if current is not None and section == "response":
            header = re.match(r"^      ([A-Za-z][\w-]*):$", line)
            if header:
                current["response"]["headers"].append(header.group(1).lower())
        match = re.match(r"^( +)(body|method|uri|string|code): ?(.*)$", line)
        if match and current is not None:
            indent, key = len(match.group(1)), match.group(2)
            if (section == "request" and indent == 4 and key != "string") or (
                section == "response" and indent == 6 and key in ("string", "code")
            ):
                value, index = _scalar(lines, index, indent + len(key) + 2)
                if key == "code":
                    value = int(value)
                current[section]["body" if key == "string" else key] = value
                continue
        index += 1
    for interaction in interactions:
        for part in ("request", "response"):
            text = interaction[part].get("body")
            interaction[part]["json"] = json.loads(text) if text else None
    return interactions


def load_recordings() -> dict[str, list[dict[str, Any]]]:
    return {path.stem: parse_cassette(path) for path in sorted(RECORDINGS.glob("*.yml"))}
