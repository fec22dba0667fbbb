"""DMARC records (RFC 7489, and the tags DMARCbis, RFC 9989, adds)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .common import (
    _WSP,
    DMARC_BAD_PCT,
    DMARC_BAD_POLICY,
    DMARC_SYNTAX_ERROR,
    DMARC_UNKNOWN_TAG,
    Problem,
    _did_you_mean,
    _show,
    _tag_list,
)

_DMARC_TAGS = ("v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "psd", "t")
_POLICIES = ("none", "quarantine", "reject")
# tag -> (allowed values, lowercased; how a detail names them), for the single-keyword tags.
_DMARC_KEYWORDS = {
    "adkim": (("r", "s"), "r or s"),
    "aspf": (("r", "s"), "r or s"),
    "psd": (("y", "n", "u"), "y, n or u"),
    "t": (("y", "n"), "y or n"),
}
_FO_OPTIONS = ("0", "1", "d", "s")
_REPORT_FORMATS = ("afrf", "iodef")  # afrf is the registered one; iodef lingers from DMARC drafts
_SIZE_LIMIT = re.compile(r"![0-9]+[kmgt]?\Z", re.IGNORECASE)  # RFC 7489's "!10m" suffix on a report URI


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """A DMARC record: every tag in order, the known ones (first occurrence) as fields."""

    tags: tuple[tuple[str, str], ...]
    policy: str | None
    subdomain_policy: str | None
    nonexistent_policy: str | None
    pct: int | None
    psd: str | None
    testing: str | None
    rua: tuple[str, ...]
    ruf: tuple[str, ...]
    adkim: str | None
    aspf: str | None
    problems: tuple[Problem, ...]


def is_dmarc_record(txt: str) -> bool:
    """A TXT whose first tag is ``v=DMARC1`` (any case, white space around ``=`` allowed)."""
    parts = _tag_list(txt)
    if not parts:
        return False
    name, value = parts[0]
    return name is not None and name.lower() == "v" and value.lower() == "dmarc1"


def parse_dmarc(txt: str) -> DmarcRecord:
    """Parse a DMARC policy record; string fields are lowercased as written, valid or not (see ``problems``)."""
    problems: list[Problem] = []

    def syntax(detail: str) -> None:
        problems.append(Problem(DMARC_SYNTAX_ERROR, detail))

    parts = _tag_list(txt)
    if not is_dmarc_record(txt):
        first_name, first_value = parts[0] if parts else (None, "")
        if first_name is not None and first_name.lower() == "v":
            syntax(f"v= is {_show(first_value)}, not DMARC1.")
        elif any(n is not None and n.lower() == "v" and v.lower() == "dmarc1" for n, v in parts):
            syntax("v=DMARC1 is not the first tag, so receivers ignore the record.")
        else:
            syntax(f"The record {_show(txt.strip(_WSP))} does not start with v=DMARC1.")

    tags: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for name, value in parts:
        if name is None:
            if value:  # empty parts (";;") are harmless and receivers skip them
                syntax(f"The part {_show(value)} has no '='.")
            continue
        tag = name.lower()
        tags.append((tag, value))
        if not tag:
            syntax(f"A tag has an empty name (its value is {_show(value)}).")
        elif tag in first:
            syntax(f"The tag {_show(tag)} appears more than once.")
        else:
            first[tag] = value
            if tag not in _DMARC_TAGS:
                hint = _did_you_mean(tag, _DMARC_TAGS[1:])  # v= is only ever first; no typo of it is worth a guess
                problems.append(Problem(DMARC_UNKNOWN_TAG, f"The tag {_show(tag)} is not a DMARC tag{hint}."))
            else:
                _check_dmarc_value(tag, value, problems)

    if "p" not in first:
        problems.append(Problem(DMARC_BAD_POLICY, "The record has no p= tag, so it states no policy."))
    pct_text = first.get("pct")
    pct = int(pct_text) if pct_text is not None and _valid_pct(pct_text) else None

    def lowered(tag: str) -> str | None:
        return first[tag].lower() if tag in first else None

    return DmarcRecord(
        tags=tuple(tags),
        policy=lowered("p"),
        subdomain_policy=lowered("sp"),
        nonexistent_policy=lowered("np"),
        pct=pct,
        psd=lowered("psd"),
        testing=lowered("t"),
        rua=_uri_list(first.get("rua", "")),
        ruf=_uri_list(first.get("ruf", "")),
        adkim=lowered("adkim"),
        aspf=lowered("aspf"),
        problems=tuple(problems),
    )


def _valid_pct(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,3}", text) is not None and int(text) <= 100


def _uri_list(value: str) -> tuple[str, ...]:
    return tuple(uri for uri in (raw.strip(_WSP) for raw in value.split(",")) if uri)


def _check_dmarc_value(tag: str, value: str, problems: list[Problem]) -> None:
    """Append what is wrong with the value of a known tag (other than v=)."""
    low = value.lower()
    shown = f"{tag}= is {_show(value)}"
    if tag in ("p", "sp", "np"):
        if low not in _POLICIES:
            problems.append(Problem(DMARC_BAD_POLICY, f"{shown}, not none, quarantine or reject."))
    elif tag == "pct":
        if not _valid_pct(value):
            problems.append(Problem(DMARC_BAD_PCT, f"{shown}, not a whole number from 0 to 100."))
    elif tag in _DMARC_KEYWORDS:
        allowed, said = _DMARC_KEYWORDS[tag]
        if low not in allowed:
            problems.append(Problem(DMARC_SYNTAX_ERROR, f"{shown}, not {said}."))
    elif tag == "fo":
        options = low.split(":")
        if not all(o.strip(_WSP) in _FO_OPTIONS for o in options):
            problems.append(Problem(DMARC_SYNTAX_ERROR, f"{shown}, not a ':'-separated list of 0, 1, d and s."))
    elif tag == "rf":
        if not all(f.strip(_WSP) in _REPORT_FORMATS for f in low.split(":")):
            problems.append(Problem(DMARC_SYNTAX_ERROR, f"{shown}, not a report format (afrf)."))
    elif tag == "ri":
        if re.fullmatch(r"[0-9]{1,10}", value) is None or int(value) > 2**32 - 1:
            problems.append(Problem(DMARC_SYNTAX_ERROR, f"{shown}, not a number of seconds."))
    elif tag in ("rua", "ruf"):
        uris = _uri_list(value)
        if not uris:
            problems.append(Problem(DMARC_SYNTAX_ERROR, f"{tag}= is empty; it should list report URIs."))
        for uri in uris:
            why = _bad_report_uri(uri)
            if why:
                problems.append(Problem(DMARC_SYNTAX_ERROR, f"The {tag}= URI {_show(uri)} {why}."))


def _bad_report_uri(uri: str) -> str | None:
    """Why ``uri`` is not a usable report address (mailto: or https:), or None."""
    limit = _SIZE_LIMIT.search(uri)
    if limit:
        uri = uri[: limit.start()]
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("mailto", "https"):
        return "is not a mailto: or https: URI"
    if scheme == "mailto":
        local, at, domain = rest.rpartition("@")
        if not (at and local and "." in domain) or any(ch in rest for ch in _WSP):
            return "has no valid email address after mailto:"
    elif not rest.startswith("//") or not rest[2:].split("/", 1)[0]:
        return "has no host after https://"
    return None


# ---------------------------------------------------------------- SPF record (RFC 7208)
