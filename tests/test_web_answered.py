"""Answered or not, on every web surface: the help center's no-answer page, `answered` in the API and its
OpenAPI description, agents' weak matches, and what the activity log and the gaps report keep of it.

`refuse` (tests/refusals.py) makes chosen searches come back not answered; these tests check the surfaces,
not the decision, so they run on the fake embedder.
"""

import csv
import html as htmllib
import io
import re
import uuid

import pytest

from kb.errors import KBError
from tests.refusals import refuse_searches
from tests.support import csrf_token, login, new_user, run_sql, searcher_of

MASH = "qwpoeiruty zmxncbv"  # keyboard mash: what the decision refuses
TICKET = "Hello, since this morning our site behind your CDN answers 502 Bad Gateway. What should we check?"
NO_ANSWER = {"en": ("We could not find an answer", "Closest articles", "Contact support"),
             "zh": ("我们没有找到答案", "最接近的文章", "联系技术支持"),
             "ru": ("Нам не удалось найти ответ", "Ближайшие статьи", "Связаться с поддержкой")}
WEAK = {"en": ("No confident answer.", "Weak match"), "zh": ("没有可靠的答案。", "弱匹配"),
        "ru": ("Уверенного ответа нет.", "Слабое совпадение")}


@pytest.fixture
def refuse(monkeypatch) -> set[str]:
    return refuse_searches(monkeypatch)


def text(response) -> str:
    return response.get_data(as_text=True)


def headings(html: str, level: int) -> list[str]:
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
            for h in re.findall(rf"<h{level}\b[^>]*>(.*?)</h{level}>", html, re.S)]


def closest_links(html: str) -> list[str]:
    listed = re.search(r'<ul class="article-list closest-list">(.*?)</ul>', html, re.S)
    return re.findall(r'href="([^"]+)"', listed.group(1)) if listed else []


def mash() -> str:
    """A keyboard mash of its own, so a test finds its rows in the shared activity log."""
    return f"{MASH} {uuid.uuid4().hex[:8]}"


# --- the help center ----------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_unanswered_search_shows_the_no_answer_page_with_up_to_three_closest_articles_and_contact_link(
        client, refuse, lang):
    refuse.add(MASH)
    r = client.get(f"/{lang}/search?q={MASH}")
    page = text(r)
    title, closest_title, contact = NO_ANSWER[lang]
    assert r.status_code == 200 and headings(page, 1) == [title]
    assert closest_title in headings(page, 2)
    links = closest_links(page)
    assert 1 <= len(links) <= 3 and all(link.startswith(f"/{lang}/article/") for link in links)
    assert 'class="result"' not in page and 'class="result-title"' not in page  # closest, not results
    assert f'href="/{lang}/contact/?subject=' in page and contact in page  # the contact form, subject filled
    assert MASH in htmllib.unescape(page)  # "nothing clearly answers “…”"


@pytest.mark.parametrize("lang, heading", [("en", "Results for “purge cache”"), ("zh", "“purge cache”的搜索结果"),
                                           ("ru", "Результаты по запросу «purge cache»")])
def test_search_results_page_has_one_top_level_heading_naming_the_query(client, refuse, lang, heading):
    page = text(client.get(f"/{lang}/search?q=purge cache"))
    assert headings(page, 1) == [heading]
    assert page.count('class="result"') >= 1 and "closest-list" not in page


def test_contact_link_is_the_contact_url_setting_when_set_and_absent_when_nothing_is_set(make_app, refuse):
    refuse.add(MASH)
    page = text(make_app(CONTACT_URL=None, CONTACT_FORM=False).test_client().get(f"/en/search?q={MASH}"))
    assert 'href="/en/article/contact-support"' in page  # without the form: the contact article
    url = "https://support.example.com/new-ticket?from=kb"
    page = text(make_app(CONTACT_URL=url).test_client().get(f"/en/search?q={MASH}"))
    assert f'href="{htmllib.escape(url)}"' in page
    bare = make_app(CONTACT_URL=None, CONTACT_FORM=False, CONTACT_ARTICLE=None)
    page = text(bare.test_client().get(f"/en/search?q={MASH}"))
    assert headings(page, 1) == ["We could not find an answer"] and 'class="contact"' not in page
    assert closest_links(page)


def test_a_later_page_of_an_unanswered_search_shows_the_same_closest_articles(client, refuse):
    refuse.add(MASH)
    first = closest_links(text(client.get(f"/en/search?q={MASH}")))
    later = text(client.get(f"/en/search?q={MASH}&page=2"))
    assert headings(later, 1) == ["We could not find an answer"]
    assert [link.split("?")[0] for link in closest_links(later)] == [link.split("?")[0] for link in first]


def test_filters_that_leave_nothing_show_the_no_answer_page_with_closest_articles_from_all(client):
    page = text(client.get("/en/search?q=purge cache&product=billing&tag=cdn"))
    assert headings(page, 1) == ["We could not find an answer"] and "No articles match" in page
    assert closest_links(page) and 'href="/en/search?q=purge+cache"' in page


def test_the_query_is_escaped_on_the_no_answer_page(client, refuse):
    q = '<script>alert("x")</script> “quoted” & more'
    refuse.add(q)
    page = text(client.get("/ru/search", query_string={"q": q}))
    assert headings(page, 1) == ["Нам не удалось найти ответ"]
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_unanswered_search_is_logged_as_failed_with_its_closest_articles_as_what_was_shown(client, refuse,
                                                                                           activity):
    q = mash()
    refuse.add(q)
    links = closest_links(text(client.get(f"/en/search?q={q}")))
    [(sid, answered, results)] = run_sql(activity, "SELECT id, answered, results FROM searches WHERE query = ?", (q,))
    shown = run_sql(activity, "SELECT article_id, rank FROM shown WHERE search_id = ? ORDER BY rank", (sid,))
    assert answered == 0 and results > 0
    assert [f"/en/article/{a}" for a, _ in shown] == [link.split("?")[0].split("#")[0] for link in links]
    assert [rank for _, rank in shown] == list(range(1, len(links) + 1))
    client.get(htmllib.unescape(links[1]))  # opening a closest article is a click of that search, and a view
    assert run_sql(activity, "SELECT rank FROM clicks WHERE search_id = ?", (sid,)) == [(2,)]


def test_answered_search_is_logged_as_answered(client, refuse, activity):
    q = f"purge cache {uuid.uuid4().hex[:6]}"
    client.get(f"/en/search?q={q}")
    assert run_sql(activity, "SELECT answered FROM searches WHERE query = ?", (q,)) == [(1,)]


# --- the API --------------------------------------------------------------------

def test_api_search_says_whether_it_answered_and_still_returns_the_closest_results(client, refuse, activity):
    q = mash()
    refuse.add(q)
    answered = client.get("/api/search?q=purge cache&k=3").get_json()
    refused = client.get("/api/search", query_string={"q": q, "k": 3}).get_json()
    assert answered["answered"] is True and refused["answered"] is False
    assert len(refused["results"]) == 3 and refused["total"] > 0
    assert run_sql(activity, "SELECT answered FROM searches WHERE id = ?", (refused["search_id"],)) == [(0,)]


def test_api_search_with_no_results_is_not_answered(client):
    data = client.get("/api/search?q=purge cache&product=billing&tag=cdn").get_json()
    assert data["total"] == 0 and data["answered"] is False


def test_api_suggest_says_whether_it_answered(client, refuse, activity, accounts):
    token = accounts.add_token(f"helpdesk-{uuid.uuid4().hex[:6]}")
    headers = {"Authorization": f"Bearer {token}"}
    answered = client.post("/api/suggest", json={"text": TICKET, "k": 3}, headers=headers).get_json()
    refuse.add(TICKET)
    weak = client.post("/api/suggest", json={"text": TICKET, "k": 3}, headers=headers).get_json()
    assert answered["answered"] is True and weak["answered"] is False
    # not answered: the same closest sections, without the internal runbooks (they would be unrelated)
    assert [a["id"] for a in weak["results"]] == [a["id"] for a in answered["results"]
                                                  if a["visibility"] == "public"] and weak["results"]
    assert run_sql(activity, "SELECT answered FROM searches WHERE id = ?", (weak["search_id"],)) == [(0,)]


def test_openapi_describes_answered_on_search_and_suggest_and_every_field_returned(client, refuse, accounts):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    for name in ("SearchResponse", "Suggestions"):
        assert schemas[name]["properties"]["answered"]["type"] == "boolean" and "answered" in schemas[name]["required"]
    refuse.add(MASH)
    token = accounts.add_token(f"openapi-{uuid.uuid4().hex[:6]}")
    search = client.get(f"/api/search?q={MASH}").get_json()
    suggest = client.post("/api/suggest", json={"text": MASH}, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert set(search) <= set(schemas["SearchResponse"]["properties"])
    assert set(suggest) <= set(schemas["Suggestions"]["properties"])



# --- the setting ----------------------------------------------------------------

def test_min_answer_score_setting_reaches_the_search_and_a_bad_value_stops_the_app(make_app):
    assert searcher_of(make_app(MIN_ANSWER_SCORE=0.7)).min_answer_score == 0.7
    assert searcher_of(make_app()).min_answer_score is None  # the decision's fitted threshold
    with pytest.raises(KBError, match="MIN_ANSWER_SCORE='high' .in the app's config.: expected a number from 0 to 1"):
        make_app(MIN_ANSWER_SCORE="high")

# --- agents -----------------------------------------------------------------------

def ask(client, message):
    token = csrf_token(client, "/agent/")
    return text(client.post("/agent/", data={"csrf_token": token, "text": message}))


@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_agents_see_the_closest_sections_of_an_unanswered_ticket_each_marked_weak(agent_client, refuse, lang):
    agent_client.set_cookie("kb_lang", lang)  # the agent pages' UI language
    confident = ask(agent_client, TICKET)
    refuse.add(TICKET)
    weak = ask(agent_client, TICKET)
    notice, label = WEAK[lang]
    answers = weak.count('<article class="answer')
    runbooks = confident.count('<article class="answer card answer-internal')  # left out when not answered
    assert answers >= 1 and answers == confident.count('<article class="answer') - runbooks
    assert "answer-internal" not in weak
    assert notice in weak and weak.count(f'<span class="badge badge-weak">{label}</span>') == answers
    assert notice not in confident and "badge-weak" not in confident


# --- writers ----------------------------------------------------------------------

def test_gaps_report_counts_the_searches_that_were_not_answered(client, refuse, activity):
    q = f"{uuid.uuid4().hex[:10]} {uuid.uuid4().hex[:10]}"  # a mash no other test's search clusters with
    refuse.add(q)
    client.get(f"/en/search?q={q}")
    client.get("/api/search", query_string={"q": q})
    login(client, new_user(activity, "writer"))
    assert "Not answered" in text(client.get("/writers/gaps"))
    rows = list(csv.DictReader(io.StringIO(text(client.get("/writers/gaps.csv")).lstrip("\ufeff"))))
    row = next(r for r in rows if q in r["examples"])
    assert int(row["unanswered"]) >= 2 and int(row["volume"]) >= int(row["unanswered"])

