"""Fuzzing (hypothesis): the article parser, the indexer's scan, the renderer and the JSON API on hostile input.

- An article file either parses or raises ArticleError naming its path and a
  line inside the file; `scan` never crashes and skips only the bad files, and
  stays fast on huge lines, deep nesting and 10 MB files.
- Rendered Markdown never carries a script, an event handler or a
  `javascript:`/`data:` URL, whatever the article holds.
- The JSON API answers every query string, body and content type without a
  500, every error in the one shape `{"error": {"status", "message"}}`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexer import job
from kb.articles import model as articles, chunking, limits, render
from kb.errors import ArticleError
from web import create_app
from tests.support import SMALL_KB, article, examples, write_tree

# FUZZ_EXAMPLES=2000 for a longer hunt; 150 keeps the suite quick (15 in the fast tier: tests/support.py `examples`)
FAST = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 0)) or examples(150), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- articles -----------------------------------------------------------------

YAML_VALUES = st.one_of(
    st.sampled_from(["x", "cdn-502", "en", "zh", "ru", "zh-CN", "klingon", "public", "internal", "secret", "2026-01-02",
                     "2026-13-45", "[a, b]", "{a: 1}", "[unclosed", "'quote", '"dq', "&a x", "*a", "*nothing",
                     "!!python/object/apply:os.system ['id']", "!!binary AAAA", "~", "null", "true", "1e9", "-1",
                     "0x1f", "|", ">", "- x", "\t", "---", "...", "%YAML 1.2", "? [a]", "[" * 40, "{a: " * 40,
                     "a: b: c", "@x", "`x", "\x00", "\x1b[31m", "\u202e", "\ufeff", "1" * 400]),
    st.text(max_size=20),
)
YAML_KEYS = st.one_of(st.sampled_from(sorted(articles.KNOWN_KEYS)),
                      st.sampled_from(["1", "~", "true", "3.5", "? [a]", "x y", "", "-", "<<", "id ", "ID", "título"]))
front_matter = st.builds(
    lambda core, kv: core + "\n".join(f"{ind}{k}: {v}" for ind, k, v in kv),
    st.sampled_from(["", "id: fuzz\nlang: en\n", "id: fuzz\nlang: zh\nvisibility: internal\n"]),  # often valid
    st.lists(st.tuples(st.sampled_from(["", "", "", "  ", "\t", "- "]), YAML_KEYS, YAML_VALUES), max_size=8))
body_text = st.lists(st.one_of(
    st.text(max_size=60),  # any code point: control characters, RTL marks, emoji
    st.sampled_from(["# Title", "## Section", "### Sub ###", "####### seven", "#", "# ", "#   ", "```", "~~~",
                     "- item", "1. step", "   2. step", "> quote", "[link](other-id)", "[r]: internal-x",
                     "<script>alert(1)</script>", "\x00", "\r", "\x1b[31mred", "\u202e", "\ufeff", "---",
                     "[" * 30, "*" * 30, "|a|b|\n|-|-|"]),
    st.integers(1, 60).map(lambda d: "  " * d + "- deep"),
), max_size=20).map("\n".join)
article_texts = st.builds(lambda opening, front, closing, body: f"{opening}{front}\n{closing}{body}",
                          st.sampled_from(["---\n"] * 6 + ["---", "--- \n", "\ufeff---\n", "", "----\n", "---\r\n"]),
                          front_matter,
                          st.sampled_from(["---\n"] * 6 + ["--- \n", "...\n", "", "---", "---\r\n"]), body_text)
valid_texts = st.builds(lambda i, lang, body: article(f"art-{i}", lang, f"Title {i}", body or "text"),
                        st.integers(0, 5), st.sampled_from(["en", "zh", "ru"]), body_text)


@st.composite
def article_bytes(draw) -> bytes:
    """An article file as bytes: valid, broken or garbage, in UTF-8 or not, with bytes spliced in."""
    kind = draw(st.sampled_from(["text"] * 5 + ["valid"] * 2 + ["binary", "splice", "encoding"]))
    if kind == "binary":
        return draw(st.binary(max_size=300))
    raw = draw(valid_texts if kind == "valid" else article_texts)
    if kind == "encoding":
        return raw.encode(draw(st.sampled_from(["utf-16", "cp1251", "latin-1", "gb18030"])), errors="replace")
    data = raw.encode("utf-8", errors="surrogatepass")
    if kind == "splice":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def parse_file(raw: bytes, path: str):
    """What scan does with one file's bytes."""
    return articles.parse(articles.decode(raw, path), path)


def assert_reported_well(e: ArticleError, path: str, raw: bytes):
    assert e.path == path and isinstance(e.line, int), e
    assert 1 <= e.line <= len(raw.decode("utf-8", "replace").splitlines()) + 2, (e.line, e)  # YAML's line breaks too
    assert str(e).startswith(f"{path}:{e.line}: ") and e.message


@FAST
@given(raw=article_bytes())
@example(raw=b"---\nid: x\nlang: en\n1: a\n~: b\nfoo: c\n---\nbody\n")  # keys of mixed types: was a TypeError
@example(raw=b"---\nid: x\nlang: en\ntags: " + b"[" * 3000 + b"]" * 3000 + b"\n---\nbody\n")  # was a RecursionError
@example(raw=b"---\nid: x\nlang: en\na: &a [x, x]\nb: &b [*a, *a]\ntitle: *b\n---\nbody\n")  # "billion laughs"
@example(raw=b"---\nid: x\nlang: en\ntags: " + b"- " * 200_000 + b"x\n---\nbody\n")  # libyaml: C stack overflow
@example(raw=b"---\nid: x\nlang: en\ntags: " + b"[" * 8000 + b"]" * 8000 + b"\n---\nbody\n")  # under the size limit
def test_any_file_content_parses_or_raises_article_error_with_path_and_line(raw):
    path = "topic/fuzzed.en.md"
    try:
        art, problems = parse_file(raw, path)
    except ArticleError as e:
        assert_reported_well(e, path, raw)
    else:
        assert articles.ID_PATTERN.match(art.id) and art.body.strip() and art.visibility in articles.VISIBILITIES
        assert all(p.path == path and p.line >= 1 for p in problems)


@FAST
@given(text=st.text(max_size=200))
def test_parse_of_any_text_never_raises_anything_but_article_error(text):
    try:
        articles.parse(text, "x.md")
    except ArticleError as e:
        assert e.path == "x.md" and e.line >= 1


# The regexes these replaced took minutes on long lines; the replacements must agree with them on short ones.
OLD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
OLD_TITLE = re.compile(r"^# +(.+?)\s*#*\s*$", re.M)
short_lines = st.text(st.sampled_from("#  \t\ra×\u3000\x0b"), max_size=12)


@FAST
@given(line=short_lines)
def test_heading_parser_agrees_with_the_markdown_heading_regex(line):
    m = OLD_HEADING.match(line)
    assert chunking.heading_of(line) == ((len(m.group(1)), m.group(2)) if m else None)


@FAST
@given(lines=st.lists(short_lines, max_size=4))
def test_title_from_the_first_heading_agrees_with_the_old_regex(lines):
    body = "\n".join(lines)
    m = OLD_TITLE.search(body)
    assert articles._title_from(body, Path("some-file.en.md")) == (m.group(1).strip() if m else "Some file")


file_names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
                     min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.dictionaries(st.tuples(st.sampled_from(["", "sub/", "sub/deeper/", ".hidden/", "файлы/"]), file_names,
                                      st.sampled_from([".md", ".MD", ".markdown", ".txt", ".en.md", ""])),
                            article_bytes(), max_size=8))
def test_scan_never_crashes_and_skips_exactly_the_bad_files(tree):
    files = {f"{folder}{name}{ext}": raw for (folder, name, ext), raw in tree.items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            write_tree(root, files)
        except OSError:  # a name this file system refuses (too long in bytes)
            return
        result = job.scan(root)
        candidates = {p.relative_to(root).as_posix() for p in articles.discover(root)}
    indexed = {a.path for a in result.articles}
    errors = {p.path for p in result.errors}
    assert indexed | errors == candidates and not indexed & errors
    for rel in candidates:
        try:
            parse_file(files[rel], rel)
            ok = True
        except ArticleError as e:
            assert_reported_well(e, rel, files[rel])
            ok = False
        if ok:  # a good file is indexed, unless another file already has its id and language
            assert rel in indexed or any(p.code == "duplicate" for p in result.errors if p.path == rel), rel
        else:
            assert rel in errors, rel


HUGE = 1_900_000  # under the 2 MB limit: these reach the parser


def hostile_tree() -> dict[str, str | bytes]:
    ok = article("still-indexed", "en", "Still indexed", "Good text.\n\n## Fix\nDo it.")
    front = "---\nid: {id}\nlang: en\n---\n"
    return {
        "good.en.md": ok,
        "ten-mb.en.md": (front.format(id="ten-mb") + "word " * 2_100_000).encode(),
        "binary.md": bytes(range(256)) * 100,
        "png.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(2000),
        "latin1.en.md": (front.format(id="latin") + "caf\xe9").encode("latin-1"),
        "utf16.en.md": (front.format(id="utf16") + "text").encode("utf-16"),
        "control.en.md": front.format(id="control") + "".join(map(chr, range(1, 32))) * 50,
        "deep-list.en.md": front.format(id="deep-list") + "\n".join("  " * i + "- item" for i in range(1000)),
        "deep-yaml.en.md": "---\nid: deep-yaml\nlang: en\ntags: " + "[" * 5000 + "]" * 5000 + "\n---\nbody",
        "laughs.en.md": "---\nid: laughs\nlang: en\n" + "".join(
            f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else 'lol'}]\n" for i in range(9)) + "title: *l8\n---\nx",
        "brackets.en.md": front.format(id="brackets") + "[" * HUGE,
        "links.en.md": front.format(id="links") + "[a](b-c) " * (HUGE // 9),
        "open-links.en.md": front.format(id="open-links") + "[a](" * (HUGE // 4),
        "heading-spaces.en.md": front.format(id="heading-spaces") + "# a" + " " * HUGE + "x",
        "title-spaces.en.md": front.format(id="title-spaces") + "# " + "# " * (HUGE // 2) + "x",
        "one-line.en.md": front.format(id="one-line") + "x" * HUGE,
        "broken-front.en.md": "---\nid: [\n---\nx",
        "unclosed.en.md": "---\nid: x\nlang: en\n" + "text\n" * 1000,
        "keys.en.md": "---\nid: keys\nlang: en\n1: a\n~: b\nfoo: c\n---\nbody",
    }


def test_scan_of_hostile_files_is_fast_reports_each_bad_one_and_indexes_the_rest(tmp_path):
    tree = hostile_tree()
    root = write_tree(tmp_path / "articles", tree)
    t0 = time.process_time()  # this process's CPU, not the clock: a loaded machine must not fail the test
    result = job.scan(root)
    took = time.process_time() - t0
    errors = {p.path: p for p in result.errors}
    unreadable = {"ten-mb.en.md", "binary.md", "png.md", "latin1.en.md", "utf16.en.md", "deep-yaml.en.md",
                  "laughs.en.md", "broken-front.en.md", "unclosed.en.md"}
    over = {path for path, content in tree.items() if path not in unreadable and len(
        content if isinstance(content, bytes) else content.encode()) > limits.DEFAULT.max_bytes}
    assert over >= {"brackets.en.md", "links.en.md", "heading-spaces.en.md", "one-line.en.md"}  # parsed, then refused
    assert set(errors) == unreadable | over, sorted(errors)
    assert all("KB_ARTICLE_MAX_BYTES" in errors[path].message for path in over)
    for path, problem in errors.items():  # each one as `path:line: error: message`, on a line of that file
        content = tree[path] if isinstance(tree[path], bytes) else tree[path].encode()
        assert 1 <= problem.line <= content.count(b"\n") + 1 and problem.message, problem
        assert str(problem).startswith(f"{path}:{problem.line}: error: "), problem
    assert "MB limit" in errors["ten-mb.en.md"].message and "binary" in errors["png.md"].message
    assert "UTF-8" in errors["latin1.en.md"].message and errors["latin1.en.md"].line == 5
    # too deep for polykb or for PyYAML itself, whose wording and line vary by release: a front matter line
    assert errors["deep-yaml.en.md"].message.startswith("front matter") and 2 <= errors["deep-yaml.en.md"].line <= 4
    assert "aliases" in errors["laughs.en.md"].message
    assert {a.id for a in result.articles} >= {"still-indexed", "control", "keys"}
    assert took < 30, f"scan took {took:.0f} s of CPU"  # ~3 s: the bound is for a quadratic blow-up, not a timing


def test_chunks_of_a_huge_single_line_stay_small(tmp_path):
    art, _ = articles.parse("---\nid: x\nlang: zh\n---\n" + "密钥" * 500_000, "x.md")
    chunks = chunking.chunk(art)
    assert len(chunks) > 100 and max(len(c.text) for c in chunks) <= 4 * chunking.MAX_TOKENS


# --- rendering ----------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<iframe src=//evil>",
    '<a href="javascript:alert(1)">a</a>', "[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))",
    "[a](java\tscript:alert(1))", "[a](&#106;avascript:alert(1))", "[a](%6Aavascript:alert(1))",
    "[a]( javascript:alert(1))", "[a](<javascript:alert(1)>)", "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "![i](data:image/svg+xml;base64,PHN2Zz4=)", "![i](javascript:alert(1))", "[a](vbscript:msgbox(1))",
    "<javascript:alert(1)>", "<data:text/html,x>", "[a][r]\n\n[r]: javascript:alert(1)", "![i][p]\n\n[p]: data:x",
    "[a](https://ok.example \"t\\\" onmouseover=\\\"alert(1)\")", '![a"onerror="alert(1)](x.png)',
    '[a](#" onclick="alert(1))', "[a](good-id#\"><script>alert(1)</script>)", "## <img src=x onerror=alert(1)>",
    "```html\n<script>alert(1)</script>\n```", "`<script>`", "<style>*{}</style>", "<form action=//evil><input>",
    "<object data=x>", "<embed src=x>", "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<details open ontoggle=alert(1)>", "<!-- <script> -->", "<![CDATA[<script>]]>", "<scr<script>ipt>alert(1)",
    '"><script>alert(1)</script>', "&lt;script&gt;", "<div markdown=\"1\">*x*</div>", "{: onclick=\"alert(1)\" }",
    "| a | <script> |\n|---|---|\n| [x](javascript:1) | b |", "1. [a](javascript:alert(1))\n   ```\n   <b>\n   ```",
    "> <img src=x onerror=alert(1)>", "<https://ok.example/\"onclick=\"x>", "<mailto:a@b.example>", "*" * 40 + "<b>",
]
markdown_docs = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30),
                                   st.sampled_from(["\n", "\n\n", "## ", "- ", "1. ", "> ", "   ", "[", "](", ")"])),
                         max_size=12).map("".join)
SAFE_SCHEMES = ("http", "https", "mailto")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe_html(out: str):
    parser = _Collect()
    parser.feed(out)
    parser.close()
    assert "<script" not in out.lower()
    for tag, attrs in parser.tags:
        assert tag in render.TAGS, tag
        for name, value in attrs:
            allowed = render.ATTRIBUTES.get(tag, set()) | render.ADDED_ATTRIBUTES.get(tag, set())
            assert name in allowed | ({"rel"} if tag == "a" else set()), (tag, name)
            if name in ("href", "src"):
                url = re.sub(r"[\x00-\x20]", "", value or "").lower()
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
                assert scheme is None or scheme.group(1) in SAFE_SCHEMES, (tag, name, value)


def resolve_naive(article_id, anchor):  # the worst resolver: no quoting at all
    return None if article_id.startswith("internal") else f"/en/article/{article_id}#{anchor or ''}"


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=markdown_docs)
def test_rendered_markdown_never_carries_scripts_handlers_or_unsafe_urls(doc):
    for resolve in (None, resolve_naive):
        rendered = render.render(doc, resolve)
        assert_safe_html(rendered.html)
        assert all(t.id == re.sub(r"[\"'<>&\s]", "", t.id) for t in rendered.toc)
        assert isinstance(render.plain_text(doc, resolve), str)


def test_every_hostile_snippet_is_neutralised_on_its_own():
    for doc in HOSTILE:
        out = render.render(doc, resolve_naive).html
        assert_safe_html(out)


def test_markdown_nested_too_deep_for_the_renderer_is_shown_as_text():
    for doc in ("\n".join("   " * i + "- item" for i in range(400)), "*" * 5000 + "<script>x</script>" + "*" * 5000):
        out = render.render(doc).html
        assert out.startswith("<pre tabindex=\"0\">") and "<script" not in out
        assert render.plain_text(doc).startswith(doc[:10])


def test_markdown_the_link_parser_would_take_seconds_on_is_shown_as_text_and_flagged(tmp_path):
    """Python-Markdown reads each unclosed `[` or `(` to the end of the text: 20,000 of them took ~45 s."""
    for doc in ("[" * 20_000 + "<script>x</script>", "[a](b " * 20_000, "Logs: " + "(retry " * 20_000):
        out = render.render(doc).html
        assert out.startswith("<pre tabindex=\"0\">") and "<script" not in out
        assert render.plain_text(doc) == doc.strip()
    fine = "[a](b) " * 2000 + "\\[" * 2000 + "(see above) " * 2000  # closed, or escaped: formatted as usual
    assert not render.render(fine).html.startswith("<pre tabindex=\"0\">")
    root = write_tree(tmp_path, {"a.en.md": article("brackets", "en", "Brackets", "Intro.\n\n" + "[" * 1500),
                                 "b.en.md": article("fine", "en", "Fine", fine)})
    warned = [(p.path, p.line, p.code) for p in job.scan(root).problems if p.code == "unrenderable"]
    assert warned == [("a.en.md", 7, "unrenderable")]


# --- the JSON API -------------------------------------------------------------

@pytest.fixture(scope="module")
def api(tmp_path_factory, fake_model):
    """An app over SMALL_KB indexed with the fake embedder (tests/conftest.py), and a token for /api/suggest."""
    base = tmp_path_factory.mktemp("fuzz")
    index = base / "index"
    job.run(write_tree(base / "articles", SMALL_KB), index, model=fake_model, progress=False)
    app = create_app({"TESTING": True, "INDEX": str(index), "MODEL": fake_model, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "fuzz"})
    token = app.extensions["polykb"]["accounts"].add_token(f"fuzz-{uuid.uuid4().hex[:6]}")
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def assert_json_answer(r, where):
    assert r.status_code < 500, (where, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json", (where, r.mimetype)
    body = r.get_json()
    if r.status_code >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}, (where, body)
        assert body["error"]["status"] == r.status_code and isinstance(body["error"]["message"], str)


texts = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "\x00", "\ud7ff", "\ufffd", "%", "+", "&", "=",
                                                           "1e9", "-1", "٣", "1_0", " 7 ", "9" * 30, "zh-CN", "EN",
                                                           "'; DROP TABLE chunks; --", "\"", "NEAR(a b)", "a OR b",
                                                           "*", "^", "<script>alert(1)</script>", "../../etc/passwd"]))
raw_values = st.one_of(texts.map(lambda s: quote(s.encode("utf-8", "surrogatepass"), safe="")),
                       st.binary(max_size=20).map(lambda b: quote_from_bytes(b, safe="")),  # invalid UTF-8 too
                       st.text(st.sampled_from("%&=+;#?/ \x7f"), max_size=6))
API_KEYS = ["q", "lang", "k", "offset", "product", "tag", "mode", "q[]", "x", ""]
PAGE_KEYS = API_KEYS + ["page", "s", "r", "feedback", "article_id", "next", "_external", "_anchor", "_scheme"]


def query_strings(keys=API_KEYS):
    return st.lists(st.tuples(st.sampled_from(keys), raw_values), max_size=6).map(
        lambda kv: "&".join(f"{k}={v}" for k, v in kv))


@FAST
@given(qs=query_strings(), route=st.sampled_from(["/api/search", "/api/autocomplete", "/api/articles/cdn-502",
                                                "/api/articles/internal-edgectl", "/api/openapi.json"]))
def test_any_query_string_gets_json_never_a_500(api, qs, route):
    client, _ = api
    assert_json_answer(client.get(f"{route}?{qs}"), f"{route}?{qs}")


@FAST
@given(article_id=st.one_of(texts, st.binary(min_size=1, max_size=12).map(lambda b: quote_from_bytes(b, safe=""))),
       lang=raw_values)
def test_any_article_id_gets_json_never_a_500(api, article_id, lang):
    client, _ = api
    path = "/api/articles/" + (article_id if "%" in article_id else quote(article_id, safe=""))
    r = client.get(f"{path}?lang={lang}")
    if r.status_code not in (301, 308):  # "/" and "." in ids are normalised by the router
        assert_json_answer(r, path)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=8)
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={"article_id": json_values | st.sampled_from(["cdn-502", "internal-edgectl"]),
                                        "lang": json_values | st.sampled_from(["en", "zh", "ZH-cn"]),
                                        "helpful": json_values, "reason": json_values, "text": json_values,
                                        "k": json_values, "extra": json_values}).map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=60),
    texts.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"{", b"[" * 5000, b'{"a": ' * 3000, b"\xff\xfe{\x00}\x00", b'{"text": "\xff"}', b"null",
                     b'{"text": "\\ud800"}', b'{"article_id": "cdn-502", "article_id": 1}', b"NaN", b"1e999999"]),
)
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
                                 "application/json; charset=utf-16", "APPLICATION/JSON", "application/problem+json",
                                 "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                 "multipart/form-data", "", "application/json; charset=nonsense", "*/*"])


@FAST
@given(route=st.sampled_from(["/api/feedback", "/api/suggest"]), body=bodies, ctype=content_types,
       authorised=st.booleans())
def test_any_body_and_content_type_gets_json_never_a_500(api, route, body, ctype, authorised):
    client, auth = api
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    r = client.post(route, data=data, headers={"Content-Type": ctype, **(auth if authorised else {})})
    assert_json_answer(r, (route, data[:60], ctype))
    if route == "/api/suggest" and not authorised:
        assert r.status_code == 401


@FAST
@example(qs="lang=", route="/search")  # was a 500: url_for got `lang` twice
@example(qs="article_id=x", route="/en/article/CDN-502")  # was a 500 too
@given(qs=query_strings(PAGE_KEYS), route=st.sampled_from(["/en/search", "/zh/search", "/ru/article/cdn-502", "/en/",
                                                           "/search", "/en/article/CDN-502", "/article/cdn-502",
                                                           "/language/ru"]))
def test_help_center_pages_never_answer_500_either(api, qs, route):
    client, _ = api
    r = client.get(f"{route}?{qs}")
    assert r.status_code < 500, (route, qs, r.status_code)


@FAST
@given(raw=st.binary(max_size=30), key=st.sampled_from([b"q=", b"lang=", b"next=", b""]),
       route=st.sampled_from(["/api/search", "/api/autocomplete", "/api/articles/cdn-502", "/en/search", "/ZH/search",
                              "/language/ru", "/auth/login"]))
def test_raw_bytes_in_the_query_string_are_never_a_500(api, raw, key, route):
    """What a browser would percent-encode, sent raw (a WSGI server passes the bytes through as latin-1)."""
    client, _ = api
    r = client.get(route, environ_overrides={"QUERY_STRING": (key + raw).decode("latin-1")})
    if route.startswith("/api/"):
        assert_json_answer(r, (route, raw))
    assert r.status_code < 500, (route, raw)


@pytest.mark.parametrize("route", ["/api/feedback", "/api/suggest"])
def test_bodies_over_the_limit_are_413_in_the_error_shape(api, route):
    client, auth = api
    big = b'{"text": "' + b"x" * 1_100_000 + b'"}'
    r = client.post(route, data=big, headers={"Content-Type": "application/json", **auth})
    assert r.status_code == 413
    assert_json_answer(r, route)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405_in_the_error_shape(api, method):
    client, _ = api
    for route in ("/api/search", "/api/feedback", "/api/suggest", "/api/articles/cdn-502", "/api/autocomplete"):
        r = getattr(client, method)(route)
        assert r.status_code == 405 and r.headers["Allow"]
        assert_json_answer(r, (method, route))
