"""The optional LLM selector, end to end against a fake OpenAI-compatible server over HTTP."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.answering.quote import GAP
from bot.engine import Engine, Judges
from bot.judge.judged import selection_answer
from bot.judge.selector import Prompt, SelectorError, endpoint, number_sentences, parse_reply, reply_content
from bot.log.pseudonym import Pseudonyms
from bot.log.questions import QuestionLog
from bot.replies.templates import html_to_text
from bot.settings import SettingsError, load_settings
from bot.tuning import JUDGE
from index.types import BulletinError

from conftest import RETENTION_DAYS
from fake_llm import FakeLlm

KEY = "sk-judge-test-key-never-logged"
QUESTION = "医保能在网上办吗"


@pytest.fixture
def fake_llm():
    llm = FakeLlm().start()
    yield llm
    llm.stop()


@pytest.fixture
def judged(data_dir, embedder, fake_llm):
    """An engine whose LLM selector is the fake server (1 s timeout)."""
    settings = load_settings(
        embedding_threads=2, llm_url=fake_llm.url, llm_model="fake-qwen", llm_api_key=KEY, llm_timeout=1.0
    )
    engine = Engine(settings)
    engine.embedder = embedder
    engine.warm_up()
    yield engine
    assert engine.judges.selector is not None
    engine.judges.selector.close()


def bulletin_sentences_only(engine: Engine, answer) -> None:
    """Every quoted sentence (a cut one without its "……") stands in its article's text."""
    for part in answer.parts + answer.related:
        body = engine.loaded.snapshot.articles[part.article_id].body
        for sentence in part.quote.sentences:
            assert sentence.text.removesuffix(GAP) in body, sentence.text


def test_selector_quotes_exactly_the_chosen_sentences(judged, fake_llm):
    answer = judged.ask(QUESTION)
    assert answer.path == "llm" and answer.outcome == "answer"
    assert fake_llm.chosen, "the fake was shown a sentence naming 聊城医保"
    assert sorted(s for p in answer.parts for s in p.sentences) == sorted(fake_llm.chosen)
    bulletin_sentences_only(judged, answer)
    reply = html_to_text(judged.render(answer))
    assert all(text in reply for text in fake_llm.chosen)
    assert f"《{answer.parts[0].title}》" in reply and answer.parts[0].issue_date.isoformat() in reply
    assert answer.prompt_version == Prompt.load(None).version
    body, headers = fake_llm.requests[-1]
    assert headers["Authorization"] == f"Bearer {KEY}" and body["model"] == "fake-qwen"
    user = body["messages"][1]["content"]
    assert QUESTION in user and "[1] " in user and "（2022-11-20）" in user
    assert judged.judges.selector.calls == 1 and judged.judges.selector.failures == 0


def test_selector_none_gives_the_no_answer_reply(judged, fake_llm):
    fake_llm.mode = "none"
    offline = judged.ask(QUESTION, judges=Judges())
    answer = judged.ask(QUESTION)
    assert (answer.path, answer.outcome, answer.reason, answer.parts) == ("llm", "none", "not_stated", [])
    assert offline.outcome == "answer"  # the model's refusal wins over the offline decision
    reply = html_to_text(judged.render(answer))
    assert reply.startswith("抱歉，现有简报中没有找到能回答这个问题的内容。")
    assert offline.parts[0].sentences[0] not in reply


@pytest.mark.parametrize(
    ("mode", "logged"),
    [
        ("malformed", "reply is not JSON"),
        ("unknown", "unknown sentence numbers"),
        ("slow", "no reply within 1 s"),
        ("error", "HTTP 500"),
        ("nested", "RecursionError"),
    ],
)
def test_unusable_replies_fall_back_to_the_offline_decision(judged, fake_llm, caplog, mode, logged):
    caplog.set_level(logging.DEBUG)
    offline = judged.ask(QUESTION, judges=Judges())
    fake_llm.mode = mode
    started = time.monotonic()
    answer = judged.ask(QUESTION)
    waited = time.monotonic() - started
    assert answer.path == "llm-fallback"
    assert (answer.outcome, answer.text, answer.reason) == (offline.outcome, offline.text, offline.reason)
    selector = judged.judges.selector
    assert (selector.calls, selector.failures) == (1, 1) and logged in selector.last_failure
    assert logged in caplog.text and "offline decision answers" in caplog.text
    assert KEY not in caplog.text
    assert waited < selector.timeout + 3.0  # the timeout, plus the offline path on a busy shared machine


def test_settings_and_prompt_errors_name_the_setting(tmp_path):
    with pytest.raises(SettingsError, match="BULLETIN_LLM_MODEL"):
        load_settings(llm_url="http://127.0.0.1:9")
    with pytest.raises(SettingsError, match="BULLETIN_LLM_URL"):
        load_settings(llm_url="localhost:11434", llm_model="qwen2.5")
    bad = tmp_path / "prompt.yaml"
    bad.write_text("system: 只有系统提示\nuser: 没有占位符\n", "utf-8")
    with pytest.raises(BulletinError, match="BULLETIN_LLM_PROMPT_PATH=.*question"):
        Prompt.load(bad)
    good = tmp_path / "edited.yaml"
    good.write_text("system: 审核员\nuser: 问题：$question 句子：$sentences\n", "utf-8")
    assert Prompt.load(good).version != Prompt.load(None).version  # an edit is a new version in the log


def test_endpoint_accepts_a_base_or_the_full_path():
    assert endpoint("http://localhost:11434") == "http://localhost:11434/v1/chat/completions"
    assert endpoint("https://dashscope.aliyuncs.com/compatible-mode/v1/") == (
        "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    )
    assert endpoint("http://gpu:8000/v1/chat/completions") == "http://gpu:8000/v1/chat/completions"


def test_question_log_records_the_path_and_migrates_an_old_file(tmp_path):
    path = tmp_path / "questions.sqlite"
    old = sqlite3.connect(path)  # the first release's schema, with one row
    old.executescript(
        "CREATE TABLE questions (id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, day TEXT NOT NULL,"
        " chat_type TEXT NOT NULL, user_hash TEXT NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL,"
        " reason TEXT NOT NULL, top_article TEXT, top_issue TEXT, score REAL, latency_ms REAL, feedback INTEGER);"
        "INSERT INTO questions VALUES (1, '2026-01-01T00:00:00+00:00', '2026-01-01', 'private', 'h', '旧问题',"
        " 1, 'answered', NULL, NULL, 0.9, 10, NULL);"
    )
    old.close()
    log = QuestionLog(path, Pseudonyms(b"k" * 32, "month"), RETENTION_DAYS)
    common = {"chat_type": "private", "answered": True, "reason": "answered", "top_article": None}
    log.record(
        user_id=5,
        question="新问题",
        top_issue=None,
        score=0.8,
        latency_ms=5,
        path="llm",
        prompt_version="abc",
        **common,
    )
    log.close()
    db = sqlite3.connect(path)
    rows = db.execute("SELECT question, path, prompt_version FROM questions ORDER BY id").fetchall()
    db.close()
    assert rows == [("旧问题", "offline", None), ("新问题", "llm", "abc")]


def test_no_sentence_outside_the_bulletins_reaches_a_resident(engine):
    """Whatever the model replies, the resident sees only sentences of the bulletins (or the offline answer)."""
    offline = engine.ask(QUESTION)
    numbered = number_sentences(sorted(offline.candidates, key=lambda c: -c.probability)[: JUDGE.articles])
    numbers = st.integers(min_value=-3, max_value=len(numbered) + 3)
    scalars = st.one_of(st.none(), st.booleans(), numbers, st.floats(allow_nan=False), st.text(max_size=20))
    objects = st.fixed_dictionaries(
        {"sentences": st.one_of(st.lists(numbers, max_size=8), st.lists(scalars, max_size=4), scalars)},
        optional={"unstated": scalars, "answer": st.text(max_size=40)},
    )
    wrapped = objects.map(json.dumps) | objects.map(lambda o: f"```json\n{json.dumps(o)}\n```")
    replies = st.one_of(wrapped, wrapped.map(lambda t: t + " 以上。"), st.text(max_size=200), st.just("{}"))

    @hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(replies)
    def check(content: str) -> None:
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        try:
            selection = parse_reply(reply_content(body), numbered)
        except SelectorError:
            return  # the offline answer is given instead
        answer = selection_answer(offline, selection, engine.settings.answer_max_chars, date.today())
        bulletin_sentences_only(engine, answer)
        assert {p.article_id for p in answer.parts} <= {n.candidate.hit.article.article_id for n in numbered}

    check()


def test_the_question_leaves_the_machine_masked(judged, fake_llm):
    judged.ask("我身份证号370102199001011234，手机13812345678，医保能在网上办吗")
    user = fake_llm.requests[-1][0]["messages"][1]["content"]
    assert "370102199001011234" not in user and "13812345678" not in user
    assert "[身份证号]" in user and "[手机号]" in user


def test_credentials_in_the_llm_url_are_never_shown(data_dir, embedder, fake_llm, caplog):
    from bot.cli.check import check_selector

    url = fake_llm.url.replace("http://", "http://admin:pa55word-secret@")
    settings = load_settings(embedding_threads=2, llm_url=url, llm_model="fake-qwen", llm_timeout=1.0)
    engine = Engine(settings)
    engine.embedder = embedder
    engine.warm_up()
    fake_llm.mode = "error"
    try:
        engine.ask(QUESTION)
        selector = engine.judges.selector
        assert selector is not None
        shown = " ".join([caplog.text, selector.last_failure, selector.shown_url, check_selector(settings)])
        assert "pa55word-secret" not in shown and "admin" not in shown and "***@127.0.0.1" in shown
    finally:
        assert engine.judges.selector is not None
        engine.judges.selector.close()
