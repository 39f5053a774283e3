"""HTML and JSX inside Markdown: iframes and components dropped (reported), HTML written as Markdown.

polykb shows raw HTML as text (readers never get writers' markup), so an imported `<details>`,
`<br>` or `<table>` would show its tags to customers. It is converted with markdownify (a
maintained HTML-to-Markdown converter on Beautiful Soup): tables, links, images, emphasis, line
breaks, lists. What has no Markdown form (an iframe, an MDX component) is dropped at its line with a
note; an iframe leaves a link to what it showed.
"""

from __future__ import annotations

import re

from markdownify import markdownify

from kb.articles import blocks
from kb.importing.convert import Page

_KNOWN = ("a|abbr|b|blockquote|br|center|code|dd|del|details|div|dl|dt|em|figcaption|figure|font|h[1-6]|hr|i|img|"
          "ins|kbd|li|mark|ol|p|pre|s|section|small|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th|"
          "thead|tr|u|ul|video|audio|source|picture|iframe|center|article|aside|main|header|footer|nav|button")
_TAG = re.compile(rf"</?(?:{_KNOWN})\b[^<>]*>", re.I)
_BLOCK_START = re.compile(rf"^[ \t]*<(?P<name>{_KNOWN})\b", re.I)
_WRAPPER = re.compile(r"^[ \t]*</?(?:div|section|center|article|main|aside|span|p)\b[^<>]*>[ \t]*$", re.I)
_NOT_TAG = re.compile(rf"<(?!/?(?:{_KNOWN})\b|!--)", re.I)  # `<YOUR_TOKEN>` placeholders are text, not markup
_IFRAME = re.compile(r"<iframe\b(?P<attrs>[^>]*)>(?:.*?</iframe>)?", re.I | re.S)
_ATTR = re.compile(r"""(?P<name>[\w-]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|\{['"](?P<js>[^'"]*)['"]\})""")
_JSX = re.compile(r"</?[A-Z][a-z][\w.]*(?:\s[^<>]*)?/?>")  # `<Tabs>`; not `<USERNAME>`, a placeholder
_JSX_OPEN = re.compile(r"<[A-Z][a-z][\w.]*(?:\s[^<>]*)?$")  # a component whose attributes go on over lines
_SCRIPT = re.compile(r"<(?P<tag>script|style)\b[^>]*>.*?</(?P=tag)\s*>", re.I | re.S)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LEAD = re.compile(r"^(?P<lead>[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?)")
OPTIONS = dict(heading_style="ATX", bullets="-", escape_asterisks=False, escape_underscores=False, escape_misc=False,
               strong_em_symbol="*", code_language="")


def _attrs(tag: str) -> dict[str, str]:
    return {m.group("name").lower(): m.group("dq") or m.group("sq") or m.group("js") or ""
            for m in _ATTR.finditer(tag)}


def drop_scripts(page: Page):
    """`<script>` and `<style>` elements outside code: removed (a page never shows them), each reported."""
    masked = blocks.mask_code(page.body)
    for m in reversed(list(_SCRIPT.finditer(masked))):
        page.note(page.body.count("\n", 0, m.start()), "script", f"<{m.group('tag')}> element removed")
        page.body = page.body[:m.start()] + "\n" * page.body.count("\n", *m.span()) + page.body[m.end():]


def iframes_and_components(page: Page):
    """Iframes become a link to their page; MDX/JSX components are dropped, a tab's label kept in bold."""
    lines, code = page.prose_lines()
    i = 0
    while i < len(lines):
        if code[i]:
            i += 1
            continue
        line = _outside_code(lines[i], lambda text: _IFRAME.sub(lambda m: _iframe_link(page, i, m), text))
        if _JSX_OPEN.search(line) and not _JSX.search(line):  # `<Tabs` … attributes … `>` over several lines
            end = next((j for j in range(i + 1, min(i + 30, len(lines))) if ">" in lines[j]), i)
            line = " ".join([line] + [x.strip() for x in lines[i + 1:end + 1]])
            for j in range(i + 1, end + 1):
                lines[j] = ""
        lines[i] = _outside_code(line, lambda text: _JSX.sub(lambda m: _component(page, i, m.group()), text))
        if lines[i] != line and not lines[i].strip():
            lines[i] = ""
        i += 1
    page.body = "\n".join(lines)


def _outside_code(line: str, change) -> str:
    """`change` applied to the parts of a line outside inline code spans."""
    out, pos = [], 0
    for m in _INLINE_CODE.finditer(line):
        out.append(change(line[pos:m.start()]) + m.group())
        pos = m.end()
    return "".join(out) + change(line[pos:])


def _iframe_link(page: Page, i: int, m: re.Match) -> str:
    attrs = _attrs(m.group("attrs"))
    src = attrs.get("src", "")
    page.note(i, "iframe", f"iframe removed (polykb shows no embedded pages){'; left a link to ' + src if src else ''}")
    if not src.startswith(("http://", "https://", "//")):
        return ""
    return f"[{attrs.get('title') or 'Video' if 'youtube' in src or 'vimeo' in src else attrs.get('title') or src}]" \
           f"({'https:' + src if src.startswith('//') else src})"


def _component(page: Page, i: int, tag: str) -> str:
    name = re.match(r"</?([\w.]+)", tag).group(1)
    label = _attrs(tag).get("label") if name == "TabItem" and not tag.startswith("</") else None
    if label:
        page.count("tabs as labelled paragraphs")
        return f"**{label}**"
    if name in ("Tabs", "TabItem"):
        return ""
    page.note(i, "jsx", f"MDX/JSX component <{name}> removed: polykb renders Markdown only")
    return ""


def html_to_markdown(page: Page):
    """HTML outside code written as Markdown: an HTML block (a line opening with a tag, to its end) as one, inline
    tags line by line."""
    lines, code = page.prose_lines()
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(lines):
        if not code[i] and _WRAPPER.match(lines[i]):  # a wrapper's own line: its Markdown content stays as it is
            page.count("HTML wrappers removed")
            out.append("")
            origin.append(page.origin[i])
            i += 1
            continue
        m = None if code[i] else _BLOCK_START.match(lines[i])
        if m:
            end = _block_end(lines, code, i, m.group("name").lower())
            new = _convert(page, "\n".join(lines[i:end + 1]), block=True).split("\n")
            out.extend(new)
            origin.extend([page.origin[i]] * len(new))
            i = end + 1
            continue
        line = lines[i]
        if not code[i] and _TAG.search(_INLINE_CODE.sub("", line)):
            lead = _LEAD.match(line).group("lead")
            line = lead + _convert(page, line[len(lead):], block=False)
        out.append(line)
        origin.append(page.origin[i])
        i += 1
    page.body = "\n".join(out)
    page.origin = origin


def _block_end(lines: list[str], code: list[bool], start: int, name: str) -> int:
    """The last line of an HTML block: its element's closing line, else the line before the next empty one."""
    depth = 0
    opener, closer = re.compile(rf"<{name}\b", re.I), re.compile(rf"</{name}\s*>", re.I)
    for j in range(start, len(lines)):
        if code[j]:
            return max(start, j - 1)
        depth += len(opener.findall(lines[j])) - len(closer.findall(lines[j]))
        if depth <= 0 and (j + 1 == len(lines) or not lines[j + 1].strip() or closer.search(lines[j])):
            return j
        if j - start > 400:
            break
    nxt = next((j for j in range(start, len(lines)) if not lines[j].strip()), len(lines))
    return nxt - 1


def _convert(page: Page, html: str, block: bool) -> str:
    """HTML (with Markdown in it) as Markdown: inline code and `<placeholders>` kept as written."""
    kept: list[str] = []

    def keep(m):
        kept.append(m.group())
        return f"\x00{len(kept) - 1}\x00"

    text = _INLINE_CODE.sub(keep, html)
    text = _NOT_TAG.sub("&lt;", text)
    text = re.sub(r"<summary\b[^>]*>(.*?)</summary>", r"<p><strong>\1</strong></p>", text, flags=re.I | re.S)
    md = markdownify(text, **OPTIONS)
    md = md.strip("\n") if block else md.strip()
    page.count("HTML blocks as Markdown" if block else "inline HTML as Markdown")
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], md)
