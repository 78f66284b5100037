"""The words every table shares, defined once: the money and rate dtypes, the line grain and the
duty components. Imported by transforms/ and by schemas/ (which never define their own).

- MONEY: Decimal(18, 2), every amount in US dollars at rest (each line's duty rounded once,
  half away from zero; aggregates are exact sums).
- RATE: Decimal(38, 10), the schedule's rates (cast to it before multiplying money: polars
  keeps the larger input scale of a Decimal product).
- EFFECTIVE_RATE: Decimal(18, 6), an effective duty rate (duty ÷ value) in the marts.
- LINE_GRAIN: a customs entry line, the grain of fct_duty_lines and the line marts.
- COMPONENTS: the chapter 99 duty components beside MFN (`<component>_duty_usd` columns).
"""

from __future__ import annotations

import polars as pl

MONEY = pl.Decimal(18, 2)
RATE = pl.Decimal(38, 10)
EFFECTIVE_RATE = pl.Decimal(18, 6)
LINE_GRAIN: tuple[str, str] = ("entry_number", "line_number")
COMPONENTS: tuple[str, ...] = ("section_232", "ieepa", "other")
