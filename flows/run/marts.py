"""The mart registry: every published table, how it is built from a month's context, its
pandera contract, its export folder and the input kinds it needs.

Adding a published table is one `Mart(...)` line here (plus its DDL in `sql/<table>.sql`, its
transform in `transforms/` and its schema in `schemas/`). Marts are built in registry order by
`compute_stage` (flows/run/lifecycle.py); a builder may use the marts above it through
`ctx.marts`. The vehicle and scenario marts' glue (which loaded input feeds which transform)
lives here too, not in their loaders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandera.polars as pa
import polars as pl

from flows.inputs.refund_rules import read_refund_status_rules
from flows.inputs.scenarios import read_scenarios
from flows.warehouse.journal import utc_now
from schemas.fct_census_duty_by_hs_month import SCHEMA as FCT_CENSUS_DUTY_BY_HS_MONTH
from schemas.fct_declared_duty_by_heading import SCHEMA as FCT_DECLARED_DUTY_BY_HEADING
from schemas.fct_duty_by_hs_month import SCHEMA as FCT_DUTY_BY_HS_MONTH
from schemas.fct_duty_by_model_month import SCHEMA as FCT_DUTY_BY_MODEL_MONTH
from schemas.fct_duty_lines import SCHEMA as FCT_DUTY_LINES
from schemas.fct_ieepa_refunds import SCHEMA as FCT_IEEPA_REFUNDS
from schemas.fct_ieepa_refunds_by_importer_month import SCHEMA as FCT_IEEPA_REFUNDS_BY_IMPORTER_MONTH
from schemas.fct_reconciliation import SCHEMA as FCT_RECONCILIATION
from schemas.fct_reconciliation_by_importer_month import SCHEMA as FCT_RECONCILIATION_BY_IMPORTER_MONTH
from schemas.fct_scenario_duty_by_hs_month import CONTRACT as FCT_SCENARIO_DUTY_BY_HS_MONTH
from schemas.fct_vehicle_duty import LINE_SUMS_SCHEMA, line_sums
from schemas.fct_vehicle_duty import SCHEMA as FCT_VEHICLE_DUTY
from transforms.fct_census_duty_by_hs_month import build_fct_census_duty_by_hs_month
from transforms.fct_declared_duty_by_heading import build_fct_declared_duty_by_heading
from transforms.fct_duty_by_hs_month import build_fct_duty_by_hs_month
from transforms.fct_duty_by_model_month import build_fct_duty_by_model_month
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_reconciliation_by_importer_month import build_fct_reconciliation_by_importer_month
from transforms.fct_scenario_duty_by_hs_month import build_fct_scenario_duty_by_hs_month
from transforms.fct_vehicle_duty import build_fct_vehicle_duty
from transforms.schedule import Schedule

REJECTS_TABLE = "rejects"
LINES_TABLE = "fct_duty_lines"
VEHICLE_MART = "fct_vehicle_duty"


class MartContractError(RuntimeError):
    """A built mart does not meet its pandera contract (a bug in a transform, not in the data)."""


def contract_error(table: str, error: pa.errors.SchemaErrors) -> MartContractError:
    """One line per (column, check) with the number of failing rows and a few examples."""
    cases = (
        error.failure_cases.group_by("column", "check", maintain_order=True)
        .agg(rows=pl.len(), examples=pl.col("failure_case").head(3), at=pl.col("index").head(3))
        .to_dicts()
    )
    parts = [
        f"{c['column']} {c['check']}: {c['rows']} failure{'s' if c['rows'] != 1 else ''} "
        f"(e.g. {', '.join(repr(x) for x in c['examples'])}"
        + (
            f" at rows {', '.join(str(i) for i in c['at'] if i is not None)})"
            if any(i is not None for i in c["at"])
            else ")"
        )
        for c in cases
    ]
    return MartContractError(f"{table} does not meet schemas/{table}.py: " + "; ".join(parts))


@dataclass
class MonthContext:
    """What mart builders see: the month, the schedule, the loaded inputs (kind → loader
    result), the scenario names, and the marts built so far (table → frame)."""

    month: str
    schedule: Schedule
    loaded: Mapping[str, Any]
    scenarios: tuple[str, ...] = ()
    marts: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Mart:
    """A published table: `build(ctx)` returns the month's frame; `schema.validate` checks it
    before publish; `export` is its folder under the exports root (None: not exported);
    `needs` lists the input kinds it requires (it is skipped when one is not given)."""

    table: str
    build: Callable[[MonthContext], pl.DataFrame]
    schema: Any
    export: str | None = None
    needs: tuple[str, ...] = ()

    def validate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame checked against the mart's contract (MartContractError if it fails)."""
        if self.schema is None:
            return frame
        try:
            return self.schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as error:
            raise contract_error(self.table, error) from None


def fct_scenario_duty_by_hs_month_for_month(ctx: MonthContext) -> pl.DataFrame:
    """The month's fct_scenario_duty_by_hs_month: `as_enacted` plus each scenario of the run
    (names or paths) read against the run's schedule."""
    return build_fct_scenario_duty_by_hs_month(
        ctx.marts[LINES_TABLE], ctx.loaded["customs"].stg, read_scenarios(ctx.scenarios, ctx.schedule),
        ctx.marts.get("fct_duty_by_hs_month"),
    )


def fct_vehicle_duty_for_month(ctx: MonthContext) -> pl.DataFrame:
    """The month's fct_vehicle_duty. Guards that every line's vehicle shares sum back to its
    duty and fees (LINE_SUMS_SCHEMA)."""
    loaded = ctx.loaded["vehicles"]
    lines = ctx.marts[LINES_TABLE]
    fct = build_fct_vehicle_duty(loaded.stg, lines, loaded.references).fct_vehicle_duty
    LINE_SUMS_SCHEMA.validate(line_sums(fct, lines), lazy=True)
    return fct


def fct_duty_by_model_month_for_month(ctx: MonthContext) -> pl.DataFrame:
    """The month's fct_duty_by_model_month."""
    return build_fct_duty_by_model_month(ctx.marts[VEHICLE_MART])


# Marts in build order (a builder may use the marts above it through ctx.marts).
MARTS: list[Mart] = [
    Mart(
        "fct_duty_lines",
        lambda c: build_fct_duty_lines(c.loaded["customs"].stg, c.schedule),
        FCT_DUTY_LINES,
        "duty_lines",
        ("customs",),
    ),
    Mart(
        "fct_duty_by_hs_month",
        lambda c: build_fct_duty_by_hs_month(c.marts["fct_duty_lines"]),
        FCT_DUTY_BY_HS_MONTH,
        "duty_by_hs_month",
        ("customs",),
    ),
    Mart(
        "fct_scenario_duty_by_hs_month",
        fct_scenario_duty_by_hs_month_for_month,
        FCT_SCENARIO_DUTY_BY_HS_MONTH,
        "scenario_duty_by_hs_month",
        ("customs",),
    ),
    Mart(
        "fct_reconciliation",
        lambda c: build_fct_reconciliation(c.marts["fct_duty_lines"], c.schedule),
        FCT_RECONCILIATION,
        "reconciliation",
        ("customs",),
    ),
    Mart(
        "fct_declared_duty_by_heading",
        lambda c: build_fct_declared_duty_by_heading(c.loaded["customs"].stg, c.marts["fct_duty_lines"], c.schedule),
        FCT_DECLARED_DUTY_BY_HEADING,
        "declared_duty_by_heading",
        ("customs",),
    ),
    Mart(
        "fct_reconciliation_by_importer_month",
        lambda c: build_fct_reconciliation_by_importer_month(c.marts["fct_reconciliation"]),
        FCT_RECONCILIATION_BY_IMPORTER_MONTH,
        "reconciliation_by_importer_month",
        ("customs",),
    ),
    # refund status estimated as of the run date (UTC)
    Mart(
        "fct_ieepa_refunds",
        lambda c: build_fct_ieepa_refunds(
            c.marts["fct_duty_lines"], c.schedule, read_refund_status_rules(), utc_now().date()
        ),
        FCT_IEEPA_REFUNDS,
        "ieepa_refunds",
        ("customs",),
    ),
    Mart(
        "fct_ieepa_refunds_by_importer_month",
        lambda c: build_fct_ieepa_refunds_by_importer_month(c.marts["fct_ieepa_refunds"]),
        FCT_IEEPA_REFUNDS_BY_IMPORTER_MONTH,
        "ieepa_refunds_by_importer_month",
        ("customs",),
    ),
    Mart(
        "fct_census_duty_by_hs_month",
        lambda c: build_fct_census_duty_by_hs_month(c.loaded["census"].stg, c.schedule),
        FCT_CENSUS_DUTY_BY_HS_MONTH,
        "census_duty_by_hs_month",
        ("census",),
    ),
    Mart("fct_vehicle_duty", fct_vehicle_duty_for_month, FCT_VEHICLE_DUTY, "vehicle_duty", ("customs", "vehicles")),
    Mart(
        "fct_duty_by_model_month",
        fct_duty_by_model_month_for_month,
        FCT_DUTY_BY_MODEL_MONTH,
        "duty_by_model_month",
        ("customs", "vehicles"),
    ),
]

LINES_MART: Mart = next(m for m in MARTS if m.table == LINES_TABLE)


def mart_exports(marts: list[Mart] | tuple[Mart, ...], tables: Mapping[str, pl.DataFrame]) -> dict[str, str]:
    """table → export folder, for the exported marts among `tables`."""
    return {m.table: m.export for m in marts if m.export and m.table in tables}
