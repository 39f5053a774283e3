"""The writers' editor in the browser's place (Flask's test client): who may edit, save, lint, conflicts,
mark reviewed, translations side by side, new and deleted articles, the background index.

Each test that saves edits its own copy of the sample articles, over a copy of the sample's index (fake
embedder); tests that only read, or check that a save is refused, share one copy (`read_only_edit_app`). The
re-index after a save runs in this process with the fake embedder. The real path (`kb index` in a child
process, the real model) is in tests/test_browser_editor.py.
"""

from __future__ import annotations

import html as htmllib
import re
import threading
import shutil

import pytest

from kb.search.searcher import Searcher
from tests.editing_support import client_as, form_of, wait_index
from tests.support import copy_index, csrf_token
from web import create_app

PURGE_ZH = "cdn/cdn-purge-cache.zh.md"


# --- who may edit -------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [("agent", 403), ("writer", 200), ("admin", 200)])
def test_only_writers_and_admins_edit(read_only_edit_app, role, status):
    client = client_as(read_only_edit_app, role)
    assert client.get("/writers/edit/cdn-purge-cache/zh").status_code == status
    assert client.get("/writers/translate/cdn-purge-cache/zh").status_code == status


def test_visitors_are_sent_to_login(read_only_edit_app):
    r = read_only_edit_app.test_client().get("/writers/edit/cdn-purge-cache/zh")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_agents_cannot_post_saves(read_only_edit_app, read_only_kb_copy):
    client = client_as(read_only_edit_app, "agent")
    before = (read_only_kb_copy[0] / PURGE_ZH).read_bytes()
    r = client.post("/writers/edit/cdn-purge-cache/zh", data={"body": "x", "csrf_token": csrf_token(client, "/agent/")})
    assert r.status_code == 403 and (read_only_kb_copy[0] / PURGE_ZH).read_bytes() == before


def test_a_save_without_the_csrf_token_is_refused(read_only_writer, read_only_kb_copy):
    writer, kb_copy = read_only_writer, read_only_kb_copy
    before = (kb_copy[0] / PURGE_ZH).read_bytes()
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    del form["csrf_token"]
    assert writer.post("/writers/edit/cdn-purge-cache/zh", data=form).status_code == 400
    assert (kb_copy[0] / PURGE_ZH).read_bytes() == before


def test_without_an_articles_folder_the_editor_says_how_to_get_one(fake_web_index, fake_default_model, tmp_path):
    app = create_app({"TESTING": True, "INDEX": str(copy_index(fake_web_index, tmp_path / "i")),
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "x"})
    r = client_as(app, "writer").get("/writers/edit/cdn-purge-cache/zh")
    assert r.status_code == 404 and "--articles" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/writers/edit/..%2F..%2Fetc/en", "/writers/edit/cdn-purge-cache/..",
                                  "/writers/edit/CDN/en", "/writers/edit/x/zz-top"])
def test_malformed_ids_and_languages_are_refused(read_only_writer, path):
    assert read_only_writer.get(path).status_code in (400, 404)


# --- saving -------------------------------------------------------------------------------------

def test_save_writes_the_file_sets_updated_and_reindexes(edit_app, writer, kb_copy):
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["body"] = form["body"].replace("v1/cdn/purge", "v2/cdn/cache/purge")
    r = writer.post("/writers/edit/cdn-purge-cache/zh", data=form)
    assert r.status_code == 302
    text = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    assert "v2/cdn/cache/purge" in text and "v1/cdn/purge" not in text
    assert re.search(r"^updated: \d{4}-\d\d-\d\d$", text, re.M) and "\r" not in text
    wait_index(edit_app, r)
    searcher = Searcher(kb_copy[1])
    row, body = searcher.article("cdn-purge-cache", "zh", "public")
    assert "v2/cdn/cache/purge" in body
    page = writer.get(r.headers["Location"]).get_data(as_text=True)
    assert "index-status" in page and "data-ticket-url" in page


def test_only_the_changed_lines_change(writer, kb_copy):
    before = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["body"] = form["body"].replace("\n", "\r\n").replace("2,000", "10,000")  # browsers send CRLF
    writer.post("/writers/edit/cdn-purge-cache/zh", data=form)
    after = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 2
    assert changed[0][1].startswith("updated: ") and "10,000" in changed[1][1]


def test_lint_errors_are_shown_at_their_line_and_nothing_is_written(read_only_writer, read_only_kb_copy):
    writer, kb_copy = read_only_writer, read_only_kb_copy
    before = (kb_copy[0] / PURGE_ZH).read_bytes()
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["review_every"] = "often"
    r = writer.post("/writers/edit/cdn-purge-cache/zh", data=form)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "review_every" in page and 'href="#f-review_every"' in page
    assert "often" in page  # the writer's input is kept
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["body"] = ""
    r = writer.post("/writers/edit/cdn-purge-cache/zh", data=form)
    assert r.status_code == 400 and "empty body" in r.get_data(as_text=True)
    assert (kb_copy[0] / PURGE_ZH).read_bytes() == before


def test_a_save_over_a_newer_version_is_refused_and_shows_both(writer, edit_app, kb_copy):
    first = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    second = client_as(edit_app, "writer")
    theirs = form_of(second, "/writers/edit/cdn-purge-cache/zh")
    theirs["body"] = theirs["body"].replace("2,000", "10,000")
    assert second.post("/writers/edit/cdn-purge-cache/zh", data=theirs).status_code == 302
    saved = (kb_copy[0] / PURGE_ZH).read_bytes()
    first["body"] = first["body"] + "\nMY NEW PARAGRAPH\n"
    r = writer.post("/writers/edit/cdn-purge-cache/zh", data=first)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and (kb_copy[0] / PURGE_ZH).read_bytes() == saved
    assert 'id="conflict"' in page and "MY NEW PARAGRAPH" in page and "10,000" in page  # both versions
    again = dict(first, etag=htmllib.unescape(re.search(r'name="etag" value="([^"]+)"',
                                                         page.split('id="editor-form"')[1]).group(1)))
    assert writer.post("/writers/edit/cdn-purge-cache/zh", data=again).status_code == 302  # a deliberate overwrite
    assert "MY NEW PARAGRAPH" in (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")


def test_mark_reviewed_changes_one_line(writer, kb_copy):
    before = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    etag = form_of(writer, "/writers/edit/cdn-purge-cache/zh")["etag"]
    r = writer.post("/writers/edit/cdn-purge-cache/zh/reviewed",
                    data={"etag": etag, "csrf_token": csrf_token(writer, "/writers/edit/cdn-purge-cache/zh")})
    assert r.status_code == 302
    after = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(diff) == 1 and diff[0][0] == "reviewed: 2026-09-09" and diff[0][1].startswith("reviewed: 20")


def test_mark_reviewed_leaves_the_stale_report_before_the_background_index_ends(writer, edit_app):
    reindexer = edit_app.extensions["polykb"]["reindexer"]
    gate, real = threading.Event(), reindexer.runner
    reindexer.runner = lambda *args: gate.wait(60) and real(*args)  # the index is held until the checks are done
    try:
        page = writer.get("/writers/stale").get_data(as_text=True)
        aid, lang = re.search(r'data-id="([^"]+)" data-lang="(\w+)"', page).groups()
        etag = form_of(writer, f"/writers/edit/{aid}/{lang}")["etag"]
        r = writer.post(f"/writers/edit/{aid}/{lang}/reviewed",
                        data={"etag": etag, "csrf_token": csrf_token(writer, f"/writers/edit/{aid}/{lang}")})
        ticket = int(re.search(r"ticket=(\d+)", r.headers["Location"]).group(1))
        assert reindexer.status(ticket)["state"] != "done"  # the index has not published the new date yet
        stale = writer.get("/writers/stale").get_data(as_text=True)
        assert f'data-id="{aid}" data-lang="{lang}"' not in stale
        queue = writer.get("/writers/priority").get_data(as_text=True)
        assert not re.search(rf'data-id="{aid}" data-lang="{lang}">(?:(?!</tr>).)*Overdue reviews', queue, re.S)
        articles = writer.get(f"/writers/articles?lang={lang}&status=overdue").get_data(as_text=True)
        assert f'data-id="{aid}"' not in articles
    finally:
        gate.set()
    wait_index(edit_app, r)
    assert f'data-id="{aid}" data-lang="{lang}"' not in writer.get("/writers/stale").get_data(as_text=True)


def test_every_save_is_in_the_history_with_who_and_the_diff(writer, edit_app):
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["body"] = form["body"].replace("2,000", "10,000")
    writer.post("/writers/edit/cdn-purge-cache/zh", data=form)
    page = writer.get("/writers/edit/cdn-purge-cache/zh/history").get_data(as_text=True)
    assert re.search(r"<strong>writer-\w+</strong> · <time", page)
    assert re.search(r'e-del">-\|[^<]*每天可刷新 2,000', page) and re.search(r'e-add">\+\|[^<]*每天可刷新 10,000', page)


def test_preview_is_sanitised(read_only_writer):
    writer = read_only_writer
    token = csrf_token(writer, "/writers/edit/cdn-purge-cache/zh")
    r = writer.post("/writers/edit/preview", json={"body": "# Hi\n\n<script>alert(1)</script>[x](javascript:alert(1))"},
                    headers={"X-CSRFToken": token})
    html = r.get_json()["html"]
    assert "<h1" in html and "<script" not in html and "javascript:" not in html
    assert writer.post("/writers/edit/preview", json={"body": "x"}).status_code == 400  # no CSRF header


# --- translations -------------------------------------------------------------------------------

def test_side_by_side_marks_the_v2_facts_in_both_columns(read_only_writer):
    page = read_only_writer.get("/writers/translate/cdn-purge-cache/zh").get_data(as_text=True)
    marks = re.findall(r'<mark class="e-fact[^"]*">(.*?)</mark>', page, re.S)
    assert any("v2/cdn/cache/purge" in m for m in marks) and any("v1/cdn/purge" in m for m in marks)
    assert "10,000" in marks and "2,000" in marks


def test_mark_up_to_date_needs_confirming_and_says_facts_still_differ(writer, kb_copy):
    before = (kb_copy[0] / PURGE_ZH).read_bytes()
    token = csrf_token(writer, "/writers/translate/cdn-purge-cache/zh")
    etag = htmllib.unescape(re.search(r'name="etag" value="([^"]+)"', writer.get(
        "/writers/translate/cdn-purge-cache/zh").get_data(as_text=True)).group(1))
    writer.post("/writers/translate/cdn-purge-cache/zh/up-to-date", data={"etag": etag, "csrf_token": token})
    assert (kb_copy[0] / PURGE_ZH).read_bytes() == before
    r = writer.post("/writers/translate/cdn-purge-cache/zh/up-to-date",
                    data={"etag": etag, "csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert "facts still differ" in r.get_data(as_text=True)
    after = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    from kb.articles.model import parse

    en = parse((kb_copy[0] / "cdn/cdn-purge-cache.en.md").read_text(encoding="utf-8"), "en")[0]
    assert f"source_hash: {en.content_hash}" in after


def test_create_translation_is_prefilled_and_saved_beside_the_source(writer, kb_copy):
    page = writer.get("/writers/translate/cdn-purge-cache/es/new?from=en").get_data(as_text=True)
    fields = {k: htmllib.unescape(v) for k, v in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)}
    body = htmllib.unescape(re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    assert fields["translated_from"] == "en" and fields["source_hash"] and fields["lang"] == "es"
    assert not body.startswith("---") and "source_hash" not in body  # front matter from the form, not typed again
    r = writer.post("/writers/edit/new", data={**fields, "body": body.replace("A purge removes", "Una purga elimina")})
    assert r.status_code == 302
    saved = (kb_copy[0] / "cdn/cdn-purge-cache.es.md").read_text(encoding="utf-8")
    assert "Una purga elimina" in saved
    assert "translated_from: en" in saved and f"source_hash: {fields['source_hash']}" in saved and "lang: es" in saved


def test_new_article_form_asks_id_and_language_once_and_says_what_is_missing(read_only_writer, read_only_kb_copy):
    page = read_only_writer.get("/writers/edit/new").get_data(as_text=True)
    assert 'name="text"' not in page and page.count('name="lang"') == 1 and page.count('name="id"') == 1
    token = csrf_token(read_only_writer, "/writers/edit/new")
    r = read_only_writer.post("/writers/edit/new", data={"id": "cdn-form-only", "lang": "", "title": "T",
                                                         "body": "Text", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Choose the article&#39;s language." in html
    assert 'id="f-lang" value="" list="known-langs"' in html and 'aria-invalid="true" aria-describedby="err-lang"' in html
    assert 'value="cdn-form-only"' in html and ">Text</textarea>" in html  # what was typed is kept
    r = read_only_writer.post("/writers/edit/new", data={"id": "", "lang": "en", "csrf_token": token})
    assert r.status_code == 400 and "Give the article an id." in r.get_data(as_text=True)
    r = read_only_writer.post("/writers/edit/new", data={"id": "cdn-x", "lang": "en", "csrf_token": token,
                                                         "text": "---\nid: other\nlang: en\ntitle: T\n---\nx\n"})
    assert r.status_code == 400 and "The front matter says id: other, the form cdn-x." in r.get_data(as_text=True)
    assert not list(read_only_kb_copy[0].rglob("cdn-form-only*")) and not list(read_only_kb_copy[0].rglob("cdn-x*"))


def test_new_article_front_matter_is_built_from_the_form(edit_app, writer, kb_copy):
    token = csrf_token(writer, "/writers/edit/new")
    r = writer.post("/writers/edit/new", data={"id": "cdn-from-form", "lang": "en", "title": "From the form",
                                               "product": "cdn", "visibility": "internal", "owner": "ana",
                                               "tags": "a, b", "body": "Body only.\r\n", "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    from kb.articles.model import parse

    article = parse((kb_copy[0] / "cdn/cdn-from-form.en.md").read_text(encoding="utf-8"), "cdn-from-form.en.md")[0]
    assert (article.id, article.lang, article.title, article.visibility, article.owner, article.tags) == (
        "cdn-from-form", "en", "From the form", "internal", "ana", ["a", "b"])
    assert article.body.strip() == "Body only." and article.reviewed is not None


# --- new and deleted articles ------------------------------------------------------------------

def test_new_article_and_delete_with_confirmation(edit_app, writer, kb_copy):
    text = ("---\nid: cdn-new-thing\nlang: en\ntitle: New thing\nproduct: cdn\nowner: me\n---\n"
            "The zebra-striped widget explains itself.\n")
    token = csrf_token(writer, "/writers/edit/new")
    r = writer.post("/writers/edit/new", data={"id": "cdn-new-thing", "lang": "en", "text": text, "csrf_token": token})
    assert r.status_code == 302 and (kb_copy[0] / "cdn-new-thing.en.md").exists() is False
    assert (kb_copy[0] / "cdn" / "cdn-new-thing.en.md").read_text() == text
    wait_index(edit_app, r)
    assert Searcher(kb_copy[1]).article("cdn-new-thing", "en", "public")
    again = writer.post("/writers/edit/new", data={"id": "cdn-new-thing", "lang": "en", "text": text,
                                                   "csrf_token": token})
    assert again.status_code == 400 and "already exists" in again.get_data(as_text=True)
    src_etag = form_of(writer, "/writers/edit/cdn-new-thing/en")["etag"]
    r = writer.post("/writers/edit/cdn-new-thing/en/delete", data={"etag": src_etag, "csrf_token": token})
    assert r.status_code == 200 and (kb_copy[0] / "cdn" / "cdn-new-thing.en.md").exists()  # not confirmed
    r = writer.post("/writers/edit/cdn-new-thing/en/delete", data={"etag": src_etag, "csrf_token": token,
                                                                   "confirm": "yes"})
    assert r.status_code == 302 and not (kb_copy[0] / "cdn" / "cdn-new-thing.en.md").exists()
    wait_index(edit_app, r)
    assert Searcher(kb_copy[1]).article("cdn-new-thing", "en", "internal") is None
    history = writer.get("/writers/edit/cdn-new-thing/en/history").get_data(as_text=True)
    assert "-The zebra-striped widget explains itself." in history


@pytest.mark.parametrize("folder", ["../outside", "/etc", "cdn/../../x"])
def test_a_new_article_cannot_be_written_outside_the_folder(read_only_writer, read_only_kb_copy, folder):
    writer, kb_copy = read_only_writer, read_only_kb_copy
    text = "---\nid: evil\nlang: en\ntitle: Evil\n---\nText\n"
    r = writer.post("/writers/edit/new", data={"id": "evil", "lang": "en", "folder": folder, "text": text,
                                               "csrf_token": csrf_token(writer, "/writers/edit/new")})
    assert r.status_code == 400
    assert not list(kb_copy[0].parent.rglob("evil.en.md"))


def test_saved_html_stays_sanitised_on_the_public_page(edit_app, writer):
    form = form_of(writer, "/writers/edit/cdn-purge-cache/zh")
    form["body"] += ('\n<script>alert("x")</script>\n<img src=x onerror="alert(1)">\n[click](javascript:alert(2))\n'
                     '<iframe src="https://evil.example"></iframe>\n\nSAFE-MARKER-TEXT\n')
    wait_index(edit_app, writer.post("/writers/edit/cdn-purge-cache/zh", data=form))
    page = edit_app.test_client().get("/zh/article/cdn-purge-cache").get_data(as_text=True)
    assert "SAFE-MARKER-TEXT" in page
    assert "<script>alert" not in page and not re.search(r"<img[^>]*onerror", page)  # shown as text at most
    assert 'href="javascript:' not in page and "<iframe" not in page and "&lt;iframe" in page


def test_the_editor_offers_the_missing_translations(read_only_writer):
    page = read_only_writer.get("/writers/edit/cdn-hotlink-protection/ru").get_data(as_text=True)
    assert 'href="/writers/translate/cdn-hotlink-protection/en/new?from=ru"' in page
    assert 'href="/writers/translate/cdn-hotlink-protection/zh/new?from=ru"' in page
