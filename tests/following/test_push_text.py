"""A push message is measured after HTML escaping: whatever the titles and sentences hold, every message
is at most Telegram's 4,096 characters and valid Telegram HTML, with every article numbered."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.following.push import MAX_HEADLINES, MAX_MATCHES, compose
from bot.following.topics import TopicMatch
from bot.replies.html_check import TELEGRAM_LIMIT, html_problem

SPECIAL = st.text(alphabet=st.sampled_from("<>&\"'医保a1 。"), min_size=1, max_size=400)


def matches_of(engine, texts: list[tuple[str, str]]) -> list[TopicMatch]:
    snapshot = engine.loaded.snapshot
    ids = list(snapshot.articles)[: len(texts)]
    return [
        TopicMatch("医保", article_id, title, date(2023, 2, 6), sentence, 0.9)
        for article_id, (title, sentence) in zip(ids, texts)
    ]


def test_titles_of_lt_and_sentences_of_amp_fit_one_message(engine):
    """11,267 characters after escaping before: Telegram would have refused it for every follower."""
    snapshot = engine.loaded.snapshot
    issue = next(iter(snapshot.issues))
    text, buttons = compose(engine, snapshot, issue, matches_of(engine, [("<" * 60, "&" * 160)] * MAX_MATCHES), True)
    assert len(text) <= TELEGRAM_LIMIT and html_problem(text) is None
    assert len(buttons) >= MAX_MATCHES and all(f"{i}." in text for i in range(1, MAX_MATCHES + 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(SPECIAL, SPECIAL), min_size=1, max_size=MAX_MATCHES))
def test_any_titles_and_sentences_give_a_valid_message_under_the_limit(engine, texts):
    snapshot = engine.loaded.snapshot
    issue = next(iter(snapshot.issues))
    text, buttons = compose(engine, snapshot, issue, matches_of(engine, texts), True)
    assert len(text) <= TELEGRAM_LIMIT and html_problem(text) is None
    assert len(buttons) <= MAX_MATCHES + MAX_HEADLINES
