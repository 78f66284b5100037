"""Generate N synthetic customs entry lines for one month, for the benchmark (`make bench`).

    .venv/bin/python bench/generate_lines.py --lines 5000000 --month 2025-10 --out FILE.parquet \
        [--mix census|realistic]

Deterministic: every random draw is a counter-based hash (splitmix64) of (seed, stream, row
index), so the output depends only on the seed, the month and N, not on the chunk size or the
machine. Vectorised: whole chunks are built with Polars expressions (no per-row Python) and
written as Parquet row groups, so 20 million lines never sit in one Python object.

Two mixes of lines (`--mix`):

- `census` (the default): HS codes in proportion to the real 2024 US imports from Japan, as
  described below: entries of 1 to 8 lines, a quarter of them vehicle entries;
- `realistic`: what a Japanese importer's or broker's month looks like: entries of 1 to 12
  lines (uniform), 15 % of them vehicle entries (passenger vehicles 8703 88 %, motorcycles
  8711 10 %, light trucks 8704 2 % of their lines); parts entries drawn by group: tires 4011
  15 %, engines 8407/8408 12 %, safety glass 7007 4 %, other parts on CBP's Section 232
  auto-parts list (the shipped schedule's `s232_auto_parts` scope) 49 %, and other parts of
  chapters 40, 70, 73, 84, 85 and 87 off the list 20 %; within each group a code's weight is
  its 2024 import value; parts origins JP 96 %, TH 2 %, MX 1 % (by truck), DE 1 %. Its
  lines also carry the facts issue 16's rules read (two more columns, `export_date` and
  `declared_headings`): the date of exportation on 95 % of entries (one per entry: vessel 10-35
  days before entry, 3 % of vessel entries held 36-110 days; air 1-3 days; truck 1-4 days);
  the declared steel / aluminum content on 90 % of the lines of a product on the schedule's
  Section 232 derivatives list for that metal (steel 20-60 %, aluminum 10-30 % of the value);
  and a few claims in `declared_headings`: 2 % of the listed auto-parts lines claim
  9903.94.06 (not a vehicle part), 4 % of the off-list parts lines claim certified parts
  (9903.94.55 from Japan, else 9903.94.07).

The input looks like a raw ES-003 export, all columns text, as the loader reads them:

- (census mix) entries of 1 to 8 lines (uniform), one entry date (uniform over the month), one importer and
  one transport mode per entry; entry numbers `FFF-NNNNNNN-C` (10 filer codes, check digit
  not verified by the contract);
- HS10 codes drawn from the real 2024 US imports from Japan
  (data/reference/census/japan_2024_hs10_imports.parquet, CON_VAL_YR) restricted to the HTS8
  lines of the shipped schedule's MFN table; each code's weight is its import value divided by
  a typical line value of its kind, so lines follow the value mix. About a quarter of the
  entries are vehicle entries (HS 8701-8705, 8711), the rest parts entries;
- origins: vehicle entries JP; parts entries JP 92 %, DE 3 %, KR 3 %, MX 2 % (MX by truck);
  parts 12 % by air, everything else by vessel;
- values: vehicles n (1-12) x unit value, parts log-normal (median about $24,000); quantities in
  the unit the MFN rate is on (so specific rates can be computed); `declared_duty_usd` is a
  broker's naive MFN-only figure on 10 % of the ad valorem / free lines (`--declared-share`),
  empty elsewhere; motorcycles under the steel
  derivative list declare their steel content on 60 % of lines.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
CENSUS_MIX = REPO_ROOT / "data" / "reference" / "census" / "japan_2024_hs10_imports.parquet"
SCHEDULE_MFN = REPO_ROOT / "data" / "schedule" / "default" / "mfn_usitc_2025.csv"
SCHEDULE_SCOPES = REPO_ROOT / "data" / "schedule" / "default" / "scopes.csv"
SCHEDULE_DERIVATIVES = REPO_ROOT / "data" / "schedule" / "default" / "metal_derivatives.csv"

DEFAULT_SEED = 20251001
DEFAULT_MONTH = "2025-10"
ENTRIES_PER_CHUNK = 250_000  # about 1.1 million lines per Parquet row group
# Share of lines carrying a broker's declared duty. The figure is a naive MFN-only one, so it
# rarely matches after 2025-04 and sends the line through the reconciliation's likely-cause
# search (the expensive path): 10 % is a bad broker month, not a typical one.
DECLARED_SHARE = 0.10

MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB

VEHICLE_HEADINGS = ("8701", "8702", "8703", "8704", "8705", "8711")
VEHICLE_ENTRY_SHARE = 0.25
TYPICAL_LINE_VALUE = {"vehicle": 150_000.0, "part": 40_000.0}
STEEL_DERIVATIVE_HS6 = ("871130", "871150", "871160")
COUNT_UNITS = ("NO", "DOZ", "PRS", "DPR", "HUN", "THS", "GRS", "PCS", "DZ")

FILER_CODES = ["EBJ", "A7K", "NX4", "M2T", "KWL", "3FH", "DHL", "UPS", "YSK", "NPX"]
VEHICLE_IMPORTERS = ["95-377581600", "95-368534100", "95-190526100", "95-245010900", "22-244826300", "95-362213700"]
PART_IMPORTERS = [
    "38-247850100", "36-401187500", "62-181234900", "31-162507300", "95-426789200", "34-195533300",
    "91-187642100", "13-563420800", "76-026588500", "26-331099400", "04-371550600", "52-147963200",
]
VESSEL_PORTS = ["2704", "2709", "1001", "4601", "1303", "1401", "1803", "5301", "3001", "3002"]
AIR_PORTS = ["2720", "4701", "3901", "5501"]
TRUCK_PORTS = ["2304", "2402"]
PART_ORIGINS = [("JP", 0.92), ("DE", 0.03), ("KR", 0.03), ("MX", 0.02)]
AIR_SHARE = 0.12


@dataclass(frozen=True)
class Mix:
    """How entries and their lines are drawn. `groups`: None draws codes by import value over
    the whole Census table; otherwise (kind, group, share of that kind's lines) with the group's
    codes from `_group_of` weighted by import value within it."""

    name: str
    max_lines: int
    vehicle_entry_share: float
    part_origins: tuple[tuple[str, float], ...]
    groups: tuple[tuple[str, str, float], ...] | None = None
    # whether lines carry the facts issue 16's rules read (export dates, declared metal
    # content of every derivative product, claims); see the module docstring
    line_facts: bool = False


MIXES = {
    "census": Mix("census", 8, VEHICLE_ENTRY_SHARE, tuple(PART_ORIGINS)),
    "realistic": Mix(
        "realistic", 12, 0.15, (("JP", 0.96), ("TH", 0.02), ("MX", 0.01), ("DE", 0.01)),
        groups=(
            ("vehicle", "passenger_vehicles", 0.88), ("vehicle", "motorcycles", 0.10),
            ("vehicle", "light_trucks", 0.02),
            ("part", "tires", 0.15), ("part", "engines", 0.12), ("part", "glass", 0.04),
            ("part", "listed_232_parts", 0.49), ("part", "other_parts", 0.20),
        ),
        line_facts=True,
    ),
}
PART_CHAPTERS = ("40", "70", "73", "84", "85", "87")

COLUMNS = [
    "entry_number", "line_number", "entry_date", "hts_code", "country_of_origin",
    "customs_value_usd", "quantity", "quantity_unit", "transport_mode", "port_code",
    "importer_id", "declared_duty_usd", "steel_content_value_usd", "aluminum_content_value_usd",
]
FACT_COLUMNS = ["export_date", "declared_headings"]  # (mixes with line_facts only)
EXPORT_DECLARED_SHARE = 0.95  # entries with a date of exportation
HELD_SHARE = 0.03  # vessel entries held 36-110 days between export and entry
CONTENT_DECLARED_SHARE = 0.90  # derivative-list lines declaring the listed metal's content
CLAIMS = (  # (group, share of its lines, heading claimed from Japan, from elsewhere)
    ("listed_232_parts", 0.02, "9903.94.06", "9903.94.06"),
    ("other_parts", 0.04, "9903.94.55", "9903.94.07"),
)


# -- counter-based random numbers ---------------------------------------------------------------
def _shr(x: pl.Expr, bits: int) -> pl.Expr:
    return x // pl.lit(1 << bits, dtype=pl.UInt64)


def _splitmix64(x: pl.Expr) -> pl.Expr:
    """splitmix64 finaliser on UInt64 (Polars integer arithmetic wraps modulo 2**64)."""
    z = x + pl.lit(_GOLDEN, dtype=pl.UInt64)
    z = (z ^ _shr(z, 30)) * pl.lit(_MIX1, dtype=pl.UInt64)
    z = (z ^ _shr(z, 27)) * pl.lit(_MIX2, dtype=pl.UInt64)
    return z ^ _shr(z, 31)


def uniform(index: pl.Expr, seed: int, stream: int) -> pl.Expr:
    """A uniform [0, 1) draw per row, a pure function of (seed, stream, index)."""
    salt = _splitmix64_int((seed * 1_000_003 + stream) & MASK64)
    bits = _splitmix64(index.cast(pl.UInt64) ^ pl.lit(salt, dtype=pl.UInt64))
    return _shr(bits, 11).cast(pl.Float64) * (1.0 / (1 << 53))


def _splitmix64_int(x: int) -> int:
    z = (x + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * _MIX1) & MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & MASK64
    return z ^ (z >> 31)


def normal(index: pl.Expr, seed: int, stream: int) -> pl.Expr:
    """A standard normal draw per row (Box-Muller on two uniforms)."""
    u1 = 1.0 - uniform(index, seed, stream)  # (0, 1]
    u2 = uniform(index, seed, stream + 1)
    return (-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()


def choose(index: pl.Expr, choices: list[str]) -> pl.Expr:
    """`choices[index]` per row."""
    return pl.lit(pl.Series(choices, dtype=pl.Utf8)).gather(index)


def pick(u: pl.Expr, choices: list[str]) -> pl.Expr:
    """One of `choices`, uniformly, from a uniform draw."""
    return choose((u * len(choices)).floor().cast(pl.Int64).clip(0, len(choices) - 1), choices)


# -- the HS mix ---------------------------------------------------------------------------------
def load_hs_mix(census: Path = CENSUS_MIX, mfn: Path = SCHEDULE_MFN, mix: Mix = MIXES["census"]) -> pl.DataFrame:
    """HS10 codes with their sampling weight, kind (`vehicle`/`part`), MFN rate type, ad valorem
    rate and the unit quantities are declared in."""
    rates = pl.read_csv(mfn, infer_schema=False).select(
        "hts8", "mfn_rate_type_code", "mfn_ad_val_rate", "quantity_1_code", "quantity_2_code"
    )
    table = (
        pl.read_parquet(census, columns=["I_COMMODITY", "CON_VAL_YR"])
        .select(hts_code=pl.col("I_COMMODITY"), value=pl.col("CON_VAL_YR").cast(pl.Float64))
        .filter(pl.col("value") > 0)
        .with_columns(hts8=pl.col("hts_code").str.slice(0, 8))
        .join(rates, on="hts8", how="inner")
        .with_columns(
            kind=pl.when(pl.col("hts_code").str.slice(0, 4).is_in(VEHICLE_HEADINGS))
            .then(pl.lit("vehicle"))
            .otherwise(pl.lit("part")),
            unit=pl.when(pl.col("mfn_rate_type_code").is_in(["2", "5"]))
            .then(pl.col("quantity_2_code"))
            .otherwise(pl.col("quantity_1_code"))
            .fill_null("X"),
            mfn_ad_val_rate=pl.col("mfn_ad_val_rate").cast(pl.Float64).fill_null(0.0),
        )
        .sort("hts_code")
    )
    if table.height == 0:
        raise SystemExit(f"no HS10 code of {census} has its HTS8 in {mfn}")
    if mix.groups is None:
        return table.with_columns(
            weight=pl.col("value")
            / pl.col("kind").replace_strict(TYPICAL_LINE_VALUE, return_dtype=pl.Float64)
        )
    table = table.with_columns(_derivative_metals(pl.col("hts_code")))
    shares = pl.DataFrame(
        {"kind": [k for k, _, _ in mix.groups], "group": [g for _, g, _ in mix.groups],
         "share": [s for _, _, s in mix.groups]}
    )
    grouped = (
        table.drop("kind")
        .with_columns(_group_of(pl.col("hts_code"), listed_232_prefixes()))
        .join(shares, on="group", how="inner")
        .with_columns(weight=pl.col("share") * pl.col("value") / pl.col("value").sum().over("group"))
        .drop("share")
        .sort("hts_code")
    )
    missing = set(shares.get_column("group")) - set(
        table.with_columns(_group_of(pl.col("hts_code"), listed_232_prefixes())).get_column("group")
    )
    if missing:
        raise SystemExit(f"mix {mix.name}: no code of {census} in group(s) {', '.join(sorted(missing))}")
    return grouped


def listed_232_prefixes(scopes: Path = SCHEDULE_SCOPES) -> list[str]:
    """The HTS prefixes of CBP's Section 232 auto-parts list, from the shipped schedule."""
    frame = pl.read_csv(scopes, infer_schema=False)
    return frame.filter(pl.col("scope_id") == "s232_auto_parts").get_column("hts_prefix").to_list()


def _derivative_metals(hts: pl.Expr, derivatives: Path = SCHEDULE_DERIVATIVES) -> list[pl.Expr]:
    """`steel_listed`, `aluminum_listed`: the code is a product of the shipped schedule's
    Section 232 derivatives list for that metal (whatever the listing date)."""
    frame = pl.read_csv(derivatives, infer_schema=False)
    return [
        pl.any_horizontal(
            [hts.str.starts_with(prefix) for prefix in frame.filter(pl.col("metal") == metal).get_column("hts_prefix")]
            or [pl.lit(False)]
        ).alias(f"{metal}_listed")
        for metal in ("steel", "aluminum")
    ]


def _group_of(hts: pl.Expr, listed: list[str]) -> pl.Expr:
    """The realistic mix's group of an HS10 code (null: not drawn); kind follows the group."""
    heading = hts.str.slice(0, 4)
    on_list = pl.any_horizontal([hts.str.starts_with(prefix) for prefix in listed])
    group = (
        pl.when(heading == "8703").then(pl.lit("passenger_vehicles"))
        .when(heading == "8711").then(pl.lit("motorcycles"))
        .when(heading == "8704").then(pl.lit("light_trucks"))
        .when(heading == "4011").then(pl.lit("tires"))
        .when(heading.is_in(["8407", "8408"])).then(pl.lit("engines"))
        .when(heading == "7007").then(pl.lit("glass"))
        .when(heading.is_in(VEHICLE_HEADINGS)).then(pl.lit(None, dtype=pl.Utf8))
        .when(on_list).then(pl.lit("listed_232_parts"))
        .when(hts.str.slice(0, 2).is_in(PART_CHAPTERS)).then(pl.lit("other_parts"))
    )
    kind = pl.when(heading.is_in(VEHICLE_HEADINGS)).then(pl.lit("vehicle")).otherwise(pl.lit("part"))
    return [group.alias("group"), kind.alias("kind")]


def _sampler(mix: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, pl.Series]:
    table = mix.filter(pl.col("kind") == kind)
    cdf = table.get_column("weight").cum_sum() / table.get_column("weight").sum()
    return table, cdf


def _draw(table: pl.DataFrame, cdf: pl.Series, u: pl.Series) -> pl.DataFrame:
    """Rows of `table` drawn by inverse CDF at the uniforms `u`."""
    index = cdf.search_sorted(u, side="right").clip(0, table.height - 1)
    return table.select(pl.all().gather(index))


# -- one chunk of entries -----------------------------------------------------------------------
def _entries(first: int, count: int, seed: int, year: int, month: int, mix: Mix = MIXES["census"]) -> pl.DataFrame:
    days = calendar.monthrange(year, month)[1]
    e = pl.col("entry_index")
    origin_u = uniform(e, seed, 4)
    cumulative = 0.0
    origin = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Utf8))
    for code, share in mix.part_origins:
        cumulative += share
        origin = origin.when(origin_u < cumulative).then(pl.lit(code))
    origin = origin.otherwise(pl.lit(mix.part_origins[-1][0]))
    is_vehicle = uniform(e, seed, 1) < mix.vehicle_entry_share
    serial = pl.lit(1_000_000, dtype=pl.Int64) + e // len(FILER_CODES)
    entries = (
        pl.DataFrame({"entry_index": pl.int_range(first, first + count, dtype=pl.Int64, eager=True)})
        .with_columns(
            is_vehicle=is_vehicle,
            n_lines=(uniform(e, seed, 2) * mix.max_lines).floor().cast(pl.Int64) + 1,
            entry_date=pl.lit(dt.date(year, month, 1))
            + pl.duration(days=(uniform(e, seed, 3) * days).floor().cast(pl.Int64)),
            country_of_origin=pl.when(is_vehicle).then(pl.lit("JP")).otherwise(origin),
            mode_u=uniform(e, seed, 5),
            port_u=uniform(e, seed, 6),
            importer_u=uniform(e, seed, 7),
            entry_number=pl.concat_str(
                choose(e % len(FILER_CODES), FILER_CODES),
                pl.lit("-"),
                serial.cast(pl.Utf8),
                pl.lit("-"),
                (serial % 10).cast(pl.Utf8),
            ),
        )
        .with_columns(
            transport_mode=pl.when(pl.col("country_of_origin") == "MX")
            .then(pl.lit("truck"))
            .when(~pl.col("is_vehicle") & (pl.col("mode_u") < AIR_SHARE))
            .then(pl.lit("air"))
            .otherwise(pl.lit("vessel")),
            importer_id=pl.when(pl.col("is_vehicle"))
            .then(pick(pl.col("importer_u"), VEHICLE_IMPORTERS))
            .otherwise(pick(pl.col("importer_u"), PART_IMPORTERS)),
        )
        .with_columns(
            port_code=pl.when(pl.col("transport_mode") == "truck")
            .then(pick(pl.col("port_u"), TRUCK_PORTS))
            .when(pl.col("transport_mode") == "air")
            .then(pick(pl.col("port_u"), AIR_PORTS))
            .otherwise(pick(pl.col("port_u"), VESSEL_PORTS))
        )
        .drop("mode_u", "port_u", "importer_u")
    )
    if not mix.line_facts:
        return entries
    days_in = [(36, 75), (10, 26), (1, 3), (1, 4)]  # held vessel, vessel, air, truck: first day, span

    def lag(first_span: tuple[int, int]) -> pl.Expr:
        first, span = first_span
        return pl.lit(first, dtype=pl.Int64) + (uniform(e, seed, 20) * span).floor().cast(pl.Int64)

    mode = pl.col("transport_mode")
    return entries.with_columns(
        # days from the date of exportation to the entry date (null: not declared)
        export_lag_days=pl.when(uniform(e, seed, 8) >= EXPORT_DECLARED_SHARE)
        .then(pl.lit(None, dtype=pl.Int64))
        .when((mode == "vessel") & (uniform(e, seed, 9) < HELD_SHARE))
        .then(lag(days_in[0]))
        .when(mode == "vessel")
        .then(lag(days_in[1]))
        .when(mode == "air")
        .then(lag(days_in[2]))
        .otherwise(lag(days_in[3]))
    )


def _money_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as text with exactly two decimals (`1234.05`)."""
    return pl.concat_str(
        (cents // 100).cast(pl.Utf8), pl.lit("."), (cents % 100).cast(pl.Utf8).str.zfill(2)
    )


def _lines(
    entries: pl.DataFrame, mix: pl.DataFrame, seed: int, line_offset: int, declared_share: float,
    line_facts: bool = False,
) -> pl.DataFrame:
    lines = (
        entries.with_columns(line_number=pl.int_ranges(1, pl.col("n_lines") + 1, dtype=pl.Int64))
        .explode("line_number")
        .with_columns(line_index=pl.int_range(pl.len(), dtype=pl.Int64) + line_offset)
    )
    li = pl.col("line_index")
    u_hs = lines.select(uniform(li, seed, 10)).to_series()
    vehicle_table, vehicle_cdf = _sampler(mix, "vehicle")
    part_table, part_cdf = _sampler(mix, "part")
    from_vehicles = _draw(vehicle_table, vehicle_cdf, u_hs)
    from_parts = _draw(part_table, part_cdf, u_hs)
    is_vehicle = lines.get_column("is_vehicle")
    drawn = ["hts_code", "unit", "mfn_rate_type_code", "mfn_ad_val_rate"]
    if line_facts:
        drawn += ["group", "steel_listed", "aluminum_listed"]
    hs = pl.DataFrame(
        {name: from_vehicles.get_column(name).zip_with(is_vehicle, from_parts.get_column(name)) for name in drawn}
    )
    lines = pl.concat([lines, hs], how="horizontal")

    motorcycle = pl.col("hts_code").str.starts_with("8711")
    units = (uniform(li, seed, 11) * pl.when(motorcycle).then(30).otherwise(12)).floor().cast(pl.Int64) + 1
    unit_cents = pl.when(motorcycle).then(
        400_000 + (uniform(li, seed, 12) * 1_400_000).floor().cast(pl.Int64)
    ).otherwise(2_200_000 + (uniform(li, seed, 12) * 3_800_000).floor().cast(pl.Int64))
    part_cents = (
        (10.1 + 1.2 * normal(li, seed, 13)).exp().clip(350.0, 2_500_000.0) * 100.0
    ).round(0).cast(pl.Int64)
    value_cents = pl.when(pl.col("is_vehicle")).then(units * unit_cents).otherwise(part_cents)
    unit_price = 5.0 + uniform(li, seed, 15) * 95.0
    part_quantity = pl.col("value_cents").cast(pl.Float64) / 100.0 / unit_price
    quantity = (
        pl.when(pl.col("is_vehicle"))
        .then(pl.col("units").cast(pl.Utf8))
        .when(pl.col("unit").is_in(COUNT_UNITS))
        .then(part_quantity.round(0).clip(1.0, None).cast(pl.Int64).cast(pl.Utf8))
        .otherwise(_money_text((part_quantity * 100.0).round(0).clip(1.0, None).cast(pl.Int64)))
    )
    declared_cents = (pl.col("value_cents").cast(pl.Float64) * pl.col("mfn_ad_val_rate")).round(0).cast(pl.Int64)
    steel_cents = (
        pl.col("value_cents").cast(pl.Float64) * (0.15 + 0.15 * uniform(li, seed, 16))
    ).round(0).cast(pl.Int64)
    steel_declared = pl.col("hts_code").str.slice(0, 6).is_in(STEEL_DERIVATIVE_HS6) & (
        uniform(li, seed, 17) < 0.6
    )
    aluminum = pl.lit(None, dtype=pl.Utf8)
    columns, facts = COLUMNS, {}
    if line_facts:
        steel_cents = (pl.col("value_cents").cast(pl.Float64) * (0.20 + 0.40 * uniform(li, seed, 22))).round(0).cast(pl.Int64)
        steel_declared = pl.col("steel_listed") & (uniform(li, seed, 21) < CONTENT_DECLARED_SHARE)
        aluminum_cents = (pl.col("value_cents").cast(pl.Float64) * (0.10 + 0.20 * uniform(li, seed, 24))).round(0).cast(pl.Int64)
        aluminum = pl.when(pl.col("aluminum_listed") & (uniform(li, seed, 23) < CONTENT_DECLARED_SHARE)).then(
            _money_text(aluminum_cents)
        )
        claim_u = uniform(li, seed, 25)
        claimed = pl.lit(None, dtype=pl.Utf8)
        for group, share, from_japan, from_elsewhere in reversed(CLAIMS):
            heading = pl.when(pl.col("country_of_origin") == "JP").then(pl.lit(from_japan)).otherwise(pl.lit(from_elsewhere))
            claimed = pl.when((pl.col("group") == group) & (claim_u < share)).then(heading).otherwise(claimed)
        columns = COLUMNS + FACT_COLUMNS
        facts = {
            "export_date": (pl.col("entry_date") - pl.duration(days=pl.col("export_lag_days"))).dt.strftime("%Y-%m-%d"),
            "declared_headings": claimed,
        }
    dotted = uniform(li, seed, 18) < 0.2
    return (
        lines.with_columns(units=units, value_cents=value_cents)
        .with_columns(
            hts_code=pl.when(dotted)
            .then(
                pl.concat_str(
                    pl.col("hts_code").str.slice(0, 4), pl.lit("."),
                    pl.col("hts_code").str.slice(4, 2), pl.lit("."),
                    pl.col("hts_code").str.slice(6, 2), pl.lit("."),
                    pl.col("hts_code").str.slice(8, 2),
                )
            )
            .otherwise(pl.col("hts_code")),
            customs_value_usd=_money_text(pl.col("value_cents")),
            quantity=quantity,
            quantity_unit=pl.when(pl.col("is_vehicle")).then(pl.lit("NO")).otherwise(pl.col("unit")),
            declared_duty_usd=pl.when(
                pl.col("mfn_rate_type_code").is_in(["0", "7"]) & (uniform(li, seed, 19) < declared_share)
            ).then(_money_text(declared_cents)),
            steel_content_value_usd=pl.when(steel_declared).then(_money_text(steel_cents)),
            aluminum_content_value_usd=aluminum,
            line_number=pl.col("line_number").cast(pl.Utf8),
            entry_date=pl.col("entry_date").dt.strftime("%Y-%m-%d"),
            **facts,
        )
        .select(columns)
    )


def generate_lines(
    n_lines: int,
    out: Path,
    month: str = DEFAULT_MONTH,
    seed: int = DEFAULT_SEED,
    entries_per_chunk: int = ENTRIES_PER_CHUNK,
    declared_share: float = DECLARED_SHARE,
    mix: str = "census",
) -> int:
    """Write exactly `n_lines` lines of `month` (YYYY-MM) of the named mix to the Parquet file
    `out`, in row groups of about `entries_per_chunk` entries. Returns the number of entries."""
    if n_lines < 1:
        raise ValueError(f"n_lines must be at least 1, got {n_lines}")
    year, mon = (int(part) for part in month.split("-"))
    drawn = MIXES[mix]
    hs_mix = load_hs_mix(mix=drawn)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    written = 0
    first_entry = 0
    writer: pq.ParquetWriter | None = None
    try:
        while written < n_lines:
            entries = _entries(first_entry, entries_per_chunk, seed, year, mon, drawn)
            # keep whole entries while they fit; the entry that crosses N is cut short
            ends = entries.get_column("n_lines").cum_sum() + written
            keep = entries.filter((ends - entries.get_column("n_lines")) < n_lines)
            overshoot = int(keep.get_column("n_lines").sum()) + written - n_lines
            if overshoot > 0:
                last = keep.height - 1
                keep = keep.with_columns(
                    n_lines=pl.when(pl.int_range(pl.len()) == last)
                    .then(pl.col("n_lines") - overshoot)
                    .otherwise(pl.col("n_lines"))
                )
            chunk = _lines(keep, hs_mix, seed, written, declared_share, drawn.line_facts).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(partial, chunk.schema, compression="zstd")
            writer.write_table(chunk)
            written += chunk.num_rows
            first_entry += keep.height
    finally:
        if writer is not None:
            writer.close()
    partial.replace(out)
    return first_entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True, help="number of lines to write")
    parser.add_argument("--month", default=DEFAULT_MONTH, help="YYYY-MM (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True, help="Parquet file to write")
    parser.add_argument("--declared-share", type=float, default=DECLARED_SHARE,
                        help="share of lines with a (naive, mismatching) declared duty (default %(default)s)")
    parser.add_argument("--mix", choices=sorted(MIXES), default="census",
                        help="which lines to draw (default %(default)s; see the module docstring)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    entries = generate_lines(args.lines, args.out, args.month, args.seed, declared_share=args.declared_share,
                             mix=args.mix)
    print(
        f"wrote {args.lines:,} lines ({args.mix} mix) in {entries:,} entries of {args.month} to {args.out} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
