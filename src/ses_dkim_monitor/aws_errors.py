"""Reading botocore errors: the one place that knows their shape."""

from __future__ import annotations

from botocore.exceptions import ClientError

# Error codes meaning "these credentials may not do this" across query (SES v1,
# STS) and rest-json (SES v2) protocols.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
        "OptInRequired",
    }
)
# Throttling codes: SES v1 (query) and v2 (rest-json), DynamoDB, STS.
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
    }
)


def error_code(error: BaseException) -> str:
    """The service's error code of a ``ClientError``; the class name of anything else."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "")) or "ClientError"
    return type(error).__name__


def error_message(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", ""))
    return str(error)
