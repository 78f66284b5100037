"""Contract of `data/refunds/refund_status_rules.csv`: one row per refund status (grain:
status). Each row covers a half-open window of days after the estimated liquidation date
(`entry_date + liquidation_lag_days`); `window_problems` checks that the windows tile every
day exactly once and that all rows share one liquidation lag (dataset-level, kept apart from
the row checks)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

GRAIN = ["status"]

SCHEMA = pa.DataFrameSchema(
    {
        "status": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "liquidation_lag_days": pa.Column(pl.Int64, pa.Check.gt(0)),
        "days_after_liquidation_from": pa.Column(pl.Int64, nullable=True),
        "days_after_liquidation_to": pa.Column(pl.Int64, nullable=True),
        "cape_eligible": pa.Column(pl.Boolean),
        "note": pa.Column(pl.Utf8, pa.Check.str_length(min_value=1)),
        "legal_source": pa.Column(pl.Utf8, pa.Check.str_length(min_value=1)),
    },
    checks=[
        pa.Check(
            lambda data: data.lazyframe.select(
                pl.col("days_after_liquidation_from").is_null()
                | pl.col("days_after_liquidation_to").is_null()
                | (pl.col("days_after_liquidation_from") < pl.col("days_after_liquidation_to"))
            ),
            name="window_from_before_to",
        )
    ],
    unique=GRAIN,
    strict=True,
    name="refund_status_rules",
)


def window_problems(rules: pl.DataFrame) -> list[str]:
    """Why the rows' windows do not tile the days exactly once (empty: they do)."""
    problems: list[str] = []
    lags = rules.get_column("liquidation_lag_days").unique().to_list()
    if len(lags) != 1:
        problems.append(f"column liquidation_lag_days: one value expected in every row, found {sorted(lags)}")
    ordered = rules.sort("days_after_liquidation_from", nulls_last=False)
    starts = ordered.get_column("days_after_liquidation_from").to_list()
    ends = ordered.get_column("days_after_liquidation_to").to_list()
    statuses = ordered.get_column("status").to_list()
    if not starts or starts[0] is not None:
        problems.append("column days_after_liquidation_from: exactly one row must be open below (empty)")
    if not ends or ends[-1] is not None:
        problems.append("column days_after_liquidation_to: the last window must be open above (empty)")
    for i in range(len(ordered) - 1):
        if ends[i] is None or starts[i + 1] is None or ends[i] != starts[i + 1]:
            problems.append(
                f"status {statuses[i]!r} ends at {ends[i]} but the next window ({statuses[i + 1]!r}) "
                f"starts at {starts[i + 1]}: windows must be contiguous and not overlap"
            )
    return problems
