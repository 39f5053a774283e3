"""Property: whatever the knowledge base and the query, a public caller never sees an internal article.

Hypothesis builds knowledge bases that mix public and internal articles in
en/zh/ru: translation groups with a public version in one language and an
internal one in another, public articles linking to internal ones, and a
unique marker word in the title and every section of each version. Every
public surface is then asked about them (searches in every language, the
JSON API, autocomplete, article pages by every id in every language and letter
case, related articles, language switchers, error pages) and none may show an
internal id, title or marker.

Indexing each generated knowledge base with the real model would take minutes,
and this property is about logic, not meaning: the fake embedder of
tests/conftest.py (words hashed into 384 dimensions) indexes them. The same
surfaces are checked through the real model in test_web_visibility.py.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import job
from web import create_app
from tests.editing_support import client_as, form_of, wait_index
from tests.support import article, examples, index_runner, write_tree

LANGS = ("en", "zh", "ru")
VOCAB = {
    "en": ["cdn", "origin", "cache", "error", "password", "invoice", "stream", "edge", "timeout", "firewall", "reset"],
    "zh": ["缓存", "源站", "错误", "密码", "发票", "推流", "边缘", "超时", "防火墙", "重置"],
    "ru": ["кэш", "источник", "ошибка", "пароль", "счёт", "трансляция", "узел", "таймаут", "сброс", "токен"],
}
# Markers are delimited on both sides, so no marker is a substring of another, of an id or of the vocabulary.
MARKER_FORMS = ("zx{}q", "жю{}щ", "秘{}藏")


# --- generated knowledge bases ------------------------------------------------

@dataclass
class Version:
    id: str
    lang: str
    public: bool
    title: str
    markers: list[str]
    body: str
    links: list[str] = field(default_factory=list)  # ids this version links to


@dataclass
class KB:
    versions: list[Version]
    queries: list[str] = field(default_factory=list)

    def ids(self, public: bool) -> set[str]:
        return {v.id for v in self.versions if v.public == public}

    @property
    def secret_ids(self) -> set[str]:
        return self.ids(False) - self.ids(True)

    @property
    def public_ids(self) -> set[str]:
        return self.ids(True)

    def public_langs(self, art_id: str) -> set[str]:
        return {v.lang for v in self.versions if v.id == art_id and v.public}

    @property
    def secrets(self) -> list[str]:
        """Strings no public response may contain: internal-only ids, internal titles and markers."""
        out = set(self.secret_ids)
        for v in self.versions:
            if not v.public:
                out |= {v.title, *v.markers}
        return sorted(out)

    def files(self) -> dict[str, str]:
        return {f"{v.lang}/{v.id}.{v.lang}.md": article(v.id, v.lang, v.title, v.body,
                                                          visibility="public" if v.public else "internal")
                for v in self.versions}


slugs = st.from_regex(r"[a-fh-jl-pr-wy0-9]{1,8}", fullmatch=True)  # no g, k, q, x, z: those delimit ids and markers


@st.composite
def knowledge_bases(draw) -> KB:
    n_groups = draw(st.integers(2, 5))
    counter = iter(range(1000))
    ids = [f"{draw(slugs)}-g{i}k" for i in range(n_groups)]
    versions: list[Version] = []
    for art_id in ids:
        kind = draw(st.sampled_from(["public", "internal", "mixed"]))
        langs = draw(st.lists(st.sampled_from(LANGS), min_size=2 if kind == "mixed" else 1, max_size=3, unique=True))
        if kind == "mixed":  # at least one public and one internal version
            flags = [True, False] + draw(st.lists(st.booleans(), min_size=len(langs) - 2, max_size=len(langs) - 2))
        else:
            flags = [kind == "public"] * len(langs)
        for lang, public in zip(langs, flags):
            words = st.lists(st.sampled_from(VOCAB[lang] + VOCAB[draw(st.sampled_from(LANGS))]), min_size=1, max_size=6)
            markers = [draw(st.sampled_from(MARKER_FORMS)).format(next(counter)) for _ in range(3)]
            title = " ".join(draw(words)[:3] + [markers[0]])
            sentence = lambda: " ".join(draw(words))  # noqa: E731
            body = [f"{sentence()} {markers[1]}.", "", f"## {sentence()} {markers[2]}", sentence(), "",
                    f"## {sentence()}", sentence()]
            links = draw(st.lists(st.sampled_from(ids), max_size=3)) if public else []
            if public:  # links to any group, internal ones included: hidden targets must vanish
                for target in links:
                    style = draw(st.sampled_from(["inline", "anchor", "reference"]))
                    if style == "inline":
                        body.append(f"See [{sentence()}]({target}).")
                    elif style == "anchor":
                        body.append(f"See [{sentence()}]({target}#fix).")
                    else:
                        body += [f"See [{sentence()}][r-{target}].", "", f"[r-{target}]: {target}"]
            versions.append(Version(art_id, lang, public, title, markers, "\n".join(body), links))
    kb_ = KB(versions)
    all_markers = [m for v in versions for m in v.markers]
    query = st.one_of(
        st.sampled_from(all_markers),
        st.sampled_from(all_markers).flatmap(lambda m: st.integers(1, len(m)).map(lambda k: m[:k])),  # typing
        st.sampled_from(ids).flatmap(lambda i: st.sampled_from([i, i.upper(), i.replace("-", " ")])),
        st.sampled_from([v.title for v in versions]),
        st.lists(st.sampled_from(all_markers + VOCAB["en"] + VOCAB["zh"] + VOCAB["ru"]), min_size=2,
                 max_size=5).map(" ".join),
        st.text(st.sampled_from("abcxyzq01-жющяпр秘藏缓存 .#<>&\"'%"), min_size=1, max_size=20),
    )
    kb_.queries = draw(st.lists(query, min_size=2, max_size=4))
    return kb_


# --- checks -------------------------------------------------------------------

def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())


def assert_hidden(kb_: KB, response, where: str, echoed: str = ""):
    """None of the knowledge base's secrets in the response body, except what the caller sent (echoed)."""
    assert response.status_code < 500, (where, response.status_code)
    body = response.get_data(as_text=True).lower()
    echoed = (echoed + " " + _printable(echoed)).lower()
    leaked = [s for s in kb_.secrets if s.lower() in body and s.lower() not in echoed]
    assert not leaked, (where, leaked)


def same_page(a, b, a_id: str, b_id: str) -> bool:
    return a.status_code == b.status_code and (
        a.get_data(as_text=True).replace(a_id, "ID") == b.get_data(as_text=True).replace(b_id, "ID"))


MISSING = "no-such-article-g99k"


def check_writers_are_warned(kb_: KB, warnings):
    """Every public link to an internal-only article, inline or reference-style, is in the writers' report."""
    warned = {(p.path, p.message.split("'")[1]) for p in warnings if p.code == "internal-link"}
    for v in kb_.versions:
        for target in set(v.links) & kb_.secret_ids:
            assert (f"{v.lang}/{v.id}.{v.lang}.md", target) in warned, (v.id, v.lang, target)


def check_searches(client, kb_: KB):
    for q in kb_.queries:
        for lang in LANGS:
            r = client.get(f"/{lang}/search", query_string={"q": q})
            assert r.status_code in (200, 302), (lang, q, r.status_code)
            assert_hidden(kb_, r, f"/{lang}/search?q={q!r}", echoed=q)
        for lang in (None, *LANGS):
            r = client.get("/api/search", query_string={"q": q, "k": 50, **({"lang": lang} if lang else {})})
            assert_hidden(kb_, r, f"/api/search?q={q!r}&lang={lang}", echoed=q)
            if r.status_code == 200:
                for res in r.get_json()["results"]:
                    assert res["id"] in kb_.public_ids and res["lang"] in kb_.public_langs(res["id"]), res
                    assert set(res["languages"]) <= kb_.public_langs(res["id"]), res
            else:
                assert r.status_code == 400 and set(r.get_json()) == {"error"}
        r = client.get("/api/autocomplete", query_string={"q": q})
        assert_hidden(kb_, r, f"/api/autocomplete?q={q!r}", echoed=q)
        if r.status_code == 200:
            assert all(s["id"] in kb_.public_ids for s in r.get_json()["suggestions"])


def check_api_articles(client, kb_: KB):
    for art_id in sorted(kb_.public_ids | kb_.secret_ids):
        for lang in (None, *LANGS, "ZH", "ru-RU"):
            qs = {"lang": lang} if lang else {}
            for variant in (art_id, art_id.upper()):
                r = client.get(f"/api/articles/{variant}", query_string=qs)
                if art_id in kb_.secret_ids or variant != art_id:
                    missing = client.get(f"/api/articles/{MISSING}", query_string=qs)
                    assert r.status_code == 404 and same_page(r, missing, variant, MISSING), (variant, lang)
                    continue
                assert r.status_code == 200, (art_id, lang)
                data = r.get_json()
                assert data["lang"] in kb_.public_langs(art_id) and set(data["languages"]) == kb_.public_langs(art_id)
                assert_hidden(kb_, r, f"/api/articles/{art_id}?lang={lang}")
        r = client.post("/api/feedback", json={"article_id": art_id, "lang": "en", "helpful": True})
        if art_id in kb_.secret_ids:
            missing = client.post("/api/feedback", json={"article_id": MISSING, "lang": "en", "helpful": True})
            assert r.status_code == 404 and same_page(r, missing, art_id, MISSING)
        else:
            assert r.status_code in (201, 400) and (r.status_code == 201) == ("en" in kb_.public_langs(art_id))
            assert_hidden(kb_, r, f"feedback {art_id}")


_HREF = re.compile(r'href="([^"]*)"')


def check_article_pages(client, kb_: KB):
    for art_id in sorted(kb_.public_ids | kb_.secret_ids):
        for lang in LANGS:
            r = client.get(f"/{lang}/article/{art_id}")
            if art_id in kb_.secret_ids:
                assert same_page(r, client.get(f"/{lang}/article/{MISSING}"), art_id, MISSING), (lang, art_id)
                continue
            assert r.status_code == 200, (lang, art_id)
            assert_hidden(kb_, r, f"/{lang}/article/{art_id}")
            html = r.get_data(as_text=True)
            for href in _HREF.findall(html):  # related articles, links in the text, read-in and hreflang links
                m = re.search(r"/([a-z]{2})/article/([^/?#]+)", href)
                if m:
                    assert m.group(2) in kb_.public_ids, (art_id, href)
            hreflangs = set(re.findall(r'<link rel="alternate" hreflang="([a-z]+)"', html))
            assert hreflangs == kb_.public_langs(art_id), (art_id, hreflangs)
        for variant in (f"/{LANGS[1].upper()}/article/{art_id.upper()}", f"/zh-CN/article/{art_id}"):
            r = client.get(variant, follow_redirects=True)
            if art_id in kb_.secret_ids:
                missing = client.get(variant.replace(art_id.upper(), MISSING).replace(art_id, MISSING),
                                     follow_redirects=True)
                assert same_page(r, missing, art_id, MISSING), variant
            else:
                assert r.status_code == 200
                assert_hidden(kb_, r, variant)


def check_other_pages(client, kb_: KB):
    for path in ("/en/", "/zh/", "/ru/", "/ru/search?q=zx&page=0", "/en/nothing-here", "/api/nothing"):
        assert_hidden(kb_, client.get(path), path)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kb_=knowledge_bases())
def test_no_public_response_shows_an_internal_article(fake_model, kb_):
    with tempfile.TemporaryDirectory() as tmp:
        articles = write_tree(Path(tmp) / "articles", kb_.files())
        summary = job.run(articles, Path(tmp) / "index", model=fake_model, progress=False)
        assert not summary.skipped, summary.skipped
        check_writers_are_warned(kb_, summary.warnings)
        app = create_app({"TESTING": True, "INDEX": str(Path(tmp) / "index"), "MODEL": fake_model,
                          "RATELIMIT_ENABLED": False, "SECRET_KEY": "property"})
        client = app.test_client()
        check_searches(client, kb_)
        check_api_articles(client, kb_)
        check_article_pages(client, kb_)
        check_other_pages(client, kb_)


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kb_=knowledge_bases(), data=st.data())
def test_an_article_switched_to_internal_in_the_editor_leaves_every_public_route(fake_model, kb_, data):
    """A writer makes a public version internal in the editor; after the background index nothing public shows it."""
    public = [v for v in kb_.versions if v.public]
    if not public:
        return
    hide = data.draw(st.sampled_from(public))
    with tempfile.TemporaryDirectory() as tmp:
        articles = write_tree(Path(tmp) / "articles", kb_.files())
        job.run(articles, Path(tmp) / "index", model=fake_model, progress=False)
        app = create_app({"TESTING": True, "INDEX": str(Path(tmp) / "index"), "MODEL": fake_model,
                          "ARTICLES": str(articles), "RATELIMIT_ENABLED": False, "SECRET_KEY": "property"})
        app.extensions["polykb"]["reindexer"].runner = index_runner(fake_model)
        writer = client_as(app, "writer")
        form = form_of(writer, f"/writers/edit/{hide.id}/{hide.lang}")
        saved = writer.post(f"/writers/edit/{hide.id}/{hide.lang}", data={**form, "visibility": "internal"})
        assert saved.status_code == 302, saved.get_data(as_text=True)
        wait_index(app, saved)
        hide.public = False
        client = app.test_client()
        check_searches(client, kb_)
        check_api_articles(client, kb_)
        check_article_pages(client, kb_)
        check_other_pages(client, kb_)
