"""Every region botocore knows is accepted wherever a region is named, and links go to each partition's console.

The EU sovereign cloud's ``eusc-de-east-1`` (partition ``aws-eusc``) has a
four-letter prefix: a pattern written as ``^[a-z]{2}-`` refuses it. botocore's
partition data is the authority on which names exist, so the tests take every
region from it rather than from a hand-written list.
"""

from __future__ import annotations

import re

import botocore.session
import pytest
from cfn_flip import load_yaml

from ses_dkim_monitor import partitions
from ses_dkim_monitor.settings import REGION_NAME_RE, ConfigError, Settings
from ses_dkim_monitor.status_page import StatusPageLinks
from tests.support.paths import REPO
from tests.support.template import load_template


def botocore_regions() -> list[str]:
    """Every region of every partition in botocore's partition data (the ``*-global`` pseudo-regions aside)."""
    data = botocore.session.get_session().get_data("partitions")
    return sorted(region for part in data["partitions"] for region in part["regions"] if not region.endswith("-global"))


ALL_REGIONS = botocore_regions()


def test_botocore_knows_the_eu_sovereign_cloud():
    assert "eusc-de-east-1" in ALL_REGIONS and partitions.partition_of("eusc-de-east-1") == "aws-eusc"


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_every_botocore_region_has_the_shape_settings_accept(region):
    assert REGION_NAME_RE.match(region), region


def test_the_status_page_bucket_may_live_in_the_eu_sovereign_cloud():
    settings = Settings.from_env(
        {"SCAN_REGIONS": "eusc-de-east-1", "AWS_REGION": "eusc-de-east-1", "STATUS_PAGE_BUCKET": "status-bucket"}
    )
    assert settings.regions == ("eusc-de-east-1",) and settings.status_page_region == "eusc-de-east-1"


def test_a_region_botocore_does_not_know_is_still_refused():
    with pytest.raises(ConfigError, match="SCAN_REGIONS"):
        Settings.from_env({"SCAN_REGIONS": "eusc-xx-east-9"})


def test_the_templates_accept_every_botocore_region():
    scan = load_template()["Parameters"]["ScanRegions"]["AllowedPattern"]
    forwarder = load_yaml((REPO / "templates" / "event-forwarder.yaml").read_text())
    monitor = forwarder["Parameters"]["MonitorRegion"]["AllowedPattern"]
    refused = [r for r in ALL_REGIONS if not re.fullmatch(scan, r) or not re.fullmatch(monitor, r)]
    assert refused == []
    assert re.fullmatch(scan, ",".join(["us-east-1", "eusc-de-east-1", "us-gov-west-1"]))


@pytest.mark.parametrize(
    ("region", "origin"),
    [
        ("eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com"),
        ("cn-north-1", "https://cn-north-1.console.amazonaws.cn"),
        ("eusc-de-east-1", "https://eusc-de-east-1.console.amazonaws-eusc.eu"),
    ],
)
def test_status_page_links_open_the_console_of_the_buckets_partition(region, origin):
    url = StatusPageLinks("status-bucket", region).index()
    assert url == f"{origin}/s3/object/status-bucket?region={region}&prefix=status/index.html"


def test_a_partition_without_a_public_console_gets_the_objects_address_not_a_wrong_console():
    url = StatusPageLinks("status-bucket", "us-iso-east-1").index()
    assert url == "s3://status-bucket/status/index.html"


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "feedback-smtp.us-east-1.amazonses.com"),
        ("us-gov-west-1", "feedback-smtp.us-gov-west-1.amazonses.com"),
        ("eusc-de-east-1", None),  # not documented for the sovereign cloud, and not in botocore
        ("cn-north-1", None),
    ],
)
def test_ses_feedback_host_is_known_only_where_aws_documents_it(region, host):
    assert partitions.feedback_host(region) == host
