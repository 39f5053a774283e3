"""The editor's file layer: byte-minimal front-matter edits, safe paths, atomic writes, ETags, lint, git."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.articles import git as article_git, source as article_source, frontmatter
from kb.articles.model import content_hash, parse
from tests.support import ROOT, article, examples, write_tree

TODAY = dt.date(2026, 11, 30)
PURGE_ZH = ROOT / "articles" / "cdn" / "cdn-purge-cache.zh.md"


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(a) == len(b), "lines were added or removed"
    return [(x, y) for x, y in zip(a, b) if x != y]


@pytest.fixture
def folder(tmp_path):
    root = write_tree(tmp_path / "articles", {
        "cdn/purge.en.md": article("cdn-purge", "en", "Purge", "Purge with `POST /v2/purge`.\n\n## Limits\n10,000 URLs a day."),
        "cdn/purge.zh.md": article("cdn-purge", "zh", "刷新", "使用 `POST /v1/purge` 刷新。\n\n## 限制\n每天 2,000 条。",
                                   translated_from="en", source_hash="000000000000"),
    })
    return article_source.Folder(root)


# --- mark reviewed: one value, every other byte the same --------------------------------------

def test_mark_reviewed_changes_only_the_reviewed_value_of_a_sample_file():
    before = PURGE_ZH.read_text(encoding="utf-8")
    after = article_source.mark_reviewed(before, TODAY)
    assert changed_lines(before, after) == [("reviewed: 2026-09-09\n", "reviewed: 2026-11-30\n")]
    assert before.replace("reviewed: 2026-09-09", "reviewed: 2026-11-30") == after


@pytest.mark.parametrize("before, after", [
    ("---\r\nid: a\r\nreviewed: 2020-01-01   # yearly\r\nlang: en\r\n---\r\nBody\r\n",
     "---\r\nid: a\r\nreviewed: 2026-11-30   # yearly\r\nlang: en\r\n---\r\nBody\r\n"),
    ("\ufeff---\nid: a\nreviewed:\nlang: en\n---\nBody", "\ufeff---\nid: a\nreviewed: 2026-11-30\nlang: en\n---\nBody"),
    ("---\nid: a\nlang: en\n---\nBody\nreviewed: 2020-01-01\n",
     "---\nid: a\nlang: en\nreviewed: 2026-11-30\n---\nBody\nreviewed: 2020-01-01\n"),
    ("---\nid: a\nreviewed: '2020-01-01'\n---\n---\nreviewed: 1\n", "---\nid: a\nreviewed: 2026-11-30\n---\n---\nreviewed: 1\n"),
])
def test_mark_reviewed_keeps_line_endings_comments_bom_and_body(before, after):
    assert article_source.mark_reviewed(before, TODAY) == after


@given(st.lists(st.sampled_from(["owner: a # x", "tags: [a, b]", "tags:\n  - a\n  - b", "title: 'x: y'",
                                 "product: cdn", "# note", "review_every: 30", "reviewed: 2020-01-01",
                                 "reviewed: 2020-01-01  # every year", "reviewed:"]), max_size=6, unique=True),
       st.sampled_from(["\n", "\r\n"]), st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
@settings(max_examples=examples(100))
def test_mark_reviewed_touches_nothing_but_reviewed(lines, newline, body):
    keys = [line.split(":")[0] for line in lines]
    if len(set(keys)) != len(keys):
        return
    text = newline.join(["---", "id: a", "lang: en", *lines, "---", body]).replace("\n", "\n")
    text = text.replace("\r\n", "\n").replace("\n", newline) if newline == "\r\n" else text
    after = article_source.mark_reviewed(text, TODAY)
    assert frontmatter.values(after)["reviewed"] == "2026-11-30"
    old = [line for line in text.split(newline) if line.startswith("reviewed:")]
    new = [line for line in after.split(newline) if line.startswith("reviewed:")]
    assert len(new) == 1 and new[0].startswith("reviewed: 2026-11-30")
    if old:
        assert new[0].partition("#")[2] == old[0].partition("#")[2]  # the comment kept
        assert after == text.replace(old[0], new[0], 1)
    else:  # added just before the closing line
        head, body_part = frontmatter.split(text)
        assert after == head[:-len("---" + newline)] + new[0] + newline + "---" + newline + body_part


def test_form_fields_change_only_their_lines_and_updated():
    before = PURGE_ZH.read_text(encoding="utf-8")
    fields = {"title": "如何刷新 CDN 缓存？刷新失败怎么办", "tags": ["cdn", "cache", "purge", "api"], "product": "cdn",
              "visibility": "internal", "owner": "li.wei", "review_every": 90}
    after = article_source.with_fields(before, fields, TODAY)
    assert changed_lines(before, after) == [("visibility: public\n", "visibility: internal\n"),
                                            ("updated: 2026-09-09\n", "updated: 2026-11-30\n"),
                                            ("review_every: 180\n", "review_every: 90\n")]
    parsed, _ = parse(after, "x.md")
    assert (parsed.visibility, parsed.review_every, parsed.updated) == ("internal", 90, TODAY)
    assert parsed.body == parse(before, "x.md")[0].body


def test_form_fields_quote_what_yaml_would_misread_and_drop_emptied_keys():
    text = "---\nid: a\nlang: en\nowner: bob\ntags:\n  - a\n  - b\n---\nBody\n"
    after = article_source.with_fields(text, {"title": 'Error: "x" # y', "owner": "", "product": "yes",
                                              "tags": ["a", "c: d"]}, TODAY)
    values = frontmatter.values(after)
    assert values["title"] == 'Error: "x" # y' and values["product"] == "yes" and values["tags"] == ["a", "c: d"]
    assert "owner" not in values and after.endswith("---\nBody\n")


# --- translations ----------------------------------------------------------------------------

def test_translation_up_to_date_sets_the_source_hash_only(folder):
    en = folder.read("cdn-purge", "en").text
    zh = folder.read("cdn-purge", "zh").text
    after = article_source.translation_up_to_date(zh, parse(en, "en.md")[0].body)
    assert changed_lines(zh, after) == [("source_hash: 000000000000\n",
                                         f"source_hash: {content_hash(parse(en, 'en.md')[0].body)}\n")]


def test_new_translation_is_prefilled_and_valid(folder):
    source, _ = parse(folder.read("cdn-purge", "en").text, "en.md")
    text = article_source.new_translation(source, "ru", "ivan", TODAY)
    made, problems = folder.lint(text, "cdn/cdn-purge.ru.md", "cdn-purge", "ru")
    assert [p for p in problems if p.severity == "error"] == []
    assert (made.translated_from, made.source_hash, made.owner, made.body) == ("en", source.content_hash, "ivan",
                                                                               source.body)


# --- paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["../secret.md", "cdn/../../secret.md", "/etc/passwd", "..\\x.md", "cdn/README.md",
                                 ".git/config", "", "a\x00.md", "cdn/.hidden.md"])
def test_paths_never_leave_the_articles_folder(folder, rel):
    with pytest.raises(article_source.SourceError):
        folder.inside(rel)


def test_a_symlink_out_of_the_folder_is_refused(folder, tmp_path):
    (tmp_path / "outside.md").write_text(article("evil", "en", "Evil", "Text"))
    os.symlink(tmp_path / "outside.md", folder.root / "cdn" / "evil.en.md")
    with pytest.raises(article_source.SourceError):
        folder.inside("cdn/evil.en.md")
    assert ("evil", "en") not in folder.keys()


@pytest.mark.parametrize("art_id, lang", [("../etc", "en"), ("a/b", "en"), ("A", "en"), ("x", "../en"),
                                          ("x", "EN"), ("..", "en"), ("x", "xx-not-a-language")])
def test_bad_ids_and_languages_are_refused_before_any_path_is_built(folder, art_id, lang):
    with pytest.raises(article_source.SourceError):
        folder.read(art_id, lang)


def test_unknown_article_is_not_found(folder):
    with pytest.raises(article_source.NotFound):
        folder.read("cdn-nothing", "en")


# --- writing ---------------------------------------------------------------------------------

def test_write_checks_the_etag_and_refuses_a_stale_one(folder):
    src = folder.read("cdn-purge", "en")
    new = src.text.replace("10,000", "20,000")
    saved, _article, _ = folder.write(src.rel, new, src.etag, "cdn-purge", "en")
    assert saved.etag != src.etag and (folder.root / src.rel).read_text() == new
    with pytest.raises(article_source.Conflict) as e:
        folder.write(src.rel, src.text, src.etag, "cdn-purge", "en")
    assert e.value.current.etag == saved.etag and (folder.root / src.rel).read_text() == new


def test_invalid_text_is_refused_at_its_line_and_nothing_is_written(folder):
    src = folder.read("cdn-purge", "en")
    bad = src.text.replace("lang: en", "lang: en\nreviewed: someday")
    with pytest.raises(article_source.Invalid) as e:
        folder.write(src.rel, bad, src.etag, "cdn-purge", "en")
    assert e.value.problems[0].line == 4 and "reviewed" in e.value.problems[0].message
    assert (folder.root / src.rel).read_bytes() == src.raw
    assert not [p for p in (folder.root / "cdn").iterdir() if p.name.startswith(".")]


def test_changing_the_id_or_creating_a_duplicate_is_an_error(folder):
    src = folder.read("cdn-purge", "en")
    _, problems = folder.lint(src.text.replace("id: cdn-purge", "id: other"), src.rel, "cdn-purge", "en")
    assert problems[0].severity == "error" and problems[0].line == 2
    with pytest.raises(article_source.Invalid):
        folder.write("cdn/copy.en.md", src.text, None, "cdn-purge", "en", create=True)


def test_write_is_atomic_and_keeps_the_file_mode(folder, monkeypatch):
    src = folder.read("cdn-purge", "en")
    path = folder.root / src.rel
    path.chmod(0o640)

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        folder.write(src.rel, src.text + "more\n", src.etag, "cdn-purge", "en")
    assert path.read_bytes() == src.raw
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    folder.write(src.rel, src.text + "more\n", src.etag, "cdn-purge", "en")
    assert path.stat().st_mode & 0o777 == 0o640


def test_delete_needs_the_current_etag(folder):
    src = folder.read("cdn-purge", "zh")
    with pytest.raises(article_source.Conflict):
        folder.delete(src.rel, '"stale"')
    assert folder.delete(src.rel, src.etag) == src.raw and not (folder.root / src.rel).exists()


# --- git -------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_each_save_is_a_commit_by_the_writer_touching_only_that_file(folder):
    def git(*args):
        return subprocess.run(["git", *args], cwd=folder.root, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("-c", "user.name=setup", "-c", "user.email=s@x", "add", ".")
    git("-c", "user.name=setup", "-c", "user.email=s@x", "commit", "-qm", "start")
    (folder.root / "cdn" / "purge.zh.md").write_text("unrelated local change\n")  # left alone
    src = folder.read("cdn-purge", "en")
    folder.write(src.rel, src.text.replace("10,000", "20,000"), src.etag, "cdn-purge", "en")
    done = article_git.commit(folder.root, src.rel, "Edit cdn-purge (en)", "maria.k")
    assert done.sha and done.error is None
    assert git("log", "-1", "--format=%an <%ae>|%s").strip() == \
        f"maria.k <maria.k@{article_git.EMAIL_DOMAIN}>|Edit cdn-purge (en)"
    assert git("show", "--name-only", "--format=", "HEAD").split() == ["cdn/purge.en.md"]
    assert "purge.zh.md" in git("status", "--porcelain")
    assert article_git.commit(folder.root, src.rel, "again", "maria.k").sha is None  # nothing new
    folder.delete(src.rel, folder.read("cdn-purge", "en").etag)
    gone = article_git.commit(folder.root, src.rel, "Delete cdn-purge (en)", "maria.k")
    assert gone.sha and "20,000" in git("show", "HEAD~1:cdn/purge.en.md")


def test_no_repository_no_commit(folder):
    assert article_git.commit(folder.root, "cdn/purge.en.md", "x", "a") == article_git.Commit(None)


@pytest.mark.parametrize("article_id", ["cdn-purge\n", "cdn\n-purge", "cdn-purge\r"])
def test_an_id_with_a_line_break_is_refused(article_id):
    """`^...$` accepted a trailing newline (issue #24)."""
    from kb.articles.model import ID_PATTERN

    assert not ID_PATTERN.match(article_id)
    with pytest.raises(article_source.SourceError):
        article_source.check_key(article_id, "en")
