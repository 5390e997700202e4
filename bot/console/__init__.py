"""The web console (`bulletin-bot web`): staff publish issues and read residents' questions, admins also
edit templates, manage accounts and roll the index back, in a browser, over the same data directory.

It drives the same IndexBuilder, preview, template check and Engine as the command line, which is the
only package that imports it. May import: bot.engine, bot.following, bot.log, bot.replies,
bot.answering, bot.running, bot.sqlite_files, bot.settings, bot.tuning, index (docs/architecture.md).
"""
