"""How big and how structured an article may be: bounds on what one saved file costs every reader.

A writer's save is rendered for every uncached view, and the Markdown
extensions are not linear in everything: 150,000 character references
(`&#x41;`, 900 KB) cost 19 s of CPU a view, 20,000 headings 23 s (the table
of contents), 5,000 table columns 2 s, while the save took 0.2 s (issue
#24). So the structure is bounded where it is cheap to count, once, at the
save (the editor, the API, the preview) and in the indexer (a file already
on disk over a limit is skipped with its file:line, never served); a
normal article is far below every limit. The values are the settings
KB_ARTICLE_MAX_BYTES, KB_ARTICLE_MAX_HEADINGS, KB_ARTICLE_MAX_TABLE_COLUMNS
and KB_ARTICLE_MAX_REFERENCES (kb/settings.py); this module only counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.articles.model import Problem

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


@dataclass(frozen=True)
class Limits:
    """The most one article may have; each is the setting named in its message."""

    max_bytes: int = 200_000
    max_headings: int = 500
    max_table_columns: int = 64
    max_references: int = 2_000
    max_table_cells: int = 10_000  # every table row's cells, summed: 50,000 cells rendered in 1 s
    max_chunks: int = 100  # not refused: the indexer embeds this many and the lint warns (KB_MAX_CHUNKS_PER_ARTICLE)

    @classmethod
    def of(cls, values) -> Limits:
        """From the parsed settings (or an app's config, which holds them by the same names)."""
        return cls(values["ARTICLE_MAX_BYTES"], values["ARTICLE_MAX_HEADINGS"], values["ARTICLE_MAX_TABLE_COLUMNS"],
                   values["ARTICLE_MAX_REFERENCES"], values["ARTICLE_MAX_TABLE_CELLS"],
                   values["MAX_CHUNKS_PER_ARTICLE"])


DEFAULT = Limits()
TOO_LARGE = "too-large"  # the code of the size problem: the web answers 413 for it, 400 for the others


def too_large(text: str, rel: str, limits: Limits) -> Problem | None:
    """The size problem, checked before anything parses the text."""
    size = len(text.encode("utf-8"))
    if size <= limits.max_bytes:
        return None
    return Problem(rel, 1, "error", f"the article is {size:,} bytes, over the limit of {limits.max_bytes:,} "
                                    "(KB_ARTICLE_MAX_BYTES); split it into several articles", TOO_LARGE)


def exceeded(text: str, rel: str, limits: Limits, first_line: int = 1) -> list[Problem]:
    """Every limit `text` (a body starting at line `first_line` of the file, or a whole file) goes over, each at
    the line where it is first exceeded. Lines inside fenced code count for character references only."""
    problem = too_large(text, rel, limits)
    if problem is not None:
        return [problem]
    found: dict[str, Problem] = {}
    headings = references = cells = 0
    fence = ""
    previous = ""
    for n, line in enumerate(text.split("\n"), first_line):
        references += len(_REFERENCE.findall(line))
        if references > limits.max_references and "refs" not in found:
            found["refs"] = Problem(rel, n, "error", f"over {limits.max_references:,} character references such "
                                    "as '&#x41;' or '&amp;' (KB_ARTICLE_MAX_REFERENCES); write the characters "
                                    "themselves", "too-many-references")
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        if _ATX.match(line) or (_SETEXT.match(line) and previous.strip() and not _ATX.match(previous)):
            headings += 1
            if headings > limits.max_headings and "headings" not in found:
                found["headings"] = Problem(rel, n, "error", f"over {limits.max_headings:,} headings "
                                            "(KB_ARTICLE_MAX_HEADINGS); split the article", "too-many-headings")
        columns = _columns(line)
        cells += columns
        if cells > limits.max_table_cells and "cells" not in found:
            found["cells"] = Problem(rel, n, "error", f"over {limits.max_table_cells:,} table cells in the article "
                                     "(KB_ARTICLE_MAX_TABLE_CELLS); split the table or the article", "too-many-cells")
        if columns > limits.max_table_columns and "columns" not in found:
            found["columns"] = Problem(rel, n, "error", f"a table row of {columns:,} columns, over "
                                       f"{limits.max_table_columns} (KB_ARTICLE_MAX_TABLE_COLUMNS)",
                                       "too-many-columns")
        previous = line
    return sorted(found.values(), key=lambda p: p.line)


def _columns(line: str) -> int:
    """The cells a table row would have (pipes not escaped, edge pipes not counted); 0 without a pipe."""
    pipes = len(re.findall(r"(?<!\\)\|", line))
    if not pipes:
        return 0
    stripped = line.strip()
    edges = stripped.startswith("|") + (stripped.endswith("|") and not stripped.endswith("\\|") and len(stripped) > 1)
    return pipes + 1 - edges
