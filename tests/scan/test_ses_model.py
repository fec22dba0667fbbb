"""The installed botocore must describe the SES fields the scan reads: botocore drops unknown response
fields silently, so a model without them would make the monitor quietly wrong, not fail."""

from __future__ import annotations

import botocore.session


def members(service: str, shape: str) -> set[str]:
    return set(botocore.session.get_session().get_service_model(service).shape_for(shape).members)


def test_sesv2_model_has_the_signing_hosted_zone_and_the_fields_the_inventory_reads():
    assert {"SigningHostedZone", "SigningAttributesOrigin", "Tokens", "Status", "SigningEnabled"} <= members(
        "sesv2", "DkimAttributes"
    ), "boto3/botocore too old: pyproject.toml's floor (1.42.8) is where SigningHostedZone arrived"
    assert {"LastCheckedTimestamp", "ErrorType"} <= members("sesv2", "VerificationInfo")
    assert {"IdentityType", "IdentityName", "SendingEnabled", "VerificationStatus"} <= members("sesv2", "IdentityInfo")


def test_ses_v1_model_has_the_batch_fields_the_inventory_reads():
    assert {"DkimEnabled", "DkimVerificationStatus", "DkimTokens"} <= members("ses", "IdentityDkimAttributes")
    assert {"MailFromDomain", "MailFromDomainStatus", "BehaviorOnMXFailure"} <= members(
        "ses", "IdentityMailFromDomainAttributes"
    )
