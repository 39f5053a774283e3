"""A heading with no words of its own is never a chunk, so never a search result; anchors stay the page's."""

import re

import markdown

from kb.articles import model as articles, chunking

BODY = """Intro.

## Playback URLs
Three formats.

## Causes and fixes

### 404 Not Found
Nobody is pushing the stream.

### CORS
Add the header.

## Fix

## Fix
The second fix.

## Still not working?
Write to support.
"""


def parsed(body, title="Live playback fails"):
    text = f"---\nid: live-playback\nlang: en\ntitle: \"{title}\"\n---\n{body}"
    return articles.parse(text, "live-playback.en.md")[0]


def page_ids(body):
    html = markdown.markdown(body, extensions=["toc"], extension_configs={"toc": {"slugify": chunking.slugify_unicode}})
    return re.findall(r'<h\d id="([^"]+)"', html)


def test_a_heading_only_section_is_no_chunk_but_stays_in_its_subsections_heading_path():
    chunks = chunking.chunk(parsed(BODY))
    assert [c.anchor for c in chunks] == ["", "playback-urls", "404-not-found", "cors", "fix_1", "still-not-working"]
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    sub = chunks[2]
    assert sub.heading_path == ("Causes and fixes", "404 Not Found")
    assert sub.embed_text.startswith("Live playback fails › Causes and fixes › 404 Not Found\n\n")
    assert all(c.text.strip() and c.text != c.heading for c in chunks)


def test_anchors_of_the_other_sections_are_the_rendered_page_ids():
    chunk_anchors = {c.anchor for c in chunking.chunk(parsed(BODY)) if c.anchor}
    ids = page_ids(BODY)
    assert chunk_anchors <= set(ids)
    assert [s.anchor for s in chunking.sections(BODY) if s.anchor] == ids  # heading-only sections keep theirs


def test_a_section_of_link_definitions_only_counts_as_empty():
    body = "## Related\n\n[docs]: cdn-purge-cache\n\n## Fix\nPurge the URL."
    assert [c.anchor for c in chunking.chunk(parsed(body))] == ["fix"]


def test_an_article_of_headings_only_keeps_its_first_heading_so_it_can_be_found():
    chunks = chunking.chunk(parsed("## Overview\n\n## Details\n"))
    assert [(c.anchor, c.text) for c in chunks] == [("overview", "Overview")]
