"""One source of truth for the lists of choices: report names, search modes, roles.

Each list is written once, where the core checks it (kb.reports.REPORTS, kb.search.request.MODES,
kb.storage.accounts.ROLES), and the CLI's choices, the writers' page and the web's role checks read it
from there, so a new report or role cannot be forgotten in one of them (issue 21).
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from cli.main import cli
from kb import reports
from kb.search.request import MODES
from kb.storage.accounts import EDITORS, ROLES, STAFF, TOKEN_ROLES
from tests.support import ROOT


def choices(command: click.Command, name: str) -> list[str]:
    param = next(p for p in command.params if p.name == name)
    return list(param.type.choices)


def command(*path: str) -> click.Command:
    found = cli
    for name in path:
        found = found.commands[name]
    return found


def test_kb_report_offers_the_registered_reports_and_formats():
    assert choices(command("report"), "name") == list(reports.REPORTS)
    assert choices(command("report"), "fmt") == list(reports.FORMATS)


def test_kb_search_and_eval_offer_the_search_modes_the_request_accepts():
    assert choices(command("search"), "mode") == list(MODES)
    assert choices(command("eval"), "modes") == list(MODES)


def test_kb_user_and_token_offer_the_roles_of_the_accounts():
    assert choices(command("user", "add"), "role") == list(ROLES)
    assert choices(command("token", "add"), "role") == list(TOKEN_ROLES)
    assert set(STAFF) | set(EDITORS) == set(ROLES) and set(TOKEN_ROLES) < set(ROLES)


def test_an_unknown_choice_names_the_registered_ones(runner):
    result = runner.invoke(cli, ["report", "nope"])
    assert result.exit_code == 2 and all(name in result.output for name in reports.REPORTS)


def test_the_writers_page_lists_every_registered_report_with_a_title(app):
    from web.blueprints import writers

    with app.test_request_context():
        assert writers.ORDER == tuple(reports.REPORTS) and list(writers._about()) == list(reports.REPORTS)


def literal_lists(path: Path):
    """(line, values) of every tuple, list or set of two or more string literals in a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) >= 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, {e.value for e in node.elts}


REGISTRIES = {"roles": set(ROLES), "search modes": set(MODES), "report names": set(reports.REPORTS) - {"missing"}}


@pytest.mark.parametrize("path", sorted(p for folder in ("cli", "web") for p in (ROOT / folder).rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_cli_and_web_write_no_list_of_roles_modes_or_reports_of_their_own(path):
    for line, values in literal_lists(path):
        for what, registry in REGISTRIES.items():
            where = f"{path.relative_to(ROOT)}:{line}"
            assert not values <= registry, f"{where} lists {what} {sorted(values)}: read them from the registry"
