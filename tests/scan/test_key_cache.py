"""A DKIM key record is parsed once per distinct text: healthy Easy DKIM domains of a region share a few keys."""

from __future__ import annotations

import pytest

from ses_dkim_monitor.scan.parsers import dkim_key, parse_dkim_key_record
from tests.support.ses_world import PUBLIC_KEY


@pytest.fixture()
def decodes(monkeypatch) -> list[str]:
    """Every key the parser decodes (the costly part: base64, then DER through pyasn1)."""
    seen: list[str] = []
    real = dkim_key._key_bits

    def counting(key_type: str, der: bytes):
        seen.append(key_type)
        return real(key_type, der)

    monkeypatch.setattr(dkim_key, "_key_bits", counting)
    return seen


def test_the_same_key_record_is_decoded_once_however_many_domains_publish_it(decodes):
    record = f"v=DKIM1; n=cache-test-{id(decodes)}; p={PUBLIC_KEY}"  # a text no other test parsed

    first = [parse_dkim_key_record(record) for _ in range(1000)]

    assert decodes == ["rsa"]
    assert all(k is first[0] for k in first) and first[0].key_bits == 2048


def test_a_different_text_is_a_different_key(decodes):
    one = parse_dkim_key_record(f"v=DKIM1; n=one-{id(decodes)}; p={PUBLIC_KEY}")
    other = parse_dkim_key_record(f"v=DKIM1; n=other-{id(decodes)}; p=")
    assert len(decodes) == 1 and one.usable and other.revoked


def test_an_oversized_record_is_parsed_each_time_and_never_held(decodes):
    """DNS text is untrusted: a record far larger than any key is not kept, so the cache stays small."""
    record = f"v=DKIM1; n={'x' * 20_000}; p={PUBLIC_KEY}"
    parse_dkim_key_record(record)
    parse_dkim_key_record(record)
    assert decodes == ["rsa", "rsa"]
