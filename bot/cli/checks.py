"""What every command checks first: the config's made-up example ids, and check-config itself."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.clock import Clock
from bot.config import Config, ConfigError, load_config
from bot.wording import plural
from storage.database import data_folder_problems

# config.example.toml's made-up ids. Started with, each would stay on the staff list until
# revoked (the config only adds people): a Head nobody is gets every alert, retried, then reported.
EXAMPLE_IDS = frozenset({111111111, 222222222, 333333333, 444444444})


def refuse_example_ids(config: Config) -> None:
    """Stop on any of the example's made-up ids left under [roles], naming each."""
    r = config.roles
    keys = (("head", r.head), ("deputy", r.deputy), ("slt", r.slt), ("admins", r.admins), ("office", r.office))
    problems = [
        f"roles.{key}: {user_id} is the example's made-up id; put that person's real Telegram id "
        "(python -m bot ids shows it) or take it out"
        for key, ids in keys
        for user_id in ids
        if user_id in EXAMPLE_IDS
    ]
    if problems:
        raise ConfigError(problems)


def check_config(config_path: Path) -> int:
    """The config's summary, then anything in the data folder that would stop the bot starting, and
    anything that would make tonight's backup fail."""
    from bot.backups import Backups

    config = load_config(config_path)
    refuse_example_ids(config)
    backups = Backups(config.backup, config.storage.data_dir, config.school.timezone, Clock())
    problems = data_folder_problems(config.storage.data_dir) + backups.problems()
    print(f"{config_path}: {plural(len(problems), 'problem')}, named at the end" if problems else f"{config_path}: OK")
    print(config.summary())
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
