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


def imports_full(path: Path) -> set[str]:
    """Every module a file imports, dotted in full (`from web.blueprints import api` gives web.blueprints.api)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "kb").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_kb_never_imports_web_indexer_cli_or_flask(path):
    found = imports_of(path) & {"web", "indexer", "cli", "demo", "flask", "flask_babel"}
    assert not found, f"{path} imports {found}"


# Each folder of kb/ and what it may import from the others (kb/README.md): the layers, lowest first.
CONTRACTS = {
    "errors": set(),
    "text": {"errors"},
    "articles": {"text", "errors"},
    "embeddings": {"errors"},
    "storage": {"errors"},
    "index": {"articles", "text", "storage", "errors"},
    "search": {"index", "articles", "text", "embeddings", "errors"},
    "contact": {"storage", "errors"},
    "reports": {"search", "index", "articles", "text", "embeddings", "storage", "contact", "errors"},
}


def kb_folder(module: str) -> str | None:
    """The folder of kb/ a dotted module lives in (`kb.search.fusion` → search), None for kb itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "kb" and len(parts) > 1 else None


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time: `if TYPE_CHECKING:` blocks are for type checkers only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") ==
               "TYPE_CHECKING" for body in node.body for n in ast.walk(body)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_every_kb_folder_has_a_contract():
    folders = {p.name for p in (ROOT / "kb").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders | {"errors"} == set(CONTRACTS), "add the new folder to CONTRACTS and to kb/README.md"


@pytest.mark.parametrize("path", sorted((ROOT / "kb").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_kb_folders_import_only_the_layers_below_them(path):
    rel = path.relative_to(ROOT / "kb")
    if len(rel.parts) == 1:
        return  # kb/__init__.py (the version) and kb/errors.py import no other folder; the test above covers them
    own = rel.parts[0]
    allowed = CONTRACTS[own] | {own}
    used = {kb_folder(m) for m in runtime_imports(path)} - {None}
    used = {u for u in used if u in CONTRACTS or (ROOT / "kb" / u).is_dir()}
    assert used <= allowed, f"kb/{rel} imports {sorted(used - allowed)}; kb/{own} may import {sorted(allowed)}"


@pytest.mark.parametrize("path", sorted((ROOT / "indexer").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_indexer_never_imports_web(path):
    assert "web" not in imports_of(path)


def test_web_never_imports_indexer():
    for path in (ROOT / "web").rglob("*.py"):
        assert "indexer" not in imports_of(path), path


def test_blueprints_never_import_each_other():
    folder = ROOT / "web" / "blueprints"
    blueprints = {p.stem for p in folder.glob("*.py") if "Blueprint(" in p.read_text(encoding="utf-8")}
    assert blueprints, "no blueprint found in web/blueprints"
    for name in blueprints:
        found = {m.removeprefix("web.blueprints.") for m in imports_full(folder / f"{name}.py")}
        assert not found & (blueprints - {name}), (name, found & blueprints)


def test_every_cli_command_has_help_text():
    from cli.main import cli

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
