import re

import markdown

from kb.articles import model as articles, chunking
from kb.articles.render import render
from tests.support import article


def test_sections_follow_headings_and_ignore_headings_in_code():
    body = "Intro.\n\n## Fix\nStep.\n\n```bash\n# not a heading\n```\n\n### Детали\nMore.\n\n## Fix\nAgain."
    secs = chunking.sections(body)
    assert [s.heading for s in secs] == ["", "Fix", "Детали", "Fix"]
    assert secs[2].path == ("Fix", "Детали")
    assert "# not a heading" in secs[1].text


def test_anchors_match_the_rendered_page():
    body = "## Fix: 回源 失败\nx\n\n## Fix: 回源 失败\ny\n\n## `curl` checks\nz"
    rendered = markdown.markdown(body, extensions=["toc"],
                                 extension_configs={"toc": {"slugify": chunking.slugify_unicode}})
    ids = re.findall(r'id="([^"]+)"', rendered)
    assert [s.anchor for s in chunking.sections(body)] == ids


def test_chunks_carry_title_heading_path_and_anchor():
    a, _ = articles.parse(article("x", "en", "502 at the edge", "Intro.\n\n## Fix\nDo this."), "x.md")
    chunks = chunking.chunk(a)
    assert chunks[1].anchor == "fix" and chunks[1].heading_path == ("Fix",)
    assert chunks[1].embed_text.startswith("502 at the edge › Fix")


def test_long_sections_are_split_with_overlap():
    paras = "\n\n".join(f"Paragraph {i} " + "word " * 20 for i in range(20))
    a, _ = articles.parse(article("x", "en", "Long", "## Big\n" + paras), "x.md")
    chunks = chunking.chunk(a, max_tokens=120)
    assert len(chunks) > 3
    assert all(chunking.approx_tokens(c.text) <= 200 for c in chunks)
    # one paragraph of overlap between neighbours
    assert chunks[1].text.split("\n\n")[0] == chunks[0].text.split("\n\n")[-1]


def test_underscores_inside_words_stay_in_anchors_as_on_the_page():
    body = "## ip_version\nx\n\n## _emph_ word\ny\n\n## __strong__ and snake_case_name\nz\n\n## `code_x` here\nw"
    rendered = render(body).html
    assert [s.anchor for s in chunking.sections(body)] == re.findall(r'<h2 id="([^"]+)"', rendered) == [
        "ip_version", "emph-word", "strong-and-snake_case_name", "code_x-here"]
