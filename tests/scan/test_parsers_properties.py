"""Property tests: the record parsers never raise, and what they return keeps its documented shape.

Each parser gets arbitrary text and text built from plausible pieces (real
tag names and values, real keys and their near misses, spacing variants) so
that most inputs look like records and reach the deep branches. The number of
examples comes from the Hypothesis profile in tests/conftest.py: 200 by
default, 10,000 per test with HYPOTHESIS_PROFILE=full.
"""

from __future__ import annotations

import base64
import random
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, note
from hypothesis import strategies as st

from ses_dkim_monitor.scan.parsers import (
    DKIM_CAUSES,
    DKIM_NOTES,
    DMARC_CAUSES,
    DMARC_NOTES,
    SPF_CAUSES,
    SPF_NOTES,
    DkimKey,
    DmarcRecord,
    Problem,
    SpfRecord,
    SpfTerm,
    format_dkim_key,
    format_dmarc,
    format_spf,
    is_dmarc_record,
    is_spf_record,
    parse_dkim_key,
    parse_dkim_key_record,
    parse_dmarc,
    parse_spf,
    spf_authorises_ses,
)

# The documented codes, spelled out here so that a parser inventing a code fails even if it also adds it to its set.
DOCUMENTED_DKIM = {"key-revoked", "key-malformed"}
DOCUMENTED_DKIM_NOTES = {"key-tag-case"}
DOCUMENTED_DMARC = {"dmarc-bad-policy", "dmarc-bad-pct", "dmarc-syntax-error"}
DOCUMENTED_DMARC_NOTES = {"dmarc-unknown-tag", "dmarc-policy-implied"}
DOCUMENTED_SPF = {"spf-syntax-error", "spf-plus-all", "spf-macro-outside-exp"}
DOCUMENTED_SPF_NOTES = {"spf-ignored-terms"}

# Plausible pieces are rendered once, here, into pools; a test draws a whole list of pieces as one
# string (one Hypothesis choice). Drawing, not parsing, is what costs time on a shared machine, and
# the full profile runs 10,000 examples per test.
_pieces = random.Random(6376)
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
_DER_KEYS = [
    _RSA.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
    _RSA.public_bytes(Encoding.DER, PublicFormat.PKCS1),
    rsa.RSAPublicNumbers(65537, (1 << 511) + 1).public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1),
    ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
    ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
]
SPACES = ["", " ", "  ", "\t", " \r\n "]
# Characters that records do not usually hold: controls, non-ASCII, a lone surrogate (surrogateescape'd bytes).
ODD = ["\x00", "\x1b", "\x7f", "\xa0", "é", "中", "\u2028", "\udcff", "😀", "²", "١", "%", "{", "}", "=", ";", ":", "/"]
JUNK = ["".join(_pieces.choice(ODD + list("aZ09.-_ ")) for _ in range(_pieces.randint(0, 10))) for _ in range(40)]


def damaged(der: bytes) -> str:
    """A p= value made from a real key, damaged (or not) the ways published keys get damaged."""
    data = bytearray(der)
    damage = _pieces.choice(["none", "none", "truncate", "flip", "extend"])
    if damage == "truncate":
        del data[_pieces.randrange(len(data)) :]
    elif damage == "flip":
        data[_pieces.randrange(len(data))] = _pieces.randrange(256)
    elif damage == "extend":
        data += _pieces.randbytes(_pieces.randint(1, 4))
    text = base64.b64encode(bytes(data)).decode("ascii")
    at = _pieces.randint(0, len(text))
    edit = _pieces.choice(["none", "none", "space", "char", "unpad"])
    if edit == "space":
        text = text[:at] + _pieces.choice(SPACES) + text[at:]
    elif edit == "char":
        text = text[:at] + _pieces.choice(ODD) + text[at:]
    elif edit == "unpad":
        text = text.rstrip("=")
    return text


def tag_specs(values: dict[str, list[str]]) -> list[str]:
    """Each name with its plausible values and some junk, spaced as records are and followed by a separator;
    plus the names alone (parts without "=") and junk parts."""
    specs = [
        f"{name}{_pieces.choice(SPACES)}={_pieces.choice(SPACES)}{value}"
        for name, own in values.items()
        for value in [*own, *JUNK[:3]]
    ]
    specs += [*values, *JUNK]
    return [spec + _pieces.choice([";", "; ", " ; ", ";  ", ";;"]) for spec in specs]


_FIRST = 0x4E00  # pool index i is drawn as the character chr(_FIRST + i), a run of valid code points


def pooled(pool: list[str], max_size: int) -> st.SearchStrategy[list[str]]:
    """Lists of pooled pieces, drawn as one string: one choice for Hypothesis, however long the list."""
    alphabet = "".join(chr(_FIRST + i) for i in range(len(pool)))
    return st.text(alphabet=alphabet, max_size=max_size).map(lambda s: [pool[ord(ch) - _FIRST] for ch in s])


def tag_list(pool: list[str], head: str = "") -> st.SearchStrategy[str]:
    """``head`` then a tag list of pooled parts; without its trailing separator when it has an odd number of parts."""

    def join(parts: list[str]) -> str:
        text = head + "".join(parts)
        return text.rstrip("; ") if len(parts) % 2 else text

    return pooled(pool, 7).map(join)


# Half the keys intact (each kind five times), half damaged.
KEYS = [base64.b64encode(der).decode("ascii") for der in _DER_KEYS] * 5 + [damaged(der) for der in _DER_KEYS * 5]
NUMBERS = ["0", "50", "100", "150", "-1", "", "١٠", "²", "５0", "+5", "5e1", "0x10", "4294967296"]
DKIM_TAGS = {
    "v": ["DKIM1", "DKIM2", "dkim1", ""],
    "k": ["rsa", "RSA", "ed25519", "dsa", ""],
    "p": ["", *KEYS[::6]],
    "t": ["y", "s", "y:s", "Y", "x", ""],
    "h": ["sha256", "sha1", "sha1:sha256", "SHA256", ""],
    "s": ["email", "*", "tlsrpt", "email:*", ""],
    "n": ["notes", ""],
    "g": ["*"],
    "P": KEYS[:2],
    "V": ["DKIM1"],
    "x_1": ["1"],
    "1p": ["1"],
    "": ["rsa"],
}
DKIM_PARTS = tag_specs(DKIM_TAGS) + [f"p={key};" for key in KEYS]
GOOD_DKIM_PARTS = [
    "k=rsa; ",
    "k=ed25519; ",
    "t=y; ",
    "t=s; ",
    "h=sha256; ",
    "s=email; ",
    "n=rotated 2026; ",
    "g=*; ",
    "x=1; ",
]
dkim_records = st.one_of(
    st.text(),
    tag_list(DKIM_PARTS),
    tag_list(DKIM_PARTS, head="v=DKIM1; "),
    # Mostly valid: a real key (damaged in some) after tags that are each fine alone.
    st.tuples(pooled(GOOD_DKIM_PARTS, 3), st.sampled_from(KEYS)).map(lambda t: f"v=DKIM1; {''.join(t[0])}p={t[1]}"),
)

POLICIES = ["none", "quarantine", "reject", "Reject", "block", ""]
URIS = ["mailto:d@example.com", "mailto:a@x.org!10m", "https://r.example.com/x", "http://r.example.com", "x@y", ""]
URIS += ["mailto:a@x.org, mailto:b@y.org", "mailto:", "mailto:a@b.c,,https:"]
DMARC_TAGS = {
    "v": ["DMARC1", "DMARC2", "dmarc1"],
    "p": POLICIES,
    "sp": POLICIES,
    "np": POLICIES,
    "pct": NUMBERS,
    "rua": URIS,
    "ruf": URIS,
    "adkim": ["r", "s", "R", "relaxed", ""],
    "aspf": ["r", "s", "strict"],
    "fo": ["0", "1", "d", "s", "0:1:d:s", "2", "1:", ""],
    "rf": ["afrf", "iodef", "AFRF:iodef", "xml", ""],
    "ri": ["86400", *NUMBERS],
    "psd": ["y", "n", "u", "yes", ""],
    "t": ["y", "n", "maybe", ""],
    "rau": URIS[:1],
    "P": POLICIES[:3],
    "RUA": URIS[:1],
    "pc": NUMBERS[:2],
    "": ["none"],
}
DMARC_PARTS = tag_specs(DMARC_TAGS)
GOOD_DMARC_PARTS = [
    *("p=none; ", "p=quarantine; ", "sp=reject; ", "np=reject; ", "pct=50; ", "adkim=s; ", "aspf=r; ", "psd=y; "),
    *("t=y; ", "fo=1:d; ", "rf=afrf; ", "ri=3600; ", "rua=mailto:d@example.com; ", "ruf=https://r.example.com; "),
]
dmarc_records = st.one_of(
    st.text(),
    tag_list(DMARC_PARTS),
    tag_list(DMARC_PARTS, head="v=DMARC1; "),
    # Mostly valid: tags that are each fine alone (a few repeat, or lack p=).
    tag_list(GOOD_DMARC_PARTS, head="v=DMARC1; p=reject; "),
)

SPF_DOMAINS = [
    *("amazonses.com", "_spf.google.com", "example.com.", "%{i}._spf.%{d}", "%{z}.x.com", "%%.example.com"),
    *("localhost", "example..com", "x.123", "%{d2r}", "", "a/24", "b.example.com//64", "c.example.com/24//64"),
    *JUNK[:5],
]
SPF_NETWORKS = [
    *("192.0.2.1", "192.0.2.0/24", "192.0.2.300", "010.0.0.1", "10.0.0.0/33", "1.2.3.4/", "0.0.0.0/0"),
    *("2001:db8::/32", "fe80::1%eth0", "2001:db8:::1", "::/0", "::1/129", "::ffff:192.0.2.1", "1.2.3.4/024"),
    *("１.2.3.4", "::1/٣"),  # digits that are not ASCII
]
SPF_WORDS = [
    f"{q}{m}{arg}"
    for q in ("", "+", "-", "~", "?")
    for m in ("all", "include", "a", "mx", "ptr", "exists", "ALL", "Include", "incude", "ip")
    for arg in ("", "/24", "//64", "/33", ":", *(":" + d for d in SPF_DOMAINS))
]
SPF_WORDS += [f"{q}{m}:{n}" for q in ("", "-", "~") for m in ("ip4", "ip6") for n in SPF_NETWORKS]
SPF_WORDS += [f"{m}={d}" for m in ("redirect", "exp", "moo", "include", "v", "1x") for d in SPF_DOMAINS]
SPF_WORDS += ["v=spf1", "V=SPF1", "v=spf2", "spf1", *JUNK]
SPF_WORDS = [word + _pieces.choice(["", "", "", " "]) for word in SPF_WORDS]  # sometimes two spaces
GOOD_SPF_WORDS = [
    *("include:amazonses.com", "include:_spf.google.com", "a", "mx", "ptr", "a:mail.example.com/24", "mx//64"),
    *("ip4:192.0.2.0/24", "ip6:2001:db8::/32", "exists:%{i}._spf.%{d}", "redirect=_spf.example.com", "moo=bar"),
    *("exp=explain.example.com", "-all", "~all", "?all"),
]
spf_records_text = st.one_of(
    st.text(),
    pooled(SPF_WORDS, 8).map(" ".join),
    pooled(SPF_WORDS, 8).map(lambda words: " ".join(["v=spf1", *words])),
    # Mostly valid: terms that are each fine alone (all may come early, redirect may meet all).
    pooled(GOOD_SPF_WORDS, 6).map(lambda words: " ".join(["v=spf1", *words])),
)


def assert_problems(problems: object, documented: set[str], declared: frozenset[str]) -> None:
    """Either no problems, or Problems with documented causes and short, printable one-line details."""
    assert declared == documented
    assert isinstance(problems, tuple)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.cause in documented
        assert isinstance(problem.detail, str) and problem.detail
        # A detail quotes at most a couple of values of at most 60 characters each, escaped.
        assert problem.detail.isprintable() and len(problem.detail) <= 300, problem.detail


def is_str_tuple(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(item, str) for item in value)


@given(dkim_records)
def test_dkim_key_parser_never_raises_and_keeps_its_shape(txt: str) -> None:
    note(f"record: {txt!r}")
    key = parse_dkim_key_record(txt)
    assert isinstance(key, DkimKey)
    assert_problems(key.problems, DOCUMENTED_DKIM, DKIM_CAUSES)
    assert_problems(key.notes, DOCUMENTED_DKIM_NOTES, DKIM_NOTES)
    assert key.version is None or isinstance(key.version, str)
    assert isinstance(key.key_type, str) and key.key_type == key.key_type.lower()
    assert isinstance(key.public_key, str) and not any(ch.isspace() for ch in key.public_key)
    assert is_str_tuple(key.flags) and is_str_tuple(key.hash_algorithms) and is_str_tuple(key.services)
    assert key.key_bits is None or (isinstance(key.key_bits, int) and key.key_bits > 0)
    assert key.usable is (key.key_bits is not None and not key.problems)
    assert isinstance(key.testing, bool) and isinstance(key.revoked, bool)
    if key.revoked:
        assert key.public_key == "" and key.key_bits is None
    if key.key_bits is not None:
        assert key.public_key  # only a p= that held a key has a length
    assert parse_dkim_key(txt) == (key.public_key if key.usable else None)


@given(dmarc_records)
def test_dmarc_parser_never_raises_and_keeps_its_shape(txt: str) -> None:
    note(f"record: {txt!r}")
    record = parse_dmarc(txt)
    assert isinstance(record, DmarcRecord)
    assert_problems(record.problems, DOCUMENTED_DMARC, DMARC_CAUSES)
    assert_problems(record.notes, DOCUMENTED_DMARC_NOTES, DMARC_NOTES)
    assert isinstance(record.tags, tuple)
    for tag, value in record.tags:
        assert isinstance(tag, str) and isinstance(value, str)
    assert record.applied_policy in (None, "none", "quarantine", "reject")
    for field in (record.policy, record.subdomain_policy, record.nonexistent_policy, record.psd, record.testing):
        assert field is None or (isinstance(field, str) and field == field.lower())
    for field in (record.adkim, record.aspf):
        assert field is None or isinstance(field, str)
    assert record.pct is None or (isinstance(record.pct, int) and 0 <= record.pct <= 100)
    assert is_str_tuple(record.rua) and is_str_tuple(record.ruf) and all(record.rua) and all(record.ruf)
    causes = {p.cause for p in record.problems}
    if not is_dmarc_record(txt):
        assert "dmarc-syntax-error" in causes
    if record.applied_policy is None:
        assert "dmarc-bad-policy" in causes
    if record.applied_policy != record.policy:
        assert record.applied_policy == "none" or "dmarc-bad-policy" in causes


@given(spf_records_text)
def test_spf_parser_never_raises_and_keeps_its_shape(txt: str) -> None:
    note(f"record: {txt!r}")
    record = parse_spf(txt)
    assert isinstance(record, SpfRecord)
    assert_problems(record.problems, DOCUMENTED_SPF, SPF_CAUSES)
    assert_problems(record.notes, DOCUMENTED_SPF_NOTES, SPF_NOTES)
    assert isinstance(record.terms, tuple)
    for term in record.terms:
        assert isinstance(term, SpfTerm)
        assert term.qualifier in ("+", "-", "~", "?")
        assert term.mechanism in ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
        assert term.value is None or isinstance(term.value, str)  # "" for "a:", a ":" with nothing after it
    assert record.redirect is None or isinstance(record.redirect, str)
    assert record.explanation is None or isinstance(record.explanation, str)
    assert is_str_tuple(record.includes)
    evaluated = record.terms[: next((i + 1 for i, t in enumerate(record.terms) if t.mechanism == "all"), None)]
    assert record.evaluated_terms == evaluated
    lookups = [t for t in evaluated if t.mechanism in ("include", "a", "mx", "ptr", "exists")]
    has_all = any(t.mechanism == "all" for t in record.terms)
    assert record.redirect_target == (None if has_all else record.redirect)
    assert record.lookup_count == len(lookups) + (record.redirect_target is not None)
    assert ("spf-ignored-terms" in {n.cause for n in record.notes}) is (
        len(evaluated) < len(record.terms) or (has_all and record.redirect is not None)
    )
    assert record.all_qualifier in (None, "+", "-", "~", "?")
    causes = {p.cause for p in record.problems}
    assert (record.all_qualifier == "+") is ("spf-plus-all" in causes)
    if not is_spf_record(txt):
        assert "spf-syntax-error" in causes
    if spf_authorises_ses(txt):
        assert "amazonses.com" in txt.lower() and "amazonses.com" in [d.lower().rstrip(".") for d in record.includes]


# ---------------------------------------------------------------- a record rebuilt from its parse is read the same
#
# Each parser has a serializer (format_dkim_key, format_dmarc, format_spf) that writes a record back from what
# was read, the way a publisher would type it. Two properties: a record written as publishers write records
# (tags or terms, no stray separators) is read the same once rebuilt, every field and every problem and note;
# and any text at all, once rebuilt, is a fixed point (rebuilding it again changes nothing). White space and
# empty or "="-less parts are layout, which the serializers do not keep.


def written(values: dict[str, list[str]]) -> list[str]:
    """Every name=value of the pools that a publisher could write as it is (nothing to strip, no ";" inside)."""
    return [f"{n}={v}" for n, own in values.items() for v in own if ";" not in v and v == v.strip(" \t\r\n")]


DKIM_WRITTEN = written(DKIM_TAGS) + [f"p={key}" for key in KEYS if ";" not in key and key == key.strip()]
DMARC_WRITTEN = written(DMARC_TAGS)
dkim_as_written = st.one_of(
    pooled(DKIM_WRITTEN, 7).map("; ".join),
    pooled(DKIM_WRITTEN, 6).map(lambda tags: "; ".join(["v=DKIM1", *tags])),
)
dmarc_as_written = st.one_of(
    pooled(DMARC_WRITTEN, 7).map("; ".join),
    pooled(DMARC_WRITTEN, 7).map(lambda tags: "; ".join(["v=DMARC1", *tags])),
)
spf_as_written = st.one_of(
    pooled(SPF_WORDS, 8).map(lambda words: " ".join(["v=spf1", *words])),
    pooled(GOOD_SPF_WORDS, 6).map(lambda words: " ".join(["v=spf1", *words])),
)


def reading(record):
    """A parse result with its problems and notes as sorted causes: details quote the text as it was typed."""
    return replace(
        record,
        problems=tuple(sorted(p.cause for p in record.problems)),
        notes=tuple(sorted(n.cause for n in record.notes)),
    )


@given(dkim_as_written)
def test_a_dkim_key_record_rebuilt_from_its_parse_is_read_the_same(txt: str) -> None:
    key = parse_dkim_key_record(txt)
    rebuilt = format_dkim_key(key)
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    assert rebuilt == txt  # written as a publisher writes it, the record comes back as it was
    assert parse_dkim_key_record(rebuilt) == key


@given(dmarc_as_written)
def test_a_dmarc_record_rebuilt_from_its_parse_is_read_the_same(txt: str) -> None:
    record = parse_dmarc(txt)
    rebuilt = format_dmarc(record)
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    assert rebuilt == txt
    assert parse_dmarc(rebuilt) == record


@given(spf_as_written)
def test_an_spf_record_rebuilt_from_its_parse_is_read_the_same(txt: str) -> None:
    record = parse_spf(txt)
    rebuilt = format_spf(record)
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    again = parse_spf(rebuilt)
    # Terms, modifiers and words no mechanism are rebuilt in that order, so problems are compared by cause.
    assert reading(again) == reading(record)
    assert again.evaluated_terms == record.evaluated_terms and again.lookup_count == record.lookup_count


@given(dkim_records)
def test_any_text_rebuilt_as_a_dkim_key_record_is_a_fixed_point(txt: str) -> None:
    rebuilt = format_dkim_key(parse_dkim_key_record(txt))
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    assert format_dkim_key(parse_dkim_key_record(rebuilt)) == rebuilt


@given(dmarc_records)
def test_any_text_rebuilt_as_a_dmarc_record_is_a_fixed_point(txt: str) -> None:
    rebuilt = format_dmarc(parse_dmarc(txt))
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    assert format_dmarc(parse_dmarc(rebuilt)) == rebuilt


@given(spf_records_text)
def test_any_text_rebuilt_as_an_spf_record_is_a_fixed_point(txt: str) -> None:
    rebuilt = format_spf(parse_spf(txt))
    note(f"record: {txt!r}\nrebuilt: {rebuilt!r}")
    assert is_spf_record(rebuilt)
    assert format_spf(parse_spf(rebuilt)) == rebuilt
