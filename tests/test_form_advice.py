"""The provider's form in words: for every provider, in English and Japanese, the doubled-domain advice names
the form's own field labels (or the usual ones where none is sourced) and says which conventions are unknown."""

from __future__ import annotations

import pytest

from ses_dkim_monitor import form_advice, i18n, providers
from ses_dkim_monitor.catalogue import DOUBLED_DOMAIN, TARGET_MISSING_DOT

NAME, ZONE, VALUE = "tok._domainkey.example.jp.", "example.jp", "tok.dkim.amazonses.com."
GENERIC_HOST = {"en": "host", "ja": "ホスト名"}
UNCONFIRMED = {"en": "Not confirmed for {name}", "ja": "{name} について未確認の点"}


def advice(provider: providers.Provider | None, cause: str = DOUBLED_DOMAIN) -> str:
    typed = {"cause": cause, "name": NAME, "zone": ZONE, "rtype": "CNAME", "value": VALUE}
    return form_advice.repair_sentence(provider, **typed) + form_advice.conventions_sentence(
        provider, identity="example.jp", **typed
    )


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("provider", providers.PROVIDERS, ids=lambda p: p.id)
def test_doubled_domain_advice_names_the_forms_labels_or_says_what_is_unknown(provider, language):
    with i18n.speaking(language):
        text = advice(provider)
        name = form_advice.provider_name(provider)
    repair = providers.repair(provider, cause=DOUBLED_DOMAIN, name=NAME, zone_apex=ZONE, rtype="CNAME", value=VALUE)
    labels = provider.labels.value
    host_label = labels.host if labels and labels.host else GENERIC_HOST[language]
    assert host_label in text
    assert repair.add.host in text and repair.remove.host in text  # exactly what to type, and what to delete
    unconfirmed = UNCONFIRMED[language].format(name=name)
    assert (unconfirmed in text) == bool(repair.unknown), text
    if provider.host.value is providers.HostForm.RELATIVE:
        assert name in text and ZONE in text  # the form appends the zone itself: said, with the provider's name


@pytest.mark.parametrize("language", ["en", "ja"])
def test_without_a_recognised_provider_the_advice_stays_generic_and_says_so(language):
    with i18n.speaking(language):
        doubled, missing_dot = advice(None), advice(None, TARGET_MISSING_DOT)
    for text in (doubled, missing_dot):
        assert ("is not known" in text) if language == "en" else ("分からない" in text)
    assert ("trailing dot" in missing_dot) if language == "en" else ("末尾のドット" in missing_dot)


def test_who_serves_the_zone_is_named_with_its_first_name_server():
    ns = ["dns2.onamae.com.", "DNS1.onamae.com"]
    assert (
        form_advice.served_sentence("example.jp", ns) == "DNS for example.jp is served by Onamae.com (dns1.onamae.com)."
    )
    with i18n.speaking("ja"):
        assert form_advice.served_sentence("example.jp", ns) == (
            "example.jp の DNS は お名前.com（dns1.onamae.com）が提供しています。"
        )
    assert "does not recognise" in form_advice.served_sentence("example.jp", ["ns1.example.net"])
    assert form_advice.served_sentence("example.jp", []) == ""
