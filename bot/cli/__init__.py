"""The command line's commands, one concern a module; `python -m bot` (bot/__main__.py) parses and
dispatches. An entry point, so these may start the shell and name Telegram's errors."""
