"""`python -m bot.cli`: the same command as `bulletin-bot`."""

import sys

from bot.cli import main

sys.exit(main())
