"""DKIM key records that work but are not written as verifiers read them: ``record-note`` findings (info).

A key record's tag names are case-sensitive (RFC 6376 3.2), so ``V=DKIM1``,
``K=rsa`` or ``T=y`` are unknown tags that verifiers ignore: the key still
verifies, which is why this is a note and never ``dkim-key-missing``. Saying so
matters because the spelling hides intent (``T=y`` does not put the key in
testing mode). The key checks themselves stay in ``dkim``.
"""

from __future__ import annotations

from ... import catalogue as c
from ...catalogue import finding
from ...i18n import _, joined
from ...models import Finding, SesIdentity
from ..dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, points_elsewhere
from ..parsers import parse_dkim_key_record
from .common import fqdn


def _key_txt(identity: SesIdentity, tok: DkimTokenDns) -> Lookup | None:
    """The TXT holding this token's key: behind the CNAME (Easy DKIM, or a BYODKIM selector delegated), or at it."""
    if identity.is_byodkim:
        return tok.target_txt if tok.target_txt is not None else tok.record
    return None if points_elsewhere(identity, tok) else tok.target_txt


def check_key_notes(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """One ``record-note`` per DKIM name whose key record holds tag names in capitals."""
    found: list[Finding] = []
    for tok in dns.tokens:
        txt = _key_txt(identity, tok)
        if txt is None or txt.outcome is not Outcome.ANSWER or txt.rdtype != "TXT":
            continue
        notes = [n for value in txt.values for n in parse_dkim_key_record(value).notes]
        for cause in dict.fromkeys(n.cause for n in notes):
            details = joined(dict.fromkeys(n.detail for n in notes if n.cause == cause))
            found.append(
                finding(
                    c.RECORD_NOTE,
                    _("the DKIM key record at {name}: {details}").format(name=txt.name, details=details),
                    subject=f"{cause} {tok.token}",
                    source="dns",
                    cause=cause,
                    fix_detail=_(
                        "Write the tag names in lower case in the record at {name}, or leave them out: as they are, "
                        "verifiers ignore them ({details})"
                    ).format(name=fqdn(txt.name), details=details),
                )
            )
    return found
