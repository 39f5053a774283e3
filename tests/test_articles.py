import pytest

from indexer.job import scan
from kb.articles import model as articles
from kb.errors import ArticleError
from tests.support import article, write_tree

GOOD = article("net-wifi", "en", "Wi-Fi password", "Open the router page.\n\n## Steps\nLog in.", reviewed="2026-01-02")


def test_valid_article_is_parsed_with_all_front_matter_fields():
    text = article("cdn-502", "zh", "回源 502", "正文。", tags="[CDN, Errors]", product="cdn", visibility="internal",
                   updated="2026-01-02", reviewed="2026-02-03", review_every=90, translated_from="en", source_hash="abc123")
    a, problems = articles.parse(text, "cdn/502.zh.md")
    assert (a.id, a.lang, a.title, a.visibility, a.product) == ("cdn-502", "zh", "回源 502", "internal", "cdn")
    assert a.tags == ["cdn", "errors"] and a.review_every == 90
    assert (a.translated_from, a.source_hash) == ("en", "abc123")
    assert str(a.reviewed) == "2026-02-03" and a.body.strip() == "正文。"
    assert problems == []


@pytest.mark.parametrize("text, line, message", [
    ("no front matter here\n", 1, "no front matter"),
    ("---\nid: x\nlang: en\n", 1, "not closed"),
    ("---\nid: x\nlang: en\ntitle: [unclosed\n---\nbody\n", 5, "not valid YAML"),
    ("---\nid: x\nlang: en\nupdated: 2026-13-45\n---\nbody\n", 4, "'updated' must be a date"),
    ("---\nid: x\nlang: en\nvisibility: secret\n---\nbody\n", 4, "'visibility' must be one of"),
    ("---\nid: x\nlang: en\n---\n\n  \n", 5, "empty body"),
    ("---\nlang: en\n---\nbody\n", 1, "missing 'id'"),
    ("---\nid: Bad Id!\nlang: en\n---\nbody\n", 2, "'id' must be"),
    ("---\nid: x\nlang: klingon\n---\nbody\n", 3, "unknown language"),
    ("---\nid: x\nlang: en\nreview_every: soon\n---\nbody\n", 4, "'review_every' must be"),
])
def test_bad_input_is_reported_with_file_and_line(text, line, message):
    with pytest.raises(ArticleError) as e:
        articles.parse(text, "faq/x.md")
    assert e.value.line == line, str(e.value)
    assert message in e.value.message
    assert str(e.value).startswith(f"faq/x.md:{line}: ")


def test_non_utf8_file_names_the_line_of_the_bad_byte():
    raw = "---\nid: x\nlang: ru\n---\nстрока\n".encode("utf-8") + "ещё".encode("cp1251") + b"\n"
    with pytest.raises(ArticleError) as e:
        articles.decode(raw, "ru/x.md")
    assert e.value.line == 6 and "UTF-8" in e.value.message


def test_binary_file_is_refused():
    with pytest.raises(ArticleError, match="binary"):
        articles.decode(b"\x89PNG\r\n\x1a\n\x00\x00", "img.md")


def test_missing_language_is_detected_and_reported():
    a, problems = articles.parse("---\nid: x\ntitle: t\n---\nКак очистить кэш CDN и проверить результат очистки\n", "x.md")
    assert a.lang == "ru" and a.lang_detected
    assert any(p.code == "lang-detected" and "'ru'" in p.message for p in problems)


def test_title_comes_from_front_matter_then_first_heading_then_file_name():
    a, _ = articles.parse("---\nid: a\nlang: en\n---\n# From heading\ntext\n", "x/some-file.en.md")
    assert a.title == "From heading"
    b, _ = articles.parse("---\nid: b\nlang: en\n---\ntext only\n", "x/some-file.en.md")
    assert b.title == "Some file"


def test_content_hash_ignores_front_matter_and_line_endings():
    a, _ = articles.parse("---\nid: a\nlang: en\nreviewed: 2026-01-01\n---\nSame body\r\n", "a.md")
    b, _ = articles.parse("---\nid: a\nlang: en\nreviewed: 2026-05-05\n---\nSame body\n", "a.md")
    assert a.content_hash == b.content_hash and len(a.content_hash) == 12


def test_scan_skips_broken_files_and_keeps_the_rest(tmp_path):
    root = write_tree(tmp_path, {
        "good.en.md": GOOD,
        "dup.en.md": GOOD,
        "broken.md": "---\nid: [\n---\nx\n",
        "notes/README.md": "# not an article",
        "bin.md": b"\x00\x01\x02",
        "файлы/统一.zh.md": article("unicode-name", "zh", "统一", "内容。"),
    })
    result = scan(root)
    assert sorted(a.id for a in result.articles) == ["net-wifi", "unicode-name"]
    errors = {p.path: p for p in result.errors}
    assert set(errors) == {"dup.en.md", "broken.md", "bin.md"} or set(errors) == {"good.en.md", "broken.md", "bin.md"}
    dup = errors.get("good.en.md") or errors["dup.en.md"]
    assert "duplicate article" in dup.message


def test_scan_reports_broken_links_anchors_and_public_links_to_internal(tmp_path):
    root = write_tree(tmp_path, {
        "a.en.md": article("a", "en", "A", "See [b](b#steps), [gone](nope), [c](b#missing), [int](secret).\n\n```\n[x](in-code)\n```"),
        "b.en.md": article("b", "en", "B", "Intro.\n\n## Steps\nDo it."),
        "s.en.md": article("secret", "en", "S", "Internal.", visibility="internal"),
    })
    codes = sorted((p.code, p.message.split("'")[1]) for p in scan(root).problems if p.path == "a.en.md")
    assert codes == [("broken-anchor", "#missing"), ("broken-link", "nope"), ("internal-link", "secret")]
