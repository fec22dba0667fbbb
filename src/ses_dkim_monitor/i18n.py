"""The language of everything a person reads: gettext catalogs, chosen once per process.

English is the source language: every message is written in English in the
code, marked for translation, and looked up in the catalog of the chosen
language (``locale/<lang>/LC_MESSAGES/ses_dkim_monitor.mo``, compiled from the
``.po`` beside it; docs/i18n.md says how a new string gets its translation).

The choice is a process-wide value, not a context variable: the scan's worker
threads must see it, and a ``contextvars`` value set in the main thread is not
inherited by an executor's threads. The composition roots (``cli.main``,
``handler.run``) set it with ``speaking``, which also restores the previous
language on exit, so tests that call them in one process never leak a language
into the next test. Checks stay pure functions: they read the chosen catalog
as they read a constant.

Messages use named ``str.format`` placeholders (``{name}``, ``{token}``), never
positional or ``%`` ones: a translation may put them in another order, and a
test checks that every translation keeps exactly the placeholders of its
source (tests/test_i18n.py).

What is never translated: check ids, causes, severities, JSON keys, SNS
message attributes, exit codes, record names and values, commands.
"""

from __future__ import annotations

import contextlib
import gettext
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

DOMAIN = "ses_dkim_monitor"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ja")  # English is the source language; every other one has a catalog
DEFAULT_LANGUAGE = "en"
# gettext's order (GNU gettext manual, "Locale Environment Variables"; Python's gettext.find): the first of
# these that is set and not empty decides. LANGUAGE is a colon-separated list of preferences.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_lock = threading.Lock()
_loaded: dict[str, gettext.NullTranslations] = {}
_language = DEFAULT_LANGUAGE
_catalog: gettext.NullTranslations = gettext.NullTranslations()


class UnknownLanguage(ValueError):
    """A language the monitor has no catalog for."""


def catalog(language: str) -> gettext.NullTranslations:
    """The translations of ``language`` (English: the identity). A missing compiled catalog raises."""
    if language not in LANGUAGES:
        raise UnknownLanguage(f"{language!r} is not one of {', '.join(LANGUAGES)}")
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    with _lock:
        found = _loaded.get(language)
        if found is None:
            # fallback=False: an install without the compiled catalog must fail loudly, not speak English.
            found = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language])
            _loaded[language] = found
    return found


def use(language: str) -> None:
    """Make ``language`` the one every message is written in, for the whole process (every thread)."""
    global _language, _catalog
    translations = catalog(language)
    _language, _catalog = language, translations


def current() -> str:
    """The language messages are being written in (``en`` or ``ja``)."""
    return _language


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """``use(language)`` for the ``with`` block, then the previous language again."""
    saved = _language
    use(language)
    try:
        yield
    finally:
        use(saved)


def _(message: str) -> str:
    """``message`` in the current language (itself when the catalog has no translation)."""
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` in the current language (Japanese has one form)."""
    return _catalog.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same words elsewhere by ``context``."""
    return _catalog.pgettext(context, message)


def sentences(*parts: str) -> str:
    """Sentences in the current language, one after another: a space between English ones, none in Japanese.

    A text whose last sentences are the same for several records (who serves
    the zone, what its form does) is built this way, so a report can say those
    once for a group (``render.grouping``).
    """
    return ("" if _language == "ja" else " ").join(part.strip() for part in parts if part and part.strip())


def sentence(text: str) -> str:
    """``text`` ending as a sentence of the current language does (a full stop added where it has none)."""
    text = text.rstrip()
    if not text or text.endswith((".", "。", "!", "?", ":")):
        return text
    return text + ("。" if _language == "ja" else ".")


def joined(details: Iterable[str]) -> str:
    """Sentences that explain one thing, as one text: ``"; "`` between English ones, none between Japanese ones.

    The record parsers' details are whole sentences ("pct= is "abc", not a
    whole number from 0 to 100."); the checks quote several of them in one
    message. English has always joined them with "; ", while a Japanese
    sentence ends with "。", which needs nothing after it.
    """
    parts = [part.strip() for part in details if part and part.strip()]
    if _language == "ja":
        return "".join(sentence(part) for part in parts)
    return "; ".join(parts)


def N_(message: str) -> str:
    """Marks ``message`` for translation where it is defined; it is translated with ``_`` where it is shown."""
    return message


def language_of_locale(value: str) -> str:
    """The language a locale name asks for: ``ja_JP.UTF-8`` and ``ja`` give ``ja``; ``C``, ``POSIX``, others ``en``."""
    code = value.strip().split(".", 1)[0].split("@", 1)[0].split("_", 1)[0].split("-", 1)[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def from_locale(env: Mapping[str, str]) -> str:
    """The language gettext's convention picks from ``env`` (the CLI's default when ``--language`` is not given).

    The first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set and not
    empty decides; LANGUAGE is a list (``fr:ja:en``) whose first entry with a
    catalog here wins. Nothing set, or a locale without a catalog: English.
    As GNU gettext does, LANGUAGE counts only when the locale (the first of
    LC_ALL, LC_MESSAGES, LANG set) is not C or POSIX: ``LC_ALL=C command``
    gives English even where the desktop sets ``LANGUAGE=ja:en``.
    """
    locale = next((v for v in (env.get(n, "").strip() for n in LOCALE_VARIABLES[1:]) if v), "")
    c_locale = locale.split(".", 1)[0] in ("", "C", "POSIX")
    for variable in LOCALE_VARIABLES:
        value = env.get(variable, "").strip()
        if not value or (variable == "LANGUAGE" and c_locale):
            continue
        entries = value.split(":") if variable == "LANGUAGE" else [value]
        for entry in entries:
            code = language_of_locale(entry)
            if code != DEFAULT_LANGUAGE or entry.strip().lower().startswith("en"):
                return code
        return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
