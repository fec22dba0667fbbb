"""What ``fix`` may write and delete, and what it never does. Pure.

``--yes`` applies without review (in CI, for example), so the rules are narrow
and written once, here:

* ``DELETIONS`` says, for every kind of record a finding names as misplaced,
  whether the batch that puts the right record in place may delete it. Only
  a DKIM CNAME at the doubled name or with a wrong target, and an MX at SES's
  feedback host of another region, are deleted (or replaced). Everything else
  is left in place and reported. docs/fix.md shows this table, and
  ``tests/fix/test_fix_docs.py`` keeps the two in step.
* ``screen`` moves out of the plan, before any zone is looked at, the fixes
  this command never applies: another account's identity (unless
  ``--fix-for-account`` names it), a DKIM CNAME whose target SES did not
  confirm, anything at a MAIL FROM name whose MX receives mail, and another
  region's feedback MX that an identity of that region sends with.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..i18n import N_, _
from ..partitions import feedback_region
from .records import fqdn
from .triage import DOUBLED_DOMAIN, PUBLISHED_AS_TXT, TARGET_MISSING_DOT, RecordFix, Triage, Withheld

MX_WRONG_TARGET = "mx-wrong-target"  # catalogue.CAUSES: the MAIL FROM MX points elsewhere; misplaced = that MX

# The record types fix ever writes or deletes; docs/fix.md's IAM policy allows exactly these.
TYPES_WRITTEN = ("CNAME", "TXT", "MX")


# Kinds of Withheld: why a fix is never applied by this command.
OTHER_ACCOUNT = "other-account"
ZONE_UNCONFIRMED = "signing-zone-unconfirmed"
RECEIVES_MAIL = "mail-from-receives-mail"
MX_IN_USE = "mail-from-mx-in-use"  # the MX at another region's feedback host is what that region's identity uses
COPY_NOT_READ = "copy-not-read"  # a TXT to copy from the doubled name that DNS would not give again


@dataclass(frozen=True, kw_only=True)
class Deletion:
    """One kind of misplaced record: what stands, which cause names it, whether fix deletes it, and why."""

    key: str
    record: str  # as docs/fix.md names it (English; translated with ``_`` where a plan shows it)
    cause: str
    deletes: bool
    why: str  # likewise


DKIM_CNAME_DOUBLED = "dkim-cname-doubled"
DKIM_CNAME_WRONG_TARGET = "dkim-cname-wrong-target"
MX_OTHER_REGION = "mx-ses-other-region"
MX_INBOUND = "mx-inbound"
IN_PLACE_OF_CNAME = "in-place-of-cname"
TXT_DOUBLED = "txt-doubled"
OTHER = "other"

DELETIONS: tuple[Deletion, ...] = (
    Deletion(
        key=DKIM_CNAME_DOUBLED,
        record=N_("DKIM CNAME at `<token>._domainkey.<domain>.<zone>`"),
        cause=DOUBLED_DOMAIN,
        deletes=True,
        why=N_("nothing looks the doubled name up; the same batch creates the CNAME at the right name"),
    ),
    Deletion(
        key=DKIM_CNAME_WRONG_TARGET,
        record=N_("DKIM CNAME at `<token>._domainkey.<domain>` with a wrong target"),
        cause=f"{TARGET_MISSING_DOT}, or none (`dkim-record-wrong-target`)",
        deletes=True,
        why=N_("SES confirmed the right target; the same batch puts it in place (DELETE and CREATE, or UPSERT)"),
    ),
    Deletion(
        key=MX_OTHER_REGION,
        record=N_("MAIL FROM MX at `feedback-smtp.<another region>.amazonses.com`"),
        cause=MX_WRONG_TARGET,
        deletes=True,
        why=N_("SES's own feedback host receives no mail for the domain; the same batch creates this region's"),
    ),
    Deletion(
        key=MX_INBOUND,
        record=N_("MAIL FROM MX at any other host"),
        cause=MX_WRONG_TARGET,
        deletes=False,
        why=N_("the name receives mail: not fixed here; SES needs a dedicated MAIL FROM subdomain (`bounce.<domain>`)"),
    ),
    Deletion(
        key=IN_PLACE_OF_CNAME,
        record=N_("TXT, A, AAAA, MX or another record at `<token>._domainkey.<domain>`"),
        cause=PUBLISHED_AS_TXT,
        deletes=False,
        why=N_(
            "it may be a key that works today or another service's record; the CNAME waits until a human removes it"
        ),
    ),
    Deletion(
        key=TXT_DOUBLED,
        record=N_("DMARC record or DKIM key (TXT) at the doubled name"),
        cause=DOUBLED_DOMAIN,
        deletes=False,
        why=N_("copied byte for byte to the right name; the original is left in place and reported"),
    ),
    Deletion(
        key=OTHER,
        record=N_("anything else, and every record no finding names"),
        cause="",
        deletes=False,
        why=N_("fix changes only what a finding names"),
    ),
)
_BY_KEY = {d.key: d for d in DELETIONS}


def is_feedback_host(exchange: str) -> bool:
    """Whether an MX exchange is SES's MAIL FROM feedback endpoint (of any region)."""
    return feedback_region(exchange) is not None


def mx_exchange(value: str) -> str:
    """The exchange of an MX value (``10 host.``), or the value itself when it has no preference."""
    return value.strip().split()[-1] if value.strip() else ""


def deletion(fix: RecordFix) -> Deletion | None:
    """The rule for the record ``fix`` would delete (its ``remove``); None when it deletes nothing."""
    remove, publish = fix.remove, fix.publish
    if remove is None:
        return None
    if publish.type == "CNAME" and remove.type == "CNAME" and "._domainkey." in publish.name:
        if fix.cause == DOUBLED_DOMAIN and fqdn(remove.name) != fqdn(publish.name):
            return _BY_KEY[DKIM_CNAME_DOUBLED]
        if fqdn(remove.name) == fqdn(publish.name):
            return _BY_KEY[DKIM_CNAME_WRONG_TARGET]
    if publish.type == "MX" and remove.type == "MX" and fqdn(remove.name) == fqdn(publish.name):
        return _BY_KEY[MX_OTHER_REGION if is_feedback_host(mx_exchange(remove.value)) else MX_INBOUND]
    if publish.type == "CNAME" and fqdn(remove.name) == fqdn(publish.name):
        return _BY_KEY[IN_PLACE_OF_CNAME]
    if publish.type == "TXT" and remove.type == "TXT" and fix.cause == DOUBLED_DOMAIN:
        return _BY_KEY[TXT_DOUBLED]
    return _BY_KEY[OTHER]


def may_delete(fix: RecordFix) -> bool:
    rule = deletion(fix)
    return rule is not None and rule.deletes


def is_copy(fix: RecordFix) -> bool:
    """A TXT published at the doubled name, put at the right name byte for byte (and left where it was)."""
    rule = deletion(fix)
    return rule is not None and rule.key == TXT_DOUBLED


def screen(triage: Triage, *, route53_account: str | None, fix_for: Collection[str] = ()) -> Triage:
    """``triage`` with the fixes this command never applies moved to ``withheld``, each with its reason.

    ``route53_account`` None (STS could not tell): nothing is written anyway,
    so the other accounts' fixes stay, as instructions for a human.
    """
    # By name alone: a name that receives mail is left whole, whichever identity's fix would touch it.
    receiving = {
        fqdn(fix.publish.name): fix.remove.value
        for fix in triage.fixes
        if fix.remove is not None and deletion(fix) is _BY_KEY[MX_INBOUND]
    }
    kept: list[RecordFix] = []
    withheld = list(triage.withheld)
    for fix in triage.fixes:
        kind, reason = _withhold(fix, route53_account, fix_for, receiving)
        if not kind:
            kind, reason = _mx_in_use(fix, triage.mail_from_in_use)
        if kind:
            withheld.append(
                Withheld(
                    owner=fix.owner,
                    check=fix.check,
                    cause=fix.cause,
                    kind=kind,
                    record=fix.publish,
                    remove=fix.remove,
                    reason=reason,
                )
            )
        else:
            kept.append(fix)
    return Triage(
        tuple(kept), triage.not_fixable, triage.left_out, tuple(withheld), mail_from_in_use=triage.mail_from_in_use
    )


def _mx_in_use(fix: RecordFix, in_use: Collection[tuple[str, str]]) -> tuple[str, str]:
    """Withhold replacing another region's feedback MX that an identity of that region sends with: replaced,
    its MAIL FROM would stop working (and with behaviour REJECT_MESSAGE, its sending)."""
    if fix.remove is None or deletion(fix) is not _BY_KEY[MX_OTHER_REGION]:
        return "", ""
    other = feedback_region(mx_exchange(fix.remove.value))
    name = fqdn(fix.publish.name)
    if other is None or other == fix.owner.region or (name, other) not in in_use:
        return "", ""
    return MX_IN_USE, _(
        "{name} is also the MAIL FROM domain of an identity in {other}, whose MX this is: replacing it with "
        "{region}'s feedback host would break that region's MAIL FROM. Give {identity} in {region} a MAIL FROM "
        "domain of its own (aws sesv2 put-email-identity-mail-from-attributes --region {region} --email-identity "
        "{identity} --mail-from-domain <name>), then run fix again"
    ).format(name=name, other=other, region=fix.owner.region, identity=fix.owner.identity)


def _withhold(
    fix: RecordFix, account: str | None, fix_for: Collection[str], receiving: Mapping[str, str]
) -> tuple[str, str]:
    owner = fix.owner
    if account is not None and owner.account != account and owner.account not in fix_for:
        return OTHER_ACCOUNT, _(
            "{identity} belongs to account {account}, and this Route 53 is account {route53}'s: fix writes only the "
            "records of its own account's identities (another account's CNAMEs would complete DKIM for an account "
            "that may not own the domain). If account {account} may use this domain, run again with "
            "--fix-for-account {option}"
        ).format(
            identity=owner.identity,
            account=owner.account or _("(unknown)"),
            route53=account,
            option=owner.account or "ACCOUNT",
        )
    if fix.publish.type == "CNAME" and not fix.zone_confirmed:
        return ZONE_UNCONFIRMED, _(
            "SES did not confirm the signing zone of {identity}: the target {target} is predicted from the region "
            "({because}). Check DkimAttributes.SigningHostedZone with: aws sesv2 get-email-identity --region {region} "
            "--email-identity {identity}"
        ).format(
            identity=owner.identity,
            target=fix.publish.value,
            because=fix.unconfirmed_because or _("GetEmailIdentity was not answered"),
            region=owner.region,
        )
    exchange = receiving.get(fqdn(fix.publish.name))
    if exchange is not None:
        return RECEIVES_MAIL, _(
            "{name} receives mail (MX {exchange}): fix never deletes or replaces an MX that is not SES's feedback "
            "host. Use a dedicated subdomain such as bounce.{domain} as the MAIL FROM domain (aws sesv2 "
            "put-email-identity-mail-from-attributes --region {region} --email-identity {identity} "
            "--mail-from-domain bounce.{domain}), then run fix again"
        ).format(
            name=fqdn(fix.publish.name),
            exchange=exchange,
            domain=_domain(owner.identity),
            region=owner.region,
            identity=owner.identity,
        )
    return "", ""


def _domain(identity: str) -> str:
    return identity.rsplit("@", 1)[-1].rstrip(".").lower()
