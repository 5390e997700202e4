"""The optional judge: an LLM that may choose the sentences to quote among the answering stage's candidates.

Any failure falls back to the offline decision. May import: bot.answering, bot.settings, bot.tuning, index.
"""
