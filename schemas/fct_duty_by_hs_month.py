"""Contract of `fct_duty_by_hs_month`: one row per month × hts_code × country_of_origin
(the grain, enforced unique). Money columns are exact sums of fct_duty_lines. Mirrors
`sql/fct_duty_by_hs_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from schemas.common import duty

GRAIN = ["month", "hts_code", "country_of_origin"]


SCHEMA = pa.DataFrameSchema(
    {
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
        "mpf_usd": duty(),
        "hmf_usd": duty(),
        "total_cost_usd": duty(),
        "effective_duty_rate": common.effective_rate(),
        "run_id": common.run_id(),
    },
    checks=[common.total_is_sum_of_components(), common.cost_is_duty_plus_fees()],
    unique=GRAIN,
    strict=True,
    name="fct_duty_by_hs_month",
)
