"""Front matter edited line by line, so a change touches only the bytes it means to.

Re-dumping the YAML would reorder keys, drop comments, requote titles and
turn CRLF into LF: a one-field change would show as a rewrite of the whole
block in `git diff`. Here a value is replaced in place (its comment and line
ending kept), a new key goes in just before the closing `---`, and a key set
to nothing loses its line. Only top-level `key: value` lines are edited; a
value written as an indented block (`tags:` then `- a` lines) is replaced
with its flow form.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import yaml

from kb.articles import model as art_mod

_OPEN = re.compile(r"\A(\ufeff?)---[ \t]*(\r?\n)")
_CLOSE = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.M)
_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?=[ \t]|\r?\n|$)", re.M)
_PLAIN = re.compile(r"^[\w][\w .@/+-]*$")
HEAD_BYTES = 20_000  # enough for any real front matter (articles.MAX_FRONT_MATTER is 16,384 characters)


def region(text: str) -> tuple[int, int, str] | None:
    """(start, end, newline) of the YAML between the two `---` lines, or None if there is no front matter."""
    m = _OPEN.match(text)
    if not m:
        return None
    close = _CLOSE.search(text, m.end())
    if not close:
        return None
    return m.end(), close.start(), m.group(2)


def values(text: str) -> dict:
    """The front matter as parsed by the indexer (dates as text); {} if it cannot be read."""
    found = region(text)
    if not found:
        return {}
    try:
        value, _lines = art_mod._read_front(text[found[0]:found[1]].replace("\r\n", "\n"))
    except (yaml.YAMLError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def line_of(text: str, key: str) -> int:
    """The 1-based line of a top-level key, or 1."""
    found = region(text)
    if found:
        for m in _KEY.finditer(text, found[0], found[1]):
            if m.group(1) == key:
                return text.count("\n", 0, m.start()) + 1
    return 1


def key_of(path: Path) -> tuple[str, str] | None:
    """(id, lang) a file's front matter names, read from its head only; None if it names no valid pair."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES).decode("utf-8-sig", "replace")
    except OSError:
        return None
    meta = values(head)
    art_id, lang = str(meta.get("id") or "").strip(), str(meta.get("lang") or "").strip()
    if not art_mod.ID_PATTERN.match(art_id):
        return None
    if not lang:  # no `lang`: the indexer detects it from the body, so ask the parser
        try:
            article, _problems = art_mod.parse(art_mod.decode(Path(path).read_bytes(), path), path)
        except (art_mod.ArticleError, OSError):
            return None
        return article.id, article.lang
    try:
        return art_id, art_mod.languages.normalize(lang)
    except art_mod.QueryError:
        return None


def format_value(key: str, value) -> str:
    """A value as YAML on one line: lists in flow form, titles always quoted, other text plain when safe."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(str(v)) for v in value) + "]"
    text = " ".join(str(value).split())
    if key == "title":
        return json.dumps(text, ensure_ascii=False)
    return _scalar(text)


def _scalar(text: str) -> str:
    """Plain when YAML reads it back as the same string (not a number, date, bool or null), else quoted."""
    if _PLAIN.match(text) and not text.endswith(" "):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def set_value(text: str, key: str, value) -> str:
    """`text` with front-matter `key` set to `value` (None or "" or []: the key's line removed)."""
    found = region(text)
    if not found:
        raise ValueError("the text has no front matter to edit")
    start, end, newline = found
    empty = value is None or value == "" or value == []
    for m in _KEY.finditer(text, start, end):
        if m.group(1) != key:
            continue
        span_end = _value_end(text, m.end(), end)
        if empty:
            line_start = m.start()
            return text[:line_start] + text[span_end + len(_eol(text, span_end)):]
        old = text[m.end():span_end]
        comment = _comment(old)
        lead = old[:len(old) - len(old.lstrip(" \t"))] or " "
        return text[:m.end()] + lead + format_value(key, value) + comment + text[span_end:]
    if empty:
        return text
    return text[:end] + f"{key}: {format_value(key, value)}{newline}" + text[end:]


def _eol(text: str, pos: int) -> str:
    if text.startswith("\r\n", pos):
        return "\r\n"
    return "\n" if text.startswith("\n", pos) else ""


def _value_end(text: str, pos: int, end: int) -> int:
    """Where a key's value ends: its line's end, or the end of the indented/`- ` lines that continue it."""
    line_end = _line_end(text, pos, end)
    rest = text[pos:line_end].strip()
    if rest and not rest.startswith("#") and rest[0] not in "|>":
        return line_end
    cur = line_end
    while cur < end:
        nxt = cur + len(_eol(text, cur))
        if nxt >= end or not (text.startswith((" ", "\t", "- "), nxt) or text.startswith("-\n", nxt)):
            break
        cur = _line_end(text, nxt, end)
    return cur


def _line_end(text: str, pos: int, end: int) -> int:
    nl = text.find("\n", pos, end)
    nl = end if nl < 0 else nl
    return nl - 1 if nl > pos and text[nl - 1] == "\r" else nl


def _comment(value_text: str) -> str:
    """A trailing ` # comment` outside quotes, kept when the value changes."""
    quote = None
    for i, ch in enumerate(value_text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and i > 0 and value_text[i - 1] in " \t":
            j = i
            while j > 0 and value_text[j - 1] in " \t":
                j -= 1
            return value_text[j:].split("\n")[0].rstrip("\r")
    return ""


def dump(meta: dict) -> str:
    """Front matter for a new file, keys in the given order, empty values left out."""
    lines = [f"{k}: {format_value(k, v)}" for k, v in meta.items() if v not in (None, "", [])]
    return "---\n" + "\n".join(lines) + "\n---\n"


def split(text: str) -> tuple[str, str]:
    """(front matter with both `---` lines, body): head + body == text. No front matter: ("", text)."""
    found = region(text)
    if not found:
        return "", text
    close = _CLOSE.match(text, found[1])
    return text[:close.end()], text[close.end():]


def join(head: str, body: str) -> str:
    """A head and a body from a form (browsers send CRLF) in the head's line endings."""
    newline = "\r\n" if "\r\n" in head else "\n"
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if newline == "\r\n":
        body = body.replace("\n", "\r\n")
    if head and not head.endswith("\n"):
        head += newline
    return head + body
