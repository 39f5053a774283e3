"""Markdown of other site generators to polykb's: the passes every source format shares.

A pass that drops something reports it at the source file's line, so passes that drop run first
and keep the line count (a dropped line becomes an empty one); passes that may change it (HTML to
Markdown) run after. What is left that polykb cannot render is reported by `kb.articles.blocks`
at the imported article's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kb.articles import blocks
from kb.importing.common import Report

# A link target as written -> the polykb target ("article-id#anchor", an asset path), or None if unresolved
Resolve = Callable[[str], "str | None"]

_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(?P<target><[^>\n]*>|[^)\s]+)"
                   r"(?P<title>\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^(?P<lead>[ \t]{0,3}\[[^\]]+\]:[ \t]*)(?P<target>\S+)(?P<rest>.*)$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
_MDX_LINE = re.compile(r"^(?:import|export)\b")
_DOCUSAURUS_ADMONITION = re.compile(r"^(?P<indent>[ \t]*)(?P<colons>:{3,})[ \t]*(?P<kind>[^\W\d_][\w-]*)?"
                                    r"(?:\[(?P<bracket>[^\]]*)\]|[ \t]+(?P<title>.*?))?[ \t]*(?:\{[^}]*\})?[ \t]*$")
_ALERT = re.compile(r"^(?P<indent>[ \t]*)>[ \t]*\[!(?P<kind>\w+)\][ \t]*(?P<title>.*)$")
KINDS = {"note": "note", "info": "info", "tip": "tip", "warning": "warning", "caution": "caution", "danger": "danger",
         "important": "important", "success": "tip", "secondary": "note", "example": "example", "question": "question",
         "attention": "warning", "hint": "tip", "error": "danger", "abstract": "note", "bug": "warning",
         "failure": "danger", "quote": "note", "todo": "note", "faq": "question", "nb": "note"}


@dataclass
class Page:
    """One document on its way to an article: the body as it is converted, where its lines came from."""

    body: str
    where: str  # the source file, relative to the site, for notes
    first_line: int  # the line of the file the body starts at
    report: Report
    origin: list[int] = field(default_factory=list)  # per line of the body now: its line in the source body

    def __post_init__(self):
        self.origin = self.origin or list(range(self.body.count("\n") + 1))

    def note(self, index: int, code: str, message: str):
        """A finding at line `index` (0-based) of the body as it is now, reported at its line in the source file."""
        at = self.origin[min(index, len(self.origin) - 1)] if self.origin else index
        self.report.note(self.where, self.first_line + at, code, message)

    def reflow(self, lines: list[str]):
        """The body from its lines, some of which a pass made into several: each new line keeps its origin."""
        origin: list[int] = []
        for i, line in enumerate(lines):
            origin.extend([self.origin[i]] * (line.count("\n") + 1))
        self.body, self.origin = "\n".join(lines), origin

    def count(self, what: str, n: int = 1):
        if n:
            self.report.converted[what] += n

    def prose_lines(self) -> tuple[list[str], list[bool]]:
        lines = self.body.split("\n")
        return lines, blocks.code_lines(lines)


def _blank_out(text: str, span: tuple[int, int]) -> str:
    """The span replaced by its newlines only, so the lines after it keep their numbers."""
    return text[:span[0]] + "\n" * text.count("\n", *span) + text[span[1]:]


def drop_comments(page: Page):
    """HTML comments (and MDX `{/* */}` ones) are not shown by the site: removed, counted."""
    for rx, what in ((_COMMENT, "HTML comments removed"), (_MDX_COMMENT, "MDX comments removed")):
        masked = blocks.mask_code(page.body)
        for m in reversed(list(rx.finditer(masked))):
            page.body = _blank_out(page.body, m.span())
            page.count(what)


def drop_mdx_lines(page: Page):
    """MDX `import`/`export` lines (at the margin, outside code): removed, each reported at its line."""
    lines, code = page.prose_lines()
    i = 0
    while i < len(lines):
        if code[i] or not _MDX_LINE.match(lines[i]):
            i += 1
            continue
        start = i
        while i + 1 < len(lines) and lines[i + 1].strip() and not code[i + 1] and \
                not re.search(r"[;'\"]\s*$|from\s+\S+\s*$", lines[i]):
            i += 1  # an import or export spread over lines runs to its end
        page.note(start, "mdx-import", f"MDX line removed: {lines[start].strip()[:60]!r}")
        for j in range(start, i + 1):
            lines[j] = ""
        i += 1
    page.body = "\n".join(lines)


def docusaurus_admonitions(page: Page):
    """`:::note Title` … `:::` (and `:::note[Title]`) to `!!! note "Title"` with the body indented 4 more.

    Line for line (the closing `:::` becomes an empty line); nested ones count their colons; a
    kind polykb's reader has no style for is kept as a note with its name as title.
    """
    lines, code = page.prose_lines()
    stack: list[tuple[int, str]] = []  # (colons, indent) of the open admonitions
    for i, line in enumerate(lines):
        if code[i] and not stack:
            continue
        m = None if code[i] else _DOCUSAURUS_ADMONITION.match(line)
        if m and not m.group("kind") and stack and len(m.group("colons")) >= stack[-1][0]:
            stack.pop()
            lines[i] = ""
            continue
        if m and not m.group("kind") and not stack:
            page.note(i, "stray-admonition-end", "':::' closes no admonition: removed")
            lines[i] = ""
            continue
        pad = "".join("    " for _ in stack)
        if m and m.group("kind"):
            lines[i] = pad + _opening(m, page)
            stack.append((len(m.group("colons")), m.group("indent")))
            continue
        if stack and line.strip():
            lines[i] = _indented(line, stack)
    for _ in stack:
        page.note(len(lines) - 1, "unclosed-admonition", "admonition ':::' is never closed; closed at the end")
    page.body = "\n".join(lines)


def github_alerts(page: Page):
    """GitHub's alerts (`> [!NOTE]` then `> text` lines) as `!!! note` with the text indented, line for line."""
    lines, code = page.prose_lines()
    i = 0
    while i < len(lines):
        m = None if code[i] else _ALERT.match(lines[i])
        if not m:
            i += 1
            continue
        kind = KINDS.get(m.group("kind").lower(), "note")
        text = m.group("title").strip()  # Docsy lets the text start on the marker's line; GitHub does not
        lines[i] = m.group("indent") + f"!!! {kind}" + (f"\n{m.group('indent')}    {text}" if text else "")
        page.count("admonitions")
        i += 1
        while i < len(lines) and not code[i] and re.match(rf"{re.escape(m.group('indent'))}>", lines[i]):
            text = re.sub(r"^>[ ]?", "", lines[i][len(m.group("indent")):])
            lines[i] = m.group("indent") + "    " + text if text.strip() else ""
            i += 1
    page.reflow(lines)


def _opening(m: re.Match, page: Page) -> str:
    raw = m.group("kind").lower()
    kind = KINDS.get(raw, "note")
    title = (m.group("bracket") or m.group("title") or "").strip()
    if raw not in KINDS:
        title = title or raw.capitalize()
    page.count("admonitions")
    return m.group("indent") + f"!!! {kind}" + (f' "{title.replace(chr(34), chr(39))}"' if title else "")


def _indented(line: str, stack: list[tuple[int, str]]) -> str:
    """A body line of the innermost admonition, 4 columns deeper per open admonition past its indent."""
    indent = stack[-1][1]
    rest = line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")
    return indent + "    " * len(stack) + rest


def rewrite_links(page: Page, resolve: Resolve, asset: Resolve):
    """Site links to article ids and assets to the paths they are copied to; unresolved links kept as text.

    `resolve(target)` gives "article-id#anchor" or None; `asset(target)` the path written in the
    article for an image or attachment of the site, or None when the site has no such file.
    """
    lines, code = page.prose_lines()
    for i, line in enumerate(lines):
        if code[i] or ("](" not in line and "]:" not in line):
            continue
        inline = re.sub(r"`[^`\n]*`", lambda m: "\0" * len(m.group()), line)
        out, pos = [], 0
        for found in _LINK.finditer(inline):  # found in the line with its code spans masked, read in the line
            out.append(line[pos:found.start()])
            parts = {g: line[found.start(g):found.end(g)] if found.start(g) >= 0 else "" for g in _LINK.groupindex}
            out.append(_link(page, i, parts, line[found.start():found.end()], resolve, asset))
            pos = found.end()
        out.append(line[pos:])
        lines[i] = _ref_def("".join(out), page, i, resolve, asset)
    page.body = "\n".join(lines)


def _link(page: Page, i: int, m: dict[str, str], written: str, resolve: Resolve, asset: Resolve) -> str:
    target = m["target"].strip("<>")
    if not target or _SCHEME.match(target) or target.startswith("#"):
        return written
    image = bool(m["bang"])
    new = asset(target) if image else (resolve(target) or asset(target))
    if new is None:
        kind = "image" if image else "link"
        page.note(i, f"unresolved-{kind}", f"{kind} target {target!r} is not a document or file of the site"
                  + ("; kept as written (a lint warning, the page shows its text)" if image else "; kept as text"))
        return written if image else m["text"]
    page.count("images and attachments" if image or new.endswith(tuple(ASSET_SUFFIXES)) else "links to ids")
    return f"{m['bang']}[{m['text']}]({new}{m['title']})"


ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", ".zip", ".txt", ".csv", ".json", ".xml",
                  ".mp4", ".webm", ".ico", ".bmp", ".avif", ".mov", ".conf", ".yaml", ".yml", ".apk", ".exe", ".dmg")


def _ref_def(line: str, page: Page, i: int, resolve: Resolve, asset: Resolve) -> str:
    m = _REF_DEF.match(line)
    if not m or _SCHEME.match(m.group("target")) or m.group("target").startswith("#"):
        return line
    new = resolve(m.group("target").strip("<>")) or asset(m.group("target").strip("<>"))
    if new is None:
        page.note(i, "unresolved-link", f"link target {m.group('target')!r} is not a document or file of the site")
        return line
    page.count("links to ids")
    return m.group("lead") + new + m.group("rest")


def title_from_body(page: Page) -> str | None:
    """The first `# ` heading when it opens the body: the page's title, taken out of the body (no second title)."""
    lines, code = page.prose_lines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if not code[i] and line.startswith("# "):
            text, _ = blocks.split_heading_id(line[2:].strip())
            lines[i] = ""
            page.body = "\n".join(lines)
            return text.strip().strip("#").strip() or None
        return None
    return None


def tidy(body: str) -> str:
    """At most one empty line in a row outside code, no trailing spaces at the ends, a final newline."""
    out: list[str] = []
    lines = body.split("\n")
    code = blocks.code_lines(lines)
    for i, line in enumerate(lines):
        if not code[i] and not line.strip():
            if out and not out[-1].strip():
                continue
            line = ""
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def count_heading_ids(page: Page):
    from kb.articles.chunking import heading_of

    lines, code = page.prose_lines()
    page.count("heading ids kept as anchors", sum(1 for i, line in enumerate(lines) if not code[i]
                                                  and (h := heading_of(line)) and blocks.split_heading_id(h[1])[1]))
