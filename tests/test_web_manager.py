"""The writers' article manager (`/writers/articles`) on the sample indexed with the fake embedder: every article
with each language's status as the reports found it, the filters, the search, bulk assign, and the Edit links.

Statuses are checked against `kb.reports` on the same index (the manager must never disagree with the reports);
the page in a real browser is tests/test_browser_manager.py.
"""

from __future__ import annotations

import re

import pytest

from kb import reports
from kb.reports import content, coverage, usage, workitems
from kb.search.searcher import Searcher
from tests.editing_support import client_as
from tests.support import activity_at


@pytest.fixture(scope="module")
def ctx(read_only_kb_copy, fake_model):
    index = read_only_kb_copy[1]
    searcher = Searcher(index, model=fake_model)
    return reports.Context(store=searcher.store, activity=activity_at(index / "activity.sqlite"))


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)">', html)


def test_every_article_is_listed_with_the_reports_own_statuses(ctx):
    rows, langs = coverage.coverage(ctx)
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {a.id for a in ctx.store.articles()}
    assert {"en", "zh", "ru"} <= set(langs)
    for r in content.translations(ctx):
        assert "outdated" in by_id[r["id"]]["cells"][r["lang"]]["status"]
    for r in content.stale(ctx):
        assert "overdue" in by_id[r["id"]]["cells"][r["lang"]]["status"]
    missing = usage.missing(ctx)
    assert missing, "the sample has public articles without some translation"
    for r in missing:
        assert by_id[r["id"]]["cells"][r["missing_lang"]]["status"] == ["untranslated"]
    flagged = {(r["id"], r["lang"]) for r in content.translations(ctx) + content.stale(ctx)}
    current = [(a.id, a.lang) for a in ctx.store.articles() if (a.id, a.lang) not in flagged]
    assert current and all(by_id[i]["cells"][lang]["status"] == ["up-to-date"] for i, lang in current)


def test_filters_combine_language_status_owner_audience_and_search(ctx):
    rows, _langs = coverage.coverage(ctx)
    zh_outdated = {r["id"] for r in rows if coverage.matches(r, lang="zh", status="outdated")}
    assert zh_outdated == {r["id"] for r in content.translations(ctx) if r["lang"] == "zh"}
    internal = [r for r in rows if coverage.matches(r, audience="internal")]
    assert internal and all(r["visibility"] == "internal" for r in internal)
    assert [r["id"] for r in rows if coverage.matches(r, q="CDN-PURGE")] == ["cdn-purge-cache"]
    zh_title = next(a.title for a in ctx.store.articles() if (a.id, a.lang) == ("cdn-purge-cache", "zh"))
    assert "cdn-purge-cache" in [r["id"] for r in rows if coverage.matches(r, q=zh_title)]  # any version's title
    owner = next(r["owner"] for r in rows if r["owner"])
    assert all(owner in r["owners"] for r in rows if coverage.matches(r, owner=owner))
    current = [r for r in rows if coverage.matches(r, status="up-to-date")]
    assert current and all(c["status"] == ["up-to-date"] for r in current for c in r["cells"].values())


def test_the_page_lists_filters_and_links_to_the_editor(read_only_writer, ctx):
    html = read_only_writer.get("/writers/articles").get_data(as_text=True)
    assert 'href="/writers/edit/new"' in html and 'id="new-article"' in html
    assert 'href="/writers/edit/cdn-purge-cache/en"' in html
    assert 'href="/writers/translate/cdn-purge-cache/zh"' in html  # outdated: the side-by-side view
    assert re.search(r'href="/writers/translate/[\w-]+/\w+/new\?from=\w+"', html)  # untranslated: Translate
    page = read_only_writer.get("/writers/articles?lang=zh&status=outdated").get_data(as_text=True)
    assert "cdn-purge-cache" in rows_of(page) and len(rows_of(page)) < len(rows_of(html))
    assert rows_of(read_only_writer.get("/writers/articles?q=cdn-purge").get_data(as_text=True)) == ["cdn-purge-cache"]
    internal = rows_of(read_only_writer.get("/writers/articles?audience=internal").get_data(as_text=True))
    assert set(internal) == {a.id for a in ctx.store.articles() if a.visibility == "internal"}
    assert 'id="m-count"' in page


def test_agents_and_visitors_cannot_open_the_manager(read_only_edit_app):
    assert read_only_edit_app.test_client().get("/writers/articles").status_code in (302, 401, 403)
    assert client_as(read_only_edit_app, "agent").get("/writers/articles").status_code == 403


def test_bulk_assign_assigns_the_filtered_report_rows_and_the_reports_show_it(edit_app):
    writer = client_as(edit_app, "writer")
    other = client_as(edit_app, "writer")  # a second writer, to assign to by name
    name = other.get("/writers/").get_data(as_text=True)
    name = re.search(r'title="([^"]+)">Sign out', name).group(1)
    page = writer.get("/writers/articles?lang=zh&status=outdated").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ids = rows_of(page)
    r = writer.post("/writers/articles/assign", data={"csrf_token": token, "id": ids, "lang": "zh",
                                                       "status": "outdated", "action": "assign", "assignee": name})
    assert r.status_code == 302 and "lang=zh" in r.headers["Location"]
    report = other.get(f"/writers/translations?assignee={name}").get_data(as_text=True)
    assigned = set(re.findall(r'data-id="([^"]+)" data-lang="(\w+)"', report))
    assert assigned and {lang for _i, lang in assigned} == {"zh"}  # the zh rows only, not ru
    assert {i for i, _l in assigned} == set(ids)
    listed = writer.get("/writers/articles?lang=zh&status=outdated").get_data(as_text=True)
    assert f"Assigned to {name}" in listed
    bad = writer.post("/writers/articles/assign", data={"csrf_token": token, "id": ids, "action": "assign",
                                                         "assignee": "nobody-here"})
    assert bad.status_code == 400 and "nobody-here" in bad.get_data(as_text=True)


def test_items_to_assign_are_the_work_item_keys_of_the_report_rows(ctx):
    rows, _langs = coverage.coverage(ctx)
    purge = next(r for r in rows if r["id"] == "cdn-purge-cache")
    zh = next(r for r in content.translations(ctx) if (r["id"], r["lang"]) == ("cdn-purge-cache", "zh"))
    assert ("translations", workitems.item_key("translations", zh), "zh") in coverage.items_to_assign(
        purge, "zh", "outdated")
    assert coverage.items_to_assign(purge, "zh", "untranslated") == []


def test_help_center_article_shows_edit_to_writers_only(read_only_edit_app, read_only_writer):
    page = read_only_writer.get("/en/article/cdn-purge-cache")
    html = page.get_data(as_text=True)
    assert 'id="edit-article" href="/writers/edit/cdn-purge-cache/en"' in html
    assert page.headers["Cache-Control"] == "private, no-store"  # never kept by a shared cache for a customer
    visitor = read_only_edit_app.test_client().get("/en/article/cdn-purge-cache").get_data(as_text=True)
    assert "/writers/edit/" not in visitor and "staff-tools" not in visitor
    agent = client_as(read_only_edit_app, "agent").get("/en/article/cdn-purge-cache").get_data(as_text=True)
    assert "/writers/edit/" not in agent
    assert read_only_edit_app.test_client().get("/en/article/internal-edgectl-tool").status_code == 404
    assert read_only_writer.get("/en/article/internal-edgectl-tool").status_code == 404  # the help center's audience


def test_writers_article_page_offers_edit_compare_and_translate(read_only_writer):
    html = read_only_writer.get("/writers/article/cdn-purge-cache?lang=zh").get_data(as_text=True)
    assert 'href="/writers/edit/cdn-purge-cache/zh"' in html
    assert 'href="/writers/translate/cdn-purge-cache/zh"' in html  # compare with the source
    missing = read_only_writer.get("/writers/article/account-2fa-lost-device?lang=ru").get_data(as_text=True)
    assert re.search(r'href="/writers/translate/account-2fa-lost-device/en/new\?from=ru"', missing)
    assert "Translate into English" in missing


def test_rows_sort_by_id_title_owner_status_and_last_update(ctx):
    rows, _langs = coverage.coverage(ctx)
    ids = [r["id"] for r in rows]
    assert [r["id"] for r in coverage.sorted_rows(rows, "id", desc=True)] == sorted(ids, reverse=True)
    titles = [r["title"].casefold() for r in coverage.sorted_rows(rows, "title")]
    assert titles == sorted(titles)
    newest = coverage.sorted_rows(rows, "updated", desc=True)
    dated = [r["updated"] for r in newest if r["updated"]]
    assert dated == sorted(dated, reverse=True) and newest[:len(dated)] == [r for r in newest if r["updated"]]
    by_version = {r["id"]: max(a.updated for a in ctx.store.articles() if a.id == r["id"] and a.updated)
                  for r in rows if r["updated"]}
    assert all(r["updated"] == by_version[r["id"]].isoformat() for r in rows if r["updated"])
    urgent = coverage.sorted_rows(rows, "status", desc=True)
    first = urgent[0]["cells"].values()
    assert any("outdated" in c["status"] for c in first)  # outdated before overdue before untranslated
    assert all(c["status"] == ["up-to-date"] for c in urgent[-1]["cells"].values())
    zh = coverage.sorted_rows(rows, "status", desc=True, lang="zh")
    assert "outdated" in zh[0]["cells"]["zh"]["status"] and "zh" not in zh[-1]["cells"]  # no zh version: last
    owners = [", ".join(r["owners"]) for r in coverage.sorted_rows(rows, "owner") if r["owners"]]
    assert owners == sorted(owners, key=str.casefold)
    with pytest.raises(ValueError, match="sort must be one of"):
        coverage.sorted_rows(rows, "popularity")


def test_column_headers_sort_the_page_and_keep_the_filters(read_only_writer, ctx):
    page = read_only_writer.get("/writers/articles?sort=id&dir=desc&audience=public").get_data(as_text=True)
    shown = rows_of(page)
    assert shown == sorted(shown, reverse=True) and len(shown) > 5
    assert 'aria-sort="descending"' in page
    assert re.search(r'href="/writers/articles\?audience=public&amp;sort=id&amp;dir=asc"', page)  # again: the other way
    assert 'href="/writers/articles?audience=public&amp;sort=status-zh&amp;dir=desc"' in page  # per language
    zh = rows_of(read_only_writer.get("/writers/articles?sort=status-zh&dir=desc").get_data(as_text=True))
    assert zh == [r["id"] for r in coverage.sorted_rows(coverage.coverage(ctx)[0], "status", True, "zh")]
    unknown = read_only_writer.get("/writers/articles?sort=drop%20table&dir=desc").get_data(as_text=True)
    assert rows_of(unknown) == sorted(rows_of(unknown)) and "aria-sort" not in unknown  # the default order


def test_csv_export_is_the_filtered_sorted_view_internal_articles_included(read_only_writer, ctx):
    import csv
    import io

    resp = read_only_writer.get("/writers/articles/export.csv?lang=zh&sort=id&dir=desc")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    page = rows_of(read_only_writer.get("/writers/articles?lang=zh&sort=id&dir=desc").get_data(as_text=True))
    assert [r["id"] for r in rows] == page
    assert list(rows[0]) == ["id", "title", "visibility", "product", "owners", "updated", "assigned", "zh"]
    purge = next(r for r in rows if r["id"] == "cdn-purge-cache")
    assert "outdated" in purge["zh"].split("+")
    everything = list(csv.DictReader(io.StringIO(
        read_only_writer.get("/writers/articles/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    internal = {a.id for a in ctx.store.articles() if a.visibility == "internal"}
    assert internal and internal <= {r["id"] for r in everything}
    assert {"en", "zh", "ru"} <= set(everything[0])


def test_csv_export_is_for_writers_only(read_only_edit_app):
    assert read_only_edit_app.test_client().get("/writers/articles/export.csv").status_code in (302, 401, 403)
