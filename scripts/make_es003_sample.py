"""Build the ES-003-style sample (`data/sample/es003_2025-10.csv` and `.xlsx`) from the
embedded sample, deterministically (no randomness, no network).

What an importer pulls from ACE for one month: report ES-003 "Entry Summary Line Tariff
Details" for one importer of record (`IMPORTER`, 2025-10), one row per HTS number of each
entry line, written under the headers of the shipped map `data/maps/ace_es003.toml`:

- the line's own row (chapter 1-97 HTS number, value, quantity, unit) with its MFN duty;
- one row per chapter 99 heading the schedule applies to the line, with that heading's duty
  (computed by this project's own engine from the sample line: an export of entries declared
  exactly as the schedule says, so declared duty = computed duty line by line), and a 0.00
  row for each heading the sample line declares (claims) that adds no duty of its own;
- the date of exportation (the sample's `export_date`) on every row;
- dates M/D/YYYY, entry numbers without dashes, HTS numbers with dots, amounts and quantities
  with thousands separators, CBP's two-digit mode-of-transport codes.

Deliberate problems, one line each, in the order of `BAD_LINES` (tests rely on them):
  1. `date`: every row of the line dated 10/32/2025 (not a date);
  2. `mode`: mode of transportation code 99 (not a CBP code);
  3. `disagree`: the chapter 99 row dated a day later than the line's row;
  4. `no_primary`: the line's own row missing (only its chapter 99 rows);
  5. `two_primaries`: the line's own row twice.
And `WRONG_HEADING`: one Japanese auto-parts line declares its Section 232 duty under
9903.94.05 (the +25% auto-parts heading) instead of 9903.94.43 (the Japan deal's 15%
inclusive heading), same amount: its line totals agree, its heading reconciliation shows
the cause.

The sample lines of the importer's month also carry Section 232 metal content values on a
few lines, which an ES-003 has no column for: the contract-layout twin the tests compare with
(`contract_twin`) is the same lines without those two columns.

Run: .venv/bin/python scripts/make_es003_sample.py
"""

from __future__ import annotations

import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.config import SAMPLE_CUSTOMS, SAMPLE_DIR  # noqa: E402
from flows.inputs.customs import load_customs_lines  # noqa: E402
from flows.inputs.schedule import read_schedule  # noqa: E402
from transforms.duty import line_components  # noqa: E402

MONTH = "2025-10"
IMPORTER = "04-371550600"
OUT_CSV = SAMPLE_DIR / f"es003_{MONTH}.csv"
OUT_XLSX = SAMPLE_DIR / f"es003_{MONTH}.xlsx"
SHEET = "ES-003"
HEADERS = (
    "Entry Summary Number",
    "Entry Summary Line Number",
    "Entry Date",
    "HTS Number",
    "Country of Origin Code",
    "Line Tariff Goods Value Amount",
    "Line Tariff Quantity",
    "Line Tariff UOM Code",
    "Mode of Transportation Code",
    "Port of Entry Code",
    "Importer Number",
    "Line Tariff Duty Amount",
    "Export Date",
)
MODE_CODES = {"vessel": "11", "air": "40", "truck": "30", "rail": "20", "mail": "50", "other": "80"}
BAD_LINES = ("date", "mode", "disagree", "no_primary", "two_primaries")
WRONG_HEADING = ("9903.94.43", "9903.94.05")


def contract_twin() -> pl.DataFrame:
    """The importer's month in the contract layout (all text, as the embedded sample holds
    it), without the metal content columns an ES-003 does not have."""
    lines = pl.read_parquet(SAMPLE_CUSTOMS).filter(
        pl.col("entry_date").str.starts_with(MONTH) & (pl.col("importer_id") == IMPORTER)
    )
    return lines.drop("steel_content_value_usd", "aluminum_content_value_usd")


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _quantity(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():,f}"
    return text


def _us_date(day) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _dotted(hts: str) -> str:
    return f"{hts[:4]}.{hts[4:6]}.{hts[6:8]}.{hts[8:10]}"


def bad_line_keys(stg: pl.DataFrame, components: pl.DataFrame) -> dict[str, tuple[str, int]]:
    """The (entry_number, line_number) of each deliberate problem: lines with a chapter 99
    row, spread over the month, none on the wrong-heading line."""
    with_ch99 = (
        components.filter(pl.col("heading") != "MFN").select("entry_number", "line_number").unique(maintain_order=True)
    )
    keys = list(with_ch99.iter_rows())
    step = max(len(keys) // (len(BAD_LINES) + 2), 1)
    chosen = [keys[step * (i + 1)] for i in range(len(BAD_LINES))]
    return dict(zip(BAD_LINES, chosen, strict=True))


def wrong_heading_key(components: pl.DataFrame, taken) -> tuple[str, int]:
    candidates = components.filter(pl.col("heading") == WRONG_HEADING[0]).select("entry_number", "line_number")
    return next(k for k in candidates.iter_rows() if k not in taken)


def es003_rows() -> list[tuple[str, ...]]:
    schedule = read_schedule(None)
    twin = contract_twin()
    path = SAMPLE_DIR / ".es003_twin.parquet"
    twin.write_parquet(path)
    try:
        stg = load_customs_lines(path, MONTH, schedule).stg
    finally:
        path.unlink()
    components = line_components(stg, schedule).select("entry_number", "line_number", "heading", "duty_usd")
    bad = bad_line_keys(stg, components)
    problem_of = {key: name for name, key in bad.items()}
    wrong = wrong_heading_key(components, set(bad.values()))
    by_line = {
        key: rows.sort("heading").to_dicts()
        for key, rows in components.group_by(["entry_number", "line_number"], maintain_order=True)
    }
    out: list[tuple[str, ...]] = []
    for line in stg.sort("source_row").iter_rows(named=True):
        key = (line["entry_number"], line["line_number"])
        problem = problem_of.get(key)
        parts = by_line[key]
        mfn = next(p for p in parts if p["heading"] == "MFN")
        date = "10/32/2025" if problem == "date" else _us_date(line["entry_date"])
        mode = "99" if problem == "mode" else MODE_CODES[line["transport_mode"]]

        def row(
            hts: str, value: str, quantity: str, unit: str, duty: Decimal, day: str = date, line=line, mode=mode
        ) -> tuple[str, ...]:
            return (
                line["entry_number"],
                str(line["line_number"]),
                day,
                hts,
                line["country_of_origin"],
                value,
                quantity,
                unit,
                mode,
                line["port_code"],
                line["importer_id"],
                _amount(duty),
                _us_date(line["export_date"]) if line["export_date"] else "",
            )

        primary = row(
            _dotted(line["hts_code"]),
            _amount(line["customs_value_usd"]),
            _quantity(line["quantity"]),
            line["quantity_unit"],
            mfn["duty_usd"],
        )
        if problem != "no_primary":
            out.append(primary)
        if problem == "two_primaries":
            out.append(primary)
        for part in (p for p in parts if p["heading"] != "MFN"):
            heading = part["heading"]
            if key == wrong and heading == WRONG_HEADING[0]:
                heading = WRONG_HEADING[1]
            day = date
            if problem == "disagree":
                day = _us_date(line["entry_date"].replace(day=line["entry_date"].day % 28 + 1))
            out.append(row(heading, "", "", "", part["duty_usd"], day))
        # headings the line declared (claims) that add no duty of their own: a 0.00 row each
        computed = {p["heading"] for p in parts}
        for claim in (line["declared_headings"] or "").split(";"):
            if claim and claim not in computed:
                out.append(row(claim, "", "", "", Decimal("0.00")))
    return out


def write_csv(rows: list[tuple[str, ...]], path: Path) -> None:
    pl.DataFrame(rows, schema=list(HEADERS), orient="row").write_csv(path)


_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_xlsx(rows: list[tuple[str, ...]], path: Path, sheet: str, headers: tuple[str, ...] = HEADERS) -> None:
    """A minimal Office Open XML workbook, one sheet, every cell an inline string (as ACE's
    text export; numbers stay exactly as written). Fixed timestamps: byte-identical output."""
    lines = []
    for r, values in enumerate([headers, *rows], start=1):
        cells = "".join(_cell(f"{_column(c)}{r}", v) for c, v in enumerate(values) if v != "")
        lines.append(f'<row r="{r}">{cells}</row>')
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(lines)}</sheetData></worksheet>"
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SPREADSHEET}.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)


def main() -> None:
    rows = es003_rows()
    write_csv(rows, OUT_CSV)
    write_xlsx(rows, OUT_XLSX, SHEET)
    print(f"{OUT_CSV}: {len(rows)} rows; {OUT_XLSX}: sheet {SHEET!r}")


if __name__ == "__main__":
    main()
