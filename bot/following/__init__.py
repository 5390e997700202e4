"""Following: residents' topics, the follow store, and the pushes a new issue plans.

May import: bot.engine, bot.replies, bot.answering, bot.sqlite_files, bot.settings, bot.tuning, index.
"""
