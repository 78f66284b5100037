"""Read a Census imports file (API JSON array with a header row, CSV, or Parquet) and stage it."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pycountry

from flows.config import DATA_DIR, REFERENCE_DIR
from flows.inputs.customs import problems_from_rejects, register_validator
from flows.inputs.files import InputSchemaError, Problem, is_parquet, sha256_and_utf8
from schemas.rejects import LoadRejects
from schemas.stg_census_lines import StgCensusLines
from transforms.rejects import REJECT_COLUMNS
from transforms.schedule import Schedule
from transforms.stg_census_lines import StagedCensus, stage_census

CENSUS_CODES = REFERENCE_DIR / "census" / "census_country_codes.csv"
CODE_OVERRIDES = DATA_DIR / "census" / "country_code_overrides.csv"
REQUIRED = ("CTY_CODE", "I_COMMODITY", "time")


class CensusInputError(InputSchemaError):
    """The file cannot be read as a Census imports table (a schema-level problem)."""

    def __init__(self, path: Path, problem: str, check: str = "unreadable"):
        super().__init__(str(path), check, problem)


CHECK_MESSAGES = {
    "hts10_format": "I_COMMODITY must be a 10-digit HS code",
    "cty_code_known": "CTY_CODE is not a Census country code that maps to ISO 3166-1",
    "month_format": "time must be YYYY-MM",
    "money_non_negative_2dp": "value must be a number >= 0 with at most 2 decimals",
    "grain_unique": "month x I_COMMODITY x CTY_CODE appears more than once",
}


@dataclass(frozen=True)
class CensusLoad:
    """The load stage's result for a Census input (same shape as the customs LoadResult)."""

    staged: StagedCensus
    rows_in: int
    checksum_sha256: str
    source: str

    @property
    def stg(self) -> pl.DataFrame:
        return self.staged.stg

    @property
    def rejects(self) -> pl.DataFrame:
        return self.staged.rejects

    @property
    def out_of_scope(self) -> pl.DataFrame:
        return self.staged.out_of_scope


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


def read_census_raw(path: Path) -> pl.DataFrame:
    """Every column as text, plus `source_row` (1-based data row)."""
    if not path.exists():
        raise CensusInputError(path, "file not found", "not_found")
    with path.open("rb") as handle:
        head = handle.read(4)
    try:
        if is_parquet(path):
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.col(c).cast(pl.Utf8) for c in frame.columns)
        elif head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"[") or path.suffix.lower() == ".json":
            rows = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(rows, list) or len(rows) < 2 or not isinstance(rows[0], list):
                raise CensusInputError(path, "expected a JSON array of arrays with a header row and data rows")
            header = [str(h) for h in rows[0]]
            frame = pl.DataFrame(
                [[None if v is None else str(v) for v in row] for row in rows[1:]],
                schema={h: pl.Utf8 for h in header},
                orient="row",
            )
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (json.JSONDecodeError, UnicodeDecodeError, pl.exceptions.ComputeError) as error:
        raise CensusInputError(path, f"cannot be read as a Census table: {error}") from error
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise CensusInputError(path, f"missing required column(s) {', '.join(missing)}", "missing_columns")
    if frame.height == 0:
        raise CensusInputError(path, "no data rows", "no_data_rows")
    return frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


def load_census(path: Path, month: str | None, schedule: Schedule) -> CensusLoad:
    """Read, stage and check a Census file; with `month`, only rows whose `time` is that month.
    The file's checksum comes from one streamed pass that also proves a text file is UTF-8;
    the staged rows are checked against schemas/stg_census_lines.py."""
    path = Path(path)
    if not path.exists():
        raise CensusInputError(path, "file not found", "not_found")
    checksum = sha256_and_utf8(path, str(path), check_utf8=not is_parquet(path))
    raw = read_census_raw(path)
    if month is not None:
        raw = raw.filter(pl.col("time").str.strip_chars().str.slice(0, 7) == month)
    try:
        staged = stage_census(raw, census_country_codes(), schedule, str(path))
    except ValueError as error:
        raise CensusInputError(path, str(error), "missing_columns") from error
    StgCensusLines.validate(staged.stg, lazy=True)
    LoadRejects.validate(staged.rejects.select(REJECT_COLUMNS))
    return CensusLoad(
        staged=staged,
        rows_in=raw.height,
        checksum_sha256=checksum,
        source=str(path),
    )


def validate_census_file(path: Path, schedule: Schedule) -> list[Problem]:
    """Every row problem of a Census file (`tariffcost validate --kind census`)."""
    rejects = load_census(Path(path), None, schedule).rejects.with_columns(
        message=pl.col("check").replace_strict(CHECK_MESSAGES, default="invalid value")
    )
    return problems_from_rejects(rejects)


register_validator("census", validate_census_file)


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
