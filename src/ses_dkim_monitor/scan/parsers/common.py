"""What the record parsers share: problems, the tag-list syntax, quoting record text in a detail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ...i18n import _

# Cause codes: stable, catalogued by the checks; tests hold the parsers to them.
KEY_REVOKED = "key-revoked"
KEY_MALFORMED = "key-malformed"
KEY_TAG_CASE = "key-tag-case"
DMARC_BAD_POLICY = "dmarc-bad-policy"
DMARC_BAD_PCT = "dmarc-bad-pct"
DMARC_UNKNOWN_TAG = "dmarc-unknown-tag"
DMARC_SYNTAX_ERROR = "dmarc-syntax-error"
DMARC_POLICY_IMPLIED = "dmarc-policy-implied"
SPF_SYNTAX_ERROR = "spf-syntax-error"
SPF_PLUS_ALL = "spf-plus-all"
SPF_MACRO_OUTSIDE_EXP = "spf-macro-outside-exp"
SPF_IGNORED_TERMS = "spf-ignored-terms"

# What a parser lists in ``problems`` (receivers fail or distrust the record) ...
DKIM_CAUSES = frozenset({KEY_REVOKED, KEY_MALFORMED})
DMARC_CAUSES = frozenset({DMARC_BAD_POLICY, DMARC_BAD_PCT, DMARC_SYNTAX_ERROR})
SPF_CAUSES = frozenset({SPF_SYNTAX_ERROR, SPF_PLUS_ALL, SPF_MACRO_OUTSIDE_EXP})
# ... and in ``notes``: what receivers ignore or fill in while the record works as they read it.
DKIM_NOTES = frozenset({KEY_TAG_CASE})
DMARC_NOTES = frozenset({DMARC_UNKNOWN_TAG, DMARC_POLICY_IMPLIED})
SPF_NOTES = frozenset({SPF_IGNORED_TERMS})

# Folding white space of RFC 6376 / RFC 7489 tag lists: only these, not every Unicode space.
_WSP = " \t\r\n"
_SHOWN = 60  # longest excerpt of a record a detail quotes


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a record: a stable kebab-case ``cause`` and a one-sentence ``detail`` quoting the text.

    ``detail`` is written in the language of the run (``i18n``): finding
    messages quote it. The record text it quotes stays as written.
    """

    cause: str
    detail: str


def _show(text: str) -> str:
    """Quote record text for a detail: control characters escaped (the text came off the wire), at most 60 chars."""
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 1] + "…"
    return f'"{shown}"'


def _tag_list(txt: str) -> list[tuple[str | None, str]]:
    """The parts of a ``;``-separated tag list, in order, stripped of folding white space.

    ``(name, value)`` for a part with ``=``; ``(None, text)`` for a part without
    (``text`` is "" for an empty part). One trailing ``;`` is allowed, so it
    leaves no empty part; an empty record has no parts at all.
    """
    parts = txt.split(";")
    if not parts[-1].strip(_WSP):
        parts.pop()
    listed: list[tuple[str | None, str]] = []
    for part in parts:
        name, sep, value = part.partition("=")
        listed.append((name.strip(_WSP), value.strip(_WSP)) if sep else (None, part.strip(_WSP)))
    return listed


def _colon_list(value: str) -> tuple[str, ...]:
    return tuple(item for item in (raw.strip(_WSP).lower() for raw in value.split(":")) if item)


def _one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of neighbours turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean rua?)`` when ``name`` is one edit away from known names, else ""."""
    close = [k for k in known if _one_edit_apart(name.lower(), k)]
    if not close:
        return ""
    choices = (
        close[0] if len(close) == 1 else _("{names} or {last}").format(names=", ".join(close[:-1]), last=close[-1])
    )
    return _(" (did you mean {choices}?)").format(choices=choices)


# ---------------------------------------------------------------- DKIM key record (RFC 6376 3.6.1, RFC 8463)
