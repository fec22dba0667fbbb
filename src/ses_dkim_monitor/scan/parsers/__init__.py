"""Record parsers shared by the DNS probe and the checks (checkdmarc's split).

Pure functions over record text: no DNS, no SES, no I/O. The probe uses them
to know when a walk has found what it looks for (and which names an SPF record
sends it to next); the checks use them to judge what was found.

Each ``parse_*`` function accepts any ``str`` and never raises: what is wrong
with a record is data, listed in the result's ``problems`` (empty when the
record is valid), each with a stable ``cause`` code and a one-sentence
``detail``. What receivers ignore or fill in while the record still works (an
unknown tag, a missing ``p=`` read as ``p=none``) is listed apart, in
``notes``: receivers read those records as valid, and so must the monitor.
A parser reports; it does not decide what is worth an alert (two of an Easy
DKIM identity's three key records are legitimately empty, for one).
"""

from __future__ import annotations

from .common import (
    DKIM_CAUSES,
    DKIM_NOTES,
    DMARC_BAD_PCT,
    DMARC_BAD_POLICY,
    DMARC_CAUSES,
    DMARC_NOTES,
    DMARC_POLICY_IMPLIED,
    DMARC_SYNTAX_ERROR,
    DMARC_UNKNOWN_TAG,
    KEY_MALFORMED,
    KEY_REVOKED,
    KEY_TAG_CASE,
    SPF_CAUSES,
    SPF_IGNORED_TERMS,
    SPF_MACRO_OUTSIDE_EXP,
    SPF_NOTES,
    SPF_PLUS_ALL,
    SPF_SYNTAX_ERROR,
    Problem,
)
from .dkim_key import DkimKey, format_dkim_key, parse_dkim_key, parse_dkim_key_record
from .dmarc import DmarcRecord, format_dmarc, is_dmarc_record, looks_like_dmarc, parse_dmarc
from .spf import SpfRecord, SpfTerm, format_spf, is_spf_record, parse_spf, spf_authorises_ses, spf_records

__all__ = [
    "DKIM_CAUSES",
    "DKIM_NOTES",
    "DMARC_BAD_PCT",
    "DMARC_BAD_POLICY",
    "DMARC_CAUSES",
    "DMARC_NOTES",
    "DMARC_POLICY_IMPLIED",
    "DMARC_SYNTAX_ERROR",
    "DMARC_UNKNOWN_TAG",
    "KEY_MALFORMED",
    "KEY_REVOKED",
    "KEY_TAG_CASE",
    "SPF_CAUSES",
    "SPF_IGNORED_TERMS",
    "SPF_MACRO_OUTSIDE_EXP",
    "SPF_NOTES",
    "SPF_PLUS_ALL",
    "SPF_SYNTAX_ERROR",
    "DkimKey",
    "DmarcRecord",
    "Problem",
    "SpfRecord",
    "SpfTerm",
    "format_dkim_key",
    "format_dmarc",
    "format_spf",
    "is_dmarc_record",
    "is_spf_record",
    "looks_like_dmarc",
    "parse_dkim_key",
    "parse_dkim_key_record",
    "parse_dmarc",
    "parse_spf",
    "spf_authorises_ses",
    "spf_records",
]
