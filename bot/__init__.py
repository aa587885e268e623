"""The school social-media assistant: domain logic, and the shell that runs it (app, CLI, demo)."""

import os

# Opt in now to python-telegram-bot's coming durations as timedelta (RetryAfter.retry_after);
# our code reads both forms, and the opt-in silences PTB's deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")
