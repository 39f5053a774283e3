"""The help center for readers of either Chinese script: zh-Hant pages, converted articles, the fallback order."""

from kb.text import chinese
from tests.support import searcher_of


def test_a_zh_hant_reader_reads_a_simplified_only_article_converted_and_told_so(client):
    html = client.get("/zh-Hant/article/cdn-https-upload-certificate").get_data(as_text=True)
    assert "<h1>為加速域名上傳 HTTPS 憑證</h1>" in html or "<h1>為加速域名上傳 HTTPS 證書</h1>" in html
    assert "notice-converted" in html and "自动转换" in html  # the zh interface, the version's name
    assert 'lang="zh-Hant"' in html and "为加速域名上传" not in html.split("<h1>", 1)[1].split("</article>")[0]


def test_a_zh_hant_reader_of_an_english_only_article_gets_english_without_conversion(client):
    html = client.get("/zh-Hant/article/billing-refunds").get_data(as_text=True)
    assert "<h1>Refunds: what can be refunded and how to request one</h1>" in html
    assert "notice-converted" not in html and "notice-lang" in html


def test_zh_hant_is_offered_where_the_knowledge_base_has_chinese(client):
    home = client.get("/zh-Hant/")
    assert home.status_code == 200 and 'hreflang="zh-Hant"' in home.get_data(as_text=True)
    assert client.get("/zh-TW/").status_code == 301 and client.get("/zh-TW/").location.endswith("/zh-Hant/")


def test_search_results_for_a_zh_hant_reader_are_converted(app):
    searcher = searcher_of(app)
    resp = searcher.search("HTTPS", ui_lang="zh-Hant", mode="keyword", k=100)  # Latin on a zh-Hant page: theirs
    found = next(r for r in resp.results if r.id == "cdn-https-upload-certificate")
    assert resp.lang == "zh-Hant" and found.converted and found.lang == "zh"
    assert found.title == chinese.convert("为加速域名上传 HTTPS 证书", "zh-Hant") != "为加速域名上传 HTTPS 证书"
