"""The public help center: home, search, article pages, feedback, with the sample knowledge base.

Tests of what a search finds are `slow`: they run on the sample indexed with the real model (tests/conftest.py).
"""

import re
import uuid

import pytest

from tests.support import csrf_token, run_sql


def text(response) -> str:
    return response.get_data(as_text=True)


def result_links(html: str) -> list[str]:
    return re.findall(r'class="result-title"[^>]*href="([^"]+)"', html)


def test_home_has_search_box_language_switcher_and_article_lists(client):
    html = text(client.get("/zh/"))
    assert 'name="q"' in html and 'data-autocomplete="/api/autocomplete"' in html
    assert 'hreflang="ru"' in html and 'hreflang="en"' in html
    assert ("热门文章" in html or "精选文章" in html) and "最近更新" in html  # featured before any traffic
    assert html.count('class="article-item"') >= 8


def test_home_popular_articles_follow_views(client):
    for _ in range(30):
        client.get("/ru/article/rtc-echo")
    html = text(client.get("/ru/"))
    popular = html.split("Популярные статьи")[1].split("Недавно обновлённые")[0]
    assert "/ru/article/rtc-echo" in popular


@pytest.mark.slow
def test_search_in_chinese_shows_chinese_results_with_highlights_and_section_links(client):
    html = text(client.get("/zh/search?q=推流失败"))
    links = result_links(html)
    assert links and links[0].startswith("/zh/article/live-push-failed?s=")
    assert "<mark>" in html and "篇文章" in html


@pytest.mark.slow
def test_search_in_russian_and_english(client):
    ru = text(client.get("/ru/search?q=ошибка 502 на CDN"))
    assert result_links(ru)[0].startswith("/ru/article/cdn-502-bad-gateway")
    en = text(client.get("/en/search?q=how do I download my invoice"))
    assert result_links(en)[0].startswith("/en/article/billing-invoices")


@pytest.mark.slow
def test_result_link_points_at_the_best_sections_anchor(client):
    html = text(client.get("/en/search?q=allow the edge IP ranges in the firewall"))
    first = result_links(html)[0]
    assert "#" in first and 'class="result-section"' in html


@pytest.mark.slow
def test_article_missing_in_the_visitors_language_is_shown_with_a_note(client):
    html = text(client.get("/zh/search?q=refund policy"))
    assert "暂无中文版本" in html
    page = text(client.get("/zh/article/billing-refunds"))
    assert "这篇文章暂无中文版本" in page and 'lang="en"' in page


def test_every_search_is_logged_without_ip_and_clicks_are_logged(client, activity):
    q = f"purge cache {uuid.uuid4().hex[:6]}"
    html = text(client.get(f"/en/search?q={q}", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                           headers={"User-Agent": "Secret/1.0"}))
    row = run_sql(activity, "SELECT id, query, ui_lang, audience, route, results FROM searches WHERE query = ?", (q,))
    assert len(row) == 1 and row[0][2:5] == ("en", "public", "help_center") and row[0][5] > 0
    dump = "\n".join(str(r) for t in ("searches", "shown", "clicks", "views") for r in run_sql(activity, f"SELECT * FROM {t}"))
    assert "203.0.113.9" not in dump and "Secret/1.0" not in dump
    link = result_links(html)[1].replace("&amp;", "&")
    client.get(link)
    clicks = run_sql(activity, "SELECT article_id, rank FROM clicks WHERE search_id = ?", (row[0][0],))
    assert clicks and clicks[0][1] == 2 and clicks[0][0] in link


def test_filters_by_product_and_tag(client):
    html = text(client.get("/en/search?q=error&product=rtc"))
    assert result_links(html) and all("/article/rtc-" in link for link in result_links(html))
    assert '<option value="rtc" selected>' in html
    tagged = text(client.get("/en/search?q=error&tag=billing"))
    assert all("/article/billing-" in link for link in result_links(tagged))


def test_pagination(make_app):
    client = make_app(PAGE_SIZE=2).test_client()  # an answered search shows only the results near the first
    first = text(client.get("/en/search?q=cdn"))
    second = text(client.get("/en/search?q=cdn&page=2"))
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert set(result_links(first)).isdisjoint(result_links(second))
    assert 'start="3"' in second


def test_bad_page_numbers_are_400_pages_not_500(client):
    for page in ("0", "abc", "-1", "999"):
        r = client.get(f"/en/search?q=cdn&page={page}")
        assert r.status_code == 400 and "page number" in text(r)


def test_overlong_query_is_a_400_with_a_message_and_empty_query_goes_home(client):
    r = client.get("/en/search?q=" + "x" * 501)
    assert r.status_code == 400 and "501" in text(r)
    assert client.get("/en/search?q=%20").headers["Location"].endswith("/en/")


@pytest.mark.slow
def test_no_results_page_offers_closest_articles_and_contact_support(client):
    r = client.get("/en/search?q=purge cache&product=billing&tag=cdn")
    html = text(r)
    assert r.status_code == 200 and "No articles match" in html
    assert "Closest articles" in html and "/en/article/cdn-purge-cache" in html
    assert 'href="/en/contact/?subject=purge+cache"' in html
    zh = text(client.get("/zh/search?q=purge cache&product=billing&tag=cdn"))
    assert "没有与" in zh and "联系技术支持" in zh


def test_article_page_renders_markdown_with_anchors_toc_languages_related_and_feedback(client):
    html = text(client.get("/en/article/cdn-502-bad-gateway"))
    assert "<h1>502 Bad Gateway from the CDN edge</h1>" in html
    assert 'id="fix"' in html and 'href="#fix"' in html  # toc
    assert "<table" in html and re.search(r'<code [^>]*class="[^"]*\blanguage-bash\b', html)
    assert 'href="/en/article/cdn-504-gateway-timeout"' in html  # article link rewritten
    assert re.search(r'Read in:.*中文.*Русский', html, re.S)
    assert 'href="/zh/article/cdn-502-bad-gateway"' in html
    assert "Related articles" in html and "Was this article helpful?" in html
    assert 'name="csrf_token"' in html and "Last reviewed" in html


def test_article_ids_are_case_insensitive_by_redirect(client):
    r = client.get("/en/article/CDN-502-Bad-Gateway")
    assert r.status_code == 301 and r.headers["Location"].endswith("/en/article/cdn-502-bad-gateway")


def test_article_views_are_logged(client, activity):
    before = run_sql(activity, "SELECT count(*) FROM views WHERE article_id='cdn-purge-cache' AND lang='ru'")[0][0]
    client.environ_base["HTTP_USER_AGENT"] = f"reader-{uuid.uuid4()}"  # a reader not yet counted in this window
    client.get("/ru/article/cdn-purge-cache")
    after = run_sql(activity, "SELECT count(*) FROM views WHERE article_id='cdn-purge-cache' AND lang='ru'")[0][0]
    assert after == before + 1


def test_feedback_is_stored_with_csrf_and_thanks_the_visitor(client, activity):
    reason = f"steps were clear {uuid.uuid4().hex[:6]}"
    token = csrf_token(client, "/ru/article/rtc-echo")
    r = client.post("/ru/article/rtc-echo/feedback", data={"csrf_token": token, "helpful": "yes", "version": "ru",
                                                           "reason": reason})
    assert r.status_code == 303 and r.headers["Location"].endswith("/ru/article/rtc-echo?feedback=thanks#feedback")
    row = run_sql(activity, "SELECT article_id, lang, helpful, source FROM feedback WHERE reason = ?", (reason,))
    assert row == [("rtc-echo", "ru", 1, "help_center")]
    assert "Спасибо за отзыв!" in text(client.get("/ru/article/rtc-echo?feedback=thanks"))


def test_feedback_without_csrf_token_is_refused(client, activity):
    reason = f"no token {uuid.uuid4().hex[:6]}"
    r = client.post("/en/article/rtc-echo/feedback", data={"helpful": "no", "reason": reason})
    assert r.status_code == 400 and "form expired" in text(r)
    assert not run_sql(activity, "SELECT 1 FROM feedback WHERE reason = ?", (reason,))


def test_feedback_validates_input(client):
    token = csrf_token(client, "/en/article/rtc-echo")
    assert client.post("/en/article/rtc-echo/feedback", data={"csrf_token": token, "helpful": "maybe"}).status_code == 400
    assert client.post("/en/article/rtc-echo/feedback",
                       data={"csrf_token": token, "helpful": "yes", "version": "es"}).status_code == 400
    assert client.post("/en/article/nope/feedback", data={"csrf_token": token, "helpful": "yes"}).status_code == 404


def test_unknown_article_is_a_friendly_404_page(client):
    r = client.get("/zh/article/does-not-exist")
    assert r.status_code == 404 and "找不到这篇文章" in text(r) and 'name="q"' in text(r)


def test_search_is_rate_limited_with_a_429_page(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="2 per minute").test_client()
    assert client.get("/en/search?q=cdn").status_code == 200
    assert client.get("/en/search?q=cdn").status_code == 200
    r = client.get("/en/search?q=cdn")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "Too many requests" in text(r)


def test_feedback_is_rate_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FEEDBACK="1 per minute").test_client()
    token = csrf_token(client, "/en/article/rtc-echo")
    data = {"csrf_token": token, "helpful": "yes"}
    assert client.post("/en/article/rtc-echo/feedback", data=data).status_code == 303
    assert client.post("/en/article/rtc-echo/feedback", data=data).status_code == 429


def test_header_language_switcher_keeps_the_page(client):
    html = text(client.get("/en/search?q=cdn&product=cdn"))
    assert 'href="/zh/search?q=cdn&amp;product=cdn"' in html
    article = text(client.get("/en/article/rtc-echo"))
    assert 'href="/ru/article/rtc-echo"' in article
