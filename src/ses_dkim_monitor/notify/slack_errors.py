"""The error codes Slack documents for incoming webhooks: the only words of a reply that are ever logged.

A proxy or error page may echo the request path, which holds the webhook's
token, so a reply body is logged only when it is exactly one of these codes.
"""

from __future__ import annotations

# The error codes Slack documents for incoming webhooks (a reply body of exactly one of these words): the
# only reply text ever logged.
SLACK_ERROR_CODES = frozenset(
    {
        "invalid_payload",
        "invalid_token",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "no_text",
        "missing_text_or_fallback_or_attachments",
        "user_not_found",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "too_many_attachments",
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "rate_limited",
    }
)


def slack_error(body: object) -> str | None:
    """The reply's Slack error code, or None when the body is anything else (it is then never logged)."""
    text = str(body or "").strip()
    return text if text in SLACK_ERROR_CODES else None
