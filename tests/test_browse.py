"""Browsing and the catalog: featured articles, product and topic labels, outdated translations (kb.index.catalog,
kb.search.browse, kb.articles.labels), decided at index time; and the help center's pages built on them.

Logic tests use the fake embedder; the catalog does not depend on embeddings. The real-model path is in
tests/test_browser_readers.py, which serves the sample indexed with the real model.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from indexer import job
from kb.articles import model as articles
from kb.search import browse
from kb.errors import ArticleError
from kb.search.generation import current, open_generation
from kb.articles.labels import Labels, load
from tests.support import ROOT, article, copy_index, write_tree

SOURCE_BODY = """
    Purge cached files.

    ## API
    Call `POST /v2/purge` with up to 10,000 URLs.
    """
TREE = {
    "cdn/purge.en.md": article("cdn-purge", "en", "Purge", SOURCE_BODY, product="cdn", tags="[cdn, cache]",
                               updated="2026-11-12", featured="true"),
    # made from an older source: the endpoint and the quota changed since
    "cdn/purge.zh.md": article("cdn-purge", "zh", "刷新", """
        刷新缓存文件。

        ## API
        调用 `POST /v1/purge`，最多 2,000 个 URL。
        """, product="cdn", tags="[cdn, cache]", translated_from="en", source_hash="0a0a0a0a0a0a"),
    "cdn/rules.en.md": article("cdn-rules", "en", "Cache rules", "Set TTLs per path.", product="cdn",
                               tags="[cdn, cache]", updated="2026-10-01"),
    "cdn/cname.en.md": article("cdn-cname", "en", "CNAME setup", "Point your domain at the CNAME.", product="cdn",
                               tags="[cdn, dns]", updated="2026-09-01"),
    "cdn/secret.en.md": article("cdn-secret", "en", "Edge runbook", "Only for staff.", product="cdn",
                                tags="[cdn, cache, runbook]", visibility="internal", featured="true"),
    "ops/ops.en.md": article("ops-only", "en", "Ops tool", "Staff only.", product="ops", tags="[ops]",
                             visibility="internal"),
    "labels.yml": "products:\n  cdn: {en: CDN acceleration, zh: CDN 加速}\ntopics:\n  cache: {en: Caching, zh: 缓存}\n",
}


@pytest.fixture
def gen(make_fake_index):
    tree = dict(TREE)
    _, index, _ = make_fake_index(tree)
    path, manifest = current(index)
    return open_generation(path, manifest)


def test_featured_must_be_true_or_false_with_its_line():
    text = article("a", "en", "A", "Body.", featured="maybe")
    with pytest.raises(ArticleError) as e:
        articles.parse(text, "a.en.md")
    assert e.value.line == 5 and "'featured' must be true or false" in e.value.message
    assert articles.parse(article("a", "en", "A", "Body.", featured="true"), "a.en.md")[0].featured
    assert not articles.parse(article("a", "en", "A", "Body."), "a.en.md")[0].featured


def test_labels_fall_back_to_english_then_the_slug(tmp_path):
    write_tree(tmp_path, {"labels.yml": "products:\n  cdn: {en: CDN acceleration, zh: CDN 加速}\n"
                                        "topics:\n  black-screen: {en: Black screen}\n"})
    labels, problems = load(tmp_path)
    assert problems == []
    assert labels.name("products", "cdn", "zh") == "CDN 加速"
    assert labels.name("products", "cdn", "ru") == "CDN acceleration"
    assert labels.name("products", "live", "ru") == "LIVE"
    assert labels.name("topics", "black-screen", "zh") == "Black screen"
    assert labels.name("topics", "sub-users", "en") == "sub users"


def test_bad_labels_are_reported_with_their_line_and_the_rest_is_kept(tmp_path):
    write_tree(tmp_path, {"labels.yml": "products:\n  cdn: {en: CDN, xx-nope-1: Nope}\n  live: Live\n"
                                        "colours:\n  red: {en: Red}\n"})
    labels, problems = load(tmp_path)
    assert labels.name("products", "cdn", "en") == "CDN"
    assert [(p.line, p.severity) for p in problems] == [(2, "warning"), (3, "warning"), (4, "warning")]
    assert "labels.yml" == problems[0].path and "colours" in problems[2].message
    write_tree(tmp_path, {"labels.yml": "products: [unclosed\n"})
    labels, problems = load(tmp_path)
    assert labels == Labels() and problems[0].severity == "error" and problems[0].line == 2


def test_lint_reads_the_labels_file_and_names_unlabelled_products_and_topics(tmp_path):
    write_tree(tmp_path, {"a.en.md": article("a", "en", "A", "Body."), "labels.yml": "topics: nope\n"})
    found = job.scan(tmp_path)
    assert any(p.path == "labels.yml" and p.line == 1 for p in found.problems)
    write_tree(tmp_path, {"a.en.md": article("a", "en", "A", "Body.", product="cdn", tags="[cdn, cache, ttl]"),
                          "b.en.md": article("b", "en", "B", "Body.", product="cdn", tags="[ops]", visibility="internal"),
                          "labels.yml": "topics:\n  cache: {en: Caching}\n"})
    missing = [p.message for p in job.scan(tmp_path).problems if p.code == "no-label"]
    assert len(missing) == 2 and "product 'cdn'" in missing[0] and "topic 'ttl'" in missing[1]  # not internal 'ops'
    assert not [p for p in job.scan(ROOT / "articles").problems if p.code == "no-label"]  # the sample names all


def test_catalog_knows_the_substantive_translation_and_the_featured_public_articles(gen):
    cat = gen.catalog
    outdated = cat.outdated_version("cdn-purge", "zh")
    assert outdated is not None and outdated.source_lang == "en" and outdated.source_updated == dt.date(2026, 11, 12)
    assert cat.outdated_version("cdn-purge", "en") is None
    assert cat.is_featured("cdn-purge") and not cat.is_featured("cdn-secret")  # internal: never featured
    assert cat.labels.name("topics", "cache", "zh") == "缓存"


def test_a_cosmetic_change_of_the_source_flags_nothing(make_fake_index):
    tree = dict(TREE)
    src = articles.parse(tree["cdn/purge.en.md"], "p.en.md")[0]
    tree["cdn/purge.zh.md"] = (tree["cdn/purge.zh.md"].replace("0a0a0a0a0a0a", src.content_hash)
                               .replace("/v1/", "/v2/").replace("2,000", "10,000"))
    tree["cdn/purge.en.md"] = tree["cdn/purge.en.md"].replace("Purge cached files.", "Purge the cached files.")
    _, index, _ = make_fake_index(tree)
    gen = open_generation(*current(index))
    assert gen.catalog.outdated_version("cdn-purge", "zh") is None


def test_products_and_topics_count_public_articles_only(gen):
    assert browse.products(gen) == [("cdn", 3)]  # the internal runbook and the internal-only product are left out
    page = browse.product(gen, "cdn", "zh")
    assert [(s.topic, [a.id for a in s.articles]) for s in page.sections] == [
        ("cache", ["cdn-purge", "cdn-rules"]), (None, ["cdn-cname"])]
    assert page.sections[0].articles[0].lang == "zh"  # the reader's version where it exists
    assert browse.product(gen, "ops", "en") is None
    assert [a.id for a in browse.topic(gen, "cdn", "runbook", "en")] == []
    assert [a.id for a in browse.featured(gen, "en")] == ["cdn-purge"]


def test_recent_is_newest_first_in_the_readers_language(gen):
    assert [a.id for a in browse.recent(gen, "en")] == ["cdn-purge", "cdn-rules", "cdn-cname"]


# --- the help center on the sample (fake embedder) ------------------------------

def test_outdated_translation_shows_the_notice_with_the_source_and_its_date(client):
    html = client.get("/zh/article/cdn-purge-cache").get_data(as_text=True)
    notice = re.search(r'<p class="notice notice-outdated"[^>]*>(.*?)</p>', html, re.S)
    assert notice, "no outdated notice on the Chinese purge article"
    assert "此译文可能已过时" in notice.group(1) and "2026年11月12日" in notice.group(1)
    assert 'href="/en/article/cdn-purge-cache"' in notice.group(1)
    en = client.get("/ru/article/cdn-purge-cache").get_data(as_text=True)
    assert "notice-outdated" not in en  # the Russian translation is current


def test_cosmetic_drift_and_source_versions_show_no_notice(client):
    for url in ("/zh/article/cdn-cname-setup", "/ru/article/cdn-cname-setup", "/en/article/cdn-purge-cache"):
        assert "notice-outdated" not in client.get(url).get_data(as_text=True), url


def test_notice_is_in_the_readers_ui_language(client):
    html = client.get("/ru/article/rtc-firewall-ports").get_data(as_text=True)
    assert "Этот перевод может быть устаревшим" in html


def test_api_carries_the_outdated_flag_next_to_the_version(client):
    zh = client.get("/api/articles/cdn-purge-cache?lang=zh").get_json()
    assert zh["lang"] == "zh" and zh["outdated"] is True
    assert zh["outdated_source"]["lang"] == "en" and zh["outdated_source"]["updated"] == "2026-11-12"
    assert zh["outdated_source"]["url"].endswith("/en/article/cdn-purge-cache")
    for lang in ("en", "ru"):
        data = client.get(f"/api/articles/cdn-purge-cache?lang={lang}").get_json()
        assert data["outdated"] is False and data["outdated_source"] is None
    assert client.get("/api/articles/cdn-cname-setup?lang=zh").get_json()["outdated"] is False


def test_home_shows_products_and_featured_articles_before_any_traffic(client):
    html = client.get("/zh/").get_data(as_text=True)
    assert "按产品浏览" in html and 'href="/zh/category/cdn"' in html and "CDN 加速" in html
    assert "/zh/category/internal" not in html


def test_a_fresh_install_shows_featured_articles_not_a_copy_of_the_recent_list(fake_web_index, fake_default_model,
                                                                              tmp_path):
    from web import create_app

    app = create_app({"INDEX": str(copy_index(fake_web_index, tmp_path / "fresh")), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "t"})
    html = app.test_client().get("/en/").get_data(as_text=True)
    featured, recent = html.split("Featured articles")[1].split("Recently updated")
    links = [re.findall(r'href="(/en/article/[^"]+)"', part) for part in (featured, recent)]
    assert "Popular articles" not in html and links[0] and links[1] and links[0] != links[1]
    assert set(links[0]) == {f"/en/article/{i}" for i in (
        "cdn-502-bad-gateway", "cdn-add-domain", "live-push-failed", "rtc-join-channel-errors",
        "account-reset-password", "billing-overdue-payment")}


def test_category_page_groups_articles_under_labelled_topics(client):
    html = client.get("/ru/category/cdn").get_data(as_text=True)
    assert "<h1>Ускорение CDN</h1>" in html
    assert "Кэширование" in html and "Ошибки" in html  # labels, not slugs
    assert 'href="/ru/article/cdn-purge-cache"' in html
    assert "internal" not in html.split('class="category-page"')[1]
    topic = client.get("/en/category/cdn/cache").get_data(as_text=True)
    assert "<h1>Caching</h1>" in topic and 'href="/en/article/cdn-purge-cache"' in topic


def test_unknown_or_internal_only_categories_are_404(client):
    assert client.get("/en/category/nope").status_code == 404
    assert client.get("/en/category/cdn/escalation").status_code == 404
    assert client.get("/en/category/CDN").status_code == 301


def test_article_page_links_its_product_and_topics(client):
    html = client.get("/en/article/cdn-purge-cache").get_data(as_text=True)
    assert 'href="/en/category/cdn">CDN acceleration</a>' in html
    assert 'href="/en/category/cdn/cache">Caching</a>' in html


def test_code_blocks_are_focusable_and_named_in_the_ui_language(client):
    html = client.get("/zh/article/cdn-502-bad-gateway").get_data(as_text=True)
    assert '<pre tabindex="0" role="group" aria-label="代码">' in html
    assert 'data-copy-label="复制"' in html


def test_a_label_change_alone_shows_after_the_next_index_run(make_fake_index):
    tree = dict(TREE)
    make_fake_index(tree)
    tree["labels.yml"] = TREE["labels.yml"].replace("CDN 加速", "内容分发")
    _, index, summary = make_fake_index(tree)
    assert summary.articles_changed == 0
    assert open_generation(*current(index)).catalog.labels.name("products", "cdn", "zh") == "内容分发"
