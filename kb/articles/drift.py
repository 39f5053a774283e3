"""Translation drift by meaning, not by timestamp.

When a source article changes after a translation was made (its content hash
differs from the `source_hash` the translation recorded), we compare the
source's sections with the translation's, aligned by position, on what must
be identical in every language: numbers, inline code and code blocks, URLs,
error codes, and the number of steps. A section whose facts differ is a
substantive change the translator must carry over; if every section's facts
agree, the change was cosmetic (a typo, wording) and the translation is
flagged as such, so a typo fix does not send twenty translations back to
translators (zammad#5596).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from kb.articles import blocks
from kb.articles.chunking import sections

_INLINE = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"https?://[^\s)>\]`'\"]+")
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?![\d])|\d+(?:\.\d+)?")
_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+\S", re.M)
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.M)
# identifiers that are never translated: X-Nimbus-Date, SignatureDoesNotMatch, ERR_CERT_DATE_INVALID
_CODE_TOKEN = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:-[A-Z][A-Za-z0-9]*)+\b|\b(?:[A-Z][a-z0-9]+){2,}[A-Z]?[a-z0-9]*\b"
                         r"|\b[A-Z0-9]+(?:_[A-Z0-9]+)+\b")


class SectionChange(TypedDict):
    """One drifted section as the writers' report holds it: facts, not a sentence (each page words them)."""

    section: str  # the source's heading; "" is the text before the first heading
    translation_section: str
    source_only: list[str]  # facts the source has and the translation lacks: the new values
    translation_only: list[str]  # and the reverse: the values the translation still has
    source_steps: int
    translation_steps: int


@dataclass(frozen=True)
class SectionDrift:
    index: int
    source_heading: str
    translation_heading: str
    only_in_source: tuple[str, ...]
    only_in_translation: tuple[str, ...]
    steps: tuple[int, int]

    @property
    def substantive(self) -> bool:
        """Facts the source has and the translation lacks, or a different number of steps.

        Facts only the translation has are shown but do not count alone: translators
        legitimately add local details (Beijing time, a local tax form). A changed fact
        (4100 → 4500) shows on both sides and counts through the source side.
        """
        return bool(self.only_in_source) or self.steps[0] != self.steps[1]

    def as_facts(self, limit: int = 4) -> SectionChange:
        """What the writers' report shows of this section, at most `limit` facts a side."""
        return {"section": self.source_heading, "translation_section": self.translation_heading,
                "source_only": [_shown(f) for f in self.only_in_source[:limit]],
                "translation_only": [_shown(f) for f in self.only_in_translation[:limit]],
                "source_steps": self.steps[0], "translation_steps": self.steps[1]}


def _shown(fact: str) -> str:
    """A fact as the writer finds it in the text: a code line without the `code:` mark `facts` gives it."""
    return fact[len("code:"):] if fact.startswith("code:") else fact


def facts(markdown_text: str) -> set[str]:
    """What must be the same in every language: code, URLs, numbers, code-like identifiers."""
    out: set[str] = set()
    text = markdown_text
    for _, _, _, code in blocks.code_blocks(text):
        for line in code.splitlines():
            line = " ".join(line.split())
            # comments inside code are prose and get translated; keep code lines only
            if line and not line.startswith(("#", "//", "--")):
                out.add("code:" + line)
    text = "".join(" " if code else piece for piece, code in blocks.segments(text))
    for m in _INLINE.finditer(text):
        code = m.group(1).strip()
        if len(code) > 1 and code.isascii():  # translated placeholders (`名称:值`) are prose
            out.add("`" + code + "`")
    text = _INLINE.sub(" ", text)
    for m in _URL.finditer(text):
        out.add(m.group().rstrip(".,;:"))
    text = _URL.sub(" ", text)
    text = _LIST_MARKER.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets are checked by the links report
    for m in _CODE_TOKEN.finditer(text):
        out.add(m.group())
    for m in _NUMBER.finditer(text):
        number = re.sub(r"[ ,\u00a0\u202f]", "", m.group())
        if len(number) > 1:  # one-digit numbers are often written out in words ("one hour", "一小时")
            out.add(number)
    return out


def compare(source_body: str, translation_body: str) -> list[SectionDrift]:
    """Per aligned section, the facts that differ; sections only one side has count as all-new."""
    src = sections(source_body)
    tra = sections(translation_body)
    out = []
    for i in range(max(len(src), len(tra))):
        s = src[i] if i < len(src) else None
        t = tra[i] if i < len(tra) else None
        fs = facts(s.text) if s else set()
        ft = facts(t.text) if t else set()
        steps = (len(_STEP.findall(s.text)) if s else 0, len(_STEP.findall(t.text)) if t else 0)
        out.append(SectionDrift(i, s.heading if s else "", t.heading if t else "",
                                tuple(sorted(fs - ft)), tuple(sorted(ft - fs)), steps))
    return out


@dataclass(frozen=True)
class Verdict:
    """How a translation stands against its source: "current", "substantive", "cosmetic", "unknown" (no
    `source_hash` recorded) or "source missing"; `changes` are the substantive sections."""

    severity: str
    changes: tuple[SectionDrift, ...] = ()

    @property
    def outdated(self) -> bool:
        """What readers are warned about: a source that exists and changed in substance since the translation."""
        return self.severity == "substantive"


def judge(translation, source, body: Callable[[object], str]) -> Verdict:
    """The one decision on a translation's drift, for the writers' report and the readers' notice alike.

    `translation` and `source` are articles or index rows (`source_hash`, `content_hash`); `source` is None
    when the group has no version in the language it was translated from; `body(x)` reads one's Markdown.
    """
    if source is None:
        return Verdict("source missing")
    if not translation.source_hash:
        return Verdict("unknown")
    if translation.source_hash == source.content_hash:
        return Verdict("current")
    changes = tuple(d for d in compare(body(source), body(translation)) if d.substantive)
    return Verdict("substantive" if changes else "cosmetic", changes)


def spans(markdown_text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Where in the text the facts in `wanted` (as `facts` names them) are written, for highlighting.

    The same patterns as `facts`, run over the raw text: a code line, an inline code span, a URL, an
    identifier, a number however it is grouped ("10,000" is the fact "10000").
    """
    found: list[tuple[int, int]] = []
    fenced = []
    for start, end, pos, code in blocks.code_blocks(markdown_text):
        fenced.append((start, end))
        for line in code.split("\n"):
            if "code:" + " ".join(line.split()) in wanted:
                lead = len(line) - len(line.lstrip())
                found.append((pos + lead, pos + len(line.rstrip())))
            pos += len(line) + 1

    def outside(m):
        return not any(a <= m.start() < b for a, b in fenced)

    for m in _INLINE.finditer(markdown_text):
        if outside(m) and "`" + m.group(1).strip() + "`" in wanted:
            found.append(m.span())
    for m in _URL.finditer(markdown_text):
        if outside(m) and m.group().rstrip(".,;:") in wanted:
            found.append((m.start(), m.start() + len(m.group().rstrip(".,;:"))))
    for rx, norm in ((_CODE_TOKEN, str), (_NUMBER, lambda s: re.sub(r"[ ,\u00a0\u202f]", "", s))):
        for m in rx.finditer(markdown_text):
            if outside(m) and norm(m.group()) in wanted:
                found.append(m.span())
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:  # a number inside a URL or inline code: one mark, not two overlapping ones
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
