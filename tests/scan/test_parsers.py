"""Examples and near misses for the record parsers, one cause at a time.

Keys are generated here with cryptography (no network, no fixtures on disk),
so a "real-shaped" key is exactly what a signer would publish.
"""

from __future__ import annotations

import base64
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ses_dkim_monitor.scan.parsers import (
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
    spf_records,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@cache
def rsa_key(bits: int) -> rsa.RSAPublicKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()


def spki(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> str:
    return b64(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def ed25519_raw() -> str:
    return b64(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def causes(problems: tuple[Problem, ...]) -> list[str]:
    return [p.cause for p in problems]


def only_problem(problems: tuple[Problem, ...], cause: str) -> str:
    """The detail of the one problem, after checking it is the only one and has ``cause``."""
    assert causes(problems) == [cause], problems
    return problems[0].detail


# ---------------------------------------------------------------- DKIM key records


def test_a_2048_bit_rsa_key_as_signers_publish_it_is_usable():
    p = spki(rsa_key(2048))
    key = parse_dkim_key_record(f"v=DKIM1; k=rsa; p={p}")
    assert key == DkimKey(
        version="DKIM1",
        key_type="rsa",
        public_key=p,
        flags=(),
        hash_algorithms=(),
        services=("*",),
        key_bits=2048,
        problems=(),
        tags=(("v", "DKIM1"), ("k", "rsa"), ("p", p)),
    )
    assert key.usable and not key.revoked and not key.testing
    assert parse_dkim_key(f"v=DKIM1; k=rsa; p={p}") == p


def test_a_1024_bit_key_reports_its_length_so_checks_can_ask_for_2048():
    key = parse_dkim_key_record(f"p={spki(rsa_key(1024))}")
    assert key.key_bits == 1024 and key.usable


def test_easy_dkim_key_without_v_or_k_tags_defaults_to_rsa_for_email():
    key = parse_dkim_key_record(f"p={spki(rsa_key(1024))}")
    assert key.version is None and key.key_type == "rsa" and key.services == ("*",)


def test_a_long_key_joined_from_two_txt_strings_parses_whole():
    p = spki(rsa_key(2048))
    assert len(p) > 255  # what forces a DNS server to split it
    joined = f"v=DKIM1; k=rsa; p={p[:200]}" + p[200:]  # the probe joins the strings without a separator
    assert parse_dkim_key_record(joined).key_bits == 2048


def test_white_space_inside_p_is_removed():
    p = spki(rsa_key(2048))
    key = parse_dkim_key_record(f"p={p[:100]} {p[100:200]}\t{p[200:]} ")
    assert key.public_key == p and key.usable


def test_empty_p_means_the_key_was_revoked():
    key = parse_dkim_key_record("v=DKIM1; p=")
    detail = only_problem(key.problems, "key-revoked")
    assert "p=" in detail and "revoked" in detail
    assert key.revoked and not key.usable and key.public_key == "" and key.key_bits is None
    assert parse_dkim_key("v=DKIM1; p=") is None


def test_easy_dkim_rotation_placeholder_p_equals_is_revoked_not_malformed():
    assert causes(parse_dkim_key_record("p=").problems) == ["key-revoked"]


def test_an_empty_txt_string_has_no_p_tag():
    key = parse_dkim_key_record("")
    assert "no p= tag" in only_problem(key.problems, "key-malformed")
    assert not key.revoked and key.public_key == ""


def test_testing_flag_is_reported_without_a_problem():
    key = parse_dkim_key_record(f"v=DKIM1; t=y; p={spki(rsa_key(1024))}")
    assert key.testing and key.flags == ("y",) and key.problems == () and key.usable


def test_flags_hashes_and_services_are_lowercased_lists():
    key = parse_dkim_key_record(f"v=DKIM1; h=SHA256:sha1; s=Email:*; t=Y:s; p={spki(rsa_key(1024))}")
    assert key.flags == ("y", "s") and key.hash_algorithms == ("sha256", "sha1") and key.services == ("email", "*")
    assert key.usable


def test_ed25519_key_of_32_raw_bytes_is_usable():
    key = parse_dkim_key_record(f"v=DKIM1; k=ed25519; p={ed25519_raw()}")
    assert key.key_type == "ed25519" and key.key_bits == 256 and key.usable


def test_ed25519_key_type_is_case_insensitive():
    assert parse_dkim_key_record(f"k=Ed25519; p={ed25519_raw()}").key_type == "ed25519"


def test_ed25519_key_published_as_subject_public_key_info_is_malformed():
    p = spki(ed25519.Ed25519PrivateKey.generate().public_key())
    detail = only_problem(parse_dkim_key_record(f"k=ed25519; p={p}").problems, "key-malformed")
    assert "44 bytes" in detail and "32" in detail


def test_rsa_key_under_k_ed25519_is_malformed():
    key = parse_dkim_key_record(f"k=ed25519; p={spki(rsa_key(1024))}")
    assert causes(key.problems) == ["key-malformed"] and key.key_bits is None


def test_ed25519_key_under_k_rsa_is_malformed():
    p = spki(ed25519.Ed25519PrivateKey.generate().public_key())
    detail = only_problem(parse_dkim_key_record(f"k=rsa; p={p}").problems, "key-malformed")
    assert "Ed25519" in detail and "k= says rsa" in detail


def test_an_elliptic_curve_key_is_not_an_rsa_key():
    p = spki(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert "elliptic-curve" in only_problem(parse_dkim_key_record(f"p={p}").problems, "key-malformed")


def test_garbage_in_p_is_not_base64():
    key = parse_dkim_key_record("v=DKIM1; p=not base64!!")
    assert '"notbase64!!"' in only_problem(key.problems, "key-malformed")
    assert key.key_bits is None and parse_dkim_key("v=DKIM1; p=not base64!!") is None


def test_base64_with_bad_padding_is_not_base64():
    p = spki(rsa_key(1024))
    assert "base64" in only_problem(parse_dkim_key_record(f"p={p[:-1]}").problems, "key-malformed")


def test_valid_base64_that_is_not_a_key_is_malformed():
    detail = only_problem(parse_dkim_key_record(f"p={b64(b'hello, world')}").problems, "key-malformed")
    assert "not an RSA public key" in detail


def test_a_truncated_key_is_malformed():
    der = base64.b64decode(spki(rsa_key(2048)))
    assert causes(parse_dkim_key_record(f"p={b64(der[:-10])}").problems) == ["key-malformed"]


def test_a_bare_pkcs1_rsa_key_as_some_signers_publish_is_accepted():
    pkcs1 = b64(rsa_key(2048).public_bytes(Encoding.DER, PublicFormat.PKCS1))
    key = parse_dkim_key_record(f"v=DKIM1; k=rsa; p={pkcs1}")
    assert key.key_bits == 2048 and key.usable


def test_an_rsa_key_under_1024_bits_is_unusable_but_its_length_is_known():
    small = rsa.RSAPublicNumbers(65537, (1 << 511) + 1).public_key()  # an odd 512-bit modulus is enough to parse
    key = parse_dkim_key_record(f"p={spki(small)}")
    assert "512-bit" in only_problem(key.problems, "key-malformed")
    assert key.key_bits == 512 and not key.usable


def test_version_dkim2_is_malformed():
    key = parse_dkim_key_record(f"v=DKIM2; p={spki(rsa_key(1024))}")
    assert '"DKIM2"' in only_problem(key.problems, "key-malformed")
    assert key.version == "DKIM2" and key.key_bits == 1024 and not key.usable


def test_version_must_be_the_first_tag():
    key = parse_dkim_key_record(f"k=rsa; v=DKIM1; p={spki(rsa_key(1024))}")
    assert "first tag" in only_problem(key.problems, "key-malformed")


def test_a_duplicate_tag_makes_the_record_invalid():
    p = spki(rsa_key(1024))
    key = parse_dkim_key_record(f"p={p}; k=rsa; p={p}")
    assert "more than once" in only_problem(key.problems, "key-malformed")
    assert key.public_key == p and not key.usable


def test_a_part_without_equals_is_a_syntax_error():
    detail = only_problem(parse_dkim_key_record(f"v=DKIM1; rsa; p={spki(rsa_key(1024))}").problems, "key-malformed")
    assert '"rsa"' in detail and "'='" in detail


def test_an_empty_tag_name_is_a_syntax_error():
    detail = only_problem(parse_dkim_key_record(f"=rsa; p={spki(rsa_key(1024))}").problems, "key-malformed")
    assert "empty name" in detail


def test_an_empty_part_between_semicolons_is_a_syntax_error_but_a_trailing_semicolon_is_not():
    p = spki(rsa_key(1024))
    assert "empty part" in only_problem(parse_dkim_key_record(f"v=DKIM1;; p={p}").problems, "key-malformed")
    assert parse_dkim_key_record(f"v=DKIM1; p={p}; ").usable


def test_dkim_tag_names_are_case_sensitive_so_upper_case_p_holds_no_key():
    key = parse_dkim_key_record(f"P={spki(rsa_key(1024))}")
    assert "no p= tag" in only_problem(key.problems, "key-malformed")
    assert "case-sensitive" in only_problem(key.notes, "key-tag-case") and not key.usable


def test_upper_case_v_k_and_t_are_unknown_tags_ignored_and_the_key_stays_usable():
    p = spki(rsa_key(2048))
    key = parse_dkim_key_record(f"V=DKIM1; K=rsa; T=y; p={p}")
    assert key.problems == () and key.usable and key.key_bits == 2048
    assert key.version is None and not key.testing  # T=y is not t=y: the key is not in testing mode
    detail = only_problem(key.notes, "key-tag-case")
    assert '"V"' in detail and '"K"' in detail and '"T"' in detail and "case-sensitive" in detail


def test_upper_case_k_does_not_change_the_key_type():
    key = parse_dkim_key_record(f"K=ed25519; p={spki(rsa_key(1024))}")
    assert key.key_type == "rsa" and key.usable and causes(key.notes) == ["key-tag-case"]


def test_a_lower_case_key_record_has_no_notes():
    assert parse_dkim_key_record(f"v=DKIM1; k=rsa; t=s; p={spki(rsa_key(1024))}").notes == ()


def test_an_unknown_key_type_is_malformed():
    key = parse_dkim_key_record(f"k=dsa; p={spki(rsa_key(1024))}")
    assert '"dsa"' in only_problem(key.problems, "key-malformed")
    assert key.key_type == "dsa" and key.key_bits is None


def test_unknown_tags_and_notes_are_ignored():
    assert parse_dkim_key_record(f"v=DKIM1; n=rotated 2026; g=*; x_y=1; p={spki(rsa_key(1024))}").usable


def test_a_key_that_only_allows_sha1_is_unusable_by_modern_verifiers():
    detail = only_problem(parse_dkim_key_record(f"h=sha1; p={spki(rsa_key(1024))}").problems, "key-malformed")
    assert '"sha1"' in detail and "sha256" in detail


def test_a_key_restricted_to_another_service_cannot_verify_email():
    detail = only_problem(parse_dkim_key_record(f"s=tlsrpt; p={spki(rsa_key(1024))}").problems, "key-malformed")
    assert '"tlsrpt"' in detail and "email" in detail


def test_an_spf_record_at_a_dkim_name_is_not_a_key():
    key = parse_dkim_key_record("v=spf1 include:amazonses.com ~all")
    assert causes(key.problems) == ["key-malformed", "key-malformed"] and not key.usable


def test_details_shorten_long_values_and_escape_control_characters():
    key = parse_dkim_key_record("v=" + "A" * 200 + "\x1b[31m; p=")
    detail = key.problems[0].detail
    assert detail.isprintable() and "A" * 60 not in detail and '"' + "A" * 59 + '…"' in detail
    assert parse_dkim_key_record("v=DKIM1\x1b; p=").problems[0].detail == (
        'v= is "DKIM1\\x1b"; a DKIM key record says v=DKIM1 or leaves v= out.'
    )


@pytest.mark.parametrize(
    "record, usable",
    [
        ("p={key}", True),
        ("v=DKIM1; k=rsa; p={key}", True),
        ("v=DKIM1; p=", False),
        ("", False),
        ("p=not base64!!", False),
        ("v=DKIM2; p={key}", False),
        ("v=spf1 include:amazonses.com ~all", False),
        ("p=" + b64(b"\x00" * 32), False),  # base64, but not a key: the old parse_dkim_key accepted it
    ],
)
def test_parse_dkim_key_returns_p_only_for_a_usable_key(record, usable):
    p = spki(rsa_key(1024))
    assert parse_dkim_key(record.format(key=p)) == (p if usable else None)


# ---------------------------------------------------------------- DMARC records


@pytest.mark.parametrize("policy", ["none", "quarantine", "reject"])
def test_each_dmarc_policy_is_valid(policy):
    record = parse_dmarc(f"v=DMARC1; p={policy}; rua=mailto:dmarc@example.com")
    assert record.policy == policy and record.problems == () and record.rua == ("mailto:dmarc@example.com",)


def test_a_full_record_exposes_every_tag():
    record = parse_dmarc(
        "v=DMARC1; p=reject; sp=quarantine; np=reject; pct=50; adkim=s; aspf=r; fo=0:1:d:s; rf=afrf; ri=86400;"
        " rua=mailto:a@example.com,mailto:b@example.net!10m; ruf=https://reports.example.com/dmarc; t=n"
    )
    assert record.problems == ()
    assert (record.policy, record.subdomain_policy, record.nonexistent_policy) == ("reject", "quarantine", "reject")
    assert (record.pct, record.adkim, record.aspf, record.testing, record.psd) == (50, "s", "r", "n", None)
    assert record.rua == ("mailto:a@example.com", "mailto:b@example.net!10m")
    assert record.ruf == ("https://reports.example.com/dmarc",)
    assert [tag for tag, _ in record.tags] == [
        "v", "p", "sp", "np", "pct", "adkim", "aspf", "fo", "rf", "ri", "rua", "ruf", "t"
    ]  # fmt: skip


def test_a_public_suffix_operator_record_with_psd_y_is_valid():
    record = parse_dmarc("v=DMARC1; p=reject; psd=y; np=reject")
    assert record.psd == "y" and record.nonexistent_policy == "reject" and record.problems == ()


def test_white_space_around_equals_and_mixed_case_values_are_fine():
    txt = "v = DMARC1;  p=Quarantine;  sp=None;  rua=mailto:DMARC@Example.com;"
    assert is_dmarc_record(txt)
    record = parse_dmarc(txt)
    assert record.problems == () and record.notes == ()
    assert (record.policy, record.subdomain_policy, record.applied_policy) == ("quarantine", "none", "quarantine")
    assert record.rua == ("mailto:DMARC@Example.com",)
    assert record.tags[0] == ("v", "DMARC1")


@pytest.mark.parametrize(
    "txt, is_dmarc",
    [
        ("v=DMARC1; p=reject", True),
        ("v=DMARC1", True),
        ("v=DMARC1;", True),
        ("v = DMARC1 ; p=reject", True),  # RFC 9989: equals = *WSP "=" *WSP, and dmarc-sep = *WSP ";" *WSP
        ("v=\tDMARC1;p=reject", True),
        ("v=dmarc1; p=reject", False),  # %s"DMARC1": the version is case-sensitive
        ("v=Dmarc1; p=reject", False),
        (" v=DMARC1; p=reject", False),  # nothing may come before v
        ("\tv=DMARC1; p=reject", False),
        ("V=DMARC1; p=reject", False),  # tag names are case-sensitive (DKIM's tag-value syntax)
        ("v=DMARC1x; p=reject", False),
        ("v=DMARC1 p=reject", False),
        ("p=reject; v=DMARC1", False),
        ("", False),
    ],
)
def test_only_a_record_beginning_with_exactly_v_equals_DMARC1_is_a_dmarc_record(txt, is_dmarc):
    assert is_dmarc_record(txt) is is_dmarc
    assert ("dmarc-syntax-error" in causes(parse_dmarc(txt).problems)) is not is_dmarc


@pytest.mark.parametrize(
    "txt, said",
    [
        ("v=dmarc1; p=reject", 'v= is "dmarc1"'),
        (" v=DMARC1; p=reject", "white space"),
        ("V=DMARC1; p=reject", "case-sensitive"),
    ],
)
def test_a_near_miss_of_v_equals_DMARC1_says_what_is_wrong(txt, said):
    assert said in " ".join(p.detail for p in parse_dmarc(txt).problems if p.cause == "dmarc-syntax-error")


def test_unknown_tags_are_ignored_and_the_record_keeps_its_policy():
    record = parse_dmarc("v=DMARC1; p=reject; xyz=foo; rau=mailto:d@example.com")
    assert record.problems == ()
    assert (record.policy, record.applied_policy) == ("reject", "reject")
    assert causes(record.notes) == ["dmarc-unknown-tag", "dmarc-unknown-tag"]
    assert "ignore" in record.notes[0].detail and "did you mean rua?" in record.notes[1].detail


def test_tag_names_are_case_sensitive_so_upper_case_p_is_an_unknown_tag():
    record = parse_dmarc("v=DMARC1; P=reject; rua=mailto:d@example.com")
    assert record.policy is None and record.applied_policy == "none" and record.problems == ()
    assert causes(record.notes) == ["dmarc-unknown-tag", "dmarc-policy-implied"]
    assert "case-sensitive" in record.notes[0].detail and '"P"' in record.notes[0].detail


def test_a_valid_rua_and_no_p_is_read_as_p_none_and_said_so():
    record = parse_dmarc("v=DMARC1; rua=mailto:dmarc@example.com")
    assert record.problems == () and record.policy is None and record.applied_policy == "none"
    assert "p=none" in only_problem(record.notes, "dmarc-policy-implied")


def test_no_p_and_no_valid_rua_means_receivers_apply_no_dmarc_policy():
    record = parse_dmarc("v=DMARC1; adkim=s")
    detail = only_problem(record.problems, "dmarc-bad-policy")
    assert "no p= tag" in detail and "no DMARC policy" in detail and record.applied_policy is None


@pytest.mark.parametrize(
    "txt, applied",
    [
        ("v=DMARC1; p=block; rua=mailto:d@example.com", "none"),
        ("v=DMARC1; p=reject; sp=quarantin; rua=mailto:d@example.com", "none"),  # an invalid sp= spoils p= too
        ("v=DMARC1; p=reject; np=allow; rua=mailto:d@example.com", "none"),
        ("v=DMARC1; p=block", None),
        ("v=DMARC1; p=reject; sp=quarantin", None),
    ],
)
def test_an_invalid_policy_is_read_as_p_none_with_a_valid_rua_and_as_no_policy_without(txt, applied):
    record = parse_dmarc(txt)
    detail = only_problem(record.problems, "dmarc-bad-policy")
    assert record.applied_policy == applied
    assert ("read the record as p=none" if applied else "apply no DMARC policy") in detail


@pytest.mark.parametrize("txt, tag", [("p=block", "p"), ("p=none; sp=allow", "sp"), ("p=none; np=", "np")])
def test_a_policy_outside_none_quarantine_reject_is_a_bad_policy(txt, tag):
    detail = only_problem(parse_dmarc(f"v=DMARC1; {txt}").problems, "dmarc-bad-policy")
    assert detail.startswith(f"{tag}= is ")


@pytest.mark.parametrize("pct, expected", [("0", 0), ("100", 100), ("050", 50)])
def test_pct_from_0_to_100_is_valid(pct, expected):
    record = parse_dmarc(f"v=DMARC1; p=none; pct={pct}")
    assert record.pct == expected and record.problems == ()


@pytest.mark.parametrize("pct", ["150", "-1", "50%", "", "1e2", "١٠"])
def test_pct_outside_0_to_100_is_a_bad_pct(pct):
    record = parse_dmarc(f"v=DMARC1; p=none; pct={pct}")
    assert only_problem(record.problems, "dmarc-bad-pct").startswith("pct= is ")
    assert record.pct is None


def test_rau_typo_suggests_rua_in_a_note():
    record = parse_dmarc("v=DMARC1; p=none; rau=mailto:d@example.com")
    assert record.problems == ()
    assert only_problem(record.notes, "dmarc-unknown-tag") == (
        'The tag "rau" is not a DMARC tag, so receivers ignore it (did you mean rua?).'
    )


def test_a_tag_one_edit_from_two_known_tags_suggests_both():
    assert "did you mean rua or ruf?" in parse_dmarc("v=DMARC1; p=none; rux=x").notes[0].detail


def test_an_unknown_tag_far_from_any_known_tag_gets_no_suggestion():
    detail = only_problem(parse_dmarc("v=DMARC1; p=none; policy=reject").notes, "dmarc-unknown-tag")
    assert "did you mean" not in detail and '"policy"' in detail


@pytest.mark.parametrize("txt", ["p=none; v=DMARC1", "p=none", "v=DMARC2; p=none", "v=DMARC1 p=none", ""])
def test_a_record_not_starting_with_v_dmarc1_is_a_syntax_error(txt):
    assert not is_dmarc_record(txt)
    assert "dmarc-syntax-error" in causes(parse_dmarc(txt).problems)


def test_version_dmarc1_must_be_a_whole_tag():
    assert not is_dmarc_record("v=DMARC1x; p=none")  # the old prefix test took this for DMARC


def test_a_trailing_semicolon_and_white_space_after_it_are_tolerated():
    assert is_dmarc_record("v=DMARC1; p=none; ") and parse_dmarc("v=DMARC1; p=none; ").problems == ()


@pytest.mark.parametrize(
    "tail, said",
    [
        ("p=none; p=reject", "more than once"),
        ("p=none; reject", "no '='"),
        ("p=none; =x", "empty name"),
        ("p=none; adkim=x", "r or s"),
        ("p=none; aspf=relaxed", "r or s"),
        ("p=none; psd=yes", "y, n or u"),
        ("p=none; t=maybe", "y or n"),
        ("p=none; fo=2", "0, 1, d and s"),
        ("p=none; rf=xml", "afrf"),
        ("p=none; ri=-1", "seconds"),
        ("p=none; rua=dmarc@example.com", "not a URI"),
        ("p=none; ruf=mailto:nobody", "email address"),
        ("p=none; rua=mailto:", "email address"),
        ("p=none; rua=mailto:a b@example.com", "cannot hold"),
        ("p=none; ruf=https://", "no host"),
        ("p=none; rua=", "empty"),
    ],
)
def test_invalid_values_are_syntax_errors(tail, said):
    assert said in only_problem(parse_dmarc(f"v=DMARC1; {tail}").problems, "dmarc-syntax-error")


@pytest.mark.parametrize(
    "uri",
    [
        "mailto:dmarc@example.com",
        "mailto:dmarc@localhost",  # any URI (RFC 9989 4.7): a host name needs no dot
        "ftp://reports.example.com/dmarc",
        "http://reports.example.com",
        "https://reports.example.com/dmarc?x=1",
        "mailto:a@example.com!10m",
        "urn:example:dmarc",
    ],
)
def test_rua_takes_any_uri(uri):
    record = parse_dmarc(f"v=DMARC1; p=none; rua={uri}")
    assert record.problems == () and record.rua == (uri,)


def test_duplicate_tags_keep_the_first_value():
    record = parse_dmarc("v=DMARC1; p=reject; p=none")
    assert record.policy == "reject" and record.tags == (("v", "DMARC1"), ("p", "reject"), ("p", "none"))


@pytest.mark.parametrize("txt", ["v=DMARC1; p=reject;;", "v=DMARC1;; p=none", "v=DMARC1; p=none; ;"])
def test_an_empty_part_between_semicolons_is_a_syntax_error(txt):
    record = parse_dmarc(txt)
    assert "empty part" in only_problem(record.problems, "dmarc-syntax-error")
    assert record.applied_policy == record.policy  # the policy itself is still read


def test_parse_dmarc_of_unrelated_text_still_returns_a_record():
    record = parse_dmarc("v=spf1 include:amazonses.com ~all")
    assert isinstance(record, DmarcRecord)
    assert set(causes(record.problems)) == {"dmarc-syntax-error", "dmarc-bad-policy"}


# ---------------------------------------------------------------- SPF records


def test_ses_mail_from_record_is_valid_and_authorises_ses():
    record = parse_spf("v=spf1 include:amazonses.com ~all")
    assert record == SpfRecord(
        terms=(SpfTerm("+", "include", "amazonses.com"), SpfTerm("~", "all", None)),
        redirect=None,
        explanation=None,
        problems=(),
    )
    assert record.includes == ("amazonses.com",) and record.lookup_count == 1 and record.all_qualifier == "~"
    assert spf_authorises_ses("v=spf1 include:amazonses.com ~all")


@pytest.mark.parametrize("term", ["+all", "all", "+ALL"])
def test_plus_all_authorises_the_whole_internet(term):
    record = parse_spf(f"v=spf1 include:amazonses.com {term}")
    assert f'"{term}"' in only_problem(record.problems, "spf-plus-all")
    assert record.all_qualifier == "+"


@pytest.mark.parametrize("qualifier", ["-", "~", "?"])
def test_other_all_qualifiers_are_not_a_problem(qualifier):
    record = parse_spf(f"v=spf1 mx {qualifier}all")
    assert record.problems == () and record.all_qualifier == qualifier


def test_a_record_without_all_has_no_all_qualifier():
    assert parse_spf("v=spf1 mx").all_qualifier is None


def test_lookup_count_counts_the_terms_that_query_dns_and_redirect():
    record = parse_spf(
        "v=spf1 include:_spf.google.com include:amazonses.com a mx:mail.example.com ptr exists:%{i}._spf.%{d}"
        " ip4:192.0.2.0/24 ip6:2001:db8::/32 redirect=_spf.example.com"
    )
    assert record.problems == ()
    assert record.includes == ("_spf.google.com", "amazonses.com")
    assert record.lookup_count == 7  # 2 include + a + mx + ptr + exists + redirect; ip4/ip6 are free


def test_terms_keep_their_values_and_cidr_suffixes():
    record = parse_spf("v=spf1 a/24 mx:example.com//64 a:example.com/24//64 ip4:192.0.2.1 -ip6:2001:db8::1/128 -all")
    assert record.problems == ()
    assert [(t.qualifier, t.mechanism, t.value) for t in record.terms] == [
        ("+", "a", "/24"),
        ("+", "mx", "example.com//64"),
        ("+", "a", "example.com/24//64"),
        ("+", "ip4", "192.0.2.1"),
        ("-", "ip6", "2001:db8::1/128"),
        ("-", "all", None),
    ]


@pytest.mark.parametrize(
    "term",
    ["ip4:192.0.2.300", "ip4:192.0.2.0/33", "ip4:192.0.2.0/", "ip4:010.0.0.1", "ip4:2001:db8::1", "ip4", "ip4:"],
)
def test_a_bad_ip4_network_is_a_syntax_error(term):
    record = parse_spf(f"v=spf1 {term} -all")
    assert f'"{term}"' in only_problem(record.problems, "spf-syntax-error")


@pytest.mark.parametrize("term", ["ip6:2001:db8::/129", "ip6:192.0.2.1x", "ip6:fe80::1%eth0", "ip6:2001:db8:::1"])
def test_a_bad_ip6_network_is_a_syntax_error(term):
    assert causes(parse_spf(f"v=spf1 {term} -all").problems) == ["spf-syntax-error"]


def test_a_prefix_length_out_of_range_on_a_or_mx_is_a_syntax_error():
    assert "prefix length" in only_problem(parse_spf("v=spf1 a/33 -all").problems, "spf-syntax-error")
    assert "prefix length" in only_problem(parse_spf("v=spf1 mx//129 -all").problems, "spf-syntax-error")


def test_redirect_is_exposed_and_counted():
    record = parse_spf("v=spf1 redirect=_spf.example.com")
    assert record.redirect == "_spf.example.com" and record.problems == () and record.lookup_count == 1


@pytest.mark.parametrize("txt", ["v=spf1 mx -all redirect=_spf.example.com", "v=spf1 redirect=_spf.example.com ~all"])
def test_redirect_beside_all_is_ignored_neither_followed_nor_counted(txt):
    record = parse_spf(txt)
    assert record.problems == () and record.redirect == "_spf.example.com" and record.redirect_target is None
    assert record.lookup_count == txt.count("mx")  # RFC 7208 6.1: the redirect is never evaluated
    detail = only_problem(record.notes, "spf-ignored-terms")
    assert "redirect=" in detail and "ignore" in detail


def test_redirect_and_exp_may_appear_only_once():
    record = parse_spf("v=spf1 redirect=a.example.com redirect=b.example.com")
    assert "more than once" in only_problem(record.problems, "spf-syntax-error")
    assert record.redirect == "a.example.com"
    assert causes(parse_spf("v=spf1 -all exp=a.example.com exp=b.example.com").problems) == ["spf-syntax-error"]


def test_explanation_is_exposed():
    assert parse_spf("v=spf1 -all exp=explain._spf.%{d}").explanation == "explain._spf.%{d}"


def test_terms_after_all_are_ignored_not_a_syntax_error_and_said_so_in_a_note():
    record = parse_spf("v=spf1 -all include:amazonses.com mx")
    assert record.problems == ()  # RFC 7208 5.1: mechanisms after "all" will never be tested
    assert only_problem(record.notes, "spf-ignored-terms").startswith('2 terms after "-all" are never evaluated')
    assert record.lookup_count == 0 and not spf_authorises_ses("v=spf1 -all include:amazonses.com mx")


def test_a_second_all_is_never_evaluated():
    record = parse_spf("v=spf1 all -all")
    assert causes(record.problems) == ["spf-plus-all"] and causes(record.notes) == ["spf-ignored-terms"]
    assert record.all_qualifier == "+"


def test_a_syntax_error_after_all_is_still_a_syntax_error():
    # RFC 7208 4.6: syntax errors anywhere in the record are detected (the openspf suite's detect-errors-anywhere).
    record = parse_spf("v=spf1 ip4:192.0.2.1 -all moo")
    assert '"moo"' in only_problem(record.problems, "spf-syntax-error")


@pytest.mark.parametrize(
    "txt",
    [
        "v=spf1 exists:%{c}.example.com -all",
        "v=spf1 a:%{r}.example.com -all",
        "v=spf1 include:%{t}.example.com -all",
        "v=spf1 exists:%{C}.example.com -all",  # upper case is the same macro, URL-escaped
        "v=spf1 -all redirect=%{ir}.%{t}.example.com",
        "v=spf1 -all exp=%{r}.example.com",  # the exp= domain is no explanation text (openspf's exp-only-macro-char)
        "v=spf1 include:%%%{c}.example.com -all",  # an escaped "%", then the macro %{c}
    ],
)
def test_macros_c_r_and_t_outside_an_explanation_text_are_a_permerror(txt):
    assert "only an explanation" in only_problem(parse_spf(txt).problems, "spf-macro-outside-exp")


@pytest.mark.parametrize(
    "txt",
    [
        "v=spf1 include:%%{c}.x.com -all",
        "v=spf1 exists:%%{t}.%{d} -all",
        "v=spf1 -all redirect=%%{r}.example.com",
    ],
)
def test_an_escaped_percent_before_c_r_or_t_is_no_macro(txt):
    # RFC 7208 7.1: "%%" is a literal "%", so "%%{c}" is "%" and the literal text "{c}", not the macro %{c}.
    assert parse_spf(txt).problems == ()


def test_other_macros_are_fine_anywhere():
    assert parse_spf("v=spf1 exists:%{i}.%{l1r-}.%{d} -all exp=why.%{d}").problems == ()


@pytest.mark.parametrize("term", ["include", "include:", "exists", "exists:", "include/24"])
def test_include_and_exists_need_a_domain(term):
    assert "needs a domain" in only_problem(parse_spf(f"v=spf1 {term} -all").problems, "spf-syntax-error")


@pytest.mark.parametrize(
    "term, said",
    [
        ("incude:amazonses.com", "did you mean include?"),
        ("ip:192.0.2.1", "did you mean ip4 or ip6?"),
        ("spf2.0/pra", "not a known mechanism"),
        ("include=amazonses.com", "did you mean include:?"),
        ("include:localhost", "fully qualified"),
        ("include:example..com", "fully qualified"),
        ("include:example.123", "top-level label"),
        ("exists:%{z}.example.com", "%{macro}"),
        ("include:100%.example.com", "%{macro}"),
        ("a:", "a:<domain>"),
        ("mx-backup.example.com", "not a known mechanism"),
        ("v=spf1", "second version"),
        ("foo=%x", "macro-string"),
    ],
)
def test_malformed_terms_are_syntax_errors(term, said):
    assert said in only_problem(parse_spf(f"v=spf1 {term} -all").problems, "spf-syntax-error")


def test_all_takes_no_argument():
    record = parse_spf("v=spf1 mx -all:example.com")
    assert "all takes none" in only_problem(record.problems, "spf-syntax-error")
    assert record.all_qualifier == "-"


def test_unknown_modifiers_are_ignored():
    record = parse_spf("v=spf1 mx moo=bar.%{d} -all")
    assert record.problems == () and [t.mechanism for t in record.terms] == ["mx", "all"]


def test_a_record_not_starting_with_v_spf1_is_a_syntax_error():
    detail = only_problem(parse_spf("v=spf2 -all").problems, "spf-syntax-error")
    assert "does not start with v=spf1" in detail


@pytest.mark.parametrize(
    "txt, is_spf",
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=SPF1 -all", True),
        ("v=spf10 -all", False),
        ("v=spf1\t-all", False),
        (" v=spf1 -all", False),
        ("spf2.0/pra -all", False),
        ("", False),
    ],
)
def test_is_spf_record_wants_v_spf1_then_a_space_or_the_end(txt, is_spf):
    assert is_spf_record(txt) is is_spf


def test_spf_records_picks_the_spf_records_out_of_a_txt_set():
    txts = ("google-site-verification=abc", "v=spf1 include:amazonses.com ~all", "v=spf10 -all")
    assert spf_records(txts) == ["v=spf1 include:amazonses.com ~all"]
    assert spf_records(list(txts)) == ["v=spf1 include:amazonses.com ~all"]


@pytest.mark.parametrize(
    "txt, authorises",
    [
        ("v=spf1 include:amazonses.com ~all", True),
        ("v=spf1 INCLUDE:AmazonSES.com. -all", True),
        ("v=spf1 mx +include:amazonses.com", True),
        ("v=spf1 -include:amazonses.com ~all", False),  # the old substring test said yes
        ("v=spf1 include:amazonses.com.evil.example ~all", False),  # and to this
        ("v=spf1 ~all include:amazonses.com", False),  # never evaluated
        ("v=spf1 include:_spf.google.com ~all", False),
        ("include:amazonses.com", False),  # not an SPF record
    ],
)
def test_spf_authorises_ses_only_with_an_evaluated_include_of_amazonses(txt, authorises):
    assert spf_authorises_ses(txt) is authorises


# ---------------------------------------------------------------- serializers


def test_a_dkim_key_record_is_written_back_from_its_tags():
    p = spki(rsa_key(1024))
    key = parse_dkim_key_record(f" v=DKIM1 ;k=rsa;  V=DKIM1; p={p[:100]} {p[100:]};")
    assert format_dkim_key(key) == f"v=DKIM1; k=rsa; V=DKIM1; p={p[:100]} {p[100:]}"
    assert parse_dkim_key_record(format_dkim_key(key)) == key


def test_a_dmarc_record_is_written_back_from_its_tags():
    record = parse_dmarc("v = DMARC1 ;p=reject;  rau=mailto:d@example.com ;")
    assert format_dmarc(record) == "v=DMARC1; p=reject; rau=mailto:d@example.com"
    assert parse_dmarc(format_dmarc(record)).notes == record.notes


def test_an_spf_record_is_written_back_with_its_terms_unknown_words_and_modifiers():
    record = parse_spf("v=spf1  +a:  -ALL moo exp=why.%{d} include:x.example.com REDIRECT=y.example.com")
    assert format_spf(record) == "v=spf1 a: -all include:x.example.com moo exp=why.%{d} redirect=y.example.com"
    again = parse_spf(format_spf(record))
    assert sorted(causes(again.problems)) == sorted(causes(record.problems))
    assert causes(again.notes) == causes(record.notes) == ["spf-ignored-terms"] * 2  # after -all; redirect=
