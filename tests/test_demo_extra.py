"""The emulator and aiohttp are tooling for the demo and the tests: the bot runs without them.

A school installs the bot with ``pip install -e .``; aiohttp comes only with the ``demo``
and ``test`` extras. Each test runs Python with aiohttp (and the emulator) unimportable,
as on such an install.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A finder ahead of the others that finds no aiohttp, as on an install without the extras.
WITHOUT_AIOHTTP = """
import sys

class NoAiohttp:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] == 'aiohttp':
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoAiohttp())
"""


def run_without_aiohttp(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_AIOHTTP + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_module_of_the_bot_imports_without_aiohttp_or_the_emulator() -> None:
    code = """
import importlib, pkgutil
sys.modules['emulator'] = None
for package in ('bot', 'handlers', 'storage'):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + '.'):
        if module.name != 'bot.shell.demo':  # the demo subcommand loads it only when asked
            importlib.import_module(module.name)
print('imported')
"""
    result = run_without_aiohttp(code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_the_demo_without_its_extra_says_in_one_sentence_how_to_install_it() -> None:
    result = run_without_aiohttp("from bot.__main__ import main\nsys.exit(main(['demo']))")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ".[demo]" in lines[0], result.stderr
