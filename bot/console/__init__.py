"""The web console (`bulletin-bot web`): staff publish issues and read residents' questions, admins also
edit templates, manage accounts and roll the index back, in a browser, over the same data directory.

It may import bot.* and index.* (it drives the same IndexBuilder, preview, template check and Engine as
the CLI); nothing outside bot/console/ imports it except the command line (bot/cli.py)."""
