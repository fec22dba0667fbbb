"""DKIM key records (RFC 6376 section 3.6.1; Ed25519 per RFC 8463).

The public key is read with pyasn1, a pure-Python ASN.1 library, so the
Lambda package carries no compiled code and builds the same for arm64 and
x86_64.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from typing import Any

from pyasn1.codec.der import decoder as der_decoder
from pyasn1.error import PyAsn1Error
from pyasn1_modules import rfc3447, rfc5280

from ... import i18n
from ...i18n import N_, _, ngettext
from .common import KEY_MALFORMED, KEY_REVOKED, KEY_TAG_CASE, Problem, _colon_list, _show, _tag_list

_DKIM_TAGS = ("v", "h", "k", "n", "p", "s", "t")
_DKIM_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MIN_RSA_BITS = 1024  # RFC 8301: verifiers must not accept signatures made with smaller RSA keys


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A DKIM key record: tags as RFC 6376 defines them, and ``key_bits`` when ``p=`` holds a key of type ``k=``."""

    version: str | None
    key_type: str
    public_key: str
    flags: tuple[str, ...]
    hash_algorithms: tuple[str, ...]
    services: tuple[str, ...]
    key_bits: int | None
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...] = ()  # what receivers ignore while the key works: tag names in capitals
    tags: tuple[tuple[str, str], ...] = ()  # every name=value part in order, as written (for format_dkim_key)

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def revoked(self) -> bool:
        """``p=`` is present and empty: RFC 6376's revoked key (or an Easy DKIM rotation placeholder)."""
        return any(p.cause == KEY_REVOKED for p in self.problems)

    @property
    def usable(self) -> bool:
        return self.key_bits is not None and not self.problems


# Healthy Easy DKIM domains of a region share a few keys (three targets each, one key and two empty
# records): each distinct record text is parsed once and the frozen result shared. DNS text is untrusted,
# so the cache is bounded in entries and only holds texts of a key's size (a 4096-bit RSA key is about 740
# base64 characters).
_CACHED_KEYS = 256
_CACHED_TEXT_MAX = 2048


def parse_dkim_key_record(txt: str) -> DkimKey:
    """Parse the TXT of a DKIM key record (joined from its strings, as the probe does); the same text, once.

    Tag names are case-sensitive (RFC 6376 3.2): ``V=``, ``K=`` or ``T=`` is
    an unknown tag, which verifiers ignore (3.6.1), so the key works as if it
    were absent; the spelling is a note. ``P=`` is no ``p=`` either, so such a
    record holds no key. The empty record ``""`` (an Easy DKIM rotation
    placeholder) has no ``p=``.
    """
    # The problems are sentences in the run's language: the same text read in another language is another entry.
    return _parse_cached(txt, i18n.current()) if len(txt) <= _CACHED_TEXT_MAX else _parse(txt)


def _parse(txt: str) -> DkimKey:
    problems: list[Problem] = []
    capitals: list[str] = []

    def malformed(detail: str) -> None:
        problems.append(Problem(KEY_MALFORMED, detail))

    parts = _tag_list(txt)
    tags: dict[str, str] = {}
    written = [(name, value) for name, value in parts if name is not None]
    for name, value in parts:
        if name is None:
            if value:
                malformed(_("The part {part} has no '=', so the tag list does not parse.").format(part=_show(value)))
            else:
                # dkimpy, for one, refuses a key record with ";;" in it.
                malformed(_("The tag list has an empty part between two ';'."))
        elif not name:
            malformed(_("A tag has an empty name (its value is {value}).").format(value=_show(value)))
        elif not _DKIM_TAG_NAME.fullmatch(name):
            malformed(_("The tag name {tag} is not a valid tag name.").format(tag=_show(name)))
        elif name in tags:
            malformed(
                _("The tag {tag} appears more than once, which makes the whole record invalid.").format(tag=_show(name))
            )
        else:
            tags[name] = value
            if name not in _DKIM_TAGS and name.lower() in _DKIM_TAGS:
                capitals.append(name)

    version = tags.get("v")
    if version is not None:
        if version != "DKIM1":
            malformed(_("v= is {value}; a DKIM key record says v=DKIM1 or leaves v= out.").format(value=_show(version)))
        if parts[0][0] != "v":
            malformed(_("v= is not the first tag, where RFC 6376 requires it."))

    key_type = tags.get("k", "rsa").lower()
    flags = _colon_list(tags.get("t", ""))
    hash_algorithms = _colon_list(tags.get("h", ""))
    services = _colon_list(tags["s"]) if "s" in tags else ("*",)
    if "h" in tags and "sha256" not in hash_algorithms:
        malformed(
            _("h= is {value}, without sha256, the one hash verifiers accept (RFC 8301).").format(value=_show(tags["h"]))
        )
    if not {"*", "email"} & set(services):
        malformed(
            _("s= is {value}, without email or *, so the key may not verify email.").format(value=_show(tags["s"]))
        )
    if key_type not in ("rsa", "ed25519"):
        malformed(_("k= is {value}, not a key type verifiers know (rsa or ed25519).").format(value=_show(tags["k"])))

    public_key = "".join(tags.get("p", "").split())
    key_bits: int | None = None
    if "p" not in tags:
        malformed(_("The record has no p= tag, so it holds no key."))
    elif not public_key:
        problems.append(Problem(KEY_REVOKED, _("p= is empty, which RFC 6376 defines as a revoked key.")))
    else:
        try:
            der = base64.b64decode(public_key, validate=True)
        except ValueError:  # binascii.Error, and non-ASCII text
            malformed(_("p= is not valid base64: {value}.").format(value=_show(public_key)))
        else:
            if key_type in ("rsa", "ed25519"):
                key_bits, why_not = _key_bits(key_type, der)
                if why_not:
                    malformed(why_not)
    notes: list[Problem] = []
    if capitals:
        shown = ", ".join(_("{tag} (not {lower}=)").format(tag=_show(n), lower=n.lower()) for n in capitals)
        notes.append(
            Problem(
                KEY_TAG_CASE,
                ngettext(
                    "The tag name {tags} is in capitals: DKIM tag names are case-sensitive, so verifiers ignore it "
                    "(RFC 6376 3.2).",
                    "The tag names {tags} are in capitals: DKIM tag names are case-sensitive, so verifiers ignore "
                    "them (RFC 6376 3.2).",
                    len(capitals),
                ).format(tags=shown),
            )
        )
    return DkimKey(
        version=version,
        key_type=key_type,
        public_key=public_key,
        flags=flags,
        hash_algorithms=hash_algorithms,
        services=services,
        key_bits=key_bits,
        problems=tuple(problems),
        notes=tuple(notes),
        tags=tuple(written),
    )


@functools.lru_cache(maxsize=_CACHED_KEYS)
def _parse_cached(txt: str, language: str) -> DkimKey:
    return _parse(txt)


def format_dkim_key(key: DkimKey) -> str:
    """The key record written back from its tags, in order, as ``name=value; ...``: it parses to the same key.

    White space around tags and empty or ``=``-less parts are not kept: this
    is the spelling a publisher would type for what was read.
    """
    return "; ".join(f"{name}={value}" for name, value in key.tags)


def _key_bits(key_type: str, der: bytes) -> tuple[int | None, str | None]:
    """(key size in bits, None) for a key of ``key_type``; (size or None, why it is unusable) otherwise."""
    if key_type == "ed25519":
        if len(der) != 32:
            return None, _("p= decodes to {count} bytes, but an Ed25519 key is the raw 32 bytes (RFC 8463).").format(
                count=len(der)
            )
        return 256, None
    spki = _decode(der, rfc5280.SubjectPublicKeyInfo())
    if spki is not None:
        algorithm = str(spki["algorithm"]["algorithm"])
        if algorithm != _RSA_ENCRYPTION:
            return None, _(_KEY_KINDS.get(algorithm, _OTHER_KEY_KIND)).format(algorithm=algorithm)
        modulus = _rsa_modulus(spki["subjectPublicKey"].asOctets())
    else:
        # Some signers publish a bare PKCS#1 RSAPublicKey instead of a SubjectPublicKeyInfo.
        modulus = _rsa_modulus(der)
    if modulus is None:
        return None, _(
            "p= is base64 but not an RSA public key (DER SubjectPublicKeyInfo or PKCS#1, {count} bytes)."
        ).format(count=len(der))
    bits = modulus.bit_length()
    if bits < _MIN_RSA_BITS:
        return bits, _("p= is a {bits}-bit RSA key; verifiers reject keys under 1024 bits (RFC 8301).").format(
            bits=bits
        )
    return bits, None


_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_KEY_KINDS = {
    "1.3.101.112": N_("p= holds an Ed25519 public key, but k= says rsa."),
    "1.2.840.10045.2.1": N_("p= holds an elliptic-curve (ECDSA) public key, but k= says rsa."),
}
_OTHER_KEY_KIND = N_("p= holds a {algorithm} public key, but k= says rsa.")


def _decode(der: bytes, spec: Any) -> Any:
    """``der`` decoded as ``spec``, or None unless it is exactly one valid DER value of that shape."""
    try:
        value, rest = der_decoder.decode(der, asn1Spec=spec)
    except (PyAsn1Error, ValueError, TypeError):
        return None
    return None if rest else value


def _rsa_modulus(der: bytes) -> int | None:
    """The modulus of a PKCS#1 RSAPublicKey, if ``der`` is one with a plausible modulus and exponent."""
    key = _decode(der, rfc3447.RSAPublicKey())
    if key is None:
        return None
    modulus, exponent = int(key["modulus"]), int(key["publicExponent"])
    return modulus if modulus > 1 and exponent > 1 and modulus % 2 == 1 else None


def parse_dkim_key(txt: str) -> str | None:
    """The ``p=`` value of a DKIM key record, white space removed, if it holds a usable key; otherwise None."""
    key = parse_dkim_key_record(txt)
    return key.public_key if key.usable else None
