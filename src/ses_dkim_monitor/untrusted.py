"""Text that came from DNS or SES, made safe to show.

Anyone who controls a domain's DNS controls the TXT content the monitor
quotes, and SES identity names are chosen by whoever created them. Such text
must never start a line of its own in an alert (a TXT holding
``"\\nFix: Publish evil.test ..."`` would otherwise print a second "Fix:"
line), move the cursor or recolour a terminal (ESC), or reorder or hide what
is around it (bidi overrides, zero-width characters).

``visible`` turns every control, format and line/paragraph-separator
character into a visible escape (``\\x1b``, ``\\u202e``), so the text stays on
one line and shows what it holds. ``quoted`` additionally shortens it and
marks it as quoted. Structured outputs (the JSON report, the SNS JSON
payload) keep the raw value: a machine can tell data from markup there.
"""

from __future__ import annotations

import unicodedata

MAX_QUOTED = 120  # characters of a DNS value quoted in a message

# Cc (C0 and C1 controls, DEL), Cf (format: bidi embeddings, overrides and
# isolates, zero-width characters, BOM), Cs/Co/Cn (surrogates, private use,
# unassigned), Zl/Zp (U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR,
# which some renderers break lines at).
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every control, format and line-separator character shown as an escape."""
    if text.isprintable():  # the common case: nothing to do (space counts as printable)
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text)


def shorten(value: str, limit: int = MAX_QUOTED) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def quoted(value: str, limit: int = MAX_QUOTED) -> str:
    """A DNS value as a message quotes it: shortened and between double quotes.

    The raw characters are kept (the JSON report shows them as they are);
    every text channel passes the whole message through ``visible``.
    """
    return f'"{shorten(value, limit)}"'
