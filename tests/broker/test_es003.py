"""Acceptance of issue 17 on the shipped ES-003-style sample (`data/sample/es003_2025-10.*`,
`scripts/make_es003_sample.py`): through `--customs-map ace_es003` it publishes the same duty
lines and totals as the same importer-month in the contract layout (less the deliberately bad
lines), its declared duty by heading reconciles to the computed duty by heading with the one
wrong heading as the cause, the workbook gives the same result, the README's custom map works
as printed, and bad maps fail before any row is read."""

from __future__ import annotations

import importlib.util
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.config import MAPS_DIR, REPO_ROOT, SAMPLE_DIR
from flows.inputs.customs import load_customs_lines
from flows.inputs.schedule import read_schedule
from flows.run.monthly import RunOptions, run_months
from schemas.customs_map import CustomsMapError

ES003_CSV = SAMPLE_DIR / "es003_2025-10.csv"
ES003_XLSX = SAMPLE_DIR / "es003_2025-10.xlsx"
MONTH = "2025-10"
LINE = ["entry_number", "line_number"]


def _script():
    spec = importlib.util.spec_from_file_location("make_es003_sample", REPO_ROOT / "scripts" / "make_es003_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schedule():
    return read_schedule(None)


def _run(tmp: Path, customs: Path, customs_map: str | None, schedule) -> Path:
    options = RunOptions(
        db_path=tmp / "w.duckdb", exports_dir=tmp / "exports", inputs={"customs": customs},
        max_reject_rate=0.1, customs_map=customs_map,
    )
    [result] = run_months([MONTH], options, schedule=schedule)
    assert result.status == "success", result.error
    return options.db_path


def table(db: Path, name: str, order: str = "entry_number, line_number") -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {name} ORDER BY {order}").pl()
    finally:
        con.close()


def _bad_lines(schedule) -> pl.DataFrame:
    """(entry_number, line_number) of the ES-003 lines the load rejects."""
    loaded = load_customs_lines(ES003_CSV, MONTH, schedule, customs_map="ace_es003")
    rows = pl.read_csv(ES003_CSV, infer_schema=False).with_row_index("row", offset=1)
    bad = rows.filter(pl.col("row").is_in(loaded.rejects["row_number"].implode()))
    return bad.select(
        entry_number=pl.col("Entry Summary Number"), line_number=pl.col("Entry Summary Line Number").cast(pl.Int64)
    ).unique()


@pytest.fixture(scope="module")
def es003_db(tmp_path_factory, schedule) -> Path:
    return _run(tmp_path_factory.mktemp("es003"), ES003_CSV, "ace_es003", schedule)


@pytest.fixture(scope="module")
def contract_db(tmp_path_factory, schedule) -> Path:
    """The same importer-month in the contract layout, without the lines the ES-003 file
    spoils on purpose (so both runs price the same lines, and so the same entry fees)."""
    tmp = tmp_path_factory.mktemp("contract")
    bad = _bad_lines(schedule)
    twin = _script().contract_twin()
    twin = twin.with_columns(
        _entry=pl.col("entry_number").str.replace_all("-", ""), _line=pl.col("line_number").cast(pl.Int64)
    ).join(bad, left_on=["_entry", "_line"], right_on=LINE, how="anti").drop("_entry", "_line")
    path = tmp / "twin.csv"
    twin.write_csv(path)
    return _run(tmp, path, None, schedule)


def test_the_sample_problems_are_rejected_with_their_rows(es003_db):
    rejects = table(es003_db, "rejects", "row_number, \"column\"")
    assert rejects.select("row_number", "column", "check").rows() == [
        (48, "entry_date", "date_format"),
        (49, "entry_date", "date_format"),
        (96, "transport_mode", "transport_mode_allowed"),
        (142, "entry_date", "line_rows_disagree"),
        (143, "entry_date", "line_rows_disagree"),
        (190, "hts_code", "line_no_primary_row"),
        (236, "hts_code", "line_several_primary_rows"),
        (237, "hts_code", "line_several_primary_rows"),
        (238, "hts_code", "line_several_primary_rows"),
    ]


def test_es003_publishes_the_same_duty_lines_as_the_contract_layout(es003_db, contract_db):
    es003, contract = table(es003_db, "fct_duty_lines"), table(contract_db, "fct_duty_lines")
    assert es003.height == contract.height == 157
    # everything but the declared duty is the same, cent for cent
    declared = ["declared_duty_usd", "declared_headings"]  # what the ES-003 declares, by construction
    # (each run tags its rows with its own run_id)
    assert es003.drop(*declared, "run_id").equals(contract.drop(*declared, "run_id"))
    # the ES-003 declares every line as the schedule prices it: its rows sum to the total
    assert es003["declared_duty_usd"].to_list() == es003["total_duty_usd"].to_list()
    order = "month, hts_code, country_of_origin"
    assert table(es003_db, "fct_duty_by_hs_month", order).drop("run_id").equals(
        table(contract_db, "fct_duty_by_hs_month", order).drop("run_id"))
    assert es003["total_duty_usd"].sum() == Decimal("1576285.27")


def test_declared_duty_by_heading_reconciles_and_shows_the_wrong_heading(es003_db):
    by_heading = table(es003_db, "fct_declared_duty_by_heading", "entry_number, line_number, heading")
    lines = table(es003_db, "fct_duty_lines")
    per_line = by_heading.group_by(LINE).agg(
        declared=pl.col("declared_duty_usd").sum(), computed=pl.col("computed_duty_usd").sum()
    ).join(lines.select(*LINE, "declared_duty_usd", "total_duty_usd"), on=LINE)
    assert per_line.height == lines.height
    assert (per_line["declared"] == per_line["declared_duty_usd"]).all()
    assert (per_line["computed"] == per_line["total_duty_usd"]).all()
    # by heading over the month, declared = computed except the wrong line's two headings
    totals = by_heading.group_by("heading").agg(
        declared=pl.col("declared_duty_usd").sum(), computed=pl.col("computed_duty_usd").sum()
    )
    off = totals.filter(pl.col("declared") != pl.col("computed")).sort("heading")
    wrong = by_heading.filter(~pl.col("cause").is_in(["match", "no_duty_heading"])).sort("heading")
    assert wrong.select("entry_number", "line_number", "heading", "declared_duty_usd", "computed_duty_usd", "cause").rows() == [
        ("UPS34628750", 2, "9903.94.05", Decimal("1604.44"), Decimal("0.00"), "heading_not_computed"),
        ("UPS34628750", 2, "9903.94.43", None, Decimal("1604.44"), "heading_not_declared"),
    ]
    assert off["heading"].to_list() == ["9903.94.05", "9903.94.43"]
    assert (off["declared"] - off["computed"]).to_list() == [Decimal("1604.44"), Decimal("-1604.44")]
    assert by_heading["cause"].value_counts().sort("cause").rows() == [
        ("heading_not_computed", 1), ("heading_not_declared", 1), ("match", 313), ("no_duty_heading", 6)
    ]
    # the 0.00 rows are the certified-part claims the sample lines declare (9903.94.06)
    assert set(by_heading.filter(pl.col("cause") == "no_duty_heading")["heading"]) == {"9903.94.06"}


def test_the_workbook_gives_the_same_result(tmp_path, es003_db, schedule):
    xlsx_db = _run(tmp_path, ES003_XLSX, "ace_es003", schedule)
    for name in ("fct_duty_lines", "fct_declared_duty_by_heading", "fct_ieepa_refunds", "fct_reconciliation"):
        order = "entry_number, line_number" + (", heading" if name == "fct_declared_duty_by_heading" else "")
        # every column but the run each row was published by
        assert table(xlsx_db, name, order).drop("run_id").equals(table(es003_db, name, order).drop("run_id")), name
    rejects = table(xlsx_db, "rejects", "row_number, \"column\"")
    assert set(rejects["source"]) == {f"{ES003_XLSX} (sheet ES-003)"}
    csv_rejects = table(es003_db, "rejects", "row_number, \"column\"")
    assert rejects.drop("source", "run_id").equals(csv_rejects.drop("source", "run_id"))


def test_a_contract_layout_workbook_reads_as_its_csv(tmp_path, schedule):
    twin = _script().contract_twin()
    csv_path, xlsx_path = tmp_path / "lines.csv", tmp_path / "lines.xlsx"
    twin.write_csv(csv_path)
    _script().write_xlsx([tuple(v or "" for v in row) for row in twin.rows()], xlsx_path, "Lines", tuple(twin.columns))
    from_csv = load_customs_lines(csv_path, MONTH, schedule)
    from_xlsx = load_customs_lines(xlsx_path, MONTH, schedule)
    assert from_xlsx.stg.equals(from_csv.stg)
    assert from_xlsx.source == f"{xlsx_path} (sheet Lines)"
    assert from_xlsx.rejects.drop("source").equals(from_csv.rejects.drop("source"))
    # a sheet the workbook does not have is named in the error
    from flows.inputs.files import InputSchemaError
    cmap = tmp_path / "sheet.toml"
    cmap.write_text((MAPS_DIR / "contract.toml").read_text(encoding="utf-8").replace(
        'layout = "lines"', 'layout = "lines"\nsheet = "Report"'), encoding="utf-8")
    with pytest.raises(InputSchemaError, match=r"sheet 'Report': no such sheet \(sheets: Lines\)"):
        load_customs_lines(xlsx_path, MONTH, schedule, customs_map=str(cmap))


def _readme_example(tmp: Path) -> tuple[Path, Path]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**A map for another broker's layout.**"):]
    csv_text = re.search(r"```csv\n(.*?)```", section, re.S).group(1)
    toml_text = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp / "broker_xyz.csv").write_text(csv_text, encoding="utf-8")
    (tmp / "broker_xyz.toml").write_text(toml_text, encoding="utf-8")
    return tmp / "broker_xyz.csv", tmp / "broker_xyz.toml"


def test_the_readme_custom_map_works_as_printed(tmp_path, schedule):
    data, cmap = _readme_example(tmp_path)
    db = _run(tmp_path, data, str(cmap), schedule)
    lines = table(db, "fct_duty_lines")
    assert table(db, "rejects", "row_number").height == 0
    # the Japan deal car of 2025-10-15 at $30,000.00: MFN 2.5% = 750.00 + 9903.94.41 12.5% =
    # 3,750.00, 4,500.00 in all, as declared ("$4,500.00")
    assert lines.select("entry_number", "line_number", "country_of_origin", "transport_mode", "customs_value_usd",
                        "total_duty_usd", "declared_duty_usd").rows()[0] == (
        "ABC12345678", 1, "JP", "vessel", Decimal("30000.00"), Decimal("4500.00"), Decimal("4500.00"),
    )
    assert lines.select("entry_number", "country_of_origin", "transport_mode").rows()[2] == ("XYZ98765432", "KR", "air")
    # an input that declares no headings has no by-heading rows
    assert table(db, "fct_declared_duty_by_heading", "entry_number").height == 0


def test_the_contract_map_reads_a_contract_file_as_without_a_map(schedule):
    sample = SAMPLE_DIR / "customs_lines.parquet"
    plain = load_customs_lines(sample, MONTH, schedule)
    mapped = load_customs_lines(sample, MONTH, schedule, customs_map="contract")
    assert mapped.stg.equals(plain.stg)
    assert mapped.rejects.equals(plain.rejects) and mapped.rows_in == plain.rows_in


@pytest.mark.parametrize(
    ("edit", "key", "value"),
    [
        (lambda t: t.replace('line_number = "Entry Summary Line Number"', 'line_no = "Entry Summary Line Number"'),
         "columns.line_no", "Entry Summary Line Number"),
        (lambda t: t.replace('"HTS Number"', '"HTS Nr"'), "columns.hts_code", "HTS Nr"),
        (lambda t: t.replace('"%m/%d/%Y"', '"MM/DD/YYYY"'), "date_format", "MM/DD/YYYY"),
    ],
)
def test_a_bad_map_fails_naming_map_key_value_before_any_row_is_read(tmp_path, schedule, edit, key, value):
    cmap = tmp_path / "broken.toml"
    cmap.write_text(edit((MAPS_DIR / "ace_es003.toml").read_text(encoding="utf-8")), encoding="utf-8")
    # the header of the shipped sample, then bytes no reader could take: the map's error must
    # come first, so no data row was read
    data = tmp_path / "es003.csv"
    data.write_bytes(ES003_CSV.read_bytes().split(b"\n")[0] + b"\n\xff\xfe\x00garbage\n")
    with pytest.raises(CustomsMapError) as raised:
        load_customs_lines(data, MONTH, schedule, customs_map=str(cmap))
    assert (raised.value.map_name, raised.value.key, raised.value.value) == (str(cmap), key, value)
    assert str(raised.value).startswith(f"customs map {cmap}: {key} = {value!r}")
