"""`python -m bot.cli`: the same command as `bulletin-bot`."""

import sys

from bot.cli import main

if __name__ == "__main__":  # importing the module (as tests/test_layout.py does) runs nothing
    sys.exit(main())
