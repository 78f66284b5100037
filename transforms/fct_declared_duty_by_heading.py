"""fct_declared_duty_by_heading: the declared duty of each line split by heading, beside the
duty the schedule computes under the same heading (one row per line × heading).

The declared side comes from the staged lines: `declared_headings` with their duties
(`declared_heading_duties_usd`, `;`-separated in the same order) — what an ACE ES-003 export
reports as the chapter 99/98 rows of a line (`--customs-map ace_es003`) — and the MFN part,
`declared_duty_usd` less the headings' duties (the duty of the line's own HTS row). The
computed side is the engine's duty per component (`transforms.duty.line_components`'s rows,
from one pass of the line engine: `computed_by_heading`):
`MFN` and each applied chapter 99 heading, zero-duty companion headings included.

Covered lines: the published lines that declared a duty, in a month whose input declares
chapter 99 headings on at least one line (an input without any, e.g. a contract file with
only `declared_duty_usd`, gives no rows: its duty cannot be split by heading). Per line,
the declared duties sum to `declared_duty_usd` and the computed ones to `total_duty_usd`.

`cause`: `match` (same heading, amounts within one cent), `amount_differs`,
`amount_not_declared` (heading declared without an amount), `no_duty_heading` (declared at
0.00 under a heading that adds no duty of its own: a claim or exemption heading such as
9903.94.06, honoured or refused as `fct_duty_lines.flags` says), `heading_not_computed` (declared
under a heading the schedule does not apply to the line: a wrong heading), or
`heading_not_declared` (the schedule applies a heading the line did not declare).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import polars as pl

from transforms.duty import ENGINE_COLUMNS, compute_line_duty, layers, measure_field
from transforms.order import sorted_by
from transforms.schedule import Schedule
from transforms.stg_customs_lines import LIST_SEPARATOR
from transforms.vocabulary import LINE_GRAIN, MONEY

LINE_ID = list(LINE_GRAIN)
LINE = "__line"  # a line's position in the mart's lines: the key its internal joins use
MFN_HEADING = "MFN"
CAUSES = (
    "match",
    "amount_differs",
    "amount_not_declared",
    "no_duty_heading",
    "heading_not_computed",
    "heading_not_declared",
)
TOLERANCE_USD = Decimal("0.01")
LINE_COLUMNS = ["entry_date", "month", "importer_id", "hts_code", "country_of_origin"]
FCT_DECLARED_DUTY_BY_HEADING_COLUMNS = [
    *LINE_ID,
    *LINE_COLUMNS,
    "heading",
    "program",
    "declared_duty_usd",
    "computed_duty_usd",
    "difference_usd",
    "cause",
]
SCHEMA = {
    "entry_number": pl.Utf8,
    "line_number": pl.Int64,
    "entry_date": pl.Date,
    "month": pl.Utf8,
    "importer_id": pl.Utf8,
    "hts_code": pl.Utf8,
    "country_of_origin": pl.Utf8,
    "heading": pl.Utf8,
    "program": pl.Utf8,
    "declared_duty_usd": MONEY,
    "computed_duty_usd": MONEY,
    "difference_usd": MONEY,
    "cause": pl.Utf8,
}


def declares_headings(stg: pl.DataFrame) -> bool:
    return "declared_headings" in stg.columns and stg.select(pl.col("declared_headings").is_not_null().any()).item()


def declared_by_heading(lines: pl.DataFrame, key: Sequence[str] = LINE_ID) -> pl.DataFrame:
    """(line, heading, declared_duty_usd) of staged lines that declared a duty, the line named
    by its `key` columns: each declared heading (duties summed if a heading is declared
    twice) and `MFN` = the rest."""
    key = list(key)
    headings = pl.col("declared_headings").str.split(LIST_SEPARATOR)
    duties = pl.col("declared_heading_duties_usd").str.split(LIST_SEPARATOR)
    long = (
        lines.filter(pl.col("declared_headings").is_not_null())
        .select(
            *key,
            heading=headings,
            duty=pl.when(duties.is_not_null()).then(duties).otherwise(headings.list.eval(pl.lit(None, pl.Utf8))),
        )
        .explode("heading", "duty")
        .with_columns(pl.col("duty").cast(MONEY, strict=False))
        .group_by(*key, "heading", maintain_order=True)
        .agg(declared_duty_usd=pl.when(pl.col("duty").is_null().any()).then(None).otherwise(pl.col("duty").sum()))
    )
    ch99_total = long.group_by(key).agg(
        __ch99=pl.when(pl.col("declared_duty_usd").is_null().any())
        .then(None)
        .otherwise(pl.col("declared_duty_usd").sum())
    )
    mfn = (
        lines.select(*key, "declared_duty_usd", "declared_headings")
        .join(ch99_total, on=key, how="left")
        .select(
            *key,
            heading=pl.lit(MFN_HEADING),
            declared_duty_usd=pl.when(pl.col("declared_headings").is_null())
            .then(pl.col("declared_duty_usd"))
            .otherwise(pl.col("declared_duty_usd") - pl.col("__ch99")),
        )
    )
    return pl.concat(
        [mfn, long.with_columns(pl.col("declared_duty_usd").cast(MONEY))], how="vertical_relaxed"
    ).with_columns(pl.col("declared_duty_usd").cast(MONEY))


def computed_by_heading(lines: pl.DataFrame, schedule: Schedule, key: Sequence[str] = LINE_ID) -> pl.DataFrame:
    """(line, heading, program, computed_duty_usd) of lines (the `key` columns that name a
    line, and the engine columns): `MFN` and each heading a layer applies (`line_components`'
    rows, zero-duty companion headings included), the duties of a heading applied twice
    summed; in no set order. One pass of the line engine (`compute_line_duty` with its layer
    detail)."""
    key = list(key)
    priced = compute_line_duty(lines, schedule, layer_detail=True)
    parts = [priced.select(*key, heading=pl.lit(MFN_HEADING), program=pl.lit("mfn"), duty_usd="mfn_duty_usd")]
    for layer in layers(schedule):
        heading = f"{layer}__applied_heading"
        if heading not in priced.columns:  # (no line has a measure of the layer)
            continue
        # (the layer's columns first, then its lines: filtering the priced lines whole copies
        # every column of them, 0.13 GiB more at the build's peak on 5M realistic lines)
        parts.append(
            priced.select(*key, heading, f"{layer}__measure_id", f"{layer}__duty_usd")
            .filter(pl.col(heading).is_not_null())
            .select(
                *key,
                heading=heading,
                program=measure_field(pl.col(f"{layer}__measure_id"), schedule, "program"),
                duty_usd=f"{layer}__duty_usd",
            )
        )
    del priced  # (the engine's detail goes before the rows are put together)
    rows = pl.concat(parts)
    if not layers_share_headings(schedule):
        # each layer's headings are its own: a line has each heading once, nothing to sum
        return rows.select(*key, "heading", "program", computed_duty_usd=pl.col("duty_usd").cast(MONEY))
    return rows.group_by(*key, "heading").agg(
        program=pl.col("program").first(), computed_duty_usd=pl.col("duty_usd").sum().cast(MONEY)
    )


def layers_share_headings(schedule: Schedule) -> bool:
    """Whether a heading can be applied by two layers (a heading or at-or-above-cap heading of
    measures of two layers, or `MFN`), so that a line may carry it twice."""
    measures = schedule.measures
    headings = (
        pl.concat([
            measures.select("layer", "heading"),
            measures.select("layer", heading=pl.col("heading_at_or_above_cap")),
        ])
        .filter(pl.col("heading").is_not_null() & (pl.col("heading") != ""))
        .unique()
        .get_column("heading")
    )
    return bool(headings.is_duplicated().any() or (headings == MFN_HEADING).any())


def _cause() -> pl.Expr:
    declared, computed = pl.col("declared_duty_usd"), pl.col("computed_duty_usd")
    return (
        pl.when(pl.col("__computed").is_null() & (declared == pl.lit(Decimal("0.00"), dtype=MONEY)))
        .then(pl.lit("no_duty_heading"))
        .when(pl.col("__computed").is_null())
        .then(pl.lit("heading_not_computed"))
        .when(pl.col("__declared").is_null())
        .then(pl.lit("heading_not_declared"))
        .when(declared.is_null())
        .then(pl.lit("amount_not_declared"))
        .when((computed - declared).abs() <= pl.lit(TOLERANCE_USD, dtype=MONEY))
        .then(pl.lit("match"))
        .otherwise(pl.lit("amount_differs"))
    )


def _heading_programs(schedule: Schedule) -> pl.DataFrame:
    measures = schedule.measures
    return (
        pl.concat(
            [
                measures.select("heading", "program"),
                measures.select(pl.col("heading_at_or_above_cap").alias("heading"), "program"),
            ]
        )
        .filter(pl.col("heading").is_not_null() & (pl.col("heading") != ""))
        .unique("heading", keep="first", maintain_order=True)
        .rename({"program": "__schedule_program"})
    )


def _line_rows(stg_customs_lines: pl.DataFrame, fct_duty_lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(staged lines, published lines) of the lines that declared a duty, row for row in the
    same order. The staged and published lines are usually the same lines in the same order
    (fct_duty_lines keeps the staged order): then one mask picks both, else a join."""
    declared = fct_duty_lines.get_column("declared_duty_usd").is_not_null()
    published = fct_duty_lines.select(*LINE_ID, *LINE_COLUMNS).filter(declared)
    # (only the staged columns the mart reads are copied)
    read = [*LINE_ID, *ENGINE_COLUMNS, "declared_duty_usd", "declared_headings", "declared_heading_duties_usd"]
    stg_customs_lines = stg_customs_lines.select(c for c in dict.fromkeys(read) if c in stg_customs_lines.columns)
    if stg_customs_lines.height == fct_duty_lines.height and stg_customs_lines.select(LINE_ID).equals(
        fct_duty_lines.select(LINE_ID)
    ):
        return stg_customs_lines.filter(declared), published
    lines = published.select(LINE_ID).join(stg_customs_lines, on=LINE_ID, how="inner", maintain_order="left")
    return lines, published.join(lines.select(LINE_ID), on=LINE_ID, how="semi", maintain_order="left")


def build_fct_declared_duty_by_heading(
    stg_customs_lines: pl.DataFrame, fct_duty_lines: pl.DataFrame, schedule: Schedule
) -> pl.DataFrame:
    """The line × heading reconciliation of the month's published lines (see module doc)."""
    if not declares_headings(stg_customs_lines):
        return pl.DataFrame(schema=SCHEMA)
    lines, published = _line_rows(stg_customs_lines, fct_duty_lines)
    if lines.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    # (in the line grain's order: fct_duty_lines' own, so these are no-ops)
    lines, published = sorted_by(lines, LINE_ID), sorted_by(published, LINE_ID)
    # a line is named by its position (LINE) in `lines` and `published` inside the mart
    lines = lines.with_row_index(LINE)
    declared = declared_by_heading(lines, [LINE]).with_columns(__declared=pl.lit(True))
    engine = lines.select(LINE, *[c for c in ENGINE_COLUMNS if c in lines.columns and c not in LINE_ID])
    computed = computed_by_heading(engine, schedule, [LINE]).with_columns(__computed=pl.lit(True))
    del lines, engine  # (the staged lines are done with before the rows are put together)
    zero = pl.lit(Decimal("0.00"), dtype=MONEY)
    # (one lazy query: the joins' and columns' intermediate frames are not each materialised)
    rows = (
        declared.lazy()
        .join(computed.lazy(), on=[LINE, "heading"], how="full", coalesce=True)
        .join(_heading_programs(schedule).lazy(), on="heading", how="left")
        .with_columns(
            program=pl.coalesce(
                "program",
                "__schedule_program",
                pl.when(pl.col("heading") == MFN_HEADING).then(pl.lit("mfn")),
            ),
            computed_duty_usd=pl.col("computed_duty_usd").fill_null(zero),
            cause=_cause(),
        )
        .with_columns(
            difference_usd=(pl.col("computed_duty_usd") - pl.col("declared_duty_usd").fill_null(zero)).cast(MONEY),
        )
        # per line (in the line grain's order), the headings in byte order: the published
        # table's own order (ORDER BY ALL: MFN after the chapter 99 headings), so the
        # segment is written without sorting the mart again
        .sort(LINE, "heading")
        .collect()
    )
    del declared, computed
    line_columns = published.select(pl.all().gather(rows.get_column(LINE)))
    return pl.concat([line_columns, rows], how="horizontal").select(FCT_DECLARED_DUTY_BY_HEADING_COLUMNS).cast(SCHEMA)
