"""The layers point one way: no import cycle between modules, and no layer reaches up.

Reads the source with `ast` (imports inside functions count; `if TYPE_CHECKING:` blocks do
not, since they never run), so a new cycle or a domain module that starts talking Telegram
fails here, naming the modules, before it fails anywhere else.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "handlers", "emulator")

# (who, what it must not import): a module matches a prefix when it is it or lies under it.
DOMAIN_NEVER = ("telegram", "handlers", "bot.shell", "emulator")
STORAGE_NEVER = ("handlers", "bot.shell", "telegram")
ENTRY_POINTS = ("bot.__main__", "bot.cli")  # the command line starts the shell and names Telegram's errors


def module_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module under the packages, by dotted name (a package by its own name)."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, wherever it sits, skipping `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def import_statements(name: str, path: Path) -> list[tuple[str, ...]]:
    """What each import names: `from a import b` gives (a, a.b), since b may be a module or not."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, ...]] = []
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name,) for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        found.extend((base, f"{base}.{alias.name}") for alias in node.names)
    return found


def imported_names(name: str, path: Path) -> set[str]:
    return {imported for statement in import_statements(name, path) for imported in statement}


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules of these packages it imports (for `from a import b`, b if it is one)."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for statement in import_statements(name, path):
            known = [imported for imported in statement if imported in modules]
            if known:
                targets.add(known[-1])
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _under(name: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def breaches(root: Path) -> list[str]:
    """Every import that reaches up a layer, as "module imports name (forbidden: prefix)"."""
    found: list[str] = []
    for name, path in module_files(root).items():
        if _under(name, (*ENTRY_POINTS, "bot.shell")):
            continue
        never: tuple[str, ...]
        if _under(name, ("bot",)):
            never = DOMAIN_NEVER
        elif _under(name, ("storage",)):
            never = STORAGE_NEVER
        else:
            continue
        for statement in import_statements(name, path):
            hit = next(((imported, p) for imported in statement if (p := _under(imported, never))), None)
            if hit:
                found.append(f"{name} imports {hit[0]} (forbidden: {hit[1]})")
    return sorted(set(found))


def record_breaches(root: Path) -> list[str]:
    """Every import by which a record reaches the services or storage (which import the records)."""
    found = set()
    for name, path in module_files(root, ("bot",)).items():
        if not _under(name, ("bot.records",)):
            continue
        for statement in import_statements(name, path):
            hit = next((imported for imported in statement if _under(imported, ("bot.services", "storage"))), None)
            if hit:
                found.add(f"{name} imports {hit}")
    return sorted(found)


def test_no_import_cycle_between_modules() -> None:
    found = cycles(import_graph(ROOT))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_domain_and_storage_never_reach_up_a_layer() -> None:
    found = breaches(ROOT)
    assert not found, "layer breaches:\n" + "\n".join(found)


def test_the_records_import_neither_services_nor_storage() -> None:
    found = record_breaches(ROOT)
    assert not found, "records reaching into services or storage:\n" + "\n".join(found)


def test_every_package_is_installed() -> None:
    """A package missing from pyproject.toml works from the checkout but not once installed."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {name for name, path in module_files(ROOT).items() if path.name == "__init__.py"}
    assert packages <= listed, f"add to [tool.setuptools] packages: {sorted(packages - listed)}"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_planted_cycle_is_found_and_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/records/__init__.py": "",
            "bot/records/thing.py": "from bot.services import Services\n",
            "bot/services.py": "def open():\n    from storage.things import Repo\n",
            "storage/__init__.py": "",
            "storage/things.py": "from bot.records import thing\n",
            "storage/plain.py": "from . import things\n",
        },
    )
    assert cycles(import_graph(tmp_path, ("bot", "storage"))) == [["bot.records.thing", "bot.services", "storage.things"]]


def test_a_cycle_only_under_type_checking_is_not_one(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.b import B\n",
            "bot/b.py": "from bot import a\n",
        },
    )
    assert import_graph(tmp_path, ("bot",)) == {"bot": set(), "bot.a": set(), "bot.b": {"bot.a"}}
    assert cycles(import_graph(tmp_path, ("bot",))) == []


def test_a_domain_module_talking_telegram_is_a_breach(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/thing.py": "def f():\n    from telegram import Bot\n",
            "bot/shell/__init__.py": "",
            "bot/shell/app.py": "import telegram\n",
            "storage/__init__.py": "",
            "storage/repo.py": "from handlers.common import h\n",
        },
    )
    assert breaches(tmp_path) == [
        "bot.thing imports telegram (forbidden: telegram)",
        "storage.repo imports handlers.common (forbidden: handlers)",
    ]


def test_a_record_that_imports_storage_is_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/records/__init__.py": "",
            "bot/records/things.py": "from storage.atomic import WriteFailed\n",
            "bot/records/other.py": "from bot import services\n",
        },
    )
    assert record_breaches(tmp_path) == ["bot.records.other imports bot.services", "bot.records.things imports storage.atomic"]
