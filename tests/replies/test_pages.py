"""原文 pages: within Telegram's limit after escaping, phone-sized, balanced, every character kept in order."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.telegram.pages import PAGE_CHARS, article_pages, article_texts
from index.builder import IndexBuilder
from index.store import IndexStore

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES
from telegram_html import check_telegram_html

ARTICLE_TEXT = st.lists(
    st.one_of(
        st.text(alphabet="&<>\"'。，！？\n 医保办理线上", max_size=400),
        st.text(alphabet="&<>", min_size=1000, max_size=5000),  # a long run without punctuation
        st.sampled_from(["\n\n", "东昌府讯 区医保局推出线上办理服务。", "A&B<C>D" * 50]),
        st.text(max_size=300),
    ),
    max_size=40,
).map("".join)


@hsettings(max_examples=200, deadline=None)
@given(st.text(max_size=300).filter(lambda t: "\n" not in t), ARTICLE_TEXT)  # a title is one line
def test_every_page_fits_and_keeps_every_character(title, body):
    texts = article_texts(title, "2023-03-06 (区医保局)", body)
    shown = []
    for text in texts:
        check_telegram_html(text) if text.strip() else None  # ≤ 4096, balanced tags, valid entities
        assert len(text) <= 4096
        shown.append(
            html.unescape(text.split("\n\n", 1)[1]).rsplit("\n\n（", 1)[0]
            if len(texts) > 1
            else html.unescape(text.split("\n\n", 1)[1])
        )
    assert "".join(shown).split() == [] or "".join("".join(shown).split()) == "".join(body.split())


@hsettings(max_examples=200, deadline=None)
@given(ARTICLE_TEXT)
def test_pages_are_slices_of_phone_size_and_similar(body):
    pages = article_pages(body, escaped=3500)
    assert "".join(pages) == body
    assert all(len(p) <= PAGE_CHARS and len(html.escape(p, quote=False)) <= 3500 for p in pages)
    if len(pages) > 1:
        sizes = [max(len(p), len(html.escape(p, quote=False)) * PAGE_CHARS / 3500) for p in pages]
        assert min(sizes) >= 0.3 * max(sizes), sizes


def test_pages_break_at_paragraph_and_sentence_ends():
    body = "第一段。" * 10 + "\n\n" + "长句子，" * 500 + "。" + "\n\n尾段。"
    pages = article_pages(body)
    assert "".join(pages) == body and len(pages) == 2
    assert all(len(p) <= PAGE_CHARS for p in pages)
    assert pages[0].endswith("，") and abs(len(pages[0]) - len(pages[1])) < PIECE_SLACK
    one = article_pages("短文。\n\n第二段。")
    assert one == ["短文。\n\n第二段。"]


PIECE_SLACK = 300


def test_long_article_is_paged_within_the_limit(tmp_path, embedder):
    """原文 of a long article: pages below 4096 characters with previous/next buttons."""
    from bot.engine import Engine
    from bot.settings import load_settings
    from bot.telegram.pages import article_page

    long_issue = tmp_path / "2023-03-06.txt"
    long_issue.write_text(
        "# 很长的文章 <测试> & 分页\n\n东昌府讯 " + "这是一段用于测试分页的文字。" * 900 + "\n\n(测试)", "utf-8"
    )
    IndexBuilder(IndexStore(tmp_path / "data", KEEP_VERSIONS), embedder, MAX_FILE_BYTES).build([long_issue])
    engine = Engine(load_settings(data_dir=tmp_path / "data"))
    engine.embedder = embedder
    article_id = next(iter(engine.loaded.snapshot.articles))
    pages, page, markup = [], 0, True
    while markup is not None and page < 20:
        text, markup = article_page(engine, article_id, page)
        check_telegram_html(text)
        pages.append(text)
        labels = [b.text for row in markup.inline_keyboard for b in row] if markup else []
        assert ("◀ 上一页" in labels) == (page > 0)
        if "下一页 ▶" not in labels:
            break
        page += 1
    assert len(pages) >= 4 and "&lt;测试&gt; &amp; 分页" in pages[0]
    assert sum(p.count("这是一段用于测试分页的文字。") for p in pages) == 900
    assert article_page(engine, "no-such-article", 0)[0] == "这篇文章已不在当前简报索引中。"
