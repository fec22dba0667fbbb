"""Reading an EventBridge event's fields, and the name forms SES and Route 53 use.

Every accessor names the path of a field that is missing or of the wrong
type in the MalformedEvent it raises, so a log line says exactly what a
broken rule or a changed AWS shape delivered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Route 53 writes characters outside [a-z0-9_-] as a backslash and three octal digits ("\052" is "*").
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class MalformedEvent(ValueError):
    """The event is not of a shape this monitor handles; the message names the field."""


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def object_field(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"{path}: expected an object, got {type_name(value)}")
    return value


def string_field(parent: Mapping[str, Any], key: str, path: str) -> str:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, str):
        raise MalformedEvent(f"{path}: expected a string, got {type_name(value)}")
    if not value.strip():
        raise MalformedEvent(f"{path}: empty")
    return value


def array_field(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, list):
        raise MalformedEvent(f"{path}: expected an array, got {type_name(value)}")
    return value


def optional_string_field(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{path}: expected a string, got {type_name(value)}")
    return value


# ------------------------------------------------------------------ name forms


def identity_name(raw: str) -> str:
    """An identity as SES names it: domains lowercase without a final dot, addresses as written."""
    name = raw.strip()
    return name if "@" in name else name.lower().rstrip(".")


def identity_domain(name: str) -> str:
    """The DNS domain an identity sends from: the domain itself, or the part after ``@``."""
    return name.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def dns_name(raw: str) -> str:
    """A record-set name as DNS sees it: octal escapes undone, lowercase, no final dot."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), raw.strip()).lower().rstrip(".")


def change_id(raw: str) -> str:
    """``/change/C2682N5HXP0BZ4`` -> ``C2682N5HXP0BZ4`` (GetChange takes either)."""
    return raw.strip().rsplit("/", 1)[-1]


def zone_id(raw: str) -> str:
    return raw.strip().rsplit("/", 1)[-1]
