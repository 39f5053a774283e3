import re
from html.parser import HTMLParser

from kb.articles.model import decode, parse
from kb.articles.chunking import sections
from kb.articles.render import plain_text, render, section_markdown
from tests.support import ROOT


def resolve_public(article_id, anchor):
    if article_id.startswith("internal-"):
        return None
    return f"/en/article/{article_id}" + (f"#{anchor}" if anchor else "")


def test_heading_ids_are_the_anchors_chunking_gives_search_results():
    body = "Intro\n\n## Причины ошибки 502\n\ntext\n\n## 回源失败 `curl`\n\ntext\n\n## Fix\n\n## Fix\n"
    html = render(body).html
    for sec in sections(body):
        if sec.anchor:
            assert f'id="{sec.anchor}"' in html


def test_every_sample_article_renders_with_ids_for_all_its_section_anchors():
    for path in sorted((ROOT / "articles").rglob("*.*.md")):  # id.lang.md; not README.md
        article, _ = parse(decode(path.read_bytes(), path), path)
        html = render(article.body).html
        for sec in sections(article.body):
            if sec.anchor:
                assert f'id="{sec.anchor}"' in html, (path, sec.anchor)


class _Tags(HTMLParser):
    """What the HTML holds, however a library spells it: tags, attributes, and each element with its text."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs = set(), []
        self.elements: list[tuple[str, dict, str]] = []  # (tag, attributes, text right inside it)
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs
        self.elements.append((tag, dict(attrs), ""))
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_data(self, data):
        if self.elements and not self.elements[-1][2]:
            tag, attrs, _ = self.elements[-1]
            self.elements[-1] = (tag, attrs, data.strip())


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_raw_html_scripts_and_javascript_links_never_survive():
    body = ('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n'
            '[click](javascript:alert(3)) [data](data:text/html;base64,AAAA) <b onclick="x()">bold</b>\n\n'
            '<a href="javascript:alert(4)">raw</a> <iframe src="https://evil.example"></iframe>')
    html = render(body).html
    found = tags_of(html)
    assert found.tags <= {"p", "a", "span"}, found.tags
    assert not [a for a in found.attrs if a[0].startswith("on")]
    assert all(not (v or "").lower().startswith(("javascript", "data")) for k, v in found.attrs if k == "href")
    assert "&lt;script&gt;" in html  # shown as text, never run


def test_tables_code_classes_and_external_links_are_kept():
    body = "| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```bash\ncurl -v https://x\n```\n\n[status](https://status.example)"
    found = tags_of(render(body).html)
    assert "table" in found.tags and ("td", {"align": "right"}, "2") in found.elements  # the column's alignment
    assert any(tag == "code" and "language-bash" in attrs.get("class", "").split() for tag, attrs, _ in found.elements)
    [link] = [attrs for tag, attrs, _ in found.elements if tag == "a"]
    assert link["href"] == "https://status.example" and set(link["rel"].split()) == {"noopener", "noreferrer"}


def test_fenced_code_inside_a_numbered_list_keeps_the_numbering():
    body = "1. One\n2. Run:\n\n   ```bash\n   curl -v x\n   ```\n\n3. Three\n"
    html = render(body).html
    found = tags_of(html)
    assert found.counts["ol"] == 1 and {"pre", "code"} <= found.tags and "```" not in html


def test_a_code_block_at_the_margin_between_steps_belongs_to_the_step_and_numbering_goes_on():
    body = "Do this:\n\n1. One\n2. Run:\n\n```bash\ncurl -v x\n  --retry 2\n```\n\n3. Three\n4. Four\n"
    html = render(body).html
    assert tags_of(html).counts["ol"] == 1 and html.count("<li>") == 4
    assert re.search(r"<li>\s*<p>Run:</p>\s*<pre", html) and "curl -v x\n  --retry 2" in html
    text = plain_text(body)
    assert "\n3. Three\n4. Four" in text and "1. One" in text and "   curl -v x\n     --retry 2" in text


def test_a_list_written_from_a_later_number_starts_there_and_code_after_a_list_stays_out_of_it():
    assert '<ol start="3">' in render("Then:\n\n3. Three\n4. Four\n").html
    html = render("1. One\n2. Two\n\n```\ncode\n```\n\nA paragraph.\n").html
    assert re.search(r"</ol>\s*<pre", html)  # not followed by a step: the code is not pulled into the list
    assert plain_text("Then:\n\n3. Three\n4. Four\n").endswith("3. Three\n4. Four")


def test_code_blocks_are_focusable_and_named():
    assert '<pre tabindex="0" role="group" aria-label="Code">' in render("```\nx\n```", code_label="Code").html
    assert '<pre tabindex="0">' in render("```\nx\n```").html


def test_article_links_are_rewritten_and_hidden_targets_become_plain_text():
    body = "See [504](cdn-504-gateway-timeout#causes), [the tool](internal-edgectl-tool) and [here](#fix)."
    html = render(body, resolve_public).html
    assert 'href="/en/article/cdn-504-gateway-timeout#causes"' in html
    assert "internal-edgectl-tool" not in html and "<span>the tool</span>" in html
    assert 'href="#fix"' in html


def test_links_without_a_resolver_or_with_paths_become_text():
    html = render("[a](other-article) [b](../x/file.md)").html
    assert "<a" not in html and "other-article" not in html


def test_table_of_contents_lists_h2_and_h3():
    toc = render("## One\n\n### One a\n\n## Два\n\n#### deep\n").toc
    assert [(t.level, t.id, t.name) for t in toc] == [(2, "one", "One"), (3, "one-a", "One a"), (2, "два", "Два")]


def test_section_markdown_finds_a_section_by_anchor_and_the_intro_by_empty_anchor():
    body = "Intro text\n\n## Fix\n\nDo this.\n\n## Other\n\nNo."
    assert section_markdown(body, "fix") == "Do this."
    assert section_markdown(body, "") == "Intro text"
    assert section_markdown(body, "missing") is None


def test_plain_text_numbers_lists_keeps_code_and_shows_public_link_addresses():
    md = ("1. Check [status](https://status.example).\n2. Run:\n\n   ```bash\n   curl -v x\n   ```\n\n"
          "3. Read [the 504 guide](cdn-504-gateway-timeout) and ask [L2](internal-edgectl-tool).\n\n"
          "| Cause | Fix |\n|---|---|\n| **a** | b |")
    text = plain_text(md, lambda i, a: None if i.startswith("internal") else f"https://kb.example/en/article/{i}")
    assert text.splitlines()[0] == "1. Check status (https://status.example)."
    assert "2. Run:" in text and "   curl -v x" in text
    assert "3. Read the 504 guide (https://kb.example/en/article/cdn-504-gateway-timeout) and ask L2." in text
    assert "Cause | Fix" in text and "a | b" in text
    assert "<" not in text and "**" not in text
