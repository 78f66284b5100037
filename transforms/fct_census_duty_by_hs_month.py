"""fct_census_duty_by_hs_month: one row per month × hts_code × cty_code of a Census input,
with Census's calculated duty beside the duty the schedule gives.

The schedule is applied as a day-weighted average over the row's period: a measure that starts
mid-month applies to its share of the days. Each period is split at the schedule's date
boundaries; the engine runs once per segment; exact amounts are weighted by days and rounded
once per row.
"""

from __future__ import annotations

import polars as pl

from transforms.duty import compute_exact_components, effective_rate, layers, round_components
from transforms.schedule import Schedule
from transforms.stg_census_lines import period_segments
from transforms.vocabulary import MONEY, RATE

OUTPUT_COLUMNS = [
    "month",
    "hts_code",
    "cty_code",
    "country_of_origin",
    "customs_value_usd",
    "calculated_duty_usd",
    "computed_duty_usd",
    "mfn_duty_usd",
    "section_232_duty_usd",
    "ieepa_duty_usd",
    "other_duty_usd",
    "total_duty_usd",
    "effective_duty_rate",
    "calculated_duty_rate",
    "duty_gap_usd",
    "ch99_headings",
    "flags",
    "period_start",
    "period_end",
]


def schedule_boundaries(schedule: Schedule) -> list:
    """Every date on which some measure starts or ends."""
    dates = pl.concat([schedule.measures.get_column("valid_from"), schedule.measures.get_column("valid_to")])
    return sorted(d for d in dates.unique().to_list() if d is not None)


def build_fct_census_duty_by_hs_month(stg_census: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    layer_names = layers(schedule)
    segments = period_segments(stg_census, schedule_boundaries(schedule))
    expanded = stg_census.join(segments, on=["period_start", "period_end"]).with_columns(
        entry_date=pl.col("segment_start"),
        quantity=pl.lit(None, dtype=RATE),
        weight=(pl.col("days").cast(RATE) / pl.col("period_days").cast(RATE)),
    )
    exact = compute_exact_components(expanded, schedule)
    weighted = lambda column: (pl.col(column) * pl.col("weight")).sum()  # noqa: E731
    first_seen = lambda column: pl.col(column).drop_nulls().unique(maintain_order=True)  # noqa: E731
    per_row = (
        exact.sort("source_row", "segment_start")
        .group_by("source_row", maintain_order=True)
        .agg(
            pl.col("month", "hts_code", "cty_code", "country_of_origin", "customs_value_usd",
                   "calculated_duty_usd", "period_start", "period_end", "mfn_rate_type_code").first(),
            pl.col("mfn_rate_text").first(),
            mfn_exact=weighted("mfn_exact"),
            **{f"{layer}__extra": weighted(f"{layer}__extra") for layer in layer_names},
            **{f"{layer}__component": pl.col(f"{layer}__component").drop_nulls().first() for layer in layer_names},
            **{
                f"{layer}__applied_heading": first_seen(f"{layer}__applied_heading").str.join(", ")
                for layer in layer_names
            },
            **{f"{layer}__measure_id": first_seen(f"{layer}__measure_id").str.join(" ") for layer in layer_names},
            **{
                f"{layer}__confidence": pl.col(f"{layer}__confidence").drop_nulls().sort().first()
                for layer in layer_names
            },
            exemption_headings=first_seen("exemption_headings").str.join(", "),
            key_flags=first_seen("key_flags").str.join(", "),
        )
        .with_columns(
            **{
                f"{layer}__applied_heading": pl.when(pl.col(f"{layer}__applied_heading") != "").then(
                    pl.col(f"{layer}__applied_heading")
                )
                for layer in layer_names
            },
            **{
                f"{layer}__measure_id": pl.when(pl.col(f"{layer}__measure_id") != "").then(
                    pl.col(f"{layer}__measure_id")
                )
                for layer in layer_names
            },
            **{c: pl.when(pl.col(c) != "").then(pl.col(c)) for c in ("exemption_headings", "key_flags")},
        )
    )
    return (
        round_components(per_row, schedule)
        .with_columns(
            computed_duty_usd=pl.col("total_duty_usd"),
            duty_gap_usd=(pl.col("total_duty_usd") - pl.col("calculated_duty_usd")).cast(MONEY),
            calculated_duty_rate=effective_rate(pl.col("calculated_duty_usd"), pl.col("customs_value_usd")),
        )
        .select(OUTPUT_COLUMNS)
        .sort("month", "hts_code", "cty_code")
    )
