"""Evaluation and fitting: the question sets scored, and the tuned numbers fitted.

May import: bot.engine, bot.following, bot.judge, bot.replies, bot.answering, bot.settings, bot.tuning, index.
"""
