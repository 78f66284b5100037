"""`tariffcost refunds`: write an importer's CAPE refund declaration from the warehouse (I/O).

Reads the importer's `fct_ieepa_refunds` lines (read-only), re-estimates the liquidation
status as of `as_of` (default today) with `data/refunds/refund_status_rules.csv`, and writes:

- `FILE` (and `FILE_2.csv`, … beyond 9,999 entries): the CAPE Declaration upload, one column
  `Entry Number` (layout in `transforms/cape_claims.py`, with what is and is not confirmed);
- `FILE.worksheet.csv`: every IEEPA entry of the importer with its IEEPA duty, liquidation
  estimate, CAPE eligibility and the declaration it went into; `#` lines first say where the
  layout comes from and that the liquidation dates are estimates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

from flows.inputs.refund_rules import read_refund_status_rules
from flows.warehouse.reader import connect as connect_warehouse
from transforms.cape_claims import CAPE_LAYOUT_NOTE, cape_declarations, cape_worksheet
from transforms.fct_ieepa_refunds import with_refund_status

STATUS_COLUMNS = ["estimated_liquidation_date", "as_of_date", "refund_status", "cape_eligible", "refund_status_note"]


class RefundsError(Exception):
    """Nothing to write: no warehouse, no refund ledger, or no IEEPA lines for the importer."""


@dataclass(frozen=True)
class CapeFiles:
    declarations: list[Path]
    worksheet: Path
    entries: int
    eligible_entries: int
    ieepa_duty_usd: object
    eligible_ieepa_duty_usd: object


def _refund_lines(db_path: Path, importer: str, months: list[str]) -> pl.DataFrame:
    if not Path(db_path).is_file():
        raise RefundsError(f"no warehouse at {db_path}: run `tariffcost run` first")
    query = resources.files("sql").joinpath("report_cape_refund_lines.sql").read_text(encoding="utf-8")
    con = connect_warehouse(db_path)
    try:
        tables = set(
            con.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
            .pl().get_column("table_name").to_list()
        )
        if "fct_ieepa_refunds" not in tables:
            raise RefundsError(f"{db_path} has no fct_ieepa_refunds table: run `tariffcost run` first")
        return con.sql(query, params={"importer": importer, "months": months}).pl()
    finally:
        con.close()


def _numbered(out: Path, number: int) -> Path:
    return out if number == 1 else out.with_name(f"{out.stem}_{number}{out.suffix}")


def worksheet_path(out: Path) -> Path:
    return (
        out.with_name(out.name + ".worksheet.csv")
        if out.suffix.lower() != ".csv"
        else out.with_suffix(".worksheet.csv")
    )


def write_cape_files(db_path: Path, importer: str, months: list[str], out: Path, as_of: dt.date) -> CapeFiles:
    """Write the declaration file(s) and the worksheet; RefundsError when the importer has no
    IEEPA refund line in the warehouse (for the months asked)."""
    lines = _refund_lines(db_path, importer, months)
    if lines.height == 0:
        scope = f" in {', '.join(months)}" if months else ""
        raise RefundsError(f"no IEEPA refund lines for importer {importer}{scope} in {db_path}")
    lines = with_refund_status(lines.drop(STATUS_COLUMNS), read_refund_status_rules(), as_of)
    worksheet = cape_worksheet(lines)
    declarations = cape_declarations(worksheet)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for number, declaration in enumerate(declarations, start=1):
        path = _numbered(out, number)
        declaration.write_csv(path)
        written.append(path)
    sheet = worksheet_path(out)
    eligible = worksheet.filter(pl.col("cape_eligible"))
    notes = [
        f"# CAPE worksheet of importer {importer}, months {', '.join(months) if months else 'all'}, "
        f"liquidation status estimated as of {as_of.isoformat()}",
        f"# {CAPE_LAYOUT_NOTE}",
        "# Liquidation dates are estimates (entry date + the usual lag, data/refunds/): confirm "
        "each entry's liquidation status and date in ACE (report ES-003 with Liquidation Status "
        "and Date, or ES-701) before filing.",
        "# Declaration files: " + (", ".join(str(p) for p in written) if written else "none (no eligible entry)"),
    ]
    with sheet.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(notes) + "\n")
        worksheet.write_csv(handle)
    return CapeFiles(
        declarations=written,
        worksheet=sheet,
        entries=worksheet.height,
        eligible_entries=eligible.height,
        ieepa_duty_usd=worksheet["ieepa_duty_usd"].sum(),
        eligible_ieepa_duty_usd=eligible["ieepa_duty_usd"].sum() if eligible.height else 0,
    )
