"""Replies: a decided answer rendered as Telegram HTML through the sandboxed templates.

May import: bot.answering, bot.tuning, index.
"""
