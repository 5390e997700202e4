"""Answering: a resident's question in, a decided answer out.

Reads the message, retrieves candidate passages, picks the quote, weighs the evidence
and decides answer / related / none. May import: bot.tuning, index.
"""
