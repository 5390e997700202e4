"""The Telegram transport: the Application, its handlers, pages, buttons and admin commands.

Handlers parse, call plain code and reply. May import: bot.engine, bot.following, bot.log, bot.replies,
bot.judge, bot.answering, bot.running, bot.sqlite_files, bot.settings, bot.tuning, index.
"""
