"""What a person wrote, out of a pasted ticket: logs and stack traces removed.

Agents paste whole customer messages: greetings, the question, and pages of
logs. Embedded as is, the logs drown the question (on the sample's tickets,
dense retrieval fell from nDCG@10 0.92 on the bare queries to 0.32), so the
dense side embeds only the prose lines. The keyword side still sees
everything: an error code inside a log line is exactly what it is for.
"""

from __future__ import annotations

import re

from .chunking import approx_tokens

LONG_QUERY_TOKENS = 200  # above this, a query is embedded piecewise as well (tickets)

_TIMESTAMP = re.compile(r"^\s*[\[(]?\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]?\d{0,2}:?\d{0,2}")
_STACK = re.compile(r"^\s*(at\s+[\w$.<>]+\(|File \"|Traceback|\w+(\.\w+)+(Error|Exception)\b|#\d+\s+0x)")
_KEY_VALUE = re.compile(r"\b[\w.-]+=[^\s,;]+")
# A log level opens the line: a word level, or a one-letter one only as logcat writes it ("E/", "[W]"):
# "I want to delete my account" is a person writing.
_LEVEL = re.compile(r"^\s*(\[?(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\]?[\s:]|\[[EWID]\]|[EWID]/\w)", re.I)


def is_machine_line(line: str) -> bool:
    """True for log lines, stack frames and key=value dumps (terminal output such as `x-cache: HIT`
    stays prose: removing it from what is embedded cost the sample's tickets nDCG 0.901 → 0.875)."""
    s = line.strip()
    if not s:
        return False
    if _TIMESTAMP.match(s) or _STACK.match(s) or _LEVEL.match(s):
        return True
    if len(_KEY_VALUE.findall(s)) >= 2:
        return True
    letters = sum(ch.isalpha() for ch in s)
    return len(s) >= 20 and letters / len(s) < 0.45


def prose(text: str) -> str:
    """The lines a person wrote; the whole text when nothing looks like a person wrote it."""
    kept = [line for line in text.splitlines() if line.strip() and not is_machine_line(line)]
    return "\n".join(kept) if kept else text


_CODES = re.compile(r"\b\d{3,5}\b|\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+\b|\b[A-Z0-9]+(?:_[A-Z0-9]+)+\b|\b[xX]-[\w-]+")


TICKET_LINES = 3


def is_ticket(text: str) -> bool:
    """A pasted message (greeting, body, logs, signature), not a question typed into a search box.

    Structure, not length: FAQ-style questions run to 30 words on one line, where a keyword weight
    fit for tickets loses to dense retrieval (a held-out FAQ set lost 0.058 that way).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) >= TICKET_LINES or any(is_machine_line(line) for line in lines)


def keyword_text(text: str) -> str:
    """Prose plus the codes found in machine lines (502, RequestTimeTooSkewed, X-Nimbus-Error)."""
    lines = text.splitlines()
    machine = [line for line in lines if is_machine_line(line)]
    if not machine or len(machine) == len([line for line in lines if line.strip()]):
        return text
    codes = {m.group() for line in machine for m in _CODES.finditer(line)}
    return prose(text) + "\n" + " ".join(sorted(codes))


def embedding_pieces(text: str) -> list[str]:
    """What to embed for a query: the text, and for a long one (a ticket) each paragraph-sized piece too,
    so a question inside a log is not drowned by it."""
    if approx_tokens(text) <= LONG_QUERY_TOKENS:
        return [text]
    paras = [p.strip() for p in text.replace("\r", "").split("\n") if p.strip()]
    out, cur = [], ""
    for p in paras:
        if cur and approx_tokens(cur + "\n" + p) > LONG_QUERY_TOKENS:
            out.append(cur)
            cur = ""
        cur = (cur + "\n" + p) if cur else p[: LONG_QUERY_TOKENS * 6]
    if cur:
        out.append(cur)
    return [text] + out[:32]
