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

import datetime as dt
import functools
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import polars as pl

from transforms.frames import per_distinct_value, stacked
from transforms.schedule import (
    ALL_ORIGINS,
    ALL_SCOPES,
    CLAIM,
    CONTENT_BASES,
    DEFAULT_BASE,
    Schedule,
    in_force_on,
)
from transforms.vocabulary import MONEY, RATE

KEY = ["hts_code", "country_of_origin", "entry_date"]
# Line facts some rules read besides the key (optional input columns): the date of
# exportation and the transport mode (in-transit rules), the chapter 99 headings the line
# declared (claims). Where a frame has them they are part of the key.
FACTS = ["export_date", "transport_mode", "declared_headings"]
# Several schedules priced in one engine pass: a frame of lines with this column (UInt32) is
# priced, line by line, under the measures whose own column of that name holds the same
# number (`variant_schedule`); the other tables are shared. Part of the key where present.
VARIANT = "_schedule_variant"
CONTENT_COLUMNS = {"steel": "steel_content_value_usd", "aluminum": "aluminum_content_value_usd"}
HEADING_SEPARATOR = ";"
COMPONENTS = ["section_232", "ieepa", "other"]
EFFECTIVE_RATE = pl.Decimal(18, 6)
AD_VALOREM_CODES = ("0", "7")
SPECIFIC_CODES = ("1", "2", "4", "5")
OTHER_RATE_CODES = ("3", "6")

MFN_FIELDS = ["mfn_rate_text", "mfn_rate_type_code", "mfn_ad_val_rate", "mfn_specific_rate"]
LAYER_FIELDS = ["measure_id", "component", "shape", "rate", "heading", "heading_at_or_above_cap", "confidence", "base"]

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


def key_columns(columns: list[str]) -> list[str]:
    """The key of a frame with `columns`: KEY plus the FACTS and the VARIANT it carries."""
    return [*KEY, *[c for c in (*FACTS, VARIANT) if c in columns]]


def variant_schedule(schedule: Schedule, variants: Sequence[pl.DataFrame]) -> Schedule:
    """`schedule` with the measures tables `variants` (each one a change to its measures:
    some measures' fields changed, some left out) as one table, each row numbered with its
    variant (VARIANT): lines with a VARIANT column are priced under their variant's measures.
    The rows keep the order of `schedule`'s layers, so that headings are listed in the order
    each variant alone would list them."""
    layer_order = {layer: i for i, layer in enumerate(layers(schedule))}
    measures = pl.concat(
        [frame.with_columns(pl.lit(i, pl.UInt32).alias(VARIANT)) for i, frame in enumerate(variants)]
    )
    return schedule.with_measures(
        measures.sort(pl.col("layer").replace_strict(layer_order, return_dtype=pl.Int64), maintain_order=True)
    )


def _declares(heading: pl.Expr) -> pl.Expr:
    """The key's `declared_headings` (`;`-separated) holds `heading` (null: no)."""
    declared = pl.lit(HEADING_SEPARATOR) + pl.col("declared_headings") + pl.lit(HEADING_SEPARATOR)
    return declared.str.contains(pl.lit(HEADING_SEPARATOR) + heading + pl.lit(HEADING_SEPARATOR), literal=True).fill_null(False)


def _scoped(codes: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Every (hts_code, scope_id, prefix_len) of the codes' scopes, `*` (length 0) included."""
    return pl.concat(
        [
            _hts_prefix_matches(codes, scopes.select("scope_id", "hts_prefix")).select(
                "hts_code", "scope_id", "prefix_len"
            ),
            codes.with_columns(scope_id=pl.lit(ALL_SCOPES), prefix_len=pl.lit(0, dtype=pl.Int64)),
        ]
    )


def _derivative_products(codes: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Per HTS code and metal on the Section 232 derivatives list: the product's heading
    (`product_heading`) and listing date (`listed_from`, null: on the list from its start),
    from the longest matching prefix."""
    derivatives = schedule.metal_derivatives
    if derivatives.height == 0:
        return pl.DataFrame(schema={"hts_code": pl.Utf8, "metal": pl.Utf8, "product_heading": pl.Utf8, "listed_from": pl.Date})
    return (
        _hts_prefix_matches(codes, derivatives.select("hts_prefix", "ch99_code", "metal", "effective_date"))
        .sort("hts_code", "metal", "prefix_len", descending=[False, False, True])
        .group_by("hts_code", "metal", maintain_order=True)
        .first()
        .select("hts_code", "metal", product_heading="ch99_code", listed_from="effective_date")
    )


def _candidates(keys: pl.DataFrame, schedule: Schedule, key: list[str]) -> pl.DataFrame:
    """Every measure in force for each key: scope, origin and date; a `claim` measure only
    where the key declares its heading or cap heading; a measure on metal content only for
    products on the derivatives list for its metal, from the product's listing date, under
    the product's heading."""
    codes = keys.select("hts_code").unique()
    measures = schedule.measures.with_columns(
        base=pl.col("base").fill_null(DEFAULT_BASE), condition=pl.col("condition").fill_null("")
    )
    # a key with a null part (hts code, origin or entry date) gets no measure
    joined = (
        keys.drop_nulls(KEY)
        .join(_scoped(codes, schedule.scopes), on="hts_code")
        .join(measures, on=["scope_id", VARIANT] if VARIANT in key else "scope_id")
        .filter(
            in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.col("entry_date"))
            & ((pl.col("origin") == pl.col("country_of_origin")) | (pl.col("origin") == ALL_ORIGINS))
        )
    )
    if "declared_headings" in key:
        claimed = _declares(pl.col("heading")) | _declares(pl.col("heading_at_or_above_cap"))
    else:
        claimed = pl.lit(False)
    joined = joined.filter((pl.col("condition") != CLAIM) | claimed)
    on_content = pl.col("base").is_in(list(CONTENT_BASES))
    if joined.filter(on_content).height > 0:
        products = _derivative_products(codes, schedule)
        joined = (
            joined.with_columns(metal=pl.col("base").replace_strict(CONTENT_BASES, default=None))
            .join(products, on=["hts_code", "metal"], how="left")
            .filter(
                ~on_content
                | (pl.col("product_heading").is_not_null()
                   & (pl.col("listed_from").is_null() | (pl.col("listed_from") <= pl.col("entry_date"))))
            )
            .with_columns(heading=pl.when(on_content).then(pl.col("product_heading")).otherwise(pl.col("heading")))
            .drop("metal", "product_heading", "listed_from")
        )
    return joined.with_columns(origin_specific=(pl.col("origin") != ALL_ORIGINS).cast(pl.Int8))


def _winners(candidates: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Per key and layer the measure the selection rule picks (longest HTS prefix, then a
    specific origin, then priority), less those excluded by another applied measure."""
    winners = (
        candidates.sort(
            [*key, "layer", "prefix_len", "origin_specific", "priority", "measure_id"],
            descending=[False] * (len(key) + 1) + [True, True, True, False],
            nulls_last=False,
        )
        .group_by([*key, "layer"], maintain_order=True)
        .first()
    )
    excluder_ids = winners.select(*key, excluder=pl.col("measure_id"))
    excluded = (
        winners.select(*key, "measure_id", excluder=pl.col("excluded_by").str.split(" "))
        .explode("excluder")
        .filter(pl.col("excluder") != "")
        .join(excluder_ids, on=[*key, "excluder"], how="semi", nulls_equal=True)
        .select(*key, "measure_id")
        .unique()
    )
    return winners.join(excluded, on=[*key, "measure_id"], how="anti", nulls_equal=True).drop("origin_specific")


def _exemptions(keys: pl.DataFrame, schedule: Schedule, key: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(met, unknown): per key × exempted measure, the exemptions whose scope, origin and
    entry-date window hold the key and whose condition it meets (`met`), and the in-transit
    ones it would meet but for a missing export date (`unknown`). Columns: key, measure_id,
    exemption_id, heading, confidence."""
    exemptions = schedule.exemptions
    columns = [*key, "measure_id", "exemption_id", "heading", "confidence"]
    if exemptions.height == 0:
        empty = keys.head(0).select(key).with_columns(
            measure_id=pl.lit(None, pl.Utf8), exemption_id=pl.lit(None, pl.Utf8),
            heading=pl.lit(None, pl.Utf8), confidence=pl.lit(None, pl.Utf8),
        )
        return empty, empty
    codes = keys.select("hts_code").unique()
    in_scope = (
        keys.join(_scoped(codes, schedule.scopes).drop("prefix_len"), on="hts_code")
        .join(exemptions, on="scope_id")
        .filter(
            in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.col("entry_date"))
            & ((pl.col("origin") == pl.col("country_of_origin")) | (pl.col("origin") == ALL_ORIGINS))
        )
    )
    condition = pl.col("condition")
    export = pl.col("export_date") if "export_date" in key else pl.lit(None, pl.Date)
    by_vessel = (pl.col("transport_mode") == "vessel").fill_null(False) if "transport_mode" in key else pl.lit(True)
    declared = _declares(pl.col("heading")) if "declared_headings" in key else pl.lit(False)
    met = (
        (condition == "hts")
        | ((condition == CLAIM) & declared)
        | ((condition == "in_transit") & by_vessel & (export < pl.col("exported_before")).fill_null(False))
    )
    unknown = (condition == "in_transit") & by_vessel & export.is_null()

    def exploded(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(measure_id=pl.col("exempts").str.split(" ")).explode("measure_id").select(columns)

    return exploded(in_scope.filter(met)), exploded(in_scope.filter(unknown))


def _resolved(keys: pl.DataFrame, schedule: Schedule) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(applied measures, key notes). Applied: one row per key × applied measure (at most one
    per layer), after exemptions and exclusions. Key notes: one row per key with
    `exemption_headings` (headings of the exemptions that removed a measure the key would
    otherwise pay, `, `-joined, null when none) and `exemption_flags` (unconfirmed exemptions
    applied, in-transit rules that may apply but for the export date, refused claims)."""
    key = key_columns(keys.columns)
    keys = keys.select(key).unique()
    candidates = _candidates(keys, schedule, key)
    met, unknown = _exemptions(keys, schedule, key)
    if met.height == 0 and unknown.height == 0 and "declared_headings" not in key:
        notes = keys.with_columns(exemption_headings=pl.lit(None, pl.Utf8), exemption_flags=pl.lit(None, pl.Utf8))
        return _winners(candidates, key), notes
    untouched = _winners(candidates, key).select(*key, "measure_id")
    applied = _winners(candidates.join(met, on=[*key, "measure_id"], how="anti", nulls_equal=True), key)
    # an exemption counts where it removed a measure the key would otherwise pay
    used = met.join(untouched, on=[*key, "measure_id"], how="semi", nulls_equal=True).unique([*key, "exemption_id"])
    possible = unknown.join(untouched, on=[*key, "measure_id"], how="semi", nulls_equal=True).unique([*key, "exemption_id"])
    notes_parts = [
        used.select(*key, "exemption_id", note=pl.col("heading"), kind=pl.lit(0)),
        used.filter(pl.col("confidence") == "unconfirmed").select(
            *key, "exemption_id", note=pl.lit("unconfirmed:") + pl.col("exemption_id"), kind=pl.lit(1)
        ),
        possible.select(
            *key, "exemption_id",
            note=pl.lit("in-transit rule ")
            + pl.coalesce(pl.col("heading"), pl.col("exemption_id"))
            + pl.lit(" may apply: export_date not declared"),
            kind=pl.lit(1),
        ),
    ]
    if "declared_headings" in key:
        notes_parts.append(_refused_claims(keys, applied, used, schedule, key))
    notes = (
        pl.concat(notes_parts, how="vertical_relaxed")
        .filter(pl.col("note").is_not_null())
        .sort([*key, "kind", "exemption_id", "note"], nulls_last=False)
        .group_by(key, maintain_order=True)
        .agg(
            exemption_headings=pl.col("note").filter(pl.col("kind") == 0).unique(maintain_order=True).str.join(", "),
            exemption_flags=pl.col("note").filter(pl.col("kind") == 1).unique(maintain_order=True).str.join(", "),
        )
        .with_columns(pl.col("exemption_headings", "exemption_flags").replace("", None))
    )
    notes = keys.join(notes, on=key, how="left", nulls_equal=True)
    return applied, notes


def _refused_claims(keys: pl.DataFrame, applied: pl.DataFrame, used: pl.DataFrame, schedule: Schedule, key: list[str]) -> pl.DataFrame:
    """Per key, each declared claimable heading (schedule.claimable_headings) that neither an
    applied measure (heading or cap heading) nor a used exemption carries: key,
    exemption_id (the heading), note, kind 1."""
    claimable = _claimable(schedule, key)
    declared = (
        keys.filter(pl.col("declared_headings").is_not_null())
        .with_columns(claim=pl.col("declared_headings").str.split(HEADING_SEPARATOR))
        .explode("claim")
        .join(claimable, on=claimable.columns, how="semi")
        .select(*key, "claim")
    )
    honoured = pl.concat(
        [
            applied.select(*key, claim="heading"),
            applied.select(*key, claim="heading_at_or_above_cap"),
            used.select(*key, claim="heading"),
        ]
    ).drop_nulls("claim")
    return declared.join(honoured, on=[*key, "claim"], how="anti", nulls_equal=True).select(
        *key,
        exemption_id="claim",
        note=pl.lit("claim ") + pl.col("claim") + pl.lit(" refused: not available for the line's HTS code / origin / entry date (priced without it)"),
        kind=pl.lit(1),
    )


def _claimable(schedule: Schedule, key: list[str]) -> pl.DataFrame:
    """The schedule's claimable headings (`claim`); for keys with a VARIANT, per variant (a
    variant without a claim measure refuses no claim of its heading)."""
    if VARIANT not in key:
        return pl.DataFrame({"claim": schedule.claimable_headings}, schema={"claim": pl.Utf8})
    pairs = [
        (variant, heading)
        for (variant,), measures in schedule.measures.partition_by(VARIANT, as_dict=True).items()
        for heading in schedule.with_measures(measures).claimable_headings
    ]
    return pl.DataFrame(pairs, schema={VARIANT: pl.UInt32, "claim": pl.Utf8}, orient="row")


def resolve_measures(keys: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """One row per key × applied measure (at most one per layer), after exemptions and
    exclusions. The key is KEY plus the FACTS `keys` carries."""
    return _resolved(keys, schedule)[0]


def _layer_columns(resolved: pl.DataFrame, keys: pl.DataFrame, layer_names: list[str]) -> pl.DataFrame:
    """Key-level wide frame: per layer, the applied measure's id, component, shape, rate,
    headings and confidence (null where no measure of the layer applies)."""
    key = key_columns(keys.columns)
    wide = keys.select(key).unique()
    for layer in layer_names:
        part = resolved.filter(pl.col("layer") == layer).select(
            *key, *[pl.col(f).alias(f"{layer}__{f}") for f in LAYER_FIELDS]
        )
        wide = wide.join(part, on=key, how="left", nulls_equal=True)
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
    key = key_columns(keys.columns)
    keys = keys.select(key).unique()
    applied, notes = _resolved(keys, schedule)
    return (
        _layer_columns(applied, keys, layer_names)
        .join(notes, on=key, how="left", nulls_equal=True)
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
        .with_columns(key_flags=_key_flags(layer_names))
    )


def _key_flags(layer_names: list[str]) -> pl.Expr:
    """The flags that depend on the key alone (null when none): unconfirmed measures, an MFN
    "other" rate, and the exemption notes (`exemption_flags`)."""
    flags = pl.concat_str(
        [*_unconfirmed_flags(layer_names), _other_rate_flag(), pl.col("exemption_flags")],
        separator=", ",
        ignore_nulls=True,
    )
    return pl.when(flags != "").then(flags)


def _exact_exprs(
    layer_names: list[str],
    *,
    specific: bool = True,
    metal_layers: Mapping[str, str] | None = None,
    heading_states: bool = False,
    additive_layers: Collection[str] = (),
    value_layers: Collection[str] = (),
) -> list[pl.Expr]:
    """`mfn_exact` and per layer `<layer>__extra` (exact Decimal(38,10)) and
    `<layer>__applied_heading`, over lines joined to their key terms. `specific=False` leaves
    out the specific-rate MFN term (it is 0 when no line has a specific rate type).
    `heading_states=True` gives, instead of the applied heading, which one applies:
    `<layer>__heading_state` 0 (none), 1 (`heading`) or 2 (`heading_at_or_above_cap`), so that
    the heading texts are needed per key only. `additive_layers`: layers whose measures are
    all additive for these lines, `value_layers`: layers whose measures all apply to the
    customs value for them: their expressions leave out what cannot apply (the MFN share,
    the non-metal value).

    `metal_layers`: the layers (→ metal) whose measures charge declared metal content; when
    given, each layer's rate applies to its measure's `base` (`<layer>__base`): the customs
    value, the declared content of its metal (a line without it pays no such measure), or
    the non-metal value (customs value less the content an applied metal measure charged).
    An inclusive measure on a part of the value counts the MFN duty in proportion. Without
    `metal_layers` every rate applies to the customs value.

    `mfn_exact` and `rate × value` recur in every layer's expressions: evaluate these in a
    lazy frame, whose common-subexpression elimination computes each once (an eager
    `with_columns` recomputes them in every expression that names them)."""
    value = pl.col("customs_value_usd").cast(RATE)
    mfn = pl.col("mfn_ad_valorem_rate") * value
    if specific:
        mfn = mfn + pl.col("mfn_specific_term_rate") * pl.col("quantity").cast(RATE).fill_null(_ZERO)
    exprs = [mfn.alias("mfn_exact")]
    metal_layers = dict(metal_layers or {})
    content = {
        layer: pl.col(CONTENT_COLUMNS[metal]).cast(RATE) for layer, metal in metal_layers.items()
    }
    charged = {
        layer: pl.when(pl.col(f"{layer}__absent")).then(_ZERO).otherwise(amount.fill_null(_ZERO))
        for layer, amount in content.items()
    }
    non_metal = pl.max_horizontal(functools.reduce(operator.sub, charged.values(), value), _ZERO)
    for layer in layer_names:
        absent = pl.col(f"{layer}__absent")
        if metal_layers and (layer in content or layer not in value_layers):
            base_kind = pl.col(f"{layer}__base").fill_null(DEFAULT_BASE)
            base = pl.when(base_kind == "non_metal_value").then(non_metal).otherwise(value)
            if layer in content:
                # a metal layer's measures all charge its content; without it, nothing
                base = content[layer].fill_null(_ZERO)
                absent = absent | content[layer].is_null()
            share = pl.when(base == value).then(mfn).otherwise((mfn * base / pl.when(value > 0).then(value)).cast(RATE))
        else:
            base, share = value, mfn
        cap_total = pl.col(f"{layer}__rate").cast(RATE) * base
        exprs += _layer_amount(layer, absent, cap_total, share, layer in additive_layers, heading_states)
    return exprs


def _layer_amount(
    layer: str, absent: pl.Expr, cap_total: pl.Expr, share: pl.Expr, additive_only: bool, heading_states: bool
) -> list[pl.Expr]:
    """`<layer>__extra` and `<layer>__heading_state` or `<layer>__applied_heading` of
    `_exact_exprs`, given whether no measure of the layer applies (`absent`), its rate × base
    (`cap_total`), the MFN share of its base and whether all its measures are additive."""
    if additive_only:
        # (an additive measure is its rate × base: no MFN share, always its `heading`)
        extra = pl.when(absent).then(_ZERO).otherwise(cap_total)
        if heading_states:
            return [extra.alias(f"{layer}__extra"),
                    pl.when(absent).then(pl.lit(0, pl.UInt8)).otherwise(pl.lit(1, pl.UInt8)).alias(f"{layer}__heading_state")]
        heading = pl.when(absent).then(None).otherwise(pl.col(f"{layer}__heading"))
        return [extra.alias(f"{layer}__extra"), heading.alias(f"{layer}__applied_heading")]
    additive = pl.col(f"{layer}__additive")
    extra = pl.when(absent).then(_ZERO).when(additive).then(cap_total).otherwise(pl.max_horizontal(cap_total - share, _ZERO))
    if heading_states:
        state = (
            pl.when(absent)
            .then(pl.lit(0, pl.UInt8))
            .when(additive | (cap_total > share))
            .then(pl.lit(1, pl.UInt8))
            .otherwise(pl.lit(2, pl.UInt8))
        )
        return [extra.alias(f"{layer}__extra"), state.alias(f"{layer}__heading_state")]
    heading = (
        pl.when(absent)
        .then(None)
        .when(additive | (cap_total > share))
        .then(pl.col(f"{layer}__heading"))
        .otherwise(pl.col(f"{layer}__heading_at_or_above_cap"))
    )
    return [extra.alias(f"{layer}__extra"), heading.alias(f"{layer}__applied_heading")]


def measure_field(measure_id: pl.Expr, schedule: Schedule, field: str) -> pl.Expr:
    """A field of the schedule's measure named by `measure_id` (null where none is)."""
    fields = schedule.measures.select("measure_id", field).unique("measure_id", keep="first")
    return measure_id.replace_strict(
        fields.get_column("measure_id"), fields.get_column(field), default=None, return_dtype=fields.schema[field]
    )


def metal_layers(schedule: Schedule) -> dict[str, str]:
    """Layers whose measures charge declared metal content → their metal."""
    measures = schedule.measures.filter(pl.col("base").is_in(list(CONTENT_BASES)))
    return dict(
        measures.select("layer", metal=pl.col("base").replace_strict(CONTENT_BASES)).unique("layer").iter_rows()
    )


_KEY_HASH = "__key_hash"
_TERM_ROW = "__term_row"


def _key_hash(key: list[str]) -> pl.Expr:
    return pl.struct(key).hash().alias(_KEY_HASH)


def _key_hashes(lines: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Each line's key hash (64 bits) and the distinct keys: one line's key per distinct hash.
    Hashing the key once and finding distinct hashes is several times cheaper than finding
    distinct (hts_code, country_of_origin, entry_date) rows; `_with_key_terms` checks that
    no two keys share a hash."""
    key = key_columns(lines.columns)
    hashes = lines.select(_key_hash(key)).to_series()
    keys = lines.select(key).with_columns(hashes).unique(subset=_KEY_HASH, keep="any")
    return hashes, keys.select(key)


def _term_rows(
    lines: pl.DataFrame, terms_of: Callable[[pl.DataFrame], tuple[pl.DataFrame, T]]
) -> tuple[pl.Series, pl.DataFrame, T]:
    """Each line's row of the terms of its key, the terms, and what `terms_of` found out:
    `terms_of(keys)` gives one row per key of `keys` (distinct KEY rows), with the KEY
    columns, and what it found out about them; a null key part matches a null.

    Lines find their key's terms through the key hash, then every line's key is compared with
    the key of the terms it found (a key sharing its hash with another, which `_key_hashes`
    would have left out, fails this); if one differs, the terms of every distinct key are
    found on the key columns instead."""
    key = key_columns(lines.columns)
    hashes, keys = _key_hashes(lines)
    terms, found = terms_of(keys)
    # each line's row of `terms`, through the hashes alone
    term_rows = (
        hashes.to_frame()
        .join(
            terms.select(_key_hash(key)).with_row_index(_TERM_ROW),
            on=_KEY_HASH,
            how="left",
            maintain_order="left",
        )
        .get_column(_TERM_ROW)
    )
    if term_rows.len() == lines.height and _own_keys(lines.select(key), terms.select(key), term_rows):
        return term_rows, terms, found
    terms, found = terms_of(lines.select(key).unique())
    term_rows = (
        lines.select(key)
        .join(terms.select(key).with_row_index(_TERM_ROW), on=key, how="left", maintain_order="left", nulls_equal=True)
        .get_column(_TERM_ROW)
    )
    return term_rows, terms, found


# Lines priced at a time: a chunk's key terms are placed beside it, not those of every line.
PRICING_CHUNK_ROWS = 1 << 20


def _chunks(height: int) -> list[tuple[int, int]]:
    """(offset, length) of the PRICING_CHUNK_ROWS slices of `height` rows (one, empty, for 0)."""
    return [(start, min(PRICING_CHUNK_ROWS, height - start)) for start in range(0, height, PRICING_CHUNK_ROWS)] or [(0, 0)]


def _own_keys(line_keys: pl.DataFrame, term_keys: pl.DataFrame, term_rows: pl.Series) -> bool:
    """Every line's key equals the key of the terms row it found (a chunk of lines at a time)."""
    for start, length in _chunks(line_keys.height):
        found = term_keys[term_rows.slice(start, length)]
        same = pl.all_horizontal(pl.col(c).eq_missing(found.get_column(c)) for c in line_keys.columns).all()
        if not line_keys.slice(start, length).select(same).item():
            return False
    return True


def _with_key_terms(
    lines: pl.DataFrame, terms_of: Callable[[pl.DataFrame], tuple[pl.DataFrame, T]]
) -> tuple[pl.DataFrame, T]:
    """`lines` plus the terms of each line's key, in line order (`_term_rows`), and what
    `terms_of` found out about the keys. The terms are gathered in line order and placed
    beside the lines: the lines' columns are never copied."""
    term_rows, terms, found = _term_rows(lines, terms_of)
    return lines.hstack(terms.drop(key_columns(lines.columns))[term_rows]), found


def compute_exact_components(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Lines plus exact (unrounded) amounts: `mfn_exact` and per layer `<layer>__extra`,
    `<layer>__applied_heading`, and the key's fields: `hts8`, MFN_FIELDS and per layer
    `<layer>__<field>` for LAYER_FIELDS.

    `lines` needs hts_code, country_of_origin, entry_date, customs_value_usd, quantity; the
    metal content columns the schedule's metal measures read are added (null) if absent.
    """
    layer_names = layers(schedule)
    metals = metal_layers(schedule)
    lines = _with_content_columns(lines, metals)
    exact, _ = _with_key_terms(lines, lambda keys: (_key_terms(keys, schedule, layer_names), None))
    exact = (
        exact.lazy()
        .with_columns(_exact_exprs(layer_names, metal_layers=metals))
        .collect()
    )
    wide = [f"{layer}__{field}" for layer in layer_names for field in LAYER_FIELDS]
    amounts = [f"{layer}__{part}" for layer in layer_names for part in ("extra", "applied_heading")]
    notes = ["exemption_headings", "key_flags"]
    return exact.select(*lines.columns, "hts8", *MFN_FIELDS, "mfn_exact", *wide, *amounts, *notes)


def _with_content_columns(lines: pl.DataFrame, metals: Mapping[str, str]) -> pl.DataFrame:
    """`lines` with the content columns the metal layers read (null where absent)."""
    missing = [CONTENT_COLUMNS[m] for m in set(metals.values()) if CONTENT_COLUMNS[m] not in lines.columns]
    return lines.with_columns(pl.lit(None, dtype=MONEY).alias(c) for c in sorted(missing))


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
    """The applied headings in layer order, then those of the exemptions used."""
    return pl.concat_str(
        [*[pl.col(f"{layer}__applied_heading") for layer in layer_names], pl.col("exemption_headings")],
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
    # (the metal flag where the frame carries the content columns: the Census aggregates do not)
    metals = {layer: metal for layer, metal in metal_layers(schedule).items() if CONTENT_COLUMNS[metal] in exact.columns}
    applies = {layer: pl.col(f"{layer}__measure_id").is_not_null() for layer in metals}
    return (
        _rounded(exact.lazy(), layer_names)
        .with_columns(
            effective_duty_rate=_line_effective_rate(),
            ch99_headings=_ch99_headings(layer_names),
            flags=_line_flags(applies, metals),
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


def _line_flags(applies: Mapping[str, pl.Expr], metals: Mapping[str, str]) -> pl.Expr:
    """`key_flags` and, once, "metal content not declared" where a metal measure applies to
    the line's key but the line does not declare that metal's content."""
    undeclared = [applies[layer] & pl.col(CONTENT_COLUMNS[metals[layer]]).is_null() for layer in applies]
    metal = pl.when(pl.any_horizontal(undeclared)).then(pl.lit(METAL_FLAG)) if undeclared else None
    parts = [pl.col("key_flags"), *([metal] if metal is not None else [])]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True).fill_null("")


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


ENGINE_COLUMNS = [
    *KEY,
    "customs_value_usd",
    "quantity",
    "steel_content_value_usd",
    "aluminum_content_value_usd",
    *FACTS,
]


@dataclass(frozen=True)
class _LinePricing:
    """What the keys of a set of lines need: the layers some key has a measure of (`active`,
    in layer order), whether some key has a specific MFN rate, per active layer whose
    measures all have one component, that component, and the active layers that charge
    metal content (`metals`: layer → metal; empty when none does: every rate is then on the
    customs value)."""

    active: list[str]
    specific: bool
    components: dict[str, str]
    metals: dict[str, str]
    additive: frozenset[str] = frozenset()  # active layers whose applied measures are all additive
    on_value: frozenset[str] = frozenset()  # active layers whose applied measures all apply to the customs value


def _line_terms(keys: pl.DataFrame, schedule: Schedule, layer_names: list[str]) -> tuple[pl.DataFrame, _LinePricing]:
    """Key terms for pricing whole lines, with only the columns the line arithmetic reads:
    the key's flags that do not depend on the line (`key_flags`, null when none), the
    exemption headings, the MFN rates and the active layers' fields (see _LinePricing)."""
    terms = _key_terms(keys, schedule, layer_names)
    applied = {layer: terms.filter(~pl.col(f"{layer}__absent")) for layer in layer_names}
    active = [layer for layer in layer_names if applied[layer].height > 0]
    distinct_components = {layer: applied[layer].get_column(f"{layer}__component").unique() for layer in active}
    metals = {layer: metal for layer, metal in metal_layers(schedule).items() if layer in active}
    pricing = _LinePricing(
        active=active,
        specific=bool(terms.get_column("mfn_rate_type_code").is_in(SPECIFIC_CODES).any()),
        components={
            layer: found.item() for layer, found in distinct_components.items() if found.len() == 1 and found.item() is not None
        },
        metals=metals,
        additive=frozenset(
            layer for layer in active if applied[layer].get_column(f"{layer}__additive").fill_null(False).all()
        ),
        on_value=frozenset(
            layer for layer in active
            if not applied[layer].get_column(f"{layer}__base").is_in(["non_metal_value", *CONTENT_BASES]).any()
        ),
    )
    layer_fields = [
        "absent", "additive", "rate", "measure_id", "heading", "heading_at_or_above_cap", *(["base"] if metals else [])
    ]
    return (
        terms.select(
            *key_columns(keys.columns),
            "mfn_rate_text",
            "mfn_ad_valorem_rate",
            *(["mfn_specific_term_rate"] if pricing.specific else []),
            *[f"{layer}__{field}" for layer in active for field in layer_fields],
            *[f"{layer}__component" for layer in active if layer not in pricing.components],
            "key_flags",
            "exemption_headings",
        ),
        pricing,
    )


def _date_breaks(dates: list[dt.date | None]) -> pl.Series:
    """The distinct dates of `dates` (nulls left out), sorted, as a Date series."""
    return pl.Series(sorted({d for d in dates if d is not None}), dtype=pl.Date)


def _entry_date_breaks(schedule: Schedule) -> pl.Series:
    """Every date the rules compare an entry date with: the measures' and exemptions' windows
    and the derivative products' listing dates."""
    frames = [schedule.measures.select("valid_from", "valid_to"), schedule.exemptions.select("valid_from", "valid_to")]
    dates = [d for frame in frames for column in frame.get_columns() for d in column.to_list()]
    dates += schedule.metal_derivatives.get_column("effective_date").to_list()
    return _date_breaks(dates)


def _same_comparisons(day: pl.Expr, breaks: pl.Series) -> pl.Expr:
    """A date that compares with every date of `breaks` (sorted, distinct) as `day` does, the
    same for every day between two consecutive breaks: the last break on or before `day`, or
    the day before the first break for a day before it (null stays null)."""
    if breaks.len() == 0:
        return pl.when(day.is_not_null()).then(pl.lit(dt.date(1970, 1, 1)))
    starts = pl.concat([(breaks.head(1) - dt.timedelta(days=1)), breaks])
    return pl.when(day.is_not_null()).then(pl.lit(starts).gather(pl.lit(breaks).search_sorted(day, side="right")))


def keyed_facts(engine: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """The key and the line facts reduced to what the rules can read, so that lines that
    differ only in what no rule reads share a key: the entry date as the first day of its
    stretch between the schedule's dates (`_same_comparisons`: the rules only compare it with
    those), the transport mode as `vessel` or `other`, the export date only on entry dates
    inside some in-transit window (and there only as compared with the rules' exported_before
    dates), the declared headings only where they include a claimable one (and then only
    those). A month's lines then have a few thousand keys rather than one per day.

    For pricing and resolving only: the reduced entry date is not the line's. Reducing twice
    gives the same keys; a schedule that differs only in its measures' rates, shapes or
    presence (the reconciliation's misreadings) is priced the same on these keys."""
    out = [_same_comparisons(pl.col("entry_date"), _entry_date_breaks(schedule)).alias("entry_date")]
    if "transport_mode" in engine.columns:
        out.append(
            pl.when(pl.col("transport_mode") == "vessel").then(pl.lit("vessel")).otherwise(pl.lit("other"))
            .alias("transport_mode")
        )
    if "export_date" in engine.columns:
        windows = schedule.exemptions.filter(pl.col("condition") == "in_transit").select("valid_from", "valid_to").rows()
        inside = pl.any_horizontal(
            [in_force_on(pl.lit(start), pl.lit(end, dtype=pl.Date), pl.col("entry_date")) for start, end in windows]
            or [pl.lit(False)]
        )
        exported_before = _date_breaks(
            schedule.exemptions.filter(pl.col("condition") == "in_transit").get_column("exported_before").to_list()
        )
        export = pl.col("export_date")
        if exported_before.len():
            # the day before the first exported_before date after it, or the last such date
            ends = pl.concat([exported_before - dt.timedelta(days=1), exported_before.tail(1)])
            export = pl.when(export.is_not_null()).then(
                pl.lit(ends).gather(pl.lit(exported_before).search_sorted(export, side="right"))
            )
        out.append(pl.when(inside).then(export).alias("export_date"))
    if "declared_headings" in engine.columns:
        claimable = schedule.claimable_headings

        def claims_of(declared: pl.Expr) -> pl.Expr:
            claims = (
                declared.str.split(HEADING_SEPARATOR)
                .list.eval(pl.element().filter(pl.element().is_in(claimable)))
                .list.join(HEADING_SEPARATOR)
            )
            return pl.when(claims != "").then(claims)

        out.append(per_distinct_value(engine, "declared_headings", claims_of).alias("declared_headings"))
    return engine.with_columns(out)


def compute_line_duty(lines: pl.DataFrame, schedule: Schedule, *, layer_detail: bool = False) -> pl.DataFrame:
    """The input lines (same rows, same order) plus LINE_DUTY_COLUMNS (and nothing else).

    round_components(compute_exact_components(...)) on the columns it needs: the schedule is
    resolved per distinct key (hts_code, country_of_origin, entry_date and the FACTS the
    lines carry), what depends on the key alone (flags included) is worked out per key, and
    the key terms are placed beside the lines once, in their order, a chunk of lines at a time
    (PRICING_CHUNK_ROWS); layers no line has a measure of are left out (they add 0 and no
    heading). The results are placed beside the untouched input.

    Lines with a VARIANT column are priced under their variant's measures (`variant_schedule`).

    `layer_detail`: also, for every layer some line has a measure of (layer order), what
    `line_components` reads of it: `<layer>__duty_usd` (the layer's amount rounded once, 0
    where none applies), `<layer>__applied_heading` (null where none applies, as where a
    metal measure finds no declared content) and `<layer>__measure_id` (the measure of the
    layer that applies to the line's key, as `priced_lines` names it: also where the line
    lacks the metal content it reads).
    """
    layer_names = layers(schedule)
    engine = keyed_facts(lines.select(c for c in (*ENGINE_COLUMNS, VARIANT) if c in lines.columns), schedule)
    term_rows, terms, pricing = _term_rows(engine, lambda keys: _line_terms(keys, schedule, layer_names))
    texts = terms.select(_TEXT_TERMS + [f"{layer}__{f}" for layer in pricing.active for f in _LAYER_TEXTS])
    terms = terms.drop(key_columns(engine.columns), *texts.columns)
    job = _ChunkPricing(pricing, terms, texts, layer_detail)
    # (one contiguous chunk per column: the streaming engine hands back one chunk per morsel,
    # and beside single-chunk input columns that would make every later eager step realign,
    # i.e. copy, the whole frame)
    duty = stacked(
        [job.priced(engine.slice(start, length), term_rows.slice(start, length)) for start, length in _chunks(engine.height)]
    )
    return pl.concat([lines, duty], how="horizontal")


@dataclass(frozen=True)
class _ChunkPricing:
    """How compute_line_duty prices a chunk of lines: what their keys need (`pricing`), the
    key terms the arithmetic reads (`terms`, one row per key), the texts read per distinct
    text code (`texts`, same rows) and whether the layer detail is asked for."""

    pricing: _LinePricing
    terms: pl.DataFrame
    texts: pl.DataFrame
    layer_detail: bool

    @property
    def states(self) -> int:
        """How many combinations of heading states the active layers have."""
        return 3 ** len(self.pricing.active)

    def text_code(self) -> pl.Expr:
        """Which texts a line has: its key's row of the terms, the heading each layer applies
        (`_exact_exprs` heading states) and whether it lacks a metal content a measure reads."""
        active = self.pricing.active
        undeclared = [
            ~pl.col(f"{layer}__absent") & pl.col(CONTENT_COLUMNS[metal]).is_null()
            for layer, metal in self.pricing.metals.items()
        ]
        states = functools.reduce(
            operator.add,
            [pl.col(f"{layer}__heading_state").cast(pl.UInt64) * 3**i for i, layer in enumerate(active)],
            pl.lit(0, pl.UInt64),
        )
        code = pl.col(_TERM_ROW).cast(pl.UInt64) * self.states + states
        return code * 2 + pl.any_horizontal(undeclared or [pl.lit(False)]).cast(pl.UInt64)

    def amounts(self, lines: pl.DataFrame, rows: pl.Series, metals: dict[str, str]) -> pl.DataFrame:
        """The rounded amounts, effective rate and text code of `lines` (engine columns) whose
        terms are the rows `rows`: the terms gathered beside them, then the arithmetic, lazily
        (each `rate × value` computed once). With `metals` empty the lines declare no metal
        content: the metal layers charge nothing and every base is the customs value."""
        pricing = self.pricing
        priced = [layer for layer in pricing.active if layer not in pricing.metals or layer in metals]
        exact = (
            _with_content_columns(lines.hstack(self.terms[rows]).with_columns(rows.alias(_TERM_ROW)), pricing.metals)
            .lazy()
            .with_columns(
                _exact_exprs(
                    priced,
                    specific=pricing.specific,
                    metal_layers=metals,
                    heading_states=True,
                    additive_layers=pricing.additive,
                    value_layers=pricing.on_value,
                )
            )
            .with_columns(pl.lit(0, pl.UInt8).alias(f"{layer}__heading_state") for layer in pricing.active if layer not in priced)
        )
        zero = pl.lit(Decimal(0), dtype=MONEY)
        detail = {
            f"{layer}__duty_usd": pl.col(f"{layer}__duty_usd") if layer in priced else zero
            for layer in (pricing.active if self.layer_detail else [])
        }
        return (
            _rounded(exact, priced, pricing.components)
            .select(
                "mfn_duty_usd",
                *[f"{component}_duty_usd" for component in COMPONENTS],
                "total_duty_usd",
                effective_duty_rate=_line_effective_rate(),
                _text_code=self.text_code(),
                **detail,
            )
            .collect()
        )

    def priced(self, lines: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        """The duty of one chunk of lines whose terms are the rows `rows`: those that declare a
        metal content (usually few) priced apart from the others, whose arithmetic is simpler;
        then the texts."""
        metals = self.pricing.metals
        contents = [CONTENT_COLUMNS[m] for m in dict.fromkeys(metals.values()) if CONTENT_COLUMNS[m] in lines.columns]
        declared = lines.select(pl.any_horizontal(pl.col(contents).is_not_null())).to_series() if contents else None
        if declared is None or not declared.any():
            done = self.amounts(lines, rows, {})
        elif declared.all():
            done = self.amounts(lines, rows, metals)
        else:
            plain, metal = ~declared, declared
            done = pl.concat(
                [self.amounts(lines.filter(plain), rows.filter(plain), {}),
                 self.amounts(lines.filter(metal), rows.filter(metal), metals)]
            )
            done = done.select(pl.all().gather(pl.concat([plain.arg_true(), metal.arg_true()]).arg_sort()))
        line_texts = _line_texts(done.get_column("_text_code"), self.texts, self.pricing.active, self.states, self.layer_detail)
        return pl.concat(
            [line_texts.select("mfn_rate_text"), done.drop("_text_code"), line_texts.drop("mfn_rate_text")], how="horizontal"
        )


# the key terms that are text, read per distinct text code (`_line_texts`), not per line
_TEXT_TERMS = ["mfn_rate_text", "key_flags", "exemption_headings"]
_LAYER_TEXTS = ["heading", "heading_at_or_above_cap", "measure_id"]
METAL_FLAG = "metal content not declared"


def _line_texts(
    codes: pl.Series, texts: pl.DataFrame, active: list[str], states: int, layer_detail: bool = False
) -> pl.DataFrame:
    """mfn_rate_text, ch99_headings and flags of lines by their text code (compute_line_duty):
    worked out once per distinct code (a few per key), then gathered in line order, so the
    lines share the texts' buffers. `layer_detail`: also `<layer>__applied_heading` and
    `<layer>__measure_id` of every active layer."""
    distinct = codes.unique().to_frame("code")
    term_row = (pl.col("code") // (2 * states)).cast(pl.UInt32)
    decoded = distinct.with_columns(
        pl.lit(texts.get_column(c)).gather(term_row).alias(c) for c in texts.columns
    ).with_columns(
        **{f"{layer}__state": (pl.col("code") // 2 // 3**i) % 3 for i, layer in enumerate(active)},
        _metal=pl.col("code") % 2 == 1,
    )
    applied = [
        pl.when(pl.col(f"{layer}__state") == 1)
        .then(pl.col(f"{layer}__heading"))
        .when(pl.col(f"{layer}__state") == 2)
        .then(pl.col(f"{layer}__heading_at_or_above_cap"))
        for layer in active
    ]
    by_code = decoded.select(
        "mfn_rate_text",
        ch99_headings=pl.concat_str([*applied, pl.col("exemption_headings")], separator=", ", ignore_nulls=True).fill_null(""),
        flags=pl.concat_str(
            [pl.col("key_flags"), pl.when(pl.col("_metal")).then(pl.lit(METAL_FLAG))], separator=", ", ignore_nulls=True
        ).fill_null(""),
        **{
            name: expr
            for layer, heading in zip(active, applied, strict=True)
            for name, expr in (
                (f"{layer}__applied_heading", heading),
                (f"{layer}__measure_id", pl.col(f"{layer}__measure_id")),
            )
            if layer_detail
        },
    )
    at = codes.replace_strict(distinct.get_column("code"), pl.int_range(distinct.height, dtype=pl.UInt32, eager=True))
    return by_code[at]


def _stated_rate(rate: pl.Expr, shape: pl.Expr, base: pl.Expr | None = None) -> pl.Expr:
    """How the legal text states a measure's rate: `+25%` (additive), `15% total`, or on
    declared metal content `+50% of steel`."""
    percent = (
        (rate.cast(RATE) * pl.lit(Decimal(100), dtype=RATE))
        .cast(pl.Float64)
        .round(4)
        .cast(pl.Utf8)
        .str.replace(r"\.0$", "")
    )
    stated = pl.when(shape == "additive").then(pl.lit("+") + percent + pl.lit("%")).otherwise(
        percent + pl.lit("% total")
    )
    if base is None:
        return stated
    on_content = base.is_in(list(CONTENT_BASES)).fill_null(False)
    return pl.when(on_content).then(stated + pl.lit(" of ") + base.str.replace("_content", "")).otherwise(stated)


def line_components(
    lines: pl.DataFrame, schedule: Schedule, *, keep: Sequence[str] | None = None, ordered: bool = True
) -> pl.DataFrame:
    """Long form: one row per line × duty component that applies (MFN always), with
    `program`, `heading` (`MFN` for MFN), `measure_id`, `stated_rate`, `shape`, `rate`
    (duty ÷ value, the effective extra rate) and `duty_usd`. Keeps the input columns (only
    those in `keep`, when given); rows by line then layer (in no set order when not
    `ordered`: a caller that groups the rows saves the sort)."""
    base = lines.columns if keep is None else [c for c in lines.columns if c in keep]
    return components_of(priced_lines(lines, schedule), base, schedule, ordered=ordered)


def priced_lines(lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """round_components(compute_exact_components(lines)) with a `_line_order` column: each
    line's LINE_DUTY_COLUMNS (as compute_line_duty gives them) and its layers' measures, from
    which `components_of` gives its components (one engine pass for both: `quote`)."""
    return round_components(compute_exact_components(lines.with_row_index("_line_order"), schedule), schedule)


def components_of(exact: pl.DataFrame, base: list[str], schedule: Schedule, *, ordered: bool = True) -> pl.DataFrame:
    """`line_components` of `priced_lines(...)`, keeping the columns `base` of the lines."""
    layer_names = layers(schedule)
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
            # (a measure on metal content the line does not declare charges nothing: no row)
            exact.filter(pl.col(f"{layer}__applied_heading").is_not_null())
            .select(
                "_line_order",
                *base,
                layer_order=pl.lit(order, pl.Int32),
                measure_id=pl.col(f"{layer}__measure_id"),
                heading=pl.col(f"{layer}__applied_heading"),
                stated_rate=_stated_rate(pl.col(f"{layer}__rate"), pl.col(f"{layer}__shape"), pl.col(f"{layer}__base")),
                shape=pl.col(f"{layer}__shape"),
                rate=effective_rate(pl.col(f"{layer}__duty_usd"), value),
                duty_usd=pl.col(f"{layer}__duty_usd"),
            )
            .join(programs, on="measure_id", how="left")
        )
        parts.append(part.select(mfn.columns))
    stacked_parts = pl.concat(parts)
    if ordered:
        stacked_parts = stacked_parts.sort("_line_order", "layer_order")
    return stacked_parts.drop("_line_order", "layer_order")
