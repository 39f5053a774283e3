"""Block structure read one way by sections, links, drift, snippets, roles and the page (kb.articles.blocks)."""

import re

from kb.articles import blocks, drift, links
from kb.articles.chunking import reader_text, sections
from kb.articles.render import render
from kb.search.section_roles import text_cues

# What real docs contain: a fence opened on a list item's line, `# comment` lines in its code,
# a tilde fence, a four-backtick fence holding a three-backtick one, an indented fence in a step.
REAL = """Intro.

## Install {#setup}

1. Run:
   - ```none
     # comment, not a heading
     apt install thing
     ```
2. Then check [the log](logs#where).

~~~bash
# also a comment
~~~

## Markdown in Markdown

````md
```
# inside
```
````

## Where the logs are

Text.
"""


def test_a_fence_opened_on_a_list_item_keeps_every_heading_after_it():
    secs = sections(REAL)
    assert [s.heading for s in secs] == ["", "Install", "Markdown in Markdown", "Where the logs are"]
    assert "# comment, not a heading" in secs[1].text and "# inside" in secs[2].text


def test_fences_report_list_item_openers_tildes_and_longer_markers():
    found = blocks.fences(REAL)
    assert [(f.mark, f.info, f.on_item, f.closed) for f in found] == [
        ("```", "none", True, True), ("~~~", "bash", False, True), ("````", "md", False, True)]


def test_an_unclosed_fence_runs_to_the_end_and_inline_triple_backticks_are_no_fence():
    text = "Use ```x``` inline.\n\n## A\n```sh\nls\n## not a heading"
    (fence,) = blocks.fences(text)
    assert not fence.closed and fence.end == 5
    assert [s.heading for s in sections(text)] == ["", "A"]


def test_segments_give_the_text_back_and_masking_keeps_line_numbers():
    assert "".join(piece for piece, _ in blocks.segments(REAL)) == REAL
    masked = blocks.mask_code(REAL)
    assert masked.count("\n") == REAL.count("\n") and "apt install" not in masked and "Run:" in masked


def test_links_inside_list_item_code_are_not_links():
    body = "1. x\n   - ```md\n     [a](inside-code)\n     ```\n2. [b](outside)\n"
    assert [(link.article_id, link.line) for link in links.find(body)] == [("outside", 5)]


def test_custom_heading_ids_are_anchors_on_the_page_and_in_sections_alike():
    body = "## Fix {#fix}\nx\n\n## Fix\ny\n\n## Set {name}\nz\n\n## Other {: #other-id .cls}\nw"
    page_ids = re.findall(r'<h2 id="([^"]+)"', render(body).html)
    secs = sections(body)
    assert [s.anchor for s in secs] == page_ids == ["fix", "fix_1", "set-name", "other-id"]
    assert [s.heading for s in secs] == ["Fix", "Fix", "Set {name}", "Other"]


def test_admonitions_render_labelled_in_the_readers_language_and_keep_a_writers_title():
    body = '!!! note\n    Keep the key.\n\n!!! warning "Before you start"\n    Back up.\n\n??? tip\n    Hidden.'
    html = render(body, labels={"note": "Примечание", "tip": "Совет"}).html
    assert '<div class="admonition note">' in html and '<p class="admonition-title">Примечание</p>' in html
    assert '<p class="admonition-title">Before you start</p>' in html and "Совет" in html
    assert "!!!" not in html and "???" not in html


def test_admonition_markers_are_no_words_of_a_chunk():
    text = reader_text('!!! note\n    Keep the key.\n\n!!! warning "Before you start"\n    Back up.')
    assert "!!!" not in text and "Before you start" in text and "Keep the key." in text


def test_a_list_item_fence_renders_as_code_inside_its_item():
    html = render("Steps:\n\n1. ```sh\n   # comment\n   ls\n   ```\n2. next\n").html
    assert re.search(r"<li>\s*<pre[^>]*><code class=\"language-sh\"># comment\nls</code></pre>\s*</li>", html)
    assert "```" not in html and "<h1" not in html


def test_images_resolve_through_media_and_a_missing_one_shows_its_alt_text():
    body = "![Settings screen](img/settings.png) ![Gone](img/gone.png) ![Web](https://example.org/x.png)"
    html = render(body, media=lambda src: f"/media/{src}" if src != "img/gone.png" else None).html
    assert 'src="/media/img/settings.png"' in html and "[Gone]" in html and "img/gone.png" not in html
    assert 'src="https://example.org/x.png"' in html


def test_drift_facts_and_roles_read_list_item_code_as_code():
    body = "1. Run:\n   - ```sh\n     systemctl restart nimbus\n     ```\n"
    assert "code:systemctl restart nimbus" in drift.facts(body)
    assert text_cues(body).commands == 1


def test_snippet_text_drops_fence_lines_but_keeps_the_code():
    assert blocks.without_fence_lines("- ```sh\n  ls -l\n  ```\nDone.") == "  ls -l\nDone."


def test_lint_warns_at_file_and_line_for_each_construct_shown_as_text(tmp_path):
    from indexer.job import scan
    from tests.support import write_tree

    body = ("Intro.\n\n:::note\nKeep it.\n:::\n\n<div align=\"center\">x</div> and `<div>` in code\n\n"
            "<!-- hidden -->\n\nimport X from '@site/x';\n\n<Tabs>\n\n{{< ref \"a\" >}}\n\n```sh\n<div>\n```\n\n"
            "Placeholders like <YOUR_TOKEN> are text.\n\n> [!NOTE]\n> x\n\n~~~\nnever closed\n")
    write_tree(tmp_path, {"a.en.md": "---\nid: a\nlang: en\nowner: x\n---\n" + body})
    found = [(p.line, p.code) for p in scan(tmp_path).problems if p.path == "a.en.md"]
    assert found == [(8, "admonition-syntax"), (12, "html"), (14, "html-comment"), (16, "mdx-import"), (18, "jsx"),
                     (20, "shortcode"), (28, "github-alert"), (31, "unclosed-fence")]


def test_an_admonition_indented_four_in_a_list_item_renders_inside_the_item():
    html = render("1. Select.\n\n    !!! note\n\n        After a moment.\n\n    ![img](x.png)\n\n1. Share.\n").html
    assert re.search(r"<li>\s*<p>Select.</p>\s*<div class=\"admonition note\">\s*<p class=\"admonition-title\">Note"
                     r"</p>\s*<p>After a moment.</p>\s*</div>", html) and "!!!" not in html and "<code>" not in html
