"""The check ids: what the monitor can report, each with its severity, title, when it fires and fix template.

A public contract: ids are added, never renamed or removed. Code refers to a
check by its constant, never by a bare string.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_
from ..models import Severity

IDENTITY_NOT_VERIFIED = "identity-not-verified"
DKIM_SIGNING_DISABLED = "dkim-signing-disabled"
DKIM_STATUS_NOT_SUCCESS = "dkim-status-not-success"
DKIM_RECORD_MISSING = "dkim-record-missing"
DKIM_RECORD_WRONG_TARGET = "dkim-record-wrong-target"
DKIM_KEY_MISSING = "dkim-key-missing"
EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN = "email-identity-without-dkim-domain"
DNS_LOOKUP_FAILED = "dns-lookup-failed"
DMARC_RECORD_MISSING = "dmarc-record-missing"
MAIL_FROM_NOT_SUCCESS = "mail-from-not-success"
MAIL_FROM_RECORD_MISSING = "mail-from-record-missing"
MONITOR_CANNOT_VERIFY = "monitor-cannot-verify"
IDENTITY_NOT_CHECKED = "identity-not-checked"
DKIM_KEY_WEAK = "dkim-key-weak"
DKIM_KEY_TESTING = "dkim-key-testing"
SPF_INVALID = "spf-invalid"
DMARC_INVALID = "dmarc-invalid"
RECORD_NOTE = "record-note"
NAMESERVERS_DISAGREE = "nameservers-disagree"
SES_RECOMMENDATION = "ses-recommendation"


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    title: str
    fix: str  # str.format template; fields are named per check below
    when: str = ""  # when it fires, for the docs (Markdown)
    severity_note: str = ""  # when the severity depends on what was seen


CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        Check(
            IDENTITY_NOT_VERIFIED,
            Severity.CRITICAL,
            N_("SES identity is not verified for sending"),
            N_(
                "Verify {identity} in SES (region {region}): for a domain, publish the DKIM CNAMEs; "
                "for an address, click the link SES emailed to it. Then confirm the console shows "
                "'Verified'."
            ),
            when="the identity's verification status is not SUCCESS, or SES says it is not enabled for sending",
            severity_note="warning while PENDING / NOT_STARTED",
        ),
        Check(
            DKIM_SIGNING_DISABLED,
            Severity.CRITICAL,
            N_("DKIM signing is turned off for a domain identity"),
            N_(
                "Turn DKIM signing on: aws sesv2 put-email-identity-dkim-attributes "
                "--region {region} --email-identity {identity} --signing-enabled"
            ),
            when="a domain identity's DKIM signing is off",
        ),
        Check(
            DKIM_STATUS_NOT_SUCCESS,
            Severity.WARNING,
            N_("SES does not report DKIM as verified"),
            N_(
                "Publish the DKIM records SES lists for {identity} (region {region}) and wait for "
                "SES to re-check; a FAILED status needs the records back and a restart of DKIM "
                "verification in the SES console (but never on a Deterministic Easy DKIM replica, signing "
                "origin AWS_SES_<REGION>: that detaches it; fix its parent in that region)."
            ),
            when="SES's DKIM status is not SUCCESS (the message names it)",
            severity_note="critical for FAILED / TEMPORARY_FAILURE",
        ),
        Check(
            DKIM_RECORD_MISSING,
            Severity.CRITICAL,
            N_("A DKIM CNAME is missing from DNS"),
            N_("Publish {name} CNAME {value}"),
            when="a `<token>._domainkey.<domain>` CNAME does not exist (NXDOMAIN or no CNAME), even while SES "
            "still says SUCCESS; one finding per token",
        ),
        Check(
            DKIM_RECORD_WRONG_TARGET,
            Severity.CRITICAL,
            N_("A DKIM CNAME points at the wrong target"),
            N_("Change {name} to CNAME {value}"),
            when="the CNAME points anywhere but `<token>.<SigningHostedZone>`; the message says where",
        ),
        Check(
            DKIM_KEY_MISSING,
            Severity.CRITICAL,
            N_("No DKIM public key is reachable through the DKIM records"),
            "{fix_detail}",
            when="Easy DKIM: none of the CNAME targets carries a TXT with a non-empty, base64 `p=`; "
            "BYODKIM: the selector's TXT has no usable key",
        ),
        Check(
            EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
            Severity.CRITICAL,
            N_("Email address identity has no DKIM-verified domain; its mail is DMARC-unaligned"),
            N_(
                "Create a domain identity for {domain} (or a parent domain) in {region}, publish "
                "its three DKIM CNAMEs and wait for DKIM status SUCCESS: "
                "aws sesv2 create-email-identity --region {region} --email-identity {domain}"
            ),
            when="an address identity whose domain (or a parent) has no DKIM-enabled, DKIM-verified domain "
            "identity in the same region: its mail carries only SES's unaligned `d=amazonses.com` signature",
        ),
        Check(
            DNS_LOOKUP_FAILED,
            Severity.WARNING,
            N_("DNS lookup failed; the records could not be checked"),
            N_(
                "Check that the resolver(s) can reach the authoritative servers for {domain} "
                "({error}); the monitor will try again on the next run."
            ),
            when="a lookup timed out or got SERVFAIL / REFUSED; the identity's status is `unknown`, never `ok` "
            'and never "missing"',
        ),
        Check(
            DMARC_RECORD_MISSING,
            Severity.WARNING,
            N_("Domain has no DMARC record"),
            N_("Publish {name} TXT {value}"),
            when="no `v=DMARC1` TXT at `_dmarc.<domain>` or a parent domain (Gmail and Yahoo require one of "
            "bulk senders)",
        ),
        Check(
            MAIL_FROM_NOT_SUCCESS,
            Severity.WARNING,
            N_("Custom MAIL FROM domain is not verified; SPF does not align"),
            N_(
                "Publish the MAIL FROM records for {mail_from} ({name} MX {value} and "
                '{name} TXT "v=spf1 include:amazonses.com ~all") and wait for SES to re-check.'
            ),
            when="a custom MAIL FROM domain is configured but not verified",
        ),
        Check(
            MAIL_FROM_RECORD_MISSING,
            Severity.WARNING,
            N_("A custom MAIL FROM record is missing from DNS"),
            N_("Publish {name} {type} {value}"),
            when="the MAIL FROM domain lacks its MX `10 feedback-smtp.<region>.amazonses.com` or an SPF record "
            "including `amazonses.com`",
        ),
        Check(
            IDENTITY_NOT_CHECKED,
            Severity.WARNING,
            N_("The monitor did not finish checking this identity this run"),
            N_("Nothing to fix in DNS: the monitor checks {identity} again on its next run. If this repeats, {remedy}"),
            when="the run stopped before this identity's checks were complete; its status is `unknown`, never "
            "`ok` and never a problem it did not see (see the cause). Reported, not alerted: alerts come through "
            "`monitor-cannot-verify` after N such runs in a row",
            severity_note="info when one part could not be verified and the rest was checked: "
            "`ses-host-unknown`, `detail-unfetched`",
        ),
        Check(
            DKIM_KEY_WEAK,
            Severity.WARNING,
            N_("The DKIM signing key is shorter than 2048 bits"),
            "{fix_detail}",
            when="the published public key is under 2048 bits (RFC 8301: signers SHOULD use 2048); for Easy DKIM, "
            "the one target with a non-empty `p=`",
        ),
        Check(
            DKIM_KEY_TESTING,
            Severity.WARNING,
            N_("The DKIM key record is in testing mode"),
            N_("Remove t=y from {name}: publish {name} TXT with the same p= and no t=y flag"),
            when="a bring-your-own-DKIM key record carries `t=y`, so receivers may treat failing signatures as "
            "unsigned mail",
        ),
        Check(
            SPF_INVALID,
            Severity.WARNING,
            N_("The custom MAIL FROM domain's SPF record is invalid or unsafe"),
            "{fix_detail}",
            when="on the custom MAIL FROM domain: several `v=spf1` records, a syntax error, `+all`, or a permerror "
            "a receiver meets evaluating the record through `include:` and `redirect=` (more than 10 DNS lookups "
            "or 2 void lookups, more than 10 MX names, a loop, an include without an SPF record, an error inside an "
            "included record); terms after `all` are notes (`record-note`), and a DNS error on the way makes the "
            "identity `unknown` (`dns-lookup-failed`), never `spf-invalid`",
        ),
        Check(
            DMARC_INVALID,
            Severity.WARNING,
            N_("The DMARC record is malformed"),
            "{fix_detail}",
            when="the DMARC record that applies (found by DMARCbis's DNS tree walk) is malformed (a bad `p=`, "
            "`sp=` or `np=`, no `p=` and no valid `rua=`, a bad `pct=`, a syntax error), or the walk went past what "
            "receivers discard (several `v=DMARC1` records at one name, a record that does not begin with exactly "
            "`v=DMARC1`); the message says which policy receivers apply. Unknown tags are notes (`record-note`)",
        ),
        Check(
            RECORD_NOTE,
            Severity.INFO,
            N_("A record works, but receivers read it differently than it is written"),
            "{fix_detail}",
            when="a note, never a problem (the identity stays `ok`; alerts only with `MIN_ALERT_SEVERITY=info`): "
            "the DMARC, SPF or DKIM key record holds something receivers ignore (an unknown or mistyped tag, a tag "
            "name in capitals, terms after `all`, a `redirect=` beside `all`) or fill in (no `p=`, read as `p=none`); "
            "the message says how receivers read it",
        ),
        Check(
            NAMESERVERS_DISAGREE,
            Severity.WARNING,
            N_("The domain's name servers give different answers for its DKIM records"),
            N_(
                "Make every name server of {zone} serve the same records: {servers}. A secondary that stopped "
                "transferring the zone, or a record added at one provider of two, is the usual cause."
            ),
            when="asked directly without recursion, the zone's authoritative servers (from NS) answer differently "
            "for a DKIM CNAME, so receivers and SES see the record only some of the time (`CHECK_NAMESERVERS`)",
        ),
        Check(
            SES_RECOMMENDATION,
            Severity.WARNING,
            N_("SES recommends a fix the monitor's own checks do not explain"),
            N_("Follow SES's recommendation (SES console, Virtual Deliverability Manager, Advisor): {description}"),
            when="(only with `IMPORT_SES_RECOMMENDATIONS`, where Virtual Deliverability Manager is enabled) an open "
            "DKIM, SPF or DMARC recommendation of SES names this identity and no finding of the same kind does; "
            "warning for SES's HIGH impact, info for LOW; the message quotes SES",
        ),
        Check(
            MONITOR_CANNOT_VERIFY,
            Severity.WARNING,
            N_("The monitor could not check this identity for several runs"),
            N_("Check DNS resolution from the monitor for {domain}: it failed on {runs} consecutive runs ({error})."),
            when="(alerts only) an identity could not be checked on N consecutive runs: its lookups failed, or "
            "the run could not finish it (`identity-not-checked`)",
        ),
    )
}
