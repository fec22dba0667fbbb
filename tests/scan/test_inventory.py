"""SES inventory edge cases with responses shaped exactly like the API (botocore Stubber).

moto cannot produce these (a list/get race, throttling-free denial shapes),
so the real service model validates every stubbed response.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ses_dkim_monitor.models import SesStatus
from ses_dkim_monitor.scan.inventory import InventoryError, SesInventory

TOKENS = ["a" * 32, "b" * 32, "c" * 32]


@pytest.fixture()
def stubbed():
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    v2 = session.client("sesv2", endpoint_url="http://127.0.0.1:9")
    v1 = session.client("ses", endpoint_url="http://127.0.0.1:9")
    with Stubber(v2) as s2, Stubber(v1) as s1:
        yield v2, v1, s2, s1
        s2.assert_no_pending_responses()
        s1.assert_no_pending_responses()


def listed(*names: str) -> dict:
    return {
        "EmailIdentities": [
            {
                "IdentityType": "EMAIL_ADDRESS" if "@" in n else "DOMAIN",
                "IdentityName": n,
                "SendingEnabled": True,
                "VerificationStatus": "SUCCESS",
            }
            for n in names
        ]
    }


def test_identity_deleted_between_list_and_batch_get_is_skipped(stubbed, caplog):
    v2, v1, s2, s1 = stubbed
    s2.add_response("list_email_identities", listed("kept.test", "gone.test"), {"PageSize": 1000})
    s1.add_response(
        "get_identity_dkim_attributes",
        {
            "DkimAttributes": {
                "kept.test": {"DkimEnabled": True, "DkimVerificationStatus": "Success", "DkimTokens": TOKENS}
            }
        },
        {"Identities": ["kept.test", "gone.test"]},
    )
    s1.add_response(
        "get_identity_mail_from_domain_attributes",
        {"MailFromDomainAttributes": {}},
        {"Identities": ["kept.test", "gone.test"]},
    )
    # v1 leaves out an identity it does not know: v2 confirms it is gone rather than the list being trusted.
    s2.add_client_error(
        "get_email_identity",
        service_error_code="NotFoundException",
        http_status_code=404,
        expected_params={"EmailIdentity": "gone.test"},
    )
    caplog.set_level("INFO")
    found = SesInventory(sesv2=v2, ses=v1, region="us-east-1").load()
    assert [i.name for i in found] == ["kept.test"]
    assert found[0].dkim_status is SesStatus.SUCCESS and found[0].dkim_tokens == tuple(TOKENS)
    assert any(
        "vanished between list and get" in r.message and getattr(r, "identity", "") == "gone.test"
        for r in caplog.records
    )


def test_identity_deleted_before_get_email_identity_is_skipped(stubbed):
    v2, v1, s2, s1 = stubbed
    s2.add_response("list_email_identities", listed("byod.test"), {"PageSize": 1000})
    s1.add_response(
        "get_identity_dkim_attributes",
        {"DkimAttributes": {"byod.test": {"DkimEnabled": True, "DkimVerificationStatus": "Success"}}},
        {"Identities": ["byod.test"]},
    )
    s1.add_response(
        "get_identity_mail_from_domain_attributes", {"MailFromDomainAttributes": {}}, {"Identities": ["byod.test"]}
    )
    s2.add_client_error(
        "get_email_identity",
        service_error_code="NotFoundException",
        http_status_code=404,
        expected_params={"EmailIdentity": "byod.test"},
    )
    assert SesInventory(sesv2=v2, ses=v1, region="us-east-1").load() == []


def test_byodkim_origin_and_mail_from_come_through(stubbed):
    v2, v1, s2, s1 = stubbed
    s2.add_response("list_email_identities", listed("byod.test"), {"PageSize": 1000})
    s1.add_response(
        "get_identity_dkim_attributes",
        {
            "DkimAttributes": {
                "byod.test": {"DkimEnabled": True, "DkimVerificationStatus": "TemporaryFailure", "DkimTokens": ["sel1"]}
            }
        },
        {"Identities": ["byod.test"]},
    )
    s1.add_response(
        "get_identity_mail_from_domain_attributes",
        {
            "MailFromDomainAttributes": {
                "byod.test": {
                    "MailFromDomain": "bounce.byod.test",
                    "MailFromDomainStatus": "Pending",
                    "BehaviorOnMXFailure": "UseDefaultValue",
                }
            }
        },
        {"Identities": ["byod.test"]},
    )
    s2.add_response(
        "get_email_identity",
        {
            "IdentityType": "DOMAIN",
            "VerificationStatus": "SUCCESS",
            "DkimAttributes": {
                "SigningEnabled": True,
                "Status": "TEMPORARY_FAILURE",
                "Tokens": ["sel1"],
                "SigningAttributesOrigin": "EXTERNAL",
            },
        },
        {"EmailIdentity": "byod.test"},
    )
    [ident] = SesInventory(sesv2=v2, ses=v1, region="us-east-1").load()
    assert ident.is_byodkim and ident.dkim_tokens == ("sel1",)
    assert ident.dkim_status is SesStatus.TEMPORARY_FAILURE
    assert ident.mail_from is not None and ident.mail_from.status is SesStatus.PENDING


def test_list_pages_are_followed_and_a_repeated_token_ends_the_loop(stubbed):
    v2, v1, s2, _s1 = stubbed
    s2.add_response("list_email_identities", {**listed("a@x.test"), "NextToken": "t1"}, {"PageSize": 1000})
    s2.add_response(
        "list_email_identities", {**listed("b@x.test"), "NextToken": "t1"}, {"PageSize": 1000, "NextToken": "t1"}
    )
    inv = SesInventory(sesv2=v2, ses=v1, region="us-east-1")
    assert [i.name for i in inv.load()] == ["a@x.test", "b@x.test"]
    assert inv.calls["ListEmailIdentities"] == 2


def test_access_denied_raises_inventory_error_naming_the_call(stubbed):
    v2, v1, s2, _s1 = stubbed
    s2.add_client_error(
        "list_email_identities",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: ses:ListEmailIdentities",
        http_status_code=403,
    )
    with pytest.raises(InventoryError) as exc:
        SesInventory(sesv2=v2, ses=v1, region="us-east-1").load()
    assert exc.value.region == "us-east-1"
    assert exc.value.reason.startswith("access denied to SES ListEmailIdentities (AccessDeniedException")


def test_byodkim_shown_by_v1_as_not_started_without_tokens_is_confirmed_with_v2(stubbed):
    """The other plausible v1 shape of a bring-your-own-DKIM identity (v1's answer for it is undocumented):
    NotStarted and no tokens, although the v2 list says the domain is verified. v1 and v2 disagree, so
    GetEmailIdentity decides, and what SES last saw (VerificationInfo) comes along."""
    from datetime import UTC, datetime

    v2, v1, s2, s1 = stubbed
    s2.add_response("list_email_identities", listed("byod-shape-b.test"), {"PageSize": 1000})
    s1.add_response(
        "get_identity_dkim_attributes",
        {"DkimAttributes": {"byod-shape-b.test": {"DkimEnabled": True, "DkimVerificationStatus": "NotStarted"}}},
        {"Identities": ["byod-shape-b.test"]},
    )
    s1.add_response(
        "get_identity_mail_from_domain_attributes",
        {"MailFromDomainAttributes": {}},
        {"Identities": ["byod-shape-b.test"]},
    )
    checked = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    s2.add_response(
        "get_email_identity",
        {
            "IdentityType": "DOMAIN",
            "VerificationStatus": "SUCCESS",
            "DkimAttributes": {
                "SigningEnabled": True,
                "Status": "FAILED",
                "Tokens": ["sel2"],
                "SigningAttributesOrigin": "EXTERNAL",
            },
            "VerificationInfo": {"ErrorType": "HOST_NOT_FOUND", "LastCheckedTimestamp": checked},
        },
        {"EmailIdentity": "byod-shape-b.test"},
    )

    [ident] = SesInventory(sesv2=v2, ses=v1, region="us-east-1").load()

    assert ident.is_byodkim and ident.dkim_tokens == ("sel2",) and ident.dkim_status is SesStatus.FAILED
    assert ident.verification_error == "HOST_NOT_FOUND"
    assert ident.verification_checked_at == "2026-11-28T09:30:00+00:00"


def test_verified_easy_dkim_domain_needs_no_get_email_identity(stubbed):
    """The common case stays within the batch budget: three tokens, Success, no extra call."""
    v2, v1, s2, s1 = stubbed
    s2.add_response("list_email_identities", listed("plain.test"), {"PageSize": 1000})
    s1.add_response(
        "get_identity_dkim_attributes",
        {
            "DkimAttributes": {
                "plain.test": {"DkimEnabled": True, "DkimVerificationStatus": "Success", "DkimTokens": TOKENS}
            }
        },
        {"Identities": ["plain.test"]},
    )
    s1.add_response(
        "get_identity_mail_from_domain_attributes", {"MailFromDomainAttributes": {}}, {"Identities": ["plain.test"]}
    )
    inventory = SesInventory(sesv2=v2, ses=v1, region="us-east-1")
    [ident] = inventory.load()
    assert ident.dkim_tokens == tuple(TOKENS) and "GetEmailIdentity" not in inventory.calls


def test_targeted_read_asks_only_about_the_named_identities(ses):
    """An event-driven re-check: GetEmailIdentity each, the v1 batch calls naming only those domains, no list."""
    from ses_dkim_monitor.scan.deadline import Deadline

    world = ses("eu-west-1")
    tokens = world.add_domain(
        "target-inv.test", mail_from={"domain": "bounce.target-inv.test", "status": "SUCCESS"}, zone="dkim.test"
    )
    world.add_domain("bystander-inv.test")
    world.add_email("ops@target-inv.test")
    calls: list[tuple[str, dict]] = []
    v2, v1 = boto3.client("sesv2", region_name="eu-west-1"), boto3.client("ses", region_name="eu-west-1")
    for client in (v2, v1):
        client.meta.events.register(
            "before-parameter-build", lambda model, params, **_: calls.append((model.name, params))
        )

    inventory = SesInventory(sesv2=v2, ses=v1, region="eu-west-1", account="123456789012")
    batches = list(inventory.targeted(["target-inv.test", "ops@target-inv.test", "deleted-inv.test"], Deadline.never()))

    found = {i.name: i for batch in batches for i in batch}
    assert set(found) == {"target-inv.test", "ops@target-inv.test"}  # the deleted one is simply not there
    domain = found["target-inv.test"]
    assert domain.dkim_tokens == tuple(tokens) and domain.zone_confirmed and domain.signing_hosted_zone == "dkim.test"
    assert domain.mail_from is not None and domain.mail_from.domain == "bounce.target-inv.test"
    assert found["ops@target-inv.test"].sending_enabled
    assert [op for op, _ in calls] == [
        "GetEmailIdentity",
        "GetEmailIdentity",
        "GetEmailIdentity",
        "GetIdentityDkimAttributes",
        "GetIdentityMailFromDomainAttributes",
    ]
    assert all(p.get("Identities", ["target-inv.test"]) == ["target-inv.test"] for _, p in calls)
    assert dict(inventory.calls) == {
        "GetEmailIdentity": 3,
        "GetIdentityDkimAttributes": 1,
        "GetIdentityMailFromDomainAttributes": 1,
    }
