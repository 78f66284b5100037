"""The broker's commands through typer's CliRunner: `validate --customs-map` shows the mapping
and the headers that did not map (with a close match), a bad map exits 2 naming map, key and
value before anything runs, and `refunds` writes the CAPE declaration and worksheet."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from flows.config import MAPS_DIR, SAMPLE_DIR
from flows.inputs.schedule import read_schedule
from flows.run.monthly import RunOptions, run_months

ES003 = SAMPLE_DIR / "es003_2025-10.csv"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    """An error message without the box typer draws around it, on one line."""
    return " ".join(text.replace("│", " ").split())


def test_validate_shows_the_mapping_then_the_problems():
    result = invoke("validate", ES003, "--customs-map", "ace_es003")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0] == "customs map ace_es003 (layout line_tariff_rows, dates %m/%d/%Y):"
    assert "  'HTS Number' -> hts_code" in out
    assert "  'Mode of Transportation Code' -> transport_mode   values: 16 mapped" in out
    assert f"{ES003}: row 96, column transport_mode: transport_mode_allowed: must be one of vessel, air, truck, rail, mail, other (value '99')" in out
    assert "9 problems (customs)" in result.stderr


def test_validate_names_a_header_that_did_not_map_with_its_close_match(tmp_path):
    typo = tmp_path / "typo.toml"
    typo.write_text((MAPS_DIR / "ace_es003.toml").read_text().replace('"HTS Number"', '"HTS Nmber"'))
    result = invoke("validate", ES003, "--customs-map", typo)
    assert result.exit_code == 2
    assert "  'HTS Nmber' -> hts_code   MISSING from the file" in result.stdout
    assert "  'HTS Number' not mapped (ignored) (close to the map's 'HTS Nmber', not found in the file)" in result.stdout
    message = flat(result.stderr)
    assert "columns.hts_code = 'HTS Nmber': no such header in" in message
    assert "closest header in the file: 'HTS Number'" in message


def test_run_refuses_a_bad_map_before_starting(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((MAPS_DIR / "ace_es003.toml").read_text().replace("%m/%d/%Y", "MM/DD/YYYY"))
    result = invoke("run", "--month", "2025-10", "--customs", ES003, "--customs-map", bad, "--db", tmp_path / "w.duckdb")
    assert result.exit_code == 2
    assert "date_format = 'MM/DD/YYYY'" in flat(result.stderr)
    assert not (tmp_path / "w.duckdb").exists()
    unknown = invoke("run", "--month", "2025-10", "--customs", ES003, "--customs-map", "no_such_map", "--db", tmp_path / "w.duckdb")
    assert unknown.exit_code == 2 and "neither a file nor a shipped map" in flat(unknown.stderr)
    no_customs = invoke("run", "--month", "2025-10", "--customs-map", "ace_es003", "--db", tmp_path / "w.duckdb")
    assert no_customs.exit_code == 2


def test_refunds_writes_the_cape_declaration_and_worksheet(tmp_path):
    db = tmp_path / "w.duckdb"
    options = RunOptions(db_path=db, exports_dir=tmp_path / "exports", inputs={"customs": ES003},
                         max_reject_rate=0.1, customs_map="ace_es003")
    [result] = run_months(["2025-10"], options, schedule=read_schedule(None))
    assert result.status == "success"
    out = tmp_path / "claims" / "cape.csv"
    # as of 2026-05-01 the October 2025 entries are estimated unliquidated (entry + 314 days)
    done = invoke("refunds", "--importer", "04-371550600", "--month", "2025-10", "--db", db, "--out", out,
                  "--as-of", "2026-05-01")
    assert done.exit_code == 0, done.output
    assert "28 entries with IEEPA duty (USD 313,369.86), 28 eligible for CAPE as of 2026-05-01" in done.stdout
    declaration = pl.read_csv(out, infer_schema=False)
    assert declaration.columns == ["Entry Number"] and declaration.height == 28
    assert declaration["Entry Number"].str.len_chars().to_list() == [11] * 28
    sheet_text = (tmp_path / "claims" / "cape.worksheet.csv").read_text()
    assert sheet_text.startswith("# CAPE worksheet of importer 04-371550600, months 2025-10")
    assert "could not be confirmed" in sheet_text
    sheet = pl.read_csv(tmp_path / "claims" / "cape.worksheet.csv", comment_prefix="#", infer_schema=False)
    assert sheet.height == 28 and set(sheet["refund_status"]) == {"likely_unliquidated"}
    # as of today (2026-12), past the 80 days after the estimated liquidation: none eligible
    later = invoke("refunds", "--importer", "04-371550600", "--db", db, "--out", tmp_path / "later.csv",
                   "--as-of", "2026-12-01")
    assert later.exit_code == 0 and "no entry is eligible for CAPE" in later.stdout
    assert not (tmp_path / "later.csv").exists()
    missing = invoke("refunds", "--importer", "NOBODY", "--db", db, "--out", tmp_path / "x.csv")
    assert missing.exit_code == 1 and "no IEEPA refund lines for importer NOBODY" in missing.stderr



def test_serve_passes_the_customs_map_to_the_deployment(monkeypatch, tmp_path):
    from prefect import Flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    calls = []
    monkeypatch.setattr(Flow, "serve", lambda self, **kwargs: calls.append(kwargs))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        result = invoke("serve", "--customs", ES003, "--customs-map", "ace_es003", "--db", tmp_path / "w.duckdb")
        bad = invoke("serve", "--customs", ES003, "--customs-map", "no_such_map", "--db", tmp_path / "w.duckdb")
    assert result.exit_code == 0, result.output
    [kwargs] = calls
    assert kwargs["parameters"]["customs_map"] == "ace_es003"
    assert kwargs["parameters"]["customs"] == str(ES003)
    assert bad.exit_code == 2
