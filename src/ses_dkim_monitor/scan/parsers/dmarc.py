"""DMARC records (RFC 7489, and DMARCbis, RFC 9989, which adds tags and says how receivers read a broken policy).

Read as receivers read them: a record is DMARC only if it begins with exactly
``v=DMARC1`` (RFC 9989 section 4.8: ``"v" *WSP "=" *WSP %s"DMARC1"``, tag
names case-sensitive as in DKIM's tag-value syntax); unknown tags are ignored
(section 4.7), so they are notes, not problems; a record without a valid
policy is read as ``p=none`` when ``rua=`` holds a valid URI, and as no policy
at all when it does not (section 4.10.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...i18n import N_, _
from .common import (
    _WSP,
    DMARC_BAD_PCT,
    DMARC_BAD_POLICY,
    DMARC_POLICY_IMPLIED,
    DMARC_SYNTAX_ERROR,
    DMARC_UNKNOWN_TAG,
    Problem,
    _did_you_mean,
    _show,
    _tag_list,
)

_DMARC_TAGS = ("v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "psd", "t")
_POLICIES = ("none", "quarantine", "reject")
# tag -> (allowed values, lowercased; the detail that names them), for the single-keyword tags.
_DMARC_KEYWORDS = {
    "adkim": (("r", "s"), N_("{tag}= is {value}, not r or s.")),
    "aspf": (("r", "s"), N_("{tag}= is {value}, not r or s.")),
    "psd": (("y", "n", "u"), N_("{tag}= is {value}, not y, n or u.")),
    "t": (("y", "n"), N_("{tag}= is {value}, not y or n.")),
}
_FO_OPTIONS = ("0", "1", "d", "s")
_REPORT_FORMATS = ("afrf", "iodef")  # afrf is the registered one; iodef lingers from DMARC drafts
_SIZE_LIMIT = re.compile(r"![0-9]+[kmgt]?\Z", re.IGNORECASE)  # RFC 7489's "!10m" suffix on a report URI
# RFC 9989 4.8: dmarc-version = "v" equals %s"DMARC1", then a separator or the end (white space allowed).
_VERSION = re.compile(r"v[ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*\Z")  # RFC 3986 3.1
# What an RFC 3986 URI may hold after its scheme: unreserved, reserved and "%" of percent-encoding.
_URI_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+;=%")


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """A DMARC record: every ``name=value`` tag in order as written, the known ones (first occurrence) as fields.

    ``applied_policy`` is what receivers apply (RFC 9989 section 4.10.1): ``p=``
    when it and ``sp=``/``np=`` are valid; ``none`` when one is missing or invalid
    but ``rua=`` holds a valid URI; None when receivers apply no DMARC policy.
    ``notes`` list what receivers ignore or fill in, for a record that works.
    """

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
    applied_policy: str | None = None
    notes: tuple[Problem, ...] = ()


def is_dmarc_record(txt: str) -> bool:
    """A TXT that begins with exactly ``v=DMARC1`` (white space allowed around ``=``): a DMARC record to receivers."""
    return _VERSION.match(txt) is not None


def looks_like_dmarc(txt: str) -> bool:
    """Not a DMARC record, but written as one (``v=dmarc1``, `` v=DMARC1``, ``V=DMARC1``): worth saying why not."""
    return not is_dmarc_record(txt) and "".join(txt.split()).lower().startswith("v=dmarc1")


def parse_dmarc(txt: str) -> DmarcRecord:
    """Parse a DMARC policy record; string fields are lowercased as written, valid or not (see ``problems``)."""
    problems: list[Problem] = []
    notes: list[Problem] = []

    def syntax(detail: str) -> None:
        problems.append(Problem(DMARC_SYNTAX_ERROR, detail))

    parts = _tag_list(txt)
    if not is_dmarc_record(txt):
        syntax(_not_dmarc(txt, parts))

    tags: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    empty_reported = False
    for name, value in parts:
        if name is None:
            if value:
                syntax(_("The part {part} has no '='.").format(part=_show(value)))
            elif not empty_reported:  # RFC 9989's grammar allows one ";" between tags, and one at the end
                empty_reported = True
                syntax(_("The tag list has an empty part (';;'), which DMARC's grammar does not allow."))
            continue
        tags.append((name, value))
        if not name:
            syntax(_("A tag has an empty name (its value is {value}).").format(value=_show(value)))
        elif name in first:
            syntax(_("The tag {tag} appears more than once.").format(tag=_show(name)))
        else:
            first[name] = value
            if name not in _DMARC_TAGS:
                notes.append(Problem(DMARC_UNKNOWN_TAG, _unknown_tag(name)))
            elif name != "v":
                _check_dmarc_value(name, value, problems)

    reporting = any(_bad_report_uri(uri) is None for uri in _uri_list(first.get("rua", "")))
    applied = _applied_policy(first, reporting)
    _judge_policy(first, applied, problems, notes)
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
        applied_policy=applied,
        notes=tuple(notes),
    )


def format_dmarc(record: DmarcRecord) -> str:
    """The record written back from its tags, in order, as ``name=value; ...``: it parses to the same reading.

    White space and empty or ``=``-less parts are not kept: this is the spelling
    a publisher would type for what was read.
    """
    return "; ".join(f"{name}={value}" for name, value in record.tags)


def _not_dmarc(txt: str, parts: list[tuple[str | None, str]]) -> str:
    """Why ``txt`` is not a DMARC record, in one sentence."""
    if txt[:1] in _WSP and txt.strip(_WSP)[:1] in ("v", "V"):
        return _(
            "The record {record} starts with white space; a DMARC record must begin with exactly v=DMARC1, so "
            "receivers ignore it."
        ).format(record=_show(txt))
    first_name, first_value = parts[0] if parts else (None, "")
    if first_name == "v":
        return _("v= is {value}, not DMARC1 (the version is case-sensitive), so receivers ignore the record.").format(
            value=_show(first_value)
        )
    if first_name is not None and first_name.lower() == "v":
        return _(
            "The record begins with {tag}=, not v=: tag names are case-sensitive, so receivers ignore the record."
        ).format(tag=first_name)
    if any(n == "v" and v == "DMARC1" for n, v in parts):
        return _("v=DMARC1 is not the first tag, so receivers ignore the record.")
    return _("The record {record} does not start with v=DMARC1.").format(record=_show(txt.strip(_WSP)))


def _unknown_tag(name: str) -> str:
    if name.lower() in _DMARC_TAGS:
        hint = _(" (tag names are case-sensitive: receivers do not read it as {lower}=)").format(lower=name.lower())
    else:
        hint = _did_you_mean(name, _DMARC_TAGS[1:])  # v= is only ever first; no typo of it is worth a guess
    return _("The tag {tag} is not a DMARC tag, so receivers ignore it{hint}.").format(tag=_show(name), hint=hint)


def _valid_policy(value: str | None) -> bool:
    return value is not None and value.lower() in _POLICIES


def _applied_policy(first: dict[str, str], reporting: bool) -> str | None:
    """RFC 9989 4.10.1: a missing or invalid p=, or an invalid sp=/np=, reads as p=none with a valid rua=, else none."""
    optional_ok = all(tag not in first or _valid_policy(first[tag]) for tag in ("sp", "np"))
    if _valid_policy(first.get("p")) and optional_ok:
        return first["p"].lower()
    return "none" if reporting else None


def _judge_policy(first: dict[str, str], applied: str | None, problems: list[Problem], notes: list[Problem]) -> None:
    """The problems (or the note) that say how receivers read the record's policy tags."""
    detail = (
        N_(
            "{tag}= is {value}, not none, quarantine or reject; receivers therefore read the record as p=none, since "
            "rua= holds a valid URI."
        )
        if applied == "none"
        else N_(
            "{tag}= is {value}, not none, quarantine or reject; receivers therefore apply no DMARC policy at all, "
            "since rua= holds no valid URI."
        )
    )
    bad = [tag for tag in ("p", "sp", "np") if tag in first and not _valid_policy(first[tag])]
    for tag in bad:
        problems.append(Problem(DMARC_BAD_POLICY, _(detail).format(tag=tag, value=_show(first[tag]))))
    if "p" in first:
        return
    if applied is None:
        problems.append(
            Problem(
                DMARC_BAD_POLICY, _("The record has no p= tag and no valid rua=, so receivers apply no DMARC policy.")
            )
        )
    elif not bad:
        notes.append(
            Problem(
                DMARC_POLICY_IMPLIED,
                _("The record has no p= tag; with a valid rua= receivers read it as p=none (RFC 9989 section 4.10.1)."),
            )
        )


def _valid_pct(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,3}", text) is not None and int(text) <= 100


def _uri_list(value: str) -> tuple[str, ...]:
    return tuple(uri for uri in (raw.strip(_WSP) for raw in value.split(",")) if uri)


def _check_dmarc_value(tag: str, value: str, problems: list[Problem]) -> None:
    """Append what is wrong with the value of a known tag (other than v=, and p=/sp=/np=, judged with rua=)."""
    low = value.lower()
    if tag in ("p", "sp", "np"):
        return

    def add(cause: str, detail: str) -> None:
        problems.append(Problem(cause, detail.format(tag=tag, value=_show(value))))

    if tag == "pct":
        if not _valid_pct(value):
            add(DMARC_BAD_PCT, _("{tag}= is {value}, not a whole number from 0 to 100."))
    elif tag in _DMARC_KEYWORDS:
        allowed, detail = _DMARC_KEYWORDS[tag]
        if low not in allowed:
            add(DMARC_SYNTAX_ERROR, _(detail))
    elif tag == "fo":
        options = low.split(":")
        if not all(o.strip(_WSP) in _FO_OPTIONS for o in options):
            add(DMARC_SYNTAX_ERROR, _("{tag}= is {value}, not a ':'-separated list of 0, 1, d and s."))
    elif tag == "rf":
        if not all(f.strip(_WSP) in _REPORT_FORMATS for f in low.split(":")):
            add(DMARC_SYNTAX_ERROR, _("{tag}= is {value}, not a report format (afrf)."))
    elif tag == "ri":
        if re.fullmatch(r"[0-9]{1,10}", value) is None or int(value) > 2**32 - 1:
            add(DMARC_SYNTAX_ERROR, _("{tag}= is {value}, not a number of seconds."))
    elif tag in ("rua", "ruf"):
        uris = _uri_list(value)
        if not uris:
            add(DMARC_SYNTAX_ERROR, _("{tag}= is empty; it should list report URIs."))
        for uri in uris:
            why = _bad_report_uri(uri)
            if why:
                problems.append(
                    Problem(DMARC_SYNTAX_ERROR, _(why).format(tag=tag, uri=_show(uri), scheme=_scheme(uri)))
                )


def _bad_report_uri(uri: str) -> str | None:
    """Why ``uri`` is not a syntactically valid report URI (RFC 9989 4.8: any RFC 3986 URI), or None.

    Any scheme is a URI (ftp:, http:, a mailto: to a host without a dot):
    receivers send to those they support and ignore the rest. ``mailto:`` needs
    an address and ``http(s):`` a host, or there is nowhere to send to. The
    reason is a detail to translate and fill in (``tag``, ``uri``, ``scheme``).
    """
    limit = _SIZE_LIMIT.search(uri)
    if limit:
        uri = uri[: limit.start()]
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.match(scheme):
        return N_("The {tag}= URI {uri} is not a URI (it needs a scheme, such as mailto:).")
    if any(ch not in _URI_CHARS for ch in rest):
        return N_("The {tag}= URI {uri} has a character a URI cannot hold unescaped.")
    scheme = scheme.lower()
    if scheme == "mailto":
        local, at, domain = rest.rpartition("@")
        if not (at and local and domain):
            return N_("The {tag}= URI {uri} has no valid email address after mailto:.")
    elif scheme in ("http", "https") and (not rest.startswith("//") or not rest[2:].split("/", 1)[0]):
        return N_("The {tag}= URI {uri} has no host after {scheme}://.")
    elif not rest:
        return N_("The {tag}= URI {uri} has nothing after {scheme}:.")
    return None


def _scheme(uri: str) -> str:
    return uri.partition(":")[0].lower()
