"""EventBridge rules for the events in ``events``: rule name -> event pattern.

Built from the constants ``events`` classifies by, so a rule and the parser
cannot disagree about a name. Where the rules must live:

- ``SesApiCalls``, ``SesRecommendations``, ``SesSendingStatus``: in every
  region whose SES identities are monitored (SES, its CloudTrail records and
  its own events are regional), on the default event bus.
- ``Route53Changes``: in us-east-1, where CloudTrail records Route 53, a global
  service.
- EventBridge receives "AWS API Call via CloudTrail" events only from an
  account with a CloudTrail trail that is logging (EventBridge User Guide).

The CloudTrail rules drop failed calls with ``"errorCode": [{"exists": false}]``
(a successful call's record has no errorCode); ``events.parse_recheck`` still
ignores a failed call that arrives by another route.
"""

from __future__ import annotations

from typing import Any

from .events import (
    CLOUDTRAIL_DETAIL_TYPE,
    RECOMMENDATION_DETAIL_TYPES,
    ROUTE53_CALLS,
    ROUTE53_EVENT_SOURCE,
    ROUTE53_SOURCE,
    SENDING_STATUS_DETAIL_TYPES,
    SES_API_CALLS,
    SES_EVENT_SOURCE,
    SES_SOURCE,
)


def _cloudtrail(source: str, event_source: str, event_names: list[str]) -> dict[str, Any]:
    return {
        "source": [source],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {
            "eventSource": [event_source],
            "eventName": event_names,
            "errorCode": [{"exists": False}],
        },
    }


PATTERNS: dict[str, dict[str, Any]] = {
    "SesApiCalls": _cloudtrail(SES_SOURCE, SES_EVENT_SOURCE, sorted(SES_API_CALLS)),
    "Route53Changes": _cloudtrail(ROUTE53_SOURCE, ROUTE53_EVENT_SOURCE, list(ROUTE53_CALLS)),
    "SesRecommendations": {"source": [SES_SOURCE], "detail-type": list(RECOMMENDATION_DETAIL_TYPES)},
    "SesSendingStatus": {"source": [SES_SOURCE], "detail-type": list(SENDING_STATUS_DETAIL_TYPES)},
}
