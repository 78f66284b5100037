"""Calendar months as `YYYY-MM` text: parsing, the default month, ranges."""

from __future__ import annotations

import datetime as dt
import re

MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> str:
    """`text` if it is a month `YYYY-MM`; ValueError naming the value otherwise."""
    if not isinstance(text, str) or not MONTH_RE.match(text):
        raise ValueError(f"month must be YYYY-MM (e.g. 2025-06), got {text!r}")
    return text


def previous_month(today: dt.date | None = None) -> str:
    """The calendar month before `today`'s (default: the local date now)."""
    today = today or dt.date.today()
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def month_days(month: str) -> tuple[dt.date, dt.date]:
    """The first day of `month` (`YYYY-MM`) and the first day of the month after it."""
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year, number, 1), dt.date(year + number // 12, number % 12 + 1, 1)


def month_range(start: str, end: str) -> list[str]:
    """Every month from `start` to `end`, both included; ValueError if `end` is before `start`."""
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
