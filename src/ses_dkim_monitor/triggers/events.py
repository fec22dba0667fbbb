"""Which EventBridge events call for a re-check, and of which identities.

The hourly scan stays the safety net. These events let the monitor look again
within minutes of a change made inside AWS:

- CloudTrail records of SES identity calls (v2 and v1) and of Route 53 record
  changes, delivered by EventBridge with detail-type ``AWS API Call via
  CloudTrail``. A record carrying ``errorCode`` is a call that failed and
  changed nothing.
- SES's own events: Virtual Deliverability Manager advisor recommendations
  (open / resolved) and sending status (enabled / disabled).

Shapes, as far as the AWS documentation settles them:

- The EventBridge envelope (``version``, ``id``, ``detail-type``, ``source``,
  ``account``, ``time``, ``region``, ``resources``, ``detail``) with the
  CloudTrail record as ``detail``: EventBridge User Guide, "AWS service events
  delivered via AWS CloudTrail"; source ``aws.<service>``, ``detail.eventSource``
  ``<service>.amazonaws.com`` (EventBridge event reference for SES).
- ``recipientAccountId`` is the account the call acted on;
  ``userIdentity.accountId`` is the caller's and may differ (the Route 53
  developer guide's CloudTrail example shows the two apart).
- SES v1 ``requestParameters``: ``identity`` for DeleteIdentity and
  SetIdentityDkimEnabled, ``domain`` for VerifyDomainDkim (SES developer
  guide's CloudTrail example). SetIdentityMailFromDomain's ``identity``,
  VerifyDomainIdentity's ``domain`` and the ``emailAddress`` of
  VerifyEmailIdentity, VerifyEmailAddress and DeleteVerifiedEmailAddress
  follow the API's parameter names (CloudTrail's lower camel case); no
  documented example shows them.
- SES v2 ``requestParameters.emailIdentity``: the API's URI parameter
  ``EmailIdentity`` in CloudTrail's lower camel case. No AWS example of a v2
  identity call's CloudTrail record was found: unconfirmed.
- Route 53 ``requestParameters``: ``hostedZoneId`` and ``changeBatch.changes[]``
  with ``action`` and ``resourceRecordSet.{name,type}``; ``responseElements
  .changeInfo.id`` is ``/change/<id>``; DeleteHostedZone carries only ``id``
  (Route 53 developer guide's CloudTrail example). CloudTrail records Route 53
  in us-east-1 only.
- SES's own events, source ``aws.ses``: detail-types ``Advisor Recommendation
  Status Open`` / ``Resolved`` and ``Sending Status Enabled`` / ``Disabled``
  (EventBridge event reference for SES). The SES tenants guide spells the
  second ``Advisor Recommendation Status Closed``; both are accepted. Its
  examples give ``detail.data`` as the finding's description text with
  ``detail.metadata.{type,impact}`` for a recommendation, and
  ``detail.data.record.{status,cause}`` for a sending status, with a *tenant*
  ARN in ``resources``. What ``resources`` holds for an identity-level
  recommendation or an account-level status is not documented: identity ARNs
  (``arn:aws:ses:<region>:<account>:identity/<name>``) are read when present;
  an event that names no identity puts the whole account (in that region) in
  doubt.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .fields import (
    MalformedEvent as MalformedEvent,
)
from .fields import (
    array_field,
    change_id,
    dns_name,
    identity_name,
    object_field,
    optional_string_field,
    string_field,
    type_name,
    zone_id,
)

# The manual event the handler already takes; must equal handler.MANUAL_SOURCE
# (a test keeps them equal: this module must not import the handler's boto3).
MANUAL_SOURCE = "ses-dkim-monitor.manual"
SCHEDULE_SOURCE = "aws.events"
SCHEDULE_DETAIL_TYPE = "Scheduled Event"

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
SES_SOURCE = "aws.ses"
SES_EVENT_SOURCE = "ses.amazonaws.com"
ROUTE53_SOURCE = "aws.route53"
ROUTE53_EVENT_SOURCE = "route53.amazonaws.com"

# eventName -> the requestParameters key that names the identity.
SES_API_CALLS: dict[str, str] = {
    "CreateEmailIdentity": "emailIdentity",
    "DeleteEmailIdentity": "emailIdentity",
    "PutEmailIdentityDkimAttributes": "emailIdentity",
    "PutEmailIdentityDkimSigningAttributes": "emailIdentity",
    "PutEmailIdentityMailFromAttributes": "emailIdentity",
    "VerifyDomainDkim": "domain",
    "SetIdentityDkimEnabled": "identity",
    "SetIdentityMailFromDomain": "identity",
    "DeleteIdentity": "identity",
    # v1 calls that make (or unmake) an identity to send from: a new domain or address, or one gone.
    "VerifyDomainIdentity": "domain",
    "VerifyEmailIdentity": "emailAddress",
    "VerifyEmailAddress": "emailAddress",
    "DeleteVerifiedEmailAddress": "emailAddress",
}
CHANGE_RECORD_SETS = "ChangeResourceRecordSets"
DELETE_HOSTED_ZONE = "DeleteHostedZone"
ROUTE53_CALLS = (CHANGE_RECORD_SETS, DELETE_HOSTED_ZONE)

RECOMMENDATION_OPEN = "Advisor Recommendation Status Open"
RECOMMENDATION_RESOLVED = "Advisor Recommendation Status Resolved"
RECOMMENDATION_CLOSED = "Advisor Recommendation Status Closed"  # the SES tenants guide's spelling
RECOMMENDATION_DETAIL_TYPES = (RECOMMENDATION_OPEN, RECOMMENDATION_RESOLVED, RECOMMENDATION_CLOSED)
SENDING_ENABLED = "Sending Status Enabled"
SENDING_DISABLED = "Sending Status Disabled"
SENDING_STATUS_DETAIL_TYPES = (SENDING_ENABLED, SENDING_DISABLED)

# Request parameters worth a mention in a log line. An allow-list on purpose:
# PutEmailIdentityDkimSigningAttributes can carry a BYODKIM private key.
_REASON_PARAMETERS = ("dkimEnabled", "signingEnabled", "signingAttributesOrigin", "mailFromDomain")


class EventKind(str, enum.Enum):
    SCHEDULE = "SCHEDULE"
    MANUAL = "MANUAL"
    SES_API = "SES_API"
    ROUTE53 = "ROUTE53"
    SES_RECOMMENDATION = "SES_RECOMMENDATION"
    SES_SENDING_STATUS = "SES_SENDING_STATUS"


@dataclass(frozen=True)
class Recheck:
    """What one event puts in doubt. ``affected`` maps it onto known identities."""

    kind: EventKind
    account: str
    region: str | None
    identities: tuple[str, ...]
    dns_names: tuple[str, ...]
    change_id: str | None = None
    reason: str = ""
    ses_says: str = ""
    whole_account: bool = False


# --------------------------------------------------------------------- classify


def classify(event: Mapping[str, Any]) -> EventKind:
    """The kind of an event, or MalformedEvent for anything this monitor does not handle."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event: expected an object, got {type_name(event)}")
    source = string_field(event, "source", "source")
    if source == MANUAL_SOURCE:
        return EventKind.MANUAL
    detail_type = string_field(event, "detail-type", "detail-type")
    if source == SCHEDULE_SOURCE and detail_type == SCHEDULE_DETAIL_TYPE:
        return EventKind.SCHEDULE
    if detail_type == CLOUDTRAIL_DETAIL_TYPE and source in (SES_SOURCE, ROUTE53_SOURCE):
        detail = object_field(event, "detail", "detail")
        event_source = string_field(detail, "eventSource", "detail.eventSource")
        event_name = string_field(detail, "eventName", "detail.eventName")
        if source == SES_SOURCE and event_source == SES_EVENT_SOURCE:
            if event_name in SES_API_CALLS:
                return EventKind.SES_API
            raise MalformedEvent(f"detail.eventName: {event_name!r} is not an SES call this monitor handles")
        if source == ROUTE53_SOURCE and event_source == ROUTE53_EVENT_SOURCE:
            if event_name in ROUTE53_CALLS:
                return EventKind.ROUTE53
            raise MalformedEvent(f"detail.eventName: {event_name!r} is not a Route 53 call this monitor handles")
        raise MalformedEvent(f"detail.eventSource: {event_source!r} does not belong to source {source!r}")
    if source == SES_SOURCE and detail_type in RECOMMENDATION_DETAIL_TYPES:
        return EventKind.SES_RECOMMENDATION
    if source == SES_SOURCE and detail_type in SENDING_STATUS_DETAIL_TYPES:
        return EventKind.SES_SENDING_STATUS
    raise MalformedEvent(f"source/detail-type: {source!r} / {detail_type!r} is not an event this monitor handles")


# ---------------------------------------------------------------- parse_recheck


def parse_recheck(event: Mapping[str, Any]) -> Recheck | None:
    """The re-check an event asks for.

    None for a well-formed event that needs none: a schedule or manual event
    (the handler runs those as it always has) or a failed API call. Raises
    MalformedEvent for shapes this monitor does not handle, so the handler can
    log, count and drop the event.
    """
    kind = classify(event)
    if kind in (EventKind.SCHEDULE, EventKind.MANUAL):
        return None
    if kind in (EventKind.SES_API, EventKind.ROUTE53):
        detail = object_field(event, "detail", "detail")
        if detail.get("errorCode"):
            return None  # the call failed: nothing changed
        account = _cloudtrail_account(event, detail)
        if kind is EventKind.SES_API:
            return _ses_api(detail, account)
        return _route53(detail, account)
    if kind is EventKind.SES_RECOMMENDATION:
        return _recommendation(event)
    return _sending_status(event)


def _cloudtrail_account(event: Mapping[str, Any], detail: Mapping[str, Any]) -> str:
    # recipientAccountId is the account acted on; the envelope's account is the
    # bus's, the same for events from the account's own trail.
    if detail.get("recipientAccountId") is not None:
        return string_field(detail, "recipientAccountId", "detail.recipientAccountId")
    return string_field(event, "account", "account")


def _ses_api(detail: Mapping[str, Any], account: str) -> Recheck:
    event_name = string_field(detail, "eventName", "detail.eventName")
    region = string_field(detail, "awsRegion", "detail.awsRegion")
    params = object_field(detail, "requestParameters", "detail.requestParameters")
    key = SES_API_CALLS[event_name]
    name = identity_name(string_field(params, key, f"detail.requestParameters.{key}"))
    flags = [
        f"{p}={_scalar_text(params[p])}"
        for p in _REASON_PARAMETERS
        if p in params and isinstance(params[p], str | bool | int | float)
    ]
    extra = f" ({', '.join(flags)})" if flags else ""
    return Recheck(
        kind=EventKind.SES_API,
        account=account,
        region=region,
        identities=(name,),
        dns_names=(),
        reason=f"SES {event_name}: {name} in {region}{extra}",
    )


def _scalar_text(value: str | bool | int | float) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _route53(detail: Mapping[str, Any], account: str) -> Recheck:
    event_name = string_field(detail, "eventName", "detail.eventName")
    params = object_field(detail, "requestParameters", "detail.requestParameters")
    change = _route53_change_id(detail)
    if event_name == DELETE_HOSTED_ZONE:
        zone = zone_id(string_field(params, "id", "detail.requestParameters.id"))
        return Recheck(
            kind=EventKind.ROUTE53,
            account=account,
            region=None,
            identities=(),
            dns_names=(),
            change_id=change,
            reason=f"Route 53 DeleteHostedZone: zone {zone} (no record names: every identity of the account)",
            whole_account=True,
        )
    optional_string_field(params, "hostedZoneId", "detail.requestParameters.hostedZoneId")
    batch = object_field(params, "changeBatch", "detail.requestParameters.changeBatch")
    changes = array_field(batch, "changes", "detail.requestParameters.changeBatch.changes")
    if not changes:
        raise MalformedEvent("detail.requestParameters.changeBatch.changes: empty")
    names: dict[str, None] = {}  # ordered set: first seen first
    # The log line headlines the first change to a mail-authentication name
    # (in a 200-change batch the first change is often an unrelated host).
    first = ""
    headline = ""
    for i, item in enumerate(changes):
        path = f"detail.requestParameters.changeBatch.changes[{i}]"
        if not isinstance(item, Mapping):
            raise MalformedEvent(f"{path}: expected an object, got {type_name(item)}")
        action = string_field(item, "action", f"{path}.action")
        rrset = object_field(item, "resourceRecordSet", f"{path}.resourceRecordSet")
        name = dns_name(string_field(rrset, "name", f"{path}.resourceRecordSet.name"))
        rtype = string_field(rrset, "type", f"{path}.resourceRecordSet.type")
        names.setdefault(name)
        if i == 0:
            first = f"{action} {rtype} {name}"
        if not headline and ("_domainkey." in f".{name}" or name.startswith("_dmarc.")):
            headline = f"{action} {rtype} {name}"
    more = f" (+{len(changes) - 1} more)" if len(changes) > 1 else ""
    return Recheck(
        kind=EventKind.ROUTE53,
        account=account,
        region=None,
        identities=(),
        dns_names=tuple(names),
        change_id=change,
        reason=f"Route 53 {CHANGE_RECORD_SETS}: {headline or first}{more}",
    )


def _route53_change_id(detail: Mapping[str, Any]) -> str | None:
    response = detail.get("responseElements")
    if response is None:
        return None
    if not isinstance(response, Mapping):
        raise MalformedEvent(f"detail.responseElements: expected an object, got {type_name(response)}")
    info = response.get("changeInfo")
    if info is None:
        return None
    if not isinstance(info, Mapping):
        raise MalformedEvent(f"detail.responseElements.changeInfo: expected an object, got {type_name(info)}")
    raw = optional_string_field(info, "id", "detail.responseElements.changeInfo.id")
    return change_id(raw) if raw else None


def _resources(event: Mapping[str, Any]) -> list[str]:
    value = event.get("resources", [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise MalformedEvent("resources: expected an array of strings")
    return value


def _ses_resource(arn: str) -> tuple[str, str] | None:
    """``arn:aws:ses:<region>:<account>:identity/example.com`` -> ("identity", "example.com")."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ses":
        return None
    kind, _, rest = parts[5].partition("/")
    return (kind, rest) if rest else None


def _subject(event: Mapping[str, Any], account: str) -> tuple[tuple[str, ...], str]:
    """Identities named in ``resources``, and how a log line should name the subject."""
    identities: dict[str, None] = {}
    tenants: list[str] = []
    for arn in _resources(event):
        found = _ses_resource(arn)
        if found is None:
            continue
        kind, rest = found
        if kind == "identity":
            identities.setdefault(identity_name(rest))
        elif kind == "tenant":
            tenants.append(rest.split("/", 1)[0])
    if identities:
        return tuple(identities), ", ".join(identities)
    if tenants:
        return (), f"tenant {', '.join(tenants)} of account {account}"
    return (), f"account {account}"


def _recommendation(event: Mapping[str, Any]) -> Recheck:
    account = string_field(event, "account", "account")
    region = string_field(event, "region", "region")
    detail_type = string_field(event, "detail-type", "detail-type")
    detail = object_field(event, "detail", "detail")
    identities, subject = _subject(event, account)
    data = detail.get("data")
    # The documented example has the description as detail.data itself; an
    # object with a description is read too, in case identity-level events differ.
    if isinstance(data, Mapping):
        data = data.get("description")
    says = data.strip() if isinstance(data, str) else ""
    metadata = detail.get("metadata")
    labels = []
    if isinstance(metadata, Mapping):
        labels = [str(metadata[k]) for k in ("type", "impact") if isinstance(metadata.get(k), str)]
    status = "open" if detail_type == RECOMMENDATION_OPEN else "resolved"
    label = f" ({', '.join(labels)})" if labels else ""
    return Recheck(
        kind=EventKind.SES_RECOMMENDATION,
        account=account,
        region=region,
        identities=identities,
        dns_names=(),
        reason=f"SES recommendation {status}{label}: {subject} in {region}",
        ses_says=says,
        whole_account=not identities,
    )


def _sending_status(event: Mapping[str, Any]) -> Recheck:
    account = string_field(event, "account", "account")
    region = string_field(event, "region", "region")
    detail_type = string_field(event, "detail-type", "detail-type")
    detail = object_field(event, "detail", "detail")
    identities, subject = _subject(event, account)
    says = ""
    data = detail.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("record"), Mapping):
        cause = data["record"].get("cause")
        says = cause.strip() if isinstance(cause, str) else ""
    return Recheck(
        kind=EventKind.SES_SENDING_STATUS,
        account=account,
        region=region,
        identities=identities,
        dns_names=(),
        reason=f"SES {detail_type}: {subject} in {region}",
        ses_says=says,
        whole_account=not identities,
    )
