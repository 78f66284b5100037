"""`tariffcost` commands through typer's CliRunner: outputs and exit codes (0 ok, 1 run
failed / problems found, 2 bad command line)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import SERVE_CRON, SERVE_TIMEZONE, app
from flows.warehouse.lock import warehouse_lock
from tests.conftest import CUSTOMS_HEADER
from tests.flows.frames import BAD_JUNE, CAR_JUNE, CAR_JUNE_2

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


# ------------------------------------------------------------------------------- quote


@pytest.mark.parametrize(
    ("entry_date", "components", "total"),
    [
        # 2.5% MFN on $30,000.00 = 750.00
        ("2025-03-15", [("mfn", "MFN", 0.025, "750.00")], "750.00"),
        # + Section 232 autos 25% = 7,500.00; no IEEPA on 232 goods
        ("2025-06-10", [("mfn", "MFN", 0.025, "750.00"), ("section_232", "9903.94.01", 0.25, "7500.00")], "8250.00"),
        # Japan deal: 15% total = 750.00 MFN + 12.5% extra 3,750.00 (9903.94.41)
        ("2025-09-16", [("mfn", "MFN", 0.025, "750.00"), ("section_232", "9903.94.41", 0.125, "3750.00")], "4500.00"),
        # still 15% total after IEEPA ends (Section 122 excludes 232 goods) and after the 2026
        # Section 301 start (also excludes them)
        ("2026-03-01", [("mfn", "MFN", 0.025, "750.00"), ("section_232", "9903.94.41", 0.125, "3750.00")], "4500.00"),
        ("2026-08-01", [("mfn", "MFN", 0.025, "750.00"), ("section_232", "9903.94.41", 0.125, "3750.00")], "4500.00"),
    ],
)
def test_quote_json_worked_examples(entry_date, components, total):
    result = invoke("quote", "--hts", "8703.23.01.90", "--origin", "JP", "--entry-date", entry_date,
                    "--value", "30000", "--json")
    assert result.exit_code == 0, result.output
    quote = json.loads(result.stdout)
    assert {k: quote[k] for k in ("hts_code", "origin", "entry_date", "customs_value_usd", "mfn_rate")} == {
        "hts_code": "8703230190", "origin": "JP", "entry_date": entry_date,
        "customs_value_usd": "30000.00", "mfn_rate": 0.025,
    }
    assert [(c["program"], c["heading"], c["rate"], c["duty_usd"]) for c in quote["components"]] == components
    assert quote["total_duty_usd"] == total


def test_quote_text_is_a_7501_style_breakdown():
    result = invoke("quote", "--hts", "8703230190", "--origin", "jp", "--entry-date", "2025-09-16", "--value", "30000")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["HTS", "8703.23.01.90", "origin", "JP", "entry", "date", "2025-09-16"]
    assert any(line.split()[:2] == ["9903.94.41", "section_232"] and line.split()[-1] == "3,750.00" for line in lines)
    assert lines[-1].split() == ["total", "duty", "4,500.00"]


@pytest.mark.parametrize(
    "bad",
    [
        ["--hts", "8703", "--origin", "JP", "--entry-date", "2025-06-10", "--value", "1"],
        ["--hts", "9999.99.99.99", "--origin", "JP", "--entry-date", "2025-06-10", "--value", "1"],
        ["--hts", "8703230190", "--origin", "JPN", "--entry-date", "2025-06-10", "--value", "1"],
        ["--hts", "8703230190", "--origin", "JP", "--entry-date", "2025-06-31", "--value", "1"],
        ["--hts", "8703230190", "--origin", "JP", "--entry-date", "2025-06-10", "--value", "-1"],
        ["--hts", "8703230190", "--origin", "JP", "--entry-date", "2025-06-10", "--value", "1.005"],
        ["--hts", "8703230190", "--origin", "JP", "--entry-date", "2025-06-10"],
    ],
)
def test_quote_bad_command_line_exits_2(bad):
    assert invoke("quote", *bad).exit_code == 2


def test_quote_answers_without_importing_prefect_or_pandera():
    # its latency is measured by bench/run_bench.py (README "Performance"), not asserted here;
    # neither Prefect nor pandera (the contracts) is needed to price one line
    script = textwrap.dedent(
        """
        import sys
        from typer.testing import CliRunner
        from flows.cli import app
        result = CliRunner().invoke(app, ["quote", "--hts", "8703230190", "--origin", "JP",
                                          "--entry-date", "2025-06-10", "--value", "30000", "--json"])
        print(result.exit_code, "prefect" in sys.modules, "pandera" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    code, prefect_loaded, pandera_loaded = out.stdout.split()
    assert (code, prefect_loaded, pandera_loaded) == ("0", "False", "False"), out.stderr


# ------------------------------------------------------------------------- validate


def test_validate_clean_file_exits_0(customs_csv):
    path = customs_csv([CAR_JUNE, CAR_JUNE_2])
    result = invoke("validate", path, "--kind", "customs")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{path}: no problems (customs)"


def test_validate_prints_counts_then_examples_and_exits_1(customs_csv):
    path = customs_csv([CAR_JUNE, BAD_JUNE])
    result = invoke("validate", path, "--kind", "customs")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}: 1 problem in 1 row (customs)",
        "  country_of_origin / iso3166_alpha2: 1 row: must be an ISO 3166-1 alpha-2 country code (JP)",
        "country_of_origin / iso3166_alpha2 (every row):",
        "  row 2: 'XZ'",
    ]


def _us_dates(line: str) -> str:
    """CAR_JUNE with its ISO entry date written month/day/year."""
    cells = line.split(",")
    year, month, day = cells[2].split("-")
    cells[2] = f"{month}/{day}/{year}"
    return ",".join(cells)


def test_validate_counts_each_check_once_and_shows_at_most_n_examples(customs_csv):
    # 12 rows, all with M/D/YYYY dates; row 7 also has an unknown origin
    rows = [_us_dates(CAR_JUNE.replace(",1,2025", f",{i + 1},2025", 1)) for i in range(12)]
    rows[6] = rows[6].replace(",JP,", ",XZ,")
    path = customs_csv(rows)
    lines = invoke("validate", path, "--kind", "customs", "--examples", "2").stdout.splitlines()
    assert lines[0] == f"{path}: 13 problems in 12 rows (customs)"
    assert lines[1].startswith("  entry_date / date_excel_style: 12 rows: ")
    assert lines[2].startswith("  country_of_origin / iso3166_alpha2: 1 row: ")
    assert lines[3:6] == ["entry_date / date_excel_style (first 2 of 12 rows):", "  row 1: '06/10/2025'",
                          "  row 2: '06/10/2025'"]
    assert lines[6:] == ["country_of_origin / iso3166_alpha2 (every row):", "  row 7: 'XZ'"]
    every = invoke("validate", path, "--kind", "customs", "--all").stdout.splitlines()
    assert sum(line.startswith("  row ") for line in every) == 13


def test_validate_json_has_the_counts_and_examples(customs_csv):
    rows = [_us_dates(CAR_JUNE.replace(",1,2025", f",{i + 1},2025", 1)) for i in range(8)]
    path = customs_csv(rows)
    result = invoke("validate", path, "--kind", "customs", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["file"], report["kind"], report["problems"], report["rows"]) == (str(path), "customs", 8, 8)
    [check] = report["checks"]
    assert (check["column"], check["check"], check["rows"]) == ("entry_date", "date_excel_style", 8)
    assert [e["row"] for e in check["examples"]] == [1, 2, 3, 4, 5]  # the default: 5 examples
    clean = json.loads(invoke("validate", customs_csv([CAR_JUNE], name="ok.csv"), "--kind", "customs",
                              "--json").stdout)
    assert (clean["problems"], clean["checks"]) == (0, [])


def test_validate_a_file_level_problem_is_one_line_without_row_counts(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text(CUSTOMS_HEADER.replace(",", ";") + "\n" + CAR_JUNE.replace(",", ";") + "\n")
    result = invoke("validate", path, "--kind", "customs")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: 1 problem (customs)"
    assert lines[1].startswith("  delimiter: ") and "';'" in lines[1]
    assert len(lines) == 2


@pytest.mark.parametrize("bad", [["--kind", "tea"], [], ["--kind"]])
def test_validate_bad_command_line_exits_2(customs_csv, bad):
    assert invoke("validate", customs_csv([CAR_JUNE]), *bad).exit_code == 2
    assert invoke("validate", "/no/such/file.csv", "--kind", "customs").exit_code == 2


# ------------------------------------------------------------------------- schedule


def test_schedule_lists_measures_in_force_with_unconfirmed_flags():
    result = invoke("schedule", "--date", "2026-08-01", "--origin", "JP")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and not line.startswith("    ")}
    # the Japan deal for cars (inclusive 15%) and the 2026 Section 301 duty, which is UNCONFIRMED
    assert "9903.94.41 / 9903.94.40" in rows["s232_autos_jp_deal"] and "15% total" in rows["s232_autos_jp_deal"]
    assert rows["s301_jp_2026"].rstrip().endswith("UNCONFIRMED")
    assert "UNCONFIRMED" not in rows["s232_autos_jp_deal"]
    # IEEPA ended 2026-02-24: nothing of it is in force on 2026-08-01
    assert not [k for k in rows if k.startswith("ieepa")]
    assert invoke("schedule", "--date", "2026-02-30").exit_code == 2


# ---------------------------------------------------------------- run / backfill / serve


@pytest.mark.parametrize(
    "bad",
    [
        ["run", "--month", "2025-13"],
        ["run", "--month", "June"],
        ["run", "--customs", "/no/such/file.csv"],
        ["run", "--max-reject-rate", "1.5"],
        ["run", "--no-such-option"],
        ["backfill", "--from", "2025-05", "--to", "2025-01"],
        ["backfill", "--from", "2025-5", "--to", "2025-06"],
        ["backfill", "--from", "2025-01"],
        [],
    ],
)
def test_run_and_backfill_bad_command_line_exit_2(bad):
    assert invoke(*bad).exit_code == 2


def test_run_publishes_and_exits_0(prefect_harness, tmp_path, customs_csv):
    db, exports = tmp_path / "w.duckdb", tmp_path / "exports"
    result = invoke("run", "--month", "2025-06", "--customs", customs_csv([CAR_JUNE, CAR_JUNE_2]),
                    "--db", db, "--exports", exports)
    assert result.exit_code == 0, result.output
    assert "2025-06  SUCCESS" in result.stdout
    assert "rows in 2, rejected 0 (0.00%), lines published 2" in result.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT sum(total_duty_usd) FROM fct_duty_lines").fetchall()[0][0] == 16500  # 2 × 8,250.00
    con.close()


def test_run_over_the_reject_threshold_exits_1_and_publishes_nothing(prefect_harness, tmp_path, customs_csv):
    db = tmp_path / "w.duckdb"
    result = invoke("run", "--month", "2025-06", "--customs", customs_csv([CAR_JUNE, BAD_JUNE]),
                    "--db", db, "--exports", tmp_path / "exports")
    assert result.exit_code == 1
    assert "1 of 2 input rows rejected (50.00%) exceeds --max-reject-rate 1.00%" in result.stdout
    assert "country_of_origin / iso3166_alpha2: 1 row (e.g. row 2 'XZ')" in result.stdout
    assert not db.exists() and not (tmp_path / "exports").exists()


def test_run_refused_while_another_holds_the_lock_exits_1(prefect_harness, tmp_path, customs_csv):
    db = tmp_path / "w.duckdb"
    with warehouse_lock(db):
        result = invoke("run", "--month", "2025-06", "--customs", customs_csv([CAR_JUNE]), "--db", db,
                        "--exports", tmp_path / "exports")
    assert result.exit_code == 1
    assert "another run holds the warehouse lock (pid " in result.stderr
    assert not db.exists()


def never_serve(self, **kwargs):
    raise AssertionError("the test must not start serving")


def test_serve_needs_a_prefect_server(monkeypatch):
    from prefect import Flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setattr(Flow, "serve", never_serve)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    # no API configured (the session's test harness may have set one: unset it here)
    with temporary_settings(updates={PREFECT_API_URL: None}):
        result = invoke("serve", "--customs", REPO / "es003_{month}.csv")
    assert result.exit_code == 1
    assert "prefect server start" in result.stderr


def test_serve_deploys_the_monthly_flow_on_the_5th_at_6_new_york(monkeypatch, tmp_path):
    from prefect import Flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    calls = []
    monkeypatch.setattr(Flow, "serve", lambda self, **kwargs: calls.append((self.name, kwargs)))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        result = invoke("serve", "--db", tmp_path / "w.duckdb", "--customs", tmp_path / "es003_{month}.csv",
                        "--allow-empty")
    assert result.exit_code == 0, result.output
    [(name, kwargs)] = calls
    [schedule] = kwargs["schedules"]
    assert name == "monthly-duty-run"
    assert (schedule.cron, schedule.timezone) == (SERVE_CRON, SERVE_TIMEZONE) == ("0 6 5 * *", "America/New_York")
    assert kwargs["parameters"]["db"] == str(tmp_path / "w.duckdb")
    # the inputs as given: each scheduled run fills in its month
    assert kwargs["parameters"]["customs"] == str(tmp_path / "es003_{month}.csv")
    assert kwargs["parameters"]["allow_empty"] is True
    assert "month" not in kwargs["parameters"]  # each run takes the previous month when it starts


# ------------------------------------------------------------------------- help and shared rules


def test_quote_refuses_an_origin_the_loader_rejects():
    # XX has the alpha-2 shape but is no ISO 3166-1 country: the loader's iso3166_alpha2 check
    # rejects it, so quote must not price it
    result = invoke("quote", "--hts", "8703230190", "--origin", "XX", "--entry-date", "2025-06-10", "--value", "1")
    assert result.exit_code == 2
    assert "ISO 3166-1 alpha-2" in result.output


def test_the_origin_rule_is_the_loaders():
    from flows.cli.base import origin_option
    from transforms.stg_customs_lines import ORIGIN_RULE, customs_line_checks

    rules = {c.check: c.rule for c in customs_line_checks()}
    assert rules["iso3166_alpha2"] == ORIGIN_RULE
    assert origin_option(" jp ") == "JP"


# one real file of every input kind (the shipped sample and the Census reference data)
KIND_FILES = {
    "customs": REPO / "data" / "sample" / "customs_lines.parquet",
    "vehicles": REPO / "data" / "sample" / "vehicles.parquet",
    "census": REPO / "data" / "reference" / "census" / "japan_2024_hs10_ch87.csv",
}


def test_validate_checks_a_file_of_every_input_kind():
    from flows.inputs.kinds import INPUT_NAMES

    assert set(KIND_FILES) == set(INPUT_NAMES), "a new input kind needs a file here"
    for kind, path in KIND_FILES.items():
        result = invoke("validate", str(path), "--kind", kind)
        assert result.exit_code in (0, 1), (kind, result.output)
        assert result.stdout.splitlines()[0].startswith(f"{path}: ") and f"({kind})" in result.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_the_help_test_covers_every_command():
    import typer

    listed = {" ".join(c) for c in _commands(typer.main.get_command(app))}
    assert listed == {"run", "backfill", "serve", "quote", "validate", "schedule", "refunds", "api",
                      "api status", "api stop"}


@pytest.mark.parametrize(
    "command", ["run", "backfill", "serve", "quote", "validate", "schedule", "refunds", "api status", "api stop"]
)
def test_every_command_help_states_exit_codes_and_shows_choices(command):
    from flows.config import shipped_scenario_names

    result = runner.invoke(app, [*command.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Exit codes: 0" in text and "2 bad command line" in text
    assert "<bool>" not in text and "list[" not in text
    if command in ("run", "backfill", "serve"):
        assert "--scenario NAME|FILE" in text
        names = shipped_scenario_names()
        assert names and all(name in text for name in names)
    if command == "validate":
        assert "<customs|vehicles|census>" in text


def test_top_level_help_states_exit_codes():
    text = " ".join(runner.invoke(app, ["--help"], terminal_width=200).output.split())
    assert "Exit codes: 0 success" in text and "<bool>" not in text


def test_api_group_help_shows_no_flag_types():
    result = runner.invoke(app, ["api", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "status" in result.output and "stop" in result.output
    assert "<bool>" not in result.output
