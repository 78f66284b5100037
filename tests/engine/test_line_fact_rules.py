"""Hand-computed legal cases for the duty rules a line's own facts decide (issue 16): the
in-transit rules (export date), Section 232 metal content, the Section 122 exemption lists and
declared chapter 99 claims, each priced by the shipped default schedule

- through the engine on a line (`compute_line_duty`),
- through `tariffcost quote --json` (the CLI, with --export-date, --steel-content,
  --aluminum-content, --claim),
- through `tariffcost backfill` on a customs file carrying the optional columns (slow),

and the three must agree to the cent. The arithmetic is in each case's comment. Transport is
by vessel unless the case says otherwise; values in USD.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.inputs.schedule import read_schedule
from tests.conftest import write_customs_csv
from transforms.duty import compute_line_duty
from transforms.vocabulary import MONEY, RATE

D = Decimal
MOTORCYCLE = "8711406000"  # MFN 2.4%, on no Section 232 list, not a metal derivative
STEEL_BIKE = "8711500060"  # MFN 2.4%, steel derivative (9903.81.91) from 2025-08-18
HINGES = "8302106000"  # MFN 3.5%, aluminum derivative of the original list (9903.85.08); US note 16(c)(vi)
SPRAYERS = "8424899000"  # MFN 1.8%, US note 16(c)(ix)-(x) (2026: 15% total)
CAR = "8703230190"  # MFN 2.5%, US note 33(b)
BRAKES = "8708305090"  # MFN 2.5%, note 33(g) auto part
GLASS = "7007110010"  # MFN 5.5%, safety glass: an auto part NOT on the note 33(g) list
BOLTS = "7318158000"  # MFN 8.5%, chapter 73: no certified-part heading
RUBBER = "4001210000"  # MFN Free, Section 122 exempt list of note 2(aa)(ii)
TURBINE_PARTS = "8411919000"  # MFN Free, civil-aircraft list of note 2(aa)(iv)
MEDIUM_TRUCK = "8704225160"  # MFN 25%, note 38(b)
BUS = "8702103190"  # MFN 2%, note 38(c)
WORKS_TRUCK_PARTS = "8709900000"  # MFN Free, note 38(i) (not on note 33(g))


@dataclass(frozen=True)
class Case:
    name: str
    hts: str
    origin: str
    entry_date: str
    value: str
    total: str
    headings: str
    export_date: str | None = None
    steel: str | None = None
    aluminum: str | None = None
    claims: tuple[str, ...] = ()
    mode: str = "vessel"
    refused: tuple[str, ...] = ()
    flag: str | None = None  # a flag the line must carry (None: no flag at all)


CASES = [
    # --- in-transit: 9903.01.28 (loaded before 2025-04-05) ------------------------------------
    # loaded 04-04: no reciprocal; MFN 2.4% x 10,000 = 240.00
    Case("apr5_loaded_day_before", MOTORCYCLE, "JP", "2025-04-05", "10000.00", "240.00", "9903.01.28",
         export_date="2025-04-04", flag="unconfirmed:ieepa_in_transit_apr5"),
    # loaded on the day: 240.00 + 10% x 10,000 = 1,000.00 -> 1,240.00
    Case("apr5_loaded_on_the_day", MOTORCYCLE, "JP", "2025-04-05", "10000.00", "1240.00", "9903.01.25",
         export_date="2025-04-05"),
    # entered the day before CBP's cut-off (before 2025-06-16): still none -> 240.00
    Case("apr5_entered_day_before_cutoff", MOTORCYCLE, "JP", "2025-06-15", "10000.00", "240.00", "9903.01.28",
         export_date="2025-04-01", flag="unconfirmed:ieepa_in_transit_apr5"),
    # entered on the cut-off day: 240.00 + 1,000.00 = 1,240.00
    Case("apr5_entered_on_cutoff", MOTORCYCLE, "JP", "2025-06-16", "10000.00", "1240.00", "9903.01.25",
         export_date="2025-04-01"),
    # by air: no in-transit relief (vessel only): 1,240.00 (engine and run only: quote is by vessel)
    Case("apr5_by_air", MOTORCYCLE, "JP", "2025-04-05", "10000.00", "1240.00", "9903.01.25",
         export_date="2025-04-04", mode="air"),
    # no export date: priced as today, flagged
    Case("apr5_export_date_missing", MOTORCYCLE, "JP", "2025-04-05", "10000.00", "1240.00", "9903.01.25",
         flag="in-transit rule 9903.01.28 may apply: export_date not declared"),
    # --- 9903.01.53 (24% on 2025-04-09; not on goods loaded before 04-09) ------------------------
    # loaded 04-08: the 10% baseline: 240.00 + 1,000.00 = 1,240.00
    Case("apr9_loaded_day_before", MOTORCYCLE, "JP", "2025-04-09", "10000.00", "1240.00", "9903.01.25",
         export_date="2025-04-08"),
    # loaded 04-09: 240.00 + 24% x 10,000 = 2,400.00 -> 2,640.00
    Case("apr9_loaded_on_the_day", MOTORCYCLE, "JP", "2025-04-09", "10000.00", "2640.00", "9903.01.53",
         export_date="2025-04-09"),
    # --- EO 14326 (loaded before 2025-08-07, entered before 2025-10-05: the earlier 10%) --------
    # loaded 08-06, entered 10-04: 240.00 + 1,000.00 = 1,240.00
    Case("aug7_loaded_day_before", MOTORCYCLE, "JP", "2025-10-04", "10000.00", "1240.00", "9903.01.25",
         export_date="2025-08-06"),
    # loaded 08-07: 15% total = 1,500.00 (240.00 MFN + 1,260.00)
    Case("aug7_loaded_on_the_day", MOTORCYCLE, "JP", "2025-10-04", "10000.00", "1500.00", "9903.02.73",
         export_date="2025-08-07"),
    # loaded 08-06 but entered 10-05 (the cut-off): 1,500.00
    Case("aug7_entered_on_cutoff", MOTORCYCLE, "JP", "2025-10-05", "10000.00", "1500.00", "9903.02.73",
         export_date="2025-08-06"),
    # --- 9903.03.02 (loaded before 2026-02-24, entered before 2026-02-28: no Section 122) ------
    # loaded 02-23, entered 02-27: 240.00
    Case("feb24_loaded_day_before", MOTORCYCLE, "JP", "2026-02-27", "10000.00", "240.00", "9903.03.02",
         export_date="2026-02-23"),
    # loaded 02-24: 240.00 + 10% x 10,000 = 1,240.00
    Case("feb24_loaded_on_the_day", MOTORCYCLE, "JP", "2026-02-27", "10000.00", "1240.00", "9903.03.01",
         export_date="2026-02-24"),
    # loaded 02-23 but entered 02-28: 1,240.00
    Case("feb24_entered_on_cutoff", MOTORCYCLE, "JP", "2026-02-28", "10000.00", "1240.00", "9903.03.01",
         export_date="2026-02-23"),
    # Section 232 has no in-transit relief: 2.5% x 30,000 = 750.00 + 25% = 7,500.00 -> 8,250.00
    Case("s232_no_in_transit", CAR, "JP", "2025-04-05", "30000.00", "8250.00", "9903.94.01",
         export_date="2025-03-20"),
    # --- Section 232 metal content ----------------------------------------------------------
    # the day before 8711.50 was listed (2025-08-18): 2.4% x 20,000 = 480.00 + (15% - 2.4%) x
    # 20,000 = 2,520.00 -> 3,000.00; the steel content pays nothing yet
    Case("steel_day_before_listing", STEEL_BIKE, "JP", "2025-08-17", "20000.00", "3000.00", "9903.02.73",
         export_date="2025-08-10", steel="4000.00"),
    # listed: 480.00 + 50% x 4,000 = 2,000.00 + 12.6% x 16,000 = 2,016.00 -> 4,496.00
    Case("steel_day_of_listing", STEEL_BIKE, "JP", "2025-08-18", "20000.00", "4496.00", "9903.02.73, 9903.81.91",
         export_date="2025-08-10", steel="4000.00"),
    # listed, content not declared: priced as without the layer (3,000.00) and flagged
    Case("steel_not_declared", STEEL_BIKE, "JP", "2025-08-18", "20000.00", "3000.00", "9903.02.73",
         export_date="2025-08-10", flag="metal content not declared"),
    # original aluminum list at 25% the day before 2025-06-04: 3.5% x 10,000 = 350.00 +
    # 25% x 2,000 = 500.00 + 10% x 8,000 = 800.00 -> 1,650.00
    Case("aluminum_25_day_before", HINGES, "DE", "2025-06-03", "10000.00", "1650.00", "9903.01.25, 9903.85.08",
         export_date="2025-05-20", aluminum="2000.00"),
    # 50% from 2025-06-04: 350.00 + 1,000.00 + 800.00 = 2,150.00
    Case("aluminum_50_day_of", HINGES, "DE", "2025-06-04", "10000.00", "2150.00", "9903.01.25, 9903.85.08",
         export_date="2025-05-20", aluminum="2000.00"),
    # the last day of the content basis, 2026-04-05: 480.00 + 50% x 4,000 = 2,000.00 + 10%
    # Section 122 on the non-metal 16,000 = 1,600.00 -> 4,080.00
    Case("steel_content_last_day", STEEL_BIKE, "JP", "2026-04-05", "20000.00", "4080.00", "9903.03.01, 9903.81.91",
         steel="4000.00"),
    # 2026-04-06: motorcycles are on none of the US note 16(c) lists (annex II): no metal duty;
    # 480.00 + 10% x 20,000 = 2,000.00 -> 2,480.00
    Case("steel_bike_out_of_scope_2026", STEEL_BIKE, "JP", "2026-04-06", "20000.00", "2480.00", "9903.03.01",
         steel="4000.00"),
    # hinges (note 16(c)(vi)-(viii)) the day before: 350.00 + 50% x 2,000 = 1,000.00 + 10% x
    # 8,000 = 800.00 -> 2,150.00; 8302.10.60 is also a steel derivative since 2025-08-18, and
    # its steel content is not declared
    Case("aluminum_content_last_day", HINGES, "DE", "2026-04-05", "10000.00", "2150.00", "9903.03.01, 9903.85.08",
         aluminum="2000.00", flag="metal content not declared"),
    # from 2026-04-06 on the full value: 350.00 + 25% x 10,000 = 2,500.00 (9903.82.09; no
    # Section 122: note 2(aa)(v)(1)) -> 2,850.00, UNCONFIRMED (the 15%-by-weight condition)
    Case("metals_2026_full_value", HINGES, "DE", "2026-04-06", "10000.00", "2850.00", "9903.82.09",
         aluminum="2000.00", flag="unconfirmed:s232_metals_2026_25"),
    # metal under 15% of the weight declared (9903.82.03): 350.00 + 10% x 10,000 = 1,350.00
    Case("metals_2026_under_15_percent", HINGES, "DE", "2026-04-06", "10000.00", "1350.00", "9903.03.01, 9903.82.03",
         claims=("9903.82.03",)),
    # note 16(c)(ix)-(x) (8424.89.90, MFN 1.8%): 15% total of 10,000 = 1,500.00 (9903.82.10)
    Case("metals_2026_fifteen_total", SPRAYERS, "JP", "2026-04-06", "10000.00", "1500.00", "9903.82.10",
         flag="unconfirmed:s232_metals_2026_15"),
    # --- Section 122 exemptions ---------------------------------------------------------------
    # note 2(aa)(ii) (9903.03.03): MFN Free, no Section 122 -> 0.00
    Case("s122_listed_exempt", RUBBER, "JP", "2026-03-02", "10000.00", "0.00", "9903.03.03"),
    # civil aircraft (9903.03.05) claimed on a note 2(aa)(iv) code: honoured -> 0.00
    Case("civil_aircraft_honoured", TURBINE_PARTS, "JP", "2026-03-02", "10000.00", "0.00", "9903.03.05",
         claims=("9903.03.05",)),
    # the same code without the claim: 10% x 10,000 = 1,000.00
    Case("civil_aircraft_not_claimed", TURBINE_PARTS, "JP", "2026-03-02", "10000.00", "1000.00", "9903.03.01"),
    # claimed on a code off the list: refused, 240.00 + 1,000.00 = 1,240.00
    Case("civil_aircraft_refused", MOTORCYCLE, "JP", "2026-03-02", "10000.00", "1240.00", "9903.03.01",
         claims=("9903.03.05",), refused=("9903.03.05",)),
    # --- claims: 9903.94.06 (a listed code that is not a vehicle part) --------------------------
    # honoured: no 232; the Japan reciprocal rate: 15% total of 1,000 = 150.00
    Case("not_vehicle_part_honoured", BRAKES, "JP", "2025-10-06", "1000.00", "150.00", "9903.02.73, 9903.94.06",
         export_date="2025-09-01", claims=("9903.94.06",)),
    # refused on a code that is not on the list: priced as without it (15% total = 1,500.00)
    Case("not_vehicle_part_refused", MOTORCYCLE, "JP", "2025-10-06", "10000.00", "1500.00", "9903.02.73",
         export_date="2025-09-01", claims=("9903.94.06",), refused=("9903.94.06",)),
    # --- certified parts (from 2025-11-01): 9903.94.07, Japan 9903.94.54/.55, 9903.74.09 -------
    # honoured for a German part: 5.5% x 1,000 = 55.00 + 25% = 250.00 -> 305.00
    Case("certified_part_honoured", GLASS, "DE", "2025-11-03", "1000.00", "305.00", "9903.94.07",
         export_date="2025-10-01", claims=("9903.94.07",)),
    # refused the day before 2025-11-01: 55.00 + 10% baseline 100.00 = 155.00
    Case("certified_part_day_before", GLASS, "DE", "2025-10-31", "1000.00", "155.00", "9903.01.25",
         export_date="2025-10-01", claims=("9903.94.07",), refused=("9903.94.07",)),
    # refused for chapter 73 (note 33(p)): 8.5% x 1,000 = 85.00 + 100.00 = 185.00
    Case("certified_part_chapter_73_refused", BOLTS, "DE", "2025-11-03", "1000.00", "185.00", "9903.01.25",
         export_date="2025-10-01", claims=("9903.94.07",), refused=("9903.94.07",)),
    # Japan 9903.94.55 in 2026: 15% total = 150.00 (no Section 122 on 232 goods)
    Case("certified_part_jp_honoured", GLASS, "JP", "2026-03-02", "1000.00", "150.00", "9903.94.55",
         claims=("9903.94.55",)),
    # the same line unclaimed: 55.00 + 10% Section 122 100.00 = 155.00
    Case("certified_part_jp_unclaimed", GLASS, "JP", "2026-03-02", "1000.00", "155.00", "9903.03.01"),
    # 9903.74.09 (certified medium/heavy parts): 55.00 + 250.00 = 305.00
    Case("certified_mhd_part_honoured", GLASS, "DE", "2025-11-03", "1000.00", "305.00", "9903.74.09",
         export_date="2025-10-01", claims=("9903.74.09",)),
    # refused on a note 33(g) part: the Japan deal 15% total = 150.00 (9903.94.43)
    Case("certified_mhd_part_refused", BRAKES, "JP", "2025-11-03", "1000.00", "150.00", "9903.94.43",
         claims=("9903.74.09",), refused=("9903.74.09",)),
    # --- medium/heavy-duty claims: 9903.74.05, .07, .11 --------------------------------------
    # not an MHD vehicle: no 9903.74.01; the Japan rate: MFN 25% >= 15% -> no extra (9903.02.72):
    # 25% x 50,000 = 12,500.00
    Case("not_mhd_vehicle_honoured", MEDIUM_TRUCK, "JP", "2025-11-03", "50000.00", "12500.00", "9903.02.72, 9903.74.05",
         export_date="2025-10-01", claims=("9903.74.05",)),
    # unclaimed: 12,500.00 + 25% x 50,000 = 12,500.00 -> 25,000.00
    Case("not_mhd_vehicle_unclaimed", MEDIUM_TRUCK, "JP", "2025-11-03", "50000.00", "25000.00", "9903.74.01",
         export_date="2025-10-01", flag="unconfirmed:s232_mhd_trucks"),
    # refused on a passenger car: 15% total = 4,500.00 (9903.94.41)
    Case("not_mhd_vehicle_refused", CAR, "JP", "2025-11-03", "30000.00", "4500.00", "9903.94.41",
         claims=("9903.74.05",), refused=("9903.74.05",)),
    # a bus 25 years old: no 9903.74.02; the Japan rate: 2% x 50,000 = 1,000.00 + 13% = 6,500.00
    # -> 7,500.00; 8702.10 is a steel derivative (2025-08-18 list), which the 232 bus heading
    # displaced: without it the steel content is due, and it is not declared
    Case("bus_25_years_honoured", BUS, "JP", "2025-11-03", "50000.00", "7500.00", "9903.02.73, 9903.74.07",
         export_date="2025-10-01", claims=("9903.74.07",), flag="metal content not declared"),
    # unclaimed: 1,000.00 + 10% = 5,000.00 -> 6,000.00
    Case("bus_unclaimed", BUS, "JP", "2025-11-03", "50000.00", "6000.00", "9903.74.02", export_date="2025-10-01"),
    # not an MHD part: no 9903.74.08; the Japan rate 15% total of 1,000 = 150.00
    Case("not_mhd_part_honoured", WORKS_TRUCK_PARTS, "JP", "2025-11-03", "1000.00", "150.00", "9903.02.73, 9903.74.11",
         export_date="2025-10-01", claims=("9903.74.11",)),
    # refused on a motorcycle: 15% total = 1,500.00
    Case("not_mhd_part_refused", MOTORCYCLE, "JP", "2025-11-03", "10000.00", "1500.00", "9903.02.73",
         export_date="2025-10-01", claims=("9903.74.11",), refused=("9903.74.11",)),
]
VESSEL_CASES = [c for c in CASES if c.mode == "vessel"]


def _line_frame(cases: list[Case]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line_number": list(range(1, len(cases) + 1)),
            "hts_code": [c.hts for c in cases],
            "country_of_origin": [c.origin for c in cases],
            "entry_date": [dt.date.fromisoformat(c.entry_date) for c in cases],
            "customs_value_usd": [D(c.value) for c in cases],
            "quantity": [D(1) for _ in cases],
            "transport_mode": [c.mode for c in cases],
            "steel_content_value_usd": [D(c.steel) if c.steel else None for c in cases],
            "aluminum_content_value_usd": [D(c.aluminum) if c.aluminum else None for c in cases],
            "export_date": [dt.date.fromisoformat(c.export_date) if c.export_date else None for c in cases],
            "declared_headings": [";".join(c.claims) or None for c in cases],
        },
        schema_overrides={
            "customs_value_usd": MONEY, "quantity": RATE, "steel_content_value_usd": MONEY,
            "aluminum_content_value_usd": MONEY, "export_date": pl.Date, "declared_headings": pl.Utf8,
        },
    )


@pytest.fixture(scope="module")
def schedule():
    return read_schedule()


def _refused(flags: str) -> tuple[str, ...]:
    return tuple(f.split()[1] for f in flags.split(", ") if f.startswith("claim ") and " refused" in f)


def _check_flags(case: Case, flags: list[str]) -> None:
    if case.flag is None:
        assert [f for f in flags if not f.startswith("claim ")] == [], (case.name, flags)
    else:
        assert case.flag in flags, (case.name, flags)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_engine(schedule, case):
    row = compute_line_duty(_line_frame([case]), schedule).row(0, named=True)
    assert row["total_duty_usd"] == D(case.total), case.name
    assert row["ch99_headings"] == case.headings
    assert _refused(row["flags"]) == case.refused
    _check_flags(case, [f for f in row["flags"].split(", ") if f])


def test_all_cases_priced_together_equal_each_alone(schedule):
    together = compute_line_duty(_line_frame(CASES), schedule)
    assert together["total_duty_usd"].to_list() == [D(c.total) for c in CASES]


def _quote_args(case: Case) -> list[str]:
    args = ["quote", "--hts", case.hts, "--origin", case.origin, "--entry-date", case.entry_date,
            "--value", case.value, "--quantity", "1", "--json"]
    if case.export_date:
        args += ["--export-date", case.export_date]
    if case.steel:
        args += ["--steel-content", case.steel]
    if case.aluminum:
        args += ["--aluminum-content", case.aluminum]
    for claim in case.claims:
        args += ["--claim", claim]
    return args


@pytest.mark.parametrize("case", VESSEL_CASES, ids=lambda c: c.name)
def test_quote_json(case):
    result = CliRunner().invoke(app, _quote_args(case))
    assert result.exit_code == 0, result.output
    q = json.loads(result.stdout)
    assert q["total_duty_usd"] == case.total
    assert sum(D(c["duty_usd"]) for c in q["components"]) == D(case.total)
    assert ", ".join(q["ch99_headings"]) == case.headings
    assert tuple(q["refused_claims"]) == case.refused
    assert q["claims"] == list(case.claims)
    _check_flags(case, q["flags"])


@pytest.mark.parametrize(
    "bad",
    [
        ["--export-date", "2025-13-01"],
        ["--export-date", "2025-10-07"],  # after the entry date
        ["--steel-content", "600.00", "--aluminum-content", "500.00"],  # above the value
        ["--steel-content", "1.234"],
        ["--claim", "9903.94"],
        ["--claim", "99039406"],
    ],
)
def test_quote_bad_line_facts_exit_2(bad):
    base = ["quote", "--hts", BRAKES, "--origin", "JP", "--entry-date", "2025-10-06", "--value", "1000"]
    assert CliRunner().invoke(app, [*base, *bad]).exit_code == 2


def _csv_row(number: int, case: Case) -> str:
    entry = f"LFR{number:07d}0"
    return ",".join([
        entry, "1", case.entry_date, case.hts, case.origin, case.value, "1", "NO", case.mode, "2704", "IMP-016",
        "", case.steel or "", case.aluminum or "", case.export_date or "", ";".join(case.claims),
    ])


HEADER = (
    "entry_number,line_number,entry_date,hts_code,country_of_origin,customs_value_usd,quantity,"
    "quantity_unit,transport_mode,port_code,importer_id,declared_duty_usd,steel_content_value_usd,"
    "aluminum_content_value_usd,export_date,declared_headings"
)


def _cases_csv(path, cases: list[Case]):
    path.write_text("\n".join([HEADER, *[_csv_row(i, c) for i, c in enumerate(cases, start=1)]]) + "\n", encoding="utf-8")
    return path


def test_the_run_stages_price_every_case_from_a_file(schedule, tmp_path):
    """Load (parse, check, stage) and the line mart, as `run` does, on a file with the new
    columns: every case priced as the engine prices it, nothing rejected."""
    from flows.inputs.customs import load_customs_lines
    from transforms.fct_duty_lines import build_fct_duty_lines

    loaded = load_customs_lines(_cases_csv(tmp_path / "cases.csv", CASES), None, schedule)
    assert loaded.rejects.height == 0, loaded.rejects
    lines = build_fct_duty_lines(loaded.stg, schedule).sort("entry_number")
    got = list(zip(lines["total_duty_usd"], lines["ch99_headings"], map(_refused, lines["flags"]), strict=True))
    assert got == [(D(c.total), c.headings, c.refused) for c in CASES]


@pytest.mark.slow
def test_run_prices_the_cases_of_three_months_as_the_engine_and_the_quote(prefect_harness, tmp_path):
    """`tariffcost run` for the months holding the in-transit days of April 2025, the claims
    of November 2025 and the Section 122 cases of March 2026."""
    path = _cases_csv(tmp_path / "cases.csv", CASES)
    db = tmp_path / "w.duckdb"
    for month in ("2025-04", "2025-11", "2026-03"):
        result = CliRunner().invoke(app, ["run", "--month", month, "--customs", str(path), "--db", str(db),
                                          "--exports", str(tmp_path / "exports")])
        assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    rows = {
        entry: (total, headings, _refused(flags))
        for entry, total, headings, flags in con.sql(
            "SELECT entry_number, total_duty_usd, ch99_headings, flags FROM fct_duty_lines"
        ).fetchall()
    }
    con.close()
    expected = {
        f"LFR{i:07d}0": (D(c.total), c.headings, c.refused)
        for i, c in enumerate(CASES, start=1)
        if c.entry_date[:7] in ("2025-04", "2025-11", "2026-03")
    }
    assert len(expected) >= 20
    assert rows == expected
    from flows.present.report import read_report_data, summary_tables

    data = read_report_data(db, "2025-11", read_schedule())
    facts = dict(data.line_facts.select("fact", "line_count").iter_rows())
    assert facts["chapter 99 headings declared"] == sum(1 for c in CASES if c.entry_date[:7] == "2025-11" and c.claims)
    assert any(t.title.startswith("Rules decided by the lines' own facts") for t in summary_tables(data))


def test_files_without_the_new_columns_price_as_before(schedule, tmp_path):
    """The optional columns absent: the same lines priced as lines that declare nothing."""
    from flows.inputs.customs import load_customs_lines
    from transforms.fct_duty_lines import build_fct_duty_lines

    plain = [c for c in CASES if not (c.export_date or c.steel or c.aluminum or c.claims)]
    rows = [",".join([f"OLD{i:07d}0", "1", c.entry_date, c.hts, c.origin, c.value, "1", "NO", c.mode, "2704",
                      "IMP-016", "", "", ""]) for i, c in enumerate(plain, start=1)]
    loaded = load_customs_lines(write_customs_csv(tmp_path / "old.csv", rows), None, schedule)
    assert loaded.rejects.height == 0
    lines = build_fct_duty_lines(loaded.stg, schedule).sort("entry_number")
    assert lines["total_duty_usd"].to_list() == [D(c.total) for c in plain]
    assert lines["export_date"].null_count() == lines.height


def test_reconciliation_names_refused_claims_and_heading_differences(schedule, tmp_path):
    """Declared headings against the computed ones: a refused claim is the cause even where a
    wrong reading would also explain the declared duty; another difference is named where no
    reading does."""
    from flows.inputs.customs import load_customs_lines
    from transforms.fct_duty_lines import build_fct_duty_lines
    from transforms.fct_reconciliation import build_fct_reconciliation

    rows = [
        # a civil-aircraft claim on a motorcycle (2026-03-02), declared at MFN only: 2.4% x
        # 10,000 = 240.00; computed 240.00 + 10% Section 122 = 1,240.00 -> underpaid 1,000.00
        ("REC00000010", MOTORCYCLE, "2026-03-02", "10000.00", "240.00", "9903.03.05"),
        # the same claim on a turbine part of note 2(aa)(iv): honoured, 0.00 declared and computed
        ("REC00000020", TURBINE_PARTS, "2026-03-02", "10000.00", "0.00", "9903.03.05"),
        # a brake part declared 9903.94.06 and 15% total (150.00) in 2025-10: honoured -> match
        ("REC00000030", BRAKES, "2025-10-06", "1000.00", "150.00", "9903.94.06;9903.02.73"),
        # a motorcycle (no 232) declared under the parts deal heading 9903.94.43 at 160.00:
        # computed 15% total under 9903.02.73 = 150.00
        ("REC00000040", MOTORCYCLE, "2025-10-06", "1000.00", "160.00", "9903.94.43"),
    ]
    text = [",".join([e, "1", d, h, "JP", v, "1", "NO", "vessel", "2704", "IMP-016", duty, "", "", "2025-09-01"
                      if d.startswith("2025") else "", claims]) for e, h, d, v, duty, claims in rows]
    loaded = load_customs_lines(_lines_csv(tmp_path / "rec.csv", text), None, schedule)
    assert loaded.rejects.height == 0, loaded.rejects
    recon = build_fct_reconciliation(build_fct_duty_lines(loaded.stg, schedule), schedule).sort("entry_number")
    got = recon.select("status", "difference_usd", "likely_cause").rows()
    assert got[0][:2] == ("underpaid", D("1000.00"))
    assert got[0][2] == (
        "claim 9903.03.05 refused: not available for the line's HTS code / origin / entry date; "
        "computed 9903.03.01 not declared"
    )
    assert got[1] == ("match", D("0.00"), None)
    assert got[2] == ("match", D("0.00"), None)
    # 150.00 computed - 160.00 declared = -10.00; no wrong reading gives 160.00
    assert got[3] == ("overpaid", D("-10.00"),
                      "declared headings differ: declared 9903.94.43 not applicable; computed 9903.02.73 not declared")


def _lines_csv(path, rows: list[str]):
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path
