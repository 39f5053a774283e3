"""Links into a translated page whose anchor is the source's: pointed at the same section of the translation.

Translators translate headings, and with them the anchors made from them, but leave the links'
`#anchors` as the source wrote them: on AdGuard DNS's knowledge base a German link to
`#local-dns-blocklists` pointed at "Lokale DNS-Blocklisten", whose anchor is another. When the
translation has as many sections as its source, the section at the same position is the one meant.
"""

from __future__ import annotations

import re

from kb.articles import blocks
from kb.articles.chunking import sections

_TARGET = re.compile(r"(\]\(|^[ \t]{0,3}\[[^\]]+\]:[ \t]*)(?P<id>[a-z0-9][a-z0-9._-]*)?#(?P<anchor>[^)\s\"]+)", re.M)


def fix(bodies: dict[tuple[str, str], str], source_lang: dict[str, str]) -> tuple[dict[tuple[str, str], str], int]:
    """(bodies with anchors moved to the translation's own, how many were moved); keys are (article id, lang)."""
    anchors = {key: [s.anchor for s in sections(body) if s.anchor] for key, body in bodies.items()}
    moved = 0
    out = {}
    for (art, lang), body in bodies.items():
        def move(m):
            nonlocal moved
            target = m.group("id") or art
            own, src = anchors.get((target, lang)), anchors.get((target, source_lang.get(target, "")))
            anchor = m.group("anchor")
            if own is None or src is None or anchor in own or anchor not in src or len(own) != len(src):
                return m.group()
            moved += 1
            return m.group().replace("#" + anchor, "#" + own[src.index(anchor)])

        out[(art, lang)] = "".join(_TARGET.sub(move, piece) if not code else piece
                                   for piece, code in blocks.segments(body))
    return out, moved
