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
