"""Say each problem once: the shared end of several messages is cut at a sentence, in any language."""

from __future__ import annotations

from ses_dkim_monitor.render.grouping import split_common


def test_the_sentences_every_text_ends_with_are_said_once():
    own, shared = split_common(["a does not exist. SES may stop signing.", "b does not exist. SES may stop signing."])
    assert own == ["a does not exist.", "b does not exist."] and shared == "SES may stop signing."


def test_japanese_sentences_are_cut_after_the_full_stop():
    own, shared = split_common(["aがありません。SESは署名を停止します。", "bがありません。SESは署名を停止します。"])
    assert own == ["aがありません。", "bがありません。"] and shared == "SESは署名を停止します。"


def test_a_common_ending_inside_a_sentence_is_not_cut():
    own, shared = split_common(["Publish a CNAME x.example.", "Publish b CNAME y.example."])
    assert shared == "" and own == ["Publish a CNAME x.example.", "Publish b CNAME y.example."]


def test_identical_texts_are_all_shared_and_one_text_is_its_own():
    assert split_common(["Same. Again.", "Same. Again."]) == (["", ""], "Same. Again.")
    assert split_common(["Only one."]) == (["Only one."], "")


def test_missing_records_are_listed_once_not_once_as_a_fix_and_again_as_a_record():
    """Three missing CNAMEs: each record is named in its own sentence and once in the block to publish."""
    from ses_dkim_monitor import catalogue as c
    from ses_dkim_monitor.models import DnsRecord
    from ses_dkim_monitor.render.grouping import groups

    def missing(token: str):
        record = DnsRecord(f"{token}._domainkey.example.com.", "CNAME", f"{token}.dkim.amazonses.com.")
        return c.finding(c.DKIM_RECORD_MISSING, f"{token} does not exist. SES may stop.", subject=token, record=record)

    [group] = groups([missing(t) for t in ("a", "b", "c")])
    assert group.fixes == () and group.fix == ""
    assert [r.name for r in group.records] == [f"{t}._domainkey.example.com." for t in "abc"]

    moved = c.finding(
        c.DKIM_RECORD_MISSING,
        "d does not exist.",
        subject="d",
        record=DnsRecord("d._domainkey.example.com.", "CNAME", "d.dkim.amazonses.com."),
        cause=c.DOUBLED_DOMAIN,
        misplaced=DnsRecord("d._domainkey.example.com.example.com.", "CNAME", "d.dkim.amazonses.com."),
        misplaced_name="d._domainkey.example.com.example.com.",
        apex="example.com",
        host="d._domainkey",
    )
    [with_delete] = groups([missing("a"), moved])
    assert any("Delete" in fix for fix in with_delete.fixes)  # a fix that says more than the record stays


def test_a_japanese_text_is_not_cut_after_a_names_trailing_dot():
    """ "example.com. を登録してください。": the dot ends a name, not a sentence; only 。 does in Japanese."""
    from ses_dkim_monitor import i18n

    texts = [
        "a.example. の TXT レコードを削除し、代わりに a.example. CNAME a.dkim.amazonses.com. を登録してください。"
        "example の DNS は さくらインターネット（ns1.dns.ne.jp）が提供しています。",
        "b.example. CNAME b.dkim.amazonses.com. を登録してください。example の DNS は さくらインターネット"
        "（ns1.dns.ne.jp）が提供しています。",
    ]
    with i18n.speaking("ja"):
        own, shared = split_common(texts)
    assert shared == "example の DNS は さくらインターネット（ns1.dns.ne.jp）が提供しています。"
    assert all(part.endswith("を登録してください。") for part in own), own
