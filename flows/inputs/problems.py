"""What is wrong with an input or reference file, one finding at a time.

`Problem` is the one record of a finding: what `tariffcost validate` lists for an input file
(flows/inputs/kinds.py `validate_file`) and what `ScheduleError` lists for a schedule
(flows/inputs/schedule.py). `problems_from_rejects` turns a loader's `rejects` rows (with their
`message`, flows/inputs/staging.py) into Problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: the file as named to the user, the 1-based data row
    (header excluded; None for a problem of the whole file), the column, the offending value,
    the check's short name and the rule it breaks, in words (`message`)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    check: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}: row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        shown = "" if self.row is None else f" (value {self.value!r})"
        return f"{where}: {self.check}: {self.message}{shown}"

    def listed(self) -> str:
        """The problem as a list of them names it (ScheduleError): file, row (and its line:
        row + 1), column, value, rule."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row} (line {self.row + 1})")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        return f"{', '.join(where)}: {self.message}"


def problems_from_rejects(rejects: pl.DataFrame) -> list[Problem]:
    """Rejects rows (with `message`) as Problems, sorted by row, then column, then check."""
    ordered = rejects.sort(["row_number", "column", "check"]).select(
        "column", "value", "check", "message", file="source", row="row_number"
    )
    return [Problem(**row) for row in ordered.iter_rows(named=True)]
