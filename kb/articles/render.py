"""Article Markdown to safe HTML, and a section to plain text for agents to paste.

Rendering uses Markdown's tables, admonition and toc extensions and pymdownx's
superfences (fenced code, also inside list items); the toc
extension makes heading ids with `slugify_unicode`, exactly as
`kb.articles.chunking` makes section anchors, and a heading's `{#id}` is its id
on both sides, so a search result's `#anchor` lands on its section. Where
blocks start and end (fences, admonitions) is `kb.articles.blocks`' to say. Raw HTML in an article is shown as text, never interpreted, and
the output is sanitised with nh3 all the same: no script, no event handler,
no `javascript:` link survives.

Links between articles are written by id (`[text](other-id#anchor)`); the
caller's `resolve(article_id, anchor)` turns them into URLs, or returns None
when the target is not visible to the reader: the link becomes plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from kb.articles import blocks
from kb.articles.prepare import prepare
from kb.articles.model import ID_PATTERN
from kb.articles.chunking import sections

Resolver = Callable[[str, "str | None"], "str | None"]
Media = Callable[[str], "str | None"]  # an image's relative path as written -> its URL, None when there is no such file

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_BLOCK_TAGS = {"p", "div", "pre", "blockquote", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "ul"}
# Admonitions: the kinds Python-Markdown, Docusaurus and MkDocs sites use; a label per kind comes from the caller
ADMONITION_KINDS = ("note", "info", "tip", "warning", "caution", "danger", "important", "example", "question")
CLASSES = {"div": {"admonition", *ADMONITION_KINDS}, "p": {"admonition-title"}}
ATTRIBUTES = {
    **{f"h{n}": {"id"} for n in range(1, 7)},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Set by the renderer after sanitising (focusable_code), never taken from an article.
ADDED_ATTRIBUTES = {"pre": {"tabindex", "role", "aria-label"}}


@dataclass(frozen=True)
class TocEntry:
    level: int
    id: str
    name: str


@dataclass
class Rendered:
    html: str
    toc: list[TocEntry] = field(default_factory=list)


class _LinkRewriter(Treeprocessor):
    """Article-id links to URLs from the resolver; hidden or unresolvable targets to plain text."""

    def __init__(self, md, resolve: Resolver | None, media: Media | None = None):
        super().__init__(md)
        self.resolve = resolve
        self.media = media

    def run(self, root):
        if self.media is not None:
            self._images(root)
        for el in root.iter("a"):
            href = (el.get("href") or "").strip()
            if not href or href.startswith("#") or _SCHEME.match(href) or href.startswith("//"):
                continue
            target, _, anchor = href.partition("#")
            url = None
            if self.resolve is not None and ID_PATTERN.match(target) and not target.endswith(".md"):
                url = self.resolve(target, anchor or None)
            if url is None and self.media is not None and not target.endswith(".md") and \
                    ("/" in target or "." in target):  # an attachment beside the article
                url = self.media(target)
            if url is None:
                el.tag = "span"
                el.attrib.clear()
            else:
                el.set("href", url)

    def _images(self, root):
        """Images beside the article to their URLs; a missing one shows its alt text, never a broken image."""
        for el in root.iter("img"):
            src = (el.get("src") or "").strip()
            if not src or _SCHEME.match(src) or src.startswith("//"):
                continue
            url = self.media(src)
            if url is None:
                alt = el.get("alt") or ""
                el.tag = "span"
                el.attrib.clear()
                el.text = f"[{alt}]" if alt else ""
            else:
                el.set("src", url)


class _HeadingIds(Treeprocessor):
    """A heading's `{#id}` becomes its id (before the toc extension, which keeps ids already set).

    Not Python-Markdown's attr_list: it also reads `## Set {name}` as an attribute list and drops
    the `{name}` writers wrote; only `{#id}` (and `{: #id}`) is taken here, as `blocks` reads it.
    """

    def run(self, root):
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                last = el[-1] if len(el) else None
                text = (last.tail if last is not None else el.text) or ""
                rest, custom = blocks.split_heading_id(text)
                if custom:
                    if last is not None:
                        last.tail = rest
                    else:
                        el.text = rest
                    el.set("id", custom)


def _markdown(resolve: Resolver | None, media: Media | None = None) -> markdown.Markdown:
    # superfences is fenced_code that also works inside list items ("2. Run:" then an indented fence);
    # tab_length 3 lets list items continue with the 3-space indent writers use (as in CommonMark).
    md = markdown.Markdown(extensions=["tables", "pymdownx.highlight", "pymdownx.superfences", "admonition", "toc"],
                           tab_length=3,
                           extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"},
                                              "tables": {"use_align_attribute": True},
                                              "pymdownx.highlight": {"use_pygments": False}})
    # Raw HTML is shown as text: writers write Markdown, and readers never get their markup.
    md.parser.blockprocessors["olist"].LAZY_OL = False  # a list written from "3." starts at 3, as in CommonMark
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_LinkRewriter(md, resolve, media), "kb_links", 15)
    md.treeprocessors.register(_HeadingIds(md), "kb_heading_ids", 10)  # the toc's is 5: ids are set before it
    return md


def sanitize(fragment: str) -> str:
    return nh3.clean(fragment, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, allowed_classes=CLASSES,
                     link_rel="noopener noreferrer")


MAX_UNCLOSED = 1000  # unclosed `[` or `(`: Python-Markdown's link pattern is quadratic in them


def _unclosed(text: str, opener: str, closer: str) -> int:
    """How many `opener`s no later `closer` closes (nested counting, as a link's text or URL is read)."""
    depth = 0
    for ch in re.findall(r"\\.|[" + re.escape(opener + closer) + "]", text):  # `\[` is escaped: no opener
        if ch == opener:
            depth += 1
        elif ch == closer and depth:
            depth -= 1
    return depth


def too_costly(text: str) -> bool:
    """Text that Python-Markdown would take seconds to read: 5,000 unclosed `[` took 2.9 s, 20,000 about 45."""
    return _unclosed(text, "[", "]") > MAX_UNCLOSED or _unclosed(text, "(", ")") > MAX_UNCLOSED


def focusable_code(fragment: str, label: str | None) -> str:
    """Code blocks that keyboard users can scroll: a wide one scrolls sideways, and only a focusable
    element can be scrolled with the arrow keys (WCAG 2.1.1); named by `label` ("Code", in the reader's
    language) for screen readers. The sanitiser leaves every <pre> bare, so the tag is matched exactly."""
    attrs = ' tabindex="0"' + (f' role="group" aria-label="{html.escape(label)}"' if label else "")
    return fragment.replace("<pre>", f"<pre{attrs}>")


def render(text: str, resolve: Resolver | None = None, code_label: str | None = None,
           labels: Mapping[str, str] | None = None, media: Media | None = None) -> Rendered:
    """Render an article body: sanitised HTML and its table of contents (h2 and h3).

    `labels` name the admonition kinds in the reader's language ("note" → "Примечание"); `media`
    turns an image's relative path into its URL (None: paths are left as written).
    """
    if too_costly(text):  # shown as written, at once, rather than after seconds of parsing
        return Rendered(focusable_code(sanitize(f"<pre>{html.escape(text)}</pre>"), code_label))
    md = _markdown(resolve, media)
    try:
        out = focusable_code(sanitize(md.convert(prepare(text, labels))), code_label)
    except RecursionError:  # hundreds of nested list levels or thousands of `*`: Markdown gives up; show the text
        return Rendered(focusable_code(sanitize(f"<pre>{html.escape(text)}</pre>"), code_label))
    toc = []

    def walk(tokens):
        for t in tokens:
            toc.append(TocEntry(t["level"], t["id"], html.unescape(t["name"])))
            walk(t.get("children", []))

    walk(getattr(md, "toc_tokens", []))
    return Rendered(out, toc)


def section_markdown(body: str, anchor: str | None) -> str | None:
    """The Markdown of one section ("" or None: the intro), heading excluded; None if no such section."""
    for sec in sections(body):
        if sec.anchor == (anchor or ""):
            return sec.text
    return None


class _TextWriter(HTMLParser):
    """Rendered HTML to text a person can paste into a reply: lists numbered, code kept as is."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.lists: list[list] = []  # [tag, counter] of the open lists
        self.pre = 0
        self.cell = 0
        self.owed = 0  # line breaks owed before the next text
        self.marker: str | None = None  # a list item's "1. " or "- ", written with its first text
        self.line_start = True

    def _break(self, n: int):
        self.owed = max(self.owed, n)

    def _emit(self, text: str):
        indent = "   " * len(self.lists)
        if self.parts and self.owed:
            self.parts.append("\n" * self.owed)
        if self.marker is not None:
            self.parts.append(indent[3:] + self.marker)
        elif self.owed and self.parts:
            self.parts.append(indent)
        self.owed, self.marker = 0, None
        self.parts.append(text)
        self.line_start = False

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self._break(1 if self.lists else 2)
        if tag in ("ul", "ol"):
            start = dict(attrs).get("start")
            self.lists.append([tag, int(start) - 1 if start and start.isdigit() else 0])
        elif tag == "li" and self.lists:
            self._break(1)
            if self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.marker = f"{self.lists[-1][1]}. "
            else:
                self.marker = "- "
            self.line_start = True
        elif tag == "pre":
            self.pre += 1
        elif tag == "br":
            self._break(1)
            self.line_start = True
        elif tag == "tr":
            self._break(1)
            self.cell = 0
            self.line_start = True
        elif tag in ("td", "th"):
            if self.cell:
                if self.parts:
                    self.parts[-1] = self.parts[-1].rstrip()
                self._emit(" | ")
            self.cell += 1
            self.line_start = True

    def handle_endtag(self, tag):
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "pre":
            self.pre -= 1
        if tag in _BLOCK_TAGS or tag == "li":
            self._break(1 if self.lists or tag == "li" else 2)
            self.line_start = True

    def handle_data(self, data):
        if self.pre:
            indent = "   " * len(self.lists)
            self._emit(data.rstrip("\n").replace("\n", "\n" + indent))
            return
        text = re.sub(r"\s+", " ", data)
        if self.line_start or self.owed:
            text = text.lstrip()
        if text:
            self._emit(text)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def plain_text(text: str, resolve: Resolver | None = None) -> str:
    """Markdown (a section) as plain text for a reply; links keep their text, and their URL when public."""
    if too_costly(text):
        return text.strip()
    md = _markdown(resolve)
    try:
        rendered = sanitize(md.convert(prepare(text)))
    except RecursionError:  # nesting too deep for Markdown (see render): the text as written
        return text.strip()
    # keep a link's address in the text: a pasted reply has no hyperlinks
    rendered = re.sub(r'<a href="(https?://[^"]+)"[^>]*>(.*?)</a>',
                      lambda m: m.group(2) if html.unescape(m.group(1)) in m.group(2)
                      else f"{m.group(2)} ({html.unescape(m.group(1))})", rendered)
    writer = _TextWriter()
    writer.feed(rendered)
    writer.close()
    return writer.text()
