"""SES v2's Virtual Deliverability Manager calls, which moto does not implement, in front of moto.

A local HTTP server takes every SES v2 request (``AWS_ENDPOINT_URL_SESV2``
points the monitor at it): ``GetAccount`` and ``ListRecommendations`` are
answered here in the API's REST-JSON shape (botocore's service model), and
every other request is forwarded to moto's server unchanged, so identities
still come from moto. ``ListRecommendations`` pages by ``PageSize`` with an
opaque ``NextToken`` and filters on ``STATUS``, as the API documents.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

ACCOUNT = "123456789012"


@dataclass
class VdmStandIn:
    moto_endpoint: str
    enabled: bool = True
    denied: bool = False  # ListRecommendations answers AccessDenied (a role without ses:ListRecommendations)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def install(self, httpserver: Any) -> str:
        """Register the handlers; returns the endpoint URL for ``AWS_ENDPOINT_URL_SESV2``."""
        httpserver.expect_request("/v2/email/account", method="GET").respond_with_handler(self._account)
        httpserver.expect_request("/v2/email/vdm/recommendations", method="POST").respond_with_handler(self._list)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._forward)
        return httpserver.url_for("/").rstrip("/")

    def recommend(self, identity: str, kind: str, description: str, *, impact: str = "HIGH", region: str) -> None:
        self.recommendations.append(
            {
                "ResourceArn": f"arn:aws:ses:{region}:{ACCOUNT}:identity/{identity}",
                "Type": kind,
                "Description": description,
                "Status": "OPEN",
                "Impact": impact,
                "CreatedTimestamp": 1795000000,
                "LastUpdatedTimestamp": 1795000000,
            }
        )

    def _account(self, request: Request) -> Response:
        self.calls.append(("GetAccount", {}))
        body = {
            "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "VdmAttributes": {"VdmEnabled": "ENABLED" if self.enabled else "DISABLED"},
        }
        return Response(json.dumps(body), content_type="application/json")

    def _list(self, request: Request) -> Response:
        params = json.loads(request.get_data() or b"{}")
        self.calls.append(("ListRecommendations", params))
        if self.denied:
            error = {"message": "not authorized to perform ses:ListRecommendations"}
            return Response(json.dumps(error), status=403, headers={"x-amzn-ErrorType": "AccessDeniedException"})
        wanted = (params.get("Filter") or {}).get("STATUS")
        items = [r for r in self.recommendations if wanted is None or r["Status"] == wanted]
        size = int(params.get("PageSize") or 100)
        start = int(params.get("NextToken") or 0)
        page = items[start : start + size]
        body: dict[str, Any] = {"Recommendations": page}
        if start + size < len(items):
            body["NextToken"] = str(start + size)
        return Response(json.dumps(body), content_type="application/json")

    def _forward(self, request: Request) -> Response:
        url = self.moto_endpoint + request.full_path.rstrip("?")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        forwarded = urllib.request.Request(url, data=request.get_data() or None, headers=headers, method=request.method)
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as answer:
                return Response(answer.read(), status=answer.status, headers=dict(answer.headers))
        except urllib.error.HTTPError as error:
            return Response(error.read(), status=error.code, headers=dict(error.headers))
