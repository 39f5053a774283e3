"""Convention tests: the import rules written in kb/README.md hold."""

import ast
import re
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


def imports_full(path: Path, runtime_only: bool = False) -> set[str]:
    """Every module a file imports, dotted in full (`from web.blueprints import api` gives web.blueprints.api);
    `runtime_only` leaves out `if TYPE_CHECKING:` blocks, which are for type checkers only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if runtime_only and isinstance(node, ast.If) and
               getattr(node.test, "id", "") == "TYPE_CHECKING" for body in node.body for n in ast.walk(body)}
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
    "learning": {"storage", "embeddings", "text", "errors"},
    "importing": {"articles", "text", "errors"},
    "reports": {"search", "index", "articles", "text", "embeddings", "storage", "contact", "errors"},
}


def kb_folder(module: str) -> str | None:
    """The folder of kb/ a dotted module lives in (`kb.search.fusion` → search), None for kb itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "kb" and len(parts) > 1 else None


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
    used = {kb_folder(m) for m in imports_full(path, runtime_only=True)} - {None}
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


# --- declared settings (kb/settings.py) ----------------------------------------------------------------------------

# KB_ names in the code that are not settings polykb reads, and why.
NOT_SETTINGS = {
    "KB_TEST_SAMPLE_INDEX": "the test suite's (and bench's) prebuilt sample index, tests/conftest.py",
    "KB_REQUIRE_SERVERS": "the test suite's: a missing server fails its tests instead of skipping them (.ci/run "
                          "sets it), tests/support.py",
    "KB_LANGS": "a Python name in bench/answers_fit.py",
    "KB_RATELIMIT_SERACH": "misspelt on purpose: tests/test_settings.py checks that it is reported",
}
CODE_FOLDERS = ("kb", "web", "cli", "indexer", "demo", "deploy", "bench", "tests")
CODE_SUFFIXES = {".py", ".sh", ".env", ".service", ".timer", ".conf", ".html", ".js", ".toml"}
ENV_NAME = re.compile(r"\bKB_[A-Z0-9]+(?:_[A-Z0-9]+)*")
README_TABLE = re.compile(r"<!-- settings:[^\n]*-->\n(.*?)\n<!-- /settings -->", re.S)


def kb_names_in_code() -> dict[str, str]:
    """Every KB_* name in the code and the deployment files, with one file it appears in."""
    files = [ROOT / "Makefile"] + [p for folder in CODE_FOLDERS for p in (ROOT / folder).rglob("*")
                                   if p.suffix in CODE_SUFFIXES and not any(part.startswith(".") for part in
                                                                            p.relative_to(ROOT).parts)]
    found = {}
    for path in files:
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_kb_variable_the_code_names_is_a_declared_setting():
    from kb.settings import BY_NAME, PREFIX

    found = kb_names_in_code()
    undeclared = {name: where for name, where in found.items()
                  if name.removeprefix(PREFIX) not in BY_NAME and name not in NOT_SETTINGS}
    assert not undeclared, f"declare these in kb/settings.py (or say in NOT_SETTINGS why not): {undeclared}"
    assert set(NOT_SETTINGS) <= set(found), f"no longer in the code: {set(NOT_SETTINGS) - set(found)}"


def test_readme_lists_every_setting_as_the_table_declares_it():
    from kb import settings

    block = README_TABLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert block, "README.md lost its <!-- settings: ... --> block"
    for s in settings.SETTINGS:
        assert f"`{s.env}`" in block.group(1), f"{s.env} is declared in kb/settings.py but not in README.md"
    assert block.group(1) == settings.markdown(), (
        "README.md's settings table differs from kb/settings.py; replace the block's body with the output of "
        "`.venv/bin/python -c 'from kb import settings; print(settings.markdown())'`")


def test_settings_import_only_the_modules_whose_values_they_parse():
    """kb/settings.py is read by every layer (storage, index, embeddings): it may import no layer that imports it."""
    used = {m for m in imports_full(ROOT / "kb" / "settings.py", runtime_only=True) if m.startswith("kb.")}
    assert used <= {"kb.errors", "kb.errors.ConfigError", "kb.index.format", "kb.index.format.KEEP_GENERATIONS",
                    "kb.search.budget", "kb.search.budget.Budget"}, used
