"""Content-health reports: every planted problem found, nothing in a clean control.

The reports that compare meanings (duplicates, gaps) run on the real model (`slow`); the others on the fake
embedder (tests/conftest.py `make_tier_index`)."""

import csv
import datetime as dt
import io
import json

import pytest

from kb import reports
from kb.reports import text as report_text
from kb.articles.model import content_hash
from kb.search.searcher import Searcher
from tests.support import activity_at, article

TODAY = dt.date(2026, 11, 21)
SOURCE = """Clear cached files from the edge.

## Purge with the API
Send `curl -X POST https://api.example/v2/purge -d '{"paths": ["/a.js"]}'`.

## Limits
You can purge 10,000 URLs a day.
"""
OLD_SOURCE = SOURCE.replace("v2/purge", "v1/purge").replace('"paths"', '"urls"').replace("10,000", "2,000")
TYPO_SOURCE = "DNS propagation usually takes 10 minutes.\n\n## Check\nRun `dig +short cdn.example.com`.\n"
RU_PURGE_OLD = """Очистите кэш на узлах.

## Очистка через API
Отправьте `curl -X POST https://api.example/v1/purge -d '{"urls": ["/a.js"]}'`.

## Ограничения
Можно очищать 2 000 URL в сутки.
"""
ZH_CNAME = "DNS 生效通常需要 10 分钟。\n\n## 检查\n执行 `dig +short cdn.example.com`。\n"
OBS_EN = """Put `rtmp://push.example/live` in Server and the stream name in Stream Key.

| Setting | Value |
|---|---|
| Keyframe interval | 2 s |
| Video bitrate | 4500 Kbps, CBR |
| Resolution | 1920x1080, 30 fps |
| Audio | AAC, 128 kbps, 48000 Hz |
"""
OBS_RU = """Укажите `rtmp://push.example/live` в поле «Сервер», а имя потока — в поле «Ключ потока».

| Параметр | Значение |
|---|---|
| Интервал ключевых кадров | 2 с |
| Битрейт видео | 4500 Кбит/с, CBR |
| Разрешение | 1920x1080, 30 кадров/с |
| Звук | AAC, 128 Кбит/с, 48000 Гц |
"""
FRESH = dict(reviewed="2026-11-01", review_every=180)


def kb_with_problems():
    return {
        "purge.en.md": article("cdn-purge", "en", "Purge the cache", SOURCE, **FRESH),
        "purge.ru.md": article("cdn-purge", "ru", "Очистка кэша", RU_PURGE_OLD, translated_from="en",
                               source_hash=content_hash(OLD_SOURCE), **FRESH),
        "cname.en.md": article("cdn-cname", "en", "CNAME set-up", TYPO_SOURCE, **FRESH),
        "cname.zh.md": article("cdn-cname", "zh", "配置 CNAME", ZH_CNAME, translated_from="en",
                               source_hash=content_hash(TYPO_SOURCE.replace("propagation", "propogation")), **FRESH),
        "old.en.md": article("billing-old", "en", "Old billing FAQ", "Invoices are emailed monthly.",
                             reviewed="2025-01-01", review_every=90),
        "links.en.md": article("links", "en", "Links", "See [gone](no-such-article) and [x](cdn-purge#nowhere).", **FRESH),
        "obs.en.md": article("live-obs", "en", "Set up OBS for live streaming", OBS_EN, **FRESH),
        "obs-copy.ru.md": article("live-obs-ru", "ru", "Настройка OBS для трансляции", OBS_RU, **FRESH),
        "wifi.en.md": article("router-wifi", "en", "Change the Wi-Fi password of the router",
                              "Open 192.168.1.1, log in and change the WPA2 key under Wireless.", **FRESH),
        "invoice.en.md": article("invoices", "en", "Download invoices", "Open Billing → Invoices and download the PDF.", **FRESH),
    }


def kb_clean():
    return {
        "purge.en.md": article("cdn-purge", "en", "Purge the cache", SOURCE, **FRESH),
        "purge.zh.md": article("cdn-purge", "zh", "刷新缓存", SOURCE.replace("Clear cached files from the edge.", "刷新边缘节点上的缓存。"),
                               translated_from="en", source_hash=content_hash(SOURCE), **FRESH),
        "wifi.en.md": article("router-wifi", "en", "Change the Wi-Fi password of the router",
                              "Open 192.168.1.1, log in and change the WPA2 key under Wireless.", **FRESH),
        "invoice.en.md": article("invoices", "en", "Download invoices", "Open Billing → Invoices and download the PDF.", **FRESH),
        "obs.en.md": article("live-obs", "en", "Set up OBS for live streaming", "Put the server URL and stream key in OBS.", **FRESH),
    }


def context(index):
    s = Searcher(index)
    return reports.Context(store=s.store, activity=activity_at(index / "activity.sqlite"), today=TODAY,
                           embedder=s.embedder, searcher=s)


@pytest.fixture
def problems(make_tier_index):
    return context(make_tier_index(kb_with_problems(), name="problems")[1])


@pytest.fixture
def clean(make_tier_index):
    return context(make_tier_index(kb_clean(), name="clean")[1])


def test_overdue_reviews_are_reported_with_days(problems, clean):
    rows = reports.run("stale", problems)
    assert [(r["id"], r["status"]) for r in rows] == [("billing-old", "overdue")]
    assert rows[0]["overdue_days"] == (TODAY - dt.date(2025, 4, 1)).days
    assert reports.run("stale", clean) == []


def test_changed_command_flags_the_translation_and_a_typo_fix_does_not(problems, clean):
    rows = {(r["id"], r["lang"]): r for r in reports.run("translations", problems)}
    purge = rows[("cdn-purge", "ru")]
    assert purge["severity"] == "substantive"
    assert purge["change"] == "source-changed" and purge["sections"] == ["Purge with the API", "Limits"]
    limits = purge["changes"][1]
    assert (limits["section"], limits["source_only"], limits["translation_only"]) == ("Limits", ["10000"], ["2000"])
    cname = rows[("cdn-cname", "zh")]
    assert (cname["severity"], cname["sections"], cname["changes"]) == ("cosmetic", [], [])
    assert reports.run("translations", clean) == []


def test_broken_links_and_anchors(problems, clean):
    rows = reports.run("links", problems)
    assert sorted((r["problem"], r["target"], r["anchor"]) for r in rows) == [
        ("broken-anchor", "cdn-purge", "nowhere"), ("broken-link", "no-such-article", None)]
    assert reports.run("links", clean) == []


@pytest.mark.slow  # found by meaning: the real model
def test_unlinked_translation_is_found_across_languages(problems, clean):
    rows = reports.run("duplicates", problems)
    assert [(r["kind"], {r["id"], r["other_id"]}) for r in rows] == [
        ("unlinked-translation", {"live-obs", "live-obs-ru"})]
    assert reports.run("duplicates", clean) == []


def test_feedback_and_agent_marks(problems, clean):
    act = problems.activity
    for helpful in (0, 0, 1, 0):
        act.add_feedback("invoices", "en", bool(helpful), "PDF link is broken" if not helpful else None)
    act.add_feedback("router-wifi", "en", True, None)
    act.add_mark("live-obs", "en", "not_relevant", "obs black screen", "agent1")
    rows = {r["id"]: r for r in reports.run("feedback", problems)}
    assert set(rows) == {"invoices", "live-obs"}
    assert rows["invoices"]["helpful_share"] == 0.25 and rows["invoices"]["reasons"] == ["PDF link is broken"] * 3
    assert reports.run("feedback", clean) == []


def test_unused_and_missing_translations_ranked_by_demand(problems):
    act = problems.activity
    act.log_view("router-wifi", "en", "en", "public")
    act.log_search("wifi 密码", "zh", "zh", "public", "search", [("router-wifi", "en", 0.9)], 1)
    act.log_search("wifi 密码 修改", "zh", "zh", "public", "search", [("router-wifi", "en", 0.9)], 1)
    unused = {r["id"] for r in reports.run("unused", problems)}
    assert "router-wifi" not in unused and "invoices" in unused
    missing = reports.run("missing", problems)
    assert (missing[0]["id"], missing[0]["missing_lang"], missing[0]["demand"]) == ("router-wifi", "zh", 2)


@pytest.mark.slow  # found by meaning: the real model
def test_search_gaps_cluster_the_same_need_across_languages(problems, clean):
    act = problems.activity
    for q, lang in [("how to change wifi password", "en"), ("如何修改 wifi 密码", "zh"), ("как поменять пароль wifi", "ru"),
                    ("refund my money", "en"), ("вернуть деньги за тариф", "ru")]:
        act.log_search(q, lang, lang, "public", "search", [], 0)
    # a help-center search with results that nobody clicked failed too; a clicked one did not
    act.log_search("wi-fi пароль сменить", "ru", "ru", "public", "help_center", [("router-wifi", "en", 0.4)], 1)
    clicked = act.log_search("router wifi password", "en", "en", "public", "help_center", [("router-wifi", "en", 0.9)], 1)
    act.log_click(clicked, "router-wifi", "en", 1)
    rows = reports.run("gaps", problems)
    wifi = next(r for r in rows if "how to change wifi password" in r["examples"])
    assert "wi-fi пароль сменить" in wifi["examples"] and "router wifi password" not in wifi["examples"]
    assert wifi["volume"] == 4 and wifi["langs"] == ["en", "ru", "zh"]
    assert wifi["nearest_id"] == "router-wifi" and (wifi["action"], wifi["action_langs"]) == ("translate", ["ru", "zh"])
    assert sum(r["volume"] for r in rows) == 6
    assert reports.run("gaps", clean) == []


@pytest.mark.slow  # found by meaning: the real model
def test_priority_queue_ranks_by_severity_and_traffic(problems):
    for _ in range(20):
        problems.activity.log_view("cdn-purge", "ru", "ru", "public")
    rows = reports.run("priority", problems)
    assert rows[0]["id"] == "cdn-purge" and rows[0]["report"] == "translations"
    assert {r["report"] for r in rows} >= {"translations", "stale", "links", "duplicates"}


def test_rows_render_as_table_csv_and_json(problems):
    rows = reports.run("stale", problems)
    assert reports.render(rows, "csv").splitlines()[0].startswith("id,lang,title")
    assert '"billing-old"' in reports.render(rows, "json")
    assert "billing-old" in reports.render(rows, "table")


def test_the_terminal_words_the_facts_in_english_and_csv_and_json_keep_them_as_fields(problems):
    rows = reports.run("translations", problems)
    table = reports.render(rows, "table", "translations")
    assert "§Purge with the API: source has" in table and "wording only: numbers, code, links and steps agree" in table
    ru = next(r for r in rows if r["lang"] == "ru")
    assert "| §Limits: source has 10000; translation still has 2000" in report_text.section_changes(ru)
    csv_row = next(r for r in csv.DictReader(io.StringIO(reports.render(rows, "csv", "translations")))
                   if r["lang"] == "ru")
    assert csv_row["sections"] == "Purge with the API | Limits" and csv_row["change"] == "source-changed"
    assert json.loads(csv_row["changes"])[1]["source_only"] == ["10000"]
    as_json = {(r["id"], r["lang"]): r for r in json.loads(reports.render(rows, "json", "translations"))}
    assert as_json[("cdn-purge", "ru")]["changes"][1]["translation_only"] == ["2000"]
    links = reports.render(reports.run("links", problems), "table", "links")
    assert "link to a missing section" in links and "cdn-purge#nowhere" in links
    queue = reports.render(reports.run("priority", problems), "table", "priority")
    assert "substantive: 2 section(s) changed in the source" in queue
    assert "link to a missing article: no-such-article" in queue
