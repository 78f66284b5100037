"""fct_reconciliation: one row per customs line that declared its duty, comparing the declared
duty with the duty computed under the schedule, with the likely cause of a difference.

`difference_usd` = computed − declared: negative means the importer overpaid, positive that
it underpaid; within one cent either way is a `match`.

Likely causes are recognised by re-pricing the line under a *wrong reading* of one measure that
applied to it and checking whether the declared duty equals that price (within two cents:
each of up to three separately rounded components may be half a cent off). Every wrong reading
is a change to the schedule's own measures, run through the same engine, so no rate is written
here. The readings, tried in this order for each applied measure (in layer order):

1. `inclusive_as_additive`: an inclusive-total measure (e.g. the Japan 15% reciprocal rate
   from 2025-08-07, or the 2025-09-16 Japan deal rate for 232 goods) charged as
   "+rate on top of MFN";
2. `superseded`: the measure treated as absent, so that the measure it displaced in the same
   layer applies (e.g. 232 autos at +25% after the 2025-09-16 deal, or the +10% baseline
   after the Japan reciprocal rate took effect);
3. `omitted`: the measure's duty left off the declaration;
4. `not_applied`: the measure treated as absent with no successor in its layer, so that
   measures it excludes apply instead (e.g. a part priced under the Japan reciprocal rate
   although the 232 medium/heavy truck parts measure, which has no Japan cap, covers it).

Where the line declared its chapter 99 headings (`declared_headings`), the declared set is
compared with the computed one (`ch99_headings`): a declared claim the engine refused (a
heading of `Schedule.claimable_headings` it did not apply) is named first, before any wrong
reading; any other difference of the two sets is the cause where no wrong reading explains the
declared duty.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from transforms.duty import (
    HEADING_SEPARATOR,
    VARIANT,
    compute_line_duty,
    key_columns,
    keyed_facts,
    layers,
    measure_field,
    resolve_measures,
    variant_schedule,
)
from transforms.fct_duty_lines import sorted_by_line
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY

LINE_ID = ["entry_number", "line_number"]
ROW = "_row"  # a line's position in the reconciled lines: the id internal joins use
ENGINE_INPUT = [
    "hts_code",
    "country_of_origin",
    "entry_date",
    "customs_value_usd",
    "quantity",
    "steel_content_value_usd",
    "aluminum_content_value_usd",
    "export_date",
    "transport_mode",
    "declared_headings",
]
MATCH_TOLERANCE_USD = Decimal("0.01")
CAUSE_TOLERANCE_USD = Decimal("0.02")
STATUSES = ("match", "overpaid", "underpaid")
MONEY_COLUMNS = ["customs_value_usd", "declared_duty_usd", "total_duty_usd", "difference_usd"]

FCT_RECONCILIATION_COLUMNS = [
    "entry_number",
    "line_number",
    "entry_date",
    "month",
    "importer_id",
    "hts_code",
    "country_of_origin",
    "customs_value_usd",
    "declared_duty_usd",
    "total_duty_usd",
    "difference_usd",
    "status",
    "likely_cause",
    "ch99_headings",
]


def _percent(rate: Decimal) -> str:
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


@dataclass(frozen=True)
class WrongReading:
    """A recognisable misreading of one applied measure `m` (a row of schedule.measures):
    `applies_to(m)`, the measures table as the declarant read it, and the cause sentence (an
    expression over the re-priced line: `alt_headings` is its ch99_headings, and
    `successor_heading` / `successor_measure_id` the measure of m's layer under the misreading).
    `successor`: True = only lines where another measure of m's layer applies under the
    misreading, False = only lines where none does, None = every line."""

    name: str
    applies_to: Callable[[dict], bool]
    measures: Callable[[pl.DataFrame, dict], pl.DataFrame]
    cause: Callable[[dict], pl.Expr]
    successor: bool | None = None
    # True when the misreading changes only fields of m that never decide which measures
    # apply to a key (rate, shape): m's misreading then leaves every key m does not apply to
    # priced as before, so measures never applied together are misread in one engine call
    own_fields_only: bool = False


def _without(measures: pl.DataFrame, m: dict) -> pl.DataFrame:
    return measures.filter(pl.col("measure_id") != m["measure_id"])


def _set(measures: pl.DataFrame, measure_id: str, **values) -> pl.DataFrame:
    is_m = pl.col("measure_id") == measure_id
    return measures.with_columns(
        [
            pl.when(is_m).then(pl.lit(v, dtype=measures.schema[c])).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        ]
    )


READINGS = [
    WrongReading(
        name="inclusive_as_additive",
        applies_to=lambda m: m["shape"] == "inclusive_total",
        measures=lambda measures, m: _set(measures, m["measure_id"], shape="additive"),
        cause=lambda m: pl.lit(
            f"{m['heading']} ({m['measure_id']}) is {_percent(m['rate'])} in total including MFN "
            f"(from {m['valid_from']}); declared as +{_percent(m['rate'])} stacked on MFN"
        ),
        own_fields_only=True,
    ),
    WrongReading(
        name="superseded",
        applies_to=lambda m: True,
        measures=_without,
        cause=lambda m: pl.format(
            "declared under the superseded {} ({}) instead of {} ({}, from {})",
            pl.col("successor_heading"),
            pl.col("successor_measure_id"),
            pl.lit(m["heading"]),
            pl.lit(m["measure_id"]),
            pl.lit(str(m["valid_from"])),
        ),
        successor=True,
    ),
    WrongReading(
        name="omitted",
        applies_to=lambda m: True,
        measures=lambda measures, m: _set(measures, m["measure_id"], rate=Decimal(0)),
        cause=lambda m: pl.lit(f"{m['measure_id']} duty ({m['heading']}, {m['program']}) not declared"),
        own_fields_only=True,
    ),
    WrongReading(
        name="not_applied",
        applies_to=lambda m: True,
        measures=_without,
        cause=lambda m: pl.format(
            "declared as if {} ({}, from {}) did not apply: priced under {}",
            pl.lit(m["heading"]),
            pl.lit(m["measure_id"]),
            pl.lit(str(m["valid_from"])),
            pl.when(pl.col("alt_headings") == "").then(pl.lit("MFN only")).otherwise(pl.col("alt_headings")),
        ),
        successor=False,
    ),
]


def with_status(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines that declared duty, with difference_usd (computed − declared) and status."""
    difference = (pl.col("total_duty_usd") - pl.col("declared_duty_usd")).cast(MONEY)
    tolerance = pl.lit(MATCH_TOLERANCE_USD, dtype=MONEY)
    return (
        lines.filter(pl.col("declared_duty_usd").is_not_null())
        .with_columns(difference_usd=difference)
        .with_columns(
            status=pl.when(pl.col("difference_usd").abs() <= tolerance)
            .then(pl.lit("match"))
            .when(pl.col("difference_usd") < 0)
            .then(pl.lit("overpaid"))
            .otherwise(pl.lit("underpaid"))
        )
    )


def _readings(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Every (line, wrong reading of an applied measure) that reproduces the declared duty:
    ROW (the lines' row id), `reading_order`, `likely_cause`."""
    schema = {ROW: lines.schema[ROW], "reading_order": pl.Int64, "likely_cause": pl.Utf8}
    if lines.height == 0:
        return pl.DataFrame(schema=schema)
    key = key_columns([c for c in lines.columns if c in ENGINE_INPUT])
    # the key and line facts as the rules read them (entry dates by stretch between the
    # schedule's dates, ...): the same measures, re-pricings and successors, on far fewer keys
    lines = keyed_facts(lines, schedule)
    applied = resolve_measures(lines.select(key).unique(), schedule)
    # (each line's measures by its row id alone: with the key columns beside them, 0.1 GiB
    # at 5M realistic lines, they were held through every re-pricing)
    line_measures = (
        lines.lazy()
        .select(ROW, *key)
        .join(applied.lazy().select(*key, "measure_id"), on=key, nulls_equal=True)
        .select(ROW, "measure_id")
        .collect()
    )
    layer_order = {layer: i for i, layer in enumerate(layers(schedule))}
    measures = (
        schedule.measures.join(line_measures.select("measure_id").unique(), on="measure_id", how="semi")
        .with_columns(layer_order=pl.col("layer").replace_strict(layer_order, return_dtype=pl.Int64))
        .sort("layer_order", "measure_id")
    ).rows(named=True)
    by_measure = line_measures.select("measure_id", ROW).partition_by("measure_id", as_dict=True)
    rows_of = {measure_id: rows.get_column(ROW) for (measure_id,), rows in by_measure.items()}
    together = _applied_together(line_measures)
    del line_measures, by_measure
    engine_columns = [c for c in ENGINE_INPUT if c in lines.columns]
    reprice = lines.select(ROW, *engine_columns, "declared_duty_usd", "total_duty_usd")
    del lines
    m_index = {m["measure_id"]: i for i, m in enumerate(measures)}
    found = [pl.DataFrame(schema=schema)]
    # each re-priced set of lines is reduced to the readings it reproduces before the next
    # is priced (only those few rows are kept)
    for (misreading, measure_id), candidates in _misread_prices(reprice, schedule, measures, rows_of, together):
        m = measures[m_index[measure_id]]
        for r_index, reading in enumerate(READINGS):
            if reading.measures is misreading and reading.applies_to(m):
                found.append(_reproduced(candidates, reading, m, r_index * 10_000 + m_index[measure_id]))
    return pl.concat(found, how="vertical_relaxed")


def _reproduced(candidates: pl.DataFrame, reading: WrongReading, m: dict, order: int) -> pl.DataFrame:
    """ROW, `reading_order` (`order`) and `likely_cause` of the re-priced lines whose price under
    `reading` of measure `m` differs from the computed duty and reproduces the declared duty."""
    if reading.successor is not None:
        has_successor = pl.col("successor_measure_id").is_not_null()
        candidates = candidates.filter(has_successor if reading.successor else ~has_successor)
    return candidates.filter(
        (pl.col("alt_total_usd") != pl.col("total_duty_usd"))
        & ((pl.col("alt_total_usd") - pl.col("declared_duty_usd")).abs() <= pl.lit(CAUSE_TOLERANCE_USD, dtype=MONEY))
    ).select(ROW, reading_order=pl.lit(order, dtype=pl.Int64), likely_cause=reading.cause(m))


def _applied_together(line_measures: pl.DataFrame) -> set[tuple[str, str]]:
    """The pairs of measures that apply together to some line (both orders)."""
    pairs = line_measures.select(ROW, "measure_id").join(
        line_measures.select(ROW, other="measure_id"), on=ROW
    ).filter(pl.col("measure_id") != pl.col("other"))
    return set(pairs.select("measure_id", "other").unique().iter_rows())


def _misread_prices(
    lines: pl.DataFrame,
    schedule: Schedule,
    measures: list[dict],
    rows_of: dict[str, pl.Series],
    together: set[tuple[str, str]],
) -> Iterator[tuple[tuple[Callable, str], pl.DataFrame]]:
    """(misreading, measure_id) and the lines measure m applies to with `alt_total_usd` and
    `alt_headings`, their price under m's misreading, for every reading that applies to an
    applied measure m (a misreading two readings share, once). Misreadings that drop m also
    give `successor_measure_id` and `successor_heading`: the measure of m's layer that
    applies to the line instead (null where none does).

    Misreadings that change m's own fields only (`WrongReading.own_fields_only`) are priced
    several at once: misreadings of measures that never apply together to a line share one
    misread schedule, each line priced once, where exactly one of those measures applies to
    it. The others apply to it neither before nor after (a rate or a shape never decides
    which measures apply), so each line gets the price of its own measure's misreading alone.
    A misreading that drops m gets a schedule of its own.

    The misread schedules are priced several at once (`variant_schedule`), in batches of at
    most TOGETHER_ROWS re-priced lines (a larger set alone): each engine pass has a fixed cost
    of a few hundred small steps, which a month with few mismatched lines would otherwise pay
    once per schedule (11 times at 10k lines); the batches bound the memory of a large month,
    each batch's priced sets reduced by the caller before the next is priced."""
    jobs: dict[tuple[Callable, str], Job] = {}
    for reading in READINGS:
        for m in measures:
            if reading.applies_to(m):
                jobs.setdefault((reading.measures, m["measure_id"]), (reading, m))
    own = [job for job in jobs.values() if job[0].own_fields_only]
    groups = _apart(own, together) + [[job] for job in jobs.values() if not job[0].own_fields_only]
    for batch in _batches([_misread_set(group, schedule, rows_of) for group in groups]):
        for s, priced in zip(batch, _priced_together(lines, schedule, batch), strict=True):
            for reading, m in s.group:
                rows = rows_of[m["measure_id"]]
                yield (reading.measures, m["measure_id"]), (
                    priced if len(s.group) == 1 else priced.filter(pl.col(ROW).is_in(rows.implode()))
                )


# re-priced lines of the misread schedules priced in one engine pass (memory: the 11 schedules
# of 1M realistic lines re-price 318k lines in all, the largest set 78k)
TOGETHER_ROWS = 400_000


@dataclass(frozen=True)
class _MisreadSet:
    """Misreadings priced under one misread schedule: the (reading, measure) jobs, the
    misread measures table, the ROW ids of the lines to re-price and, for a misreading that
    drops its measure, the layer whose successor measure is wanted (else None)."""

    group: list[Job]
    measures: pl.DataFrame
    rows: pl.Series
    successor_layer: str | None


def _misread_set(group: list[Job], schedule: Schedule, rows_of: dict[str, pl.Series]) -> _MisreadSet:
    alt_measures = schedule.measures
    for reading, m in group:
        alt_measures = reading.measures(alt_measures, m)
    successor_layer = group[0][1]["layer"] if len(group) == 1 and group[0][0].successor is not None else None
    return _MisreadSet(group, alt_measures, pl.concat([rows_of[m["measure_id"]] for _, m in group]), successor_layer)


def _batches(sets: list[_MisreadSet]) -> list[list[_MisreadSet]]:
    """`sets` in order, in consecutive batches of at most TOGETHER_ROWS lines to re-price (a
    set with more alone)."""
    batches: list[list[_MisreadSet]] = []
    rows = 0
    for s in sets:
        if not batches or rows + s.rows.len() > TOGETHER_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append(s)
        rows += s.rows.len()
    return batches


def _lines_of(lines: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    return lines.filter(pl.col(ROW).is_in(rows.implode()))


def _priced_together(lines: pl.DataFrame, schedule: Schedule, sets: list[_MisreadSet]) -> list[pl.DataFrame]:
    """Each set's lines with `alt_total_usd` and `alt_headings`, their price under the set's
    misread schedule, and for a set with a `successor_layer` the measure of that layer that
    applies under it (`successor_measure_id`, `successor_heading`: its `heading`; null where
    none does), every set in one engine pass: the sets' lines one under the other, each
    numbered with its set (VARIANT). compute_line_duty keeps the rows and their order, so each
    set's price is its slice of the result, and its layer detail names each layer's measure as
    `priced_lines` does (tests/engine/test_priced_lines.py)."""
    parts = [_lines_of(lines, s.rows) for s in sets]
    engine = pl.concat(
        [part.select(c for c in ENGINE_INPUT if c in part.columns).with_columns(pl.lit(i, pl.UInt32).alias(VARIANT))
         for i, part in enumerate(parts)]
    )
    layer_detail = any(s.successor_layer is not None for s in sets)
    duty = compute_line_duty(engine, variant_schedule(schedule, [s.measures for s in sets]), layer_detail=layer_detail)
    starts = itertools.accumulate((part.height for part in parts[:-1]), initial=0)
    return [
        _priced(part, duty.slice(start, part.height), schedule, s.successor_layer)
        for part, start, s in zip(parts, starts, sets, strict=True)
    ]


def _priced(lines: pl.DataFrame, duty: pl.DataFrame, schedule: Schedule, successor_layer: str | None) -> pl.DataFrame:
    """`lines` with the columns `_priced_together` gives them, from `duty`, the engine's result
    for them (same rows, same order). `schedule` names the successor's heading: a misreading
    never changes a measure's heading."""
    priced = {"alt_total_usd": duty.get_column("total_duty_usd"), "alt_headings": duty.get_column("ch99_headings")}
    if successor_layer is not None:
        measure_id = f"{successor_layer}__measure_id"
        if measure_id in duty.columns:
            successor = pl.lit(duty.get_column(measure_id))
            heading = measure_field(successor, schedule, "heading")
            priced |= {"successor_measure_id": successor, "successor_heading": heading}
        else:  # (no line of the batch has a measure of the layer under its misreading)
            priced |= {"successor_measure_id": pl.lit(None, pl.Utf8), "successor_heading": pl.lit(None, pl.Utf8)}
    return lines.with_columns(**priced)


Job = tuple[WrongReading, dict]  # a reading of one applied measure (a row of schedule.measures)


def _apart(jobs: list[Job], together: set[tuple[str, str]]) -> list[list[Job]]:
    """The (reading, measure) jobs in groups whose measures are distinct and never apply
    together to a line (measures of one layer never do): greedily, the jobs that clash with
    the most others first."""

    def clash(a: Job, b: Job) -> bool:
        ids = (a[1]["measure_id"], b[1]["measure_id"])
        return ids[0] == ids[1] or ids in together

    clashes = [sum(clash(job, other) for other in jobs if other is not job) for job in jobs]
    groups: list[list[Job]] = []
    for _, job in sorted(zip(clashes, jobs, strict=True), key=lambda pair: -pair[0]):
        group = next((g for g in groups if not any(clash(job, other) for other in g)), None)
        if group is None:
            groups.append([job])
        else:
            group.append(job)
    return groups


def _heading_differences(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """ROW, `reading_order` and `likely_cause` for lines whose declared chapter 99 headings
    differ from the computed ones: refused claims first (order -1: before every wrong
    reading), any other difference last (after every wrong reading)."""
    schema = {ROW: lines.schema[ROW], "reading_order": pl.Int64, "likely_cause": pl.Utf8}
    if "declared_headings" not in lines.columns:
        return pl.DataFrame(schema=schema)
    declared = pl.col("declared_headings").str.split(HEADING_SEPARATOR)
    computed = pl.col("ch99_headings").str.split(", ").list.eval(pl.element().filter(pl.element() != ""))
    compared = lines.filter(pl.col("declared_headings").is_not_null()).select(
        ROW,
        extra=declared.list.set_difference(computed).list.sort(),
        missing=computed.list.set_difference(declared).list.sort(),
    )
    refused = pl.col("extra").list.eval(pl.element().filter(pl.element().is_in(schedule.claimable_headings)))
    compared = compared.with_columns(refused=refused).filter(
        (pl.col("extra").list.len() > 0) | (pl.col("missing").list.len() > 0)
    )

    def joined(column: str) -> pl.Expr:
        return pl.col(column).list.join(", ")

    not_computed = pl.when(pl.col("extra").list.len() > 0).then(
        pl.lit("declared ") + joined("extra") + pl.lit(" not applicable")
    )
    not_declared = pl.when(pl.col("missing").list.len() > 0).then(
        pl.lit("computed ") + joined("missing") + pl.lit(" not declared")
    )
    refused_text = pl.lit("claim ") + joined("refused") + pl.lit(
        " refused: not available for the line's HTS code / origin / entry date"
    )
    return compared.select(
        ROW,
        reading_order=pl.when(pl.col("refused").list.len() > 0)
        .then(pl.lit(-1, dtype=pl.Int64))
        .otherwise(pl.lit(len(READINGS) * 10_000, dtype=pl.Int64)),
        likely_cause=pl.when(pl.col("refused").list.len() > 0)
        .then(pl.concat_str([refused_text, not_declared], separator="; ", ignore_nulls=True))
        .otherwise(
            pl.lit("declared headings differ: ")
            + pl.concat_str([not_computed, not_declared], separator="; ", ignore_nulls=True)
        ),
    )


def likely_causes(mismatched: pl.LazyFrame, schedule: Schedule) -> pl.DataFrame:
    """ROW and `likely_cause` for the lines (with a ROW id) whose declared duty a wrong
    reading or a difference of declared and computed headings explains (a refused claim
    first, then the first reading in READINGS order, then layer order, then any other
    heading difference). `mismatched` is collected here: the lines are held once (those of
    refused claims, which need no re-pricing, collected again without them, not copied)."""
    lines = mismatched.collect()
    headings = _heading_differences(lines, schedule)
    # a refused claim comes before every wrong reading: its lines need no re-pricing
    refused = headings.filter(pl.col("reading_order") < 0).get_column(ROW)
    if refused.len():
        del lines
        lines = mismatched.filter(~pl.col(ROW).is_in(refused.implode())).collect()
    readings = _readings(lines, schedule)
    found = pl.concat([readings, headings], how="vertical_relaxed")
    return found.group_by(ROW).agg(pl.col("likely_cause").sort_by("reading_order").first())


def build_fct_reconciliation(fct_duty_lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """One row per line with `declared_duty_usd`: declared vs computed, status, likely cause.

    `fct_duty_lines` needs the fct_duty_lines columns (declared_duty_usd, importer_id, quantity
    and the engine inputs included)."""
    # the mart's columns of the lines that declared duty, ROW their position
    columns = [c for c in FCT_RECONCILIATION_COLUMNS if c in fct_duty_lines.columns]
    checked = with_status(fct_duty_lines.select(columns)).with_row_index(ROW)
    # the mismatched lines with only the columns the causes read, ROW counted among the
    # lines that declared duty (before the filter), as in `checked`
    engine_columns = [c for c in ENGINE_INPUT if c in fct_duty_lines.columns]
    position = (pl.col("declared_duty_usd").is_not_null().cum_sum() - 1).cast(checked.schema[ROW])
    reads = [*dict.fromkeys([*engine_columns, "declared_duty_usd", "total_duty_usd", "ch99_headings"])]
    mismatched = (
        with_status(fct_duty_lines.lazy().select(position.alias(ROW), *reads))
        .filter(pl.col("status") != "match")
        .drop("status", "difference_usd")
    )
    causes = likely_causes(mismatched, schedule)
    # the left join keeps the order of fct_duty_lines (by line): sorted_by_line sorts only if not
    return (
        checked.join(causes, on=ROW, how="left", maintain_order="left")
        .select(FCT_RECONCILIATION_COLUMNS)
        .with_columns(pl.col(MONEY_COLUMNS).cast(MONEY))
        .pipe(sorted_by_line)
    )
