"""SES identities in moto, kept consistent between the v1 and v2 APIs.

moto computes its v1 answers (``GetIdentityDkimAttributes`` says ``Success``
for any existing identity), so a state forced on a v2 identity would not be
seen through v1. ``consistent_v1`` replaces moto's v1 methods with ones that
read the same identity's v2 state, shaped like the real API:

* v1 status spelling (``TemporaryFailure``), ``DkimTokens`` only where SES
  has tokens, and no entry at all for an identity that does not exist (real
  SES omits unknown identities; moto invents a ``NotStarted`` one);
* ``GetIdentityMailFromDomainAttributes`` from a MAIL FROM setting stored on
  the identity, with the v1 status spelling.

``SesWorld`` creates identities through the real HTTP API and then forces the
states moto cannot reach (its ``put_email_identity_dkim_*`` calls are not
implemented). Also used by the demo.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3

ACCOUNT_ID = "123456789012"
V1_STATUS = {
    "PENDING": "Pending",
    "SUCCESS": "Success",
    "FAILED": "Failed",
    "TEMPORARY_FAILURE": "TemporaryFailure",
    "NOT_STARTED": "NotStarted",
}


def _dkim_v1(self: Any, identities: list[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name in identities:
        ident = self.email_identities.get(name)
        if ident is None:
            continue
        attrs = ident.dkim_attributes
        entry: dict[str, Any] = {
            "DkimEnabled": bool(attrs.get("SigningEnabled")),
            "DkimVerificationStatus": V1_STATUS.get(attrs.get("Status", "NOT_STARTED"), attrs.get("Status")),
        }
        tokens = attrs.get("Tokens")
        if tokens and attrs.get("SigningAttributesOrigin", "AWS_SES").startswith("AWS_SES"):
            entry["DkimTokens"] = list(tokens)
        result[name] = entry
    return result


def _mail_from_v1(self: Any, identities: list[str] | None = None) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name in identities or []:
        ident = self.email_identities.get(name)
        if ident is None:
            continue
        setting = getattr(ident, "test_mail_from", None)
        if setting is None:
            result[name] = {"BehaviorOnMXFailure": "UseDefaultValue"}
        else:
            result[name] = {
                "MailFromDomain": setting["domain"],
                "MailFromDomainStatus": V1_STATUS[setting["status"]],
                "BehaviorOnMXFailure": setting.get("behavior", "UseDefaultValue"),
            }
    return result


@contextlib.contextmanager
def consistent_v1() -> Iterator[None]:
    from moto.ses.models import SESBackend

    saved = (SESBackend.get_identity_dkim_attributes, SESBackend.get_identity_mail_from_domain_attributes)
    SESBackend.get_identity_dkim_attributes = _dkim_v1
    SESBackend.get_identity_mail_from_domain_attributes = _mail_from_v1
    try:
        yield
    finally:
        SESBackend.get_identity_dkim_attributes, SESBackend.get_identity_mail_from_domain_attributes = saved


def account_session(account: str) -> boto3.Session:
    """A session in ``account``: moto maps an assumed role's credentials to the role's account."""
    if account == ACCOUNT_ID:
        return boto3.Session()
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/test-seeder", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def tokens_for(domain: str, region: str = "") -> list[str]:
    """Three stable Easy DKIM-looking tokens per domain (32 base32 characters)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    out = []
    for i in range(3):
        digest = hashlib.sha256(f"{region}/{domain}/{i}".encode()).digest()
        out.append("".join(alphabet[b % 32] for b in digest[:32]))
    return out


class SesWorld:
    """Identities of one region, created over HTTP and forced through moto's backend."""

    def __init__(self, region: str = "us-east-1", *, account: str = ACCOUNT_ID):
        self.region = region
        self.account = account
        self.client = account_session(account).client("sesv2", region_name=region)

    def _backend(self) -> Any:
        from moto.ses.models import ses_backends

        return ses_backends[self.account][self.region]

    def _identity(self, name: str) -> Any:
        return self._backend().email_identities[name]

    def add_domain(
        self,
        name: str,
        *,
        dkim_status: str = "SUCCESS",
        signing: bool = True,
        tokens: list[str] | None = None,
        origin: str = "AWS_SES",
        zone: str = "dkim.amazonses.com",
        verification: str | None = None,
        sending: bool = True,
        mail_from: dict[str, str] | None = None,
    ) -> list[str]:
        self.client.create_email_identity(EmailIdentity=name)
        if tokens is None:
            tokens = tokens_for(name, self.region) if dkim_status != "NOT_STARTED" else []
        attrs: dict[str, Any] = {
            "SigningEnabled": signing,
            "Status": dkim_status,
            "SigningAttributesOrigin": origin,
            "NextSigningKeyLength": "RSA_2048_BIT",
        }
        if tokens:
            attrs["Tokens"] = list(tokens)
        if origin.startswith("AWS_SES") and tokens:
            attrs["SigningHostedZone"] = zone
        ident = self._identity(name)
        ident.dkim_attributes = attrs
        ident.verification_status = verification or ("SUCCESS" if dkim_status == "SUCCESS" else dkim_status)
        ident.sending_enabled = sending
        ident.verified_for_sending_status = sending  # what GetEmailIdentity says (moto keeps it False)
        ident.test_mail_from = mail_from
        return list(tokens)

    def add_email(self, address: str, *, verification: str = "SUCCESS", sending: bool = True) -> None:
        self.client.create_email_identity(EmailIdentity=address)
        ident = self._identity(address)
        ident.verification_status = verification
        ident.sending_enabled = sending
        ident.verified_for_sending_status = sending

    def add_many_domains(self, names: list[str]) -> None:
        """Bulk insert straight into the backend (1,000s of HTTP creates are slow)."""
        from moto.ses.models import EmailIdentity

        backend = self._backend()
        for name in names:
            ident = EmailIdentity(
                email_identity=name, tags=None, dkim_signing_attributes=None, configuration_set_name=None
            )
            ident.dkim_attributes = {
                "SigningEnabled": True,
                "Status": "SUCCESS",
                "SigningAttributesOrigin": "AWS_SES",
                "Tokens": tokens_for(name, self.region),
                "SigningHostedZone": "dkim.amazonses.com",
            }
            ident.test_mail_from = None
            backend.email_identities[name] = ident

    def delete(self, name: str) -> None:
        self.client.delete_email_identity(EmailIdentity=name)


# A 1024-bit RSA public key (SubjectPublicKeyInfo, base64), generated for tests: too short (RFC 8301).
PUBLIC_KEY_1024 = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCvrr4Q0FktWDxaoor++eD0SRAtOnv0aaI/vqVulGT9RypoB9PsqRessieGbP77Urb"
    "W6FsVrigVQdynVaW/yu4Y1u6g8yfbOs+PWtejuHKh5nysSv/1nSXnnKZBdCkaLlYDp4UjExJSOfP+jsyowjY4jHM2YT3AXEJuzU48ksBgcwIDAQAB"
)

# A 2048-bit RSA public key (SubjectPublicKeyInfo, base64), generated for tests: what SES publishes.
PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuB1cPRxx31TZwIyehy/ucU/Yfiz2YOTsDv0GWdCEYJuC3mK9X+NDrk+K"
    "hiDJEc29VB8im+nSHgILJtu23wp+D/Nr01QG4kFH2Zm0570R++h40yEltQNWfqGPE7nTKtOTETU/heF2CRqCG5IQJ+AAXxbrs+P2"
    "9yGtGiN6yTGkCbW8QUhP60bpldsiMnrNk5BQrkWaK02pXiutw++RCjMBW/1YXYo8ilKVcwsCtr1tdUuOR+fEcXG+kx5lGjje8g3i"
    "blFM6PnWKue4tpFVS9F4+WZR0zJJMyMAPN/HvJrvkIdz4txbRQhmSrwLGwWHm0RWDp91OOS33D0c4QArGSKdfwIDAQAB"
)


def easy_dkim_zone_records(tokens: list[str], *, key_on: int = 0) -> str:
    """Records of SES's dkim.amazonses.com for these tokens: one key, two empty TXTs (as SES publishes)."""
    lines = []
    for i, token in enumerate(tokens):
        value = f'"p={PUBLIC_KEY}"' if i == key_on else '""'
        lines.append(f"{token} TXT {value}")
    return "\n".join(lines)


def customer_cname_records(tokens: list[str], zone: str = "dkim.amazonses.com") -> str:
    """The three CNAMEs a customer publishes in their own zone (relative names)."""
    return "\n".join(f"{t}._domainkey CNAME {t}.{zone}." for t in tokens)
