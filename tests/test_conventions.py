"""Convention tests: the import rules written in kb/README.md hold."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def module_level_imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "kb").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_kb_never_imports_web_indexer_or_flask(path):
    found = module_level_imports_of(path) if path.stem == "cli" or path.stem.startswith("cli_") else imports_of(path)
    assert not found & {"web", "indexer", "flask", "flask_babel"}, f"{path} imports {found & {'web', 'indexer', 'flask'}}"


@pytest.mark.parametrize("path", sorted((ROOT / "indexer").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_indexer_never_imports_web(path):
    assert "web" not in imports_of(path)


def test_web_never_imports_indexer():
    for path in (ROOT / "web").rglob("*.py"):
        assert "indexer" not in imports_of(path), path


def test_blueprints_never_import_each_other():
    blueprints = {p.stem for p in (ROOT / "web").glob("*.py") if "Blueprint(" in p.read_text(encoding="utf-8")}
    for name in blueprints:
        src = (ROOT / "web" / f"{name}.py").read_text(encoding="utf-8")
        for other in blueprints - {name}:
            assert f"from .{other} import" not in src and f"from web.{other} import" not in src, (name, other)


def test_every_cli_command_has_help_text():
    from kb.cli import cli

    def walk(group):
        for cmd in group.commands.values():
            yield cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd)

    for cmd in walk(cli):
        assert cmd.help, f"`kb {cmd.name}` has no docstring"


def test_tests_import_helpers_one_way_and_never_conftest_a_test_module_or_star():
    """Fixtures come from tests/conftest.py, which pytest loads (importing it again makes a second module);
    helpers from `tests.support` and the like, always spelt from `tests.`, so each is one module object."""
    local = {p.stem for p in (ROOT / "tests").glob("*.py")}
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
                assert all(a.name != "*" for a in node.names), f"{path.name}: from {node.module} import *"
            else:
                continue
            for module in modules:
                name = module.removeprefix("tests.")
                assert name != "conftest" and not name.startswith("test_"), f"{path.name} imports {module}"
                assert module.startswith("tests.") or name.partition(".")[0] not in local, \
                    f"{path.name}: import {module}; write tests.{module}"
