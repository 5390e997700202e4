"""The LLM selector's choice turned into an Answer: the named sentences quoted verbatim, with the same
citations as an offline answer; the offline answer itself when the model's reply is unusable."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

from bot.answering.answer import Answer, AnswerPart, answer_part
from bot.answering.answerability import Outcome
from bot.answering.quote import article_sentences, quote_of
from bot.judge.selector import Numbered, Selection, Selector, SelectorError, number_sentences
from bot.tuning import JUDGE


def judged_answer(offline: Answer, selector: Selector, max_chars: int, today: date) -> Answer:
    """Ask the selector to choose among the top candidates' sentences (the offline answer has been decided
    already, so a failure costs nothing but the wait, at most BULLETIN_LLM_TIMEOUT)."""
    numbered = shown_sentences(offline)
    if not numbered:  # an empty question or no match: nothing to choose from
        return offline
    try:
        selection = selector.select(offline.question, numbered)
    except SelectorError:  # logged and counted by the selector
        return replace(offline, path="llm-fallback", prompt_version=selector.prompt.version)
    return chosen_answer(offline, selection, selector, max_chars, today)


async def judged_answer_async(offline: Answer, selector: Selector, max_chars: int, today: date) -> Answer:
    """As `judged_answer`, for the bot: the wait is on the event loop, the quoting in a worker thread."""
    numbered = shown_sentences(offline)
    if not numbered:
        return offline
    try:
        selection = await selector.select_async(offline.question, numbered)
    except SelectorError:
        return replace(offline, path="llm-fallback", prompt_version=selector.prompt.version)
    return await asyncio.to_thread(chosen_answer, offline, selection, selector, max_chars, today)


def shown_sentences(offline: Answer) -> list[Numbered]:
    """The numbered sentences of the top candidates, as the model is shown them."""
    return number_sentences(sorted(offline.candidates, key=lambda c: -c.probability)[: JUDGE.articles])


def chosen_answer(offline: Answer, selection: Selection, selector: Selector, max_chars: int, today: date) -> Answer:
    """The answer quoting the selection, marked with the prompt version that made it."""
    answer = selection_answer(offline, selection, max_chars, today)
    answer.prompt_version = selector.prompt.version
    return answer


def selection_answer(offline: Answer, selection: Selection, max_chars: int, today: date) -> Answer:
    """The Answer quoting exactly the selected sentences: "answer", "related" when the model says the question
    asks something they do not state, or the no-answer reply when it chose none."""
    if not selection.chosen:
        return replace(
            offline,
            path="llm",
            outcome="none",
            reason="not_stated",
            parts=[],
            age_days=None,
        )
    parts = _parts(offline, selection, max_chars)
    quoted = {p.article_id for p in parts}
    outcome: Outcome = "related" if selection.unstated else "answer"
    return replace(
        offline,
        path="llm",
        outcome=outcome,
        reason="related" if selection.unstated else "answered",
        confidence=parts[0].probability,
        parts=parts,
        related=[p for p in offline.related if p.article_id not in quoted] if outcome == "answer" else [],
        ranked_ids=[p.article_id for p in parts] + [a for a in offline.ranked_ids if a not in quoted],
        age_days=(today - max(p.issue_date for p in parts)).days,
    )


def _parts(offline: Answer, selection: Selection, max_chars: int) -> list[AnswerPart]:
    """One part per article, in the order the model named them; each within the answer's budget."""
    by_article: dict[str, list[int]] = {}
    candidates = {}
    for n in selection.chosen:
        article_id = n.candidate.hit.article.article_id
        by_article.setdefault(article_id, []).append(n.sentence.index)
        candidates[article_id] = n.candidate
    budget = max_chars if len(by_article) == 1 else 2 * max_chars // (len(by_article) + 1)
    parts = []
    for article_id, chosen in by_article.items():
        candidate = candidates[article_id]
        sentences = article_sentences(candidate.hit.article.body)
        parts.append(answer_part(candidate, quote_of(sentences, chosen, budget), offline.asked))
    return parts
