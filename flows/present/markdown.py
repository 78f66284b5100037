"""Markdown text from input data: the Prefect artifacts (run summary, month report) carry text
read from the inputs (importer ids, makes, models, raw cell values, file names, error
messages), which must show as written, never as markup, links, HTML or table cells."""

from __future__ import annotations

import re

# Characters that start markup anywhere in a CommonMark / GFM line: code spans, emphasis,
# links and images, raw HTML and entities, table cells, strikethrough, headings.
_ALWAYS = re.compile(r"([\\`*\[\]<>|~&#])")
# `_` makes emphasis only at a word edge (CommonMark: intraword `_` is literal), so
# `hts_code` stays readable while `_x_` is escaped.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_LINE_BREAK = re.compile(r"[\r\n]+")


def escape(text: object) -> str:
    """`text` as literal Markdown inline text: markup characters backslash-escaped, line
    breaks folded to one space (a cell or list item stays on its line)."""
    value = _LINE_BREAK.sub(" ", str(text))
    value = _ALWAYS.sub(r"\\\1", value)
    return _EDGE_UNDERSCORE.sub(r"\\_", value)


__all__ = ["escape"]
