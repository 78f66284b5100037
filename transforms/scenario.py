"""What-if scenarios: apply an overlay (add, end or change chapter 99 measures from a date)
to a schedule, giving a new schedule. Pure: frames in, Schedule out; reading overlay files
lives in `flows/inputs/scenarios.py`, their contract in `schemas/scenario_overlay.py`.

Overlay rows (one per operation; columns in OVERLAY_COLUMNS):

- `end` X from D: X's window is cut at D (valid_to = D). If D is on or before X's start the
  measure is removed. `measure_id` may be a glob (`*`, `ieepa_*`): it ends every matching
  measure still in force on or after D.
- `change` X from D, setting some fields: X keeps its fields before D (valid_to = D) and a
  changed copy, `X_from_YYYYMMDD`, applies from D to the copy's valid_to (X's own unless the
  row sets `valid_to`; setting it empty makes the copy open-ended, which is how a measure is
  extended). If D is on or before X's start, X is changed in place (same id).
- `add` X from D: a new measure with valid_from = D and the row's fields.

Exclusions follow the split: a measure excluded by X is excluded by X's copy too, and a
removed measure disappears from every `excluded_by`. Fields a row sets are listed in its
`fields_set` (space-separated); a listed field whose value is null is cleared.
"""

from __future__ import annotations

import polars as pl

from transforms.schedule import MEASURE_COLUMNS, Schedule
from transforms.vocabulary import RATE

ENACTED = "as_enacted"
OPERATIONS = ("add", "end", "change")
# Measure fields an overlay row may set (valid_from comes from effective_date; ids never change).
SETTABLE_FIELDS = {
    name: dtype for name, dtype in MEASURE_COLUMNS.items() if name not in ("measure_id", "valid_from")
}
# Fields an `add` row must set; the others default as below.
REQUIRED_FOR_ADD = (
    "program", "component", "layer", "scope_id", "origin", "shape", "rate", "heading",
    "confidence", "legal_source", "description",
)
ADD_DEFAULTS = {"excluded_by": "", "priority": 0, "confidence_note": ""}
OVERLAY_COLUMNS = {
    "row": pl.Int64,
    "operation": pl.Utf8,
    "measure_id": pl.Utf8,
    "effective_date": pl.Date,
    "fields_set": pl.Utf8,
    "note": pl.Utf8,
    **SETTABLE_FIELDS,
}


class ScenarioError(ValueError):
    """An overlay cannot be applied to the schedule; the message names the overlay row."""


def _problems(frame: pl.DataFrame, message: pl.Expr) -> list[str]:
    return frame.select(message.alias("m")).get_column("m").to_list()


def _raise_if(frame: pl.DataFrame, message: pl.Expr, scenario: str) -> None:
    problems = _problems(frame, message)
    if problems:
        raise ScenarioError(f"scenario {scenario!r}: " + "; ".join(problems))


def _row_label() -> pl.Expr:
    return (
        pl.lit("overlay row ") + pl.col("row").cast(pl.Utf8)
        + pl.lit(" (") + pl.col("operation") + pl.lit(" ") + pl.col("measure_id")
        + pl.lit(" from ") + pl.col("effective_date").cast(pl.Utf8) + pl.lit(")")
    )


def _glob_regex(pattern: pl.Expr) -> pl.Expr:
    """A measure_id glob (`*` = any run of characters; ids hold only [a-z0-9_]) as an
    anchored regex."""
    return pl.lit("^") + pattern.str.replace_all("*", ".*", literal=True) + pl.lit("$")


def _is_set(field: str) -> pl.Expr:
    return pl.col("fields_set").fill_null("").str.split(" ").list.contains(field)


def overlay_targets(overlay: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """One row per (end/change overlay row × measure it applies to): the measure's columns
    plus `row`, `operation`, `effective_date`, `fields_set` and the row's values suffixed
    `__new`. Globs match only measures still in force on or after the date."""
    ops = overlay.filter(pl.col("operation") != "add").select(
        "row", "operation", "effective_date", "fields_set",
        pattern=pl.col("measure_id"),
        is_glob=pl.col("measure_id").str.contains("*", literal=True),
        **{f"{field}__new": pl.col(field) for field in SETTABLE_FIELDS},
    )
    still_in_force = pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("effective_date"))
    return (
        ops.join(measures, how="cross")
        .filter(pl.col("measure_id").str.contains(_glob_regex(pl.col("pattern"))))
        .filter(~pl.col("is_glob") | still_in_force)
    )


def _check_targets(overlay: pl.DataFrame, targets: pl.DataFrame, measures: pl.DataFrame,
                   scenario: str) -> None:
    ops = overlay.filter(pl.col("operation") != "add")
    matched = targets.select("row").unique()
    _raise_if(
        ops.join(matched, on="row", how="anti").sort("row"),
        _row_label() + pl.when(pl.col("measure_id").str.contains("*", literal=True))
        .then(pl.lit(": the pattern matches no measure in force on or after that date"))
        .otherwise(pl.lit(": no such measure in the schedule")),
        scenario,
    )
    known = measures.select("measure_id")
    _raise_if(
        overlay.filter(pl.col("operation") == "add").join(known, on="measure_id", how="semi").sort("row"),
        _row_label() + pl.lit(": the schedule already has this measure (use change)"),
        scenario,
    )
    twice = targets.group_by("measure_id").agg(rows=pl.col("row").sort()).filter(pl.col("rows").list.len() > 1)
    _raise_if(
        twice.sort("measure_id"),
        pl.lit("measure ") + pl.col("measure_id") + pl.lit(" is targeted by more than one overlay row (rows ")
        + pl.col("rows").cast(pl.List(pl.Utf8)).list.join(", ") + pl.lit("): one operation per measure"),
        scenario,
    )
    already_ended = (pl.col("operation") == "end") & ~pl.col("is_glob") & pl.col("valid_to").is_not_null() & (
        pl.col("valid_to") <= pl.col("effective_date")
    )
    _raise_if(
        targets.filter(already_ended).sort("row"),
        _row_label() + pl.lit(": the measure already ends on ") + pl.col("valid_to").cast(pl.Utf8),
        scenario,
    )


def _copy_window(targets: pl.DataFrame) -> pl.DataFrame:
    """For change targets: the copy's window [copy_from, copy_to) and whether X is split."""
    return targets.with_columns(
        copy_from=pl.max_horizontal("valid_from", "effective_date"),
        copy_to=pl.when(_is_set("valid_to")).then(pl.col("valid_to__new")).otherwise(pl.col("valid_to")),
        split=pl.col("effective_date") > pl.col("valid_from"),
    )


def _changed_copies(changes: pl.DataFrame, measures: pl.DataFrame, scenario: str) -> pl.DataFrame:
    _raise_if(
        changes.filter(pl.col("copy_to").is_not_null() & (pl.col("copy_to") <= pl.col("copy_from"))).sort("row"),
        _row_label() + pl.lit(": the changed measure would be in force on no day (it ends ")
        + pl.col("copy_to").cast(pl.Utf8)
        + pl.lit("); set valid_to, or leave it empty for open-ended, to extend a measure"),
        scenario,
    )
    date_tag = pl.col("effective_date").dt.strftime("%Y%m%d")
    return changes.select(
        measure_id=pl.when(pl.col("split"))
        .then(pl.col("measure_id") + pl.lit("_from_") + date_tag)
        .otherwise(pl.col("measure_id")),
        original_id=pl.col("measure_id"),
        valid_from=pl.col("copy_from"),
        valid_to=pl.col("copy_to"),
        **{
            field: pl.when(_is_set(field)).then(pl.col(f"{field}__new")).otherwise(pl.col(field))
            for field in SETTABLE_FIELDS
            if field != "valid_to"
        },
    ).select(*measures.columns, "original_id")


def _added(overlay: pl.DataFrame, measures: pl.DataFrame, scenario: str) -> pl.DataFrame:
    adds = overlay.filter(pl.col("operation") == "add")
    missing = [
        pl.when(~_is_set(field) | pl.col(field).is_null()).then(pl.lit(field)) for field in REQUIRED_FOR_ADD
    ]
    _raise_if(
        adds.with_columns(missing=pl.concat_str(missing, separator=", ", ignore_nulls=True))
        .filter(pl.col("missing").str.len_chars() > 0)
        .sort("row"),
        _row_label() + pl.lit(": an added measure needs ") + pl.col("missing"),
        scenario,
    )
    return adds.with_columns(
        valid_from=pl.col("effective_date"),
        **{field: pl.col(field).fill_null(default) for field, default in ADD_DEFAULTS.items()},
    ).select(measures.columns)


def _rewrite_exclusions(measures: pl.DataFrame, replacements: pl.DataFrame) -> pl.DataFrame:
    """`replacements` (original_id, replacement_id; replacement null = removed): every
    `excluded_by` token naming an original is replaced by its replacement ids, in order."""
    tokens = (
        measures.select("measure_id", token=pl.col("excluded_by").fill_null("").str.split(" "))
        .explode("token")
        .with_columns(position=pl.int_range(pl.len()).over("measure_id"))
        .filter(pl.col("token") != "")
    )
    mapped = (
        tokens.join(replacements, left_on="token", right_on="original_id", how="left")
        .with_columns(
            token=pl.when(pl.col("original_known")).then(pl.col("replacement_id")).otherwise(pl.col("token")),
            sub=pl.col("sub").fill_null(0),
        )
        .filter(pl.col("token").is_not_null())
        .sort("measure_id", "position", "sub")
        .group_by("measure_id", maintain_order=True)
        .agg(rewritten=pl.col("token").unique(maintain_order=True).str.join(" "))
    )
    return (
        measures.join(mapped, on="measure_id", how="left")
        .with_columns(excluded_by=pl.col("rewritten").fill_null(""))
        .select(measures.columns)
    )


def apply_overlay(schedule: Schedule, overlay: pl.DataFrame, name: str) -> Schedule:
    """The schedule with the overlay's operations applied, named `name`.

    `overlay` has OVERLAY_COLUMNS (validated by schemas/scenario_overlay.py). Raises
    ScenarioError naming the overlay row when an operation cannot apply: unknown measure,
    adding an existing one, two rows on one measure, ending an already ended measure, a
    change that leaves no day in force, or an add missing a required field.
    """
    if name == ENACTED:
        raise ScenarioError(f"scenario name {ENACTED!r} is reserved for the schedule as enacted")
    measures = schedule.measures.with_columns(pl.col("excluded_by").fill_null(""))
    overlay = overlay.cast({column: dtype for column, dtype in OVERLAY_COLUMNS.items() if column in overlay.columns})
    targets = overlay_targets(overlay, measures)
    _check_targets(overlay, targets, measures, name)

    ends = targets.filter(pl.col("operation") == "end")
    changes = _copy_window(targets.filter(pl.col("operation") == "change"))
    cut = pl.concat([ends.select("measure_id", "effective_date"), changes.select("measure_id", "effective_date")])
    truncated = (
        measures.join(cut, on="measure_id", how="left")
        .with_columns(
            valid_to=pl.when(pl.col("effective_date").is_null())
            .then(pl.col("valid_to"))
            .otherwise(pl.min_horizontal("valid_to", "effective_date")),
            removed=pl.col("effective_date").is_not_null() & (pl.col("effective_date") <= pl.col("valid_from")),
        )
    )
    copies = _changed_copies(changes, measures, name)
    added = _added(overlay, measures, name)

    # what each original id stands for afterwards, for the excluded_by lists
    kept = truncated.filter(~pl.col("removed")).select(
        original_id=pl.col("measure_id"), replacement_id=pl.col("measure_id"), sub=pl.lit(0)
    )
    copied = copies.select("original_id", replacement_id=pl.col("measure_id"), sub=pl.lit(1))
    removed = (
        truncated.filter(pl.col("removed"))
        .join(copies.select(measure_id=pl.col("original_id")), on="measure_id", how="anti")
        .select(original_id=pl.col("measure_id"), replacement_id=pl.lit(None, pl.Utf8), sub=pl.lit(0))
    )
    replacements = pl.concat([kept, copied, removed]).with_columns(original_known=pl.lit(True))

    in_place = copies.filter(pl.col("measure_id") == pl.col("original_id")).select("measure_id")
    result = pl.concat(
        [
            truncated.filter(~pl.col("removed"))
            .join(in_place, on="measure_id", how="anti")
            .select(measures.columns),
            copies.select(measures.columns),
            added,
        ],
        how="vertical",
    ).pipe(_rewrite_exclusions, replacements)
    order = measures.select("measure_id", order=pl.int_range(pl.len()))
    result = (
        result.with_columns(base_id=pl.col("measure_id").str.replace(r"_from_\d{8}$", ""))
        .join(order, left_on="base_id", right_on="measure_id", how="left")
        .sort(pl.col("order").fill_null(order.height), "valid_from", "measure_id")
        .select(measures.columns)
        .with_columns(pl.col("rate").cast(RATE))
    )
    return schedule.with_measures(result, name=name)
