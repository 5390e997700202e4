"""The parser on the real issue and on bad files."""

from __future__ import annotations

from datetime import date

import pytest

from index.builder import IndexBuilder, bulletin_files
from index.formats.text import read_bulletin_text, split_sections
from index.parse import parse_issue
from index.types import BulletinError

from conftest import BULLETINS, KEEP_VERSIONS, MAX_FILE_BYTES, REAL_ISSUE


def article(issue, prefix):
    return next(a for a in issue.articles if a.title.startswith(prefix))


def test_real_issue_titles_articles_and_empty_one():
    text, _ = read_bulletin_text(REAL_ISSUE, 10**7)
    assert len(split_sections(text)) == 13
    issue = parse_issue(REAL_ISSUE, MAX_FILE_BYTES)
    assert len(issue.articles) == 12
    assert issue.empty_titles == ["“疫”起坚守筑牢疫情防控严密防线"]


def test_words_broken_by_blank_lines_are_joined_but_paragraphs_kept():
    issue = parse_issue(REAL_ISSUE, MAX_FILE_BYTES)
    first = issue.articles[0]
    assert "坚决把疫情防住" in first.body
    assert "“互联网+医保”业务办理模式" in article(issue, "区医保系统").body
    assert first.body.count("\n\n") >= 4  # real paragraphs survive
    assert article(issue, "做好防疫情").source == "《经济日报》"
    assert article(issue, "区医保系统").source == "(融媒体 全兴社 通讯员 冯雪松)"


def test_pasted_fragment_removed_from_the_highway_article_only():
    issue = parse_issue(REAL_ISSUE, MAX_FILE_BYTES)
    assert "理论学习线上线下同频共振" not in article(issue, "我区严守高速路口").body
    assert "理论学习线上线下同频共振" in article(issue, "区财政局").body
    assert len(issue.fragments_removed) == 1


@pytest.mark.parametrize(
    "name, host, source, text",
    [
        ("2022-11-28.txt", "我区2022—2023年度供暖季", "冬季火灾高发", "要安装烟囱"),
        ("2023-01-09.txt", "春节期间区政务服务中心", "城乡居民医保缴费期延长", "医保代办员缴费"),
    ],
)
def test_synthetic_fragments_stay_in_their_own_article(name, host, source, text):
    issue = parse_issue(BULLETINS / name, MAX_FILE_BYTES)
    assert text not in article(issue, host).body
    assert text in article(issue, source).body


def test_phone_number_split_by_layout_is_joined():
    issue = parse_issue(BULLETINS / "2022-12-05.txt", MAX_FILE_BYTES)
    assert "0635-8329110" in article(issue, "冬季燃气安全").body


def test_issue_date_from_file_name_option_and_text(tmp_path):
    assert parse_issue(BULLETINS / "2022-12-05.txt", MAX_FILE_BYTES).issue_date == date(2022, 12, 5)
    assert parse_issue(REAL_ISSUE, MAX_FILE_BYTES, issue_date=date(2022, 11, 21)).date_source == "--date"
    real = parse_issue(REAL_ISSUE, MAX_FILE_BYTES)
    assert real.issue_date is None and (11, 20) in real.undated_days


def test_undated_real_issue_takes_its_year_from_the_collection(tmp_path, embedder):
    from index.store import IndexStore

    report = IndexBuilder(IndexStore(tmp_path / "d", KEEP_VERSIONS), embedder, MAX_FILE_BYTES).build(
        bulletin_files(BULLETINS)
    )
    snapshot = IndexStore(tmp_path / "d", KEEP_VERSIONS).load()
    assert snapshot.issues["000_5799bfe337b1a530"].issue_date == date(2022, 11, 20)
    assert report.issues == len(list(BULLETINS.glob("*.txt")))


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig"])
def test_other_encodings_parse_identically(tmp_path, encoding):
    copy = tmp_path / REAL_ISSUE.name
    copy.write_bytes(REAL_ISSUE.read_text("utf-8").encode(encoding))
    original, recoded = parse_issue(REAL_ISSUE, MAX_FILE_BYTES), parse_issue(copy, MAX_FILE_BYTES)
    assert [(a.title, a.body, a.source) for a in recoded.articles] == [
        (a.title, a.body, a.source) for a in original.articles
    ]
    assert [a.article_id for a in recoded.articles] == [a.article_id for a in original.articles]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(128, 256)) * 20, "not UTF-8 or GB18030"),
        ("只是一段没有标题的文字。".encode(), "no '# title' headings"),
        ("# 只有标题\n\n## 另一个标题\n".encode(), "no article has a body"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path, content, message):
    bad = tmp_path / "bad-issue.txt"
    bad.write_bytes(content)
    with pytest.raises(BulletinError, match=message) as caught:
        parse_issue(bad, MAX_FILE_BYTES)
    assert str(caught.value).startswith("bad-issue.txt")


def test_oversized_file_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"# t\n\n" + "很长的文字。".encode() * 400_000)
    with pytest.raises(BulletinError, match="over the"):
        parse_issue(big, max_bytes=1_000_000)
