"""One lint path: the indexer, `kb lint` and the editor report the same problems for the same files.

The editor used to check a saved article's links against that article alone, so every link to another
article was "missing": the two sample articles below are the cases from issue 21.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from kb.articles import frontmatter, source as article_source
from tests.support import ROOT, accounts_at, article, index_runner, write_tree


def problems_of(problems) -> list[tuple]:
    return [(p.line, p.severity, p.code, p.message) for p in problems]


def writer_token(app) -> dict:
    accounts = accounts_at(Path(app.config["INDEX"]) / "activity.sqlite")
    return {"Authorization": "Bearer " + accounts.add_token(f"ci-{secrets.token_hex(4)}", role="writer")}


@pytest.fixture(scope="module")
def sample_folder():
    return article_source.Folder(ROOT / "articles")


@pytest.mark.parametrize("article_id, lang", [("billing-invoices", "en"), ("billing-invoices", "zh"),
                                              ("cdn-prefetch", "en")])
def test_the_editor_checks_links_against_the_whole_knowledge_base(sample_folder, article_id, lang):
    src = sample_folder.read(article_id, lang)
    _article, problems = sample_folder.lint(src.text, src.rel, article_id, lang)
    assert problems_of(problems) == []


def test_the_editing_api_returns_no_false_warnings_for_cdn_prefetch(edit_app, kb_copy):
    auth = writer_token(edit_app)
    client = edit_app.test_client()
    url = "/api/articles/cdn-prefetch/en/source"
    got = client.get(url, headers=auth).get_json()
    r = client.put(url, data=got["source"].encode(), content_type="text/markdown; charset=utf-8",
                   headers={**auth, "If-Match": got["etag"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["warnings"] == []
    edit_app.extensions["polykb"]["reindexer"].wait(int(r.get_json()["index"].rsplit("/", 1)[1]))


# --- the three paths agree ------------------------------------------------------------------------

BROKEN_KB = {
    "cdn/purge.en.md": article("cdn-purge", "en", "Purge", """
        Purge a URL, or [prefetch](cdn-prefetch) it after.

        ## Limits
        10,000 URLs a day.
        """, product="cdn"),
    "cdn/prefetch.en.md": article("cdn-prefetch", "en", "Prefetch", """
        Warm the cache. See [the limits](cdn-purge#limits), [nowhere](cdn-purge#nowhere), [gone](no-such-article),
        [a path](../cdn/purge.en.md), [the runbook](ops-runbook) and ![diagram](img/missing.png).
        """, product="cdn"),
    "ops/runbook.en.md": article("ops-runbook", "en", "Runbook", "Internal steps; see [purge](cdn-purge).",
                                 visibility="internal"),
    "cdn/stray-copy.en.md": article("cdn-purge", "en", "Purge again", "A stray copy of the purge article."),
    "cdn/owned-by-nobody.en.md": "---\nid: cdn-nobody\nlang: en\ncolour: blue\n---\nText with no owner.\n",
    "cdn/bad-date.en.md": article("cdn-bad-date", "en", "Bad date", "Text.", reviewed="someday"),
    "cdn/brackets.en.md": article("cdn-brackets", "en", "Brackets", "[" * 1200),
    "cdn/no-front-matter.en.md": "Just text, no front matter.\n",
}


def as_rows(problems) -> list[tuple]:
    return sorted((p["path"], p["line"], p["severity"], p["code"], p["message"], json.dumps(p["facts"], sort_keys=True))
                  for p in problems)


def test_the_indexer_kb_lint_and_the_editor_report_the_same_problems(make_fake_index, fake_default_model):
    from cli.main import cli
    from click.testing import CliRunner
    from web import create_app

    articles, index, summary = make_fake_index(BROKEN_KB)
    indexer = as_rows({"path": p.path, "line": p.line, "severity": p.severity, "code": p.code, "message": p.message,
                       "facts": p.facts} for p in summary.skipped + summary.warnings)
    out = CliRunner().invoke(cli, ["lint", "--json", "--articles", str(articles)]).output
    kb_lint = as_rows(json.loads(line) for line in out.splitlines() if line.startswith("{"))
    assert kb_lint == indexer
    app = create_app({"TESTING": True, "INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "test-secret"})
    app.extensions["polykb"]["reindexer"].runner = index_runner(fake_default_model)
    auth, editor = writer_token(app), {}  # each file saved as it is, through the editing API
    for rel in sorted(BROKEN_KB):
        editor[rel] = saved_problems(app, auth, articles, rel)
    # the editor opens a file by its id and language: not one without them, nor the second file holding them
    assert [rel for rel, found in editor.items() if found is None] == ["cdn/no-front-matter.en.md",
                                                                        "cdn/stray-copy.en.md"]
    assert sorted(row for found in editor.values() if found for row in found) == [
        row for row in indexer if editor.get(row[0]) is not None]
    assert {row[3] for row in indexer} >= {"broken-link", "broken-anchor", "path-link", "internal-link", "broken-image",
                                           "duplicate", "invalid", "no-owner", "unknown-key", "unrenderable"}
    assert ("cdn/prefetch.en.md", 8, "warning", "broken-anchor", "link to missing section '#nowhere' in article "
            "'cdn-purge'", '{"anchor": "nowhere", "target": "cdn-purge"}') in indexer
    assert not [row for row in indexer if "#limits" in row[4]]


def saved_problems(app, auth, articles, rel) -> list[tuple] | None:
    """The problems the editing API reports when `rel` is saved as it is; None if the editor cannot open it."""
    key = frontmatter.key_of(articles / rel)
    if key is None:
        return None
    client = app.test_client()
    url = f"/api/articles/{key[0]}/{key[1]}/source"
    got = client.get(url, headers=auth).get_json()
    if got.get("path") != rel:
        return None
    r = client.put(url, data=got["source"].encode(), content_type="text/markdown; charset=utf-8",
                   headers={**auth, "If-Match": got["etag"]})
    body = r.get_json()
    if r.status_code == 200:
        app.extensions["polykb"]["reindexer"].wait(int(body["index"].rsplit("/", 1)[1]))
        return as_rows({"path": rel, **p} for p in body["warnings"])
    assert r.status_code == 400, body
    return as_rows({"path": rel, **p} for p in body["error"]["problems"] + body["error"]["warnings"])


def test_the_editor_sees_files_changed_since_its_last_save(tmp_path):
    root = write_tree(tmp_path / "articles", {
        "a.en.md": article("a", "en", "A", "See [b's steps](b#steps)."),
        "b.en.md": article("b", "en", "B", "## Setup\nText."),
    })
    folder = article_source.Folder(root)
    text = (root / "a.en.md").read_text()
    assert [p.code for p in folder.lint(text, "a.en.md", "a", "en")[1]] == ["broken-anchor"]
    (root / "b.en.md").write_text(article("b", "en", "B", "## Steps\nText."))  # same file, same size, new text
    assert folder.lint(text, "a.en.md", "a", "en")[1] == []
    (root / "b.en.md").unlink()
    assert [p.code for p in folder.lint(text, "a.en.md", "a", "en")[1]] == ["broken-link"]


def test_problem_facts_survive_the_index_and_an_older_generation_without_them_still_reads(tmp_path):
    from kb.articles.model import Problem
    from kb.index.store import Store, create

    create(tmp_path / "kb.sqlite").close()
    store = Store.open_write(tmp_path / "kb.sqlite")
    store.conn.execute("DROP TABLE problems")  # as a generation built before the facts column
    store.conn.execute("CREATE TABLE problems (path TEXT, line INTEGER, severity TEXT, message TEXT, code TEXT)")
    store.conn.execute("INSERT INTO problems VALUES ('a.en.md', 3, 'warning', 'old', 'broken-link')")
    assert store.problems() == [Problem("a.en.md", 3, "warning", "old", "broken-link", {})]
    new = Problem("a.en.md", 4, "warning", "link to missing section '#x' in article 'b'", "broken-anchor",
                  {"target": "b", "anchor": "x"})
    store.set_problems([new])  # an incremental build over the copied generation
    store.commit()
    assert Store.open_readonly(tmp_path / "kb.sqlite").problems() == [new]
