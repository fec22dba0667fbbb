"""Publishing notifications to an SNS topic.

Each message is published with ``MessageStructure=json``: email subscribers
get the readable text (``default``/``email``), machine subscribers (SQS,
Lambda, HTTP(S), Firehose, email-json) get the structured payload of
``messages.payload``. Message attributes ``severity``, ``event``, ``check``,
``region``, ``account`` and (only when the finding has one) ``cause`` let
subscribers filter with a subscription filter policy.

When more than ``digest_threshold`` notifications are due in one run they go
out as a digest, split into parts that each fit SNS's 256 KiB limit. A
digest's attributes are ``String.Array`` values listing every severity,
event, check and region it contains (its ``event`` array also holds
``"digest"``), so a filter on ``severity: critical`` still matches a digest
holding a critical notification.

With a status page, each message links to it (``links``, from the
composition root): a single notification to its account and region's page
(the email's "Status page:" line and the payload's ``status_page``), a digest
to the index page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..alerts import messages
from ..alerts.model import Notification
from ..aws_errors import error_code

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("sns:Publish",)

# SNS accepts 262,144 bytes of message plus attributes; stay clear of it.
MAX_MESSAGE_BYTES = 240_000
MACHINE_PROTOCOLS = ("sqs", "lambda", "http", "https", "email-json", "firehose")


class SnsNotifier:
    """Delivers notifications to one topic; never raises for a failed publish."""

    name = "sns"

    def __init__(
        self, client: Any, topic_arn: str, *, digest_threshold: int = 10, links: messages.PageLinks | None = None
    ):
        self._client = client
        self._topic_arn = topic_arn
        self._digest_threshold = digest_threshold
        self._links = links

    def deliver(self, notifications: Sequence[Notification]) -> dict[str, bool]:
        """Publish; the result maps each notification's ``state_id`` to success."""
        if not notifications:
            return {}
        if len(notifications) > self._digest_threshold:
            return self._deliver_digest(notifications)
        results: dict[str, bool] = {}
        for bundle in messages.bundles(notifications):  # one check's for one identity: one message
            ok = self._publish(single_message(bundle, links=self._links), label=bundle[0].state_id)
            results.update({n.state_id: ok for n in bundle})
        return results

    def _deliver_digest(self, notifications: Sequence[Notification]) -> dict[str, bool]:
        results: dict[str, bool] = {}
        chunks = _split_to_fit(messages.sort_for_digest(notifications), links=self._links)
        for part, chunk in enumerate(chunks, start=1):
            ok = self._publish(
                digest_message(chunk, part=part, parts=len(chunks), links=self._links),
                label=f"digest {part}/{len(chunks)}",
            )
            results.update({n.state_id: ok for n in chunk})
        return results

    def _publish(self, request: Mapping[str, Any], *, label: str) -> bool:
        try:
            self._client.publish(TopicArn=self._topic_arn, **request)
        except (ClientError, BotoCoreError) as error:
            log.warning(
                "SNS publish failed", extra={"channel": self.name, "notification": label, "error": error_code(error)}
            )
            return False
        return True


def single_message(
    bundle: Notification | Sequence[Notification], *, links: messages.PageLinks | None = None
) -> dict[str, Any]:
    """The Publish arguments (minus TopicArn) for one notification, or one check's for one identity together.

    The attributes are those of one notification: the check, event, region
    and account are the same for the whole bundle, the severity is the worst,
    and ``cause`` is there when a cause is (a ``String.Array`` only when the
    records' causes differ).
    """
    group = [bundle] if isinstance(bundle, Notification) else list(bundle)
    n = group[0]
    text = messages.bundle_text(group, links=links)
    structured = json.dumps(messages.bundle_payload(group, links=links), ensure_ascii=False)
    causes = sorted({m.cause for m in group if m.cause})
    cause = {"cause": _string(causes[0]) if len(causes) == 1 else _array(causes)} if causes else {}
    return {
        "Subject": messages.sns_subject(n, len(group)),
        "MessageStructure": "json",
        "Message": _structure(text, structured),
        "MessageAttributes": {
            "severity": _string(messages.grouping_worst(group).value),
            "event": _string(n.event.value),
            "check": _string(n.check),
            "region": _string(n.region),
            "account": _string(n.account),
            **cause,
        },
    }


def digest_message(
    notifications: Sequence[Notification], *, part: int = 1, parts: int = 1, links: messages.PageLinks | None = None
) -> dict[str, Any]:
    text = messages.digest_text(notifications, part=part, parts=parts, links=links)
    structured = json.dumps(
        messages.digest_payload(notifications, part=part, parts=parts, links=links), ensure_ascii=False
    )
    return {
        "Subject": messages.digest_subject(notifications, part=part, parts=parts),
        "MessageStructure": "json",
        "Message": _structure(text, structured),
        "MessageAttributes": {
            "severity": _array(n.severity.value for n in notifications),
            "event": _array(["digest", *(n.event.value for n in notifications)]),
            "check": _array(n.check for n in notifications),
            "region": _array(n.region for n in notifications),
            "account": _array(n.account for n in notifications),
            **({"cause": _array(causes)} if (causes := [n.cause for n in notifications if n.cause]) else {}),
        },
    }


def _structure(text: str, structured: str) -> str:
    body = {"default": text, "email": text}
    body.update({protocol: structured for protocol in MACHINE_PROTOCOLS})
    return json.dumps(body, ensure_ascii=False)


def _split_to_fit(
    notifications: list[Notification], *, links: messages.PageLinks | None = None
) -> list[list[Notification]]:
    """Halve a digest until every part fits in one SNS message."""
    size = len(digest_message(notifications, part=999, parts=999, links=links)["Message"].encode("utf-8"))
    if size <= MAX_MESSAGE_BYTES or len(notifications) == 1:
        return [notifications]
    middle = len(notifications) // 2
    return _split_to_fit(notifications[:middle], links=links) + _split_to_fit(notifications[middle:], links=links)


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _array(values: Any) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(sorted(set(values)))}
