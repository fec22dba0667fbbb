"""A small EventBridge event-pattern matcher, for the rules template.yaml and the forwarder deploy.

EventBridge's semantics (EventBridge User Guide, "Event patterns" and "Comparison operators"),
only as far as the monitor's rules need them:

- A pattern is an object; every field it names must match (AND). A field whose pattern value is
  an object descends into the event's object of that name.
- A field's pattern value is an array of alternatives (OR): exact values (string, number,
  boolean, null) and the operators ``{"prefix": "..."}`` and ``{"exists": true|false}``.
- Where the event holds an array, the field matches if any element matches; an array of objects
  is searched element by element for the nested pattern.
- ``{"exists": false}`` matches a field the event does not have; every other alternative needs
  the field to be there.

Any other operator raises, so a rule that starts using one fails loudly here instead of being
judged by guesswork. test_event_pattern.py checks this matcher on hand-made cases and against
moto's independent implementation (``moto.events.models.EventPattern``) on every sample.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()
SUPPORTED_OPERATORS = ("prefix", "exists")


class UnsupportedPattern(ValueError):
    """The pattern uses something this matcher does not implement."""


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when ``event`` matches ``pattern`` as EventBridge would decide."""
    if not isinstance(pattern, dict):
        raise UnsupportedPattern(f"a pattern is an object, not {pattern!r}")
    return _object_matches(pattern, event)


def _object_matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, expected in pattern.items():
        if key.startswith("$"):
            raise UnsupportedPattern(f"{key} is not supported")
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not _nested_matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not expected:
                raise UnsupportedPattern(f"{key}: an empty array matches nothing in EventBridge")
            if not _field_matches(expected, value):
                return False
        else:
            raise UnsupportedPattern(f"{key}: a field's pattern is an array or an object, not {expected!r}")
    return True


def _nested_matches(pattern: dict[str, Any], value: Any) -> bool:
    if isinstance(value, list):  # an array of objects: any element may match
        return any(_object_matches(pattern, item) for item in value if isinstance(item, dict))
    return isinstance(value, dict) and _object_matches(pattern, value)


def _field_matches(alternatives: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for alternative in alternatives:
        if isinstance(alternative, dict):
            if _operator_matches(alternative, value, values):
                return True
        elif value is not _MISSING and any(_same(alternative, v) for v in values):
            return True
    return False


def _operator_matches(operator: dict[str, Any], value: Any, values: list[Any]) -> bool:
    if len(operator) != 1:
        raise UnsupportedPattern(f"one operator per object: {operator!r}")
    [(name, argument)] = operator.items()
    if name == "exists":
        if not isinstance(argument, bool):
            raise UnsupportedPattern(f"exists takes true or false, not {argument!r}")
        return (value is not _MISSING) is argument
    if name == "prefix":
        if not isinstance(argument, str):
            raise UnsupportedPattern(f"only a string prefix is supported, not {argument!r}")
        return value is not _MISSING and any(isinstance(v, str) and v.startswith(argument) for v in values)
    raise UnsupportedPattern(f"operator {name!r} is not supported (only {', '.join(SUPPORTED_OPERATORS)})")


def _same(expected: Any, actual: Any) -> bool:
    # JSON semantics: true is not 1, "1" is not 1.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    return type(expected) is type(actual) and expected == actual
