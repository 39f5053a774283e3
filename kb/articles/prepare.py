"""Article Markdown rewritten where Python-Markdown would read it otherwise than writers (and CommonMark) mean it.

Python-Markdown glues a list item to the paragraph above it, ends a numbered list at a code block
written at the margin, leaves a fence after a blank line inside a list unread, and reads `- ```sh`
as inline code; admonitions need their label in the reader's language. Block boundaries come from
`kb.articles.blocks`; kb.articles.render calls `prepare` before converting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kb.articles import blocks

_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|(\d{1,9})[.)])[ \t]+\S")


def _separate_lists(text: str) -> str:
    """A blank line before a list item that follows paragraph text, as CommonMark reads it.

    Writers put "2. Next step" right under an indented paragraph of step 1;
    Python-Markdown would glue it to that paragraph as lazy text.
    """
    out: list[str] = []
    lines = text.split("\n")
    code = blocks.code_lines(lines)
    for i, line in enumerate(lines):
        prev = lines[i - 1] if i else ""
        if not code[i] and i and not code[i - 1] and prev.strip() and not _LIST_ITEM.match(prev):
            m = _LIST_ITEM.match(line)
            if m and (m.group(1) in (None, "1") or prev[:1] in (" ", "\t")):
                out.append("")
        out.append(line)
    return "\n".join(out)


_OL_ITEM = re.compile(r"^(\d{1,9}[.)])([ \t]+)\S")


def _attach_fences(text: str) -> str:
    """A code block written at column 0 between two numbered steps belongs to the step before it.

    Writers write "2. Run:", a blank line, a fence at the margin, then "3. ...". Markdown ends the list
    at the fence, and "3." opened a new list that counted from 1 again, on the page and in pasted text.
    Indenting the fence to the step's text keeps one list, numbered as written, with the code in its step.
    """
    lines = text.split("\n")
    opened = {f.start: f for f in blocks.fences(lines)}
    out: list[str] = []
    indent: int | None = None  # text indent of the last numbered item, while its list may go on
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = opened.get(i)
        if fence is not None:
            block = lines[i:fence.end + 1]
            after = next((x for x in lines[fence.end + 1:] if x.strip()), "")
            if fence.closed and indent is not None and not fence.lead and _OL_ITEM.match(after):
                block = [" " * indent + x if x.strip() else x for x in block]
            out.extend(block)
            i = fence.end + 1
            continue
        m = _OL_ITEM.match(line)
        if m:
            indent = len(m.group(1)) + len(m.group(2))
        elif line.strip() and not line[:1].isspace():
            indent = None  # a paragraph at the margin ends the list
        out.append(line)
        i += 1
    return "\n".join(out)


def _space_after_fences(text: str) -> str:
    """A blank line after a fence that has one before it, when text follows at once.

    "1. Step", a blank line, an indented fence, then "2. next" on the next line: superfences
    leaves that fence unread (an empty paragraph, the code, "2. next" glued on) unless a blank
    line follows it too.
    """
    lines = text.split("\n")
    after = {f.end for f in blocks.fences(lines) if f.closed and f.end + 1 < len(lines) and lines[f.end + 1].strip()
             and (f.start == 0 or not lines[f.start - 1].strip())}
    return "\n".join(line + "\n" if i in after else line for i, line in enumerate(lines))


def _labelled(text: str, labels: Mapping[str, str] | None) -> str:
    """Admonitions as Python-Markdown reads them, titled: `!!! note` gets the reader's word for "Note".

    A title the writer gave is kept; `??? note` (collapsible, pymdownx.details) is shown open.
    """
    lines = text.split("\n")
    code = blocks.code_lines(lines)
    for i, line in enumerate(lines):
        m = None if code[i] else blocks.ADMONITION.match(line)
        if m:
            kind = m.group("kind").lower()
            title = m.group("title")
            if title is None:
                title = (labels or {}).get(kind) or kind.capitalize()
            lines[i] = f'{m.group("indent")}!!! {kind} "{title.replace(chr(34), chr(39))}"'
            _to_tab_stop(lines, i, len(m.group("indent").expandtabs(4)))
    return "\n".join(lines)


def _to_tab_stop(lines: list[str], start: int, indent: int):
    """An admonition in a list item, indented 4 as writers do, moved (with its body) to the 3-column stop where
    Python-Markdown, at our tab length of 3, reads it; at 4 it showed `!!! note` as text and its body as code."""
    shift = indent % 3
    if not shift:
        return
    for j in range(start, len(lines)):
        line = lines[j]
        if j > start and line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            return
        if line[:shift].strip() == "":
            lines[j] = line[shift:]


def prepare(text: str, labels: Mapping[str, str] | None = None) -> str:
    """The article as Python-Markdown must read it to render it the way writers (and CommonMark) mean it."""
    return _labelled(_space_after_fences(_attach_fences(_separate_lists(blocks.item_fences_apart(text)))), labels)
