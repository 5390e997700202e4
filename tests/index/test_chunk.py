"""Passages: sentence-aligned, bounded, with stable ids."""

from index.chunk import MAX_PASSAGE_CHARS, chunk_article, split_sentences
from index.parse import parse_issue

from conftest import MAX_FILE_BYTES, REAL_ISSUE


def test_split_sentences_keeps_end_marks_and_quotes():
    text = "他说：“好的。”然后走了！真的吗？是的；结束"
    assert split_sentences(text) == ["他说：“好的。”", "然后走了！", "真的吗？", "是的；", "结束"]


def test_passages_bounded_sentence_aligned_and_cover_the_article():
    for article in parse_issue(REAL_ISSUE, MAX_FILE_BYTES).articles:
        passages = chunk_article(article)
        assert passages[0].text == article.title
        body = [p.text for p in passages[1:]]
        assert all(len(t) <= MAX_PASSAGE_CHARS for t in body)
        assert "".join(body) == article.body.replace("\n\n", "")
        for text in body[:-1]:
            # a sentence end, or a comma where an over-long sentence was cut
            assert text[-1] in "。！？；”…，、：" or len(text) == MAX_PASSAGE_CHARS


def test_passage_ids_are_stable_and_distinct():
    first = [p.passage_id for a in parse_issue(REAL_ISSUE, MAX_FILE_BYTES).articles for p in chunk_article(a)]
    again = [p.passage_id for a in parse_issue(REAL_ISSUE, MAX_FILE_BYTES).articles for p in chunk_article(a)]
    assert first == again and len(set(first)) == len(first)
