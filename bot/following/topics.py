"""Topics residents follow, matched to articles by meaning: a topic is searched like a question, each
article of a new issue is quoted and weighed by the answerability model (bot/answering/answer.py's decision),
and it matches when that probability reaches TOPICS.min_probability (bot/tuning.py). So "医保" matches
城乡居民医疗保险缴费 notices and not a story that names 医保 once in passing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from bot.answering.answerability import AnswerModel
from bot.answering.candidates import QuestionContext, weigh
from bot.answering.evidence import PLACE_SUFFIX, dictionary_tags, informativeness
from bot.answering.message import clean_question
from bot.answering.retrieve import HybridRetriever
from bot.tuning import TOPICS
from index.normalize import has_content, normalize_text
from index.store import Snapshot

NOUN_TAGS = frozenset({"n", "nz", "j"})  # jieba's common noun, other proper noun, abbreviation (医保)


@dataclass(frozen=True)
class TopicMatch:
    """One article weighed for a topic."""

    topic: str
    article_id: str
    title: str
    issue_date: date
    sentence: str  # the quote chosen for the topic: the sentence(s) that matched
    probability: float

    @property
    def matched(self) -> bool:
        return self.probability >= TOPICS.min_probability


def weigh_topic(retriever: HybridRetriever, model: AnswerModel, topic: str, article_ids: list[str]) -> list[TopicMatch]:
    """Each given article weighed for a topic as for a question (searched over the whole index, so the
    evidence is relative to the best match anywhere). One topic at a time: a push matches all followed
    topics at once (bot/following/topic_batch.py), with the same results."""
    cleaned = clean_question(topic)
    if not has_content(cleaned) or not article_ids:
        return []
    return weigh_searched(model, QuestionContext.ask(retriever, cleaned, TOPICS.quote_chars), topic, article_ids)


def weigh_searched(model: AnswerModel, q: QuestionContext, topic: str, article_ids: list[str]) -> list[TopicMatch]:
    """The given articles weighed for a topic already searched (`q`)."""
    hits = q.retriever.article_hits(q.retrieval, article_ids)
    out = []
    for candidate in weigh(q, hits, model.sentence.scores):
        article = candidate.hit.article
        out.append(
            TopicMatch(
                topic,
                article.article_id,
                article.title,
                candidate.hit.issue_date,
                candidate.quote.text,
                round(model.probability(candidate.evidence), 4),
            )
        )
    return out


def match_topics(
    retriever: HybridRetriever, model: AnswerModel, topics: list[str], article_ids: list[str]
) -> dict[str, list[TopicMatch]]:
    """topic → the given articles it matches, in article order (one topic at a time: the reference the
    batched matching of bot/following/topic_batch.py is tested against)."""
    return {t: [m for m in weigh_topic(retriever, model, t, article_ids) if m.matched] for t in topics}


def issue_articles(snapshot: Snapshot, issue_id: str) -> list[str]:
    """An issue's article ids in their order in the bulletin."""
    articles = [a for a in snapshot.articles.values() if a.issue_id == issue_id]
    return [a.article_id for a in sorted(articles, key=lambda a: a.position)]


def common_topics(snapshot: Snapshot, limit: int = TOPICS.keyboard_size) -> list[str]:
    """The subjects most titles share (医保, 核酸, 疫苗…), for the /follow keyboard: nouns of two or more
    characters, counted once per title, that are specific in general Chinese (not 群众, 时间) and not
    place names (全区, 社区), used by at least TOPICS.keyboard_min_titles titles."""
    import jieba

    titles = [set(jieba.lcut(normalize_text(a.title))) for a in snapshot.articles.values()]
    nouns = {w for w, tag in dictionary_tags(set().union(*titles)).items() if tag in NOUN_TAGS}
    counts: Counter[str] = Counter()
    for words in titles:
        counts.update(w for w in words if len(w) >= 2 and w in nouns and not PLACE_SUFFIX.fullmatch(w))
    wanted = [w for w, n in counts.most_common() if n >= TOPICS.keyboard_min_titles]
    return [w for w in wanted if informativeness(w) >= TOPICS.keyboard_min_info][:limit]
