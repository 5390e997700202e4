"""Corrections in the web console over HTTP (the real app, index, corrections file and audit log): pin from 试问's
纠正 link, not covered, confirm; CSRF, bad sentence numbers and unknown articles refused in one line with nothing
stored; 纠正记录 with flagged corrections first; removal behind a confirmation; every change audited."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from bot.console.app import create_app
from bot.corrections.store import FILE_NAME, CorrectionStore
from bot.evaluation.evaluate import article_keys
from bot.settings import load_settings
from index.store import IndexStore

from conftest import KEEP_VERSIONS
from console_helpers import ADMIN, ADMIN_PASSWORD, STAFF, STAFF_PASSWORD, csrf_of, make_accounts, sign_in, text_of

VISITS = ("2023-03-13", "全区养老机构恢复常态化探视 无需预约和检测")  # sentence 1: no appointment needed
ASKED = "养老院现在去看老人还得提前预约不"
PARAPHRASE = "养老院看老人还用提前预约吗"


@pytest.fixture
def app(data_dir, embedder):
    make_accounts(data_dir)
    app = create_app(load_settings(embedding_threads=2))
    app.state.console._embedder = embedder  # the session's loaded model
    return app


def client_of(app, name: str, password: str) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    assert sign_in(client, name, password).status_code == 200
    return client


@pytest.fixture
def staff(app):
    return client_of(app, STAFF, STAFF_PASSWORD)


@pytest.fixture
def visits(data_dir):
    return article_keys(IndexStore(data_dir, KEEP_VERSIONS).load())[VISITS]


def stored(data_dir):
    store = CorrectionStore(data_dir / FILE_NAME)
    try:
        return store.all()
    finally:
        store.close()


def audit_rows(app) -> list[tuple[str, str, str]]:
    return [(e.user, e.action, e.detail) for e in app.state.console.audit.entries()]


def ask(client, question: str):
    return client.post("/try", data={"csrf": csrf_of(client.get("/try").text), "question": question})


def test_pin_from_the_try_page_answers_a_paraphrase_and_is_audited(app, staff, data_dir, visits):
    tried = ask(staff, ASKED)
    link = re.search(r'href="(/correct\?q=[^"]+)">纠正</a>', tried.text).group(1).replace("&amp;", "&")
    page = staff.get(link)
    assert page.status_code == 200 and f"问题： {ASKED}" in text_of(page.text)
    assert f'name="article" value="{visits}"' in page.text  # the quoted article, preselected
    found = staff.get("/correct", params={"q": ASKED, "find": "养老机构"})
    assert f"article={visits}" in found.text and VISITS[1] in text_of(found.text)
    picked = staff.get("/correct", params={"q": ASKED, "article": visits})
    assert 'name="sentence" value="1"' in picked.text and "[1]" in text_of(picked.text)
    done = staff.post(
        "/correct",
        data={"csrf": csrf_of(picked.text), "q": ASKED, "article": visits, "sentence": ["1"], "action": "pin"},
    )
    assert done.status_code == 200 and "已保存纠正" in done.text and VISITS[1] in text_of(done.text)
    [correction] = stored(data_dir)
    assert (correction.kind, correction.article_id, correction.sentence_indices, correction.user) == (
        "pinned",
        visits,
        (1,),
        STAFF,
    )
    user, action, detail = audit_rows(app)[0]
    assert (user, action) == (STAFF, "correction pinned") and ASKED in detail and "句 [1]" in detail
    answered = text_of(ask(staff, PARAPHRASE).text)
    assert "判断 correction" in answered and correction.sentences[0] in answered


def test_not_covered_and_confirm_are_stored_and_audited(app, staff, data_dir, visits):
    token = csrf_of(staff.get("/try").text)
    staff.post("/correct", data={"csrf": token, "q": "狂犬疫苗在哪打", "action": "not_covered"})
    staff.post("/correct", data={"csrf": token, "q": ASKED, "article": visits, "action": "confirm"})
    assert [(c.kind, c.question) for c in stored(data_dir)] == [("not_covered", "狂犬疫苗在哪打"), ("confirmed", ASKED)]
    assert [a for _, a, _ in audit_rows(app)[:2]] == ["correction confirmed", "correction not_covered"]
    assert "没有找到" in text_of(ask(staff, "被狗咬了，狂犬疫苗在哪打").text)


def test_a_correction_without_a_valid_csrf_token_is_refused(app, staff, data_dir, visits):
    for extra in ({}, {"csrf": "forged"}):
        data = {"q": ASKED, "article": visits, "sentence": "1", "action": "pin", **extra}
        reply = staff.post("/correct", data=data)
        assert reply.status_code == 403 and "CSRF" in reply.text
    assert stored(data_dir) == [] and not [a for _, a, _ in audit_rows(app) if a.startswith("correction")]


@pytest.mark.parametrize(
    ("sentences", "article", "message"),
    [
        (["99"], None, "correction: sentence 99 is out of range: article {visits} has"),
        (["1", "abc"], None, "correction: sentences are given by their numbers"),
        ([], None, "correction: pick at least one sentence of the article"),
        (["0"], "no-such-article", "correction: article 'no-such-article' is not in index version"),
    ],
)
def test_bad_input_gets_its_one_line_and_stores_nothing(app, staff, data_dir, visits, sentences, article, message):
    token = csrf_of(staff.get("/try").text)
    data = {"csrf": token, "q": ASKED, "article": article or visits, "sentence": sentences, "action": "pin"}
    reply = staff.post("/correct", data=data)
    assert reply.status_code == 400
    alert = re.search(r'role="alert">([^<]*)<', reply.text).group(1)
    assert text_of(alert).startswith(message.format(visits=visits)) and "\n" not in alert
    assert stored(data_dir) == [] and not [a for _, a, _ in audit_rows(app) if a.startswith("correction")]


def test_the_questions_page_links_each_row_to_a_correction_of_its_quoted_article(staff, visits):
    page = staff.get("/correct", params={"q": ASKED, "title": VISITS[1], "issue": VISITS[0]})
    assert f'name="article" value="{visits}"' in page.text and 'name="sentence" value="1"' in page.text
    from bot.log.pseudonym import Pseudonyms
    from bot.log.questions import QuestionLog

    settings = staff.app.state.console.settings
    log = QuestionLog(settings.data_dir / "questions.sqlite", Pseudonyms(b"k" * 32), 30)
    log.record(user_id=1, chat_type="private", question=ASKED, answered=False, reason="related",
               top_article=VISITS[1], top_issue=VISITS[0], score=0.3, latency_ms=5.0)  # fmt: skip
    log.flush()
    log.close()
    link = re.search(r'href="(/correct\?[^"]+)">纠正</a>', staff.get("/questions").text).group(1)
    assert f'value="{visits}"' in staff.get(link.replace("&amp;", "&")).text


def test_the_record_lists_flagged_corrections_first_and_removal_needs_a_confirmation(app, staff, data_dir, visits):
    token = csrf_of(staff.get("/try").text)
    staff.post("/correct", data={"csrf": token, "q": "狂犬疫苗在哪打", "action": "not_covered"})
    staff.post("/correct", data={"csrf": token, "q": ASKED, "article": visits, "sentence": "1", "action": "pin"})
    admin = client_of(app, ADMIN, ADMIN_PASSWORD)
    admin.post("/issues/remove", data={"csrf": csrf_of(admin.get("/").text), "issue": VISITS[0]})
    listing = text_of(staff.get("/corrections").text)
    assert listing.index(ASKED) < listing.index("狂犬疫苗在哪打")  # the flagged one first, with why
    assert f"待复核：article {visits} is not in index version" in listing
    pinned = next(c for c in stored(data_dir) if c.kind == "pinned")
    confirm = staff.get(f"/corrections/remove?id={pinned.id}")
    assert "请确认" in confirm.text and len(stored(data_dir)) == 2  # asking changes nothing
    done = staff.post("/corrections/remove", data={"csrf": csrf_of(confirm.text), "id": str(pinned.id)})
    assert f"已删除纠正 #{pinned.id}" in done.text and [c.kind for c in stored(data_dir)] == ["not_covered"]
    assert audit_rows(app)[0][:2] == (STAFF, "correction remove")
    again = staff.post("/corrections/remove", data={"csrf": csrf_of(confirm.text), "id": str(pinned.id)})
    assert again.status_code == 400 and f"correction {pinned.id}: no such active correction" in again.text
