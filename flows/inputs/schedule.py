"""Read a tariff schedule folder (a `schedule.toml` manifest and its CSV files) into a
validated `Schedule`.

The manifest names its files relative to its own folder (absolute paths also work), so a
scenario manifest elsewhere can point at `../default/mfn_usitc_2025.csv`. Every number is read
as text and converted to Decimal without passing through float. Any problem raises
`ScheduleError`, which lists every problem found with file, data row, column, value and rule.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows import config
from flows.inputs.problems import Problem
from transforms.schedule import Schedule, empty_exemptions, empty_metal_derivatives
from transforms.vocabulary import MONEY, RATE

MANIFEST_NAME = "schedule.toml"
REQUIRED_FILES = ("mfn", "measures", "scopes", "fees")
OPTIONAL_FILES = ("metal_derivatives", "exemptions")

# Column kinds: how the text of each column is checked and converted.
_FORMATS: dict[str, tuple[str, str]] = {
    "date": (r"^\d{4}-\d{2}-\d{2}$", "must be a date written YYYY-MM-DD"),
    "rate": (r"^\d{1,28}(\.\d{1,10})?$",
             "must be a plain non-negative decimal with at most 10 decimals (no sign, no exponent)"),
    "money": (r"^\d{1,16}(\.\d{1,2})?$",
              "must be a non-negative amount in USD with at most 2 decimals"),
    "int": (r"^-?\d{1,18}$", "must be a whole number"),
}
_DTYPES = {"str": pl.Utf8, "date": pl.Date, "rate": RATE, "money": MONEY, "int": pl.Int64}


@dataclass(frozen=True)
class TableSpec:
    """A schedule file: its columns (in frame order) with their kinds and its contract."""

    columns: dict[str, str]
    model: str  # its pandera model in schemas/schedule.py (imported only to validate)
    optional: tuple[str, ...] = ()  # columns filled with nulls when the file lacks them
    empty_as_text: tuple[str, ...] = ()  # columns where an empty cell means "" (not null)
    extra_columns_allowed: bool = False


SPECS: dict[str, TableSpec] = {
    "mfn": TableSpec(
        columns={
            "hts8": "str", "brief_description": "str", "mfn_text_rate": "str",
            "mfn_rate_type_code": "str", "mfn_ad_val_rate": "rate", "mfn_specific_rate": "rate",
            "mfn_other_rate": "rate", "quantity_1_code": "str", "quantity_2_code": "str",
        },
        model="MfnRates",
        optional=("brief_description",),
        extra_columns_allowed=True,  # the USITC database has many more columns
    ),
    "measures": TableSpec(
        columns={
            "measure_id": "str", "program": "str", "component": "str", "layer": "str",
            "scope_id": "str", "origin": "str", "valid_from": "date", "valid_to": "date",
            "shape": "str", "rate": "rate", "heading": "str", "heading_at_or_above_cap": "str",
            "excluded_by": "str", "priority": "int", "confidence": "str",
            "confidence_note": "str", "legal_source": "str", "description": "str",
            "base": "str", "condition": "str",
        },
        model="Measures",
        optional=("base", "condition"),
        empty_as_text=("excluded_by", "confidence_note", "condition"),
    ),
    "scopes": TableSpec(
        columns={"scope_id": "str", "hts_prefix": "str", "source": "str"},
        model="Scopes",
    ),
    "fees": TableSpec(
        columns={
            "fee_id": "str", "valid_from": "date", "valid_to": "date", "rate": "rate",
            "min_usd": "money", "max_usd": "money", "transport_modes": "str",
            "confidence": "str", "confidence_note": "str", "legal_source": "str",
        },
        model="Fees",
        empty_as_text=("confidence_note",),
    ),
    "metal_derivatives": TableSpec(
        columns={"hts_prefix": "str", "ch99_code": "str", "metal": "str", "effective_date": "date"},
        model="MetalDerivatives",
    ),
    "exemptions": TableSpec(
        columns={
            "exemption_id": "str", "heading": "str", "exempts": "str", "scope_id": "str",
            "origin": "str", "valid_from": "date", "valid_to": "date", "exported_before": "date",
            "condition": "str", "confidence": "str", "confidence_note": "str",
            "legal_source": "str", "description": "str",
        },
        model="Exemptions",
        empty_as_text=("confidence_note",),
    ),
}


class ScheduleError(Exception):
    """A schedule that cannot be read or breaks its contract; `problems` lists every finding."""

    MAX_LISTED = 50

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p.listed()}" for p in problems[: self.MAX_LISTED])
        more = len(problems) - self.MAX_LISTED
        tail = f"\n  … and {more} more" if more > 0 else ""
        super().__init__(f"schedule {source}: {len(problems)} problem(s)\n{listed}{tail}")


def read_schedule(path: Path | None = None) -> Schedule:
    """Read and validate the schedule at `path`: a `schedule.toml` or a folder holding one
    (default: the shipped schedule, `flows.config.DEFAULT_SCHEDULE`)."""
    manifest_path = _manifest_path(Path(path) if path is not None else config.DEFAULT_SCHEDULE)
    source = str(manifest_path)
    manifest = _read_manifest(manifest_path)
    files: dict[str, Path] = {
        kind: _resolve(manifest_path.parent, name) for kind, name in manifest["files"].items()
    }
    names = {kind: manifest["files"][kind] for kind in files}

    frames: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
    for kind, file_path in files.items():
        frame, found = _read_table(file_path, names[kind], SPECS[kind])
        frames[kind] = frame
        problems += found
    if problems:
        raise ScheduleError(source, problems)

    stamp = _validated_stamp(manifest_path, files)
    schedule = Schedule(
        version=manifest["version"],
        name=manifest["name"],
        source=source,
        mfn=frames["mfn"],
        measures=frames["measures"],
        scopes=frames["scopes"],
        fees=frames["fees"],
        metal_derivatives=frames.get("metal_derivatives", empty_metal_derivatives()),
        exemptions=frames.get("exemptions", empty_exemptions()),
    )
    if stamp is not None and stamp.exists():
        return schedule  # these exact files passed these exact contracts before
    problems = validate_schedule(schedule, file_names=names)
    if problems:
        raise ScheduleError(source, problems)
    if stamp is not None:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            pass  # a cache that cannot be written only costs the next read its validation
    return schedule


# The code whose checks a validated stamp vouches for: a change to any of it re-validates.
_CONTRACT_SOURCES = (
    Path(__file__),
    Path(__file__).resolve().parents[2] / "schemas" / "schedule.py",
    Path(__file__).resolve().parents[2] / "transforms" / "schedule.py",
    Path(__file__).resolve().parents[2] / "transforms" / "vocabulary.py",
)


def _validated_stamp(manifest: Path, files: dict[str, Path]) -> Path | None:
    """The cache file (flows.config.cache_dir()) that says this schedule passed validation:
    named by a SHA-256 of the manifest's and every file's bytes, the contract code's source and
    the pandera and polars versions. Validating the shipped schedule costs about 0.15 s and
    pandera's import as much again, which `quote` (0.5 s in all) cannot spare. None when a
    file cannot be read (the validation then reports it)."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    try:
        for path in (manifest, *files.values(), *_CONTRACT_SOURCES):
            digest.update(str(len(path.name)).encode() + path.name.encode() + path.read_bytes())
        digest.update(f"pandera {version('pandera')} polars {pl.__version__}".encode())
    except OSError:
        return None
    return config.cache_dir() / "validated-schedules" / digest.hexdigest()


def validate_schedule(schedule: Schedule, file_names: dict[str, str] | None = None) -> list[Problem]:
    """Every contract problem of an in-memory schedule (pandera models, then cross-table
    audits); empty list = valid. Useful after `Schedule.with_measures` (scenario overlays).

    `file_names` maps table kind (`mfn`, `measures`, …) to the name used in messages.
    """
    names = {kind: kind for kind in SPECS} | (file_names or {})
    frames = {
        "mfn": schedule.mfn, "measures": schedule.measures, "scopes": schedule.scopes,
        "fees": schedule.fees, "metal_derivatives": schedule.metal_derivatives,
        "exemptions": schedule.exemptions,
    }
    problems: list[Problem] = []
    for kind, frame in frames.items():
        problems += _contract_problems(frame, SPECS[kind].model, names[kind])
    if problems:
        return problems  # audits assume well-typed frames
    return _audit_problems(schedule, names)


# --- manifest -------------------------------------------------------------------------------


def _manifest_path(path: Path) -> Path:
    manifest = path / MANIFEST_NAME if path.is_dir() else path
    if not manifest.is_file():
        raise ScheduleError(str(path), [Problem(str(manifest), None, None, None, "not_found",
                                                "no such schedule manifest (a schedule.toml or a folder holding one)")])
    return manifest


def _read_manifest(path: Path) -> dict:
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(str(path), [Problem(name, None, None, None, "not_toml", f"not valid TOML: {exc}")]) from exc

    problems: list[Problem] = []
    for key in ("version", "name"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(name, None, key, _text(value), "manifest", f"`{key}` must be a non-empty string"))
    if "description" in data and not isinstance(data["description"], str):
        problems.append(Problem(name, None, "description", _text(data["description"]), "manifest",
                                "`description` must be a string"))
    files = data.get("files")
    if not isinstance(files, dict):
        problems.append(Problem(name, None, "files", _text(files), "manifest", "a [files] table is required"))
        raise ScheduleError(str(path), problems)
    for kind in REQUIRED_FILES:
        if kind not in files:
            problems.append(Problem(name, None, f"files.{kind}", None, "manifest",
                                    f"[files] must name the `{kind}` file"))
    for kind, value in files.items():
        if kind not in REQUIRED_FILES + OPTIONAL_FILES:
            problems.append(Problem(name, None, f"files.{kind}", _text(value), "manifest",
                                    f"unknown file kind; expected {', '.join(REQUIRED_FILES + OPTIONAL_FILES)}"))
        elif not isinstance(value, str) or not value:
            problems.append(Problem(name, None, f"files.{kind}", _text(value), "manifest", "must be a file path"))
        elif not _resolve(path.parent, value).is_file():
            problems.append(Problem(name, None, f"files.{kind}", value, "not_found",
                                    f"file not found (looked for {_resolve(path.parent, value)})"))
    if problems:
        raise ScheduleError(str(path), problems)
    return data


def _resolve(folder: Path, name: str) -> Path:
    candidate = Path(name)
    return candidate if candidate.is_absolute() else folder / candidate


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --- one file -------------------------------------------------------------------------------


def _read_table(path: Path, name: str, spec: TableSpec) -> tuple[pl.DataFrame, list[Problem]]:
    """The file as a typed frame of `spec.columns`, or the problems that prevent it."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        return pl.DataFrame(), [Problem(name, None, None, None, "unreadable", f"cannot be read as CSV: {exc}")]

    problems = [
        Problem(name, None, col, None, "missing_columns", "required column is missing")
        for col in spec.columns if col not in raw.columns and col not in spec.optional
    ]
    if not spec.extra_columns_allowed:
        problems += [
            Problem(name, None, col, None, "unexpected_column",
                    f"unexpected column; expected exactly: {', '.join(spec.columns)}")
            for col in raw.columns if col not in spec.columns
        ]
    if problems:
        return pl.DataFrame(), problems

    raw = raw.with_columns(
        [pl.lit(None, dtype=pl.Utf8).alias(c) for c in spec.optional if c not in raw.columns]
    ).select(list(spec.columns)).with_columns(
        [pl.col(c).fill_null("") for c in spec.empty_as_text]
    )
    checked = {col: kind for col, kind in spec.columns.items() if kind in _FORMATS}
    # which columns have a bad value, in one pass; the rows are listed only for those
    bad = raw.select(_bad_format(col, kind).any().alias(col) for col, kind in checked.items())
    for col, kind in checked.items():
        if bad.get_column(col).item():
            problems += _format_problems(raw, name, col, kind)
    if problems:
        return pl.DataFrame(), problems
    return raw.with_columns([_convert(col, kind) for col, kind in spec.columns.items()]), []


def _bad_format(col: str, kind: str) -> pl.Expr:
    """True where the column's text breaks its kind's format."""
    pattern, _ = _FORMATS[kind]
    text = pl.col(col)
    bad = text.is_not_null() & ~text.str.contains(pattern)
    if kind == "date":
        bad = bad | (text.is_not_null() & text.str.to_date("%Y-%m-%d", strict=False).is_null())
    return bad


def _format_problems(raw: pl.DataFrame, name: str, col: str, kind: str) -> list[Problem]:
    _, rule = _FORMATS[kind]
    offending = (
        raw.with_row_index("row", offset=1).filter(_bad_format(col, kind)).select("row", col)
    )
    return [Problem(name, int(row), col, value, f"{kind}_format", rule) for row, value in offending.iter_rows()]


def _convert(col: str, kind: str) -> pl.Expr:
    if kind == "str":
        return pl.col(col)
    if kind == "date":
        return pl.col(col).str.to_date("%Y-%m-%d")
    return pl.col(col).cast(_DTYPES[kind])  # text -> Decimal/Int64 directly: never via float


# --- contracts and audits ---------------------------------------------------------------------


def _contract_problems(frame: pl.DataFrame, model_name: str, name: str) -> list[Problem]:
    import pandera.polars as pa

    from schemas import schedule as contracts

    model = getattr(contracts, model_name)
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.sort("index", "column", nulls_last=False)
        grain = ", ".join(getattr(model.Config, "unique", None) or [])
        return [
            Problem(
                name,
                None if index is None else int(index) + 1,
                column if schema_context == "Column" else (grain or None),
                case,
                check,
                f"breaks check {check}"
                + (f" (the grain: ({grain}) must be unique)" if check == "multiple_fields_uniqueness" else ""),
            )
            for case, schema_context, column, check, index in cases.select(
                "failure_case", "schema_context", "column", "check", "index"
            ).iter_rows()
        ]
    return []


def _audit_problems(schedule: Schedule, names: dict[str, str]) -> list[Problem]:
    from schemas import schedule as contracts

    measures, scopes = schedule.measures, schedule.scopes
    problems: list[Problem] = []
    for row, measure_id, scope_id in contracts.measures_with_unknown_scope(measures, scopes).iter_rows():
        problems.append(Problem(names["measures"], row, "scope_id", scope_id, "unknown_scope",
                                f"measure {measure_id}: scope_id must be `*` or a scope_id of "
                                f"{names['scopes']}"))
    for row, measure_id, excluded in contracts.measures_with_unknown_exclusion(measures).iter_rows():
        problems.append(Problem(names["measures"], row, "excluded_by", excluded, "unknown_exclusion",
                                f"measure {measure_id}: excluded_by must name other measure_ids "
                                f"of {names['measures']}"))
    for row, measure_id, row_other, other, prefix, layer in contracts.ambiguous_measures(
        measures, scopes
    ).iter_rows():
        problems.append(Problem(
            names["measures"], row, "measure_id", measure_id, "ambiguous_measures",
            f"ambiguous with {other} (row {row_other}): layer {layer}, same origin and priority, "
            f"same HTS prefix {prefix or '*'} and overlapping dates; the selection rule cannot "
            "choose (change a window, an origin or a priority)",
        ))
    for row, exemption_id, scope_id in contracts.exemptions_with_unknown_scope(schedule.exemptions, scopes).iter_rows():
        problems.append(Problem(names["exemptions"], row, "scope_id", scope_id, "unknown_scope",
                                f"exemption {exemption_id}: scope_id must be `*` or a scope_id of "
                                f"{names['scopes']}"))
    unknown = contracts.exemptions_with_unknown_measure(schedule.exemptions, measures)
    for row, exemption_id, exempted in unknown.iter_rows():
        problems.append(Problem(names["exemptions"], row, "exempts", exempted, "unknown_measure",
                                f"exemption {exemption_id}: exempts must name measure_ids of "
                                f"{names['measures']}"))
    for row, fee_id, row_other, _start, _start_other in contracts.overlapping_fees(schedule.fees).iter_rows():
        problems.append(Problem(names["fees"], row, "valid_from", str(_start), "overlapping_fees",
                                f"fee {fee_id} overlaps row {row_other} (from {_start_other}) for a "
                                "common transport mode: at most one row per fee may be in force"))
    return problems
