"""The causes: why a check fired, when there is more to say than the check id.

Stable kebab-case codes, kept beside the check catalogue and, like it, a
public contract (added, never renamed or removed). A cause may carry its own
fix template, which replaces the check's for findings with that cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_
from .checks import (
    CHECKS,
    DKIM_KEY_MISSING,
    DKIM_KEY_WEAK,
    DKIM_RECORD_MISSING,
    DKIM_RECORD_WRONG_TARGET,
    DKIM_STATUS_NOT_SUCCESS,
    DMARC_INVALID,
    DMARC_RECORD_MISSING,
    IDENTITY_NOT_CHECKED,
    MAIL_FROM_NOT_SUCCESS,
    MAIL_FROM_RECORD_MISSING,
    RECORD_NOTE,
    SPF_INVALID,
)

OUT_OF_TIME = "out-of-time"
ZONE_UNCONFIRMED = "zone-unconfirmed"
DETAIL_UNFETCHED = "detail-unfetched"
SES_HOST_UNKNOWN = "ses-host-unknown"
REPLICA_OF_PARENT = "replica-of-parent"
DOUBLED_DOMAIN = "doubled-domain"
PUBLISHED_AS_TXT = "published-as-txt"
TARGET_MISSING_DOT = "target-missing-dot"
OTHER_TOKEN = "other-token"
OTHER_REGION_ZONE = "other-region-zone"
DNS_CORRECT_NOW = "dns-correct-now"
SILENT_FALLBACK = "silent-fallback"
MX_WRONG_TARGET = "mx-wrong-target"
KEY_REVOKED = "key-revoked"
KEY_MALFORMED = "key-malformed"
KEY_TAG_CASE = "key-tag-case"
SPF_MULTIPLE_RECORDS = "spf-multiple-records"
SPF_SYNTAX_ERROR = "spf-syntax-error"
SPF_TOO_MANY_LOOKUPS = "spf-too-many-lookups"
SPF_PLUS_ALL = "spf-plus-all"
SPF_VOID_INCLUDE = "spf-void-include"
SPF_MACRO_OUTSIDE_EXP = "spf-macro-outside-exp"
SPF_INCLUDE_LOOP = "spf-include-loop"
SPF_PERMERROR_IN_INCLUDE = "spf-permerror-in-include"
SPF_VOID_LOOKUPS = "spf-void-lookups"
SPF_TOO_MANY_MX = "spf-too-many-mx"
SPF_IGNORED_TERMS = "spf-ignored-terms"
DMARC_MULTIPLE_RECORDS = "dmarc-multiple-records"
DMARC_BAD_POLICY = "dmarc-bad-policy"
DMARC_BAD_PCT = "dmarc-bad-pct"
DMARC_UNKNOWN_TAG = "dmarc-unknown-tag"
DMARC_SYNTAX_ERROR = "dmarc-syntax-error"
DMARC_POLICY_IMPLIED = "dmarc-policy-implied"


@dataclass(frozen=True)
class Cause:
    """Why a check fired, when there is more to say than the check id: a stable kebab-case code.

    ``checks`` are the check ids it may accompany. ``fix``, when set, replaces
    the check's fix template for findings with this cause (same fields).
    """

    id: str
    checks: tuple[str, ...]
    title: str
    when: str = ""  # what was observed, for the docs (Markdown)
    fix: str = ""


CAUSES: dict[str, Cause] = {}  # filled below, beside the checks they explain


def _causes(*causes: Cause) -> None:
    for cause in causes:
        assert cause.id not in CAUSES, cause.id
        assert all(check in CHECKS for check in cause.checks), cause
        CAUSES[cause.id] = cause


_causes(
    Cause(
        OUT_OF_TIME,
        (IDENTITY_NOT_CHECKED,),
        N_("The run reached its time budget first"),
        when="the Lambda's time budget (or the CLI's `--time-budget`) ran out before the identity was checked",
    ),
    Cause(
        ZONE_UNCONFIRMED,
        (IDENTITY_NOT_CHECKED,),
        N_("A DKIM CNAME points outside the predicted zone and SES has not confirmed the real one yet"),
        when="confirming the signing zone with GetEmailIdentity would exceed the run's cap "
        "(`MAX_ZONE_CONFIRMATIONS`); the next run confirms more, and each confirmation is remembered",
    ),
    Cause(
        DETAIL_UNFETCHED,
        (IDENTITY_NOT_CHECKED,),
        N_("SES was not asked for the identity's detail this run (GetEmailIdentity's cap)"),
        when="the batch answers do not tell the whole story (SES v1 lists the domain without Easy DKIM's three "
        "tokens: a legacy domain verified by TXT, or one signing with its own key), and reading it with "
        "GetEmailIdentity would exceed the run's cap (`MAX_IDENTITY_DETAILS`). Info when it was judged from the "
        "batch answers (what they say is in the message); `unknown` when SES's batch answer left it out "
        "entirely. Each answer is remembered, so later runs read the rest",
    ),
    Cause(
        SES_HOST_UNKNOWN,
        (IDENTITY_NOT_CHECKED,),
        N_("SES's mail host in this partition is not known, so the MAIL FROM MX cannot be verified"),
        when="(info) the identity's region is in a partition (the EU sovereign cloud, China...) where neither "
        "AWS's SES documentation nor botocore names SES's mail domain: the MAIL FROM domain's MX and SPF are not "
        "held against a guessed host; SES's own MAIL FROM status (`mail-from-not-success`) still is",
        fix=N_(
            "Nothing the monitor can verify here: compare the MX record of {mail_from} with the one the SES console "
            "of {region} shows for {identity}; SES's MAIL FROM status says whether SES found it"
        ),
    ),
)


_causes(
    Cause(
        DOUBLED_DOMAIN,
        (DKIM_RECORD_MISSING, DKIM_KEY_MISSING, DMARC_RECORD_MISSING),
        N_("The DNS provider appended its zone to a pasted full name"),
        when="the record is not at its name but at `<name>.<zone apex>` (the apex found through SOA)",
        # The check goes on with what to type in the provider's form (form_advice).
        fix=N_("Delete the record at {misplaced_name} and publish {name} {type} {value}"),
    ),
    Cause(
        PUBLISHED_AS_TXT,
        (DKIM_RECORD_MISSING,),
        N_("Another record type stands where the CNAME belongs"),
        when="the name has a TXT (or another type) and no CNAME: receivers may even verify with a TXT key, but "
        "SES cannot, so its verification and key rotation fail",
        fix=N_("Delete the {other_type} record at {name} and publish {name} CNAME {value} in its place"),
    ),
    Cause(
        TARGET_MISSING_DOT,
        (DKIM_RECORD_WRONG_TARGET,),
        N_("The CNAME's target got the zone appended (typed without its trailing dot)"),
        when="the target is `<token>.<SigningHostedZone>.<zone>`",
        # The check goes on with what to type in the provider's form (form_advice).
        fix=N_("Change {name} to CNAME {value}"),
    ),
    Cause(
        OTHER_TOKEN,
        (DKIM_RECORD_WRONG_TARGET,),
        N_("The CNAME points at another token's key"),
        when="the target is a DKIM key of SES (`<other token>.<zone>`) but not this token's: records pasted into "
        "the wrong rows, or left from the identity's previous tokens",
    ),
    Cause(
        OTHER_REGION_ZONE,
        (DKIM_RECORD_WRONG_TARGET,),
        N_("The CNAME points into another region's DKIM zone"),
        when="the target is this token in another SES region's DKIM zone (records copied from an identity in "
        "another region)",
    ),
    Cause(
        DNS_CORRECT_NOW,
        (DKIM_STATUS_NOT_SUCCESS,),
        N_("SES saw a failure, but every DKIM record is correct now"),
        when="SES reports TEMPORARY_FAILURE or FAILED while each CNAME points at its expected target and a key "
        "is behind them",
        fix="{fix_detail}",
    ),
    Cause(
        REPLICA_OF_PARENT,
        (DKIM_STATUS_NOT_SUCCESS, DKIM_KEY_WEAK),
        N_("A Deterministic Easy DKIM replica: its DKIM is its parent's, fixed in the parent's region"),
        when="SES reports `SigningAttributesOrigin` `AWS_SES_<REGION>`: the identity reuses the tokens and keys of "
        "the identity of the same name in that region. `verify-domain-dkim` or new signing attributes on the "
        "replica would detach it and issue new tokens; the fix names the parent region instead, and explains "
        "SES's `REPLICATION_*` verification errors",
        fix="{fix_detail}",
    ),
    Cause(
        SILENT_FALLBACK,
        (MAIL_FROM_NOT_SUCCESS, MAIL_FROM_RECORD_MISSING),
        N_("SES falls back to amazonses.com without telling anyone"),
        when="`BehaviorOnMxFailure` is `USE_DEFAULT_VALUE`: mail still goes out, from amazonses.com, so SPF "
        "alignment is silently lost (DKIM alignment is then the only DMARC path)",
    ),
    Cause(
        MX_WRONG_TARGET,
        (MAIL_FROM_RECORD_MISSING,),
        N_("The MAIL FROM domain's MX points somewhere other than SES's feedback endpoint"),
        when="the MX is not `feedback-smtp.<region>.amazonses.com` of the identity's region (often: another region's)",
    ),
    Cause(
        KEY_REVOKED,
        (DKIM_KEY_MISSING,),
        N_("The key record is revoked (empty p=)"),
        when="every key record behind the DKIM names has an empty `p=`, which RFC 6376 defines as a revoked key",
    ),
    Cause(
        KEY_MALFORMED,
        (DKIM_KEY_MISSING,),
        N_("The key record cannot be used"),
        when="the TXT is not a valid DKIM key record: a syntax error, `v=` other than DKIM1, no `p=`, or `p=` "
        "that is not a public key",
    ),
    Cause(
        KEY_TAG_CASE,
        (RECORD_NOTE,),
        N_("A DKIM key record tag name in capitals (a note)"),
        when="`V=`, `K=`, `T=` (or another tag name in capitals) in a DKIM key record: tag names are "
        "case-sensitive, so verifiers ignore the tag (RFC 6376 section 3.2) and the key works as if it were "
        "absent (`T=y` is no testing flag, `K=` no key type); `P=` is no `p=` either, so such a record holds no key",
    ),
    Cause(
        SPF_MULTIPLE_RECORDS,
        (SPF_INVALID,),
        N_("Several SPF records"),
        when="more than one `v=spf1` TXT: receivers return permerror and SPF fails for all mail",
    ),
    Cause(SPF_SYNTAX_ERROR, (SPF_INVALID,), N_("An SPF syntax error"), when="a term receivers cannot parse"),
    Cause(
        SPF_TOO_MANY_LOOKUPS,
        (SPF_INVALID,),
        N_("More than 10 DNS lookups"),
        when="DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, `redirect=`) counted as a receiver "
        "evaluates them, through `include:` and `redirect=` (RFC 7208 section 4.6.4; terms after `all` and a "
        "`redirect=` beside it do not count): receivers return permerror",
    ),
    Cause(SPF_PLUS_ALL, (SPF_INVALID,), N_("`+all`"), when="the record authorises every host on the internet"),
    Cause(
        SPF_VOID_INCLUDE,
        (SPF_INVALID,),
        N_("An include without an SPF record"),
        when="a name an evaluated `include:` (or `redirect=`) points to has no SPF record, or several: receivers "
        "return permerror (RFC 7208 sections 5.2, 6.1)",
    ),
    Cause(
        SPF_INCLUDE_LOOP,
        (SPF_INVALID,),
        N_("An include: or redirect= loop"),
        when="an `include:` or `redirect=` leads back to a record that is being evaluated (RFC 7208 section "
        "4.6.4): receivers return permerror. The same record reached twice on different branches is no loop",
    ),
    Cause(
        SPF_PERMERROR_IN_INCLUDE,
        (SPF_INVALID,),
        N_("An error inside an included record"),
        when="a record reached through `include:` or `redirect=` has a syntax error (a bad `ip4:`, an unknown "
        "mechanism, `%{c}` outside an explanation): its permerror is the permerror of the whole (RFC 7208 section "
        "5.2), even where the record is someone else's",
    ),
    Cause(
        SPF_VOID_LOOKUPS,
        (SPF_INVALID,),
        N_("More than 2 void lookups"),
        when="more than two `a`, `mx` or `exists` terms (through includes too) name domains that answer NXDOMAIN "
        "or no records (RFC 7208 section 4.6.4): receivers return permerror. `a` is asked for A records, as for "
        "SES's IPv4 senders",
    ),
    Cause(
        SPF_TOO_MANY_MX,
        (SPF_INVALID,),
        N_("More than 10 MX names under one mx"),
        when="an evaluated `mx` names a domain with more than ten MX records (RFC 7208 section 4.6.4): receivers "
        "return permerror",
    ),
    Cause(
        SPF_MACRO_OUTSIDE_EXP,
        (SPF_INVALID,),
        N_("`%{c}`, `%{r}` or `%{t}` in the record"),
        when="a term or modifier (`exp=`'s domain included) uses a macro that only an explanation text may use "
        "(RFC 7208 section 7.1): receivers return permerror",
    ),
    Cause(
        SPF_IGNORED_TERMS,
        (RECORD_NOTE,),
        N_("Terms receivers never evaluate (a note)"),
        when="terms after `all` (RFC 7208 section 5.1) or a `redirect=` beside an `all` (section 6.1): receivers "
        "neither evaluate nor count them, so the record works without them",
    ),
    Cause(
        DMARC_MULTIPLE_RECORDS,
        (DMARC_INVALID,),
        N_("Several DMARC records"),
        when="more than one `v=DMARC1` TXT at a name of the DNS tree walk: receivers discard them all and walk on "
        "to the parent domains; the message names the record that applies instead, if any",
    ),
    Cause(
        DMARC_BAD_POLICY,
        (DMARC_INVALID,),
        N_("A missing or invalid policy"),
        when="`p=` (or `sp=`, `np=`) is not none, quarantine or reject, or `p=` is absent without a valid `rua=`: "
        "receivers then read the record as `p=none` when `rua=` holds a valid URI, and apply no DMARC policy at "
        "all when it does not (RFC 9989 section 4.10.1)",
    ),
    Cause(DMARC_BAD_PCT, (DMARC_INVALID,), N_("An invalid pct="), when="`pct=` is not a whole number from 0 to 100"),
    Cause(
        DMARC_UNKNOWN_TAG,
        (RECORD_NOTE,),
        N_("An unknown or mistyped tag (a note)"),
        when="a tag DMARC does not define (e.g. `rau=` for `rua=`, or `P=`: tag names are case-sensitive): "
        "receivers ignore it (RFC 7489 section 6.3) and the record keeps its policy",
    ),
    Cause(
        DMARC_POLICY_IMPLIED,
        (RECORD_NOTE,),
        N_("No p=, read as p=none (a note)"),
        when="the record has no `p=` but a valid `rua=`: receivers act as if it said `p=none` (RFC 9989 section "
        "4.10.1)",
    ),
    Cause(
        DMARC_SYNTAX_ERROR,
        (DMARC_INVALID,),
        N_("A DMARC syntax error"),
        when="a record that is almost DMARC (it must begin with exactly `v=DMARC1`: no white space before it, "
        "`DMARC1` in capitals), an empty part (`;;`), a part without `=`, duplicate tags, invalid "
        "`adkim`/`aspf`/`fo`/`ri` values, or a report address that is not a URI",
    ),
)
