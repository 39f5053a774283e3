"""The block structure of article Markdown, in one place: fenced code, admonitions, heading ids, what we cannot render.

Why one module: six modules each had their own fence regex (``^[ \\t]*(```|~~~)``) and all of them
missed what real docs contain: a fence opened on a list item's line (`- ```none`), a ```` fence
holding ``` lines, a closing fence longer than its opener. One misread fence flips every line after
it: on a real knowledge base 15 headings of one article vanished and `# comment` lines inside the
code became sections. Whatever needs to know "is this line code?" (sections, links, snippets,
drift, section roles, rendering) asks here, so they can no longer disagree.

Fences follow CommonMark: three or more backticks or tildes, opened after any indentation and list
markers, closed by a line of the same character at least as long; an info string after backticks
holds no backtick (```` ```x``` ```` on one line is inline code). An unclosed fence runs to the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_OPEN = re.compile(r"^(?P<lead>[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*)(?P<mark>`{3,}|~{3,})(?P<info>.*)$")
_CLOSE = re.compile(r"^[ \t]*(?P<mark>`{3,}|~{3,})[ \t]*$")
_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+")
ADMONITION = re.compile(r'^(?P<indent>[ \t]*)(?P<mark>!!!|\?\?\?\+?)[ \t]+(?P<kind>[A-Za-z][\w-]*)'
                        r'(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$', re.M)
# the inside of a heading's `{#id}` (Docusaurus; Python-Markdown's attr_list `{: #id .class}` too)
_HEADING_ID = re.compile(r":?[ \t]*#(?P<id>[A-Za-z0-9_][\w:.-]*)(?:[ \t]+[.\w=\"' -]*)?[ \t]*")


@dataclass(frozen=True)
class Fence:
    """A fenced code block: lines `start`..`end` (0-based, both fence lines included when closed)."""

    start: int
    end: int
    lead: str  # what precedes the fence marker on its opening line: indentation and any list markers
    mark: str  # the opening run of backticks or tildes, as written
    info: str  # the info string: the code's language and options
    closed: bool

    @property
    def on_item(self) -> bool:
        """Opened on a list item's own line (`- ```none`), not on a line of its own."""
        return bool(_ITEM.search(self.lead))

    @property
    def body(self) -> range:
        """The code lines, fence lines excluded."""
        return range(self.start + 1, self.end if self.closed else self.end + 1)


def _opening(line: str) -> re.Match | None:
    m = _OPEN.match(line)
    if m and m.group("mark")[0] == "`" and "`" in m.group("info"):
        return None
    return m


def fences(text: str | list[str]) -> list[Fence]:
    """Every fenced code block of a text (or its lines), in order."""
    lines = text.split("\n") if isinstance(text, str) else text
    out: list[Fence] = []
    i = 0
    while i < len(lines):
        m = _opening(lines[i])
        if not m:
            i += 1
            continue
        mark = m.group("mark")
        end = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], mark)), None)
        out.append(Fence(i, len(lines) - 1 if end is None else end, m.group("lead"), mark, m.group("info").strip(),
                         end is not None))
        i = len(lines) if end is None else end + 1
    return out


def _closes(line: str, mark: str) -> bool:
    m = _CLOSE.match(line)
    return bool(m) and m.group("mark")[0] == mark[0] and len(m.group("mark")) >= len(mark)


def code_lines(lines: list[str]) -> list[bool]:
    """Per line: part of a fenced code block (fence lines included)."""
    mask = [False] * len(lines)
    for f in fences(lines):
        for j in range(f.start, f.end + 1):
            mask[j] = True
    return mask


def segments(text: str) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_code) in order; the pieces joined give the text back exactly.

    A code piece runs from its opening fence's line to the end of its closing fence's line; the
    newline between pieces stays with the prose around it.
    """
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    out: list[tuple[str, bool]] = []
    pos = 0
    for f in fences(lines):
        a, b = starts[f.start], starts[f.end + 1] - 1
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def mask_code(text: str) -> str:
    """The text with fenced code blanked out (newlines kept), so offsets and line numbers still match."""
    return "".join(re.sub(r"[^\n]", " ", piece) if code else piece for piece, code in segments(text))


@lru_cache(maxsize=4096)
def without_fence_lines(text: str) -> str:
    """The text without its fence lines (code kept): what a reader sees of it as plain words.

    Memoised: search snippets ask for the same sections again and again.
    """
    lines = text.split("\n")
    drop = {j for f in fences(lines) for j in (f.start, f.end) if j == f.start or f.closed}
    return "\n".join(line for j, line in enumerate(lines) if j not in drop)


def code_blocks(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, code_start, code) per fenced block: the block's character span, where its code begins, the code."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    out = []
    for f in fences(lines):
        body = f.body
        code_start = starts[body.start] if len(body) else starts[f.end]
        out.append((starts[f.start], starts[f.end + 1] - 1, code_start, "\n".join(lines[j] for j in body)))
    return out


def item_fences_apart(text: str) -> str:
    """A fence opened on a list item's line moved to a line of its own under the item, code re-indented.

    `- ```none` is a list item whose content is code (CommonMark); Python-Markdown reads it as
    inline code with the next lines glued on. Written as `- ` then the fence indented to the
    item's text (at least 3 columns, our tab length), it renders as code inside the item.
    """
    lines = text.split("\n")
    found = [f for f in fences(lines) if f.on_item]
    if not found:
        return text
    out: list[str] = []
    done = 0
    for f in found:
        out.extend(lines[done:f.start])
        col = len(f.lead.expandtabs(4))
        pad = " " * max(col, 3)
        out.append(f.lead.rstrip() + " ")
        out.append(pad + f.mark + f.info)
        for j in range(f.start + 1, f.end + 1):
            line = lines[j]
            strip = min(col, len(line) - len(line.lstrip(" ")))
            out.append(pad + line[strip:] if line.strip() else line)
        done = f.end + 1
    out.extend(lines[done:])
    return "\n".join(out)


def split_heading_id(text: str) -> tuple[str, str | None]:
    """A heading's text without its `{#id}`, and the id (None when it has none).

    Found from the end without a searching regex: a heading line of a few thousand spaces made
    one take minutes (tests/test_fuzz.py).
    """
    end = text.rstrip(" \t")
    if not end.endswith("}"):
        return text, None
    start = end.rfind("{")
    m = _HEADING_ID.fullmatch(end, start + 1, len(end) - 1) if start > 0 else None
    if not m:
        return text, None
    return text[:start].rstrip(" \t"), m.group("id")


# --- what the reader cannot render ----------------------------------------------------------------

_HTML_TAGS = ("a|abbr|b|blockquote|br|button|center|code|details|div|em|figure|figcaption|font|h[1-6]|hr|i|iframe|"
              "img|input|kbd|li|ol|p|pre|script|section|small|span|strong|style|sub|summary|sup|table|tbody|td|th|"
              "thead|tr|u|ul|video|audio|source|object|embed|svg")
_UNRENDERABLE = [
    (re.compile(r"^[ \t]*:::[ \t]*\w+"), "admonition-syntax",
     "Docusaurus admonition {found!r} is shown as text; write `!!! kind \"Title\"` with a body indented 4 spaces"),
    (re.compile(r"<!--"), "html-comment", "HTML comment is shown as text; delete it or write it as Markdown"),
    (re.compile(rf"</?(?:{_HTML_TAGS})\b[^<>]*>", re.I), "html", "HTML {found} is shown as text, not rendered; "
     "write it as Markdown"),
    (re.compile(r"</?[A-Z][a-z][A-Za-z0-9.]*\b[^<>]*/?>"), "jsx", "MDX/JSX component {found} is shown as text; remove it "
     "or write its content as Markdown"),
    (re.compile(r"^(?:import|export)[ \t]+[\w{*][^\n]*\bfrom[ \t]+['\"]"), "mdx-import",
     "MDX import/export line is shown as text; delete it"),
    (re.compile(r"\{\{[<%][ \t]*/?[\w.-]+"), "shortcode", "Hugo shortcode {found!r}… is shown as text; write it "
     "as Markdown"),
    (re.compile(r'^[ \t]*===[ \t]+"[^"]*"'), "tabs", "content tab {found!r} is shown as text; use a heading per tab"),
    (re.compile(r"^[ \t]*-{2}8<-{2}"), "snippet-include", "MkDocs snippet include is shown as text; paste the text"),
    (re.compile(r"^[ \t]*>[ \t]*\[!\w+\]"), "github-alert", "GitHub alert {found!r} is shown as a quote with its "
     "marker; write `!!! note` with a body indented 4 spaces"),
]
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


@dataclass(frozen=True)
class Finding:
    """A construct of another site generator or raw markup that the page would show as text."""

    line: int  # 1-based, in the text given
    code: str
    message: str


def unrenderable(text: str) -> list[Finding]:
    """What `kb lint` warns about: constructs outside code that our reader would show as text, one per kind and line.

    Raw HTML is shown as text on purpose (readers never get writers' markup); the warning says so
    before a page shows `<div>` to customers, and an unclosed fence before it swallows the rest.
    """
    lines = text.split("\n")
    code = code_lines(lines)
    out: list[Finding] = []
    for f in fences(lines):
        if not f.closed:
            out.append(Finding(f.start + 1, "unclosed-fence",
                               f"code fence {f.mark!r} is never closed: the rest of the article is shown as code"))
    for i, line in enumerate(lines):
        if code[i]:
            continue
        prose = _INLINE_CODE.sub(lambda m: " " * len(m.group()), line)
        for rx, kind, message in _UNRENDERABLE:
            m = rx.search(prose)
            if m:
                out.append(Finding(i + 1, kind, message.format(found=m.group().strip()[:40])))
    return sorted(out, key=lambda f: f.line)
