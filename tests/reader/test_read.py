"""The reader's decision on real offline answers: the quote stays the bulletin's, only the outcome moves."""

from __future__ import annotations

from datetime import date

import numpy as np

from bot.reader.model_file import FILE_NAME
from bot.reader.probe import ReaderProbe
from bot.reader.read import read_answer, reading_of
from bot.reader.reader import wanted
from bot.settings import load_settings

TODAY = date(2023, 3, 20)
PROBE = ReaderProbe("0" * 64, "yesno-1", np.zeros(1536), 0.0, (1.0, 0.0, 0.0), 0.6, 0.2)


def test_the_reader_reads_the_question_with_the_lead_quote(engine):
    offline = engine.ask("医保能在网上办吗", today=TODAY)
    reading = reading_of(offline)
    assert reading is not None and reading.question == "医保能在网上办吗"
    lead = offline.candidates[0]
    assert reading.title == lead.hit.article.title and reading.quote == lead.quote.text
    assert reading_of(engine.ask("你好", today=TODAY)) is None  # a greeting is not read
    assert reading_of(engine.ask("？？？", today=TODAY)) is None


def test_a_kept_answer_changes_only_its_confidence_and_path(engine):
    offline = engine.ask("医保能在网上办吗", today=TODAY)
    assert offline.outcome == "answer"
    read = read_answer(offline, 0.91, PROBE, TODAY)
    assert (read.outcome, read.path, read.confidence) == ("answer", "reader", 0.91)
    assert [p.text for p in read.parts] == [p.text for p in offline.parts]


def test_a_lowered_answer_is_related_text_or_no_answer_with_its_title_suggested(engine):
    offline = engine.ask("医保能在网上办吗", today=TODAY)
    related = read_answer(offline, 0.4, PROBE, TODAY)
    assert related.outcome == "related" and related.parts[0].text == offline.parts[0].text
    none = read_answer(offline, 0.05, PROBE, TODAY)
    assert none.outcome == "none" and none.reason == "not_stated" and not none.parts
    assert none.related[0].title == offline.parts[0].title
    assert "区医保系统" in engine.render(none)  # the no-answer reply names the article to look at


def test_a_raised_answer_quotes_the_lead_article_verbatim(engine):
    offline = engine.ask("游泳馆几点关门，要带什么证件", today=TODAY)
    lowered = read_answer(offline, 0.1, PROBE, TODAY)
    raised = read_answer(lowered, 0.95, PROBE, TODAY)
    assert raised.outcome == "answer" and raised.path == "reader"
    lead = offline.candidates[0]
    assert raised.parts[0].article_id == lead.hit.article.article_id
    body = lead.hit.article.body
    assert all(s in body for s in raised.parts[0].sentences)  # extractive: every sentence is the article's


def test_the_reader_is_on_once_installed_unless_turned_off(data_dir, tmp_path, monkeypatch):
    assert not wanted(load_settings())  # nothing installed: the offline path
    model = data_dir / "reader" / FILE_NAME
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    assert wanted(load_settings())
    monkeypatch.setenv("BULLETIN_READER", "off")
    assert not wanted(load_settings())
    monkeypatch.setenv("BULLETIN_READER", "false")
    assert load_settings().reader == "off"
