"""Corrections by staff: a pinned article and sentences, "简报未涉及" (not covered), or "the given answer is right".

A stored correction answers its question and close paraphrases before the model decides (match.py), is
flagged for review instead of served once its article is removed or a newer issue may supersede it
(review.py), and is exported as labelled questions for `bulletin-bot fit` (export.py).

For a review page: `CorrectionStore(DATA_DIR / "corrections.sqlite")` (store.py) with `pin`, `not_covered`,
`confirm`, `remove`, `all` and `for_review`; `store.index_view().sentences(article_id)` numbers an article's
sentences as `pin` names them; a CorrectionError's message is the one line to show.

Fitting the matching threshold is in bot/evaluation/corrections_fit.py, the commands in
bot/cli/corrections.py. May import: bot.answering, bot.settings, bot.tuning, index (never the Telegram or
web code).
"""
