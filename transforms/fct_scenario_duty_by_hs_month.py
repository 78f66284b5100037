"""fct_scenario_duty_by_hs_month: one row per scenario × month × hts_code × country_of_origin:
the duty of the same customs lines under the schedule as enacted (`as_enacted`, always
present, the exact sums of fct_duty_lines) and under each what-if scenario, with the
difference to the enacted duty. Duty only (no fees)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms.duty import compute_line_duty, effective_rate
from transforms.scenario import ENACTED
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY

GRAIN = ["scenario", "month", "hts_code", "country_of_origin"]
DUTY_COLUMNS = [
    "mfn_duty_usd",
    "section_232_duty_usd",
    "ieepa_duty_usd",
    "other_duty_usd",
    "total_duty_usd",
]
FCT_SCENARIO_DUTY_BY_HS_MONTH_COLUMNS = [
    *GRAIN,
    "line_count",
    "customs_value_usd",
    *DUTY_COLUMNS,
    "effective_duty_rate",
    "delta_vs_enacted_usd",
]
_LINE_COLUMNS = ["month", "hts_code", "country_of_origin", "customs_value_usd", *DUTY_COLUMNS]


def _by_hs_month(lines: pl.DataFrame, scenario: str) -> pl.DataFrame:
    return (
        lines.group_by(GRAIN[1:])
        .agg(
            line_count=pl.len().cast(pl.Int64),
            **{column: pl.col(column).sum().cast(MONEY) for column in ["customs_value_usd", *DUTY_COLUMNS]},
        )
        .with_columns(scenario=pl.lit(scenario, pl.Utf8))
    )


def build_fct_scenario_duty_by_hs_month(
    fct_duty_lines: pl.DataFrame,
    stg_customs_lines: pl.DataFrame,
    scenarios: Mapping[str, Schedule],
    fct_duty_by_hs_month: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`as_enacted` from the published line mart (its sums by month × hts_code ×
    country_of_origin taken from `fct_duty_by_hs_month` when given: the same sums of the
    same lines); each scenario (name → schedule) computed on the same staged lines.
    `delta_vs_enacted_usd` = scenario total − enacted total of the same month × hts_code ×
    country_of_origin (0 for as_enacted)."""
    if ENACTED in scenarios:
        raise ValueError(f"scenario name {ENACTED!r} is reserved for the schedule as enacted")
    if fct_duty_by_hs_month is None:
        enacted_sums = _by_hs_month(fct_duty_lines.select(_LINE_COLUMNS), ENACTED)
    else:
        enacted_sums = fct_duty_by_hs_month.select(
            *GRAIN[1:], "line_count", "customs_value_usd", *DUTY_COLUMNS, scenario=pl.lit(ENACTED, pl.Utf8)
        )
    parts = [enacted_sums]
    for name, schedule in scenarios.items():
        parts.append(_by_hs_month(compute_line_duty(stg_customs_lines, schedule).select(_LINE_COLUMNS), name))
    combined = pl.concat(parts, how="diagonal")
    enacted = combined.filter(pl.col("scenario") == ENACTED).select(
        *GRAIN[1:], enacted_total=pl.col("total_duty_usd")
    )
    order = pl.DataFrame(
        {"scenario": [ENACTED, *scenarios], "scenario_order": list(range(len(scenarios) + 1))}
    )
    return (
        combined.join(enacted, on=GRAIN[1:], how="left")
        .with_columns(
            delta_vs_enacted_usd=(pl.col("total_duty_usd") - pl.col("enacted_total")).cast(MONEY),
            effective_duty_rate=effective_rate(pl.col("total_duty_usd"), pl.col("customs_value_usd")),
        )
        .join(order, on="scenario")
        .sort("scenario_order", *GRAIN[1:])
        .select(FCT_SCENARIO_DUTY_BY_HS_MONTH_COLUMNS)
    )
