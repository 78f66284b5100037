"""Contract of `fct_scenario_duty_by_hs_month`: one row per scenario × month × hts_code ×
country_of_origin (the grain, enforced unique). `as_enacted` is always present; every
scenario covers the same month × hts_code × country_of_origin rows with the same value and
line count; `delta_vs_enacted_usd` is the scenario's total minus as_enacted's. Mirrors
`sql/fct_scenario_duty_by_hs_month.sql`.

Row checks are in SCHEMA; the checks across scenarios (which report against row 0) are in
CONSISTENCY, validated separately.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from schemas.common import MONEY, duty

ENACTED = "as_enacted"
GRAIN = ["scenario", "month", "hts_code", "country_of_origin"]


def _enacted_delta_is_zero(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select((pl.col("scenario") != ENACTED) | (pl.col("delta_vs_enacted_usd") == 0))


SCHEMA = pa.DataFrameSchema(
    {
        "scenario": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[a-z][a-z0-9_]*$")),
        "month": common.month(),
        "hts_code": common.hts_code(),
        "country_of_origin": common.country_of_origin(),
        "line_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "customs_value_usd": duty(),
        "mfn_duty_usd": duty(),
        "section_232_duty_usd": duty(),
        "ieepa_duty_usd": duty(),
        "other_duty_usd": duty(),
        "total_duty_usd": duty(),
        "effective_duty_rate": common.effective_rate(),
        "delta_vs_enacted_usd": pa.Column(MONEY),
        "run_id": common.run_id(),
    },
    checks=[
        common.total_is_sum_of_components(),
        pa.Check(_enacted_delta_is_zero, name="as_enacted_delta_is_zero"),
    ],
    unique=GRAIN,
    strict=True,
    ordered=True,
    name="fct_scenario_duty_by_hs_month",
)


def _against_enacted(data: pa.PolarsData) -> pl.LazyFrame:
    """Each row joined to the as_enacted row of its month × hts_code × country_of_origin."""
    enacted = data.lazyframe.filter(pl.col("scenario") == ENACTED).select(
        *GRAIN[1:],
        enacted_total=pl.col("total_duty_usd"),
        enacted_value=pl.col("customs_value_usd"),
        enacted_lines=pl.col("line_count"),
    )
    return data.lazyframe.join(enacted, on=GRAIN[1:], how="left")


def _same_rows_as_enacted(data: pa.PolarsData) -> pl.LazyFrame:
    """Every scenario has the enacted rows (same value, same line count) and no others."""
    joined = _against_enacted(data)
    per_row = (pl.col("customs_value_usd") == pl.col("enacted_value")) & (
        pl.col("line_count") == pl.col("enacted_lines")
    )
    counts = data.lazyframe.group_by("scenario").agg(n=pl.len())
    enacted_n = counts.filter(pl.col("scenario") == ENACTED).select("n")
    same_count = counts.join(enacted_n, how="cross", suffix="_enacted").select(
        ok=(pl.col("n") == pl.col("n_enacted")).all()
    )
    return joined.select(ok=per_row.fill_null(False).all()).join(same_count, how="cross").select(
        pl.col("ok") & pl.col("ok_right")
    )


def _delta_is_total_minus_enacted(data: pa.PolarsData) -> pl.LazyFrame:
    return _against_enacted(data).select(
        (pl.col("delta_vs_enacted_usd") == pl.col("total_duty_usd") - pl.col("enacted_total")).fill_null(False)
    )


def _enacted_present(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.len() == 0) | (pl.col("scenario") == ENACTED).any()
    )


CONSISTENCY = pa.DataFrameSchema(
    checks=[
        pa.Check(_enacted_present, name="as_enacted_rows_present"),
        pa.Check(_same_rows_as_enacted, name="every_scenario_covers_the_enacted_rows"),
        pa.Check(_delta_is_total_minus_enacted, name="delta_is_total_minus_enacted_total"),
    ],
    name="fct_scenario_duty_by_hs_month (across scenarios)",
)


class _Both:
    """SCHEMA then CONSISTENCY, as one object with `validate` (the mart registry's interface)."""

    def validate(self, frame: pl.DataFrame, lazy: bool = False) -> pl.DataFrame:
        return CONSISTENCY.validate(SCHEMA.validate(frame, lazy=lazy), lazy=lazy)


CONTRACT = _Both()
