"""classify, parse_recheck and affected: every sample in events/triggers/, broken shapes, and the mapping rules."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ses_dkim_monitor.triggers.affected import KnownIdentity, affected, dns_accounts
from ses_dkim_monitor.triggers.events import (
    MANUAL_SOURCE,
    EventKind,
    MalformedEvent,
    Recheck,
    classify,
    parse_recheck,
)
from ses_dkim_monitor.triggers.fields import dns_name
from tests.support.paths import EVENTS

SAMPLES = EVENTS / "triggers"
A = "123456789012"
B = "210987654321"


def load(name: str) -> dict[str, Any]:
    folder = SAMPLES if (SAMPLES / name).exists() else EVENTS
    return json.loads((folder / name).read_text())


def parsed(name: str) -> Recheck:
    recheck = parse_recheck(load(name))
    assert recheck is not None
    return recheck


# A world of known identities: two accounts, two regions, domains and their subdomains.
EX_COM = KnownIdentity(A, "eu-west-1", "example.com", "example.com", "bounce.example.com")
ADDR_COM = KnownIdentity(A, "eu-west-1", "Alerts@example.com", "example.com")
MAIL_COM = KnownIdentity(A, "eu-west-1", "mail.example.com", "mail.example.com")
EX_COM_US = KnownIdentity(A, "us-east-1", "example.com", "example.com")
ORG = KnownIdentity(A, "us-east-1", "example.org", "example.org", "bounce.example.org")
MAIL_ORG = KnownIdentity(A, "us-east-1", "mail.example.org", "mail.example.org")
NEWS_ORG = KnownIdentity(A, "us-east-1", "news.example.org", "news.example.org")
SHOP_ORG = KnownIdentity(A, "us-east-1", "shop.example.org", "shop.example.org")
B_COM = KnownIdentity(B, "eu-west-1", "example.com", "example.com", "bounce.example.com")
B_ORG = KnownIdentity(B, "us-east-1", "example.org", "example.org")
WORLD = [EX_COM, ADDR_COM, MAIL_COM, EX_COM_US, ORG, MAIL_ORG, NEWS_ORG, SHOP_ORG, B_COM, B_ORG]
# A record change reaches the identities of the account it was made in (and of those DNS_ACCOUNT_MAP names;
# see the cross-account test): the name mapping tests use account A's identities alone.
WORLD_A = [k for k in WORLD if k.account == A]

COM_ALL = [ADDR_COM, EX_COM, MAIL_COM, EX_COM_US]  # everything at or below example.com, account A
COM_DOMAIN = [ADDR_COM, EX_COM, EX_COM_US]  # identities sending as example.com itself
ORG_ALL = [ORG, MAIL_ORG, NEWS_ORG, SHOP_ORG]


def route53(*names: str, account: str = A) -> Recheck:
    return Recheck(
        kind=EventKind.ROUTE53,
        account=account,
        region=None,
        identities=(),
        dns_names=tuple(dns_name(n) for n in names),
    )


def ses_call(*identities: str, account: str = A, region: str = "eu-west-1") -> Recheck:
    return Recheck(kind=EventKind.SES_API, account=account, region=region, identities=identities, dns_names=())


# ------------------------------------------------------------------ classify


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("scheduled.json", EventKind.SCHEDULE),
        ("manual-scan.json", EventKind.MANUAL),
        ("manual-scan-and-notify.json", EventKind.MANUAL),
        ("ses-create-email-identity.json", EventKind.SES_API),
        ("ses-v1-verify-domain-dkim.json", EventKind.SES_API),
        ("route53-change-burst.json", EventKind.ROUTE53),
        ("route53-delete-hosted-zone.json", EventKind.ROUTE53),
        ("cloudtrail-failed-call.json", EventKind.ROUTE53),
        ("ses-recommendation-open.json", EventKind.SES_RECOMMENDATION),
        ("ses-recommendation-resolved.json", EventKind.SES_RECOMMENDATION),
        ("ses-sending-disabled.json", EventKind.SES_SENDING_STATUS),
        ("ses-sending-enabled.json", EventKind.SES_SENDING_STATUS),
    ],
)
def test_classify_names_the_kind(name, kind):
    assert classify(load(name)) is kind


@pytest.mark.parametrize("name", ["scheduled.json", "manual-scan.json", "manual-scan-and-notify.json"])
def test_schedule_and_manual_events_are_left_to_the_handler(name):
    assert parse_recheck(load(name)) is None


def test_manual_source_is_the_handlers():
    from ses_dkim_monitor import handler

    assert MANUAL_SOURCE == handler.MANUAL_SOURCE


def test_tenants_guide_spelling_of_resolved_is_a_recommendation_too():
    event = load("ses-recommendation-resolved.json")
    event["detail-type"] = "Advisor Recommendation Status Closed"
    assert classify(event) is EventKind.SES_RECOMMENDATION
    assert parsed_event(event).reason.startswith("SES recommendation resolved")


def parsed_event(event: dict[str, Any]) -> Recheck:
    recheck = parse_recheck(event)
    assert recheck is not None
    return recheck


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("source"), "source: missing"),
        (lambda e: e.update(source=["aws.ses"]), "source: expected a string, got array"),
        (lambda e: e.pop("detail-type"), "detail-type: missing"),
        (lambda e: e.update(source="aws.ec2"), "source/detail-type"),
        (lambda e: e["detail"].update(eventName="SendEmail"), "detail.eventName: 'SendEmail'"),
        (lambda e: e["detail"].update(eventSource="route53.amazonaws.com"), "detail.eventSource"),
        (lambda e: e["detail"].pop("eventName"), "detail.eventName: missing"),
        (lambda e: e.update({"detail-type": "Email Bounced"}), "source/detail-type"),
    ],
)
def test_classify_refuses_what_it_does_not_handle(mutate, field):
    event = load("ses-delete-email-identity.json")
    mutate(event)
    with pytest.raises(MalformedEvent, match=field.replace("(", r"\(")):
        classify(event)


def test_classify_refuses_a_non_object():
    with pytest.raises(MalformedEvent, match="event: expected an object, got array"):
        classify([])  # type: ignore[arg-type]


# ------------------------------------------------------ parse_recheck: SES calls


@pytest.mark.parametrize(
    ("name", "identity", "reason"),
    [
        (
            "ses-create-email-identity.json",
            "news.example.org",
            "SES CreateEmailIdentity: news.example.org in eu-west-1",
        ),
        ("ses-delete-email-identity.json", "example.com", "SES DeleteEmailIdentity: example.com in eu-west-1"),
        (
            "ses-put-dkim-attributes.json",
            "example.com",
            "SES PutEmailIdentityDkimAttributes: example.com in eu-west-1 (signingEnabled=false)",
        ),
        (
            "ses-put-dkim-signing-attributes.json",
            "mail.example.com",
            "SES PutEmailIdentityDkimSigningAttributes: mail.example.com in eu-west-1"
            " (signingAttributesOrigin=AWS_SES)",
        ),
        (
            "ses-put-mail-from-attributes.json",
            "example.com",
            "SES PutEmailIdentityMailFromAttributes: example.com in eu-west-1 (mailFromDomain=bounce.example.com)",
        ),
        ("ses-v1-verify-domain-dkim.json", "example.org", "SES VerifyDomainDkim: example.org in eu-west-1"),
        (
            "ses-v1-set-identity-dkim-enabled.json",
            "example.org",
            "SES SetIdentityDkimEnabled: example.org in eu-west-1 (dkimEnabled=false)",
        ),
        (
            "ses-v1-set-identity-mail-from-domain.json",
            "example.org",
            "SES SetIdentityMailFromDomain: example.org in eu-west-1 (mailFromDomain=bounce.example.org)",
        ),
        ("ses-v1-delete-identity.json", "alerts@example.org", "SES DeleteIdentity: alerts@example.org in eu-west-1"),
        # The v1 calls that make (or unmake) an identity to send from: a new identity, or one gone.
        ("ses-v1-verify-domain-identity.json", "example.net", "SES VerifyDomainIdentity: example.net in eu-west-1"),
        (
            "ses-v1-verify-email-identity.json",
            "alerts@example.net",
            "SES VerifyEmailIdentity: alerts@example.net in eu-west-1",
        ),
        (
            "ses-v1-verify-email-address.json",
            "billing@example.net",
            "SES VerifyEmailAddress: billing@example.net in eu-west-1",
        ),
        (
            "ses-v1-delete-verified-email-address.json",
            "old-alerts@example.net",
            "SES DeleteVerifiedEmailAddress: old-alerts@example.net in eu-west-1",
        ),
    ],
)
def test_ses_call_names_its_identity_and_region(name, identity, reason):
    recheck = parsed(name)
    assert recheck == Recheck(
        kind=EventKind.SES_API,
        account=A,
        region="eu-west-1",
        identities=(identity,),
        dns_names=(),
        change_id=None,
        reason=reason,
        ses_says="",
        whole_account=False,
    )


def test_ses_domain_names_are_lowercased_and_addresses_kept_as_written():
    event = load("ses-put-dkim-attributes.json")
    assert event["detail"]["requestParameters"]["emailIdentity"] == "Example.com"
    assert parsed("ses-put-dkim-attributes.json").identities == ("example.com",)
    event = load("ses-v1-delete-identity.json")
    event["detail"]["requestParameters"]["identity"] = "Alerts@Example.ORG"
    assert parsed_event(event).identities == ("Alerts@Example.ORG",)


def test_reason_never_carries_a_byodkim_private_key():
    event = load("ses-put-dkim-signing-attributes.json")
    params = event["detail"]["requestParameters"]
    params["signingAttributesOrigin"] = "EXTERNAL"
    params["signingAttributes"] = {"domainSigningSelector": "s1", "domainSigningPrivateKey": "MIIEvSECRETKEY"}
    params["domainSigningPrivateKey"] = "MIIEvSECRETKEY"  # even if it were logged at the top level
    reason = parsed_event(event).reason
    assert "SECRET" not in reason and "\n" not in reason


def test_account_is_the_recipient_not_the_caller():
    event = load("ses-delete-email-identity.json")
    event["detail"]["recipientAccountId"] = B  # a call made into account B by a principal of account A
    assert parsed_event(event).account == B
    del event["detail"]["recipientAccountId"]
    assert parsed_event(event).account == A  # falls back to the envelope's account


# -------------------------------------------------- parse_recheck: Route 53


def test_deleted_dkim_cnames_are_named_with_the_change_to_wait_on():
    event = load("route53-change-delete-dkim-cname.json")
    names = [c["resourceRecordSet"]["name"] for c in event["detail"]["requestParameters"]["changeBatch"]["changes"]]
    raw_id = event["detail"]["responseElements"]["changeInfo"]["id"]
    recheck = parsed("route53-change-delete-dkim-cname.json")
    assert recheck.kind is EventKind.ROUTE53
    assert recheck.account == A
    assert recheck.region is None
    assert recheck.identities == ()
    assert recheck.dns_names == tuple(n.rstrip(".") for n in names)
    assert raw_id.startswith("/change/C") and recheck.change_id == raw_id.removeprefix("/change/")
    assert recheck.reason == f"Route 53 ChangeResourceRecordSets: DELETE CNAME {names[0].rstrip('.')} (+2 more)"
    assert not recheck.whole_account


def test_burst_of_200_changes_names_each_record_set_once_normalised():
    recheck = parsed("route53-change-burst.json")
    changes = load("route53-change-burst.json")["detail"]["requestParameters"]["changeBatch"]["changes"]
    assert len(changes) == 200
    assert len(recheck.dns_names) == 200 == len(set(recheck.dns_names))
    assert all(n == n.lower() and not n.endswith(".") for n in recheck.dns_names)
    assert any(c["resourceRecordSet"]["name"].isupper() for c in changes)  # the sample has a shouted name
    assert recheck.reason.startswith("Route 53 ChangeResourceRecordSets: UPSERT CNAME ")
    assert "._domainkey." in recheck.reason, "a mail-authentication change is the headline"
    assert recheck.reason.endswith("(+199 more)")


def test_delete_hosted_zone_puts_the_whole_account_in_doubt():
    recheck = parsed("route53-delete-hosted-zone.json")
    assert recheck.whole_account
    assert recheck.dns_names == () and recheck.identities == () and recheck.region is None
    assert recheck.change_id is not None and not recheck.change_id.startswith("/")
    assert "Z0881244EXAMPLEOLD03" in recheck.reason


def one_change(name: str, *, action: str = "UPSERT", rtype: str = "CNAME") -> dict[str, Any]:
    event = load("route53-change-delete-dkim-cname.json")
    event["detail"]["requestParameters"]["changeBatch"]["changes"] = [
        {"action": action, "resourceRecordSet": {"name": name, "type": rtype, "tTL": 300}}
    ]
    return event


def test_route53_octal_escape_for_a_wildcard_is_undone():
    recheck = parsed_event(one_change("\\052.Example.ORG.", rtype="TXT"))
    assert recheck.dns_names == ("*.example.org",)
    assert recheck.reason == "Route 53 ChangeResourceRecordSets: UPSERT TXT *.example.org"


def test_same_name_twice_in_a_batch_is_named_once():
    event = one_change("abc._domainkey.example.com.", action="DELETE")
    event["detail"]["requestParameters"]["changeBatch"]["changes"].append(
        {"action": "CREATE", "resourceRecordSet": {"name": "ABC._domainkey.example.com", "type": "CNAME"}}
    )
    recheck = parsed_event(event)
    assert recheck.dns_names == ("abc._domainkey.example.com",)
    assert recheck.reason.endswith("(+1 more)")


# ------------------------------------------------ parse_recheck: SES's own events


def test_recommendation_open_carries_ses_own_words():
    event = load("ses-recommendation-open.json")
    recheck = parsed("ses-recommendation-open.json")
    assert recheck.kind is EventKind.SES_RECOMMENDATION
    assert (recheck.account, recheck.region, recheck.identities) == (A, "eu-west-1", ("example.com",))
    assert recheck.ses_says == event["detail"]["data"]
    assert recheck.reason == "SES recommendation open (DKIM, HIGH): example.com in eu-west-1"
    assert not recheck.whole_account


def test_recommendation_resolved_without_description():
    recheck = parsed("ses-recommendation-resolved.json")
    assert recheck.identities == ("example.com",)
    assert recheck.ses_says == ""
    assert recheck.reason == "SES recommendation resolved (DKIM): example.com in eu-west-1"


def test_recommendation_naming_no_identity_is_account_wide():
    # The tenants guide's shape: a tenant ARN, which the monitor cannot map to identities.
    event = load("ses-recommendation-open.json")
    event["resources"] = [f"arn:aws:ses:eu-west-1:{A}:tenant/newsletters/tn-1234"]
    recheck = parsed_event(event)
    assert recheck.whole_account and recheck.identities == ()
    assert "tenant newsletters" in recheck.reason


def test_sending_disabled_is_account_wide_with_the_cause():
    event = load("ses-sending-disabled.json")
    recheck = parsed("ses-sending-disabled.json")
    assert recheck.kind is EventKind.SES_SENDING_STATUS
    assert recheck.whole_account
    assert (recheck.account, recheck.region, recheck.identities) == (A, "eu-west-1", ())
    assert recheck.ses_says == event["detail"]["data"]["record"]["cause"]
    assert recheck.reason == f"SES Sending Status Disabled: tenant newsletters of account {A} in eu-west-1"


def test_sending_status_of_the_account_itself():
    # The account-level shape is undocumented; with no ARN the subject is the account.
    event = load("ses-sending-enabled.json")
    event["resources"] = []
    recheck = parsed_event(event)
    assert recheck.whole_account
    assert recheck.reason == f"SES Sending Status Enabled: account {A} in eu-west-1"


# ------------------------------------------------------- failed calls: None


def test_failed_call_sample_needs_no_recheck():
    assert "errorCode" in load("cloudtrail-failed-call.json")["detail"]
    assert parse_recheck(load("cloudtrail-failed-call.json")) is None


@pytest.mark.parametrize(
    "name", ["ses-delete-email-identity.json", "ses-v1-verify-domain-dkim.json", "route53-delete-hosted-zone.json"]
)
def test_a_failed_call_changed_nothing_whatever_its_parameters(name):
    event = load(name)
    event["detail"]["errorCode"] = "AccessDenied"
    event["detail"]["requestParameters"] = None  # failed calls may not record them
    assert parse_recheck(event) is None


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_every_sample_parses(name):
    recheck = parse_recheck(load(name))
    if name == "cloudtrail-failed-call.json":
        assert recheck is None
    else:
        assert recheck is not None and recheck.account == A
        assert recheck.reason and "\n" not in recheck.reason


# ----------------------------------------------------------- malformed shapes


def drop(*path: str):
    def mutate(event: dict[str, Any]) -> None:
        node = event
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def put(value: Any, *path: str):
    def mutate(event: dict[str, Any]) -> None:
        node = event
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("sample", "mutate", "message"),
    [
        ("ses-delete-email-identity.json", drop("detail"), "detail: missing"),
        ("ses-delete-email-identity.json", put("oops", "detail"), "detail: expected an object, got string"),
        (
            "ses-delete-email-identity.json",
            put("emailIdentity=example.com", "detail", "requestParameters"),
            "detail.requestParameters: expected an object, got string",
        ),
        (
            "ses-delete-email-identity.json",
            put(None, "detail", "requestParameters"),
            "detail.requestParameters: expected an object, got null",
        ),
        (
            "ses-delete-email-identity.json",
            drop("detail", "requestParameters", "emailIdentity"),
            "detail.requestParameters.emailIdentity: missing",
        ),
        (
            "ses-v1-verify-domain-dkim.json",
            put(42, "detail", "requestParameters", "domain"),
            "detail.requestParameters.domain: expected a string, got number",
        ),
        ("ses-delete-email-identity.json", drop("detail", "awsRegion"), "detail.awsRegion: missing"),
        (
            "ses-delete-email-identity.json",
            put(123456789012, "detail", "recipientAccountId"),
            "detail.recipientAccountId: expected a string, got number",
        ),
        (
            "route53-change-burst.json",
            drop("detail", "requestParameters", "changeBatch"),
            "detail.requestParameters.changeBatch: missing",
        ),
        (
            "route53-change-burst.json",
            put({"action": "DELETE"}, "detail", "requestParameters", "changeBatch", "changes"),
            "detail.requestParameters.changeBatch.changes: expected an array, got object",
        ),
        (
            "route53-change-burst.json",
            put([], "detail", "requestParameters", "changeBatch", "changes"),
            "detail.requestParameters.changeBatch.changes: empty",
        ),
        (
            "route53-change-delete-dkim-cname.json",
            drop("detail", "requestParameters", "changeBatch", "changes", 1, "resourceRecordSet", "name"),
            r"detail.requestParameters.changeBatch.changes\[1\].resourceRecordSet.name: missing",
        ),
        (
            "route53-change-delete-dkim-cname.json",
            put(["CNAME"], "detail", "requestParameters", "changeBatch", "changes", 0, "resourceRecordSet", "type"),
            r"changes\[0\].resourceRecordSet.type: expected a string, got array",
        ),
        (
            "route53-change-delete-dkim-cname.json",
            put("/change/C1", "detail", "responseElements", "changeInfo"),
            "detail.responseElements.changeInfo: expected an object, got string",
        ),
        ("route53-delete-hosted-zone.json", drop("detail", "requestParameters", "id"), "requestParameters.id: missing"),
        ("ses-recommendation-open.json", drop("detail"), "detail: missing"),
        ("ses-recommendation-open.json", put("arn:aws:ses:...", "resources"), "resources: expected an array"),
        ("ses-sending-disabled.json", drop("region"), "region: missing"),
        ("ses-sending-disabled.json", put("", "account"), "account: empty"),
    ],
)
def test_broken_shapes_raise_naming_the_field(sample, mutate, message):
    event = load(sample)
    mutate(event)
    with pytest.raises(MalformedEvent, match=message):
        parse_recheck(event)


def test_malformed_event_is_a_value_error_the_handler_can_catch():
    assert issubclass(MalformedEvent, ValueError)


# -------------------------------------------------------- affected: Route 53


def ids(result: list[KnownIdentity]) -> list[KnownIdentity]:
    assert len(result) == len(set(result)), "each identity once"
    return result


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # DKIM: a selector under the domain, and the _domainkey node itself (e.g. an NS delegation)
        ("tok1._domainkey.example.com", COM_DOMAIN),
        ("_domainkey.example.com", COM_DOMAIN),
        ("*._domainkey.example.com", COM_DOMAIN),
        ("tok1._domainkey.mail.example.com", [MAIL_COM]),
        # doubled: the provider appended its zone (the domain or a parent of it)
        ("tok1._domainkey.example.com.example.com", COM_DOMAIN),
        ("tok1._domainkey.mail.example.com.example.com", [MAIL_COM]),
        ("tok1._domainkey.mail.example.com.mail.example.com", [MAIL_COM]),
        # DMARC: receivers fall back to parent domains
        ("_dmarc.example.com", COM_ALL),
        ("_dmarc.mail.example.com", [MAIL_COM]),
        ("_dmarc.example.org", ORG_ALL),
        # MAIL FROM
        ("bounce.example.com", [EX_COM]),
        ("bounce.example.org", [ORG]),
        # at or above the domain: NS, DNAME, CNAME at the apex; a wildcard counts as its parent
        ("example.com", COM_ALL),
        ("mail.example.com", [MAIL_COM]),
        ("*.example.org", ORG_ALL),
        ("\\052.example.org", ORG_ALL),
        ("*.mail.example.org", [MAIL_ORG]),
    ],
)
def test_route53_change_affects(name, expected):
    assert ids(affected(route53(name), WORLD_A)) == expected


@pytest.mark.parametrize(
    "name",
    [
        "tok1._domainkey.example.net",  # a record in another domain
        "tok1._domainkey.example.com.example.org",  # doubled into a zone that is not example.com's
        "tok1._domainkey.example.com.evil.example.net",
        "_dmarc.example.net",
        "_dmarc.sub.mail.example.com",  # below mail.example.com: no receiver looks there
        "bounce.example.net",
        "bounce.mail.example.com",  # not a MAIL FROM domain of anyone
        "www.example.com",
        "host-001.example.org",
        "*.example.net",
        "_domainkey.example.net",
        "com",  # above two labels: no identity treats a public suffix as its organisational domain
    ],
)
def test_route53_near_misses_affect_nothing(name):
    assert affected(route53(name), WORLD) == []


def test_parent_dkim_change_does_not_touch_a_subdomain_identity():
    assert MAIL_COM not in affected(route53("tok1._domainkey.example.com"), WORLD)


def test_dmarc_of_the_parent_affects_the_subdomain_but_not_another_domain():
    result = affected(route53("_dmarc.example.com"), WORLD)
    assert MAIL_COM in result
    assert not any(k.domain.endswith("example.org") for k in result)


def test_route53_reaches_identities_of_every_region():
    result = affected(route53("tok1._domainkey.example.com"), WORLD)
    assert {k.region for k in result} == {"eu-west-1", "us-east-1"}


def test_mail_from_names_compare_in_dns_form():
    shouting = replace(EX_COM, mail_from="Bounce.Example.COM.")
    assert affected(route53("bounce.example.com."), [shouting]) == [shouting]


def test_route53_change_reaches_only_the_accounts_whose_dns_it_is():
    # Anyone can create a zone named like anyone's domain: a change in account B's zone is B's DNS, not A's.
    assert ids(affected(route53("tok1._domainkey.example.com", account=B), WORLD)) == ids([B_COM])
    assert affected(route53("tok1._domainkey.example.com", account="999999999999"), WORLD) == []
    # DNS_ACCOUNT_MAP: zones in a DNS account of their own serve the accounts it names ("*": every one).
    dns = "999999999999"
    served = dns_accounts(dns, ((dns, (A,)),))
    assert served == {dns, A}
    assert ids(affected(route53("tok1._domainkey.example.com", account=dns), WORLD, dns_accounts=served)) == COM_DOMAIN
    every = dns_accounts(dns, ((dns, ("*",)),))
    reached = affected(route53("tok1._domainkey.example.com", account=dns), WORLD, dns_accounts=every)
    assert ids(reached) == ids([*COM_DOMAIN, B_COM])
    assert affected(route53("tok1._domainkey.example.net", account=dns), WORLD, dns_accounts=every) == []


def test_deleted_dkim_cname_sample_maps_to_example_com():
    assert ids(affected(parsed("route53-change-delete-dkim-cname.json"), WORLD_A)) == COM_DOMAIN
    # Account B sends as example.com too, but the change was made in A's zone: B's identity is not A's DNS.
    assert B_COM not in affected(parsed("route53-change-delete-dkim-cname.json"), WORLD)


def test_burst_of_200_changes_maps_each_identity_once():
    result = ids(affected(parsed("route53-change-burst.json"), WORLD_A))
    assert result == [ORG, MAIL_ORG, NEWS_ORG]  # shop.example.org untouched


def test_burst_against_a_large_inventory_still_maps_each_identity_once():
    many = WORLD_A + [KnownIdentity(A, "us-east-1", f"d{i}.example.net", f"d{i}.example.net") for i in range(5000)]
    assert affected(parsed("route53-change-burst.json"), many) == [ORG, MAIL_ORG, NEWS_ORG]


def test_delete_hosted_zone_sample_rechecks_every_identity_of_the_account():
    result = ids(affected(parsed("route53-delete-hosted-zone.json"), WORLD))
    assert set(result) == {k for k in WORLD if k.account == A}
    assert result == sorted(result, key=lambda k: (k.account, k.region, k.name))


def test_nothing_monitored_is_an_empty_list():
    assert affected(route53("www.example.net", "host-9.example.net"), WORLD) == []
    assert affected(route53("tok1._domainkey.example.com"), []) == []


# ---------------------------------------------------------------- affected: SES


def test_ses_call_affects_that_region_only_and_address_identities_of_the_domain():
    # PutEmailIdentityDkimAttributes on example.com in eu-west-1: Alerts@example.com signs
    # with example.com's key there; example.com in us-east-1 is another identity.
    assert ids(affected(parsed("ses-put-dkim-attributes.json"), WORLD)) == [ADDR_COM, EX_COM]


def test_ses_names_compare_case_insensitively_for_domains():
    known = [replace(EX_COM, name="Example.COM")]
    assert affected(ses_call("example.com"), known) == known


def test_ses_address_compares_local_part_as_written():
    assert affected(ses_call("Alerts@EXAMPLE.com"), WORLD) == [ADDR_COM]
    new = affected(ses_call("ALERTS@example.com"), WORLD)
    assert new == [KnownIdentity(A, "eu-west-1", "ALERTS@example.com", "example.com", None)]


def test_new_identity_is_returned_so_it_gets_checked():
    # news.example.org is known in us-east-1 only; created now in eu-west-1.
    assert affected(parsed("ses-create-email-identity.json"), WORLD) == [
        KnownIdentity(A, "eu-west-1", "news.example.org", "news.example.org", None)
    ]


def test_unknown_address_identity_gets_its_domain():
    assert affected(parsed("ses-v1-delete-identity.json"), WORLD) == [
        KnownIdentity(A, "eu-west-1", "alerts@example.org", "example.org", None)
    ]


def test_ses_call_never_reaches_another_account():
    assert affected(ses_call("example.com", account=B), WORLD) == [B_COM]
    assert ADDR_COM not in affected(ses_call("example.com", account=B), WORLD)


def test_recommendation_maps_to_its_identity():
    assert ids(affected(parsed("ses-recommendation-open.json"), WORLD)) == [ADDR_COM, EX_COM]


def test_sending_status_rechecks_the_account_in_that_region():
    assert ids(affected(parsed("ses-sending-disabled.json"), WORLD)) == [ADDR_COM, EX_COM, MAIL_COM]
