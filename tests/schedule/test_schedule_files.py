"""The shipped default schedule: it loads, its rows say what the legal texts say, and broken
schedules fail with messages that name file, row, column, value and rule."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import config
from flows.inputs.schedule import ScheduleError, read_schedule, validate_schedule
from scripts.build_scopes import (
    AUTO_PARTS,
    EXCERPT,
    METAL_REFERENCE,
    build_metal_derivatives,
    build_scopes,
    parse_excerpt,
)
from transforms.schedule import in_force_on, measures_in_force
from transforms.vocabulary import MONEY, RATE

DEFAULT_DIR = config.DEFAULT_SCHEDULE.parent
USITC = config.REFERENCE_DIR / "usitc" / "tariff_database_2025_autoparts_chapters.csv"
ALL_232 = {"s232_autos", "s232_autos_jp_deal", "s232_parts", "s232_parts_jp_deal",
           "s232_mhd_trucks", "s232_buses", "s232_mhd_parts",
           # certified parts (US note 2(v)(x), 2(aa)(v)(3))
           "s232_certified_parts", "s232_certified_parts_jp", "s232_mhd_certified_parts"}
# the 2026 metals headings exempt from Section 122 (note 2(aa)(v)(1)) and the 2026 Section 301
METALS_2026 = {"s232_metals_2026_50", "s232_metals_2026_25", "s232_metals_2026_15"}


@pytest.fixture(scope="module")
def shipped():
    return read_schedule()


# --- the shipped schedule ------------------------------------------------------------------


def test_shipped_schedule_loads_with_the_architecture_dtypes(shipped):
    assert (shipped.version, shipped.name) == ("2026.12.0", "default")
    assert shipped.source == str(config.DEFAULT_SCHEDULE)
    assert shipped.measures.schema["rate"] == RATE
    assert shipped.measures.schema["valid_from"] == pl.Date
    assert shipped.measures.schema["priority"] == pl.Int64
    assert shipped.fees.schema["max_usd"] == MONEY
    assert shipped.mfn.schema["mfn_ad_val_rate"] == RATE
    assert shipped.metal_derivatives.schema["effective_date"] == pl.Date
    assert validate_schedule(shipped) == []
    # a folder works as well as its manifest
    assert read_schedule(DEFAULT_DIR).measures.equals(shipped.measures)


# One golden row per measure, written from tariff-rules.md and the HTS chapter 99 text:
# (id, layer, origin, from, to, shape, rate, heading, heading at/above cap, confidence)
GOLDEN_MEASURES = [
    ("s232_autos", "s232", "*", "2025-04-03", None, "additive", "0.25", "9903.94.01", None, "confirmed"),
    ("s232_autos_jp_deal", "s232", "JP", "2025-09-16", None, "inclusive_total", "0.15", "9903.94.41", "9903.94.40", "confirmed"),
    ("s232_parts", "s232", "*", "2025-05-03", None, "additive", "0.25", "9903.94.05", None, "confirmed"),
    # note 33: .42 = MFN >= 15% (no extra), .43 = MFN < 15% (15% total)
    ("s232_parts_jp_deal", "s232", "JP", "2025-09-16", None, "inclusive_total", "0.15", "9903.94.43", "9903.94.42", "confirmed"),
    ("s232_mhd_trucks", "s232", "*", "2025-11-01", None, "additive", "0.25", "9903.74.01", None, "unconfirmed"),
    ("s232_buses", "s232", "*", "2025-11-01", None, "additive", "0.10", "9903.74.02", None, "confirmed"),
    ("s232_mhd_parts", "s232", "*", "2025-11-01", None, "additive", "0.25", "9903.74.08", None, "unconfirmed"),
    # claim-only (condition `claim`): certified parts, US note 33(p), (r) and note 38(j)
    ("s232_certified_parts", "s232", "*", "2025-11-01", None, "additive", "0.25", "9903.94.07", None, "confirmed"),
    ("s232_certified_parts_jp", "s232", "JP", "2025-11-01", None, "inclusive_total", "0.15", "9903.94.55", "9903.94.54", "confirmed"),
    ("s232_mhd_certified_parts", "s232", "*", "2025-11-01", None, "additive", "0.25", "9903.74.09", None, "confirmed"),
    ("ieepa_baseline", "ieepa", "*", "2025-04-05", "2026-02-24", "additive", "0.10", "9903.01.25", None, "confirmed"),
    ("ieepa_jp_country", "ieepa", "JP", "2025-04-09", "2025-04-10", "additive", "0.24", "9903.01.53", None, "confirmed"),
    ("ieepa_jp_deal", "ieepa", "JP", "2025-08-07", "2026-02-24", "inclusive_total", "0.15", "9903.02.73", "9903.02.72", "confirmed"),
    ("s122", "s122", "*", "2026-02-24", "2026-07-24", "additive", "0.10", "9903.03.01", None, "confirmed"),
    ("s301_jp_2026", "s301", "JP", "2026-07-24", None, "inclusive_total", "0.125", "9903.05.49", "9903.05.48", "unconfirmed"),
    # on declared metal content (base steel_content / aluminum_content; heading per product)
    ("s232_steel_derivatives_25", "s232_steel", "*", "2025-03-12", "2025-06-04", "additive", "0.25", "9903.81.91", None, "confirmed"),
    ("s232_steel_derivatives", "s232_steel", "*", "2025-06-04", "2026-04-06", "additive", "0.50", "9903.81.91", None, "confirmed"),
    ("s232_aluminum_derivatives_25", "s232_aluminum", "*", "2025-03-12", "2025-06-04", "additive", "0.25", "9903.85.08", None, "confirmed"),
    ("s232_aluminum_derivatives", "s232_aluminum", "*", "2025-06-04", "2026-04-06", "additive", "0.50", "9903.85.08", None, "confirmed"),
    # 2026 metals regime, US note 16(c), full value (UNCONFIRMED: the 15%-by-weight condition)
    ("s232_metals_2026_50", "s232_metals", "*", "2026-04-06", None, "additive", "0.50", "9903.82.02", None, "unconfirmed"),
    ("s232_metals_2026_25", "s232_metals", "*", "2026-04-06", None, "additive", "0.25", "9903.82.09", None, "unconfirmed"),
    ("s232_metals_2026_15", "s232_metals", "*", "2026-04-06", None, "inclusive_total", "0.15", "9903.82.10", "9903.82.11", "unconfirmed"),
]


def test_every_measure_matches_its_golden_row(shipped):
    def day(s):
        return dt.date.fromisoformat(s) if s else None

    expected = [
        (mid, layer, origin, day(vf), day(vt), shape, Decimal(rate), heading, cap, conf)
        for mid, layer, origin, vf, vt, shape, rate, heading, cap, conf in GOLDEN_MEASURES
    ]
    actual = shipped.measures.select(
        "measure_id", "layer", "origin", "valid_from", "valid_to", "shape", "rate", "heading",
        "heading_at_or_above_cap", "confidence",
    ).rows()
    assert actual == expected  # file order too: the engine stacks layers in file order


def test_precedence_232_goods_escape_ieepa_s122_and_s301(shipped):
    excluded = dict(shipped.measures.select("measure_id", "excluded_by").rows())
    for mid in ("ieepa_baseline", "ieepa_jp_country", "ieepa_jp_deal"):
        assert set(excluded[mid].split()) == ALL_232, mid
    for mid in ("s122", "s301_jp_2026"):
        assert set(excluded[mid].split()) == ALL_232 | METALS_2026, mid
    for mid in ALL_232:
        assert excluded[mid] == ""
    # the metal measures are not on goods under an auto, parts or medium/heavy 232 heading
    for mid in [m for m in excluded if m.startswith(("s232_steel", "s232_aluminum", "s232_metals"))]:
        assert set(excluded[mid].split()) == ALL_232, mid


def test_ieepa_japan_country_rate_only_on_2025_04_09(shipped):
    def jp_ieepa(day: dt.date) -> list[str]:
        return (measures_in_force(shipped, day)
                .filter((pl.col("layer") == "ieepa") & (pl.col("origin") == "JP"))
                .get_column("heading").to_list())

    assert jp_ieepa(dt.date(2025, 4, 8)) == []
    assert jp_ieepa(dt.date(2025, 4, 9)) == ["9903.01.53"]
    assert jp_ieepa(dt.date(2025, 4, 10)) == []  # baseline 10% only until 2025-08-06
    assert jp_ieepa(dt.date(2025, 8, 6)) == []
    assert jp_ieepa(dt.date(2025, 8, 7)) == ["9903.02.73"]
    assert jp_ieepa(dt.date(2026, 2, 23)) == ["9903.02.73"]
    assert jp_ieepa(dt.date(2026, 2, 24)) == []


def test_japan_deal_for_autos_starts_2025_09_16_not_before(shipped):
    def ids(day):
        return set(measures_in_force(shipped, day).get_column("measure_id"))

    assert "s232_autos_jp_deal" not in ids(dt.date(2025, 9, 15))
    assert "s232_autos_jp_deal" in ids(dt.date(2025, 9, 16))
    assert {"s122"} <= ids(dt.date(2026, 7, 23)) and "s122" not in ids(dt.date(2026, 7, 24))
    assert "s301_jp_2026" in ids(dt.date(2026, 7, 24))


def _fee_in_force(shipped, fee_id: str, day: dt.date) -> pl.DataFrame:
    return shipped.fees.filter(
        (pl.col("fee_id") == fee_id) & in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.lit(day))
    )


@pytest.mark.parametrize(
    ("day", "minimum", "maximum", "confidence"),
    [
        (dt.date(2023, 10, 1), "31.67", "614.35", "confirmed"),
        (dt.date(2024, 9, 30), "31.67", "614.35", "confirmed"),
        (dt.date(2024, 10, 1), "32.71", "634.62", "confirmed"),
        (dt.date(2025, 10, 1), "33.58", "651.50", "confirmed"),   # FY2026, CBP Dec. 25-10
        (dt.date(2026, 9, 30), "33.58", "651.50", "confirmed"),
        (dt.date(2026, 10, 1), "33.58", "651.50", "unconfirmed"),  # FY2027 carried forward
    ],
)
def test_mpf_bounds_by_fiscal_year(shipped, day, minimum, maximum, confidence):
    row = _fee_in_force(shipped, "mpf", day)
    assert row.select("rate", "min_usd", "max_usd", "transport_modes", "confidence").rows() == [
        (Decimal("0.003464"), Decimal(minimum), Decimal(maximum), "*", confidence)
    ]


def test_hmf_is_vessel_only_without_bounds(shipped):
    row = _fee_in_force(shipped, "hmf", dt.date(2025, 6, 1))
    assert row.select("rate", "min_usd", "max_usd", "transport_modes").rows() == [
        (Decimal("0.00125"), None, None, "vessel")
    ]


def test_exactly_one_mpf_and_one_hmf_row_every_day_from_fy2024():
    shipped = read_schedule()
    days = pl.DataFrame({"day": pl.date_range(dt.date(2023, 10, 1), dt.date(2028, 12, 31), eager=True)})
    counts = (
        days.join(shipped.fees, how="cross")
        .filter(in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.col("day")))
        .group_by("day", "fee_id").len()
    )
    assert counts.height == 2 * days.height
    assert counts.get_column("len").unique().to_list() == [1]


def _scope(shipped, scope_id: str) -> list[str]:
    return shipped.scopes.filter(pl.col("scope_id") == scope_id).get_column("hts_prefix").to_list()


def test_auto_parts_scope_is_exactly_the_cbp_list(shipped):
    cbp = AUTO_PARTS.read_text(encoding="utf-8").split()
    parts = _scope(shipped, "s232_auto_parts")
    assert len(cbp) == 130 and sorted(parts) == sorted(cbp)
    assert {"870830", "87081030", "870850", "87089968", "4011", "8707"} - set(parts) == {"4011"}
    assert {"40111010", "40111050", "40112010"} <= set(parts)  # tires are 8-digit codes


def test_note33b_scope_is_the_17_codes_and_each_is_an_hts8_of_chapter_87(shipped):
    expected = ["87032201", "87032301", "87032401", "87033101", "87033201", "87033301",
                "87034000", "87035000", "87036000", "87037000", "87038000", "87039001",
                "87042101", "87043101", "87044100", "87045100", "87046000"]
    assert _scope(shipped, "note33b_vehicles") == expected
    assert set(expected) <= set(shipped.mfn.get_column("hts8"))


def test_every_scope_prefix_names_existing_hts_lines(shipped):
    """Prefixes in the MFN file's chapters must start (or, beyond 8 digits, extend) an HTS8."""
    mfn_chapters = shipped.mfn.get_column("hts8").str.slice(0, 2).unique()
    prefixes = shipped.scopes.filter(pl.col("hts_prefix").str.slice(0, 2).is_in(mfn_chapters.implode()))
    lengths = prefixes.get_column("hts_prefix").str.len_chars().clip(upper_bound=8).unique().to_list()
    known = pl.concat([
        shipped.mfn.select(stem=pl.col("hts8").str.slice(0, n)) for n in lengths
    ]).unique()
    orphans = prefixes.with_columns(stem=pl.col("hts_prefix").str.slice(0, 8)).join(
        known, on="stem", how="anti")
    assert orphans.height == 0, orphans
    # outside the MFN chapters only chapter 90 codes of the auto-parts list remain among the
    # Section 232 scopes (the Section 122 exemption lists of note 2(aa) span chapters 1-97)
    outside = shipped.scopes.filter(
        ~pl.col("hts_prefix").str.slice(0, 2).is_in(mfn_chapters.implode())
        & pl.col("scope_id").str.starts_with("s232_")
        & ~pl.col("scope_id").str.starts_with("s232_metals")  # note 16(c) spans chapters 72-85
    )
    assert outside.get_column("hts_prefix").to_list() == ["901510", "902910", "9029204080"]


def test_medium_heavy_scopes_never_tie_with_note_33(shipped):
    note33 = set(_scope(shipped, "note33b_vehicles")) | set(_scope(shipped, "s232_auto_parts"))
    vehicles = set(_scope(shipped, "s232_mhd_vehicles"))
    parts = set(_scope(shipped, "s232_mhd_parts"))
    assert not vehicles & note33
    assert not [p for p in parts if any(p.startswith(q) for q in _scope(shipped, "s232_auto_parts"))]
    # heavy chassis 8706.00.05 stat. suffixes beat the 8-digit auto-parts prefix by length
    assert {"8706000520", "8706000575", "87042251", "87012100"} <= vehicles
    assert "87046000" not in vehicles  # electric trucks of any GVW: left to note 33(b)
    assert "40131000" in parts and "87082915" not in parts
    assert sorted(_scope(shipped, "s232_buses")) == [
        "87021031", "87021061", "87022031", "87022061", "87023031",
        "87023061", "87024031", "87024061", "87029031", "87029061"]


def test_shipped_scopes_and_metal_list_are_what_the_build_script_derives(shipped):
    lists = parse_excerpt(EXCERPT.read_text(encoding="utf-8"))
    assert {k: len(v) for k, v in lists.items()} == {
        "note33_b": 17, "note33_g": 130, "note38_b": 25, "note38_c": 10, "note38_i": 182,
        # Section 122 exemptions, subchapter III US note 2(aa)(ii), (iii), (iv)
        "note2aa_ii": 1098, "note2aa_iii": 11, "note2aa_iv": 546,
        # the 2026 metals lists of US note 16(c)(i)-(x)
        **{f"note16c_{roman}": n for roman, n in zip(
            ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"],
            [9, 17, 45, 146, 63, 105, 301, 4, 13, 35], strict=True)}}
    built = build_scopes(lists, AUTO_PARTS.read_text(encoding="utf-8").split())
    assert built.equals(shipped.scopes)
    metals = build_metal_derivatives(METAL_REFERENCE).with_columns(
        pl.col("effective_date").str.to_date("%Y-%m-%d"))
    assert metals.equals(shipped.metal_derivatives)


def test_mfn_file_is_the_usitc_copy_read_exactly(shipped):
    assert (DEFAULT_DIR / "mfn_usitc_2025.csv").read_bytes() == USITC.read_bytes()
    rows = {r[0]: r for r in shipped.mfn.filter(pl.col("hts8").is_in(["87032301", "84834070", "87042251"]))
            .select("hts8", "mfn_text_rate", "mfn_rate_type_code", "mfn_ad_val_rate", "mfn_specific_rate").rows()}
    assert rows["87032301"][1:] == ("2.50%", "7", Decimal("0.025"), Decimal(0))
    assert rows["84834070"][1:] == ("25 cents each + 3.9%", "4", Decimal("0.039"), Decimal("0.25"))
    assert rows["87042251"][3] == Decimal("0.25")
    assert shipped.mfn.height == 2419


def test_metal_derivatives_include_motorcycles_as_steel_from_2025_08_18(shipped):
    motorcycles = shipped.metal_derivatives.filter(pl.col("hts_prefix").is_in(["87113000", "87115000", "87116000"]))
    assert motorcycles.select("ch99_code", "metal", "effective_date").unique().rows() == [
        ("9903.81.91", "steel", dt.date(2025, 8, 18))]


# --- broken schedules ------------------------------------------------------------------------


@pytest.fixture
def schedule_copy(tmp_path) -> Path:
    target = tmp_path / "broken"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(folder: Path) -> list:
    with pytest.raises(ScheduleError) as info:
        read_schedule(folder)
    return info.value.problems


def _one(problems, **fields):
    found = [p for p in problems if all(getattr(p, k) == v for k, v in fields.items())]
    assert found, problems
    return found[0]


def test_bad_heading_names_file_row_column_value(schedule_copy):
    _edit(schedule_copy / "measures.csv", ",9903.94.41,", ",9903.9441,")
    with pytest.raises(ScheduleError) as info:
        read_schedule(schedule_copy)
    problem = _one(info.value.problems, file="measures.csv", row=2, column="heading", value="9903.9441")
    assert "str_matches" in problem.message
    assert "measures.csv, row 2 (line 3), column heading, value '9903.9441'" in str(info.value)


def test_unknown_scope_is_reported(schedule_copy):
    _edit(schedule_copy / "measures.csv", "s232,s232_auto_parts,*", "s232,s232_autoparts,*")
    problem = _one(_problems(schedule_copy), row=3, column="scope_id", value="s232_autoparts")
    assert "scope_id must be `*` or a scope_id of scopes.csv" in problem.message


def test_unknown_or_self_exclusion_is_reported(schedule_copy):
    _edit(schedule_copy / "measures.csv", "s232_autos s232_autos_jp_deal", "s232_autoz s232_autos_jp_deal")
    _one(_problems(schedule_copy), row=11, column="excluded_by", value="s232_autoz")


def test_overlapping_measures_in_one_layer_are_ambiguous(schedule_copy):
    text = (schedule_copy / "measures.csv").read_text(encoding="utf-8")
    first = text.splitlines()[1]
    clone = first.replace("s232_autos,", "s232_autos_again,", 1).replace("2025-04-03", "2025-06-01")
    (schedule_copy / "measures.csv").write_text(text + clone + "\n", encoding="utf-8")
    problems = _problems(schedule_copy)
    clashes = [p for p in problems if p.row == 1 and p.value == "s232_autos"]
    assert len(clashes) == 17  # one per note 33(b) prefix the two measures share
    assert "ambiguous with s232_autos_again (row 23): layer s232" in clashes[0].message
    assert "same HTS prefix 87032201" in clashes[0].message


def test_same_measure_in_disjoint_windows_is_not_ambiguous(schedule_copy):
    text = (schedule_copy / "measures.csv").read_text(encoding="utf-8")
    first = text.splitlines()[1]
    clone = first.replace("s232_autos,", "s232_autos_old,", 1).replace(
        "2025-04-03,,", "2024-01-01,2025-04-03,")
    (schedule_copy / "measures.csv").write_text(text + clone + "\n", encoding="utf-8")
    assert read_schedule(schedule_copy).measures.height == 23


def test_inclusive_total_without_cap_heading(schedule_copy):
    _edit(schedule_copy / "measures.csv", ",9903.94.41,9903.94.40,", ",9903.94.41,,")
    problem = _one(_problems(schedule_copy), row=2, column="heading_at_or_above_cap")
    assert "inclusive_total needs heading_at_or_above_cap" in problem.message


def test_window_must_not_end_before_it_starts(schedule_copy):
    _edit(schedule_copy / "measures.csv", "2025-04-09,2025-04-10", "2025-04-09,2025-04-09")
    problem = _one(_problems(schedule_copy), row=12, column="valid_to")
    assert "after valid_from" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "column", "value", "rule_part"),
    [
        (",additive,0.25,9903.94.01,", ",additive,1.5,9903.94.01,", "rate", "1.5000000000", "less_than_or_equal_to"),
        (",additive,0.25,9903.94.01,", ",additive,2.5e-1,9903.94.01,", "rate", "2.5e-1", "no exponent"),
        (",additive,0.25,9903.94.01,", ",additive,-0.25,9903.94.01,", "rate", "-0.25", "no sign"),
        ("s232_autos,section_232,section_232,s232,note33b_vehicles,*,2025-04-03",
         "s232_autos,section_232,section_232,s232,note33b_vehicles,*,2025-02-30", "valid_from", "2025-02-30", "YYYY-MM-DD"),
        ("note33b_vehicles,JP,", "note33b_vehicles,XX,", "origin", "XX", "isin"),
        (",section_232,section_232,s232,s232_auto_parts,*,", ",section_323,section_232,s232,s232_auto_parts,*,",
         "program", "section_323", "isin"),
        (",additive,0.25,9903.94.01,,,0,", ",additive,0.25,9903.94.01,,,high,", "priority", "high", "whole number"),
    ],
)
def test_bad_cells_in_measures(schedule_copy, old, new, column, value, rule_part):
    _edit(schedule_copy / "measures.csv", old, new)
    problem = _one(_problems(schedule_copy), file="measures.csv", column=column, value=value)
    assert rule_part in problem.message


def test_unconfirmed_measure_needs_a_note(schedule_copy):
    _edit(schedule_copy / "measures.csv", ",0,confirmed,,\"Proclamation 10908 (90 FR 14705); HTS",
          ",0,unconfirmed,,\"Proclamation 10908 (90 FR 14705); HTS")
    _one(_problems(schedule_copy), row=1, column="confidence_note")


def test_duplicate_hts8_in_mfn_fails_loudly(schedule_copy):
    mfn = schedule_copy / "mfn_usitc_2025.csv"
    lines = mfn.read_text(encoding="utf-8").splitlines(keepends=True)
    mfn.write_text("".join(lines + [lines[5]]), encoding="utf-8")
    problems = _problems(schedule_copy)
    dup = lines[5].split(",")[0]
    rows = sorted(p.row for p in problems if p.column == "hts8" and p.value == dup)
    assert rows == [5, 2420]
    assert all("field_uniqueness" in p.message for p in problems)


def test_bad_scope_prefixes_and_duplicate_scope_rows(schedule_copy):
    scopes = schedule_copy / "scopes.csv"
    text = scopes.read_text(encoding="utf-8")
    text = text.replace("note33b_vehicles,87032201,", "note33b_vehicles,8703.22.01,", 1)
    extra = "s232_auto_parts,8,x\ns232_auto_parts,87089999999,x\ns232_auto_parts,870830,dup\n"
    scopes.write_text(text + extra, encoding="utf-8")
    rows = text.count("\n") - 1  # data rows before the three appended
    problems = _problems(schedule_copy)
    _one(problems, file="scopes.csv", row=1, column="hts_prefix", value="8703.22.01")
    _one(problems, file="scopes.csv", row=rows + 1, column="hts_prefix", value="8")
    _one(problems, file="scopes.csv", row=rows + 2, column="hts_prefix", value="87089999999")
    dup = _one(problems, file="scopes.csv", row=rows + 3, column="scope_id, hts_prefix")
    assert "must be unique" in dup.message


def test_overlapping_fee_years(schedule_copy):
    _edit(schedule_copy / "fees.csv", "mpf,2024-10-01,2025-10-01", "mpf,2024-09-01,2025-10-01")
    problem = _one(_problems(schedule_copy), file="fees.csv", row=1, column="valid_from")
    assert "overlaps row 2" in problem.message


def test_money_with_three_decimals_is_rejected(schedule_copy):
    _edit(schedule_copy / "fees.csv", "32.71,634.62", "32.715,634.62")
    problem = _one(_problems(schedule_copy), file="fees.csv", row=2, column="min_usd", value="32.715")
    assert "at most 2 decimals" in problem.message


def test_fee_bounds_out_of_order(schedule_copy):
    _edit(schedule_copy / "fees.csv", "33.58,651.50,*,confirmed", "651.50,33.58,*,confirmed")
    _one(_problems(schedule_copy), file="fees.csv", row=3, column="max_usd")


def test_missing_and_unexpected_columns(schedule_copy):
    _edit(schedule_copy / "measures.csv", "measure_id,program,", "measure_id,programme,")
    problems = _problems(schedule_copy)
    _one(problems, file="measures.csv", row=None, column="program")
    _one(problems, file="measures.csv", row=None, column="programme")


def test_manifest_problems(schedule_copy):
    manifest = schedule_copy / "schedule.toml"
    _edit(manifest, 'fees = "fees.csv"', 'fees = "fee.csv"\ntariffs = "x.csv"')
    problems = _problems(schedule_copy)
    _one(problems, file="schedule.toml", column="files.fees", value="fee.csv")
    _one(problems, file="schedule.toml", column="files.tariffs")
    _edit(manifest, 'version = "2026.12.0"', "")
    _one(_problems(schedule_copy), column="version")
    with pytest.raises(ScheduleError, match="no such schedule manifest"):
        read_schedule(schedule_copy / "nowhere")


def test_manifest_files_resolve_relative_to_the_manifest(tmp_path):
    """A scenario-like manifest in another folder reusing the default files by relative path."""
    scenario = tmp_path / "schedules" / "what_if"
    scenario.mkdir(parents=True)
    default_copy = tmp_path / "schedules" / "default"
    shutil.copytree(DEFAULT_DIR, default_copy)
    (scenario / "fees.csv").write_text(
        "fee_id,valid_from,valid_to,rate,min_usd,max_usd,transport_modes,confidence,confidence_note,legal_source\n"
        "mpf,2023-10-01,,0.003464,10.00,100.00,*,unconfirmed,what-if bounds,scenario\n",
        encoding="utf-8")
    (scenario / "schedule.toml").write_text(
        'version = "what-if.1"\nname = "what_if"\n[files]\n'
        'mfn = "../default/mfn_usitc_2025.csv"\nmeasures = "../default/measures.csv"\n'
        'scopes = "../default/scopes.csv"\nfees = "fees.csv"\n', encoding="utf-8")
    schedule = read_schedule(scenario / "schedule.toml")
    assert (schedule.version, schedule.name) == ("what-if.1", "what_if")
    assert schedule.fees.get_column("max_usd").to_list() == [Decimal("100.00")]
    assert schedule.measures.height == 22
    assert schedule.metal_derivatives.height == 0  # optional file not named


# --- property: rates are read exactly, never through float -----------------------------------


@settings(max_examples=25, deadline=None)
@given(st.decimals(min_value=0, max_value=1, places=10, allow_nan=False, allow_infinity=False))
def test_any_rate_with_up_to_10_decimals_is_read_exactly(rate):
    text = format(rate, "f")  # plain notation, as a person writes it
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "s"
        shutil.copytree(DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("mfn_*", "metal_*", "sources"))
        (folder / "mfn.csv").write_text(
            "hts8,mfn_text_rate,mfn_rate_type_code,mfn_ad_val_rate,mfn_specific_rate,mfn_other_rate,"
            "quantity_1_code,quantity_2_code\n"
            f"87032301,x,7,{text},0,0,NO,\n", encoding="utf-8")
        _edit(folder / "schedule.toml", "mfn_usitc_2025.csv", "mfn.csv")
        _edit(folder / "schedule.toml", 'metal_derivatives = "metal_derivatives.csv"\n', "")
        _edit(folder / "measures.csv", ",additive,0.25,9903.94.01,", f",additive,{text},9903.94.01,")
        schedule = read_schedule(folder)
    assert schedule.measures.get_column("rate")[0] == rate
    assert schedule.mfn.get_column("mfn_ad_val_rate")[0] == rate


def test_a_validated_schedule_is_not_validated_again_until_a_byte_changes(schedule_copy, tmp_path, monkeypatch):
    """read_schedule records that these exact files passed (flows.config.cache_dir()), so the
    next read skips the contracts; any changed byte, here one rate, is validated afresh."""
    import flows.inputs.schedule as schedule_module

    monkeypatch.setenv("TARIFFCOST_CACHE", str(tmp_path / "cache"))
    first = read_schedule(schedule_copy)
    validated = []
    monkeypatch.setattr(schedule_module, "validate_schedule", lambda *a, **k: validated.append(1) or [])
    assert read_schedule(schedule_copy).measures.equals(first.measures)
    assert validated == []  # the stamp vouched for it
    _edit(schedule_copy / "measures.csv", ",9903.94.41,", ",9903.9441,")
    monkeypatch.undo()
    monkeypatch.setenv("TARIFFCOST_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ScheduleError):  # changed: checked again, and the bad heading is found
        read_schedule(schedule_copy)
