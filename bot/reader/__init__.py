"""The local reader (README "The local reader"): a small instruct model reads the question and the quote
together, and a linear probe on its last hidden state, stacked with the offline probability, decides.

May import: bot.answering, bot.settings, bot.tuning, index."""
