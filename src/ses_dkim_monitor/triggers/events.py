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
  guide's CloudTrail example). SetIdentityMailFromDomain's ``identity`` follows
  the API's parameter name; no documented example shows it.
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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..models import domain_and_parents

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

# Route 53 writes characters outside [a-z0-9_-] as a backslash and three octal digits ("\052" is "*").
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class EventKind(str, enum.Enum):
    SCHEDULE = "SCHEDULE"
    MANUAL = "MANUAL"
    SES_API = "SES_API"
    ROUTE53 = "ROUTE53"
    SES_RECOMMENDATION = "SES_RECOMMENDATION"
    SES_SENDING_STATUS = "SES_SENDING_STATUS"


class MalformedEvent(ValueError):
    """The event is not of a shape this monitor handles; the message names the field."""


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


@dataclass(frozen=True)
class KnownIdentity:
    account: str
    region: str
    name: str
    domain: str
    mail_from: str | None = None


# ----------------------------------------------------------------- field access


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _mapping(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"{path}: expected an object, got {_type_name(value)}")
    return value


def _string(parent: Mapping[str, Any], key: str, path: str) -> str:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, str):
        raise MalformedEvent(f"{path}: expected a string, got {_type_name(value)}")
    if not value.strip():
        raise MalformedEvent(f"{path}: empty")
    return value


def _list(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    if key not in parent:
        raise MalformedEvent(f"{path}: missing")
    value = parent[key]
    if not isinstance(value, list):
        raise MalformedEvent(f"{path}: expected an array, got {_type_name(value)}")
    return value


def _optional_string(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{path}: expected a string, got {_type_name(value)}")
    return value


# ------------------------------------------------------------------ name forms


def identity_name(raw: str) -> str:
    """An identity as SES names it: domains lowercase without a final dot, addresses as written."""
    name = raw.strip()
    return name if "@" in name else name.lower().rstrip(".")


def identity_domain(name: str) -> str:
    """The DNS domain an identity sends from: the domain itself, or the part after ``@``."""
    return name.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def dns_name(raw: str) -> str:
    """A record-set name as DNS sees it: octal escapes undone, lowercase, no final dot."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), raw.strip()).lower().rstrip(".")


def change_id(raw: str) -> str:
    """``/change/C2682N5HXP0BZ4`` -> ``C2682N5HXP0BZ4`` (GetChange takes either)."""
    return raw.strip().rsplit("/", 1)[-1]


def _zone_id(raw: str) -> str:
    return raw.strip().rsplit("/", 1)[-1]


# --------------------------------------------------------------------- classify


def classify(event: Mapping[str, Any]) -> EventKind:
    """The kind of an event, or MalformedEvent for anything this monitor does not handle."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event: expected an object, got {_type_name(event)}")
    source = _string(event, "source", "source")
    if source == MANUAL_SOURCE:
        return EventKind.MANUAL
    detail_type = _string(event, "detail-type", "detail-type")
    if source == SCHEDULE_SOURCE and detail_type == SCHEDULE_DETAIL_TYPE:
        return EventKind.SCHEDULE
    if detail_type == CLOUDTRAIL_DETAIL_TYPE and source in (SES_SOURCE, ROUTE53_SOURCE):
        detail = _mapping(event, "detail", "detail")
        event_source = _string(detail, "eventSource", "detail.eventSource")
        event_name = _string(detail, "eventName", "detail.eventName")
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
        detail = _mapping(event, "detail", "detail")
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
        return _string(detail, "recipientAccountId", "detail.recipientAccountId")
    return _string(event, "account", "account")


def _ses_api(detail: Mapping[str, Any], account: str) -> Recheck:
    event_name = _string(detail, "eventName", "detail.eventName")
    region = _string(detail, "awsRegion", "detail.awsRegion")
    params = _mapping(detail, "requestParameters", "detail.requestParameters")
    key = SES_API_CALLS[event_name]
    name = identity_name(_string(params, key, f"detail.requestParameters.{key}"))
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
    event_name = _string(detail, "eventName", "detail.eventName")
    params = _mapping(detail, "requestParameters", "detail.requestParameters")
    change = _route53_change_id(detail)
    if event_name == DELETE_HOSTED_ZONE:
        zone = _zone_id(_string(params, "id", "detail.requestParameters.id"))
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
    _optional_string(params, "hostedZoneId", "detail.requestParameters.hostedZoneId")
    batch = _mapping(params, "changeBatch", "detail.requestParameters.changeBatch")
    changes = _list(batch, "changes", "detail.requestParameters.changeBatch.changes")
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
            raise MalformedEvent(f"{path}: expected an object, got {_type_name(item)}")
        action = _string(item, "action", f"{path}.action")
        rrset = _mapping(item, "resourceRecordSet", f"{path}.resourceRecordSet")
        name = dns_name(_string(rrset, "name", f"{path}.resourceRecordSet.name"))
        rtype = _string(rrset, "type", f"{path}.resourceRecordSet.type")
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
        raise MalformedEvent(f"detail.responseElements: expected an object, got {_type_name(response)}")
    info = response.get("changeInfo")
    if info is None:
        return None
    if not isinstance(info, Mapping):
        raise MalformedEvent(f"detail.responseElements.changeInfo: expected an object, got {_type_name(info)}")
    raw = _optional_string(info, "id", "detail.responseElements.changeInfo.id")
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
    account = _string(event, "account", "account")
    region = _string(event, "region", "region")
    detail_type = _string(event, "detail-type", "detail-type")
    detail = _mapping(event, "detail", "detail")
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
    account = _string(event, "account", "account")
    region = _string(event, "region", "region")
    detail_type = _string(event, "detail-type", "detail-type")
    detail = _mapping(event, "detail", "detail")
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


# --------------------------------------------------------------------- affected


def _sort_key(identity: KnownIdentity) -> tuple[str, str, str, str, str]:
    return (identity.account, identity.region, identity.name, identity.domain, identity.mail_from or "")


def _same_identity(a: str, b: str) -> bool:
    """Domains compare case-insensitively; an address's local part as written."""
    if "@" in a or "@" in b:
        local_a, _, dom_a = a.rpartition("@")
        local_b, _, dom_b = b.rpartition("@")
        return local_a == local_b and identity_domain(dom_a) == identity_domain(dom_b)
    return identity_domain(a) == identity_domain(b)


def affected(recheck: Recheck, known: Iterable[KnownIdentity]) -> list[KnownIdentity]:
    """The identities an event puts in doubt, sorted, each once; [] when none we monitor.

    SES events reach only identities of the event's account, and those with a
    region (SES accounts are regional) only that region. A record change
    reaches identities of every account and region whose names it holds: DNS
    is global, and an organization often keeps its zones in an account of
    their own, apart from the accounts that send. A whole-zone event
    (DeleteHostedZone names no record) stays with the account's identities.
    """
    pool = [k for k in known if k.account == recheck.account]
    regional = pool if recheck.region is None else [k for k in pool if k.region == recheck.region]
    if recheck.whole_account:
        return sorted(set(regional), key=_sort_key)
    if recheck.kind is EventKind.ROUTE53:
        return _affected_by_dns(recheck.dns_names, list(known))
    return _affected_by_names(recheck, regional)


def _affected_by_names(recheck: Recheck, regional: list[KnownIdentity]) -> list[KnownIdentity]:
    found: set[KnownIdentity] = set()
    for name in recheck.identities:
        matches = [k for k in regional if _same_identity(k.name, name)]
        if not matches and recheck.region is not None:
            # Not known yet (a new identity): check it all the same.
            matches = [KnownIdentity(recheck.account, recheck.region, name, identity_domain(name))]
        found.update(matches)
        if "@" not in name:
            # An address identity signs with its domain identity's DKIM key in
            # the same region: a change to the domain's DKIM is a change to it.
            domain = identity_domain(name)
            found.update(k for k in regional if "@" in k.name and identity_domain(k.domain) == domain)
    return sorted(found, key=_sort_key)


def _affected_by_dns(names: Iterable[str], pool: list[KnownIdentity]) -> list[KnownIdentity]:
    by_domain: dict[str, list[KnownIdentity]] = {}
    under: dict[str, list[KnownIdentity]] = {}  # a domain or parent -> identities at or below it
    by_mail_from: dict[str, list[KnownIdentity]] = {}
    for k in pool:
        domain = identity_domain(k.domain)
        by_domain.setdefault(domain, []).append(k)
        for parent in domain_and_parents(domain):
            under.setdefault(parent, []).append(k)
        if k.mail_from:
            by_mail_from.setdefault(dns_name(k.mail_from), []).append(k)

    found: set[KnownIdentity] = set()
    for raw in names:
        name = dns_name(raw)
        found.update(by_mail_from.get(name, ()))
        if name.startswith("_dmarc."):
            # Receivers fall back from _dmarc.<domain> to the parents' records.
            found.update(under.get(name[len("_dmarc.") :], ()))
        for domain in _dkim_domains(name, by_domain):
            found.update(by_domain[domain])
        # A change at or above the domain (NS, DNAME, CNAME, a wildcard) can
        # change every answer below it.
        at = name[2:] if name.startswith("*.") else name
        found.update(under.get(at, ()))
    return sorted(found, key=_sort_key)


def _dkim_domains(name: str, by_domain: Mapping[str, list[KnownIdentity]]) -> list[str]:
    """Known domains whose DKIM records ``name`` is or holds.

    ``<selector>._domainkey.<domain>``, the ``_domainkey.<domain>`` node
    itself, and the doubled ``<selector>._domainkey.<domain>.<zone>`` a DNS
    provider makes by appending its zone (the domain or a parent, as the probe
    looks for it) to a pasted full name.
    """
    if name.startswith("_domainkey."):
        rest = name[len("_domainkey.") :]
    else:
        _, sep, rest = name.partition("._domainkey.")
        if not sep:
            return []
    if rest in by_domain:
        return [rest]
    hits = []
    labels = rest.split(".")
    for i in range(1, len(labels)):
        domain, zone = ".".join(labels[:i]), ".".join(labels[i:])
        if domain in by_domain and zone in domain_and_parents(domain):
            hits.append(domain)
    return hits
