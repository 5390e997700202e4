"""Staff corrections over a real index of the bundled bulletins, a real SQLite file and the real embedder:
pinned sentences answer a paraphrase, not a neighbouring question; "not covered" gives the no-answer reply;
a removed or superseded article is flagged, not served; export reads back as labelled questions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.answering.message import MAX_QUESTION_CHARS
from bot.cli import main
from bot.corrections.store import FILE_NAME, CorrectionError, CorrectionStore
from bot.evaluation.evaluate import article_keys, load_questions
from index.builder import IndexBuilder
from index.store import IndexStore

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES, REPO

VISITS = ("2023-03-13", "全区养老机构恢复常态化探视 无需预约和检测")  # sentence 1: no appointment needed
LIBRARY = ("2023-02-20", "区图书馆2月21日起延长开放时间")
TODAY = date(2023, 3, 20)


def article_id(engine, key):
    return article_keys(engine.loaded.snapshot)[key]


@pytest.fixture
def store(engine, data_dir):
    """The corrections file as the console or CLI writes it: another handle than the engine's."""
    corrections = CorrectionStore(data_dir / FILE_NAME)
    yield corrections
    corrections.close()


def test_pin_answers_a_paraphrase_with_its_sentences_and_not_a_neighbouring_question(engine, store):
    visits = article_id(engine, VISITS)
    before = engine.ask("养老院看老人还用提前预约吗", TODAY)
    assert before.path == "offline"
    pinned = store.pin("养老院现在去看老人还得提前预约不", visits, [1], "staff1")
    assert pinned.sentences == (engine.loaded.view.sentences(visits)[1].text,)

    paraphrase = engine.ask("养老院看老人还用提前预约吗", TODAY)  # no restart: the store's version changed
    assert (paraphrase.path, paraphrase.outcome) == ("correction", "answer")
    assert [p.sentences for p in paraphrase.parts] == [list(pinned.sentences)]
    reply = engine.render(paraphrase)
    assert pinned.sentences[0] in reply and "《全区养老机构恢复常态化探视 无需预约和检测》" in reply
    assert "2023-03-13" in reply

    neighbour = engine.ask("去养老院看老人一次最多去几个人", TODAY)  # same article, another fact (cosine 0.66)
    assert neighbour.path == "offline"


def test_not_covered_gives_the_no_answer_reply_to_a_paraphrase(engine, store):
    store.not_covered("狂犬疫苗在哪打", "staff1")
    answer = engine.ask("被狗咬了，狂犬疫苗在哪打", TODAY)
    assert (answer.path, answer.outcome, answer.parts) == ("correction", "none", [])
    assert "没有找到" in engine.render(answer)
    assert engine.ask("新冠疫苗在哪打", TODAY).path == "offline"


def test_ask_json_says_a_correction_answered(engine, store, capsys):
    store.pin("养老院现在去看老人还得提前预约不", article_id(engine, VISITS), [1], "staff1")
    assert main(["ask", "--json", "养老院看老人还用提前预约吗"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["path"] == "correction" and reply["sources"][0]["title"] == VISITS[1]


def test_removed_article_is_flagged_and_not_served_until_rolled_back(engine, store, data_dir, embedder):
    pinned = store.pin("养老院现在去看老人还得提前预约不", article_id(engine, VISITS), [1], "staff1")
    builder = IndexBuilder(IndexStore(data_dir, KEEP_VERSIONS), embedder, MAX_FILE_BYTES)
    builder.remove("2023-03-13")
    engine.reload_index()
    assert engine.ask("养老院看老人还用提前预约吗", TODAY).path != "correction"
    flagged = store.for_review(engine.loaded.view)
    assert [c.id for c in flagged] == [pinned.id] and "removed" in flagged[0].review

    builder.rollback()
    engine.reload_index()
    assert engine.ask("养老院看老人还用提前预约吗", TODAY).path == "correction"
    assert store.for_review(engine.loaded.view) == []


def test_newer_issue_on_the_topic_flags_the_pin_for_review(engine, store, data_dir, embedder):
    library = store.pin("图书馆晚上开到几点", article_id(engine, LIBRARY), [0], "staff1")
    store.pin("养老院现在去看老人还得提前预约不", article_id(engine, VISITS), [1], "staff1")
    assert engine.ask("图书馆晚上开到几点？周末呢", TODAY).path == "correction"
    newer = REPO / "samples" / "eval" / "holdout" / "2023-04-10.txt"
    IndexBuilder(IndexStore(data_dir, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).add([newer])
    engine.reload_index()
    flagged = store.for_review(engine.loaded.view)
    assert [c.id for c in flagged] == [library.id]  # the visits pin has no newer article on its topic
    assert "区图书馆4月11日起执行夏季开放时间" in flagged[0].review
    assert engine.ask("图书馆晚上开到几点？周末呢", TODAY).path != "correction"
    assert engine.ask("养老院看老人还用提前预约吗", TODAY).path == "correction"


def test_export_reads_back_as_labelled_questions(engine, store, tmp_path, capsys):
    visits = article_id(engine, VISITS)
    store.pin("养老院现在去看老人还得提前预约不", visits, [1], "staff1")
    store.not_covered("狂犬疫苗在哪打", "staff1")
    store.confirm("城区过年能放鞭炮吗", article_id(engine, ("2023-01-09", "春节期间城区禁止燃放烟花爆竹")), "staff2")
    out = tmp_path / "corrections.jsonl"
    assert main(["corrections", "export", str(out)]) == 0
    assert "3 labelled questions" in capsys.readouterr().out
    questions = load_questions(out)
    keys = article_keys(engine.loaded.snapshot)
    pin, uncovered, confirmed = questions
    assert keys[pin.gold[0]] == visits and pin.split == "tune"
    assert pin.must_contain == [engine.loaded.view.sentences(visits)[1].text]
    assert uncovered.gold == [] and uncovered.question == "狂犬疫苗在哪打"
    assert keys[confirmed.gold[0]] and confirmed.must_contain == []

    assert main(["corrections", "list"]) == 0
    listing = capsys.readouterr().out
    assert "养老院现在去看老人还得提前预约不" in listing and "简报未涉及" in listing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pin", "医保能在网上办吗", "--article", "0000000000000000", "--sentences", "0"], "is not in index version"),
        (["pin", "医保能在网上办吗", "--article", "{visits}", "--sentences", "0,99"], "sentence 99 is out of range"),
        (["pin", "医保能在网上办吗", "--article", "{visits}", "--sentences", "一"], "give sentence numbers"),
        (["not-covered", "   "], "the question is empty"),
        (["not-covered", "问" * (MAX_QUESTION_CHARS + 1)], f"at most {MAX_QUESTION_CHARS}"),
        (["remove", "12345"], "no such active correction"),
    ],
)
def test_bad_input_gets_one_line_and_stores_nothing(engine, store, capsys, args, message):
    args = [a.replace("{visits}", article_id(engine, VISITS)) for a in args]
    assert main(["corrections", *args, "--user", "staff1"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: correction") and err.count("\n") == 1
    assert store.all() == [] and store.version() == 0


def test_store_refuses_bad_sentences_directly(engine, store):
    visits = article_id(engine, VISITS)
    with pytest.raises(CorrectionError, match="at least one sentence"):
        store.pin("养老院要预约吗", visits, [], "staff1")
    with pytest.raises(CorrectionError, match="out of range"):
        store.pin("养老院要预约吗", visits, [-1], "staff1")
    with pytest.raises(CorrectionError, match="out of range"):
        store.pin("养老院要预约吗", visits, [True], "staff1")  # type: ignore[list-item]
    assert store.all() == []


def test_a_new_correction_of_the_same_question_replaces_the_old_one_and_removal_keeps_the_row(engine, store):
    visits = article_id(engine, VISITS)
    first = store.pin("养老院要预约吗", visits, [1], "staff1")
    second = store.not_covered("养老院要预约吗？", "staff2")
    assert [c.id for c in store.all()] == [second.id] and first.id != second.id
    store.remove(second.id, "admin")
    assert store.all() == []
    assert engine.ask("养老院要预约吗", TODAY).path != "correction"
    rows = store._db.execute("SELECT id, removed_by FROM corrections ORDER BY id").fetchall()
    assert rows == [(first.id, "staff2"), (second.id, "admin")]


async def test_running_bot_answers_from_a_new_pin_and_logs_path_correction(bot, fake_api, data_dir):
    import asyncio
    import sqlite3

    from fake_telegram import message

    store = CorrectionStore(data_dir / FILE_NAME)  # as the console writes it, while the bot runs
    visits = article_id(bot.engine, VISITS)
    pinned = store.pin("养老院现在去看老人还得提前预约不", visits, [1], "staff1")
    store.close()
    fake_api.push(message("养老院看老人还用提前预约吗", 301))
    reply = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 301))[0]
    assert pinned.sentences[0] in reply["text"] and f"《{VISITS[1]}》" in reply["text"]
    assert [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row] == ["原文", "👍", "👎"]
    bot.log.flush()
    db = sqlite3.connect(data_dir / "questions.sqlite")
    assert db.execute("SELECT question, answered, path FROM questions").fetchall() == [
        ("养老院看老人还用提前预约吗", 1, "correction")
    ]
    db.close()


def test_a_question_is_embedded_once_with_corrections_to_match(engine, store, monkeypatch):
    store.not_covered("狂犬疫苗在哪打", "staff1")
    engine.ask("图书馆周一开门吗", TODAY)  # the correction's vector is made on the first question
    model = engine.embedder._model
    calls = []
    original = model.encode
    monkeypatch.setattr(model, "encode", lambda texts, **kw: calls.append(list(texts)) or original(texts, **kw))
    answer = engine.ask("区医院发热门诊在哪", TODAY)
    assert answer.path == "offline"
    assert calls.count(["区医院发热门诊在哪"]) == 1  # the matcher's vector serves the retriever too


def test_eval_measures_the_model_not_the_corrections(engine, store, tmp_path):
    from bot.evaluation.evaluate import run_eval

    store.not_covered("城区过年能放鞭炮吗", "staff1")  # a wrong label: the bulletins do answer it
    assert engine.ask("城区过年能放鞭炮吗", TODAY).path == "correction"
    questions = tmp_path / "q.jsonl"
    gold = {"issue": "2023-01-09.txt", "title": "春节期间城区禁止燃放烟花爆竹"}
    questions.write_text(
        json.dumps({"id": "x1", "question": "城区过年能放鞭炮吗", "kind": "lookup", "gold": [gold], "must_contain": []})
        + "\n",
        encoding="utf-8",
    )
    overall = next(r for r in run_eval(engine, questions, TODAY) if r.group == "all")
    assert overall.right_answer == 1.0


def test_fit_labels_paraphrases_right_and_neighbours_wrong(engine, embedder, tmp_path):
    from bot.evaluation.corrections_fit import figures, labelled

    gold = [{"issue": "2023-03-13.txt", "title": VISITS[1]}]
    rows = [
        ("v1", "养老院现在去看老人还得提前预约不", gold, ["不再需要提前预约"]),
        ("v2", "养老院看老人还用提前预约吗", gold, ["不再需要提前预约"]),  # a paraphrase (cosine 0.92)
        ("v3", "去养老院看老人一次最多去几个人", gold, ["不超过3人"]),  # another sentence of the article
        ("o1", "狂犬疫苗在哪打", [], []),
    ]
    path = tmp_path / "q.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": i, "question": q, "kind": "-", "gold": g, "must_contain": m}, ensure_ascii=False) + "\n"
            for i, q, g, m in rows
        ),
        encoding="utf-8",
    )
    questions = labelled(engine.loaded.view, path)
    at = {f.threshold: f for f in figures(questions, embedder.encode([q.text for q in questions]))}[0.83]
    # v1↔v2 right; v1/v2→v3 and v3→v1/v2 neighbours; each pin → o1 and o1 (not covered) → each pin's question wrong
    assert (at.right_pairs, at.neighbour_pairs, at.wrong_pairs) == (2, 4, 10)
    assert (at.right_served, at.wrong_served) == (2, 0)


def test_an_unreadable_corrections_file_leaves_the_model_answering(engine, data_dir, caplog):
    (data_dir / FILE_NAME).write_bytes(b"not a database" * 100)
    answer = engine.ask("城区过年能放鞭炮吗", TODAY)
    assert (answer.path, answer.outcome) == ("offline", "answer")
    engine.ask("养老院看老人还用提前预约吗", TODAY)
    assert caplog.text.count("corrections not served") == 1  # said once, not per question
    assert main(["corrections", "list"]) == 1  # staff are told, in one line


def test_a_stored_question_has_personal_numbers_masked_as_in_the_question_log(engine, store, data_dir):
    stored = store.not_covered("我的手机13812345678办的卡丢了咋补", "staff1")
    assert "13812345678" not in stored.question
    files = list(data_dir.glob(f"{FILE_NAME}*"))  # the file and its write-ahead log
    assert len(files) >= 2 and all(b"13812345678" not in f.read_bytes() for f in files)


def test_a_locked_file_refuses_the_correction_in_one_line_and_loses_nothing(engine, data_dir):
    import sqlite3

    first = CorrectionStore(data_dir / FILE_NAME, busy_timeout=0.2)
    kept = first.not_covered("狂犬疫苗在哪打", "staff1")
    other = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    with pytest.raises(CorrectionError, match="correction not stored .*locked.*try again"):
        first.not_covered("低保咋申请", "staff1")
    other.execute("ROLLBACK")
    other.close()
    assert [c.id for c in first.all()] == [kept.id] and first.version() == 1
    assert first.not_covered("低保咋申请", "staff1").id != kept.id and first.version() == 2
    first.close()


def test_staff_find_the_article_and_its_numbered_sentences_from_the_terminal(engine, capsys):
    visits = article_id(engine, VISITS)
    assert main(["corrections", "articles", "养老机构"]) == 0
    assert f"{visits}  2023-03-13  {VISITS[1]}" in capsys.readouterr().out
    assert main(["corrections", "sentences", visits]) == 0
    out = capsys.readouterr().out
    assert "  1  调整后，家属探视不再需要提前预约" in out
    assert main(["corrections", "sentences", "0000000000000000"]) == 1
