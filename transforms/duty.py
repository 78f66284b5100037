"""The duty engine: which measures apply to a line and what each costs.

One implementation serves `tariffcost quote`, the monthly flow and the Census path.

Steps (each a pure function over whole frames):
1. `resolve_measures`: on the distinct (hts_code, country_of_origin, entry_date) keys, pick
   per layer the measure in force (longest HTS prefix, then specific origin, then priority)
   and drop measures excluded by another applied one.
2. `compute_exact_components`: per line, MFN duty (ad valorem + specific × quantity) and each
   layer's extra duty as exact Decimal(38,10) amounts, with the heading that applies.
3. `round_components`: each amount rounded once to the cent (half away from zero); components
   and total are sums of rounded amounts.
"""

from __future__ import annotations

import functools
import operator
from decimal import Decimal

import polars as pl

from transforms.schedule import ALL_ORIGINS, ALL_SCOPES, MONEY, RATE, Schedule, in_force_on

KEY = ["hts_code", "country_of_origin", "entry_date"]
COMPONENTS = ["section_232", "ieepa", "other"]
EFFECTIVE_RATE = pl.Decimal(18, 6)
AD_VALOREM_CODES = ("0", "7")
SPECIFIC_CODES = ("1", "2", "4", "5")
OTHER_RATE_CODES = ("3", "6")

_ZERO = pl.lit(Decimal(0), dtype=RATE)


def to_cents(expr: pl.Expr) -> pl.Expr:
    """Round an exact amount once to the cent, half away from zero (the customs convention)."""
    return expr.round(2, mode="half_away_from_zero").cast(MONEY)


def money_sum(amounts: list[pl.Expr]) -> pl.Expr:
    """a + b + ... as Decimal(18,2). Not `sum_horizontal`: polars 2.1 widens a horizontal sum of
    two or more decimals to Decimal(38,2) and ignores a cast of it back to Decimal(18,2)."""
    return functools.reduce(operator.add, amounts).cast(MONEY)


def effective_rate(amount: pl.Expr, base: pl.Expr) -> pl.Expr:
    """amount ÷ base as a Decimal(18, 6) fraction, rounded half away from zero; null where the
    base is 0 (an effective duty rate is undefined on a zero value)."""
    return (
        pl.when(base > 0)
        .then((amount.cast(RATE) / base.cast(RATE)).round(6, mode="half_away_from_zero"))
        .otherwise(None)
        .cast(EFFECTIVE_RATE)
    )


def layers(schedule: Schedule) -> list[str]:
    """Stacking layers in the order they first appear in the schedule's measures file."""
    return schedule.measures.get_column("layer").unique(maintain_order=True).to_list()


def _hts_prefix_matches(hts_codes: pl.DataFrame, prefixes: pl.DataFrame) -> pl.DataFrame:
    """Every (hts_code, row of `prefixes`) where the row's `hts_prefix` starts the code.

    Expands each distinct code into its prefixes of the lengths present, then joins: no
    per-row Python, and the expansion is over distinct codes only.
    """
    lengths = sorted(prefixes.get_column("hts_prefix").str.len_chars().unique().to_list())
    if not lengths:
        return hts_codes.head(0).join(prefixes.with_columns(prefix_len=pl.lit(0, pl.Int64)), how="cross")
    expanded = pl.concat(
        [
            hts_codes.with_columns(
                hts_prefix=pl.col("hts_code").str.slice(0, length),
                prefix_len=pl.lit(length, dtype=pl.Int64),
            )
            for length in lengths
        ]
    )
    return expanded.join(prefixes, on="hts_prefix", how="inner")


def resolve_measures(keys: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """One row per key × applied measure (at most one per layer), after exclusions."""
    keys = keys.select(KEY).unique()
    codes = keys.select("hts_code").unique()
    scoped = pl.concat(
        [
            _hts_prefix_matches(codes, schedule.scopes.select("scope_id", "hts_prefix")).select(
                "hts_code", "scope_id", "prefix_len"
            ),
            codes.with_columns(
                scope_id=pl.lit(ALL_SCOPES), prefix_len=pl.lit(0, dtype=pl.Int64)
            ),
        ]
    )
    candidates = (
        keys.join(scoped, on="hts_code")
        .join(schedule.measures, on="scope_id")
        .filter(
            in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.col("entry_date"))
            & (
                (pl.col("origin") == pl.col("country_of_origin"))
                | (pl.col("origin") == ALL_ORIGINS)
            )
        )
        .with_columns(origin_specific=(pl.col("origin") != ALL_ORIGINS).cast(pl.Int8))
    )
    winners = (
        candidates.sort(
            [*KEY, "layer", "prefix_len", "origin_specific", "priority", "measure_id"],
            descending=[False, False, False, False, True, True, True, False],
        )
        .group_by([*KEY, "layer"], maintain_order=True)
        .first()
    )
    excluder_ids = winners.select(*KEY, excluder=pl.col("measure_id"))
    excluded = (
        winners.select(*KEY, "measure_id", excluder=pl.col("excluded_by").str.split(" "))
        .explode("excluder")
        .filter(pl.col("excluder") != "")
        .join(excluder_ids, on=[*KEY, "excluder"], how="semi")
        .select(*KEY, "measure_id")
        .unique()
    )
    return winners.join(excluded, on=[*KEY, "measure_id"], how="anti").drop("origin_specific")


def _layer_columns(resolved: pl.DataFrame, keys: pl.DataFrame, layer_names: list[str]) -> pl.DataFrame:
    """Key-level wide frame: per layer, the applied measure's id, component, shape, rate,
    headings and confidence (null where no measure of the layer applies)."""
    wide = keys.select(KEY).unique()
    fields = ["measure_id", "component", "shape", "rate", "heading", "heading_at_or_above_cap", "confidence"]
    for layer in layer_names:
        part = resolved.filter(pl.col("layer") == layer).select(
            *KEY, *[pl.col(f).alias(f"{layer}__{f}") for f in fields]
        )
        wide = wide.join(part, on=KEY, how="left")
    return wide


def _mfn_exact(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    mfn = schedule.mfn.select(
        "hts8",
        mfn_rate_text=pl.col("mfn_text_rate"),
        mfn_rate_type_code=pl.col("mfn_rate_type_code"),
        mfn_ad_val_rate=pl.col("mfn_ad_val_rate").cast(RATE),
        mfn_specific_rate=pl.col("mfn_specific_rate").cast(RATE),
    )
    value = pl.col("customs_value_usd").cast(RATE)
    quantity = pl.col("quantity").cast(RATE).fill_null(_ZERO)
    specific = pl.when(pl.col("mfn_rate_type_code").is_in(SPECIFIC_CODES)).then(
        pl.col("mfn_specific_rate") * quantity
    ).otherwise(_ZERO)
    return (
        lines.with_columns(hts8=pl.col("hts_code").str.slice(0, 8))
        .join(mfn, on="hts8", how="left", maintain_order="left")
        .with_columns(
            mfn_exact=pl.col("mfn_ad_val_rate").fill_null(_ZERO) * value + specific,
        )
    )


def compute_exact_components(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Lines plus exact (unrounded) amounts: `mfn_exact` and per layer `<layer>__extra`,
    `<layer>__applied_heading`, `<layer>__measure_id`, `<layer>__component`, `<layer>__confidence`.

    `lines` needs hts_code, country_of_origin, entry_date, customs_value_usd, quantity.
    """
    layer_names = layers(schedule)
    keys = lines.select(KEY).unique()
    wide = _layer_columns(resolve_measures(keys, schedule), keys, layer_names)
    out = _mfn_exact(lines, schedule).join(wide, on=KEY, how="left", maintain_order="left")
    value = pl.col("customs_value_usd").cast(RATE)
    exprs = []
    for layer in layer_names:
        rate = pl.col(f"{layer}__rate").cast(RATE)
        shape = pl.col(f"{layer}__shape")
        cap_total = rate * value
        below_cap = cap_total > pl.col("mfn_exact")
        extra = (
            pl.when(pl.col(f"{layer}__measure_id").is_null())
            .then(_ZERO)
            .when(shape == "additive")
            .then(rate * value)
            .otherwise(pl.max_horizontal(cap_total - pl.col("mfn_exact"), _ZERO))
        )
        heading = (
            pl.when(pl.col(f"{layer}__measure_id").is_null())
            .then(None)
            .when((shape == "additive") | below_cap)
            .then(pl.col(f"{layer}__heading"))
            .otherwise(pl.col(f"{layer}__heading_at_or_above_cap"))
        )
        exprs += [extra.alias(f"{layer}__extra"), heading.alias(f"{layer}__applied_heading")]
    return out.with_columns(exprs)


def round_components(exact: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Round each amount once; components, total and effective rate from the rounded parts.

    Adds mfn_duty_usd, <layer>__duty_usd, section_232/ieepa/other_duty_usd, total_duty_usd,
    effective_duty_rate, ch99_headings, flags.
    """
    layer_names = layers(schedule)
    rounded = exact.with_columns(
        mfn_duty_usd=to_cents(pl.col("mfn_exact")),
        **{f"{layer}__duty_usd": to_cents(pl.col(f"{layer}__extra")) for layer in layer_names},
    )
    zero_money = pl.lit(Decimal(0), dtype=MONEY)
    # explicit `+` rather than sum_horizontal: polars 2.1 drops a narrowing Decimal cast
    # applied to sum_horizontal, leaving Decimal(38, 2) where the contract says (18, 2)
    component_sums = {
        f"{component}_duty_usd": _money_sum(
            [
                pl.when(pl.col(f"{layer}__component") == component)
                .then(pl.col(f"{layer}__duty_usd"))
                .otherwise(zero_money)
                for layer in layer_names
            ]
        )
        for component in COMPONENTS
    }
    rounded = rounded.with_columns(**component_sums)
    total = _money_sum([pl.col("mfn_duty_usd"), *[pl.col(f"{component}_duty_usd") for component in COMPONENTS]])
    return rounded.with_columns(total_duty_usd=total).with_columns(
        effective_duty_rate=effective_rate(pl.col("total_duty_usd"), pl.col("customs_value_usd")),
        ch99_headings=pl.concat_str(
            [pl.col(f"{layer}__applied_heading") for layer in layer_names] or [pl.lit(None, pl.Utf8)],
            separator=", ",
            ignore_nulls=True,
        ).fill_null(""),
        flags=_flags(exact.columns, layer_names),
    )


def _money_sum(amounts: list[pl.Expr]) -> pl.Expr:
    """Exact sum of money expressions, as DECIMAL(18,2)."""
    total = pl.lit(Decimal(0), dtype=MONEY)
    for amount in amounts:
        total = total + amount
    return total.cast(MONEY)


def _flags(columns: list[str], layer_names: list[str]) -> pl.Expr:
    parts = [
        pl.when(pl.col(f"{layer}__confidence") == "unconfirmed").then(
            pl.lit("unconfirmed:") + pl.col(f"{layer}__measure_id")
        )
        for layer in layer_names
    ]
    parts.append(
        pl.when(pl.col("mfn_rate_type_code").is_in(OTHER_RATE_CODES)).then(
            pl.lit("mfn other-rate component not modelled")
        )
    )
    if "metal_derivative" in columns:
        parts.append(pl.col("metal_derivative"))
    return pl.concat_str(parts, separator=", ", ignore_nulls=True).fill_null("")


def _metal_derivative_flag(lines: pl.DataFrame, schedule: Schedule, layer_names: list[str]) -> pl.DataFrame:
    """Flag lines whose HTS is a Section 232 metal derivative (in force on the entry date)
    and not under an auto 232 measure (US note 33(a)): the derivative duty on metal content is
    not computed, and without declared content it cannot be."""
    derivatives = getattr(schedule, "metal_derivatives", None)
    if derivatives is None or derivatives.height == 0:
        return lines
    codes = lines.select("hts_code").unique()
    matches = (
        _hts_prefix_matches(codes, derivatives.select("hts_prefix", "effective_date"))
        .group_by("hts_code")
        # a row without a date is on the list from its first version: in force for flagging
        .agg(derivative_from=pl.col("effective_date").fill_null(pl.date(1, 1, 1)).min())
    )
    under_232 = pl.any_horizontal(
        [pl.col(f"{layer}__component") == "section_232" for layer in layer_names] or [pl.lit(False)]
    ).fill_null(False)
    content_declared = pl.lit(False)
    for column in ("steel_content_value_usd", "aluminum_content_value_usd"):
        if column in lines.columns:
            content_declared = content_declared | pl.col(column).is_not_null()
    is_derivative = (
        pl.col("derivative_from").is_not_null()
        & (pl.col("entry_date") >= pl.col("derivative_from"))
        & ~under_232
    )
    return (
        lines.join(matches, on="hts_code", how="left", maintain_order="left")
        .with_columns(
            metal_derivative=pl.when(is_derivative & ~content_declared)
            .then(pl.lit("metal content not declared"))
            .when(is_derivative)
            .then(pl.lit("metal derivative duty not computed"))
        )
        .drop("derivative_from")
    )


LINE_DUTY_COLUMNS = [
    "mfn_rate_text",
    "mfn_duty_usd",
    "section_232_duty_usd",
    "ieepa_duty_usd",
    "other_duty_usd",
    "total_duty_usd",
    "effective_duty_rate",
    "ch99_headings",
    "flags",
]


ENGINE_COLUMNS = [*KEY, "customs_value_usd", "quantity", "steel_content_value_usd", "aluminum_content_value_usd"]


def compute_line_duty(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """The input lines (same rows, same order) plus LINE_DUTY_COLUMNS (and nothing else).

    The engine works on the columns it reads (ENGINE_COLUMNS present in `lines`), with every
    join keeping the left order, and the results are placed beside the untouched input: the
    other input columns are never copied through the joins."""
    layer_names = layers(schedule)
    engine = lines.select(c for c in ENGINE_COLUMNS if c in lines.columns)
    exact = compute_exact_components(engine, schedule)
    exact = _metal_derivative_flag(exact, schedule, layer_names)
    duty = round_components(exact, schedule).select(LINE_DUTY_COLUMNS)
    del exact
    return pl.concat([lines, duty], how="horizontal")


def _stated_rate(rate: pl.Expr, shape: pl.Expr) -> pl.Expr:
    """How the legal text states a measure's rate: `+25%` (additive) or `15% total`."""
    percent = (
        (rate.cast(RATE) * pl.lit(Decimal(100), dtype=RATE))
        .cast(pl.Float64)
        .round(4)
        .cast(pl.Utf8)
        .str.replace(r"\.0$", "")
    )
    return pl.when(shape == "additive").then(pl.lit("+") + percent + pl.lit("%")).otherwise(
        percent + pl.lit("% total")
    )


def line_components(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Long form: one row per line × duty component that applies (MFN always), with
    `program`, `heading` (`MFN` for MFN), `measure_id`, `stated_rate`, `shape`, `rate`
    (duty ÷ value, the effective extra rate) and `duty_usd`. Keeps the input columns."""
    layer_names = layers(schedule)
    base = lines.columns
    exact = round_components(
        compute_exact_components(lines.with_row_index("_line_order"), schedule), schedule
    )
    value = pl.col("customs_value_usd")
    mfn = exact.select(
        "_line_order",
        *base,
        layer_order=pl.lit(0, pl.Int32),
        program=pl.lit("mfn"),
        heading=pl.lit("MFN"),
        measure_id=pl.lit(None, pl.Utf8),
        stated_rate=pl.col("mfn_rate_text"),
        shape=pl.lit("mfn"),
        rate=effective_rate(pl.col("mfn_duty_usd"), value),
        duty_usd=pl.col("mfn_duty_usd"),
    )
    programs = schedule.measures.select("measure_id", "program")
    parts = [mfn]
    for order, layer in enumerate(layer_names, start=1):
        part = (
            exact.filter(pl.col(f"{layer}__measure_id").is_not_null())
            .select(
                "_line_order",
                *base,
                layer_order=pl.lit(order, pl.Int32),
                measure_id=pl.col(f"{layer}__measure_id"),
                heading=pl.col(f"{layer}__applied_heading"),
                stated_rate=_stated_rate(pl.col(f"{layer}__rate"), pl.col(f"{layer}__shape")),
                shape=pl.col(f"{layer}__shape"),
                rate=effective_rate(pl.col(f"{layer}__duty_usd"), value),
                duty_usd=pl.col(f"{layer}__duty_usd"),
            )
            .join(programs, on="measure_id", how="left")
        )
        parts.append(part.select(mfn.columns))
    return pl.concat(parts).sort("_line_order", "layer_order").drop("_line_order", "layer_order")
