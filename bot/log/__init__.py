"""The question log: what residents asked and what they were told, pseudonymised and masked.

May import: bot.answering, bot.sqlite_files, bot.tuning, index.
"""
