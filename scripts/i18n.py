"""Keep the translation catalogs in step with the code (Babel; a development tool, never needed at run time).

    .venv/bin/python scripts/i18n.py update     # extract every marked string; add new ones to each .po, drop gone ones
    .venv/bin/python scripts/i18n.py compile    # write each .mo from its .po (refuses a .po with gaps)
    .venv/bin/python scripts/i18n.py check      # exit 1 naming what is missing, fuzzy, stale or uncompiled

docs/i18n.md says how a new string gets its translation. tests/test_i18n.py
runs the same checks as ``check`` (through the functions below), so a string
marked in the code without a Japanese translation fails the suite.
"""

from __future__ import annotations

import argparse
import gettext
import io
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "ses_dkim_monitor"
sys.path.insert(0, str(ROOT / "src"))

from ses_dkim_monitor.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
# What must be written in a translation exactly as in its source: commands, flags, record syntax, API names.
LITERAL = re.compile(
    r"(?:aws [a-z0-9-]+ [a-z0-9-]+|ses-dkim-monitor(?: [a-z]+)?|--[a-z][a-z0-9-]+|\b[a-z]+=[A-Za-z0-9_]*"
    r"|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b(?:CNAME|TXT|MX|SPF|DKIM|DMARC|SES|SOA|NS|NXDOMAIN|SERVFAIL)\b"
    r"|\bv=spf1\b|\bv=DMARC1\b|\bp=none\b|include:amazonses\.com|d=amazonses\.com|_domainkey|_dmarc)"
)


HEADER = {
    "project": "ses-dkim-monitor",
    "version": "",
    "copyright_holder": "the ses-dkim-monitor authors",
    "msgid_bugs_address": "the project's issue tracker",
    "last_translator": "ses-dkim-monitor maintainers",
    "language_team": "Japanese (docs/i18n.md)",
}


MARKERS = ("_", "N_", "ngettext", "pgettext")  # what Babel extracts (DEFAULT_KEYWORDS has these among others)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def translated_languages() -> list[str]:
    return [lang for lang in LANGUAGES if lang != "en"]


def extract() -> Catalog:
    """Every string marked in the package (``_``, ``N_``, ``ngettext``, ``pgettext``), with its comments."""
    catalog = Catalog(project="ses-dkim-monitor", domain=DOMAIN, fuzzy=False)
    found = extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=DEFAULT_KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        if filename.startswith("locale"):
            continue
        catalog.add(
            message, None, [(f"src/ses_dkim_monitor/{filename}", lineno)], auto_comments=comments, context=context
        )
    return catalog


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    catalog.revision_date = catalog.creation_date
    return catalog


def write(language: str, catalog: Catalog) -> None:
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=False, include_previous=False, include_lineno=False)
    po_path(language).parent.mkdir(parents=True, exist_ok=True)
    po_path(language).write_bytes(out.getvalue())


def update(language: str) -> Catalog:
    """The .po with every marked string: translations kept, new strings empty, gone ones dropped."""
    template = extract()
    if not po_path(language).exists():
        catalog = Catalog(locale=language, domain=DOMAIN, fuzzy=False, **HEADER)
    else:
        catalog = read(language)
    template.creation_date = catalog.creation_date  # no header churn: the .po's diff is its messages
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    for field, value in HEADER.items():
        setattr(catalog, field, value)
    return catalog


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def _texts(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _sources(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def problems(language: str) -> list[str]:
    """Everything wrong with one language's catalog, as lines for a person (empty when all is well)."""
    if not po_path(language).exists():
        return [f"{po_path(language)}: missing (run scripts/i18n.py update)"]
    catalog = read(language)
    wanted = {_key(m) for m in extract() if m.id}
    have = {_key(m): m for m in catalog if m.id}
    found: list[str] = []
    for key in sorted(wanted - have.keys(), key=str):
        found.append(f"{language}: not in the .po (run scripts/i18n.py update): {key[0][:80]!r}")
    for key in sorted(have.keys() - wanted, key=str):
        found.append(f"{language}: in the .po but no longer in the code: {key[0][:80]!r}")
    for key, message in have.items():
        if key not in wanted:
            continue
        if message.fuzzy:
            found.append(f"{language}: fuzzy: {key[0][:80]!r}")
        if not all(t.strip() for t in _texts(message)):
            found.append(f"{language}: not translated: {key[0][:80]!r}")
            continue
        found += [f"{language}: {p}: {key[0][:80]!r}" for p in placeholder_problems(message)]
    if not mo_path(language).exists():
        found.append(f"{mo_path(language)}: missing (run scripts/i18n.py compile)")
    elif same_catalog(mo_path(language).read_bytes(), compiled(catalog)) is False:
        found.append(f"{mo_path(language)}: not what the .po compiles to (run scripts/i18n.py compile)")
    return found


def placeholder_problems(message: Message) -> list[str]:
    """Placeholders a translation dropped, changed or added, and literal commands or record words it lost."""
    out: list[str] = []
    wanted = set().union(*(set(PLACEHOLDER.findall(s)) for s in _sources(message)))
    literal = set().union(*(set(LITERAL.findall(s)) for s in _sources(message)))
    for text in _texts(message):
        got = set(PLACEHOLDER.findall(text))
        if got != wanted:
            out.append(f"placeholders {sorted(got)} instead of {sorted(wanted)}")
        lost = sorted(w for w in literal if w not in text)
        if lost:
            out.append(f"lost what must stay as written: {lost}")
        try:
            text.format(**dict.fromkeys(wanted, ""))
        except (ValueError, IndexError, KeyError) as error:
            out.append(f"not a valid format string ({error})")
    return out


def same_catalog(mo: bytes, expected: bytes) -> bool:
    """Whether two compiled catalogs hold the same messages (as gettext reads them, not byte for byte)."""
    return _messages(mo) == _messages(expected)


def _messages(data: bytes) -> dict[object, str]:
    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "compile", "check"))
    args = parser.parse_args(argv)
    languages: Iterable[str] = translated_languages()
    if args.command == "update":
        for language in languages:
            write(language, update(language))
            print(f"i18n.py: wrote {po_path(language).relative_to(ROOT)}", file=sys.stderr)
        return 0
    if args.command == "compile":
        status = 0
        for language in languages:
            gaps = [p for p in problems(language) if "not translated" in p or "fuzzy" in p or "not in the" in p]
            if gaps:
                print("\n".join(gaps), file=sys.stderr)
                status = 1
                continue
            mo_path(language).write_bytes(compiled(read(language)))
            print(f"i18n.py: wrote {mo_path(language).relative_to(ROOT)}", file=sys.stderr)
        return status
    found = [p for language in languages for p in problems(language)]
    print("\n".join(found) or "i18n.py: every catalog is complete and compiled", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
