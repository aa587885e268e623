"""The README's "How the code is laid out" matches the tree: a package or module added, moved or
removed without the table following it fails here, naming what differs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "emulator")


def layout_rows() -> dict[str, str]:
    """Each row of the layout table: its folder (as written, e.g. "bot/records/") -> the row's text."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        found = re.match(r"\| `([\w/]+/)`(?:, `[\w/]+/`)* \| (.*) \|$", line)
        if found:
            rows[found.group(1)] = found.group(2)
    return rows


def packages() -> list[Path]:
    return sorted(p.parent for top in PACKAGES for p in (ROOT / top).rglob("__init__.py") if "build" not in p.parts)


def test_every_package_has_a_row_and_every_row_a_package() -> None:
    rows = layout_rows()
    folders = {f"{p.relative_to(ROOT).as_posix()}/" for p in packages()}
    assert folders - rows.keys() == set(), "packages the layout table does not describe"
    assert {row for row in rows if row not in folders and row != "tests/"} == set(), "rows naming no package"


def test_every_module_is_named_in_its_packages_row() -> None:
    rows = layout_rows()
    missing = []
    for package in packages():
        row = rows.get(f"{package.relative_to(ROOT).as_posix()}/", "")
        named = set(re.findall(r"`([\w./]+)`", row))
        for module in sorted(package.glob("*.py")):
            if module.stem in ("__init__", "__main__"):
                continue
            if not {module.stem, module.name} & named:
                missing.append(module.relative_to(ROOT).as_posix())
    assert missing == [], "modules the layout table does not name"


def test_every_file_the_table_names_exists() -> None:
    """`x.py` anywhere, and a bare `x` in a sub-package's row, must be a module that exists."""
    gone = []
    for folder, row in layout_rows().items():
        for name in re.findall(r"`([\w/]+\.py)`", row):
            if not ((ROOT / folder / name).exists() or (ROOT / name).exists()):
                gone.append(f"{folder}: {name}")
        if folder.count("/") > 1:  # bot/records/, handlers/consent/...: their rows name modules bare
            for name in re.findall(r"`([a-z_]+)`", row):
                if not (ROOT / folder / f"{name}.py").exists():
                    gone.append(f"{folder}: {name}")
    assert gone == [], "files the layout table names that are not in the tree"
