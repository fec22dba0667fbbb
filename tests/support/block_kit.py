"""Reading Slack Block Kit payloads in tests: the text objects a message carries."""

from __future__ import annotations

from typing import Any


def text_objects(body: Any) -> list[dict]:
    """Every Block Kit text object (``mrkdwn`` or ``plain_text`` with its text) anywhere in a payload."""
    found: list[dict] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return found
