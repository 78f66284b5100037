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

`compute_line_duty` (the line marts) runs the same steps on the columns it needs: whatever
depends on the key alone (rates, flags) is worked out once per distinct key and placed beside
the lines in one pass, and the per-line arithmetic runs lazily, so that the MFN amount and
each `rate × value` are computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import polars as pl

from transforms.schedule import ALL_ORIGINS, ALL_SCOPES, Schedule, in_force_on
from transforms.vocabulary import MONEY, RATE

KEY = ["hts_code", "country_of_origin", "entry_date"]
COMPONENTS = ["section_232", "ieepa", "other"]
EFFECTIVE_RATE = pl.Decimal(18, 6)
AD_VALOREM_CODES = ("0", "7")
SPECIFIC_CODES = ("1", "2", "4", "5")
OTHER_RATE_CODES = ("3", "6")

MFN_FIELDS = ["mfn_rate_text", "mfn_rate_type_code", "mfn_ad_val_rate", "mfn_specific_rate"]
LAYER_FIELDS = ["measure_id", "component", "shape", "rate", "heading", "heading_at_or_above_cap", "confidence"]

_ZERO = pl.lit(Decimal(0), dtype=RATE)
T = TypeVar("T")


def to_cents(expr: pl.Expr) -> pl.Expr:
    """Round an exact amount once to the cent, half away from zero (the customs convention)."""
    return expr.round(2, mode="half_away_from_zero").cast(MONEY)


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
    for layer in layer_names:
        part = resolved.filter(pl.col("layer") == layer).select(
            *KEY, *[pl.col(f).alias(f"{layer}__{f}") for f in LAYER_FIELDS]
        )
        wide = wide.join(part, on=KEY, how="left")
    return wide


def _mfn_rates(schedule: Schedule) -> pl.DataFrame:
    return schedule.mfn.select(
        "hts8",
        mfn_rate_text=pl.col("mfn_text_rate"),
        mfn_rate_type_code=pl.col("mfn_rate_type_code"),
        mfn_ad_val_rate=pl.col("mfn_ad_val_rate").cast(RATE),
        mfn_specific_rate=pl.col("mfn_specific_rate").cast(RATE),
    )


def _key_terms(keys: pl.DataFrame, schedule: Schedule, layer_names: list[str]) -> pl.DataFrame:
    """One row per distinct key: the MFN rates of its HTS8 (MFN_FIELDS), per layer the
    applied measure's fields (`<layer>__<field>`, LAYER_FIELDS), and what the arithmetic
    reads of them, worked out once per key: `mfn_ad_valorem_rate` (0 without one),
    `mfn_specific_term_rate` (the specific rate where the rate type has one, else 0) and per
    layer `<layer>__absent` (no measure applies) and `<layer>__additive`."""
    keys = keys.select(KEY).unique()
    return (
        _layer_columns(resolve_measures(keys, schedule), keys, layer_names)
        .with_columns(hts8=pl.col("hts_code").str.slice(0, 8))
        .join(_mfn_rates(schedule), on="hts8", how="left")
        .with_columns(
            mfn_ad_valorem_rate=pl.col("mfn_ad_val_rate").fill_null(_ZERO),
            mfn_specific_term_rate=pl.when(pl.col("mfn_rate_type_code").is_in(SPECIFIC_CODES))
            .then(pl.col("mfn_specific_rate"))
            .otherwise(_ZERO),
            **{f"{layer}__absent": pl.col(f"{layer}__measure_id").is_null() for layer in layer_names},
            **{f"{layer}__additive": pl.col(f"{layer}__shape") == "additive" for layer in layer_names},
        )
    )


def _exact_exprs(layer_names: list[str], *, specific: bool = True) -> list[pl.Expr]:
    """`mfn_exact` and per layer `<layer>__extra` (exact Decimal(38,10)) and
    `<layer>__applied_heading`, over lines joined to their key terms. `specific=False` leaves
    out the specific-rate MFN term (it is 0 when no line has a specific rate type).

    `mfn_exact` and `rate × value` recur in every layer's expressions: evaluate these in a
    lazy frame, whose common-subexpression elimination computes each once (an eager
    `with_columns` recomputes them in every expression that names them)."""
    value = pl.col("customs_value_usd").cast(RATE)
    mfn = pl.col("mfn_ad_valorem_rate") * value
    if specific:
        mfn = mfn + pl.col("mfn_specific_term_rate") * pl.col("quantity").cast(RATE).fill_null(_ZERO)
    exprs = [mfn.alias("mfn_exact")]
    for layer in layer_names:
        absent, additive = pl.col(f"{layer}__absent"), pl.col(f"{layer}__additive")
        cap_total = pl.col(f"{layer}__rate").cast(RATE) * value
        extra = (
            pl.when(absent)
            .then(_ZERO)
            .when(additive)
            .then(cap_total)
            .otherwise(pl.max_horizontal(cap_total - mfn, _ZERO))
        )
        heading = (
            pl.when(absent)
            .then(None)
            .when(additive | (cap_total > mfn))
            .then(pl.col(f"{layer}__heading"))
            .otherwise(pl.col(f"{layer}__heading_at_or_above_cap"))
        )
        exprs += [extra.alias(f"{layer}__extra"), heading.alias(f"{layer}__applied_heading")]
    return exprs


_KEY_HASH = "__key_hash"
_TERM_ROW = "__term_row"


def _key_hash() -> pl.Expr:
    return pl.struct(KEY).hash().alias(_KEY_HASH)


def _key_hashes(lines: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Each line's key hash (64 bits) and the distinct keys: one line's key per distinct hash.
    Hashing the key once and finding distinct hashes is several times cheaper than finding
    distinct (hts_code, country_of_origin, entry_date) rows; `_with_key_terms` checks that
    no two keys share a hash."""
    hashes = lines.select(_key_hash()).to_series()
    keys = lines.select(KEY).with_columns(hashes).unique(subset=_KEY_HASH, keep="any")
    return hashes, keys.select(KEY)


def _with_key_terms(
    lines: pl.DataFrame, terms_of: Callable[[pl.DataFrame], tuple[pl.DataFrame, T]]
) -> tuple[pl.DataFrame, T]:
    """`lines` plus the terms of each line's key, in line order: `terms_of(keys)` gives one
    row per key of `keys` (distinct KEY rows), with the KEY columns, and what it found out
    about them (returned beside the lines); a null key part matches a null.

    Lines find their key's terms through the key hash, then every line's key is compared with
    the key of the terms it found (a key sharing its hash with another, which `_key_hashes`
    would have left out, fails this); if one differs, the terms of every distinct key are
    joined on the key columns instead."""
    hashes, keys = _key_hashes(lines)
    terms, found = terms_of(keys)
    # each line's row of `terms` (through the hashes alone), then the terms gathered in line
    # order and placed beside the lines: their other columns are never copied
    term_rows = (
        hashes.to_frame()
        .join(
            terms.select(_key_hash()).with_row_index(_TERM_ROW),
            on=_KEY_HASH,
            how="left",
            maintain_order="left",
        )
        .get_column(_TERM_ROW)
    )
    if term_rows.len() == lines.height:
        gathered = terms[term_rows]
        own_key = pl.all_horizontal(pl.col(c).eq_missing(gathered.get_column(c)) for c in KEY).all()
        if lines.select(own_key).item():
            return lines.hstack(gathered.drop(KEY)), found
    terms, found = terms_of(lines.select(KEY).unique())
    return lines.join(terms, on=KEY, how="left", maintain_order="left", nulls_equal=True), found


def compute_exact_components(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Lines plus exact (unrounded) amounts: `mfn_exact` and per layer `<layer>__extra`,
    `<layer>__applied_heading`, and the key's fields: `hts8`, MFN_FIELDS and per layer
    `<layer>__<field>` for LAYER_FIELDS.

    `lines` needs hts_code, country_of_origin, entry_date, customs_value_usd, quantity.
    """
    layer_names = layers(schedule)
    exact, _ = _with_key_terms(lines, lambda keys: (_key_terms(keys, schedule, layer_names), None))
    exact = (
        exact.lazy()
        .with_columns(_exact_exprs(layer_names))
        .collect()
    )
    wide = [f"{layer}__{field}" for layer in layer_names for field in LAYER_FIELDS]
    amounts = [f"{layer}__{part}" for layer in layer_names for part in ("extra", "applied_heading")]
    return exact.select(*lines.columns, "hts8", *MFN_FIELDS, "mfn_exact", *wide, *amounts)


def _rounded(exact: pl.LazyFrame, layer_names: list[str], components: Mapping[str, str] | None = None) -> pl.LazyFrame:
    """Each exact amount rounded once (mfn_duty_usd, <layer>__duty_usd), the component sums
    and total_duty_usd, all Decimal(18,2), over the exact amounts of `layer_names`.

    `components`: the component of every measure of a layer, for the layers where all have
    the same (a line without a measure of the layer has its duty 0 anyway); the others' is
    read per line from `<layer>__component`."""
    components = components or {}
    zero_money = pl.lit(Decimal(0), dtype=MONEY)

    def share(layer: str, component: str) -> pl.Expr | None:
        if layer in components:
            return pl.col(f"{layer}__duty_usd") if components[layer] == component else None
        return (
            pl.when(pl.col(f"{layer}__component") == component)
            .then(pl.col(f"{layer}__duty_usd"))
            .otherwise(zero_money)
        )

    # explicit `+` rather than sum_horizontal: polars 2.1 drops a narrowing Decimal cast
    # applied to sum_horizontal, leaving Decimal(38, 2) where the contract says (18, 2)
    component_sums = {
        f"{component}_duty_usd": _money_sum(
            [part for layer in layer_names if (part := share(layer, component)) is not None]
        )
        for component in COMPONENTS
    }
    total = _money_sum([pl.col("mfn_duty_usd"), *[pl.col(f"{component}_duty_usd") for component in COMPONENTS]])
    return (
        exact.with_columns(
            mfn_duty_usd=to_cents(pl.col("mfn_exact")),
            **{f"{layer}__duty_usd": to_cents(pl.col(f"{layer}__extra")) for layer in layer_names},
        )
        .with_columns(**component_sums)
        .with_columns(total_duty_usd=total)
    )


def _money_sum(amounts: list[pl.Expr]) -> pl.Expr:
    """Exact sum of money expressions, as DECIMAL(18,2)."""
    total = pl.lit(Decimal(0), dtype=MONEY)
    for amount in amounts:
        total = total + amount
    return total.cast(MONEY)


def _ch99_headings(layer_names: list[str]) -> pl.Expr:
    return pl.concat_str(
        [pl.col(f"{layer}__applied_heading") for layer in layer_names] or [pl.lit(None, pl.Utf8)],
        separator=", ",
        ignore_nulls=True,
    ).fill_null("")


def _line_effective_rate() -> pl.Expr:
    return effective_rate(pl.col("total_duty_usd"), pl.col("customs_value_usd"))


def round_components(exact: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Round each amount once; components, total and effective rate from the rounded parts.

    Adds mfn_duty_usd, <layer>__duty_usd, section_232/ieepa/other_duty_usd, total_duty_usd,
    effective_duty_rate, ch99_headings, flags.
    """
    layer_names = layers(schedule)
    return (
        _rounded(exact.lazy(), layer_names)
        .with_columns(
            effective_duty_rate=_line_effective_rate(),
            ch99_headings=_ch99_headings(layer_names),
            flags=_flags(exact.columns, layer_names),
        )
        .collect()
    )


def _unconfirmed_flags(layer_names: list[str]) -> list[pl.Expr]:
    return [
        pl.when(pl.col(f"{layer}__confidence") == "unconfirmed").then(
            pl.lit("unconfirmed:") + pl.col(f"{layer}__measure_id")
        )
        for layer in layer_names
    ]


def _other_rate_flag() -> pl.Expr:
    return pl.when(pl.col("mfn_rate_type_code").is_in(OTHER_RATE_CODES)).then(
        pl.lit("mfn other-rate component not modelled")
    )


def _flags(columns: list[str], layer_names: list[str]) -> pl.Expr:
    parts = [*_unconfirmed_flags(layer_names), _other_rate_flag()]
    if "metal_derivative" in columns:
        parts.append(pl.col("metal_derivative"))
    return pl.concat_str(parts, separator=", ", ignore_nulls=True).fill_null("")


def _derivative_from(hts_codes: pl.DataFrame, schedule: Schedule) -> pl.DataFrame | None:
    """Per HTS code on the Section 232 metal derivatives list, the first day it is on it
    (`derivative_from`); None when the schedule lists no derivatives."""
    derivatives = getattr(schedule, "metal_derivatives", None)
    if derivatives is None or derivatives.height == 0:
        return None
    return (
        _hts_prefix_matches(hts_codes.select("hts_code").unique(), derivatives.select("hts_prefix", "effective_date"))
        .group_by("hts_code")
        # a row without a date is on the list from its first version: in force for flagging
        .agg(derivative_from=pl.col("effective_date").fill_null(pl.date(1, 1, 1)).min())
    )


def _is_derivative(layer_names: list[str]) -> pl.Expr:
    """A metal derivative in force on the entry date and not under an auto 232 measure (US
    note 33(a)), over rows with `derivative_from` and the layers' `<layer>__component`."""
    under_232 = pl.any_horizontal(
        [pl.col(f"{layer}__component") == "section_232" for layer in layer_names] or [pl.lit(False)]
    ).fill_null(False)
    return (
        pl.col("derivative_from").is_not_null()
        & (pl.col("entry_date") >= pl.col("derivative_from"))
        & ~under_232
    )


def _metal_derivative(is_derivative: pl.Expr, columns: list[str]) -> pl.Expr:
    """The flag of a line whose HTS is a Section 232 metal derivative: the derivative duty on
    metal content is not computed, and without declared content it cannot be."""
    content_declared = pl.lit(False)
    for column in ("steel_content_value_usd", "aluminum_content_value_usd"):
        if column in columns:
            content_declared = content_declared | pl.col(column).is_not_null()
    return (
        pl.when(is_derivative & ~content_declared)
        .then(pl.lit("metal content not declared"))
        .when(is_derivative)
        .then(pl.lit("metal derivative duty not computed"))
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


@dataclass(frozen=True)
class _LinePricing:
    """What the keys of a set of lines need: the layers some key has a measure of (`active`,
    in layer order), whether some key has a specific MFN rate, and per active layer whose
    measures all have one component, that component."""

    active: list[str]
    specific: bool
    components: dict[str, str]


def _line_terms(keys: pl.DataFrame, schedule: Schedule, layer_names: list[str]) -> tuple[pl.DataFrame, _LinePricing]:
    """Key terms for pricing whole lines, with only the columns the line arithmetic reads:
    the key's flags that do not depend on the line (`key_flags`, null when none),
    `is_derivative` (if the schedule lists metal derivatives), the MFN rates and the active
    layers' fields (see _LinePricing)."""
    terms = _key_terms(keys, schedule, layer_names)
    derivative_from = _derivative_from(terms, schedule)
    extras = {}
    if derivative_from is not None:
        terms = terms.join(derivative_from, on="hts_code", how="left")
        extras["is_derivative"] = _is_derivative(layer_names)
    applied = {layer: terms.filter(~pl.col(f"{layer}__absent")) for layer in layer_names}
    active = [layer for layer in layer_names if applied[layer].height > 0]
    distinct_components = {layer: applied[layer].get_column(f"{layer}__component").unique() for layer in active}
    pricing = _LinePricing(
        active=active,
        specific=bool(terms.get_column("mfn_rate_type_code").is_in(SPECIFIC_CODES).any()),
        components={
            layer: found.item() for layer, found in distinct_components.items() if found.len() == 1 and found.item() is not None
        },
    )
    layer_fields = ["absent", "additive", "rate", "heading", "heading_at_or_above_cap"]
    key_flags = pl.concat_str([*_unconfirmed_flags(layer_names), _other_rate_flag()], separator=", ", ignore_nulls=True)
    return (
        terms.select(
            *KEY,
            "mfn_rate_text",
            "mfn_ad_valorem_rate",
            *(["mfn_specific_term_rate"] if pricing.specific else []),
            *[f"{layer}__{field}" for layer in active for field in layer_fields],
            *[f"{layer}__component" for layer in active if layer not in pricing.components],
            key_flags=pl.when(key_flags != "").then(key_flags),
            **extras,
        ),
        pricing,
    )


def compute_line_duty(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """The input lines (same rows, same order) plus LINE_DUTY_COLUMNS (and nothing else).

    round_components(compute_exact_components(...)) plus the metal derivative flag, on the
    columns it needs: the schedule is resolved per distinct key (hts_code,
    country_of_origin, entry_date), what depends on the key alone (flags included) is worked
    out per key, and the key terms are placed beside the lines once, in their order; layers no
    line has a measure of are left out (they add 0 and no heading). The results are placed
    beside the untouched input."""
    layer_names = layers(schedule)
    engine = lines.select(c for c in ENGINE_COLUMNS if c in lines.columns)
    priced, pricing = _with_key_terms(engine, lambda keys: _line_terms(keys, schedule, layer_names))
    flags = [pl.col("key_flags")]
    if "is_derivative" in priced.columns:
        flags.append(_metal_derivative(pl.col("is_derivative"), engine.columns))
    exact = priced.lazy().with_columns(_exact_exprs(pricing.active, specific=pricing.specific))
    duty = (
        _rounded(exact, pricing.active, pricing.components)
        .select(
            "mfn_rate_text",
            "mfn_duty_usd",
            *[f"{component}_duty_usd" for component in COMPONENTS],
            "total_duty_usd",
            effective_duty_rate=_line_effective_rate(),
            ch99_headings=_ch99_headings(pricing.active),
            flags=pl.concat_str(flags, separator=", ", ignore_nulls=True).fill_null(""),
        )
        .collect()
        # the streaming engine hands back one chunk per morsel; beside single-chunk input
        # columns that would make every later eager step realign (copy) the whole frame
        .rechunk()
    )
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
