"""Internal articles never reach a public caller: search, snippets, suggestions, related links,
language switchers, the API, article URLs (with any language code or letter case), error pages.

Through the real model, on the sample and on small mixed knowledge bases; tests/test_properties.py checks the
same surfaces on generated knowledge bases with the fake embedder."""

import pytest

from web import create_app
from tests.support import SMALL_KB, article, csrf_token, error_of, internal_ids, searcher_of

pytestmark = pytest.mark.slow  # the sample indexed with the real model (see index_dir in tests/conftest.py)
LANGS = ("en", "zh", "ru", "es")


def same_page(a: str, b: str, a_id: str, b_id: str) -> bool:
    return a.replace(a_id, "ID") == b.replace(b_id, "ID")


@pytest.fixture
def secrets(app):
    """Internal ids and words that appear only in internal articles of the sample."""
    ids = internal_ids(app)
    assert len(ids) >= 5
    return ids


def test_internal_article_urls_are_404_exactly_like_missing_ones(client, secrets):
    for art_id in secrets:
        for lang in LANGS:
            hidden = client.get(f"/{lang}/article/{art_id}")
            missing = client.get(f"/{lang}/article/no-such-article-x")
            assert hidden.status_code == missing.status_code == 404
            assert same_page(hidden.get_data(as_text=True), missing.get_data(as_text=True), art_id,
                             "no-such-article-x")


def test_case_and_language_code_variants_of_internal_urls_behave_like_missing_ones(client, secrets):
    art_id = secrets[0]
    for variant in (f"/ZH/article/{art_id.upper()}", f"/zh-CN/article/{art_id}", f"/EN/article/{art_id.title()}"):
        hidden = client.get(variant, follow_redirects=True)
        missing = client.get(variant.replace(art_id.upper(), "NO-SUCH").replace(art_id.title(), "No-Such")
                             .replace(art_id, "no-such"), follow_redirects=True)
        assert hidden.status_code == missing.status_code == 404
        assert same_page(hidden.get_data(as_text=True), missing.get_data(as_text=True), art_id, "no-such")


def test_api_article_and_feedback_treat_internal_as_missing(client, secrets):
    for art_id in secrets:
        r = client.get(f"/api/articles/{art_id}")
        assert r.status_code == 404 and error_of(r)["message"] == f"no public article {art_id!r}"
        fb = client.post("/api/feedback", json={"article_id": art_id, "lang": "en", "helpful": True})
        assert fb.status_code == 404
    token = csrf_token(client, "/en/article/rtc-echo")
    assert client.post(f"/en/article/{secrets[0]}/feedback",
                       data={"csrf_token": token, "helpful": "yes"}).status_code == 404


QUERIES = ["nimbus-edgectl trace", "escalation matrix L2 on-call", "refund approval over limit",
           "VIP customer handling", "账号解冻", "HKG PoP incident postmortem", "сбор логов RTC внутренний"]


@pytest.mark.parametrize("q", QUERIES)
def test_search_pages_api_and_suggestions_show_no_internal_article(client, secrets, q):
    for lang in ("en", "zh", "ru"):
        html = client.get(f"/{lang}/search", query_string={"q": q}).get_data(as_text=True)
        assert not any(s in html for s in secrets), (lang, q)
        assert "Internal" not in html and "内部" not in html
    api = client.get("/api/search", query_string={"q": q, "k": 50}).get_json()
    assert all(r["visibility"] == "public" and r["id"] not in secrets for r in api["results"])
    ac = client.get("/api/autocomplete", query_string={"q": q}).get_json()
    assert all(s["id"] not in secrets for s in ac["suggestions"])


def test_no_public_page_links_to_an_internal_article(app, client, secrets):
    public = sorted({a.id for a in searcher_of(app).store.articles(public_only=True)})
    pages = ["/en/", "/zh/", "/ru/", "/es/"] + [f"/en/article/{a}" for a in public] + [f"/zh/article/{a}" for a in public[:10]]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert not any(s in html for s in secrets), path


MIXED_KB = {
    **SMALL_KB,
    "mixed/guide.en.md": article("mixed-guide", "en", "Origin shield setup guide", """
        Turn on the origin shield to reduce origin load. See [the edge tool](internal-edgectl#trace-a-502)
        and [the 502 guide](cdn-502).

        ## Enable the shield
        Open the domain settings and switch Origin shield on.
        """, product="cdn"),
    "mixed/guide.ru.md": article("mixed-guide", "ru", "Щит источника: черновик перевода", """
        Черновик для сотрудников: щит источника снижает нагрузку на источник.
        """, product="cdn", visibility="internal"),
    "internal/ja.ja.md": article("internal-ja-only", "ja", "内部向けの手順書", """
        社内限定の手順です。オリジンシールドの設定。
        """, product="cdn", visibility="internal"),
}


@pytest.fixture
def mixed_client(make_index):
    _, index, _ = make_index(MIXED_KB, name="mixed")
    return create_app({"TESTING": True, "INDEX": str(index), "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "x"}).test_client()


def test_mixed_visibility_article_hides_its_internal_translation_and_internal_links(mixed_client):
    html = mixed_client.get("/en/article/mixed-guide").get_data(as_text=True)
    assert "internal-edgectl" not in html and "<span>the edge tool</span>" in html
    assert 'href="/en/article/cdn-502"' in html
    # no "read in" links: the only other translation is internal (the header switcher links every language)
    assert 'class="read-in"' not in html and 'hreflang="ru" href' not in html and "черновик" not in html.lower()
    ru = mixed_client.get("/ru/article/mixed-guide").get_data(as_text=True)
    assert "Origin shield setup guide" in ru and "Черновик" not in ru  # the public English version, flagged
    api = mixed_client.get("/api/articles/mixed-guide?lang=ru").get_json()
    assert api["languages"] == ["en"] and api["lang"] == "en" and api["fallback"] is True
    assert "internal-edgectl" not in api["html"]


def test_a_language_with_only_internal_articles_is_not_offered(mixed_client):
    html = mixed_client.get("/en/").get_data(as_text=True)
    assert 'hreflang="ja"' not in html and "日本語" not in html
    assert mixed_client.get("/ja/").status_code == 404


def test_public_search_never_shows_the_internal_translation(mixed_client):
    for q in ("щит источника черновик", "origin shield", "オリジンシールド"):
        data = mixed_client.get("/api/search", query_string={"q": q, "lang": "ru", "k": 50}).get_json()
        assert all(r["visibility"] == "public" for r in data["results"])
        assert all(not (r["id"] == "mixed-guide" and r["lang"] == "ru") for r in data["results"])
        assert all(r["id"] not in ("internal-edgectl", "internal-ja-only") for r in data["results"])
        html = mixed_client.get("/ru/search", query_string={"q": q}).get_data(as_text=True)
        assert "Черновик" not in html and "internal-" not in html


def test_rendered_article_pages_are_cached_until_a_new_index_hides_a_linked_article(make_index):
    """Article pages are rendered once per generation; a link to an article made internal disappears."""
    from indexer import job

    articles, index, _ = make_index(MIXED_KB, name="cached")
    app = create_app({"TESTING": True, "INDEX": str(index), "RATELIMIT_ENABLED": False, "SECRET_KEY": "x"})
    client = app.test_client()
    first = client.get("/en/article/mixed-guide").get_data(as_text=True)
    assert 'href="/en/article/cdn-502"' in first
    assert client.get("/en/article/mixed-guide").get_data(as_text=True) == first
    assert len(app.extensions["polykb"]["rendered"]) == 1  # the second view came from the cache
    api_html = client.get("/api/articles/mixed-guide?lang=en").get_json()["html"]
    assert 'href="http://localhost/en/article/cdn-502"' in api_html  # the API's absolute links, not the page's

    for path in (articles / "cdn").glob("502.*.md"):
        path.write_text(path.read_text().replace("product: cdn", "product: cdn\nvisibility: internal"))
    job.run(articles, index, progress=False)
    searcher_of(app).notice_new_generation()  # as the editor's publish does: not up to a second later
    after = client.get("/en/article/mixed-guide").get_data(as_text=True)
    assert "cdn-502" not in after
    assert "cdn-502" not in client.get("/api/articles/mixed-guide").get_json()["html"]
