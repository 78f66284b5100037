"""The Census imports input (API JSON array with a header row, CSV, or Parquet): staged by the
pipeline of every input (flows/inputs/staging.py) with the rules of
transforms/stg_census_lines.py, the country codes mapped to ISO origins."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pycountry

from flows.config import DATA_DIR, REFERENCE_DIR
from flows.inputs.files import InputSchemaError
from flows.inputs.problems import Problem
from flows.inputs.staging import (
    LoadResult,
    RawInput,
    Select,
    Staging,
    file_problems,
    load_result,
    read_raw,
    stage_rows,
)
from schemas.stg_census_lines import StgCensusLines
from transforms.schedule import Schedule
from transforms.stg_census_lines import (
    ANNUAL,
    MONTHLY,
    census_checks,
    in_schedule,
    parse_census,
    stage_census,
    value_columns,
)

CENSUS_CODES = REFERENCE_DIR / "census" / "census_country_codes.csv"
CODE_OVERRIDES = DATA_DIR / "census" / "country_code_overrides.csv"

CENSUS = Staging(
    name="census",
    required_columns=("CTY_CODE", "I_COMMODITY", "time"),
    optional_columns=(*MONTHLY, *ANNUAL),
    stg_schema=StgCensusLines,
    parse=parse_census,  # over the country codes (census_country_codes)
    checks=census_checks,
    stage=stage_census,
)


class CensusInputError(InputSchemaError):
    """The file cannot be read as a Census imports table (a schema-level problem)."""

    def __init__(self, path: Path, problem: str, check: str = "unreadable"):
        super().__init__(str(path), check, problem)


@dataclass(frozen=True)
class CensusLoad(LoadResult):
    """The load stage's result for a Census input: `stg` the staged rows the schedule prices,
    `out_of_scope` the well-formed rows whose HTS8 the schedule does not cover."""

    out_of_scope: pl.DataFrame


def _iso_from_name(name: str) -> str | None:
    """Exact pycountry look-ups of a Census country name and its parts (no fuzzy matching)."""
    candidates = [name]
    if "(" in name:
        candidates += [name[name.index("(") + 1 :].rstrip(")"), name[: name.index("(")]]
    if "," in name:
        candidates.append(name.split(",")[0])
    for candidate in candidates:
        try:
            return pycountry.countries.lookup(candidate.strip()).alpha_2
        except LookupError:
            continue
    return None


def census_country_codes() -> pl.DataFrame:
    """cty_code → country_of_origin (ISO alpha-2), overrides first (see data/census/README.md)."""
    with CODE_OVERRIDES.open(newline="", encoding="utf-8") as handle:
        overrides = {row["cty_code"]: row["iso_alpha2"] for row in csv.DictReader(handle)}
    with CENSUS_CODES.open(newline="", encoding="utf-8") as handle:
        names = {row["Code"].zfill(4): row["Name"] for row in csv.DictReader(handle)}
    mapping = {code: overrides.get(code) or _iso_from_name(name) for code, name in names.items()}
    mapping.update(overrides)
    return pl.DataFrame(
        {"cty_code": list(mapping), "country_of_origin": list(mapping.values())},
        schema={"cty_code": pl.Utf8, "country_of_origin": pl.Utf8},
    ).drop_nulls()


def _read_census(path: Path, select: Select | None = None) -> RawInput:
    """The all-text rows of a Census file that `select` keeps; CensusInputError when it has
    no value columns (transforms/stg_census_lines.py `value_columns`)."""
    raw = read_raw(path, CENSUS, select)
    try:
        value_columns(raw.rows.columns)
    except ValueError as error:
        raise CensusInputError(path, str(error), "missing_columns") from error
    return raw


def load_census(path: Path, month: str | None, schedule: Schedule) -> CensusLoad:
    """Read, check and stage a Census file; with `month`, only rows whose `time` is that
    month. Rows whose HTS8 the schedule does not cover are kept aside (`out_of_scope`)."""
    path = Path(path)
    time = pl.col("time").str.strip_chars().str.slice(0, 7)
    select = (lambda lazy: lazy.filter(time == month)) if month is not None else None
    staged = stage_rows(_read_census(path, select), CENSUS, census_country_codes())
    covered = in_schedule(staged.stg, schedule)
    return load_result(staged, result=CensusLoad, stg=staged.stg.filter(covered),
                       out_of_scope=staged.stg.filter(~covered))


def validate_census_file(path: Path, schedule: Schedule) -> list[Problem]:
    """Every row problem of a Census file (`tariffcost validate --kind census`)."""
    del schedule
    return file_problems(_read_census(Path(path)), CENSUS, census_country_codes())


def census_warnings(tables: dict[str, pl.DataFrame], loaded: dict) -> list[str]:
    """The Census comparison for the run summary: our total against Census's calculated duty,
    and the well-formed rows left out because the schedule does not cover their HTS8."""
    census = loaded.get("census")
    mart = tables.get("fct_census_duty_by_hs_month")
    if census is None or mart is None:
        return []
    notes = []
    if mart.height:
        calculated = mart["calculated_duty_usd"].sum()
        computed = mart["computed_duty_usd"].sum()
        gap = f" ({(computed / calculated - 1) * 100:+.2f}%)" if calculated else ""
        notes.append(
            f"census: computed duty ${computed:,.2f} vs Census calculated ${calculated:,.2f}{gap} "
            f"on {mart.height:,} HS10 x country rows"
        )
    skipped = census.out_of_scope
    if skipped.height:
        notes.append(
            f"census: {skipped.height:,} rows (${skipped['customs_value_usd'].sum():,.2f}) outside the "
            "schedule's MFN chapters were not priced"
        )
    return notes
