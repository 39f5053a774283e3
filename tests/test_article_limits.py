"""What one saved article may cost every reader (issue #24): size and structure bounded at the save, in the
preview and in the indexer, each refusal naming its setting and the line."""

from __future__ import annotations

import pytest

from indexer import job
from kb.articles import limits as article_limits
from kb.articles.limits import Limits
from kb.search.searcher import Searcher
from tests.editing_support import client_as
from tests.support import SMALL_KB, article, write_tree

SMALL = Limits(max_bytes=2_000, max_headings=3, max_table_columns=4, max_references=5)
SOURCE = "/api/articles/cdn-purge-cache/en/source"


def codes(text: str, limits: Limits = SMALL) -> list[str]:
    return [p.code for p in article_limits.exceeded(text, "a.md", limits)]


def test_a_normal_article_is_within_every_limit():
    body = "## One\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nFish &amp; chips.\n\n## Two\n\nText\n---\n"
    assert codes(body) == []


@pytest.mark.parametrize("text, code, line, setting", [
    ("x" * 2_001, "too-large", 1, "KB_ARTICLE_MAX_BYTES"),
    ("# a\n## b\nc\n===\n### d\n", "too-many-headings", 5, "KB_ARTICLE_MAX_HEADINGS"),
    ("text\n| a | b | c | d | e |\n", "too-many-columns", 2, "KB_ARTICLE_MAX_TABLE_COLUMNS"),
    ("&#x41;&#65;&amp;\n&lt;&gt;&quot;\n", "too-many-references", 2, "KB_ARTICLE_MAX_REFERENCES"),
])
def test_each_limit_is_reported_at_the_line_it_is_first_exceeded(text, code, line, setting):
    [problem] = article_limits.exceeded(text, "a.md", SMALL, first_line=1)
    assert (problem.code, problem.line, problem.severity) == (code, line, "error")
    assert setting in problem.message


def test_table_cells_are_counted_over_every_table_of_the_article():
    """A 200 KB table of 64 columns (50,000 cells) rendered in 1 s, ten typical tickets (bench/request_cost.py)."""
    table = "| a | b | c |\n|---|---|---|\n" + "| 1 | 2 | 3 |\n" * 2
    assert codes(table + "\ntext\n\n" + table, Limits(max_table_cells=24)) == []
    [problem] = article_limits.exceeded(table + "\ntext\n\n" + table + "| 4 | 5 | 6 |\n", "a.md",
                                        Limits(max_table_cells=24))
    assert problem.code == "too-many-cells" and problem.line == 12 and "KB_ARTICLE_MAX_TABLE_CELLS" in problem.message


def test_headings_and_pipes_in_fenced_code_do_not_count():
    code = "```sh\n" + "# a comment\n" * 10 + "a | b | c | d | e | f\n```\n"
    assert codes(code) == []
    assert codes("~~~\n```\n# x\n~~~\n" + "# h\n" * 4) == ["too-many-headings"]  # the fence closed at ~~~


def test_the_limits_are_settings(monkeypatch):
    from kb import settings

    monkeypatch.setenv("KB_ARTICLE_MAX_HEADINGS", "7")
    assert Limits.of(settings.current()) == Limits(max_headings=7)
    assert Limits.of(settings.defaults()) == article_limits.DEFAULT


# --- the web: the editor, the API, the preview --------------------------------------------------------

@pytest.fixture
def api_writer(edit_app):
    client = client_as(edit_app, "writer")
    return client, client.get(SOURCE).get_json()


def test_a_put_over_the_size_limit_is_413_and_changes_nothing(api_writer, kb_copy):
    client, src = api_writer
    before = (kb_copy[0] / src["path"]).read_bytes()
    r = client.put(SOURCE, json={"source": src["source"] + "&#x41;" * 150_000}, headers={"If-Match": src["etag"]})
    assert r.status_code == 413 and "KB_ARTICLE_MAX_BYTES" in r.get_json()["error"]["message"]
    assert (kb_copy[0] / src["path"]).read_bytes() == before


@pytest.mark.parametrize("extra, setting", [
    ("\n" + "## h\n\n" * 501, "KB_ARTICLE_MAX_HEADINGS"),
    ("\n" + "|" + " a |" * 65 + "\n", "KB_ARTICLE_MAX_TABLE_COLUMNS"),
    ("\n" + "&#x41;" * 2_001 + "\n", "KB_ARTICLE_MAX_REFERENCES"),
])
def test_a_put_over_a_structure_limit_is_400_naming_it_and_the_line(api_writer, kb_copy, extra, setting):
    client, src = api_writer
    before = (kb_copy[0] / src["path"]).read_bytes()
    r = client.put(SOURCE, json={"source": src["source"] + extra}, headers={"If-Match": src["etag"]})
    error = r.get_json()["error"]
    assert r.status_code == 400 and setting in error["message"]
    assert error["problems"][0]["line"] > src["source"].count("\n")
    assert (kb_copy[0] / src["path"]).read_bytes() == before


def test_the_editor_form_refuses_the_same(edit_app, kb_copy):
    from tests.editing_support import form_of

    writer = client_as(edit_app, "writer")
    form = form_of(writer, "/writers/edit/cdn-purge-cache/en")
    form["body"] += "\n" + "x" * 200_001
    assert writer.post("/writers/edit/cdn-purge-cache/en", data=form).status_code == 413
    form["body"] = "## h\n\n" * 501
    r = writer.post("/writers/edit/cdn-purge-cache/en", data=form)
    assert r.status_code == 400 and "KB_ARTICLE_MAX_HEADINGS" in r.get_data(as_text=True)


@pytest.mark.parametrize("body, status, setting", [
    ("&#x41;" * 150_000, 413, "KB_ARTICLE_MAX_BYTES"),
    ("# h\n" * 20_000, 400, "KB_ARTICLE_MAX_HEADINGS"),
    ("|" + " a |" * 5_000, 400, "KB_ARTICLE_MAX_TABLE_COLUMNS"),
])
def test_the_preview_refuses_what_the_save_would_before_rendering(read_only_edit_app, monkeypatch, body, status,
                                                                  setting):
    from kb.articles import render
    from tests.support import csrf_token

    writer = client_as(read_only_edit_app, "writer")
    token = csrf_token(writer, "/writers/edit/new")
    monkeypatch.setattr(render, "render", lambda *a, **kw: pytest.fail("rendered an article over a limit"))
    r = writer.post("/writers/edit/preview", json={"body": body}, headers={"X-CSRFToken": token,
                                                                           "Accept": "application/json"})
    assert r.status_code == status and setting in r.get_json()["error"]["message"]


# --- the indexer ----------------------------------------------------------------------------------------

def test_the_indexer_skips_an_article_over_a_limit_with_its_line_and_serves_the_rest(make_fake_index):
    articles, index, _ = make_fake_index(SMALL_KB)
    write_tree(articles, {"cdn/huge.en.md": article("cdn-huge", "en", "Huge", "Intro.\n\n" + "## h\n\n" * 600)})
    summary = job.run(articles, index, progress=False)
    [skipped] = [p for p in summary.skipped if p.path == "cdn/huge.en.md"]
    assert skipped.code == "too-many-headings" and skipped.line > 1 and "KB_ARTICLE_MAX_HEADINGS" in skipped.message
    searcher = Searcher(index)
    assert searcher.versions("cdn-huge", "internal") == []
    assert searcher.search("502 bad gateway").results


# --- chunks: one save never holds the indexer for minutes -------------------------------------------------

def test_an_article_over_the_chunk_cap_is_indexed_in_part_with_a_warning(make_fake_index, monkeypatch):
    import sqlite3

    from kb.index import format as index_format

    articles, index, _ = make_fake_index(SMALL_KB)
    monkeypatch.setenv("KB_MAX_CHUNKS_PER_ARTICLE", "5")
    body = "Intro.\n\n" + "".join(f"## Part {n}\n\nThe okapi note number {n}.\n\n" for n in range(12))
    write_tree(articles, {"cdn/long.en.md": article("cdn-long", "en", "Long", body)})
    summary = job.run(articles, index, progress=False)
    [warned] = [p for p in summary.warnings if p.code == "too-many-chunks"]
    assert warned.path == "cdn/long.en.md" and "13 chunks" in warned.message and "KB_MAX_CHUNKS_PER_ARTICLE" in warned.message
    db = sqlite3.connect(index_format.current_generation(index) / "kb.sqlite")
    counts = dict(db.execute("SELECT a.id || '/' || a.lang, count(*) FROM chunks c JOIN articles a ON a.rowid = c.article "
                             "GROUP BY a.rowid"))
    db.close()
    assert counts["cdn-long/en"] == 5 and max(counts.values()) == 5
    assert Searcher(index).article("cdn-long", "en", "internal")  # the article itself is served whole


def test_a_suggested_answer_renders_at_most_the_first_part_of_a_huge_section():
    """A 200 KB section was rendered twice per answer: 2.6 s of CPU for one ticket (issue #24)."""
    from web.services.answers import MAX_SECTION_CHARS, _bounded

    short = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert _bounded(short) == short
    table = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 30_000
    cut = _bounded(table)
    assert len(cut) <= MAX_SECTION_CHARS + 4 and cut.endswith("\n\n…\n") and table.startswith(cut[:-4].rstrip())
    assert _bounded("x" * 50_000) == "x" * MAX_SECTION_CHARS + "\n\n…\n"  # one line: cut where the limit is
