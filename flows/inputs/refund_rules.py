"""Read and check the IEEPA refund status rules (`data/refunds/refund_status_rules.csv`)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pandera.polars as pa
import polars as pl

from flows import config
from schemas.refund_status_rules import SCHEMA, window_problems

DTYPES = {name: column.dtype.type for name, column in SCHEMA.columns.items()}


class RefundRulesError(ValueError):
    """The refund status rules file cannot be read or breaks its contract."""


def read_refund_status_rules(path: Path | None = None) -> pl.DataFrame:
    """The rules as a frame of the `schemas/refund_status_rules.py` contract (default: the
    shipped file, `flows.config.REFUND_STATUS_RULES`). Raises RefundRulesError naming the file,
    data row, column and value of every problem. The same bytes are checked once per process
    (a backfill reads the rules every month)."""
    path = Path(path) if path is not None else config.REFUND_STATUS_RULES
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise RefundRulesError(f"{path}: cannot read: {exc}") from exc
    return _checked_rules(path, content)


@functools.lru_cache(maxsize=4)
def _checked_rules(path: Path, content: bytes) -> pl.DataFrame:
    try:
        raw = pl.read_csv(io.BytesIO(content), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise RefundRulesError(f"{path}: cannot read: {exc}") from exc
    missing = sorted(set(DTYPES) - set(raw.columns))
    if missing:
        raise RefundRulesError(f"{path}: missing column(s) {', '.join(missing)}")
    problems: list[str] = []
    columns = []
    for name, dtype in DTYPES.items():
        text = pl.col(name).str.strip_chars()
        parsed = (text.str.to_lowercase() == "true") if dtype == pl.Boolean else text.cast(dtype, strict=False)
        columns.append(parsed.alias(name))
        bad = raw.with_row_index("row", offset=1).filter(
            pl.col(name).is_not_null()
            & (parsed.is_null() if dtype != pl.Boolean else ~text.str.to_lowercase().is_in(["true", "false"]))
        )
        problems += [f"{path}: row {r['row']}, column {name}, value {r[name]!r}: not a {dtype}" for r in bad.to_dicts()]
    if problems:
        raise RefundRulesError("\n".join(problems))
    rules = raw.select(columns)
    try:
        SCHEMA.validate(rules, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.to_dicts()
        problems += [
            f"{path}: row {c['index'] + 1 if c['index'] is not None else '-'}, column {c['column']}, "
            f"value {c['failure_case']!r}: {c['check']}"
            for c in cases
        ]
    problems += [f"{path}: {p}" for p in window_problems(rules)]
    if problems:
        raise RefundRulesError("\n".join(problems))
    return rules
