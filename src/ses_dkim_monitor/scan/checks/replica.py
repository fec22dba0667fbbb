"""Deterministic Easy DKIM replicas: which region is the parent, and advice that fixes the parent.

A replica (``SigningAttributesOrigin`` ``AWS_SES_<REGION>``, SES API
reference, ``DkimAttributes``) reuses the tokens and keys of the identity of
the same name in the parent region. Restarting DKIM verification on the
replica (``verify-domain-dkim``) or putting signing attributes on it
(``--signing-attributes-origin AWS_SES``) detaches it from the parent and
issues new tokens, so the CNAMEs it publishes (the parent's) no longer match
what it signs with: the advice that helps an ordinary Easy DKIM identity
breaks a replica's DKIM. Every such piece of advice goes through here.

Whether an identity is a replica is known only from GetEmailIdentity (or a
remembered answer): the batch calls do not say. Where the origin is not
known, advice that would harm a replica says so (``unless_replica``), and the
engine asks SES first within its cap (``rests_on_origin``).
"""

from __future__ import annotations

from ... import catalogue as c
from ...i18n import N_, _, sentences
from ...models import IdentityReport, SesIdentity, SesStatus

REPLICA_PREFIX = "AWS_SES_"

# VerificationInfo.ErrorType values for replicas (botocore's sesv2 model, VerificationError): what each means
# and what to do, in the parent's region where that is where the fix belongs.
REPLICATION_ERRORS = {
    "REPLICATION_ACCESS_DENIED": N_(
        "SES could not copy the DKIM key from the parent region: the permission to replicate it is missing in "
        "{parent} or in {region}"
    ),
    "REPLICATION_PRIMARY_NOT_FOUND": N_(
        "there is no identity {name} in {parent} to copy the DKIM key from: create it there (or fix the parent "
        "region named)"
    ),
    "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED": N_(
        "the parent identity in {parent} signs with a bring-your-own key: only Easy DKIM can be replicated"
    ),
    "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED": N_(
        "the parent identity in {parent} is itself a replica: replicate from an identity that is not one"
    ),
    "REPLICATION_PRIMARY_INVALID_REGION": N_(
        "{parent} is not a valid parent region: it must be another region where SES is offered"
    ),
}

UNKNOWN_PARENT = N_("its parent region")


def parent_region(identity: SesIdentity) -> str | None:
    """``eu-west-1`` for origin ``AWS_SES_EU_WEST_1``; None when the identity is not a replica (or not known to be)."""
    origin = identity.signing_origin
    if not origin.startswith(REPLICA_PREFIX) or len(origin) == len(REPLICA_PREFIX):
        return None
    return origin[len(REPLICA_PREFIX) :].lower().replace("_", "-")


def origin_known(identity: SesIdentity) -> bool:
    """True when SES said how the identity signs (GetEmailIdentity, now or remembered)."""
    return identity.zone_confirmed or identity.is_byodkim or parent_region(identity) is not None


def explain_error(identity: SesIdentity) -> str:
    """What SES's REPLICATION_* verification error means for this identity ("" for other errors)."""
    template = REPLICATION_ERRORS.get(identity.verification_error or "")
    if template is None:
        return ""
    parent = parent_region(identity) or _(UNKNOWN_PARENT)
    return _(template).format(name=identity.name, parent=parent, region=identity.region)


def _replica(identity: SesIdentity, parent: str) -> str:
    return _(
        "{identity} in {region} is a Deterministic Easy DKIM replica of {identity} in {parent}: its tokens and keys "
        "are the parent's."
    ).format(identity=identity.name, region=identity.region, parent=parent)


def _hands_off(identity: SesIdentity, parent: str) -> str:
    return _(
        "Do not restart DKIM verification on the replica or give it signing attributes of its own: either detaches "
        "it from {parent}, issues new tokens and breaks the DKIM it publishes."
    ).format(parent=parent)


def status_advice(identity: SesIdentity, parent: str) -> str:
    """What to do about a replica's DKIM status: look at the parent (and at SES's replication error, if any)."""
    error = explain_error(identity)
    reason = _("SES says {error_type}: {error}.").format(error_type=identity.verification_error, error=error)
    return sentences(
        _replica(identity, parent),
        reason if error else "",
        _(
            "Fix DKIM on the parent: aws sesv2 get-email-identity --region {parent} --email-identity {identity} "
            "shows its status, and this monitor's findings for it in {parent} say what to change; the replica "
            "follows."
        ).format(parent=parent, identity=identity.name),
        _hands_off(identity, parent),
    )


def weak_key_advice(identity: SesIdentity, parent: str) -> str:
    return sentences(
        _replica(identity, parent),
        _(
            "Lengthen the parent's key and the replica follows: aws sesv2 put-email-identity-dkim-signing-attributes "
            "--region {parent} --email-identity {identity} --signing-attributes-origin AWS_SES --signing-attributes "
            "NextSigningKeyLength=RSA_2048_BIT (SES allows one change per 24 hours; the CNAMEs stay the same)."
        ).format(parent=parent, identity=identity.name),
        _hands_off(identity, parent),
    )


def unless_replica(identity: SesIdentity) -> str:
    """The warning advice carries when SES has not said whether the identity is a replica."""
    if origin_known(identity):
        return ""
    return _(
        "Unless SES shows this identity's signing origin as AWS_SES_<REGION> (aws sesv2 get-email-identity --region "
        "{region} --email-identity {identity}): then it is a Deterministic Easy DKIM replica, and this would detach "
        "it and break its DKIM; fix its parent in that region instead."
    ).format(region=identity.region, identity=identity.name)


def rests_on_origin(report: IdentityReport) -> bool:
    """The report gives advice that is right for Easy DKIM and harmful for a replica, and SES has not said which.

    The engine then asks SES (GetEmailIdentity, within its cap) before reporting.
    """
    ident = report.identity
    if origin_known(ident):
        return False
    restart = ident.dkim_status is SesStatus.FAILED  # every FAILED status's advice is to restart verification
    return any(
        (restart and f.check == c.DKIM_STATUS_NOT_SUCCESS) or f.check == c.DKIM_KEY_WEAK for f in report.findings
    )
